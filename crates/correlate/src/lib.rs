//! Correlation: joins alerts into incidents that carry their own scope.
//!
//! Two alerts belong to one incident when they share a host (an address at either end, or
//! among an alert's related hosts) and the later one starts within
//! `detectors.correlation.window_minutes` of the end of the earlier one. Joining is
//! transitive (union-find), so a chain Thailand → file server → staging host → Internet is
//! one incident. A group becomes an incident only when one of its alerts reaches
//! `correlation.min_severity`: a lone low-severity first-seen crossing is worth a look, not
//! a call to the CISO.
//!
//! Alerts without any address (a silent sensor) never open an incident: they are about
//! coverage, and are reported as such.
//!
//! Input is alerts in their final order with ids assigned; output is deterministic.
//!
//! ```
//! use sekisho_correlate::correlate;
//! use sekisho_model::Org;
//! let org = Org::from_toml("[org]\nname = \"X\"\n", "org.toml").unwrap();
//! assert!(correlate(&org, &[]).is_empty());
//! ```

use sekisho_event::{
    Alert, AlertEndpoint, BytesMoved, EntryPoint, Incident, Service, Severity, TimelineEntry,
};
use sekisho_model::{Org, parse_severity};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

/// Name used in scopes for addresses outside every site.
pub const EXTERNAL: &str = "external";

/// Joins alerts into incidents. `alerts` must be in final order (see
/// [`Alert::sort_key`]) with ids assigned.
pub fn correlate(org: &Org, alerts: &[Alert]) -> Vec<Incident> {
    let window = i64::from(org.detectors.correlation.window_minutes) * 60 * 1_000_000;
    let min_severity =
        parse_severity(&org.detectors.correlation.min_severity).unwrap_or(Severity::Medium);

    let mut groups = UnionFind::new(alerts.len());
    // Per host: the alert that last touched it and when that alert ended.
    let mut last_seen: HashMap<IpAddr, (usize, i64)> = HashMap::new();
    for (i, alert) in alerts.iter().enumerate() {
        let start = alert.ts.as_micros();
        let end = alert.last_ts.as_micros().max(start);
        for ip in hosts_of(alert) {
            match last_seen.get_mut(&ip) {
                Some((j, until)) => {
                    if start <= until.saturating_add(window) {
                        groups.union(i, *j);
                    }
                    if end >= *until {
                        *j = i;
                        *until = end;
                    }
                }
                None => {
                    last_seen.insert(ip, (i, end));
                }
            }
        }
    }

    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, alert) in alerts.iter().enumerate() {
        if hosts_of(alert).next().is_none() {
            continue;
        }
        members.entry(groups.find(i)).or_default().push(i);
    }

    let mut incidents: Vec<Incident> = members
        .into_values()
        .filter(|m| m.iter().any(|&i| alerts[i].severity >= min_severity))
        .map(|m| build_incident(org, alerts, &m))
        .collect();
    incidents.sort_by(|a, b| (a.first_seen, &a.alert_ids).cmp(&(b.first_seen, &b.alert_ids)));
    for (n, inc) in incidents.iter_mut().enumerate() {
        inc.id = format!("INC-{:04}", n + 1);
    }
    incidents
}

/// (source, destination, service) of an alert.
type FlowKey = (Option<IpAddr>, Option<IpAddr>, Service);
/// (from site, to site, bytes out, bytes back).
type PairBytes = (String, String, u64, u64);

fn hosts_of(alert: &Alert) -> impl Iterator<Item = IpAddr> + '_ {
    alert
        .src
        .ip
        .into_iter()
        .chain(alert.dst.ip)
        .chain(alert.related.iter().filter_map(|r| r.ip))
}

fn site_name(e: &AlertEndpoint) -> String {
    e.site.clone().unwrap_or_else(|| EXTERNAL.to_string())
}

