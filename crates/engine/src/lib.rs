//! The deterministic core of `sekisho analyze`: sources → enrichment → detectors →
//! correlation.
//!
//! [`Pipeline`] is pure: it is fed events and returns alerts and incidents, taking time
//! only from the events. [`analyze_paths`] is the thin shell that reads Zeek logs from disk
//! and feeds it: application logs first (so every flow can be named with its users and
//! shares), then each sensor's conn logs in file order, merged across sensors by time so
//! detectors that look across sites (a crossing seen by one sensor, the pivot by another)
//! see one timeline.
//!
//! ```
//! use sekisho_engine::Pipeline;
//! use sekisho_model::Org;
//! let org = Org::from_toml("[org]\nname = \"X\"\n", "org.toml").unwrap();
//! let outcome = Pipeline::new(&org).finish();
//! assert!(outcome.alerts.is_empty() && outcome.incidents.is_empty());
//! ```

mod capture;
// Host evidence (EVTX, Winlogbeat JSON, auth logs) among analyze's inputs: see host.rs.
mod host;

pub use capture::MAX_SORTED_FLOWS;
use capture::{CaptureStream, Content};
pub use host::{HostKeep, MAX_HOST_RECORDS, MAX_RULE_MATCHES, host_files, is_host_log};
use sekisho_detect::bounded::{Fp, SeededState, cap, caps, ip_key};
use sekisho_detect::{AlertSink, Detector, DetectorStats, FlowView};
use sekisho_event::{
    Alert, AppContext, AppKind, AppRecord, ConnState, Flow, Incident, Proto, RunStats, Service, Uid,
};
use sekisho_model::{Direction, Enriched, Enricher, Org};
use sekisho_zeek::{LogFile, LogKind, LogReader, Record};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::binary_heap::PeekMut;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

/// Most flows whose application context is kept (by uid). Past it, further contexts are
/// counted and dropped; the flows themselves are still analysed.
pub const MAX_CONTEXTS: usize = 1_000_000;

/// What an analysis found, besides the input statistics.
#[derive(Debug, Default, Serialize)]
pub struct Outcome {
    /// In deterministic order, with ids `A000001`...
    pub alerts: Vec<Alert>,
    pub incidents: Vec<Incident>,
    /// Flows analysed, by direction.
    pub flows_by_direction: BTreeMap<&'static str, u64>,
    /// Per detector id: its bounded state.
    pub detectors: BTreeMap<&'static str, DetectorStats>,
    /// Alerts not kept because `limits.max_alerts` was reached.
    pub alerts_dropped: u64,
    /// Application contexts not kept because [`MAX_CONTEXTS`] was reached.
    pub contexts_dropped: u64,
    /// What `first-seen-crossing` knows at the end (for `--save-baseline`).
    #[serde(skip)]
    pub baseline: Option<sekisho_model::baseline::Baseline>,
}

/// Enrichment, detectors and the alert sink for one org.
#[derive(Debug)]
pub struct Pipeline<'o> {
    org: &'o Org,
    enricher: Enricher<'o>,
    detectors: Vec<Box<dyn Detector + 'o>>,
    /// The detectors that prefetch their state (by index), asked before any detector runs.
    prefetchers: Vec<usize>,
    sink: AlertSink,
    contexts: HashMap<Uid, AppContext>,
    contexts_dropped: u64,
    by_direction: [u64; 5],
    derived_uids: HashSet<Uid>,
    dedup: Option<Dedup>,
}

