//! Reading a store: the committed segments of a table, pruned by time and site, and their
//! rows back as events.

use crate::StoreError;
use crate::layout::Table;
use crate::manifest::{Manifest, Segment};
use crate::schema::StoredAlert;
use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, TimestampMicrosecondType, UInt16Type, UInt64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sekisho_event::{Alert, ConnState, Flow, Proto, Service, Timestamp, Uid};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which part of a table to read.
#[derive(Clone, Debug, Default)]
pub struct Scan {
    /// Events at or after this time (µs).
    pub from: Option<i64>,
    /// Events before this time (µs).
    pub to: Option<i64>,
    /// Only these partition sites (`_external` for flows outside every site).
    pub sites: Option<HashSet<String>>,
}

impl Scan {
    fn keeps(&self, seg: &Segment) -> bool {
        if self.from.is_some_and(|f| seg.max_ts < f) || self.to.is_some_and(|t| seg.min_ts >= t) {
            return false;
        }
        self.sites.as_ref().is_none_or(|s| s.contains(&seg.site))
    }

    fn keeps_ts(&self, ts: i64) -> bool {
        self.from.is_none_or(|f| ts >= f) && self.to.is_none_or(|t| ts < t)
    }
}

/// A flow read back with the place it was stored under.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredFlow {
    pub flow: Flow,
    /// Partition site (`_external` outside every site).
    pub site: String,
    pub direction: String,
    pub policy_action: String,
    pub policy_rule: Option<String>,
}

/// A store opened for reading.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    manifest: Manifest,
}

impl Store {
    /// Reads the manifest of `dir`. Nothing is repaired; a missing store is an error.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        if !dir.is_dir() {
            return Err(StoreError::NotAStore(dir.to_path_buf()));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest: Manifest::read(dir)?,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The chain head over every committed segment.
    pub fn chain_head(&self) -> String {
        self.manifest.chain_head()
    }

