//! Host detectors: each one on a record that must trigger it and one that must not.

use sekisho_detect::{AlertSink, HOST_REGISTRY, build_all_host};
use sekisho_event::{
    Alert, HostEvent, HostEventKind, HostOrigin, HostSource, Logon, LogonAction, Outcome, Severity,
    Timestamp,
};
use sekisho_model::Org;

const ORG: &str = r#"
[org]
name = "Example"
[[site]]
id = "jp-hq"
country = "JP"
timezone = "Asia/Tokyo"
networks = ["10.10.0.0/16"]
[[site]]
id = "th-bkk"
country = "TH"
timezone = "Asia/Bangkok"
networks = ["10.20.0.0/16"]
tags = ["overseas"]
[[asset]]
name = "jp-fs01"
site = "jp-hq"
addresses = ["10.10.5.10"]
[[asset]]
name = "th-ws01"
site = "th-bkk"
addresses = ["10.20.3.4"]
[policy]
cross_site_default = "alert"
[[policy.rule]]
name = "no overseas admin access to HQ servers"
from = { tag = "overseas" }
to = { site = "jp-hq" }
services = ["rdp"]
action = "deny"
severity = "high"
"#;

fn org() -> Org {
    Org::from_toml(ORG, "org.toml").unwrap()
}

/// 2024-05-15T03:00:00Z plus `secs`.
fn ts(secs: i64) -> Timestamp {
    Timestamp::from_micros((1_715_742_000 + secs) * Timestamp::SECOND)
}

fn logon(secs: i64, event_id: u32, logon_type: u8, user: &str, src: &str, host: &str) -> Logon {
    Logon {
        ts: ts(secs),
        source: HostSource::Evtx,
        event_id: Some(event_id),
        action: LogonAction::Logon,
        outcome: if event_id == 4625 {
            Outcome::Failure
        } else {
            Outcome::Success
        },
        user: Some(user.to_string()),
        domain: Some("CORP".into()),
        logon_type: Some(logon_type),
        auth: Some("NTLM".into()),
        source_ip: src.parse().ok(),
        source_port: None,
        source_host: Some("TH-WS01".into()),
        host: Some(host.to_string()),
        host_ip: None,
        process: None,
        session: Some("0x3e7abc".into()),
        reason: None,
        channel: Some("Security".into()),
        record_id: None,
        origin: HostOrigin::default(),
        fields: Default::default(),
    }
}

fn event(secs: i64, kind: HostEventKind, event_id: u32, host: &str) -> HostEvent {
    let mut e = HostEvent::new(ts(secs), HostSource::Evtx, kind);
    e.event_id = Some(event_id);
    e.host = Some(host.to_string());
    e
}

enum Rec {
    L(Logon),
    E(HostEvent),
}

fn run_with(org: &Org, recs: Vec<Rec>) -> Vec<Alert> {
    let mut ds = build_all_host(org);
    let mut sink = AlertSink::new(1000);
    for r in &recs {
        for d in ds.iter_mut() {
            match r {
                Rec::L(l) => d.on_logon(l, &mut sink),
                Rec::E(e) => d.on_host_event(e, &mut sink),
            }
        }
    }
    for d in ds.iter_mut() {
        d.finish(&mut sink);
    }
    sink.into_alerts()
}

fn run(recs: Vec<Rec>) -> Vec<Alert> {
    run_with(&org(), recs)
}

fn of<'a>(alerts: &'a [Alert], id: &str) -> Vec<&'a Alert> {
    alerts.iter().filter(|a| a.detector == id).collect()
}

#[test]
fn registry_ids_are_unique_and_all_built() {
    let org = org();
    let ids: Vec<&str> = build_all_host(&org).iter().map(|d| d.id()).collect();
    assert_eq!(ids.len(), HOST_REGISTRY.len());
    let spec_ids: Vec<&str> = HOST_REGISTRY.iter().map(|s| s.id).collect();
    assert_eq!(ids, spec_ids);
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len());
}

