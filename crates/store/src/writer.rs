//! The append-only writer: buffers events per (day, site) partition, seals them as Parquet
//! segments and commits them through the manifest.
//!
//! Commit protocol (crash at any point loses nothing acknowledged and shows no half file):
//! 1. each segment is written to `_staging/` and flushed to disk;
//! 2. one manifest line naming the segments (with their hashes) is appended and flushed:
//!    from here the commit is acknowledged;
//! 3. the staged files are renamed to their places under the tables.
//!
//! [`StoreWriter::open`] repairs what a crash left: a torn last manifest line is cut off,
//! committed segments still in staging are moved to their places, and staged files that no
//! commit names are deleted.

use crate::flow_file::{FlowColumns, SegmentEncoders};
use crate::layout::{self, EXTERNAL_SITE, MANIFEST, STAGING, Table};
use crate::manifest::{self, Commit, InputProgress, Manifest, Segment};
use crate::schema::{FlowPlace, StoredAlert, StoredHostEvent, StoredLogon};
use crate::{Store, StoreError};
use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use sekisho_event::Flow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::hash::BuildHasher;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Flows buffered (over all partitions) before a commit is made. Bounds the writer's memory
/// (about 100 bytes per buffered flow) and what a crash can make a run redo.
pub const COMMIT_ROWS: usize = 1 << 20;
/// Open partitions before a commit is forced, so a scatter of days and sites cannot hold
/// thousands of builders at once.
pub const MAX_OPEN_PARTITIONS: usize = 512;
/// A flow partition: day number and site (`None`: outside the organisation).
type PartitionKey = (i32, Option<String>);

/// Rows per Parquet row group.
pub const ROW_GROUP_ROWS: usize = 1 << 20;

/// How the segments of the tables other than `flows` are encoded by Arrow's writer (the
/// `flows` segments make the same choices in `flow_file.rs`). Parquet's defaults
/// dictionary-encode every column and keep min/max of every value; for unique values that
/// only costs time and space:
/// * `uid`, `duration_us` and the byte counts are nearly unique per flow, so a dictionary
///   would hold every value once more plus an index per row; they are written plain;
/// * `ts` rises within a segment and many stacks hand out source ports in sequence, so
///   neighbouring rows differ little: DELTA_BINARY_PACKED, an encoding every engine the
///   store promises (Spark, Trino, DuckDB, DataFusion) reads;
/// * `uid` is random text, so its min/max prune nothing and are not kept;
/// * zstd level 1 compressed the demo's segments smaller than level 3 and in less time,
///   because most bytes left after the encodings are random.
///
/// Column names are matched in every table, which is harmless: the same names mean the
/// same things there.
fn segment_properties() -> WriterProperties {
    use parquet::basic::Encoding;
    use parquet::file::properties::EnabledStatistics;
    use parquet::schema::types::ColumnPath;
    let column = |name: &str| ColumnPath::from(name);
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS));
    for name in ["uid", "duration_us", "orig_bytes", "resp_bytes"] {
        props = props.set_column_dictionary_enabled(column(name), false);
    }
    for name in ["ts", "src_port"] {
        props = props
            .set_column_dictionary_enabled(column(name), false)
            .set_column_encoding(column(name), Encoding::DELTA_BINARY_PACKED);
    }
    props
        .set_column_statistics_enabled(column("uid"), EnabledStatistics::None)
        .build()
}

/// Identity of an input: the BLAKE3 of its bytes, hex.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InputId(pub String);

impl InputId {
    /// Of bytes in memory.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self(blake3::hash(bytes).to_hex().to_string())
    }

    /// Of a file's content, read in blocks.
    pub fn of_file(path: &Path) -> Result<Self, StoreError> {
        let mut h = blake3::Hasher::new();
        let file = File::open(path).map_err(|e| StoreError::io(path, e))?;
        h.update_reader(file).map_err(|e| StoreError::io(path, e))?;
        Ok(Self(h.finalize().to_hex().to_string()))
    }
}

