//! Sigma rules over host evidence.
//!
//! Loads SigmaHQ-format YAML rules (files or directories, several documents a file) with
//! `rsigma-parser`, compiles them with `rsigma-eval`, and matches them against the
//! normalised host records of `sekisho-hostlog` (Windows events with all their
//! `EventData`, sshd/sudo/su lines with their message). Every rule that does not load is
//! listed in the [`LoadReport`] with its file and the reason; none is dropped silently.
//!
//! A record is matched only by rules whose `logsource` it belongs to, as Sigma means:
//! [`logsource_of`] names a Windows record's `product`/`service`/`category` from its
//! channel (and event id for Sysmon), a Linux record's from its program. Field names are
//! the ones the source gives (`EventData` names, `EventID`, `Channel`, `Computer`,
//! `Provider_Name`; `message` and `program` for syslog), with the usual mapping for
//! Security 4688 (`Image` → `NewProcessName`, `ParentImage` → `ParentProcessName`).
//!
//! ```
//! use sekisho_detect::HostRules;
//! use sekisho_event::{HostEvent, HostEventKind, HostRecord, HostSource, Timestamp};
//! use sekisho_sigma::RuleSetBuilder;
//!
//! let mut b = RuleSetBuilder::default();
//! b.add_yaml(r#"
//! title: Security log cleared
//! id: 11111111-2222-3333-4444-555555555555
//! logsource:
//!     product: windows
//!     service: security
//! detection:
//!     selection:
//!         EventID: 1102
//!     condition: selection
//! level: high
//! tags:
//!     - attack.defense-evasion
//!     - attack.t1070.001
//! "#, "rules/cleared.yml");
//! let (rules, report) = b.build();
//! assert_eq!(report.rules, 1);
//! assert!(report.failures.is_empty());
//!
//! let mut e = HostEvent::new(Timestamp::from_micros(0), HostSource::Evtx, HostEventKind::LogCleared);
//! e.event_id = Some(1102);
//! e.channel = Some("Security".into());
//! let mut hits = Vec::new();
//! rules.matches(&HostRecord::Event(e), &mut hits);
//! assert_eq!(hits, vec![0]);
//! assert_eq!(rules.rule(0).unwrap().attack.as_deref(), Some("T1070.001"));
//! ```

use rsigma_eval::Engine;
use rsigma_eval::event::{Event, EventValue};
use rsigma_parser::{Level, LogSource, SigmaRule};
use sekisho_detect::{HostRules, RuleMeta};
use sekisho_event::{HostRecord, HostSource, Severity};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Largest rule file read; bigger files are listed as failures (a rule is a few KiB).
pub const MAX_RULE_FILE_BYTES: u64 = 1 << 20;
/// Most rules loaded; further rules are listed as failures.
pub const MAX_RULES: usize = 50_000;
/// Most files looked at under the given paths.
pub const MAX_RULE_FILES: usize = 100_000;
/// How deep directories are walked.
const MAX_DEPTH: usize = 16;

/// A rule (or a whole file) that did not load, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadFailure {
    pub path: String,
    /// The rule's title when it was read that far.
    pub rule: Option<String>,
    pub reason: String,
}

/// What loading found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Rule files read.
    pub files: usize,
    /// Rules loaded and compiled.
    pub rules: usize,
    /// Everything that did not load.
    pub failures: Vec<LoadFailure>,
}

/// Collects rules from YAML text and files, then compiles them into a [`RuleSet`].
#[derive(Debug, Default)]
pub struct RuleSetBuilder {
    rules: Vec<(SigmaRule, String)>,
    filters: Vec<(rsigma_parser::FilterRule, String)>,
    report: LoadReport,
}

impl RuleSetBuilder {
    /// Adds the rules of one YAML text (one or more documents) read from `path`.
    pub fn add_yaml(&mut self, text: &str, path: &str) {
        let before = (
            self.rules.len(),
            self.filters.len(),
            self.report.failures.len(),
        );
        self.add_documents(text, path);
        let nothing = self.rules.len() == before.0
            && self.filters.len() == before.1
            && self.report.failures.len() == before.2;
        if nothing {
            self.fail(path, None, "no Sigma rule in the file".into());
        }
    }

    fn add_documents(&mut self, text: &str, path: &str) {
        let collection = match rsigma_parser::parse_sigma_yaml(text) {
            Ok(c) => c,
            Err(e) => {
                self.fail(path, None, format!("not a Sigma rule file: {e}"));
                return;
            }
        };
        for e in &collection.errors {
            self.fail(path, None, e.clone());
        }
        for c in &collection.correlations {
            self.fail(
                path,
                Some(c.title.clone()),
                "correlation rules are not supported (sekisho's own detectors aggregate)".into(),
            );
        }
        for f in collection.filters {
            self.filters.push((f, path.to_string()));
        }
        for rule in collection.rules {
            if self.rules.len() >= MAX_RULES {
                self.fail(
                    path,
                    Some(rule.title.clone()),
                    format!("more than {MAX_RULES} rules"),
                );
                continue;
            }
            self.rules.push((rule, path.to_string()));
        }
    }

