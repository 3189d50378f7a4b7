//! The thin I/O shell: finds files under the inputs, recognises each by its content (EVTX,
//! evtx/Winlogbeat JSON, `journalctl -o json`, syslog text), reads them in parallel across
//! the machine's cores and hands every normalised record to a [`HostSink`].
//!
//! Memory stays bounded whatever the input size: EVTX files are read chunk by chunk
//! (64 KiB each, a few in flight per thread), text files line by line with a line cap, and
//! what is kept is up to the sink.

use crate::auth::AuthTracker;
use crate::continuity::Continuity;
use crate::syslog::{
    SyslogContext, SyslogLine, auth_program, parse_syslog_line, parse_untimed_line,
};
use crate::winevent::{Keep, RawEvent, normalise_as, parse_json_record_as};
use rayon::prelude::*;
use sekisho_event::{HostEventKind, HostOrigin, HostRecord, RejectReason, RunStats, Timestamp};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Longest text line (syslog, JSON line) read; longer lines are skipped and counted.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Largest multi-line JSON record (`evtx_dump -o json`).
pub const MAX_JSON_RECORD_BYTES: usize = 4 << 20;
/// How deep directories are walked.
pub const MAX_DIR_DEPTH: usize = 16;
/// Files read in one run.
pub const MAX_FILES: usize = 1_000_000;

/// Receives normalised host records. One sink per worker thread; workers' sinks are merged
/// in input order at the end, so results do not depend on scheduling.
pub trait HostSink: Send + Default {
    fn record(&mut self, record: HostRecord);
    /// Appends `other` (which came after `self` in input order).
    fn merge(&mut self, other: Self);
}

impl HostSink for Vec<HostRecord> {
    fn record(&mut self, record: HostRecord) {
        self.push(record);
    }
    fn merge(&mut self, mut other: Self) {
        self.append(&mut other);
    }
}

/// A sink that only counts (for benchmarks and record-count checks).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CountSink {
    pub logons: u64,
    pub events: u64,
}

impl HostSink for CountSink {
    fn record(&mut self, record: HostRecord) {
        match record {
            HostRecord::Logon(_) => self.logons += 1,
            HostRecord::Event(_) => self.events += 1,
        }
    }
    fn merge(&mut self, other: Self) {
        self.logons += other.logons;
        self.events += other.events;
    }
}

/// How to read.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// For syslog files without years: the reference year and month. `None`: the file's
    /// modification time.
    pub syslog_reference: Option<(i32, u32)>,
    /// Offset of syslog writers' local time from UTC, for lines without a zone.
    pub syslog_utc_offset_secs: i32,
    /// Silence between consecutive records of a log that counts as a continuity break.
    pub gap_threshold_micros: i64,
    /// Reject EVTX chunks whose checksums do not match (as `evtx_dump --validate-checksums`).
    pub validate_checksums: bool,
    /// Which Windows records reach the sink: the normalised kinds only, or every record
    /// (for Sigma rules).
    pub keep: Keep,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            syslog_reference: None,
            syslog_utc_offset_secs: 0,
            gap_threshold_micros: 24 * Timestamp::HOUR,
            // As evtx_dump: dirty logs (not closed cleanly) often have bad checksums but
            // readable records, and a forensic reader wants those records.
            validate_checksums: false,
            keep: Keep::Normalised,
        }
    }
}

/// What a run produced.
#[derive(Debug)]
pub struct Collected<S> {
    pub sink: S,
    pub stats: RunStats,
    pub continuity: Continuity,
    /// Per-file record counts (file, records read, records rejected), input order.
    pub files: Vec<FileCount>,
}

/// Records read from one file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FileCount {
    pub file: String,
    pub format: &'static str,
    pub records: u64,
    pub rejected: u64,
}

impl<S: HostSink> Default for Collected<S> {
    fn default() -> Self {
        Self::new(ReadOptions::default().gap_threshold_micros)
    }
}

impl<S: HostSink> Collected<S> {
    /// Empty, with the continuity gap threshold `gap` (µs).
    pub fn new(gap: i64) -> Self {
        Self::with_sink(gap, S::default())
    }

