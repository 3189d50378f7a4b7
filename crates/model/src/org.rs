//! The resolved organisation model and its construction from the org file.

use crate::Location;
use crate::error::{Locator, ModelError};
use crate::hours::WeeklyWindow;
use crate::policy::{Action, Policy, Rule, Selector, ServiceMatch, When};
use crate::raw::{RawFile, RawSelector};
use crate::settings::DetectorSettings;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use sekisho_event::{AlertEndpoint, Severity};
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::Path;
use toml::Spanned;

/// Index of a site in [`Org::sites`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiteId(pub u16);

impl SiteId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Index of an asset in [`Org::assets`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssetId(pub u32);

impl AssetId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A place of the organisation with its own networks and clock.
#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    pub id: String,
    pub name: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    pub timezone: chrono_tz::Tz,
    pub networks: Vec<IpNet>,
    pub tags: Vec<String>,
    /// Business hours of this site (its own, or the policy's).
    pub business_hours: WeeklyWindow,
}

/// A host or network that matters: servers, with the data and customers on them.
#[derive(Clone, Debug, PartialEq)]
pub struct Asset {
    pub name: String,
    pub site: SiteId,
    /// Addresses (as /32 or /128) and networks.
    pub networks: Vec<IpNet>,
    pub roles: Vec<String>,
    /// Data classes held (`customer-pii`, `design`, ...).
    pub data: Vec<String>,
    pub customers: Vec<String>,
}

impl Asset {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// True when the asset holds data worth protecting.
    pub fn holds_data(&self) -> bool {
        !self.data.is_empty()
    }
}

/// A sensor and the sites it watches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sensor {
    pub name: String,
    pub sites: Vec<SiteId>,
}

/// A saved hunt from the org file (`[[hunt]]`): a named SQL question over the evidence store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedHunt {
    pub name: String,
    /// SQL over the store's tables (`flows`, `alerts`), run by `sekisho hunt --saved NAME`.
    pub sql: String,
    pub description: Option<String>,
}

/// The organisation: sites, assets, sensors, policy and detector settings, resolved and
/// validated. Built once per run and shared read-only.
#[derive(Debug)]
pub struct Org {
    pub name: String,
    pub domains: Vec<String>,
    pub brands: Vec<String>,
    pub sites: Vec<Site>,
    pub assets: Vec<Asset>,
    pub sensors: Vec<Sensor>,
    pub policy: Policy,
    pub detectors: DetectorSettings,
    /// Saved hunts (`[[hunt]]`), in file order; names are unique.
    pub hunts: Vec<SavedHunt>,
    v4: Ranges<u32>,
    v6: Ranges<u128>,
}

/// Address lookup as a flat, sorted table of address ranges (IPv4 as `u32`, IPv6 as
/// `u128`), each with the location its longest matching prefix gives. Built once from a
/// prefix trie; a binary search over a few hundred numbers is several times cheaper per flow
/// than walking the trie, and enrichment runs twice per flow.
#[derive(Debug, Default)]
struct Ranges<A> {
    /// Start of each range, ascending, the first 0; the range runs to the next start.
    starts: Vec<A>,
    /// What addresses in the range are (default: outside every site).
    locations: Vec<Location>,
}

/// An address family as the range table sees it: prefixes as spans of numbers.
trait Family: prefix_trie::Prefix {
    type Addr: Copy + Ord + Default;
    /// The prefix's first address and the one after its last (none past the family's end).
    fn span(&self) -> (Self::Addr, Option<Self::Addr>);
    /// The one-address prefix of `addr`.
    fn host(addr: Self::Addr) -> Self;
}

impl Family for Ipv4Net {
    type Addr = u32;
    fn span(&self) -> (u32, Option<u32>) {
        let end = u32::from(self.broadcast()).checked_add(1);
        (u32::from(self.network()), end)
    }
    fn host(addr: u32) -> Self {
        Ipv4Net::from(std::net::Ipv4Addr::from(addr))
    }
}

impl Family for Ipv6Net {
    type Addr = u128;
    fn span(&self) -> (u128, Option<u128>) {
        let end = u128::from(self.broadcast()).checked_add(1);
        (u128::from(self.network()), end)
    }
    fn host(addr: u128) -> Self {
        Ipv6Net::from(std::net::Ipv6Addr::from(addr))
    }
}

