//! Small helpers shared by detectors: naming endpoints in summaries, ATT&CK ids per
//! service, time formatting, and building alerts from stored evidence.

use sekisho_event::{
    Alert, AlertEndpoint, AppContext, ConnState, Evidence, Flow, Service, Severity, Timestamp,
};
use sekisho_model::{Location, Org};
use std::fmt::Write;
use std::net::IpAddr;

/// "th-bkk 10.20.3.4", "jp-hq jp-fs01 (10.10.5.10)", "external 203.0.113.9".
pub(crate) fn describe(org: &Org, ip: IpAddr, loc: Location) -> String {
    let mut s = String::with_capacity(40);
    match loc.site {
        Some(site) => s.push_str(&org.site(site).id),
        None => s.push_str("external"),
    }
    s.push(' ');
    match loc.asset {
        Some(a) => {
            let _ = write!(s, "{} ({ip})", org.asset(a).name);
        }
        None => {
            let _ = write!(s, "{ip}");
        }
    }
    s
}

/// "jp-fs01 (10.10.5.10)" or "10.10.7.7": a host inside a chain, without its site.
pub(crate) fn describe_short(org: &Org, ip: IpAddr, loc: Location) -> String {
    match loc.asset {
        Some(a) => format!("{} ({ip})", org.asset(a).name),
        None => ip.to_string(),
    }
}

/// ATT&CK technique for remote use of an admin service (T1021 and its sub-techniques).
pub(crate) fn remote_services_attack(service: Service) -> &'static str {
    match service {
        Service::Rdp => "T1021.001",
        Service::Smb => "T1021.002",
        Service::DceRpc => "T1021.003",
        Service::Ssh => "T1021.004",
        Service::Vnc => "T1021.005",
        Service::Winrm => "T1021.006",
        _ => "T1021",
    }
}

/// `2024-05-15T03:00:00Z`: an alert summary's time, to the second.
pub(crate) fn fmt_ts(ts: Timestamp) -> String {
    let mut s = ts.to_string();
    if let Some(dot) = s.find('.') {
        s.truncate(dot);
        s.push('Z');
    }
    s
}

/// `3h 10m`, `45m`, `2d 4h`, `30s`.
pub(crate) fn fmt_duration(micros: i64) -> String {
    let secs = micros.max(0) / Timestamp::SECOND;
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m"),
        (0, _, 0) => format!("{h}h"),
        (0, _, _) => format!("{h}h {m}m"),
        (_, 0, _) => format!("{d}d"),
        _ => format!("{d}d {h}h"),
    }
}

/// `1.2 GB`, `350 MB`, `12 kB`, `900 B` (decimal units).
pub(crate) fn fmt_bytes(b: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1_000_000_000_000, "TB"),
        (1_000_000_000, "GB"),
        (1_000_000, "MB"),
        (1_000, "kB"),
    ];
    for (size, unit) in UNITS {
        if b >= size {
            let v = b as f64 / size as f64;
            return if v < 10.0 {
                format!("{v:.1} {unit}")
            } else {
                format!("{v:.0} {unit}")
            };
        }
    }
    format!("{b} B")
}