    /// Committed segments of a table that may hold events in the scan.
    pub fn segments<'a>(
        &'a self,
        table: Table,
        scan: &'a Scan,
    ) -> impl Iterator<Item = &'a Segment> {
        self.manifest
            .segments()
            .filter(move |s| s.table == table.as_str() && scan.keeps(s))
    }

    /// Reads the named columns of one segment.
    pub fn read_segment(
        &self,
        seg: &Segment,
        columns: &[&str],
    ) -> Result<Vec<RecordBatch>, StoreError> {
        let path = self.dir.join(&seg.path);
        let file = File::open(&path).map_err(|e| StoreError::io(&path, e))?;
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(StoreError::Parquet)?;
        let schema = builder.parquet_schema();
        let indices: Vec<usize> = columns
            .iter()
            .filter_map(|c| schema.columns().iter().position(|col| col.name() == *c))
            .collect();
        let mask = ProjectionMask::leaves(schema, indices);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(64 * 1024)
            .build()
            .map_err(StoreError::Parquet)?;
        reader
            .map(|b| b.map_err(StoreError::Arrow))
            .collect::<Result<Vec<_>, _>>()
    }

    /// Calls `f` for every stored flow in the scan, segment by segment (commit order).
    pub fn for_each_flow(
        &self,
        scan: &Scan,
        mut f: impl FnMut(StoredFlow),
    ) -> Result<u64, StoreError> {
        let mut n = 0u64;
        let mut sensors: HashMap<String, Arc<str>> = HashMap::new();
        for seg in self.segments(Table::Flows, scan) {
            for batch in self.read_segment(seg, FLOW_COLUMNS)? {
                let cols = FlowBatch::new(&batch)?;
                for i in 0..batch.num_rows() {
                    let ts = cols.ts.value(i);
                    if !scan.keeps_ts(ts) {
                        continue;
                    }
                    let sensor = cols.sensor.str(i).unwrap_or_default();
                    let sensor = match sensors.get(sensor) {
                        Some(s) => s.clone(),
                        None => {
                            let s: Arc<str> = Arc::from(sensor);
                            sensors.insert(sensor.to_string(), s.clone());
                            s
                        }
                    };
                    let ip = |c: &Col, what: &str| -> Result<IpAddr, StoreError> {
                        c.str(i)
                            .and_then(|s| s.parse().ok())
                            .ok_or_else(|| StoreError::BadRow {
                                path: seg.path.clone(),
                                row: i,
                                message: format!("{what} is not an address"),
                            })
                    };
                    let flow = Flow {
                        ts: Timestamp::from_micros(ts),
                        duration_us: cols.duration.value(i),
                        uid: Uid::new(cols.uid.str(i).unwrap_or_default()).unwrap_or_default(),
                        orig_ip: ip(&cols.src_ip, "src_ip")?,
                        orig_port: cols.src_port.value(i),
                        resp_ip: ip(&cols.dst_ip, "dst_ip")?,
                        resp_port: cols.dst_port.value(i),
                        proto: Proto::from_zeek(cols.proto.str(i).unwrap_or_default()),
                        service: cols
                            .service
                            .str(i)
                            .and_then(Service::from_name)
                            .unwrap_or(Service::Other),
                        orig_bytes: cols.orig_bytes.value(i),
                        resp_bytes: cols.resp_bytes.value(i),
                        orig_pkts: cols.orig_pkts.value(i),
                        resp_pkts: cols.resp_pkts.value(i),
                        state: ConnState::from_zeek(cols.state.str(i).unwrap_or_default()),
                        sensor,
                    };
                    n += 1;
                    f(StoredFlow {
                        flow,
                        site: seg.site.clone(),
                        direction: cols.direction.str(i).unwrap_or_default().to_string(),
                        policy_action: cols.action.str(i).unwrap_or_default().to_string(),
                        policy_rule: cols.rule.str(i).map(str::to_string),
                    });
                }
            }
        }
        Ok(n)
    }

    /// Every stored alert in the scan, in (time, key) order.
    pub fn alerts(&self, scan: &Scan) -> Result<Vec<StoredAlert>, StoreError> {
        let mut out = Vec::new();
        for seg in self.segments(Table::Alerts, scan) {
            for batch in self.read_segment(seg, &["key", "incident", "json", "ts"])? {
                let key = Col::of(&batch, "key")?;
                let incident = Col::of(&batch, "incident")?;
                let json = Col::of(&batch, "json")?;
                for i in 0..batch.num_rows() {
                    let alert: Alert = serde_json::from_str(json.str(i).unwrap_or_default())
                        .map_err(|e| StoreError::BadRow {
                            path: seg.path.clone(),
                            row: i,
                            message: e.to_string(),
                        })?;
                    if !scan.keeps_ts(alert.ts.as_micros()) {
                        continue;
                    }
                    out.push(StoredAlert {
                        key: key.str(i).unwrap_or_default().to_string(),
                        incident: incident.str(i).map(str::to_string),
                        alert,
                    });
                }
            }
        }
        out.sort_by(|a, b| (a.alert.ts, &a.key).cmp(&(b.alert.ts, &b.key)));
        Ok(out)
    }

    /// The `key` column of a table stored by content key (`alerts`, `logons`,
    /// `host_events`), as [`key_id`]s: of every segment, or of one day's (`YYYY-MM-DD`).
    pub fn keys(&self, table: Table, day: Option<&str>) -> Result<HashSet<u128>, StoreError> {
        let mut out = HashSet::new();
        let all = Scan::default();
        for seg in self.segments(table, &all) {
            if day.is_some_and(|d| d != seg.day) {
                continue;
            }
            for batch in self.read_segment(seg, &["key"])? {
                let key = Col::of(&batch, "key")?;
                for i in 0..batch.num_rows() {
                    out.insert(key_id(key.str(i).unwrap_or_default()));
                }
            }
        }
        Ok(out)
    }
}

/// A content key (32 hex digits, 128 bits of BLAKE3) as the number it spells, so that a
/// set of them holds 16 bytes per key; a key that is not hex (a damaged file) is hashed.
pub fn key_id(key: &str) -> u128 {
    if key.len() == 32
        && let Ok(n) = u128::from_str_radix(key, 16)
    {
        return n;
    }
    let h = blake3::hash(key.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h.as_bytes()[..16]);
    u128::from_be_bytes(b)
}

/// Columns [`Store::for_each_flow`] reads.
const FLOW_COLUMNS: &[&str] = &[
    "ts",
    "duration_us",
    "uid",
    "sensor",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "proto",
    "service",
    "orig_bytes",
    "resp_bytes",
    "orig_pkts",
    "resp_pkts",
    "conn_state",
    "direction",
    "policy_action",
    "policy_rule",
];

/// A text column, plain or dictionary-encoded.
pub(crate) struct Col(ArrayRef);

impl Col {
    pub(crate) fn of(batch: &RecordBatch, name: &str) -> Result<Self, StoreError> {
        let col = batch
            .column_by_name(name)
            .ok_or_else(|| StoreError::MissingColumn(name.to_string()))?;
        match col.data_type() {
            DataType::Utf8 => Ok(Self(col.clone())),
            DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8 => {
                Ok(Self(col.clone()))
            }
            other => Err(StoreError::ColumnType {
                column: name.to_string(),
                found: other.to_string(),
            }),
        }
    }

