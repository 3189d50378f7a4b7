//! What every renderer derives from an [`Analysis`] the same way: the period, counts by
//! detector, the worst incident, what is at risk; and the formatting of times, byte counts
//! and endpoints. Keeping it in one place keeps the terminal, Markdown and HTML outputs
//! saying the same thing.

use crate::{Analysis, SiteInfo};
use sekisho_event::{Alert, AlertEndpoint, Incident, Severity, Timestamp};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Most timeline rows shown per incident in Markdown and HTML tables; the rest are in
/// `incidents.json`.
pub(crate) const MAX_TIMELINE_ROWS: usize = 500;
/// Most rows of the alert-details appendix.
pub(crate) const MAX_ALERT_ROWS: usize = 2000;
/// Most rejection samples listed in reports (the run keeps up to 100).
pub(crate) const MAX_REJECTION_ROWS: usize = 100;
/// Most items listed in one scope cell (hosts, users, ...) before `+N more`.
pub(crate) const MAX_LIST_ITEMS: usize = 50;
/// Site name used for an endpoint outside every site.
pub(crate) const EXTERNAL: &str = "external";

/// Alerts of one detector.
#[derive(Debug)]
pub(crate) struct DetectorCount<'a> {
    pub detector: &'a str,
    pub alerts: u64,
    pub worst: Severity,
}

/// Facts derived once per rendering.
#[derive(Debug)]
pub(crate) struct Facts<'a> {
    pub alert_by_id: HashMap<&'a str, &'a Alert>,
    /// Earliest and latest activity over alerts and incidents.
    pub period: Option<(Timestamp, Timestamp)>,
    /// Span of the input's records (from the run statistics): what was watched.
    pub data_period: Option<(Timestamp, Timestamp)>,
    /// Most alerts first, then by name.
    pub by_detector: Vec<DetectorCount<'a>>,
    /// Highest severity; among equals the one with most alerts, then the earliest.
    pub worst: Option<&'a Incident>,
    pub data_classes: BTreeSet<&'a str>,
    pub customers: BTreeSet<&'a str>,
    pub sites: BTreeSet<&'a str>,
    /// Incidents per severity, most severe first.
    pub incidents_by_severity: Vec<(Severity, usize)>,
}

impl<'a> Facts<'a> {
    pub fn new(a: &Analysis<'a>) -> Self {
        let alert_by_id = a.alerts.iter().map(|x| (x.id.as_str(), x)).collect();

        let mut period: Option<(Timestamp, Timestamp)> = None;
        let mut widen = |from: Timestamp, to: Timestamp| {
            let (lo, hi) = period.get_or_insert((from, to));
            *lo = (*lo).min(from);
            *hi = (*hi).max(to);
        };
        for x in a.alerts {
            widen(x.ts, x.last_ts.max(x.ts));
        }
        for i in a.incidents {
            widen(i.first_seen, i.last_seen.max(i.first_seen));
        }

        let mut det: BTreeMap<&str, (u64, Severity)> = BTreeMap::new();
        for x in a.alerts {
            let e = det.entry(&x.detector).or_insert((0, x.severity));
            e.0 += 1;
            e.1 = e.1.max(x.severity);
        }
        let mut by_detector: Vec<DetectorCount> = det
            .into_iter()
            .map(|(detector, (alerts, worst))| DetectorCount {
                detector,
                alerts,
                worst,
            })
            .collect();
        by_detector.sort_by(|x, y| y.alerts.cmp(&x.alerts).then(x.detector.cmp(y.detector)));

        // Ties: more alerts wins, then the earlier incident (reversed comparisons).
        let worst = a.incidents.iter().max_by(|x, y| {
            (x.severity, x.alert_ids.len())
                .cmp(&(y.severity, y.alert_ids.len()))
                .then(y.first_seen.cmp(&x.first_seen))
                .then(y.id.cmp(&x.id))
        });

        let mut sev: BTreeMap<std::cmp::Reverse<Severity>, usize> = BTreeMap::new();
        for i in a.incidents {
            *sev.entry(std::cmp::Reverse(i.severity)).or_default() += 1;
        }

        Facts {
            alert_by_id,
            period,
            data_period: a.stats.first_ts.zip(a.stats.last_ts),
            by_detector,
            worst,
            data_classes: a
                .incidents
                .iter()
                .flat_map(|i| i.data_classes.iter().map(String::as_str))
                .collect(),
            customers: a
                .incidents
                .iter()
                .flat_map(|i| i.customers.iter().map(String::as_str))
                .collect(),
            sites: a
                .incidents
                .iter()
                .flat_map(|i| i.sites.iter().map(String::as_str))
                .collect(),
            incidents_by_severity: sev.into_iter().map(|(s, n)| (s.0, n)).collect(),
        }
    }

