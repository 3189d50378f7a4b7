//! The I/O shell: finding log files, naming their sensor, opening (and un-gzipping) them,
//! and reading them line by line with bounded memory.

use crate::json::{self, JsonParser};
use crate::tsv::TsvParser;
use crate::value::preview;
use crate::{LogKind, MAX_LINE_BYTES, Parsed, Record};
use flate2::read::MultiGzDecoder;
use sekisho_event::{RejectReason, RunStats};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Read buffer size: large enough that memchr works on long runs, small enough to ignore.
const READ_BUFFER: usize = 64 * 1024;

/// Deepest directory nesting followed by [`discover`].
pub const MAX_DIR_DEPTH: usize = 32;

/// One input to read: a file, or standard input (`-`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFile {
    /// Path as found (`-` for standard input).
    pub path: PathBuf,
    /// Path as reported in statistics and rejections.
    pub display: String,
    /// Sensor name every record of the file carries.
    pub sensor: Arc<str>,
    /// The log the file name suggests (`conn` for `conn.00:00:00-01:00:00.log.gz`); the
    /// content (`#path`, `_path`, `@stream`) wins when it says otherwise.
    pub kind_hint: Option<LogKind>,
}

impl LogFile {
    /// Describes the input at `path`: `-` is standard input, any other path a file, named
    /// as described at [`sensor_name`] and [`kind_from_file_name`].
    pub fn new(path: impl Into<PathBuf>) -> LogFile {
        let path = path.into();
        if path.as_os_str() == "-" {
            return LogFile {
                path,
                display: "-".to_string(),
                sensor: Arc::from("stdin"),
                kind_hint: None,
            };
        }
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        LogFile {
            display: path.display().to_string(),
            sensor: Arc::from(sensor_name(&path)),
            kind_hint: kind_from_file_name(&file_name),
            path,
        }
    }

    /// True for standard input.
    pub fn is_stdin(&self) -> bool {
        self.path.as_os_str() == "-"
    }
}

/// The part of a file name before its first `.`, with a `SENSOR_` prefix removed:
/// `conn.2024-01-01-00-00-00.log.gz` → `conn`, `NASHUA_smb_files.log` → `smb_files`.
fn log_stem(file_name: &str) -> (&str, Option<&str>) {
    let stem = file_name.split('.').next().unwrap_or("");
    // `NASHUA_smb_mapping`: the sensor is the leftmost prefix such that the rest is a known
    // log name and the prefix has a capital letter (so `known_hosts` stays a log name).
    for (i, _) in stem.match_indices('_') {
        let (prefix, log) = (&stem[..i], &stem[i + 1..]);
        if !prefix.is_empty()
            && prefix.bytes().any(|c| c.is_ascii_uppercase())
            && LogKind::is_known_name(log)
        {
            return (log, Some(prefix));
        }
    }
    (stem, None)
}

/// The log a file name suggests, for Zeek's names and rotations (`conn.log`,
/// `conn.log.gz`, `conn.2024-01-01-00-00-00.log.gz`, `conn.00:00:00-01:00:00.log.gz`,
/// `conn.json`, `conn.json.gz`, `NASHUA_conn.log`). `None` when the name is no known log.
pub fn kind_from_file_name(file_name: &str) -> Option<LogKind> {
    let (log, _) = log_stem(file_name);
    LogKind::is_known_name(log).then(|| LogKind::from_name(log))
}

/// The sensor of a file: the prefix of `NASHUA_conn.log`-style names; else the parent
/// folder's name (its parent's when the folder is a date, as in Zeek's archive
/// `logs/2024-01-01/`); else `default`.
pub fn sensor_name(path: &Path) -> String {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    if let (_, Some(prefix)) = log_stem(&file_name) {
        return prefix.to_string();
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        match d.file_name().map(|n| n.to_string_lossy()) {
            Some(name) if is_date(&name) => dir = d.parent(),
            Some(name) => return name.into_owned(),
            None => break,
        }
    }
    "default".to_string()
}

fn is_date(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|c| c.is_ascii_digit() || c == b'-')
}