/// Connections already analysed, to tell one connection logged by several sensors
/// (`[detectors.duplicates]`). Sensors' records of one connection reach the pipeline close
/// together (the input is merged by time), so only recent records are kept, first in,
/// first out: those recorded while the latest start time seen was within `window_ms` plus
/// `limits.reorder_slack_minutes` of the current one, and at most `limits.max_tracked_keys`
/// (and `caps::FINGERPRINTS`) of them. The table stays the size of a few minutes of
/// traffic, small enough to stay in cache. A connection that left it before another
/// sensor's record of it came is analysed twice, never lost.
#[derive(Debug)]
struct Dedup {
    /// 5-tuple fingerprint → the record analysed.
    seen: HashMap<u64, Seen, SeededState>,
    /// Fingerprints in the order they were (re)recorded, with the sequence number of that
    /// recording and the latest start time seen then: the oldest leave first.
    order: VecDeque<(u64, u64, i64)>,
    next_seq: u64,
    cap: usize,
    window: u64,
    /// How long (in start time) a record is kept after it was recorded.
    horizon: i64,
    /// The latest start time seen.
    latest: i64,
    duplicates: u64,
    /// Recent sensor names and their fingerprints: flows of one sensor share one
    /// `Arc<str>`, so a name is hashed once, not per flow (holding the `Arc` keeps its
    /// address from being reused by another name). Several, because the merge interleaves
    /// the sensors' flows: with only the last one kept, six sensors missed 60 % of the time.
    sensors: Vec<(Arc<str>, u64)>,
    /// The entry of `sensors` replaced next once it is full.
    sensors_next: usize,
}

/// Sensor names whose fingerprints [`Dedup`] keeps at hand.
const RECENT_SENSORS: usize = 16;

#[derive(Debug, Clone, Copy)]
struct Seen {
    ts: i64,
    sensor: u64,
    seq: u64,
}

impl Dedup {
    fn new(org: &Org) -> Option<Self> {
        let s = &org.detectors.duplicates;
        s.enabled.then(|| Dedup {
            seen: HashMap::with_hasher(SeededState::random()),
            order: VecDeque::new(),
            next_seq: 0,
            cap: cap(org.detectors.limits.max_tracked_keys, caps::FINGERPRINTS),
            window: u64::from(s.window_ms) * 1_000,
            horizon: i64::from(s.window_ms) * 1_000
                + i64::from(org.detectors.limits.reorder_slack_minutes) * 60_000_000,
            latest: i64::MIN,
            duplicates: 0,
            sensors: Vec::new(),
            sensors_next: 0,
        })
    }

    fn sensor_key(&mut self, sensor: &Arc<str>) -> u64 {
        if let Some((_, key)) = self
            .sensors
            .iter()
            .find(|(name, _)| Arc::ptr_eq(name, sensor))
        {
            return *key;
        }
        let key = Fp::new(0xd1).bytes(sensor.as_bytes()).finish();
        let entry = (sensor.clone(), key);
        if self.sensors.len() < RECENT_SENSORS {
            self.sensors.push(entry);
        } else {
            self.sensors[self.sensors_next] = entry;
            self.sensors_next = (self.sensors_next + 1) % RECENT_SENSORS;
        }
        key
    }

    /// True when another sensor logged this connection already.
    #[inline]
    fn is_duplicate(&mut self, f: &Flow) -> bool {
        let tuple = Fp::new(0xd0)
            .u64(f.proto as u64)
            .u128(ip_key(f.orig_ip))
            .u128(ip_key(f.resp_ip))
            .u64(u64::from(f.orig_port) << 16 | u64::from(f.resp_port))
            .finish();
        let sensor = self.sensor_key(&f.sensor);
        let ts = f.ts.as_micros();
        self.latest = self.latest.max(ts);
        let seq = self.next_seq;
        let now = Seen { ts, sensor, seq };
        match self.seen.entry(tuple) {
            Entry::Occupied(mut e) => {
                let prev = e.get();
                if prev.sensor != sensor && ts.abs_diff(prev.ts) <= self.window {
                    self.duplicates += 1;
                    return true;
                }
                e.insert(now);
            }
            Entry::Vacant(e) => {
                e.insert(now);
            }
        }
        self.next_seq += 1;
        self.order.push_back((tuple, seq, self.latest));
        let expired = self.latest.saturating_sub(self.horizon);
        while let Some(&(old, old_seq, at)) = self.order.front() {
            if self.order.len() <= self.cap && at >= expired {
                break;
            }
            self.order.pop_front();
            if let Entry::Occupied(e) = self.seen.entry(old)
                && e.get().seq == old_seq
            {
                e.remove();
            }
        }
        false
    }
}

