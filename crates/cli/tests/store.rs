//! The evidence store end to end with the real binary: ingest, verify, attest, simulate on
//! the demo's data, and ingest killed with SIGKILL at random points.

mod common;

use common::{fixture, scratch, sekisho, shared_data, stderr, stdout};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use sekisho_demo::{DemoConfig, Scale};
use sekisho_store::{Scan, Store};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const HOUR_US: i64 = 3_600_000_000;

/// Drops one sensor's conn records in `[from, to)` (µs), as if it had been unplugged.
fn silence(sensor_dir: &Path, from: i64, to: i64) -> u64 {
    let mut dropped = 0;
    for entry in std::fs::read_dir(sensor_dir).unwrap() {
        let path = entry.unwrap().path();
        let mut text = String::new();
        GzDecoder::new(std::fs::File::open(&path).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            let ts = line
                .split('\t')
                .next()
                .and_then(|t| t.parse::<f64>().ok())
                .map(|t| (t * 1e6) as i64);
            if ts.is_some_and(|t| t >= from && t < to) {
                dropped += 1;
                continue;
            }
            out.push_str(line);
            out.push('\n');
        }
        let mut gz = GzEncoder::new(std::fs::File::create(&path).unwrap(), Compression::fast());
        gz.write_all(out.as_bytes()).unwrap();
        gz.finish().unwrap();
    }
    dropped
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(out), stderr(out)))
}

fn p(path: &Path) -> String {
    path.display().to_string()
}

/// `sekisho CMD... --org ORG --store STORE REST...`
fn on_store(cmd: &[&str], org: &Path, store: &Path, rest: &[&str]) -> std::process::Output {
    let (org, store) = (p(org), p(store));
    let mut args = cmd.to_vec();
    args.extend(["--org", org.as_str(), "--store", store.as_str()]);
    args.extend_from_slice(rest);
    sekisho(&args)
}

struct Demo {
    dir: PathBuf,
    org: PathBuf,
    zeek: PathBuf,
    store: PathBuf,
    restriction_us: i64,
    silenced: (i64, i64),
}

fn demo_store(name: &str) -> Demo {
    let dir = scratch(name);
    let summary = sekisho_demo::generate(&dir, &DemoConfig::new(7, Scale::Small)).unwrap();
    let truth = std::fs::read_to_string(&summary.truth_path).unwrap();
    let scenario: serde_json::Value = serde_json::from_str(truth.lines().next().unwrap()).unwrap();
    let restriction_us =
        sekisho_event::Timestamp::parse_rfc3339(scenario["restriction_ts"].as_str().unwrap())
            .unwrap()
            .as_micros();
    let zeek = dir.join("zeek");
    // The Munich sensor goes silent for six hours after the restriction.
    let silenced = (restriction_us + 6 * HOUR_US, restriction_us + 12 * HOUR_US);
    assert!(silence(&zeek.join("de-muc-zeek"), silenced.0, silenced.1) > 0);
    let store = dir.join("store");
    Demo {
        org: summary.org_path.clone(),
        dir,
        zeek,
        store,
        restriction_us,
        silenced,
    }
}