/// File names a directory walk picks up; anything else (licences, `.status` files, pcaps)
/// in a log folder is left alone. Inputs named explicitly are always read.
fn looks_like_log(file_name: &str) -> bool {
    if file_name.starts_with('.') {
        return false;
    }
    let name = file_name.strip_suffix(".gz").unwrap_or(file_name);
    [".log", ".json", ".ndjson", ".jsonl"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Expands the inputs into the files to read: files as given, directories recursively
/// (entries sorted by name, so runs are deterministic), `-` for standard input.
///
/// Nothing is dropped silently: a path that does not exist or a directory that cannot be
/// listed is returned as a file, and [`LogReader::open`] reports it as an `io` rejection.
/// Symbolic links to directories are not followed (no cycles).
pub fn discover(inputs: &[PathBuf]) -> Vec<LogFile> {
    let mut out = Vec::new();
    for input in inputs {
        if input.as_os_str() != "-" && input.is_dir() {
            walk(input, 0, &mut out);
        } else {
            out.push(LogFile::new(input.clone()));
        }
    }
    // One shared name per sensor: every record of a sensor then carries the same `Arc`, so
    // consumers can tell sensors apart by pointer instead of hashing the name per record.
    let mut names: std::collections::HashMap<Arc<str>, Arc<str>> = std::collections::HashMap::new();
    for file in &mut out {
        let shared = names
            .entry(file.sensor.clone())
            .or_insert_with(|| file.sensor.clone());
        file.sensor = shared.clone();
    }
    out
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<LogFile>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) if depth <= MAX_DIR_DEPTH => entries,
        _ => {
            out.push(LogFile::new(dir.to_path_buf()));
            return;
        }
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let Ok(file_type) = entry.file_type() else {
            out.push(LogFile::new(path));
            continue;
        };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if file_type.is_dir() {
            if !name.starts_with('.') {
                walk(&path, depth + 1, out);
            }
        } else if looks_like_log(&name) && !(file_type.is_symlink() && path.is_dir()) {
            out.push(LogFile::new(path));
        }
    }
}

/// Reads lines from a buffered source into one reusable buffer, never holding more than
/// [`MAX_LINE_BYTES`] of a line: the rest of a longer line is skipped as it streams by.
struct LineReader {
    inner: BufReader<Box<dyn Read + Send>>,
    /// A line that did not lie whole in the read buffer, put together here.
    buf: Vec<u8>,
    /// The current line lies whole in the read buffer: its length there. Nearly every line
    /// does, and is then parsed where it was read instead of copied into `buf` first.
    in_place: Option<usize>,
    /// Bytes of the read buffer that the current line took, consumed only when the next
    /// line is asked for, so that [`LineReader::line`] can borrow them until then.
    unconsumed: usize,
    /// Lines read so far (the current line's 1-based number).
    line_no: u64,
    /// Decompressed bytes consumed and not yet added to the statistics.
    bytes: u64,
}

enum LineStatus {
    /// [`LineReader::line`] is the line (without `\n` or a trailing `\r`).
    Line,
    /// The line was longer than the limit; `buf` holds its first part, the length is given.
    TooLong(u64),
    Eof,
    Error(io::Error),
}

impl LineReader {
    fn new(inner: Box<dyn Read + Send>) -> Self {
        LineReader {
            inner: BufReader::with_capacity(READ_BUFFER, inner),
            buf: Vec::new(),
            in_place: None,
            unconsumed: 0,
            line_no: 0,
            bytes: 0,
        }
    }

    /// The line [`LineReader::next_line`] last read.
    #[inline]
    fn line(&self) -> &[u8] {
        match self.in_place {
            Some(len) => self.inner.buffer().get(..len).unwrap_or_default(),
            None => &self.buf,
        }
    }

