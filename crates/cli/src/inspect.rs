//! `sekisho inspect --org ORG.toml --baseline BASE.toml [--iocs FILE]... INVENTORY...`

use crate::{Failure, output};
use anyhow::{Context as _, anyhow};
use clap::Args;
use sekisho_fleet::report::{Summary, csv, html, json_document, summarize, text};
use sekisho_fleet::{
    Baseline, Context, Indicators, ReadStats, Terminal, Verdict, evaluate_all, newest, source,
};
use sekisho_model::Org;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  sekisho inspect --org org.toml --baseline baseline.toml /var/log/osquery/\n  \
sekisho inspect --org org.toml --baseline baseline.toml --iocs case.stix.json --html fleet.html inventories/\n  \
sekisho inspect --org org.toml --baseline baseline.toml --from-incident INC-0001 --incidents report/incidents.json --csv inv/\n\n\
Inventories: osqueryd results logs (JSON lines: event, batch/differential and snapshot formats; gzip allowed)\n\
and `osqueryi --json` dumps saved as HOST/TABLE.json. Directories are searched recursively.\n\
Indicator files: a STIX 2.1 bundle (starts with `{`) or a plain list (`kind:value` per line).\n\n\
Verdicts: compromised (an indicator matched), at-risk (a check failed), unknown (inventory older than\n\
the baseline's stale_after_days against the newest inventory of the run, or incomplete; never sound), sound.\n\n\
Exit codes: 0 no terminal compromised or at risk, 1 some are, 2 usage or input error."
)]
pub struct InspectArgs {
    /// The organisation file (TOML): places each terminal in its site by address.
    #[arg(long)]
    pub org: PathBuf,
    /// The baseline (TOML): the checks every terminal must pass.
    #[arg(long)]
    pub baseline: PathBuf,
    /// Indicators that must be absent: a STIX 2.1 bundle or a plain list (repeatable).
    #[arg(long, value_name = "FILE")]
    pub iocs: Vec<PathBuf>,
    /// Take indicators (the incident's hosts) from an incident sekisho produced.
    #[arg(long, value_name = "ID", requires = "incidents")]
    pub from_incident: Option<String>,
    /// The incidents.json written by `sekisho analyze --out` or `sekisho demo`.
    #[arg(long, value_name = "FILE", requires = "from_incident")]
    pub incidents: Option<PathBuf>,
    /// Override the baseline's stale_after_days.
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(i64).range(1..=3650))]
    pub stale_after: Option<i64>,
    /// Print one CSV line per terminal instead of the summary.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// Print one JSON document (summary, terminals, input) instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML report here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Threads to read and evaluate with (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// osquery results logs, osqueryi dumps, or directories of them.
    #[arg(required = true, value_name = "INVENTORY")]
    pub inventories: Vec<PathBuf>,
}

/// A finished inspection.
pub struct Inspection {
    pub terminals: Vec<Terminal>,
    pub summary: Summary,
    pub stats: ReadStats,
}

/// Reads one indicator file: a STIX bundle when it starts with `{`, else a plain list.
pub fn load_iocs(path: &Path) -> Result<Indicators, Failure> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading indicators {}", path.display()))
        .map_err(Failure::input)?;
    let name = path.display().to_string();
    let parsed = if text.trim_start().starts_with('{') {
        Indicators::from_stix(&text, &name)
    } else {
        Indicators::from_list(&text, &name)
    };
    let ind = parsed.map_err(|e| Failure::input(anyhow!("{e}")))?;
    for s in ind.skipped.iter().take(10) {
        eprintln!("note: {name}: skipped {s}");
    }
    if ind.skipped.len() > 10 {
        eprintln!(
            "note: {name}: {} more patterns skipped",
            ind.skipped.len() - 10
        );
    }
    Ok(ind)
}

/// Reads the inventories and evaluates them.
pub fn inspect(
    org: &Org,
    baseline: &Baseline,
    indicators: &Indicators,
    inventories: &[PathBuf],
    threads: usize,
) -> Inspection {
    let bar = output::reading_bar();
    bar.set_message("reading inventories");
    let (invs, stats) = source::read_inventories(inventories, threads);
    bar.set_message(format!("evaluating {} terminals", invs.len()));
    let reference_time = newest(&invs);
    let ctx = Context {
        org,
        baseline,
        indicators,
        reference_time,
    };
    let terminals = evaluate_all(&invs, &ctx, threads);
    drop(invs);
    bar.finish_and_clear();
    let sites: Vec<String> = org.sites.iter().map(|s| s.id.clone()).collect();
    let summary = summarize(
        &terminals,
        baseline,
        &sites,
        indicators.len(),
        reference_time,
    );
    Inspection {
        terminals,
        summary,
        stats,
    }
}

