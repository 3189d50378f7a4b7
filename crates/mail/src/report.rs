//! Output: a terminal table, the JSON array, and a self-contained HTML report (inline
//! CSS, a Content-Security-Policy that forbids every fetch, all message content escaped).

use crate::{Level, Verdict};
use serde::Serialize;
use std::fmt::Write as _;

/// One scanned message and where it came from.
#[derive(Clone, Debug, Serialize)]
pub struct ScanResult {
    /// File path, plus `:LINE` for a message inside an mbox.
    pub path: String,
    /// What the scan concluded.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// Counts by verdict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Messages scanned.
    pub messages: usize,
    /// Clean ones.
    pub clean: usize,
    /// Suspicious ones.
    pub suspicious: usize,
    /// Malicious ones.
    pub malicious: usize,
    /// Messages with at least one structural problem.
    pub malformed: usize,
}

/// Counts the results.
pub fn totals(results: &[ScanResult]) -> Totals {
    let mut t = Totals {
        messages: results.len(),
        ..Totals::default()
    };
    for r in results {
        match r.verdict.level {
            Level::Clean => t.clean += 1,
            Level::Suspicious => t.suspicious += 1,
            Level::Malicious => t.malicious += 1,
        }
        if !r.verdict.malformed.is_empty() {
            t.malformed += 1;
        }
    }
    t
}

/// Removes terminal control characters (ESC sequences in a subject must not drive the
/// terminal) and cuts to `max` characters.
pub fn term_safe(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

/// The terminal table: one line per message not clean (and a count of clean ones),
/// each with its main reasons.
pub fn table(results: &[ScanResult], show_clean: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<11} {:>6}  {:<48}  REASONS",
        "VERDICT", "SCORE", "MESSAGE"
    );
    for r in results {
        let v = &r.verdict;
        if v.level == Level::Clean && !show_clean {
            continue;
        }
        let reasons: Vec<String> = v
            .reasons
            .iter()
            .filter(|x| x.weight > 0.0)
            .take(4)
            .map(|x| format!("{} ({:+})", x.id, x.weight))
            .collect();
        let _ = writeln!(
            s,
            "{:<11} {:>6.1}  {:<48}  {}",
            v.level.as_str(),
            v.score,
            term_safe(&r.path, 48),
            reasons.join(", ")
        );
        if !v.subject.is_empty() {
            let _ = writeln!(s, "{:<19} subject: {}", "", term_safe(&v.subject, 90));
        }
        if let Some(top) = v.reasons.first() {
            let _ = writeln!(
                s,
                "{:<19} {}: {}",
                "",
                top.id,
                term_safe(&top.evidence, 110)
            );
        }
    }
    let t = totals(results);
    let _ = writeln!(
        s,
        "\n{} messages: {} malicious, {} suspicious, {} clean{}",
        t.messages,
        t.malicious,
        t.suspicious,
        t.clean,
        if t.malformed > 0 {
            format!(" ({} malformed, see --json)", t.malformed)
        } else {
            String::new()
        }
    );
    s
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A self-contained HTML report. Nothing is fetched (CSP `default-src 'none'`), no
/// script, every message-derived string escaped.
pub fn html(results: &[ScanResult], title: &str) -> String {
    let t = totals(results);
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    s.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'; base-uri 'none'\">\n");
    s.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n");
    let _ = writeln!(s, "<title>{}</title>", escape_html(title));
    s.push_str("<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4em;vertical-align:top;text-align:left}.malicious{color:#fff;background:#b00020}.suspicious{background:#ffb300}.clean{background:#e0f2e9}.v{padding:.1em .5em;border-radius:3px;font-weight:600}code{font-size:12px;word-break:break-all}ul{margin:0;padding-left:1.2em}</style>\n");
    s.push_str("</head><body>\n");
    let _ = writeln!(s, "<h1>{}</h1>", escape_html(title));
    let _ = writeln!(
        s,
        "<p>{} messages: <span class=\"v malicious\">{} malicious</span> <span class=\"v suspicious\">{} suspicious</span> <span class=\"v clean\">{} clean</span>; {} malformed.</p>",
        t.messages, t.malicious, t.suspicious, t.clean, t.malformed
    );
    s.push_str("<table><thead><tr><th>Verdict</th><th>Score</th><th>Message</th><th>Reasons</th></tr></thead><tbody>\n");
    let mut sorted: Vec<&ScanResult> = results.iter().collect();
    sorted.sort_by(|a, b| {
        b.verdict
            .score
            .total_cmp(&a.verdict.score)
            .then(a.path.cmp(&b.path))
    });
    for r in sorted {
        let v = &r.verdict;
        let _ = write!(
            s,
            "<tr><td><span class=\"v {lvl}\">{lvl}</span></td><td>{:.1}</td><td><code>{}</code><br>From: {}<br>Subject: {}</td><td><ul>",
            v.score,
            escape_html(&r.path),
            escape_html(&v.from),
            escape_html(&v.subject),
            lvl = v.level.as_str()
        );
        for x in &v.reasons {
            let _ = write!(
                s,
                "<li><b>{}</b> ({:+}): {}</li>",
                escape_html(x.id),
                x.weight,
                escape_html(&x.evidence)
            );
        }
        for m in &v.malformed {
            let _ = write!(
                s,
                "<li><i>malformed {} at byte {}</i>: {}</li>",
                m.kind.as_str(),
                m.offset,
                escape_html(&m.detail)
            );
        }
        s.push_str("</ul></td></tr>\n");
    }
    s.push_str("</tbody></table>\n");
    let _ = writeln!(
        s,
        "<p><small>sekisho mail scan; weights and thresholds: docs/mail-triage.md</small></p>"
    );
    s.push_str("</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_subjects_are_escaped_and_nothing_is_fetched() {
        let v = Verdict {
            level: Level::Malicious,
            score: 9.0,
            reasons: vec![],
            malformed: vec![],
            subject: "<script>alert(1)</script><img src=http://x>".into(),
            dkim: vec![],
            from: "\"a\" <b@c>".into(),
        };
        let h = html(
            &[ScanResult {
                path: "m.eml".into(),
                verdict: v,
            }],
            "Mail",
        );
        assert!(!h.contains("<script>") && !h.contains("<img"));
        assert!(h.contains("&lt;script&gt;"));
        assert!(h.contains("default-src 'none'"));
    }

    #[test]
    fn terminal_output_drops_control_characters() {
        assert_eq!(term_safe("a\u{1b}[31mb", 10), "a [31mb");
    }
}
