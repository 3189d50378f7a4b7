//! `sekisho mail scan --org ORG.toml [--json] [--html FILE] [--weights FILE] [--dkim-keys FILE] PATH...`

use crate::Failure;
use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use sekisho_mail::dkim::DkimKeys;
use sekisho_mail::report::{self, ScanResult};
use sekisho_mail::{Level, MailPolicy, discover, read_source, scan};
use sekisho_model::Org;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Args)]
pub struct MailArgs {
    #[command(subcommand)]
    pub command: MailCommand,
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Score messages for phishing and impersonation of the organisation.
    Scan(ScanArgs),
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  sekisho mail scan --org org.toml ~/Maildir\n  sekisho mail scan --org org.toml --json --html mail.html export.mbox suspicious.eml\n\nInputs are .eml files, mbox files and Maildir folders, told apart by content.\nExit codes: 0 every message clean, 1 some message suspicious or malicious, 2 usage or input error."
)]
pub struct ScanArgs {
    /// The organisation file (TOML); its `domains` and `brands` are what impersonation is judged against.
    #[arg(long)]
    pub org: PathBuf,
    /// Print a JSON array (one object per message: path, verdict, score, reasons, malformed).
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML report here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Weights and thresholds (TOML, see docs/mail-triage.md).
    #[arg(long, value_name = "FILE")]
    pub weights: Option<PathBuf>,
    /// DKIM key records to verify signatures against, offline (zone-file or `dig +noall
    /// +answer` lines; repeatable). No DNS query is made: a signature whose key is not here
    /// is `no-key`. A key of one of the organisation's own domains says that it signs its
    /// mail: a message in its name without a valid signature of it is then spoofed.
    #[arg(long = "dkim-keys", value_name = "FILE")]
    pub dkim_keys: Vec<PathBuf>,
    /// Print clean messages in the table too.
    #[arg(long)]
    pub all: bool,
    /// Worker threads (default: the number of cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// .eml files, mbox files or Maildir folders.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

pub fn run(args: MailArgs) -> Result<u8, Failure> {
    match args.command {
        MailCommand::Scan(a) => run_scan(a),
    }
}

/// Builds the policy from the org file, an optional weights file and DKIM key files.
pub fn policy_for(
    org: &Path,
    weights: Option<&Path>,
    dkim_keys: &[PathBuf],
) -> Result<MailPolicy, Failure> {
    let org = Org::load(org).map_err(|e| Failure::input(anyhow!("{e}")))?;
    let mut policy = MailPolicy::new(&org.domains, &org.brands);
    if let Some(w) = weights {
        let text = std::fs::read_to_string(w)
            .with_context(|| format!("reading {}", w.display()))
            .map_err(Failure::input)?;
        let (weights, thresholds) = sekisho_mail::parse_weights(&text)
            .map_err(|e| Failure::input(anyhow!("{}:{e}", w.display())))?;
        policy = policy.with_weights(weights, thresholds);
    }
    if !dkim_keys.is_empty() {
        let mut keys = DkimKeys::default();
        for path in dkim_keys {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))
                .map_err(Failure::input)?;
            let more = DkimKeys::parse(&text)
                .map_err(|e| Failure::input(anyhow!("{}:{e}", path.display())))?;
            if more.is_empty() {
                return Err(Failure::input(anyhow!(
                    "{}: no TXT record in it",
                    path.display()
                )));
            }
            keys.merge(more);
        }
        policy = policy.with_dkim_keys(keys);
    }
    Ok(policy)
}

