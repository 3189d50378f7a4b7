//! `off-hours-crossing`.

mod common;

use common::*;
use sekisho_event::{ConnState, Severity};

/// Saturday 2024-05-18 19:14 UTC: Sunday 02:14 in Bangkok, 04:14 in Tokyo.
fn night() -> sekisho_event::Timestamp {
    t("2024-05-18T19:14:00Z")
}

#[test]
fn overseas_rdp_at_night_alerts_once_per_pair_and_local_day() {
    let org = org();
    let flows = vec![
        flow("10.20.3.4", "10.10.5.10", 3389, night()),
        flow("10.20.3.4", "10.10.5.10", 3389, plus(night(), 1800)),
        // Another service is another key.
        flow("10.20.3.4", "10.10.5.10", 445, plus(night(), 1900)),
    ];
    let alerts = run(&org, &["off-hours-crossing"], &flows);
    assert_eq!(alerts.len(), 2, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.severity, Severity::Medium);
    assert_eq!(a.attack.as_deref(), Some("T1021.001"));
    assert_eq!(
        a.rule.as_deref(),
        Some("no overseas admin access to HQ servers")
    );
    assert_eq!(a.ts, night());
    assert_eq!(
        a.summary,
        "th-bkk 10.20.3.4 → jp-hq jp-fs01 (10.10.5.10) over rdp at Sun 02:14 local time in \
         th-bkk, outside business hours (Mon-Fri 08:00-19:00)"
    );
    assert_eq!(alerts[1].service, sekisho_event::Service::Smb);
}

#[test]
fn inbound_ssh_from_outside_uses_the_destination_clock() {
    let org = org();
    // Saturday 17:00 UTC = Sunday 02:00 in Tokyo.
    let f = flow("198.51.100.7", "10.10.20.20", 22, t("2024-05-18T17:00:00Z"));
    let alerts = run(&org, &["off-hours-crossing"], &[f]);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert!(
        alerts[0]
            .summary
            .contains("at Sun 02:00 local time in jp-hq")
    );
    assert_eq!(alerts[0].attack.as_deref(), Some("T1021.004"));
}

#[test]
fn sanctioned_daytime_web_intra_site_and_unanswered_flows_do_not_alert() {
    let org = org();
    let flows = vec![
        // Wednesday 10:00 in Bangkok: business hours.
        flow("10.20.3.4", "10.10.5.10", 3389, t("2024-05-15T03:00:00Z")),
        // The nightly backup, allowed by an explicit rule.
        flow("10.20.2.2", "10.10.5.10", 445, night()),
        // Not an admin service.
        flow("10.20.3.4", "10.10.50.50", 443, night()),
        // Within one site.
        flow("10.10.9.9", "10.10.5.10", 3389, night()),
        // Never answered.
        flow("10.20.3.4", "10.10.5.10", 3389, plus(night(), 5)).state(ConnState::S0),
    ];
    let alerts = run(&org, &["off-hours-crossing"], &flows);
    assert!(alerts.is_empty(), "{alerts:#?}");
}
