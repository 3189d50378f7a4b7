//! State is bounded by `limits.max_tracked_keys`, whatever the input, and what the bound
//! pushes out is counted.

mod common;

use common::*;
use sekisho_detect::{AlertSink, FlowView};
use sekisho_event::{Flow, Timestamp};
use sekisho_model::Enricher;

/// One of 60,000 addresses of a /16.
fn addr(net: &str, i: u32) -> String {
    let n = i % 60_000;
    format!("{net}.{}.{}", n / 250, n % 250 + 1)
}

/// 100,000 distinct pairs of every kind a detector keeps, at night in Bangkok.
fn hostile() -> Vec<Flow> {
    let night = t("2024-05-18T19:00:00Z");
    let mut flows = Vec::new();
    for i in 0..100_000u32 {
        let ts = plus(night, i64::from(i / 100));
        // Cross-site RDP between distinct hosts: policy, first-seen (by host), off-hours,
        // pivot, fan-out sources and pairs.
        flows.push(flow(
            &addr("10.20", i),
            &addr("10.10", i + i / 60_000),
            3389,
            ts,
        ));
        // Denied: distinct overseas hosts to the file server.
        if i < 60_000 {
            flows.push(flow(&addr("10.40", i), "10.10.5.10", 445, ts));
        }
        // Outbound to distinct addresses: beacon counters; a few pairs often enough to be
        // sampled.
        let dst = format!("203.{}.{}.{}", i / 65_000, i / 250 % 250, i % 250 + 1);
        flows.push(flow(&addr("10.40", i), &dst, 443, ts));
        if i < 300 {
            for k in 1..=4 {
                flows.push(flow("10.40.200.1", &dst, 443, plus(ts, k * 300)));
            }
        }
        // Distinct ports on one host: fan-out's port table.
        flows.push(flow(
            "10.10.200.2",
            "10.10.200.3",
            (i % 60_000) as u16 + 1,
            ts,
        ));
        // Distinct sensors.
        flows.push(flow("10.10.9.9", "10.10.9.8", 443, ts).sensor(&format!("s{i}")));
    }
    // Data leaving the file server, each record an hour earlier than the last: windows
    // that never close in time order.
    for i in 0..1_000i64 {
        let ts = night.add_micros(-i * Timestamp::HOUR);
        flows.push(flow("10.10.5.10", "203.0.113.9", 443, ts).bytes(1_000, 0));
    }
    flows
}

#[test]
fn a_hundred_thousand_distinct_pairs_fit_in_a_hundred_keys_per_table() {
    let org = org_with(
        "[detectors.first_seen_crossing]\nbaseline_days = 0\nkey = \"host\"\n\
         [detectors.beacon]\nmin_connections = 4\n\
         [detectors.limits]\nmax_tracked_keys = 100\nmax_alerts = 1000\n",
    );
    let flows = hostile();
    let mut detectors = common::detectors(&org, &[]);
    let mut sink = AlertSink::new(org.detectors.limits.max_alerts);
    let mut enricher = Enricher::new(&org);
    for (n, f) in flows.iter().enumerate() {
        let e = enricher.enrich(f);
        let view = FlowView {
            flow: f,
            enriched: &e,
            context: None,
        };
        for d in detectors.iter_mut() {
            d.on_flow(&view, &mut sink);
            if n % 10_000 == 0 {
                assert!(d.stats().largest_table <= 100, "{} {:?}", d.id(), d.stats());
            }
        }
    }
    for d in &detectors {
        let s = d.stats();
        assert!(s.largest_table <= 100, "{}: {s:?}", d.id());
        assert!(s.evicted > 0, "{}: nothing evicted: {s:?}", d.id());
    }
    for d in detectors.iter_mut() {
        d.finish(&mut sink);
    }
    assert_eq!(sink.len(), 1000);
    assert!(sink.dropped() > 0);
}

#[test]
fn absurd_and_backward_timestamps_never_panic() {
    let org = org_with(
        "[detectors.first_seen_crossing]\nbaseline_days = 0\n\
         [detectors.beacon]\nmin_connections = 4\ncross_site = true\n",
    );
    let times = [
        i64::MIN,
        i64::MAX,
        0,
        -1,
        i64::MIN + 1,
        i64::MAX - 1,
        1_715_742_000 * Timestamp::SECOND,
        i64::MAX / 2,
        i64::MIN / 2,
    ];
    let mut flows = Vec::new();
    for (i, &us) in times.iter().cycle().take(200).enumerate() {
        let ts = Timestamp::from_micros(us);
        let sensor = ["jp-hq-zeek", "th-bkk-zeek", "x"][i % 3];
        flows.push(flow("10.20.3.4", "10.10.5.10", 3389, ts).sensor(sensor));
        flows.push(flow("10.10.5.10", "203.0.113.9", 443, ts).bytes(u64::MAX, u64::MAX));
        flows.push(flow(
            "10.20.3.4",
            &format!("10.10.1.{}", i % 250 + 1),
            445,
            ts,
        ));
        flows.push(flow("10.10.7.7", "10.10.8.8", 445, ts));
        flows.push(flow("198.51.100.7", "10.10.7.7", 22, ts));
    }
    let alerts = run(&org, &[], &flows);
    assert!(!alerts.is_empty());
}