/// A handle on one input of the run, from [`StoreWriter::input`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputHandle(usize);

#[derive(Debug)]
struct InputState {
    id: InputId,
    name: String,
    /// Flows of this input already stored by earlier runs (`u64::MAX`: all of them).
    already: u64,
    /// Flows offered by this run so far.
    seen: u64,
    complete: bool,
    /// Changed since the last commit.
    dirty: bool,
}

/// What one ingest run did to the store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    pub flows_stored: u64,
    /// Flows offered that an earlier run had stored already.
    pub flows_skipped: u64,
    pub alerts_stored: u64,
    /// Alerts offered that the store holds already (same content key).
    pub alerts_skipped: u64,
    pub logons_stored: u64,
    /// Logons offered that the store holds already (same content key).
    pub logons_skipped: u64,
    pub host_events_stored: u64,
    /// Host events offered that the store holds already (same content key).
    pub host_events_skipped: u64,
    pub commits: u64,
    pub segments: u64,
    pub bytes_written: u64,
}

/// Writes events into a store directory.
#[derive(Debug)]
pub struct StoreWriter {
    dir: PathBuf,
    next_seq: u64,
    chain: [u8; 32],
    progress: BTreeMap<String, InputProgress>,
    jobs: HashSet<String>,
    inputs: Vec<InputState>,
    /// Buffered flows by (day, site) partition, in the order the partitions were opened.
    partitions: Vec<(PartitionKey, FlowColumns)>,
    /// Where each open partition is in `partitions`, by day and a hash of the site: flows
    /// of several sites interleave in one sensor's log, so a flow often finds its partition
    /// here, without building a key (an allocation) to look it up. A hit is checked against
    /// the partition; a miss or a collision falls back to a scan of the open partitions.
    partition_index: HashMap<(i32, u64), usize, foldhash::fast::FixedState>,
    /// The partition of the last flow pushed: flows come in runs of one day and site, so
    /// most find theirs with one comparison.
    last_partition: Option<usize>,
    buffered: usize,
    alerts: Keyed<StoredAlert>,
    logons: Keyed<StoredLogon>,
    host_events: Keyed<StoredHostEvent>,
    stats: WriteStats,
    props: WriterProperties,
    /// Encode the `flows` segments (the other tables go through Arrow's writer).
    flow_encoders: SegmentEncoders,
    commit_rows: usize,
}

