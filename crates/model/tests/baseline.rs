//! Saved first-seen baselines: written by name, read back against the org, stale names
//! skipped and broken lines named.

mod common;

use common::org;
use sekisho_event::{Service, Timestamp};
use sekisho_model::baseline::{Baseline, CrossingSource, KnownCrossing, StaleLines};
use sekisho_model::settings::FirstSeenKey;

#[test]
fn round_trip_by_names_sorted_and_deduplicated() {
    let org = org();
    let (hq, bkk) = (
        org.site_by_id("jp-hq").expect("hq"),
        org.site_by_id("th-bkk").expect("bkk"),
    );
    let fs = org.asset_by_name("jp-fs01");
    let smb = KnownCrossing {
        from: CrossingSource::Site(bkk),
        to_site: hq,
        to_asset: fs,
        service: Service::Smb,
    };
    let ldap = KnownCrossing {
        from: CrossingSource::Site(hq),
        to_site: bkk,
        to_asset: None,
        service: Service::from_name("ldap").expect("ldap"),
    };
    let b = Baseline {
        key: FirstSeenKey::Site,
        first_flow: Timestamp::parse_rfc3339("2024-05-01T00:00:00Z"),
        last_flow: Timestamp::parse_rfc3339("2024-05-08T00:00:00Z"),
        crossings: vec![smb, ldap, smb],
    };
    let text = b.to_jsonl(&org);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].contains("\"crossings\":2"), "{text}");
    assert!(lines[1].starts_with("{\"from\":\"jp-hq\""), "{text}");
    assert_eq!(
        lines[2],
        r#"{"from":"th-bkk","to_site":"jp-hq","to_asset":"jp-fs01","service":"smb"}"#
    );
    let (back, stale) = Baseline::from_jsonl(&text, &org).expect("reads");
    assert_eq!(stale, StaleLines::default());
    assert_eq!(back.first_flow, b.first_flow);
    let mut want = vec![ldap, smb];
    want.sort();
    let mut got = back.crossings.clone();
    got.sort();
    assert_eq!(got, want);
}

#[test]
fn stale_names_are_skipped_and_broken_lines_name_their_line() {
    let org = org();
    let header = r#"{"sekisho":"first-seen-baseline","version":1,"key":"site","first_flow":null,"last_flow":null,"crossings":3}"#;
    let text = format!(
        "{header}\n{}\n{}\n{}\n",
        r#"{"from":"th-bkk","to_site":"jp-hq","to_asset":"jp-fs01","service":"smb"}"#,
        r#"{"from":"id-jkt","to_site":"jp-hq","to_asset":null,"service":"smb"}"#,
        r#"{"from":"th-bkk","to_site":"jp-hq","to_asset":"jp-old","service":"rdp"}"#,
    );
    let (b, stale) = Baseline::from_jsonl(&text, &org).expect("reads");
    assert_eq!(b.crossings.len(), 1);
    assert_eq!(stale.count, 2);
    assert_eq!(stale.listed[0].0, 3);
    assert!(stale.listed[0].1.contains("id-jkt"));
    assert_eq!(stale.listed[1].0, 4);

    let broken = format!("{header}\n\n{{\"from\":\"th-bkk\"}}\n");
    let e = Baseline::from_jsonl(&broken, &org).unwrap_err();
    assert_eq!(e.line, 3);
    let e = Baseline::from_jsonl("{\"alerts\":[]}\n", &org).unwrap_err();
    assert_eq!(e.line, 1);
    let by_host = header.replace("\"site\"", "\"host\"");
    let e = Baseline::from_jsonl(&by_host, &org).unwrap_err();
    assert!(e.message.contains("key = \"host\""), "{e}");
}