impl<A: Copy + Ord + Default> Ranges<A> {
    /// The ranges of `trie`'s prefixes.
    fn from_trie<P: Family<Addr = A>>(trie: &PrefixMap<P, Location>) -> Self {
        // Every prefix boundary starts a range in which the longest match cannot change.
        let mut bounds: Vec<A> = std::iter::once(A::default())
            .chain(trie.iter().flat_map(|(net, _)| {
                let (first, after) = net.span();
                std::iter::once(first).chain(after)
            }))
            .collect();
        bounds.sort_unstable();
        bounds.dedup();
        let mut out = Self::default();
        for start in bounds {
            let loc = trie
                .get_lpm(&P::host(start))
                .map(|(_, l)| *l)
                .unwrap_or_default();
            if out.locations.last() != Some(&loc) {
                out.starts.push(start);
                out.locations.push(loc);
            }
        }
        out
    }

    #[inline]
    fn get(&self, addr: A) -> Location {
        // The last range starting at or before `addr`; `starts[0]` is 0, so there is one.
        let i = self.starts.partition_point(|&s| s <= addr);
        self.locations
            .get(i.wrapping_sub(1))
            .copied()
            .unwrap_or_default()
    }
}

const DEFAULT_BUSINESS_HOURS: &str = "Mon-Fri 08:00-19:00";

impl Org {
    /// Reads and validates an org file.
    pub fn load(path: &Path) -> Result<Org, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
        })?;
        Org::from_toml(&text, &path.display().to_string())
    }

    /// Parses and validates org-file text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Org, ModelError> {
        let loc = Locator { file, text };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim_end().to_string();
            loc.error(e.span(), msg)
        })?;
        build(raw, &loc)
    }

    /// Where an address is: the most specific asset network, else the site network that
    /// holds it (longest-prefix match over v4 and v6).
    #[inline]
    pub fn locate(&self, ip: IpAddr) -> Location {
        match ip {
            IpAddr::V4(a) => self.v4.get(u32::from(a)),
            IpAddr::V6(a) => self.v6.get(u128::from(a)),
        }
    }

    pub fn site(&self, id: SiteId) -> &Site {
        &self.sites[id.index()]
    }

    pub fn asset(&self, id: AssetId) -> &Asset {
        &self.assets[id.index()]
    }

    pub fn site_by_id(&self, id: &str) -> Option<SiteId> {
        self.sites
            .iter()
            .position(|s| s.id == id)
            .map(|i| SiteId(i as u16))
    }

    pub fn asset_by_name(&self, name: &str) -> Option<AssetId> {
        self.assets
            .iter()
            .position(|a| a.name == name)
            .map(|i| AssetId(i as u32))
    }

    /// An alert endpoint for an address at a location.
    pub fn endpoint(&self, ip: Option<IpAddr>, loc: Location) -> AlertEndpoint {
        let site = loc.site.map(|s| self.site(s));
        AlertEndpoint {
            ip,
            site: site.map(|s| s.id.clone()),
            asset: loc.asset.map(|a| self.asset(a).name.clone()),
            country: site.map(|s| s.country.clone()),
        }
    }

    /// Name of a policy rule by index (as in [`crate::Verdict::rule`]).
    pub fn rule_name(&self, rule: Option<u16>) -> Option<&str> {
        rule.and_then(|i| self.policy.rules().get(i as usize))
            .map(|r| r.name.as_str())
    }

    /// Every data class and customer named anywhere, for summaries.
    pub fn data_classes_and_customers(&self) -> (BTreeSet<&str>, BTreeSet<&str>) {
        let mut data = BTreeSet::new();
        let mut customers = BTreeSet::new();
        for a in &self.assets {
            data.extend(a.data.iter().map(String::as_str));
            customers.extend(a.customers.iter().map(String::as_str));
        }
        (data, customers)
    }
}

fn span<T>(s: &Spanned<T>) -> Option<std::ops::Range<usize>> {
    Some(s.span())
}

