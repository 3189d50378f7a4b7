//! The built-in scenario: the intrusion's incidents are all found (recall 1.0) and nearly
//! every incident reported is real (precision ≥ 0.9), at the default seed and at others.

mod common;
use common::*;
use sekisho_demo::{DemoConfig, Scale};
use sekisho_model::Org;

fn run(seed: u64, scale: Scale) -> sekisho_demo::Score {
    let dir = scratch(&format!("demo-{seed}-{}", scale.as_str()));
    let summary = sekisho_demo::generate(&dir, &DemoConfig::new(seed, scale)).expect("generate");
    let org = Org::load(&summary.org_path).expect("the demo's org file is valid");
    let (outcome, stats) =
        sekisho_engine::analyze_paths(&org, std::slice::from_ref(&summary.zeek_dir), &mut |_| {});
    assert_eq!(stats.rejected, 0, "{:?}", stats.samples);
    assert_eq!(stats.parsed, summary.flows_written);
    let truth = sekisho_demo::load_truth(&summary.truth_path).expect("truth");
    let score = sekisho_demo::score(&truth, &outcome.incidents, &outcome.alerts);
    let _ = std::fs::remove_dir_all(&dir);
    score
}

fn assert_good(seed: u64, scale: Scale) {
    let s = run(seed, scale);
    assert_eq!(s.truth_incidents, 4, "seed {seed}: {s}");
    assert_eq!(s.recall, 1.0, "seed {seed} {scale:?}: {s}");
    assert!(s.precision >= 0.9, "seed {seed} {scale:?}: {s}");
}

#[test]
fn default_seed_finds_every_intrusion_precisely() {
    assert_good(DemoConfig::default().seed, Scale::Small);
}

#[test]
fn other_seeds_find_every_intrusion_precisely() {
    for seed in [11, 2024] {
        assert_good(seed, Scale::Small);
    }
}

#[test]
fn default_scale_and_seed_find_every_intrusion_precisely() {
    let cfg = DemoConfig::default();
    assert_good(cfg.seed, cfg.scale);
}

#[test]
fn demo_command_writes_the_report_and_prints_the_score() {
    let dir = scratch("demo-cli");
    let out = sekisho(&[
        "demo",
        "--out",
        dir.to_str().unwrap(),
        "--scale",
        "small",
        "--seed",
        "7",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("recall 1.00"), "{text}");
    for f in [
        "org.toml",
        "truth.jsonl",
        "report/report.html",
        "report/report.md",
        "report/incidents.json",
        "report/alerts.jsonl",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let html = std::fs::read_to_string(dir.join("report/report.html")).unwrap();
    assert!(html.contains("<svg"), "charts in the report");
    assert!(
        html.contains("Data covered</th><td>2024-"),
        "the span the logs cover"
    );
    // The demo's org file passes `check`.
    let check = sekisho(&["check", dir.join("org.toml").to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
}
