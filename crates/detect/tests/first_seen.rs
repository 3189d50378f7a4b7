//! `first-seen-crossing`.

mod common;

use common::*;
use sekisho_event::{ConnState, Service, Severity};
use sekisho_model::baseline::Baseline;

const ONE_DAY: &str = "[detectors.first_seen_crossing]\nbaseline_days = 1\n";

#[test]
fn a_crossing_new_after_the_baseline_alerts_once() {
    let org = org_with(ONE_DAY);
    let day1 = t("2024-05-14T03:00:00Z");
    let day2 = t("2024-05-15T04:00:00Z");
    let flows = vec![
        // Baseline: learned, never reported.
        flow("10.20.3.4", "10.10.5.10", 445, day1),
        flow("10.20.3.4", "10.10.50.50", 443, plus(day1, 60)),
        // Day 2, known keys from other hosts of the same site: nothing.
        flow("10.20.9.9", "10.10.5.10", 445, day2),
        flow("10.20.9.9", "10.10.60.60", 443, plus(day2, 10)),
        // New: Houston to the file server over SMB (admin service, data asset).
        flow("10.40.1.1", "10.10.5.10", 445, plus(day2, 20)),
        flow("10.40.1.2", "10.10.5.10", 445, plus(day2, 30)),
        // New: Bangkok to an HQ workstation over plain HTTP.
        flow("10.20.3.4", "10.10.60.60", 80, plus(day2, 40)),
        flow("10.20.3.4", "10.10.60.61", 80, plus(day2, 50)),
    ];
    let alerts = run(&org, &["first-seen-crossing"], &flows);
    assert_eq!(alerts.len(), 2, "{alerts:#?}");
    let smb = &alerts[0];
    assert_eq!(ends(smb), ("10.40.1.1".into(), "10.10.5.10".into()));
    assert_eq!(smb.severity, Severity::Medium);
    assert_eq!(smb.attack.as_deref(), Some("T1021.002"));
    assert_eq!(smb.dst.asset.as_deref(), Some("jp-fs01"));
    assert_eq!(
        smb.rule.as_deref(),
        Some("no overseas admin access to HQ servers")
    );
    assert_eq!(
        smb.summary,
        "new crossing us-hou → jp-hq jp-fs01 over smb: not seen in the 1-day baseline or since \
         (first flow 10.40.1.1 → 10.10.5.10:445)"
    );
    let http = &alerts[1];
    assert_eq!(ends(http), ("10.20.3.4".into(), "10.10.60.60".into()));
    assert_eq!(http.severity, Severity::Low);
    assert_eq!(http.attack, None);
    assert_eq!(http.dst.site.as_deref(), Some("jp-hq"));
}

#[test]
fn baseline_unanswered_and_intra_site_flows_do_not_alert() {
    let org = org_with(ONE_DAY);
    let day1 = t("2024-05-14T03:00:00Z");
    let day2 = t("2024-05-15T04:00:00Z");
    let flows = vec![
        // Everything new, but within the baseline day.
        flow("10.20.3.4", "10.10.5.10", 445, day1),
        flow("10.40.3.4", "10.10.1.1", 389, plus(day1, 80_000)),
        // After it: unanswered attempts (fan-out's business) and intra-site flows.
        flow("10.40.1.1", "10.10.5.10", 22, day2).state(ConnState::S0),
        flow("10.40.1.1", "10.10.5.10", 23, day2).state(ConnState::REJ),
        flow("10.10.9.9", "10.10.5.10", 3389, day2),
        flow("10.10.9.9", "93.184.216.34", 443, day2),
    ];
    let alerts = run(&org, &["first-seen-crossing"], &flows);
    assert!(alerts.is_empty(), "{alerts:#?}");
}

