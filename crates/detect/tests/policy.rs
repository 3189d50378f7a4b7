//! `policy-deny` and `policy-alert`.

mod common;

use common::*;
use sekisho_detect::{AlertSink, FlowView};
use sekisho_event::{AppContext, Severity};
use sekisho_model::Enricher;

const DENY_RULE: &str = "no overseas admin access to HQ servers";

#[test]
fn overseas_rdp_to_hq_file_server_is_denied_by_name_one_alert_per_hour() {
    let org = org();
    // Wednesday 2024-05-15, 10:00 in Bangkok.
    let base = t("2024-05-15T03:00:00Z");
    let flows = vec![
        flow("10.20.3.4", "10.10.5.10", 3389, base),
        flow("10.20.3.4", "10.10.5.10", 3389, plus(base, 600)),
        flow("10.20.3.4", "10.10.5.10", 3389, plus(base, 3000)),
        // The next hour: a new alert.
        flow("10.20.3.4", "10.10.5.10", 3389, plus(base, 3900)),
    ];
    let ctx = AppContext {
        users: vec!["EHI\\somchai".to_string()],
        ..AppContext::default()
    };
    let alerts = run_with_context(&org, &["policy-deny"], &flows, &[(1, ctx)]);
    assert_eq!(alerts.len(), 2, "{alerts:#?}");
    let first = &alerts[0];
    assert_eq!(first.detector, "policy-deny");
    assert_eq!(first.severity, Severity::High);
    assert_eq!(first.rule.as_deref(), Some(DENY_RULE));
    assert_eq!(first.attack.as_deref(), Some("T1021.001"));
    assert_eq!(first.flow_count, 3);
    assert_eq!(first.evidence.len(), 3);
    assert_eq!(first.ts, base);
    assert_eq!(first.last_ts, plus(base, 3000));
    assert_eq!(first.src.site.as_deref(), Some("th-bkk"));
    assert_eq!(first.src.country.as_deref(), Some("TH"));
    assert_eq!(first.dst.asset.as_deref(), Some("jp-fs01"));
    assert_eq!(first.dst_port, Some(3389));
    assert_eq!(first.context.users, vec!["EHI\\somchai".to_string()]);
    assert_eq!(
        first.summary,
        "th-bkk 10.20.3.4 → jp-hq jp-fs01 (10.10.5.10) over rdp, denied by rule \
         \"no overseas admin access to HQ servers\" (3 flows within the hour)"
    );
    assert_eq!(alerts[1].flow_count, 1);
    assert_eq!(alerts[1].ts, plus(base, 3900));
    assert!(!alerts[1].summary.contains("flows within"));
}

#[test]
fn an_hour_is_reported_once_it_closes_not_only_at_the_end() {
    let org = org();
    let base = t("2024-05-15T03:00:00Z");
    let mut det = common::detectors(&org, &["policy-deny"]);
    let mut sink = AlertSink::new(100);
    let mut enricher = Enricher::new(&org);
    let mut feed = |f: sekisho_event::Flow, sink: &mut AlertSink| {
        let e = enricher.enrich(&f);
        let view = FlowView {
            flow: &f,
            enriched: &e,
            context: None,
        };
        det[0].on_flow(&view, sink);
    };
    feed(flow("10.20.3.4", "10.10.5.10", 3389, base), &mut sink);
    // 04:04: the hour has closed but the 5-minute reorder slack has not passed.
    feed(
        flow("10.10.9.9", "10.10.9.8", 443, plus(base, 3840)),
        &mut sink,
    );
    assert_eq!(sink.len(), 0);
    // A late record of 03:59 still joins the open aggregate.
    feed(
        flow("10.20.3.4", "10.10.5.10", 3389, plus(base, 3540)),
        &mut sink,
    );
    // 04:06: now it goes out, with both flows.
    feed(
        flow("10.10.9.9", "10.10.9.8", 443, plus(base, 3960)),
        &mut sink,
    );
    let alerts = sink.into_alerts();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].flow_count, 2);
}

#[test]
fn cross_site_default_is_named_and_low() {
    let org = org();
    let f = flow("10.40.7.7", "10.10.99.9", 8080, t("2024-05-15T03:00:00Z"));
    let alerts = run(&org, &["policy-deny", "policy-alert"], &[f]);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.detector, "policy-alert");
    assert_eq!(a.rule.as_deref(), Some("cross-site default"));
    assert_eq!(a.severity, Severity::Low);
    assert_eq!(a.attack, None);
    assert_eq!(
        a.summary,
        "us-hou 10.40.7.7 → jp-hq 10.10.99.9 over http, flagged by the cross-site default: no rule allows it"
    );
}

#[test]
fn alert_rule_on_inbound_web_is_external_remote_services() {
    let org = org();
    let f = flow(
        "198.51.100.7",
        "10.10.20.20",
        443,
        t("2024-05-15T03:00:00Z"),
    );
    let alerts = run(&org, &[], &[f]);
    let p = of(&alerts, "policy-alert");
    assert_eq!(p.len(), 1, "{alerts:#?}");
    assert_eq!(p[0].rule.as_deref(), Some("web from the Internet into HQ"));
    assert_eq!(p[0].severity, Severity::Medium);
    assert_eq!(p[0].attack.as_deref(), Some("T1133"));
    assert_eq!(p[0].src.site, None);
    assert!(
        p[0].summary
            .starts_with("external 198.51.100.7 → jp-hq 10.10.20.20")
    );
}

#[test]
fn allowed_flows_raise_no_policy_alert() {
    let org = org();
    let ts = t("2024-05-15T03:00:00Z"); // business hours everywhere in Asia
    let flows = vec![
        // DC to DC over SMB: allowed by "AD replication" before the deny rule.
        flow("10.20.1.1", "10.10.1.1", 445, ts),
        // Backup server to the file server: allowed by its rule.
        flow("10.20.2.2", "10.10.5.10", 445, ts),
        // Overseas web in business hours.
        flow("10.20.3.4", "10.10.50.50", 443, ts),
        // Intra-site admin and outbound web: allowed by default.
        flow("10.10.9.9", "10.10.5.10", 445, ts),
        flow("10.10.9.9", "93.184.216.34", 443, ts),
    ];
    let alerts = run(&org, &["policy-deny", "policy-alert"], &flows);
    assert!(alerts.is_empty(), "{alerts:#?}");
}
