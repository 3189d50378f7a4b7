//! The baseline: checks every terminal must pass, read from TOML once and resolved into
//! matchers. Every error names `file:line:column`. The format is documented in
//! `docs/fleet-baseline.md`.

use crate::matchers::{Glob, VersionReq};
use sekisho_event::Severity;
use serde::Deserialize;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// Checks kept per baseline.
pub const MAX_CHECKS: usize = 10_000;

/// A baseline file that could not be read or is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct BaselineError {
    /// The file.
    pub file: String,
    /// 1-based line (0: the file as a whole).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    baseline: Option<RawHead>,
    #[serde(default, rename = "check")]
    checks: Vec<Spanned<RawCheck>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHead {
    name: Option<String>,
    stale_after_days: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    id: Spanned<String>,
    kind: Spanned<String>,
    severity: Spanned<String>,
    rationale: Spanned<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    platforms: Vec<String>,
    action: Option<Spanned<String>>,
    // Kind-specific; which apply to which kind is checked after parsing.
    platform: Option<Spanned<String>>,
    min_build: Option<Spanned<i64>>,
    min_version: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    versions: Option<Spanned<String>>,
    names: Option<Spanned<Vec<String>>>,
    allow: Option<Spanned<Vec<String>>>,
    ports: Option<Spanned<Vec<i64>>>,
    exempt_roles: Option<Spanned<Vec<String>>>,
    hotfixes: Option<Spanned<Vec<String>>>,
    products: Option<Spanned<Vec<String>>>,
    services: Option<Spanned<Vec<String>>>,
    up_to_date: Option<Spanned<bool>>,
    drive: Option<Spanned<String>>,
}

/// What the team should do about a terminal that fails a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Install updates (OS build, hotfixes, software versions).
    Patch,
    /// Change configuration or remove software.
    Fix,
    /// Wipe and reinstall (always the action for a compromised terminal).
    Reimage,
}

impl Action {
    /// `patch`, `fix` or `reimage`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Patch => "patch",
            Action::Fix => "fix",
            Action::Reimage => "reimage",
        }
    }
}

/// What a check tests, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    /// `os-min-build`: on `platform`, the OS build (or version) is at least the minimum.
    OsMinBuild {
        /// `os_version.platform`, lower case (`windows`, `darwin`, `ubuntu`).
        platform: String,
        /// Minimum `os_version.build` as a number (Windows).
        min_build: Option<i64>,
        /// Minimum `os_version.version` (compared segment-wise).
        min_version: Option<String>,
    },
    /// `software-required`: a program matching `name` (and `versions`) is installed.
    SoftwareRequired {
        /// Program name pattern.
        name: Glob,
        /// Accepted versions.
        versions: Option<VersionReq>,
    },
    /// `software-forbidden`: no program matching `name` (and `versions`) is installed.
    SoftwareForbidden {
        /// Program name pattern.
        name: Glob,
        /// Forbidden versions (all, when absent).
        versions: Option<VersionReq>,
    },
    /// `patch-required`: every listed hotfix is installed.
    PatchRequired {
        /// Hotfix ids, upper case (`KB5034441`).
        hotfixes: Vec<String>,
    },
    /// `antivirus`: an antivirus product is on (and its signatures up to date).
    Antivirus {
        /// Accepted product names; any when empty.
        products: Vec<Glob>,
        /// Whether signatures must be up to date.
        up_to_date: bool,
    },
    /// `edr-running`: one of the listed services is running.
    EdrRunning {
        /// Service names.
        services: Vec<Glob>,
    },
    /// `firewall-on`: Windows Security Center reports the firewall `Good`, or a firewall
    /// product is `On`.
    FirewallOn,
    /// `disk-encrypted`: BitLocker protects the system drive, or `disk_encryption` says
    /// a disk is encrypted.
    DiskEncrypted {
        /// The system drive (`C:`).
        drive: String,
    },
    /// `remote-access`: no remote-access tool (program, service or process) matching
    /// `names` unless it matches `allow`.
    RemoteAccess {
        /// Tool patterns.
        names: Vec<Glob>,
        /// Allowed tools.
        allow: Vec<Glob>,
    },
    /// `no-admin-listeners`: nothing listens on admin ports (RDP, SMB, WinRM, SSH) on a
    /// non-loopback address, unless the terminal has one of `exempt_roles`.
    NoAdminListeners {
        /// Ports.
        ports: Vec<u16>,
        /// Roles allowed to listen.
        exempt_roles: Vec<String>,
    },
    /// `autostart-known`: every startup item and every non-Microsoft scheduled task
    /// matches `allow` (by name or path).
    AutostartKnown {
        /// Known entries.
        allow: Vec<Glob>,
    },
    /// `local-admins`: every local administrator matches `allow`.
    LocalAdmins {
        /// Allowed accounts.
        allow: Vec<Glob>,
    },
}