    fn next_line(&mut self) -> LineStatus {
        self.inner.consume(std::mem::take(&mut self.unconsumed));
        self.in_place = None;
        self.buf.clear();
        // The common case: the whole line is already in the read buffer.
        if let Some(i) = memchr::memchr(b'\n', self.inner.buffer())
            && i <= MAX_LINE_BYTES
        {
            let line = &self.inner.buffer()[..i];
            let len = if line.last() == Some(&b'\r') {
                i - 1
            } else {
                i
            };
            self.in_place = Some(len);
            self.unconsumed = i + 1;
            self.bytes += i as u64 + 1;
            self.line_no += 1;
            return LineStatus::Line;
        }
        let mut len: u64 = 0;
        let mut any = false;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(avail) => avail,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A line cut by the error is part of the damage: not returned.
                Err(e) => return LineStatus::Error(e),
            };
            if avail.is_empty() {
                if !any {
                    return LineStatus::Eof;
                }
                break;
            }
            any = true;
            let (chunk, used, done) = match memchr::memchr(b'\n', avail) {
                Some(i) => (&avail[..i], i + 1, true),
                None => (avail, avail.len(), false),
            };
            let room = MAX_LINE_BYTES.saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            len += chunk.len() as u64;
            self.inner.consume(used);
            self.bytes += used as u64;
            if done {
                break;
            }
        }
        self.line_no += 1;
        if len > MAX_LINE_BYTES as u64 {
            return LineStatus::TooLong(len);
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        LineStatus::Line
    }
}

enum Format {
    Tsv(TsvParser),
    Json(JsonParser),
}

/// Reads the records of one log file (TSV or JSON lines, plain or gzip), counting into
/// [`RunStats`] as it goes. Memory stays bounded whatever the input: one read buffer, one
/// line buffer of at most [`MAX_LINE_BYTES`].
pub struct LogReader {
    display: String,
    lines: LineReader,
    format: Format,
    /// Whether the source is gzip: read errors are then decompression errors.
    gzip: bool,
    /// `lines` holds a line read by `open` that `next_record` has not handled yet.
    pending: Option<LineStatus>,
    /// The log of the first JSON record (for [`LogReader::log_kind`]).
    json_kind: Option<LogKind>,
    done: bool,
}

