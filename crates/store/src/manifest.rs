//! The manifest: an append-only JSON-lines log of commits, and the hash chain over the
//! segments they seal.

use crate::StoreError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// One sealed segment, as its commit names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// `flows`, `alerts`, `logons` or `host_events`.
    pub table: String,
    /// Relative to the store root, `/`-separated.
    pub path: String,
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Site id (not encoded), or `_external`.
    pub site: String,
    pub rows: u64,
    pub bytes: u64,
    /// Earliest and latest event time in the segment, µs since the epoch.
    pub min_ts: i64,
    pub max_ts: i64,
    /// BLAKE3 of the file's bytes, hex.
    pub blake3: String,
    /// Chain value after this segment, hex.
    pub chain: String,
}

/// How far an input has been stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputProgress {
    /// BLAKE3 of the input's bytes, hex.
    pub id: String,
    /// How the user named it (for messages only).
    pub name: String,
    /// Flows of this input stored so far, counted in the order it yields them.
    pub stored: u64,
    /// True once every flow of the input is stored.
    pub complete: bool,
}

/// One line of the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    /// 1, 2, ... in file order.
    pub seq: u64,
    pub segments: Vec<Segment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<InputProgress>,
    /// Set on the last commit of an ingest run: BLAKE3 over the run's input ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
}

/// The chain's starting value.
pub const GENESIS: [u8; 32] = [0; 32];

/// The chain value after a segment.
pub fn chain_next(
    prev: &[u8; 32],
    file_hash: &str,
    table: &str,
    path: &str,
    rows: u64,
) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(prev);
    for part in [file_hash, table, path] {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.update(&rows.to_le_bytes());
    *h.finalize().as_bytes()
}

/// Hex of a chain value.
pub fn hex(bytes: &[u8; 32]) -> String {
    blake3::Hash::from_bytes(*bytes).to_hex().to_string()
}

/// The manifest as read from disk.
#[derive(Clone, Debug, Default)]
pub struct Manifest {
    pub commits: Vec<Commit>,
    /// Byte length of the committed lines (a torn tail starts here).
    pub committed_len: u64,
    /// A last line that is not a complete commit (a write cut short): its length in bytes.
    pub torn_tail: Option<u64>,
}

/// A relative, `/`-separated path with no empty, `.` or `..` component, no backslash and
/// no NUL: joined to the store directory, it stays inside it.
pub fn inside_store(path: &str) -> bool {
    !path.is_empty()
        && !path.contains(['\\', '\0'])
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

impl Manifest {
    /// Reads `DIR/manifest.jsonl`; a missing file is an empty store. A final line without its
    /// newline, or that does not parse, is a commit that was never acknowledged: reported in
    /// `torn_tail`, not an error. Any other bad line is corruption and an error naming it.
    pub fn read(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(crate::layout::MANIFEST);
        match std::fs::read(&path) {
            Ok(bytes) => Self::parse(&bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(StoreError::io(&path, e)),
        }
    }

    /// [`Manifest::read`] over the file's bytes. Pure; never panics on any byte sequence.
    pub fn parse(bytes: &[u8]) -> Result<Self, StoreError> {
        let mut out = Manifest::default();
        let mut start = 0usize;
        let mut line_no = 0usize;
        while start < bytes.len() {
            line_no += 1;
            let end = bytes[start..].iter().position(|&b| b == b'\n');
            let Some(len) = end else {
                out.torn_tail = Some((bytes.len() - start) as u64);
                break;
            };
            let line = &bytes[start..start + len];
            match serde_json::from_slice::<Commit>(line) {
                Ok(c) => {
                    // Segment paths are joined to the store directory to read, hash and
                    // (when recovering a commit) rename files: a tampered manifest must not
                    // reach outside the store.
                    if let Some(bad) = c.segments.iter().find(|s| !inside_store(&s.path)) {
                        return Err(StoreError::Manifest {
                            line: line_no,
                            message: format!(
                                "segment path {:?} is not a plain path inside the store",
                                bad.path.chars().take(200).collect::<String>()
                            ),
                        });
                    }
                    out.commits.push(c)
                }
                Err(e) => {
                    if start + len + 1 == bytes.len() {
                        // A complete-looking last line that does not parse: torn as well
                        // (the newline can reach the disk before the bytes in front of it).
                        out.torn_tail = Some((len + 1) as u64);
                        break;
                    }
                    return Err(StoreError::Manifest {
                        line: line_no,
                        message: e.to_string(),
                    });
                }
            }
            start += len + 1;
            out.committed_len = start as u64;
        }
        Ok(out)
    }

    /// Every segment, in commit order.
    pub fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.commits.iter().flat_map(|c| c.segments.iter())
    }

    /// The chain head: the chain value of the last segment (the genesis value when empty).
    pub fn chain_head(&self) -> String {
        self.segments()
            .last()
            .map(|s| s.chain.clone())
            .unwrap_or_else(|| hex(&GENESIS))
    }

    /// The latest progress of every input ever named, by id.
    pub fn inputs(&self) -> BTreeMap<String, InputProgress> {
        let mut out = BTreeMap::new();
        for c in &self.commits {
            for i in &c.inputs {
                out.insert(i.id.clone(), i.clone());
            }
        }
        out
    }

    /// True when a finished ingest run had exactly this job key.
    pub fn has_job(&self, job: &str) -> bool {
        self.commits.iter().any(|c| c.job.as_deref() == Some(job))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(seq: u64, path: &str) -> String {
        let c = Commit {
            seq,
            segments: vec![Segment {
                table: "flows".into(),
                path: path.into(),
                day: "2024-05-01".into(),
                site: "jp-hq".into(),
                rows: 1,
                bytes: 1,
                min_ts: 0,
                max_ts: 0,
                blake3: hex(&GENESIS),
                chain: hex(&GENESIS),
            }],
            inputs: vec![],
            job: None,
        };
        serde_json::to_string(&c).expect("serialises") + "\n"
    }

    #[test]
    fn segment_paths_that_leave_the_store_are_refused_by_line() {
        let good = "flows/day=2024-05-01/site=jp-hq/seg-000001-0.parquet";
        let m = Manifest::parse(line(1, good).as_bytes()).expect("a plain path");
        assert_eq!(m.segments().count(), 1);
        for bad in [
            "../../etc/cron.d/x",
            "/etc/passwd",
            "flows/../../x",
            "flows//x",
            "flows/./x",
            "flows\\..\\x",
            "",
        ] {
            let text = line(1, good) + &line(2, bad) + &line(3, good);
            match Manifest::parse(text.as_bytes()) {
                Err(StoreError::Manifest { line, message }) => {
                    assert_eq!(line, 2, "{bad}");
                    assert!(message.contains("inside the store"), "{message}");
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_torn_last_line_is_not_an_error() {
        let good = "flows/a.parquet";
        let text = line(1, good) + "{\"seq\":2,\"segm";
        let m = Manifest::parse(text.as_bytes()).expect("torn tail");
        assert_eq!(m.commits.len(), 1);
        assert_eq!(m.torn_tail, Some(14));
        assert_eq!(m.committed_len, line(1, good).len() as u64);
    }
}