impl Rule {
    /// The kind name as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::OsMinBuild { .. } => "os-min-build",
            Rule::SoftwareRequired { .. } => "software-required",
            Rule::SoftwareForbidden { .. } => "software-forbidden",
            Rule::PatchRequired { .. } => "patch-required",
            Rule::Antivirus { .. } => "antivirus",
            Rule::EdrRunning { .. } => "edr-running",
            Rule::FirewallOn => "firewall-on",
            Rule::DiskEncrypted { .. } => "disk-encrypted",
            Rule::RemoteAccess { .. } => "remote-access",
            Rule::NoAdminListeners { .. } => "no-admin-listeners",
            Rule::AutostartKnown { .. } => "autostart-known",
            Rule::LocalAdmins { .. } => "local-admins",
        }
    }

    fn default_action(&self) -> Action {
        match self {
            Rule::OsMinBuild { .. } | Rule::PatchRequired { .. } => Action::Patch,
            Rule::SoftwareRequired {
                versions: Some(_), ..
            } => Action::Patch,
            Rule::SoftwareForbidden {
                versions: Some(_), ..
            } => Action::Patch,
            _ => Action::Fix,
        }
    }
}

/// One check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// Stable id, unique in the baseline.
    pub id: String,
    /// How bad a failure is.
    pub severity: Severity,
    /// Why the check exists (shown next to failures).
    pub rationale: String,
    /// Roles it applies to (`workstation` for terminals that are no declared asset);
    /// all when empty.
    pub roles: Vec<String>,
    /// `os_version.platform`s it applies to (lower case); all when empty.
    pub platforms: Vec<String>,
    /// What to do on failure.
    pub action: Action,
    /// What it tests.
    pub rule: Rule,
}

/// A resolved baseline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Baseline {
    /// Its name.
    pub name: String,
    /// Inventories older than this (against the newest inventory of the run) are stale.
    pub stale_after_days: i64,
    /// The checks, in file order.
    pub checks: Vec<Check>,
}

/// Kind names and the kind-specific fields each accepts.
const KINDS: &[(&str, &[&str])] = &[
    ("os-min-build", &["platform", "min_build", "min_version"]),
    ("software-required", &["name", "versions"]),
    ("software-forbidden", &["name", "versions"]),
    ("patch-required", &["hotfixes"]),
    ("antivirus", &["products", "up_to_date"]),
    ("edr-running", &["services"]),
    ("firewall-on", &[]),
    ("disk-encrypted", &["drive"]),
    ("remote-access", &["names", "allow"]),
    ("no-admin-listeners", &["ports", "exempt_roles"]),
    ("autostart-known", &["allow"]),
    ("local-admins", &["allow"]),
];

/// Admin services: SSH, SMB, RDP, WinRM over HTTP and HTTPS.
pub const ADMIN_PORTS: [u16; 5] = [22, 445, 3389, 5985, 5986];

struct Locator<'a> {
    file: &'a str,
    text: &'a str,
}

impl Locator<'_> {
    fn err(&self, span: Option<Range<usize>>, message: impl Into<String>) -> BaselineError {
        let (line, column) = span.map_or((0, 0), |s| {
            let at = s.start.min(self.text.len());
            let before = self.text.get(..at).unwrap_or("");
            let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
            let col = before.rfind('\n').map_or(at, |n| at - n - 1) + 1;
            (line, col)
        });
        BaselineError {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }
}