#[test]
fn remote_logon_from_another_site_is_reported_and_names_the_user() {
    let a = run(vec![
        Rec::L(logon(
            0,
            4624,
            10,
            "alice",
            "10.20.3.4",
            "JP-FS01.corp.example",
        )),
        Rec::L(logon(
            60,
            4624,
            10,
            "alice",
            "10.20.3.4",
            "JP-FS01.corp.example",
        )),
    ]);
    let hits = of(&a, "remote-logon-crossing");
    assert_eq!(hits.len(), 1, "{a:#?}");
    let h = hits[0];
    assert_eq!(h.severity, Severity::Medium);
    assert_eq!(h.src.ip, Some("10.20.3.4".parse().unwrap()));
    assert_eq!(h.dst.ip, Some("10.10.5.10".parse().unwrap()));
    assert_eq!(h.dst.asset.as_deref(), Some("jp-fs01"));
    assert_eq!(h.context.users, vec!["alice".to_string()]);
    assert_eq!(h.attack.as_deref(), Some("T1021.001"));
    assert_eq!(
        h.summary,
        "th-bkk th-ws01 (10.20.3.4) → jp-hq jp-fs01 (10.10.5.10): alice logged on over rdp (4624 type 10 NTLM) (2 times within the hour)"
    );
    assert!(h.evidence.is_empty() && h.flow_count == 0);
}

#[test]
fn same_site_loopback_failed_and_unplaced_logons_are_not_crossings() {
    let mut failed = logon(0, 4625, 3, "alice", "10.20.3.4", "jp-fs01");
    failed.outcome = Outcome::Failure;
    let a = run(vec![
        Rec::L(logon(0, 4624, 3, "bob", "10.10.9.9", "jp-fs01")),
        Rec::L(logon(0, 4624, 3, "bob", "127.0.0.1", "jp-fs01")),
        Rec::L(logon(0, 4624, 3, "bob", "10.20.3.4", "unknown-host")),
        Rec::L(logon(0, 4624, 2, "bob", "10.20.3.4", "jp-fs01")),
        Rec::L(failed),
    ]);
    assert!(of(&a, "remote-logon-crossing").is_empty(), "{a:#?}");
}

#[test]
fn logons_are_judged_by_the_policy_like_flows() {
    let a = run(vec![
        // rdp from the overseas office: the deny rule.
        Rec::L(logon(0, 4624, 10, "alice", "10.20.3.4", "jp-fs01")),
        // smb (type 3) from there: no rule, the cross-site default (alert).
        Rec::L(logon(5, 4624, 3, "alice", "10.20.3.4", "jp-fs01")),
        // Intra-site rdp: allowed.
        Rec::L(logon(9, 4624, 10, "bob", "10.10.9.9", "jp-fs01")),
    ]);
    let deny = of(&a, "logon-policy-deny");
    assert_eq!(deny.len(), 1, "{a:#?}");
    assert_eq!(
        deny[0].rule.as_deref(),
        Some("no overseas admin access to HQ servers")
    );
    assert_eq!(deny[0].severity, Severity::High);
    assert!(
        deny[0]
            .summary
            .contains("alice logged on over rdp, denied by rule")
    );
    let alert = of(&a, "logon-policy-alert");
    assert_eq!(alert.len(), 1, "{a:#?}");
    assert_eq!(alert[0].rule.as_deref(), Some("cross-site default"));
    assert_eq!(alert[0].service, sekisho_event::Service::Smb);
}

fn failures(n: usize, users: usize, spacing: i64) -> Vec<Rec> {
    (0..n)
        .map(|i| {
            Rec::L(logon(
                i as i64 * spacing,
                4625,
                3,
                &format!("user{}", i % users),
                "203.0.113.9",
                "jp-fs01",
            ))
        })
        .collect()
}

