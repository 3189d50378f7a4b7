//! Per-message bounds, and the pre-pass that enforces them before the MIME parser runs,
//! so that no message can cost more than a bounded amount of time and memory.

use serde::Serialize;
use std::borrow::Cow;

/// Largest message scanned; the rest is cut (and counted as malformed).
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
/// Most MIME parts (counted by `Content-Type:` lines) parsed per message.
pub const MAX_MIME_PARTS: usize = 1000;
/// Deepest multipart nesting walked.
pub const MAX_MIME_DEPTH: usize = 32;
/// Longest header line kept (longer ones are cut).
pub const MAX_HEADER_LINE: usize = 64 * 1024;
/// Most attachments inspected per message.
pub const MAX_ATTACHMENTS: usize = 100;

/// The bounds a scan applies (the named constants by default; tests may lower them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest message scanned.
    pub max_message_bytes: usize,
    /// Most MIME parts.
    pub max_mime_parts: usize,
    /// Deepest nesting.
    pub max_mime_depth: usize,
    /// Longest header line.
    pub max_header_line: usize,
    /// Most attachments inspected.
    pub max_attachments: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: MAX_MESSAGE_BYTES,
            max_mime_parts: MAX_MIME_PARTS,
            max_mime_depth: MAX_MIME_DEPTH,
            max_header_line: MAX_HEADER_LINE,
            max_attachments: MAX_ATTACHMENTS,
        }
    }
}

/// What was wrong with a message's structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MalformedKind {
    /// Bigger than the size bound; cut.
    Oversize,
    /// More MIME parts than the bound; cut.
    TooManyParts,
    /// Nested deeper than the bound; inner parts not walked.
    TooDeep,
    /// A header line longer than the bound; cut.
    HeaderLineTooLong,
    /// NUL bytes in the message.
    NulBytes,
    /// A part whose transfer encoding (base64, quoted-printable) does not decode cleanly.
    BadEncoding,
    /// Text that does not decode in its declared charset.
    BadCharset,
    /// Not an RFC 5322 message at all.
    NotAMessage,
}

impl MalformedKind {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            MalformedKind::Oversize => "oversize",
            MalformedKind::TooManyParts => "too-many-parts",
            MalformedKind::TooDeep => "too-deep",
            MalformedKind::HeaderLineTooLong => "header-line-too-long",
            MalformedKind::NulBytes => "nul-bytes",
            MalformedKind::BadEncoding => "bad-encoding",
            MalformedKind::BadCharset => "bad-charset",
            MalformedKind::NotAMessage => "not-a-message",
        }
    }
}

/// One structural problem and where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Malformed {
    /// What is wrong.
    pub kind: MalformedKind,
    /// Byte offset in the message where it starts.
    pub offset: u64,
    /// Short description.
    pub detail: String,
}

fn off(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Applies the size, header-line and part bounds; returns the bytes to parse (borrowed
/// unless something had to be cut) and what was found.
pub fn prepare<'a>(raw: &'a [u8], limits: &Limits, out: &mut Vec<Malformed>) -> Cow<'a, [u8]> {
    let mut data: Cow<'a, [u8]> = Cow::Borrowed(raw);
    if raw.len() > limits.max_message_bytes {
        out.push(Malformed {
            kind: MalformedKind::Oversize,
            offset: off(limits.max_message_bytes),
            detail: format!(
                "{} bytes, scanned the first {}",
                raw.len(),
                limits.max_message_bytes
            ),
        });
        data = Cow::Borrowed(raw.get(..limits.max_message_bytes).unwrap_or(raw));
    }
    if let Some(p) = memchr::memchr(0, &data) {
        out.push(Malformed {
            kind: MalformedKind::NulBytes,
            offset: off(p),
            detail: format!("{} NUL bytes", bytecount(&data, 0)),
        });
    }
    // Header section: cut lines over the bound.
    let mut pos = 0usize;
    let mut long_lines: Vec<(usize, usize)> = Vec::new();
    while pos < data.len() {
        let end =
            memchr::memchr(b'\n', data.get(pos..).unwrap_or(&[])).map_or(data.len(), |e| pos + e);
        let line = data.get(pos..end).unwrap_or(&[]);
        if line.is_empty() || line == b"\r" {
            break;
        }
        if line.len() > limits.max_header_line {
            long_lines.push((pos, end));
        }
        pos = end + 1;
    }
    if !long_lines.is_empty() {
        let mut v = Vec::with_capacity(data.len().min(limits.max_message_bytes));
        let mut last = 0;
        for &(start, end) in &long_lines {
            out.push(Malformed {
                kind: MalformedKind::HeaderLineTooLong,
                offset: off(start),
                detail: format!(
                    "header line of {} bytes, cut to {}",
                    end - start,
                    limits.max_header_line
                ),
            });
            v.extend_from_slice(
                data.get(last..start + limits.max_header_line)
                    .unwrap_or(&[]),
            );
            last = end;
        }
        v.extend_from_slice(data.get(last..).unwrap_or(&[]));
        data = Cow::Owned(v);
    }
    // MIME parts: each part has at most one Content-Type line; cut at the one past the bound.
    let mut count = 0usize;
    let mut cut_at = None;
    for (p, _) in line_starts_ci(&data, b"content-type:") {
        count += 1;
        if count > limits.max_mime_parts {
            cut_at = Some(p);
            break;
        }
    }
    if let Some(p) = cut_at {
        out.push(Malformed {
            kind: MalformedKind::TooManyParts,
            offset: off(p),
            detail: format!(
                "more than {} MIME parts; the rest is not scanned",
                limits.max_mime_parts
            ),
        });
        data = match data {
            Cow::Borrowed(b) => Cow::Borrowed(b.get(..p).unwrap_or(b)),
            Cow::Owned(mut v) => {
                v.truncate(p);
                Cow::Owned(v)
            }
        };
    }
    data
}

fn bytecount(data: &[u8], b: u8) -> usize {
    memchr::memchr_iter(b, data).count()
}

/// Offsets of lines that start with `prefix` (ASCII case-insensitive).
fn line_starts_ci<'a>(data: &'a [u8], prefix: &'a [u8]) -> impl Iterator<Item = (usize, ())> + 'a {
    std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', data).map(|p| p + 1))
        .filter(move |&s| {
            data.get(s..s + prefix.len())
                .is_some_and(|l| l.eq_ignore_ascii_case(prefix))
        })
        .map(|s| (s, ()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_header_lines_are_cut_and_counted() {
        let mut m = b"Subject: ".to_vec();
        m.extend(std::iter::repeat_n(b'a', 100));
        m.extend_from_slice(b"\nFrom: a@b.example\n\nbody");
        let lim = Limits {
            max_header_line: 20,
            ..Limits::default()
        };
        let mut out = Vec::new();
        let d = prepare(&m, &lim, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, MalformedKind::HeaderLineTooLong);
        assert_eq!(out[0].offset, 0);
        assert!(d.len() < m.len() && d.ends_with(b"\nFrom: a@b.example\n\nbody"));
    }

    #[test]
    fn parts_over_the_bound_are_cut() {
        let m = b"Content-Type: multipart/mixed\n\ncontent-type: text/plain\nCONTENT-TYPE: x/y\n";
        let lim = Limits {
            max_mime_parts: 2,
            ..Limits::default()
        };
        let mut out = Vec::new();
        let d = prepare(m, &lim, &mut out);
        assert_eq!(out[0].kind, MalformedKind::TooManyParts);
        assert_eq!(d.len(), 56);
    }
}