impl<'o> Pipeline<'o> {
    /// Every enabled detector of the registry, for `org`.
    pub fn new(org: &'o Org) -> Self {
        let detectors = sekisho_detect::build_all(org);
        let prefetchers = (0..detectors.len())
            .filter(|&i| detectors[i].prefetches())
            .collect();
        Self {
            org,
            enricher: Enricher::new(org),
            detectors,
            prefetchers,
            sink: AlertSink::new(org.detectors.limits.max_alerts),
            contexts: HashMap::new(),
            contexts_dropped: 0,
            by_direction: [0; 5],
            derived_uids: HashSet::new(),
            dedup: Dedup::new(org),
        }
    }

    /// Every flow comes from one sensor (one input stream): no connection can be logged
    /// twice, so the duplicate check is skipped.
    pub fn single_sensor(&mut self) {
        self.dedup = None;
    }

    /// Flows kept from the detectors because another sensor had logged them.
    pub fn duplicates(&self) -> u64 {
        self.dedup.as_ref().map_or(0, |d| d.duplicates)
    }

    /// Folds an application-log record into the context of its flow.
    pub fn add_app_record(&mut self, rec: &AppRecord) {
        if rec.uid.is_empty() {
            return;
        }
        if let Some(ctx) = self.contexts.get_mut(&rec.uid) {
            ctx.absorb(&rec.kind);
        } else if self.contexts.len() < MAX_CONTEXTS {
            let mut ctx = AppContext::default();
            ctx.absorb(&rec.kind);
            self.contexts.insert(rec.uid, ctx);
        } else {
            self.contexts_dropped += 1;
        }
    }

    /// True the first time a uid is offered (while the bounded set of seen uids has room;
    /// past it every uid counts as new, so nothing is dropped, at worst counted twice).
    fn first_sight(&mut self, uid: Uid) -> bool {
        if uid.is_empty() {
            return true;
        }
        if self.derived_uids.len() >= MAX_CONTEXTS {
            return !self.derived_uids.contains(&uid);
        }
        self.derived_uids.insert(uid)
    }

    /// Enriches one flow and runs every detector on it; returns the enrichment.
    pub fn push_flow(&mut self, flow: &Flow) -> Enriched {
        let enriched = self.enricher.enrich(flow);
        if let Some(d) = &mut self.dedup
            && d.is_duplicate(flow)
        {
            return enriched;
        }
        self.by_direction[direction_index(enriched.direction)] += 1;
        let context = if self.contexts.is_empty() {
            None
        } else {
            self.contexts.get(&flow.uid)
        };
        let view = FlowView {
            flow,
            enriched: &enriched,
            context,
        };
        for &i in &self.prefetchers {
            self.detectors[i].prefetch(&view);
        }
        for d in &mut self.detectors {
            d.on_flow(&view, &mut self.sink);
        }
        enriched
    }

    /// A pipeline for a live run: aggregating detectors report a window's first flow at
    /// once instead of its totals when it closes (see [`sekisho_detect::AlertSink::live`]).
    pub fn live(org: &'o Org) -> Self {
        Self {
            sink: AlertSink::live(org.detectors.limits.max_alerts),
            ..Self::new(org)
        }
    }

    /// Alerts emitted since the last call, in the order detectors emitted them, without
    /// ids. For live use (`sekisho serve`), where alerts are written as they happen and
    /// numbered by the caller; [`Pipeline::finish`] is the batch path.
    pub fn take_alerts(&mut self) -> Vec<Alert> {
        self.sink.take()
    }

