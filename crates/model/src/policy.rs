//! The access policy: ordered rules, first match wins, and a default for cross-site flows.

use crate::hours::{LocalTime, WeeklyWindow};
use crate::{AssetId, Location, SiteId};
use sekisho_event::{Flow, Proto, Service, Severity};
use std::fmt;

/// What a rule (or the default) says about a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Allow,
    Alert,
    Deny,
}

impl Action {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "allow" => Some(Action::Allow),
            "alert" => Some(Action::Alert),
            "deny" => Some(Action::Deny),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Alert => "alert",
            Action::Deny => "deny",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One side of a rule, resolved against the model: which locations it matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    /// Matches only addresses outside every site.
    pub(crate) external: bool,
    /// Per site: does a site satisfy the site/tag/country keys? `None` when no such key.
    pub(crate) sites: Option<Vec<bool>>,
    /// Per asset: does an asset satisfy the role/asset keys? `None` when no such key.
    pub(crate) assets: Option<Vec<bool>>,
}

impl Selector {
    /// Matches everything, inside and outside the organisation.
    pub fn any() -> Self {
        Self {
            external: false,
            sites: None,
            assets: None,
        }
    }

    /// Whether the site part of the selector lets a location on `site` through.
    #[inline]
    fn admits_site(&self, site: Option<SiteId>) -> bool {
        if self.external {
            return site.is_none();
        }
        match (&self.sites, site) {
            (None, _) => true,
            (Some(sites), Some(s)) => sites[s.index()],
            (Some(_), None) => false,
        }
    }

    /// Whether the asset part of the selector lets a location with `asset` through.
    #[inline]
    fn admits_asset(&self, asset: Option<AssetId>) -> bool {
        if self.external {
            return true;
        }
        match (&self.assets, asset) {
            (None, _) => true,
            (Some(assets), Some(a)) => assets[a.index()],
            (Some(_), None) => false,
        }
    }

    /// True when the location satisfies every key of the selector: its site part and its
    /// asset part, which the policy's bit sets (`RuleMasks`) hold separately.
    #[inline]
    pub fn matches(&self, loc: Location) -> bool {
        self.admits_site(loc.site) && self.admits_asset(loc.asset)
    }
}

/// Services a rule covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceMatch {
    Any,
    Named(Service),
    Ports { proto: Proto, low: u16, high: u16 },
}

impl ServiceMatch {
    /// Parses `rdp`, `tcp/445`, `udp/161-162` or `any`.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s == "any" {
            return Ok(ServiceMatch::Any);
        }
        if let Some(svc) = Service::from_name(s) {
            return Ok(ServiceMatch::Named(svc));
        }
        let (proto, ports) = s
            .split_once('/')
            .ok_or_else(|| format!("unknown service `{s}` (a name such as rdp, or tcp/445)"))?;
        let proto = match proto {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            _ => return Err(format!("`{proto}` is not tcp or udp in `{s}`")),
        };
        let (low, high) = ports.split_once('-').unwrap_or((ports, ports));
        let low: u16 = low.parse().map_err(|_| format!("bad port in `{s}`"))?;
        let high: u16 = high.parse().map_err(|_| format!("bad port in `{s}`"))?;
        if low > high {
            return Err(format!("port range `{ports}` runs backwards"));
        }
        Ok(ServiceMatch::Ports { proto, low, high })
    }

    #[inline]
    fn matches(&self, flow: &Flow) -> bool {
        match self {
            ServiceMatch::Any => true,
            ServiceMatch::Named(s) => flow.service == *s,
            ServiceMatch::Ports { proto, low, high } => {
                flow.proto == *proto && (*low..=*high).contains(&flow.resp_port)
            }
        }
    }
}

/// When a rule applies, in the source site's local time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When {
    Always,
    During(WeeklyWindow),
    Outside(WeeklyWindow),
}

/// One policy rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub name: String,
    /// 1-based line of the rule in the org file, for messages.
    pub line: usize,
    pub from: Selector,
    pub to: Selector,
    /// Empty means any service.
    pub services: Vec<ServiceMatch>,
    pub when: When,
    pub action: Action,
    /// Severity of the alert this rule raises (alert/deny).
    pub severity: Severity,
}

impl Rule {
    #[inline]
    fn matches(&self, flow: &Flow, src: Location, dst: Location, local: Option<LocalTime>) -> bool {
        self.from.matches(src) && self.to.matches(dst) && self.matches_flow(flow, local)
    }

    /// The rule's services and clock, its selectors aside.
    #[inline]
    fn matches_flow(&self, flow: &Flow, local: Option<LocalTime>) -> bool {
        if !self.services.is_empty() && !self.services.iter().any(|s| s.matches(flow)) {
            return false;
        }
        match (&self.when, local) {
            (When::Always, _) => true,
            (When::During(w), Some(t)) => w.contains(t),
            (When::Outside(w), Some(t)) => !w.contains(t),
            // Without a local clock a timed rule cannot be said to apply.
            (_, None) => false,
        }
    }
}

