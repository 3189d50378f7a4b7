//! `sekisho check`: a valid file is summarised, a broken one names its line, exit codes mean
//! what they say.

mod common;
use common::*;

#[test]
fn valid_org_file_is_summarised() {
    let out = sekisho(&["check", fixture("apt29.org.toml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("valid organisation file for DMEvals lab"),
        "{text}"
    );
    assert!(text.contains("Sites (2, 2 networks)"), "{text}");
    assert!(text.contains("workstations"), "{text}");
    assert!(text.contains("Data classes: credentials"), "{text}");
    assert!(text.contains("3 rules, cross-site default alert"), "{text}");
    assert!(text.contains("deny  no SMB to the Internet"), "{text}");
}

#[test]
fn broken_org_file_names_its_line_and_exits_2() {
    let dir = scratch("check-broken");
    let bad = dir.join("org.toml");
    let text = std::fs::read_to_string(fixture("apt29.org.toml"))
        .unwrap()
        .replace(
            "timezone = \"America/New_York\"\nnetworks = [\"10.0.0.0/24\"]",
            "timezone = \"America/New_York\"\nnetworks = [\"10.0.1.128/25\"]",
        );
    std::fs::write(&bad, &text).unwrap();
    let out = sekisho(&["check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let line = text
        .lines()
        .position(|l| l.contains("10.0.1.128/25"))
        .unwrap()
        + 1;
    let err = stderr(&out);
    assert!(err.contains(&format!("org.toml:{line}:")), "{err}");
    assert!(
        err.contains("overlaps 10.0.1.0/24 of site `workstations`"),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(sekisho(&["analyze"]).status.code(), Some(2));
    assert_eq!(sekisho(&["no-such-command"]).status.code(), Some(2));
    let missing = sekisho(&[
        "analyze",
        "--org",
        fixture("apt29.org.toml").to_str().unwrap(),
        "/nonexistent/zeek",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/zeek does not exist"));
}

#[test]
fn every_command_has_help_with_examples() {
    for cmd in ["demo", "check", "analyze"] {
        let out = sekisho(&[cmd, "--help"]);
        assert_eq!(out.status.code(), Some(0));
        assert!(stdout(&out).contains("Examples:"), "{cmd}");
    }
}
