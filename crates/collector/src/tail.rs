//! Rotation-safe tailing of a live Zeek log directory (`logs/current`, `spool/<node>`).
//!
//! Zeek writes each log to `<log>.log` and, at rotation, renames it away and starts a new
//! file under the same name. The tailer keeps the open handle of each file it reads, so
//! when the name points to a new inode it first reads the old file to its end (the renamed
//! file is the same inode), then starts the new one from its first byte: no record is lost
//! or read twice across a rotation. A file that shrinks in place (truncated) is read again
//! from the start. Partial lines wait for their newline; a line longer than
//! [`MAX_LINE_BYTES`] is rejected and skipped without being buffered.

use sekisho_event::{RejectReason, RunStats};
use sekisho_zeek::{
    LogKind, MAX_LINE_BYTES, Parsed, Record, json::JsonParser, kind_from_file_name, sensor_name,
    tsv::TsvParser,
};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Most bytes read from one file per poll, so one busy log cannot starve the others.
pub const MAX_READ_PER_POLL: usize = 8 << 20;

/// Bytes of a file's start remembered to notice it was rewritten in place.
const HEAD_BYTES: usize = 256;

/// Most log files followed in one directory.
pub const MAX_FILES: usize = 64;

/// Follows the current logs of one Zeek directory.
#[derive(Debug)]
pub struct ZeekTail {
    dir: PathBuf,
    files: BTreeMap<String, Followed>,
}

#[derive(Debug)]
struct Followed {
    file: File,
    inode: (u64, u64),
    offset: u64,
    display: String,
    sensor: Arc<str>,
    kind: Option<LogKind>,
    parser: LineParser,
    partial: Vec<u8>,
    /// Inside an over-long line: drop bytes until its newline.
    skipping: bool,
    /// The first bytes read (up to [`HEAD_BYTES`]): a file rewritten in place to the same
    /// or a larger size is told apart by them.
    head: Vec<u8>,
    line_no: u64,
}

#[derive(Debug)]
enum LineParser {
    /// Format not known yet (no line seen).
    Unknown,
    Tsv(TsvParser),
    Json(JsonParser),
}

impl ZeekTail {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            files: BTreeMap::new(),
        }
    }

    /// The directory followed.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads whatever was appended since the last poll, handing each record to `out`.
    /// Problems (unreadable files, bad lines) are counted in `stats` with their position.
    pub fn poll(&mut self, stats: &mut RunStats, out: &mut dyn FnMut(Record)) {
        let names = match current_logs(&self.dir) {
            Ok(names) => names,
            Err(e) => {
                stats.reject_file(
                    &self.dir.display().to_string(),
                    0,
                    RejectReason::Io,
                    e.to_string(),
                );
                return;
            }
        };
        for name in names {
            let path = self.dir.join(&name);
            let Ok(meta) = std::fs::metadata(&path) else {
                continue; // renamed away between listing and stat: next poll sees the new one
            };
            let inode = (meta.dev(), meta.ino());
            let followed = self.files.len();
            match self.files.get_mut(&name) {
                Some(f) if f.inode == inode => {
                    if meta.len() < f.offset || !f.same_head() {
                        // Truncated in place: what is there now is new.
                        f.restart();
                    }
                    f.read_new(stats, out);
                }
                Some(f) => {
                    // Rotated: finish the old file through the handle we hold, then follow
                    // the new one from its start.
                    f.read_new(stats, out);
                    f.finish(stats, out);
                    if let Some(next) = Followed::open(&path, inode, stats) {
                        *f = next;
                        f.read_new(stats, out);
                    } else {
                        self.files.remove(&name);
                    }
                }
                None if followed < MAX_FILES => {
                    if let Some(mut f) = Followed::open(&path, inode, stats) {
                        f.read_new(stats, out);
                        self.files.insert(name, f);
                    }
                }
                None => {}
            }
        }
    }

    /// Reads every file to its end and hands over any last line without a newline (at
    /// shutdown).
    pub fn finish(&mut self, stats: &mut RunStats, out: &mut dyn FnMut(Record)) {
        for f in self.files.values_mut() {
            f.read_new(stats, out);
            f.finish(stats, out);
        }
    }
}

/// The current logs of a directory: `<log>.log` for the logs sekisho reads, sorted. Rotated
/// files (`conn.2024-...log`) are archives of what was followed already.
fn current_logs(dir: &Path) -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".log") else {
            continue;
        };
        if stem.contains('.') {
            continue;
        }
        if kind_from_file_name(&name).is_some_and(|k| k.is_wanted()) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

