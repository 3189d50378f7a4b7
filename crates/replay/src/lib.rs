//! Policy simulation: replays the flows of the evidence store against a proposed policy and
//! tells, per rule, what it would have blocked: the legitimate-looking traffic that would
//! break (by site pair, service, top hosts) and the alerts and incidents whose crossings it
//! would have stopped. This is how "restrict all overseas connections" becomes a decision.
//!
//! The proposed org file is applied whole: its sites, assets and policy place every stored
//! flow afresh, exactly as `analyze` would with that file. Depends on the store and the
//! model; must not depend on the detectors.

use sekisho_event::{Flow, Proto, Service, Timestamp, Uid};
use sekisho_model::{Action, Enricher, Org};
use sekisho_store::{Scan, Store, StoreError, StoredAlert};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

/// Distinct hosts counted per rule for the "top hosts" lists; past it further hosts are
/// counted together as `others`.
pub const MAX_HOSTS_PER_RULE: usize = 100_000;
/// Entries kept in each top list.
pub const TOP: usize = 10;

/// One group of blocked flows.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PairCount {
    pub src_site: Option<String>,
    pub dst_site: Option<String>,
    pub service: String,
    pub flows: u64,
    pub bytes: u64,
}

/// A host and how many blocked flows it had.
#[derive(Clone, Debug, Serialize)]
pub struct HostCount {
    pub ip: IpAddr,
    pub flows: u64,
}

/// An alert the rule would have stopped.
#[derive(Clone, Debug, Serialize)]
pub struct StoppedAlert {
    pub id: String,
    pub key: String,
    pub detector: String,
    pub ts: Timestamp,
    pub summary: String,
    pub incident: Option<String>,
}

/// What one rule of the proposed policy (or its cross-site default) would have blocked.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RuleImpact {
    /// Rule name, or `(cross-site default)`.
    pub rule: String,
    /// `deny` (would block) or `alert` (would flag).
    pub action: String,
    pub flows: u64,
    pub bytes: u64,
    /// Of those, flows the policy at ingest time treated more leniently (a deny that was an
    /// allow or alert, an alert that was an allow): what changes.
    pub newly_caught: u64,
    /// Caught flows that no stored alert is about: traffic that looks legitimate and would
    /// break.
    pub legitimate_looking: u64,
    /// Legitimate-looking flows by site pair and service, largest first.
    pub by_pair: Vec<PairCount>,
    pub top_sources: Vec<HostCount>,
    pub top_destinations: Vec<HostCount>,
    /// Hosts past [`MAX_HOSTS_PER_RULE`], counted together.
    pub other_hosts_flows: u64,
    pub alerts_stopped: Vec<StoppedAlert>,
}

/// The whole simulation.
#[derive(Clone, Debug, Serialize)]
pub struct Simulation {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub flows_replayed: u64,
    /// Rules that would block or flag anything, in policy order, then the default.
    pub rules: Vec<RuleImpact>,
    pub alerts_in_period: usize,
    /// Alerts at least one of whose crossings the proposed policy denies.
    pub alerts_stopped: usize,
    /// Incidents with at least one stopped alert: id → (stopped, total) alerts.
    pub incidents: BTreeMap<String, (usize, usize)>,
}

/// (alert index, first, last µs) of an alert between two addresses.
type AlertSpan = (usize, i64, i64);
/// (source site, destination site, service) of blocked flows.
type PairKey = (Option<String>, Option<String>, Service);

/// What a flow is, relative to the stored alerts.
struct AlertIndex {
    /// Evidence uid → indices of alerts.
    by_uid: HashMap<Uid, Vec<usize>>,
    /// (src, dst) → (alert index, first, last).
    by_pair: HashMap<(IpAddr, IpAddr), Vec<AlertSpan>>,
}

impl AlertIndex {
    fn new(alerts: &[StoredAlert]) -> Self {
        let mut by_uid: HashMap<Uid, Vec<usize>> = HashMap::new();
        let mut by_pair: HashMap<(IpAddr, IpAddr), Vec<AlertSpan>> = HashMap::new();
        for (i, a) in alerts.iter().enumerate() {
            for e in &a.alert.evidence {
                if !e.uid.is_empty() {
                    by_uid.entry(e.uid).or_default().push(i);
                }
            }
            if let (Some(s), Some(d)) = (a.alert.src.ip, a.alert.dst.ip) {
                by_pair.entry((s, d)).or_default().push((
                    i,
                    a.alert.ts.as_micros(),
                    a.alert.last_ts.as_micros(),
                ));
            }
        }
        Self { by_uid, by_pair }
    }

    /// Alerts this flow is part of.
    fn alerts_of(&self, flow: &Flow, out: &mut Vec<usize>) {
        out.clear();
        if let Some(v) = self.by_uid.get(&flow.uid).filter(|_| !flow.uid.is_empty()) {
            out.extend_from_slice(v);
        }
        if let Some(v) = self.by_pair.get(&(flow.orig_ip, flow.resp_ip)) {
            let t = flow.ts.as_micros();
            out.extend(
                v.iter()
                    .filter(|(_, a, b)| (*a..=*b).contains(&t))
                    .map(|(i, _, _)| *i),
            );
        }
        out.sort_unstable();
        out.dedup();
    }
}