    /// Alerts counted per detector, sorted by detector name (for JSON).
    pub fn detector_counts(&self) -> BTreeMap<String, u64> {
        self.by_detector
            .iter()
            .map(|d| (d.detector.to_string(), d.alerts))
            .collect()
    }

    /// The incident's alerts that this run has, in timeline order.
    pub fn alerts_of(&self, inc: &Incident) -> Vec<&'a Alert> {
        inc.alert_ids
            .iter()
            .filter_map(|id| self.alert_by_id.get(id.as_str()).copied())
            .collect()
    }
}

/// All alerts of an incident from one site to another.
#[derive(Debug)]
pub(crate) struct Crossing {
    pub alerts: usize,
    /// Payload bytes both ways over the alerts' flows.
    pub bytes: u64,
    pub services: BTreeSet<&'static str>,
    pub worst: Severity,
}

/// Crossings of an incident by (from site, to site), `external` for outside every site;
/// taken from the timeline (one entry per alert), bytes from the alerts themselves, so that
/// a crossing's bytes follow its direction of connection.
pub(crate) fn crossings<'i>(
    inc: &'i Incident,
    alerts: &HashMap<&str, &Alert>,
) -> BTreeMap<(&'i str, &'i str), Crossing> {
    let mut out: BTreeMap<(&str, &str), Crossing> = BTreeMap::new();
    for e in &inc.timeline {
        let c = out
            .entry((site_of(&e.src), site_of(&e.dst)))
            .or_insert(Crossing {
                alerts: 0,
                bytes: 0,
                services: BTreeSet::new(),
                worst: e.severity,
            });
        c.alerts += 1;
        c.services.insert(e.service.as_str());
        c.worst = c.worst.max(e.severity);
        if let Some(x) = alerts.get(e.alert_id.as_str()) {
            c.bytes = c
                .bytes
                .saturating_add(x.bytes_out)
                .saturating_add(x.bytes_in);
        }
    }
    out
}

/// Total of bytes moved between sites in an incident.
pub(crate) fn bytes_total(inc: &Incident) -> u64 {
    inc.bytes_moved
        .iter()
        .fold(0u64, |t, b| t.saturating_add(b.bytes))
}

/// `one` or `many` by count.
pub(crate) fn plural<'s>(n: usize, one: &'s str, many: &'s str) -> &'s str {
    if n == 1 { one } else { many }
}

/// "2 critical, 1 high".
pub(crate) fn severity_breakdown(by: &[(Severity, usize)]) -> String {
    by.iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `2024-03-04 02:13:05` (UTC, to the second): what a reader needs; the exact
/// microseconds are in the JSON.
pub(crate) fn fmt_ts(ts: Timestamp) -> String {
    match ts.to_datetime() {
        Some(dt) => dt.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => ts.to_string(),
    }
}

/// Formats a time with a chrono format string, UTC.
pub(crate) fn fmt_ts_with(ts: Timestamp, format: &str) -> String {
    match ts.to_datetime() {
        Some(dt) => dt.format(format).to_string(),
        None => ts.to_string(),
    }
}

/// `1,234,567`.
pub(crate) fn fmt_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `532 B`, `1.2 MB`, `48 GB` (decimal units, as network tools count).
pub(crate) fn fmt_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["kB", "MB", "GB", "TB", "PB", "EB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    while v >= 999.95 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if v < 9.995 {
        format!("{v:.2} {}", UNITS[unit])
    } else if v < 99.95 {
        format!("{v:.1} {}", UNITS[unit])
    } else {
        format!("{v:.0} {}", UNITS[unit])
    }
}

/// `1.24 MB (1,240,000 bytes)`: a size a reader grasps and the exact count a regulator asks
/// for.
pub(crate) fn fmt_bytes_exact(n: u64) -> String {
    if n < 1000 {
        format!("{n} B")
    } else {
        format!("{} ({} bytes)", fmt_bytes(n), fmt_count(n))
    }
}

/// The site id of an endpoint, or `external`.
pub(crate) fn site_of(e: &AlertEndpoint) -> &str {
    e.site.as_deref().unwrap_or(EXTERNAL)
}

