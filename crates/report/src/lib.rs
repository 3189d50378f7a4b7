//! Renders the result of an analysis for people and for machines.
//!
//! One [`Analysis`] (the run's statistics, its alerts and the incidents they were joined
//! into, plus a little about the organisation in a [`ReportContext`]) becomes:
//!
//! | output | for | function |
//! |---|---|---|
//! | `incidents.json`, `alerts.jsonl` | other tools | [`write_all`] |
//! | `report.md` | management, legal, regulators | [`markdown`], [`write_all`] |
//! | `report.html` | the same readers, in a browser or on paper | [`html`], [`write_all`] |
//! | one JSON document | `sekisho analyze --json` | [`json_document`] |
//! | a terminal summary | `sekisho analyze` | [`terminal_summary`] |
//!
//! # Invariants
//!
//! - **Every string that came from the network is hostile.** User names, share paths, host
//!   names, sensor names, rejection details and alert summaries are written by whoever
//!   controls the traffic. Each output escapes them for its own medium: control characters
//!   are made visible for terminals ([`sanitize_terminal`]), Markdown punctuation and `|` are
//!   escaped in Markdown ([`escape_markdown`]), and `&<>"'` in HTML and SVG
//!   ([`escape_html`]). The HTML also carries a Content-Security-Policy that forbids every
//!   script and every network load, so a missed escape still cannot run code or phone home.
//! - **The HTML report is one file.** Inline CSS and inline SVG, no JavaScript, no URL to
//!   anywhere: it can be mailed to a regulator or opened on an air-gapped machine.
//! - **Deterministic.** Output depends only on the [`Analysis`]: no clock, no randomness,
//!   no hash-map order. Two runs on the same input give byte-identical reports.
//! - **Bounded.** Tables and charts have named row caps; the full data is always in
//!   `incidents.json` and `alerts.jsonl`, and a capped table says what it left out.
//! - This crate does not know the organisation model crate: the caller copies what the
//!   report needs into [`ReportContext`].
//!
//! # Example
//!
//! ```
//! use sekisho_event::RunStats;
//! use sekisho_report::{Analysis, ReportContext, SiteInfo};
//!
//! let context = ReportContext {
//!     org_name: "Example Heavy Industries".into(),
//!     sites: vec![SiteInfo {
//!         id: "jp-hq".into(),
//!         name: "Tokyo headquarters".into(),
//!         country: "JP".into(),
//!         tags: vec!["hq".into()],
//!     }],
//!     inputs: vec!["logs/".into()],
//!     generated_by: "sekisho 0.1.0".into(),
//! };
//! let stats = RunStats::default();
//! let a = Analysis { context: &context, stats: &stats, alerts: &[], incidents: &[] };
//!
//! let text = sekisho_report::terminal_summary(&a, false);
//! assert!(text.contains("Incidents: 0"));
//! let page = sekisho_report::html(&a);
//! assert!(page.starts_with("<!DOCTYPE html>"));
//! let doc = sekisho_report::json_document(&a);
//! assert_eq!(doc["stats"]["records"], 0);
//! ```

mod escape;
mod facts;
mod html;
mod json;
mod markdown;
mod svg;
mod terminal;
mod write;

use sekisho_event::{Alert, Incident, RunStats};
use serde::{Deserialize, Serialize};

pub use escape::{escape_html, escape_markdown, sanitize_terminal};
pub use html::html;
pub use json::{JsonDocument, Period, json_document};
pub use markdown::markdown;
pub use terminal::terminal_summary;
pub use write::{ReportError, Written, write_all};

/// What the report says about the organisation, copied from the organisation model by the
/// caller (this crate does not depend on the model crate).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportContext {
    /// Shown in the report header.
    pub org_name: String,
    /// Every site of the organisation, in the order of the organisation file. Used for site
    /// names and countries, and for the site-to-site graph.
    pub sites: Vec<SiteInfo>,
    /// The inputs as the user named them (files, directories), listed in the appendix.
    pub inputs: Vec<String>,
    /// Program name and version, e.g. `sekisho 0.1.0`.
    pub generated_by: String,
}

/// One site of the organisation, as the report shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    /// Site id from the organisation file (`jp-hq`).
    pub id: String,
    /// Human name (`Tokyo headquarters`).
    pub name: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Tags such as `hq`, `overseas`.
    pub tags: Vec<String>,
}

/// Everything one run produced, borrowed: the input of every renderer in this crate.
#[derive(Clone, Copy, Debug)]
pub struct Analysis<'a> {
    pub context: &'a ReportContext,
    pub stats: &'a RunStats,
    /// Every alert of the run, in id order.
    pub alerts: &'a [Alert],
    /// The incidents the alerts were joined into, in id order.
    pub incidents: &'a [Incident],
}
