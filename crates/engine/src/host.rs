//! Host evidence in `analyze`: Windows event logs (EVTX, Winlogbeat / `evtx_dump` JSON) and
//! Linux auth logs (syslog, `journalctl -o json`) given among the inputs are told from Zeek
//! logs and captures by content, read with `sekisho-hostlog`, put in time order and run
//! through the host detectors ([`sekisho_detect::HOST_REGISTRY`]). Their alerts go into the
//! pipeline's one alert sink before correlation, so an incident joins the flow alert of a
//! crossing and the logon alert that names who used it whenever they share an address.
//!
//! Only what host detectors read is kept (logons, the event kinds in [`wanted`], and of
//! their raw fields only the few in [`KEPT_FIELDS`]), at most [`MAX_HOST_RECORDS`] records;
//! further records are counted as skipped.
//!
//! With a rule set ([`HostRules`], Sigma), every Windows record is read whole and matched
//! as it is read, in the reading threads; only the matching records are kept (at most
//! [`MAX_RULE_MATCHES`]) and become alerts in time order.

use crate::Pipeline;
use sekisho_detect::{AlertSink, DetectorStats, HostDetector, HostRules};
use sekisho_event::{Fields, HostEventKind, HostRecord, LogonAction, RunStats};
use sekisho_hostlog::source::{Format, sniff};
use sekisho_hostlog::{HostSink, Keep, ReadOptions, read_paths_into};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Most host records held for the detectors in one run (each a few hundred bytes once
/// slimmed); past it records are counted in `RunStats::skipped` and not analysed.
pub const MAX_HOST_RECORDS: usize = 1_000_000;

/// Most (rule, record) matches kept for alerting in one run; past it matches are counted
/// in `RunStats::skipped`. Alerts fold repeats per hour, so this bounds memory, not alerts
/// of distinct rules and hosts.
pub const MAX_RULE_MATCHES: usize = 200_000;

/// Bytes read from the start of a file to tell what it is.
const SNIFF_BYTES: usize = 4096;

/// Raw fields the host detectors read; every other field is dropped when a record is kept.
pub const KEPT_FIELDS: &[&str] = &[
    "SubjectLogonId",
    "LogonProcessName",
    "SubjectUserName",
    "Initiated",
];

/// True for a file that is host evidence by content: EVTX, Windows event JSON (Winlogbeat or
/// `evtx_dump`), `journalctl -o json`, or syslog text. Zeek TSV and JSON logs, captures and
/// NetFlow files are not (Zeek JSON is told from event JSON by the Windows keys).
pub fn is_host_log(path: &Path) -> bool {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    if file
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .is_err()
    {
        return false;
    }
    is_host_head(&head)
}

/// [`is_host_log`] on a file's first bytes.
pub fn is_host_head(head: &[u8]) -> bool {
    let trimmed = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .and_then(|i| head.get(i..))
        .unwrap_or(&[]);
    // Zeek TSV headers: never host evidence, whatever a syslog sniff might make of them.
    if trimmed.starts_with(b"#separator") || trimmed.starts_with(b"#fields") {
        return false;
    }
    let has = |n: &[u8]| head.windows(n.len()).any(|w| w == n);
    match sniff(head) {
        Format::Evtx | Format::JournalJson | Format::Syslog => true,
        Format::EventJson => {
            trimmed.starts_with(b"Record ")
                || has(b"\"winlog\"")
                || has(b"\"Event\"")
                || has(b"\"EventID\"")
        }
        Format::Unknown => false,
    }
}

/// The host-evidence files among the inputs (directories walked), in path order. Standard
/// input (`-`) is left to the Zeek reader.
pub fn host_files(inputs: &[PathBuf]) -> Vec<PathBuf> {
    let mut scratch = RunStats::default();
    let candidates: Vec<PathBuf> = inputs
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .cloned()
        .collect();
    // Unreadable inputs are counted by the Zeek side, which sees the same paths.
    sekisho_hostlog::source::discover(&candidates, &mut scratch)
        .into_iter()
        .filter(|p| is_host_log(p))
        .collect()
}

/// Whether host detectors read a record at all.
pub fn wanted(r: &HostRecord) -> bool {
    use HostEventKind as K;
    match r {
        HostRecord::Logon(l) => l.action == LogonAction::Logon,
        HostRecord::Event(e) => match e.kind {
            K::ServiceInstalled
            | K::LogCleared
            | K::AccountCreated
            | K::GroupMemberAdded
            | K::ExplicitCredentials
            | K::SpecialPrivileges
            | K::KerberosPreauthFailed
            | K::RdpAuthSucceeded
            | K::RdpSessionLogon
            | K::RdpSessionReconnected
            | K::SessionReconnected
            | K::ProcessCreated
            | K::AuditPolicyChanged => true,
            K::NetworkConnection => e.dest_port == Some(3389),
            _ => false,
        },
    }
}

fn slim(fields: &Fields) -> Fields {
    let mut out = Fields::default();
    for (n, v) in &fields.pairs {
        if KEPT_FIELDS.contains(&n.as_str()) {
            out.push(n, v);
        }
    }
    out
}

/// The [`HostSink`] of `analyze`: keeps what host detectors read, slimmed, up to
/// [`MAX_HOST_RECORDS`], and the records a rule set matches.
#[derive(Debug, Default)]
pub struct HostKeep {
    pub records: Vec<HostRecord>,
    /// Records not kept because the cap was reached.
    pub dropped: u64,
    /// Rules matched against every record as it is read.
    pub rules: Option<Arc<dyn HostRules>>,
    /// (rule index, record) for every match, up to [`MAX_RULE_MATCHES`].
    pub matched: Vec<(u32, HostRecord)>,
    /// Matches not kept because the cap was reached.
    pub matches_dropped: u64,
    scratch: Vec<u32>,
}

impl HostKeep {
    /// A sink that also matches `rules`.
    pub fn with_rules(rules: Option<Arc<dyn HostRules>>) -> Self {
        HostKeep {
            rules,
            ..HostKeep::default()
        }
    }

    fn match_rules(&mut self, record: &HostRecord) {
        let Some(rules) = &self.rules else {
            return;
        };
        self.scratch.clear();
        rules.matches(record, &mut self.scratch);
        for &rule in &self.scratch {
            if self.matched.len() >= MAX_RULE_MATCHES {
                self.matches_dropped += 1;
            } else {
                self.matched.push((rule, record.clone()));
            }
        }
    }
}

impl HostSink for HostKeep {
    fn record(&mut self, mut record: HostRecord) {
        self.match_rules(&record);
        if !wanted(&record) {
            return;
        }
        if self.records.len() >= MAX_HOST_RECORDS {
            self.dropped += 1;
            return;
        }
        match &mut record {
            HostRecord::Logon(l) => l.fields = slim(&l.fields),
            HostRecord::Event(e) => e.fields = slim(&e.fields),
        }
        self.records.push(record);
    }

    fn merge(&mut self, mut other: Self) {
        let room = MAX_HOST_RECORDS.saturating_sub(self.records.len());
        if other.records.len() > room {
            self.dropped += (other.records.len() - room) as u64;
            other.records.truncate(room);
        }
        self.records.append(&mut other.records);
        self.dropped += other.dropped;
        let room = MAX_RULE_MATCHES.saturating_sub(self.matched.len());
        if other.matched.len() > room {
            self.matches_dropped += (other.matched.len() - room) as u64;
            other.matched.truncate(room);
        }
        self.matched.append(&mut other.matched);
        self.matches_dropped += other.matches_dropped;
    }
}

/// Time order for host records, ties broken by where they were read, so the detectors see
/// the same sequence whatever order the worker threads finished in.
fn sort_key(r: &HostRecord) -> (sekisho_event::Timestamp, &str, u64, u64) {
    let (origin, record_id) = match r {
        HostRecord::Logon(l) => (&l.origin, l.record_id),
        HostRecord::Event(e) => (&e.origin, e.record_id),
    };
    (
        r.ts(),
        origin.file.as_str(),
        origin.line,
        record_id.unwrap_or(0),
    )
}

impl Pipeline<'_> {
    /// Runs every enabled host detector over `records` (sorted here by time) to the end,
    /// their alerts into the pipeline's sink; returns their bounded state by detector id.
    /// Host records are a batch of their own: host detectors do not read flows, and
    /// correlation joins both kinds of alerts at [`Pipeline::finish`].
    pub fn push_host_records(
        &mut self,
        records: &mut [HostRecord],
    ) -> BTreeMap<&'static str, DetectorStats> {
        records.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        let mut detectors = sekisho_detect::build_all_host(self.org);
        run(&mut detectors, records, &mut self.sink);
        detectors.iter().map(|d| (d.id(), d.stats())).collect()
    }

    /// Turns rule matches (sorted here by time, then rule) into alerts in the pipeline's
    /// sink; returns the aggregation's bounded state.
    pub fn push_rule_matches(
        &mut self,
        rules: &dyn HostRules,
        matches: &mut [(u32, HostRecord)],
    ) -> DetectorStats {
        matches.sort_by(|a, b| (sort_key(&a.1), a.0).cmp(&(sort_key(&b.1), b.0)));
        sekisho_detect::detectors::host_rules::alerts(self.org, rules, matches, &mut self.sink)
    }
}