    /// Closes every detector's open windows (at shutdown of a live run); the alerts this
    /// gives are then returned by [`Pipeline::take_alerts`]. Flows pushed afterwards would
    /// start from closed windows, so call it once, last.
    pub fn flush(&mut self) {
        for d in &mut self.detectors {
            d.finish(&mut self.sink);
        }
    }

    /// Alerts the sink refused because `limits.max_alerts` were waiting in it.
    pub fn alerts_dropped(&self) -> u64 {
        self.sink.dropped()
    }

    /// Per detector id: its bounded state now.
    pub fn detector_stats(&self) -> BTreeMap<&'static str, DetectorStats> {
        self.detectors.iter().map(|d| (d.id(), d.stats())).collect()
    }

    /// Flows pushed so far, by direction.
    pub fn flows_by_direction(&self) -> BTreeMap<&'static str, u64> {
        ALL_DIRECTIONS
            .iter()
            .zip(self.by_direction)
            .map(|(d, n)| (d.as_str(), n))
            .collect()
    }

    /// Flushes the detectors, orders the alerts, assigns ids and builds incidents.
    pub fn finish(mut self) -> Outcome {
        for d in &mut self.detectors {
            d.finish(&mut self.sink);
        }
        let detectors = self.detector_stats();
        let baseline = self.detectors.iter().find_map(|d| d.learned_baseline());
        let flows_by_direction = self.flows_by_direction();
        let alerts_dropped = self.sink.dropped();
        let mut alerts = self.sink.into_alerts();
        alerts.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        for (i, a) in alerts.iter_mut().enumerate() {
            a.id = format!("A{:06}", i + 1);
        }
        let incidents = sekisho_correlate::correlate(self.org, &alerts);
        Outcome {
            alerts,
            incidents,
            flows_by_direction,
            detectors,
            alerts_dropped,
            contexts_dropped: self.contexts_dropped,
            baseline,
        }
    }
}

const ALL_DIRECTIONS: [Direction; 5] = [
    Direction::IntraSite,
    Direction::CrossSite,
    Direction::Inbound,
    Direction::Outbound,
    Direction::External,
];

fn direction_index(d: Direction) -> usize {
    match d {
        Direction::IntraSite => 0,
        Direction::CrossSite => 1,
        Direction::Inbound => 2,
        Direction::Outbound => 3,
        Direction::External => 4,
    }
}

/// Progress of a long read, for a progress bar.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    pub records: u64,
    pub bytes: u64,
    pub files_done: u64,
    pub files_total: u64,
}

/// How often (in records) progress is reported.
const PROGRESS_EVERY: u64 = 1 << 16;

/// Reads Zeek logs, packet captures (pcap, pcapng) and NetFlow/IPFIX (raw datagram files,
/// or captures of exported traffic) from files, directories or `-` (stdin, Zeek only) and
/// analyses them. Formats are told by content; in directories, captures are picked up by
/// their extension (`.pcap`, `.pcapng`, `.cap`, `.netflow`, `.ipfix`).
///
/// Inputs that do not exist are the caller's to refuse beforehand; anything unreadable or
/// malformed found here is counted in the returned [`RunStats`] with its position.
pub fn analyze_paths(
    org: &Org,
    inputs: &[PathBuf],
    progress: &mut dyn FnMut(Progress),
) -> (Outcome, RunStats) {
    analyze_paths_observed(org, inputs, progress, &mut NoObserver)
}

/// What an analysis runs besides the org's own detectors.
#[derive(Debug, Default, Clone)]
pub struct AnalyzeOptions {
    /// Rules matched against every host record (Sigma rules from `--sigma`).
    pub host_rules: Option<Arc<dyn sekisho_detect::HostRules>>,
}

/// Sees every flow an analysis runs through the pipeline, with its enrichment and the
/// input file it came from: how `sekisho ingest` stores what `analyze` analyses.
pub trait FlowObserver {
    /// A file is about to yield flows; the returned number is handed back with each of them.
    /// A file may be opened more than once (application logs standing in for conn logs).
    fn open_file(&mut self, path: &std::path::Path, display: &str) -> u32;
    /// One flow of file `file`, in the order that file yields them.
    fn on_flow(&mut self, file: u32, flow: &Flow, enriched: &Enriched);
}

