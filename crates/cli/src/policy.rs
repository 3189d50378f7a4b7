//! `sekisho policy export --org ORG.toml --format nftables|iptables|ip6tables [--out FILE]`

use crate::Failure;
use anyhow::{Context, anyhow};
use clap::{Args, Subcommand, ValueEnum};
use sekisho_firewall::{ExportOptions, Family};
use sekisho_model::Org;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Write the policy as firewall rules for each site's gateway (nftables or iptables).
    Export(ExportArgs),
    /// Replay stored flows against a proposed policy: what it would block, what it would stop.
    Simulate(crate::simulate::SimulateArgs),
}

/// Firewall syntaxes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One `nft -f` file for IPv4 and IPv6 (table `inet sekisho`).
    Nftables,
    /// An `iptables-restore` file (IPv4).
    Iptables,
    /// An `ip6tables-restore` file (IPv6).
    Ip6tables,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    sekisho policy export --org org.toml --format nftables --out sekisho.nft\n  \
    sekisho policy export --org org.toml --format iptables --site jp-hq --out jp-hq.v4.rules\n\n\
    Check the result with `nft -c -f FILE` or `iptables-restore --test FILE`.\n\
    Exit codes: 0 written, 2 invalid org file or arguments (the error names file:line:column).")]
pub struct ExportArgs {
    /// The organisation file (TOML).
    #[arg(long)]
    pub org: PathBuf,
    /// Firewall syntax.
    #[arg(long, value_enum)]
    pub format: Format,
    /// Write here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Only this site's chain (for its gateway); default: every site's.
    #[arg(long)]
    pub site: Option<String>,
    /// Convert time windows to UTC with the offsets in effect on this date (YYYY-MM-DD);
    /// default: today.
    #[arg(long)]
    pub at: Option<String>,
}

pub fn run(args: PolicyArgs) -> Result<u8, Failure> {
    match args.command {
        PolicyCommand::Export(a) => export(a),
        PolicyCommand::Simulate(a) => crate::simulate::run(a),
    }
}

fn export(args: ExportArgs) -> Result<u8, Failure> {
    let org = Org::load(&args.org).map_err(|e| Failure::input(anyhow!("{e}")))?;
    let mut opts = match &args.at {
        Some(d) => ExportOptions::at_iso_date(d).map_err(Failure::input)?,
        None => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
                .unwrap_or(0);
            ExportOptions::at_unix(now)
                .ok_or_else(|| Failure::input(anyhow!("the system clock is out of range")))?
        }
    };
    opts.site = args.site.clone();
    let text = match args.format {
        Format::Nftables => sekisho_firewall::nftables(&org, &opts),
        Format::Iptables => sekisho_firewall::iptables(&org, Family::V4, &opts),
        Format::Ip6tables => sekisho_firewall::iptables(&org, Family::V6, &opts),
    }
    .map_err(Failure::input)?;
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))
            .map_err(Failure::from)?,
        None => print!("{text}"),
    }
    Ok(0)
}
