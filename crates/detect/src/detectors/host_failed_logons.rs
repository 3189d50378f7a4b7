//! `failed-logon-burst` and `password-spray`: many failed logons from one source.
//!
//! **What it does.** Counts, per source address (or, without one, per client name), the
//! failed logons (4625, sshd failures, Kerberos pre-authentication failures 4771) within
//! `failed_logons.window_minutes` of the source's first failure. At
//! `failed_logons.min_failures` failures it reports a burst (`failed-logon-burst`); at
//! `failed_logons.min_users` distinct accounts it reports a spray (`password-spray`). Each
//! fires once per source and window; the next failure after the window starts a new one.
//!
//! **Why it matters.** Guessing passwords against one account (a burst) or one password
//! against many accounts (a spray, which stays under lockout thresholds) is how an intruder
//! who reached a new site gets the credentials to go on.
//!
//! **Example.** `external 203.0.113.9 → jp-hq jp-vpn01 (10.10.0.5): 25 failed logons for 12
//! accounts within 10m (password spray)`.
//!
//! **Known false positives.** A service with a stale password retrying (a burst, one
//! account); a jump host or NAT address that many users' typos come from (raise the
//! thresholds); a vulnerability scanner.
//!
//! **ATT&CK.** T1110 (Brute Force): T1110.001 for bursts, T1110.003 (Password Spraying)
//! for sprays.

use crate::bounded::{BoundedMap, cap, caps};
use crate::common::{clean_name, fmt_duration, minutes};
use crate::host::{
    Key, Place, add_client, add_user, direction, host_alert, is_crossing, place_host, place_source,
};
use crate::{AlertSink, DetectorStats, HostDetector, HostDetectorSpec};
use sekisho_event::{
    HostEvent, HostEventKind, Logon, LogonAction, Outcome, Service, Severity, Timestamp,
};
use sekisho_model::Org;
use std::net::IpAddr;

/// `failed-logon-burst`.
pub static BURST: HostDetectorSpec = HostDetectorSpec {
    id: "failed-logon-burst",
    title: "many failed logons from one source within a window",
    attack: Some("T1110.001"),
    build: build_burst,
};

/// `password-spray`.
pub static SPRAY: HostDetectorSpec = HostDetectorSpec {
    id: "password-spray",
    title: "failed logons for many accounts from one source within a window",
    attack: Some("T1110.003"),
    build: build_spray,
};

/// Distinct accounts remembered per source and window: enough to pass any sensible
/// `min_users`, small enough to bound memory (8 bytes each).
pub const MAX_USERS_PER_SOURCE: usize = 256;
/// Account names kept per source for the alert's context.
const SAMPLE_USERS: usize = 8;

fn build_burst(org: &Org) -> Option<Box<dyn HostDetector + '_>> {
    let s = &org.detectors.failed_logons;
    s.enabled
        .then(|| Box::new(Failed::new(org, Mode::Burst)) as Box<dyn HostDetector + '_>)
}

fn build_spray(org: &Org) -> Option<Box<dyn HostDetector + '_>> {
    let s = &org.detectors.failed_logons;
    s.enabled
        .then(|| Box::new(Failed::new(org, Mode::Spray)) as Box<dyn HostDetector + '_>)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Burst,
    Spray,
}

#[derive(Debug)]
struct Window {
    start: i64,
    failures: u64,
    /// Accounts seen (fingerprints), at most [`MAX_USERS_PER_SOURCE`]: past it a spray
    /// has long been reported.
    users: Vec<u64>,
    sample: Vec<String>,
    reported: bool,
}

#[derive(Debug)]
struct Failed<'o> {
    org: &'o Org,
    mode: Mode,
    window: i64,
    threshold: u64,
    sources: BoundedMap<u64, Window>,
}

