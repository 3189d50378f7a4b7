//! Indicators that must be absent from every terminal: file hashes, paths, file names,
//! service and task names, addresses, domains and mutex-like names. Three sources: a
//! plain list ([`Indicators::from_list`]), a STIX 2.1 bundle ([`Indicators::from_stix`])
//! and an incident sekisho produced ([`Indicators::from_incident`]). Parsers are pure.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

/// Indicators kept per run; more are refused with an error.
pub const MAX_INDICATORS: usize = 1_000_000;
/// Longest indicator value.
pub const MAX_INDICATOR_LEN: usize = 4096;

/// Number of [`IndicatorKind`]s.
const KINDS: usize = 10;

/// What an indicator names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IndicatorKind {
    /// SHA-256 of a file (lower-case hex).
    Sha256,
    /// SHA-1 of a file or certificate.
    Sha1,
    /// MD5 of a file.
    Md5,
    /// A full path (compared case-insensitively, as on Windows).
    Path,
    /// A file name: matches the last component of any path.
    FileName,
    /// A Windows service name.
    Service,
    /// A scheduled task name (with or without its folder).
    Task,
    /// An address: the terminal has it, or has a socket to it, or a command line names it.
    Ip,
    /// A domain: named in a command line, task action or startup entry.
    Domain,
    /// A mutex-like or other object name: matches process, service, task and startup
    /// names exactly, and command lines as a substring.
    Name,
}

impl IndicatorKind {
    /// The name used in lists and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Sha256 => "sha256",
            IndicatorKind::Sha1 => "sha1",
            IndicatorKind::Md5 => "md5",
            IndicatorKind::Path => "path",
            IndicatorKind::FileName => "filename",
            IndicatorKind::Service => "service",
            IndicatorKind::Task => "task",
            IndicatorKind::Ip => "ip",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Name => "name",
        }
    }

    fn from_prefix(s: &str) -> Option<Self> {
        Some(match s {
            "sha256" | "sha-256" => IndicatorKind::Sha256,
            "sha1" | "sha-1" => IndicatorKind::Sha1,
            "md5" => IndicatorKind::Md5,
            "path" => IndicatorKind::Path,
            "filename" | "file" => IndicatorKind::FileName,
            "service" => IndicatorKind::Service,
            "task" => IndicatorKind::Task,
            "ip" | "ipv4" | "ipv6" => IndicatorKind::Ip,
            "domain" => IndicatorKind::Domain,
            "name" | "mutex" => IndicatorKind::Name,
            _ => return None,
        })
    }
}

/// One indicator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Indicator {
    /// What it names.
    pub kind: IndicatorKind,
    /// Normalised value (lower case; addresses in canonical form).
    pub value: String,
    /// Where it came from (`iocs.txt:12`, a STIX id, `incident INC-0001`).
    pub source: String,
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.value)
    }
}

/// An indicator source that could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IocError {
    /// A line of a plain list is not an indicator.
    #[error("{file}:{line}: {message}")]
    Line {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A STIX bundle or incidents file that is not what it should be.
    #[error("{file}: {message}")]
    Document {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
}

/// Indicators with lookup tables built for matching.
#[derive(Clone, Debug, Default)]
pub struct Indicators {
    list: Vec<Indicator>,
    exact: Vec<HashMap<String, usize>>,
    ips: HashMap<IpAddr, usize>,
    substr: Option<AhoCorasick>,
    substr_ids: Vec<usize>,
    /// Patterns of a STIX bundle that could not be turned into indicators, with why.
    pub skipped: Vec<String>,
}

fn normalise(kind: IndicatorKind, v: &str) -> Option<String> {
    let v = v.trim();
    if v.is_empty() || v.len() > MAX_INDICATOR_LEN {
        return None;
    }
    match kind {
        IndicatorKind::Ip => v.parse::<IpAddr>().ok().map(|a| a.to_string()),
        IndicatorKind::Sha256 | IndicatorKind::Sha1 | IndicatorKind::Md5 => {
            let want = match kind {
                IndicatorKind::Sha256 => 64,
                IndicatorKind::Sha1 => 40,
                _ => 32,
            };
            (v.len() == want && v.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| v.to_ascii_lowercase())
        }
        IndicatorKind::Domain => Some(v.trim_end_matches('.').to_lowercase()),
        _ => Some(v.to_lowercase()),
    }
}

/// Guesses the kind of an untyped list entry.
fn guess(v: &str) -> IndicatorKind {
    let hex = v.bytes().all(|b| b.is_ascii_hexdigit());
    match v.len() {
        64 if hex => return IndicatorKind::Sha256,
        40 if hex => return IndicatorKind::Sha1,
        32 if hex => return IndicatorKind::Md5,
        _ => {}
    }
    if v.parse::<IpAddr>().is_ok() {
        IndicatorKind::Ip
    } else if v.contains('\\') || v.contains('/') {
        IndicatorKind::Path
    } else if v.contains('.')
        && !v.contains(' ')
        && v.rsplit('.')
            .next()
            .is_some_and(|t| t.chars().all(|c| c.is_ascii_alphabetic()))
    {
        IndicatorKind::Domain
    } else {
        IndicatorKind::Name
    }
}

/// A STIX string literal's value (`'…'` with `\'` and `\\` escapes); returns the value
/// and the rest after the closing quote.
fn stix_string(s: &str) -> Option<(String, &str)> {
    let body = s.trim_start().strip_prefix('\'')?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, n)) = chars.next() {
                    out.push(n);
                }
            }
            '\'' => return Some((out, body.get(i + 1..).unwrap_or(""))),
            c => out.push(c),
        }
    }
    None
}

