//! Incidents: which alerts join, which stay apart, and the scope each incident carries.

use sekisho_correlate::correlate;
use sekisho_event::{Alert, AlertEndpoint, AppContext, Service, Severity, Timestamp};
use sekisho_model::Org;

const ORG: &str = r#"
[org]
name = "Example"
[[site]]
id = "jp-hq"
country = "JP"
timezone = "Asia/Tokyo"
networks = ["10.10.0.0/16"]
[[site]]
id = "th-bkk"
country = "TH"
timezone = "Asia/Bangkok"
networks = ["10.20.0.0/16"]
[[asset]]
name = "jp-fs01"
site = "jp-hq"
addresses = ["10.10.5.10"]
roles = ["file-server"]
data = ["customer-pii", "design"]
customers = ["Acme Air", "Orbital Co"]
[[asset]]
name = "jp-erp"
site = "jp-hq"
addresses = ["10.10.5.20"]
roles = ["erp"]
data = ["contracts"]
customers = ["Acme Air", "Zenith Rail"]
"#;

const HOUR: i64 = 3600;
const T0: i64 = 1_715_742_000;

fn ep(org: &Org, ip: &str) -> AlertEndpoint {
    let ip = ip.parse().unwrap();
    org.endpoint(Some(ip), org.locate(ip))
}

#[allow(clippy::too_many_arguments)]
fn alert(
    org: &Org,
    id: &str,
    det: &str,
    sev: Severity,
    at: i64,
    src: &str,
    dst: &str,
    out: u64,
) -> Alert {
    let ts = Timestamp::from_micros(at * Timestamp::SECOND);
    Alert {
        id: id.to_string(),
        detector: det.to_string(),
        severity: sev,
        ts,
        last_ts: ts,
        src: ep(org, src),
        dst: ep(org, dst),
        service: Service::Smb,
        dst_port: Some(445),
        rule: None,
        attack: None,
        summary: format!("{src} -> {dst}"),
        flow_count: 1,
        bytes_out: out,
        bytes_in: 0,
        related: Vec::new(),
        context: AppContext::default(),
        evidence: Vec::new(),
    }
}

#[test]
fn alerts_sharing_a_host_in_the_window_form_one_incident_with_scope() {
    let org = Org::from_toml(ORG, "org.toml").unwrap();
    let mut a1 = alert(
        &org,
        "A1",
        "policy-deny",
        Severity::High,
        T0,
        "10.20.3.4",
        "10.10.5.10",
        1_000,
    );
    a1.context.users.push("EHI\\svc_backup".into());
    // The same flows seen by a second detector: bytes must not double.
    let a2 = alert(
        &org,
        "A2",
        "off-hours-crossing",
        Severity::Medium,
        T0,
        "10.20.3.4",
        "10.10.5.10",
        1_000,
    );
    // Pivot from the file server to the ERP an hour later.
    let a3 = alert(
        &org,
        "A3",
        "pivot-chain",
        Severity::High,
        T0 + HOUR,
        "10.10.5.10",
        "10.10.5.20",
        500,
    );
    // Exfiltration from the ERP to the Internet.
    let a4 = alert(
        &org,
        "A4",
        "bulk-transfer",
        Severity::Critical,
        T0 + 2 * HOUR,
        "10.10.5.20",
        "203.0.113.9",
        400_000_000,
    );
    // Unrelated, far away in time and hosts.
    let a5 = alert(
        &org,
        "A5",
        "policy-alert",
        Severity::Medium,
        T0 + 3 * 24 * HOUR,
        "10.20.9.9",
        "10.10.77.7",
        10,
    );
    let incidents = correlate(&org, &[a1, a2, a3, a4, a5]);
    assert_eq!(incidents.len(), 2);
    let inc = &incidents[0];
    assert_eq!(inc.id, "INC-0001");
    assert_eq!(inc.alert_ids, ["A1", "A2", "A3", "A4"]);
    assert_eq!(inc.severity, Severity::Critical);
    assert_eq!(inc.sites, ["jp-hq", "th-bkk"]);
    assert_eq!(inc.assets, ["jp-erp", "jp-fs01"]);
    assert_eq!(inc.data_classes, ["contracts", "customer-pii", "design"]);
    assert_eq!(inc.customers, ["Acme Air", "Orbital Co", "Zenith Rail"]);
    assert_eq!(inc.users, ["EHI\\svc_backup"]);
    assert_eq!(inc.hosts.len(), 4);
    assert_eq!(inc.entry_points.len(), 1);
    assert_eq!(inc.entry_points[0].alert_id, "A1");
    assert_eq!(inc.entry_points[0].src.site.as_deref(), Some("th-bkk"));
    let moved: Vec<(String, String, u64)> = inc
        .bytes_moved
        .iter()
        .map(|b| (b.from_site.clone(), b.to_site.clone(), b.bytes))
        .collect();
    assert_eq!(
        moved,
        [
            ("jp-hq".to_string(), "external".to_string(), 400_000_000),
            ("th-bkk".to_string(), "jp-hq".to_string(), 1_000),
        ]
    );
    assert_eq!(inc.timeline.len(), 4);
    assert_eq!(incidents[1].alert_ids, ["A5"]);
    assert_eq!(incidents[1].id, "INC-0002");
}

