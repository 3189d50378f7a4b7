//! The indicator sweep: per indicator, flows matched, first/last seen, sites and alerts.

use crate::common::{TempDir, write_store};
use sekisho_hunt::{Hunt, IndicatorHit, parse_indicators};
use sekisho_store::{StoreWriter, StoredHostEvent, StoredLogon, host_event_key, logon_key};

fn hit<'a>(hits: &'a [IndicatorHit], text: &str) -> &'a IndicatorHit {
    hits.iter().find(|h| h.indicator.text == text).unwrap()
}

fn seen(h: &IndicatorHit) -> (String, String) {
    (
        h.first_seen.unwrap().to_rfc3339(),
        h.last_seen.unwrap().to_rfc3339(),
    )
}

#[test]
fn sweep_reports_first_and_last_seen_per_indicator() {
    let dir = TempDir::new("ioc");
    write_store(dir.path());
    let hunt = Hunt::open(dir.path()).unwrap();
    let (indicators, bad) = parse_indicators(
        "# intel from the CERT\n\
         10.10.0.5\n\
         198.51.100.0/24\n\
         tcp/3389\n\
         udp/3389\n\
         10.20.0.0/16\n\
         192.0.2.1\n\
         evil-c2.example\n\
         e7d705a3286e19ea42f587b344ee6865\n\
         what is this\n",
    );
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].0, 10);
    let hits = hunt.sweep(&indicators).unwrap();
    assert_eq!(hits.len(), 8, "every indicator is reported, in list order");
    assert_eq!(hits[0].indicator.text, "10.10.0.5");

    // 10.10.0.5: flows A, B, C, F; alerts on A (as source) and F (as destination).
    let h = hit(&hits, "10.10.0.5");
    assert_eq!(h.flows, 4);
    assert_eq!(
        seen(h),
        (
            "2024-05-01T01:00:00+00:00".into(),
            "2024-05-03T06:00:00+00:00".into()
        )
    );
    assert_eq!(
        h.sites.iter().map(String::as_str).collect::<Vec<_>>(),
        ["bkk", "hq"]
    );
    assert_eq!(h.alerts, 2);

    // The /24: flows C, E, F; alert on F.
    let h = hit(&hits, "198.51.100.0/24");
    assert_eq!(h.flows, 3);
    assert_eq!(
        seen(h),
        (
            "2024-05-02T03:00:00+00:00".into(),
            "2024-05-03T06:00:00+00:00".into()
        )
    );
    assert_eq!(
        h.sites.iter().map(String::as_str).collect::<Vec<_>>(),
        ["_external", "hq"]
    );
    assert_eq!(h.alerts, 1);

    // tcp/3389: flows B and F (responder port); udp/3389 matches no flow, but alerts carry
    // no protocol, so the alert on F matches both.
    let h = hit(&hits, "tcp/3389");
    assert_eq!((h.flows, h.alerts), (2, 1));
    let h = hit(&hits, "udp/3389");
    assert_eq!((h.flows, h.first_seen, h.alerts), (0, None, 1));

    // A network holding both ends of a flow (D) counts it once: A, B, D.
    let h = hit(&hits, "10.20.0.0/16");
    assert_eq!(h.flows, 3);
    assert_eq!(h.alerts, 1);

    let h = hit(&hits, "192.0.2.1");
    assert!(!h.found());
    assert_eq!(h.not_searchable, None);

    // Domains and JA3 are listed, with why they were not searched.
    for text in ["evil-c2.example", "e7d705a3286e19ea42f587b344ee6865"] {
        let h = hit(&hits, text);
        assert!(
            h.not_searchable
                .as_deref()
                .unwrap()
                .contains("not searchable"),
            "{text}"
        );
        assert_eq!(h.flows, 0);
    }
}

#[test]
fn sweep_agrees_with_sql() {
    // The one-pass sweep and a query per indicator give the same counts.
    let dir = TempDir::new("ioc-sql");
    write_store(dir.path());
    let hunt = Hunt::open(dir.path()).unwrap();
    let nets = [
        "10.10.0.0/16",
        "10.20.0.9",
        "198.51.100.0/24",
        "203.0.113.0/24",
    ];
    let (indicators, _) = parse_indicators(&nets.join("\n"));
    let hits = hunt.sweep(&indicators).unwrap();
    for (net, h) in nets.iter().zip(&hits) {
        let r = hunt
            .query(&format!(
                "SELECT COUNT(*), MIN(ts), MAX(ts) FROM flows \
                 WHERE cidr_contains('{net}', src_ip) OR cidr_contains('{net}', dst_ip)"
            ))
            .unwrap();
        let row = &r.rows()[0];
        assert_eq!(
            row[0].as_deref(),
            Some(h.flows.to_string().as_str()),
            "{net}"
        );
        let first = h
            .first_seen
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        assert_eq!(row[1], first, "{net}");
    }
}