    /// Adds a rule file, or every `.yml`/`.yaml` file under a directory (sorted, so the
    /// rule order does not depend on the file system).
    pub fn add_path(&mut self, path: &Path) {
        let mut files = Vec::new();
        collect(path, 0, &mut files, &mut self.report.failures);
        files.sort();
        for f in files {
            self.add_file(&f);
        }
    }

    fn add_file(&mut self, path: &Path) {
        let name = path.display().to_string();
        if self.report.files >= MAX_RULE_FILES {
            self.fail(&name, None, format!("more than {MAX_RULE_FILES} files"));
            return;
        }
        self.report.files += 1;
        match std::fs::metadata(path) {
            Ok(m) if m.len() > MAX_RULE_FILE_BYTES => {
                self.fail(
                    &name,
                    None,
                    format!(
                        "{} bytes, over the {MAX_RULE_FILE_BYTES}-byte limit",
                        m.len()
                    ),
                );
                return;
            }
            Ok(_) => {}
            Err(e) => {
                self.fail(&name, None, e.to_string());
                return;
            }
        }
        match std::fs::read(path) {
            Ok(bytes) => match std::str::from_utf8(&bytes) {
                Ok(text) => self.add_yaml(text, &name),
                Err(e) => self.fail(&name, None, format!("not UTF-8: {e}")),
            },
            Err(e) => self.fail(&name, None, e.to_string()),
        }
    }

    fn fail(&mut self, path: &str, rule: Option<String>, reason: String) {
        self.report.failures.push(LoadFailure {
            path: path.to_string(),
            rule,
            reason,
        });
    }

    /// Compiles what was added. Rules that do not compile, and rules whose id repeats an
    /// earlier one, are listed as failures.
    pub fn build(mut self) -> (RuleSet, LoadReport) {
        let mut engine = Engine::new();
        let mut metas = Vec::new();
        let mut by_id: HashMap<String, u32> = HashMap::new();
        let rules = std::mem::take(&mut self.rules);
        for (n, (mut rule, path)) in rules.into_iter().enumerate() {
            // Results name rules by id, so every rule needs a unique one.
            let id = match rule.id.clone() {
                Some(id) => id,
                None => {
                    let id = format!("sekisho:{path}#{n}");
                    rule.id = Some(id.clone());
                    id
                }
            };
            if let Some(&first) = by_id.get(&id) {
                let first_path = metas
                    .get(first as usize)
                    .map(|m: &RuleMeta| m.path.clone())
                    .unwrap_or_default();
                self.fail(
                    &path,
                    Some(rule.title.clone()),
                    format!("duplicate rule id {id} (first in {first_path})"),
                );
                continue;
            }
            if let Err(e) = engine.add_rule(&rule) {
                self.fail(&path, Some(rule.title.clone()), e.to_string());
                continue;
            }
            let index = metas.len() as u32;
            by_id.insert(id.clone(), index);
            metas.push(RuleMeta {
                id,
                title: rule.title.clone(),
                severity: severity(rule.level),
                attack: attack_technique(&rule.tags),
                path,
            });
        }
        for (filter, path) in std::mem::take(&mut self.filters) {
            if let Err(e) = engine.apply_filter(&filter) {
                self.fail(&path, Some(filter.title.clone()), e.to_string());
            }
        }
        self.report.rules = metas.len();
        (
            RuleSet {
                engine,
                metas,
                by_id,
            },
            self.report,
        )
    }
}

fn collect(path: &Path, depth: usize, out: &mut Vec<PathBuf>, failures: &mut Vec<LoadFailure>) {
    let fail = |failures: &mut Vec<LoadFailure>, reason: String| {
        failures.push(LoadFailure {
            path: path.display().to_string(),
            rule: None,
            reason,
        });
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return fail(failures, e.to_string()),
    };
    if !meta.is_dir() {
        out.push(path.to_path_buf());
        return;
    }
    if depth >= MAX_DEPTH {
        return fail(failures, format!("deeper than {MAX_DEPTH} directories"));
    }
    let entries = match std::fs::read_dir(path) {
        Ok(e) => e,
        Err(e) => return fail(failures, e.to_string()),
    };
    for entry in entries.flatten() {
        if out.len() >= MAX_RULE_FILES {
            return;
        }
        let p = entry.path();
        let is_rule = p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"));
        if p.is_dir() {
            collect(&p, depth + 1, out, failures);
        } else if is_rule {
            out.push(p);
        }
    }
}

