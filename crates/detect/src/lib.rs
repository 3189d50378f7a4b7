//! Detectors: small, self-contained units behind one trait, listed in one table.
//!
//! Each detector sees every enriched flow in (roughly) time order and emits alerts into an
//! [`AlertSink`]. To add one: write one file in `src/detectors/` that opens with the doc
//! template (**What it does**, **Why it matters**, **Example**, **Known false positives**,
//! **ATT&CK**), and add one line to [`REGISTRY`].
//!
//! | id | what | severity |
//! |---|---|---|
//! | `policy-deny` | flows the policy denies; one alert per (src, dst, service, rule, clock hour) | the rule's (`high` by default) |
//! | `policy-alert` | flows an `alert` rule or the cross-site default flags; same aggregation | the rule's (`medium`); `low` for the default |
//! | `first-seen-crossing` | a (site or host → asset or site, service) crossing new after the baseline | `low`; `medium` for admin services or data assets |
//! | `off-hours-crossing` | admin service across sites or from outside, outside the clock site's business hours, not allowed by a rule | `medium` |
//! | `pivot-chain` | a host reached across sites that reaches internal hosts within the window (up to S → H → T → U, one alert) | `high`; `critical` when a host reached holds data |
//! | `fan-out` | one source trying `min_hosts` internal hosts or `min_ports` ports on one host in a window | `medium`; `high` across sites |
//! | `bulk-transfer` | `min_bytes` leaving a data-bearing asset for another site or outside in a window | `high`; `critical` to outside |
//! | `beacon` | periodic outbound (or cross-site) connections, RITA-style score | `high` outbound; `medium` cross-site |
//! | `sensor-gap` | a sensor silent while others go on; a declared sensor that sent nothing | `medium` |
//!
//! Detectors on host evidence ([`HostDetector`], listed in [`HOST_REGISTRY`]) see
//! every normalised logon and host event (Windows event logs, Linux auth logs) in time
//! order and put their alerts into the same sink, so correlation joins them with the flow
//! alerts that share an address:
//!
//! | id | what | severity |
//! |---|---|---|
//! | `remote-logon-crossing` | a successful network (4624 type 3), RDP (type 10) or sshd logon from another site or from outside | `medium`; `high` from outside |
//! | `logon-policy-deny`, `logon-policy-alert` | the same logon as a crossing (rdp / smb / ssh) that the access policy denies or flags | the rule's; `low` for the cross-site default |
//! | `failed-logon-burst` | `failed_logons.min_failures` failed logons from one source in a window | `medium`; `high` across sites or from outside |
//! | `password-spray` | failures for `failed_logons.min_users` distinct accounts from one source in a window | `high` |
//! | `explicit-credentials` | 4648 towards another host; 4624 type 9 through `seclogo` (runas /netonly, pass-the-hash) | `medium`; `high` towards another site |
//! | `admin-logon-crossing` | 4672 (special privileges) for a logon that came from another site or from outside | `high` |
//! | `service-installed` | 7045 | `low`; `high` when the service runs a shell, a script host or a binary from a share |
//! | `account-created`, `admin-group-added` | 4720; 4728/4732/4756 into a group of `host.admin_groups` | `medium`; `high` |
//! | `rdp-crossing` | RDP session events (1149, 21, 25, 4778) or an inbound 3389 connection (Sysmon 3) from another site or from outside | `medium`; `high` from outside |
//! | `log-cleared`, `audit-policy-changed` | 1102 / 104; 4719 | `high`; `medium` |
//! | `remote-execution` | Sysmon 1: a process started by WMI, WinRM, DCOM, a PsExec-like service, a web or SQL server, or from an RDP client's drive | `high` |
//!
//! ```
//! use sekisho_detect::{AlertSink, FlowView, build_all};
//! use sekisho_event::{ConnState, Flow, Proto, Service, Timestamp, Uid};
//! use sekisho_model::{Enricher, Org};
//! use std::sync::Arc;
//!
//! let org = Org::from_toml(r#"
//! [org]
//! name = "Example"
//! [[site]]
//! id = "jp-hq"
//! country = "JP"
//! timezone = "Asia/Tokyo"
//! networks = ["10.10.0.0/16"]
//! [[site]]
//! id = "th-bkk"
//! country = "TH"
//! timezone = "Asia/Bangkok"
//! networks = ["10.20.0.0/16"]
//! [policy]
//! cross_site_default = "deny"
//! "#, "org.toml").unwrap();
//! let flow = Flow {
//!     ts: Timestamp::from_micros(1_715_742_000 * Timestamp::SECOND),
//!     duration_us: 1_000,
//!     uid: Uid::new("C1").unwrap(),
//!     orig_ip: "10.20.3.4".parse().unwrap(),
//!     orig_port: 50_000,
//!     resp_ip: "10.10.5.10".parse().unwrap(),
//!     resp_port: 3389,
//!     proto: Proto::Tcp,
//!     service: Service::Rdp,
//!     orig_bytes: 100,
//!     resp_bytes: 200,
//!     orig_pkts: 2,
//!     resp_pkts: 2,
//!     state: ConnState::SF,
//!     sensor: Arc::from("jp-hq-zeek"),
//! };
//! let mut detectors = build_all(&org);
//! let mut sink = AlertSink::new(100);
//! let enriched = Enricher::new(&org).enrich(&flow);
//! let view = FlowView { flow: &flow, enriched: &enriched, context: None };
//! for d in &mut detectors {
//!     d.on_flow(&view, &mut sink);
//! }
//! for d in &mut detectors {
//!     d.finish(&mut sink);
//! }
//! let alerts = sink.into_alerts();
//! let deny = alerts.iter().find(|a| a.detector == "policy-deny").unwrap();
//! assert_eq!(deny.rule.as_deref(), Some("cross-site default"));
//! assert_eq!(
//!     deny.summary,
//!     "th-bkk 10.20.3.4 → jp-hq 10.10.5.10 over rdp, denied by the cross-site default: no rule allows it"
//! );
//! ```
//!
//! # Invariants
//!
//! * **Time comes from the flows**, never from the clock. Windows close on the latest flow
//!   time seen plus `limits.reorder_slack_minutes`, so records a few minutes out of order
//!   still land in their window; equal or decreasing times never panic.
//! * **Deterministic.** Nothing is emitted in hash order: what a detector emits at a sweep
//!   or at [`Detector::finish`] is sorted first. Tables are hashed with a random seed
//!   (attacker-chosen addresses must not collide on purpose) and evict by last use, never
//!   by hash order. Single-flow alerts are held for the reorder slack so they name the
//!   earliest flow of their key whatever the arrival order; aggregates keep the earliest
//!   flows as evidence. The one exception is `fan-out`, which reports at the attempt that
//!   crosses its threshold: which attempt that is depends on arrival order (its time,
//!   evidence and sample; not whether it fires).
//! * **Bounded memory.** All state lives in [`bounded::BoundedMap`] tables (or [`fp_map::FpMap`],
//!   the same table laid out to be prefetched) of at most
//!   `min(limits.max_tracked_keys, ceiling)` keys, the ceilings in [`bounded::caps`] sized
//!   by what an entry costs; per-key state is small and capped (sample buffers, evidence,
//!   hops). What a bound pushes out is counted in [`DetectorStats`]; tables whose entries
//!   are alerts in waiting emit them early rather than drop them.
//! * **Cheap common case.** A flow that a detector does not care about (most are
//!   intra-site and allowed) returns before any hashing or allocation; strings are only
//!   built for alerts.
//!
//! # Memory
//!
//! Worst case with every table of every detector full at once (default limits; hash
//! tables counted at their allocated size):
//!
//! | detector | ceiling | worst case |
//! |---|---|---|
//! | policy-deny, policy-alert | 7,168 open aggregates each | ~17 MiB each |
//! | first-seen-crossing, off-hours-crossing | 458,752 fingerprints + 7,168 held alerts each | ~17 MiB each |
//! | pivot-chain | 7,168 chains, 114,688 hosts, 28,672 remembered hosts | ~51 MiB |
//! | fan-out | per window (two kept): 114,688 sources, 524,288 set slots, 114,688 multi-port pairs, 229,376 ports | ~50 MiB |
//! | bulk-transfer | 1,792 groups | ~18 MiB |
//! | beacon | 458,752 pairs + 8,192 sample buffers (`beacon.max_detailed_pairs`) | ~56 MiB |
//! | sensor-gap | 4,096 sensors | < 1 MiB |
//!
//! About 250 MiB in all, whatever the number of records.
//!
//! # Speed
//!
//! `cargo bench -p sekisho-detect -- --warm-up-time 1 --measurement-time 5` runs all
//! detectors over 1M generated, enriched flows of a 4,600-host organisation (see
//! `benches/detectors.rs`). State-table lookups (memory latency) dominate: fan-out, beacon
//! and pivot-chain are ~80% of the time; every other detector returns early on most flows.
use sekisho_event::{Alert, AppContext, Flow, HostEvent, HostRecord, Logon, Severity};
use sekisho_model::{Enriched, Org};

