//! `bulk-transfer`.

mod common;

use common::*;
use sekisho_event::Severity;

const MB: u64 = 1_000_000;

fn at(min: i64) -> sekisho_event::Timestamp {
    plus(t("2024-05-15T02:00:00Z"), min * 60)
}

#[test]
fn a_peer_in_another_site_pulling_from_the_file_server_is_high() {
    let org = org();
    let flows: Vec<_> = (0..3)
        .map(|i| flow("10.20.3.4", "10.10.5.10", 445, at(10 + i * 10)).bytes(2_000, 60 * MB))
        .collect();
    let alerts = run(&org, &["bulk-transfer"], &flows);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(ends(a), ("10.20.3.4".into(), "10.10.5.10".into()));
    assert_eq!(a.severity, Severity::High);
    assert_eq!(a.attack.as_deref(), Some("T1074.002"));
    assert_eq!(a.bytes_in, 180 * MB);
    assert_eq!(a.bytes_out, 6_000);
    assert_eq!(a.flow_count, 3);
    assert_eq!((a.ts, a.last_ts), (at(10), at(30)));
    assert_eq!(
        a.summary,
        "th-bkk 10.20.3.4 pulled 180 MB from jp-hq jp-fs01 (10.10.5.10) within 1h"
    );
}

#[test]
fn pushing_data_outside_is_critical_and_split_peers_each_get_one() {
    let org = org();
    let flows = vec![
        flow("10.10.5.10", "203.0.113.9", 443, at(5)).bytes(150 * MB, 10_000),
        // Same hour, to Bangkok: two hosts that only together pass the bar.
        flow("10.10.5.10", "10.20.3.4", 445, at(6)).bytes(60 * MB, 1_000),
        flow("10.10.5.10", "10.20.3.5", 445, at(7)).bytes(50 * MB, 1_000),
        // A stray small one beside them.
        flow("10.10.5.10", "10.20.3.6", 445, at(8)).bytes(MB, 1_000),
    ];
    let alerts = run(&org, &["bulk-transfer"], &flows);
    assert_eq!(alerts.len(), 3, "{alerts:#?}");
    let out = &alerts[0];
    assert_eq!(ends(out), ("10.10.5.10".into(), "203.0.113.9".into()));
    assert_eq!(out.severity, Severity::Critical);
    assert_eq!(out.attack.as_deref(), Some("T1048"));
    assert_eq!(out.bytes_out, 150 * MB);
    assert_eq!(
        out.summary,
        "jp-hq jp-fs01 (10.10.5.10) sent 150 MB to external 203.0.113.9 within 1h"
    );
    assert_eq!(ends(&alerts[1]).1, "10.20.3.4");
    assert_eq!(ends(&alerts[2]).1, "10.20.3.5");
    assert_eq!(alerts[2].severity, Severity::High);
    assert!(
        alerts[2]
            .summary
            .ends_with("(111 MB left for th-bkk in all)"),
        "{}",
        alerts[2].summary
    );
}

#[test]
fn below_the_bar_no_data_intra_site_or_split_over_windows_do_not_alert() {
    let org = org();
    let flows = vec![
        flow("10.10.5.10", "203.0.113.9", 443, at(5)).bytes(90 * MB, 0),
        // Not a data-bearing asset.
        flow("10.10.20.20", "203.0.113.9", 443, at(5)).bytes(500 * MB, 0),
        // Within the site.
        flow("10.10.9.9", "10.10.5.10", 445, at(5)).bytes(0, 500 * MB),
        // Data coming *in* to the file server from another site.
        flow("10.20.3.4", "10.10.5.10", 445, at(5)).bytes(500 * MB, 0),
        // 60 + 60 MB, but in two clock hours.
        flow("10.40.3.4", "10.10.5.10", 445, at(50)).bytes(0, 60 * MB),
        flow("10.40.3.4", "10.10.5.10", 445, at(70)).bytes(0, 60 * MB),
    ];
    let alerts = run(&org, &["bulk-transfer"], &flows);
    assert!(alerts.is_empty(), "{alerts:#?}");
}
