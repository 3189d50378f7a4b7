//! `sensor-gap`.

mod common;

use common::*;
use sekisho_event::{Flow, Severity};

fn at(min: i64) -> sekisho_event::Timestamp {
    plus(t("2024-05-15T00:00:00Z"), min * 60)
}

/// One flow every 5 minutes from `sensor`, for minutes `from..to`.
fn beat(sensor: &str, from: i64, to: i64) -> Vec<Flow> {
    (from..to)
        .step_by(5)
        .map(|m| flow("10.10.9.9", "10.10.9.8", 443, at(m)).sensor(sensor))
        .collect()
}

#[test]
fn silences_during_and_at_the_end_and_a_declared_sensor_that_never_sent() {
    let org = org();
    let mut flows = beat("jp-hq-zeek", 0, 361);
    flows.extend(beat("th-bkk-zeek", 0, 121));
    flows.extend(beat("th-bkk-zeek", 310, 361));
    flows.extend(beat("lab-zeek", 0, 181));
    // us-hou-zeek, declared, sends nothing at all.
    let alerts = run(&org, &["sensor-gap"], &by_time(flows));
    let summaries: Vec<&str> = alerts.iter().map(|a| a.summary.as_str()).collect();
    assert_eq!(
        summaries,
        [
            "sensor us-hou-zeek sent nothing from 2024-05-15T00:00:00Z to 2024-05-15T06:00:00Z \
             (6h): a declared sensor with no records at all",
            "sensor th-bkk-zeek silent from 2024-05-15T02:00:00Z to 2024-05-15T05:10:00Z (3h 10m)",
            "sensor lab-zeek silent from 2024-05-15T03:00:00Z to 2024-05-15T06:00:00Z (3h), \
             until the end of the input",
        ]
    );
    let gap = &alerts[1];
    assert_eq!(gap.severity, Severity::Medium);
    assert_eq!(gap.attack.as_deref(), Some("T1562"));
    assert_eq!((gap.ts, gap.last_ts), (at(120), at(310)));
    assert_eq!(gap.src.site.as_deref(), Some("th-bkk"));
    assert_eq!(gap.dst.site.as_deref(), Some("th-bkk"));
    assert_eq!(gap.src.country.as_deref(), Some("TH"));
    assert_eq!(gap.src.ip, None);
    assert!(gap.evidence.is_empty());
    assert_eq!(alerts[0].src.site.as_deref(), Some("us-hou"));
    assert_eq!(alerts[2].src.site, None);
}

#[test]
fn a_hole_in_the_whole_input_and_short_silences_are_not_gaps() {
    let org = org();
    let mut flows = Vec::new();
    for s in ["jp-hq-zeek", "th-bkk-zeek", "us-hou-zeek"] {
        // Everyone silent from 02:00 to 04:00, then everyone back.
        flows.extend(beat(s, 0, 121));
        flows.extend(beat(s, 240, 361));
    }
    // A 50-minute silence of one sensor.
    flows.retain(|f| !(&*f.sensor == "us-hou-zeek" && f.ts > at(300) && f.ts < at(350)));
    let alerts = run(&org, &["sensor-gap"], &by_time(flows));
    assert!(alerts.is_empty(), "{alerts:#?}");
}