pub mod bounded;
mod common;
pub mod detectors;
pub mod fp_map;
pub mod host;

pub use detectors::{HOST_REGISTRY, REGISTRY};

/// One flow as detectors see it.
#[derive(Debug, Clone, Copy)]
pub struct FlowView<'a> {
    pub flow: &'a Flow,
    pub enriched: &'a Enriched,
    /// What application logs (rdp, ntlm, smb, ...) said about this flow, when any did.
    pub context: Option<&'a AppContext>,
}

/// Where detectors put their alerts. Bounded: past `max_alerts` alerts are counted, not kept.
#[derive(Debug)]
pub struct AlertSink {
    alerts: Vec<Alert>,
    max_alerts: usize,
    dropped: u64,
    live: bool,
}

impl AlertSink {
    pub fn new(max_alerts: usize) -> Self {
        Self {
            alerts: Vec::new(),
            max_alerts,
            dropped: 0,
            live: false,
        }
    }

    /// A sink for a live run (`sekisho serve`): detectors that aggregate repeats over a
    /// window emit the alert when the window opens, at its first flow, and fold the
    /// repeats in silently, instead of emitting one alert with the totals when the window
    /// closes. A live reader wants the crossing the minute it happens.
    pub fn live(max_alerts: usize) -> Self {
        Self {
            live: true,
            ..Self::new(max_alerts)
        }
    }