#[test]
fn ingest_stores_what_analyze_sees_and_attest_tells_violations_from_coverage() {
    let d = demo_store("store-demo");
    let ingest = on_store(&["ingest"], &d.org, &d.store, &["--json", &p(&d.zeek)]);
    assert_eq!(ingest.status.code(), Some(0), "{}", stderr(&ingest));
    let figures = json_of(&ingest);

    // Round trip: the store holds every flow and alert that analyze reports.
    let (code, analysis) = common::analyze_json(&d.org, &[&d.zeek]);
    assert_eq!(code, 1);
    let parsed = analysis["stats"]["parsed"].as_u64().unwrap();
    let store = Store::open(&d.store).unwrap();
    let mut uids = HashSet::new();
    let mut bytes = 0u64;
    let n = store
        .for_each_flow(&Scan::default(), |f| {
            uids.insert(f.flow.uid);
            bytes += f.flow.orig_bytes;
        })
        .unwrap();
    assert_eq!(n, parsed);
    assert_eq!(figures["stored"]["flows"].as_u64(), Some(n));
    assert_eq!(uids.len() as u64, n, "every flow once");
    let stored_alerts = store.alerts(&Scan::default()).unwrap();
    let alerts = analysis["alerts"].as_array().unwrap();
    assert_eq!(stored_alerts.len(), alerts.len());
    let ids: HashSet<&str> = alerts.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert!(
        stored_alerts
            .iter()
            .all(|a| ids.contains(a.alert.id.as_str()))
    );
    let incidents: HashSet<&str> = analysis["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    let stored_incidents: HashSet<&str> = stored_alerts
        .iter()
        .filter_map(|a| a.incident.as_deref())
        .collect();
    assert_eq!(stored_incidents, incidents);

    // Verify passes; ingesting again adds nothing.
    let verify = sekisho(&["verify", "--store", &p(&d.store)]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    let head = store.chain_head();
    assert!(stdout(&verify).contains(&head));
    let again = on_store(&["ingest"], &d.org, &d.store, &["--json", &p(&d.zeek)]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let again = json_of(&again);
    assert_eq!(again["stored"]["flows"].as_u64(), Some(0));
    assert_eq!(again["stored"]["alerts"].as_u64(), Some(0));
    assert_eq!(again["stored"]["flows_already_stored"].as_u64(), Some(n));
    assert_eq!(Store::open(&d.store).unwrap().chain_head(), head);

    // After the restriction: nothing from the offices the intruders used, watched throughout.
    let day = |us: i64| {
        chrono::DateTime::from_timestamp_micros(us)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let end = store.manifest().segments().map(|s| s.max_ts).max().unwrap();
    let html = d.dir.join("attest.html");
    let mut args = vec![
        "attest".to_string(),
        "--org".into(),
        p(&d.org),
        "--store".into(),
        p(&d.store),
        "--from".into(),
        day(d.restriction_us),
        "--to".into(),
        day(end - HOUR_US),
        "--to-site".into(),
        "jp-hq".into(),
        "--json".into(),
        "--html".into(),
        p(&html),
    ];
    for s in ["th-bkk", "id-jkt", "ph-mnl", "us-hou"] {
        args.push("--from-site".into());
        args.push(s.into());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let after = sekisho(&refs);
    let doc = json_of(&after);
    assert_eq!(after.status.code(), Some(0), "{}", stdout(&after));
    assert_eq!(doc["violations"].as_array().unwrap().len(), 0);
    assert_eq!(doc["none_found"], true);
    assert_eq!(doc["chain_head"].as_str(), Some(head.as_str()));
    for site in doc["sites"].as_array().unwrap() {
        let name = site["name"].as_str().unwrap();
        if ["th-bkk", "id-jkt", "ph-mnl", "us-hou", "jp-hq"].contains(&name) {
            assert!(
                site["gaps"].as_array().unwrap().is_empty(),
                "{name} watched throughout"
            );
        }
    }
    assert!(
        doc["claim"]
            .as_str()
            .unwrap()
            .contains("watched throughout")
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains(&head) && page.contains("<svg") && !page.contains("<script"));

    // The silenced sensor is a gap, and the claim for its site says so.
    let munich = on_store(
        &["attest"],
        &d.org,
        &d.store,
        &[
            "--from",
            &day(d.restriction_us),
            "--to",
            &day(end - HOUR_US),
            "--from-site",
            "de-muc",
            "--json",
        ],
    );
    let doc = json_of(&munich);
    let site = doc["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "de-muc")
        .unwrap();
    let gaps = site["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    let gap_start =
        sekisho_event::Timestamp::parse_rfc3339(gaps[0]["start"].as_str().unwrap()).unwrap();
    let gap_end =
        sekisho_event::Timestamp::parse_rfc3339(gaps[0]["end"].as_str().unwrap()).unwrap();
    assert!(
        gap_start.as_micros() <= d.silenced.0 + HOUR_US
            && gap_start.as_micros() >= d.silenced.0 - HOUR_US
    );
    assert!(
        gap_end.as_micros() >= d.silenced.1 - HOUR_US
            && gap_end.as_micros() <= d.silenced.1 + HOUR_US
    );
    assert!(
        doc["claim"].as_str().unwrap().contains("de-muc"),
        "{}",
        doc["claim"]
    );

    // Host event logs beside the store: a Security log that runs through the period backs
    // the claim; one with missing records and a clear inside the period does not, and the
    // claim names it.
    let (p0, p1) = (d.restriction_us, end - HOUR_US);
    let beat = |host: &str, id: u64, at: i64, event: u32| {
        format!(
            r#"{{"@timestamp":"{}","winlog":{{"channel":"Security","provider_name":"Microsoft-Windows-Security-Auditing","event_id":"{event}","record_id":{id},"computer_name":"{host}","event_data":{{"SubjectUserName":"admin"}}}}}}"#,
            day(at)
        )
    };
    let mut lines = Vec::new();
    let span = p1 - p0;
    // A record every 6 hours (the continuity check calls 24 h of silence a break).
    let steps = span / (6 * HOUR_US) + 2;
    for i in 0..=steps {
        let at = (p0 - HOUR_US + i * 6 * HOUR_US).min(p1 + HOUR_US);
        lines.push(beat("JP-DC01.corp.example", 100 + i as u64, at, 4624));
    }
    lines.push(beat("JP-FS01.corp.example", 7, p0 - HOUR_US, 4624));
    lines.push(beat("JP-FS01.corp.example", 9, p0 + span / 2, 1102));
    lines.push(beat("JP-FS01.corp.example", 10, p1 + HOUR_US, 4624));
    let logs = d.dir.join("security.ndjson");
    std::fs::write(&logs, lines.join("\n") + "\n").unwrap();
    let with_logs = on_store(
        &["attest"],
        &d.org,
        &d.store,
        &[
            "--from",
            &day(p0),
            "--to",
            &day(p1),
            "--to-site",
            "jp-hq",
            "--host-logs",
            &p(&logs),
            "--json",
        ],
    );
    let doc = json_of(&with_logs);
    let host_logs = doc["host_logs"].as_array().unwrap();
    assert_eq!(host_logs.len(), 2, "{host_logs:#?}");
    let by_host = |h: &str| host_logs.iter().find(|l| l["host"] == h).unwrap();
    assert_eq!(by_host("JP-DC01.corp.example")["continuous"], true);
    assert_eq!(by_host("JP-DC01.corp.example")["spans_period"], true);
    assert_eq!(by_host("JP-FS01.corp.example")["continuous"], false);
    let claim = doc["claim"].as_str().unwrap();
    assert!(
        claim.contains("1 of 2 host event logs do not back it: JP-FS01.corp.example Security"),
        "{claim}"
    );
    assert!(claim.contains("cleared"), "{claim}");

    // Over the intrusion: the violations are there.
    let start = store.manifest().segments().map(|s| s.min_ts).min().unwrap();
    let during = on_store(
        &["attest"],
        &d.org,
        &d.store,
        &[
            "--from",
            &day(start),
            "--to",
            &day(d.restriction_us),
            "--from-tag",
            "overseas",
            "--json",
        ],
    );
    assert_eq!(during.status.code(), Some(1));
    let doc = json_of(&during);
    let violations = doc["violations"].as_array().unwrap();
    let sites: HashSet<&str> = violations
        .iter()
        .filter_map(|v| v["src_site"].as_str())
        .collect();
    for s in ["th-bkk", "id-jkt", "ph-mnl", "us-hou"] {
        assert!(sites.contains(s), "{s} missing from {sites:?}");
    }
}

#[test]
fn policy_simulate_tells_what_a_restriction_would_break_and_stop() {
    let d = demo_store("store-simulate");
    let ingest = on_store(&["ingest"], &d.org, &d.store, &[&p(&d.zeek)]);
    assert_eq!(ingest.status.code(), Some(0), "{}", stderr(&ingest));
    let text = std::fs::read_to_string(&d.org).unwrap();
    // "Restrict all overseas connections": every cross-site flow no rule allows is denied.
    let strict = d.dir.join("strict.toml");
    std::fs::write(
        &strict,
        text.replace(
            "cross_site_default = \"alert\"",
            "cross_site_default = \"deny\"",
        ),
    )
    .unwrap();
    let out = on_store(&["policy", "simulate"], &strict, &d.store, &["--json"]);
    let sim = json_of(&out);
    let rules = sim["rules"].as_array().unwrap();
    let rule = |name: &str| {
        rules
            .iter()
            .find(|r| r["rule"] == name)
            .unwrap_or_else(|| panic!("{name}: {rules:?}"))
    };
    let deny = rule("No overseas admin access to HQ servers");
    assert!(!deny["alerts_stopped"].as_array().unwrap().is_empty());
    let default = rule("(cross-site default)");
    assert_eq!(default["action"], "deny");
    assert!(default["newly_caught"].as_u64().unwrap() > 0);
    assert!(sim["alerts_stopped"].as_u64().unwrap() > 0);
    assert!(!sim["incidents"].as_object().unwrap().is_empty());
    let breaks = default["legitimate_looking"].as_u64().unwrap() > 0;
    assert_eq!(out.status.code(), Some(if breaks { 1 } else { 0 }));

    // Without the deny rule and with the default allowing, the intrusion's crossings pass.
    let lax = d.dir.join("lax.toml");
    let start = text
        .find("[[policy.rule]]\nname = \"No overseas admin access")
        .unwrap();
    let end = start
        + text[start..].find("severity = \"high\"\n").unwrap()
        + "severity = \"high\"\n".len();
    let lax_text = format!("{}{}", &text[..start], &text[end..]).replace(
        "cross_site_default = \"alert\"",
        "cross_site_default = \"allow\"",
    );
    std::fs::write(&lax, lax_text).unwrap();
    let out = on_store(&["policy", "simulate"], &lax, &d.store, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sim = json_of(&out);
    assert_eq!(sim["alerts_stopped"].as_u64(), Some(0), "{}", stdout(&out));
}

/// A Zeek conn log of `n` flows with distinct uids, one per millisecond.
fn write_conn_log(path: &Path, n: u64) {
    let mut s = String::from(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
         #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n\
         #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n",
    );
    for i in 0..n {
        let ts = 1_719_792_000.0 + i as f64 * 0.001;
        s += &format!(
            "{ts:.6}\tC{i:017}\t10.20.{}.{}\t{}\t10.10.5.21\t445\ttcp\tsmb\t0.5\t{}\t{}\tSF\t-\t-\t0\tShADadFf\t4\t400\t4\t400\t-\n",
            (i / 250) % 250,
            i % 250 + 1,
            40_000 + i % 20_000,
            i % 1000,
            i % 777
        );
    }
    std::fs::write(path, s).unwrap();
}

#[test]
fn ingest_killed_at_random_points_loses_and_duplicates_nothing() {
    let dir = scratch("store-sigkill");
    let input = dir.join("conn.log");
    const FLOWS: u64 = 200_000;
    write_conn_log(&input, FLOWS);
    let org = dir.join("org.toml");
    std::fs::write(
        &org,
        "[org]\nname = \"T\"\n\n[[site]]\nid = \"hq\"\nname = \"HQ\"\ncountry = \"JP\"\ntimezone = \"Asia/Tokyo\"\nnetworks = [\"10.10.0.0/16\"]\n\n[[site]]\nid = \"th\"\nname = \"TH\"\ncountry = \"TH\"\ntimezone = \"Asia/Bangkok\"\nnetworks = [\"10.20.0.0/16\"]\n",
    )
    .unwrap();
    let store = dir.join("store");
    // Deterministic "random" kill points, spread over a run.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut kills = 0;
    for _ in 0..10 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let wait = Duration::from_millis(50 + state % 900);
        let mut child = Command::new(env!("CARGO_BIN_EXE_sekisho"))
            .args([
                "ingest",
                "--org",
                &p(&org),
                "--store",
                &p(&store),
                "--commit-rows",
                "7000",
                &p(&input),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(wait);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
        // Whatever the cut, what is committed is intact.
        let v = sekisho(&["verify", "--store", &p(&store), "--json"]);
        assert_eq!(
            json_of(&v)["problems"].as_array().unwrap().len(),
            0,
            "{}",
            stdout(&v)
        );
    }
    assert!(
        kills > 0,
        "no run was cut: the input is too small to test anything"
    );
    let last = on_store(&["ingest"], &org, &store, &[&p(&input)]);
    assert_eq!(last.status.code(), Some(0), "{}", stderr(&last));
    let store = Store::open(&store).unwrap();
    let mut uids = HashSet::new();
    let mut bytes = 0u64;
    let n = store
        .for_each_flow(&Scan::default(), |f| {
            uids.insert(f.flow.uid);
            bytes += f.flow.orig_bytes;
        })
        .unwrap();
    assert_eq!(n, FLOWS, "no flow lost or stored twice");
    assert_eq!(uids.len() as u64, FLOWS);
    assert_eq!(bytes, (0..FLOWS).map(|i| i % 1000).sum::<u64>());
    assert!(sekisho_store::verify(store.dir()).unwrap().is_intact());
    assert_eq!(
        std::fs::read_dir(store.dir().join("_staging"))
            .unwrap()
            .count(),
        0
    );
}

/// DuckDB's count of stored logons with `action = 'logon'`, in all and cross-site.
const DUCKDB_LOGONS: &str = r#"
import json, sys
try:
    import duckdb
except ImportError:
    print("MISSING-DUCKDB")
    sys.exit(3)
src = f"read_parquet('{sys.argv[1]}/logons/**/*.parquet', hive_partitioning=true)"
n, cross = duckdb.connect().execute(
    f"SELECT COUNT(*), COUNT(*) FILTER (WHERE cross_site) FROM {src} WHERE action = 'logon'"
).fetchone()
print(json.dumps([n, cross]))
"#;

#[test]
fn ingest_stores_every_host_record_once_for_hunting() {
    let dir = scratch("store-logons");
    let store = dir.join("store");
    let org = fixture("evtx-samples.org.toml");
    let evtx = shared_data("evtx/evtx-attack-samples");

    // What `sekisho logons` reports on the same files: logons and failed logons, grouped.
    let summary = sekisho(&["logons", "--org", &p(&org), "--json", &p(&evtx)]);
    assert_eq!(summary.status.code(), Some(0), "{}", stderr(&summary));
    let groups: Vec<serde_json::Value> = serde_json::from_slice(&summary.stdout).unwrap();
    let count = |cross_only: bool| -> u64 {
        groups
            .iter()
            .filter(|g| !cross_only || g["cross_site"] == true)
            .map(|g| g["count"].as_u64().unwrap())
            .sum()
    };
    let (logons, cross) = (count(false), count(true));
    assert!(logons >= 50 && cross > 0, "{logons} {cross}");

    let ingest = on_store(&["ingest"], &org, &store, &["--json", &p(&evtx)]);
    assert_eq!(ingest.status.code(), Some(0), "{}", stderr(&ingest));
    let stored = json_of(&ingest)["stored"]["logons"].as_u64().unwrap();
    // Logoffs are stored too; `logons` counts them apart.
    assert!(stored > logons, "{stored} {logons}");

    let hunt = |sql: &str| -> serde_json::Value {
        let o = sekisho(&["hunt", "--store", &p(&store), "--json", sql]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        serde_json::from_str(&stdout(&o)).unwrap()
    };
    let n = hunt(
        "SELECT COUNT(*) AS n, COUNT(*) FILTER (WHERE cross_site) AS cross FROM logons \
         WHERE action = 'logon'",
    );
    assert_eq!(n[0]["n"], logons);
    assert_eq!(n[0]["cross"], cross);
    let all = hunt("SELECT COUNT(*) AS n FROM logons");
    assert_eq!(all[0]["n"], stored);
    // Partitioned by the site of the host logged on to: the cross-site logons onto the
    // server of the `servers` site are in that site's partition.
    let onto = hunt(
        "SELECT COUNT(*) AS n FROM logons WHERE site = 'servers' \
         AND host_asset = '01566s-win16-ir' AND cross_site",
    );
    assert!(onto[0]["n"].as_u64().unwrap() > 0, "{onto}");

    // An independent engine reads the same files.
    let out = Command::new("python3")
        .arg("-c")
        .arg(DUCKDB_LOGONS)
        .arg(&store)
        .output()
        .expect("python3 is needed for this test (Debian package python3)");
    let duck = String::from_utf8_lossy(&out.stdout);
    assert!(!duck.contains("MISSING-DUCKDB"), "run `pip install duckdb`");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(duck.trim(), format!("[{logons}, {cross}]"));

    // The other host records, by kind, as `sekisho logons` counts them, except that a log
    // present twice in the dataset (`UACME_59_Sysmon.evtx` is in two folders) is stored
    // once: its records have the same content.
    let mut want = host_event_counts(&summary);
    for copy in second_copies(&evtx) {
        let o = sekisho(&["logons", "--org", &p(&org), "--json", &p(&copy)]);
        for (kind, n) in host_event_counts(&o) {
            *want.get_mut(&kind).unwrap() -= n;
        }
    }
    let want: Vec<(String, u64)> = want.into_iter().filter(|(_, n)| *n > 0).collect();
    let by_kind = hunt("SELECT kind, COUNT(*) AS n FROM host_events GROUP BY kind ORDER BY kind");
    let got: Vec<(String, u64)> = by_kind
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["n"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);
    let events: u64 = want.iter().map(|(_, n)| n).sum();
    assert_eq!(json_of(&ingest)["stored"]["host_events"], events);
    // A service install keeps the source's own fields.
    let install = hunt(
        "SELECT COUNT(*) AS n FROM host_events WHERE kind = 'service-installed' \
         AND fields LIKE '%ImagePath%'",
    );
    assert!(install[0]["n"].as_u64().unwrap() > 0, "{install}");

    // Stored once: the same logs again add nothing, and the store is intact.
    let again = on_store(&["ingest"], &org, &store, &["--json", &p(&evtx)]);
    let figures = json_of(&again);
    assert_eq!(figures["stored"]["logons"], 0);
    assert_eq!(figures["stored"]["logons_already_stored"], stored);
    assert_eq!(figures["stored"]["host_events"], 0);
    // Every record offered again (the second copy's too) is known.
    let offered = json_of(&ingest)["stored"]["host_events_already_stored"]
        .as_u64()
        .unwrap()
        + events;
    assert_eq!(figures["stored"]["host_events_already_stored"], offered);
    let verify = sekisho(&["verify", "--store", &p(&store)]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The "Host events: service-installed 12, log-cleared 3, ..." line `sekisho logons`
/// prints, by kind.
fn host_event_counts(out: &std::process::Output) -> std::collections::BTreeMap<String, u64> {
    let err = stderr(out);
    let Some(line) = err.lines().find_map(|l| l.strip_prefix("Host events: ")) else {
        return Default::default();
    };
    line.split(", ")
        .map(|kv| {
            let (k, v) = kv.rsplit_once(' ').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

/// Files under `dir` whose bytes equal those of a file before them in path order.
fn second_copies(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut copies = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        if seen.contains(&bytes) {
            copies.push(f);
        } else {
            seen.push(bytes);
        }
    }
    copies
}