impl Baseline {
    /// Reads and resolves a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|e| BaselineError {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
        })?;
        Baseline::from_toml(&text, &path.display().to_string())
    }

    /// Parses and resolves baseline text; `file` names it in errors.
    ///
    /// ```
    /// use sekisho_fleet::Baseline;
    /// let b = Baseline::from_toml(r#"
    /// [[check]]
    /// id = "fw"
    /// kind = "firewall-on"
    /// severity = "high"
    /// rationale = "A host firewall stops worms moving between desks."
    /// "#, "baseline.toml").unwrap();
    /// assert_eq!(b.checks[0].id, "fw");
    /// let e = Baseline::from_toml("[[check]]\nid = \"x\"\nkind = \"nope\"\nseverity = \"low\"\nrationale = \"r\"\n", "b.toml").unwrap_err();
    /// assert_eq!(e.line, 3);
    /// ```
    pub fn from_toml(text: &str, file: &str) -> Result<Baseline, BaselineError> {
        let loc = Locator { file, text };
        let raw: RawFile = toml::from_str(text)
            .map_err(|e| loc.err(e.span(), e.message().trim_end().to_string()))?;
        let (name, stale) = match raw.baseline {
            Some(h) => (h.name.unwrap_or_default(), h.stale_after_days),
            None => (String::new(), None),
        };
        let stale_after_days = match stale {
            Some(s) if *s.get_ref() < 1 || *s.get_ref() > 3650 => {
                return Err(loc.err(Some(s.span()), "stale_after_days must be 1..=3650"));
            }
            Some(s) => s.into_inner(),
            None => 7,
        };
        if raw.checks.len() > MAX_CHECKS {
            return Err(loc.err(None, format!("more than {MAX_CHECKS} checks")));
        }
        let mut checks: Vec<Check> = Vec::new();
        for c in raw.checks {
            let span = c.span();
            let c = c.into_inner();
            if checks.iter().any(|k| k.id == *c.id.get_ref()) {
                return Err(loc.err(
                    Some(c.id.span()),
                    format!("duplicate check id {:?}", c.id.get_ref()),
                ));
            }
            checks.push(resolve(c, &loc, span)?);
        }
        Ok(Baseline {
            name,
            stale_after_days,
            checks,
        })
    }
}

fn globs(v: &Option<Spanned<Vec<String>>>) -> Vec<Glob> {
    v.as_ref()
        .map(|s| s.get_ref().iter().map(|g| Glob::new(g)).collect())
        .unwrap_or_default()
}

