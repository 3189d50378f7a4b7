//! `pivot-chain`.

mod common;

use common::*;
use sekisho_event::{ConnState, Flow, Severity};

fn at(min: i64) -> sekisho_event::Timestamp {
    plus(t("2024-05-15T02:00:00Z"), min * 60)
}

/// th-bkk 10.20.3.4 RDPs into 10.10.7.7, which goes on to the file server and to 10.10.8.8,
/// which goes on to the DC, which goes on (one hop too deep to follow).
fn chain() -> Vec<Flow> {
    vec![
        flow("10.20.3.4", "10.10.7.7", 3389, at(0)),
        flow("10.10.7.7", "10.10.5.10", 445, at(10)),
        flow("10.10.7.7", "10.10.8.8", 5985, at(20)),
        flow("10.10.8.8", "10.10.1.1", 445, at(30)),
        flow("10.10.1.1", "10.10.2.2", 445, at(40)),
        // Not onward hops: back to the source, unanswered, not admin, too late.
        flow("10.10.7.7", "10.20.3.4", 445, at(12)),
        flow("10.10.7.7", "10.10.9.9", 445, at(14)).state(ConnState::S0),
        flow("10.10.7.7", "10.10.9.8", 443, at(15)),
        flow("10.10.7.7", "10.10.9.10", 445, at(61)),
    ]
}

#[test]
fn a_chain_across_sites_and_two_hops_deep_is_one_alert() {
    let org = org();
    let alerts = run(&org, &["pivot-chain"], &chain());
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(ends(a), ("10.20.3.4".into(), "10.10.7.7".into()));
    assert_eq!(a.src.site.as_deref(), Some("th-bkk"));
    assert_eq!(a.dst.site.as_deref(), Some("jp-hq"));
    // A host reached holds data.
    assert_eq!(a.severity, Severity::Critical);
    assert_eq!(a.attack.as_deref(), Some("T1021"));
    assert_eq!(a.dst_port, Some(3389));
    assert_eq!(a.ts, at(0));
    assert_eq!(a.last_ts, at(30));
    assert_eq!(a.flow_count, 4);
    assert_eq!(a.evidence.len(), 4);
    let related: Vec<String> = a
        .related
        .iter()
        .map(|e| e.ip.unwrap().to_string())
        .collect();
    assert_eq!(related, ["10.10.5.10", "10.10.8.8", "10.10.1.1"]);
    assert_eq!(a.related[0].asset.as_deref(), Some("jp-fs01"));
    assert_eq!(
        a.summary,
        "th-bkk 10.20.3.4 → jp-hq 10.10.7.7 → {jp-fs01 (10.10.5.10), 10.10.8.8}; \
         10.10.8.8 → {jp-dc01 (10.10.1.1)} (rdp in, then 3 admin connections onward)"
    );
}

#[test]
fn an_onward_hop_read_before_the_inbound_flow_still_joins() {
    let org = org();
    // The onward flow starts 30 s after the inbound one but is read first.
    let flows = vec![
        plus_flow("10.10.7.7", "10.10.8.8", 445, 30),
        plus_flow("10.20.3.4", "10.10.7.7", 3389, 0),
    ];
    let alerts = run(&org, &["pivot-chain"], &flows);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].severity, Severity::High);
    assert_eq!(alerts[0].related.len(), 1);
}

fn plus_flow(src: &str, dst: &str, port: u16, secs: i64) -> Flow {
    flow(src, dst, port, plus(at(0), secs))
}

#[test]
fn no_onward_admin_hop_or_no_crossing_means_no_chain() {
    let org = org();
    let flows = vec![
        // Crossing in, then only web and a connection back to the source.
        flow("10.20.3.4", "10.10.7.7", 3389, at(0)),
        flow("10.10.7.7", "10.10.9.8", 443, at(5)),
        flow("10.10.7.7", "10.20.3.4", 3389, at(6)),
        // Within one site: an admin's ordinary day.
        flow("10.10.3.3", "10.10.6.6", 3389, at(10)),
        flow("10.10.6.6", "10.10.5.10", 445, at(11)),
        // Crossing in, but never answered.
        flow("10.20.3.5", "10.10.6.7", 3389, at(20)).state(ConnState::REJ),
        flow("10.10.6.7", "10.10.5.10", 445, at(21)),
    ];
    let alerts = run(&org, &["pivot-chain"], &flows);
    assert!(alerts.is_empty(), "{alerts:#?}");
}

#[test]
fn fewer_targets_than_min_targets_is_not_a_chain() {
    let org = org_with("[detectors.pivot_chain]\nmin_targets = 2\n");
    let flows = vec![
        flow("10.20.3.4", "10.10.7.7", 3389, at(0)),
        flow("10.10.7.7", "10.10.8.8", 445, at(5)),
        flow("10.10.8.8", "10.10.8.9", 445, at(6)),
    ];
    // One direct target (10.10.8.8); 10.10.8.9 was reached from it, not from 10.10.7.7.
    let alerts = run(&org, &["pivot-chain"], &flows);
    assert!(alerts.is_empty(), "{alerts:#?}");
}