#[test]
fn failed_logon_burst_fires_at_the_threshold_within_the_window() {
    let a = run(failures(20, 1, 10));
    let b = of(&a, "failed-logon-burst");
    assert_eq!(b.len(), 1, "{a:#?}");
    assert_eq!(b[0].severity, Severity::High, "from outside");
    assert!(b[0].summary.contains("20 failed logons for 1 accounts"));
    assert!(of(&a, "password-spray").is_empty());
    // One short of the threshold, or spread wider than the window: nothing.
    assert!(of(&run(failures(19, 1, 10)), "failed-logon-burst").is_empty());
    assert!(of(&run(failures(20, 1, 60)), "failed-logon-burst").is_empty());
}

#[test]
fn password_spray_needs_min_users_distinct_accounts() {
    let a = run(failures(10, 10, 5));
    let s = of(&a, "password-spray");
    assert_eq!(s.len(), 1, "{a:#?}");
    assert_eq!(s[0].attack.as_deref(), Some("T1110.003"));
    assert_eq!(
        s[0].context.users.len(),
        8,
        "a capped sample of the accounts"
    );
    assert!(of(&run(failures(30, 9, 5)), "password-spray").is_empty());
}

#[test]
fn failed_logon_thresholds_come_from_the_org_file() {
    let text = format!("{ORG}\n[detectors.failed_logons]\nmin_users = 3\nwindow_minutes = 1\n");
    let org = Org::from_toml(&text, "org.toml").unwrap();
    assert_eq!(
        of(&run_with(&org, failures(3, 3, 5)), "password-spray").len(),
        1
    );
    let bad = format!("{ORG}\n[detectors.failed_logons]\nmin_user = 3\n");
    let err = Org::from_toml(&bad, "org.toml").unwrap_err().to_string();
    assert!(err.contains("min_user"), "{err}");
    let off = format!("{ORG}\n[detectors.host]\nenabled = false\n");
    let org = Org::from_toml(&off, "org.toml").unwrap();
    assert!(build_all_host(&org).is_empty());
}

#[test]
fn explicit_credentials_towards_another_host_but_not_itself() {
    let mut to_other = event(0, HostEventKind::ExplicitCredentials, 4648, "th-ws01.corp");
    to_other.user = Some("user01".into());
    to_other.target_user = Some("administrator".into());
    to_other.target_host = Some("JP-FS01.corp".into());
    to_other.process = Some("C:\\Windows\\System32\\wbem\\WMIC.exe".into());
    let mut to_self = to_other.clone();
    to_self.target_host = Some("TH-WS01".into());
    let mut localhost = to_other.clone();
    localhost.target_host = Some("localhost".into());
    let a = run(vec![Rec::E(to_self), Rec::E(localhost)]);
    assert!(of(&a, "explicit-credentials").is_empty(), "{a:#?}");
    let a = run(vec![Rec::E(to_other)]);
    let e = of(&a, "explicit-credentials");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].severity, Severity::High, "towards another site");
    assert_eq!(
        e[0].summary,
        "th-bkk th-ws01 (10.20.3.4): user01 used explicit credentials of administrator towards jp-hq jp-fs01 (10.10.5.10) (C:\\Windows\\System32\\wbem\\WMIC.exe)"
    );
}

#[test]
fn new_credentials_logon_through_seclogo_is_pass_the_hash_shaped() {
    let mut pth = logon(0, 4624, 9, "user01", "::1", "PC01");
    pth.fields.push("LogonProcessName", "seclogo");
    pth.fields.push("SubjectUserName", "user01");
    let mut plain = logon(0, 4624, 9, "user01", "::1", "PC01");
    plain.fields.push("LogonProcessName", "Advapi");
    let a = run(vec![Rec::L(plain)]);
    assert!(of(&a, "explicit-credentials").is_empty());
    let a = run(vec![Rec::L(pth)]);
    let e = of(&a, "explicit-credentials");
    assert_eq!(e.len(), 1, "{a:#?}");
    assert_eq!(e[0].attack.as_deref(), Some("T1550.002"));
}

