//! `sekisho logons --org ORG.toml [--csv] [--json] INPUT...`: who logged on where from where.

use crate::Failure;
use crate::analyze::check_inputs;
use anyhow::anyhow;
use clap::Args;
use sekisho_hostlog::{LogContinuity, LogonGroup, LogonSummary, ReadOptions, Verdict, read_paths};
use sekisho_model::Org;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(
    after_help = "Inputs: EVTX files, JSON written by evtx_dump or Winlogbeat, syslog auth logs \
(auth.log, secure) and `journalctl -o json` exports, or directories of them; recognised by content.\n\n\
Examples:\n  sekisho logons --org org.toml C:/evidence/dc1/Security.evtx\n  sekisho logons --org org.toml --csv /var/log/auth.log > logons.csv\n  sekisho logons --org org.toml --json evtx/ | jq '.[] | select(.cross_site)'\n\n\
Exit codes: 0 read, 2 usage or input error (nothing readable)."
)]
pub struct LogonsArgs {
    /// The organisation file (TOML).
    #[arg(long)]
    pub org: PathBuf,
    /// Print CSV (one row per group) instead of the table.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// Print a JSON array of groups instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Year of syslog lines without one (default: each file's modification year).
    #[arg(long)]
    pub year: Option<i32>,
    /// A silence longer than this many hours between records of a log is a continuity break.
    #[arg(long, default_value_t = 24)]
    pub gap_hours: i64,
    /// Event logs, auth logs or directories.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
}

pub fn run(args: LogonsArgs) -> Result<u8, Failure> {
    let org = Org::load(&args.org).map_err(|e| Failure::input(anyhow!("{e}")))?;
    check_inputs(&args.inputs)?;
    let opts = ReadOptions {
        syslog_reference: args.year.map(|y| (y, 12)),
        gap_threshold_micros: args
            .gap_hours
            .max(1)
            .saturating_mul(sekisho_event::Timestamp::HOUR),
        ..ReadOptions::default()
    };
    let run = read_paths::<LogonSummary>(&args.inputs, &opts);
    let groups = run.sink.groups(&org);
    let continuity = run.continuity.report();
    let stats = &run.stats;

    if args.json {
        // Windows ids serialise as numbers (4624), Linux sources as names ("sshd").
        let doc = &groups;
        println!(
            "{}",
            serde_json::to_string_pretty(doc).map_err(anyhow::Error::from)?
        );
    } else if args.csv {
        print!("{}", csv(&groups));
    } else {
        print!("{}", table(&groups));
    }
    // Counts and continuity go to stderr when stdout carries data, so pipes stay clean.
    let notes = notes(stats, &continuity, &run.sink);
    if args.json || args.csv {
        eprint!("{notes}");
    } else {
        print!("{notes}");
    }
    if stats.parsed == 0 && stats.records == 0 {
        eprintln!(
            "error: no record could be read from the inputs ({} rejected, {} files)",
            stats.rejected, stats.files
        );
        return Ok(2);
    }
    Ok(0)
}

/// Strips terminal control characters from attacker-controlled strings.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn opt(s: &Option<String>) -> String {
    s.as_deref().map(clean).unwrap_or_else(|| "-".into())
}

fn table(groups: &[LogonGroup]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<6} {:<7} {:<5} {:<24} {:<32} {:<28} {:>6}  {:<27} {:<27}",
        "EVENT", "RESULT", "TYPE", "USER", "FROM", "TO", "COUNT", "FIRST SEEN", "LAST SEEN"
    );
    for g in groups {
        let user = match &g.domain {
            Some(d) => format!("{}\\{}", clean(d), opt(&g.user)),
            None => opt(&g.user),
        };
        let from = format!(
            "{}{}",
            g.source_ip
                .map(|i| i.to_string())
                .or_else(|| g.source_host.as_deref().map(clean))
                .unwrap_or_else(|| "-".into()),
            g.source_site
                .as_deref()
                .map(|s| format!(" [{}]", clean(s)))
                .unwrap_or_default()
        );
        let to = format!(
            "{}{}",
            opt(&g.host),
            g.host_site
                .as_deref()
                .map(|s| format!(" [{}]", clean(s)))
                .unwrap_or_default()
        );
        let _ = writeln!(
            s,
            "{:<6} {:<7} {:<5} {:<24} {:<32} {:<28} {:>6}  {:<27} {:<27}{}",
            clean(&g.event_id),
            g.outcome.as_str(),
            g.logon_type
                .map(|t| t.to_string())
                .unwrap_or_else(|| "-".into()),
            user,
            from,
            to,
            g.count,
            g.first_seen.to_string(),
            g.last_seen.to_string(),
            if g.cross_site { "  CROSS-SITE" } else { "" }
        );
    }
    s
}

/// RFC 4180 field: quoted when it holds a comma, quote or line break; a leading `=+-@`
/// is prefixed with `'` so spreadsheets do not run attacker-written formulas.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) && s != "-" {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn csv(groups: &[LogonGroup]) -> String {
    let mut s = String::from(
        "event_id,outcome,logon_type,user,domain,source_ip,source_host,source_site,source_asset,host,host_site,host_asset,cross_site,count,first_seen,last_seen\n",
    );
    let o = |v: &Option<String>| csv_field(v.as_deref().unwrap_or(""));
    for g in groups {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            csv_field(&g.event_id),
            g.outcome.as_str(),
            g.logon_type.map(|t| t.to_string()).unwrap_or_default(),
            o(&g.user),
            o(&g.domain),
            g.source_ip.map(|i| i.to_string()).unwrap_or_default(),
            o(&g.source_host),
            o(&g.source_site),
            o(&g.source_asset),
            o(&g.host),
            o(&g.host_site),
            o(&g.host_asset),
            g.cross_site,
            g.count,
            g.first_seen,
            g.last_seen
        );
    }
    s
}

fn notes(
    stats: &sekisho_event::RunStats,
    continuity: &[LogContinuity],
    sum: &LogonSummary,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\nRead {} files: {} records, {} parsed, {} skipped (events sekisho does not use), {} rejected",
        stats.files, stats.records, stats.parsed, stats.skipped, stats.rejected
    );
    for (reason, n) in &stats.rejected_by_reason {
        let _ = writeln!(s, "  rejected {reason}: {n}");
    }
    for r in stats.samples.iter().take(5) {
        let _ = writeln!(s, "  e.g. {}", clean(&r.to_string()));
    }
    if !sum.events.is_empty() {
        let list: Vec<String> = sum.events.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(s, "Host events: {}", list.join(", "));
    }
    if sum.dropped > 0 {
        let _ = writeln!(
            s,
            "note: {} logons beyond the group bound were counted but not grouped",
            sum.dropped
        );
    }
    let broken: Vec<&LogContinuity> = continuity
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Broken { .. }))
        .collect();
    let _ = writeln!(
        s,
        "Log continuity: {} logs, {} continuous, {} with breaks",
        continuity.len(),
        continuity.len() - broken.len(),
        broken.len()
    );
    for c in broken.iter().take(20) {
        let _ = writeln!(
            s,
            "  {} {}: {}",
            clean(&c.host),
            clean(&c.channel),
            clean(&c.summary())
        );
    }
    if broken.len() > 20 {
        let _ = writeln!(s, "  ... and {} more", broken.len() - 20);
    }
    s
}