fn parse_net(
    s: &Spanned<String>,
    loc: &Locator<'_>,
    address_only: bool,
) -> Result<IpNet, ModelError> {
    let text = s.get_ref().trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    if address_only {
        return Err(loc.error(span(s), format!("`{text}` is not an IP address")));
    }
    let net: IpNet = text.parse().map_err(|_| {
        loc.error(
            span(s),
            format!("`{text}` is not a CIDR network (such as 10.10.0.0/16)"),
        )
    })?;
    if net.trunc() != net {
        return Err(loc.error(
            span(s),
            format!("`{text}` has host bits set; did you mean {}?", net.trunc()),
        ));
    }
    Ok(net)
}

fn build(raw: RawFile, loc: &Locator<'_>) -> Result<Org, ModelError> {
    let policy_raw = raw.policy;
    let business_hours = match policy_raw.as_ref().and_then(|p| p.business_hours.as_ref()) {
        Some(s) => WeeklyWindow::parse(s.get_ref()).map_err(|e| loc.error(span(s), e))?,
        None => WeeklyWindow::parse(DEFAULT_BUSINESS_HOURS).expect("default window parses"),
    };

    if raw.org.get_ref().name.trim().is_empty() {
        return Err(loc.error(span(&raw.org), "org.name is empty"));
    }

    // Sites.
    let mut sites = Vec::with_capacity(raw.sites.len());
    let mut site_ids: HashMap<String, SiteId> = HashMap::new();
    let mut net_owner: Vec<(IpNet, usize)> = Vec::new();
    if raw.sites.len() > u16::MAX as usize {
        return Err(loc.error(None, "too many sites"));
    }
    for rs in &raw.sites {
        let s = rs.get_ref();
        let id = s.id.get_ref().trim().to_string();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(loc.error(
                span(&s.id),
                format!("site id `{id}` must be letters, digits, `-` or `_`"),
            ));
        }
        if site_ids.contains_key(&id) {
            return Err(loc.error(span(&s.id), format!("site `{id}` is defined twice")));
        }
        let country = s.country.get_ref().trim().to_ascii_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(loc.error(
                span(&s.country),
                format!(
                    "country `{}` is not an ISO 3166 two-letter code",
                    s.country.get_ref()
                ),
            ));
        }
        let timezone: chrono_tz::Tz = s.timezone.get_ref().parse().map_err(|_| {
            loc.error(
                span(&s.timezone),
                format!(
                    "`{}` is not an IANA time zone (such as Asia/Tokyo)",
                    s.timezone.get_ref()
                ),
            )
        })?;
        if s.networks.is_empty() {
            return Err(loc.error(span(&s.id), format!("site `{id}` has no networks")));
        }
        let mut networks = Vec::new();
        for n in &s.networks {
            let net = parse_net(n, loc, false)?;
            if let Some((other, owner)) = net_owner
                .iter()
                .find(|(o, _)| o.contains(&net) || net.contains(o))
            {
                // The owner is an earlier site, or this one (two of its own networks overlap).
                let other_site = sites
                    .get(*owner)
                    .map_or(id.as_str(), |x: &Site| x.id.as_str());
                return Err(loc.error(
                    span(n),
                    format!("network {net} of site `{id}` overlaps {other} of site `{other_site}`"),
                ));
            }
            net_owner.push((net, sites.len()));
            networks.push(net);
        }
        let bh = match &s.business_hours {
            Some(b) => WeeklyWindow::parse(b.get_ref()).map_err(|e| loc.error(span(b), e))?,
            None => business_hours.clone(),
        };
        site_ids.insert(id.clone(), SiteId(sites.len() as u16));
        sites.push(Site {
            name: s.name.clone().unwrap_or_else(|| id.clone()),
            id,
            country,
            timezone,
            networks,
            tags: s.tags.clone(),
            business_hours: bh,
        });
    }

    // Assets.
    let mut assets = Vec::with_capacity(raw.assets.len());
    let mut asset_names: HashMap<String, AssetId> = HashMap::new();
    for ra in &raw.assets {
        let a = ra.get_ref();
        let name = a.name.get_ref().trim().to_string();
        if name.is_empty() {
            return Err(loc.error(span(&a.name), "asset name is empty"));
        }
        if asset_names.contains_key(&name) {
            return Err(loc.error(span(&a.name), format!("asset `{name}` is defined twice")));
        }
        let site = *site_ids.get(a.site.get_ref().trim()).ok_or_else(|| {
            loc.error(
                span(&a.site),
                format!("asset `{name}` names unknown site `{}`", a.site.get_ref()),
            )
        })?;
        let mut networks = Vec::new();
        for n in a
            .addresses
            .iter()
            .map(|n| (n, true))
            .chain(a.networks.iter().map(|n| (n, false)))
        {
            let net = parse_net(n.0, loc, n.1)?;
            let site_nets = &sites[site.index()].networks;
            if !site_nets.iter().any(|s| s.contains(&net)) {
                return Err(loc.error(
                    span(n.0),
                    format!(
                        "{net} of asset `{name}` is outside the networks of its site `{}`",
                        sites[site.index()].id
                    ),
                ));
            }
            networks.push(net);
        }
        if networks.is_empty() {
            return Err(loc.error(
                span(&a.name),
                format!("asset `{name}` has no addresses or networks"),
            ));
        }
        asset_names.insert(name.clone(), AssetId(assets.len() as u32));
        assets.push(Asset {
            name,
            site,
            networks,
            roles: a.roles.clone(),
            data: a.data.clone(),
            customers: a.customers.clone(),
        });
    }

    // Sensors.
    let mut sensors = Vec::new();
    for rs in &raw.sensors {
        let s = rs.get_ref();
        let mut ids = Vec::new();
        for site in &s.sites {
            ids.push(*site_ids.get(site.get_ref().trim()).ok_or_else(|| {
                loc.error(
                    span(site),
                    format!(
                        "sensor `{}` names unknown site `{}`",
                        s.name.get_ref(),
                        site.get_ref()
                    ),
                )
            })?);
        }
        if sensors.iter().any(|x: &Sensor| x.name == *s.name.get_ref()) {
            return Err(loc.error(
                span(&s.name),
                format!("sensor `{}` is defined twice", s.name.get_ref()),
            ));
        }
        sensors.push(Sensor {
            name: s.name.get_ref().clone(),
            sites: ids,
        });
    }

    // Policy.
    let known_tags: BTreeSet<&str> = sites
        .iter()
        .flat_map(|s| s.tags.iter().map(String::as_str))
        .collect();
    let known_roles: BTreeSet<&str> = assets
        .iter()
        .flat_map(|a| a.roles.iter().map(String::as_str))
        .collect();
    let resolve = Resolver {
        sites: &sites,
        assets: &assets,
        site_ids: &site_ids,
        asset_names: &asset_names,
        known_tags: &known_tags,
        known_roles: &known_roles,
        loc,
    };
    let mut rules = Vec::new();
    let mut cross_site_default = Action::Alert;
    if let Some(p) = policy_raw {
        if let Some(d) = &p.cross_site_default {
            cross_site_default = Action::parse(d.get_ref()).ok_or_else(|| {
                loc.error(
                    span(d),
                    format!(
                        "cross_site_default `{}` must be allow, alert or deny",
                        d.get_ref()
                    ),
                )
            })?;
        }
        for rr in &p.rules {
            let r = rr.get_ref();
            let action = Action::parse(r.action.get_ref()).ok_or_else(|| {
                loc.error(
                    span(&r.action),
                    format!(
                        "action `{}` must be allow, alert or deny",
                        r.action.get_ref()
                    ),
                )
            })?;
            let mut services = Vec::new();
            for s in &r.services {
                services.push(
                    ServiceMatch::parse(s.get_ref().trim()).map_err(|e| loc.error(span(s), e))?,
                );
            }
            if services.contains(&ServiceMatch::Any) {
                services.clear();
            }
            let when = match (&r.during, &r.outside) {
                (Some(_), Some(o)) => {
                    return Err(loc.error(span(o), "a rule takes `during` or `outside`, not both"));
                }
                (Some(d), None) => when(d, true, &business_hours, loc)?,
                (None, Some(o)) => when(o, false, &business_hours, loc)?,
                (None, None) => When::Always,
            };
            let severity = match &r.severity {
                Some(s) => parse_severity(s.get_ref()).ok_or_else(|| {
                    loc.error(
                        span(s),
                        format!(
                            "severity `{}` must be info, low, medium, high or critical",
                            s.get_ref()
                        ),
                    )
                })?,
                None => match action {
                    Action::Deny => Severity::High,
                    Action::Alert => Severity::Medium,
                    Action::Allow => Severity::Info,
                },
            };
            rules.push(Rule {
                name: r.name.get_ref().clone(),
                line: loc.line(rr.span()),
                from: resolve.selector(&r.from)?,
                to: resolve.selector(&r.to)?,
                services,
                when,
                action,
                severity,
            });
        }
        if rules.len() > u16::MAX as usize {
            return Err(loc.error(None, "too many policy rules"));
        }
    }

    let mut settings = raw.detectors;
    if parse_severity(&settings.correlation.min_severity).is_none() {
        return Err(loc.error(None, format!(
            "detectors.correlation.min_severity `{}` must be info, low, medium, high or critical",
            settings.correlation.min_severity
        )));
    }
    settings.first_seen_crossing.baseline_days =
        settings.first_seen_crossing.baseline_days.min(3650);

    // Address index: site networks first, then asset networks, which are more specific and
    // so win the longest-prefix match.
    let mut v4 = PrefixMap::new();
    let mut v6 = PrefixMap::new();
    let mut insert = |net: IpNet, l: Location| match net {
        IpNet::V4(n) => {
            v4.insert(n, l);
        }
        IpNet::V6(n) => {
            v6.insert(n, l);
        }
    };
    for (i, s) in sites.iter().enumerate() {
        for n in &s.networks {
            insert(
                *n,
                Location {
                    site: Some(SiteId(i as u16)),
                    asset: None,
                },
            );
        }
    }
    for (i, a) in assets.iter().enumerate() {
        for n in &a.networks {
            insert(
                *n,
                Location {
                    site: Some(a.site),
                    asset: Some(AssetId(i as u32)),
                },
            );
        }
    }

    // Saved hunts: the SQL is checked when it runs (the model knows no SQL), but names must
    // be usable on the command line and unique.
    let mut hunts: Vec<SavedHunt> = Vec::new();
    for rh in &raw.hunts {
        let h = rh.get_ref();
        let name = h.name.get_ref().trim().to_string();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err(loc.error(
                span(&h.name),
                format!("hunt name `{name}` must be letters, digits, `-`, `_` or `.`"),
            ));
        }
        if hunts.iter().any(|x| x.name == name) {
            return Err(loc.error(span(&h.name), format!("hunt `{name}` is defined twice")));
        }
        if h.sql.get_ref().trim().is_empty() {
            return Err(loc.error(span(&h.sql), format!("hunt `{name}` has an empty `sql`")));
        }
        hunts.push(SavedHunt {
            name,
            sql: h.sql.get_ref().clone(),
            description: h.description.clone(),
        });
    }

    let org = raw.org.into_inner();
    let policy = Policy::new(
        rules,
        cross_site_default,
        business_hours,
        sites.len(),
        assets.len(),
    );
    Ok(Org {
        name: org.name,
        domains: org.domains,
        brands: org.brands,
        sites,
        assets,
        sensors,
        policy,
        detectors: settings,
        hunts,
        v4: Ranges::from_trie(&v4),
        v6: Ranges::from_trie(&v6),
    })
}