fn privileges(secs: i64, logon_id: &str) -> HostEvent {
    let mut e = event(
        secs,
        HostEventKind::SpecialPrivileges,
        4672,
        "JP-FS01.corp.example",
    );
    e.fields.push("SubjectLogonId", logon_id);
    e
}

#[test]
fn admin_logon_from_another_site_pairs_4624_and_4672_in_either_order() {
    let l = logon(
        0,
        4624,
        3,
        "administrator",
        "10.20.3.4",
        "JP-FS01.corp.example",
    );
    for recs in [
        vec![Rec::L(l.clone()), Rec::E(privileges(0, "0x3e7abc"))],
        vec![Rec::E(privileges(0, "0x3e7abc")), Rec::L(l.clone())],
    ] {
        let a = run(recs);
        let h = of(&a, "admin-logon-crossing");
        assert_eq!(h.len(), 1, "{a:#?}");
        assert_eq!(h[0].severity, Severity::High);
        assert_eq!(h[0].context.users, vec!["administrator".to_string()]);
    }
    // Another logon id, or an intra-site admin logon: nothing.
    let a = run(vec![Rec::L(l.clone()), Rec::E(privileges(0, "0x999"))]);
    assert!(of(&a, "admin-logon-crossing").is_empty());
    let local = logon(
        0,
        4624,
        3,
        "administrator",
        "10.10.9.9",
        "JP-FS01.corp.example",
    );
    let a = run(vec![Rec::L(local), Rec::E(privileges(0, "0x3e7abc"))]);
    assert!(of(&a, "admin-logon-crossing").is_empty());
}

#[test]
fn service_installs_are_high_when_they_run_a_shell() {
    let mut psexec = event(0, HostEventKind::ServiceInstalled, 7045, "jp-fs01");
    psexec.object = Some("spoolfool".into());
    psexec.process = Some("%COMSPEC% /c whoami > \\\\127.0.0.1\\ADMIN$\\out".into());
    let mut agent = event(0, HostEventKind::ServiceInstalled, 7045, "jp-fs01");
    agent.object = Some("Backup Agent".into());
    agent.process = Some("\"C:\\Program Files\\Backup\\agent.exe\"".into());
    let a = run(vec![Rec::E(psexec), Rec::E(agent)]);
    let s = of(&a, "service-installed");
    assert_eq!(s.len(), 2);
    let high: Vec<_> = s.iter().filter(|a| a.severity == Severity::High).collect();
    assert_eq!(high.len(), 1);
    assert!(high[0].summary.contains("spoolfool"));
    assert_eq!(high[0].attack.as_deref(), Some("T1569.002"));
    assert_eq!(high[0].dst.ip, Some("10.10.5.10".parse().unwrap()));
}

#[test]
fn accounts_created_and_added_to_admin_groups_only() {
    let mut created = event(0, HostEventKind::AccountCreated, 4720, "jp-fs01");
    created.user = Some("admin01".into());
    created.target_user = Some("backdoor".into());
    let mut admins = event(1, HostEventKind::GroupMemberAdded, 4732, "jp-fs01");
    admins.target_user = Some("CN=backdoor".into());
    admins.object = Some("administrators".into());
    let mut printers = admins.clone();
    printers.object = Some("Print Operators".into());
    let a = run(vec![Rec::E(created), Rec::E(admins), Rec::E(printers)]);
    assert_eq!(of(&a, "account-created").len(), 1);
    let g = of(&a, "admin-group-added");
    assert_eq!(g.len(), 1, "{a:#?}");
    assert!(g[0].summary.contains("\"administrators\""));
}

