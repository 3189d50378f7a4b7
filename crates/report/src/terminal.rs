//! What `sekisho analyze` prints: input counts, alerts by detector, incidents with scope.

use crate::Analysis;
use crate::escape::{clip, sanitize_terminal};
use crate::facts::{
    Facts, bytes_total, crossing_label, fmt_bytes, fmt_count, fmt_ts, severity_breakdown,
};
use sekisho_event::Severity;
use std::fmt::Write as _;

/// Rejections listed with their position (the rest are counted by reason).
const SHOWN_REJECTIONS: usize = 5;
/// Items listed per scope line (sites, assets, ...) before `+N more`.
const SHOWN_ITEMS: usize = 8;
/// Entry points listed per incident.
const SHOWN_ENTRY_POINTS: usize = 3;
/// Longest hostile string printed, in characters; the reports have them whole.
const MAX_VALUE_CHARS: usize = 120;

/// ANSI SGR sequences: the only escape sequences this module ever writes.
mod sgr {
    pub const RESET: &str = "\x1b[0m";
    pub const BOLD: &str = "\x1b[1m";
    pub const DIM: &str = "\x1b[2m";
    pub const RED_BOLD: &str = "\x1b[1;31m";
    pub const RED: &str = "\x1b[31m";
    pub const YELLOW: &str = "\x1b[33m";
    pub const CYAN: &str = "\x1b[36m";
    pub const GREEN: &str = "\x1b[32m";
}

#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn with(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("{code}{text}{}", sgr::RESET)
        } else {
            text.to_string()
        }
    }

    fn bold(self, text: &str) -> String {
        self.with(sgr::BOLD, text)
    }

    fn dim(self, text: &str) -> String {
        self.with(sgr::DIM, text)
    }

    /// Severity name, padded to `width` before colouring so that columns line up.
    fn severity(self, s: Severity, width: usize) -> String {
        let code = match s {
            Severity::Critical => sgr::RED_BOLD,
            Severity::High => sgr::RED,
            Severity::Medium => sgr::YELLOW,
            Severity::Low => sgr::CYAN,
            Severity::Info => sgr::DIM,
        };
        self.with(code, &format!("{:<width$}", s.as_str()))
    }
}

/// A hostile value ready for the terminal: one line, no control characters, clipped.
fn t(s: &str) -> String {
    clip(&sanitize_terminal(s), MAX_VALUE_CHARS).into_owned()
}

/// `a, b, c, +4 more`, each item sanitised.
fn list<S: AsRef<str>>(items: &[S]) -> String {
    let mut out: Vec<String> = items
        .iter()
        .take(SHOWN_ITEMS)
        .map(|s| t(s.as_ref()))
        .collect();
    if items.len() > SHOWN_ITEMS {
        out.push(format!("+{} more", items.len() - SHOWN_ITEMS));
    }
    if out.is_empty() {
        "-".to_string()
    } else {
        out.join(", ")
    }
}