    /// Empty around `sink`.
    pub fn with_sink(gap: i64, sink: S) -> Self {
        Collected {
            sink,
            stats: RunStats::default(),
            continuity: Continuity::new(gap),
            files: Vec::new(),
        }
    }

    fn merge(mut self, other: Self) -> Self {
        self.sink.merge(other.sink);
        self.stats.merge(&other.stats);
        self.continuity.merge(other.continuity);
        self.files.extend(other.files);
        self
    }
}

/// Content kinds we read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Evtx,
    /// `evtx_dump -o json|jsonl` or Winlogbeat NDJSON.
    EventJson,
    /// `journalctl -o json`.
    JournalJson,
    Syslog,
    /// None of the above (a README, a binary): counted once, not read.
    Unknown,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Evtx => "evtx",
            Format::EventJson => "event-json",
            Format::JournalJson => "journal-json",
            Format::Syslog => "syslog",
            Format::Unknown => "unknown",
        }
    }
}

/// Recognises a file by its first bytes.
pub fn sniff(head: &[u8]) -> Format {
    if head.starts_with(b"ElfFile\0") {
        return Format::Evtx;
    }
    let t = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .and_then(|i| head.get(i..))
        .unwrap_or(&[]);
    if t.starts_with(b"{") || t.starts_with(b"Record ") || t.starts_with(b"[") {
        let has = |n: &[u8]| memchr::memmem::find(head, n).is_some();
        if has(b"__REALTIME_TIMESTAMP") || has(b"\"SYSLOG_IDENTIFIER\"") || has(b"\"_HOSTNAME\"") {
            return Format::JournalJson;
        }
        return Format::EventJson;
    }
    // Text: syslog when one of the first lines reads as one (the head may cut the last).
    let ctx = SyslogContext::default();
    let readable = head.split(|b| *b == b'\n').take(32).any(|l| {
        parse_syslog_line(l, &ctx).is_ok()
            || parse_untimed_line(l)
                .ok()
                .is_some_and(|p| auth_program(p.program).is_some())
    });
    if readable {
        Format::Syslog
    } else {
        Format::Unknown
    }
}

/// Lists the files under `inputs` (directories walked, sorted by path, hidden files
/// skipped). Unreadable inputs are counted in `stats`.
pub fn discover(inputs: &[PathBuf], stats: &mut RunStats) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for input in inputs {
        walk(input, 0, &mut out, stats);
    }
    out
}

fn walk(p: &Path, depth: usize, out: &mut Vec<PathBuf>, stats: &mut RunStats) {
    if out.len() >= MAX_FILES {
        return;
    }
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => {
            if depth >= MAX_DIR_DEPTH {
                stats.reject_file(
                    &p.display().to_string(),
                    0,
                    RejectReason::Io,
                    "directory too deep",
                );
                return;
            }
            let mut entries: Vec<PathBuf> = match std::fs::read_dir(p) {
                Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                Err(e) => {
                    stats.reject_file(&p.display().to_string(), 0, RejectReason::Io, e.to_string());
                    return;
                }
            };
            entries.sort();
            for e in entries {
                let hidden = e
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'));
                if !hidden {
                    walk(&e, depth + 1, out, stats);
                }
            }
        }
        Ok(_) => out.push(p.to_path_buf()),
        Err(e) => stats.reject_file(&p.display().to_string(), 0, RejectReason::Io, e.to_string()),
    }
}

/// Reads every input (files and directories, any mix of formats) in parallel.
pub fn read_paths<S: HostSink>(inputs: &[PathBuf], opts: &ReadOptions) -> Collected<S> {
    read_paths_into(inputs, opts, S::default)
}

