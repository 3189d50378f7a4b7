//! The I/O shell: finds messages in `.eml` files, mbox files and Maildir folders, told
//! apart by content (not by name), and reads them with a bounded size per message.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Most files looked at under one directory tree.
pub const MAX_FILES: usize = 1_000_000;
/// Deepest directory recursion.
pub const MAX_DIR_DEPTH: usize = 16;
/// Bytes read per message: one more than the scan bound, so the scanner sees and
/// reports the message as oversize without us holding more of it.
pub const READ_LIMIT: usize = crate::limits::MAX_MESSAGE_BYTES + 1;

/// What kind of file holds messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// One RFC 5322 message per file (`.eml`, a Maildir entry, anything that starts with headers).
    Message,
    /// Many messages, each after a `From ` line.
    Mbox,
}

/// A file to read messages from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The file.
    pub path: PathBuf,
    /// How to read it.
    pub kind: SourceKind,
}

/// One message as read.
#[derive(Clone, Debug)]
pub struct MessageSource {
    /// Where it is: the path, plus `:LINE` for a message inside an mbox.
    pub label: String,
    /// Its bytes (at most [`READ_LIMIT`]).
    pub bytes: Vec<u8>,
}

/// Inputs that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// A path given on the command line does not exist.
    #[error("input {0} does not exist")]
    Missing(PathBuf),
    /// Reading failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// What discovery found: sources in a stable (sorted) order, and files skipped because
/// their content is no mail format, with the reason.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Files that hold mail.
    pub sources: Vec<Source>,
    /// Files that do not, with why.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Finds messages under the given paths. A Maildir is a folder with `cur/`, `new/` and
/// `tmp/`; its `cur` and `new` entries are messages.
pub fn discover(paths: &[PathBuf]) -> Result<Discovered, DiscoverError> {
    let mut found = Discovered::default();
    for p in paths {
        if !p.exists() {
            return Err(DiscoverError::Missing(p.clone()));
        }
        walk(p, 0, &mut found)?;
    }
    Ok(found)
}

fn walk(p: &Path, depth: usize, found: &mut Discovered) -> Result<(), DiscoverError> {
    let io = |e| DiscoverError::Io {
        path: p.to_path_buf(),
        source: e,
    };
    let meta = std::fs::metadata(p).map_err(io)?;
    if meta.is_file() {
        if found.sources.len() + found.skipped.len() >= MAX_FILES {
            found.skipped.push((
                p.to_path_buf(),
                format!("beyond the bound of {MAX_FILES} files"),
            ));
            return Ok(());
        }
        match classify(p) {
            Ok(Some(kind)) => found.sources.push(Source {
                path: p.to_path_buf(),
                kind,
            }),
            Ok(None) => found.skipped.push((
                p.to_path_buf(),
                "not a mail message, mbox or Maildir entry".into(),
            )),
            Err(e) => found.skipped.push((p.to_path_buf(), e.to_string())),
        }
        return Ok(());
    }
    if depth >= MAX_DIR_DEPTH {
        found.skipped.push((
            p.to_path_buf(),
            format!("deeper than {MAX_DIR_DEPTH} directories"),
        ));
        return Ok(());
    }
    let is_maildir = ["cur", "new", "tmp"].iter().all(|d| p.join(d).is_dir());
    let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|e| !is_maildir || e.ends_with("cur") || e.ends_with("new"))
        .collect();
    entries.sort();
    for e in entries {
        if e.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            continue;
        }
        walk(&e, depth + 1, found)?;
    }
    Ok(())
}

/// Tells a file's kind by its first bytes: `From ` starts an mbox; a header line
/// (`Name: value`) starts a message.
pub fn classify(p: &Path) -> std::io::Result<Option<SourceKind>> {
    let mut head = [0u8; 1024];
    let mut f = File::open(p)?;
    let mut n = 0;
    while n < head.len() {
        let r = f.read(head.get_mut(n..).unwrap_or(&mut []))?;
        if r == 0 {
            break;
        }
        n += r;
    }
    Ok(classify_bytes(head.get(..n).unwrap_or(&[])))
}

/// Content detection over a file's first bytes.
pub fn classify_bytes(head: &[u8]) -> Option<SourceKind> {
    if head.starts_with(b"From ") {
        return Some(SourceKind::Mbox);
    }
    let first = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let colon = first.iter().position(|&b| b == b':')?;
    let name = first.get(..colon)?;
    let is_header = !name.is_empty()
        && name.len() <= 76
        && name.iter().all(|&b| b.is_ascii_graphic() && b != b':');
    is_header.then_some(SourceKind::Message)
}

