//! The export plan: what every policy rule means in firewall terms (address sets, ports,
//! UTC time spans), shared by the nftables and iptables writers.
//!
//! Addresses are not read from the selectors' keys but asked of the model itself: the
//! site address space is cut into pieces in which [`Org::locate`] cannot change (every
//! site and asset network boundary starts a piece), and a selector's set is the union of
//! the pieces whose location it [`Selector::matches`]. So an exported set holds exactly the
//! addresses the policy engine would match, longest-prefix rules for nested asset
//! networks included.

use crate::ExportOptions;
use crate::ports::PortTable;
use chrono::{Datelike, Offset, TimeZone, Utc};
use ipnet::{Ipv4Net, Ipv6Net};
use sekisho_model::{Action, LocalTime, Location, Org, Rule, Selector, ServiceMatch, When};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Minutes in a week; time windows are bitmaps over them.
const WEEK: usize = 7 * 1440;

/// An address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4 (`iptables-restore`, nft `ip`).
    V4,
    /// IPv6 (`ip6tables-restore`, nft `ip6`).
    V6,
}

/// A range of addresses (as integers) in which the model's location does not change.
#[derive(Clone, Copy, Debug)]
struct Piece {
    lo: u128,
    hi: u128,
    loc: Location,
}

/// Networks of one side of a rule, per family, and which sites they touch.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub(crate) struct Nets {
    pub v4: Vec<Ipv4Net>,
    pub v6: Vec<Ipv6Net>,
    /// Per site: does the set hold any of its addresses?
    pub sites: Vec<bool>,
}

impl Nets {
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    pub fn has(&self, family: Family) -> bool {
        match family {
            Family::V4 => !self.v4.is_empty(),
            Family::V6 => !self.v6.is_empty(),
        }
    }

    /// The networks of one family as text.
    pub fn texts(&self, family: Family) -> Vec<String> {
        match family {
            Family::V4 => self.v4.iter().map(ToString::to_string).collect(),
            Family::V6 => self.v6.iter().map(ToString::to_string).collect(),
        }
    }
}

/// One side (source or destination) of an exported rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// Any address.
    Any,
    /// Outside every site network.
    External,
    /// These networks.
    Nets(Nets),
}

impl Side {
    /// Can the side hold an address of site `s`?
    pub fn touches(&self, s: usize) -> bool {
        match self {
            Side::Any => true,
            Side::External => false,
            Side::Nets(n) => n.sites.get(s).copied().unwrap_or(false),
        }
    }

    /// Can the side match an address of this family?
    pub fn has(&self, family: Family) -> bool {
        match self {
            Side::Any | Side::External => true,
            Side::Nets(n) => n.has(family),
        }
    }
}

/// A protocol and port match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum L4 {
    Any,
    Tcp(Vec<(u16, u16)>),
    Udp(Vec<(u16, u16)>),
    Icmp,
}

/// Part of a UTC day on some weekdays: minutes `[start, end)`, `end <= 1440`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Span {
    /// 0 = Monday ... 6 = Sunday (UTC).
    pub days: [bool; 7],
    pub start: u16,
    pub end: u16,
}

/// When an exported rule applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Time {
    Always,
    /// UTC spans (never empty).
    Spans(Vec<Span>),
}

/// One exported form of a rule: a rule whose time window depends on the clock of the
/// source site becomes one variant per UTC offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Variant {
    pub src: Side,
    pub dst: Side,
    pub time: Time,
    /// For timed variants: whose clock the window was written in (for a comment).
    pub clock: Option<String>,
}

impl Variant {
    pub fn touches(&self, s: usize) -> bool {
        self.src.touches(s) || self.dst.touches(s)
    }

    pub fn has(&self, family: Family) -> bool {
        self.src.has(family) && self.dst.has(family)
    }
}

/// A policy rule, planned.
#[derive(Debug)]
pub(crate) struct PlannedRule<'o> {
    /// 0-based position in the policy.
    pub index: usize,
    pub rule: &'o Rule,
    pub l4: Vec<L4>,
    pub variants: Vec<Variant>,
    /// Why the rule has no variants, when it has none.
    pub never: Option<&'static str>,
}

/// A site as exported.
#[derive(Debug)]
pub(crate) struct PlannedSite {
    pub index: usize,
    pub id: String,
    pub nets: Nets,
    /// UTC offset in minutes on the reference date.
    pub offset_min: i32,
    /// Does the site's offset change during the reference year (daylight saving time)?
    pub dst: bool,
}

