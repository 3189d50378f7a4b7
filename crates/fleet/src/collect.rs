//! Turns parsed result lines into per-host inventories, counting every line or row it
//! cannot use with its position. Pure: it is fed bytes and positions, it does no I/O.

use crate::inventory::{Applied, Change, Inventory, Table};
use crate::parse::{Body, Header, LineError, Row, RowSlot, parse_line, parse_rows};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Hosts kept per run; lines of further hosts are counted (`host-cap`) and dropped.
pub const MAX_HOSTS: usize = 1_000_000;
/// Problems kept with their position; all are counted.
pub const MAX_PROBLEM_SAMPLES: usize = 200;

/// What went wrong with a line, a row or a host. Stable names, reported by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// Malformed or truncated JSON.
    BadJson,
    /// JSON that is no osquery result (no name, no host, no rows).
    NotAResult,
    /// A line longer than the reader's limit.
    LineTooLong,
    /// A query whose name is no table sekisho reads (its lines are skipped).
    UnknownTable,
    /// A row over the column or byte bound.
    HugeRow,
    /// A row that is not an object of scalars.
    BadRow,
    /// Rows beyond [`crate::MAX_ROWS_PER_TABLE`] for one host and table.
    RowCap,
    /// One host id reported by two machines (different hardware serials).
    DuplicateHostId,
    /// One host id with different `hostname`/`computer_name` decorations.
    ClashingDecoration,
    /// A host beyond [`MAX_HOSTS`].
    HostCap,
    /// A file that could not be read or decompressed.
    Io,
}

impl ProblemKind {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::BadJson => "bad-json",
            ProblemKind::NotAResult => "not-a-result",
            ProblemKind::LineTooLong => "line-too-long",
            ProblemKind::UnknownTable => "unknown-table",
            ProblemKind::HugeRow => "huge-row",
            ProblemKind::BadRow => "bad-row",
            ProblemKind::RowCap => "row-cap",
            ProblemKind::DuplicateHostId => "duplicate-host-id",
            ProblemKind::ClashingDecoration => "clashing-decoration",
            ProblemKind::HostCap => "host-cap",
            ProblemKind::Io => "io",
        }
    }
}

/// One problem and where it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// File as given.
    pub file: String,
    /// 1-based line; 0 for the file as a whole.
    pub line: u64,
    /// What.
    pub kind: ProblemKind,
    /// A short description (never the whole hostile line).
    pub detail: String,
}

/// Counts of what was read, and every problem by kind with the first positions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReadStats {
    /// Files read.
    pub files: u64,
    /// Bytes read after decompression.
    pub bytes: u64,
    /// Lines (or `osqueryi` files) read.
    pub lines: u64,
    /// Rows applied to inventories.
    pub rows: u64,
    /// Rows applied per table.
    pub rows_by_table: BTreeMap<String, u64>,
    /// Problems by kind name.
    pub problems: BTreeMap<String, u64>,
    /// The first [`MAX_PROBLEM_SAMPLES`] problems.
    pub samples: Vec<Problem>,
}

impl ReadStats {
    /// Counts a problem and keeps its position while there is room.
    pub fn problem(&mut self, file: &str, line: u64, kind: ProblemKind, detail: impl Into<String>) {
        *self.problems.entry(kind.as_str().to_string()).or_insert(0) += 1;
        if self.samples.len() < MAX_PROBLEM_SAMPLES {
            let mut detail: String = detail.into();
            if detail.len() > 200 {
                let mut cut = 200;
                while !detail.is_char_boundary(cut) {
                    cut -= 1;
                }
                detail.truncate(cut);
                detail.push('…');
            }
            self.samples.push(Problem {
                file: file.to_string(),
                line,
                kind,
                detail,
            });
        }
    }

    /// How many problems of a kind.
    pub fn count(&self, kind: ProblemKind) -> u64 {
        self.problems.get(kind.as_str()).copied().unwrap_or(0)
    }

    /// Adds another run's counts (samples in order, up to the cap).
    pub fn merge(&mut self, other: ReadStats) {
        self.files += other.files;
        self.bytes += other.bytes;
        self.lines += other.lines;
        self.rows += other.rows;
        for (k, v) in other.rows_by_table {
            *self.rows_by_table.entry(k).or_insert(0) += v;
        }
        for (k, v) in other.problems {
            *self.problems.entry(k).or_insert(0) += v;
        }
        for s in other.samples {
            if self.samples.len() >= MAX_PROBLEM_SAMPLES {
                break;
            }
            self.samples.push(s);
        }
    }
}

/// Identity values a host carries, to notice two machines under one id.
#[derive(Clone, Debug, Default)]
struct Identity {
    hostname: String,
    serial: String,
}

/// Gathers inventories from lines and `osqueryi` dumps.
#[derive(Debug, Default)]
pub struct Collector {
    index: HashMap<String, usize>,
    hosts: Vec<Inventory>,
    identity: Vec<Identity>,
    /// What was read and what went wrong.
    pub stats: ReadStats,
    table_counts: [u64; Table::ALL.len()],
}

