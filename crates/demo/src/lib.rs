//! The built-in scenario of `sekisho demo`: a multinational manufacturer, weeks of its
//! Zeek conn logs with an intrusion modelled on the case in DESIGN.md, the ground truth,
//! and a scorer that grades an analysis against it.
//!
//! [`generate`] writes, under one directory:
//!
//! - `org.toml` — six sites (Tokyo HQ, Bangkok, Jakarta, Manila, Houston, Munich), their
//!   servers and workstation ranges, one Zeek sensor per site, and an access policy that
//!   allows every sanctioned crossing and denies overseas admin access to HQ servers;
//! - `zeek/<sensor>/conn.<YYYY-MM-DD>-00-00-00.log.gz` — one gzip Zeek 6 TSV conn.log per
//!   sensor and UTC day, records in time order;
//! - `truth.jsonl` — the scenario, the four truth incidents and every intrusion flow's uid;
//! - `fleet/` — osquery inventories of every terminal and server, a baseline, the
//!   intrusion's indicators and the expected verdicts (see [`FleetFiles`]);
//! - `mail/` — impersonation emails against the organisation (look-alike domains, a
//!   recruiter lure with an attachment) next to its legitimate mail (see [`mail`]).
//!
//! Output depends only on the seed and the scale: the same [`DemoConfig`] gives the same
//! logs, byte for byte, on every platform (the crate uses its own PRNG and float helpers,
//! never the platform's libm). The compressed bytes also depend on the `flate2`
//! compressor's version; the decompressed logs do not.
//!
//! [`load_truth`] and [`score`] then grade incidents an analysis produced:
//!
//! ```no_run
//! use sekisho_demo::{DemoConfig, Scale, generate, load_truth, score};
//! let dir = std::path::Path::new("demo-out");
//! let summary = generate(dir, &DemoConfig::new(7, Scale::Small))?;
//! let truth = load_truth(&summary.truth_path)?;
//! // ... run the analysis on summary.org_path and summary.zeek_dir ...
//! let s = score(&truth, &[], &[]);
//! println!("{s}");
//! # Ok::<(), sekisho_demo::DemoError>(())
//! ```
//!
//! The scenario in brief (details on the items in each module):
//!
//! - **Benign traffic** follows each site's local working day: workstations to their
//!   domain controller (DNS, Kerberos, LDAP, NTP, SYSVOL), to their file server (SMB), to
//!   HQ's ERP and mail (HTTPS), and to the internet; AD replication to the HQ hub; DFS
//!   replication between file servers; nightly backups of every server to HQ's backup
//!   server; a weekly sweep of every host by HQ's vulnerability scanner; help-desk RDP from
//!   HQ's jump host to overseas workstations; some refused and unanswered connections.
//!   All of it is allowed by the policy, none of it is periodic, and every sanctioned
//!   crossing already happens during the first-seen baseline.
//! - **The intrusion** starts after the baseline: a Bangkok workstation scans HQ's server
//!   subnet, RDPs and SMBs to `jp-fs01` at night, moves laterally to four HQ servers within
//!   the hour, stages data on `jp-fs03` and sends several hundred MB to a VPS, while
//!   beaconing to its C2 every five minutes; two, four and five days later footholds in
//!   Jakarta, Manila and Houston reach HQ the same way. Nothing after the restriction date.

#![warn(missing_docs)]

mod fleet;
mod intrusion;
pub mod mail;
mod org;
mod rng;
mod scenario;
mod score;
mod traffic;
mod truth;
mod zeek;

pub use fleet::{
    BASELINE as FLEET_BASELINE, FleetFiles, FleetSiteTruth, FleetTruth, HOSTS_PER_FILE,
    generate_fleet, load_fleet_truth,
};
pub use score::{Score, score};
pub use truth::{Truth, TruthFlow, TruthIncident, TruthScenario, load_truth};

use flate2::{Compression, GzBuilder};
use scenario::{DAY, START_US, Scenario};
use sekisho_event::Timestamp;
use std::fmt;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How big a scenario to generate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scale {
    /// 7 days, 1/20 of the workstations active, ~150 k flows: for tests.
    Small,
    /// 21 days, all 26,000 workstations, ~3 M flows: the default demo.
    #[default]
    Medium,
    /// 56 days, ~50 M flows: for benchmarks.
    Large,
}

impl Scale {
    /// `small`, `medium` or `large`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scale::Small => "small",
            Scale::Medium => "medium",
            Scale::Large => "large",
        }
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scale {
    type Err = DemoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "small" => Ok(Scale::Small),
            "medium" => Ok(Scale::Medium),
            "large" => Ok(Scale::Large),
            _ => Err(DemoError::UnknownScale(s.to_string())),
        }
    }
}

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoConfig {
    /// Moves workstation addresses, the footholds, the intrusion's day and times, and all
    /// traffic details. Default 7.
    pub seed: u64,
    /// Days, workstations active and volume; see [`Scale`].
    pub scale: Scale,
    /// Average benign flows per day, replacing the scale's own (Small 20 k, Medium 140 k,
    /// Large 880 k); for benchmarks that need a given volume. The calendar, organisation
    /// and intrusion stay those of the scale.
    pub flows_per_day_override: Option<u64>,
}