/// The summary `sekisho analyze` prints: records read, parsed and rejected (with reasons
/// and the first positions), alerts by detector, and every incident with its scope.
///
/// With `color` the output uses ANSI SGR colour sequences (and no other escape sequence);
/// without, it is plain text. Every string that came from the input is passed through
/// [`sanitize_terminal`](crate::sanitize_terminal) and clipped, so log content cannot move
/// the cursor, retitle the window or fake a line of output.
pub fn terminal_summary(a: &Analysis, color: bool) -> String {
    let p = Paint(color);
    let facts = Facts::new(a);
    let st = a.stats;
    let mut o = String::new();

    // Input: nothing is lost silently.
    let _ = writeln!(
        o,
        "{} {} read, {} parsed, {} rejected, {} skipped {}",
        p.bold("Records:"),
        fmt_count(st.records),
        fmt_count(st.parsed),
        if st.rejected > 0 {
            p.with(sgr::YELLOW, &fmt_count(st.rejected))
        } else {
            fmt_count(st.rejected)
        },
        fmt_count(st.skipped),
        p.dim(&format!(
            "({} files, {})",
            fmt_count(st.files),
            fmt_bytes(st.bytes)
        )),
    );
    if st.duplicates > 0 {
        let _ = writeln!(
            o,
            "  {} flows logged by more than one sensor: analysed once",
            fmt_count(st.duplicates)
        );
    }
    if !st.rejected_by_reason.is_empty() {
        let reasons: Vec<String> = st
            .rejected_by_reason
            .iter()
            .map(|(r, n)| format!("{} {}", t(r), fmt_count(*n)))
            .collect();
        let _ = writeln!(o, "  rejected by reason: {}", reasons.join(", "));
    }
    for r in st.samples.iter().take(SHOWN_REJECTIONS) {
        let _ = writeln!(
            o,
            "  {}:{}: {}: {}",
            t(&r.file),
            r.line,
            r.reason,
            t(&r.detail)
        );
    }
    let shown = SHOWN_REJECTIONS.min(st.samples.len());
    if shown > 0 && st.rejected > shown as u64 {
        let _ = writeln!(
            o,
            "  {}",
            p.dim(&format!(
                "(first {shown} of {} rejections shown)",
                fmt_count(st.rejected)
            ))
        );
    }

    // Alerts by detector.
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{} {}",
        p.bold("Alerts:"),
        fmt_count(a.alerts.len() as u64)
    );
    if !facts.by_detector.is_empty() {
        let names: Vec<String> = facts.by_detector.iter().map(|d| t(d.detector)).collect();
        let w = names
            .iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(0)
            .max("DETECTOR".len());
        let counts: Vec<String> = facts
            .by_detector
            .iter()
            .map(|d| fmt_count(d.alerts))
            .collect();
        let cw = counts
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(0)
            .max("ALERTS".len());
        let _ = writeln!(
            o,
            "  {}",
            p.dim(&format!("{:<w$}  {:>cw$}  HIGHEST", "DETECTOR", "ALERTS"))
        );
        for ((d, name), count) in facts.by_detector.iter().zip(&names).zip(&counts) {
            let pad = w - name.chars().count();
            let _ = writeln!(
                o,
                "  {name}{:pad$}  {count:>cw$}  {}",
                "",
                p.severity(d.worst, 0)
            );
        }
    }

    // Incidents with scope.
    let _ = writeln!(o);
    if a.incidents.is_empty() {
        let _ = writeln!(o, "{} {}", p.bold("Incidents:"), p.with(sgr::GREEN, "0"));
    } else {
        let _ = write!(o, "{} {}", p.bold("Incidents:"), a.incidents.len());
        let _ = writeln!(o, " ({})", severity_breakdown(&facts.incidents_by_severity));
    }
    for inc in a.incidents {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "{}  {}  {}",
            p.bold(&t(&inc.id)),
            p.severity(inc.severity, 8),
            t(&inc.title)
        );
        let line = |o: &mut String, label: &str, value: String| {
            let _ = writeln!(o, "  {}{value}", p.dim(&format!("{label:<13}")));
        };
        line(
            &mut o,
            "seen",
            format!("{} → {} UTC", fmt_ts(inc.first_seen), fmt_ts(inc.last_seen)),
        );
        if inc.entry_points.is_empty() {
            line(&mut o, "entry points", "-".into());
        }
        for (n, e) in inc.entry_points.iter().take(SHOWN_ENTRY_POINTS).enumerate() {
            line(
                &mut o,
                if n == 0 { "entry points" } else { "" },
                format!(
                    "{} {} at {} ({})",
                    t(&crossing_label(&e.src, &e.dst)),
                    e.service,
                    fmt_ts(e.ts),
                    t(&e.alert_id)
                ),
            );
        }
        if inc.entry_points.len() > SHOWN_ENTRY_POINTS {
            line(
                &mut o,
                "",
                format!("+{} more", inc.entry_points.len() - SHOWN_ENTRY_POINTS),
            );
        }
        line(&mut o, "sites", list(&inc.sites));
        line(&mut o, "assets", list(&inc.assets));
        line(&mut o, "data classes", list(&inc.data_classes));
        line(&mut o, "customers", list(&inc.customers));
        if !inc.users.is_empty() {
            line(&mut o, "users", list(&inc.users));
        }
        let moved: Vec<String> = inc
            .bytes_moved
            .iter()
            .map(|b| {
                format!(
                    "{} → {} {}",
                    t(&b.from_site),
                    t(&b.to_site),
                    fmt_bytes(b.bytes)
                )
            })
            .collect();
        line(
            &mut o,
            "bytes moved",
            if moved.is_empty() {
                "-".into()
            } else {
                format!("{} (total {})", list(&moved), fmt_bytes(bytes_total(inc)))
            },
        );
        line(
            &mut o,
            "alerts",
            format!("{} ({})", inc.alert_ids.len(), list(&inc.detectors)),
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paint_writes_nothing_without_color() {
        assert_eq!(Paint(false).severity(Severity::High, 6), "high  ");
        assert_eq!(Paint(true).bold("x"), "\x1b[1mx\x1b[0m");
    }

    #[test]
    fn list_caps_items() {
        let items: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
        assert_eq!(list(&items), "s0, s1, s2, s3, s4, s5, s6, s7, +2 more");
        assert_eq!(list::<String>(&[]), "-");
    }
}