/// [`read_paths`], each worker's sink made by `make_sink` (for sinks that carry shared
/// state, such as compiled rules).
pub fn read_paths_into<S: HostSink>(
    inputs: &[PathBuf],
    opts: &ReadOptions,
    make_sink: impl Fn() -> S + Sync,
) -> Collected<S> {
    let mut stats = RunStats::default();
    let files = discover(inputs, &mut stats);
    // Many files: one per thread, each read serially; one big file: its chunks in parallel.
    let per_file_threads = if files.len() > 1 { 1 } else { 0 };
    let gap = opts.gap_threshold_micros;
    let mut out = files
        .par_iter()
        .fold(
            || Collected::<S>::with_sink(gap, make_sink()),
            |mut acc, f| {
                read_file(f, opts, per_file_threads, &mut acc);
                acc
            },
        )
        .reduce(
            || Collected::<S>::with_sink(gap, make_sink()),
            Collected::merge,
        );
    stats.merge(&out.stats);
    out.stats = stats;
    out
}

/// Reads one file of any format into `acc`.
pub fn read_file<S: HostSink>(
    path: &Path,
    opts: &ReadOptions,
    threads: usize,
    acc: &mut Collected<S>,
) {
    let name = path.display().to_string();
    let mut head = [0u8; 4096];
    let n = match std::fs::File::open(path).and_then(|mut f| read_up_to(&mut f, &mut head)) {
        Ok(n) => n,
        Err(e) => {
            acc.stats
                .reject_file(&name, 0, RejectReason::Io, e.to_string());
            return;
        }
    };
    let format = sniff(head.get(..n).unwrap_or(&[]));
    let before = (acc.stats.records, acc.stats.rejected);
    acc.stats.files += 1;
    match format {
        Format::Evtx => read_evtx(path, &name, opts, threads, acc),
        Format::EventJson => read_event_json(path, &name, opts.keep, acc),
        Format::JournalJson => read_journal_json(path, &name, acc),
        Format::Syslog => read_syslog(path, &name, opts, acc),
        Format::Unknown => acc.stats.reject_file(
            &name,
            0,
            RejectReason::UnknownFormat,
            "not EVTX, event JSON, journal JSON or syslog",
        ),
    }
    acc.files.push(FileCount {
        file: name,
        format: format.as_str(),
        records: acc.stats.records - before.0,
        rejected: acc.stats.rejected - before.1,
    });
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// What a worker makes of one EVTX record.
struct Decoded {
    raw: RawEvent,
    record: Option<HostRecord>,
}

/// Notes a decoded Windows record: continuity, clears, the sink.
fn absorb<S: HostSink>(
    raw: &RawEvent,
    record: Option<HostRecord>,
    name: &str,
    acc: &mut Collected<S>,
) {
    if let (Some(id), Some(ts)) = (raw.record_id, raw.ts) {
        acc.continuity.observe(&raw.computer, &raw.channel, id, ts);
    }
    match record {
        Some(r) => {
            if let HostRecord::Event(e) = &r
                && e.kind == HostEventKind::LogCleared
            {
                let channel = e.object.clone().unwrap_or_else(|| raw.channel.clone());
                acc.continuity
                    .cleared(&raw.computer, &channel, e.ts, e.record_id, e.user.clone());
            }
            if let Some(ts) = raw.ts {
                acc.stats.observe(ts);
            }
            acc.stats.parsed("evtx");
            acc.sink.record(r);
        }
        None => {
            let _ = name;
            acc.stats.records += 1;
            acc.stats.skipped += 1;
        }
    }
}

/// Reads an EVTX file with the `evtx` crate: records rendered to JSON in worker threads,
/// parsed and normalised there; corrupt chunks and records counted with their position.
pub fn read_evtx<S: HostSink>(
    path: &Path,
    name: &str,
    opts: &ReadOptions,
    threads: usize,
    acc: &mut Collected<S>,
) {
    if let Ok(m) = std::fs::metadata(path) {
        note_truncation(m.len(), name, acc);
    }
    let parser = match evtx::EvtxParser::from_path(path) {
        Ok(p) => p,
        Err(e) => {
            acc.stats.reject_file(
                name,
                0,
                RejectReason::CorruptChunk,
                format!("file header: {e}"),
            );
            return;
        }
    };
    read_evtx_parser(parser, name, opts, threads, acc);
}

/// Reads EVTX bytes held in memory (tests, fuzzing).
pub fn read_evtx_bytes<S: HostSink>(
    bytes: Vec<u8>,
    name: &str,
    opts: &ReadOptions,
    acc: &mut Collected<S>,
) {
    note_truncation(bytes.len() as u64, name, acc);
    match evtx::EvtxParser::from_buffer(bytes) {
        Ok(p) => read_evtx_parser(p, name, opts, 1, acc),
        Err(e) => acc.stats.reject_file(
            name,
            0,
            RejectReason::CorruptChunk,
            format!("file header: {e}"),
        ),
    }
}

/// EVTX files are a 4 KiB header and whole 64 KiB chunks; the `evtx` crate silently stops
/// at a partial chunk at the end, so a cut-off file is counted here.
fn note_truncation<S: HostSink>(len: u64, name: &str, acc: &mut Collected<S>) {
    const FILE_HEADER: u64 = 4096;
    const CHUNK: u64 = 65536;
    let tail = len.saturating_sub(FILE_HEADER) % CHUNK;
    if len > FILE_HEADER && tail != 0 {
        let chunk = (len - FILE_HEADER) / CHUNK;
        acc.stats.reject_file(
            name,
            0,
            RejectReason::CorruptChunk,
            format!(
                "chunk {chunk} at offset {:#x}: truncated, {tail} of {CHUNK} bytes",
                FILE_HEADER + chunk * CHUNK
            ),
        );
    }
}

fn read_evtx_parser<T: std::io::Read + std::io::Seek, S: HostSink>(
    parser: evtx::EvtxParser<T>,
    name: &str,
    opts: &ReadOptions,
    threads: usize,
    acc: &mut Collected<S>,
) {
    let settings = evtx::ParserSettings::new()
        .num_threads(threads)
        .validate_checksums(opts.validate_checksums)
        .indent(false);
    let mut parser = parser.with_configuration(settings);
    let origin = Arc::new(HostOrigin {
        file: name.to_string(),
        line: 0,
    });
    let keep = opts.keep;
    let work = move |rec: evtx::err::Result<evtx::EvtxRecord<'_>>| -> evtx::err::Result<Result<Decoded, (u64, String)>> {
        let rec = rec?;
        let id = rec.event_record_id;
        let json = rec.into_json_bytes()?;
        Ok(match parse_json_record_as(&json.data, keep) {
            Ok(raw) => {
                let record = normalise_as(&raw, &origin, keep);
                Ok(Decoded { raw, record })
            }
            Err(e) => Err((id, e.to_string())),
        })
    };
    for item in parser.serialized_records(work) {
        match item {
            Ok(Ok(d)) => absorb(&d.raw, d.record, name, acc),
            Ok(Err((id, why))) => acc.stats.reject(
                name,
                0,
                RejectReason::CorruptRecord,
                format!("record {id}: {why}"),
            ),
            Err(e) => {
                let (reason, detail) = describe_evtx_error(&e);
                if reason == RejectReason::CorruptChunk {
                    acc.stats.reject_file(name, 0, reason, detail);
                } else {
                    acc.stats.reject(name, 0, reason, detail);
                }
            }
        }
    }
}

