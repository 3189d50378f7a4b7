//! Fleet inspection: the "security soundness" of tens of thousands of terminals from the
//! osquery inventories an organisation already collects, a baseline of checks, and the
//! indicators of an incident.
//!
//! - [`parse`]: pure parsers for osqueryd results-log lines (event, batch/differential
//!   and snapshot formats, decorations) and `osqueryi --json` dumps;
//! - [`Collector`]: turns lines into per-host [`Inventory`]s (typed rows of the tables
//!   that matter), applying differentials and snapshots, counting every bad line, huge
//!   row, unknown table, duplicate host id and clashing decoration with its position;
//! - [`source`]: the thin I/O shell (files, directories, gzip, bounded lines, all cores);
//! - [`Baseline`]: checks from TOML with line-precise errors; [`Indicators`]: from a
//!   plain list, a STIX 2.1 bundle or a sekisho incident;
//! - [`evaluate_all`]: per-terminal verdicts — `compromised` (an indicator matched),
//!   `at-risk` (a check failed), `unknown` (stale or incomplete inventory, never
//!   "sound"), `sound`; staleness is measured against the newest inventory of the run,
//!   not the clock, so the same inputs always give the same report;
//! - [`report`]: summary by site and check, action lists, table, CSV, JSON, HTML.
//!
//! ```
//! use sekisho_fleet::{Baseline, Collector, Context, Indicators, IndicatorKind, Verdict, evaluate_all, newest};
//! let org = sekisho_model::Org::from_toml(r#"
//! [org]
//! name = "Example"
//! [[site]]
//! id = "th-bkk"
//! country = "TH"
//! timezone = "Asia/Bangkok"
//! networks = ["10.20.0.0/16"]
//! "#, "org.toml").unwrap();
//! let baseline = Baseline::from_toml(r#"
//! [[check]]
//! id = "fw"
//! kind = "firewall-on"
//! severity = "high"
//! rationale = "A host firewall stops worms moving between desks."
//! "#, "baseline.toml").unwrap();
//! let mut iocs = Indicators::new();
//! iocs.add(IndicatorKind::Service, "WinSvcUpd", "case 42");
//! iocs.prepare();
//!
//! let mut c = Collector::new();
//! let head = r#""hostIdentifier":"ws-1","unixTime":"1720000000","decorations":{"host_uuid":"U1","hostname":"ws-1"}"#;
//! for (name, rows) in [
//!     ("os_version", r#"[{"name":"Microsoft Windows 11 Pro","build":"22631","platform":"windows"}]"#),
//!     ("interface_addresses", r#"[{"interface":"Ethernet","address":"10.20.64.5"}]"#),
//!     ("windows_security_center", r#"[{"firewall":"Good","antivirus":"Good","autoupdate":"Good"}]"#),
//!     ("services", r#"[{"name":"WinSvcUpd","status":"RUNNING"}]"#),
//! ] {
//!     let line = format!(r#"{{"name":"{name}",{head},"snapshot":{rows},"action":"snapshot"}}"#);
//!     c.feed_line("results.log", 1, line.as_bytes());
//! }
//! let (invs, _stats) = c.finish();
//! let ctx = Context { org: &org, baseline: &baseline, indicators: &iocs, reference_time: newest(&invs) };
//! let t = evaluate_all(&invs, &ctx, 2);
//! assert_eq!(t[0].site, "th-bkk");
//! assert_eq!(t[0].verdict, Verdict::Compromised);
//! ```
//!
//! Invariants: no I/O outside [`source`] and the `load` functions; no clock; every table
//! that grows with input is bounded by a named constant ([`MAX_HOSTS`],
//! [`MAX_ROWS_PER_TABLE`], [`parse::MAX_COLUMNS`], [`parse::MAX_ROW_BYTES`],
//! [`source::MAX_LINE_BYTES`], [`MAX_PROBLEM_SAMPLES`], [`MAX_EVIDENCE`], [`MAX_HITS`]).

#![warn(missing_docs)]

mod baseline;
mod collect;
mod eval;
mod inventory;
mod iocs;
mod matchers;
pub mod parse;
pub mod report;
pub mod source;

pub use baseline::{ADMIN_PORTS, Action, Baseline, BaselineError, Check, MAX_CHECKS, Rule};
pub use collect::{
    Collector, MAX_HOSTS, MAX_PROBLEM_SAMPLES, Problem, ProblemKind, ReadStats, row_of,
};
pub use eval::{
    Context, FailedCheck, IndicatorHit, MAX_EVIDENCE, MAX_HITS, Terminal, UNPLACED, Verdict,
    WORKSTATION, evaluate, evaluate_all, newest,
};
pub use inventory::{
    Applied, Bitlocker, Certificate, Change, DiskEncryption, FileEntry, InterfaceAddress,
    Inventory, ListeningPort, MAX_ROWS_PER_TABLE, OsVersion, Patch, Process, Program,
    ScheduledTask, SecurityCenter, SecurityProduct, Service, Socket, StartupItem, SystemInfo,
    Table, User,
};
pub use iocs::{Indicator, IndicatorKind, Indicators, IocError, MAX_INDICATORS};
pub use matchers::{Glob, VersionReq, compare_versions};
pub use parse::{Body, Header, LineError, ResultLine, Row, RowSlot, parse_line, parse_rows};
