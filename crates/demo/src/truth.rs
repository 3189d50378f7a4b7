//! Ground truth: `truth.jsonl`, one JSON object per line.
//!
//! ```text
//! {"type":"scenario","seed":7,"scale":"medium","restriction_date":"2024-07-17",...}
//! {"type":"incident","id":"T1","title":"...","entry_site":"th-bkk","foothold":"10.20.x.y",...}
//! {"type":"flow","incident":"T1","stage":"initial-access","uid":"C...","ts":"...",...}
//! ```
//!
//! The scenario line comes first, then the incidents, then every intrusion flow in time
//! order. Lines of a `type` this version does not know are skipped, so the format can grow.

use crate::DemoError;
use sekisho_event::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io::BufRead;
use std::net::IpAddr;
use std::path::Path;

/// The first line: what was generated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TruthScenario {
    /// The seed it was generated with.
    pub seed: u64,
    /// `small`, `medium` or `large`.
    pub scale: String,
    /// From this date (00:00 Tokyo time) on there is no intrusion traffic: the date the
    /// organisation restricted overseas connections. `YYYY-MM-DD`.
    pub restriction_date: String,
    /// The same instant as a timestamp.
    pub restriction_ts: Timestamp,
    /// Organisation name, as in `org.toml`.
    pub org: String,
    /// First instant covered by the logs.
    pub start: Timestamp,
    /// End of the logs (exclusive).
    pub end: Timestamp,
    /// Days of logs.
    pub days: u32,
    /// Days at the start that form the first-seen baseline (`org.toml` says the same);
    /// the intrusion starts after them.
    pub baseline_days: u32,
}

/// One intrusion the analysis should find: a foothold at an overseas site reaching HQ.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TruthIncident {
    /// `T1` .. `T4`.
    pub id: String,
    /// One line saying what happened.
    pub title: String,
    /// Site id of the foothold.
    pub entry_site: String,
    /// The compromised workstation the intruder came from.
    pub foothold: IpAddr,
    /// Every address the incident's flows touch (foothold, HQ servers, attacker servers).
    pub hosts: Vec<IpAddr>,
    /// The attacker's own servers (C2, exfiltration target).
    pub external: Vec<IpAddr>,
    /// Start of its first flow.
    pub first_seen: Timestamp,
    /// End of its last flow.
    pub last_seen: Timestamp,
    /// ATT&CK tactics shown, in kill-chain order (`initial-access`, `discovery`,
    /// `lateral-movement`, `collection`, `exfiltration`, `command-and-control`).
    pub stages: Vec<String>,
}

impl TruthIncident {
    /// Addresses whose presence in a reported incident, during this incident's time span,
    /// shows the report is about it: the foothold and the attacker's servers. The HQ
    /// servers it touched are left out on purpose; they also appear in benign findings.
    pub fn indicator_hosts(&self) -> impl Iterator<Item = IpAddr> + '_ {
        std::iter::once(self.foothold).chain(self.external.iter().copied())
    }
}

/// One intrusion flow, as logged in exactly one `conn.log` line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TruthFlow {
    /// Id of the truth incident it belongs to.
    pub incident: String,
    /// ATT&CK tactic, see [`TruthIncident::stages`].
    pub stage: String,
    /// Zeek uid of the conn.log line.
    pub uid: String,
    /// Start of the connection.
    pub ts: Timestamp,
    /// Originator address.
    pub src: IpAddr,
    /// Responder address.
    pub dst: IpAddr,
    /// Responder port.
    pub dst_port: u16,
    /// Service in policy vocabulary (`rdp`, `smb`, `https`, ...).
    pub service: String,
    /// Name of the sensor (folder under `zeek/`) whose log holds the line.
    pub sensor: String,
    /// Payload bytes originator → responder.
    pub orig_bytes: u64,
    /// Payload bytes responder → originator.
    pub resp_bytes: u64,
}

/// A whole truth file.
#[derive(Clone, Debug, PartialEq)]
pub struct Truth {
    /// The scenario line.
    pub scenario: TruthScenario,
    /// The intrusions, `T1`.. in order of first flow.
    pub incidents: Vec<TruthIncident>,
    /// Every intrusion flow, in time order.
    pub flows: Vec<TruthFlow>,
    /// Uids of all intrusion flows.
    pub intrusion_uids: HashSet<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub(crate) enum Line {
    Scenario(TruthScenario),
    Incident(TruthIncident),
    Flow(TruthFlow),
    #[serde(other)]
    Other,
}

/// Reads a `truth.jsonl` written by [`crate::generate`].
pub fn load_truth(path: &Path) -> Result<Truth, DemoError> {
    let io = |source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut scenario = None;
    let mut incidents = Vec::new();
    let mut flows: Vec<TruthFlow> = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| DemoError::Truth {
            path: path.to_path_buf(),
            line: i as u64 + 1,
            message,
        };
        match serde_json::from_str::<Line>(&line).map_err(|e| bad(e.to_string()))? {
            Line::Scenario(s) => scenario = Some(s),
            Line::Incident(t) => incidents.push(t),
            Line::Flow(f) => {
                if !incidents.iter().any(|t: &TruthIncident| t.id == f.incident) {
                    return Err(bad(format!("flow of unknown incident {:?}", f.incident)));
                }
                flows.push(f);
            }
            Line::Other => {}
        }
    }
    let scenario = scenario.ok_or_else(|| DemoError::Truth {
        path: path.to_path_buf(),
        line: 0,
        message: "no scenario line".to_string(),
    })?;
    let intrusion_uids = flows.iter().map(|f| f.uid.clone()).collect();
    Ok(Truth {
        scenario,
        incidents,
        flows,
        intrusion_uids,
    })
}
