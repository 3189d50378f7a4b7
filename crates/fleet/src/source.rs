//! The thin I/O shell: finds inventory files under the paths given, undoes gzip, reads
//! lines with a bound, and feeds a [`Collector`] per file on every core.

use crate::collect::{Collector, ProblemKind, ReadStats};
use crate::inventory::Inventory;
use flate2::read::MultiGzDecoder;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Longest results-log line read; longer lines are skipped without being buffered whole.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;
/// Largest `osqueryi --json` dump read (one host's table).
pub const MAX_DUMP_BYTES: u64 = 64 * 1024 * 1024;
/// Deepest directory level searched for inventories.
pub const MAX_DEPTH: usize = 8;

/// Lists the files under `paths` (directories searched recursively, hidden entries
/// skipped), sorted, so that every run reads in the same order.
pub fn discover(paths: &[PathBuf], stats: &mut ReadStats) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        walk(p, 0, &mut out, stats);
    }
    out.sort();
    out.dedup();
    out
}

fn walk(p: &Path, depth: usize, out: &mut Vec<PathBuf>, stats: &mut ReadStats) {
    if p.is_dir() {
        if depth >= MAX_DEPTH {
            return;
        }
        let entries = match std::fs::read_dir(p) {
            Ok(e) => e,
            Err(e) => {
                stats.problem(&p.display().to_string(), 0, ProblemKind::Io, e.to_string());
                return;
            }
        };
        for e in entries.flatten() {
            let name = e.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            walk(&e.path(), depth + 1, out, stats);
        }
    } else {
        out.push(p.to_path_buf());
    }
}

fn open(path: &Path) -> std::io::Result<Box<dyn BufRead + Send>> {
    let mut file = std::fs::File::open(path)?;
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic)?;
    let file = std::fs::File::open(path)?;
    Ok(if n == 2 && magic == [0x1f, 0x8b] {
        Box::new(BufReader::with_capacity(
            1 << 16,
            MultiGzDecoder::new(BufReader::with_capacity(1 << 16, file)),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, file))
    })
}

/// Calls `f(line_number, line)` for every line (without its newline), or
/// `f(line_number, Err(length))` for a line over `max` bytes, which is skipped without
/// being buffered. Returns the bytes read.
pub fn for_each_line<R: BufRead>(
    mut r: R,
    max: usize,
    mut f: impl FnMut(u64, Result<&[u8], usize>),
) -> std::io::Result<u64> {
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    let (mut line, mut total, mut skipping, mut skipped) = (0u64, 0u64, false, 0usize);
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        let (take, end) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let part = chunk.get(..take).unwrap_or(&[]);
        if skipping {
            skipped = skipped.saturating_add(take);
        } else if buf.len() + take > max + 1 {
            skipping = true;
            skipped = buf.len() + take;
            buf.clear();
        } else {
            buf.extend_from_slice(part);
        }
        r.consume(take);
        total += take as u64;
        if end {
            line += 1;
            if skipping {
                f(line, Err(skipped));
                skipping = false;
                skipped = 0;
            } else {
                emit(&mut buf, line, &mut f);
            }
        }
    }
    if skipping {
        f(line + 1, Err(skipped));
    } else if !buf.is_empty() {
        emit(&mut buf, line + 1, &mut f);
    }
    Ok(total)
}

fn emit(buf: &mut Vec<u8>, line: u64, f: &mut impl FnMut(u64, Result<&[u8], usize>)) {
    let mut s: &[u8] = buf;
    while let [rest @ .., b'\n' | b'\r'] = s {
        s = rest;
    }
    if !s.iter().all(u8::is_ascii_whitespace) {
        f(line, Ok(s));
    }
    buf.clear();
}

/// An `osqueryi --json` dump is a file named `TABLE.json` (optionally `.gz`) in a folder
/// named after the host; returns `(host, table)`.
fn dump_names(path: &Path) -> Option<(String, String)> {
    let name = path.file_name()?.to_str()?;
    let stem = name
        .strip_suffix(".json.gz")
        .or_else(|| name.strip_suffix(".json"))?;
    let host = path.parent()?.file_name()?.to_str()?;
    Some((host.to_string(), stem.to_string()))
}