    /// True for a live run's sink: see [`AlertSink::live`].
    pub fn is_live(&self) -> bool {
        self.live
    }

    pub fn push(&mut self, alert: Alert) {
        if self.alerts.len() < self.max_alerts {
            self.alerts.push(alert);
        } else {
            self.dropped += 1;
        }
    }

    pub fn len(&self) -> usize {
        self.alerts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }

    /// Alerts not kept because the sink was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn into_alerts(self) -> Vec<Alert> {
        self.alerts
    }

    /// Takes the alerts pushed so far, leaving the sink empty: for live use, where alerts
    /// are written as they happen. The cap then applies to alerts not yet taken.
    pub fn take(&mut self) -> Vec<Alert> {
        std::mem::take(&mut self.alerts)
    }
}

/// What a detector's bounded state went through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DetectorStats {
    /// Keys held now, over all of the detector's tables.
    pub tracked: usize,
    /// Keys pushed out by the bound over the run.
    pub evicted: u64,
    /// Keys held now by the detector's fullest table: never more than
    /// `limits.max_tracked_keys`.
    pub largest_table: usize,
}

impl DetectorStats {
    /// Adds one table's figures.
    pub fn add_table(&mut self, len: usize, evicted: u64) {
        self.tracked += len;
        self.evicted += evicted;
        self.largest_table = self.largest_table.max(len);
    }

    /// Adds one [`bounded::BoundedMap`]'s figures.
    pub fn add<K: std::hash::Hash + Eq, V>(&mut self, table: &bounded::BoundedMap<K, V>) {
        self.add_table(table.len(), table.evicted());
    }
}