#[test]
fn empty_and_unsearchable_lists_do_not_scan() {
    let dir = TempDir::new("ioc-empty");
    let hunt = Hunt::open(dir.path()).unwrap();
    assert!(hunt.sweep(&[]).unwrap().is_empty());
    let (ind, _) = parse_indicators("evil.example\n");
    let hits = hunt.sweep(&ind).unwrap();
    assert_eq!(hits.len(), 1);
    assert!(hits[0].not_searchable.is_some());
}

/// A successful network logon onto `host_ip` from `src_ip` at `ts`, as `ingest` stores it.
fn logon(ts: &str, src_ip: &str, host_ip: &str, site: &str) -> StoredLogon {
    let logon: sekisho_event::Logon = serde_json::from_value(serde_json::json!({
        "ts": ts,
        "source": "evtx",
        "event_id": 4624,
        "action": "logon",
        "outcome": "success",
        "user": "svc-backup",
        "logon_type": 3,
        "source_ip": src_ip,
        "host": "srv",
        "host_ip": host_ip,
        "origin": { "file": "Security.evtx" },
    }))
    .unwrap();
    StoredLogon {
        key: logon_key(&logon),
        logon,
        src_site: None,
        src_asset: None,
        host_site: Some(site.to_string()),
        host_asset: None,
    }
}

#[test]
fn logons_and_host_events_with_an_indicator_count_and_widen_first_and_last_seen() {
    let dir = TempDir::new("ioc-logons");
    write_store(dir.path());
    let mut w = StoreWriter::open(dir.path()).unwrap();
    w.push_logons([
        // From an address no flow has: found through its logon alone.
        logon("2024-05-04T08:00:00Z", "192.0.2.1", "10.10.0.9", "hq"),
        // Onto 10.10.0.5, a day after its last flow.
        logon("2024-05-04T09:30:00Z", "10.99.0.1", "10.10.0.5", "bkk"),
    ])
    .unwrap();
    // A Sysmon network connection from an HQ host to a C2 address and port.
    let mut conn = sekisho_event::HostEvent::new(
        sekisho_event::Timestamp::parse_rfc3339("2024-05-04T10:00:00Z").unwrap(),
        sekisho_event::HostSource::Evtx,
        sekisho_event::HostEventKind::NetworkConnection,
    );
    conn.source_ip = Some("10.10.0.5".parse().unwrap());
    conn.dest_ip = Some("198.18.7.66".parse().unwrap());
    conn.dest_port = Some(4444);
    w.push_host_events([StoredHostEvent {
        key: host_event_key(&conn),
        event: conn,
        src_site: Some("hq".into()),
        src_asset: None,
        host_site: Some("hq".into()),
        host_asset: None,
    }])
    .unwrap();
    w.finish(None).unwrap();
    let hunt = Hunt::open(dir.path()).unwrap();
    let (indicators, _) = parse_indicators("192.0.2.1\n10.10.0.5\ntcp/3389\n198.18.0.0/15\n4444\n");
    let hits = hunt.sweep(&indicators).unwrap();

    let h = hit(&hits, "192.0.2.1");
    assert!(h.found());
    assert_eq!((h.flows, h.alerts, h.logons), (0, 0, 1));
    assert_eq!(
        seen(h),
        (
            "2024-05-04T08:00:00+00:00".into(),
            "2024-05-04T08:00:00+00:00".into()
        )
    );
    assert_eq!(
        h.sites.iter().map(String::as_str).collect::<Vec<_>>(),
        ["hq"]
    );

    let h = hit(&hits, "10.10.0.5");
    assert_eq!((h.flows, h.alerts, h.logons, h.host_events), (4, 2, 1, 1));
    assert_eq!(
        seen(h),
        (
            "2024-05-01T01:00:00+00:00".into(),
            "2024-05-04T10:00:00+00:00".into()
        )
    );

    // The C2 network and port, seen only in the host's own record of the connection.
    for text in ["198.18.0.0/15", "4444"] {
        let h = hit(&hits, text);
        assert_eq!((h.flows, h.logons, h.host_events), (0, 0, 1), "{text}");
        assert_eq!(
            h.first_seen.unwrap().to_rfc3339(),
            "2024-05-04T10:00:00+00:00"
        );
    }

    // Logons carry no responder port: a port indicator never matches one.
    assert_eq!(hit(&hits, "tcp/3389").logons, 0);
}
