//! Attestation: "was there any unauthorized access in this period and scope?", answered from
//! the evidence store with the violations found (zero is a result) and the *coverage* that
//! backs the answer: for each sensor and site, the intervals with data and the gaps longer
//! than a threshold, so that "none" is only claimed for the time that was watched.
//!
//! The answer carries the store's chain head, so a report can be checked later against the
//! evidence it was drawn from (`sekisho verify`).
//!
//! Depends on the store and the model; must not depend on the detectors or a query engine.
//!
//! ```
//! use sekisho_attest::{covered_intervals, gaps};
//! const MIN: i64 = 60_000_000;
//! // Data in minutes 0-1 and 5; gaps of up to 2 minutes are bridged.
//! let seen = [true, true, false, false, false, true, false, false, false, false];
//! let iv = covered_intervals(&seen, 0, MIN, 2 * MIN);
//! assert_eq!(iv, vec![(0, 2 * MIN), (5 * MIN, 6 * MIN)]);
//! assert_eq!(gaps(&iv, 0, 10 * MIN, 2 * MIN), vec![(2 * MIN, 5 * MIN), (6 * MIN, 10 * MIN)]);
//! ```

mod html;

pub use html::html;

use sekisho_event::Timestamp;
use sekisho_model::Org;
use sekisho_store::{Scan, Store, StoreError, Table};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Most time buckets kept per sensor; longer periods use coarser buckets.
pub const MAX_BUCKETS: usize = 1 << 20;
/// The finest bucket: one minute.
pub const BUCKET_US: i64 = 60_000_000;

/// What to attest.
#[derive(Clone, Debug)]
pub struct Scope {
    /// Start (inclusive), µs since the epoch.
    pub from: i64,
    /// End (exclusive).
    pub to: i64,
    /// Source sites in scope (`None`: every site and the outside).
    pub from_sites: Option<BTreeSet<String>>,
    /// Destination site in scope (`None`: anywhere).
    pub to_site: Option<String>,
    /// Silences longer than this are gaps in coverage.
    pub max_gap_us: i64,
}

/// A time interval, `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Interval {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Interval {
    fn of((s, e): (i64, i64)) -> Self {
        Self {
            start: Timestamp::from_micros(s),
            end: Timestamp::from_micros(e),
        }
    }

    pub fn micros(&self) -> i64 {
        self.end.as_micros() - self.start.as_micros()
    }
}

/// Coverage of one sensor or site over the period.
#[derive(Clone, Debug, Serialize)]
pub struct Coverage {
    pub name: String,
    /// Sites a sensor watches, or the sensors watching a site.
    pub related: Vec<String>,
    /// Intervals with data (silences up to the threshold bridged).
    pub watched: Vec<Interval>,
    /// Silences longer than the threshold.
    pub gaps: Vec<Interval>,
    /// Fraction of the period watched, 0 to 1.
    pub watched_fraction: f64,
}

/// Flows the policy (as it stood at ingest) denies or flags, grouped.
#[derive(Clone, Debug, Serialize)]
pub struct FlowViolation {
    pub src_site: Option<String>,
    pub dst_site: Option<String>,
    pub service: String,
    pub action: String,
    pub rule: Option<String>,
    pub flows: u64,
    pub bytes: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

/// An alert in scope, as the report lists it.
#[derive(Clone, Debug, Serialize)]
pub struct AlertLine {
    pub id: String,
    pub detector: String,
    pub severity: String,
    pub ts: Timestamp,
    pub src_ip: Option<String>,
    pub src_site: Option<String>,
    pub dst_ip: Option<String>,
    pub dst_site: Option<String>,
    pub service: String,
    pub rule: Option<String>,
    pub summary: String,
    pub incident: Option<String>,
}

/// One host's event log over the period, as its continuity check saw it (from
/// `sekisho-hostlog`'s log continuity, converted by the caller).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostLog {
    pub host: String,
    pub channel: String,
    pub records: u64,
    pub first_ts: Timestamp,
    pub last_ts: Timestamp,
    /// No record-id gap, no time gap over the threshold, no clear.
    pub continuous: bool,
    /// The log's first and last records bracket the whole period.
    pub spans_period: bool,
    /// `continuous from T0 to T1`, or the breaks.
    pub summary: String,
}

impl HostLog {
    /// Whether this log backs "no trace" for the whole period.
    pub fn holds(&self) -> bool {
        self.continuous && self.spans_period
    }
}

