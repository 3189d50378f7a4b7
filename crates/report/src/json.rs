//! The one JSON document `sekisho analyze --json` prints.

use crate::facts::Facts;
use crate::{Analysis, ReportContext};
use sekisho_event::{Alert, Incident, RunStats, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;

/// The machine-readable result of a run. Field names are a contract with scripts: add
/// fields, never rename them.
///
/// `alerts` and `incidents` serialise exactly as in `alerts.jsonl` and `incidents.json`.
#[derive(Debug, Serialize)]
pub struct JsonDocument<'a> {
    /// `sekisho 0.1.0`.
    pub generated_by: &'a str,
    pub org: &'a str,
    pub inputs: &'a [String],
    /// Earliest and latest alerted activity; absent when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    pub stats: &'a RunStats,
    /// Alerts per detector id, sorted by id.
    pub alerts_by_detector: BTreeMap<String, u64>,
    pub alerts: &'a [Alert],
    pub incidents: &'a [Incident],
}

/// A time range, both ends inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl<'a> JsonDocument<'a> {
    /// Borrows everything from the analysis; only the counts are computed.
    pub fn new(a: &Analysis<'a>) -> Self {
        let facts = Facts::new(a);
        let ReportContext {
            org_name,
            inputs,
            generated_by,
            ..
        } = a.context;
        JsonDocument {
            generated_by,
            org: org_name,
            inputs,
            period: facts.period.map(|(from, to)| Period { from, to }),
            stats: a.stats,
            alerts_by_detector: facts.detector_counts(),
            alerts: a.alerts,
            incidents: a.incidents,
        }
    }
}

/// The result of a run as one JSON value: `generated_by`, `org`, `inputs`, `period`,
/// `stats` (the [`RunStats`]), `alerts_by_detector`, `alerts` and `incidents`.
///
/// To stream it instead, serialise [`JsonDocument::new`] directly.
pub fn json_document(a: &Analysis) -> serde_json::Value {
    // Serialising plain data with string keys cannot fail; `Null` is unreachable.
    serde_json::to_value(JsonDocument::new(a)).unwrap_or(serde_json::Value::Null)
}