/// Parses `info`..`critical`.
pub fn parse_severity(s: &str) -> Option<Severity> {
    match s {
        "info" => Some(Severity::Info),
        "low" => Some(Severity::Low),
        "medium" => Some(Severity::Medium),
        "high" => Some(Severity::High),
        "critical" => Some(Severity::Critical),
        _ => None,
    }
}

/// `during`/`outside` values: `business-hours`, `off-hours` (its complement) or a window.
fn when(
    s: &Spanned<String>,
    during: bool,
    business: &WeeklyWindow,
    loc: &Locator<'_>,
) -> Result<When, ModelError> {
    let (window, inside) = match s.get_ref().trim() {
        "business-hours" => (business.clone(), during),
        "off-hours" => (business.clone(), !during),
        other => (
            WeeklyWindow::parse(other).map_err(|e| loc.error(span(s), e))?,
            during,
        ),
    };
    Ok(if inside {
        When::During(window)
    } else {
        When::Outside(window)
    })
}

struct Resolver<'a> {
    sites: &'a [Site],
    assets: &'a [Asset],
    site_ids: &'a HashMap<String, SiteId>,
    asset_names: &'a HashMap<String, AssetId>,
    known_tags: &'a BTreeSet<&'a str>,
    known_roles: &'a BTreeSet<&'a str>,
    loc: &'a Locator<'a>,
}

