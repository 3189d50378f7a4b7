//! `sekisho mail scan`: exit codes, the JSON shape, and HTML escaping of a hostile subject.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sekisho"))
}

/// A scratch folder, removed when the test ends (passed or failed).
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("sekisho-mail-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Scratch(d)
}

fn org(dir: &Path) -> PathBuf {
    let p = dir.join("org.toml");
    std::fs::write(
        &p,
        "[org]\nname = \"Example\"\ndomains = [\"example-hi.com\"]\nbrands = [\"Example Heavy Industries\"]\n\n\
[[site]]\nid = \"hq\"\ncountry = \"JP\"\ntimezone = \"Asia/Tokyo\"\nnetworks = [\"10.0.0.0/16\"]\n",
    )
    .unwrap();
    p
}

const CLEAN: &str = "From: Alice <alice@example-hi.com>\r\nTo: bob@example-hi.com\r\nSubject: lunch\r\n\r\nNoon?\r\n";

fn hostile() -> String {
    "From: Example Heavy Industries HR <hr@example-hi-careers.com>\r\nTo: x@y.example\r\n\
Subject: <script>alert(1)</script><img src=x onerror=alert(2)>\r\n\r\nJob offer inside.\r\n"
        .to_string()
}

#[test]
fn clean_mail_exits_0() {
    let d = scratch("clean");
    let o = org(&d);
    std::fs::write(d.join("a.eml"), CLEAN).unwrap();
    let out = bin()
        .args(["mail", "scan", "--org"])
        .arg(&o)
        .arg(d.join("a.eml"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn impersonation_exits_1_with_json_shape_and_escaped_html() {
    let d = scratch("phish");
    let o = org(&d);
    let mbox = format!(
        "From a@b Mon Jul  1 00:00:00 2024\n{CLEAN}From c@d Mon Jul  1 00:00:01 2024\n{}",
        hostile()
    );
    std::fs::write(d.join("box.mbox"), mbox).unwrap();
    let html = d.join("r.html");
    let out = bin()
        .args(["mail", "scan", "--json", "--org"])
        .arg(&o)
        .arg("--html")
        .arg(&html)
        .arg(d.join("box.mbox"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 2);
    for m in arr {
        assert!(
            m["path"].is_string()
                && m["verdict"].is_string()
                && m["score"].is_number()
                && m["reasons"].is_array()
        );
    }
    let bad = arr.iter().find(|m| m["verdict"] != "clean").unwrap();
    assert!(bad["path"].as_str().unwrap().ends_with("box.mbox:8"));
    let r = &bad["reasons"][0];
    assert!(r["id"].is_string() && r["weight"].is_number() && r["evidence"].is_string());
    assert!(
        bad["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "imp-org-lookalike-domain")
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains("<script>") && !page.contains("<img"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("default-src 'none'"));
}

#[test]
fn usage_and_input_errors_exit_2() {
    let d = scratch("errors");
    let o = org(&d);
    let missing = bin()
        .args(["mail", "scan", "--org"])
        .arg(&o)
        .arg(d.join("nope.eml"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let w = d.join("w.toml");
    std::fs::write(
        &w,
        "[weights]\nauth-dmarc-fail = 1.0\nno-such-signal = 2.0\n",
    )
    .unwrap();
    std::fs::write(d.join("a.eml"), CLEAN).unwrap();
    let bad_weights = bin()
        .args(["mail", "scan", "--org"])
        .arg(&o)
        .arg("--weights")
        .arg(&w)
        .arg(d.join("a.eml"))
        .output()
        .unwrap();
    assert_eq!(bad_weights.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad_weights.stderr);
    assert!(err.contains("line 3"), "{err}");
    let no_args = bin().args(["mail", "scan"]).output().unwrap();
    assert_eq!(no_args.status.code(), Some(2));
}

/// Keys made and the message signed by dkimpy (Debian's python3-dkim), a real signer.
#[test]
fn dkim_keys_verify_offline_and_unsigned_org_mail_is_spoofed() {
    let d = scratch("dkim");
    let o = org(&d);
    let keygen = Command::new("dknewkey")
        .args(["--ktype", "ed25519", "hr2026"])
        .current_dir(&*d)
        .output()
        .expect("dknewkey is required: apt-get install -y python3-dkim");
    assert!(keygen.status.success(), "{keygen:?}");
    let record = std::fs::read_to_string(d.join("hr2026.dns")).unwrap();
    let keys = d.join("keys.zone");
    std::fs::write(
        &keys,
        format!("; from dig +noall +answer\nhr2026._domainkey.example-hi.com. 3600 IN TXT \"{record}\"\n"),
    )
    .unwrap();
    let mut sign = Command::new("dkimsign")
        .args(["--signalg", "ed25519-sha256", "hr2026", "example-hi.com"])
        .arg(d.join("hr2026.key"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("dkimsign is required: apt-get install -y python3-dkim");
    {
        use std::io::Write;
        sign.stdin
            .take()
            .unwrap()
            .write_all(CLEAN.as_bytes())
            .unwrap();
    }
    let signed = sign.wait_with_output().unwrap();
    assert!(signed.status.success());
    let mut signed_msg = signed.stdout;
    if !signed_msg.ends_with(CLEAN.as_bytes()) {
        signed_msg.extend_from_slice(CLEAN.as_bytes());
    }
    std::fs::write(d.join("signed.eml"), &signed_msg).unwrap();
    std::fs::write(d.join("unsigned.eml"), CLEAN).unwrap();

    let scan = |file: &str| {
        let out = bin()
            .args(["mail", "scan", "--json", "--org"])
            .arg(&o)
            .arg("--dkim-keys")
            .arg(&keys)
            .arg(d.join(file))
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), v[0].clone())
    };
    let (code, m) = scan("signed.eml");
    assert_eq!(code, Some(0), "{m}");
    assert_eq!(m["dkim"][0]["status"], "pass", "{m}");
    assert_eq!(m["dkim"][0]["domain"], "example-hi.com");
    let (code, m) = scan("unsigned.eml");
    assert_eq!(code, Some(1), "{m}");
    assert!(
        m["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "imp-org-domain-spoofed"),
        "{m}"
    );

    // A broken key file names its line; exit 2.
    let broken = d.join("broken.zone");
    std::fs::write(&broken, "a._domainkey.example-hi.com. TXT \"v=DKIM1; p=\"\nb._domainkey.example-hi.com. TXT \"unterminated\n").unwrap();
    let out = bin()
        .args(["mail", "scan", "--org"])
        .arg(&o)
        .arg("--dkim-keys")
        .arg(&broken)
        .arg(d.join("unsigned.eml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.zone:line 2"), "{err}");
}
