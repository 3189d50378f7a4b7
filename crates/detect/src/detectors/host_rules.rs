//! `sigma`: a host record matched a rule of the user's rule set (Sigma rules loaded with
//! `--sigma`, see `sekisho-sigma`).
//!
//! **What it does.** Turns the matches of a [`HostRules`] set into alerts: one per (rule,
//! host, source address, user) per clock hour, with the rule's level as severity, its
//! first ATT&CK tag, and the host and source placed on the organisation's sites like every
//! other host alert, so correlation joins them with the crossings on the same addresses.
//!
//! **Why it matters.** Security teams already keep their host detections as Sigma rules
//! (SigmaHQ's corpus, their own). Running them here puts each hit next to the network
//! crossing that carried it, in one incident.
//!
//! **Example.** `jp-hq jp-fs01 (10.10.5.10): Sigma rule "PsExec Service Installation"
//! matched event 7045 (System) from th-bkk 10.20.3.4, user svc_backup`.
//!
//! **Known false positives.** Those of each rule; the rule's own `falsepositives` section
//! names them.
//!
//! **ATT&CK.** The rule's `attack.tXXXX` tags.

use crate::common::clean_name;
use crate::host::{
    Hourly, Key, add_operation, add_user, host_alert, is_remote, logon_service, place_host,
    place_source,
};
use crate::{AlertSink, DetectorStats, HostRules};
use sekisho_event::{HostRecord, Service};
use sekisho_model::Org;
use std::net::IpAddr;

/// The detector id of rule alerts.
pub const ID: &str = "sigma";

/// The parts of a record an alert names.
struct Seen<'a> {
    host: Option<&'a str>,
    host_ip: Option<IpAddr>,
    source_ip: Option<IpAddr>,
    user: Option<&'a str>,
    event_id: Option<u32>,
    channel: Option<&'a str>,
    service: Service,
    what: Option<&'a str>,
}

fn seen(r: &HostRecord) -> Seen<'_> {
    match r {
        HostRecord::Logon(l) => Seen {
            host: l.host.as_deref(),
            host_ip: l.host_ip,
            source_ip: l.source_ip,
            user: l.user.as_deref(),
            event_id: l.event_id,
            channel: l.channel.as_deref(),
            service: logon_service(l).unwrap_or(Service::Other),
            what: l.process.as_deref(),
        },
        HostRecord::Event(e) => Seen {
            host: e.host.as_deref(),
            host_ip: None,
            source_ip: e.source_ip,
            user: e.target_user.as_deref().or(e.user.as_deref()),
            event_id: e.event_id,
            channel: e.channel.as_deref(),
            service: Service::Other,
            what: e.command.as_deref().or(e.process.as_deref()),
        },
    }
}

