use crate::{AppContext, ConnState, Flow, Service, Timestamp, Uid};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// How bad an alert or incident is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// One step up, capped at critical.
    pub fn raise(self) -> Self {
        match self {
            Severity::Info => Severity::Low,
            Severity::Low => Severity::Medium,
            Severity::Medium => Severity::High,
            Severity::High | Severity::Critical => Severity::Critical,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One end of an alert, resolved against the organisation model.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AlertEndpoint {
    /// `None` when the alert is about many addresses (a scan's targets).
    pub ip: Option<IpAddr>,
    /// Site id from the org file; `None` for addresses outside every site (external).
    pub site: Option<String>,
    /// Asset name from the org file, when the address belongs to a declared asset.
    pub asset: Option<String>,
    /// Country of the site (ISO 3166-1 alpha-2).
    pub country: Option<String>,
}

/// A flow that supports an alert, as the report shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub ts: Timestamp,
    pub uid: Uid,
    pub orig_ip: IpAddr,
    pub orig_port: u16,
    pub resp_ip: IpAddr,
    pub resp_port: u16,
    pub service: Service,
    pub orig_bytes: u64,
    pub resp_bytes: u64,
    pub state: ConnState,
    pub sensor: Arc<str>,
}

impl From<&Flow> for Evidence {
    fn from(f: &Flow) -> Self {
        Evidence {
            ts: f.ts,
            uid: f.uid,
            orig_ip: f.orig_ip,
            orig_port: f.orig_port,
            resp_ip: f.resp_ip,
            resp_port: f.resp_port,
            service: f.service,
            orig_bytes: f.orig_bytes,
            resp_bytes: f.resp_bytes,
            state: f.state,
            sensor: f.sensor.clone(),
        }
    }
}

/// A finding of one detector: what, when, between whom, why, and the flows that show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable within one run: assigned after alerts are put in (time, detector, src, dst)
    /// order, so the same input always gives the same ids (`A000001`, ...).
    pub id: String,
    /// Detector id, e.g. `policy-deny`.
    pub detector: String,
    pub severity: Severity,
    /// Time of the first evidence.
    pub ts: Timestamp,
    /// Time of the last evidence (equal to `ts` for single-flow alerts).
    pub last_ts: Timestamp,
    pub src: AlertEndpoint,
    pub dst: AlertEndpoint,
    pub service: Service,
    /// Responder port of the (first) flow, when the alert is about one.
    pub dst_port: Option<u16>,
    /// The policy rule that matched, for policy alerts.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rule: Option<String>,
    /// MITRE ATT&CK technique, e.g. `T1021.001`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub attack: Option<String>,
    /// One line a human reads first.
    pub summary: String,
    /// Flows summarised by this alert.
    pub flow_count: u64,
    /// Payload bytes originator → responder over those flows.
    pub bytes_out: u64,
    /// Payload bytes responder → originator over those flows.
    pub bytes_in: u64,
    /// Other hosts that are part of the finding: the next hops of a pivot chain, a sample of
    /// a scan's targets.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub related: Vec<AlertEndpoint>,
    /// Users, client hosts and shares named by application logs on these flows.
    #[serde(skip_serializing_if = "AppContext::is_empty", default)]
    pub context: AppContext,
    /// Up to [`Alert::MAX_EVIDENCE`] of the flows, earliest first.
    pub evidence: Vec<Evidence>,
}

impl Alert {
    /// Cap on evidence kept per alert.
    pub const MAX_EVIDENCE: usize = 16;

    /// A single-flow alert with the flow as its evidence.
    pub fn for_flow(
        detector: &str,
        severity: Severity,
        flow: &Flow,
        src: AlertEndpoint,
        dst: AlertEndpoint,
        summary: String,
    ) -> Self {
        Alert {
            id: String::new(),
            detector: detector.to_string(),
            severity,
            ts: flow.ts,
            last_ts: flow.ts,
            src,
            dst,
            service: flow.service,
            dst_port: Some(flow.resp_port),
            rule: None,
            attack: None,
            summary,
            flow_count: 1,
            bytes_out: flow.orig_bytes,
            bytes_in: flow.resp_bytes,
            related: Vec::new(),
            context: AppContext::default(),
            evidence: vec![Evidence::from(flow)],
        }
    }

    /// Adds a flow to the alert's totals and, while there is room, to its evidence.
    pub fn add_flow(&mut self, flow: &Flow) {
        self.flow_count += 1;
        self.bytes_out = self.bytes_out.saturating_add(flow.orig_bytes);
        self.bytes_in = self.bytes_in.saturating_add(flow.resp_bytes);
        if flow.ts < self.ts {
            self.ts = flow.ts;
        }
        if flow.ts > self.last_ts {
            self.last_ts = flow.ts;
        }
        if self.evidence.len() < Self::MAX_EVIDENCE {
            self.evidence.push(Evidence::from(flow));
        }
    }

    /// Key that orders alerts deterministically.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            self.ts,
            &self.detector,
            &self.src,
            &self.dst,
            self.dst_port,
            &self.rule,
        )
    }
}
