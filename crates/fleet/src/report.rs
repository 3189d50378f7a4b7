//! The fleet report: a summary by site and by check, the lists a team acts on, and the
//! renderings (terminal table, CSV, JSON, self-contained HTML). Every string that comes
//! from an inventory is attacker-controlled and escaped for its medium.

use crate::baseline::{Action, Baseline};
use crate::collect::ReadStats;
use crate::eval::{Terminal, UNPLACED, Verdict};
use sekisho_report::{escape_html, sanitize_terminal};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Hosts listed per action list in the terminal table and HTML (all are in CSV/JSON).
pub const MAX_LISTED: usize = 40;

/// Counts of one site.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SiteSummary {
    /// Site id, or `(unplaced)`.
    pub site: String,
    /// Terminals placed there.
    pub terminals: usize,
    /// Per verdict.
    pub sound: usize,
    /// Per verdict.
    pub at_risk: usize,
    /// Per verdict.
    pub compromised: usize,
    /// Per verdict.
    pub unknown: usize,
    /// Share of terminals that are sound, in percent (one decimal).
    pub sound_pct: f64,
}

/// Counts of one check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckSummary {
    /// Check id.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// Its severity.
    pub severity: String,
    /// Why it exists.
    pub rationale: String,
    /// Terminals it applied to.
    pub applicable: usize,
    /// Terminals that failed it.
    pub failed: usize,
    /// `failed / applicable`, percent (one decimal).
    pub failed_pct: f64,
    /// Failures per site.
    pub failed_by_site: BTreeMap<String, usize>,
}

/// The fleet at a glance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Baseline name.
    pub baseline: String,
    /// Terminals evaluated.
    pub terminals: usize,
    /// Per verdict name.
    pub by_verdict: BTreeMap<String, usize>,
    /// Per site, in the organisation's order (then unplaced).
    pub sites: Vec<SiteSummary>,
    /// Per check, in baseline order.
    pub checks: Vec<CheckSummary>,
    /// Indicators looked for.
    pub indicators: usize,
    /// Newest inventory time (RFC 3339), the reference for staleness.
    pub newest_inventory: Option<String>,
    /// Inventories older than this many days are stale.
    pub stale_after_days: i64,
    /// Hosts to re-image: compromised, or failing a check whose action is `reimage`.
    pub reimage: Vec<String>,
    /// Hosts to patch (not to re-image).
    pub patch: Vec<String>,
    /// Hosts to fix by configuration (neither of the above).
    pub fix: Vec<String>,
}

fn pct(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        (n as f64 * 1000.0 / of as f64).round() / 10.0
    }
}