/// Everything the writers need.
#[derive(Debug)]
pub(crate) struct Plan<'o> {
    pub org: &'o Org,
    pub sites: Vec<PlannedSite>,
    /// Every site network.
    pub all: Nets,
    pub rules: Vec<PlannedRule<'o>>,
    /// The sites to write chains for (all, or the one asked for).
    pub chains: Vec<usize>,
    /// The reference date of the UTC offsets, `YYYY-MM-DD`.
    pub date: String,
}

impl<'o> Plan<'o> {
    pub fn build(org: &'o Org, opts: &ExportOptions) -> Result<Self, crate::ExportError> {
        let chains = match &opts.site {
            Some(id) => vec![
                org.site_by_id(id)
                    .ok_or_else(|| crate::ExportError::UnknownSite(id.clone()))?
                    .index(),
            ],
            None => (0..org.sites.len()).collect(),
        };
        let space = Space::build(org);
        let nsites = org.sites.len();
        let sites: Vec<PlannedSite> = org
            .sites
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let offset_min = offset_minutes(&s.timezone, opts.at);
                let year = opts.at.year();
                let jan = Utc.with_ymd_and_hms(year, 1, 1, 12, 0, 0).single();
                let jul = Utc.with_ymd_and_hms(year, 7, 1, 12, 0, 0).single();
                let dst = match (jan, jul) {
                    (Some(a), Some(b)) => {
                        offset_minutes(&s.timezone, a) != offset_minutes(&s.timezone, b)
                    }
                    _ => false,
                };
                PlannedSite {
                    index: i,
                    id: s.id.clone(),
                    nets: space.select(nsites, |l| l.site.map(|x| x.index()) == Some(i)),
                    offset_min,
                    dst,
                }
            })
            .collect();
        let all = space.select(nsites, |l| l.site.is_some());
        let ports = PortTable::build();
        let mut groups: BTreeMap<i32, Vec<bool>> = BTreeMap::new();
        for s in &sites {
            groups
                .entry(s.offset_min)
                .or_insert_with(|| vec![false; nsites])[s.index] = true;
        }
        let rules = org
            .policy
            .rules()
            .iter()
            .enumerate()
            .map(|(index, rule)| {
                let l4 = l4_of(&rule.services, &ports);
                let variants = variants(rule, &space, nsites, &groups, &sites);
                let never = if !variants.is_empty() {
                    None
                } else if matches!(rule.when, When::Always) {
                    Some("its selectors match no site address")
                } else {
                    Some("its time window never applies at a site gateway")
                };
                PlannedRule {
                    index,
                    rule,
                    l4,
                    variants,
                    never,
                }
            })
            .collect();
        Ok(Plan {
            org,
            sites,
            all,
            rules,
            chains,
            date: opts.at.format("%Y-%m-%d").to_string(),
        })
    }

    /// The policy's cross-site default.
    pub fn default_action(&self) -> Action {
        self.org.policy.cross_site_default
    }

    /// `jp-hq UTC+09:00, ...` for the header.
    pub fn offsets_text(&self) -> String {
        self.sites
            .iter()
            .map(|s| format!("{} {}", s.id, utc_offset_text(s.offset_min)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Ids of sites that observe daylight saving time.
    pub fn dst_sites(&self) -> Vec<&str> {
        self.sites
            .iter()
            .filter(|s| s.dst)
            .map(|s| s.id.as_str())
            .collect()
    }
}

/// `UTC+09:00`, `UTC-05:00`, `UTC+05:45`.
pub(crate) fn utc_offset_text(min: i32) -> String {
    let sign = if min < 0 { '-' } else { '+' };
    let a = min.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", a / 60, a % 60)
}

fn offset_minutes(tz: &chrono_tz::Tz, at: chrono::DateTime<Utc>) -> i32 {
    let secs = tz
        .offset_from_utc_datetime(&at.naive_utc())
        .fix()
        .local_minus_utc();
    // Zones in use today have whole-minute offsets; round anything else (LMT) down.
    secs.div_euclid(60)
}

/// The site address space cut into pieces with one location each.
struct Space {
    v4: Vec<Piece>,
    v6: Vec<Piece>,
}

impl Space {
    fn build(org: &Org) -> Self {
        let mut b4: Vec<u128> = Vec::new();
        let mut b6: Vec<u128> = Vec::new();
        let nets = org
            .sites
            .iter()
            .flat_map(|s| s.networks.iter())
            .chain(org.assets.iter().flat_map(|a| a.networks.iter()));
        for net in nets {
            match net {
                ipnet::IpNet::V4(n) => {
                    b4.push(u128::from(u32::from(n.network())));
                    b4.push(u128::from(u32::from(n.broadcast())) + 1);
                }
                ipnet::IpNet::V6(n) => {
                    b6.push(u128::from(n.network()));
                    if let Some(after) = u128::from(n.broadcast()).checked_add(1) {
                        b6.push(after);
                    }
                }
            }
        }
        Space {
            v4: pieces(org, b4, u128::from(u32::MAX), |x| {
                IpAddr::V4(Ipv4Addr::from(u32::try_from(x).unwrap_or(u32::MAX)))
            }),
            v6: pieces(org, b6, u128::MAX, |x| IpAddr::V6(Ipv6Addr::from(x))),
        }
    }

    /// The networks of every piece whose location satisfies `f`, as few CIDRs as cover them.
    fn select(&self, nsites: usize, f: impl Fn(Location) -> bool) -> Nets {
        let mut out = Nets {
            sites: vec![false; nsites],
            ..Nets::default()
        };
        let mut pick = |pieces: &[Piece]| -> Vec<(u128, u128)> {
            let mut ranges: Vec<(u128, u128)> = Vec::new();
            for p in pieces.iter().filter(|p| f(p.loc)) {
                if let Some(s) = p.loc.site
                    && let Some(slot) = out.sites.get_mut(s.index())
                {
                    *slot = true;
                }
                match ranges.last_mut() {
                    Some(last) if last.1.checked_add(1) == Some(p.lo) => last.1 = p.hi,
                    _ => ranges.push((p.lo, p.hi)),
                }
            }
            ranges
        };
        let r4 = pick(&self.v4);
        let r6 = pick(&self.v6);
        for (lo, hi) in r4 {
            for (addr, len) in cidrs(lo, hi, 32) {
                let a = Ipv4Addr::from(u32::try_from(addr).unwrap_or(0));
                if let Ok(n) = Ipv4Net::new(a, len) {
                    out.v4.push(n);
                }
            }
        }
        for (lo, hi) in r6 {
            for (addr, len) in cidrs(lo, hi, 128) {
                if let Ok(n) = Ipv6Net::new(Ipv6Addr::from(addr), len) {
                    out.v6.push(n);
                }
            }
        }
        out
    }

    fn side(&self, nsites: usize, sel: &Selector) -> Side {
        if *sel == Selector::any() {
            Side::Any
        } else if sel.matches(Location::default()) {
            // Only `external = true` matches an address outside every site.
            Side::External
        } else {
            Side::Nets(self.select(nsites, |l| sel.matches(l)))
        }
    }

    /// The side restricted to the sites in `group` (`External` cannot be restricted).
    fn restrict(&self, nsites: usize, sel: &Selector, group: &[bool]) -> Nets {
        self.select(nsites, |l| {
            l.site
                .is_some_and(|s| group.get(s.index()).copied().unwrap_or(false))
                && sel.matches(l)
        })
    }
}

/// Pieces between sorted boundaries, kept only where the address is in a site.
fn pieces(org: &Org, mut bounds: Vec<u128>, max: u128, ip: impl Fn(u128) -> IpAddr) -> Vec<Piece> {
    bounds.push(0);
    bounds.sort_unstable();
    bounds.dedup();
    let mut out = Vec::new();
    for (i, &lo) in bounds.iter().enumerate() {
        if lo > max {
            break;
        }
        let hi = match bounds.get(i + 1) {
            Some(&next) => next - 1,
            None => max,
        };
        let loc = org.locate(ip(lo));
        if loc.site.is_some() {
            out.push(Piece { lo, hi, loc });
        }
    }
    out
}

/// The fewest CIDR blocks (address, prefix length) that cover `lo..=hi` in a `bits`-bit space.
pub(crate) fn cidrs(lo: u128, hi: u128, bits: u32) -> Vec<(u128, u8)> {
    let mut out = Vec::new();
    let mut cur = lo;
    let mask = |size: u32| -> u128 {
        if size >= 128 {
            u128::MAX
        } else {
            (1u128 << size) - 1
        }
    };
    loop {
        let mut size = cur.trailing_zeros().min(bits);
        while size > 0 && (cur | mask(size)) > hi {
            size -= 1;
        }
        // `bits - size` is at most 128.
        out.push((cur, u8::try_from(bits - size).unwrap_or(0)));
        let last = cur | mask(size);
        if last >= hi {
            break;
        }
        cur = last + 1;
    }
    out
}

/// A rule's services as protocol and port matches (merged, sorted).
fn l4_of(services: &[ServiceMatch], ports: &PortTable) -> Vec<L4> {
    if services.is_empty() {
        return vec![L4::Any];
    }
    let mut tcp = Vec::new();
    let mut udp = Vec::new();
    let mut icmp = false;
    for s in services {
        match s {
            ServiceMatch::Any => return vec![L4::Any],
            ServiceMatch::Named(svc) => {
                tcp.extend_from_slice(ports.tcp(*svc));
                udp.extend_from_slice(ports.udp(*svc));
                icmp |= *svc == sekisho_event::Service::Icmp;
            }
            ServiceMatch::Ports { proto, low, high } => match proto {
                sekisho_event::Proto::Tcp => tcp.push((*low, *high)),
                sekisho_event::Proto::Udp => udp.push((*low, *high)),
                // The parser only makes tcp/ and udp/ port matches.
                _ => {}
            },
        }
    }
    let mut out = Vec::new();
    if !tcp.is_empty() {
        out.push(L4::Tcp(merge_ports(tcp)));
    }
    if !udp.is_empty() {
        out.push(L4::Udp(merge_ports(udp)));
    }
    if icmp {
        out.push(L4::Icmp);
    }
    out
}

/// Sorts and merges overlapping or adjacent port ranges (nft rejects overlapping
/// elements in a set; fewer ranges also mean fewer iptables rules).
pub(crate) fn merge_ports(mut v: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    v.sort_unstable();
    let mut out: Vec<(u16, u16)> = Vec::new();
    for (lo, hi) in v {
        match out.last_mut() {
            Some(last) if u32::from(lo) <= u32::from(last.1) + 1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// The rule's variants. An untimed rule has one. A timed rule's window is in the local
/// time of the flow's clock site (the source site, or the destination site when the source
/// is outside every site — see `sekisho_model::Enriched::clock_site`), so it is split by the
/// UTC offset of that site; a flow with no site at either end never matches a timed rule.
fn variants(
    rule: &Rule,
    space: &Space,
    nsites: usize,
    groups: &BTreeMap<i32, Vec<bool>>,
    sites: &[PlannedSite],
) -> Vec<Variant> {
    let src = space.side(nsites, &rule.from);
    let dst = space.side(nsites, &rule.to);
    let nonempty = |s: &Side| !matches!(s, Side::Nets(n) if n.is_empty());
    let Some(local) = local_bitmap(&rule.when) else {
        if nonempty(&src) && nonempty(&dst) {
            return vec![Variant {
                src,
                dst,
                time: Time::Always,
                clock: None,
            }];
        }
        return Vec::new();
    };
    let label = |group: &[bool], off: i32| -> String {
        let ids: Vec<&str> = sites
            .iter()
            .filter(|s| group.get(s.index).copied().unwrap_or(false))
            .map(|s| s.id.as_str())
            .collect();
        format!("{} ({})", ids.join(", "), utc_offset_text(off))
    };
    let mut out = Vec::new();
    if !nonempty(&dst) {
        return out;
    }
    // Flows from a site: the source site's clock.
    if matches!(src, Side::Any | Side::Nets(_)) {
        for (&off, group) in groups {
            let s = space.restrict(nsites, &rule.from, group);
            if s.is_empty() {
                continue;
            }
            if let Some(time) = utc_time(&local, off) {
                out.push(Variant {
                    src: Side::Nets(s),
                    dst: dst.clone(),
                    time,
                    clock: Some(format!("source site {}", label(group, off))),
                });
            }
        }
    }
    // Flows from outside every site: the destination site's clock.
    if matches!(src, Side::Any | Side::External) && !matches!(dst, Side::External) {
        for (&off, group) in groups {
            let d = space.restrict(nsites, &rule.to, group);
            if d.is_empty() {
                continue;
            }
            if let Some(time) = utc_time(&local, off) {
                out.push(Variant {
                    src: Side::External,
                    dst: Side::Nets(d),
                    time,
                    clock: Some(format!("destination site {}", label(group, off))),
                });
            }
        }
    }
    out
}

/// Minutes of the local week in which the rule applies; `None` for an untimed rule.
fn local_bitmap(when: &When) -> Option<Vec<bool>> {
    let (w, inside) = match when {
        When::Always => return None,
        When::During(w) => (w, true),
        When::Outside(w) => (w, false),
    };
    let mut map = vec![false; WEEK];
    for (i, slot) in map.iter_mut().enumerate() {
        let t = LocalTime {
            weekday: (i / 1440) as u8,
            minute: (i % 1440) as u16,
            day: 0,
        };
        *slot = w.contains(t) == inside;
    }
    Some(map)
}

/// Shifts a local-week bitmap by a UTC offset and cuts it into per-day spans, grouping
/// weekdays with the same spans. `None` when the window is empty.
pub(crate) fn utc_time(local: &[bool], offset_min: i32) -> Option<Time> {
    let week = WEEK as i64;
    let mut utc = vec![false; WEEK];
    for (i, &on) in local.iter().enumerate() {
        if on {
            // local = utc + offset.
            let u = (i as i64 - i64::from(offset_min)).rem_euclid(week);
            if let Some(slot) = utc.get_mut(u as usize) {
                *slot = true;
            }
        }
    }
    if utc.iter().all(|&b| b) {
        return Some(Time::Always);
    }
    if !utc.iter().any(|&b| b) {
        return None;
    }
    // Per weekday, its intervals; then weekdays with equal intervals share spans.
    let mut by_intervals: BTreeMap<Vec<(u16, u16)>, [bool; 7]> = BTreeMap::new();
    for day in 0..7 {
        let mut iv = Vec::new();
        let mut start = None;
        for m in 0..=1440usize {
            let on = m < 1440 && utc.get(day * 1440 + m).copied().unwrap_or(false);
            match (on, start) {
                (true, None) => start = Some(m as u16),
                (false, Some(s)) => {
                    iv.push((s, m as u16));
                    start = None;
                }
                _ => {}
            }
        }
        if !iv.is_empty() {
            by_intervals.entry(iv).or_insert([false; 7])[day] = true;
        }
    }
    let mut spans: Vec<Span> = by_intervals
        .into_iter()
        .flat_map(|(iv, days)| {
            iv.into_iter()
                .map(move |(start, end)| Span { days, start, end })
        })
        .collect();
    spans.sort_by_key(|s| (s.days.iter().position(|&d| d), s.start));
    Some(Time::Spans(spans))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_cover_ranges_exactly() {
        assert_eq!(cidrs(0, u128::from(u32::MAX), 32), vec![(0, 0)]);
        assert_eq!(cidrs(0, u128::MAX, 128), vec![(0, 0)]);
        // 10.0.0.1 - 10.0.0.6 = .1/32, .2/31, .4/31, .6/32
        let base = 0x0a00_0000u128;
        assert_eq!(
            cidrs(base + 1, base + 6, 32),
            vec![
                (base + 1, 32),
                (base + 2, 31),
                (base + 4, 31),
                (base + 6, 32)
            ]
        );
    }

    #[test]
    fn a_tokyo_window_moves_to_the_previous_utc_day() {
        // Mon 08:00-10:00 at UTC+09:00 is Sun 23:00-24:00 and Mon 00:00-01:00 UTC.
        let mut local = vec![false; WEEK];
        local[8 * 60..10 * 60].fill(true);
        let Some(Time::Spans(spans)) = utc_time(&local, 9 * 60) else {
            panic!("spans expected");
        };
        let mut mon = [false; 7];
        mon[0] = true;
        let mut sun = [false; 7];
        sun[6] = true;
        assert_eq!(
            spans,
            vec![
                Span {
                    days: mon,
                    start: 0,
                    end: 60
                },
                Span {
                    days: sun,
                    start: 23 * 60,
                    end: 1440
                }
            ]
        );
    }

    #[test]
    fn port_ranges_merge() {
        assert_eq!(
            merge_ports(vec![(445, 445), (139, 139), (440, 450), (451, 460)]),
            vec![(139, 139), (440, 460)]
        );
    }
}