/// The policy's word on one flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub action: Action,
    /// Index into [`Policy::rules`]; `None` when the default decided.
    pub rule: Option<u16>,
}

/// Ordered rules and the cross-site default.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    rules: Vec<Rule>,
    /// For cross-site flows that no rule matched.
    pub cross_site_default: Action,
    /// Business hours in each source site's local time (sites may override).
    pub business_hours: WeeklyWindow,
    /// Which rules admit which sites and assets; `None` when the table would be too big.
    masks: Option<RuleMasks>,
}

/// Which rules' selectors admit a location, as bit sets over the rules: one per site (and
/// one for outside every site) and one per asset (and one for none), for each end. A
/// selector's verdict is its site part and its asset part, so a rule is worth trying on a
/// flow only where all four sets hold its bit; the services and the clock are then checked
/// for those rules alone, in order. Every flow is judged, and most rules are about a few
/// sites or roles: this spares trying each rule on each flow.
#[derive(Clone, Debug, PartialEq)]
struct RuleMasks {
    /// 64-bit words per set.
    words: usize,
    from_sites: Vec<u64>,
    from_assets: Vec<u64>,
    to_sites: Vec<u64>,
    to_assets: Vec<u64>,
}

impl RuleMasks {
    /// Largest table built; beyond it rules are tried one by one.
    const MAX_WORDS: usize = 8 << 20;

    fn build(rules: &[Rule], sites: usize, assets: usize) -> Option<Self> {
        let words = rules.len().div_ceil(64).max(1);
        if words * (sites + assets + 2) * 2 > Self::MAX_WORDS {
            return None;
        }
        let sets = |slots: usize, admits: &dyn Fn(&Rule, usize) -> bool| {
            let mut bits = vec![0u64; slots * words];
            for slot in 0..slots {
                for (i, rule) in rules.iter().enumerate() {
                    if admits(rule, slot) {
                        bits[slot * words + i / 64] |= 1 << (i % 64);
                    }
                }
            }
            bits
        };
        let site = |slot: usize| slot.checked_sub(1).map(|i| SiteId(i as u16));
        let asset = |slot: usize| slot.checked_sub(1).map(|i| AssetId(i as u32));
        Some(Self {
            words,
            from_sites: sets(sites + 1, &|r, slot| r.from.admits_site(site(slot))),
            from_assets: sets(assets + 1, &|r, slot| r.from.admits_asset(asset(slot))),
            to_sites: sets(sites + 1, &|r, slot| r.to.admits_site(site(slot))),
            to_assets: sets(assets + 1, &|r, slot| r.to.admits_asset(asset(slot))),
        })
    }

    /// The first rule, in order, whose selectors admit both ends and for which `rest` holds.
    #[inline]
    fn first(&self, src: Location, dst: Location, rest: impl Fn(usize) -> bool) -> Option<usize> {
        let w = self.words;
        fn at(bits: &[u64], slot: usize, w: usize) -> &[u64] {
            bits.get(slot * w..slot * w + w).unwrap_or_default()
        }
        let site_slot = |s: Option<SiteId>| s.map_or(0, |s| s.index() + 1);
        let asset_slot = |a: Option<AssetId>| a.map_or(0, |a| a.index() + 1);
        let sets = [
            at(&self.from_sites, site_slot(src.site), w),
            at(&self.from_assets, asset_slot(src.asset), w),
            at(&self.to_sites, site_slot(dst.site), w),
            at(&self.to_assets, asset_slot(dst.asset), w),
        ];
        for word in 0..w {
            let mut bits = sets.iter().fold(u64::MAX, |acc, set| {
                acc & set.get(word).copied().unwrap_or(0)
            });
            while bits != 0 {
                let i = word * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if rest(i) {
                    return Some(i);
                }
            }
        }
        None
    }
}

impl Policy {
    /// A policy over an organisation of `sites` sites and `assets` assets.
    pub fn new(
        rules: Vec<Rule>,
        cross_site_default: Action,
        business_hours: WeeklyWindow,
        sites: usize,
        assets: usize,
    ) -> Self {
        let masks = RuleMasks::build(&rules, sites, assets);
        Self {
            rules,
            cross_site_default,
            business_hours,
            masks,
        }
    }

