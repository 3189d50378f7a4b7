//! `remote-logon-crossing`: a successful remote logon whose source is in another site, or
//! outside every site.
//!
//! **What it does.** For each successful Windows network logon (4624 type 3), RDP logon
//! (4624 type 10) or sshd accepted login, places the source address on the org's sites and
//! the host logged on to by its address, else by its name against the assets (short name,
//! case ignored). When the two are in different sites, or the source is outside every site
//! and the host inside one, it reports the logon. Repeats of (source, host, account,
//! service) are folded into one alert per clock hour.
//!
//! **Why it matters.** The flow detectors see that a Thai office host opened RDP or SMB to
//! a headquarters server; this says who logged on over it. In an incident the two alerts
//! share the source address and are joined, so the crossing and the account used sit
//! side by side.
//!
//! **Example.** `th-bkk 10.20.3.4 → jp-hq jp-fs01 (10.10.5.10): alice logged on over rdp
//! (4624 type 10 Negotiate)`.
//!
//! **Known false positives.** Administrators and service accounts that work across sites
//! on purpose (write a policy rule and read `logon-policy-*` instead); hosts whose name
//! does not match any asset and whose log carries no address are never placed (no alert).
//! A source address that is NATed between sites is placed where the NAT puts it.
//!
//! **ATT&CK.** T1021 (Remote Services): T1021.001 for RDP, T1021.002 for SMB network
//! logons, T1021.004 for SSH.

use crate::common::remote_services_attack;
use crate::host::{Hourly, Key, add_client, add_operation, add_user, host_alert, logon_crossing};
use crate::{AlertSink, DetectorStats, HostDetector, HostDetectorSpec};
use sekisho_event::{Logon, Outcome, Severity};
use sekisho_model::{Direction, Org};

/// `remote-logon-crossing`.
pub static SPEC: HostDetectorSpec = HostDetectorSpec {
    id: "remote-logon-crossing",
    title: "a successful remote logon (4624 type 3/10, sshd) from another site or from outside",
    attack: Some("T1021"),
    build,
};

fn build(org: &Org) -> Option<Box<dyn HostDetector + '_>> {
    Some(Box::new(RemoteLogon {
        org,
        open: Hourly::new(org),
    }))
}

#[derive(Debug)]
struct RemoteLogon<'o> {
    org: &'o Org,
    open: Hourly,
}

/// `4624 type 3 NTLM`, `sshd publickey`: how the logon happened, for the alert's context.
pub(crate) fn logon_operation(l: &Logon) -> String {
    let mut s = l.kind_label();
    if let Some(t) = l.logon_type {
        s.push_str(&format!(" type {t}"));
    }
    if let Some(a) = &l.auth {
        s.push(' ');
        s.push_str(&crate::common::clean_name(a));
    }
    s
}

impl HostDetector for RemoteLogon<'_> {
    fn id(&self) -> &'static str {
        SPEC.id
    }

    fn on_logon(&mut self, l: &Logon, out: &mut AlertSink) {
        self.open.advance(l.ts, out);
        if l.outcome != Outcome::Success {
            return;
        }
        let Some(c) = logon_crossing(self.org, l) else {
            return;
        };
        if !crate::host::is_crossing(c.direction) {
            return;
        }
        let org = self.org;
        let key = Key::new(0x7265_6d6f)
            .ip(c.src.ip)
            .ip(c.dst.ip)
            .str(l.host.as_deref())
            .str(l.user.as_deref())
            .num(c.service as i64);
        self.open.add(
            key,
            l.ts,
            || {
                let severity = if c.direction == Direction::Inbound {
                    Severity::High
                } else {
                    Severity::Medium
                };
                let op = logon_operation(l);
                let user = l
                    .user
                    .as_deref()
                    .map(crate::common::clean_name)
                    .unwrap_or_else(|| "an unnamed account".into());
                let mut a = host_alert(
                    SPEC.id,
                    severity,
                    l.ts,
                    c.src.endpoint(org),
                    c.dst.endpoint(org),
                    c.service,
                    format!(
                        "{} → {}: {user} logged on over {} ({op})",
                        c.src.describe(org),
                        c.dst.describe(org),
                        c.service
                    ),
                );
                a.attack = Some(remote_services_attack(c.service).to_string());
                add_user(&mut a, l.user.as_deref());
                add_client(&mut a, l.source_host.as_deref());
                add_operation(&mut a, Some(&op));
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