/// Names what went wrong and where (chunk number and file offset, or record id).
fn describe_evtx_error(e: &evtx::err::EvtxError) -> (RejectReason, String) {
    use evtx::err::EvtxError as E;
    const FILE_HEADER: u64 = 4096;
    const CHUNK: u64 = 65536;
    let msg = |s: String| crate::cut_string(&s, 200);
    match e {
        E::FailedToParseChunk { chunk_id, source } => (
            RejectReason::CorruptChunk,
            msg(format!(
                "chunk {chunk_id} at offset {:#x}: {source}",
                FILE_HEADER + chunk_id.saturating_mul(CHUNK)
            )),
        ),
        E::FailedToParseRecord { record_id, source } => (
            RejectReason::CorruptRecord,
            msg(format!("record {record_id}: {source}")),
        ),
        E::FailedToReadRecordAt {
            chunk,
            offset,
            source,
        } => (
            RejectReason::CorruptRecord,
            msg(match chunk {
                Some(c) => format!(
                    "record at file offset {:#x} (chunk {c}): {source}",
                    FILE_HEADER + c.saturating_mul(CHUNK) + offset
                ),
                None => format!("record at chunk offset {offset:#x}: {source}"),
            }),
        ),
        other => (RejectReason::CorruptRecord, msg(other.to_string())),
    }
}

