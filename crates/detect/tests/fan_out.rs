//! `fan-out`.

mod common;

use common::*;
use sekisho_event::{ConnState, Flow, Service, Severity};

const SMALL: &str = "[detectors.fan_out]\nmin_hosts = 10\nmin_ports = 20\nwindow_minutes = 10\n";

fn start() -> sekisho_event::Timestamp {
    t("2024-05-15T02:00:00Z")
}

fn sweep(src: &str, hosts: std::ops::RangeInclusive<u8>, from_secs: i64) -> Vec<Flow> {
    hosts
        .map(|h| {
            flow(
                src,
                &format!("10.10.1.{h}"),
                445,
                plus(start(), from_secs + i64::from(h)),
            )
            .state(ConnState::S0)
        })
        .collect()
}

#[test]
fn a_cross_site_host_sweep_alerts_once_per_window() {
    let org = org_with(SMALL);
    let mut flows = sweep("10.20.3.4", 1..=15, 0);
    // Fifteen minutes later, a new window: a second alert.
    flows.extend(sweep("10.20.3.4", 101..=112, 900));
    let alerts = run(&org, &["fan-out"], &flows);
    assert_eq!(alerts.len(), 2, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.src.ip.unwrap().to_string(), "10.20.3.4");
    assert_eq!(a.dst.ip, None);
    assert_eq!(a.dst.site.as_deref(), Some("jp-hq"));
    assert_eq!(a.severity, Severity::High);
    assert_eq!(a.attack.as_deref(), Some("T1046"));
    assert_eq!(a.service, Service::Smb);
    assert_eq!(a.dst_port, Some(445));
    assert_eq!(a.flow_count, 10);
    let sample: Vec<String> = a
        .related
        .iter()
        .map(|e| e.ip.unwrap().to_string())
        .collect();
    assert_eq!(sample.len(), 8);
    // The eight tried last before the threshold, in address order.
    assert_eq!(sample[0], "10.10.1.3");
    assert_eq!(sample[7], "10.10.1.10");
    assert_eq!(
        a.summary,
        "th-bkk 10.20.3.4 tried 10 hosts within 10m, on smb port 445, in jp-hq, across sites \
         (e.g. 10.10.1.3, 10.10.1.4, 10.10.1.5, 10.10.1.6, 10.10.1.7, 10.10.1.8, 10.10.1.9, 10.10.1.10)"
    );
    assert_eq!(alerts[1].ts, plus(start(), 900 + 110));
}

#[test]
fn a_port_scan_of_one_host_alerts_with_that_host() {
    let org = org_with(SMALL);
    let flows: Vec<Flow> = (1..=30u16)
        .map(|p| {
            flow(
                "10.10.30.30",
                "10.10.5.10",
                1000 + p,
                plus(start(), i64::from(p)),
            )
            .state(ConnState::REJ)
        })
        .collect();
    let alerts = run(&org, &["fan-out"], &flows);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.severity, Severity::Medium);
    assert_eq!(a.dst.asset.as_deref(), Some("jp-fs01"));
    assert_eq!(a.dst_port, None);
    assert_eq!(
        a.summary,
        "jp-hq 10.10.30.30 tried 20 ports on jp-hq jp-fs01 (10.10.5.10) within 10m"
    );
}

#[test]
fn exempt_scanners_repeats_and_small_counts_do_not_alert() {
    let org = org_with(&format!("{SMALL}exempt_roles = [\"scanner\"]\n"));
    let mut flows = sweep("10.10.0.5", 1..=40, 0); // jp-scan01, role scanner
    flows.extend(sweep("10.10.40.40", 1..=9, 0)); // nine hosts: one short
    // A hundred connections to one host and port.
    flows.extend((0..100).map(|i| flow("10.10.40.41", "10.10.5.10", 445, plus(start(), i))));
    // Nineteen ports on one host, and the same ports again.
    for round in 0..2 {
        flows.extend((1..=19u16).map(|p| {
            flow(
                "10.10.40.42",
                "10.10.5.10",
                2000 + p,
                plus(start(), round * 30 + i64::from(p)),
            )
        }));
    }
    // Ten hosts, but spread over two windows.
    flows.extend(sweep("10.10.40.43", 1..=5, 0));
    flows.extend(sweep("10.10.40.43", 6..=10, 700));
    let alerts = run(&org, &["fan-out"], &by_time(flows));
    assert!(alerts.is_empty(), "{alerts:#?}");
}

#[test]
fn sources_pushed_out_are_counted_once_however_many_windows_pass() {
    let org = org_with(&format!(
        "{SMALL}[detectors.limits]\nmax_tracked_keys = 10\nmax_alerts = 1000\n"
    ));
    // Three windows, twenty sources each, one attempt apiece: a table of ten sources
    // pushes out one for each of the last ten of every window.
    let mut flows = Vec::new();
    for window in 0..3 {
        for src in 1..=20 {
            let ts = plus(start(), window * 600 + src);
            flows.push(flow(&format!("10.20.3.{src}"), "10.10.1.1", 445, ts));
        }
    }
    let (alerts, detectors) = run_detectors(&org, &["fan-out"], &flows, &[]);
    assert!(alerts.is_empty(), "{alerts:#?}");
    let stats = detectors[0].stats();
    assert_eq!(stats.evicted, 30, "{stats:?}");
    // The last two windows' sources are still held.
    assert_eq!(stats.largest_table, 10, "{stats:?}");
}