#[test]
fn host_keys_tell_hosts_of_one_site_apart() {
    let org = org_with("[detectors.first_seen_crossing]\nbaseline_days = 1\nkey = \"host\"\n");
    let day1 = t("2024-05-14T03:00:00Z");
    let day2 = t("2024-05-15T04:00:00Z");
    let flows = vec![
        flow("10.20.3.4", "10.10.5.10", 445, day1),
        flow("10.20.3.4", "10.10.5.10", 445, day2),
        flow("10.20.9.9", "10.10.5.10", 445, day2),
    ];
    let alerts = run(&org, &["first-seen-crossing"], &flows);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(ends(&alerts[0]).0, "10.20.9.9");
    assert!(
        alerts[0]
            .summary
            .starts_with("new crossing th-bkk 10.20.9.9 → jp-hq jp-fs01")
    );
}

#[test]
fn the_earliest_flow_of_a_new_crossing_is_named_whatever_the_arrival_order() {
    let org = org_with("[detectors.first_seen_crossing]\nbaseline_days = 0\n");
    let ts = t("2024-05-15T04:00:00Z");
    // Read 30 s out of order: the later flow first.
    let flows = vec![
        flow("10.20.7.7", "10.10.60.60", 80, plus(ts, 30)),
        flow("10.20.3.4", "10.10.60.60", 80, ts),
    ];
    let alerts = run(&org, &["first-seen-crossing"], &flows);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(ends(&alerts[0]).0, "10.20.3.4");
    assert_eq!(alerts[0].ts, ts);
}

#[test]
fn a_saved_baseline_is_known_from_the_first_flow_and_nothing_new_is_learned_silently() {
    // Run 1: learn over one baseline day, then one new crossing alerts and is learned too.
    let org = org_with(ONE_DAY);
    let day1 = t("2024-05-14T03:00:00Z");
    let day2 = t("2024-05-15T04:00:00Z");
    let first_run = vec![
        flow("10.20.3.4", "10.10.5.10", 445, day1),
        flow("10.20.3.4", "10.10.60.60", 443, plus(day1, 60)),
        flow("10.40.1.1", "10.10.5.10", 445, day2),
    ];
    let (alerts, detectors) = run_detectors(&org, &["first-seen-crossing"], &first_run, &[]);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let learned = detectors[0].learned_baseline().expect("first-seen learns");
    assert_eq!(learned.crossings.len(), 3);
    assert_eq!(learned.first_flow, Some(day1));
    assert_eq!(learned.last_flow, Some(day2));
    let text = learned.to_jsonl(&org);
    assert!(
        text.contains(
            r#"{"from":"th-bkk","to_site":"jp-hq","to_asset":"jp-fs01","service":"smb"}"#
        ),
        "{text}"
    );

    // Run 2, a month later, from the saved file: no learning window.
    let mut org2 = org_with(ONE_DAY);
    let (saved, stale) = Baseline::from_jsonl(&text, &org2).expect("reads back");
    assert_eq!(stale.count, 0);
    org2.detectors.first_seen_crossing.saved = Some(std::sync::Arc::new(saved));
    let later = t("2024-06-14T03:00:00Z");
    let second_run = vec![
        // Known from run 1 (another host of the same site): nothing.
        flow("10.20.9.9", "10.10.5.10", 445, later),
        flow("10.40.7.7", "10.10.5.10", 445, plus(later, 5)),
        // New, within the first minute of the run: alerts at once.
        flow("10.20.3.4", "10.10.5.10", 3389, plus(later, 10)).service(Service::Rdp),
    ];
    let (alerts, detectors) = run_detectors(&org2, &["first-seen-crossing"], &second_run, &[]);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].ts, plus(later, 10));
    assert!(
        alerts[0]
            .summary
            .contains("not seen in the saved baseline (learned 2024-05-14 to 2024-05-15) or since"),
        "{}",
        alerts[0].summary
    );
    // What run 2 would save: the union, spanning both runs.
    let union = detectors[0].learned_baseline().expect("learns");
    assert_eq!(union.crossings.len(), 4);
    assert_eq!(union.first_flow, Some(day1));
    assert_eq!(union.last_flow, Some(plus(later, 10)));

    // The same second run without the file learns for a day and reports nothing.
    assert!(run(&org_with(ONE_DAY), &["first-seen-crossing"], &second_run).is_empty());
}