/// The observer of a plain analysis: sees nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;

impl FlowObserver for NoObserver {
    fn open_file(&mut self, _: &std::path::Path, _: &str) -> u32 {
        0
    }
    fn on_flow(&mut self, _: u32, _: &Flow, _: &Enriched) {}
}

/// [`analyze_paths`], showing every flow to `observer`.
pub fn analyze_paths_observed(
    org: &Org,
    inputs: &[PathBuf],
    progress: &mut dyn FnMut(Progress),
    observer: &mut dyn FlowObserver,
) -> (Outcome, RunStats) {
    analyze_paths_with(org, inputs, &AnalyzeOptions::default(), progress, observer)
}

/// [`analyze_paths_observed`] with `options`.
pub fn analyze_paths_with(
    org: &Org,
    inputs: &[PathBuf],
    options: &AnalyzeOptions,
    progress: &mut dyn FnMut(Progress),
    observer: &mut dyn FlowObserver,
) -> (Outcome, RunStats) {
    let mut stats = RunStats::default();
    let mut pipeline = Pipeline::new(org);
    // --- host evidence (host.rs): told by content, analysed on its own into the same sink,
    // and kept away from the Zeek and capture readers below.
    let host_inputs = host::host_files(inputs);
    let host_stats = host::analyze_host(
        &mut pipeline,
        &host_inputs,
        options.host_rules.as_ref(),
        &mut stats,
    );
    let host_set: HashSet<&std::path::Path> = host_inputs.iter().map(|p| p.as_path()).collect();
    let files: Vec<LogFile> = sekisho_zeek::discover(inputs)
        .into_iter()
        .filter(|f| !host_set.contains(f.path.as_path()))
        .collect();
    // --- end host evidence
    let mut prog = Progress {
        files_total: files.len() as u64,
        ..Progress::default()
    };

    // Pass 1: application logs into contexts, other logs counted; conn logs set aside by
    // sensor. Standard input can be read only once, so it joins the conn streams.
    let mut streams: BTreeMap<String, Vec<LogFile>> = BTreeMap::new();
    let mut app_files: Vec<LogFile> = Vec::new();
    let mut captures: Vec<(CaptureStream, u32)> = Vec::new();
    let capture_files = capture::discover(inputs);
    prog.files_total += capture_files.len() as u64;
    // Each input's content is sniffed once: captures and NetFlow files become streams
    // here, everything else goes on to the Zeek reader.
    let mut zeek_files = Vec::with_capacity(files.len());
    for file in capture_files.into_iter().chain(files) {
        let content = if file.is_stdin() {
            Content::Other
        } else {
            capture::sniff(&file.path)
        };
        if content == Content::Other {
            zeek_files.push(file);
            continue;
        }
        if let Some(c) = CaptureStream::open(
            &file.path,
            file.display.clone(),
            file.sensor.clone(),
            content,
            &mut stats,
        ) {
            let handle = observer.open_file(&file.path, &file.display);
            captures.push((c, handle));
        }
        prog.files_done += 1;
    }
    for file in zeek_files {
        let conn_by_name = file.kind_hint == Some(LogKind::Conn);
        if conn_by_name || file.is_stdin() {
            streams
                .entry(file.sensor.to_string())
                .or_default()
                .push(file);
            continue;
        }
        let Some(mut reader) = LogReader::open(&file, &mut stats) else {
            prog.files_done += 1;
            continue;
        };
        if reader.log_kind() == Some(LogKind::Conn) {
            streams
                .entry(file.sensor.to_string())
                .or_default()
                .push(file);
            continue;
        }
        let mut any_app = false;
        let mut handle = None;
        while let Some(rec) = reader.next_record(&mut stats) {
            match rec {
                Record::App(app) => {
                    any_app = true;
                    pipeline.add_app_record(&app);
                }
                // A conn record in a file that did not look like conn at first (a second
                // header block): analyse it like any other.
                Record::Flow(flow) => {
                    let h = *handle
                        .get_or_insert_with(|| observer.open_file(&file.path, &file.display));
                    let enriched = pipeline.push_flow(&flow);
                    observer.on_flow(h, &flow, &enriched);
                }
            }
        }
        if any_app {
            app_files.push(file);
        }
        prog.files_done += 1;
        report(&mut prog, &stats, progress);
    }

    // Without any conn log (a sensor that only kept application logs, or an export of
    // them), the application records are the only proof that connections happened: they
    // become the flows, once per uid, read a second time now that every context is known.
    let derive_flows = streams.is_empty() && captures.is_empty() && !app_files.is_empty();
    if derive_flows {
        // Each application log is its own stream (not one per sensor): rdp, ntlm and
        // dce_rpc records of one connection sit in different files, and only a merge by
        // time makes the earliest of them the one that stands for the flow.
        for file in app_files {
            streams.entry(file.display.clone()).or_default().push(file);
        }
    }

    // Pass 2: conn streams, one per sensor, merged by time.
    // Asked once: on Linux the answer is read from cgroup files.
    let read_ahead = read_ahead_threads();
    let mut sources: Vec<Stream> = streams
        .into_values()
        .map(|mut files| {
            files.sort_by(|a, b| a.path.cmp(&b.path));
            Stream::Zeek(Box::new(SensorStream {
                files: files.into_iter().rev().collect(),
                reader: None,
                derive_flows,
                scratch: RunStats::default(),
                sensor: Arc::from(""),
                handle: 0,
            }))
        })
        .chain(captures.into_iter().enumerate().map(|(i, (c, handle))| {
            // Reading and decoding a capture is as much work as analysing its flows, so
            // it runs on the cores the pipeline leaves free; the flows are the same.
            let c = if i < read_ahead { c.read_ahead() } else { c };
            Stream::Capture(c, handle)
        }))
        .collect();
    if sources.len() < 2 {
        pipeline.single_sensor();
    }
    let mut heap: BinaryHeap<Reverse<(sekisho_event::Timestamp, usize)>> = BinaryHeap::new();
    let mut heads: Vec<Option<Flow>> = Vec::with_capacity(sources.len());
    for (i, s) in sources.iter_mut().enumerate() {
        let head = s.next_flow(&mut pipeline, &mut stats, &mut prog, observer);
        if let Some(f) = &head {
            heap.push(Reverse((f.ts, i)));
        }
        heads.push(head);
    }
    let mut next_report = PROGRESS_EVERY;
    // The stream on top stays on top while its next flow is still the earliest: its entry
    // is updated in place (one sift) rather than popped and pushed.
    while let Some(mut top) = heap.peek_mut() {
        let Reverse((_, i)) = *top;
        let Some(flow) = &heads[i] else {
            PeekMut::pop(top);
            continue;
        };
        let enriched = pipeline.push_flow(flow);
        observer.on_flow(sources[i].handle(), flow, &enriched);
        // Emptied first, so the next flow can be written straight into the slot (a flow
        // is 144 bytes; every copy of it shows in the profile).
        heads[i] = None;
        heads[i] = sources[i].next_flow(&mut pipeline, &mut stats, &mut prog, observer);
        match &heads[i] {
            Some(f) => *top = Reverse((f.ts, i)),
            None => drop(PeekMut::pop(top)),
        }
        if stats.records >= next_report {
            next_report = stats.records + PROGRESS_EVERY;
            report(&mut prog, &stats, progress);
        }
    }
    stats.duplicates += pipeline.duplicates();
    report(&mut prog, &stats, progress);
    let mut outcome = pipeline.finish();
    outcome.detectors.extend(host_stats); // host detectors' bounded state (host.rs)
    (outcome, stats)
}

