//! `verify`: re-reads every committed segment and checks it against the manifest's hashes
//! and chain.

use crate::layout::{STAGING, Table};
use crate::manifest::{self, Manifest};
use crate::{InputId, StoreError};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// What is wrong with one part of the store.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// A committed segment's bytes differ from its recorded hash.
    Changed,
    /// A committed segment's file is gone.
    Missing,
    /// A segment holds the bytes another commit recorded for another place, or commits
    /// are out of order: the chain no longer runs through them in their order.
    Reordered,
    /// A file under a table that no commit names.
    Added,
    /// A recorded chain value does not follow from the segments before it.
    ChainBroken,
}

/// One finding of [`verify`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    /// Store-relative path of the file concerned.
    pub path: String,
    pub detail: String,
}

/// The outcome of [`verify`].
#[derive(Clone, Debug, Default, Serialize)]
pub struct VerifyReport {
    pub commits: u64,
    pub segments: u64,
    pub rows: u64,
    pub bytes: u64,
    /// The chain head as recorded in the manifest.
    pub chain_head: String,
    /// A last manifest line that never completed (an interrupted commit; not evidence).
    pub torn_tail_bytes: Option<u64>,
    /// Files in staging: those of an interrupted run that never committed, and the
    /// committed ones counted in `unplaced` below.
    pub staged_files: u64,
    /// Committed segments found, intact, in staging rather than in their place: a run was
    /// stopped between acknowledging a commit and moving its files. Nothing is lost; the
    /// next ingest moves them. Not a problem, unless their bytes differ from the record.
    pub unplaced: u64,
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// True when every committed segment is as recorded and nothing was added.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Re-reads every segment of the store at `dir` and checks hashes, chain, order and the
/// files present.
pub fn verify(dir: &Path) -> Result<VerifyReport, StoreError> {
    if !dir.is_dir() {
        return Err(StoreError::NotAStore(dir.to_path_buf()));
    }
    let manifest = Manifest::read(dir)?;
    let mut report = VerifyReport {
        commits: manifest.commits.len() as u64,
        chain_head: manifest.chain_head(),
        torn_tail_bytes: manifest.torn_tail,
        ..VerifyReport::default()
    };
    let recorded: HashMap<&str, &str> = manifest
        .segments()
        .map(|s| (s.blake3.as_str(), s.path.as_str()))
        .collect();
    let mut last_seq = 0u64;
    for c in &manifest.commits {
        if c.seq <= last_seq {
            report.problems.push(Problem {
                kind: ProblemKind::Reordered,
                path: crate::layout::MANIFEST.to_string(),
                detail: format!("commit {} comes after commit {last_seq}", c.seq),
            });
        }
        last_seq = c.seq;
    }
    let mut chain = manifest::GENESIS;
    let mut named: HashSet<&str> = HashSet::new();
    for seg in manifest.segments() {
        report.segments += 1;
        report.rows += seg.rows;
        report.bytes += seg.bytes;
        named.insert(seg.path.as_str());
        chain = manifest::chain_next(&chain, &seg.blake3, &seg.table, &seg.path, seg.rows);
        let expected_chain = manifest::hex(&chain);
        if expected_chain != seg.chain {
            report.problems.push(Problem {
                kind: ProblemKind::ChainBroken,
                path: seg.path.clone(),
                detail: "recorded chain value does not follow from the segments before it \
                         (commits edited, removed or reordered)"
                    .to_string(),
            });
            // Go on from the recorded value, so one break is reported once.
            chain = blake3::Hash::from_hex(&seg.chain)
                .map(|h| *h.as_bytes())
                .unwrap_or(chain);
        }
        let mut path = dir.join(&seg.path);
        if !path.is_file() {
            let staged = dir
                .join(STAGING)
                .join(crate::layout::staging_name(&seg.path));
            if !staged.is_file() {
                report.problems.push(Problem {
                    kind: ProblemKind::Missing,
                    path: seg.path.clone(),
                    detail: format!("{} rows committed in this segment", seg.rows),
                });
                continue;
            }
            // Committed, not yet moved: its bytes are checked where they are.
            report.unplaced += 1;
            path = staged;
        }
        let actual = InputId::of_file(&path)?.0;
        if actual == seg.blake3 {
            continue;
        }
        match recorded.get(actual.as_str()) {
            Some(other) => report.problems.push(Problem {
                kind: ProblemKind::Reordered,
                path: seg.path.clone(),
                detail: format!("holds the bytes committed as {other}"),
            }),
            None => report.problems.push(Problem {
                kind: ProblemKind::Changed,
                path: seg.path.clone(),
                detail: format!("BLAKE3 {actual}, committed {}", seg.blake3),
            }),
        }
    }
    for table in Table::ALL {
        let root = dir.join(table.as_str());
        let mut stack = vec![root];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let rel = path
                    .strip_prefix(dir)
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                if !named.contains(rel.as_str()) {
                    report.problems.push(Problem {
                        kind: ProblemKind::Added,
                        path: rel,
                        detail: "no commit names this file".to_string(),
                    });
                }
            }
        }
    }
    report.staged_files = std::fs::read_dir(dir.join(STAGING))
        .map(|r| r.count() as u64)
        .unwrap_or(0);
    report.problems.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(report)
}
