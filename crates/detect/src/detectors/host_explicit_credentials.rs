//! `explicit-credentials`: credentials typed or injected for use towards another host.
//!
//! **What it does.** Reports 4648 ("a logon was attempted using explicit credentials")
//! whose target server is another machine (not the logging host, not `localhost`), and
//! 4624 logons of type 9 (NewCredentials) through the `seclogo` logon process — what
//! `runas /netonly` and mimikatz's `sekurlsa::pth` leave on the machine they start from.
//! One alert per (host, acting account, target account, target server) per clock hour.
//!
//! **Why it matters.** Lateral movement with stolen credentials starts on the source
//! machine: WMIC, PsExec or `net use` with `/user:` log a 4648 there naming the server
//! they reach for, and pass-the-hash logs a type 9 logon. Either shows *who* the intruder
//! became before the target's logs (or the flows) show where they went.
//!
//! **Example.** `PC01.example.corp: user01 used explicit credentials of administrator
//! towards WIN-77LTAPHIQ1R.example.corp (C:\Windows\System32\wbem\WMIC.exe)`.
//!
//! **Known false positives.** Administrators who use `runas` or mapped drives with other
//! credentials; scheduled tasks and services that connect with their own accounts; some
//! management agents.
//!
//! **ATT&CK.** T1078 (Valid Accounts) for 4648; T1550.002 (Pass the Hash) for type 9 through
//! `seclogo`.

use crate::common::clean_name;
use crate::host::{
    Hourly, Key, add_operation, add_user, direction, host_alert, is_crossing, place_host,
    short_name,
};
use crate::{AlertSink, DetectorStats, HostDetector, HostDetectorSpec};
use sekisho_event::{HostEvent, HostEventKind, Logon, LogonAction, Outcome, Service, Severity};
use sekisho_model::Org;

/// `explicit-credentials`.
pub static SPEC: HostDetectorSpec = HostDetectorSpec {
    id: "explicit-credentials",
    title: "explicit credentials (4648) towards another host, or a new-credentials logon (type 9, seclogo)",
    attack: Some("T1078"),
    build,
};

fn build(org: &Org) -> Option<Box<dyn HostDetector + '_>> {
    Some(Box::new(Explicit {
        org,
        open: Hourly::new(org),
    }))
}

#[derive(Debug)]
struct Explicit<'o> {
    org: &'o Org,
    open: Hourly,
}

/// True when `target` names a machine other than `host` (the logging one).
fn other_host(host: Option<&str>, target: &str) -> bool {
    let t = short_name(target);
    if t.is_empty() || t == "localhost" || t == "-" || t == "127" {
        return false;
    }
    host.is_none_or(|h| short_name(h) != t)
}

impl HostDetector for Explicit<'_> {
    fn id(&self) -> &'static str {
        SPEC.id
    }

    fn on_logon(&mut self, l: &Logon, out: &mut AlertSink) {
        self.open.advance(l.ts, out);
        if l.action != LogonAction::Logon
            || l.outcome != Outcome::Success
            || l.logon_type != Some(9)
        {
            return;
        }
        let seclogo = l
            .fields
            .get("LogonProcessName")
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("seclogo"));
        if !seclogo {
            return;
        }
        let org = self.org;
        let host = place_host(org, l.host.as_deref(), l.host_ip);
        let acting = l
            .fields
            .get("SubjectUserName")
            .filter(|s| !s.is_empty() && *s != "-")
            .map(str::to_string);
        let key = Key::new(0x7063_6c67)
            .str(l.host.as_deref())
            .str(acting.as_deref())
            .str(l.user.as_deref());
        self.open.add(
            key,
            l.ts,
            || {
                let who = acting
                    .as_deref()
                    .or(l.user.as_deref())
                    .map(clean_name)
                    .unwrap_or_else(|| "an account".into());
                let mut a = host_alert(
                    SPEC.id,
                    Severity::Medium,
                    l.ts,
                    host.endpoint(org),
                    host.endpoint(org),
                    Service::Other,
                    format!(
                        "{}: {who} started a new-credentials logon (4624 type 9 through seclogo: runas /netonly or pass-the-hash)",
                        host.describe(org)
                    ),
                );
                a.attack = Some("T1550.002".to_string());
                add_user(&mut a, acting.as_deref());
                add_user(&mut a, l.user.as_deref());
                add_operation(&mut a, Some("4624 type 9 seclogo"));
                a
            },
            out,
        );
    }

    fn on_host_event(&mut self, e: &HostEvent, out: &mut AlertSink) {
        self.open.advance(e.ts, out);
        if e.kind != HostEventKind::ExplicitCredentials {
            return;
        }
        let Some(target) = e.target_host.as_deref() else {
            return;
        };
        if !other_host(e.host.as_deref(), target) {
            return;
        }
        let org = self.org;
        let src = place_host(org, e.host.as_deref(), None);
        let dst = place_host(org, Some(target), None);
        let crossing = is_crossing(direction(src.loc, dst.loc));
        let key = Key::new(0x3436_3438)
            .str(e.host.as_deref())
            .str(e.user.as_deref())
            .str(e.target_user.as_deref())
            .str(Some(target));
        self.open.add(
            key,
            e.ts,
            || {
                let who = e
                    .user
                    .as_deref()
                    .map(clean_name)
                    .unwrap_or_else(|| "an account".into());
                let as_user = e
                    .target_user
                    .as_deref()
                    .map(clean_name)
                    .unwrap_or_else(|| "another account".into());
                let via = e
                    .process
                    .as_deref()
                    .map(|p| format!(" ({})", clean_name(p)))
                    .unwrap_or_default();
                let mut a = host_alert(
                    SPEC.id,
                    if crossing {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    e.ts,
                    src.endpoint(org),
                    dst.endpoint(org),
                    Service::Other,
                    format!(
                        "{}: {who} used explicit credentials of {as_user} towards {}{via}",
                        src.describe(org),
                        dst.describe(org)
                    ),
                );
                a.attack = Some("T1078".to_string());
                add_user(&mut a, e.user.as_deref());
                add_user(&mut a, e.target_user.as_deref());
                add_operation(&mut a, e.process.as_deref());
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