/// Capture streams read in threads of their own: one per core besides the pipeline's.
fn read_ahead_threads() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get().saturating_sub(1))
}

/// Brings the progress counts up to date and hands them on.
fn report(prog: &mut Progress, stats: &RunStats, progress: &mut dyn FnMut(Progress)) {
    prog.records = stats.records;
    prog.bytes = stats.bytes;
    progress(*prog);
}

/// A time-ordered source of flows, merged with the others by time.
enum Stream {
    /// One sensor's Zeek conn logs (or application logs standing in for them).
    Zeek(Box<SensorStream>),
    /// A packet capture or NetFlow/IPFIX datagrams, with its observer handle.
    Capture(CaptureStream, u32),
}

impl Stream {
    /// The next flow.
    fn next_flow(
        &mut self,
        pipeline: &mut Pipeline<'_>,
        stats: &mut RunStats,
        prog: &mut Progress,
        observer: &mut dyn FlowObserver,
    ) -> Option<Flow> {
        match self {
            Stream::Zeek(s) => s.next_flow(pipeline, stats, prog, observer),
            Stream::Capture(c, _) => c.next_flow(stats),
        }
    }

    /// The observer handle of the file the last flow came from.
    fn handle(&self) -> u32 {
        match self {
            Stream::Zeek(s) => s.handle,
            Stream::Capture(_, handle) => *handle,
        }
    }
}