/// `jp-hq/jp-fs01 (10.10.5.10)`, `th-bkk/10.20.1.5`, `external/203.0.113.7`,
/// `jp-hq/(many)`. Raw: the caller escapes for its medium.
pub(crate) fn endpoint_label(e: &AlertEndpoint) -> String {
    let site = site_of(e);
    match (&e.asset, e.ip) {
        (Some(asset), Some(ip)) => format!("{site}/{asset} ({ip})"),
        (Some(asset), None) => format!("{site}/{asset}"),
        (None, Some(ip)) => format!("{site}/{ip}"),
        (None, None) => format!("{site}/(many)"),
    }
}

/// `src → dst`; `on dst` when both ends are the same (an alert from one host's own log,
/// such as a service install, crosses nothing).
pub(crate) fn crossing_label(src: &AlertEndpoint, dst: &AlertEndpoint) -> String {
    if src == dst {
        return format!("on {}", endpoint_label(dst));
    }
    format!("{} → {}", endpoint_label(src), endpoint_label(dst))
}

/// The org's site with this id.
pub(crate) fn site_info<'s>(sites: &'s [SiteInfo], id: &str) -> Option<&'s SiteInfo> {
    sites.iter().find(|s| s.id == id)
}

/// `jp-hq (Tokyo headquarters, JP)` when the site is known, else the id.
pub(crate) fn site_label(sites: &[SiteInfo], id: &str) -> String {
    match site_info(sites, id) {
        Some(s) if !s.name.is_empty() && !s.country.is_empty() => {
            format!("{} ({}, {})", s.id, s.name, s.country)
        }
        Some(s) if !s.name.is_empty() => format!("{} ({})", s.id, s.name),
        Some(s) if !s.country.is_empty() => format!("{} ({})", s.id, s.country),
        _ => id.to_string(),
    }
}

/// Application context of an alert on one line: `users: …; client hosts: …; shares: …`.
pub(crate) fn context_line(x: &Alert) -> String {
    let c = &x.context;
    let mut parts = Vec::new();
    for (label, list) in [
        ("users", &c.users),
        ("client hosts", &c.client_hosts),
        ("shares", &c.shares),
        ("files", &c.files),
        ("operations", &c.operations),
    ] {
        if !list.is_empty() {
            parts.push(format!("{label}: {}", list.join(", ")));
        }
    }
    match c.auth_success {
        Some(true) => parts.push("authentication succeeded".into()),
        Some(false) => parts.push("authentication failed".into()),
        None => {}
    }
    parts.join("; ")
}

/// Distinct sensor names over an alert's evidence, in first-seen order.
pub(crate) fn sensors(x: &Alert) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for e in &x.evidence {
        if !out.contains(&&*e.sensor) {
            out.push(&e.sensor);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_bytes_are_formatted_for_readers() {
        assert_eq!(fmt_count(0), "0");
        assert_eq!(fmt_count(999), "999");
        assert_eq!(fmt_count(1000), "1,000");
        assert_eq!(fmt_count(1_234_567), "1,234,567");
        assert_eq!(fmt_bytes(999), "999 B");
        assert_eq!(fmt_bytes(1_240_000), "1.24 MB");
        assert_eq!(fmt_bytes(48_000_000_000), "48.0 GB");
        assert_eq!(fmt_bytes(999_999), "1.00 MB");
        assert_eq!(fmt_bytes(u64::MAX), "18.4 EB");
        assert_eq!(fmt_bytes_exact(1_240_000), "1.24 MB (1,240,000 bytes)");
    }

    #[test]
    fn an_alert_on_one_host_is_not_shown_as_a_crossing() {
        let host = AlertEndpoint {
            ip: Some("10.10.5.10".parse().unwrap()),
            site: Some("jp-hq".into()),
            asset: Some("jp-fs01".into()),
            country: Some("JP".into()),
        };
        assert_eq!(
            crossing_label(&host, &host),
            "on jp-hq/jp-fs01 (10.10.5.10)"
        );
        let src = AlertEndpoint {
            ip: Some("10.20.3.4".parse().unwrap()),
            site: Some("th-bkk".into()),
            ..AlertEndpoint::default()
        };
        assert_eq!(
            crossing_label(&src, &host),
            "th-bkk/10.20.3.4 → jp-hq/jp-fs01 (10.10.5.10)"
        );
    }

    #[test]
    fn times_are_utc_to_the_second() {
        let ts = Timestamp::parse_rfc3339("2024-03-04T02:13:05.987654Z").unwrap();
        assert_eq!(fmt_ts(ts), "2024-03-04 02:13:05");
    }
}