/// Alerts for `matches` (rule index, record), which the caller gives in time order, into
/// `out`; returns the aggregation table's figures.
pub fn alerts(
    org: &Org,
    rules: &dyn HostRules,
    matches: &[(u32, HostRecord)],
    out: &mut AlertSink,
) -> DetectorStats {
    let mut open = Hourly::new(org);
    for (index, record) in matches {
        let Some(meta) = rules.rule(*index) else {
            continue;
        };
        let s = seen(record);
        let ts = record.ts();
        let source = s
            .source_ip
            .filter(|ip| is_remote(*ip) && Some(*ip) != s.host_ip);
        let key = Key::new(0x5349_474d)
            .num(i64::from(*index))
            .str(s.host)
            .ip(source)
            .str(s.user);
        open.add(
            key,
            ts,
            || {
                let host = place_host(org, s.host, s.host_ip);
                let src = source.map(|ip| place_source(org, ip));
                let event = match (s.event_id, s.channel) {
                    (Some(id), Some(ch)) => format!("event {id} ({})", clean_name(ch)),
                    (Some(id), None) => format!("event {id}"),
                    (None, Some(ch)) => format!("a {} record", clean_name(ch)),
                    (None, None) => "a record".to_string(),
                };
                let from = src
                    .as_ref()
                    .map(|p| format!(" from {}", p.describe(org)))
                    .unwrap_or_default();
                let user = s
                    .user
                    .map(|u| format!(", user {}", clean_name(u)))
                    .unwrap_or_default();
                let mut a = host_alert(
                    ID,
                    meta.severity,
                    ts,
                    src.as_ref().unwrap_or(&host).endpoint(org),
                    host.endpoint(org),
                    s.service,
                    format!(
                        "{}: Sigma rule \"{}\" matched {event}{from}{user}",
                        host.describe(org),
                        clean_name(&meta.title)
                    ),
                );
                a.rule = Some(meta.title.clone());
                a.attack = meta.attack.clone();
                add_user(&mut a, s.user);
                add_operation(&mut a, s.what);
                a
            },
            out,
        );
    }
    open.finish(out);
    let mut stats = DetectorStats::default();
    open.add_stats(&mut stats);
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RuleMeta;
    use sekisho_event::{HostEvent, HostEventKind, HostSource, Severity, Timestamp};

    #[derive(Debug)]
    struct OneRule(RuleMeta);

    impl HostRules for OneRule {
        fn matches(&self, _: &HostRecord, out: &mut Vec<u32>) {
            out.push(0);
        }
        fn rule(&self, index: u32) -> Option<&RuleMeta> {
            (index == 0).then_some(&self.0)
        }
    }

    fn org() -> Org {
        Org::from_toml(
            r#"
[org]
name = "Example"
[[site]]
id = "jp-hq"
country = "JP"
timezone = "Asia/Tokyo"
networks = ["10.10.0.0/16"]
[[site]]
id = "th-bkk"
country = "TH"
timezone = "Asia/Bangkok"
networks = ["10.20.0.0/16"]
[[asset]]
name = "jp-fs01"
site = "jp-hq"
addresses = ["10.10.5.10"]
"#,
            "org.toml",
        )
        .unwrap()
    }

    fn service_event(minute: i64) -> HostRecord {
        let mut e = HostEvent::new(
            Timestamp::from_micros(minute * 60 * Timestamp::SECOND),
            HostSource::Evtx,
            HostEventKind::Other,
        );
        e.event_id = Some(7045);
        e.channel = Some("System".into());
        e.host = Some("JP-FS01.corp.example".into());
        e.source_ip = Some("10.20.3.4".parse().unwrap());
        e.user = Some("svc\u{1b}[31m".into());
        HostRecord::Event(e)
    }

    #[test]
    fn matches_become_placed_alerts_folded_per_hour() {
        let org = org();
        let rules = OneRule(RuleMeta {
            id: "abc".into(),
            title: "PsExec Service Installation".into(),
            severity: Severity::High,
            attack: Some("T1569.002".into()),
            path: "rules/psexec.yml".into(),
        });
        // Two in the first hour fold into one alert; one in the next hour is another.
        let matches = vec![
            (0, service_event(1)),
            (0, service_event(2)),
            (0, service_event(61)),
        ];
        let mut sink = AlertSink::new(100);
        alerts(&org, &rules, &matches, &mut sink);
        let got = sink.into_alerts();
        assert_eq!(got.len(), 2);
        let a = &got[0];
        assert_eq!(a.detector, "sigma");
        assert_eq!(a.severity, Severity::High);
        assert_eq!(a.attack.as_deref(), Some("T1569.002"));
        assert_eq!(a.rule.as_deref(), Some("PsExec Service Installation"));
        assert_eq!(a.src.site.as_deref(), Some("th-bkk"));
        assert_eq!(a.dst.asset.as_deref(), Some("jp-fs01"));
        assert!(
            a.summary
                .contains("matched event 7045 (System) from th-bkk 10.20.3.4")
        );
        assert!(
            a.summary.contains("(2 times within the hour)"),
            "{}",
            a.summary
        );
        // Attacker-chosen names reach the summary without control characters.
        assert!(!a.summary.contains('\u{1b}'));
    }
}
