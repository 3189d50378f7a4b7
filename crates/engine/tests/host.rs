//! Host evidence through `analyze_paths`: host logs told from Zeek logs by content, host
//! alerts joined with flow alerts into incidents, and the lateral-movement samples of
//! EVTX-ATTACK-SAMPLES.

use sekisho_engine::analyze_paths;
use sekisho_event::{Alert, RunStats};
use sekisho_model::Org;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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
data = ["design"]
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

/// A fresh directory for one test's fixtures.
fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("sekisho-engine-host-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(org: &Org, inputs: &[PathBuf]) -> (sekisho_engine::Outcome, RunStats) {
    analyze_paths(org, inputs, &mut |_| {})
}

/// A Zeek JSON conn record: th-bkk 10.20.3.4 → jp-fs01 over RDP at 2024-05-15T03:00:00Z.
const CONN: &str = r#"{"ts":1715742000.0,"uid":"CRdp1","id.orig_h":"10.20.3.4","id.orig_p":50000,"id.resp_h":"10.10.5.10","id.resp_p":3389,"proto":"tcp","service":"rdp","duration":600.0,"orig_bytes":50000,"resp_bytes":900000,"conn_state":"SF","orig_pkts":100,"resp_pkts":200}"#;

/// Winlogbeat lines: alice's RDP logon (4624 type 10) on JP-FS01 from 10.20.3.4 a few
/// seconds after the connection, its 4672, and the Security log cleared an hour later.
const WINLOGBEAT: &str = concat!(
    r#"{"@timestamp":"2024-05-15T03:00:05.000Z","event":{"code":"4624"},"winlog":{"channel":"Security","provider_name":"Microsoft-Windows-Security-Auditing","event_id":"4624","record_id":1001,"computer_name":"JP-FS01.corp.example","event_data":{"TargetUserName":"alice","TargetDomainName":"CORP","LogonType":"10","IpAddress":"10.20.3.4","IpPort":"50000","WorkstationName":"TH-WS01","AuthenticationPackageName":"Negotiate","TargetLogonId":"0x5a5a5"}}}"#,
    "\n",
    r#"{"@timestamp":"2024-05-15T03:00:05.000Z","event":{"code":"4672"},"winlog":{"channel":"Security","provider_name":"Microsoft-Windows-Security-Auditing","event_id":"4672","record_id":1002,"computer_name":"JP-FS01.corp.example","event_data":{"SubjectUserName":"alice","SubjectDomainName":"CORP","SubjectLogonId":"0x5a5a5","PrivilegeList":"SeDebugPrivilege"}}}"#,
    "\n",
    r#"{"@timestamp":"2024-05-15T04:10:00.000Z","event":{"code":"1102"},"winlog":{"channel":"Security","provider_name":"Microsoft-Windows-Eventlog","event_id":"1102","record_id":1003,"computer_name":"JP-FS01.corp.example","user_data":{"SubjectUserName":"alice","SubjectDomainName":"CORP"}}}"#,
    "\n",
);