#[test]
fn rdp_sessions_from_another_site_only() {
    let mut from_th = event(0, HostEventKind::RdpAuthSucceeded, 1149, "JP-FS01");
    from_th.source_ip = "10.20.3.4".parse().ok();
    from_th.target_user = Some("alice".into());
    let mut from_hq = from_th.clone();
    from_hq.source_ip = "10.10.9.9".parse().ok();
    let a = run(vec![Rec::E(from_hq)]);
    assert!(of(&a, "rdp-crossing").is_empty());
    let a = run(vec![Rec::E(from_th)]);
    let r = of(&a, "rdp-crossing");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].service, sekisho_event::Service::Rdp);
}

#[test]
fn log_clears_and_audit_policy_changes() {
    let mut clear = event(0, HostEventKind::LogCleared, 1102, "PC01");
    clear.user = Some("user01".into());
    clear.object = Some("Security".into());
    let audit = event(0, HostEventKind::AuditPolicyChanged, 4719, "PC01");
    let other = event(0, HostEventKind::KerberosTgt, 4768, "PC01");
    let a = run(vec![Rec::E(clear), Rec::E(audit), Rec::E(other)]);
    let c = of(&a, "log-cleared");
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].summary, "PC01: user01 cleared the Security log (1102)");
    assert_eq!(of(&a, "audit-policy-changed").len(), 1);
    assert_eq!(a.len(), 2, "{a:#?}");
}

fn process(parent: &str, image: &str, command: &str) -> HostEvent {
    let mut e = event(0, HostEventKind::ProcessCreated, 1, "IEWIN7");
    e.object = Some(parent.into());
    e.process = Some(image.into());
    e.command = Some(command.into());
    e
}

#[test]
fn remote_execution_by_parent_and_image() {
    use sekisho_detect::detectors::host_remote_exec::classify;
    let wmi = process(
        "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
        "C:\\Windows\\System32\\cmd.exe",
        "cmd.exe /Q /c whoami /all 1> \\\\127.0.0.1\\ADMIN$\\__1556656369.7 2>&1",
    );
    let a = run(vec![Rec::E(wmi)]);
    let r = of(&a, "remote-execution");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].attack.as_deref(), Some("T1047"));
    let benign = process(
        "C:\\Windows\\explorer.exe",
        "C:\\Windows\\System32\\notepad.exe",
        "notepad.exe",
    );
    assert!(run(vec![Rec::E(benign)]).is_empty());
    assert_eq!(
        classify(
            "C:\\Windows\\System32\\services.exe",
            "C:\\Windows\\PSEXESVC.exe",
            ""
        ),
        Some(("PsExec-like service", "T1569.002"))
    );
    assert_eq!(
        classify(
            "C:\\Windows\\System32\\services.exe",
            "C:\\Windows\\System32\\svchost.exe",
            "svchost -k netsvcs"
        ),
        None
    );
    assert_eq!(
        classify(
            "C:\\Windows\\System32\\svchost.exe",
            "C:\\Windows\\System32\\mshta.exe",
            "mshta.exe -Embedding"
        ),
        Some(("DCOM", "T1021.003"))
    );
    assert_eq!(
        classify(
            "C:\\Windows\\explorer.exe",
            "\\\\tsclient\\c\\temp\\a.exe",
            ""
        ),
        Some(("RDP drive redirection", "T1021.001"))
    );
    assert_eq!(
        classify(
            "C:\\inetpub\\w3wp.exe",
            "C:\\Windows\\System32\\cmd.exe",
            "cmd /c net user"
        ),
        Some(("web shell", "T1505.003"))
    );
}

#[test]
fn hostile_names_are_cleaned_in_summaries() {
    let mut clear = event(0, HostEventKind::LogCleared, 1102, "PC01\u{1b}[31m");
    clear.user = Some("evil\nuser".into());
    let a = run(vec![Rec::E(clear)]);
    assert!(!a[0].summary.contains('\u{1b}') && !a[0].summary.contains('\n'));
}