/// Loads rules from files and directories.
pub fn load_paths(paths: &[PathBuf]) -> (RuleSet, LoadReport) {
    let mut b = RuleSetBuilder::default();
    for p in paths {
        b.add_path(p);
    }
    b.build()
}

fn severity(level: Option<Level>) -> Severity {
    match level {
        Some(Level::Informational) => Severity::Info,
        Some(Level::Low) => Severity::Low,
        Some(Level::High) => Severity::High,
        Some(Level::Critical) => Severity::Critical,
        // Sigma leaves the level optional; such rules are treated as medium.
        Some(Level::Medium) | None => Severity::Medium,
    }
}

/// The first `attack.tNNNN[.NNN]` tag, as `TNNNN[.NNN]`.
pub fn attack_technique(tags: &[String]) -> Option<String> {
    tags.iter().find_map(|t| {
        let id = t.strip_prefix("attack.")?;
        let digits = id.strip_prefix(['t', 'T'])?;
        let (main, sub) = match digits.split_once('.') {
            Some((m, s)) => (m, Some(s)),
            None => (digits, None),
        };
        let ok = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !ok(main, 4) || sub.is_some_and(|s| !ok(s, 3)) {
            return None;
        }
        Some(format!("T{digits}"))
    })
}

/// Compiled rules, matched against host records.
pub struct RuleSet {
    engine: Engine,
    metas: Vec<RuleMeta>,
    by_id: HashMap<String, u32>,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.metas.len())
            .finish_non_exhaustive()
    }
}

impl RuleSet {
    /// Number of rules loaded.
    pub fn len(&self) -> usize {
        self.metas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.metas.is_empty()
    }

    /// The loaded rules, in index order.
    pub fn rules(&self) -> &[RuleMeta] {
        &self.metas
    }
}

impl HostRules for RuleSet {
    fn matches(&self, record: &HostRecord, out: &mut Vec<u32>) {
        if self.metas.is_empty() {
            return;
        }
        let event = RecordEvent(record);
        let start = out.len();
        for r in self
            .engine
            .evaluate_with_logsource(&event, &logsource_of(record))
        {
            if let Some(i) = r.header.rule_id.as_ref().and_then(|id| self.by_id.get(id)) {
                out.push(*i);
            }
        }
        if let Some(tail) = out.get_mut(start..) {
            tail.sort_unstable();
        }
    }

    fn rule(&self, index: u32) -> Option<&RuleMeta> {
        self.metas.get(index as usize)
    }
}

/// The Sigma `logsource` a record belongs to.
pub fn logsource_of(record: &HostRecord) -> LogSource {
    let mut ls = LogSource::default();
    let (source, channel, event_id) = match record {
        HostRecord::Logon(l) => (l.source, l.channel.as_deref(), l.event_id),
        HostRecord::Event(e) => (e.source, e.channel.as_deref(), e.event_id),
    };
    match source {
        HostSource::Evtx => {
            ls.product = Some("windows".into());
            let channel = channel.unwrap_or("");
            let (service, category) = windows_service(channel, event_id);
            ls.service = service.map(str::to_string);
            ls.category = category.map(str::to_string);
        }
        HostSource::Sshd => {
            ls.product = Some("linux".into());
            ls.service = Some("sshd".into());
        }
        HostSource::Sudo => {
            ls.product = Some("linux".into());
            ls.service = Some("sudo".into());
        }
        HostSource::Su => {
            ls.product = Some("linux".into());
            ls.service = Some("auth".into());
        }
    }
    ls
}

/// SigmaHQ's `service` for a Windows channel, and the `category` the channel and event id
/// stand for (Sysmon ids, Security 4688). Registry events (Sysmon 12–14) get no category:
/// SigmaHQ splits them over several, and logsource matching would lose rules.
fn windows_service(channel: &str, id: Option<u32>) -> (Option<&'static str>, Option<&'static str>) {
    let is = |c: &str| channel.eq_ignore_ascii_case(c);
    if is("Security") {
        return (
            "security".into(),
            (id == Some(4688)).then_some("process_creation"),
        );
    }
    if channel.to_ascii_lowercase().ends_with("sysmon/operational") {
        let category = match id {
            Some(1) => Some("process_creation"),
            Some(3) => Some("network_connection"),
            Some(5) => Some("process_termination"),
            Some(6) => Some("driver_load"),
            Some(7) => Some("image_load"),
            Some(8) => Some("create_remote_thread"),
            Some(10) => Some("process_access"),
            Some(11) => Some("file_event"),
            Some(15) => Some("create_stream_hash"),
            Some(17 | 18) => Some("pipe_created"),
            Some(22) => Some("dns_query"),
            Some(23 | 26) => Some("file_delete"),
            Some(25) => Some("process_tampering"),
            _ => None,
        };
        return (Some("sysmon"), category);
    }
    let service = [
        ("System", "system"),
        ("Application", "application"),
        ("Windows PowerShell", "powershell-classic"),
        ("Microsoft-Windows-PowerShell/Operational", "powershell"),
        (
            "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
            "terminalservices-localsessionmanager",
        ),
        (
            "Microsoft-Windows-TaskScheduler/Operational",
            "taskscheduler",
        ),
        ("Microsoft-Windows-WMI-Activity/Operational", "wmi"),
        (
            "Microsoft-Windows-Windows Defender/Operational",
            "windefend",
        ),
        ("Microsoft-Windows-Bits-Client/Operational", "bits-client"),
        ("Microsoft-Windows-SMBClient/Security", "smbclient-security"),
        ("Microsoft-Windows-NTLM/Operational", "ntlm"),
    ]
    .iter()
    .find(|(c, _)| is(c))
    .map(|(_, s)| *s);
    (service, None)
}