/// The answer.
#[derive(Clone, Debug, Serialize)]
pub struct Attestation {
    pub from: Timestamp,
    pub to: Timestamp,
    pub from_sites: Option<Vec<String>>,
    pub to_site: Option<String>,
    pub max_gap_minutes: i64,
    /// The store's chain head when the attestation was drawn.
    pub chain_head: String,
    /// Policy alerts (`policy-deny`, `policy-alert`) in scope.
    pub violations: Vec<AlertLine>,
    /// Every other alert in scope.
    pub alerts: Vec<AlertLine>,
    /// Stored flows in scope that the policy denies or flags.
    pub flow_violations: Vec<FlowViolation>,
    pub sensors: Vec<Coverage>,
    pub sites: Vec<Coverage>,
    /// Flows in the store within the period (all sites).
    pub flows_in_period: u64,
    /// Host event logs given with the attestation (`--host-logs`), whose continuity says
    /// whether the hosts' own record can back the claim; empty when none were given.
    pub host_logs: Vec<HostLog>,
    /// True when nothing in scope was found.
    pub none_found: bool,
    /// The sentence a reader takes away.
    pub claim: String,
}

impl Attestation {
    /// Adds host logs and says in the claim which of them do not back it: a log with
    /// breaks (missing records, silences, a clear) or that does not span the period.
    pub fn add_host_logs(&mut self, mut logs: Vec<HostLog>) {
        logs.sort_by(|a, b| (&a.host, &a.channel).cmp(&(&b.host, &b.channel)));
        let failing: Vec<String> = logs
            .iter()
            .filter(|l| !l.holds())
            .map(|l| {
                let why = if l.continuous {
                    format!("covers only {} to {}", l.first_ts, l.last_ts)
                } else {
                    l.summary.clone()
                };
                format!("{} {} ({why})", l.host, l.channel)
            })
            .collect();
        if !logs.is_empty() {
            self.claim.push_str(&if failing.is_empty() {
                format!(
                    " The {} host event logs given are continuous over the period.",
                    logs.len()
                )
            } else {
                format!(
                    " {} of {} host event logs do not back it: {}.",
                    failing.len(),
                    logs.len(),
                    failing.join("; ")
                )
            });
        }
        self.host_logs = logs;
    }
}

/// (source site, destination site, service, action, rule) of denied or flagged flows.
type GroupKey = (
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
);

