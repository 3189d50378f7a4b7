//! Small matchers the baseline is written in: case-insensitive globs (`*` only) and
//! version ranges (`>=1.2, <2`).

use std::cmp::Ordering;
use std::fmt;

/// A case-insensitive pattern where `*` matches any run of characters.
///
/// ```
/// use sekisho_fleet::Glob;
/// let g = Glob::new("TeamViewer*");
/// assert!(g.matches("teamviewer 15"));
/// assert!(!g.matches("anydesk"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob {
    source: String,
    parts: Vec<String>,
    star: bool,
}

impl Glob {
    /// Compiles a pattern.
    pub fn new(pattern: &str) -> Self {
        let lower = pattern.to_lowercase();
        Glob {
            source: pattern.to_string(),
            parts: lower.split('*').map(str::to_string).collect(),
            star: lower.contains('*'),
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `text` matches; `text` must already be lower case.
    pub fn matches(&self, text: &str) -> bool {
        if !self.star {
            return self.parts.first().is_some_and(|p| p == text);
        }
        let n = self.parts.len();
        let mut rest = text;
        for (i, part) in self.parts.iter().enumerate() {
            if i == 0 {
                match rest.strip_prefix(part.as_str()) {
                    Some(r) => rest = r,
                    None => return false,
                }
            } else if i + 1 == n {
                return rest.len() >= part.len() && rest.ends_with(part.as_str());
            } else if let Some(at) = rest.find(part.as_str()) {
                rest = rest.get(at + part.len()..).unwrap_or("");
            } else {
                return false;
            }
        }
        true
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Lower case for matching (ASCII fast path).
pub fn lower(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

/// Compares two version strings segment by segment (`.`, `-`, `_`, `+`, space split);
/// numeric segments compare as numbers, others as text; a missing segment is 0.
///
/// ```
/// use sekisho_fleet::compare_versions;
/// use std::cmp::Ordering;
/// assert_eq!(compare_versions("10.0.19045", "10.0.9200"), Ordering::Greater);
/// assert_eq!(compare_versions("1.2", "1.2.0"), Ordering::Equal);
/// ```
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let split = |s: &str| -> Vec<String> {
        s.trim()
            .split(['.', '-', '_', '+', ' '])
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (a, b) = (split(a), split(b));
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).map_or("0", String::as_str);
        let y = b.get(i).map_or("0", String::as_str);
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// A comparison operator of a version range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// A version range: comparators joined by commas, all of which must hold (`>=1.2, <2`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionReq {
    source: String,
    terms: Vec<(Op, String)>,
}

impl VersionReq {
    /// Parses a range; `Err` says what is wrong.
    ///
    /// ```
    /// use sekisho_fleet::VersionReq;
    /// let r = VersionReq::parse(">=15.0, <15.50").unwrap();
    /// assert!(r.matches("15.43.6"));
    /// assert!(!r.matches("15.51"));
    /// ```
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut terms = Vec::new();
        for t in s.split(',') {
            let t = t.trim();
            let (op, v) = if let Some(v) = t.strip_prefix(">=") {
                (Op::Ge, v)
            } else if let Some(v) = t.strip_prefix("<=") {
                (Op::Le, v)
            } else if let Some(v) = t.strip_prefix("!=") {
                (Op::Ne, v)
            } else if let Some(v) = t.strip_prefix('>') {
                (Op::Gt, v)
            } else if let Some(v) = t.strip_prefix('<') {
                (Op::Lt, v)
            } else if let Some(v) = t.strip_prefix('=') {
                (Op::Eq, v)
            } else {
                (Op::Eq, t)
            };
            let v = v.trim();
            if v.is_empty() {
                return Err(format!("empty version in range {s:?}"));
            }
            terms.push((op, v.to_string()));
        }
        Ok(VersionReq {
            source: s.to_string(),
            terms,
        })
    }

    /// Whether a version is in the range.
    pub fn matches(&self, version: &str) -> bool {
        self.terms.iter().all(|(op, v)| {
            let o = compare_versions(version, v);
            match op {
                Op::Lt => o == Ordering::Less,
                Op::Le => o != Ordering::Greater,
                Op::Gt => o == Ordering::Greater,
                Op::Ge => o != Ordering::Less,
                Op::Eq => o == Ordering::Equal,
                Op::Ne => o != Ordering::Equal,
            }
        })
    }
}

impl fmt::Display for VersionReq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(Glob::new("*anydesk*").matches("c:\\program files\\anydesk\\anydesk.exe"));
        assert!(Glob::new("a*b*c").matches("axxbyyc"));
        assert!(!Glob::new("a*b*c").matches("axxbyy"));
        assert!(!Glob::new("ab*ba").matches("aba"));
        assert!(Glob::new("*").matches(""));
        assert!(Glob::new("Exact").matches("exact"));
    }

    #[test]
    fn ranges() {
        let r = VersionReq::parse("<7.0.3").unwrap();
        assert!(r.matches("7.0.2"));
        assert!(!r.matches("7.0.3"));
        assert!(VersionReq::parse(">=").is_err());
        assert!(VersionReq::parse("!=1.0").unwrap().matches("1.1"));
    }
}
