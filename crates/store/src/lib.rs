//! The evidence store: every enriched flow, alert and host record (logons and other host
//! events) as Parquet files partitioned by day and
//! site, written append-only through a hash-chained manifest (`docs/store.md` is the
//! contract), so that DataFusion, DuckDB, Spark or Trino read the same files and
//! [`verify`] proves later that nothing changed.
//!
//! This crate knows events (`sekisho-event`) and files; it must not depend on the model, the
//! detectors or a query engine. The caller resolves names ([`FlowPlace`]); SQL lives in
//! `sekisho-hunt`.
//!
//! ```
//! use sekisho_event::{ConnState, Flow, Proto, Service, Timestamp, Uid};
//! use sekisho_store::{FlowPlace, InputId, Scan, Store, StoreWriter, verify};
//! let dir = std::env::temp_dir().join(format!("sekisho-store-doc-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! let flow = Flow {
//!     ts: Timestamp::from_micros(1_714_521_600_000_000), duration_us: 1, uid: Uid::new("C1").unwrap(),
//!     orig_ip: "10.1.0.5".parse().unwrap(), orig_port: 50000,
//!     resp_ip: "10.0.0.9".parse().unwrap(), resp_port: 445, proto: Proto::Tcp,
//!     service: Service::Smb, orig_bytes: 10, resp_bytes: 20, orig_pkts: 1, resp_pkts: 1,
//!     state: ConnState::SF, sensor: "th".into(),
//! };
//! let place = FlowPlace { partition_site: Some("th"), src_site: Some("th"), dst_site: Some("hq"),
//!     direction: "cross-site", policy_action: "deny", ..FlowPlace::default() };
//! let mut w = StoreWriter::open(&dir).unwrap();
//! let input = w.input(InputId::of_bytes(b"conn.log"), "conn.log");
//! assert!(w.push_flow(input, &flow, &place).unwrap());
//! w.complete(input);
//! w.finish(None).unwrap();
//!
//! let store = Store::open(&dir).unwrap();
//! let mut n = 0;
//! store.for_each_flow(&Scan::default(), |f| { assert_eq!(f.flow, flow); n += 1 }).unwrap();
//! assert_eq!(n, 1);
//! assert!(verify(&dir).unwrap().is_intact());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

mod dict;
mod encode;
mod flow_file;
pub mod layout;
pub mod manifest;
mod read;
pub mod schema;
mod verify;
mod writer;

pub use layout::Table;
pub use manifest::{Commit, InputProgress, Manifest, Segment};
pub use read::{BatchView, Scan, Store, StoredFlow, key_id};
pub use schema::{
    FlowPlace, StoredAlert, StoredHostEvent, StoredLogon, alert_key, alerts_schema, flows_schema,
    host_event_key, host_events_schema, logon_key, logons_schema,
};
pub use verify::{Problem, ProblemKind, VerifyReport, verify};
pub use writer::{COMMIT_ROWS, InputHandle, InputId, StoreWriter, WriteStats, job_key};

use std::path::{Path, PathBuf};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is not a store directory")]
    NotAStore(PathBuf),
    #[error("manifest.jsonl line {line}: {message}")]
    Manifest { line: usize, message: String },
    #[error("{path} row {row}: {message}")]
    BadRow {
        path: String,
        row: usize,
        message: String,
    },
    #[error("segment lacks column `{0}`")]
    MissingColumn(String),
    #[error("column `{column}` has type {found}")]
    ColumnType { column: String, found: String },
    #[error("input handle from another writer")]
    UnknownInput,
    #[error("arrow: {0}")]
    Arrow(arrow_schema::ArrowError),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("json: {0}")]
    Json(serde_json::Error),
}

impl StoreError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
