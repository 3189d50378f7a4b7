//! `sekisho analyze --org ORG.toml [--out DIR] [--json] [--baseline FILE] [--save-baseline FILE] INPUT...`

use crate::{Failure, output};
use anyhow::{Context, anyhow};
use clap::Args;
use sekisho_engine::{AnalyzeOptions, Outcome, analyze_paths_with};
use sekisho_event::RunStats;
use sekisho_model::Org;
use sekisho_report::{Analysis, ReportContext, SiteInfo};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  sekisho analyze --org org.toml /var/log/zeek/\n  sekisho analyze --org org.toml --out report/ conn.log.gz rdp.log.gz\n  zcat conn.log.gz | sekisho analyze --org org.toml --json -\n\nExit codes: 0 no incident, 1 incidents found, 2 usage or input error."
)]
pub struct AnalyzeArgs {
    /// The organisation file (TOML).
    #[arg(long)]
    pub org: PathBuf,
    /// Write incidents.json, alerts.jsonl, report.md and report.html here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print one JSON document (stats, alerts, incidents) to stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Sigma rules (YAML files or directories) to run on the host logs among the inputs;
    /// may be repeated. Rules that do not load are listed on stderr.
    #[arg(long, value_name = "PATH")]
    pub sigma: Vec<PathBuf>,
    /// Crossings known before this run (written by `--save-baseline`): first-seen-crossing
    /// then alerts from the first flow instead of learning for `baseline_days`.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write the crossings first-seen-crossing knows at the end (JSON lines, by name) here.
    /// Review it before reuse: what it holds is never reported again.
    #[arg(long, value_name = "FILE")]
    pub save_baseline: Option<PathBuf>,
    /// Zeek log files or directories (TSV or JSON, plain or gzip); `-` reads stdin.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
}

pub fn run(args: AnalyzeArgs) -> Result<u8, Failure> {
    let mut org = Org::load(&args.org).map_err(|e| Failure::input(anyhow!("{e}")))?;
    check_inputs(&args.inputs)?;
    if let Some(path) = &args.baseline {
        load_baseline(&mut org, path)?;
    }
    let options = AnalyzeOptions {
        host_rules: crate::sigma::load_for_run(&args.sigma)?,
    };
    let (outcome, stats) = run_analysis(&org, &args.inputs, &options);
    let context = report_context(&org, &args.inputs);
    let analysis = Analysis {
        context: &context,
        stats: &stats,
        alerts: &outcome.alerts,
        incidents: &outcome.incidents,
    };
    if let Some(dir) = &args.out {
        sekisho_report::write_all(dir, &analysis)
            .with_context(|| format!("writing the report to {}", dir.display()))?;
    }
    if let Some(path) = &args.save_baseline {
        let baseline = outcome.baseline.as_ref().ok_or_else(|| {
            Failure::input(anyhow!(
                "--save-baseline: first-seen-crossing is disabled in the org file"
            ))
        })?;
        std::fs::write(path, baseline.to_jsonl(&org))
            .with_context(|| format!("writing the baseline to {}", path.display()))?;
        eprintln!(
            "Baseline of {} crossings written to {}",
            baseline.crossings.len(),
            path.display()
        );
    }
    if args.json {
        let doc = sekisho_report::json_document(&analysis);
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).map_err(anyhow::Error::from)?
        );
    } else {
        print!(
            "{}",
            sekisho_report::terminal_summary(&analysis, output::stdout_color())
        );
        print!("{}", limits_note(&outcome));
        if let Some(dir) = &args.out {
            println!("\nReport written to {}", dir.join("report.html").display());
        }
    }
    if stats.parsed == 0 {
        // Nothing usable is an input error, not a clean bill of health.
        eprintln!(
            "error: no record could be read from the inputs ({} rejected, {} files)",
            stats.rejected, stats.files
        );
        return Ok(2);
    }
    Ok(if outcome.incidents.is_empty() { 0 } else { 1 })
}

/// Reads a saved baseline into the org's first-seen settings; stale lines (names the org
/// file no longer has) are reported and skipped.
pub fn load_baseline(org: &mut Org, path: &Path) -> Result<(), Failure> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the baseline {}", path.display()))
        .map_err(Failure::input)?;
    let (baseline, stale) = sekisho_model::baseline::Baseline::from_jsonl(&text, org)
        .map_err(|e| Failure::input(anyhow!("{}:{e}", path.display())))?;
    for (line, why) in &stale.listed {
        eprintln!("warning: {}:{line}: skipped: {why}", path.display());
    }
    if stale.count > stale.listed.len() {
        eprintln!(
            "warning: {}: {} more stale lines skipped",
            path.display(),
            stale.count - stale.listed.len()
        );
    }
    org.detectors.first_seen_crossing.saved = Some(std::sync::Arc::new(baseline));
    Ok(())
}

/// Refuses inputs that do not exist (a typo must not pass as "no incidents").
pub fn check_inputs(inputs: &[PathBuf]) -> Result<(), Failure> {
    for input in inputs {
        if input.as_os_str() != "-" && !input.exists() {
            return Err(Failure::input(anyhow!(
                "input {} does not exist",
                input.display()
            )));
        }
    }
    Ok(())
}

/// Runs the engine with a progress spinner on stderr.
pub fn run_analysis(
    org: &Org,
    inputs: &[PathBuf],
    options: &AnalyzeOptions,
) -> (Outcome, RunStats) {
    let bar = output::reading_bar();
    let result = analyze_paths_with(
        org,
        inputs,
        options,
        &mut |p| output::show(&bar, p),
        &mut sekisho_engine::NoObserver,
    );
    bar.finish_and_clear();
    result
}

pub fn report_context(org: &Org, inputs: &[PathBuf]) -> ReportContext {
    ReportContext {
        org_name: org.name.clone(),
        sites: org
            .sites
            .iter()
            .map(|s| SiteInfo {
                id: s.id.clone(),
                name: s.name.clone(),
                country: s.country.clone(),
                tags: s.tags.clone(),
            })
            .collect(),
        inputs: inputs.iter().map(|p| display(p)).collect(),
        generated_by: format!("sekisho {}", env!("CARGO_PKG_VERSION")),
    }
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

/// Says when a bound was reached, so that nothing is lost silently.
pub fn limits_note(outcome: &Outcome) -> String {
    let mut s = String::new();
    if outcome.alerts_dropped > 0 {
        s += &format!(
            "note: {} alerts beyond limits.max_alerts were counted but not kept\n",
            outcome.alerts_dropped
        );
    }
    if outcome.contexts_dropped > 0 {
        s += &format!(
            "note: {} application-log records beyond the context table's bound were not joined to flows\n",
            outcome.contexts_dropped
        );
    }
    for (id, st) in &outcome.detectors {
        if st.evicted > 0 {
            s += &format!(
                "note: detector {id} evicted {} keys at its state bound\n",
                st.evicted
            );
        }
    }
    s
}