/// Reads one file into a collector: a results log (JSON lines) or an `osqueryi` dump
/// (a JSON array), told apart by the first non-blank byte.
pub fn read_file(path: &Path, c: &mut Collector) {
    let name = path.display().to_string();
    c.stats.files += 1;
    let mut r = match open(path) {
        Ok(r) => r,
        Err(e) => {
            c.stats.problem(&name, 0, ProblemKind::Io, e.to_string());
            return;
        }
    };
    let first = loop {
        match r.fill_buf() {
            Ok([]) => break None,
            Ok(buf) => {
                let n = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
                if let Some(&b) = buf.get(n) {
                    break Some(b);
                }
                let len = buf.len();
                r.consume(len);
            }
            Err(e) => {
                c.stats.problem(&name, 0, ProblemKind::Io, e.to_string());
                return;
            }
        }
    };
    if first == Some(b'[') {
        let Some((host, table)) = dump_names(path) else {
            c.stats.problem(
                &name,
                0,
                ProblemKind::NotAResult,
                "a JSON array outside HOST/TABLE.json",
            );
            return;
        };
        let mut bytes = Vec::new();
        if let Err(e) = r.take(MAX_DUMP_BYTES + 1).read_to_end(&mut bytes) {
            c.stats.problem(&name, 0, ProblemKind::Io, e.to_string());
            return;
        }
        if bytes.len() as u64 > MAX_DUMP_BYTES {
            c.stats.problem(
                &name,
                0,
                ProblemKind::LineTooLong,
                format!("dump over {MAX_DUMP_BYTES} bytes"),
            );
            return;
        }
        c.stats.bytes += bytes.len() as u64;
        // The dump has no time of its own: the file's modification time stands for it.
        let time = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| i64::try_from(d.as_secs()).ok());
        c.feed_osqueryi(&name, &host, &table, time, &bytes);
        return;
    }
    let mut long = Vec::new();
    let result = for_each_line(r, MAX_LINE_BYTES, |n, line| match line {
        Ok(l) => c.feed_line(&name, n, l),
        Err(len) => long.push((n, len)),
    });
    for (n, len) in long {
        c.stats.lines += 1;
        c.stats.problem(
            &name,
            n,
            ProblemKind::LineTooLong,
            format!("{len} bytes (limit {MAX_LINE_BYTES})"),
        );
    }
    match result {
        Ok(b) => c.stats.bytes += b,
        Err(e) => c
            .stats
            .problem(&name, 0, ProblemKind::Io, format!("read stopped: {e}")),
    }
}

/// Reads every inventory under `paths` on up to `threads` threads and joins them, in file
/// order, so the result does not depend on the thread count.
pub fn read_inventories(paths: &[PathBuf], threads: usize) -> (Vec<Inventory>, ReadStats) {
    let mut pre = ReadStats::default();
    let files = discover(paths, &mut pre);
    let slots: Vec<Mutex<Option<Collector>>> = files.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let workers = threads.clamp(1, files.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let (Some(path), Some(slot)) = (files.get(i), slots.get(i)) else {
                        break;
                    };
                    let mut c = Collector::new();
                    read_file(path, &mut c);
                    if let Ok(mut g) = slot.lock() {
                        *g = Some(c);
                    }
                }
            });
        }
    });
    let mut all = Collector::new();
    all.stats = pre;
    for slot in slots {
        if let Some(c) = slot.into_inner().ok().flatten() {
            if all.is_empty() {
                // The first file's collector is taken whole: no re-indexing needed.
                let stats = std::mem::take(&mut all.stats);
                all = c;
                let mut merged = stats;
                merged.merge(std::mem::take(&mut all.stats));
                all.stats = merged;
            } else {
                all.merge(c);
            }
        }
    }
    all.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_skipped_and_numbered() {
        let text = b"a\n0123456789\r\nb\n\nlast";
        let mut seen = Vec::new();
        for_each_line(&text[..], 5, |n, l| {
            seen.push((n, l.map(|s| String::from_utf8_lossy(s).into_owned())));
        })
        .unwrap();
        assert_eq!(
            seen,
            vec![
                (1, Ok("a".to_string())),
                (2, Err(12)),
                (3, Ok("b".to_string())),
                (5, Ok("last".to_string())),
            ]
        );
    }
}