impl StoreWriter {
    /// Opens (creating if needed) a store and repairs what an interrupted run left.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        fs::create_dir_all(dir.join(STAGING)).map_err(|e| StoreError::io(dir, e))?;
        let manifest = Manifest::read(dir)?;
        if manifest.torn_tail.is_some() {
            let path = dir.join(MANIFEST);
            let f = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| StoreError::io(&path, e))?;
            f.set_len(manifest.committed_len)
                .and_then(|_| f.sync_all())
                .map_err(|e| StoreError::io(&path, e))?;
        }
        let mut named = HashSet::new();
        for seg in manifest.segments() {
            let staged = dir.join(STAGING).join(layout::staging_name(&seg.path));
            named.insert(layout::staging_name(&seg.path));
            let dest = dir.join(&seg.path);
            if !dest.exists() && staged.exists() {
                place(&staged, &dest)?;
            }
        }
        let staging = dir.join(STAGING);
        for entry in fs::read_dir(&staging).map_err(|e| StoreError::io(&staging, e))? {
            let entry = entry.map_err(|e| StoreError::io(&staging, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !named.contains(&name) {
                let _ = fs::remove_file(entry.path());
            }
        }
        let chain = decode_hex(&manifest.chain_head()).unwrap_or(manifest::GENESIS);
        let props = segment_properties();
        Ok(Self {
            dir: dir.to_path_buf(),
            next_seq: manifest.commits.last().map_or(1, |c| c.seq + 1),
            chain,
            progress: manifest.inputs(),
            jobs: manifest
                .commits
                .iter()
                .filter_map(|c| c.job.clone())
                .collect(),
            inputs: Vec::new(),
            partitions: Vec::new(),
            partition_index: HashMap::default(),
            last_partition: None,
            buffered: 0,
            alerts: Keyed::new(Table::Alerts),
            logons: Keyed::new(Table::Logons),
            host_events: Keyed::new(Table::HostEvents),
            stats: WriteStats::default(),
            props,
            flow_encoders: SegmentEncoders::new(),
            commit_rows: COMMIT_ROWS,
        })
    }

    /// Commits after this many buffered flows instead of [`COMMIT_ROWS`] (at least 1):
    /// smaller commits acknowledge sooner and cost more files.
    pub fn with_commit_rows(mut self, rows: usize) -> Self {
        self.commit_rows = rows.clamp(1, COMMIT_ROWS);
        self
    }

    /// Declares an input of this run. Flows are then offered in the order the input yields
    /// them; those an earlier run stored are skipped.
    pub fn input(&mut self, id: InputId, name: &str) -> InputHandle {
        let already = match self.progress.get(&id.0) {
            Some(p) if p.complete => u64::MAX,
            Some(p) => p.stored,
            None => 0,
        };
        self.inputs.push(InputState {
            id,
            name: name.to_string(),
            already,
            seen: 0,
            complete: false,
            dirty: true,
        });
        InputHandle(self.inputs.len() - 1)
    }

    /// True when every flow of the input was stored by an earlier run.
    pub fn is_complete(&self, input: InputHandle) -> bool {
        self.inputs
            .get(input.0)
            .is_some_and(|i| i.already == u64::MAX)
    }

    /// True when a finished run had this job key (see [`job_key`]).
    pub fn has_job(&self, job: &str) -> bool {
        self.jobs.contains(job)
    }

    /// Offers the next flow of an input; returns whether it was stored (false: an earlier
    /// run stored it). May commit.
    pub fn push_flow(
        &mut self,
        input: InputHandle,
        flow: &Flow,
        place: &FlowPlace<'_>,
    ) -> Result<bool, StoreError> {
        let Some(state) = self.inputs.get_mut(input.0) else {
            return Err(StoreError::UnknownInput);
        };
        state.seen += 1;
        if state.seen <= state.already {
            self.stats.flows_skipped += 1;
            return Ok(false);
        }
        state.dirty = true;
        let day = layout::day_of(flow.ts.as_micros());
        let site = place.partition_site;
        let holds = |p: &(PartitionKey, FlowColumns)| p.0.0 == day && p.0.1.as_deref() == site;
        let at = match self.last_partition {
            Some(at) if holds(&self.partitions[at]) => at,
            _ => {
                let hashed = (day, self.partition_index.hasher().hash_one(site));
                let at = match self.partition_index.get(&hashed) {
                    Some(&at) if holds(&self.partitions[at]) => at,
                    _ => {
                        let at = match self.partitions.iter().position(holds) {
                            Some(at) => at,
                            None => {
                                let key = (day, site.map(str::to_string));
                                self.partitions.push((key, FlowColumns::new()));
                                self.partitions.len() - 1
                            }
                        };
                        self.partition_index.insert(hashed, at);
                        at
                    }
                };
                self.last_partition = Some(at);
                at
            }
        };
        self.partitions[at].1.push(flow, place);
        self.buffered += 1;
        self.stats.flows_stored += 1;
        if self.buffered >= self.commit_rows || self.partitions.len() > MAX_OPEN_PARTITIONS {
            self.commit(None)?;
        }
        Ok(true)
    }

    /// Marks an input as wholly offered: the next commit records it complete.
    pub fn complete(&mut self, input: InputHandle) {
        if let Some(state) = self.inputs.get_mut(input.0) {
            state.complete = true;
            state.dirty = true;
        }
    }

    /// Adds alerts to the next commit, skipping any the store (or this run) holds already.
    pub fn push_alerts(&mut self, alerts: Vec<StoredAlert>) -> Result<(), StoreError> {
        for a in alerts {
            if self
                .alerts
                .offer(&self.dir, a, |a| (&a.key, a.alert.ts.as_micros()))?
            {
                self.stats.alerts_stored += 1;
            } else {
                self.stats.alerts_skipped += 1;
            }
        }
        Ok(())
    }

    /// Adds logons to the next commit, skipping any the store (or this run) holds already.
    /// Past [`COMMIT_ROWS`] buffered logons, they are committed at once.
    pub fn push_logons(
        &mut self,
        logons: impl IntoIterator<Item = StoredLogon>,
    ) -> Result<(), StoreError> {
        for l in logons {
            if self
                .logons
                .offer(&self.dir, l, |l| (&l.key, l.logon.ts.as_micros()))?
            {
                self.stats.logons_stored += 1;
            } else {
                self.stats.logons_skipped += 1;
            }
            if self.logons.buffered.len() >= self.commit_rows {
                self.commit(None)?;
            }
        }
        Ok(())
    }

    /// Adds host events to the next commit, as [`StoreWriter::push_logons`].
    pub fn push_host_events(
        &mut self,
        events: impl IntoIterator<Item = StoredHostEvent>,
    ) -> Result<(), StoreError> {
        for e in events {
            if self
                .host_events
                .offer(&self.dir, e, |e| (&e.key, e.event.ts.as_micros()))?
            {
                self.stats.host_events_stored += 1;
            } else {
                self.stats.host_events_skipped += 1;
            }
            if self.host_events.buffered.len() >= self.commit_rows {
                self.commit(None)?;
            }
        }
        Ok(())
    }

    /// Seals everything buffered and commits it, with input progress and, on a run's last
    /// commit, its job key. When this returns, the events are acknowledged.
    pub fn commit(&mut self, job: Option<String>) -> Result<(), StoreError> {
        let seq = self.next_seq;
        let mut staged: Vec<(PathBuf, Segment)> = Vec::new();
        let mut partitions = std::mem::take(&mut self.partitions);
        self.partition_index.clear();
        self.last_partition = None;
        partitions.sort_by(|a, b| a.0.cmp(&b.0));
        partitions.retain(|(_, cols)| cols.rows > 0);
        let (keys, mut columns): (Vec<PartitionKey>, Vec<FlowColumns>) =
            partitions.into_iter().unzip();
        // Encoding empties the columns: their extent is taken first.
        let extents: Vec<(u64, i64, i64)> = columns
            .iter()
            .map(|c| (c.rows as u64, c.min_ts, c.max_ts))
            .collect();
        // Staging needs the writer while the encoders run: they are lent out meanwhile.
        let mut encoders =
            std::mem::replace(&mut self.flow_encoders, SegmentEncoders::with_threads(1));
        let segments = columns.iter_mut().collect();
        let encoded = encoders.encode(segments, |i, bytes| {
            let ((day, site), (rows, min_ts, max_ts)) = (&keys[i], extents[i]);
            let site = site.as_deref().unwrap_or(EXTERNAL_SITE);
            let write = |mut file: File| -> Result<File, ParquetError> {
                file.write_all(&bytes)?;
                Ok(file)
            };
            let seg = self.stage(
                Table::Flows,
                *day,
                site,
                seq,
                staged.len(),
                rows,
                write,
                min_ts,
                max_ts,
            )?;
            staged.push(seg);
            Ok::<_, StoreError>(())
        });
        self.flow_encoders = encoders;
        encoded?;
        self.buffered = 0;
        let alerts = std::mem::take(&mut self.alerts.buffered);
        let (part, batch) = (StoredAlert::partition, crate::schema::alerts_batch);
        self.stage_partitioned(Table::Alerts, alerts, part, batch, seq, &mut staged)?;
        let logons = std::mem::take(&mut self.logons.buffered);
        let (part, batch) = (StoredLogon::partition, crate::schema::logons_batch);
        self.stage_partitioned(Table::Logons, logons, part, batch, seq, &mut staged)?;
        let events = std::mem::take(&mut self.host_events.buffered);
        let (part, batch) = (StoredHostEvent::partition, crate::schema::host_events_batch);
        self.stage_partitioned(Table::HostEvents, events, part, batch, seq, &mut staged)?;
        let inputs: Vec<InputProgress> = self
            .inputs
            .iter_mut()
            .filter(|i| i.dirty)
            .map(|i| {
                i.dirty = false;
                let stored = if i.already == u64::MAX {
                    self.progress.get(&i.id.0).map_or(i.seen, |p| p.stored)
                } else {
                    i.already.max(i.seen)
                };
                InputProgress {
                    id: i.id.0.clone(),
                    name: i.name.clone(),
                    stored,
                    complete: i.complete || i.already == u64::MAX,
                }
            })
            .collect();
        if staged.is_empty() && inputs.is_empty() && job.is_none() {
            return Ok(());
        }
        let commit = Commit {
            seq,
            segments: staged.iter().map(|(_, s)| s.clone()).collect(),
            inputs,
            job: job.clone(),
        };
        let mut line = serde_json::to_vec(&commit).map_err(StoreError::Json)?;
        line.push(b'\n');
        let mpath = self.dir.join(MANIFEST);
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&mpath)
            .map_err(|e| StoreError::io(&mpath, e))?;
        f.write_all(&line)
            .and_then(|_| f.sync_data())
            .map_err(|e| StoreError::io(&mpath, e))?;
        // Acknowledged. Now the files take their places.
        for (tmp, seg) in &staged {
            place(tmp, &self.dir.join(&seg.path))?;
        }
        for p in &commit.inputs {
            self.progress.insert(p.id.clone(), p.clone());
        }
        if let Some(j) = job {
            self.jobs.insert(j);
        }
        self.next_seq += 1;
        self.stats.commits += 1;
        self.stats.segments += staged.len() as u64;
        Ok(())
    }

    /// Commits what is left, marking the run finished under `job`.
    pub fn finish(mut self, job: Option<String>) -> Result<WriteStats, StoreError> {
        self.commit(job)?;
        Ok(self.stats)
    }

    /// What this run did so far.
    pub fn stats(&self) -> &WriteStats {
        &self.stats
    }

    /// The chain head after the last commit.
    pub fn chain_head(&self) -> String {
        manifest::hex(&self.chain)
    }

    /// Stages `items` as one segment per (day, site) partition, numbered after those
    /// already in `staged`; `part` gives an item's time and partition site (`None`:
    /// outside every site).
    fn stage_partitioned<T>(
        &mut self,
        table: Table,
        items: Vec<T>,
        part: impl Fn(&T) -> (i64, Option<&str>),
        batch: impl Fn(&[T]) -> Result<RecordBatch, arrow_schema::ArrowError>,
        seq: u64,
        staged: &mut Vec<(PathBuf, Segment)>,
    ) -> Result<(), StoreError> {
        let mut by_part: BTreeMap<(i32, String), Vec<T>> = BTreeMap::new();
        for item in items {
            let (ts, site) = part(&item);
            let site = site.unwrap_or(EXTERNAL_SITE).to_string();
            by_part
                .entry((layout::day_of(ts), site))
                .or_default()
                .push(item);
        }
        for ((day, site), items) in by_part {
            let times = || items.iter().map(|i| part(i).0);
            let (min_ts, max_ts) = (times().min().unwrap_or(0), times().max().unwrap_or(0));
            let batch = batch(&items).map_err(StoreError::Arrow)?;
            let props = self.props.clone();
            let write = |file| {
                let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props))?;
                writer.write(&batch)?;
                writer.into_inner()
            };
            let rows = batch.num_rows() as u64;
            let seg = self.stage(
                table,
                day,
                &site,
                seq,
                staged.len(),
                rows,
                write,
                min_ts,
                max_ts,
            )?;
            staged.push(seg);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn stage(
        &mut self,
        table: Table,
        day: i32,
        site: &str,
        seq: u64,
        n: usize,
        rows: u64,
        write: impl FnOnce(File) -> Result<File, ParquetError>,
        min_ts: i64,
        max_ts: i64,
    ) -> Result<(PathBuf, Segment), StoreError> {
        let day_name = layout::day_name(day);
        let path = layout::segment_path(table, &day_name, site, seq, n);
        let tmp = self.dir.join(STAGING).join(layout::staging_name(&path));
        let file = File::create(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        let file = write(file).map_err(StoreError::Parquet)?;
        file.sync_all().map_err(|e| StoreError::io(&tmp, e))?;
        drop(file);
        let hash = crate::InputId::of_file(&tmp)?.0;
        let bytes = fs::metadata(&tmp)
            .map_err(|e| StoreError::io(&tmp, e))?
            .len();
        self.chain = manifest::chain_next(&self.chain, &hash, table.as_str(), &path, rows);
        self.stats.bytes_written += bytes;
        Ok((
            tmp,
            Segment {
                table: table.as_str().to_string(),
                path,
                day: day_name,
                site: site.to_string(),
                rows,
                bytes,
                min_ts,
                max_ts,
                blake3: hash,
                chain: manifest::hex(&self.chain),
            },
        ))
    }
}

