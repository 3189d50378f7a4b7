use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// How many rejected records are kept with their position, per run.
pub const MAX_REJECTION_SAMPLES: usize = 100;

/// Why a record was rejected. Stable names: they are counted and reported by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectReason {
    /// A line with more or fewer fields than its `#fields` header.
    FieldCount,
    /// A field that should be an address, port, number or time is not.
    BadField,
    /// A required field (ts, addresses, ports) is unset or missing.
    MissingField,
    /// A line longer than the reader's limit.
    LineTooLong,
    /// Not valid UTF-8 where text is required.
    InvalidUtf8,
    /// Not a JSON object, or malformed JSON.
    BadJson,
    /// A data line before any `#fields` header in a TSV file.
    NoHeader,
    /// A bad header line (`#fields` empty, `#separator` unreadable).
    BadHeader,
    /// A file whose content is no log format we know.
    UnknownFormat,
    /// Compressed data that ends early or is corrupt.
    Decompression,
    /// A file or directory that could not be read.
    Io,
    /// A captured packet that cannot be decoded (truncated, malformed, unsupported link),
    /// or a capture container damaged at that point.
    BadPacket,
    /// A NetFlow/IPFIX datagram, or a set inside one, that cannot be decoded.
    BadDatagram,
    /// An EVTX chunk that cannot be used (bad magic, bad checksum, truncated).
    CorruptChunk,
    /// An EVTX record that cannot be decoded (bad size, bad BinXML, bad strings).
    CorruptRecord,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::FieldCount => "field-count",
            RejectReason::BadField => "bad-field",
            RejectReason::MissingField => "missing-field",
            RejectReason::LineTooLong => "line-too-long",
            RejectReason::InvalidUtf8 => "invalid-utf8",
            RejectReason::BadJson => "bad-json",
            RejectReason::NoHeader => "no-header",
            RejectReason::BadHeader => "bad-header",
            RejectReason::UnknownFormat => "unknown-format",
            RejectReason::Decompression => "decompression",
            RejectReason::Io => "io",
            RejectReason::BadPacket => "bad-packet",
            RejectReason::BadDatagram => "bad-datagram",
            RejectReason::CorruptChunk => "corrupt-chunk",
            RejectReason::CorruptRecord => "corrupt-record",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rejected record and where it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// File path as given (or `-` for stdin).
    pub file: String,
    /// 1-based line number; 0 when the problem is with the whole file.
    pub line: u64,
    pub reason: RejectReason,
    /// Short, escaped-for-terminal description (never the whole hostile line).
    pub detail: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file, self.line, self.reason, self.detail
        )
    }
}

