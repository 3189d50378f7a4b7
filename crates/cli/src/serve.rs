//! `sekisho serve --org ORG.toml [--netflow ADDR]... [--zeek-dir DIR]... [--out DIR]`

use crate::Failure;
use crate::analyze::report_context;
use anyhow::{Context, anyhow};
use clap::Args;
use sekisho_collector::{
    AlertOutput, Collector, JsonLines, NetflowDecoder, ServeConfig, Snapshot, SyslogCef,
};
use sekisho_event::{Alert, Incident, RunStats};
use sekisho_model::Org;
use sekisho_report::Analysis;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
  sekisho serve --org org.toml --netflow 127.0.0.1:2055 --out live/\n  \
  sekisho serve --org org.toml --zeek-dir /opt/zeek/logs/current --stdout\n  \
  sekisho serve --org org.toml --netflow 0.0.0.0:2055 --allow-remote --syslog 127.0.0.1:514\n\n\
Writes DIR/alerts.jsonl as alerts happen, rewrites DIR/incidents.json every few seconds, and\n\
writes the full report to DIR/report/ (incidents.json, report.html, ...) at exit. Stops cleanly on SIGINT/SIGTERM (exit 0).\n\
Exit codes: 0 stopped cleanly, 2 usage or startup error.")]
pub struct ServeArgs {
    /// The organisation file (TOML).
    #[arg(long)]
    pub org: PathBuf,
    /// UDP address to receive NetFlow v5/v9/IPFIX on (repeatable).
    #[arg(long, value_name = "ADDR")]
    pub netflow: Vec<SocketAddr>,
    /// Live Zeek log directory to follow, rotation-safe (repeatable).
    #[arg(long, value_name = "DIR")]
    pub zeek_dir: Vec<PathBuf>,
    /// Directory for alerts.jsonl (live) and report/ (rewritten).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Keep every flow and alert in this evidence store (committed at every status line).
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Also print each alert as a JSON line on stdout.
    #[arg(long)]
    pub stdout: bool,
    /// Send each alert as RFC 5424 syslog with a CEF payload over UDP to this address.
    #[arg(long, value_name = "ADDR")]
    pub syslog: Option<SocketAddr>,
    /// Listen on addresses other than loopback (exporters on other hosts).
    #[arg(long)]
    pub allow_remote: bool,
    /// Crossings known from the start (written by `analyze --save-baseline`): first-seen-
    /// crossing alerts from the first flow instead of learning for `baseline_days`.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Seconds between status lines on stderr.
    #[arg(long, default_value_t = 5)]
    pub status_every: u64,
    /// Socket receive buffer to ask for, in bytes (see net.core.rmem_max).
    #[arg(long, default_value_t = 32 << 20)]
    pub recv_buffer: usize,
}