/// Scans every message under `paths` in parallel; results sorted by path.
pub fn scan_paths(
    policy: &MailPolicy,
    paths: &[PathBuf],
    threads: Option<usize>,
    show_progress: bool,
) -> Result<(Vec<ScanResult>, usize), Failure> {
    let found = discover(paths).map_err(Failure::input)?;
    for (p, why) in &found.skipped {
        eprintln!("note: skipped {}: {why}", p.display());
    }
    let bar = if show_progress && std::io::stderr().is_terminal() {
        ProgressBar::new(found.sources.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} files {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    let n = threads
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1)
        .clamp(1, 64);
    std::thread::scope(|s| {
        for _ in 0..n {
            s.spawn(|| {
                let mut local = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(src) = found.sources.get(i) else {
                        break;
                    };
                    let r = read_source(src, &mut |m| {
                        local.push(ScanResult {
                            path: m.label,
                            verdict: scan(&m.bytes, policy),
                        });
                    });
                    if let Err(e) = r
                        && let Ok(mut errs) = errors.lock()
                    {
                        errs.push(e.to_string());
                    }
                    bar.inc(1);
                }
                if let Ok(mut all) = results.lock() {
                    all.extend(local);
                }
            });
        }
    });
    bar.finish_and_clear();
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|a| natural_key(&a.path));
    let errors = errors.into_inner().unwrap_or_default();
    for e in &errors {
        eprintln!("error: {e}");
    }
    Ok((results, errors.len() + found.skipped.len()))
}

/// Sorts `box:10` after `box:9`.
fn natural_key(p: &str) -> (String, u64) {
    match p.rsplit_once(':') {
        Some((a, n)) if n.chars().all(|c| c.is_ascii_digit()) => {
            (a.to_string(), n.parse().unwrap_or(0))
        }
        _ => (p.to_string(), 0),
    }
}

fn run_scan(args: ScanArgs) -> Result<u8, Failure> {
    let policy = policy_for(&args.org, args.weights.as_deref(), &args.dkim_keys)?;
    let (results, problems) = scan_paths(&policy, &args.paths, args.threads, true)?;
    if let Some(path) = &args.html {
        std::fs::write(path, report::html(&results, "sekisho mail scan"))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&results).map_err(anyhow::Error::from)?
        );
    } else {
        print!("{}", report::table(&results, args.all));
        if let Some(path) = &args.html {
            println!("Report written to {}", path.display());
        }
    }
    if results.is_empty() {
        eprintln!("error: no message could be read from the inputs ({problems} problems)");
        return Ok(2);
    }
    Ok(if results.iter().any(|r| r.verdict.level != Level::Clean) {
        1
    } else {
        0
    })
}

/// The mail part of `sekisho demo`: scans `DIR/mail/`, writes `mail-report.html` next to
/// it and prints one line per message and whether the verdict matches its kind.
pub fn demo_summary(org: &Path, mail_dir: &Path) -> Result<(), Failure> {
    let policy = policy_for(org, None, &[])?;
    let (results, _) = scan_paths(&policy, &[mail_dir.to_path_buf()], None, false)?;
    let html_path = mail_dir.join("mail-report.html");
    std::fs::write(
        &html_path,
        report::html(&results, "sekisho demo: mail triage"),
    )
    .with_context(|| format!("writing {}", html_path.display()))?;
    println!(
        "\nMail triage (sekisho mail scan on {}):",
        mail_dir.display()
    );
    let mut right = 0;
    for r in &results {
        let name = Path::new(&r.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let phish = name.starts_with(sekisho_demo::mail::PHISH_PREFIX);
        let flagged = r.verdict.level != Level::Clean;
        if phish == flagged {
            right += 1;
        }
        let top = r
            .verdict
            .reasons
            .iter()
            .find(|x| x.weight > 0.0)
            .map(|x| format!("{}: {}", x.id, report::term_safe(&x.evidence, 90)))
            .unwrap_or_default();
        println!(
            "  {:<10} {:>5.1}  {:<36} {}",
            r.verdict.level.as_str(),
            r.verdict.score,
            name,
            top
        );
    }
    println!(
        "  {right} of {} messages judged as their kind (impersonation flagged, legitimate clean). Report: {}",
        results.len(),
        html_path.display()
    );
    Ok(())
}