/// One sensor's conn files, read one after the other.
struct SensorStream {
    /// Files still to open, last first.
    files: Vec<LogFile>,
    reader: Option<LogReader>,
    /// Application logs read again to stand in for a missing conn log: their records were
    /// counted and absorbed in pass 1, so this pass counts into `scratch` and turns each
    /// new uid into a flow.
    derive_flows: bool,
    scratch: RunStats,
    /// Sensor of the file being read.
    sensor: Arc<str>,
    /// Observer handle of the file being read.
    handle: u32,
}

impl SensorStream {
    fn next_flow(
        &mut self,
        pipeline: &mut Pipeline<'_>,
        stats: &mut RunStats,
        prog: &mut Progress,
        observer: &mut dyn FlowObserver,
    ) -> Option<Flow> {
        loop {
            if let Some(reader) = &mut self.reader {
                let stats = if self.derive_flows {
                    &mut self.scratch
                } else {
                    &mut *stats
                };
                match reader.next_record(stats) {
                    Some(Record::Flow(f)) => return Some(f),
                    Some(Record::App(a)) if self.derive_flows => {
                        if pipeline.first_sight(a.uid) {
                            return Some(flow_from_app(&a, self.sensor.clone()));
                        }
                        continue;
                    }
                    Some(Record::App(a)) => {
                        pipeline.add_app_record(&a);
                        continue;
                    }
                    None => {
                        self.reader = None;
                        prog.files_done += 1;
                    }
                }
            }
            let file = self.files.pop()?;
            self.sensor = file.sensor.clone();
            let stats = if self.derive_flows {
                &mut self.scratch
            } else {
                &mut *stats
            };
            self.reader = LogReader::open(&file, stats);
            if self.reader.is_none() {
                prog.files_done += 1;
            } else {
                self.handle = observer.open_file(&file.path, &file.display);
            }
        }
    }
}