/// Draws an attestation from the store.
pub fn attest(store: &Store, org: &Org, scope: &Scope) -> Result<Attestation, StoreError> {
    let period = Scan {
        from: Some(scope.from),
        to: Some(scope.to),
        sites: None,
    };
    let span = (scope.to - scope.from).max(1);
    let bucket = BUCKET_US.max(span.div_euclid(MAX_BUCKETS as i64) + 1);
    let n_buckets = usize::try_from(span.div_euclid(bucket) + 1).unwrap_or(MAX_BUCKETS);
    let mut seen: HashMap<String, Vec<bool>> = HashMap::new();
    let mut sensor_sites: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut groups: BTreeMap<GroupKey, FlowViolation> = BTreeMap::new();
    let in_from = |site: Option<&str>| match &scope.from_sites {
        None => true,
        Some(set) => site.is_some_and(|s| set.contains(s)),
    };
    let mut flows_in_period = 0u64;
    for seg in store.segments(Table::Flows, &period) {
        let cols = [
            "ts",
            "sensor",
            "src_site",
            "dst_site",
            "service",
            "policy_action",
            "policy_rule",
            "orig_bytes",
            "resp_bytes",
        ];
        for batch in store.read_segment(seg, &cols)? {
            let view = sekisho_store::BatchView::new(&batch)?;
            for i in 0..batch.num_rows() {
                let ts = view.ts(i);
                if ts < scope.from || ts >= scope.to {
                    continue;
                }
                flows_in_period += 1;
                let sensor = view.text("sensor", i).unwrap_or_default();
                let b = usize::try_from((ts - scope.from) / bucket).unwrap_or(0);
                let slots = match seen.get_mut(sensor) {
                    Some(s) => s,
                    None => seen
                        .entry(sensor.to_string())
                        .or_insert_with(|| vec![false; n_buckets]),
                };
                if let Some(slot) = slots.get_mut(b) {
                    *slot = true;
                }
                if !sensor_sites
                    .get(sensor)
                    .is_some_and(|s| s.contains(&seg.site))
                {
                    sensor_sites
                        .entry(sensor.to_string())
                        .or_default()
                        .insert(seg.site.clone());
                }
                let action = view.text("policy_action", i).unwrap_or_default();
                if action == "allow" {
                    continue;
                }
                let src = view.text("src_site", i);
                let dst = view.text("dst_site", i);
                if !in_from(src) || scope.to_site.as_deref().is_some_and(|t| dst != Some(t)) {
                    continue;
                }
                let key = (
                    src.map(str::to_string),
                    dst.map(str::to_string),
                    view.text("service", i).unwrap_or_default().to_string(),
                    action.to_string(),
                    view.text("policy_rule", i).map(str::to_string),
                );
                let bytes = view
                    .u64("orig_bytes", i)
                    .saturating_add(view.u64("resp_bytes", i));
                let t = Timestamp::from_micros(ts);
                let g = groups.entry(key.clone()).or_insert_with(|| FlowViolation {
                    src_site: key.0,
                    dst_site: key.1,
                    service: key.2,
                    action: key.3,
                    rule: key.4,
                    flows: 0,
                    bytes: 0,
                    first_seen: t,
                    last_seen: t,
                });
                g.flows += 1;
                g.bytes = g.bytes.saturating_add(bytes);
                g.first_seen = g.first_seen.min(t);
                g.last_seen = g.last_seen.max(t);
            }
        }
    }

    // Sensors: those the org declares, with the sites it says they watch, and any other
    // sensor that sent data, with the sites its flows came from.
    let mut watch: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in &org.sensors {
        watch
            .entry(s.name.clone())
            .or_default()
            .extend(s.sites.iter().map(|id| org.site(*id).id.clone()));
    }
    for (sensor, sites) in sensor_sites {
        watch.entry(sensor).or_insert(sites);
    }
    let mut sensor_iv: BTreeMap<&str, Vec<(i64, i64)>> = BTreeMap::new();
    let mut sensors = Vec::new();
    for (name, sites) in &watch {
        let iv = seen
            .get(name)
            .map(|s| covered_intervals(s, scope.from, bucket, scope.max_gap_us))
            .unwrap_or_default();
        let iv: Vec<(i64, i64)> = iv.into_iter().map(|(s, e)| (s, e.min(scope.to))).collect();
        sensors.push(coverage(name, sites.iter().cloned().collect(), &iv, scope));
        sensor_iv.insert(name, iv);
    }
    let mut sites = Vec::new();
    for site in &org.sites {
        let watchers: Vec<&str> = watch
            .iter()
            .filter(|(_, s)| s.contains(&site.id))
            .map(|(n, _)| n.as_str())
            .collect();
        let mut all: Vec<(i64, i64)> = watchers
            .iter()
            .flat_map(|w| sensor_iv.get(w).cloned().unwrap_or_default())
            .collect();
        let merged = union(&mut all);
        sites.push(coverage(
            &site.id,
            watchers.iter().map(|s| s.to_string()).collect(),
            &merged,
            scope,
        ));
    }

    let mut violations = Vec::new();
    let mut alerts = Vec::new();
    for s in store.alerts(&period)? {
        let a = &s.alert;
        if !in_from(a.src.site.as_deref())
            || scope
                .to_site
                .as_deref()
                .is_some_and(|t| a.dst.site.as_deref() != Some(t))
        {
            continue;
        }
        let line = AlertLine {
            id: a.id.clone(),
            detector: a.detector.clone(),
            severity: a.severity.as_str().to_string(),
            ts: a.ts,
            src_ip: a.src.ip.map(|ip| ip.to_string()),
            src_site: a.src.site.clone(),
            dst_ip: a.dst.ip.map(|ip| ip.to_string()),
            dst_site: a.dst.site.clone(),
            service: a.service.as_str().to_string(),
            rule: a.rule.clone(),
            summary: a.summary.clone(),
            incident: s.incident.clone(),
        };
        if a.detector.starts_with("policy-") {
            violations.push(line);
        } else {
            alerts.push(line);
        }
    }
    let flow_violations: Vec<FlowViolation> = groups.into_values().collect();
    let none_found = violations.is_empty() && alerts.is_empty() && flow_violations.is_empty();
    let mut att = Attestation {
        from: Timestamp::from_micros(scope.from),
        to: Timestamp::from_micros(scope.to),
        from_sites: scope
            .from_sites
            .as_ref()
            .map(|s| s.iter().cloned().collect()),
        to_site: scope.to_site.clone(),
        max_gap_minutes: scope.max_gap_us / 60_000_000,
        chain_head: store.chain_head(),
        violations,
        alerts,
        flow_violations,
        sensors,
        sites,
        flows_in_period,
        host_logs: Vec::new(),
        none_found,
        claim: String::new(),
    };
    att.claim = claim(&att);
    Ok(att)
}