#[test]
fn an_incident_shows_the_crossing_and_who_used_it() {
    let org = Org::from_toml(ORG, "org.toml").unwrap();
    let dir = scratch("join");
    std::fs::write(dir.join("conn.log"), format!("{CONN}\n")).unwrap();
    std::fs::write(dir.join("security.json"), WINLOGBEAT).unwrap();
    let (out, stats) = run(&org, std::slice::from_ref(&dir));
    assert_eq!(stats.rejected, 0, "{stats:?}");
    assert_eq!(out.flows_by_direction.get("cross-site"), Some(&1));
    let detectors: BTreeSet<&str> = out.alerts.iter().map(|a| a.detector.as_str()).collect();
    for d in [
        "policy-deny",
        "remote-logon-crossing",
        "logon-policy-deny",
        "admin-logon-crossing",
        "log-cleared",
    ] {
        assert!(detectors.contains(d), "{d} missing: {:#?}", out.alerts);
    }
    assert_eq!(out.incidents.len(), 1, "{:#?}", out.incidents);
    let inc = &out.incidents[0];
    let by_id: BTreeMap<&str, &Alert> = out.alerts.iter().map(|a| (a.id.as_str(), a)).collect();
    let members: BTreeSet<&str> = inc
        .alert_ids
        .iter()
        .map(|id| by_id[id.as_str()].detector.as_str())
        .collect();
    // The flow alert of the crossing and the logon alerts that name the account, together.
    assert!(members.contains("policy-deny"), "{members:?}");
    assert!(members.contains("remote-logon-crossing"), "{members:?}");
    assert!(members.contains("log-cleared"), "{members:?}");
    assert!(inc.users.contains(&"alice".to_string()), "{:?}", inc.users);
    assert!(inc.assets.contains(&"jp-fs01".to_string()));
    let flow_alert = by_id
        .values()
        .find(|a| a.detector == "policy-deny")
        .unwrap();
    assert!(!flow_alert.evidence.is_empty());
    let logon_alert = by_id
        .values()
        .find(|a| a.detector == "remote-logon-crossing")
        .unwrap();
    assert!(logon_alert.evidence.is_empty());
    assert_eq!(logon_alert.dst.ip, flow_alert.dst.ip);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_logon_alone_is_not_joined_to_an_unrelated_flow() {
    let org = Org::from_toml(ORG, "org.toml").unwrap();
    let dir = scratch("apart");
    // The flow is between other hosts, and a week earlier than the logon.
    let other = CONN
        .replace("10.20.3.4", "10.20.7.7")
        .replace("10.10.5.10", "10.10.6.6")
        .replace("1715742000.0", "1715137200.0");
    std::fs::write(dir.join("conn.log"), format!("{other}\n")).unwrap();
    std::fs::write(dir.join("security.json"), WINLOGBEAT).unwrap();
    let (out, _) = run(&org, std::slice::from_ref(&dir));
    for inc in &out.incidents {
        let has_flow = inc.detectors.iter().any(|d| d == "policy-deny");
        let has_logon = inc.detectors.iter().any(|d| d == "remote-logon-crossing");
        assert!(!(has_flow && has_logon), "{inc:#?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sshd_spray_and_cross_site_ssh_from_syslog_files() {
    let org = Org::from_toml(ORG, "org.toml").unwrap();
    let dir = scratch("sshd");
    let mut text = String::new();
    for (i, user) in [
        "admin", "oracle", "test", "guest", "ubuntu", "pi", "postgres", "git", "ftp", "www",
    ]
    .iter()
    .enumerate()
    {
        text.push_str(&format!(
            "<38>1 2024-05-15T03:00:{i:02}Z jp-fs01 sshd 9{i} - - Failed password for invalid user {user} from 203.0.113.9 port 4{i}000 ssh2\n"
        ));
    }
    text.push_str("<38>1 2024-05-15T03:05:00Z jp-fs01 sshd 777 - - Accepted publickey for bob from 10.20.3.4 port 50022 ssh2: RSA SHA256:abc\n");
    let path = dir.join("auth.log");
    std::fs::write(&path, text).unwrap();
    let (out, stats) = run(&org, std::slice::from_ref(&path));
    assert_eq!(stats.rejected, 0, "{stats:?}");
    let spray: Vec<&Alert> = out
        .alerts
        .iter()
        .filter(|a| a.detector == "password-spray")
        .collect();
    assert_eq!(spray.len(), 1, "{:#?}", out.alerts);
    assert_eq!(spray[0].src.ip, Some("203.0.113.9".parse().unwrap()));
    let ssh: Vec<&Alert> = out
        .alerts
        .iter()
        .filter(|a| a.detector == "remote-logon-crossing")
        .collect();
    assert_eq!(ssh.len(), 1, "{:#?}", out.alerts);
    assert_eq!(ssh[0].service, sekisho_event::Service::Ssh);
    assert_eq!(ssh[0].context.users, vec!["bob".to_string()]);
    // Nine accounts are not a spray.
    let nine: String = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, nine).unwrap();
    let (out, _) = run(&org, std::slice::from_ref(&path));
    assert!(out.alerts.iter().all(|a| a.detector != "password-spray"));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn samples() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        .join("evtx/evtx-attack-samples/Lateral Movement")
}

/// The lab networks of the samples as a branch site, and the hosts the samples move *to*
/// as assets of a headquarters site (on a network no sample uses): the question sekisho
/// asks of a remote logon is "did it cross sites?", and the samples were all recorded in
/// one flat lab. Detectors that do not depend on sites (remote-execution,
/// service-installed, explicit-credentials) behave the same under any org.
const LAB_ORG: &str = r#"
[org]
name = "EVTX-ATTACK-SAMPLES lab"
[[site]]
id = "lab-clients"
country = "US"
timezone = "UTC"
networks = ["10.0.2.0/24", "10.0.3.0/24", "172.16.66.0/24", "192.168.56.0/24"]
[[site]]
id = "lab-servers"
country = "US"
timezone = "UTC"
networks = ["10.99.0.0/24"]
[[asset]]
name = "WIN-77LTAPHIQ1R"
site = "lab-servers"
addresses = ["10.99.0.10"]
[[asset]]
name = "01566s-win16-ir"
site = "lab-servers"
addresses = ["10.99.0.11"]
[[asset]]
name = "DC1"
site = "lab-servers"
addresses = ["10.99.0.12"]
"#;

/// Detectors whose alert counts as "lateral movement, remote logon or remote execution".
const LATERAL: &[&str] = &[
    "remote-logon-crossing",
    "logon-policy-deny",
    "logon-policy-alert",
    "rdp-crossing",
    "admin-logon-crossing",
    "explicit-credentials",
    "remote-execution",
    "service-installed",
];

/// Files checked by hand (each file's normalised records read one by one: logons with
/// their sources, Sysmon parent → child processes, 4648 targets, 7045 images), with the
/// detector that must fire on each.
const EXPECTED: &[(&str, &str)] = &[
    (
        "LM_4624_mimikatz_sekurlsa_pth_source_machine.evtx",
        "explicit-credentials",
    ),
    (
        "LM_DCOM_MSHTA_LethalHTA_Sysmon_3_1.evtx",
        "remote-execution",
    ),
    (
        "LM_PowershellRemoting_sysmon_1_wsmprovhost.evtx",
        "remote-execution",
    ),
    ("LM_Remote_Service02_7045.evtx", "service-installed"),
    (
        "LM_ScheduledTask_ATSVC_target_host.evtx",
        "remote-logon-crossing",
    ),
    (
        "LM_ScheduledTask_ATSVC_target_host.evtx",
        "admin-logon-crossing",
    ),
    ("LM_WMIC_4648_rpcss.evtx", "explicit-credentials"),
    ("LM_WMI_4624_4688_TargetHost.evtx", "remote-logon-crossing"),
    (
        "LM_impacket_docmexec_mmc_sysmon_01.evtx",
        "remote-execution",
    ),
    (
        "LM_sysmon_1_12_13_3_tsclient_SharpRdp.evtx",
        "remote-execution",
    ),
    ("LM_sysmon_psexec_smb_meterpreter.evtx", "remote-execution"),
    (
        "LM_typical_IIS_webshell_sysmon_1_10_traces.evtx",
        "remote-execution",
    ),
    ("LM_winrm_exec_sysmon_1_winrshost.evtx", "remote-execution"),
    (
        "LM_wmi_PoisonHandler_Mr-Un1k0d3r_sysmon_1_13.evtx",
        "remote-execution",
    ),
    ("LM_wmiexec_impacket_sysmon_whoami.evtx", "remote-execution"),
    (
        "remote task update 4624 4702 same logonid.evtx",
        "remote-logon-crossing",
    ),
    (
        "remote_file_copy_system_proc_file_write_sysmon_11.evtx",
        "remote-execution",
    ),
    ("smbmap_upload_exec_sysmon.evtx", "remote-execution"),
    ("sysmon_1_exec_via_sql_xpcmdshell.evtx", "remote-execution"),
];

/// Files with records but, checked by hand, nothing sekisho should call lateral movement:
/// a loopback pass-the-hash test, source-side tools, and inbound connections within one
/// lab network.
const QUIET: &[&str] = &[
    "ImpersonateUser-via local Pass The Hash Sysmon and Security.evtx",
    "LM_sysmon_3_12_13_1_SharpRDP.evtx",
    "powercat_revShell_sysmon_1_3.evtx",
];

/// Per file of the folder: the set of detectors that fired.
fn detectors_per_file(org: &Org) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(samples())
        .expect("../shared/data/evtx/evtx-attack-samples/Lateral Movement (see MANIFEST.md)")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let (outcome, stats) = run(org, std::slice::from_ref(&f));
        assert_eq!(stats.rejected, 0, "{}: {stats:?}", f.display());
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        out.insert(
            name,
            outcome.alerts.iter().map(|a| a.detector.clone()).collect(),
        );
    }
    out
}