/// A flow that an application record proves happened: its endpoints and time, the service
/// its log implies, no byte counts (the conn log that had them is missing).
pub fn flow_from_app(rec: &AppRecord, sensor: Arc<str>) -> Flow {
    let proto = Proto::Tcp;
    let service = match rec.kind {
        AppKind::Rdp { .. } => Service::Rdp,
        AppKind::Ssh { .. } => Service::Ssh,
        AppKind::SmbMapping { .. } | AppKind::SmbFiles { .. } => Service::Smb,
        AppKind::Kerberos { .. } => Service::Kerberos,
        AppKind::DceRpc { .. } => Service::DceRpc,
        AppKind::Ntlm { .. } => Service::from_port(proto, rec.resp_port),
    };
    Flow {
        ts: rec.ts,
        duration_us: 0,
        uid: rec.uid,
        orig_ip: rec.orig_ip,
        orig_port: rec.orig_port,
        resp_ip: rec.resp_ip,
        resp_port: rec.resp_port,
        proto,
        service,
        orig_bytes: 0,
        resp_bytes: 0,
        orig_pkts: 0,
        resp_pkts: 0,
        state: ConnState::Unknown,
        sensor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sekisho_event::Timestamp;

    fn flow(port: u16, secs: i64, sensor: &Arc<str>) -> Flow {
        Flow {
            ts: Timestamp::from_micros(secs * 1_000_000),
            duration_us: 0,
            uid: Uid::default(),
            orig_ip: "10.0.0.1".parse().unwrap(),
            orig_port: port,
            resp_ip: "10.0.0.2".parse().unwrap(),
            resp_port: 445,
            proto: Proto::Tcp,
            service: Service::Smb,
            orig_bytes: 1,
            resp_bytes: 1,
            orig_pkts: 1,
            resp_pkts: 1,
            state: ConnState::SF,
            sensor: sensor.clone(),
        }
    }

    #[test]
    fn each_sensor_keeps_its_own_fingerprint_however_the_sensors_interleave() {
        let org = Org::from_toml("[org]\nname = \"X\"\n", "org.toml").unwrap();
        let mut d = Dedup::new(&org).expect("enabled by default");
        let sensors: Vec<Arc<str>> = (0..RECENT_SENSORS + 3)
            .map(|i| Arc::from(format!("sensor-{i}")))
            .collect();
        let own = |s: &Arc<str>| Fp::new(0xd1).bytes(s.as_bytes()).finish();
        for round in 0..4 {
            let order: Vec<&Arc<str>> = if round % 2 == 0 {
                sensors.iter().collect()
            } else {
                sensors
                    .iter()
                    .rev()
                    .step_by(2)
                    .chain(sensors.iter().take(5))
                    .collect()
            };
            for s in order {
                assert_eq!(d.sensor_key(s), own(s), "{s}");
            }
        }
        assert!(d.sensors.len() <= RECENT_SENSORS);
    }

    #[test]
    fn duplicates_need_another_sensor_the_window_and_a_recent_record() {
        let org = Org::from_toml(
            "[org]\nname = \"X\"\n[detectors.limits]\nmax_tracked_keys = 3\n",
            "org.toml",
        )
        .unwrap();
        let mut d = Dedup::new(&org).expect("enabled by default");
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a"), Arc::from("b"));
        // Another sensor, 1 s later: a duplicate; the same sensor again: a new connection.
        assert!(!d.is_duplicate(&flow(1000, 0, &a)));
        assert!(d.is_duplicate(&flow(1000, 1, &b)));
        assert!(!d.is_duplicate(&flow(1000, 1, &Arc::from("a"))));
        // Another sensor but 3 s apart: a new connection reusing the port.
        assert!(!d.is_duplicate(&flow(1000, 5, &b)));
        // Three newer connections push the first out of the window of 3: analysed twice.
        assert!(!d.is_duplicate(&flow(2000, 10, &a)));
        for p in [2001, 2002, 2003] {
            assert!(!d.is_duplicate(&flow(p, 10, &a)));
        }
        assert!(d.seen.len() <= 3 && d.order.len() <= 3);
        assert!(!d.is_duplicate(&flow(2000, 10, &b)));
        assert_eq!(d.duplicates, 1);
        // Minutes later (past window and reorder slack) the table holds only the newest.
        assert!(!d.is_duplicate(&flow(3000, 3_600, &a)));
        assert_eq!(d.seen.len(), 1);
        assert!(d.is_duplicate(&flow(3000, 3_601, &b)));
    }
}