fn rfc3339(secs: i64) -> String {
    sekisho_event::Timestamp::from_micros(secs.saturating_mul(1_000_000))
        .to_datetime()
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Summarises evaluated terminals. `site_order` lists the organisation's site ids.
pub fn summarize(
    terminals: &[Terminal],
    baseline: &Baseline,
    site_order: &[String],
    indicators: usize,
    reference_time: Option<i64>,
) -> Summary {
    let mut by_verdict: BTreeMap<String, usize> = Verdict::ALL
        .iter()
        .map(|v| (v.as_str().to_string(), 0))
        .collect();
    let mut sites: Vec<SiteSummary> = site_order
        .iter()
        .map(|s| SiteSummary {
            site: s.clone(),
            ..SiteSummary::default()
        })
        .collect();
    let mut checks: Vec<CheckSummary> = baseline
        .checks
        .iter()
        .map(|c| CheckSummary {
            id: c.id.clone(),
            kind: c.rule.kind().to_string(),
            severity: c.severity.to_string(),
            rationale: c.rationale.clone(),
            applicable: 0,
            failed: 0,
            failed_pct: 0.0,
            failed_by_site: BTreeMap::new(),
        })
        .collect();
    let check_index: BTreeMap<&str, usize> = baseline
        .checks
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let (mut reimage, mut patch, mut fix) = (Vec::new(), Vec::new(), Vec::new());
    for t in terminals {
        *by_verdict
            .entry(t.verdict.as_str().to_string())
            .or_insert(0) += 1;
        let si = match sites.iter().position(|s| s.site == t.site) {
            Some(i) => i,
            None => {
                sites.push(SiteSummary {
                    site: t.site.clone(),
                    ..SiteSummary::default()
                });
                sites.len() - 1
            }
        };
        if let Some(s) = sites.get_mut(si) {
            s.terminals += 1;
            match t.verdict {
                Verdict::Sound => s.sound += 1,
                Verdict::AtRisk => s.at_risk += 1,
                Verdict::Compromised => s.compromised += 1,
                Verdict::Unknown => s.unknown += 1,
            }
        }
        for &a in &t.applicable {
            if let Some(c) = checks.get_mut(a as usize) {
                c.applicable += 1;
            }
        }
        for f in &t.failed_checks {
            if let Some(c) = check_index
                .get(f.id.as_str())
                .and_then(|&i| checks.get_mut(i))
            {
                c.failed += 1;
                *c.failed_by_site.entry(t.site.clone()).or_insert(0) += 1;
            }
        }
        let name = format!("{} ({})", t.host, t.site);
        if t.actions.contains(&Action::Reimage) {
            reimage.push(name);
        } else if t.actions.contains(&Action::Patch) {
            patch.push(name);
        } else if t.actions.contains(&Action::Fix) {
            fix.push(name);
        }
    }
    for s in &mut sites {
        s.sound_pct = pct(s.sound, s.terminals);
    }
    // An unplaced bucket with nobody in it says nothing.
    sites.retain(|s| s.terminals > 0 || s.site != UNPLACED);
    for c in &mut checks {
        c.failed_pct = pct(c.failed, c.applicable);
    }
    Summary {
        baseline: baseline.name.clone(),
        terminals: terminals.len(),
        by_verdict,
        sites,
        checks,
        indicators,
        newest_inventory: reference_time.map(rfc3339),
        stale_after_days: baseline.stale_after_days,
        reimage,
        patch,
        fix,
    }
}

/// The `--json` document: `summary`, `terminals` and `input` (read counts, problems).
pub fn json_document(
    summary: &Summary,
    terminals: &[Terminal],
    stats: &ReadStats,
) -> serde_json::Value {
    serde_json::json!({
        "summary": summary,
        "terminals": terminals,
        "input": stats,
    })
}

fn csv_field(s: &str) -> String {
    // A leading = + - @ makes spreadsheets evaluate a cell; quote it and prefix '.
    let guarded = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) || guarded != s {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// One CSV line per terminal (RFC 4180 quoting; cells that a spreadsheet would evaluate
/// are prefixed with `'`).
pub fn csv(terminals: &[Terminal]) -> String {
    let mut out = String::from(
        "host,host_id,site,address,roles,os,verdict,last_seen,age_days,failed_checks,indicator_hits,actions\n",
    );
    for t in terminals {
        let failed: Vec<&str> = t.failed_checks.iter().map(|f| f.id.as_str()).collect();
        let hits: Vec<&str> = t
            .indicator_hits
            .iter()
            .map(|h| h.indicator.as_str())
            .collect();
        let actions: Vec<&str> = t.actions.iter().map(|a| a.as_str()).collect();
        let fields = [
            t.host.clone(),
            t.host_id.clone(),
            t.site.clone(),
            t.address.map(|a| a.to_string()).unwrap_or_default(),
            t.roles.join(";"),
            t.os.clone(),
            t.verdict.to_string(),
            t.last_seen.map(rfc3339).unwrap_or_default(),
            t.age_days.map(|d| d.to_string()).unwrap_or_default(),
            failed.join(";"),
            hits.join(";"),
            actions.join(";"),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out += &line.join(",");
        out.push('\n');
    }
    out
}

fn t(s: &str) -> std::borrow::Cow<'_, str> {
    sanitize_terminal(s)
}

/// The terminal table: fleet summary by site and check, compromised terminals with their
/// hits, and the action lists (first [`MAX_LISTED`] of each).
pub fn text(summary: &Summary, terminals: &[Terminal], stats: &ReadStats, color: bool) -> String {
    let (red, yellow, green, bold, reset) = if color {
        ("\x1b[31m", "\x1b[33m", "\x1b[32m", "\x1b[1m", "\x1b[0m")
    } else {
        ("", "", "", "", "")
    };
    let mut s = String::new();
    let v = |k: &str| summary.by_verdict.get(k).copied().unwrap_or(0);
    let _ = writeln!(
        s,
        "{bold}Fleet inspection{reset}: {} terminals against {} checks{} and {} indicators; newest inventory {}, stale after {} days",
        summary.terminals,
        summary.checks.len(),
        if summary.baseline.is_empty() {
            String::new()
        } else {
            format!(" ({})", t(&summary.baseline))
        },
        summary.indicators,
        summary.newest_inventory.as_deref().unwrap_or("-"),
        summary.stale_after_days
    );
    let _ = writeln!(
        s,
        "  {red}compromised {}{reset}, {yellow}at-risk {}{reset}, unknown {}, {green}sound {}{reset}\n",
        v("compromised"),
        v("at-risk"),
        v("unknown"),
        v("sound")
    );
    let _ = writeln!(
        s,
        "{:<14} {:>9} {:>12} {:>9} {:>9} {:>9} {:>8}",
        "site", "terminals", "compromised", "at-risk", "unknown", "sound", "sound %"
    );
    for site in &summary.sites {
        let _ = writeln!(
            s,
            "{:<14} {:>9} {:>12} {:>9} {:>9} {:>9} {:>7.1}%",
            t(&site.site),
            site.terminals,
            site.compromised,
            site.at_risk,
            site.unknown,
            site.sound,
            site.sound_pct
        );
    }
    let _ = writeln!(
        s,
        "\n{:<28} {:<9} {:>10} {:>8} {:>8}",
        "check", "severity", "applicable", "failed", "failed %"
    );
    for c in &summary.checks {
        let _ = writeln!(
            s,
            "{:<28} {:<9} {:>10} {:>8} {:>7.1}%",
            t(&c.id),
            c.severity,
            c.applicable,
            c.failed,
            c.failed_pct
        );
    }
    let compromised: Vec<&Terminal> = terminals
        .iter()
        .filter(|x| x.verdict == Verdict::Compromised)
        .collect();
    if !compromised.is_empty() {
        let _ = writeln!(
            s,
            "\n{red}{bold}Compromised terminals{reset} ({}):",
            compromised.len()
        );
        for x in compromised.iter().take(MAX_LISTED) {
            let first = x.indicator_hits.first();
            let _ = writeln!(
                s,
                "  {:<22} {:<8} {:<16} {} ({})",
                t(&x.host),
                t(&x.site),
                x.address.map(|a| a.to_string()).unwrap_or_default(),
                first.map_or(String::new(), |h| t(&h.indicator).into_owned()),
                first.map_or(String::new(), |h| t(&h.evidence).into_owned())
            );
        }
        if compromised.len() > MAX_LISTED {
            let _ = writeln!(
                s,
                "  ... and {} more (see --csv or --json)",
                compromised.len() - MAX_LISTED
            );
        }
    }
    for (title, list) in [
        ("Re-image", &summary.reimage),
        ("Patch", &summary.patch),
        ("Fix configuration", &summary.fix),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\n{bold}{title}{reset} ({}):", list.len());
        let shown: Vec<String> = list
            .iter()
            .take(MAX_LISTED)
            .map(|h| t(h).into_owned())
            .collect();
        let _ = writeln!(s, "  {}", shown.join(", "));
        if list.len() > MAX_LISTED {
            let _ = writeln!(
                s,
                "  ... and {} more (see --csv or --json)",
                list.len() - MAX_LISTED
            );
        }
    }
    let problems: u64 = stats.problems.values().sum();
    let _ = writeln!(
        s,
        "\nRead {} files, {} lines, {} rows; {} problems{}",
        stats.files,
        stats.lines,
        stats.rows,
        problems,
        if problems == 0 {
            String::new()
        } else {
            ":".to_string()
        }
    );
    for (k, n) in &stats.problems {
        let first = stats.samples.iter().find(|p| p.kind.as_str() == k);
        let _ = writeln!(
            s,
            "  {k}: {n}{}",
            first.map_or(String::new(), |p| format!(
                " (first at {}:{}: {})",
                t(&p.file),
                p.line,
                t(&p.detail)
            ))
        );
    }
    s
}

/// A self-contained HTML report: inline CSS and SVG, no script, a Content Security
/// Policy that forbids fetching anything, every inventory string escaped.
pub fn html(summary: &Summary, terminals: &[Terminal], stats: &ReadStats) -> String {
    let e = |s: &str| escape_html(s).into_owned();
    let mut h = String::new();
    h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
    h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n";
    let _ = writeln!(
        h,
        "<title>Fleet inspection: {} terminals</title>",
        summary.terminals
    );
    h += "<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}\
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}.num{text-align:right}\
.compromised{color:#b00020;font-weight:bold}.at-risk{color:#b36b00}.unknown{color:#555}.sound{color:#1b7f3b}\
.chart{margin:.5em 0}code{font-size:12px}</style></head><body>\n";
    let v = |k: &str| summary.by_verdict.get(k).copied().unwrap_or(0);
    let _ = writeln!(
        h,
        "<h1>Fleet inspection</h1><p>{} terminals against {} checks{} and {} indicators. Newest inventory {}; inventories older than {} days are <em>unknown</em>, never sound.</p>",
        summary.terminals,
        summary.checks.len(),
        if summary.baseline.is_empty() {
            String::new()
        } else {
            format!(" of <b>{}</b>", e(&summary.baseline))
        },
        summary.indicators,
        e(summary.newest_inventory.as_deref().unwrap_or("-")),
        summary.stale_after_days
    );
    let _ = writeln!(
        h,
        "<p><span class=\"compromised\">{} compromised</span> · <span class=\"at-risk\">{} at risk</span> · <span class=\"unknown\">{} unknown</span> · <span class=\"sound\">{} sound</span></p>",
        v("compromised"),
        v("at-risk"),
        v("unknown"),
        v("sound")
    );
    h += "<h2>By site</h2>\n";
    h += &site_chart(&summary.sites);
    h += "<table><tr><th>site</th><th>terminals</th><th>compromised</th><th>at risk</th><th>unknown</th><th>sound</th><th>sound %</th></tr>\n";
    for s in &summary.sites {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{:.1}</td></tr>",
            e(&s.site),
            s.terminals,
            s.compromised,
            s.at_risk,
            s.unknown,
            s.sound,
            s.sound_pct
        );
    }
    h += "</table>\n<h2>By check</h2>\n<table><tr><th>check</th><th>kind</th><th>severity</th><th>applicable</th><th>failed</th><th>failed %</th><th>rationale</th></tr>\n";
    for c in &summary.checks {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{:.1}</td><td>{}</td></tr>",
            e(&c.id),
            e(&c.kind),
            e(&c.severity),
            c.applicable,
            c.failed,
            c.failed_pct,
            e(&c.rationale)
        );
    }
    h += "</table>\n";
    let compromised: Vec<&Terminal> = terminals
        .iter()
        .filter(|x| x.verdict == Verdict::Compromised)
        .collect();
    if !compromised.is_empty() {
        let _ = writeln!(
            h,
            "<h2 class=\"compromised\">Compromised terminals ({})</h2>",
            compromised.len()
        );
        h += "<table><tr><th>host</th><th>site</th><th>address</th><th>indicators</th></tr>\n";
        for x in compromised.iter().take(MAX_LISTED * 5) {
            let hits: Vec<String> = x
                .indicator_hits
                .iter()
                .take(10)
                .map(|i| format!("<code>{}</code> — {}", e(&i.indicator), e(&i.evidence)))
                .collect();
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e(&x.host),
                e(&x.site),
                x.address.map(|a| a.to_string()).unwrap_or_default(),
                hits.join("<br>")
            );
        }
        h += "</table>\n";
    }
    for (title, list) in [
        ("Re-image", &summary.reimage),
        ("Patch", &summary.patch),
        ("Fix configuration", &summary.fix),
    ] {
        let _ = writeln!(h, "<h2>{title} ({})</h2>", list.len());
        if list.is_empty() {
            continue;
        }
        let shown: Vec<String> = list.iter().take(MAX_LISTED * 5).map(|x| e(x)).collect();
        let _ = writeln!(h, "<p>{}</p>", shown.join(", "));
        if list.len() > MAX_LISTED * 5 {
            let _ = writeln!(
                h,
                "<p>… and {} more: all are in the CSV and JSON outputs.</p>",
                list.len() - MAX_LISTED * 5
            );
        }
    }
    let problems: u64 = stats.problems.values().sum();
    let _ = writeln!(
        h,
        "<h2>Input</h2><p>{} files, {} lines, {} rows, {} problems.</p>",
        stats.files, stats.lines, stats.rows, problems
    );
    if problems > 0 {
        h += "<table><tr><th>problem</th><th>count</th><th>first at</th></tr>\n";
        for (k, n) in &stats.problems {
            let first = stats.samples.iter().find(|p| p.kind.as_str() == k);
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=num>{n}</td><td>{}</td></tr>",
                e(k),
                first.map_or(String::new(), |p| format!(
                    "{}:{}: {}",
                    e(&p.file),
                    p.line,
                    e(&p.detail)
                ))
            );
        }
        h += "</table>\n";
    }
    h += "</body></html>\n";
    h
}