/// The indicator kind a STIX object path stands for.
fn stix_kind(path: &str) -> Option<IndicatorKind> {
    let p: String = path
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let p = p.replace('"', "'");
    Some(match p.as_str() {
        "file:hashes.'sha-256'" | "file:hashes.sha256" | "file:hashes.'sha256'" => {
            IndicatorKind::Sha256
        }
        "file:hashes.'sha-1'" | "file:hashes.sha1" | "file:hashes.'sha1'" => IndicatorKind::Sha1,
        "file:hashes.md5" | "file:hashes.'md5'" => IndicatorKind::Md5,
        "file:name" | "process:name" | "process:image_ref.name" => IndicatorKind::FileName,
        "ipv4-addr:value" | "ipv6-addr:value" => IndicatorKind::Ip,
        "domain-name:value" => IndicatorKind::Domain,
        "mutex:name" => IndicatorKind::Name,
        "directory:path" | "file:path" | "process:image_ref.path" => IndicatorKind::Path,
        "process:extensions.'windows-service-ext'.service_name" => IndicatorKind::Service,
        "url:value" => IndicatorKind::Domain,
        _ => return None,
    })
}

/// The host part of a URL (for `url:value`).
fn url_host(u: &str) -> &str {
    let rest = u.split_once("://").map_or(u, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    host.split(':').next().unwrap_or(host)
}

/// Every `path = 'value'` comparison in a STIX pattern; other operators are reported.
fn stix_comparisons(pattern: &str) -> (Vec<(IndicatorKind, String)>, Vec<String>) {
    let (mut out, mut skipped) = (Vec::new(), Vec::new());
    let mut rest = pattern;
    // Scan for `=`; the object path is the token before it, the literal after it.
    while let Some(eq) = rest.find('=') {
        let before = rest.get(..eq).unwrap_or("");
        let after = rest.get(eq + 1..).unwrap_or("");
        if before.ends_with(['!', '<', '>']) {
            skipped.push(format!("operator other than '=' in {pattern:?}"));
            rest = after;
            continue;
        }
        // The object path is the last token before `=` (after `[`, `(`, AND, OR).
        let path = before
            .split_whitespace()
            .last()
            .unwrap_or("")
            .trim_start_matches(['[', '(']);
        match stix_string(after) {
            Some((value, tail)) => {
                match stix_kind(path) {
                    Some(IndicatorKind::Domain) if path.to_ascii_lowercase().starts_with("url") => {
                        out.push((IndicatorKind::Domain, url_host(&value).to_string()));
                    }
                    Some(k) => out.push((k, value)),
                    None => skipped.push(format!("object path {path:?} not supported")),
                }
                rest = tail;
            }
            None => {
                skipped.push(format!("no string literal after {path:?}"));
                rest = after;
            }
        }
    }
    (out, skipped)
}

impl Indicators {
    /// No indicators.
    pub fn new() -> Self {
        Indicators::default()
    }

    /// The indicators, in the order added.
    pub fn list(&self) -> &[Indicator] {
        &self.list
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Adds one indicator (duplicates are kept once); `false` when the value is not valid
    /// for its kind.
    pub fn add(&mut self, kind: IndicatorKind, value: &str, source: &str) -> bool {
        let Some(value) = normalise(kind, value) else {
            return false;
        };
        if self.list.len() >= MAX_INDICATORS {
            return false;
        }
        if self.exact.is_empty() {
            self.exact = vec![HashMap::new(); KINDS];
        }
        let Some(map) = self.exact.get_mut(kind as usize) else {
            return false;
        };
        if map.contains_key(&value) {
            return true;
        }
        map.insert(value.clone(), self.list.len());
        let i = self.list.len();
        if kind == IndicatorKind::Ip
            && let Ok(a) = value.parse()
        {
            self.ips.insert(a, i);
        }
        self.list.push(Indicator {
            kind,
            value,
            source: source.to_string(),
        });
        self.substr = None;
        true
    }

    /// Appends another set.
    pub fn extend(&mut self, other: Indicators) {
        for i in other.list {
            self.add(i.kind, &i.value, &i.source);
        }
        self.skipped.extend(other.skipped);
    }

    /// Parses a plain list: one indicator per line, `kind:value` (kinds `sha256`, `sha1`,
    /// `md5`, `path`, `filename`, `service`, `task`, `ip`, `domain`, `name`/`mutex`) or a
    /// bare value whose kind is guessed (hash by length, address, path, domain, name).
    /// `#` starts a comment line.
    ///
    /// ```
    /// use sekisho_fleet::{Indicators, IndicatorKind};
    /// let i = Indicators::from_list("# C2\n45.133.1.20\nservice:WinSvcUpd\nevil.example\n", "iocs.txt").unwrap();
    /// assert_eq!(i.list()[1].kind, IndicatorKind::Service);
    /// assert_eq!(i.list()[2].kind, IndicatorKind::Domain);
    /// ```
    pub fn from_list(text: &str, file: &str) -> Result<Indicators, IocError> {
        let mut out = Indicators::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (kind, value) = match line.split_once(':') {
                Some((k, v))
                    if IndicatorKind::from_prefix(&k.trim().to_ascii_lowercase()).is_some() =>
                {
                    let k = IndicatorKind::from_prefix(&k.trim().to_ascii_lowercase())
                        .unwrap_or(IndicatorKind::Name);
                    // `ip:` prefixes on IPv6 addresses keep the rest whole.
                    (k, v.trim())
                }
                _ => (guess(line), line),
            };
            let source = format!("{file}:{}", n + 1);
            if !out.add(kind, value, &source) {
                return Err(IocError::Line {
                    file: file.to_string(),
                    line: n + 1,
                    message: format!("not a valid {} indicator", kind.as_str()),
                });
            }
        }
        Ok(out)
    }

    /// Reads the `indicator` objects of a STIX 2.1 bundle whose `pattern_type` is `stix`
    /// (or absent). Equality comparisons on supported object paths become indicators
    /// (`file:hashes.'SHA-256'`, `file:name`, `ipv4-addr:value`, `domain-name:value`,
    /// `url:value`, `mutex:name`, ...); anything else is listed in [`Self::skipped`].
    ///
    /// ```
    /// use sekisho_fleet::Indicators;
    /// let b = r#"{"type":"bundle","id":"bundle--1","objects":[{"type":"indicator",
    ///   "id":"indicator--1","pattern_type":"stix","pattern":"[ipv4-addr:value = '45.133.1.20']"}]}"#;
    /// let i = Indicators::from_stix(b, "b.json").unwrap();
    /// assert_eq!(i.list()[0].value, "45.133.1.20");
    /// ```
    pub fn from_stix(text: &str, file: &str) -> Result<Indicators, IocError> {
        let doc: serde_json::Value =
            serde_json::from_str(text).map_err(|e| IocError::Document {
                file: file.to_string(),
                message: format!("not JSON: {e}"),
            })?;
        let objects = doc
            .get("objects")
            .and_then(|o| o.as_array())
            .ok_or_else(|| IocError::Document {
                file: file.to_string(),
                message: "not a STIX bundle (no \"objects\" array)".to_string(),
            })?;
        let mut out = Indicators::new();
        for o in objects {
            if o.get("type").and_then(|t| t.as_str()) != Some("indicator") {
                continue;
            }
            let id = o.get("id").and_then(|t| t.as_str()).unwrap_or("indicator");
            match o.get("pattern_type").and_then(|t| t.as_str()) {
                Some("stix") | None => {}
                Some(other) => {
                    out.skipped
                        .push(format!("{id}: pattern_type {other:?} not supported"));
                    continue;
                }
            }
            let Some(pattern) = o.get("pattern").and_then(|t| t.as_str()) else {
                out.skipped.push(format!("{id}: no pattern"));
                continue;
            };
            let (found, skipped) = stix_comparisons(pattern);
            for (kind, value) in found {
                if !out.add(kind, &value, id) {
                    out.skipped
                        .push(format!("{id}: {value:?} is not a valid {}", kind.as_str()));
                }
            }
            out.skipped
                .extend(skipped.into_iter().map(|s| format!("{id}: {s}")));
        }
        Ok(out)
    }

    /// The addresses of one incident in an `incidents.json` that `sekisho analyze` or
    /// `sekisho demo` wrote: every host of the incident becomes an `ip` indicator (a
    /// terminal that has the address was part of the incident).
    pub fn from_incident(text: &str, file: &str, id: &str) -> Result<Indicators, IocError> {
        let doc_err = |message: String| IocError::Document {
            file: file.to_string(),
            message,
        };
        let doc: serde_json::Value =
            serde_json::from_str(text).map_err(|e| doc_err(format!("not JSON: {e}")))?;
        let list = doc.as_array().ok_or_else(|| {
            doc_err("not an incidents.json (expected an array of incidents)".to_string())
        })?;
        let inc = list
            .iter()
            .find(|i| i.get("id").and_then(|v| v.as_str()) == Some(id))
            .ok_or_else(|| {
                let ids: Vec<&str> = list
                    .iter()
                    .filter_map(|i| i.get("id")?.as_str())
                    .take(20)
                    .collect();
                doc_err(format!(
                    "no incident {id:?} (incidents: {})",
                    ids.join(", ")
                ))
            })?;
        let mut out = Indicators::new();
        let source = format!("incident {id}");
        for h in inc
            .get("hosts")
            .and_then(|h| h.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(h) = h.as_str()
                && !out.add(IndicatorKind::Ip, h, &source)
            {
                return Err(doc_err(format!(
                    "incident {id}: host {h:?} is not an address"
                )));
            }
        }
        Ok(out)
    }

    /// Builds the substring matcher (domains, addresses and names searched in command
    /// lines). Called once before matching; matching without it skips substring search.
    pub fn prepare(&mut self) {
        let mut pats = Vec::new();
        let mut ids = Vec::new();
        for (i, ind) in self.list.iter().enumerate() {
            if matches!(
                ind.kind,
                IndicatorKind::Domain | IndicatorKind::Ip | IndicatorKind::Name
            ) {
                pats.push(ind.value.clone());
                ids.push(i);
            }
        }
        self.substr = if pats.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&pats)
                .ok()
        };
        self.substr_ids = ids;
    }

    /// The indicator an exact value of a kind matches (`value` already lower case).
    pub fn exact(&self, kind: IndicatorKind, value: &str) -> Option<&Indicator> {
        if self.list.is_empty() || value.is_empty() {
            return None;
        }
        self.exact
            .get(kind as usize)
            .and_then(|m| m.get(value))
            .and_then(|&i| self.list.get(i))
    }

    /// The indicator an address matches.
    pub fn ip(&self, a: &IpAddr) -> Option<&Indicator> {
        self.ips.get(a).and_then(|&i| self.list.get(i))
    }

    /// Indicators found as substrings of `text` (domains, addresses, names), calling `f`
    /// for each.
    pub fn substrings(&self, text: &str, mut f: impl FnMut(&Indicator)) {
        let Some(ac) = &self.substr else {
            return;
        };
        let bytes = text.as_bytes();
        for m in ac.find_overlapping_iter(text) {
            let Some(ind) = self
                .substr_ids
                .get(m.pattern().as_usize())
                .and_then(|&i| self.list.get(i))
            else {
                continue;
            };
            // Whole tokens only: `1.2.3.4` is not in `1.2.3.45`, `evil.example` is not in
            // `notevil.example` (but is in `cdn.evil.example`).
            let word = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
            let before = m.start().checked_sub(1).and_then(|i| bytes.get(i)).copied();
            let after = bytes.get(m.end()).copied();
            let after2 = bytes.get(m.end() + 1).copied();
            let bad_before =
                before.is_some_and(|b| word(b) || (b == b'.' && ind.kind != IndicatorKind::Domain));
            let bad_after =
                after.is_some_and(|b| word(b) || (b == b'.' && after2.is_some_and(word)));
            if !bad_before && !bad_after {
                f(ind);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stix_patterns() {
        let (found, skipped) = stix_comparisons(
            "[file:hashes.'SHA-256' = 'AB\\'C' OR file:hashes.MD5 = 'x'] AND [domain-name:value = 'evil.example'] [windows-registry-key:key = 'HKLM\\\\x'] [ipv4-addr:value != '1.2.3.4']",
        );
        assert_eq!(
            found,
            vec![
                (IndicatorKind::Sha256, "AB'C".to_string()),
                (IndicatorKind::Md5, "x".to_string()),
                (IndicatorKind::Domain, "evil.example".to_string()),
            ]
        );
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        let (found, _) = stix_comparisons("[url:value = 'https://u@evil.example:8443/x?y']");
        assert_eq!(
            found,
            vec![(IndicatorKind::Domain, "evil.example".to_string())]
        );
    }

    #[test]
    fn list_rejects_bad_values_with_line() {
        let e = Indicators::from_list("ok.example\nsha256:zz\n", "l.txt").unwrap_err();
        assert_eq!(e.to_string(), "l.txt:2: not a valid sha256 indicator");
    }
}