/// The key of a run: BLAKE3 over its input ids, in a fixed order.
pub fn job_key(inputs: &[InputId]) -> String {
    let mut ids: Vec<&str> = inputs.iter().map(|i| i.0.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut h = blake3::Hasher::new();
    for id in ids {
        h.update(id.as_bytes());
        h.update(b"\n");
    }
    h.finalize().to_hex().to_string()
}

/// Moves a staged file to its place and makes the rename durable.
fn place(from: &Path, to: &Path) -> Result<(), StoreError> {
    let parent = to.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| StoreError::io(parent, e))?;
    fs::rename(from, to).map_err(|e| StoreError::io(to, e))?;
    if let Ok(d) = File::open(parent) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn decode_hex(s: &str) -> Option<[u8; 32]> {
    blake3::Hash::from_hex(s).ok().map(|h| *h.as_bytes())
}

/// Records of a table stored once by content key: the keys the store holds for each day
/// this run has records of (read from the store as of the run's first record, the first
/// time a day comes up) and this run's records waiting for the next commit. A record's key
/// is looked up among its own day's only: content fixes the time, so the same record is
/// always on the same day, whatever site the org places it in. Memory is about 20 bytes
/// per stored record of the days the run touches.
#[derive(Debug)]
struct Keyed<T> {
    table: Table,
    store: Option<Store>,
    keys: HashMap<i32, HashSet<u128>>,
    buffered: Vec<T>,
}

impl<T> Keyed<T> {
    fn new(table: Table) -> Self {
        Self {
            table,
            store: None,
            keys: HashMap::new(),
            buffered: Vec::new(),
        }
    }

    /// Buffers `item` unless a record with its key is stored or buffered already; `true`
    /// when it was buffered. `key_ts` gives its key and time.
    fn offer(
        &mut self,
        dir: &Path,
        item: T,
        key_ts: impl Fn(&T) -> (&str, i64),
    ) -> Result<bool, StoreError> {
        let (key, ts) = key_ts(&item);
        let day = layout::day_of(ts);
        let keys = match self.keys.entry(day) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let store = match &mut self.store {
                    Some(s) => s,
                    None => self.store.insert(Store::open(dir)?),
                };
                v.insert(store.keys(self.table, Some(&layout::day_name(day)))?)
            }
        };
        let new = keys.insert(crate::read::key_id(key));
        if new {
            self.buffered.push(item);
        }
        Ok(new)
    }
}