/// A horizontal stacked bar per site (compromised, at risk, unknown, sound), inline SVG.
fn site_chart(sites: &[SiteSummary]) -> String {
    const W: f64 = 520.0;
    const ROW: usize = 26;
    let colors = [
        ("compromised", "#b00020"),
        ("at risk", "#e69500"),
        ("unknown", "#9e9e9e"),
        ("sound", "#2e7d32"),
    ];
    let height = ROW * sites.len() + 30;
    let mut s = format!(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" role=\"img\" aria-label=\"terminals by site and verdict\">\n",
        W as usize + 260
    );
    for (i, site) in sites.iter().enumerate() {
        let y = i * ROW;
        let _ = writeln!(
            s,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text>",
            y + 16,
            escape_html(&site.site)
        );
        let mut x = 110.0;
        let parts = [site.compromised, site.at_risk, site.unknown, site.sound];
        for (n, (label, color)) in parts.iter().zip(colors) {
            if *n == 0 || site.terminals == 0 {
                continue;
            }
            let w = (W * *n as f64 / site.terminals as f64).max(1.0);
            let _ = writeln!(
                s,
                "<rect x=\"{x:.1}\" y=\"{}\" width=\"{w:.1}\" height=\"18\" fill=\"{color}\"><title>{}: {n} {label}</title></rect>",
                y + 3,
                escape_html(&site.site)
            );
            x += w;
        }
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\">{} terminals, {:.1}% sound</text>",
            W as usize + 120,
            y + 16,
            site.terminals,
            site.sound_pct
        );
    }
    let y = ROW * sites.len() + 20;
    let mut x = 110;
    for (label, color) in colors {
        let _ = writeln!(
            s,
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{}\" y=\"{}\" font-size=\"11\">{label}</text>",
            y - 9,
            x + 14,
            y
        );
        x += 100;
    }
    s += "</svg>\n";
    s
}
