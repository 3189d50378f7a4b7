//! Scores an analysis' incidents against the ground truth.

use crate::truth::Truth;
use sekisho_event::{Alert, Incident};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;

/// How well reported incidents match the truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Incidents in the truth.
    pub truth_incidents: usize,
    /// Truth incidents matched by at least one reported incident.
    pub detected_truth: usize,
    /// `detected_truth / truth_incidents` (1.0 when the truth has none).
    pub recall: f64,
    /// Incidents the analysis reported.
    pub reported_incidents: usize,
    /// Reported incidents that match some truth incident.
    pub true_incidents: usize,
    /// `true_incidents / reported_incidents`; 1.0 when nothing was reported and nothing
    /// was expected, 0.0 when nothing was reported but something was.
    pub precision: f64,
    /// Ids of truth incidents nobody reported.
    pub missed: Vec<String>,
    /// Ids of reported incidents that match no truth incident.
    pub false_incident_ids: Vec<String>,
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "recall {}/{} ({:.2}), precision {}/{} ({:.2})",
            self.detected_truth,
            self.truth_incidents,
            self.recall,
            self.true_incidents,
            self.reported_incidents,
            self.precision
        )?;
        if !self.missed.is_empty() {
            write!(f, "; missed {}", self.missed.join(", "))?;
        }
        if !self.false_incident_ids.is_empty() {
            write!(f, "; false {}", self.false_incident_ids.join(", "))?;
        }
        Ok(())
    }
}

/// Matches reported incidents to truth incidents.
///
/// A reported incident matches truth incident T when one of its alerts (found in `alerts`
/// by the ids in `incident.alert_ids`) has as evidence a flow of T, or when its `hosts`
/// contain one of T's indicator hosts (foothold, attacker servers; see
/// [`crate::TruthIncident::indicator_hosts`]) and its time span overlaps T's. A reported
/// incident is true when it matches some T **and** at least half of its alerts are about the
/// intrusion (carry an intrusion flow, or name an indicator host at either end): an
/// incident that buries one intrusion alert among benign ones is what an analyst would
/// close as noise, so it does not count. T is detected when some true reported incident
/// matches it. One reported incident may detect several truth incidents (a correlator
/// that joins the footholds through the HQ servers they share is not wrong).
pub fn score(truth: &Truth, incidents: &[Incident], alerts: &[Alert]) -> Score {
    let alert_by_id: HashMap<&str, &Alert> = alerts.iter().map(|a| (a.id.as_str(), a)).collect();
    let index: HashMap<&str, usize> = truth
        .incidents
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let uid_incident: HashMap<&str, usize> = truth
        .flows
        .iter()
        .filter_map(|f| Some((f.uid.as_str(), *index.get(f.incident.as_str())?)))
        .collect();

    let indicators: HashSet<IpAddr> = truth
        .incidents
        .iter()
        .flat_map(|t| t.indicator_hosts())
        .collect();
    let mut detected = vec![false; truth.incidents.len()];
    let mut true_incidents = 0;
    let mut false_incident_ids = Vec::new();
    for inc in incidents {
        let mut matched: HashSet<usize> = HashSet::new();
        let (mut intrusion_alerts, mut known_alerts) = (0usize, 0usize);
        for id in &inc.alert_ids {
            let Some(alert) = alert_by_id.get(id.as_str()) else {
                continue;
            };
            known_alerts += 1;
            let mut about_intrusion = false;
            for ev in &alert.evidence {
                if let Some(&t) = uid_incident.get(ev.uid.as_str()) {
                    matched.insert(t);
                    about_intrusion = true;
                }
            }
            let ends = [alert.src.ip, alert.dst.ip];
            if ends.iter().flatten().any(|ip| indicators.contains(ip)) {
                about_intrusion = true;
            }
            intrusion_alerts += usize::from(about_intrusion);
        }
        let hosts: HashSet<IpAddr> = inc.hosts.iter().copied().collect();
        for (i, t) in truth.incidents.iter().enumerate() {
            let overlaps = inc.first_seen <= t.last_seen && inc.last_seen >= t.first_seen;
            if overlaps && t.indicator_hosts().any(|h| hosts.contains(&h)) {
                matched.insert(i);
            }
        }
        let mostly_intrusion = intrusion_alerts * 2 >= known_alerts;
        if matched.is_empty() || !mostly_intrusion {
            false_incident_ids.push(inc.id.clone());
        } else {
            true_incidents += 1;
            for i in matched {
                detected[i] = true;
            }
        }
    }
    let detected_truth = detected.iter().filter(|d| **d).count();
    let truth_incidents = truth.incidents.len();
    let reported_incidents = incidents.len();
    Score {
        truth_incidents,
        detected_truth,
        recall: ratio(detected_truth, truth_incidents, 1.0),
        reported_incidents,
        true_incidents,
        precision: ratio(
            true_incidents,
            reported_incidents,
            if truth_incidents == 0 { 1.0 } else { 0.0 },
        ),
        missed: truth
            .incidents
            .iter()
            .zip(&detected)
            .filter(|(_, d)| !**d)
            .map(|(t, _)| t.id.clone())
            .collect(),
        false_incident_ids,
    }
}

