//! `beacon`.

mod common;

use common::*;
use sekisho_event::{Flow, Severity};

fn start() -> sekisho_event::Timestamp {
    t("2024-05-15T00:00:00Z")
}

/// `n` connections every `period` s with ±`jitter` s of deterministic noise.
fn periodic(src: &str, dst: &str, port: u16, n: usize, period: f64, jitter: f64) -> Vec<Flow> {
    let mut seed = 0x9e37_79b9_7f4a_7c15;
    let mut ts = 0.0;
    (0..n)
        .map(|_| {
            ts += period + (rng(&mut seed) - 0.5) * 2.0 * jitter;
            let size = 230 + (rng(&mut seed) * 20.0) as u64;
            flow(src, dst, port, plus(start(), ts as i64)).bytes(size, 1_200)
        })
        .collect()
}

/// `n` connections at Poisson times (mean gap `mean` s), constant size.
fn poisson(src: &str, dst: &str, n: usize, mean: f64) -> Vec<Flow> {
    let mut seed = 12345;
    let mut ts = 0.0;
    (0..n)
        .map(|_| {
            ts += -mean * (1.0 - rng(&mut seed)).ln();
            flow(src, dst, 443, plus(start(), ts as i64)).bytes(240, 1_200)
        })
        .collect()
}

#[test]
fn a_host_calling_out_every_five_minutes_is_a_beacon() {
    let org = org();
    let flows = periodic("10.20.3.4", "203.0.113.50", 443, 100, 300.0, 10.0);
    let alerts = run(&org, &["beacon"], &flows);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(ends(a), ("10.20.3.4".into(), "203.0.113.50".into()));
    assert_eq!(a.severity, Severity::High);
    assert_eq!(a.attack.as_deref(), Some("T1573"));
    assert_eq!(a.flow_count, 100);
    assert_eq!(a.ts, flows[0].ts);
    assert_eq!(a.last_ts, flows[99].ts);
    let head = "th-bkk 10.20.3.4 → external 203.0.113.50 over https: 100 connections every ";
    assert!(a.summary.starts_with(head), "{}", a.summary);
    let period: i64 = a.summary[head.len()..]
        .split('s')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((295..=305).contains(&period), "{}", a.summary);
    let score: f64 = a.summary.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(score >= 0.9, "{}", a.summary);
}

#[test]
fn a_long_running_beacon_is_reported_once_when_its_buffer_fills() {
    let org = org();
    // 600 connections a minute apart: the sample buffer fills twice over.
    let flows = periodic("10.10.9.9", "203.0.113.51", 80, 600, 60.0, 3.0);
    let alerts = run(&org, &["beacon"], &flows);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].attack.as_deref(), Some("T1071.001"));
    // Reported when the first 256 samples were full: 3 counted before sampling + 256.
    assert_eq!(alerts[0].flow_count, 259);
}

#[test]
fn random_times_few_connections_and_cross_site_pairs_are_not_beacons() {
    let org = org();
    let mut flows = poisson("10.20.3.4", "203.0.113.60", 200, 600.0);
    flows.extend(periodic("10.20.3.5", "203.0.113.61", 443, 20, 300.0, 5.0));
    // Between sites: not scored unless `beacon.cross_site` is on.
    flows.extend(periodic("10.20.3.6", "10.10.50.50", 443, 100, 300.0, 5.0));
    let alerts = run(&org, &["beacon"], &by_time(flows));
    assert!(alerts.is_empty(), "{alerts:#?}");
}

#[test]
fn cross_site_pairs_are_scored_when_asked_and_are_medium() {
    let org = org_with("[detectors.beacon]\ncross_site = true\n");
    let flows = periodic("10.20.3.6", "10.10.50.50", 443, 100, 300.0, 5.0);
    let alerts = run(&org, &["beacon"], &flows);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].severity, Severity::Medium);
}

#[test]
fn sample_buffers_are_capped_and_the_oldest_give_way() {
    let org = org_with("[detectors.beacon]\nmax_detailed_pairs = 2\n");
    let mut flows = periodic("10.20.3.4", "203.0.113.50", 443, 50, 300.0, 5.0);
    flows.extend(periodic("10.20.3.5", "203.0.113.51", 443, 50, 300.0, 5.0));
    flows.extend(periodic("10.20.3.6", "203.0.113.52", 443, 50, 300.0, 5.0));
    let flows = by_time(flows);
    let mut det = common::detectors(&org, &["beacon"]);
    let mut sink = sekisho_detect::AlertSink::new(100);
    let mut enricher = sekisho_model::Enricher::new(&org);
    for f in &flows {
        let e = enricher.enrich(f);
        let view = sekisho_detect::FlowView {
            flow: f,
            enriched: &e,
            context: None,
        };
        det[0].on_flow(&view, &mut sink);
    }
    // Three pairs want a buffer, two may have one: buffers keep changing hands.
    assert!(det[0].stats().evicted > 0, "{:?}", det[0].stats());
    assert_eq!(det[0].stats().tracked, 3);
}