impl std::fmt::Debug for LogReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogReader")
            .field("display", &self.display)
            .field("line", &self.lines.line_no)
            .field("gzip", &self.gzip)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl LogReader {
    /// Opens a file (or standard input), detects gzip and the format, and reads the header.
    /// `None` when the file cannot be read or is no log format: that is already counted
    /// in `stats` as an `io`, `decompression` or `unknown-format` rejection.
    pub fn open(file: &LogFile, stats: &mut RunStats) -> Option<LogReader> {
        let source: Box<dyn Read + Send> = if file.is_stdin() {
            Box::new(io::stdin())
        } else {
            match File::open(&file.path) {
                Ok(f) => Box::new(f),
                Err(e) => {
                    stats.reject_file(&file.display, 0, RejectReason::Io, short_io(&e));
                    return None;
                }
            }
        };
        LogReader::from_read(file, source, stats)
    }

    /// Like [`LogReader::open`] over any byte source: in-memory data, a socket, a fuzzer's
    /// input. `file` gives the name, sensor and kind hint.
    pub fn from_read(
        file: &LogFile,
        source: Box<dyn Read + Send>,
        stats: &mut RunStats,
    ) -> Option<LogReader> {
        let (magic, source) = match read_head(source, 2) {
            Ok((head, rest)) => (head.clone(), chain(head, rest)),
            Err(e) => {
                stats.reject_file(&file.display, 0, RejectReason::Io, short_io(&e));
                return None;
            }
        };
        let gzip = magic.starts_with(&[0x1f, 0x8b]);
        let decoded: Box<dyn Read + Send> = if gzip {
            // Multi-member: `cat a.gz b.gz` and some rotation tools append members.
            Box::new(MultiGzDecoder::new(source))
        } else {
            source
        };
        stats.files += 1;
        let head = read_head(decoded, 3).and_then(|(head, rest)| {
            // A UTF-8 byte-order mark (some Windows tools add one) is not content.
            if head == b"\xef\xbb\xbf" {
                read_head(rest, 1)
            } else {
                Ok((head, rest))
            }
        });
        let (first, decoded) = match head {
            Ok((head, rest)) => (head.clone(), chain(head, rest)),
            Err(e) => {
                let reason = if gzip {
                    RejectReason::Decompression
                } else {
                    RejectReason::Io
                };
                stats.reject_file(&file.display, 1, reason, short_io(&e));
                return None;
            }
        };
        let format = match first.first() {
            Some(b'#') => Format::Tsv(TsvParser::new(file.sensor.clone(), file.kind_hint.clone())),
            // `{`, or an empty file: no records, and that is not an error.
            Some(b'{') | None => {
                Format::Json(JsonParser::new(file.sensor.clone(), file.kind_hint.clone()))
            }
            Some(_) => {
                stats.reject_file(
                    &file.display,
                    1,
                    RejectReason::UnknownFormat,
                    format!("not a Zeek TSV or JSON log: starts {}", preview(&first)),
                );
                return None;
            }
        };
        let mut reader = LogReader {
            display: file.display.clone(),
            lines: LineReader::new(decoded),
            format,
            gzip,
            pending: None,
            json_kind: None,
            done: false,
        };
        reader.read_header(stats);
        Some(reader)
    }

    /// Reads up to the first data line, so that [`LogReader::log_kind`] is known: a TSV
    /// file's header block, a JSON file's first record. The data line is kept for
    /// [`LogReader::next_record`].
    fn read_header(&mut self, stats: &mut RunStats) {
        loop {
            let status = self.lines.next_line();
            stats.bytes += std::mem::take(&mut self.lines.bytes);
            let is_header = matches!(status, LineStatus::Line)
                && matches!(self.format, Format::Tsv(_))
                && self.lines.line().first() == Some(&b'#');
            if !is_header {
                if matches!(status, LineStatus::Line) && matches!(self.format, Format::Json(_)) {
                    self.json_kind = json::line_log_kind(self.lines.line());
                }
                self.pending = Some(status);
                return;
            }
            if let Format::Tsv(p) = &mut self.format
                && let Err(e) = p.line(self.lines.line())
            {
                stats.reject_file(&self.display, self.lines.line_no, e.reason, e.detail);
            }
        }
    }

    /// The log being read: from the TSV header or the first JSON record, else the file
    /// name. For a TSV file with several blocks, the current block's.
    pub fn log_kind(&self) -> Option<LogKind> {
        match &self.format {
            Format::Tsv(p) => p.header().kind().cloned(),
            Format::Json(p) => self.json_kind.clone().or_else(|| p.kind_hint().cloned()),
        }
    }

    /// The path as reported.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Number of lines read so far.
    pub fn line_number(&self) -> u64 {
        self.lines.line_no
    }

    /// The next record, or `None` at the end of the input. Every line on the way is
    /// accounted for in `stats`: rejected lines with their line number, lines of skipped
    /// logs in `skipped`, a read or decompression error once, after which the reader ends.
    pub fn next_record(&mut self, stats: &mut RunStats) -> Option<Record> {
        while !self.done {
            let status = match self.pending.take() {
                Some(status) => status,
                None => {
                    let status = self.lines.next_line();
                    stats.bytes += std::mem::take(&mut self.lines.bytes);
                    status
                }
            };
            let line_no = self.lines.line_no;
            match status {
                LineStatus::Line => {}
                LineStatus::Eof => {
                    self.done = true;
                    break;
                }
                LineStatus::Error(e) => {
                    let reason = if self.gzip {
                        RejectReason::Decompression
                    } else {
                        RejectReason::Io
                    };
                    stats.reject_file(&self.display, line_no + 1, reason, short_io(&e));
                    self.done = true;
                    break;
                }
                LineStatus::TooLong(len) => {
                    let detail = format!(
                        "{len} bytes (limit {MAX_LINE_BYTES}), starts {}",
                        preview(&self.lines.buf)
                    );
                    stats.reject(&self.display, line_no, RejectReason::LineTooLong, detail);
                    continue;
                }
            }
            let line = self.lines.line();
            // Empty lines carry nothing (a doubled newline, a hand-edited file). Lines of
            // only spaces or tabs are not skipped: in TSV they are records of empty fields.
            if line.is_empty() {
                continue;
            }
            let parsed = match &mut self.format {
                Format::Tsv(p) => p.line(line),
                Format::Json(p) => p.line(line),
            };
            match parsed {
                Ok(Parsed::Record(record)) => {
                    stats.parsed(record.log_name());
                    stats.observe(match &record {
                        Record::Flow(f) => f.ts,
                        Record::App(a) => a.ts,
                    });
                    return Some(record);
                }
                Ok(Parsed::Skipped) => stats.skipped += 1,
                Ok(Parsed::Header) => {}
                Err(e) if e.reason == RejectReason::BadHeader => {
                    stats.reject_file(&self.display, line_no, e.reason, e.detail);
                }
                Err(e) => stats.reject(&self.display, line_no, e.reason, e.detail),
            }
        }
        None
    }

    /// Capacity of the line buffer, for tests of bounded memory.
    #[doc(hidden)]
    pub fn line_buffer_capacity(&self) -> usize {
        self.lines.buf.capacity()
    }
}