    pub(crate) fn str(&self, i: usize) -> Option<&str> {
        if self.0.is_null(i) {
            return None;
        }
        match self.0.data_type() {
            DataType::Utf8 => Some(self.0.as_string::<i32>().value(i)),
            _ => {
                let d = self.0.as_dictionary::<Int32Type>();
                let key = usize::try_from(d.keys().value(i)).ok()?;
                let values = d.values().as_string::<i32>();
                (key < values.len()).then(|| values.value(key))
            }
        }
    }
}

struct FlowBatch<'b> {
    ts: &'b arrow_array::PrimitiveArray<TimestampMicrosecondType>,
    duration: &'b arrow_array::PrimitiveArray<UInt64Type>,
    uid: Col,
    sensor: Col,
    src_ip: Col,
    src_port: &'b arrow_array::PrimitiveArray<UInt16Type>,
    dst_ip: Col,
    dst_port: &'b arrow_array::PrimitiveArray<UInt16Type>,
    proto: Col,
    service: Col,
    orig_bytes: &'b arrow_array::PrimitiveArray<UInt64Type>,
    resp_bytes: &'b arrow_array::PrimitiveArray<UInt64Type>,
    orig_pkts: &'b arrow_array::PrimitiveArray<UInt64Type>,
    resp_pkts: &'b arrow_array::PrimitiveArray<UInt64Type>,
    state: Col,
    direction: Col,
    action: Col,
    rule: Col,
}

impl<'b> FlowBatch<'b> {
    fn new(batch: &'b RecordBatch) -> Result<Self, StoreError> {
        fn prim<'a, T: arrow_array::ArrowPrimitiveType>(
            batch: &'a RecordBatch,
            name: &str,
        ) -> Result<&'a arrow_array::PrimitiveArray<T>, StoreError> {
            batch
                .column_by_name(name)
                .ok_or_else(|| StoreError::MissingColumn(name.to_string()))?
                .as_primitive_opt::<T>()
                .ok_or_else(|| StoreError::ColumnType {
                    column: name.to_string(),
                    found: "another type".to_string(),
                })
        }
        Ok(Self {
            ts: prim(batch, "ts")?,
            duration: prim(batch, "duration_us")?,
            uid: Col::of(batch, "uid")?,
            sensor: Col::of(batch, "sensor")?,
            src_ip: Col::of(batch, "src_ip")?,
            src_port: prim(batch, "src_port")?,
            dst_ip: Col::of(batch, "dst_ip")?,
            dst_port: prim(batch, "dst_port")?,
            proto: Col::of(batch, "proto")?,
            service: Col::of(batch, "service")?,
            orig_bytes: prim(batch, "orig_bytes")?,
            resp_bytes: prim(batch, "resp_bytes")?,
            orig_pkts: prim(batch, "orig_pkts")?,
            resp_pkts: prim(batch, "resp_pkts")?,
            state: Col::of(batch, "conn_state")?,
            direction: Col::of(batch, "direction")?,
            action: Col::of(batch, "policy_action")?,
            rule: Col::of(batch, "policy_rule")?,
        })
    }
}

/// Typed access by column name to a batch read with [`Store::read_segment`]; a column that
/// is missing or of another type reads as null / 0.
#[derive(Debug)]
pub struct BatchView<'b> {
    batch: &'b RecordBatch,
    text: HashMap<String, Col>,
}

impl std::fmt::Debug for Col {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Col({})", self.0.data_type())
    }
}

impl<'b> BatchView<'b> {
    /// Checks that `ts` is a microsecond timestamp column.
    pub fn new(batch: &'b RecordBatch) -> Result<Self, StoreError> {
        let mut text = HashMap::new();
        for field in batch.schema().fields() {
            if let Ok(c) = Col::of(batch, field.name()) {
                text.insert(field.name().clone(), c);
            }
        }
        if let Some(ts) = batch.column_by_name("ts")
            && ts.as_primitive_opt::<TimestampMicrosecondType>().is_none()
        {
            return Err(StoreError::ColumnType {
                column: "ts".to_string(),
                found: ts.data_type().to_string(),
            });
        }
        Ok(Self { batch, text })
    }

    /// `ts` in µs (0 when absent).
    pub fn ts(&self, i: usize) -> i64 {
        self.batch
            .column_by_name("ts")
            .and_then(|c| c.as_primitive_opt::<TimestampMicrosecondType>())
            .map_or(0, |c| c.value(i))
    }

    /// A text column's value; `None` for null or a missing column.
    pub fn text(&self, name: &str, i: usize) -> Option<&str> {
        self.text.get(name).and_then(|c| c.str(i))
    }

    /// An unsigned column's value (0 when missing).
    pub fn u64(&self, name: &str, i: usize) -> u64 {
        self.batch
            .column_by_name(name)
            .and_then(|c| c.as_primitive_opt::<UInt64Type>())
            .map_or(0, |c| c.value(i))
    }
}