/// A line reader that skips (and reports) lines over [`MAX_LINE_BYTES`] without buffering
/// them whole.
struct Lines<R> {
    r: R,
    buf: Vec<u8>,
    line: u64,
}

enum LineItem<'a> {
    Line(u64, &'a [u8]),
    TooLong(u64),
}

impl<R: BufRead> Lines<R> {
    fn new(r: R) -> Self {
        Lines {
            r,
            buf: Vec::new(),
            line: 0,
        }
    }

    fn next(&mut self) -> std::io::Result<Option<LineItem<'_>>> {
        self.buf.clear();
        let mut too_long = false;
        loop {
            let avail = self.r.fill_buf()?;
            if avail.is_empty() {
                if self.buf.is_empty() && !too_long {
                    return Ok(None);
                }
                break;
            }
            let (take, done) = match memchr::memchr(b'\n', avail) {
                Some(i) => (i + 1, true),
                None => (avail.len(), false),
            };
            if !too_long {
                if self.buf.len() + take > MAX_LINE_BYTES {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(&avail[..take]);
                }
            }
            self.r.consume(take);
            if done {
                break;
            }
        }
        self.line += 1;
        if too_long {
            return Ok(Some(LineItem::TooLong(self.line)));
        }
        let mut l: &[u8] = &self.buf;
        while let [rest @ .., b'\n' | b'\r'] = l {
            l = rest;
        }
        Ok(Some(LineItem::Line(self.line, l)))
    }
}

fn open_lines(
    path: &Path,
    name: &str,
    stats: &mut RunStats,
) -> Option<Lines<BufReader<std::fs::File>>> {
    match std::fs::File::open(path) {
        Ok(f) => Some(Lines::new(BufReader::with_capacity(256 * 1024, f))),
        Err(e) => {
            stats.reject_file(name, 0, RejectReason::Io, e.to_string());
            None
        }
    }
}

/// The year/month a syslog file's undated lines are taken to end at.
fn file_reference(path: &Path, opts: &ReadOptions) -> (i32, u32) {
    if let Some(r) = opts.syslog_reference {
        return r;
    }
    use chrono::Datelike;
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .map(chrono::DateTime::<chrono::Utc>::from)
        .map(|d| (d.year(), d.month()))
        .unwrap_or((1970, 12))
}

