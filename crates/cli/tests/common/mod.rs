//! Helpers for running the real `sekisho` binary in tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shared real data, beside the repository (`../shared/data`).
pub fn shared_data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn sekisho(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sekisho"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("sekisho runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `analyze --json` and returns the exit code and the document.
pub fn analyze_json(org: &Path, inputs: &[&Path]) -> (i32, serde_json::Value) {
    let mut args = vec![
        "analyze".to_string(),
        "--org".to_string(),
        org.display().to_string(),
        "--json".to_string(),
    ];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = sekisho(&refs);
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(&out), stderr(&out)));
    (out.status.code().unwrap_or(-1), doc)
}

/// A scratch directory under the target dir, emptied first.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