/// An iterator over a reader's records that counts into `stats` (see
/// [`LogReader::records`]).
#[derive(Debug)]
pub struct ReadAll<'s> {
    reader: LogReader,
    stats: &'s mut RunStats,
}

impl LogReader {
    /// The remaining records as an iterator.
    pub fn records(self, stats: &mut RunStats) -> ReadAll<'_> {
        ReadAll {
            reader: self,
            stats,
        }
    }
}

impl Iterator for ReadAll<'_> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        self.reader.next_record(self.stats)
    }
}

/// Reads the first `n` bytes (fewer at the end of input); returns them and the rest.
fn read_head(
    mut source: Box<dyn Read + Send>,
    n: usize,
) -> io::Result<(Vec<u8>, Box<dyn Read + Send>)> {
    let mut head = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match source.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    head.truncate(got);
    Ok((head, source))
}

/// `head` followed by `rest`.
fn chain(head: Vec<u8>, rest: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
    Box::new(io::Cursor::new(head).chain(rest))
}

/// An I/O error as a short detail (the OS message; paths are reported separately).
fn short_io(e: &io::Error) -> String {
    let mut s = e.to_string();
    if s.len() > 80 {
        let mut end = 80;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s.escape_debug().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A source that hands out its bytes in the given chunk sizes, so lines straddle reads.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        sizes: Vec<usize>,
        next: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let size = self.sizes[self.next % self.sizes.len()];
            self.next += 1;
            let n = size.min(out.len()).min(self.data.len() - self.at);
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    proptest! {
        #[test]
        fn lines_are_the_newline_split_whatever_the_reads(
            lines in prop::collection::vec(
                (prop::collection::vec(prop_oneof![8 => b'a'..=b'z', 1 => Just(b'\r')], 0..90), any::<bool>()),
                0..60,
            ),
            last_ends in any::<bool>(),
            sizes in prop::collection::vec(1usize..70, 1..8),
        ) {
            let mut data = Vec::new();
            for (i, (line, crlf)) in lines.iter().enumerate() {
                data.extend_from_slice(line);
                if *crlf {
                    data.push(b'\r');
                }
                if i + 1 < lines.len() || last_ends {
                    data.push(b'\n');
                }
            }
            let expected: Vec<Vec<u8>> = {
                let mut v: Vec<Vec<u8>> = data
                    .split(|&b| b == b'\n')
                    .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
                    .collect();
                // The split's last piece is the text after the last newline: a line only
                // when there is some.
                if data.last().is_none_or(|&b| b == b'\n') {
                    v.pop();
                }
                v
            };
            let source = Trickle { data: data.clone(), at: 0, sizes, next: 0 };
            let mut reader = LineReader::new(Box::new(source));
            let mut got = Vec::new();
            loop {
                match reader.next_line() {
                    LineStatus::Line => got.push(reader.line().to_vec()),
                    LineStatus::Eof => break,
                    LineStatus::TooLong(_) | LineStatus::Error(_) => prop_assert!(false, "no such line"),
                }
                prop_assert_eq!(reader.line_no, got.len() as u64);
            }
            prop_assert_eq!(got, expected);
            prop_assert_eq!(reader.bytes, data.len() as u64);
        }
    }
}