/// A name from the input (a sensor's), made safe for a one-line summary: control
/// characters replaced, at most 64 characters.
pub(crate) fn clean_name(s: &str) -> String {
    s.chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// An alert over stored evidence (the flows themselves are gone), earliest evidence first.
/// Totals start from the evidence; callers overwrite them when they counted more flows.
pub(crate) fn alert_from_evidence(
    detector: &str,
    severity: Severity,
    mut evidence: Vec<Evidence>,
    src: AlertEndpoint,
    dst: AlertEndpoint,
    summary: String,
) -> Alert {
    evidence.sort_by_key(|a| (a.ts, a.uid));
    evidence.truncate(Alert::MAX_EVIDENCE);
    let first = evidence.first();
    let ts = first.map(|e| e.ts).unwrap_or_default();
    let last_ts = evidence.iter().map(|e| e.ts).max().unwrap_or(ts);
    Alert {
        id: String::new(),
        detector: detector.to_string(),
        severity,
        ts,
        last_ts,
        src,
        dst,
        service: first.map_or(Service::Other, |e| e.service),
        dst_port: first.map(|e| e.resp_port),
        rule: None,
        attack: None,
        summary,
        flow_count: evidence.len() as u64,
        bytes_out: evidence
            .iter()
            .fold(0u64, |a, e| a.saturating_add(e.orig_bytes)),
        bytes_in: evidence
            .iter()
            .fold(0u64, |a, e| a.saturating_add(e.resp_bytes)),
        related: Vec::new(),
        context: AppContext::default(),
        evidence,
    }
}

/// Merges a flow's application context into an alert's, when there is one.
#[inline]
pub(crate) fn merge_context(alert: &mut Alert, ctx: Option<&AppContext>) {
    if let Some(c) = ctx {
        alert.context.merge(c);
    }
}

/// True when the responder answered; a source that does not say (`Unknown`, NetFlow without
/// TCP flags) counts as established.
#[inline]
pub(crate) fn established(flow: &Flow) -> bool {
    flow.state.established() || flow.state == ConnState::Unknown
}

/// Stream time as the flows tell it: the latest start seen, and when the detector next
/// needs to look at its open windows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Watermark {
    pub now: i64,
    next_sweep: i64,
}

impl Watermark {
    pub fn new() -> Self {
        Self {
            now: i64::MIN,
            next_sweep: i64::MIN,
        }
    }

    /// Moves stream time to `ts` if later; `true` when a sweep is due.
    #[inline(always)]
    pub fn advance(&mut self, ts: i64) -> bool {
        if ts > self.now {
            self.now = ts;
            ts >= self.next_sweep
        } else {
            false
        }
    }

    /// The next sweep is due when stream time reaches `at`.
    pub fn sweep_at(&mut self, at: i64) {
        self.next_sweep = at;
    }

    /// A sweep is due no later than when stream time reaches `at`.
    pub fn sweep_before(&mut self, at: i64) {
        self.next_sweep = self.next_sweep.min(at);
    }
}

/// Puts alerts in the order they are emitted: time, detector, endpoints, then the rest, so
/// that equal alerts from any input order come out the same.
pub(crate) fn sort_alerts(alerts: &mut [Alert]) {
    alerts.sort_by(|a, b| {
        a.sort_key()
            .cmp(&b.sort_key())
            .then(a.service.cmp(&b.service))
            .then_with(|| a.summary.cmp(&b.summary))
            .then_with(|| a.last_ts.cmp(&b.last_ts))
    });
}

/// Adds a flow to an aggregate alert like [`Alert::add_flow`], but keeps the *earliest*
/// [`Alert::MAX_EVIDENCE`] flows by (time, uid) rather than the first to arrive, so that the
/// evidence does not depend on the order records came in.
pub(crate) fn add_flow_earliest(alert: &mut Alert, flow: &Flow) {
    alert.flow_count += 1;
    alert.bytes_out = alert.bytes_out.saturating_add(flow.orig_bytes);
    alert.bytes_in = alert.bytes_in.saturating_add(flow.resp_bytes);
    alert.ts = alert.ts.min(flow.ts);
    alert.last_ts = alert.last_ts.max(flow.ts);
    push_earliest(&mut alert.evidence, flow, Alert::MAX_EVIDENCE);
}

/// Keeps the `cap` earliest flows by (time, uid) in `evidence`.
pub(crate) fn push_earliest(evidence: &mut Vec<Evidence>, flow: &Flow, cap: usize) {
    if evidence.len() < cap {
        evidence.push(Evidence::from(flow));
        return;
    }
    let key = (flow.ts, flow.uid);
    if let Some((i, latest)) = evidence
        .iter()
        .enumerate()
        .max_by_key(|(_, e)| (e.ts, e.uid))
        && key < (latest.ts, latest.uid)
    {
        evidence[i] = Evidence::from(flow);
    }
}

