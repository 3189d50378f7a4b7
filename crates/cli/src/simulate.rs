//! `sekisho policy simulate --org NEW.toml --store DIR [--from DATE] [--to DATE]`

use crate::Failure;
use anyhow::anyhow;
use clap::Args;
use sekisho_model::Org;
use sekisho_store::{Scan, Store};
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  sekisho policy simulate --org proposed.toml --store store/ --from 2024-07-01 --to 2024-07-31\n\nExit codes: 0 the proposed policy breaks no legitimate-looking traffic, 1 it would, 2 usage or store error."
)]
pub struct SimulateArgs {
    /// The proposed organisation file (its sites, assets and policy are applied whole).
    #[arg(long)]
    pub org: PathBuf,
    /// The store directory.
    #[arg(long)]
    pub store: PathBuf,
    /// Replay from this date (YYYY-MM-DD, UTC) or RFC 3339 time.
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Replay up to this date (inclusive of that day) or RFC 3339 time.
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Print the simulation as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: SimulateArgs) -> Result<u8, Failure> {
    let org = Org::load(&args.org).map_err(|e| Failure::input(anyhow!("{e}")))?;
    let parse = |s: &Option<String>, end: bool, what: &str| -> Result<Option<i64>, Failure> {
        s.as_deref()
            .map(|d| {
                crate::attest::parse_date(d, end).ok_or_else(|| {
                    Failure::input(anyhow!("{what} {d:?} is not YYYY-MM-DD or RFC 3339"))
                })
            })
            .transpose()
    };
    let scan = Scan {
        from: parse(&args.from, false, "--from")?,
        to: parse(&args.to, true, "--to")?,
        sites: None,
    };
    let store = Store::open(&args.store).map_err(|e| Failure::input(anyhow!("{e}")))?;
    let sim = sekisho_replay::simulate(&store, &org, &scan)
        .map_err(|e| Failure::input(anyhow!("{e}")))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&sim).map_err(anyhow::Error::from)?
        );
    } else {
        print!("{}", sekisho_replay::text(&sim));
    }
    let breaks = sim
        .rules
        .iter()
        .any(|r| r.action == "deny" && r.legitimate_looking > 0);
    Ok(if breaks { 1 } else { 0 })
}
