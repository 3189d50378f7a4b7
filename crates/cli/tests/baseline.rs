//! `analyze --save-baseline` / `--baseline`: what first-seen-crossing learned in one run is
//! known from the first flow of the next, on the real APT29 day-1 Zeek logs.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

fn first_seen(doc: &Value) -> usize {
    doc["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|a| a["detector"] == "first-seen-crossing")
        .count()
}

fn analyze(extra: &[&str]) -> (i32, Value, String) {
    let org = fixture("apt29.org.toml");
    let data = shared_data("zeek/otrf-apt29-day1");
    let mut args = vec!["analyze", "--json", "--org", org.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push(data.to_str().unwrap());
    let out = sekisho(&args);
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stderr(&out)));
    (out.status.code().unwrap_or(-1), doc, stderr(&out))
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn a_saved_baseline_is_known_from_the_first_flow_of_the_next_run() {
    let dir = scratch("baseline-cli");
    let saved = dir.join("baseline.jsonl");

    // The day is shorter than the 7-day learning window: nothing is new yet.
    let (_, doc, err) = analyze(&["--save-baseline", path(&saved)]);
    assert_eq!(first_seen(&doc), 0);
    let text = std::fs::read_to_string(&saved).expect("baseline written");
    let lines: Vec<&str> = text.lines().collect();
    let header: Value = serde_json::from_str(lines[0]).expect("header");
    assert_eq!(header["sekisho"], "first-seen-baseline");
    assert_eq!(header["crossings"].as_u64(), Some(lines.len() as u64 - 1));
    assert!(lines.len() > 2, "{text}");
    assert!(
        err.contains(&format!("Baseline of {} crossings", lines.len() - 1)),
        "{err}"
    );

    // An empty saved baseline: no learning window, every crossing is new once.
    let empty = dir.join("empty.jsonl");
    std::fs::write(&empty, format!("{}\n", lines[0])).unwrap();
    let (_, doc, _) = analyze(&["--baseline", path(&empty)]);
    assert_eq!(first_seen(&doc), lines.len() - 1, "one alert per crossing");

    // The saved baseline: all of them are known.
    let again = dir.join("again.jsonl");
    let (_, doc, _) = analyze(&["--baseline", path(&saved), "--save-baseline", path(&again)]);
    assert_eq!(first_seen(&doc), 0);
    assert_eq!(
        std::fs::read_to_string(&again).unwrap(),
        text,
        "same traffic, same file"
    );

    // One crossing removed from the file: that one alone is new.
    let minus_one = dir.join("minus-one.jsonl");
    let mut kept: Vec<&str> = lines.clone();
    let removed = kept.remove(1);
    std::fs::write(&minus_one, kept.join("\n")).unwrap();
    let (_, doc, _) = analyze(&["--baseline", path(&minus_one)]);
    assert_eq!(first_seen(&doc), 1, "{removed}");
}

#[test]
fn broken_and_stale_baselines_are_reported_by_line() {
    let dir = scratch("baseline-cli-bad");
    let header = r#"{"sekisho":"first-seen-baseline","version":1,"key":"site","first_flow":null,"last_flow":null,"crossings":2}"#;
    let stale = dir.join("stale.jsonl");
    std::fs::write(
        &stale,
        format!(
            "{header}\n{}\n",
            r#"{"from":"gone","to_site":"gone","to_asset":null,"service":"smb"}"#
        ),
    )
    .unwrap();
    let (code, _, err) = analyze(&["--baseline", path(&stale)]);
    assert_eq!(code, 1, "the analysis runs: {err}");
    assert!(
        err.contains("stale.jsonl:2: skipped: no site \"gone\""),
        "{err}"
    );

    let broken = dir.join("broken.jsonl");
    std::fs::write(&broken, format!("{header}\n{{\"from\": 3}}\n")).unwrap();
    let org = fixture("apt29.org.toml");
    let data = shared_data("zeek/otrf-apt29-day1");
    let out = sekisho(&[
        "analyze",
        "--org",
        path(&org),
        "--baseline",
        path(&broken),
        path(&data),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("broken.jsonl:line 2"),
        "{}",
        stderr(&out)
    );
}
