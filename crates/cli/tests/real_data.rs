//! Real logs nobody here wrote (../shared/data, see its MANIFEST.md), with org files written
//! for them; the alerts asserted here were checked by reading the logs by hand.

mod common;
use common::*;
use serde_json::Value;

fn alerts(doc: &Value) -> &Vec<Value> {
    doc["alerts"].as_array().expect("alerts array")
}

fn find<'a>(doc: &'a Value, detector: &str, src: &str, dst: &str, service: &str) -> &'a Value {
    alerts(doc)
        .iter()
        .find(|a| {
            a["detector"] == detector
                && a["src"]["ip"] == src
                && a["dst"]["ip"] == dst
                && a["service"] == service
        })
        .unwrap_or_else(|| {
            panic!(
                "no {detector} {src} -> {dst} {service} in {:#?}",
                alerts(doc)
            )
        })
}

/// OTRF APT29 day 1: SCRANTON (10.0.1.4) tries SMB to the emulated attacker (192.168.0.4),
/// then moves to NASHUA (10.0.1.6) over WinRM, SMB and DCE-RPC; NASHUA talks to its C2 at
/// 192.168.0.4:8443 hundreds of times in minutes.
#[test]
fn apt29_day1_smb_to_the_attacker_lateral_movement_and_c2_are_found() {
    let data = shared_data("zeek/otrf-apt29-day1");
    let (code, doc) = analyze_json(&fixture("apt29.org.toml"), &[&data]);
    assert_eq!(code, 1, "incidents found");
    let stats = &doc["stats"];
    // 479 + 134 conn records, 181 from the application logs we read, none rejected.
    assert_eq!(stats["parsed_by_log"]["conn"], 613);
    assert_eq!(stats["records"], 794);
    assert_eq!(stats["rejected"], 0);
    // The span the logs cover (earliest and latest record of the logs read).
    assert_eq!(stats["first_ts"], "2020-04-30T00:06:38.899710Z");
    assert_eq!(stats["last_ts"], "2020-04-30T00:45:00.760719Z");

    // 5 REJ attempts to 445 and 5 to 139 (SCRANTON_conn.log), all "smb".
    let deny = find(&doc, "policy-deny", "10.0.1.4", "192.168.0.4", "smb");
    assert_eq!(deny["rule"], "no SMB to the Internet");
    assert_eq!(deny["flow_count"], 10);
    assert_eq!(deny["severity"], "high");
    assert_eq!(
        deny["dst"]["site"],
        Value::Null,
        "the attacker is outside every site"
    );

    // 4 WinRM, 15 SMB and 4 DCE-RPC (port 135) connections, each logged by both sensors
    // and analysed once; the run counts the duplicates (crates/engine/tests/duplicates.rs
    // derives their number from the raw logs).
    assert!(
        stats["duplicates"].as_u64().unwrap() >= 4 + 15 + 4,
        "{stats:#}"
    );
    let rule = "workstation-to-workstation remote administration";
    for (service, flows) in [("winrm", 4), ("smb", 15), ("dce-rpc", 4)] {
        let a = find(&doc, "policy-alert", "10.0.1.4", "10.0.1.6", service);
        assert_eq!(a["rule"], rule);
        assert_eq!(a["flow_count"], flows, "{service}");
        assert_eq!(a["src"]["site"], "workstations");
    }
    // NASHUA_dce_rpc.log names the endpoint mapper call on those flows (joined by uid).
    let rpc = find(&doc, "policy-alert", "10.0.1.4", "10.0.1.6", "dce-rpc");
    assert_eq!(rpc["context"]["operations"][0], "epmapper::ept_map");

    // 376 connections to 192.168.0.4:8443 between 00:40:44 and 00:44:44.
    let beacon = find(&doc, "beacon", "10.0.1.6", "192.168.0.4", "https");
    assert_eq!(beacon["dst_port"], 8443);
    assert!(beacon["flow_count"].as_u64().unwrap() >= 200, "{beacon:#}");

    // One incident: the attacker's address ties SCRANTON's and NASHUA's activity together.
    let incidents = doc["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    let hosts: Vec<&str> = incidents[0]["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["10.0.1.4", "10.0.1.6", "192.168.0.4"]);
    assert_eq!(incidents[0]["sites"], serde_json::json!(["workstations"]));
}

/// The six application logs present in both the TSV and the JSON export of WRCCDC 2018.
const WRCCDC_LOGS: [&str; 6] = ["rdp", "ntlm", "smb_mapping", "dce_rpc", "kerberos", "ssh"];

