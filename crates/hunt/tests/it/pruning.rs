//! Partition pruning: a one-day, one-site question opens only that partition's files.
//!
//! The proof: every file of the other partitions is overwritten with garbage. A question
//! limited by `day`/`site` (or by a `ts` range and `site`) still answers, so those files
//! were never opened; a question over everything fails on them.

use crate::common::{TempDir, parquet_files, write_store};
use sekisho_hunt::{Hunt, HuntError};

/// Overwrites every flows/alerts file outside `day=2024-05-02/site=hq` with garbage.
fn spoil_other_partitions(dir: &std::path::Path) -> usize {
    let mut spoiled = 0;
    for table in ["flows", "alerts"] {
        for f in parquet_files(&dir.join(table)) {
            let p = f.to_string_lossy();
            if !(p.contains("day=2024-05-02") && p.contains("site=hq")) {
                std::fs::write(&f, b"this is not a parquet file, it was overwritten").unwrap();
                spoiled += 1;
            }
        }
    }
    spoiled
}

#[test]
fn one_day_one_site_reads_only_its_files() {
    let dir = TempDir::new("pruning");
    write_store(dir.path());
    let kept = parquet_files(&dir.path().join("flows"))
        .iter()
        .filter(|p| p.to_string_lossy().contains("day=2024-05-02/site=hq"))
        .count();
    assert_eq!(kept, 1, "the fixture has one file for 2024-05-02/hq");
    assert!(spoil_other_partitions(dir.path()) >= 5);

    let hunt = Hunt::open(dir.path()).unwrap();
    let r = hunt
        .query(
            "SELECT COUNT(*) AS n, SUM(orig_bytes) AS b, MIN(dst_ip) AS d FROM flows \
             WHERE day = '2024-05-02' AND site = 'hq'",
        )
        .unwrap();
    assert_eq!(
        r.rows(),
        vec![vec![
            Some("1".into()),
            Some("5000".into()),
            Some("198.51.100.7".into())
        ]]
    );

    // The same question by time range: `ts` bounds become `day` bounds.
    let r = hunt
        .query(
            "SELECT src_ip, orig_bytes FROM flows \
             WHERE ts >= '2024-05-02T00:00:00Z' AND ts < '2024-05-02T12:00:00Z' AND site = 'hq'",
        )
        .unwrap();
    assert_eq!(
        r.rows(),
        vec![vec![Some("10.10.0.5".into()), Some("5000".into())]]
    );
    let r = hunt
        .query(
            "SELECT COUNT(*) FROM flows WHERE site = 'hq' \
             AND ts BETWEEN TIMESTAMP '2024-05-02 01:00:00' AND TIMESTAMP '2024-05-02 23:00:00'",
        )
        .unwrap();
    assert_eq!(r.rows(), vec![vec![Some("1".into())]]);

    // A scan over everything opens the spoiled files and fails.
    match hunt.query("SELECT SUM(orig_bytes) FROM flows") {
        Err(HuntError::Query(_)) => {}
        other => panic!("a full scan must fail on the spoiled files, got {other:?}"),
    }
    // So does a site filter without a day, and a time range over another day.
    assert!(
        hunt.query("SELECT SUM(orig_bytes) FROM flows WHERE site = 'hq'")
            .is_err()
    );
    assert!(
        hunt.query("SELECT SUM(orig_bytes) FROM flows WHERE ts >= '2024-05-03T00:00:00Z'")
            .is_err()
    );
}