fn rejected_row(stats: &mut ReadStats, file: &str, line: u64, slot: &RowSlot, table: Table) {
    match slot {
        RowSlot::Huge { columns, bytes } => stats.problem(
            file,
            line,
            ProblemKind::HugeRow,
            format!(
                "{} row with {columns} columns, {bytes} bytes (limits {} and {})",
                table.as_str(),
                crate::parse::MAX_COLUMNS,
                crate::parse::MAX_ROW_BYTES
            ),
        ),
        RowSlot::Bad => stats.problem(
            file,
            line,
            ProblemKind::BadRow,
            format!("{} row is not an object of scalar values", table.as_str()),
        ),
        RowSlot::Ok(_) => {}
    }
}

impl Collector {
    /// An empty collector.
    pub fn new() -> Self {
        Collector::default()
    }

    /// Hosts gathered so far.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    /// Whether no host was gathered.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    fn host(&mut self, id: &str, file: &str, line: u64) -> Option<usize> {
        if let Some(&i) = self.index.get(id) {
            return Some(i);
        }
        if self.hosts.len() >= MAX_HOSTS {
            self.stats.problem(
                file,
                line,
                ProblemKind::HostCap,
                format!("more than {MAX_HOSTS} hosts"),
            );
            return None;
        }
        let i = self.hosts.len();
        let mut inv = Inventory::new(id);
        inv.first_seen_at = format!("{file}:{line}");
        self.hosts.push(inv);
        self.identity.push(Identity::default());
        self.index.insert(id.to_string(), i);
        Some(i)
    }

    /// Notes a host's hostname and serial; a different serial under the same id is a
    /// duplicate host id (two machines, e.g. cloned from one image), a different name a
    /// clashing decoration.
    fn check_identity(&mut self, i: usize, hostname: &str, serial: &str, file: &str, line: u64) {
        let Some(id) = self.identity.get_mut(i) else {
            return;
        };
        let host = self
            .hosts
            .get(i)
            .map(|h| h.host_id.clone())
            .unwrap_or_default();
        if !serial.is_empty() {
            if id.serial.is_empty() {
                id.serial = serial.to_string();
            } else if id.serial != serial {
                let detail = format!(
                    "host id {host:?} reported by serial {:?} and {serial:?}",
                    id.serial
                );
                self.stats
                    .problem(file, line, ProblemKind::DuplicateHostId, detail);
                return;
            }
        }
        if !hostname.is_empty() {
            if id.hostname.is_empty() {
                id.hostname = hostname.to_string();
                if let Some(h) = self.hosts.get_mut(i) {
                    h.hostname = hostname.to_string();
                }
            } else if !id.hostname.eq_ignore_ascii_case(hostname) {
                let detail = format!(
                    "host id {host:?} decorated with hostname {:?} and {hostname:?}",
                    id.hostname
                );
                self.stats
                    .problem(file, line, ProblemKind::ClashingDecoration, detail);
            }
        }
    }

    fn apply_rows<'a>(
        &mut self,
        i: usize,
        table: Table,
        change: Change,
        rows: impl IntoIterator<Item = &'a RowSlot<'a>>,
        file: &str,
        line: u64,
    ) {
        for slot in rows {
            let RowSlot::Ok(row) = slot else {
                rejected_row(&mut self.stats, file, line, slot, table);
                continue;
            };
            let Some(h) = self.hosts.get_mut(i) else {
                return;
            };
            match h.apply(table, change, row) {
                Applied::Done => {
                    self.stats.rows += 1;
                    if let Some(c) = self.table_counts.get_mut(table.index()) {
                        *c += 1;
                    }
                }
                Applied::Full => self.stats.problem(
                    file,
                    line,
                    ProblemKind::RowCap,
                    format!(
                        "host {:?}: more than {} {} rows",
                        h.host_id,
                        crate::inventory::MAX_ROWS_PER_TABLE,
                        table.as_str()
                    ),
                ),
            }
            if table == Table::SystemInfo && change == Change::Add {
                let (name, serial) = (
                    row.get("hostname").to_string(),
                    row.get("hardware_serial").to_string(),
                );
                self.check_identity(i, &name, &serial, file, line);
            }
        }
    }

    fn touch(&mut self, i: usize, table: Table, time: Option<i64>) {
        if let Some(h) = self.hosts.get_mut(i)
            && let Some(t) = time
        {
            h.last_seen = Some(h.last_seen.map_or(t, |s| s.max(t)));
            let slot = &mut h.table_time[table.index()];
            *slot = Some(slot.map_or(t, |s| s.max(t)));
        }
    }

    /// Feeds one line of an osqueryd results log. `line` is 1-based.
    pub fn feed_line(&mut self, file: &str, line: u64, bytes: &[u8]) {
        self.stats.lines += 1;
        let parsed = match parse_line(bytes) {
            Ok(p) => p,
            Err(LineError::BadJson(e)) => {
                self.stats.problem(file, line, ProblemKind::BadJson, e);
                return;
            }
            Err(LineError::NotAResult(why)) => {
                self.stats.problem(file, line, ProblemKind::NotAResult, why);
                return;
            }
        };
        let Some(table) = Table::from_query_name(&parsed.header.name) else {
            let name = sekisho_report::sanitize_terminal(&parsed.header.name).into_owned();
            self.stats.problem(
                file,
                line,
                ProblemKind::UnknownTable,
                format!("query {name:?}"),
            );
            return;
        };
        let Some(i) = self.host(parsed.header.host_id(), file, line) else {
            return;
        };
        self.header_identity(i, &parsed.header, file, line);
        match &parsed.body {
            Body::Event { added, row } => {
                let change = if *added { Change::Add } else { Change::Remove };
                self.apply_rows(i, table, change, std::iter::once(row), file, line);
            }
            Body::Batch { added, removed } => {
                // osquery computes `removed` against the previous result, so apply it first.
                self.apply_rows(i, table, Change::Remove, removed, file, line);
                self.apply_rows(i, table, Change::Add, added, file, line);
            }
            Body::Snapshot(rows) => {
                if let Some(h) = self.hosts.get_mut(i) {
                    h.clear(table);
                }
                self.apply_rows(i, table, Change::Add, rows, file, line);
            }
        }
        self.touch(i, table, parsed.header.unix_time);
    }

    fn header_identity(&mut self, i: usize, h: &Header, file: &str, line: u64) {
        let d = &h.decorations;
        let name = [d.get("hostname"), d.get("computer_name")]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or("");
        let serial = [d.get("hardware_serial"), d.get("serial")]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or("");
        self.check_identity(i, name, serial, file, line);
        if let Some(inv) = self.hosts.get_mut(i)
            && inv.hostname.is_empty()
            && !h.host_identifier.is_empty()
        {
            inv.hostname = h.host_identifier.to_string();
        }
    }

    /// Feeds one `osqueryi --json` dump: `host`'s rows of `table` (named by the file),
    /// taken at `time` (seconds; the file's modification time in the CLI).
    pub fn feed_osqueryi(
        &mut self,
        file: &str,
        host: &str,
        table_name: &str,
        time: Option<i64>,
        bytes: &[u8],
    ) {
        self.stats.lines += 1;
        let Some(table) = Table::from_query_name(table_name) else {
            let name = sekisho_report::sanitize_terminal(table_name).into_owned();
            self.stats.problem(
                file,
                0,
                ProblemKind::UnknownTable,
                format!("table {name:?}"),
            );
            return;
        };
        let rows = match parse_rows(bytes) {
            Ok(r) => r,
            Err(LineError::BadJson(e)) => {
                self.stats.problem(file, 0, ProblemKind::BadJson, e);
                return;
            }
            Err(LineError::NotAResult(why)) => {
                self.stats.problem(file, 0, ProblemKind::NotAResult, why);
                return;
            }
        };
        let Some(i) = self.host(host, file, 0) else {
            return;
        };
        if let Some(h) = self.hosts.get_mut(i) {
            h.clear(table);
        }
        self.apply_rows(i, table, Change::Add, &rows, file, 0);
        self.touch(i, table, time);
    }

    /// Joins another collector's hosts and counts into this one (hosts seen in both are
    /// merged table by table, newer tables winning). Merging in a fixed order keeps the
    /// result independent of how work was spread over threads.
    pub fn merge(&mut self, other: Collector) {
        let Collector {
            hosts,
            identity,
            stats,
            table_counts,
            ..
        } = other;
        self.stats.merge(stats);
        for (a, b) in self.table_counts.iter_mut().zip(table_counts) {
            *a += b;
        }
        for (inv, id) in hosts.into_iter().zip(identity) {
            let at = inv.first_seen_at.clone();
            let (file, line) = at
                .rsplit_once(':')
                .map_or((at.as_str(), 0), |(f, l)| (f, l.parse().unwrap_or(0)));
            match self.index.get(&inv.host_id).copied() {
                Some(i) => {
                    self.check_identity(i, &id.hostname, &id.serial, file, line);
                    if let Some(h) = self.hosts.get_mut(i) {
                        h.absorb(inv);
                    }
                }
                None => {
                    if let Some(i) = self.host(&inv.host_id.clone(), file, line)
                        && let (Some(h), Some(slot)) =
                            (self.hosts.get_mut(i), self.identity.get_mut(i))
                    {
                        *h = inv;
                        *slot = id;
                    }
                }
            }
        }
    }

    /// The inventories, in order of first appearance, and the counts.
    pub fn finish(mut self) -> (Vec<Inventory>, ReadStats) {
        for t in Table::ALL {
            let n = self.table_counts.get(t.index()).copied().unwrap_or(0);
            if n > 0 {
                self.stats.rows_by_table.insert(t.as_str().to_string(), n);
            }
        }
        (self.hosts, self.stats)
    }
}

/// Convenience for tests and tools: one row as `(column, value)` pairs.
pub fn row_of<'a>(pairs: &[(&'a str, &'a str)]) -> Row<'a> {
    Row {
        cols: pairs.iter().map(|&(k, v)| (k.into(), v.into())).collect(),
    }
}
