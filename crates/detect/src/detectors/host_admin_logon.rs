//! `admin-logon-crossing`: an administrator logon (4672) that came from another site or
//! from outside.
//!
//! **What it does.** Windows logs 4672 ("special privileges assigned to new logon") next to
//! the 4624 of every logon that holds admin rights; the two share the logon id
//! (`SubjectLogonId` of 4672, `TargetLogonId` of 4624). This detector remembers recent
//! remote logons (4624 type 3/10) whose source is in another site or outside, and 4672s,
//! by (host, logon id), and reports when both halves are there. Each (account, source,
//! host) is reported once per run: it is the *new* admin logon that matters.
//!
//! **Why it matters.** A remote logon from the Thai office onto an HQ server is a crossing;
//! one with administrator rights is the intruder holding the keys there.
//!
//! **Example.** `th-bkk 10.20.3.4 → jp-hq jp-fs01 (10.10.5.10): administrator logged on
//! with admin privileges over smb (4624 type 3 + 4672)`.
//!
//! **Known false positives.** Administrators who manage servers of other sites; backup and
//! monitoring accounts that hold privileges (write policy rules for them and filter).
//!
//! **ATT&CK.** T1078 (Valid Accounts; T1078.002 for domain accounts), with T1021.

use crate::bounded::{BoundedMap, cap, caps};
use crate::common::clean_name;
use crate::detectors::host_remote_logon::logon_operation;
use crate::host::{
    Key, LogonCrossing, add_client, add_operation, add_user, host_alert, is_crossing,
    logon_crossing,
};
use crate::{AlertSink, DetectorStats, HostDetector, HostDetectorSpec};
use sekisho_event::{HostEvent, HostEventKind, Logon, Outcome, Severity, Timestamp};
use sekisho_model::Org;

/// `admin-logon-crossing`.
pub static SPEC: HostDetectorSpec = HostDetectorSpec {
    id: "admin-logon-crossing",
    title: "an admin logon (4624 + 4672) from another site or from outside",
    attack: Some("T1078"),
    build,
};

/// How far apart the 4624 and its 4672 may be logged (they are usually in the same
/// millisecond).
pub const PAIR_WINDOW_SECONDS: i64 = 60;

fn build(org: &Org) -> Option<Box<dyn HostDetector + '_>> {
    let n = cap(org.detectors.limits.max_tracked_keys, caps::PIVOT_NODES);
    Some(Box::new(AdminLogon {
        org,
        logons: BoundedMap::new(n),
        privileged: BoundedMap::new(n),
        reported: BoundedMap::new(cap(
            org.detectors.limits.max_tracked_keys,
            caps::FINGERPRINTS,
        )),
    }))
}

#[derive(Debug)]
struct Remote {
    ts: Timestamp,
    logon: Box<Logon>,
    crossing: Box<LogonCrossing>,
}

#[derive(Debug)]
struct AdminLogon<'o> {
    org: &'o Org,
    /// Remote crossing logons waiting for their 4672, by (host, logon id).
    logons: BoundedMap<u64, Remote>,
    /// 4672s waiting for their 4624 (when logged first), by (host, logon id): their time.
    privileged: BoundedMap<u64, Timestamp>,
    /// (account, source, host) already reported.
    reported: BoundedMap<u64, ()>,
}

fn pair_key(host: Option<&str>, logon_id: &str) -> u64 {
    Key::new(0x3436_3732)
        .str(host)
        .str(Some(logon_id.trim()))
        .finish()
}

fn close_in_time(a: Timestamp, b: Timestamp) -> bool {
    (a.as_micros() - b.as_micros()).abs() <= PAIR_WINDOW_SECONDS * Timestamp::SECOND
}

impl AdminLogon<'_> {
    fn report(&mut self, r: &Remote, out: &mut AlertSink) {
        let l = &r.logon;
        let c = &r.crossing;
        let once = Key::new(0x6164_6d6e)
            .str(l.user.as_deref())
            .ip(c.src.ip)
            .str(l.host.as_deref())
            .finish();
        if !self.reported.insert_key(once) {
            return;
        }
        let org = self.org;
        let user = l
            .user
            .as_deref()
            .map(clean_name)
            .unwrap_or_else(|| "an account".into());
        let op = logon_operation(l);
        let mut a = host_alert(
            SPEC.id,
            Severity::High,
            l.ts,
            c.src.endpoint(org),
            c.dst.endpoint(org),
            c.service,
            format!(
                "{} → {}: {user} logged on with admin privileges over {} ({op} + 4672)",
                c.src.describe(org),
                c.dst.describe(org),
                c.service
            ),
        );
        a.attack = Some("T1078".to_string());
        add_user(&mut a, l.user.as_deref());
        add_client(&mut a, l.source_host.as_deref());
        add_operation(&mut a, Some(&op));
        crate::common::finalize(&mut a);
        out.push(a);
    }
}

impl HostDetector for AdminLogon<'_> {
    fn id(&self) -> &'static str {
        SPEC.id
    }

    fn on_logon(&mut self, l: &Logon, out: &mut AlertSink) {
        if l.event_id != Some(4624) || l.outcome != Outcome::Success {
            return;
        }
        let Some(id) = l.session.as_deref() else {
            return;
        };
        let Some(c) = logon_crossing(self.org, l) else {
            return;
        };
        if !is_crossing(c.direction) {
            return;
        }
        let key = pair_key(l.host.as_deref(), id);
        let r = Remote {
            ts: l.ts,
            logon: Box::new(l.clone()),
            crossing: Box::new(c),
        };
        if let Some(ts) = self.privileged.remove(&key)
            && close_in_time(ts, l.ts)
        {
            self.report(&r, out);
            return;
        }
        self.logons.entry(key, || Remote {
            ts: r.ts,
            logon: r.logon.clone(),
            crossing: r.crossing.clone(),
        });
    }

    fn on_host_event(&mut self, e: &HostEvent, out: &mut AlertSink) {
        if e.kind != HostEventKind::SpecialPrivileges {
            return;
        }
        let Some(id) = e.fields.get("SubjectLogonId") else {
            return;
        };
        let key = pair_key(e.host.as_deref(), id);
        if let Some(r) = self.logons.remove(&key) {
            if close_in_time(r.ts, e.ts) {
                self.report(&r, out);
            }
            return;
        }
        self.privileged.entry(key, || e.ts);
    }

    fn finish(&mut self, _out: &mut AlertSink) {}

    fn stats(&self) -> DetectorStats {
        let mut s = DetectorStats::default();
        s.add(&self.logons);
        s.add(&self.privileged);
        s.add(&self.reported);
        s
    }
}
