//! fail2ban's sshd answer key: every line annotated `"match": true` must give a failed sshd
//! logon with the annotated time and host, and every `"match": false` line must give none.
//!
//! fail2ban runs its filter in modes (normal, ddos, extra, aggressive); sekisho has one
//! behaviour, the union of what those modes call a failure, except that a pre-auth
//! disconnect after an authentication failure in the same session is the same attempt, not a
//! second one (fail2ban's normal mode). So lines constrained to `mode == 'aggressive'` are
//! skipped and those constrained to `mode != 'aggressive'` are checked.

use sekisho_event::{HostRecord, HostSource, Outcome};
use sekisho_hostlog::{ReadOptions, read_paths};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).join(rel)
}

struct Expect {
    line: u64,
    text: String,
    matches: bool,
    time: Option<String>,
    host: Option<String>,
}

fn expectations(text: &str) -> Vec<Expect> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(j) = l.strip_prefix("# failJSON:") else {
            continue;
        };
        let v: serde_json::Value = serde_json::from_str(j.trim()).expect("annotation is JSON");
        let constraint = v.get("constraint").and_then(|c| c.as_str()).unwrap_or("");
        if constraint.contains("== 'aggressive'") {
            continue;
        }
        let (n, target) = lines
            .iter()
            .enumerate()
            .skip(i + 1)
            .find(|(_, t)| !t.starts_with('#') && !t.trim().is_empty())
            .expect("annotated line follows");
        out.push(Expect {
            line: n as u64 + 1,
            text: target.to_string(),
            matches: v["match"].as_bool().expect("match"),
            time: v.get("time").and_then(|t| t.as_str()).map(str::to_string),
            host: v.get("host").and_then(|t| t.as_str()).map(str::to_string),
        });
    }
    out
}

/// fail2ban's expected times are local times in Europe/Berlin (its test runner's zone);
/// for lines that carry no zone sekisho reads them as UTC, so those compare as written.
fn expected_utc(time: &str, zoned_line: bool) -> String {
    let naive = chrono::NaiveDateTime::parse_from_str(time, "%Y-%m-%dT%H:%M:%S").unwrap();
    if !zoned_line {
        return naive.format("%Y-%m-%dT%H:%M:%S").to_string();
    }
    use chrono::TimeZone;
    let local = chrono_tz::Europe::Berlin
        .from_local_datetime(&naive)
        .unwrap();
    local
        .with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// Where sekisho deliberately differs from fail2ban, with why.
const KNOWN_DIFFERENCES: &[(&str, u64, &str)] = &[(
    "auth/fail2ban/sshd",
    271,
    "fail2ban joins lines by pid alone; sekisho by host and pid, so `srv sshd[5672]` is not \
     the session of `test sshd[5672]` that already failed, and its pre-auth disconnect is a \
     failure of its own",
)];

fn check(file: &str, expected_count: usize) {
    let path = data(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let exp = expectations(&text);
    assert_eq!(exp.len(), expected_count, "annotations checked in {file}");
    let opts = ReadOptions {
        syslog_reference: Some((2005, 8)),
        ..ReadOptions::default()
    };
    let run = read_paths::<Vec<HostRecord>>(std::slice::from_ref(&path), &opts);
    let mut failures: BTreeMap<u64, Vec<sekisho_event::Logon>> = BTreeMap::new();
    for r in run.sink {
        if let HostRecord::Logon(l) = r
            && l.outcome == Outcome::Failure
            && l.source == HostSource::Sshd
        {
            failures.entry(l.origin.line).or_default().push(l);
        }
    }
    let mut wrong = Vec::new();
    for e in &exp {
        if KNOWN_DIFFERENCES
            .iter()
            .any(|(f, l, _)| *f == file && *l == e.line)
        {
            continue;
        }
        let got = failures.get(&e.line);
        if !e.matches {
            if let Some(g) = got {
                wrong.push(format!(
                    "line {}: expected no failure, got {:?}: {}",
                    e.line, g[0].reason, e.text
                ));
            }
            continue;
        }
        let Some(g) = got else {
            wrong.push(format!("line {}: expected a failure: {}", e.line, e.text));
            continue;
        };
        let zoned = e.text.starts_with('<') || e.text.starts_with("20");
        let ok = g.iter().any(|l| {
            let time_ok = e
                .time
                .as_deref()
                .is_none_or(|t| l.ts.to_string().starts_with(&expected_utc(t, zoned)));
            let host_ok = e.host.as_deref().is_none_or(|h| match h.parse::<IpAddr>() {
                Ok(ip) => l.source_ip == Some(ip),
                Err(_) => l.source_host.as_deref() == Some(h),
            });
            time_ok && host_ok
        });
        if !ok {
            wrong.push(format!(
                "line {}: wrong time/host: got {} {:?} {:?}, expected {:?} {:?}: {}",
                e.line, g[0].ts, g[0].source_ip, g[0].source_host, e.time, e.host, e.text
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} annotations disagree:\n{}",
        wrong.len(),
        exp.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_fail2ban_sshd_annotation_agrees() {
    check("auth/fail2ban/sshd", 153);
}

#[test]
fn every_fail2ban_sshd_journal_annotation_agrees() {
    check("auth/fail2ban/sshd-journal", 127);
}
