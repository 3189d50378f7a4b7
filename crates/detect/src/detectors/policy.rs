//! `policy-deny` and `policy-alert`: flows the access policy denies, or asks to be told about.
//!
//! **What it does.** Reports every flow whose policy verdict is `deny` (`policy-deny`) or
//! `alert` (`policy-alert`), naming the rule that decided (or `cross-site default` when no
//! rule matched a cross-site flow). Repeats are aggregated: one alert per (source address,
//! destination address, service, rule) per UTC clock hour. The first flow opens it, later
//! ones add to its counts and evidence, and it is emitted when the hour has closed (plus
//! `limits.reorder_slack_minutes` for late records) or at the end of the input. In a live
//! run (`sekisho serve`) the alert is emitted at the first flow instead, and repeats within
//! the hour are suppressed.
//!
//! **Why it matters.** In the breach that shaped sekisho, a host in the Thai office reached a
//! server at headquarters over the WAN; a rule "no overseas admin access to HQ servers" makes
//! that the alert the minute it happens, with the rule's name in it.
//!
//! **Example.** `th-bkk 10.20.3.4 → jp-hq jp-fs01 (10.10.5.10) over rdp, denied by rule "no
//! overseas admin access to HQ servers"` (severity: the rule's, `high` by default for deny).
//! A flow between sites that no rule allows, with `cross_site_default = "alert"`, gives a
//! `policy-alert` of severity `low` (it only means "no rule allowed it").
//!
//! **Known false positives.** Whatever the policy gets wrong: a new legitimate path nobody
//! wrote a rule for (the cross-site default fires until one is written), and a deny rule
//! that the firewall already enforces (the alert then means "someone tried").
//!
//! **ATT&CK.** T1021 (Remote Services, with the sub-technique of the service) for admin
//! services; T1133 (External Remote Services) for other services coming in from outside;
//! none otherwise.

use crate::bounded::{BoundedMap, cap, caps, ip_key};
use crate::common::{
    Watermark, add_flow_earliest, describe, emit_sorted, finalize, merge_context, minutes,
    remote_services_attack,
};
use crate::{AlertSink, Detector, DetectorSpec, DetectorStats, FlowView};
use sekisho_event::{Alert, Service, Severity, Timestamp};
use sekisho_model::{Action, Direction, Org};

/// `policy-deny`.
pub static DENY: DetectorSpec = DetectorSpec {
    id: "policy-deny",
    title: "a flow the access policy denies",
    attack: Some("T1021"),
    build: build_deny,
};

/// `policy-alert`.
pub static ALERT: DetectorSpec = DetectorSpec {
    id: "policy-alert",
    title: "a flow the access policy flags (an alert rule, or the cross-site default)",
    attack: Some("T1021"),
    build: build_alert,
};

fn build_deny(org: &Org) -> Option<Box<dyn Detector + '_>> {
    Some(Box::new(PolicyHits::new(org, Action::Deny)))
}

fn build_alert(org: &Org) -> Option<Box<dyn Detector + '_>> {
    Some(Box::new(PolicyHits::new(org, Action::Alert)))
}

/// Rule name used when the cross-site default decided.
pub const DEFAULT_RULE: &str = "cross-site default";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: u128,
    dst: u128,
    hour: i64,
    rule: Option<u16>,
    service: Service,
}

#[derive(Debug)]
struct PolicyHits<'o> {
    org: &'o Org,
    action: Action,
    id: &'static str,
    open: BoundedMap<Key, Box<Alert>>,
    clock: Watermark,
    slack: i64,
}

impl<'o> PolicyHits<'o> {
    fn new(org: &'o Org, action: Action) -> Self {
        let limits = &org.detectors.limits;
        Self {
            org,
            action,
            id: if action == Action::Deny {
                DENY.id
            } else {
                ALERT.id
            },
            // Each open aggregate is an alert in waiting; when the table is full the oldest
            // are emitted early (an hour's flows then make two alerts, nothing is lost).
            open: BoundedMap::new(cap(
                limits.max_tracked_keys,
                caps::OPEN_ALERTS.min(limits.max_alerts.max(1)),
            )),
            clock: Watermark::new(),
            slack: minutes(limits.reorder_slack_minutes),
        }
    }