fn coverage(name: &str, related: Vec<String>, iv: &[(i64, i64)], scope: &Scope) -> Coverage {
    let watched_us: i64 = iv.iter().map(|(s, e)| e - s).sum();
    Coverage {
        name: name.to_string(),
        related,
        watched: iv.iter().copied().map(Interval::of).collect(),
        gaps: gaps(iv, scope.from, scope.to, scope.max_gap_us)
            .into_iter()
            .map(Interval::of)
            .collect(),
        watched_fraction: watched_us as f64 / (scope.to - scope.from).max(1) as f64,
    }
}

/// Intervals with data from per-bucket flags: runs of buckets with data, joined across
/// silences of at most `max_gap` (µs). Bucket `i` covers `[from + i*bucket, from + (i+1)*bucket)`.
pub fn covered_intervals(seen: &[bool], from: i64, bucket: i64, max_gap: i64) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (i, _) in seen.iter().enumerate().filter(|(_, s)| **s) {
        let start = from + i as i64 * bucket;
        let end = start + bucket;
        match out.last_mut() {
            Some(last) if start - last.1 <= max_gap => last.1 = end,
            _ => out.push((start, end)),
        }
    }
    out
}

/// The silences longer than `max_gap` within `[from, to)` around sorted, disjoint intervals.
pub fn gaps(iv: &[(i64, i64)], from: i64, to: i64, max_gap: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut cursor = from;
    for &(s, e) in iv {
        if s - cursor > max_gap {
            out.push((cursor, s));
        }
        cursor = cursor.max(e);
    }
    if to - cursor > max_gap {
        out.push((cursor, to));
    }
    out
}

