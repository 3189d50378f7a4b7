//! Where things are in a store directory.

use std::fmt::Write;

/// The manifest: one committed line per commit.
pub const MANIFEST: &str = "manifest.jsonl";
/// Segments written but not yet committed.
pub const STAGING: &str = "_staging";
/// Name of a segment's file in staging: fixed by its final path, so recovery (and `verify`)
/// can match them.
pub(crate) fn staging_name(path: &str) -> String {
    format!(
        "{}.parquet.tmp",
        &blake3::hash(path.as_bytes()).to_hex()[..32]
    )
}

/// Partition site of events outside every site.
pub const EXTERNAL_SITE: &str = "_external";

/// The store's tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Flows,
    Alerts,
    /// Logons, failed logons and logoffs from host logs.
    Logons,
    /// The other host records.
    HostEvents,
}

impl Table {
    pub const ALL: [Table; 4] = [
        Table::Flows,
        Table::Alerts,
        Table::Logons,
        Table::HostEvents,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Table::Flows => "flows",
            Table::Alerts => "alerts",
            Table::Logons => "logons",
            Table::HostEvents => "host_events",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "flows" => Some(Table::Flows),
            "alerts" => Some(Table::Alerts),
            "logons" => Some(Table::Logons),
            "host_events" => Some(Table::HostEvents),
            _ => None,
        }
    }
}

/// UTC day of a time in microseconds since the epoch, as days since the epoch.
pub fn day_of(micros: i64) -> i32 {
    i32::try_from(micros.div_euclid(86_400_000_000)).unwrap_or(if micros < 0 {
        i32::MIN
    } else {
        i32::MAX
    })
}

/// `YYYY-MM-DD` of a day number (`dayN` for days without a calendar name).
pub fn day_name(day: i32) -> String {
    calendar_day(day).unwrap_or_else(|| format!("day{day}"))
}

/// The `day=` partition name of the UTC day holding `micros`, when that day has a calendar
/// name: what a reader compares to prune partitions by time (`None`: do not prune).
pub fn partition_day(micros: i64) -> Option<String> {
    calendar_day(day_of(micros))
}

fn calendar_day(day: i32) -> Option<String> {
    chrono::DateTime::from_timestamp(i64::from(day) * 86_400, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
}

/// A site id as it may appear in a path: `[A-Za-z0-9_-]` kept, every other byte as `%XX`.
pub fn site_segment(site: &str) -> String {
    let mut out = String::with_capacity(site.len());
    for b in site.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    if out.is_empty() {
        out.push_str("%00");
    }
    out
}

/// Path of a segment relative to the store root.
pub fn segment_path(table: Table, day: &str, site: &str, seq: u64, n: usize) -> String {
    format!(
        "{}/day={day}/site={}/part-{seq:08}-{n:04}.parquet",
        table.as_str(),
        site_segment(site)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_names_are_utc_dates() {
        assert_eq!(day_name(day_of(0)), "1970-01-01");
        // 2024-05-01T23:59:59.999999Z and the next microsecond.
        let t = 1_714_607_999_999_999;
        assert_eq!(day_name(day_of(t)), "2024-05-01");
        assert_eq!(day_name(day_of(t + 1)), "2024-05-02");
        assert_eq!(day_name(day_of(-1)), "1969-12-31");
    }

    #[test]
    fn site_ids_cannot_escape_their_directory() {
        assert_eq!(site_segment("th-bkk_1"), "th-bkk_1");
        assert_eq!(site_segment("../x"), "%2E%2E%2Fx");
        assert_eq!(site_segment("a b/c"), "a%20b%2Fc");
        assert_eq!(site_segment(""), "%00");
    }
}