/// A detector. Implementations live in `src/detectors/`, one file each.
pub trait Detector: std::fmt::Debug {
    /// Stable id, e.g. `policy-deny`.
    fn id(&self) -> &'static str;
    /// Looks at one flow.
    fn on_flow(&mut self, view: &FlowView<'_>, out: &mut AlertSink);
    /// Whether [`Detector::prefetch`] does anything: the pipeline calls it only for those
    /// that say so.
    fn prefetches(&self) -> bool {
        false
    }
    /// Starts loading the state `on_flow` will touch for this flow, before the detectors
    /// ahead of this one run, so that its wait for memory overlaps their work. Changes
    /// nothing.
    fn prefetch(&self, _view: &FlowView<'_>) {}
    /// End of input: emit what is still pending (open aggregates, scores, silent sensors).
    fn finish(&mut self, out: &mut AlertSink);
    fn stats(&self) -> DetectorStats;
    /// The crossings this detector learned, for `--save-baseline`; `None` for detectors
    /// that learn none (all but `first-seen-crossing`).
    fn learned_baseline(&self) -> Option<sekisho_model::baseline::Baseline> {
        None
    }
}

/// A registry entry: a detector's id, one-line description, ATT&CK technique, and how to
/// build it for an org (or `None` when the org's settings disable it).
#[derive(Debug, Clone, Copy)]
pub struct DetectorSpec {
    pub id: &'static str,
    pub title: &'static str,
    pub attack: Option<&'static str>,
    pub build: for<'o> fn(&'o Org) -> Option<Box<dyn Detector + 'o>>,
}

/// Builds every enabled detector for an org, in registry order.
pub fn build_all(org: &Org) -> Vec<Box<dyn Detector + '_>> {
    REGISTRY
        .iter()
        .filter_map(|spec| (spec.build)(org))
        .collect()
}

/// A detector on host evidence. Implementations live in `src/detectors/host_*.rs`, one
/// file each, and are listed in [`HOST_REGISTRY`].
///
/// Records come in time order (the caller sorts them); time is taken from them only.
pub trait HostDetector: std::fmt::Debug {
    /// Stable id, e.g. `remote-logon-crossing`.
    fn id(&self) -> &'static str;
    /// Looks at one logon, failed logon or logoff.
    fn on_logon(&mut self, _logon: &Logon, _out: &mut AlertSink) {}
    /// Looks at one other host event (service installed, log cleared, process created...).
    fn on_host_event(&mut self, _event: &HostEvent, _out: &mut AlertSink) {}
    /// End of input: emit what is still pending.
    fn finish(&mut self, out: &mut AlertSink);
    fn stats(&self) -> DetectorStats;
}

/// What an alert from a rule of a [`HostRules`] set says about the rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleMeta {
    /// The rule's own id (a Sigma rule's UUID), or its title when it has none.
    pub id: String,
    pub title: String,
    pub severity: Severity,
    /// The first ATT&CK technique among the rule's tags (`T1021.002`).
    pub attack: Option<String>,
    /// The file the rule came from.
    pub path: String,
}

/// Rules matched against every host record as it is read, before the built-in detectors'
/// slimming: all records, all their fields (Sigma rules, implemented in `sekisho-sigma`).
/// The matches become alerts through [`detectors::host_rules::alerts`].
pub trait HostRules: Send + Sync + std::fmt::Debug {
    /// Appends to `out` the index of every rule that matches `record`.
    fn matches(&self, record: &HostRecord, out: &mut Vec<u32>);
    /// The rule with index `index`.
    fn rule(&self, index: u32) -> Option<&RuleMeta>;
}

/// A [`HOST_REGISTRY`] entry, like [`DetectorSpec`] for host detectors.
#[derive(Debug, Clone, Copy)]
pub struct HostDetectorSpec {
    pub id: &'static str,
    pub title: &'static str,
    pub attack: Option<&'static str>,
    pub build: for<'o> fn(&'o Org) -> Option<Box<dyn HostDetector + 'o>>,
}

/// Builds every enabled host detector for an org, in registry order (none when
/// `detectors.host.enabled` is false).
pub fn build_all_host(org: &Org) -> Vec<Box<dyn HostDetector + '_>> {
    if !org.detectors.host.enabled {
        return Vec::new();
    }
    HOST_REGISTRY
        .iter()
        .filter_map(|spec| (spec.build)(org))
        .collect()
}
