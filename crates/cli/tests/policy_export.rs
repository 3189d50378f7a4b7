//! `sekisho policy export`: the real binary writes files the real firewall tools accept.

mod common;

use common::{fixture, scratch, sekisho, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::Command;

fn firewall_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../firewall/tests/fixtures")
        .join(name)
}

/// Runs a checker; a missing tool fails the test naming its Debian package.
fn accepted(tool: &str, args: &[&str], package: &str, file: &Path) {
    let out = Command::new(tool)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `{tool}` ({e}): install the Debian package `{package}`")
        });
    assert!(
        out.status.success(),
        "`{tool}` rejected {} (needs root or CAP_NET_ADMIN): {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn nftables_export_is_written_and_accepted_by_nft() {
    let dir = scratch("policy-export-nft");
    let out = dir.join("sekisho.nft");
    let org = firewall_fixture("three-sites.toml");
    let run = sekisho(&[
        "policy",
        "export",
        "--org",
        org.to_str().unwrap(),
        "--format",
        "nftables",
        "--at",
        "2026-01-15",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(stdout(&run).is_empty(), "--out writes nothing to stdout");
    accepted("nft", &["-c", "-f"], "nftables", &out);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("chain forward_jp_hq {"));
    assert!(text.contains("comment \"rule 2 (line 69): No SMB from overseas to HQ\""));
    assert!(text.contains("converted with each site's UTC offset on 2026-01-15"));
}

#[test]
fn iptables_exports_go_to_stdout_and_are_accepted_by_restore() {
    let dir = scratch("policy-export-ipt");
    let org = firewall_fixture("three-sites.toml");
    for (format, tool) in [
        ("iptables", "iptables-restore"),
        ("ip6tables", "ip6tables-restore"),
    ] {
        let run = sekisho(&[
            "policy",
            "export",
            "--org",
            org.to_str().unwrap(),
            "--format",
            format,
            "--site",
            "jp-hq",
        ]);
        assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
        let file = dir.join(format!("{format}.rules"));
        std::fs::write(&file, &run.stdout).unwrap();
        accepted(tool, &["--test"], "iptables", &file);
        let text = stdout(&run);
        assert!(text.contains(":SK0-jp-hq - [0:0]"));
        assert!(
            !text.contains(":SK1-th-bkk"),
            "--site keeps one site's chain"
        );
    }
}

#[test]
fn the_real_data_org_files_export_to_rules_nft_accepts() {
    let dir = scratch("policy-export-fixtures");
    let mut seen = 0;
    for entry in std::fs::read_dir(fixture("")).unwrap() {
        let path = entry.unwrap().path();
        if !path.to_string_lossy().ends_with(".org.toml") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let out = dir.join(format!("{name}.nft"));
        let run = sekisho(&[
            "policy",
            "export",
            "--org",
            path.to_str().unwrap(),
            "--format",
            "nftables",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(run.status.code(), Some(0), "{name}: {}", stderr(&run));
        accepted("nft", &["-c", "-f"], "nftables", &out);
        seen += 1;
    }
    assert!(seen >= 3, "the org files of the real-data tests are found");
}

#[test]
fn a_bad_org_file_exits_2_naming_the_line() {
    let dir = scratch("policy-export-bad");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[org]\nname = \"Bad\"\n\n[[site]]\nid = \"a\"\ncountry = \"JP\"\ntimezone = \"Asia/Tokyo\"\nnetworks = [\"10.0.0.1/8\"]\n",
    )
    .unwrap();
    let run = sekisho(&[
        "policy",
        "export",
        "--org",
        bad.to_str().unwrap(),
        "--format",
        "nftables",
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("bad.toml:8:"), "{}", stderr(&run));
    assert!(stdout(&run).is_empty());

    let org = firewall_fixture("three-sites.toml");
    for extra in [["--site", "nowhere"], ["--at", "2026-13-01"]] {
        let mut args = vec![
            "policy",
            "export",
            "--org",
            org.to_str().unwrap(),
            "--format",
            "iptables",
        ];
        args.extend(extra);
        let run = sekisho(&args);
        assert_eq!(run.status.code(), Some(2), "{extra:?}");
        assert!(stderr(&run).contains(extra[1]), "{}", stderr(&run));
    }
}
