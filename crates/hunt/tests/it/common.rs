//! A small store with values the tests know, written through the store's own writer.

#![allow(dead_code)]

use sekisho_event::{
    Alert, AlertEndpoint, AppContext, ConnState, Flow, Proto, Service, Severity, Timestamp, Uid,
};
use sekisho_store::{FlowPlace, InputId, StoreWriter, StoredAlert, alert_key};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// A fresh directory under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "sekisho-hunt-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `2024-05-DD T HH:00:00Z` in microseconds.
pub fn at(day: u32, hour: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(2024, 5, day)
        .unwrap()
        .and_hms_opt(hour, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_micros()
}

/// One test flow: (ts, src, dst, dst_port, service, proto, orig_bytes, resp_bytes,
/// src_site, dst_site, direction, action).
pub type Row = (
    i64,
    &'static str,
    &'static str,
    u16,
    Service,
    Proto,
    u64,
    u64,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    &'static str,
);

/// The flows of the test store (A..F), over three days and the sites `hq`, `bkk` and
/// `_external`.
pub fn rows() -> Vec<Row> {
    use Proto::*;
    use Service::*;
    vec![
        // A: hq -> bkk SMB, denied.
        (
            at(1, 1),
            "10.10.0.5",
            "10.20.0.9",
            445,
            Smb,
            Tcp,
            100,
            200,
            Some("hq"),
            Some("bkk"),
            "cross-site",
            "deny",
        ),
        // B: bkk -> hq RDP.
        (
            at(1, 2),
            "10.20.0.9",
            "10.10.0.5",
            3389,
            Rdp,
            Tcp,
            1000,
            2000,
            Some("bkk"),
            Some("hq"),
            "cross-site",
            "alert",
        ),
        // C: hq -> internet HTTPS.
        (
            at(2, 3),
            "10.10.0.5",
            "198.51.100.7",
            443,
            Https,
            Tcp,
            5000,
            6000,
            Some("hq"),
            None,
            "outbound",
            "allow",
        ),
        // D: inside bkk, SSH.
        (
            at(2, 4),
            "10.20.0.9",
            "10.20.0.10",
            22,
            Ssh,
            Tcp,
            10,
            20,
            Some("bkk"),
            Some("bkk"),
            "intra-site",
            "allow",
        ),
        // E: outside every site.
        (
            at(3, 5),
            "203.0.113.5",
            "198.51.100.7",
            53,
            Dns,
            Udp,
            1,
            2,
            None,
            None,
            "external",
            "allow",
        ),
        // F: internet -> hq RDP, denied.
        (
            at(3, 6),
            "198.51.100.7",
            "10.10.0.5",
            3389,
            Rdp,
            Tcp,
            7,
            8,
            None,
            Some("hq"),
            "inbound",
            "deny",
        ),
    ]
}

fn flow(r: &Row) -> Flow {
    Flow {
        ts: Timestamp::from_micros(r.0),
        duration_us: 1_000,
        uid: Uid::new("Ctest").unwrap(),
        orig_ip: r.1.parse().unwrap(),
        orig_port: 50_000,
        resp_ip: r.2.parse().unwrap(),
        resp_port: r.3,
        proto: r.5,
        service: r.4,
        orig_bytes: r.6,
        resp_bytes: r.7,
        orig_pkts: 1,
        resp_pkts: 1,
        state: ConnState::SF,
        sensor: "zeek-test".into(),
    }
}

fn alert(r: &Row) -> StoredAlert {
    let ep = |ip: &str, site: Option<&str>| AlertEndpoint {
        ip: Some(ip.parse::<IpAddr>().unwrap()),
        site: site.map(str::to_string),
        asset: None,
        country: None,
    };
    let alert = Alert {
        id: String::new(),
        detector: "policy-deny".into(),
        severity: Severity::High,
        ts: Timestamp::from_micros(r.0),
        last_ts: Timestamp::from_micros(r.0),
        src: ep(r.1, r.8),
        dst: ep(r.2, r.9),
        service: r.4,
        dst_port: Some(r.3),
        rule: Some("deny-rule".into()),
        attack: None,
        summary: format!("{} -> {}", r.1, r.2),
        flow_count: 1,
        bytes_out: r.6,
        bytes_in: r.7,
        related: Vec::new(),
        context: AppContext::default(),
        evidence: Vec::new(),
    };
    StoredAlert {
        key: alert_key(&alert),
        incident: None,
        alert,
    }
}

/// Writes the test store into `dir`: flows A..F and an alert for each denied flow (A, F).
pub fn write_store(dir: &Path) {
    let mut w = StoreWriter::open(dir).unwrap();
    let input = w.input(InputId::of_bytes(b"test"), "test");
    let mut alerts = Vec::new();
    for r in rows() {
        let place = FlowPlace {
            partition_site: r.8.or(r.9),
            src_site: r.8,
            dst_site: r.9,
            src_asset: (r.1 == "10.10.0.5").then_some("hq-fs01"),
            dst_asset: (r.2 == "10.10.0.5").then_some("hq-fs01"),
            direction: r.10,
            policy_action: r.11,
            policy_rule: (r.11 == "deny").then_some("deny-rule"),
        };
        assert!(w.push_flow(input, &flow(&r), &place).unwrap());
        if r.11 == "deny" {
            alerts.push(alert(&r));
        }
    }
    w.complete(input);
    w.push_alerts(alerts).unwrap();
    w.finish(None).unwrap();
}

/// Every committed Parquet file under a table directory.
pub fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
