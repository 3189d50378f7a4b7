//! `sekisho attest --org ORG.toml --store DIR --from DATE --to DATE [--from-site S|--from-tag T] [--to-site S]`

use crate::Failure;
use crate::analyze;
use anyhow::{Context, anyhow};
use clap::Args;
use sekisho_attest::{HostLog, Scope};
use sekisho_event::Timestamp;
use sekisho_hostlog::{Break, CountSink, ReadOptions, Verdict, read_paths};
use sekisho_model::Org;
use sekisho_store::Store;
use std::collections::BTreeSet;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  sekisho attest --org org.toml --store store/ --from 2024-07-07 --to 2024-07-31 --from-tag overseas --to-site jp-hq\n  sekisho attest --org org.toml --store store/ --from 2024-07-01 --to 2024-07-08 --html attest.html\n\nDATE is YYYY-MM-DD (UTC midnight; --to is inclusive of that day) or RFC 3339.\nExit codes: 0 nothing unauthorized found in scope, 1 found, 2 usage or store error."
)]
pub struct AttestArgs {
    /// The organisation file (TOML): sites, tags and the sensors that should have watched.
    #[arg(long)]
    pub org: PathBuf,
    /// The store directory.
    #[arg(long)]
    pub store: PathBuf,
    /// Start of the period.
    #[arg(long, value_name = "DATE")]
    pub from: String,
    /// End of the period.
    #[arg(long, value_name = "DATE")]
    pub to: String,
    /// Only crossings from this site (repeatable).
    #[arg(long, value_name = "SITE", conflicts_with = "from_tag")]
    pub from_site: Vec<String>,
    /// Only crossings from sites with this tag.
    #[arg(long, value_name = "TAG")]
    pub from_tag: Option<String>,
    /// Only crossings to this site.
    #[arg(long, value_name = "SITE")]
    pub to_site: Option<String>,
    /// Silences longer than this are coverage gaps (default: the sensor-gap detector's
    /// threshold from the org file).
    #[arg(long, value_name = "MINUTES")]
    pub max_gap_minutes: Option<u32>,
    /// Print the attestation as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the self-contained HTML report here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Host event logs (EVTX, event JSON, auth logs; files or directories) whose
    /// continuity over the period is checked: a log with missing records, a silence over
    /// 24 hours, a clear, or that does not span the period is named in the claim.
    #[arg(long, value_name = "PATH")]
    pub host_logs: Vec<PathBuf>,
}

/// The continuity of the host logs in `paths` over `[from, to)`: logs that overlap the
/// period, each judged by the breaks that fall inside it.
fn host_logs(paths: &[PathBuf], from: i64, to: i64) -> Vec<HostLog> {
    // The host-log default (24 h), not the sensors' gap: a quiet host's Security log is
    // legitimately silent for hours.
    let opts = ReadOptions::default();
    let collected = read_paths::<CountSink>(paths, &opts);
    let (from_ts, to_ts) = (Timestamp::from_micros(from), Timestamp::from_micros(to));
    let inside = |a: Option<Timestamp>, b: Option<Timestamp>| {
        a.is_none_or(|a| a < to_ts) && b.is_none_or(|b| b >= from_ts)
    };
    collected
        .continuity
        .report()
        .into_iter()
        .filter(|l| l.last_ts >= from_ts && l.first_ts < to_ts)
        .map(|mut l| {
            if let Verdict::Broken { breaks, more } = &mut l.verdict {
                breaks.retain(|b| match b {
                    Break::RecordGap { from, to, .. } => inside(*from, *to),
                    Break::TimeGap { from, to, .. } => inside(Some(*from), Some(*to)),
                    Break::Cleared { at, .. } => inside(Some(*at), Some(*at)),
                });
                if breaks.is_empty() && *more == 0 {
                    l.verdict = Verdict::Continuous {
                        from: l.first_ts,
                        to: l.last_ts,
                    };
                }
            }
            HostLog {
                continuous: matches!(l.verdict, Verdict::Continuous { .. }),
                spans_period: l.first_ts <= from_ts && l.last_ts >= to_ts,
                summary: l.summary(),
                host: l.host,
                channel: l.channel,
                records: l.records,
                first_ts: l.first_ts,
                last_ts: l.last_ts,
            }
        })
        .collect()
}

/// `YYYY-MM-DD` (midnight UTC, or the next midnight when `end_of_day`) or RFC 3339.
pub fn parse_date(s: &str, end_of_day: bool) -> Option<i64> {
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let d = if end_of_day { d.succ_opt()? } else { d };
        return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros());
    }
    Timestamp::parse_rfc3339(s).map(Timestamp::as_micros)
}

pub fn run(args: AttestArgs) -> Result<u8, Failure> {
    let org = Org::load(&args.org).map_err(|e| Failure::input(anyhow!("{e}")))?;
    let from = parse_date(&args.from, false).ok_or_else(|| {
        Failure::input(anyhow!(
            "--from {:?} is not YYYY-MM-DD or RFC 3339",
            args.from
        ))
    })?;
    let to = parse_date(&args.to, true).ok_or_else(|| {
        Failure::input(anyhow!("--to {:?} is not YYYY-MM-DD or RFC 3339", args.to))
    })?;
    if to <= from {
        return Err(Failure::input(anyhow!("--to is not after --from")));
    }
    let known = |s: &str| org.site_by_id(s).is_some();
    for s in args.from_site.iter().chain(&args.to_site) {
        if !known(s) {
            return Err(Failure::input(anyhow!(
                "site {s:?} is not in {}",
                args.org.display()
            )));
        }
    }
    let from_sites: Option<BTreeSet<String>> = if let Some(tag) = &args.from_tag {
        let sites: BTreeSet<String> = org
            .sites
            .iter()
            .filter(|s| s.tags.iter().any(|t| t == tag))
            .map(|s| s.id.clone())
            .collect();
        if sites.is_empty() {
            return Err(Failure::input(anyhow!("no site has the tag {tag:?}")));
        }
        Some(sites)
    } else if args.from_site.is_empty() {
        None
    } else {
        Some(args.from_site.iter().cloned().collect())
    };
    let max_gap_minutes = args
        .max_gap_minutes
        .unwrap_or(org.detectors.sensor_gap.max_silence_minutes);
    let scope = Scope {
        from,
        to,
        from_sites,
        to_site: args.to_site.clone(),
        max_gap_us: i64::from(max_gap_minutes) * 60_000_000,
    };
    let store = Store::open(&args.store).map_err(|e| Failure::input(anyhow!("{e}")))?;
    let mut att =
        sekisho_attest::attest(&store, &org, &scope).map_err(|e| Failure::input(anyhow!("{e}")))?;
    if !args.host_logs.is_empty() {
        analyze::check_inputs(&args.host_logs)?;
        att.add_host_logs(host_logs(&args.host_logs, from, to));
    }
    if let Some(path) = &args.html {
        std::fs::write(path, sekisho_attest::html(&att))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&att).map_err(anyhow::Error::from)?
        );
    } else {
        print!("{}", sekisho_attest::text(&att));
    }
    Ok(if att.none_found { 0 } else { 1 })
}