impl Followed {
    fn open(path: &Path, inode: (u64, u64), stats: &mut RunStats) -> Option<Self> {
        let display = path.display().to_string();
        match File::open(path) {
            Ok(file) => {
                stats.files += 1;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                Some(Followed {
                    file,
                    inode,
                    offset: 0,
                    display,
                    sensor: Arc::from(sensor_name(path)),
                    kind: kind_from_file_name(&name),
                    parser: LineParser::Unknown,
                    partial: Vec::new(),
                    skipping: false,
                    head: Vec::new(),
                    line_no: 0,
                })
            }
            Err(e) => {
                stats.reject_file(&display, 0, RejectReason::Io, e.to_string());
                None
            }
        }
    }

    /// True when the file still starts with the bytes read from it first.
    fn same_head(&mut self) -> bool {
        if self.head.is_empty() {
            return true;
        }
        let mut now = vec![0u8; self.head.len()];
        self.file.seek(SeekFrom::Start(0)).is_ok()
            && self.file.read_exact(&mut now).is_ok()
            && now == self.head
    }

    fn restart(&mut self) {
        self.offset = 0;
        self.head.clear();
        self.partial.clear();
        self.skipping = false;
        self.line_no = 0;
        self.parser = LineParser::Unknown;
        let _ = self.file.seek(SeekFrom::Start(0));
    }

    /// Reads what was appended (up to [`MAX_READ_PER_POLL`]) and parses complete lines.
    fn read_new(&mut self, stats: &mut RunStats, out: &mut dyn FnMut(Record)) {
        let mut chunk = Vec::new();
        if self.file.seek(SeekFrom::Start(self.offset)).is_err() {
            return;
        }
        match (&mut self.file)
            .take(MAX_READ_PER_POLL as u64)
            .read_to_end(&mut chunk)
        {
            Ok(n) => {
                if self.head.len() < HEAD_BYTES && self.offset == self.head.len() as u64 {
                    let take = (HEAD_BYTES - self.head.len()).min(chunk.len());
                    self.head.extend_from_slice(&chunk[..take]);
                }
                self.offset += n as u64;
                stats.bytes += n as u64;
            }
            Err(e) => {
                stats.reject_file(&self.display, self.line_no, RejectReason::Io, e.to_string());
                return;
            }
        }
        let mut rest = chunk.as_slice();
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            let (piece, after) = rest.split_at(nl);
            rest = &after[1..];
            if self.skipping {
                self.skipping = false;
                self.partial.clear();
                continue;
            }
            if self.partial.is_empty() {
                self.line(piece, stats, out);
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(piece);
                if line.len() > MAX_LINE_BYTES {
                    self.too_long(stats);
                } else {
                    self.line(&line, stats, out);
                }
            }
        }
        if !self.skipping && !rest.is_empty() {
            if self.partial.len() + rest.len() > MAX_LINE_BYTES {
                self.too_long(stats);
                self.skipping = true;
            } else {
                self.partial.extend_from_slice(rest);
            }
        }
    }

    /// A last line without its newline, at rotation or shutdown.
    fn finish(&mut self, stats: &mut RunStats, out: &mut dyn FnMut(Record)) {
        if !self.skipping && !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line(&line, stats, out);
        }
        self.partial.clear();
        self.skipping = false;
    }

    fn too_long(&mut self, stats: &mut RunStats) {
        self.line_no += 1;
        self.partial.clear();
        stats.reject(
            &self.display,
            self.line_no,
            RejectReason::LineTooLong,
            format!("line longer than {MAX_LINE_BYTES} bytes"),
        );
    }

    fn line(&mut self, line: &[u8], stats: &mut RunStats, out: &mut dyn FnMut(Record)) {
        self.line_no += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return;
        }
        if matches!(self.parser, LineParser::Unknown) {
            self.parser = if line.first() == Some(&b'{') {
                LineParser::Json(JsonParser::new(self.sensor.clone(), self.kind.clone()))
            } else {
                LineParser::Tsv(TsvParser::new(self.sensor.clone(), self.kind.clone()))
            };
        }
        let parsed = match &mut self.parser {
            LineParser::Tsv(p) => p.line(line),
            LineParser::Json(p) => p.line(line),
            LineParser::Unknown => return,
        };
        match parsed {
            Ok(Parsed::Header) => {}
            Ok(Parsed::Skipped) => {
                stats.records += 1;
                stats.skipped += 1;
            }
            Ok(Parsed::Record(rec)) => {
                stats.parsed(rec.log_name());
                out(rec);
            }
            Err(e) => stats.reject(&self.display, self.line_no, e.reason, e.detail),
        }
    }
}