fn run(detectors: &mut [Box<dyn HostDetector + '_>], records: &[HostRecord], sink: &mut AlertSink) {
    for r in records {
        for d in detectors.iter_mut() {
            match r {
                HostRecord::Logon(l) => d.on_logon(l, sink),
                HostRecord::Event(e) => d.on_host_event(e, sink),
            }
        }
    }
    for d in detectors.iter_mut() {
        d.finish(sink);
    }
}

/// Reads the host files (in parallel, see `sekisho_hostlog::read_paths`), counts what was
/// read into `stats`, and runs the host detectors into `pipeline`.
pub(crate) fn analyze_host(
    pipeline: &mut Pipeline<'_>,
    files: &[PathBuf],
    rules: Option<&Arc<dyn HostRules>>,
    stats: &mut RunStats,
) -> BTreeMap<&'static str, DetectorStats> {
    if files.is_empty() {
        return BTreeMap::new();
    }
    let opts = ReadOptions {
        keep: if rules.is_some() {
            Keep::All
        } else {
            Keep::Normalised
        },
        ..ReadOptions::default()
    };
    let mut collected = read_paths_into(files, &opts, || HostKeep::with_rules(rules.cloned()));
    stats.merge(&collected.stats);
    let sink = &mut collected.sink;
    stats.skipped += sink.dropped + sink.matches_dropped;
    let mut out = pipeline.push_host_records(&mut sink.records);
    if let Some(rules) = rules {
        let s = pipeline.push_rule_matches(rules.as_ref(), &mut sink.matched);
        out.insert(sekisho_detect::detectors::host_rules::ID, s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_logs_are_told_from_zeek_logs_by_content() {
        assert!(is_host_head(b"ElfFile\0rest"));
        assert!(is_host_head(
            br#"{"@timestamp":"2021-05-01T10:00:00.000Z","winlog":{"event_id":"4625"}}"#
        ));
        assert!(is_host_head(
            b"Mar  7 18:53:24 bar sshd[1558]: Failed password for root from 192.0.2.114 port 52100 ssh2\n"
        ));
        // Zeek JSON and TSV are not host evidence.
        assert!(!is_host_head(
            br#"{"ts":1715742000.0,"uid":"C1","id.orig_h":"10.20.3.4","id.orig_p":5,"id.resp_h":"10.10.5.10","id.resp_p":3389}"#
        ));
        assert!(!is_host_head(
            b"#separator \\x09\n#set_separator\t,\n#fields\tts\tuid\n"
        ));
        assert!(!is_host_head(b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00"));
    }
}