impl<'o> Failed<'o> {
    fn new(org: &'o Org, mode: Mode) -> Self {
        let s = &org.detectors.failed_logons;
        Self {
            org,
            mode,
            window: minutes(s.window_minutes.max(1)),
            threshold: u64::from(match mode {
                Mode::Burst => s.min_failures,
                Mode::Spray => s.min_users,
            })
            .max(1),
            sources: BoundedMap::new(cap(
                org.detectors.limits.max_tracked_keys,
                caps::FAN_OUT_SOURCES,
            )),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn failure(
        &mut self,
        ts: Timestamp,
        source_ip: Option<IpAddr>,
        source_host: Option<&str>,
        user: Option<&str>,
        host: Option<&str>,
        host_ip: Option<IpAddr>,
        out: &mut AlertSink,
    ) {
        let source_ip = source_ip.filter(|ip| crate::host::is_remote(*ip));
        if source_ip.is_none() && source_host.is_none() {
            return;
        }
        let key = Key::new(0x6661_696c)
            .ip(source_ip)
            .str(if source_ip.is_none() {
                source_host
            } else {
                None
            })
            .finish();
        let now = ts.as_micros();
        let window = self.window;
        let (w, _) = self.sources.entry(key, || Window {
            start: now,
            failures: 0,
            users: Vec::new(),
            sample: Vec::new(),
            reported: false,
        });
        if now >= w.start.saturating_add(window) || now < w.start {
            *w = Window {
                start: now,
                failures: 0,
                users: Vec::new(),
                sample: Vec::new(),
                reported: false,
            };
        }
        w.failures += 1;
        if let Some(u) = user {
            let uk = Key::new(0x7573).str(Some(u)).finish();
            if w.users.len() < MAX_USERS_PER_SOURCE && !w.users.contains(&uk) {
                w.users.push(uk);
                if w.sample.len() < SAMPLE_USERS {
                    w.sample.push(clean_name(u));
                }
            }
        }
        let value = match self.mode {
            Mode::Burst => w.failures,
            Mode::Spray => w.users.len() as u64,
        };
        if w.reported || value < self.threshold {
            return;
        }
        w.reported = true;
        let (failures, users, sample, start) =
            (w.failures, w.users.len(), w.sample.clone(), w.start);
        let org = self.org;
        let src = match source_ip {
            Some(ip) => place_source(org, ip),
            None => Place {
                name: source_host.map(str::to_string),
                ..Place::default()
            },
        };
        let dst = place_host(org, host, host_ip);
        let crossing = is_crossing(direction(src.loc, dst.loc));
        let (id, severity, what, attack) = match self.mode {
            Mode::Burst => (
                BURST.id,
                if crossing || source_ip.is_some_and(|_| src.loc.site.is_none()) {
                    Severity::High
                } else {
                    Severity::Medium
                },
                "brute force",
                "T1110.001",
            ),
            Mode::Spray => (SPRAY.id, Severity::High, "password spray", "T1110.003"),
        };
        let mut a = host_alert(
            id,
            severity,
            Timestamp::from_micros(start),
            src.endpoint(org),
            dst.endpoint(org),
            Service::Other,
            format!(
                "{} → {}: {failures} failed logons for {users} accounts within {} ({what})",
                src.describe(org),
                dst.describe(org),
                fmt_duration(now - start)
            ),
        );
        a.last_ts = ts;
        a.attack = Some(attack.to_string());
        for u in &sample {
            add_user(&mut a, Some(u));
        }
        add_client(&mut a, source_host);
        crate::common::finalize(&mut a);
        out.push(a);
    }
}

impl HostDetector for Failed<'_> {
    fn id(&self) -> &'static str {
        match self.mode {
            Mode::Burst => BURST.id,
            Mode::Spray => SPRAY.id,
        }
    }

    fn on_logon(&mut self, l: &Logon, out: &mut AlertSink) {
        if l.action != LogonAction::Logon || l.outcome != Outcome::Failure {
            return;
        }
        self.failure(
            l.ts,
            l.source_ip,
            l.source_host.as_deref(),
            l.user.as_deref(),
            l.host.as_deref(),
            l.host_ip,
            out,
        );
    }

    fn on_host_event(&mut self, e: &HostEvent, out: &mut AlertSink) {
        if e.kind != HostEventKind::KerberosPreauthFailed {
            return;
        }
        self.failure(
            e.ts,
            e.source_ip,
            None,
            e.target_user.as_deref(),
            e.host.as_deref(),
            None,
            out,
        );
    }

    fn finish(&mut self, _out: &mut AlertSink) {}

    fn stats(&self) -> DetectorStats {
        let mut s = DetectorStats::default();
        s.add(&self.sources);
        s
    }
}