#[test]
fn a_shared_host_outside_the_window_does_not_join() {
    let mut text = ORG.to_string();
    text.push_str("[detectors.correlation]\nwindow_minutes = 60\n");
    let org = Org::from_toml(&text, "org.toml").unwrap();
    let a1 = alert(
        &org,
        "A1",
        "policy-deny",
        Severity::High,
        T0,
        "10.20.3.4",
        "10.10.5.10",
        1,
    );
    let a2 = alert(
        &org,
        "A2",
        "policy-deny",
        Severity::High,
        T0 + 2 * HOUR,
        "10.20.8.8",
        "10.10.5.10",
        1,
    );
    let incidents = correlate(&org, &[a1.clone(), a2.clone()]);
    assert_eq!(incidents.len(), 2);
    // Within the window they join.
    let mut a2_near = a2;
    a2_near.ts = Timestamp::from_micros((T0 + 1800) * Timestamp::SECOND);
    a2_near.last_ts = a2_near.ts;
    assert_eq!(correlate(&org, &[a1, a2_near]).len(), 1);
}

#[test]
fn low_severity_groups_and_hostless_alerts_open_no_incident() {
    let org = Org::from_toml(ORG, "org.toml").unwrap();
    let low = alert(
        &org,
        "A1",
        "first-seen-crossing",
        Severity::Low,
        T0,
        "10.20.3.4",
        "10.10.5.10",
        1,
    );
    let mut gap = alert(
        &org,
        "A2",
        "sensor-gap",
        Severity::Medium,
        T0,
        "10.20.3.4",
        "10.10.5.10",
        0,
    );
    gap.src = AlertEndpoint {
        site: Some("th-bkk".into()),
        ..Default::default()
    };
    gap.dst = AlertEndpoint::default();
    assert!(correlate(&org, &[low, gap]).is_empty());
}

#[test]
fn incidents_are_the_same_whatever_the_union_order() {
    let org = Org::from_toml(ORG, "org.toml").unwrap();
    // Two chains that meet in the middle: A1-A3 share 10.10.5.10, A2-A3 share 10.10.5.20.
    let a1 = alert(
        &org,
        "A1",
        "policy-deny",
        Severity::High,
        T0,
        "10.20.3.4",
        "10.10.5.10",
        1,
    );
    let a2 = alert(
        &org,
        "A2",
        "policy-deny",
        Severity::High,
        T0 + 60,
        "10.20.3.5",
        "10.10.5.20",
        1,
    );
    let a3 = alert(
        &org,
        "A3",
        "pivot-chain",
        Severity::High,
        T0 + 120,
        "10.10.5.10",
        "10.10.5.20",
        1,
    );
    let once = correlate(&org, &[a1.clone(), a2.clone(), a3.clone()]);
    assert_eq!(once.len(), 1);
    assert_eq!(once[0].alert_ids, ["A1", "A2", "A3"]);
    assert_eq!(once[0].entry_points.len(), 1, "one site entered: jp-hq");
    let json = serde_json::to_string(&once).unwrap();
    assert_eq!(
        json,
        serde_json::to_string(&correlate(&org, &[a1, a2, a3])).unwrap()
    );
}

#[test]
fn footholds_in_two_offices_are_two_entry_points() {
    let mut text = ORG.to_string();
    text.push_str("[[site]]\nid = \"id-jkt\"\ncountry = \"ID\"\ntimezone = \"Asia/Jakarta\"\nnetworks = [\"10.30.0.0/16\"]\n");
    let org = Org::from_toml(&text, "org.toml").unwrap();
    let a1 = alert(
        &org,
        "A1",
        "policy-deny",
        Severity::High,
        T0,
        "10.20.3.4",
        "10.10.5.10",
        1,
    );
    let a2 = alert(
        &org,
        "A2",
        "policy-deny",
        Severity::High,
        T0 + HOUR,
        "10.30.3.4",
        "10.10.5.10",
        1,
    );
    let a3 = alert(
        &org,
        "A3",
        "policy-deny",
        Severity::High,
        T0 + 2 * HOUR,
        "10.20.3.9",
        "10.10.5.10",
        1,
    );
    let incidents = correlate(&org, &[a1, a2, a3]);
    assert_eq!(incidents.len(), 1);
    let entries: Vec<(&str, &str)> = incidents[0]
        .entry_points
        .iter()
        .map(|e| (e.src.site.as_deref().unwrap(), e.alert_id.as_str()))
        .collect();
    assert_eq!(entries, [("th-bkk", "A1"), ("id-jkt", "A2")]);
}
