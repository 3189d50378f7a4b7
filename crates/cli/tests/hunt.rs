//! `sekisho hunt`: SQL over a store as table/CSV/JSON, saved hunts from the org file, and
//! indicator sweeps with their exit codes.

mod common;

use common::{sekisho, stderr, stdout};
use sekisho_event::{ConnState, Flow, Proto, Service, Timestamp, Uid};
use sekisho_store::{FlowPlace, InputId, StoreWriter};
use std::path::{Path, PathBuf};

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// 2024-05-01T00:00:00Z in microseconds.
const MAY1: i64 = 1_714_521_600_000_000;
const HOUR: i64 = 3_600_000_000;

/// A store with three flows: two from th-bkk to jp-hq (SMB, then RDP), one from jp-hq out.
fn store(name: &str) -> Dir {
    let dir = std::env::temp_dir().join(format!("sekisho-cli-hunt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut w = StoreWriter::open(&dir).unwrap();
    let input = w.input(InputId::of_bytes(name.as_bytes()), name);
    let flows = [
        (
            MAY1 + HOUR,
            "10.20.0.9",
            "10.10.0.5",
            445,
            Service::Smb,
            100,
            "th-bkk",
            Some("jp-hq"),
        ),
        (
            MAY1 + 2 * HOUR,
            "10.20.0.9",
            "10.10.0.5",
            3389,
            Service::Rdp,
            200,
            "th-bkk",
            Some("jp-hq"),
        ),
        (
            MAY1 + 30 * HOUR,
            "10.10.0.5",
            "198.51.100.7",
            443,
            Service::Https,
            400,
            "jp-hq",
            None,
        ),
    ];
    for (ts, src, dst, port, service, bytes, s_site, d_site) in flows {
        let flow = Flow {
            ts: Timestamp::from_micros(ts),
            duration_us: 5,
            uid: Uid::new("C1").unwrap(),
            orig_ip: src.parse().unwrap(),
            orig_port: 50_000,
            resp_ip: dst.parse().unwrap(),
            resp_port: port,
            proto: Proto::Tcp,
            service,
            orig_bytes: bytes,
            resp_bytes: 1,
            orig_pkts: 1,
            resp_pkts: 1,
            state: ConnState::SF,
            sensor: "zeek".into(),
        };
        let place = FlowPlace {
            partition_site: Some(s_site),
            src_site: Some(s_site),
            dst_site: d_site,
            direction: if d_site.is_some() {
                "cross-site"
            } else {
                "outbound"
            },
            policy_action: "allow",
            ..FlowPlace::default()
        };
        w.push_flow(input, &flow, &place).unwrap();
    }
    w.complete(input);
    w.finish(None).unwrap();
    Dir(dir)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const SQL: &str =
    "SELECT src_site, service, SUM(orig_bytes) AS bytes FROM flows GROUP BY 1, 2 ORDER BY bytes";

#[test]
fn sql_as_table_csv_and_json() {
    let dir = store("sql");
    let o = sekisho(&["hunt", "--store", s(&dir.0), SQL]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("src_site  service  bytes\n"), "{out}");
    assert!(out.contains("th-bkk    rdp        200"), "{out}");
    assert!(out.ends_with("(3 rows)\n"), "{out}");

    let o = sekisho(&["hunt", "--store", s(&dir.0), "--csv", SQL]);
    assert_eq!(
        stdout(&o),
        "src_site,service,bytes\nth-bkk,smb,100\nth-bkk,rdp,200\njp-hq,https,400\n"
    );

    let o = sekisho(&["hunt", "--store", s(&dir.0), "--json", SQL]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v[2],
        serde_json::json!({"src_site": "jp-hq", "service": "https", "bytes": 400})
    );

    // One day, one site.
    let o = sekisho(&[
        "hunt",
        "--store",
        s(&dir.0),
        "--csv",
        "SELECT COUNT(*) AS n FROM flows WHERE day = '2024-05-02' AND site = 'jp-hq'",
    ]);
    assert_eq!(stdout(&o), "n\n1\n");
}

#[test]
fn errors_exit_2_with_the_engine_message() {
    let dir = store("errors");
    let o = sekisho(&["hunt", "--store", s(&dir.0), "SELECT nope FROM flows"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope"), "{}", stderr(&o));
    let o = sekisho(&["hunt", "--store", "/definitely/not/here", "SELECT 1"]);
    assert_eq!(o.status.code(), Some(2));
    let o = sekisho(&["hunt", "--store", s(&dir.0)]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn saved_hunts_from_the_org_file() {
    let dir = store("saved");
    let org = dir.0.join("org.toml");
    std::fs::write(
        &org,
        r#"
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

[[hunt]]
name = "overseas-admin"
description = "RDP and SMB from Bangkok"
sql = """
SELECT ts, dst_ip, service FROM flows
WHERE src_site = 'th-bkk' AND service IN ('rdp', 'smb') ORDER BY ts
"""
"#,
    )
    .unwrap();
    let o = sekisho(&["hunt", "--org", s(&org), "--list"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("overseas-admin  RDP and SMB from Bangkok"),
        "{}",
        stdout(&o)
    );

    let o = sekisho(&[
        "hunt",
        "--store",
        s(&dir.0),
        "--org",
        s(&org),
        "--saved",
        "overseas-admin",
        "--csv",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "ts,dst_ip,service\n2024-05-01T01:00:00Z,10.10.0.5,smb\n2024-05-01T02:00:00Z,10.10.0.5,rdp\n"
    );

    let o = sekisho(&[
        "hunt",
        "--store",
        s(&dir.0),
        "--org",
        s(&org),
        "--saved",
        "nope",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("overseas-admin"), "{}", stderr(&o));
}

#[test]
fn ioc_sweep_exit_codes_and_first_last_seen() {
    let dir = store("ioc");
    let ioc = dir.0.join("ioc.txt");
    std::fs::write(
        &ioc,
        "# from the CERT\n10.20.0.9\n198.51.100.0/24\nevil.example\n",
    )
    .unwrap();
    let o = sekisho(&["hunt", "--store", s(&dir.0), "--ioc", s(&ioc), "--json"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "found indicators exit 1: {}",
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v[0]["indicator"], "10.20.0.9");
    assert_eq!(v[0]["flows"], 2);
    assert_eq!(v[0]["first_seen"], "2024-05-01T01:00:00Z");
    assert_eq!(v[0]["last_seen"], "2024-05-01T02:00:00Z");
    assert_eq!(v[0]["sites"], serde_json::json!(["th-bkk"]));
    assert_eq!(v[1]["flows"], 1);
    assert_eq!(v[1]["first_seen"], "2024-05-02T06:00:00Z");
    assert_eq!(v[2]["searchable"], false);

    let o = sekisho(&["hunt", "--store", s(&dir.0), "--ioc", s(&ioc)]);
    let table = stdout(&o);
    assert!(table.contains("not searchable in this store"), "{table}");

    std::fs::write(&ioc, "192.0.2.1\n").unwrap();
    let o = sekisho(&["hunt", "--store", s(&dir.0), "--ioc", s(&ioc), "--csv"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "nothing found exits 0: {}",
        stderr(&o)
    );
    assert_eq!(
        stdout(&o),
        "indicator,kind,flows,first_seen,last_seen,sites,alerts,logons,host_events,note\n192.0.2.1,ip,0,,,,0,0,0,\n"
    );
}