fn ratio(num: usize, den: usize, empty: f64) -> f64 {
    if den == 0 {
        empty
    } else {
        num as f64 / den as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::truth::{TruthFlow, TruthIncident, TruthScenario};
    use sekisho_event::{
        AlertEndpoint, AppContext, ConnState, Evidence, Service, Severity, Timestamp, Uid,
    };

    const H: i64 = Timestamp::HOUR;

    fn ts(h: i64) -> Timestamp {
        Timestamp::from_micros(1_720_000_000_000_000 + h * H)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// Two truth incidents: T1 (foothold 10.20.0.5, hours 0–5), T2 (10.30.0.5, hours
    /// 48–52), with one flow each.
    fn truth() -> Truth {
        let inc = |id: &str, foothold: &str, c2: &str, from: i64, to: i64| TruthIncident {
            id: id.into(),
            title: id.into(),
            entry_site: "x".into(),
            foothold: ip(foothold),
            hosts: vec![ip(foothold), ip("10.10.5.21"), ip(c2)],
            external: vec![ip(c2)],
            first_seen: ts(from),
            last_seen: ts(to),
            stages: vec!["initial-access".into()],
        };
        let flow = |inc: &str, uid: &str, src: &str, h: i64| TruthFlow {
            incident: inc.into(),
            stage: "initial-access".into(),
            uid: uid.into(),
            ts: ts(h),
            src: ip(src),
            dst: ip("10.10.5.21"),
            dst_port: 3389,
            service: "rdp".into(),
            sensor: "s".into(),
            orig_bytes: 1,
            resp_bytes: 1,
        };
        let flows = vec![
            flow("T1", "CT1aaaaaaaaaaaaaaa", "10.20.0.5", 1),
            flow("T2", "CT2aaaaaaaaaaaaaaa", "10.30.0.5", 49),
        ];
        Truth {
            scenario: TruthScenario {
                seed: 1,
                scale: "small".into(),
                restriction_date: "2024-07-10".into(),
                restriction_ts: ts(200),
                org: "o".into(),
                start: ts(-100),
                end: ts(300),
                days: 7,
                baseline_days: 3,
            },
            incidents: vec![
                inc("T1", "10.20.0.5", "45.133.1.2", 0, 5),
                inc("T2", "10.30.0.5", "91.215.1.2", 48, 52),
            ],
            intrusion_uids: flows.iter().map(|f| f.uid.clone()).collect(),
            flows,
        }
    }

    fn alert(id: &str, uid: &str, h: i64) -> Alert {
        Alert {
            id: id.into(),
            detector: "policy-deny".into(),
            severity: Severity::High,
            ts: ts(h),
            last_ts: ts(h),
            src: AlertEndpoint::default(),
            dst: AlertEndpoint::default(),
            service: Service::Rdp,
            dst_port: Some(3389),
            rule: None,
            attack: None,
            summary: String::new(),
            flow_count: 1,
            bytes_out: 0,
            bytes_in: 0,
            related: vec![],
            context: AppContext::default(),
            evidence: vec![Evidence {
                ts: ts(h),
                uid: Uid::new(uid).unwrap(),
                orig_ip: ip("10.0.0.1"),
                orig_port: 50000,
                resp_ip: ip("10.0.0.2"),
                resp_port: 3389,
                service: Service::Rdp,
                orig_bytes: 0,
                resp_bytes: 0,
                state: ConnState::SF,
                sensor: "s".into(),
            }],
        }
    }

    fn incident(id: &str, alerts: &[&str], hosts: &[&str], from: i64, to: i64) -> Incident {
        Incident {
            id: id.into(),
            title: id.into(),
            severity: Severity::High,
            status: "open".into(),
            first_seen: ts(from),
            last_seen: ts(to),
            entry_points: vec![],
            sites: vec![],
            hosts: hosts.iter().map(|h| ip(h)).collect(),
            assets: vec![],
            data_classes: vec![],
            customers: vec![],
            users: vec![],
            bytes_moved: vec![],
            detectors: vec![],
            alert_ids: alerts.iter().map(|a| a.to_string()).collect(),
            timeline: vec![],
        }
    }

    #[test]
    fn an_incident_that_is_mostly_noise_is_not_a_true_detection() {
        let mut alerts = vec![alert("A1", "CT1aaaaaaaaaaaaaaa", 1)];
        for i in 2..=4 {
            alerts.push(alert(&format!("A{i}"), "Cbenignaaaaaaaaaaa", 2));
        }
        let incidents = [incident(
            "INC-1",
            &["A1", "A2", "A3", "A4"],
            &["10.10.5.21"],
            1,
            2,
        )];
        let s = score(&truth(), &incidents, &alerts);
        assert_eq!((s.true_incidents, s.reported_incidents), (0, 1));
        assert_eq!(s.detected_truth, 0);
        assert_eq!(s.false_incident_ids, ["INC-1"]);
        // Half intrusion is enough.
        let half = [incident("INC-1", &["A1", "A2"], &["10.10.5.21"], 1, 2)];
        assert_eq!(score(&truth(), &half, &alerts).true_incidents, 1);
    }

    #[test]
    fn perfect_analysis_scores_one_and_one() {
        let alerts = [
            alert("A1", "CT1aaaaaaaaaaaaaaa", 1),
            alert("A2", "CT2aaaaaaaaaaaaaaa", 49),
        ];
        // INC-2 matches by host only: its alert's evidence is not an intrusion flow.
        let incidents = [
            incident("INC-1", &["A1"], &["10.20.0.5", "10.10.5.21"], 1, 2),
            incident("INC-2", &["A3"], &["10.30.0.5"], 50, 51),
        ];
        let s = score(&truth(), &incidents, &alerts);
        assert_eq!((s.detected_truth, s.truth_incidents), (2, 2));
        assert_eq!((s.true_incidents, s.reported_incidents), (2, 2));
        assert_eq!((s.recall, s.precision), (1.0, 1.0));
        assert!(s.missed.is_empty() && s.false_incident_ids.is_empty());
        assert_eq!(s.to_string(), "recall 2/2 (1.00), precision 2/2 (1.00)");
    }

    #[test]
    fn one_missed_truth_incident_halves_recall() {
        let alerts = [alert("A1", "CT1aaaaaaaaaaaaaaa", 1)];
        // INC-2 names T2's foothold, but days after T2 ended: not a match.
        let incidents = [
            incident("INC-1", &["A1"], &[], 1, 2),
            incident("INC-2", &[], &["10.30.0.5"], 100, 101),
        ];
        let s = score(&truth(), &incidents, &alerts);
        assert_eq!(s.detected_truth, 1);
        assert_eq!(s.recall, 0.5);
        assert_eq!(s.missed, vec!["T2".to_string()]);
        assert_eq!(s.false_incident_ids, vec!["INC-2".to_string()]);
    }

    #[test]
    fn one_false_incident_lowers_precision_only() {
        let alerts = [
            alert("A1", "CT1aaaaaaaaaaaaaaa", 1),
            alert("A2", "CT2aaaaaaaaaaaaaaa", 49),
            alert("A3", "CBenignaaaaaaaaaaa", 30),
        ];
        // INC-3 shares an HQ server with T1 in T1's span, which alone does not make it
        // true: HQ servers are not indicators.
        let incidents = [
            incident("INC-1", &["A1"], &[], 1, 2),
            incident("INC-2", &["A2"], &[], 49, 49),
            incident("INC-3", &["A3"], &["10.10.5.21"], 3, 30),
        ];
        let s = score(&truth(), &incidents, &alerts);
        assert_eq!(s.recall, 1.0);
        assert_eq!((s.true_incidents, s.reported_incidents), (2, 3));
        assert!((s.precision - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.false_incident_ids, vec!["INC-3".to_string()]);
        assert!(s.missed.is_empty());
    }

    #[test]
    fn one_incident_spanning_both_footholds_detects_both() {
        let alerts = [
            alert("A1", "CT1aaaaaaaaaaaaaaa", 1),
            alert("A2", "CT2aaaaaaaaaaaaaaa", 49),
        ];
        let incidents = [incident("INC-1", &["A1", "A2"], &[], 1, 49)];
        let s = score(&truth(), &incidents, &alerts);
        assert_eq!((s.detected_truth, s.true_incidents), (2, 1));
        assert_eq!((s.recall, s.precision), (1.0, 1.0));
    }

    #[test]
    fn empty_reports_score_by_what_was_expected() {
        let s = score(&truth(), &[], &[]);
        assert_eq!((s.recall, s.precision), (0.0, 0.0));
        assert_eq!(s.missed, vec!["T1".to_string(), "T2".to_string()]);
        let mut nothing = truth();
        nothing.incidents.clear();
        nothing.flows.clear();
        let s = score(&nothing, &[], &[]);
        assert_eq!((s.recall, s.precision), (1.0, 1.0));
    }
}
