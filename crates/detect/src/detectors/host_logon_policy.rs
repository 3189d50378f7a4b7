//! `logon-policy-deny` and `logon-policy-alert`: remote logons that the access policy
//! denies, or asks to be told about, judged like the flow they stand for.
//!
//! **What it does.** A remote logon (4624 type 3 → `smb`, type 10 → `rdp`, sshd → `ssh`;
//! successful or failed) is turned into the crossing it stands for: from its source address
//! to the host logged on to (by address, else by asset name), over that service, at the
//! logon's local time at the source site. The org's policy judges it exactly as it judges a
//! flow: first matching rule wins, cross-site logons no rule matches get the cross-site
//! default. `deny` verdicts give `logon-policy-deny`, `alert` verdicts `logon-policy-alert`,
//! one alert per (source, host, account, service, rule, outcome) per clock hour.
//!
//! **Why it matters.** A rule such as "no overseas admin access to HQ servers" should not
//! depend on a sensor seeing the packets: the server's own Security log says the same, and
//! names the account.
//!
//! **Example.** `th-bkk 10.20.3.4 → jp-hq jp-fs01 (10.10.5.10): alice logged on over rdp,
//! denied by rule "no overseas admin access to HQ servers"`.
//!
//! **Known false positives.** Whatever the policy gets wrong (see `policy-deny`). Network
//! logons (type 3) are mapped to `smb`: WMI and RPC logons also appear as type 3, so a rule
//! written for `smb` also judges them.
//!
//! **ATT&CK.** T1021 with the service's sub-technique.

use crate::common::remote_services_attack;
use crate::detectors::host_remote_logon::logon_operation;
use crate::detectors::policy::DEFAULT_RULE;
use crate::host::{
    Hourly, Key, add_client, add_operation, add_user, crossing_flow, host_alert, logon_crossing,
};
use crate::{AlertSink, DetectorStats, HostDetector, HostDetectorSpec};
use sekisho_event::{Logon, Outcome, Severity};
use sekisho_model::{Action, Direction, Enricher, Org};

/// `logon-policy-deny`.
pub static DENY: HostDetectorSpec = HostDetectorSpec {
    id: "logon-policy-deny",
    title: "a remote logon the access policy denies",
    attack: Some("T1021"),
    build: build_deny,
};

/// `logon-policy-alert`.
pub static ALERT: HostDetectorSpec = HostDetectorSpec {
    id: "logon-policy-alert",
    title: "a remote logon the access policy flags (an alert rule, or the cross-site default)",
    attack: Some("T1021"),
    build: build_alert,
};

fn build_deny(org: &Org) -> Option<Box<dyn HostDetector + '_>> {
    Some(Box::new(LogonPolicy::new(org, Action::Deny)))
}

fn build_alert(org: &Org) -> Option<Box<dyn HostDetector + '_>> {
    Some(Box::new(LogonPolicy::new(org, Action::Alert)))
}

#[derive(Debug)]
struct LogonPolicy<'o> {
    org: &'o Org,
    enricher: Enricher<'o>,
    action: Action,
    id: &'static str,
    open: Hourly,
}

impl<'o> LogonPolicy<'o> {
    fn new(org: &'o Org, action: Action) -> Self {
        Self {
            org,
            enricher: Enricher::new(org),
            action,
            id: if action == Action::Deny {
                DENY.id
            } else {
                ALERT.id
            },
            open: Hourly::new(org),
        }
    }
}

impl HostDetector for LogonPolicy<'_> {
    fn id(&self) -> &'static str {
        self.id
    }

    fn on_logon(&mut self, l: &Logon, out: &mut AlertSink) {
        self.open.advance(l.ts, out);
        let Some(c) = logon_crossing(self.org, l) else {
            return;
        };
        let org = self.org;
        // The clock of the source site, or of the host's for logons from outside, as for flows.
        let local = c
            .src
            .loc
            .site
            .or(c.dst.loc.site)
            .map(|s| self.enricher.local_time(s, l.ts));
        let flow = crossing_flow(&c, l.ts);
        let verdict = org.policy.evaluate(
            &flow,
            c.src.loc,
            c.dst.loc,
            c.direction == Direction::CrossSite,
            local,
        );
        if verdict.action != self.action {
            return;
        }
        let key = Key::new(0x706f_6c69)
            .ip(c.src.ip)
            .ip(c.dst.ip)
            .str(l.host.as_deref())
            .str(l.user.as_deref())
            .num(c.service as i64)
            .num(verdict.rule.map_or(-1, i64::from))
            .num(l.outcome as i64);
        let id = self.id;
        let verb = if self.action == Action::Deny {
            "denied"
        } else {
            "flagged"
        };
        self.open.add(
            key,
            l.ts,
            || {
                let rule = verdict
                    .rule
                    .and_then(|i| org.policy.rules().get(usize::from(i)))
                    .map(|r| (r.name.clone(), r.severity));
                let did = match l.outcome {
                    Outcome::Success => "logged on",
                    Outcome::Failure => "failed to log on",
                };
                let user = l
                    .user
                    .as_deref()
                    .map(crate::common::clean_name)
                    .unwrap_or_else(|| "an unnamed account".into());
                let head = format!(
                    "{} → {}: {user} {did} over {}",
                    c.src.describe(org),
                    c.dst.describe(org),
                    c.service
                );
                let (rule_name, severity, summary) = match rule {
                    Some((name, sev)) => {
                        let s = format!("{head}, {verb} by rule \"{name}\"");
                        (name, sev, s)
                    }
                    None => (
                        DEFAULT_RULE.to_string(),
                        Severity::Low,
                        format!("{head}, {verb} by the cross-site default: no rule allows it"),
                    ),
                };
                let mut a = host_alert(
                    id,
                    severity,
                    l.ts,
                    c.src.endpoint(org),
                    c.dst.endpoint(org),
                    c.service,
                    summary,
                );
                a.rule = Some(rule_name);
                a.attack = Some(remote_services_attack(c.service).to_string());
                add_user(&mut a, l.user.as_deref());
                add_client(&mut a, l.source_host.as_deref());
                add_operation(&mut a, Some(&logon_operation(l)));
                a
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