/// Sorted, merged union of intervals.
fn union(iv: &mut [(i64, i64)]) -> Vec<(i64, i64)> {
    iv.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for &(s, e) in iv.iter() {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn claim(a: &Attestation) -> String {
    let scope = match (&a.from_sites, &a.to_site) {
        (Some(f), Some(t)) => format!("from {} to {t}", f.join(", ")),
        (Some(f), None) => format!("from {}", f.join(", ")),
        (None, Some(t)) => format!("to {t}"),
        (None, None) => "anywhere".to_string(),
    };
    if !a.none_found {
        return format!(
            "Unauthorized access {scope} between {} and {}: {} policy violation alerts, {} other alerts, {} flows the policy denies or flags.",
            a.from,
            a.to,
            a.violations.len(),
            a.alerts.len(),
            a.flow_violations.iter().map(|v| v.flows).sum::<u64>()
        );
    }
    let in_scope: Vec<&Coverage> = a
        .sites
        .iter()
        .filter(|s| a.from_sites.as_ref().is_none_or(|f| f.contains(&s.name)))
        .collect();
    let unwatched: Vec<String> = in_scope
        .iter()
        .filter(|s| !s.gaps.is_empty())
        .map(|s| {
            let missing: i64 = s.gaps.iter().map(Interval::micros).sum();
            format!("{} ({} h not watched)", s.name, missing / 3_600_000_000)
        })
        .collect();
    if unwatched.is_empty() {
        format!(
            "No unauthorized access {scope} between {} and {}, and every site in scope was watched throughout.",
            a.from, a.to
        )
    } else {
        format!(
            "No unauthorized access {scope} seen between {} and {} in the time that was watched; the claim does not cover the gaps of {}.",
            a.from,
            a.to,
            unwatched.join(", ")
        )
    }
}

/// Terminal text of an attestation.
pub fn text(a: &Attestation) -> String {
    use sekisho_report::sanitize_terminal as t;
    let mut s = format!("{}\n\n", t(&a.claim));
    s += &format!("period: {} to {}\n", a.from, a.to);
    s += &format!("chain head: {}\n", a.chain_head);
    s += &format!("flows in the period: {}\n\n", a.flows_in_period);
    s += &format!("policy violations: {}\n", a.violations.len());
    for v in &a.violations {
        s += &format!(
            "  {} {} {} {} -> {} {} {}\n",
            v.ts,
            t(&v.detector),
            t(v.src_ip.as_deref().unwrap_or("-")),
            t(v.src_site.as_deref().unwrap_or("external")),
            t(v.dst_site.as_deref().unwrap_or("external")),
            t(&v.service),
            t(v.rule.as_deref().unwrap_or("(default)"))
        );
    }
    s += &format!("other alerts: {}\n", a.alerts.len());
    for v in &a.alerts {
        s += &format!("  {} {} {}\n", v.ts, t(&v.detector), t(&v.summary));
    }
    s += &format!(
        "flows the policy denies or flags: {}\n",
        a.flow_violations.len()
    );
    for v in &a.flow_violations {
        s += &format!(
            "  {} {} -> {} {} {}: {} flows, {} bytes, {} to {}\n",
            t(&v.action),
            t(v.src_site.as_deref().unwrap_or("external")),
            t(v.dst_site.as_deref().unwrap_or("external")),
            t(&v.service),
            t(v.rule.as_deref().unwrap_or("(default)")),
            v.flows,
            v.bytes,
            v.first_seen,
            v.last_seen
        );
    }
    s += &format!("\ncoverage (gaps longer than {} min):\n", a.max_gap_minutes);
    for c in a.sites.iter().chain(&a.sensors) {
        s += &format!(
            "  {:<24} {:>6.2}% watched, {} gaps",
            t(&c.name),
            c.watched_fraction * 100.0,
            c.gaps.len()
        );
        for g in c.gaps.iter().take(3) {
            s += &format!("  [{} .. {}]", g.start, g.end);
        }
        s += "\n";
    }
    if !a.host_logs.is_empty() {
        s += "\nhost event logs:\n";
        for l in &a.host_logs {
            s += &format!(
                "  {:<5} {} {}: {} records, {}\n",
                if l.holds() { "ok" } else { "NOT" },
                t(&l.host),
                t(&l.channel),
                l.records,
                t(&l.summary)
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    fn clean() -> Attestation {
        Attestation {
            from: ts("2024-07-07T00:00:00Z"),
            to: ts("2024-08-01T00:00:00Z"),
            from_sites: None,
            to_site: None,
            max_gap_minutes: 60,
            chain_head: "00".into(),
            violations: Vec::new(),
            alerts: Vec::new(),
            flow_violations: Vec::new(),
            sensors: Vec::new(),
            sites: Vec::new(),
            flows_in_period: 10,
            host_logs: Vec::new(),
            none_found: true,
            claim: "No unauthorized access anywhere.".into(),
        }
    }

    fn log(host: &str, continuous: bool, first: &str, last: &str) -> HostLog {
        HostLog {
            host: host.into(),
            channel: "Security".into(),
            records: 100,
            first_ts: ts(first),
            last_ts: ts(last),
            continuous,
            spans_period: ts(first) <= ts("2024-07-07T00:00:00Z")
                && ts(last) >= ts("2024-08-01T00:00:00Z"),
            summary: if continuous {
                "continuous".into()
            } else {
                "1 break(s): cleared at 2024-07-10".into()
            },
        }
    }

    #[test]
    fn host_logs_that_do_not_back_the_claim_are_named_in_it() {
        let mut a = clean();
        a.add_host_logs(vec![
            log("DC1", true, "2024-07-01T00:00:00Z", "2024-08-02T00:00:00Z"),
            log("FS1", false, "2024-07-01T00:00:00Z", "2024-08-02T00:00:00Z"),
            log("WS9", true, "2024-07-20T00:00:00Z", "2024-08-02T00:00:00Z"),
        ]);
        assert!(a.claim.starts_with("No unauthorized access anywhere."));
        assert!(
            a.claim.contains("2 of 3 host event logs do not back it"),
            "{}",
            a.claim
        );
        assert!(
            a.claim
                .contains("FS1 Security (1 break(s): cleared at 2024-07-10)")
        );
        assert!(a.claim.contains("WS9 Security (covers only 2024-07-20"));
        assert!(!a.claim.contains("DC1"));
        // A clear or a short log does not turn "none found" into "found": it limits the claim.
        assert!(a.none_found);
        let text = text(&a);
        assert!(text.contains("ok    DC1 Security"));
        assert!(text.contains("NOT   FS1 Security"));
        let page = html(&a);
        assert!(page.contains("<h2>Host event logs (3)</h2>"));
    }

    #[test]
    fn continuous_host_logs_say_so_and_names_are_escaped() {
        let mut a = clean();
        a.add_host_logs(vec![log(
            "<script>x</script>",
            true,
            "2024-07-01T00:00:00Z",
            "2024-08-02T00:00:00Z",
        )]);
        assert!(
            a.claim
                .ends_with("The 1 host event logs given are continuous over the period.")
        );
        let page = html(&a);
        assert!(!page.contains("<script>x"));
        assert!(page.contains("&lt;script&gt;x"));
    }
}