fn wrccdc(format: &str) -> (i32, Value) {
    let ext = if format == "tsv" { "log.gz" } else { "json.gz" };
    let files: Vec<_> = WRCCDC_LOGS
        .iter()
        .map(|l| shared_data(&format!("zeek/wrccdc-2018/{format}/{l}.{ext}")))
        .collect();
    let refs: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    analyze_json(&fixture("wrccdc.org.toml"), &refs)
}

/// Alerts without the parts that name the input (sensor = folder name, `tsv` or `json`).
fn comparable(doc: &Value) -> Vec<Value> {
    alerts(doc)
        .iter()
        .map(|a| {
            let mut a = a.clone();
            for e in a["evidence"].as_array_mut().unwrap() {
                e.as_object_mut().unwrap().remove("sensor");
            }
            a
        })
        .collect()
}

/// WRCCDC 2018 has no conn.log in the dataset: the application logs stand in for the flows.
/// The TSV and JSON exports of the same events must give identical alerts.
#[test]
fn wrccdc_tsv_and_json_give_identical_alerts_naming_users_hosts_and_shares() {
    let (tsv_code, tsv) = wrccdc("tsv");
    let (json_code, json) = wrccdc("json");
    assert_eq!(tsv["stats"]["rejected"], 0);
    assert_eq!(json["stats"]["rejected"], 0);
    assert_eq!(tsv["stats"]["records"], json["stats"]["records"]);
    assert_eq!(tsv["stats"]["records"], 4122 + 422 + 393 + 78 + 11 + 22);
    assert!(alerts(&tsv).len() > 50);
    assert_eq!(comparable(&tsv), comparable(&json));
    assert_eq!(tsv["incidents"], json["incidents"]);
    assert_eq!((tsv_code, json_code), (1, 1));

    // uid C6WWAQ2G8MqT1hrQHd: 10.128.0.214 maps ADMIN$ on 10.47.8.142 (smb_mapping), logs in
    // as FACTORY\Administrator from client ZA3Mb5kF7rTTSw7N (ntlm), and creates, starts and
    // deletes a service through svcctl (dce_rpc): remote service execution, PsExec-style.
    let a = alerts(&tsv)
        .iter()
        .find(|a| {
            a["detector"] == "policy-deny"
                && a["evidence"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["uid"] == "C6WWAQ2G8MqT1hrQHd")
        })
        .expect("an alert on uid C6WWAQ2G8MqT1hrQHd");
    assert_eq!(
        (&a["src"]["ip"], &a["dst"]["ip"]),
        (&Value::from("10.128.0.214"), &Value::from("10.47.8.142"))
    );
    assert_eq!(a["rule"], "no remote administration into the team networks");
    let ctx = &a["context"];
    assert_eq!(ctx["users"], serde_json::json!(["FACTORY\\Administrator"]));
    assert_eq!(ctx["client_hosts"][0], "ZA3Mb5kF7rTTSw7N");
    assert!(
        ctx["shares"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "\\\\10.47.8.142\\ADMIN$"),
        "{ctx:#}"
    );
    let ops: Vec<&str> = ctx["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    assert!(
        ops.contains(&"svcctl::CreateServiceW") && ops.contains(&"svcctl::StartServiceW"),
        "{ops:?}"
    );

    // rdp.log: 10.164.94.120 (client name "tenablese", cookie "nessus") reaches team hosts over
    // RDP: a vulnerability scanner, denied by the same rule and named as such.
    let rdp = find(&tsv, "policy-deny", "10.164.94.120", "10.47.8.208", "rdp");
    assert_eq!(rdp["context"]["users"], serde_json::json!(["nessus"]));
    assert_eq!(
        rdp["context"]["client_hosts"],
        serde_json::json!(["tenablese"])
    );
    assert_eq!(rdp["src"]["site"], "ops-164");
    assert_eq!(rdp["dst"]["site"], "teams");
}

/// `-` reads standard input; the sensor is then `stdin`.
#[test]
fn conn_log_from_stdin_is_analysed() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let log = std::fs::read(shared_data("zeek/otrf-apt29-day1/NASHUA_conn.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sekisho"))
        .args([
            "analyze",
            "--json",
            "--org",
            fixture("apt29.org.toml").to_str().unwrap(),
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&log));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["stats"]["parsed"], 479);
    assert_eq!(doc["stats"]["rejected"], 0);
    let beacon = find(&doc, "beacon", "10.0.1.6", "192.168.0.4", "https");
    assert_eq!(beacon["evidence"][0]["sensor"], "stdin");
}
