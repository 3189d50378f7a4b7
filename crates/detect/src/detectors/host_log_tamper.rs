//! `log-cleared` and `audit-policy-changed`: someone wiping or blinding a host's logs.
//!
//! **What it does.** Reports every event log clear (Security 1102, System 104, naming the
//! log and the account) as `high`, and every system audit policy change (4719) as `medium`.
//! One alert per (host, account, log or policy subcategory) per clock hour.
//!
//! **Why it matters.** The intruders in DESIGN.md's case left almost no host traces. A
//! clear or an audit policy that stops recording logons is how that happens; it also marks
//! the point from which the host's logs cannot be trusted (see the continuity check).
//!
//! **Example.** `PC01.example.corp: user01 cleared the Security log (1102)`.
//!
//! **Known false positives.** Administrators clearing full logs by hand; golden images
//! prepared with clean logs; GPO-driven audit policy changes (4719 on every host at once).
//!
//! **ATT&CK.** T1070.001 (Clear Windows Event Logs); T1562.002 (Disable Windows Event
//! Logging) for audit policy changes.

use crate::common::clean_name;
use crate::host::{Hourly, Key, on_host_alert, place_host};
use crate::{AlertSink, DetectorStats, HostDetector, HostDetectorSpec};
use sekisho_event::{HostEvent, HostEventKind, Severity};
use sekisho_model::Org;

/// `log-cleared`.
pub static CLEARED: HostDetectorSpec = HostDetectorSpec {
    id: "log-cleared",
    title: "an event log was cleared (1102, 104)",
    attack: Some("T1070.001"),
    build: build_cleared,
};

/// `audit-policy-changed`.
pub static AUDIT_POLICY: HostDetectorSpec = HostDetectorSpec {
    id: "audit-policy-changed",
    title: "the system audit policy was changed (4719)",
    attack: Some("T1562.002"),
    build: build_audit,
};

fn build_cleared(org: &Org) -> Option<Box<dyn HostDetector + '_>> {
    Some(Box::new(Tamper {
        org,
        kind: HostEventKind::LogCleared,
        open: Hourly::new(org),
    }))
}

fn build_audit(org: &Org) -> Option<Box<dyn HostDetector + '_>> {
    Some(Box::new(Tamper {
        org,
        kind: HostEventKind::AuditPolicyChanged,
        open: Hourly::new(org),
    }))
}

#[derive(Debug)]
struct Tamper<'o> {
    org: &'o Org,
    kind: HostEventKind,
    open: Hourly,
}

impl HostDetector for Tamper<'_> {
    fn id(&self) -> &'static str {
        if self.kind == HostEventKind::LogCleared {
            CLEARED.id
        } else {
            AUDIT_POLICY.id
        }
    }

    fn on_host_event(&mut self, e: &HostEvent, out: &mut AlertSink) {
        self.open.advance(e.ts, out);
        if e.kind != self.kind {
            return;
        }
        let org = self.org;
        let cleared = self.kind == HostEventKind::LogCleared;
        let key = Key::new(0x636c_7272)
            .str(e.host.as_deref())
            .str(e.user.as_deref())
            .str(e.object.as_deref());
        self.open.add(
            key,
            e.ts,
            || {
                let host = place_host(org, e.host.as_deref(), None);
                let who = e
                    .user
                    .as_deref()
                    .map(clean_name)
                    .unwrap_or_else(|| "someone".into());
                let id = e.event_id.map(|i| format!(" ({i})")).unwrap_or_default();
                let object = e.object.as_deref().map(clean_name);
                let (det, severity, what, attack) = if cleared {
                    (
                        CLEARED.id,
                        Severity::High,
                        format!(
                            "{who} cleared the {} log{id}",
                            object.as_deref().unwrap_or("event")
                        ),
                        "T1070.001",
                    )
                } else {
                    (
                        AUDIT_POLICY.id,
                        Severity::Medium,
                        format!(
                            "{who} changed the audit policy{}{id}",
                            object.map(|o| format!(" ({o})")).unwrap_or_default()
                        ),
                        "T1562.002",
                    )
                };
                on_host_alert(
                    det,
                    severity,
                    e.ts,
                    (&host, org),
                    format!("{}: {what}", host.describe(org)),
                    attack,
                    e.user.as_deref(),
                )
            },
            out,
        );
    }

    fn finish(&mut self, out: &mut AlertSink) {
        self.open.finish(out);
    }

    fn stats(&self) -> DetectorStats {
        let mut s = DetectorStats::default();
        self.open.add_stats(&mut s);
        s
    }
}