fn fraction(per_file: &BTreeMap<String, BTreeSet<String>>) -> (usize, usize) {
    let hit = per_file
        .values()
        .filter(|d| d.iter().any(|d| LATERAL.contains(&d.as_str())))
        .count();
    (hit, per_file.len())
}

#[test]
fn lateral_movement_samples_raise_lateral_movement_alerts() {
    let org = Org::from_toml(LAB_ORG, "lab.toml").unwrap();
    let per_file = detectors_per_file(&org);
    assert_eq!(per_file.len(), 47, "the folder holds 47 samples");
    for (file, detector) in EXPECTED {
        let got = per_file
            .get(*file)
            .unwrap_or_else(|| panic!("{file} missing"));
        assert!(
            got.contains(*detector),
            "{file}: expected {detector}, got {got:?}"
        );
    }
    for file in QUIET {
        let got = &per_file[*file];
        assert!(
            got.iter().all(|d| !LATERAL.contains(&d.as_str())),
            "{file}: {got:?}"
        );
    }
    let (hit, total) = fraction(&per_file);
    // Without any site (an org file that declares none), only the detectors that do not
    // depend on sites can fire: the crossing ones need to know where the ends are.
    let bare = Org::from_toml("[org]\nname = \"no sites\"\n", "bare.toml").unwrap();
    let (bare_hit, _) = fraction(&detectors_per_file(&bare));
    println!(
        "Lateral Movement: {hit}/{total} files ({:.1}%) raise a lateral-movement, remote-logon or remote-execution alert with the lab org; {bare_hit}/{total} ({:.1}%) with no sites",
        100.0 * hit as f64 / total as f64,
        100.0 * bare_hit as f64 / total as f64
    );
    let listed: BTreeSet<&str> = EXPECTED.iter().map(|(f, _)| *f).collect();
    assert_eq!(hit, listed.len(), "every hit is a file checked by hand");
    assert_eq!(
        bare_hit,
        listed.len() - 3,
        "the three remote-logon files need sites"
    );
}