/// Reads every message of a source, calling `each` with it. Messages over
/// [`READ_LIMIT`] are cut there (the scanner reports them as oversize).
pub fn read_source(src: &Source, each: &mut dyn FnMut(MessageSource)) -> Result<(), DiscoverError> {
    let io = |e| DiscoverError::Io {
        path: src.path.clone(),
        source: e,
    };
    let f = File::open(&src.path).map_err(io)?;
    let label = src.path.display().to_string();
    match src.kind {
        SourceKind::Message => {
            let mut bytes = Vec::new();
            f.take(READ_LIMIT as u64)
                .read_to_end(&mut bytes)
                .map_err(io)?;
            each(MessageSource { label, bytes });
        }
        SourceKind::Mbox => {
            let mut r = BufReader::new(f);
            split_mbox(&mut r, &label, each).map_err(io)?;
        }
    }
    Ok(())
}

/// Longest line kept while splitting an mbox (longer lines are cut; the cut is seen by
/// the scanner as a long header line or as body damage).
const MAX_MBOX_LINE: usize = 1024 * 1024;

/// Splits an mbox stream at `From ` lines, undoing `>From ` quoting (mboxrd).
pub fn split_mbox(
    r: &mut dyn BufRead,
    label: &str,
    each: &mut dyn FnMut(MessageSource),
) -> std::io::Result<()> {
    let mut cur: Vec<u8> = Vec::new();
    let mut start_line = 0u64;
    let mut line_no = 0u64;
    let mut line = Vec::new();
    let mut in_msg = false;
    loop {
        line.clear();
        let n = read_line_bounded(r, &mut line, MAX_MBOX_LINE)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if line.starts_with(b"From ") {
            if in_msg {
                each(MessageSource {
                    label: format!("{label}:{start_line}"),
                    bytes: std::mem::take(&mut cur),
                });
            }
            in_msg = true;
            start_line = line_no + 1;
            continue;
        }
        if !in_msg {
            continue;
        }
        let body: &[u8] = if line.starts_with(b">")
            && line
                .iter()
                .skip_while(|&&b| b == b'>')
                .take(5)
                .eq(b"From ".iter())
        {
            line.get(1..).unwrap_or(&[])
        } else {
            &line
        };
        if cur.len() + body.len() <= READ_LIMIT {
            cur.extend_from_slice(body);
        } else if cur.len() < READ_LIMIT {
            let room = READ_LIMIT - cur.len();
            cur.extend_from_slice(body.get(..room).unwrap_or(&[]));
        }
    }
    if in_msg {
        each(MessageSource {
            label: format!("{label}:{start_line}"),
            bytes: cur,
        });
    }
    Ok(())
}

/// Reads one line (with its `\n`) but keeps at most `max` bytes of it.
fn read_line_bounded(r: &mut dyn BufRead, out: &mut Vec<u8>, max: usize) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(total);
        }
        let (take, done) = match memchr::memchr(b'\n', buf) {
            Some(p) => (p + 1, true),
            None => (buf.len(), false),
        };
        if out.len() < max {
            let keep = take.min(max - out.len());
            out.extend_from_slice(buf.get(..keep).unwrap_or(&[]));
        }
        r.consume(take);
        total += take;
        if done {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_the_kind() {
        assert_eq!(
            classify_bytes(b"From a@b Sat Jan  1 00:00:00 2000\n"),
            Some(SourceKind::Mbox)
        );
        assert_eq!(
            classify_bytes(b"Return-Path: <a@b>\n"),
            Some(SourceKind::Message)
        );
        assert_eq!(classify_bytes(b"\x89PNG\r\n"), None);
        assert_eq!(classify_bytes(b"hello world\n"), None);
    }

    #[test]
    fn mbox_splits_and_unquotes() {
        let data = b"From a Mon\nSubject: one\n\n>From here\nFrom b Tue\nSubject: two\n\nx\n";
        let mut got = Vec::new();
        split_mbox(&mut &data[..], "box", &mut |m| got.push(m)).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].label, "box:2");
        assert_eq!(got[0].bytes, b"Subject: one\n\nFrom here\n");
        assert_eq!(got[1].label, "box:6");
    }
}
