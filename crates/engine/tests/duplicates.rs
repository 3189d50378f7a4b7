//! One connection logged by two sensors is analysed once: the real APT29 day-1 logs, where
//! host-based Zeek on NASHUA and on SCRANTON both logged the WinRM and SMB connections of
//! the lateral movement between them (same 5-tuple, starts ~15 ms apart, other uids).

use sekisho_engine::analyze_paths;
use sekisho_model::Org;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

fn data() -> std::path::PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/zeek/otrf-apt29-day1"
    ))
    .to_path_buf()
}

fn org(extra: &str) -> Org {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../cli/tests/fixtures/apt29.org.toml"
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    Org::from_toml(&format!("{text}\n{extra}"), path).expect("org")
}

/// The rule applied directly to the raw JSON logs, sorted by start time: a record is a
/// duplicate when another sensor's record of the same protocol, addresses and ports
/// started within 2 s of it and was not itself a duplicate.
fn duplicates_in_raw_logs() -> u64 {
    let mut recs = Vec::new();
    for sensor in ["NASHUA", "SCRANTON"] {
        let text =
            std::fs::read_to_string(data().join(format!("{sensor}_conn.log"))).expect("conn log");
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let ts = (v["ts"].as_f64().expect("ts") * 1e6) as i64;
            let key = format!(
                "{} {} {} {} {}",
                v["proto"], v["id_orig_h"], v["id_orig_p"], v["id_resp_h"], v["id_resp_p"]
            );
            recs.push((ts, sensor, key));
        }
    }
    recs.sort();
    let mut seen: HashMap<String, (i64, &str)> = HashMap::new();
    let mut dups = 0;
    for (ts, sensor, key) in recs {
        if let Some((t, s)) = seen.get(&key)
            && *s != sensor
            && (ts - t).abs() <= 2_000_000
        {
            dups += 1;
            continue;
        }
        seen.insert(key, (ts, sensor));
    }
    dups
}

#[test]
fn a_connection_both_sensors_logged_is_analysed_once_and_nothing_is_missed() {
    let expected = duplicates_in_raw_logs();
    assert!(expected > 20, "{expected}");

    let (once, stats) = analyze_paths(&org(""), &[data()], &mut |_| {});
    assert_eq!(stats.duplicates, expected);
    let (twice, plain) = analyze_paths(
        &org("[detectors.duplicates]\nenabled = false\n"),
        &[data()],
        &mut |_| {},
    );
    assert_eq!(plain.duplicates, 0);
    assert_eq!(
        plain.parsed, stats.parsed,
        "duplicates are parsed, not rejected"
    );
    let flows = |o: &sekisho_engine::Outcome| o.flows_by_direction.values().sum::<u64>();
    assert_eq!(flows(&once) + expected, flows(&twice));

    // The same detections, from half the evidence of the doubled connections.
    let keys = |o: &sekisho_engine::Outcome| -> BTreeSet<(String, String, String)> {
        o.alerts
            .iter()
            .map(|a| {
                (
                    a.detector.clone(),
                    format!("{:?}", a.src.ip),
                    format!("{:?}", a.dst.ip),
                )
            })
            .collect()
    };
    assert_eq!(keys(&once), keys(&twice));
    assert!(!once.incidents.is_empty());
    // Alerts that aggregate flows (the WinRM and SMB between the two hosts) count each
    // connection once: fewer flows in evidence, never more.
    let counted =
        |o: &sekisho_engine::Outcome| -> u64 { o.alerts.iter().map(|a| a.flow_count).sum() };
    assert!(
        counted(&once) < counted(&twice),
        "flows counted once: {} vs {}",
        counted(&once),
        counted(&twice)
    );
}
