//! `sekisho logons`: JSON shape, cross-site first, CSV and table forms, counts and
//! continuity on real EVTX samples and fail2ban's sshd log.

mod common;
use common::*;

fn logons(args: &[&str]) -> std::process::Output {
    let org = fixture("evtx-samples.org.toml");
    let mut all = vec!["logons", "--org", org.to_str().unwrap()];
    all.extend_from_slice(args);
    sekisho(&all)
}

#[test]
fn json_groups_have_the_promised_shape_and_cross_site_comes_first() {
    let dir = shared_data("evtx/evtx-attack-samples");
    let out = logons(&["--json", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let groups = doc.as_array().expect("an array of groups");
    assert!(groups.len() > 20, "{}", groups.len());
    for g in groups {
        for key in [
            "event_id",
            "user",
            "logon_type",
            "source_ip",
            "host",
            "count",
            "first_seen",
            "last_seen",
        ] {
            assert!(g.get(key).is_some(), "{key} missing in {g}");
        }
        assert!(g["count"].as_u64().unwrap() >= 1);
        assert!(g["first_seen"].as_str().unwrap() <= g["last_seen"].as_str().unwrap());
    }
    // Windows ids are numbers.
    assert!(groups.iter().any(|g| g["event_id"] == 4624));
    assert!(groups.iter().any(|g| g["event_id"] == 4625));
    // 172.16.66.x (office and lab sites) logging on to 01566s-win16-ir (servers): cross-site,
    // listed before every group that is not.
    let first_plain = groups
        .iter()
        .position(|g| g["cross_site"] == false)
        .unwrap();
    assert!(first_plain > 0, "no cross-site group");
    assert!(
        groups[first_plain..]
            .iter()
            .all(|g| g["cross_site"] == false)
    );
    let g = &groups[0];
    assert_eq!(g["host_asset"], "01566s-win16-ir", "{g}");
    assert_eq!(g["host_site"], "servers");
    assert!(
        ["office", "lab"].contains(&g["source_site"].as_str().unwrap()),
        "{g}"
    );
    // Counts and continuity go to stderr with --json.
    let err = stderr(&out);
    assert!(err.contains("Read 278 files: 8255 records"), "{err}");
    assert!(err.contains("Log continuity:"), "{err}");
    assert!(
        err.contains("cleared at 2020-07-22T20:29:27.321769Z by a-jbrown"),
        "{err}"
    );
}

#[test]
fn sshd_groups_are_named_sshd_and_csv_is_rfc4180() {
    let log = shared_data("auth/fail2ban/sshd");
    let out = logons(&["--json", "--year", "2005", log.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let groups = doc.as_array().unwrap();
    assert!(groups.iter().all(|g| g["event_id"] == "sshd"));
    let failed = groups
        .iter()
        .find(|g| g["source_ip"] == "194.117.26.69")
        .expect("the ROOT failure from 194.117.26.69");
    assert_eq!(failed["outcome"], "failure");
    assert_eq!(failed["user"], "ROOT");
    assert_eq!(failed["host"], "belka");
    assert_eq!(failed["first_seen"], "2005-02-25T14:34:10.000000Z");

    let out = logons(&["--csv", "--year", "2005", log.to_str().unwrap()]);
    let csv = stdout(&out);
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("event_id,outcome,logon_type,user,")
    );
    // The injected user name holds no comma, but a name with a quote or comma is quoted.
    assert!(lines.all(|l| l.starts_with("sshd,")), "{csv}");
}

#[test]
fn table_lists_counts_and_breaks() {
    let dir = shared_data("evtx/evtx-attack-samples/Defense Evasion");
    let out = logons(&[dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("EVENT  RESULT"), "{text}");
    assert!(text.contains("rejected"), "{text}");
    assert!(text.contains("PC01.example.corp Security: "), "{text}");
}

#[test]
fn missing_input_and_unreadable_input_exit_2() {
    let out = logons(&["/nonexistent/evtx"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"));
    let out = logons(&[fixture("evtx-samples.org.toml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
}
