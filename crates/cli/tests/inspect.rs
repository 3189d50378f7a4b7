//! `sekisho inspect` end to end: the demo's fleet (compromised terminals are exactly the
//! hosts the intrusion touched, stale terminals are never sound, counts by site match the
//! generator's truth), indicators from an incident, escaping, and exit codes.

mod common;
use common::*;
use sekisho_demo::{DemoConfig, FleetFiles, Scale};
use std::collections::BTreeMap;

fn inspect_json(args: &[&str]) -> (i32, serde_json::Value, String) {
    let mut all = vec!["inspect", "--json"];
    all.extend_from_slice(args);
    let out = sekisho(&all);
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(&out), stderr(&out)));
    (out.status.code().unwrap_or(-1), doc, stderr(&out))
}

#[test]
fn demo_fleet_verdicts_match_the_generators_truth() {
    let dir = scratch("inspect-demo");
    let summary =
        sekisho_demo::generate(&dir, &DemoConfig::new(7, Scale::Small)).expect("generate");
    let files = FleetFiles::under(&dir);
    let truth = sekisho_demo::load_fleet_truth(&files.truth).expect("fleet truth");
    let (org, base, stix) = (
        summary.org_path.display().to_string(),
        files.baseline.display().to_string(),
        files.stix.display().to_string(),
    );
    let inv = files.osquery.display().to_string();
    let (code, doc, err) =
        inspect_json(&["--org", &org, "--baseline", &base, "--iocs", &stix, &inv]);
    assert_eq!(code, 1, "compromised terminals exit 1: {err}");
    let terminals = doc["terminals"].as_array().expect("terminals");
    assert_eq!(
        terminals.len(),
        truth.sites.values().map(|s| s.terminals).sum::<usize>()
    );

    // Compromised terminals are exactly the hosts the intrusion touched.
    let mut compromised: Vec<String> = terminals
        .iter()
        .filter(|t| t["verdict"] == "compromised")
        .map(|t| t["host"].as_str().unwrap_or_default().to_string())
        .collect();
    compromised.sort();
    assert!(!truth.compromised.is_empty());
    assert_eq!(compromised, truth.compromised);
    for t in terminals.iter().filter(|t| t["verdict"] == "compromised") {
        assert!(!t["indicator_hits"].as_array().unwrap().is_empty(), "{t}");
    }

    // Stale terminals are never sound (they are unknown).
    assert!(!truth.stale.is_empty(), "the demo has stale terminals");
    for t in terminals {
        let host = t["host"].as_str().unwrap_or_default().to_string();
        if truth.stale.binary_search(&host).is_ok() {
            assert_eq!(t["verdict"], "unknown", "{host}");
        }
        for key in ["host", "site", "verdict", "failed_checks", "indicator_hits"] {
            assert!(t.get(key).is_some(), "terminal without {key}");
        }
    }

    // Counts by site match the generator's truth, verdict by verdict.
    let sites: BTreeMap<String, &serde_json::Value> = doc["summary"]["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["site"].as_str().unwrap().to_string(), s))
        .collect();
    for (id, want) in &truth.sites {
        let got = sites.get(id).unwrap_or_else(|| panic!("site {id} missing"));
        let n = |k: &str| got[k].as_u64().unwrap_or(u64::MAX) as usize;
        assert_eq!(
            (
                n("terminals"),
                n("compromised"),
                n("at_risk"),
                n("unknown"),
                n("sound")
            ),
            (
                want.terminals,
                want.compromised,
                want.at_risk,
                want.unknown,
                want.sound
            ),
            "site {id}"
        );
    }
    assert!(
        doc["input"]["problems"].as_object().unwrap().is_empty(),
        "{}",
        doc["input"]
    );

    // The plain list gives the same compromised set as the STIX bundle.
    let list = files.iocs.display().to_string();
    let out = sekisho(&[
        "inspect",
        "--csv",
        "--org",
        &org,
        "--baseline",
        &base,
        "--iocs",
        &list,
        &inv,
    ]);
    let csv = stdout(&out);
    let mut from_csv: Vec<String> = csv
        .lines()
        .skip(1)
        .filter(|l| l.contains(",compromised,"))
        .map(|l| l.split(',').next().unwrap_or_default().to_string())
        .collect();
    from_csv.sort();
    assert_eq!(from_csv, truth.compromised);
}

const ORG: &str = r#"
[org]
name = "Test"
[[site]]
id = "th-bkk"
country = "TH"
timezone = "Asia/Bangkok"
networks = ["10.20.0.0/16"]
[[site]]
id = "jp-hq"
country = "JP"
timezone = "Asia/Tokyo"
networks = ["10.10.0.0/16"]
"#;

const BASELINE: &str = r#"
[baseline]
stale_after_days = 7
[[check]]
id = "fw"
kind = "firewall-on"
severity = "high"
rationale = "Host firewall on."
"#;

fn host_lines(host: &str, addr: &str, time: u64, firewall: &str) -> String {
    let head = |q: &str| {
        format!(
            r#""name":"{q}","hostIdentifier":"{host}","unixTime":"{time}","decorations":{{"host_uuid":"{host}-id","hostname":"{host}"}}"#
        )
    };
    [
        format!(r#"{{"snapshot":[{{"name":"Microsoft Windows 11 Pro","version":"10.0.22631","build":"22631","platform":"windows"}}],"action":"snapshot",{}}}"#, head("os_version")),
        format!(r#"{{"snapshot":[{{"interface":"Ethernet","address":"{addr}"}}],"action":"snapshot",{}}}"#, head("interface_addresses")),
        format!(r#"{{"snapshot":[{{"firewall":"{firewall}","antivirus":"Good","autoupdate":"Good"}}],"action":"snapshot",{}}}"#, head("windows_security_center")),
    ]
    .join("\n")
        + "\n"
}

#[test]
fn incident_indicators_stale_hosts_escaping_and_exit_codes() {
    let dir = scratch("inspect-small");
    let org = dir.join("org.toml");
    let base = dir.join("baseline.toml");
    std::fs::write(&org, ORG).unwrap();
    std::fs::write(&base, BASELINE).unwrap();
    let day = 86_400;
    let t0 = 1_721_000_000u64;
    let mut log = String::new();
    log += &host_lines("ws-ok", "10.20.64.1", t0, "Good");
    log += &host_lines("ws-hit", "10.20.64.2", t0, "Good");
    log += &host_lines("ws-old", "10.10.64.3", t0 - 30 * day, "Good");
    log += &host_lines("<script>alert(1)</script>", "10.10.64.4", t0, "Poor");
    let inv = dir.join("results.log");
    std::fs::write(&inv, log).unwrap();
    let incidents = dir.join("incidents.json");
    std::fs::write(
        &incidents,
        r#"[{"id":"INC-0001","hosts":["10.20.64.2","203.0.113.9"]},{"id":"INC-0002","hosts":["10.20.64.1"]}]"#,
    )
    .unwrap();
    let html = dir.join("fleet.html");
    let (o, b, i, inc, h) = (
        org.display().to_string(),
        base.display().to_string(),
        inv.display().to_string(),
        incidents.display().to_string(),
        html.display().to_string(),
    );
    let (code, doc, _) = inspect_json(&[
        "--org",
        &o,
        "--baseline",
        &b,
        "--from-incident",
        "INC-0001",
        "--incidents",
        &inc,
        "--html",
        &h,
        &i,
    ]);
    assert_eq!(code, 1);
    let verdict = |host: &str| {
        doc["terminals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["host"] == host)
            .map(|t| t["verdict"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert_eq!(verdict("ws-ok"), "sound");
    assert_eq!(verdict("ws-hit"), "compromised");
    assert_eq!(verdict("ws-old"), "unknown");
    assert_eq!(verdict("<script>alert(1)</script>"), "at-risk");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Content-Security-Policy"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("<script>"));
    assert!(page.contains("<svg"));

    // Staleness is judged against the newest inventory, not the clock: with a longer
    // limit the old host is evaluated.
    let (_, doc, _) = inspect_json(&["--org", &o, "--baseline", &b, "--stale-after", "60", &i]);
    let old = doc["terminals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["host"] == "ws-old")
        .unwrap()
        .clone();
    assert_eq!(old["verdict"], "sound");

    // Only sound and unknown terminals: exit 0.
    let clean = dir.join("clean.log");
    std::fs::write(
        &clean,
        host_lines("ws-ok", "10.20.64.1", t0, "Good")
            + &host_lines("ws-old", "10.10.64.3", t0 - 30 * day, "Poor"),
    )
    .unwrap();
    let out = sekisho(&[
        "inspect",
        "--org",
        &o,
        "--baseline",
        &b,
        &clean.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("sound 1"), "{}", stdout(&out));

    // Input errors exit 2 and name the line.
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[[check]]\nid = \"x\"\nkind = \"firewall-on\"\nseverity = \"urgent\"\nrationale = \"r\"\n",
    )
    .unwrap();
    let out = sekisho(&[
        "inspect",
        "--org",
        &o,
        "--baseline",
        &bad.display().to_string(),
        &i,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bad.toml:4:"), "{}", stderr(&out));
    let out = sekisho(&[
        "inspect",
        "--org",
        &o,
        "--baseline",
        &b,
        "--from-incident",
        "INC-9",
        "--incidents",
        &inc,
        &i,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("INC-0001"), "{}", stderr(&out));
    let out = sekisho(&[
        "inspect",
        "--org",
        &o,
        "--baseline",
        &b,
        &dir.join("missing").display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let empty = dir.join("empty.log");
    std::fs::write(&empty, "not json\n").unwrap();
    let out = sekisho(&[
        "inspect",
        "--org",
        &o,
        "--baseline",
        &b,
        &empty.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).contains("bad-json: 1"), "{}", stdout(&out));
}
