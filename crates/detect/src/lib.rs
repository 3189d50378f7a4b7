//! Detectors: small, self-contained units behind one trait, listed in one table.
//!
//! Each detector sees every enriched flow in (roughly) time order and emits alerts into an
//! [`AlertSink`]. Detectors take time only from the flows, never from the clock, so the
//! same input always gives the same alerts. Each keeps its state in tables bounded by
//! [`sekisho_model::settings::Limits::max_tracked_keys`]; what a bound pushes out is counted
//! in [`DetectorStats`].
//!
//! To add a detector: write one file in `src/detectors/` with the doc template (what, why,
//! example, known false positives, ATT&CK), and add one line to [`REGISTRY`].

use sekisho_event::{Alert, AppContext, Flow};
use sekisho_model::{Enriched, Org};

pub mod detectors;

pub use detectors::REGISTRY;

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
}

impl AlertSink {
    pub fn new(max_alerts: usize) -> Self {
        Self {
            alerts: Vec::new(),
            max_alerts,
            dropped: 0,
        }
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
}

/// What a detector's bounded state went through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DetectorStats {
    /// Keys held now.
    pub tracked: usize,
    /// Keys pushed out by the bound over the run.
    pub evicted: u64,
}

/// A detector. Implementations live in `src/detectors/`, one file each.
pub trait Detector: std::fmt::Debug {
    /// Stable id, e.g. `policy-deny`.
    fn id(&self) -> &'static str;
    /// Looks at one flow.
    fn on_flow(&mut self, view: &FlowView<'_>, out: &mut AlertSink);
    /// End of input: emit what is still pending (open aggregates, scores, silent sensors).
    fn finish(&mut self, out: &mut AlertSink);
    fn stats(&self) -> DetectorStats;
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
    REGISTRY.iter().filter_map(|spec| (spec.build)(org)).collect()
}