impl Resolver<'_> {
    fn selector(&self, sel: &Spanned<RawSelector>) -> Result<Selector, ModelError> {
        let s = sel.get_ref();
        let loc = self.loc;
        let has_site_keys = s.site.is_some() || s.tag.is_some() || s.country.is_some();
        let has_asset_keys = s.role.is_some() || s.asset.is_some();
        if s.any == Some(true) {
            if has_site_keys || has_asset_keys || s.external.is_some() {
                return Err(loc.error(span(sel), "`any = true` cannot be combined with other keys"));
            }
            return Ok(Selector::any());
        }
        if s.external == Some(true) {
            if has_site_keys || has_asset_keys {
                return Err(loc.error(
                    span(sel),
                    "`external = true` cannot be combined with site, tag, country, role or asset",
                ));
            }
            return Ok(Selector {
                external: true,
                sites: None,
                assets: None,
            });
        }
        if !has_site_keys && !has_asset_keys {
            return Err(loc.error(span(sel), "a selector needs site, tag, country, role, asset, `external = true` or `any = true`"));
        }
        let mut sites = has_site_keys.then(|| vec![true; self.sites.len()]);
        if let Some(v) = &s.site {
            let mut want = vec![false; self.sites.len()];
            for id in v.get_ref().items() {
                let sid = self
                    .site_ids
                    .get(id.as_str())
                    .ok_or_else(|| loc.error(span(v), format!("unknown site `{id}`")))?;
                want[sid.index()] = true;
            }
            and(sites.as_mut(), &want);
        }
        if let Some(v) = &s.tag {
            for t in v.get_ref().items() {
                if !self.known_tags.contains(t.as_str()) {
                    return Err(loc.error(span(v), format!("no site has tag `{t}`")));
                }
            }
            let want: Vec<bool> = self
                .sites
                .iter()
                .map(|site| v.get_ref().items().iter().any(|t| site.tags.contains(t)))
                .collect();
            and(sites.as_mut(), &want);
        }
        if let Some(v) = &s.country {
            let want: Vec<bool> = self
                .sites
                .iter()
                .map(|site| {
                    v.get_ref()
                        .items()
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(&site.country))
                })
                .collect();
            and(sites.as_mut(), &want);
        }
        let mut assets = has_asset_keys.then(|| vec![true; self.assets.len()]);
        if let Some(v) = &s.role {
            for r in v.get_ref().items() {
                if !self.known_roles.contains(r.as_str()) {
                    return Err(loc.error(span(v), format!("no asset has role `{r}`")));
                }
            }
            let want: Vec<bool> = self
                .assets
                .iter()
                .map(|a| v.get_ref().items().iter().any(|r| a.has_role(r)))
                .collect();
            and(assets.as_mut(), &want);
        }
        if let Some(v) = &s.asset {
            let mut want = vec![false; self.assets.len()];
            for name in v.get_ref().items() {
                let aid = self
                    .asset_names
                    .get(name.as_str())
                    .ok_or_else(|| loc.error(span(v), format!("unknown asset `{name}`")))?;
                want[aid.index()] = true;
            }
            and(assets.as_mut(), &want);
        }
        Ok(Selector {
            external: false,
            sites,
            assets,
        })
    }
}

fn and(acc: Option<&mut Vec<bool>>, want: &[bool]) {
    if let Some(acc) = acc {
        for (a, w) in acc.iter_mut().zip(want) {
            *a &= *w;
        }
    }
}