/// A host record as `rsigma` reads it.
struct RecordEvent<'a>(&'a HostRecord);

impl RecordEvent<'_> {
    fn fields(&self) -> &sekisho_event::Fields {
        self.0.fields()
    }

    fn event_id(&self) -> Option<u32> {
        self.0.event_id()
    }

    fn system(&self, name: &str) -> Option<&str> {
        self.0.system_field(name)
    }
}

impl Event for RecordEvent<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        if path == "EventID" {
            return self.event_id().map(|id| EventValue::Int(i64::from(id)));
        }
        if let Some(v) = self.system(path) {
            return Some(EventValue::Str(Cow::Borrowed(v)));
        }
        let fields = self.fields();
        if let Some(v) = fields.get(path) {
            return Some(EventValue::Str(Cow::Borrowed(v)));
        }
        // Security 4688 names the process fields differently from Sysmon 1.
        if self.event_id() == Some(4688) {
            let alias = match path {
                "Image" => "NewProcessName",
                "ParentImage" => "ParentProcessName",
                _ => return None,
            };
            return fields.get(alias).map(|v| EventValue::Str(Cow::Borrowed(v)));
        }
        None
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        self.fields().pairs.iter().any(|(_, v)| pred(v))
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        self.fields()
            .pairs
            .iter()
            .map(|(_, v)| Cow::Borrowed(v.as_str()))
            .collect()
    }

    fn to_json(&self) -> Value {
        let mut map = serde_json::Map::new();
        if let Some(id) = self.event_id() {
            map.insert("EventID".into(), Value::from(id));
        }
        for name in ["Channel", "Computer", "Provider_Name"] {
            if let Some(v) = self.system(name) {
                map.insert(name.into(), Value::from(v));
            }
        }
        for (k, v) in &self.fields().pairs {
            map.entry(k.clone())
                .or_insert_with(|| Value::from(v.as_str()));
        }
        Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_tags_are_read_strictly() {
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            attack_technique(&tags(&["attack.lateral-movement", "attack.t1021.002"])),
            Some("T1021.002".into())
        );
        assert_eq!(
            attack_technique(&tags(&["attack.t1070"])),
            Some("T1070".into())
        );
        assert_eq!(attack_technique(&tags(&["attack.t10", "cve.2021-1"])), None);
        assert_eq!(attack_technique(&tags(&["attack.t1021.02x"])), None);
    }

    #[test]
    fn a_file_without_rules_is_listed_not_skipped() {
        let mut b = RuleSetBuilder::default();
        b.add_yaml(
            "title: ok\nlogsource:\n  product: windows\ndetection:\n  s:\n    EventID: 1\n  condition: s\n",
            "a.yml",
        );
        b.add_yaml("", "empty.yml");
        b.add_yaml("# only a comment\n", "comment.yml");
        let (rules, report) = b.build();
        assert_eq!(rules.len(), 1);
        let failed: Vec<&str> = report.failures.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(failed, ["empty.yml", "comment.yml"], "{report:#?}");
    }

    #[test]
    fn levels_map_to_severities() {
        assert_eq!(severity(Some(Level::Critical)), Severity::Critical);
        assert_eq!(severity(Some(Level::Informational)), Severity::Info);
        assert_eq!(severity(None), Severity::Medium);
    }

    #[test]
    fn channels_map_to_sigma_services_and_categories() {
        assert_eq!(
            windows_service("Microsoft-Windows-Sysmon/Operational", Some(1)),
            (Some("sysmon"), Some("process_creation"))
        );
        assert_eq!(
            windows_service("Security", Some(4688)),
            (Some("security"), Some("process_creation"))
        );
        assert_eq!(
            windows_service("Security", Some(4624)),
            (Some("security"), None)
        );
        assert_eq!(
            windows_service("Microsoft-Windows-Sysmon/Operational", Some(13)),
            (Some("sysmon"), None)
        );
        assert_eq!(windows_service("Some-Vendor/Log", Some(1)), (None, None));
    }
}
