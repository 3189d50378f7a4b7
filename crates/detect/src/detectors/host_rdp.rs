//! `rdp-crossing`: RDP sessions onto a host from another site or from outside, as the
//! host's own logs tell them.
//!
//! **What it does.** Reads the RDP-specific records — TerminalServices 1149 (network
//! authentication succeeded), LocalSessionManager 21 (session logon) and 25 (reconnection),
//! Security 4778 (session reconnected) — and Sysmon 3 connections accepted on port 3389,
//! places the client address and the host, and reports when they are in different sites or
//! the client is outside every site. One alert per (client, host, account) per clock hour.
//! (4624 type 10 logons are `remote-logon-crossing`'s.)
//!
//! **Why it matters.** RDP is the intruder's favourite way across sites; these records
//! survive where the Security log was cleared or its logon events were not audited, and
//! name the account and the client.
//!
//! **Example.** `th-bkk 10.20.3.4 → jp-hq jp-fs01 (10.10.5.10): RDP session of CORP\alice
//! (rdp-session-logon)`.
//!
//! **Known false positives.** Remote administration across sites by the IT team; jump
//! hosts in another site.
//!
//! **ATT&CK.** T1021.001 (Remote Desktop Protocol).

use crate::common::clean_name;
use crate::host::{
    Hourly, Key, add_client, add_operation, add_user, direction, host_alert, is_crossing,
    is_remote, place_host, place_source,
};
use crate::{AlertSink, DetectorStats, HostDetector, HostDetectorSpec};
use sekisho_event::{HostEvent, HostEventKind, Service, Severity};
use sekisho_model::{Direction, Org};

/// `rdp-crossing`.
pub static SPEC: HostDetectorSpec = HostDetectorSpec {
    id: "rdp-crossing",
    title: "an RDP session (1149, 21, 25, 4778, Sysmon 3 on 3389) from another site or from outside",
    attack: Some("T1021.001"),
    build,
};

fn build(org: &Org) -> Option<Box<dyn HostDetector + '_>> {
    Some(Box::new(Rdp {
        org,
        open: Hourly::new(org),
    }))
}

#[derive(Debug)]
struct Rdp<'o> {
    org: &'o Org,
    open: Hourly,
}

impl HostDetector for Rdp<'_> {
    fn id(&self) -> &'static str {
        SPEC.id
    }

    fn on_host_event(&mut self, e: &HostEvent, out: &mut AlertSink) {
        self.open.advance(e.ts, out);
        let (client, host_ip) = match e.kind {
            HostEventKind::RdpAuthSucceeded
            | HostEventKind::RdpSessionLogon
            | HostEventKind::RdpSessionReconnected
            | HostEventKind::SessionReconnected => (e.source_ip, None),
            // Sysmon 3 of a connection the host accepted (`Initiated` false): Sysmon writes
            // the client as `SourceIp` and the host's own address as `DestinationIp`.
            HostEventKind::NetworkConnection
                if e.dest_port == Some(3389)
                    && e.fields
                        .get("Initiated")
                        .is_some_and(|v| v.trim().eq_ignore_ascii_case("false")) =>
            {
                (e.source_ip, e.dest_ip)
            }
            _ => return,
        };
        let Some(client) = client.filter(|ip| is_remote(*ip)) else {
            return;
        };
        let org = self.org;
        let src = place_source(org, client);
        let dst = place_host(org, e.host.as_deref(), host_ip);
        let dir = direction(src.loc, dst.loc);
        if !is_crossing(dir) || dst.ip == Some(client) {
            return;
        }
        let user = e.target_user.as_deref().or(e.user.as_deref());
        let key = Key::new(0x7264_7063)
            .ip(Some(client))
            .str(e.host.as_deref())
            .str(user);
        self.open.add(
            key,
            e.ts,
            || {
                let who = match (e.domain.as_deref(), user) {
                    (Some(d), Some(u)) => format!(" of {}\\{}", clean_name(d), clean_name(u)),
                    (None, Some(u)) => format!(" of {}", clean_name(u)),
                    _ => String::new(),
                };
                let mut a = host_alert(
                    SPEC.id,
                    if dir == Direction::Inbound {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    e.ts,
                    src.endpoint(org),
                    dst.endpoint(org),
                    Service::Rdp,
                    format!(
                        "{} → {}: RDP session{who} ({})",
                        src.describe(org),
                        dst.describe(org),
                        e.kind
                    ),
                );
                a.dst_port = Some(3389);
                a.attack = Some("T1021.001".to_string());
                add_user(&mut a, user);
                add_client(&mut a, e.target_host.as_deref());
                add_operation(&mut a, Some(e.kind.as_str()));
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