pub fn threads(requested: Option<usize>) -> usize {
    requested
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

pub fn run(args: InspectArgs) -> Result<u8, Failure> {
    let org = Org::load(&args.org).map_err(|e| Failure::input(anyhow!("{e}")))?;
    let mut baseline =
        Baseline::load(&args.baseline).map_err(|e| Failure::input(anyhow!("{e}")))?;
    if let Some(d) = args.stale_after {
        baseline.stale_after_days = d;
    }
    crate::analyze::check_inputs(&args.inventories)?;
    let mut indicators = Indicators::new();
    for f in &args.iocs {
        indicators.extend(load_iocs(f)?);
    }
    if let (Some(id), Some(file)) = (&args.from_incident, &args.incidents) {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading {}", file.display()))
            .map_err(Failure::input)?;
        let ind = Indicators::from_incident(&text, &file.display().to_string(), id)
            .map_err(|e| Failure::input(anyhow!("{e}")))?;
        indicators.extend(ind);
    }
    indicators.prepare();
    let r = inspect(
        &org,
        &baseline,
        &indicators,
        &args.inventories,
        threads(args.threads),
    );
    if let Some(path) = &args.html {
        std::fs::write(path, html(&r.summary, &r.terminals, &r.stats))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        let doc = json_document(&r.summary, &r.terminals, &r.stats);
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).map_err(anyhow::Error::from)?
        );
    } else if args.csv {
        print!("{}", csv(&r.terminals));
    } else {
        print!(
            "{}",
            text(&r.summary, &r.terminals, &r.stats, output::stdout_color())
        );
        if let Some(path) = &args.html {
            println!("\nReport written to {}", path.display());
        }
    }
    if r.terminals.is_empty() {
        // Nothing readable is an input error, not a healthy fleet.
        eprintln!(
            "error: no inventory could be read from the inputs ({} files, {} lines)",
            r.stats.files, r.stats.lines
        );
        return Ok(2);
    }
    let bad = r
        .terminals
        .iter()
        .any(|t| matches!(t.verdict, Verdict::Compromised | Verdict::AtRisk));
    Ok(u8::from(bad))
}

/// The demo's fleet part: inspects `DIR/fleet` with its baseline and indicators, writes
/// `DIR/report/fleet.html`, prints the summary and how it compares with the truth.
pub fn demo_fleet(out: &Path, org: &Org) -> Result<(), Failure> {
    let files = sekisho_demo::FleetFiles::under(out);
    let baseline = Baseline::load(&files.baseline).map_err(|e| anyhow!("{e}"))?;
    let mut indicators = load_iocs(&files.stix)?;
    indicators.extend(load_iocs(&files.iocs)?);
    indicators.prepare();
    let started = std::time::Instant::now();
    let r = inspect(
        org,
        &baseline,
        &indicators,
        std::slice::from_ref(&files.osquery),
        threads(None),
    );
    let took = started.elapsed();
    let html_path = out.join("report").join("fleet.html");
    std::fs::write(&html_path, html(&r.summary, &r.terminals, &r.stats))
        .with_context(|| format!("writing {}", html_path.display()))?;
    println!(
        "\nFleet inspection of {} ({} terminals, {:.1}s):\n",
        files.osquery.display(),
        r.terminals.len(),
        took.as_secs_f64()
    );
    print!(
        "{}",
        text(&r.summary, &r.terminals, &r.stats, output::stdout_color())
    );
    let truth = sekisho_demo::load_fleet_truth(&files.truth).context("reading the fleet truth")?;
    let mut found: Vec<&str> = r
        .terminals
        .iter()
        .filter(|t| t.verdict == Verdict::Compromised)
        .map(|t| t.host.as_str())
        .collect();
    found.sort_unstable();
    let sites_match = truth.sites.iter().all(|(id, want)| {
        r.summary.sites.iter().any(|s| {
            s.site == *id
                && s.terminals == want.terminals
                && s.compromised == want.compromised
                && s.at_risk == want.at_risk
                && s.unknown == want.unknown
                && s.sound == want.sound
        })
    });
    println!(
        "\nAgainst the fleet truth ({}): compromised terminals {} ({} found, {} touched by the intrusion); verdict counts by site {}.",
        files.truth.display(),
        if found == truth.compromised {
            "match exactly"
        } else {
            "DIFFER"
        },
        found.len(),
        truth.compromised.len(),
        if sites_match { "match" } else { "DIFFER" }
    );
    println!("Fleet report: {}", html_path.display());
    Ok(())
}
