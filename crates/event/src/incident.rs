use crate::{AlertEndpoint, Service, Severity, Timestamp};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Alerts joined by shared hosts within a time window, with the scope a response team and
/// a regulator need: where the intruder came in, what it touched, whose data sits there,
/// how much moved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// `INC-0001`, ... in order of first alert.
    pub id: String,
    pub title: String,
    pub severity: Severity,
    /// Always `open` when produced by analysis; a case tool may change it.
    pub status: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// For each (source site or outside, affected site): the earliest crossing, in time order.
    pub entry_points: Vec<EntryPoint>,
    /// Site ids involved, sorted.
    pub sites: Vec<String>,
    /// Addresses involved (both ends of every alert), sorted.
    pub hosts: Vec<IpAddr>,
    /// Declared assets touched, sorted.
    pub assets: Vec<String>,
    /// Data classes held on the assets touched, sorted.
    pub data_classes: Vec<String>,
    /// Customers whose data is on the assets touched, sorted.
    pub customers: Vec<String>,
    /// Users named by application logs on the incident's flows.
    pub users: Vec<String>,
    /// Payload bytes per (from site, to site); `external` for outside every site.
    pub bytes_moved: Vec<BytesMoved>,
    pub detectors: Vec<String>,
    pub alert_ids: Vec<String>,
    /// Every alert, earliest first.
    pub timeline: Vec<TimelineEntry>,
}

/// A crossing through which the intrusion reached a site.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntryPoint {
    pub ts: Timestamp,
    pub src: AlertEndpoint,
    pub dst: AlertEndpoint,
    pub service: Service,
    pub alert_id: String,
}

/// Bytes that moved from one site to another within an incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BytesMoved {
    pub from_site: String,
    pub to_site: String,
    pub bytes: u64,
}

/// One alert as a line of an incident's timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub ts: Timestamp,
    pub alert_id: String,
    pub detector: String,
    pub severity: Severity,
    pub src: AlertEndpoint,
    pub dst: AlertEndpoint,
    pub service: Service,
    pub summary: String,
}