fn build_incident(org: &Org, alerts: &[Alert], members: &[usize]) -> Incident {
    let group: Vec<&Alert> = members.iter().map(|&i| &alerts[i]).collect();
    let mut sites = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    let mut assets = BTreeSet::new();
    let mut users = BTreeSet::new();
    let mut detectors = BTreeSet::new();
    for a in &group {
        for e in std::iter::once(&a.src)
            .chain(std::iter::once(&a.dst))
            .chain(&a.related)
        {
            if let Some(s) = &e.site {
                sites.insert(s.clone());
            }
            if let Some(ip) = e.ip {
                hosts.insert(ip);
            }
            if let Some(asset) = &e.asset {
                assets.insert(asset.clone());
            }
        }
        users.extend(a.context.users.iter().cloned());
        detectors.insert(a.detector.clone());
    }
    let mut data_classes = BTreeSet::new();
    let mut customers = BTreeSet::new();
    for name in &assets {
        if let Some(id) = org.asset_by_name(name) {
            let asset = org.asset(id);
            data_classes.extend(asset.data.iter().cloned());
            customers.extend(asset.customers.iter().cloned());
        }
    }

    // Several detectors report the same flows (a denied RDP crossing at night is policy-deny,
    // off-hours-crossing and first-seen-crossing): count each (src, dst, service) once, at the
    // largest total any detector saw for it.
    let mut per_pair: BTreeMap<FlowKey, PairBytes> = BTreeMap::new();
    for a in &group {
        let entry = per_pair
            .entry((a.src.ip, a.dst.ip, a.service))
            .or_insert_with(|| (site_name(&a.src), site_name(&a.dst), 0, 0));
        entry.2 = entry.2.max(a.bytes_out);
        entry.3 = entry.3.max(a.bytes_in);
    }
    let mut moved: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (from, to, out, back) in per_pair.into_values() {
        if out > 0 {
            *moved.entry((from.clone(), to.clone())).or_default() += out;
        }
        if back > 0 {
            *moved.entry((to, from)).or_default() += back;
        }
    }
    let bytes_moved = moved
        .into_iter()
        .filter(|((from, to), _)| from != to)
        .map(|((from_site, to_site), bytes)| BytesMoved {
            from_site,
            to_site,
            bytes,
        })
        .collect();

    // Entry points: for each way into a site (from another site, or from outside), the
    // earliest alert that crossed it. Keyed by both ends so that footholds in several
    // offices reaching the same headquarters each show.
    let mut entries: BTreeMap<(String, String), &Alert> = BTreeMap::new();
    for a in &group {
        let (Some(to), from) = (&a.dst.site, &a.src.site) else {
            continue;
        };
        if from.as_ref() == Some(to) || a.src.ip.is_none() {
            continue;
        }
        let key = (site_name(&a.src), to.clone());
        let earlier = entries.get(&key).is_none_or(|e| a.ts < e.ts);
        if earlier {
            entries.insert(key, a);
        }
    }
    let mut entry_points: Vec<EntryPoint> = entries
        .into_values()
        .map(|a| EntryPoint {
            ts: a.ts,
            src: a.src.clone(),
            dst: a.dst.clone(),
            service: a.service,
            alert_id: a.id.clone(),
        })
        .collect();
    entry_points.sort_by(|a, b| (a.ts, &a.alert_id).cmp(&(b.ts, &b.alert_id)));

    let first_seen = group.iter().map(|a| a.ts).min().unwrap_or_default();
    let last_seen = group
        .iter()
        .map(|a| a.last_ts.max(a.ts))
        .max()
        .unwrap_or_default();
    let severity = group
        .iter()
        .map(|a| a.severity)
        .max()
        .unwrap_or(Severity::Info);
    let timeline: Vec<TimelineEntry> = group
        .iter()
        .map(|a| TimelineEntry {
            ts: a.ts,
            alert_id: a.id.clone(),
            detector: a.detector.clone(),
            severity: a.severity,
            src: a.src.clone(),
            dst: a.dst.clone(),
            service: a.service,
            summary: a.summary.clone(),
        })
        .collect();

    let title = match entry_points.first() {
        Some(e) => format!(
            "{} {} into {} over {}{}",
            site_name(&e.src),
            e.src.ip.map(|i| i.to_string()).unwrap_or_default(),
            e.dst.asset.clone().unwrap_or_else(|| site_name(&e.dst)),
            e.service,
            if data_classes.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} data at risk",
                    data_classes.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            }
        ),
        None => format!(
            "{} alerts within {}",
            group.len(),
            sites.iter().cloned().collect::<Vec<_>>().join(", ")
        ),
    };

    Incident {
        id: String::new(),
        title,
        severity,
        status: "open".to_string(),
        first_seen,
        last_seen,
        entry_points,
        sites: sites.into_iter().collect(),
        hosts: hosts.into_iter().collect(),
        assets: assets.into_iter().collect(),
        data_classes: data_classes.into_iter().collect(),
        customers: customers.into_iter().collect(),
        users: users.into_iter().collect(),
        bytes_moved,
        detectors: detectors.into_iter().collect(),
        alert_ids: group.iter().map(|a| a.id.clone()).collect(),
        timeline,
    }
}

/// Disjoint sets over alert indices; the smallest index is each set's root, which keeps
/// results independent of union order.
#[derive(Debug)]
struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi] = lo;
        }
    }
}