#[derive(Default)]
struct RuleAcc {
    impact: RuleImpact,
    pairs: HashMap<PairKey, (u64, u64)>,
    sources: HashMap<IpAddr, u64>,
    destinations: HashMap<IpAddr, u64>,
    stopped: BTreeSet<usize>,
}

impl RuleAcc {
    fn count_host(map: &mut HashMap<IpAddr, u64>, ip: IpAddr, others: &mut u64) {
        if let Some(n) = map.get_mut(&ip) {
            *n += 1;
        } else if map.len() < MAX_HOSTS_PER_RULE {
            map.insert(ip, 1);
        } else {
            *others += 1;
        }
    }
}

fn top(map: HashMap<IpAddr, u64>) -> Vec<HostCount> {
    let mut v: Vec<HostCount> = map
        .into_iter()
        .map(|(ip, flows)| HostCount { ip, flows })
        .collect();
    v.sort_by(|a, b| b.flows.cmp(&a.flows).then(a.ip.cmp(&b.ip)));
    v.truncate(TOP);
    v
}

/// Replays the store's flows in `scan` against `proposed`.
pub fn simulate(store: &Store, proposed: &Org, scan: &Scan) -> Result<Simulation, StoreError> {
    let alerts = store.alerts(scan)?;
    let index = AlertIndex::new(&alerts);
    let mut enricher = Enricher::new(proposed);
    // Rule index (None = the default) → accumulator.
    let mut acc: BTreeMap<Option<u16>, RuleAcc> = BTreeMap::new();
    let mut hits = Vec::new();
    let mut flows_replayed = 0u64;
    let mut alert_stopped_any: HashSet<usize> = HashSet::new();
    store.for_each_flow(scan, |stored| {
        flows_replayed += 1;
        let flow = &stored.flow;
        let e = enricher.enrich(flow);
        if e.verdict.action == Action::Allow {
            return;
        }
        let site = |s: Option<sekisho_model::SiteId>| s.map(|s| proposed.site(s).id.clone());
        let a = acc.entry(e.verdict.rule).or_default();
        let imp = &mut a.impact;
        imp.action = e.verdict.action.as_str().to_string();
        imp.flows += 1;
        let bytes = flow.orig_bytes.saturating_add(flow.resp_bytes);
        imp.bytes = imp.bytes.saturating_add(bytes);
        let was_lenient = match e.verdict.action {
            Action::Deny => stored.policy_action != "deny",
            _ => stored.policy_action == "allow",
        };
        if was_lenient {
            imp.newly_caught += 1;
        }
        index.alerts_of(flow, &mut hits);
        if hits.is_empty() {
            imp.legitimate_looking += 1;
            let p = a
                .pairs
                .entry((site(e.src.site), site(e.dst.site), flow.service))
                .or_default();
            p.0 += 1;
            p.1 = p.1.saturating_add(bytes);
            RuleAcc::count_host(&mut a.sources, flow.orig_ip, &mut imp.other_hosts_flows);
            RuleAcc::count_host(
                &mut a.destinations,
                flow.resp_ip,
                &mut imp.other_hosts_flows,
            );
        } else if e.verdict.action == Action::Deny {
            a.stopped.extend(hits.iter().copied());
            alert_stopped_any.extend(hits.iter().copied());
        }
    })?;
    // Alerts whose evidence was never stored as flows (a store fed alerts only, or flows
    // outside the scan): judge their evidence directly.
    for (i, s) in alerts.iter().enumerate() {
        if alert_stopped_any.contains(&i) {
            continue;
        }
        for ev in &s.alert.evidence {
            let flow = Flow {
                ts: ev.ts,
                duration_us: 0,
                uid: ev.uid,
                orig_ip: ev.orig_ip,
                orig_port: ev.orig_port,
                resp_ip: ev.resp_ip,
                resp_port: ev.resp_port,
                proto: proto_of(ev.service),
                service: ev.service,
                orig_bytes: ev.orig_bytes,
                resp_bytes: ev.resp_bytes,
                orig_pkts: 0,
                resp_pkts: 0,
                state: ev.state,
                sensor: ev.sensor.clone(),
            };
            let e = enricher.enrich(&flow);
            if e.verdict.action == Action::Deny {
                acc.entry(e.verdict.rule).or_default().stopped.insert(i);
                alert_stopped_any.insert(i);
                break;
            }
        }
    }
    let mut incidents: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (i, s) in alerts.iter().enumerate() {
        if let Some(inc) = &s.incident {
            let e = incidents.entry(inc.clone()).or_default();
            e.1 += 1;
            if alert_stopped_any.contains(&i) {
                e.0 += 1;
            }
        }
    }
    incidents.retain(|_, (stopped, _)| *stopped > 0);
    let rules = acc
        .into_iter()
        .map(|(rule, a)| {
            let mut imp = a.impact;
            imp.rule = proposed
                .rule_name(rule)
                .map_or_else(|| "(cross-site default)".to_string(), str::to_string);
            if imp.action.is_empty() {
                imp.action = "deny".to_string();
            }
            let mut pairs: Vec<PairCount> = a
                .pairs
                .into_iter()
                .map(|((s, d, svc), (flows, bytes))| PairCount {
                    src_site: s,
                    dst_site: d,
                    service: svc.as_str().to_string(),
                    flows,
                    bytes,
                })
                .collect();
            pairs.sort_by(|x, y| {
                y.flows.cmp(&x.flows).then_with(|| {
                    (&x.src_site, &x.dst_site, &x.service).cmp(&(
                        &y.src_site,
                        &y.dst_site,
                        &y.service,
                    ))
                })
            });
            pairs.truncate(20);
            imp.by_pair = pairs;
            imp.top_sources = top(a.sources);
            imp.top_destinations = top(a.destinations);
            imp.alerts_stopped = a
                .stopped
                .iter()
                .filter_map(|i| alerts.get(*i))
                .map(|s| StoppedAlert {
                    id: s.alert.id.clone(),
                    key: s.key.clone(),
                    detector: s.alert.detector.clone(),
                    ts: s.alert.ts,
                    summary: s.alert.summary.clone(),
                    incident: s.incident.clone(),
                })
                .collect();
            imp
        })
        .collect();
    Ok(Simulation {
        from: scan.from.map(Timestamp::from_micros),
        to: scan.to.map(Timestamp::from_micros),
        flows_replayed,
        rules,
        alerts_in_period: alerts.len(),
        alerts_stopped: alert_stopped_any.len(),
        incidents,
    })
}

