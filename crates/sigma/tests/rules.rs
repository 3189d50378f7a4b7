//! Sigma rules written for these tests (tests/rules/) loaded, broken ones listed, and run
//! through `analyze` on real EVTX attack samples and a real sshd log. The expected hits
//! were checked by hand against the records of each file (see each test).

use sekisho_detect::HostRules;
use sekisho_engine::{AnalyzeOptions, Outcome, analyze_paths_with};
use sekisho_event::{Alert, Severity};
use sekisho_model::Org;
use sekisho_sigma::load_paths;
use std::path::PathBuf;
use std::sync::Arc;

fn rules_dir(sub: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/rules")).join(sub)
}

fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).join(rel)
}

fn lateral(file: &str) -> PathBuf {
    data("evtx/evtx-attack-samples/Lateral Movement").join(file)
}

const ORG: &str = r#"
[org]
name = "Lab"
[[site]]
id = "lab"
country = "JP"
timezone = "Asia/Tokyo"
networks = ["10.0.2.0/24"]
"#;

struct NoFlows;

impl sekisho_engine::FlowObserver for NoFlows {
    fn open_file(&mut self, _: &std::path::Path, _: &str) -> u32 {
        0
    }
    fn on_flow(&mut self, _: u32, _: &sekisho_event::Flow, _: &sekisho_model::Enriched) {}
}

fn analyze(inputs: &[PathBuf], rules: Option<Arc<dyn HostRules>>) -> Outcome {
    let org = Org::from_toml(ORG, "org.toml").unwrap();
    let opts = AnalyzeOptions { host_rules: rules };
    let (outcome, stats) = analyze_paths_with(&org, inputs, &opts, &mut |_| {}, &mut NoFlows);
    assert_eq!(stats.rejected, 0, "{stats:?}");
    outcome
}

fn sigma_alerts(o: &Outcome) -> Vec<&Alert> {
    o.alerts.iter().filter(|a| a.detector == "sigma").collect()
}

#[test]
fn every_rule_that_does_not_load_is_listed_with_its_file_and_reason() {
    let (rules, report) = load_paths(&[rules_dir("good"), rules_dir("broken")]);
    // good/: 4 files, 5 rules (one file holds two documents).
    assert_eq!(report.rules, 5, "{report:#?}");
    assert_eq!(rules.len(), 5);
    // broken/: six .yml files, each failing for its own reason; readme.txt is not a rule.
    assert_eq!(report.files, 10);
    let failed = |name: &str| {
        report
            .failures
            .iter()
            .filter(|f| f.path.ends_with(name))
            .collect::<Vec<_>>()
    };
    for name in [
        "not_yaml.yml",
        "no_detection.yml",
        "bad_modifier.yml",
        "unknown_selection.yml",
        "correlation.yml",
        "duplicate_id.yml",
    ] {
        assert_eq!(failed(name).len(), 1, "{name}: {:#?}", report.failures);
    }
    assert_eq!(report.failures.len(), 6, "{:#?}", report.failures);
    assert!(failed("correlation.yml")[0].reason.contains("correlation"));
    assert!(
        failed("duplicate_id.yml")[0]
            .reason
            .contains("duplicate rule id")
    );
    assert!(
        failed("duplicate_id.yml")[0]
            .reason
            .contains("psexec_pipes.yml")
    );
    assert!(failed("bad_modifier.yml")[0].reason.contains("sounds_like"));
    // Metadata comes from the rule: level → severity, the ATT&CK tag.
    let pipes = rules
        .rules()
        .iter()
        .find(|r| r.title.starts_with("PsExec-style"))
        .unwrap();
    assert_eq!(pipes.severity, Severity::High);
    assert_eq!(pipes.attack.as_deref(), Some("T1021.002"));
    assert!(pipes.path.ends_with("psexec_pipes.yml"));
}