    /// The rules, in order (a verdict's `rule` indexes them).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// First matching rule wins; cross-site flows no rule matches get the default; every
    /// other flow is allowed.
    pub fn evaluate(
        &self,
        flow: &Flow,
        src: Location,
        dst: Location,
        cross_site: bool,
        local: Option<LocalTime>,
    ) -> Verdict {
        let found = match &self.masks {
            Some(masks) => masks.first(src, dst, |i| self.rules[i].matches_flow(flow, local)),
            None => (0..self.rules.len()).find(|&i| self.rules[i].matches(flow, src, dst, local)),
        };
        if let Some(i) = found {
            return Verdict {
                action: self.rules[i].action,
                rule: Some(i as u16),
            };
        }
        Verdict {
            action: if cross_site {
                self.cross_site_default
            } else {
                Action::Allow
            },
            rule: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sekisho_event::{ConnState, Timestamp, Uid};
    use std::sync::Arc;

    fn selector(external: bool, sites: Option<&[usize]>, assets: Option<&[usize]>) -> Selector {
        let mark = |on: &[usize], n: usize| (0..n).map(|i| on.contains(&i)).collect();
        Selector {
            external,
            sites: sites.map(|on| mark(on, SITES)),
            assets: assets.map(|on| mark(on, 2)),
        }
    }

    const SITES: usize = 3;

    fn rule(name: &str, from: Selector, to: Selector, services: Vec<ServiceMatch>) -> Rule {
        Rule {
            name: name.to_string(),
            line: 1,
            from,
            to,
            services,
            when: When::Always,
            action: Action::Deny,
            severity: Severity::High,
        }
    }

    fn flow(service: Service, port: u16) -> Flow {
        Flow {
            ts: Timestamp::from_micros(0),
            duration_us: 0,
            uid: Uid::new("C1").unwrap(),
            orig_ip: "10.0.0.1".parse().unwrap(),
            orig_port: 50_000,
            resp_ip: "10.0.0.2".parse().unwrap(),
            resp_port: port,
            proto: Proto::Tcp,
            service,
            orig_bytes: 0,
            resp_bytes: 0,
            orig_pkts: 0,
            resp_pkts: 0,
            state: ConnState::SF,
            sensor: Arc::from("s"),
        }
    }

    #[test]
    fn rule_masks_give_the_first_match_of_a_full_scan() {
        let rules = vec![
            rule(
                "ext-in",
                selector(true, None, None),
                selector(false, Some(&[0]), None),
                vec![],
            ),
            rule(
                "rdp-to-fs",
                selector(false, Some(&[1, 2]), None),
                selector(false, None, Some(&[0])),
                vec![ServiceMatch::Named(Service::Rdp)],
            ),
            rule(
                "smb",
                selector(false, Some(&[2]), None),
                selector(false, Some(&[0, 1]), None),
                vec![ServiceMatch::Ports {
                    proto: Proto::Tcp,
                    low: 445,
                    high: 445,
                }],
            ),
            rule(
                "any",
                selector(false, None, None),
                selector(true, None, None),
                vec![],
            ),
            rule(
                "last",
                selector(false, None, Some(&[1])),
                selector(false, None, None),
                vec![],
            ),
        ];
        // Behind 66 rules that never match, the same five need a second word of bits.
        let filler = rule(
            "never",
            selector(true, None, None),
            selector(true, None, None),
            vec![ServiceMatch::Ports {
                proto: Proto::Udp,
                low: 1,
                high: 1,
            }],
        );
        let mut long = vec![filler; 66];
        long.extend(rules.iter().cloned());
        assert_eq!(first_matches(rules), (0..5).collect());
        assert_eq!(first_matches(long), (66..71).collect());
    }

    /// Compares the masked and the plain scan on every placement of both ends, and returns
    /// the rules that were the first match somewhere.
    fn first_matches(rules: Vec<Rule>) -> std::collections::BTreeSet<u16> {
        let window = WeeklyWindow::parse("mon-fri 09:00-18:00").unwrap();
        let indexed = Policy::new(rules.clone(), Action::Alert, window.clone(), SITES, 2);
        assert_eq!(
            indexed.masks.as_ref().map(|m| m.words),
            Some(rules.len().div_ceil(64))
        );
        let scanned = Policy::new(rules, Action::Alert, window, RuleMasks::MAX_WORDS, 2);
        assert!(scanned.masks.is_none());
        let sites = [None, Some(SiteId(0)), Some(SiteId(1)), Some(SiteId(2))];
        let assets = [None, Some(AssetId(0)), Some(AssetId(1))];
        let mut matched = std::collections::BTreeSet::new();
        for src_site in sites {
            for dst_site in sites {
                for src_asset in assets {
                    for dst_asset in assets {
                        for f in [
                            flow(Service::Rdp, 3389),
                            flow(Service::Smb, 445),
                            flow(Service::Other, 9),
                        ] {
                            let src = Location {
                                site: src_site,
                                asset: src_asset,
                            };
                            let dst = Location {
                                site: dst_site,
                                asset: dst_asset,
                            };
                            let cross = src_site != dst_site;
                            let expected = indexed
                                .rules()
                                .iter()
                                .position(|r| r.matches(&f, src, dst, None))
                                .map(|i| i as u16);
                            let got = indexed.evaluate(&f, src, dst, cross, None);
                            assert_eq!(got.rule, expected, "{src:?} → {dst:?} {:?}", f.service);
                            assert_eq!(got, scanned.evaluate(&f, src, dst, cross, None));
                            matched.extend(expected);
                        }
                    }
                }
            }
        }
        matched
    }
}