/// Final touches before an alert leaves a detector: evidence earliest first and context
/// lists sorted, so the same flows in another order give the same alert.
pub(crate) fn finalize(alert: &mut Alert) {
    alert.evidence.sort_by_key(|a| (a.ts, a.uid, a.orig_port));
    let c = &mut alert.context;
    for list in [
        &mut c.users,
        &mut c.client_hosts,
        &mut c.shares,
        &mut c.files,
        &mut c.operations,
    ] {
        list.sort();
    }
}

/// Single-flow alerts held back for the reorder slack, so that the alert carries the
/// *earliest* flow of its key whatever order the records came in. Keyed by fingerprint.
#[derive(Debug)]
pub(crate) struct Pending {
    table: crate::bounded::BoundedMap<u64, Box<Alert>>,
    delay: i64,
}

impl Pending {
    pub fn new(cap: usize, delay: i64) -> Self {
        Self {
            table: crate::bounded::BoundedMap::new(cap),
            delay,
        }
    }

    /// True when an alert for `key` is waiting.
    #[inline]
    pub fn contains(&self, key: u64) -> bool {
        !self.table.is_empty() && self.table.contains_key(&key)
    }

    /// Offers the flow of `key`: opens the alert, or replaces the waiting one when this
    /// flow is earlier. A full table emits its oldest alerts at once.
    pub fn offer(
        &mut self,
        key: u64,
        flow: &Flow,
        make: impl FnOnce() -> Alert,
        out: &mut crate::AlertSink,
    ) {
        if let Some(a) = self.table.peek_mut(&key) {
            let first = a.evidence.first().map(|e| (e.ts, e.uid));
            if first.is_some_and(|f| (flow.ts, flow.uid) < f) {
                **a = make();
            }
            return;
        }
        self.table.entry_with(
            key,
            || Box::new(make()),
            |_, mut a| {
                finalize(&mut a);
                out.push(*a);
            },
        );
    }

    /// Emits the alerts whose slack has passed.
    pub fn sweep(&mut self, now: i64, out: &mut crate::AlertSink) {
        if self.table.is_empty() {
            return;
        }
        let delay = self.delay;
        let mut done: Vec<Alert> = self
            .table
            .extract(|_, a| a.ts.as_micros().saturating_add(delay) <= now)
            .into_iter()
            .map(|(_, a)| *a)
            .collect();
        emit_sorted(&mut done, out);
    }

    /// Emits everything still waiting.
    pub fn flush(&mut self, out: &mut crate::AlertSink) {
        let mut done: Vec<Alert> = self.table.drain().into_iter().map(|(_, a)| *a).collect();
        emit_sorted(&mut done, out);
    }

    pub fn table(&self) -> &crate::bounded::BoundedMap<u64, Box<Alert>> {
        &self.table
    }
}

/// Finalizes, sorts and emits alerts.
pub(crate) fn emit_sorted(alerts: &mut Vec<Alert>, out: &mut crate::AlertSink) {
    for a in alerts.iter_mut() {
        finalize(a);
    }
    sort_alerts(alerts);
    for a in alerts.drain(..) {
        out.push(a);
    }
}

/// Microseconds in `minutes` minutes.
#[inline]
pub(crate) fn minutes(m: u32) -> i64 {
    i64::from(m) * Timestamp::MINUTE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_read_like_a_human_wrote_them() {
        let m = Timestamp::MINUTE;
        assert_eq!(fmt_duration(190 * m), "3h 10m");
        assert_eq!(fmt_duration(45 * m), "45m");
        assert_eq!(fmt_duration(120 * m), "2h");
        assert_eq!(fmt_duration(52 * 60 * m), "2d 4h");
        assert_eq!(fmt_duration(30 * Timestamp::SECOND), "30s");
        assert_eq!(fmt_bytes(1_234_000_000), "1.2 GB");
        assert_eq!(fmt_bytes(350_000_000), "350 MB");
        assert_eq!(fmt_bytes(900), "900 B");
        assert_eq!(
            fmt_ts(Timestamp::from_micros(1_715_742_000_123_456)),
            "2024-05-15T03:00:00Z"
        );
        assert_eq!(clean_name("a\u{1b}[31mb"), "a?[31mb");
    }
}
