//! `sekisho hunt --store DIR "SQL"`: questions over the evidence store, saved hunts from the
//! org file, and indicator sweeps (`--ioc FILE`).

use crate::Failure;
use anyhow::{Context, anyhow};
use clap::Args;
use sekisho_hunt::{Hunt, IndicatorHit, parse_indicators};
use sekisho_model::Org;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Largest indicator list read (bytes).
const MAX_IOC_FILE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Args)]
#[command(
    after_help = "Tables: flows (ts, duration_us, uid, sensor, src_ip, src_port, dst_ip, dst_port, proto, \
service, orig_bytes, resp_bytes, orig_pkts, resp_pkts, conn_state, src_site, dst_site, src_asset, \
dst_asset, direction, policy_action, policy_rule) and alerts (key, detector, severity, ts, last_ts, \
src_ip, src_site, src_asset, dst_ip, dst_site, dst_asset, service, dst_port, rule, attack, summary, \
flow_count, bytes_out, bytes_in, incident, json) and logons from host logs (key, ts, source, event_id, \
action, outcome, user, domain, logon_type, auth, src_ip, src_port, src_host, src_site, src_asset, host, \
host_ip, host_site, host_asset, cross_site, process, session, reason, channel, record_id, file, line, \
fields) and the other host records (key, ts, source, kind, event_id, provider, channel, host, host_site, \
host_asset, record_id, user, domain, target_user, target_host, src_ip, src_port, src_site, src_asset, \
dst_ip, dst_port, process, command, object, outcome, file, line, fields: the source's fields as JSON); \
all have the partition columns day ('YYYY-MM-DD', UTC) and site. Filters on day, site and ts ranges skip other days' and sites' files. \
Function cidr_contains(cidr, ip) tests an address against a network.\n\n\
Indicator files: one per line (IP, CIDR, port as 445 or tcp/445, JA3 hash, domain), # comments.\n\n\
Examples:\n  sekisho hunt --store evidence/ \"SELECT dst_site, service, SUM(orig_bytes) FROM flows WHERE src_site = 'th-bkk' AND day = '2024-05-01' GROUP BY 1, 2\"\n  \
sekisho hunt --store evidence/ --csv \"SELECT * FROM alerts WHERE severity = 'critical'\" > critical.csv\n  \
sekisho hunt --store evidence/ \"SELECT user, src_ip, host, COUNT(*) FROM logons WHERE cross_site AND logon_type = 10 GROUP BY 1, 2, 3\"\n  \
sekisho hunt --store evidence/ --org org.toml --saved overseas-rdp\n  \
sekisho hunt --org org.toml --list\n  \
sekisho hunt --store evidence/ --ioc cert-indicators.txt\n\n\
Exit codes: 0 answered (for --ioc: no indicator found), 1 an indicator was found (--ioc), 2 usage, SQL or store error."
)]
pub struct HuntArgs {
    /// The evidence store directory (as written by `sekisho ingest --store`).
    #[arg(long, required_unless_present = "list")]
    pub store: Option<PathBuf>,
    /// The SQL question.
    #[arg(value_name = "SQL", conflicts_with_all = ["saved", "ioc", "list"])]
    pub sql: Option<String>,
    /// The organisation file holding saved hunts (`[[hunt]]`).
    #[arg(long)]
    pub org: Option<PathBuf>,
    /// Run the saved hunt of this name from the org file.
    #[arg(long, requires = "org", conflicts_with_all = ["ioc", "list"])]
    pub saved: Option<String>,
    /// List the saved hunts of the org file.
    #[arg(long, requires = "org", conflicts_with = "ioc")]
    pub list: bool,
    /// Sweep all history for the indicators in this file.
    #[arg(long, value_name = "FILE")]
    pub ioc: Option<PathBuf>,
    /// Print CSV instead of the table.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// Print JSON (an array of objects) instead of the table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: HuntArgs) -> Result<u8, Failure> {
    let org = match &args.org {
        Some(p) => Some(Org::load(p).map_err(|e| Failure::input(anyhow!("{e}")))?),
        None => None,
    };
    if args.list {
        let org = org.ok_or_else(|| Failure::input(anyhow!("--list needs --org")))?;
        return list(&org, &args).map(|()| 0);
    }
    let store = args
        .store
        .as_ref()
        .ok_or_else(|| Failure::input(anyhow!("--store DIR is required")))?;
    let hunt = Hunt::open(store).map_err(Failure::input)?;
    if let Some(ioc) = &args.ioc {
        return sweep(&hunt, ioc, &args);
    }
    let sql = match (&args.sql, &args.saved) {
        (Some(sql), _) => sql.clone(),
        (None, Some(name)) => {
            let org = org.ok_or_else(|| Failure::input(anyhow!("--saved needs --org")))?;
            match org.hunts.iter().find(|h| &h.name == name) {
                Some(h) => h.sql.clone(),
                None => {
                    let known: Vec<&str> = org.hunts.iter().map(|h| h.name.as_str()).collect();
                    return Err(Failure::input(anyhow!(
                        "no saved hunt `{name}` in the org file (it has: {})",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    )));
                }
            }
        }
        (None, None) => {
            return Err(Failure::input(anyhow!(
                "give an SQL question, --saved NAME (with --org) or --ioc FILE"
            )));
        }
    };
    let result = hunt.query(&sql).map_err(Failure::input)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        result.write_json(&mut out)
    } else if args.csv {
        result.write_csv(&mut out)
    } else {
        result.write_table(&mut out)
    }
    .and_then(|()| out.flush())
    .context("writing the result")?;
    if result.truncated() && (args.json || args.csv) {
        eprintln!(
            "warning: the result was cut at {} rows",
            sekisho_hunt::MAX_RESULT_ROWS
        );
    }
    Ok(0)
}