#[test]
fn rules_match_real_attack_samples_through_analyze() {
    let (rules, report) = load_paths(&[rules_dir("good")]);
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    let rules: Arc<dyn HostRules> = Arc::new(rules);
    let inputs = [
        // 5145 is not an event the built-in detectors read: only a rule sees it. Three of
        // its records open `blabla-...-stdin|stdout|stderr` on IPC$ from 10.0.2.16, within
        // one minute (checked by hand); the other 20 are ADMIN$, srvsvc, svcctl, winreg...
        lateral("LM_renamed_psexecsvc_5145.evtx"),
        // Three 7045s: `spoolfool` and `spoolsv` run `cmd.exe` (09:20, 09:24), `remotesvc`
        // runs `calc.exe`.
        lateral("LM_Remote_Service02_7045.evtx"),
        // Sysmon 1: three `cmd.exe /Q /c ... 1> \\127.0.0.1\ADMIN$\__...` children of
        // WmiPrvSE.exe (impacket wmiexec), then `whoami` as a child of cmd.exe.
        lateral("LM_wmiexec_impacket_sysmon_whoami.evtx"),
    ];
    let outcome = analyze(&inputs, Some(rules));
    let alerts = sigma_alerts(&outcome);
    let by_rule = |title: &str| {
        alerts
            .iter()
            .filter(|a| a.rule.as_deref().is_some_and(|r| r.starts_with(title)))
            .collect::<Vec<_>>()
    };

    let pipes = by_rule("PsExec-style");
    assert_eq!(pipes.len(), 1, "{alerts:#?}");
    assert!(
        pipes[0].summary.contains("(3 times within the hour)"),
        "{}",
        pipes[0].summary
    );
    assert!(
        pipes[0]
            .summary
            .contains("event 5145 (Security) from lab 10.0.2.16")
    );
    assert_eq!(pipes[0].severity, Severity::High);
    assert_eq!(pipes[0].attack.as_deref(), Some("T1021.002"));
    assert_eq!(pipes[0].src.ip, Some("10.0.2.16".parse().unwrap()));

    let service = by_rule("Service installed that runs a bare command shell");
    assert_eq!(service.len(), 1, "{alerts:#?}");
    assert!(service[0].summary.contains("(2 times within the hour)"));
    assert_eq!(service[0].severity, Severity::Critical);

    let wmi = by_rule("WMI provider host");
    assert_eq!(wmi.len(), 1, "{alerts:#?}");
    assert!(wmi[0].summary.contains("(3 times within the hour)"));
    assert_eq!(wmi[0].attack.as_deref(), Some("T1047"));

    // A `service: security` rule is not run on Sysmon records, whatever their event id.
    assert!(by_rule("Process creation from the security service").is_empty());
    assert_eq!(alerts.len(), 3, "{alerts:#?}");
    assert!(outcome.detectors.contains_key("sigma"));

    // Without rules the same run has no rule alerts, and the built-in detectors still work.
    let plain = analyze(&inputs, None);
    assert!(sigma_alerts(&plain).is_empty());
    assert!(
        plain
            .alerts
            .iter()
            .any(|a| a.detector == "service-installed")
    );
}

#[test]
fn keyword_rules_match_linux_auth_lines() {
    let (rules, _) = load_paths(&[rules_dir("good")]);
    let rules: Arc<dyn HostRules> = Arc::new(rules);
    // The lines of the real sshd log (fail2ban's test corpus) that carry the phrase,
    // picked independently of the parser, plus the other sshd lines as noise.
    let text = std::fs::read_to_string(data("auth/fail2ban/sshd")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()) && l.contains(" sshd["))
        .collect();
    let expected = lines
        .iter()
        .filter(|l| l.contains("Failed password for invalid user"))
        .count();
    assert!(expected > 0);
    let dir = std::env::temp_dir().join(format!("sekisho-sigma-sshd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("auth.log");
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();

    let org = Org::from_toml(ORG, "org.toml").unwrap();
    let opts = AnalyzeOptions {
        host_rules: Some(rules),
    };
    let (outcome, _) = analyze_paths_with(
        &org,
        std::slice::from_ref(&log),
        &opts,
        &mut |_| {},
        &mut NoFlows,
    );
    let _ = std::fs::remove_dir_all(&dir);
    let alerts = sigma_alerts(&outcome);
    assert!(!alerts.is_empty());
    assert!(
        alerts
            .iter()
            .all(|a| a.rule.as_deref() == Some("sshd failure for a user that does not exist"))
    );
    let folded: u64 = alerts
        .iter()
        .map(|a| {
            a.summary
                .rsplit(" (")
                .next()
                .and_then(|t| t.strip_suffix(" times within the hour)"))
                .and_then(|n| n.parse().ok())
                .unwrap_or(1)
        })
        .sum();
    assert_eq!(folded as usize, expected);
}
