//! `sekisho`: guards the network crossings between an organisation's sites.
//!
//! Exit codes: 0 clean, 1 findings (incidents), 2 usage or input error.

mod analyze;
mod attest;
mod check;
mod demo;
mod hunt;
mod ingest;
mod inspect;
mod logons;
mod mail;
mod output;
mod policy;
mod serve;
mod sigma;
mod simulate;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "sekisho",
    version,
    about = "Guards the network crossings between an organisation's sites",
    long_about = "sekisho knows your organisation (sites, networks, servers, the data and customers on them) \
and the access policy between sites. It reads what really crossed (Zeek logs), flags what is not \
allowed or not normal, joins alerts into incidents with their scope, and writes reports.",
    after_help = "Examples:\n  sekisho demo\n  sekisho check org.toml\n  sekisho analyze --org org.toml --out report/ /var/log/zeek/"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a realistic organisation with an intrusion, analyse it, and score the result.
    Demo(demo::DemoArgs),
    /// Validate an organisation file and summarise what it defines.
    Check(check::CheckArgs),
    /// Analyse Zeek logs against an organisation file.
    Analyze(analyze::AnalyzeArgs),
    /// Collect NetFlow/IPFIX and follow live Zeek logs, alerting as crossings happen.
    Serve(serve::ServeArgs),
    /// Summarise logons from Windows event logs and Linux auth logs, cross-site first.
    Logons(logons::LogonsArgs),
    /// Inspect a fleet's osquery inventories against a baseline and an incident's indicators.
    Inspect(inspect::InspectArgs),
    /// Triage mail: score messages for phishing and impersonation of the organisation.
    Mail(mail::MailArgs),
    /// Replay or export the access policy.
    Policy(policy::PolicyArgs),
    /// Ask the evidence store questions in SQL, or sweep it for indicators.
    Hunt(hunt::HuntArgs),
    /// Analyse inputs and keep every flow and alert in the evidence store (Parquet).
    Ingest(ingest::IngestArgs),
    /// Re-read the evidence store and check every segment against its hash chain.
    Verify(ingest::VerifyArgs),
    /// Attest whether any unauthorized access happened in a period, and what was watched.
    Attest(attest::AttestArgs),
    /// Check Sigma rules: which load, and why the others do not.
    Sigma(sigma::SigmaArgs),
}

/// An error with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

impl Failure {
    /// A usage or input error (exit 2).
    pub fn input(error: impl Into<anyhow::Error>) -> Self {
        Self {
            code: 2,
            error: error.into(),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self { code: 2, error }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Check(args) => check::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Logons(args) => logons::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Mail(args) => mail::run(args),
        Command::Policy(args) => policy::run(args),
        Command::Hunt(args) => hunt::run(args),
        Command::Ingest(args) => ingest::run(args),
        Command::Verify(args) => ingest::verify(args),
        Command::Attest(args) => attest::run(args),
        Command::Sigma(args) => sigma::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}