/// What a run read and what it could not use. Nothing is lost silently: every record read
/// is either parsed or rejected with a reason.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStats {
    /// Files (or stdin) opened.
    pub files: u64,
    /// Bytes read, after decompression.
    pub bytes: u64,
    /// Data records read (header and comment lines excluded).
    pub records: u64,
    /// Records turned into events.
    pub parsed: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Rejections by reason name.
    pub rejected_by_reason: BTreeMap<String, u64>,
    /// Records parsed per log (`conn`, `rdp`, ...).
    pub parsed_by_log: BTreeMap<String, u64>,
    /// Records of logs that sekisho reads but does not use (dns, ssl, ...), skipped whole.
    pub skipped: u64,
    /// The first [`MAX_REJECTION_SAMPLES`] rejections with their positions.
    pub samples: Vec<Rejection>,
    /// Flows that another sensor had already logged (same connection, see
    /// `[detectors.duplicates]`): parsed and stored, analysed once.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub duplicates: u64,
    /// Earliest time of a parsed record: with `last_ts`, the span the input covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_ts: Option<Timestamp>,
    /// Latest time of a parsed record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ts: Option<Timestamp>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl RunStats {
    /// Counts a rejection and keeps its position while there is room.
    pub fn reject(
        &mut self,
        file: &str,
        line: u64,
        reason: RejectReason,
        detail: impl Into<String>,
    ) {
        self.records += 1;
        self.count_rejection(file, line, reason, detail);
    }

    /// Counts a problem with a whole file (not a record): unreadable, unknown format,
    /// truncated compression.
    pub fn reject_file(
        &mut self,
        file: &str,
        line: u64,
        reason: RejectReason,
        detail: impl Into<String>,
    ) {
        self.count_rejection(file, line, reason, detail);
    }

    fn count_rejection(
        &mut self,
        file: &str,
        line: u64,
        reason: RejectReason,
        detail: impl Into<String>,
    ) {
        self.rejected += 1;
        *self
            .rejected_by_reason
            .entry(reason.as_str().to_string())
            .or_default() += 1;
        if self.samples.len() < MAX_REJECTION_SAMPLES {
            self.samples.push(Rejection {
                file: file.to_string(),
                line,
                reason,
                detail: detail.into(),
            });
        }
    }

    /// Counts a parsed record of log `log`.
    pub fn parsed(&mut self, log: &str) {
        self.records += 1;
        self.parsed += 1;
        // Nearly every record is a conn record, and `conn` sorts before every other Zeek log:
        // its count is then the first entry, found without a search. Any other first entry
        // (a Linux `auth` log sorts before it) only sends the record to the search below.
        if let Some(mut first) = self.parsed_by_log.first_entry()
            && first.key().len() == log.len()
            && first.key().bytes().zip(log.bytes()).all(|(a, b)| a == b)
        {
            *first.get_mut() += 1;
            return;
        }
        if let Some(n) = self.parsed_by_log.get_mut(log) {
            *n += 1;
        } else {
            self.parsed_by_log.insert(log.to_string(), 1);
        }
    }

    /// Counts `n` parsed records of log `log` at once (sources that count in bulk, such as
    /// a capture's packets).
    pub fn count_parsed(&mut self, log: &str, n: u64) {
        if n == 0 {
            return;
        }
        self.records += n;
        self.parsed += n;
        *self.parsed_by_log.entry(log.to_string()).or_default() += n;
    }

    /// Counts `n` rejected records whose positions are not kept (past a source's own
    /// sample of positions).
    pub fn count_rejected(&mut self, reason: RejectReason, n: u64) {
        if n == 0 {
            return;
        }
        self.records += n;
        self.rejected += n;
        *self
            .rejected_by_reason
            .entry(reason.as_str().to_string())
            .or_default() += n;
    }

    /// Widens the covered span to include a parsed record's time.
    #[inline]
    pub fn observe(&mut self, ts: Timestamp) {
        if self.first_ts.is_none_or(|t| ts < t) {
            self.first_ts = Some(ts);
        }
        if self.last_ts.is_none_or(|t| ts > t) {
            self.last_ts = Some(ts);
        }
    }

    /// Adds another run's counts to this one.
    pub fn merge(&mut self, other: &RunStats) {
        self.files += other.files;
        self.bytes += other.bytes;
        self.records += other.records;
        self.parsed += other.parsed;
        self.rejected += other.rejected;
        self.skipped += other.skipped;
        self.duplicates += other.duplicates;
        for (k, v) in &other.rejected_by_reason {
            *self.rejected_by_reason.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.parsed_by_log {
            *self.parsed_by_log.entry(k.clone()).or_default() += v;
        }
        for ts in [other.first_ts, other.last_ts].into_iter().flatten() {
            self.observe(ts);
        }
        for s in &other.samples {
            if self.samples.len() >= MAX_REJECTION_SAMPLES {
                break;
            }
            self.samples.push(s.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_records_are_counted_per_log_whichever_log_sorts_first() {
        let mut s = RunStats::default();
        for log in ["conn", "rdp", "conn", "con", "conn", "connx", "rdp", "con"] {
            s.parsed(log);
        }
        let counts: Vec<(&str, u64)> = s
            .parsed_by_log
            .iter()
            .map(|(k, n)| (k.as_str(), *n))
            .collect();
        assert_eq!(counts, [("con", 2), ("conn", 3), ("connx", 1), ("rdp", 2)]);
        assert_eq!((s.records, s.parsed), (8, 8));
    }

    #[test]
    fn rejections_are_counted_past_the_sample_cap() {
        let mut s = RunStats::default();
        for i in 0..(MAX_REJECTION_SAMPLES as u64 + 5) {
            s.reject(
                "conn.log",
                i + 1,
                RejectReason::BadField,
                "id.orig_h: not an address",
            );
        }
        s.parsed("conn");
        s.observe(Timestamp::from_micros(20));
        s.observe(Timestamp::from_micros(10));
        assert_eq!(
            (s.first_ts, s.last_ts),
            (
                Some(Timestamp::from_micros(10)),
                Some(Timestamp::from_micros(20))
            )
        );
        assert_eq!(s.rejected, MAX_REJECTION_SAMPLES as u64 + 5);
        assert_eq!(s.records, MAX_REJECTION_SAMPLES as u64 + 6);
        assert_eq!(s.samples.len(), MAX_REJECTION_SAMPLES);
        assert_eq!(
            s.rejected_by_reason["bad-field"],
            MAX_REJECTION_SAMPLES as u64 + 5
        );
        assert_eq!(
            s.samples[0].to_string(),
            "conn.log:1: bad-field: id.orig_h: not an address"
        );
    }
}