    fn new_alert(&self, view: &FlowView<'_>) -> Alert {
        let (org, f, e) = (self.org, view.flow, view.enriched);
        let src = describe(org, f.orig_ip, e.src);
        let dst = describe(org, f.resp_ip, e.dst);
        let verb = if self.action == Action::Deny {
            "denied"
        } else {
            "flagged"
        };
        let (rule, severity, summary) = match e.verdict.rule.and_then(|i| {
            org.policy
                .rules()
                .get(i as usize)
                .map(|r| (r.name.as_str(), r.severity))
        }) {
            Some((name, sev)) => (
                name.to_string(),
                sev,
                format!(
                    "{src} → {dst} over {}, {verb} by rule \"{name}\"",
                    f.service
                ),
            ),
            None => (
                DEFAULT_RULE.to_string(),
                Severity::Low,
                format!(
                    "{src} → {dst} over {}, {verb} by the cross-site default: no rule allows it",
                    f.service
                ),
            ),
        };
        let mut a = Alert::for_flow(
            self.id,
            severity,
            f,
            org.endpoint(Some(f.orig_ip), e.src),
            org.endpoint(Some(f.resp_ip), e.dst),
            summary,
        );
        a.rule = Some(rule);
        a.attack = if f.service.is_admin() {
            Some(remote_services_attack(f.service).to_string())
        } else if e.direction == Direction::Inbound {
            Some("T1133".to_string())
        } else {
            None
        };
        merge_context(&mut a, view.context);
        a
    }

    /// Emits aggregates whose hour closed more than the slack ago.
    fn sweep(&mut self, out: &mut AlertSink) {
        let now = self.clock.now;
        let closed_before = now.saturating_sub(self.slack).div_euclid(Timestamp::HOUR);
        let mut done: Vec<Alert> = self
            .open
            .extract(|k, _| k.hour < closed_before)
            .into_iter()
            .map(|(_, a)| *a)
            .collect();
        if !out.is_live() {
            emit(&mut done, out);
        }
        self.clock.sweep_at(
            (closed_before + 1)
                .saturating_mul(Timestamp::HOUR)
                .saturating_add(self.slack),
        );
    }
}

fn close(alert: &mut Alert) {
    if alert.flow_count > 1 {
        alert
            .summary
            .push_str(&format!(" ({} flows within the hour)", alert.flow_count));
    }
}

fn emit(alerts: &mut Vec<Alert>, out: &mut AlertSink) {
    for a in alerts.iter_mut() {
        close(a);
    }
    emit_sorted(alerts, out);
}

impl Detector for PolicyHits<'_> {
    fn id(&self) -> &'static str {
        self.id
    }

    #[inline]
    fn on_flow(&mut self, view: &FlowView<'_>, out: &mut AlertSink) {
        let ts = view.flow.ts.as_micros();
        if self.clock.advance(ts) {
            self.sweep(out);
        }
        let e = view.enriched;
        if e.verdict.action != self.action {
            return;
        }
        let f = view.flow;
        let key = Key {
            src: ip_key(f.orig_ip),
            dst: ip_key(f.resp_ip),
            hour: ts.div_euclid(Timestamp::HOUR),
            rule: e.verdict.rule,
            service: f.service,
        };
        if let Some(a) = self.open.get_mut(&key) {
            add_flow_earliest(a, f);
            merge_context(a, view.context);
            return;
        }
        let alert = Box::new(self.new_alert(view));
        if out.is_live() {
            // Live: the crossing is reported now; repeats within the hour only add to the
            // aggregate kept for suppression.
            let mut now = (*alert).clone();
            finalize(&mut now);
            out.push(now);
        }
        let live = out.is_live();
        // A full table hands back its oldest aggregates: they are emitted early, not lost.
        self.open.entry_with(
            key,
            || alert,
            |_, mut a| {
                if !live {
                    close(&mut a);
                    finalize(&mut a);
                    out.push(*a);
                }
            },
        );
    }

    fn finish(&mut self, out: &mut AlertSink) {
        let mut done: Vec<Alert> = self.open.drain().into_iter().map(|(_, a)| *a).collect();
        if !out.is_live() {
            emit(&mut done, out);
        }
    }

    fn stats(&self) -> DetectorStats {
        let mut s = DetectorStats::default();
        s.add(&self.open);
        s
    }
}