impl DemoConfig {
    /// A config with the scale's own volume.
    pub fn new(seed: u64, scale: Scale) -> Self {
        DemoConfig {
            seed,
            scale,
            flows_per_day_override: None,
        }
    }
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig::new(7, Scale::default())
    }
}

/// What [`generate`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoSummary {
    /// `DIR/org.toml`.
    pub org_path: PathBuf,
    /// `DIR/zeek`, one folder per sensor.
    pub zeek_dir: PathBuf,
    /// `DIR/truth.jsonl`.
    pub truth_path: PathBuf,
    /// conn.log records written, intrusion included.
    pub flows_written: u64,
    /// Of those, the intrusion's.
    pub intrusion_flows: u64,
    /// conn.log files written.
    pub files: u64,
    /// Workstations that appear in the logs.
    pub terminals: u64,
    /// Workstations the organisation has (26,000 at every scale).
    pub terminals_declared: u64,
    /// Days of logs.
    pub days: u32,
    /// Sensor names (folders under `zeek_dir`).
    pub sensors: Vec<String>,
    /// First instant covered by the logs.
    pub start: Timestamp,
    /// End of the logs (exclusive).
    pub end: Timestamp,
}

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// A truth file line is not what [`load_truth`] expects.
    #[error("{}:{line}: {message}", path.display())]
    Truth {
        /// The truth file.
        path: PathBuf,
        /// 1-based line number (0: the file as a whole).
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A scale name other than `small`, `medium` or `large`.
    #[error("unknown scale {0:?} (expected small, medium or large)")]
    UnknownScale(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Name of the conn.log of a UTC day (`conn.2024-07-01-00-00-00.log.gz`).
fn log_name(day: u32) -> String {
    format!("conn.{}.log.gz", zeek_stamp(day))
}

/// A day's midnight as Zeek writes `#open`/`#close` (`2024-07-01-00-00-00`).
fn zeek_stamp(day: u32) -> String {
    let us = START_US + i64::from(day) * DAY;
    Timestamp::from_micros(us)
        .to_datetime()
        .map(|d| d.format("%Y-%m-%d-%H-%M-%S").to_string())
        .unwrap_or_default()
}

/// Whether a file name is one of ours (`conn.YYYY-MM-DD-HH-MM-SS.log.gz`), so that
/// regenerating into the same directory replaces earlier logs and touches nothing else.
fn is_our_log(name: &str) -> bool {
    let Some(mid) = name
        .strip_prefix("conn.")
        .and_then(|n| n.strip_suffix(".log.gz"))
    else {
        return false;
    };
    mid.len() == 19
        && mid.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 4 | 7 | 10 | 13 | 16) {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}

/// Generates the scenario into `out_dir` (created if missing). Earlier demo logs in the
/// sensor folders are replaced; other files are left alone.
///
/// Work is spread over the machine's cores, one (sensor, day) file at a time; each file
/// has its own random stream, so the output does not depend on the thread count.
pub fn generate(out_dir: &Path, cfg: &DemoConfig) -> Result<DemoSummary, DemoError> {
    let sc = Scenario::new(cfg);
    let zeek_dir = out_dir.join("zeek");
    let sensors: Vec<String> = sc.org.sites.iter().map(|s| s.sensor()).collect();
    for s in &sensors {
        let dir = zeek_dir.join(s);
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        for entry in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            if entry.file_name().to_str().is_some_and(is_our_log) {
                let p = entry.path();
                std::fs::remove_file(&p).map_err(io_err(&p))?;
            }
        }
    }
    let org_path = out_dir.join("org.toml");
    std::fs::write(&org_path, org::org_toml(&sc.org, sc.baseline_days))
        .map_err(io_err(&org_path))?;

    // Work items in day order, sites interleaved, so the big HQ files spread over workers.
    let items: Vec<(usize, u32)> = (0..sc.days)
        .flat_map(|d| (0..sc.org.sites.len()).map(move |s| (s, d)))
        .collect();
    let next = AtomicUsize::new(0);
    let flows = AtomicUsize::new(0);
    let first_error: Mutex<Option<DemoError>> = Mutex::new(None);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len())
        .max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(site, day)) = items.get(i) else {
                        break;
                    };
                    if first_error.lock().map(|e| e.is_some()).unwrap_or(true) {
                        break;
                    }
                    let path = zeek_dir.join(&sensors[site]).join(log_name(day));
                    match write_day(&sc, site, day, &path) {
                        Ok(n) => {
                            flows.fetch_add(n, Ordering::Relaxed);
                        }
                        Err(e) => {
                            if let Ok(mut slot) = first_error.lock() {
                                slot.get_or_insert(e);
                            }
                            break;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().ok().flatten() {
        return Err(e);
    }

    fleet::generate(&sc, out_dir)?;
    mail::generate(out_dir)?;
    let truth_path = out_dir.join("truth.jsonl");
    write_truth(&sc, &sensors, &truth_path)?;
    Ok(DemoSummary {
        org_path,
        zeek_dir,
        truth_path,
        flows_written: flows.into_inner() as u64,
        intrusion_flows: sc.intrusion.flows.len() as u64,
        files: items.len() as u64,
        terminals: sc.org.active_terminals(),
        terminals_declared: sc.org.declared_terminals(),
        days: sc.days,
        sensors,
        start: Timestamp::from_micros(START_US),
        end: Timestamp::from_micros(sc.end_us()),
    })
}

/// Generates, sorts and writes one sensor's day; returns the record count.
fn write_day(sc: &Scenario, site: usize, day: u32, path: &Path) -> Result<usize, DemoError> {
    // Uid counter ranges: 1 + file index for benign files, one range for the intrusion.
    let space = 1 + (site as u64) * u64::from(sc.days) + u64::from(day);
    let mut gen_day = traffic::Day::new(sc, site, day, space);
    gen_day.generate();
    let (start, end) = (gen_day.start, gen_day.end);
    let mut conns = gen_day.out;
    conns.extend(
        sc.intrusion
            .flows
            .iter()
            .filter(|f| f.sensor == site && f.conn.ts >= start && f.conn.ts < end)
            .map(|f| f.conn.clone()),
    );
    // Sort small keys, not the records: (start, position) is unique, so the order is
    // fully determined by the generation order, itself fixed by the seed.
    let mut order: Vec<(i64, u32)> = conns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.ts, i as u32))
        .collect();
    order.sort_unstable();
    let file = std::fs::File::create(path).map_err(io_err(path))?;
    // Fixed header fields (no mtime, OS "unknown") keep the bytes reproducible.
    let mut gz = GzBuilder::new()
        .operating_system(255)
        .write(BufWriter::with_capacity(1 << 20, file), Compression::fast());
    let sorted = order.iter().map(|&(_, i)| &conns[i as usize]);
    zeek::write_log(&mut gz, &zeek_stamp(day), &zeek_stamp(day + 1), sorted)
        .and_then(|()| gz.finish()?.flush())
        .map_err(io_err(path))?;
    Ok(conns.len())
}

