//! `sekisho sigma check` and `analyze --sigma`: the rules written for sekisho-sigma's tests
//! (crates/sigma/tests/rules), run through the binary on a real EVTX attack sample.

mod common;
use common::*;
use std::path::PathBuf;

fn rules(sub: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../sigma/tests/rules")).join(sub)
}

#[test]
fn check_lists_every_rule_that_does_not_load() {
    let good = rules("good");
    let ok = sekisho(&["sigma", "check", good.to_str().unwrap()]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(stdout(&ok).starts_with("5 rules loaded from 4 files; 0 not loaded"));

    let broken = rules("broken");
    let out = sekisho(&[
        "sigma",
        "check",
        "--json",
        good.to_str().unwrap(),
        broken.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["rules"].as_array().unwrap().len(), 5);
    let failures = doc["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 6, "{failures:#?}");
    for f in failures {
        assert!(f["path"].as_str().unwrap().contains("broken"), "{f}");
        assert!(!f["reason"].as_str().unwrap().is_empty());
    }
}

#[test]
fn analyze_runs_the_rules_and_says_what_did_not_load() {
    let org = fixture("evtx-samples.org.toml");
    let sample =
        shared_data("evtx/evtx-attack-samples/Lateral Movement/LM_renamed_psexecsvc_5145.evtx");
    let (good, broken) = (rules("good"), rules("broken"));
    let out = sekisho(&[
        "analyze",
        "--org",
        org.to_str().unwrap(),
        "--sigma",
        good.to_str().unwrap(),
        "--sigma",
        broken.to_str().unwrap(),
        "--json",
        sample.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert!(
        err.contains("sigma: 5 rules loaded from 10 files; 6 not loaded"),
        "{err}"
    );
    assert!(err.contains("sigma: not loaded: ") && err.contains("not_yaml.yml"));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let hits: Vec<&serde_json::Value> = doc["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["detector"] == "sigma")
        .collect();
    assert_eq!(hits.len(), 1, "{hits:#?}");
    assert_eq!(hits[0]["attack"], "T1021.002");
    assert!(
        hits[0]["summary"]
            .as_str()
            .unwrap()
            .contains("PsExec-style stdio pipes")
    );

    // Without --sigma: no rule alerts from the same file.
    let plain = sekisho(&[
        "analyze",
        "--org",
        org.to_str().unwrap(),
        "--json",
        sample.to_str().unwrap(),
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&plain.stdout).expect("JSON");
    assert!(
        doc["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["detector"] != "sigma")
    );

    // A path that does not exist is a usage error, not a silent run without rules.
    let missing = sekisho(&[
        "analyze",
        "--org",
        org.to_str().unwrap(),
        "--sigma",
        "/nonexistent/rules",
        sample.to_str().unwrap(),
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("do not exist"));
}