pub fn run(args: ServeArgs) -> Result<u8, Failure> {
    let mut org = Org::load(&args.org).map_err(|e| Failure::input(anyhow!("{e}")))?;
    if let Some(path) = &args.baseline {
        crate::analyze::load_baseline(&mut org, path)?;
    }
    if args.netflow.is_empty() && args.zeek_dir.is_empty() {
        return Err(Failure::input(anyhow!(
            "nothing to listen to: give --netflow ADDR and/or --zeek-dir DIR"
        )));
    }
    for addr in &args.netflow {
        if !addr.ip().is_loopback() && !args.allow_remote {
            return Err(Failure::input(anyhow!(
                "{addr} is not a loopback address: pass --allow-remote to receive from other hosts"
            )));
        }
    }
    let config = ServeConfig {
        netflow: args.netflow.clone(),
        zeek_dirs: args.zeek_dir.clone(),
        recv_buffer: args.recv_buffer,
        status_every: Duration::from_secs(args.status_every.max(1)),
        ..ServeConfig::default()
    };
    let collector = Collector::bind(config).map_err(Failure::input)?;
    for (addr, granted) in collector
        .local_addrs()
        .iter()
        .zip(collector.granted_buffers())
    {
        eprintln!("listening on udp {addr} (receive buffer {granted} bytes)");
        if *granted < args.recv_buffer {
            eprintln!(
                "note: the kernel granted less than the {} bytes asked for; raise net.core.rmem_max to avoid drops at peak",
                args.recv_buffer
            );
        }
    }
    for dir in &args.zeek_dir {
        eprintln!("following Zeek logs in {}", dir.display());
    }

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("installing the signal handler")?;
    }

    let mut outputs: Vec<Box<dyn AlertOutput>> = Vec::new();
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join("alerts.jsonl");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        outputs.push(Box::new(JsonLines::new(file, "jsonl")));
    }
    if args.stdout {
        outputs.push(Box::new(JsonLines::new(std::io::stdout(), "stdout")));
    }
    if let Some(target) = args.syslog {
        let host = hostname();
        let out = SyslogCef::new(target, &host)
            .with_context(|| format!("opening syslog output to {target}"))?;
        outputs.push(Box::new(out));
    }

    let mut inputs: Vec<PathBuf> = args.zeek_dir.clone();
    inputs.extend(
        args.netflow
            .iter()
            .map(|a| PathBuf::from(format!("udp://{a}"))),
    );
    let context = report_context(&org, &inputs);
    let incidents_path = args.out.as_ref().map(|d| d.join("incidents.json"));
    // While running, only the incidents are rewritten (cheap, atomic); the full report is
    // written once at exit.
    let mut write_incidents = |_: &[Alert], incidents: &[Incident]| {
        if let Some(path) = &incidents_path
            && let Err(e) = write_atomically(path, incidents)
        {
            eprintln!("warning: writing {}: {e}", path.display());
        }
    };
    let mut status = |s: &Snapshot| eprintln!("{}", s.status_line());
    let decoder = Box::new(NetflowDecoder::default());
    let mut live_store = match &args.store {
        Some(dir) => Some(
            crate::ingest::LiveStore::open(&org, dir)
                .map_err(|e| Failure::input(anyhow!("store {}: {e}", dir.display())))?,
        ),
        None => None,
    };
    let mut no_tap = sekisho_collector::NoTap;
    let tap: &mut dyn sekisho_collector::FlowTap = match live_store.as_mut() {
        Some(s) => s,
        None => &mut no_tap,
    };
    let outcome = collector.run(
        &org,
        decoder,
        &mut outputs,
        tap,
        &stop,
        &mut status,
        &mut write_incidents,
    );

    eprintln!("stopped. {}", outcome.counters.summary().trim_end());
    if let Some(s) = &live_store {
        eprintln!(
            "store: {} flows, {} alerts in {} commits",
            s.stats.flows_stored, s.stats.alerts_stored, s.stats.commits
        );
        if let Some(e) = &s.error {
            eprintln!("error: the store stopped keeping evidence: {e}");
            return Ok(2);
        }
    }
    eprintln!(
        "zeek records: {} read, {} parsed, {} rejected, {} skipped",
        outcome.zeek.records, outcome.zeek.parsed, outcome.zeek.rejected, outcome.zeek.skipped
    );
    for s in &outcome.zeek.samples {
        eprintln!("  rejected {s}");
    }
    eprintln!(
        "alerts: {} written, incidents: {}",
        outcome.counters.alerts,
        outcome.incidents.len()
    );
    if outcome.alerts_not_kept > 0 {
        eprintln!(
            "note: {} alerts beyond limits.max_alerts were written but not joined into incidents",
            outcome.alerts_not_kept
        );
    }
    for (name, n) in &outcome.output_errors {
        eprintln!("warning: output {name} failed to write {n} alerts");
    }
    if let Some(dir) = &args.out {
        let report_dir = dir.join("report");
        let stats = RunStats::default();
        let analysis = Analysis {
            context: &context,
            stats: if outcome.zeek.records > 0 {
                &outcome.zeek
            } else {
                &stats
            },
            alerts: &outcome.alerts,
            incidents: &outcome.incidents,
        };
        sekisho_report::write_all(&report_dir, &analysis)
            .with_context(|| format!("writing the report to {}", report_dir.display()))?;
        let summary = dir.join("serve-summary.json");
        let doc = serde_json::json!({
            "counters": outcome.counters,
            "zeek": outcome.zeek,
            "alerts": outcome.counters.alerts,
            "incidents": outcome.incidents.len(),
        });
        std::fs::write(
            &summary,
            serde_json::to_vec_pretty(&doc).map_err(anyhow::Error::from)?,
        )
        .with_context(|| format!("writing {}", summary.display()))?;
    }
    Ok(0)
}

/// Writes JSON to a temporary file beside `path` and renames it over `path`, so a reader
/// never sees half a file.
fn write_atomically(
    path: &std::path::Path,
    value: &(impl serde::Serialize + ?Sized),
) -> anyhow::Result<()> {
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, serde_json::to_vec_pretty(value)?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// This host's name for syslog headers; `-` when unknown.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "-".to_string())
}