fn write_truth(sc: &Scenario, sensors: &[String], path: &Path) -> Result<(), DemoError> {
    let file = std::fs::File::create(path).map_err(io_err(path))?;
    let mut w = BufWriter::new(file);
    let intr = &sc.intrusion;
    let scenario = TruthScenario {
        seed: sc.seed,
        scale: sc.scale.as_str().to_string(),
        restriction_date: intr.restriction_date.format("%Y-%m-%d").to_string(),
        restriction_ts: Timestamp::from_micros(intr.restriction_us),
        org: org::ORG_NAME.to_string(),
        start: Timestamp::from_micros(START_US),
        end: Timestamp::from_micros(sc.end_us()),
        days: sc.days,
        baseline_days: sc.baseline_days,
    };
    let mut lines = vec![truth::Line::Scenario(scenario)];
    lines.extend(intr.incidents.iter().cloned().map(truth::Line::Incident));
    lines.extend(intr.flows.iter().map(|f| {
        truth::Line::Flow(TruthFlow {
            incident: intr.incidents[f.incident].id.clone(),
            stage: f.stage.to_string(),
            uid: String::from_utf8_lossy(&f.conn.uid).into_owned(),
            ts: Timestamp::from_micros(f.conn.ts),
            src: f.conn.orig,
            dst: f.conn.resp,
            dst_port: f.conn.resp_p,
            service: intrusion::service_name(&f.conn).to_string(),
            sensor: sensors[f.sensor].clone(),
            orig_bytes: f.conn.orig_bytes,
            resp_bytes: f.conn.resp_bytes,
        })
    }));
    for line in &lines {
        serde_json::to_writer(&mut w, line).map_err(|e| DemoError::Io {
            path: path.to_path_buf(),
            source: e.into(),
        })?;
        w.write_all(b"\n").map_err(io_err(path))?;
    }
    w.flush().map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_parses_and_defaults_to_medium() {
        assert_eq!("small".parse::<Scale>().unwrap(), Scale::Small);
        assert_eq!("large".parse::<Scale>().unwrap(), Scale::Large);
        assert!("huge".parse::<Scale>().is_err());
        assert_eq!(DemoConfig::default(), DemoConfig::new(7, Scale::Medium));
        assert_eq!(Scale::Medium.to_string(), "medium");
    }

    #[test]
    fn only_our_log_names_are_replaced() {
        assert!(is_our_log("conn.2024-07-01-00-00-00.log.gz"));
        assert!(!is_our_log("conn.log.gz"));
        assert!(!is_our_log("notes.txt"));
        assert!(!is_our_log("conn.2024-07-01-00-00-0x.log.gz"));
        assert_eq!(log_name(0), "conn.2024-07-01-00-00-00.log.gz");
        assert_eq!(zeek_stamp(31), "2024-08-01-00-00-00");
    }
}