fn list(org: &Org, args: &HuntArgs) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let res = if args.json {
        let doc: Vec<serde_json::Value> = org
            .hunts
            .iter()
            .map(
                |h| serde_json::json!({"name": h.name, "description": h.description, "sql": h.sql}),
            )
            .collect();
        writeln!(out, "{}", serde_json::Value::from(doc))
    } else if org.hunts.is_empty() {
        writeln!(out, "no saved hunts ([[hunt]] tables) in the org file")
    } else {
        org.hunts.iter().try_for_each(|h| {
            writeln!(
                out,
                "{}  {}\n    {}",
                h.name,
                h.description.as_deref().unwrap_or(""),
                h.sql.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        })
    };
    res.context("writing the list")?;
    Ok(())
}

fn sweep(hunt: &Hunt, path: &Path, args: &HuntArgs) -> Result<u8, Failure> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))
        .map_err(Failure::input)?
        .len();
    if size > MAX_IOC_FILE_BYTES {
        return Err(Failure::input(anyhow!(
            "{}: larger than {MAX_IOC_FILE_BYTES} bytes",
            path.display()
        )));
    }
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read {}", path.display()))
        .map_err(Failure::input)?;
    let text = String::from_utf8_lossy(&bytes);
    let (indicators, bad) = parse_indicators(&text);
    for (line, reason) in &bad {
        eprintln!("warning: {}:{line}: {reason}", path.display());
    }
    if indicators.is_empty() {
        return Err(Failure::input(anyhow!(
            "{}: no indicators (one IP, CIDR, port, JA3 hash or domain per line)",
            path.display()
        )));
    }
    let hits = hunt.sweep(&indicators).map_err(Failure::input)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let doc: Vec<serde_json::Value> = hits.iter().map(hit_json).collect();
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        )
    } else if args.csv {
        write_hits_csv(&mut out, &hits)
    } else {
        write_hits_table(&mut out, &hits)
    }
    .context("writing the sweep")?;
    let found = hits.iter().filter(|h| h.found()).count();
    let unsearchable = hits.iter().filter(|h| h.not_searchable.is_some()).count();
    eprintln!(
        "{} indicators: {found} found, {} not found, {unsearchable} not searchable in this store; {} lines refused",
        hits.len(),
        hits.len().saturating_sub(found + unsearchable),
        bad.len()
    );
    Ok(if found > 0 { 1 } else { 0 })
}

/// First (or last) seen of a hit, RFC 3339 in UTC; empty when never seen.
fn ts(h: &IndicatorHit, first: bool) -> String {
    let t = if first { h.first_seen } else { h.last_seen };
    t.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn sites(h: &IndicatorHit) -> String {
    h.sites.iter().cloned().collect::<Vec<_>>().join(" ")
}

fn hit_json(h: &IndicatorHit) -> serde_json::Value {
    serde_json::json!({
        "indicator": h.indicator.text,
        "kind": h.indicator.kind.as_str(),
        "line": h.indicator.line,
        "searchable": h.not_searchable.is_none(),
        "note": h.not_searchable,
        "flows": h.flows,
        "first_seen": h.first_seen.map(|_| ts(h, true)),
        "last_seen": h.last_seen.map(|_| ts(h, false)),
        "sites": h.sites,
        "alerts": h.alerts,
        "logons": h.logons,
        "host_events": h.host_events,
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn write_hits_csv(out: &mut dyn Write, hits: &[IndicatorHit]) -> std::io::Result<()> {
    writeln!(
        out,
        "indicator,kind,flows,first_seen,last_seen,sites,alerts,logons,host_events,note"
    )?;
    for h in hits {
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            csv_field(&h.indicator.text),
            h.indicator.kind.as_str(),
            h.flows,
            ts(h, true),
            ts(h, false),
            csv_field(&sites(h)),
            h.alerts,
            h.logons,
            h.host_events,
            csv_field(h.not_searchable.as_deref().unwrap_or(""))
        )?;
    }
    Ok(())
}

fn write_hits_table(out: &mut dyn Write, hits: &[IndicatorHit]) -> std::io::Result<()> {
    let width = hits
        .iter()
        .map(|h| h.indicator.text.chars().count())
        .max()
        .unwrap_or(0)
        .max(9);
    writeln!(
        out,
        "{:width$}  {:6}  {:>8}  {:20}  {:20}  {:>6}  {:>6}  {:>11}  sites",
        "indicator", "kind", "flows", "first_seen", "last_seen", "alerts", "logons", "host_events"
    )?;
    for h in hits {
        // Indicator text comes from a file someone sent: no control characters to the terminal.
        let text: String = h
            .indicator
            .text
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        if let Some(note) = &h.not_searchable {
            writeln!(
                out,
                "{text:width$}  {:6}  {note}",
                h.indicator.kind.as_str()
            )?;
            continue;
        }
        writeln!(
            out,
            "{text:width$}  {:6}  {:>8}  {:20}  {:20}  {:>6}  {:>6}  {:>11}  {}",
            h.indicator.kind.as_str(),
            h.flows,
            ts(h, true),
            ts(h, false),
            h.alerts,
            h.logons,
            h.host_events,
            sites(h)
        )?;
    }
    Ok(())
}