/// Transport of an evidence flow, which keeps only the service: what the service runs on.
fn proto_of(service: Service) -> Proto {
    match service {
        Service::Dns | Service::Ntp | Service::Netbios => Proto::Udp,
        Service::Icmp => Proto::Icmp,
        _ => Proto::Tcp,
    }
}

/// Terminal text of a simulation. Names from the org file and summaries from the store are
/// shown through the report's terminal sanitiser, like every other command's output.
pub fn text(sim: &Simulation) -> String {
    use sekisho_report::sanitize_terminal as t;
    let mut s = format!(
        "replayed {} stored flows{}\n",
        sim.flows_replayed,
        match (sim.from, sim.to) {
            (Some(f), Some(t)) => format!(" from {f} to {t}"),
            (Some(f), None) => format!(" from {f}"),
            (None, Some(t)) => format!(" until {t}"),
            (None, None) => String::new(),
        }
    );
    s += &format!(
        "alerts stopped: {} of {}; incidents touched: {}\n",
        sim.alerts_stopped,
        sim.alerts_in_period,
        sim.incidents.len()
    );
    for (id, (stopped, total)) in &sim.incidents {
        s += &format!(
            "  incident {}: {stopped} of its {total} alerts stopped\n",
            t(id)
        );
    }
    for r in &sim.rules {
        s += &format!(
            "\nrule {} ({}): {} flows, {} bytes; {} newly caught; {} legitimate-looking; {} alerts stopped\n",
            t(&r.rule),
            r.action,
            r.flows,
            r.bytes,
            r.newly_caught,
            r.legitimate_looking,
            r.alerts_stopped.len()
        );
        for p in r.by_pair.iter().take(10) {
            s += &format!(
                "  would break {} -> {} {}: {} flows, {} bytes\n",
                t(p.src_site.as_deref().unwrap_or("external")),
                t(p.dst_site.as_deref().unwrap_or("external")),
                p.service,
                p.flows,
                p.bytes
            );
        }
        if !r.top_sources.is_empty() {
            s += "  top sources:";
            for h in &r.top_sources {
                s += &format!(" {} ({})", h.ip, h.flows);
            }
            s += "\n";
        }
        for a in r.alerts_stopped.iter().take(10) {
            s += &format!("  stops {} {} {}\n", a.ts, t(&a.detector), t(&a.summary));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_strings_cannot_drive_the_terminal() {
        let sim = Simulation {
            from: None,
            to: None,
            flows_replayed: 1,
            rules: vec![RuleImpact {
                rule: "deny\u{1b}[2J\u{202e}evil".to_string(),
                action: "deny".to_string(),
                alerts_stopped: vec![StoppedAlert {
                    id: "A1".to_string(),
                    key: "k".to_string(),
                    detector: "policy-deny".to_string(),
                    ts: Timestamp::from_micros(0),
                    summary: "x\u{1b}]0;title\u{7}".to_string(),
                    incident: None,
                }],
                ..RuleImpact::default()
            }],
            alerts_in_period: 1,
            alerts_stopped: 1,
            incidents: BTreeMap::new(),
        };
        let out = text(&sim);
        assert!(!out.contains('\u{1b}') && !out.contains('\u{202e}') && !out.contains('\u{7}'));
        assert!(out.contains("deny\\x1b[2J\\u{202e}evil"), "{out}");
    }
}
