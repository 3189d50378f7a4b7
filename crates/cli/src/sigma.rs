//! `sekisho sigma check PATH...`, and the `--sigma PATH` option of `analyze` and `ingest`.

use crate::Failure;
use anyhow::anyhow;
use clap::{Args, Subcommand};
use sekisho_detect::HostRules;
use sekisho_sigma::{LoadReport, RuleSet, load_paths};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct SigmaArgs {
    #[command(subcommand)]
    command: SigmaCommand,
}

#[derive(Debug, Subcommand)]
enum SigmaCommand {
    /// Load Sigma rules and list every one that does not load, with the reason.
    #[command(
        after_help = "Examples:\n  sekisho sigma check rules/windows/\n  sekisho sigma check --json my-rules/ extra.yml\n\nExit codes: 0 every rule loaded, 1 some did not, 2 usage error."
    )]
    Check(CheckArgs),
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Print the loaded rules and the failures as JSON.
    #[arg(long)]
    json: bool,
    /// Rule files (YAML) or directories (walked for .yml and .yaml).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

pub fn run(args: SigmaArgs) -> Result<u8, Failure> {
    let SigmaCommand::Check(args) = args.command;
    let (rules, report) = load_paths(&args.paths);
    if args.json {
        let doc = serde_json::json!({
            "files": report.files,
            "rules": rules.rules().iter().map(|r| serde_json::json!({
                "id": r.id,
                "title": r.title,
                "severity": r.severity.as_str(),
                "attack": r.attack,
                "path": r.path,
            })).collect::<Vec<_>>(),
            "failures": failures_json(&report),
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).map_err(anyhow::Error::from)?
        );
    } else {
        println!(
            "{} rules loaded from {} files; {} not loaded",
            report.rules,
            report.files,
            report.failures.len()
        );
        for line in failure_lines(&report) {
            println!("  {line}");
        }
    }
    Ok(if report.failures.is_empty() { 0 } else { 1 })
}

fn failures_json(report: &LoadReport) -> Vec<serde_json::Value> {
    report
        .failures
        .iter()
        .map(|f| serde_json::json!({"path": f.path, "rule": f.rule, "reason": f.reason}))
        .collect()
}

fn failure_lines(report: &LoadReport) -> Vec<String> {
    report
        .failures
        .iter()
        .map(|f| match &f.rule {
            Some(t) => format!("{} (rule \"{}\"): {}", f.path, clean(t), clean(&f.reason)),
            None => format!("{}: {}", f.path, clean(&f.reason)),
        })
        .collect()
}

/// Rule files are text from elsewhere: no control characters on the terminal.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Loads the rules given with `--sigma` for a run, saying on stderr how many loaded and
/// which did not. `None` when no path was given; an error when paths were given but no
/// rule loaded (a typo must not pass as "no hits").
pub fn load_for_run(paths: &[PathBuf]) -> Result<Option<Arc<dyn HostRules>>, Failure> {
    if paths.is_empty() {
        return Ok(None);
    }
    for p in paths {
        if !p.exists() {
            return Err(Failure::input(anyhow!(
                "Sigma rules {} do not exist",
                p.display()
            )));
        }
    }
    let (rules, report): (RuleSet, LoadReport) = load_paths(paths);
    eprintln!(
        "sigma: {} rules loaded from {} files; {} not loaded",
        report.rules,
        report.files,
        report.failures.len()
    );
    for line in failure_lines(&report) {
        eprintln!("sigma: not loaded: {line}");
    }
    if rules.is_empty() {
        return Err(Failure::input(anyhow!(
            "no Sigma rule could be loaded from the --sigma paths"
        )));
    }
    Ok(Some(Arc::new(rules)))
}