fn resolve(c: RawCheck, loc: &Locator, span: Range<usize>) -> Result<Check, BaselineError> {
    let kind = c.kind.get_ref().as_str();
    let Some(&(_, allowed)) = KINDS.iter().find(|(k, _)| *k == kind) else {
        let names: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
        return Err(loc.err(
            Some(c.kind.span()),
            format!(
                "unknown check kind {kind:?} (expected one of {})",
                names.join(", ")
            ),
        ));
    };
    // Fields given that this kind does not read are mistakes, not silently ignored.
    let given: [(&str, Option<Range<usize>>); 14] = [
        ("platform", c.platform.as_ref().map(Spanned::span)),
        ("min_build", c.min_build.as_ref().map(Spanned::span)),
        ("min_version", c.min_version.as_ref().map(Spanned::span)),
        ("name", c.name.as_ref().map(Spanned::span)),
        ("versions", c.versions.as_ref().map(Spanned::span)),
        ("names", c.names.as_ref().map(Spanned::span)),
        ("allow", c.allow.as_ref().map(Spanned::span)),
        ("ports", c.ports.as_ref().map(Spanned::span)),
        ("exempt_roles", c.exempt_roles.as_ref().map(Spanned::span)),
        ("hotfixes", c.hotfixes.as_ref().map(Spanned::span)),
        ("products", c.products.as_ref().map(Spanned::span)),
        ("services", c.services.as_ref().map(Spanned::span)),
        ("up_to_date", c.up_to_date.as_ref().map(Spanned::span)),
        ("drive", c.drive.as_ref().map(Spanned::span)),
    ];
    for (field, s) in given {
        if let Some(s) = s
            && !allowed.contains(&field)
        {
            return Err(loc.err(
                Some(s),
                format!("field `{field}` does not apply to a check of kind {kind:?}"),
            ));
        }
    }
    let need = |field: &str| {
        loc.err(
            Some(span.clone()),
            format!("a {kind:?} check needs `{field}`"),
        )
    };
    let severity = sekisho_model::parse_severity(c.severity.get_ref()).ok_or_else(|| {
        loc.err(
            Some(c.severity.span()),
            "severity must be info, low, medium, high or critical",
        )
    })?;
    let range = |v: &Option<Spanned<String>>| -> Result<Option<VersionReq>, BaselineError> {
        match v {
            Some(s) => VersionReq::parse(s.get_ref())
                .map(Some)
                .map_err(|e| loc.err(Some(s.span()), e)),
            None => Ok(None),
        }
    };
    let rule = match kind {
        "os-min-build" => {
            let platform = c.platform.as_ref().ok_or_else(|| need("platform"))?;
            if c.min_build.is_none() && c.min_version.is_none() {
                return Err(need("min_build or min_version"));
            }
            Rule::OsMinBuild {
                platform: platform.get_ref().to_ascii_lowercase(),
                min_build: c.min_build.as_ref().map(|b| *b.get_ref()),
                min_version: c.min_version.as_ref().map(|v| v.get_ref().clone()),
            }
        }
        "software-required" | "software-forbidden" => {
            let name = Glob::new(c.name.as_ref().ok_or_else(|| need("name"))?.get_ref());
            let versions = range(&c.versions)?;
            if kind == "software-required" {
                Rule::SoftwareRequired { name, versions }
            } else {
                Rule::SoftwareForbidden { name, versions }
            }
        }
        "patch-required" => {
            let h = c.hotfixes.as_ref().ok_or_else(|| need("hotfixes"))?;
            Rule::PatchRequired {
                hotfixes: h
                    .get_ref()
                    .iter()
                    .map(|k| k.trim().to_ascii_uppercase())
                    .collect(),
            }
        }
        "antivirus" => Rule::Antivirus {
            products: globs(&c.products),
            up_to_date: c.up_to_date.as_ref().is_none_or(|u| *u.get_ref()),
        },
        "edr-running" => {
            if c.services.is_none() {
                return Err(need("services"));
            }
            Rule::EdrRunning {
                services: globs(&c.services),
            }
        }
        "firewall-on" => Rule::FirewallOn,
        "disk-encrypted" => Rule::DiskEncrypted {
            drive: c
                .drive
                .as_ref()
                .map_or_else(|| "C:".to_string(), |d| d.get_ref().to_ascii_uppercase()),
        },
        "remote-access" => {
            if c.names.is_none() {
                return Err(need("names"));
            }
            Rule::RemoteAccess {
                names: globs(&c.names),
                allow: globs(&c.allow),
            }
        }
        "no-admin-listeners" => {
            let ports = match &c.ports {
                Some(p) => {
                    let mut out = Vec::new();
                    for &n in p.get_ref() {
                        out.push(u16::try_from(n).map_err(|_| {
                            loc.err(Some(p.span()), format!("port {n} is not 0..=65535"))
                        })?);
                    }
                    out
                }
                None => ADMIN_PORTS.to_vec(),
            };
            Rule::NoAdminListeners {
                ports,
                exempt_roles: c
                    .exempt_roles
                    .as_ref()
                    .map(|r| r.get_ref().clone())
                    .unwrap_or_default(),
            }
        }
        "autostart-known" => Rule::AutostartKnown {
            allow: globs(&c.allow),
        },
        _ => Rule::LocalAdmins {
            allow: globs(&c.allow),
        },
    };
    let action = match &c.action {
        Some(a) => match a.get_ref().as_str() {
            "patch" => Action::Patch,
            "fix" => Action::Fix,
            "reimage" => Action::Reimage,
            other => {
                return Err(loc.err(
                    Some(a.span()),
                    format!("action {other:?} is not patch, fix or reimage"),
                ));
            }
        },
        None => rule.default_action(),
    };
    if c.id.get_ref().trim().is_empty() {
        return Err(loc.err(Some(c.id.span()), "check id is empty"));
    }
    Ok(Check {
        id: c.id.into_inner(),
        severity,
        rationale: c.rationale.into_inner(),
        roles: c.roles,
        platforms: c.platforms.iter().map(|p| p.to_ascii_lowercase()).collect(),
        action,
        rule,
    })
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, {})", self.id, self.rule.kind(), self.severity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> BaselineError {
        Baseline::from_toml(text, "b.toml").unwrap_err()
    }

    #[test]
    fn errors_name_the_line() {
        let head = "[[check]]\nid = \"a\"\nseverity = \"high\"\nrationale = \"r\"\n";
        let e = err(&format!("{head}kind = \"firewall-on\"\nports = [22]\n"));
        assert_eq!((e.line, e.message.contains("ports")), (6, true), "{e}");
        let e = err(&format!(
            "{head}kind = \"os-min-build\"\nplatform = \"windows\"\n"
        ));
        assert!(e.message.contains("min_build"), "{e}");
        let e = err(&format!("{head}kind = \"firewall-on\"\ncolour = 1\n"));
        assert!(e.message.contains("colour"), "{e}");
        let e = err(&format!(
            "{head}kind = \"firewall-on\"\n{head}kind = \"firewall-on\"\n"
        ));
        assert_eq!(e.line, 7, "{e}");
        let e = err("[baseline]\nstale_after_days = 0\n");
        assert_eq!(e.line, 2);
    }
}