fn read_syslog<S: HostSink>(path: &Path, name: &str, opts: &ReadOptions, acc: &mut Collected<S>) {
    let (year, month) = file_reference(path, opts);
    let ctx = SyslogContext {
        year,
        month,
        utc_offset_secs: opts.syslog_utc_offset_secs,
    };
    let Some(mut lines) = open_lines(path, name, &mut acc.stats) else {
        return;
    };
    let mut tracker = AuthTracker::new();
    let mut out = Vec::new();
    loop {
        let item = match lines.next() {
            Ok(Some(i)) => i,
            Ok(None) => break,
            Err(e) => {
                acc.stats
                    .reject_file(name, lines.line, RejectReason::Io, e.to_string());
                break;
            }
        };
        let (n, line) = match item {
            LineItem::TooLong(n) => {
                acc.stats
                    .reject(name, n, RejectReason::LineTooLong, "line over 1 MiB");
                continue;
            }
            LineItem::Line(n, l) => (n, l),
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = parse_syslog_line(line, &ctx).or_else(|e| {
            // Journal short output without time: `host prog[pid]: msg`.
            parse_untimed_line(line)
                .ok()
                .filter(|l| auth_program(l.program).is_some())
                .ok_or(e)
        });
        match parsed {
            Ok(l) => feed_line(&l, n, name, &mut tracker, &mut out, acc),
            Err(e) => acc
                .stats
                .reject(name, n, RejectReason::BadField, e.to_string()),
        }
    }
}

fn feed_line<S: HostSink>(
    l: &SyslogLine<'_>,
    n: u64,
    name: &str,
    tracker: &mut AuthTracker,
    out: &mut Vec<HostRecord>,
    acc: &mut Collected<S>,
) {
    let origin = HostOrigin {
        file: name.to_string(),
        line: n,
    };
    let ts = l.ts.unwrap_or_default();
    if tracker.push(l, ts, &origin, out) {
        acc.stats.parsed("auth");
        if l.ts.is_some() {
            acc.stats.observe(ts);
        }
        for r in out.drain(..) {
            acc.sink.record(r);
        }
    } else {
        acc.stats.records += 1;
        acc.stats.skipped += 1;
    }
}

fn read_journal_json<S: HostSink>(path: &Path, name: &str, acc: &mut Collected<S>) {
    let Some(mut lines) = open_lines(path, name, &mut acc.stats) else {
        return;
    };
    let mut tracker = AuthTracker::new();
    let mut out = Vec::new();
    loop {
        let (n, line) = match lines.next() {
            Ok(Some(LineItem::Line(n, l))) => (n, l),
            Ok(Some(LineItem::TooLong(n))) => {
                acc.stats
                    .reject(name, n, RejectReason::LineTooLong, "line over 1 MiB");
                continue;
            }
            Ok(None) => break,
            Err(e) => {
                acc.stats
                    .reject_file(name, lines.line, RejectReason::Io, e.to_string());
                break;
            }
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match crate::journal::parse_journal_line(line) {
            Ok(j) => {
                let l = j.as_syslog();
                feed_line(&l, n, name, &mut tracker, &mut out, acc);
            }
            Err(e) => acc
                .stats
                .reject(name, n, RejectReason::BadJson, e.to_string()),
        }
    }
}

/// `evtx_dump -o jsonl` / Winlogbeat NDJSON (one object a line) and `evtx_dump -o json`
/// (pretty objects, each after a `Record N` line, starting with `{` in column 0).
fn read_event_json<S: HostSink>(path: &Path, name: &str, keep: Keep, acc: &mut Collected<S>) {
    let Some(mut lines) = open_lines(path, name, &mut acc.stats) else {
        return;
    };
    let mut rec: Vec<u8> = Vec::new();
    let mut rec_line = 0u64;
    let mut oversize = false;
    let flush = |rec: &mut Vec<u8>, line: u64, oversize: &mut bool, acc: &mut Collected<S>| {
        if *oversize {
            acc.stats.reject(
                name,
                line,
                RejectReason::LineTooLong,
                "JSON record over 4 MiB",
            );
            *oversize = false;
        } else if !rec.iter().all(u8::is_ascii_whitespace) {
            let origin = HostOrigin {
                file: name.to_string(),
                line,
            };
            match parse_json_record_as(rec, keep) {
                Ok(raw) => {
                    let record = normalise_as(&raw, &origin, keep);
                    absorb(&raw, record, name, acc);
                }
                Err(e) => acc
                    .stats
                    .reject(name, line, RejectReason::BadJson, e.to_string()),
            }
        }
        rec.clear();
    };
    loop {
        let (n, line) = match lines.next() {
            Ok(Some(LineItem::Line(n, l))) => (n, l),
            Ok(Some(LineItem::TooLong(n))) => {
                acc.stats
                    .reject(name, n, RejectReason::LineTooLong, "line over 1 MiB");
                continue;
            }
            Ok(None) => break,
            Err(e) => {
                acc.stats
                    .reject_file(name, lines.line, RejectReason::Io, e.to_string());
                break;
            }
        };
        let starts_record = line.first() == Some(&b'{');
        if starts_record || line.starts_with(b"Record ") {
            flush(&mut rec, rec_line, &mut oversize, acc);
            rec_line = n;
            if !starts_record {
                continue;
            }
        }
        if rec.len() + line.len() > MAX_JSON_RECORD_BYTES {
            oversize = true;
            rec.clear();
        } else if !oversize {
            rec.extend_from_slice(line);
            rec.push(b'\n');
        }
    }
    flush(&mut rec, rec_line, &mut oversize, acc);
}
