//! `sekisho demo [--out DIR] [--seed N] [--scale small|medium|large]`

use crate::analyze::{limits_note, report_context, run_analysis};
use crate::{Failure, output};
use anyhow::{Context, anyhow};
use clap::Args;
use sekisho_demo::{DemoConfig, Scale};
use sekisho_model::Org;
use sekisho_report::Analysis;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  sekisho demo\n  sekisho demo --out /tmp/ehi --seed 42 --scale small\n\nWrites DIR/org.toml, DIR/zeek/<sensor>/, DIR/truth.jsonl, DIR/fleet/ and DIR/report/, then prints\nthe analysis and its precision and recall against the ground truth, and the fleet inspection."
)]
pub struct DemoArgs {
    /// Where to write the scenario and its report.
    #[arg(long, default_value = "sekisho-demo")]
    pub out: PathBuf,
    /// Seed of the scenario: the same seed gives the same files.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// How big: small (a week, a few hundred thousand flows), medium (three weeks), large.
    #[arg(long, default_value = "medium")]
    pub scale: Scale,
}

pub fn run(args: DemoArgs) -> Result<u8, Failure> {
    let started = Instant::now();
    let cfg = DemoConfig {
        seed: args.seed,
        scale: args.scale,
        ..DemoConfig::default()
    };
    eprintln!(
        "Generating the {:?} scenario (seed {}) in {} ...",
        args.scale,
        args.seed,
        args.out.display()
    );
    let summary = sekisho_demo::generate(&args.out, &cfg)
        .with_context(|| format!("generating the demo in {}", args.out.display()))?;
    let generated = started.elapsed();
    eprintln!(
        "  {} flows ({} of them the intrusion) from {} terminals over {} days in {} files, {:.1}s",
        summary.flows_written,
        summary.intrusion_flows,
        summary.terminals,
        summary.days,
        summary.files,
        generated.as_secs_f64()
    );
    let org = Org::load(&summary.org_path).map_err(|e| anyhow!("{e}"))?;
    let inputs = vec![summary.zeek_dir.clone()];
    let analysis_start = Instant::now();
    let (outcome, stats) = run_analysis(&org, &inputs, &Default::default());
    let analysed = analysis_start.elapsed();
    let context = report_context(&org, &inputs);
    let analysis = Analysis {
        context: &context,
        stats: &stats,
        alerts: &outcome.alerts,
        incidents: &outcome.incidents,
    };
    let report_dir = args.out.join("report");
    sekisho_report::write_all(&report_dir, &analysis).context("writing the demo report")?;
    print!(
        "{}",
        sekisho_report::terminal_summary(&analysis, output::stdout_color())
    );
    print!("{}", limits_note(&outcome));

    let truth =
        sekisho_demo::load_truth(&summary.truth_path).context("reading the ground truth")?;
    let score = sekisho_demo::score(&truth, &outcome.incidents, &outcome.alerts);
    println!(
        "\nAnalysed {} records in {:.1}s ({:.0} records/s).",
        stats.records,
        analysed.as_secs_f64(),
        stats.records as f64 / analysed.as_secs_f64().max(1e-9)
    );
    println!(
        "Against the ground truth ({}): recall {:.2} ({} of {} intrusions found), precision {:.2} ({} of {} incidents real).",
        summary.truth_path.display(),
        score.recall,
        score.detected_truth,
        score.truth_incidents,
        score.precision,
        score.true_incidents,
        score.reported_incidents
    );
    if !score.missed.is_empty() {
        println!("Missed: {}", score.missed.join(", "));
    }
    if !score.false_incident_ids.is_empty() {
        println!(
            "Not part of the intrusion: {}",
            score.false_incident_ids.join(", ")
        );
    }
    crate::inspect::demo_fleet(&args.out, &org)?;
    println!("\nReport: {}", report_dir.join("report.html").display());
    println!("Organisation file: {}", summary.org_path.display());
    crate::mail::demo_summary(
        &summary.org_path,
        &args.out.join(sekisho_demo::mail::MAIL_DIR),
    )?;
    Ok(0)
}
