//! Normalised events that every other sekisho crate speaks.
//!
//! Sources (Zeek today; NetFlow, pcap and host logs later) turn bytes into these types;
//! enrichment, detection, correlation and reporting only ever see these types. Field names
//! follow OCSF/ECS where one exists (`src`/`dst`, `bytes_in`/`bytes_out`).
//!
//! This crate does no I/O and has no dependency on any other sekisho crate.
//!
//! ```
//! use sekisho_event::{Timestamp, Proto};
//! let ts = Timestamp::from_secs_f64(1_588_205_199.82437).unwrap();
//! assert_eq!(ts.as_micros(), 1_588_205_199_824_370);
//! assert_eq!(Proto::from_zeek("tcp"), Proto::Tcp);
//! ```

mod alert;
mod app;
mod flow;
mod host;
mod incident;
mod service;
mod stats;
mod time;

pub use alert::{Alert, AlertEndpoint, Evidence, Severity};
pub use app::{AppContext, AppKind, AppRecord};
pub use flow::{ConnState, Flow, Proto, Uid};
pub use host::{
    Fields, HostEvent, HostEventKind, HostOrigin, HostRecord, HostSource, Logon, LogonAction,
    Outcome,
};
pub use incident::{BytesMoved, EntryPoint, Incident, TimelineEntry};
pub use service::{ALL_SERVICES, Service};
pub use stats::{MAX_REJECTION_SAMPLES, RejectReason, Rejection, RunStats};
pub use time::Timestamp;
