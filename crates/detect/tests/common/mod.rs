//! Shared fixtures for detector tests: an organisation like DESIGN.md's, a flow builder, and
//! a runner that enriches flows and feeds them to detectors as the engine does.
#![allow(dead_code)]

use sekisho_detect::{AlertSink, Detector, FlowView, build_all};
use sekisho_event::{Alert, AppContext, ConnState, Flow, Proto, Service, Timestamp, Uid};
use sekisho_model::{Enricher, Org};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

/// Three offices, HQ assets with data, a scanner, a backup server, three sensors.
/// Bangkok is UTC+7, Tokyo UTC+9, Houston UTC-5 (May).
pub const ORG: &str = r#"
[org]
name = "Example Heavy Industries"

[[site]]
id = "jp-hq"
name = "Tokyo headquarters"
country = "JP"
timezone = "Asia/Tokyo"
networks = ["10.10.0.0/16", "2001:db8:10::/48"]
tags = ["hq"]

[[site]]
id = "th-bkk"
name = "Bangkok office"
country = "TH"
timezone = "Asia/Bangkok"
networks = ["10.20.0.0/16"]
tags = ["overseas"]

[[site]]
id = "us-hou"
name = "Houston office"
country = "US"
timezone = "America/Chicago"
networks = ["10.40.0.0/16"]
tags = ["overseas"]

[[asset]]
name = "jp-fs01"
site = "jp-hq"
addresses = ["10.10.5.10"]
roles = ["file-server"]
data = ["customer-pii", "design"]
customers = ["Acme Air"]

[[asset]]
name = "jp-dc01"
site = "jp-hq"
addresses = ["10.10.1.1"]
roles = ["domain-controller"]

[[asset]]
name = "th-dc01"
site = "th-bkk"
addresses = ["10.20.1.1"]
roles = ["domain-controller"]

[[asset]]
name = "th-backup01"
site = "th-bkk"
addresses = ["10.20.2.2"]
roles = ["backup"]

[[asset]]
name = "jp-scan01"
site = "jp-hq"
addresses = ["10.10.0.5"]
roles = ["scanner"]

[[sensor]]
name = "jp-hq-zeek"
sites = ["jp-hq"]

[[sensor]]
name = "th-bkk-zeek"
sites = ["th-bkk"]

[[sensor]]
name = "us-hou-zeek"
sites = ["us-hou"]

[policy]
cross_site_default = "alert"
business_hours = "Mon-Fri 08:00-19:00"

[[policy.rule]]
name = "AD replication"
from = { role = "domain-controller" }
to = { role = "domain-controller" }
services = ["ldap", "kerberos", "dce-rpc", "smb"]
action = "allow"

[[policy.rule]]
name = "nightly backup of HQ file server"
from = { role = "backup" }
to = { asset = "jp-fs01" }
services = ["smb"]
action = "allow"

[[policy.rule]]
name = "no overseas admin access to HQ servers"
from = { tag = "overseas" }
to = { site = "jp-hq", role = ["file-server", "domain-controller"] }
services = ["rdp", "smb", "ssh", "winrm"]
action = "deny"

[[policy.rule]]
name = "overseas web to HQ in business hours"
from = { tag = "overseas" }
to = { site = "jp-hq" }
services = ["https"]
during = "business-hours"
action = "allow"

[[policy.rule]]
name = "web from the Internet into HQ"
from = { external = true }
to = { site = "jp-hq" }
services = ["http", "https"]
action = "alert"
"#;

/// The org, with extra TOML (such as `[detectors.*]` tables) appended.
pub fn org_with(extra: &str) -> Org {
    Org::from_toml(&format!("{ORG}\n{extra}"), "org.toml").expect("test org parses")
}

pub fn org() -> Org {
    org_with("")
}

/// A time from RFC 3339.
pub fn t(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap_or_else(|| panic!("bad time {s}"))
}

/// `base` plus seconds.
pub fn plus(base: Timestamp, secs: i64) -> Timestamp {
    base.add_micros(secs * Timestamp::SECOND)
}

/// A TCP flow `src → dst:port`, established (SF), 100/200 bytes, service from the port,
/// seen by the sensor of the source's site (`jp-hq-zeek` for addresses outside every site).
pub fn flow(src: &str, dst: &str, port: u16, ts: Timestamp) -> Flow {
    let orig_ip = src.parse().expect("src address");
    let resp_ip = dst.parse().expect("dst address");
    let sensor = if src.starts_with("10.20.") {
        "th-bkk-zeek"
    } else if src.starts_with("10.40.") {
        "us-hou-zeek"
    } else {
        "jp-hq-zeek"
    };
    let mut h = DefaultHasher::new();
    (src, dst, port, ts.as_micros()).hash(&mut h);
    let uid = format!("C{:016x}", h.finish());
    Flow {
        ts,
        duration_us: 1_000_000,
        uid: Uid::new(&uid).expect("uid"),
        orig_ip,
        orig_port: 49_152 + (h.finish() % 16_000) as u16,
        resp_ip,
        resp_port: port,
        proto: Proto::Tcp,
        service: Service::from_port(Proto::Tcp, port),
        orig_bytes: 100,
        resp_bytes: 200,
        orig_pkts: 4,
        resp_pkts: 4,
        state: ConnState::SF,
        sensor: Arc::from(sensor),
    }
}

/// Builder-style changes to a test flow.
pub trait FlowExt: Sized {
    fn state(self, s: ConnState) -> Self;
    fn bytes(self, orig: u64, resp: u64) -> Self;
    fn sensor(self, name: &str) -> Self;
    fn service(self, s: Service) -> Self;
}

impl FlowExt for Flow {
    fn state(mut self, s: ConnState) -> Self {
        self.state = s;
        self
    }
    fn bytes(mut self, orig: u64, resp: u64) -> Self {
        self.orig_bytes = orig;
        self.resp_bytes = resp;
        self
    }
    fn sensor(mut self, name: &str) -> Self {
        self.sensor = Arc::from(name);
        self
    }
    fn service(mut self, s: Service) -> Self {
        self.service = s;
        self
    }
}

/// Feeds flows (in the order given) to detectors as the engine does, then finishes them.
/// `ids` picks detectors by id; empty means all. Alerts come back in the engine's order.
pub fn run(org: &Org, ids: &[&str], flows: &[Flow]) -> Vec<Alert> {
    run_with_context(org, ids, flows, &[])
}

/// Like [`run`], with application context for some flows (by index).
pub fn run_with_context(
    org: &Org,
    ids: &[&str],
    flows: &[Flow],
    contexts: &[(usize, AppContext)],
) -> Vec<Alert> {
    run_detectors(org, ids, flows, contexts).0
}

/// Like [`run_with_context`], also handing back the finished detectors (for what they
/// learned).
pub fn run_detectors<'o>(
    org: &'o Org,
    ids: &[&str],
    flows: &[Flow],
    contexts: &[(usize, AppContext)],
) -> (Vec<Alert>, Vec<Box<dyn Detector + 'o>>) {
    let mut detectors = detectors(org, ids);
    let mut sink = AlertSink::new(org.detectors.limits.max_alerts);
    let mut enricher = Enricher::new(org);
    for (i, f) in flows.iter().enumerate() {
        let enriched = enricher.enrich(f);
        let context = contexts.iter().find(|(j, _)| *j == i).map(|(_, c)| c);
        let view = FlowView {
            flow: f,
            enriched: &enriched,
            context,
        };
        for d in detectors.iter_mut() {
            d.on_flow(&view, &mut sink);
        }
    }
    for d in detectors.iter_mut() {
        d.finish(&mut sink);
    }
    let mut alerts = sink.into_alerts();
    alerts.sort_by(|a, b| {
        a.sort_key()
            .cmp(&b.sort_key())
            .then_with(|| a.summary.cmp(&b.summary))
    });
    (alerts, detectors)
}

/// The detectors with these ids (all when empty); panics on an unknown id.
pub fn detectors<'o>(org: &'o Org, ids: &[&str]) -> Vec<Box<dyn Detector + 'o>> {
    for id in ids {
        assert!(
            sekisho_detect::REGISTRY.iter().any(|s| s.id == *id),
            "no detector {id}"
        );
    }
    build_all(org)
        .into_iter()
        .filter(|d| ids.is_empty() || ids.contains(&d.id()))
        .collect()
}

/// Alerts of one detector.
pub fn of<'a>(alerts: &'a [Alert], id: &str) -> Vec<&'a Alert> {
    alerts.iter().filter(|a| a.detector == id).collect()
}

/// The source and destination addresses of an alert, as text.
pub fn ends(a: &Alert) -> (String, String) {
    let s = |e: &sekisho_event::AlertEndpoint| e.ip.map(|i| i.to_string()).unwrap_or_default();
    (s(&a.src), s(&a.dst))
}

/// Flows sorted by time (stable), as the engine would merge sensors.
pub fn by_time(mut flows: Vec<Flow>) -> Vec<Flow> {
    flows.sort_by_key(|f| f.ts);
    flows
}

/// Deterministic pseudo-random numbers in 0..1 (xorshift), for generated fixtures.
pub fn rng(seed: &mut u64) -> f64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    (*seed >> 11) as f64 / (1u64 << 53) as f64
}

/// Detector settings of the story: a one-day baseline and a small scan threshold.
pub const STORY_SETTINGS: &str = "[detectors.first_seen_crossing]\nbaseline_days = 1\n\
    [detectors.fan_out]\nmin_hosts = 10\nmin_ports = 20\n";

/// The breach, compressed into two days (UTC; Bangkok is +7, Tokyo +9, Houston -5).
///
/// Tuesday 2024-05-14 is ordinary (the first-seen baseline). On Wednesday evening UTC —
/// the small hours of Thursday in Bangkok — `10.20.3.4` in th-bkk RDPs into HQ host
/// `10.10.7.7`, which scans its neighbours and goes on to the file server and to
/// `10.10.8.8`, which goes on to the DC; `10.20.3.4` then pulls 210 MB from the file server
/// over SMB, the Bangkok sensor goes quiet for three and a half hours, and the file server
/// sends 150 MB to an outside address. All along, `10.20.3.4` calls `203.0.113.50` every five
/// minutes. Returns the flows in time order and the application context of the RDP flow.
pub fn story() -> (Vec<Flow>, Vec<(usize, AppContext)>) {
    let day1 = t("2024-05-14T00:00:00Z");
    let day2 = t("2024-05-15T00:00:00Z");
    let end = t("2024-05-16T00:00:00Z");
    let at = |s: &str| t(&format!("2024-05-15T{s}Z"));
    let gap = (at("20:00:00"), at("23:30:00"));
    let in_gap = |ts: Timestamp| ts > gap.0 && ts < gap.1;
    let mut flows = Vec::new();

    // Every sensor sees some intra-site traffic every ten minutes (Bangkok's stops a while).
    let mut ts = day1;
    while ts < end {
        flows.push(flow("10.10.9.9", "10.10.9.8", 443, ts));
        if !in_gap(ts) {
            flows.push(flow("10.20.9.9", "10.20.9.8", 443, ts));
        }
        flows.push(flow("10.40.9.9", "10.40.9.8", 443, ts));
        ts = plus(ts, 600);
    }
    // HQ workstations use the file server every hour.
    let mut ts = day1;
    while ts < end {
        for ws in 1..=5 {
            flows.push(flow(
                &format!("10.10.30.{ws}"),
                "10.10.5.10",
                445,
                plus(ts, ws * 7),
            ));
        }
        ts = plus(ts, 3600);
    }
    // Ordinary crossings, both days: web to HQ in business hours, DC replication.
    for day in [day1, day2] {
        flows.push(flow("10.20.3.4", "10.10.50.50", 443, plus(day, 3 * 3600)));
        flows.push(flow("10.40.1.1", "10.10.50.50", 443, plus(day, 15 * 3600)));
        flows.push(flow("10.20.1.1", "10.10.1.1", 445, plus(day, 12 * 3600)));
    }
    // The Internet knocks on an HQ web server.
    flows.push(flow("198.51.100.7", "10.10.20.20", 443, at("06:00:00")));

    // The beacon: every 300 s ± 10 s from noon, seen by the Bangkok sensor only.
    let mut seed = 42;
    let mut secs = 12.0 * 3600.0;
    while secs < 24.0 * 3600.0 {
        let ts = plus(day2, secs as i64);
        if !in_gap(ts) {
            let size = 230 + (rng(&mut seed) * 20.0) as u64;
            flows.push(flow("10.20.3.4", "203.0.113.50", 443, ts).bytes(size, 1_100));
        }
        secs += 300.0 + (rng(&mut seed) - 0.5) * 20.0;
    }

    // The intrusion, as HQ's sensor sees it.
    let rdp = flow("10.20.3.4", "10.10.7.7", 3389, at("18:55:00"))
        .bytes(250_000, 2_000_000)
        .sensor("jp-hq-zeek");
    let rdp_uid = rdp.uid;
    flows.push(rdp);
    for h in 20..=31u8 {
        flows.push(
            flow(
                "10.10.7.7",
                &format!("10.10.1.{h}"),
                445,
                plus(at("19:05:00"), i64::from(h)),
            )
            .state(ConnState::S0),
        );
    }
    flows.push(flow("10.10.7.7", "10.10.5.10", 445, at("19:10:00")).bytes(5_000, 40_000));
    flows.push(flow("10.10.7.7", "10.10.8.8", 5985, at("19:15:00")).bytes(8_000, 9_000));
    flows.push(flow("10.10.8.8", "10.10.1.1", 445, at("19:25:00")).bytes(3_000, 7_000));
    for (i, m) in ["19:30:00", "19:40:00", "19:50:00"].into_iter().enumerate() {
        flows.push(
            flow("10.20.3.4", "10.10.5.10", 445, at(m))
                .bytes(20_000 + i as u64, 70_000_000)
                .sensor("jp-hq-zeek"),
        );
    }
    flows.push(flow("10.10.5.10", "203.0.113.9", 443, at("22:10:00")).bytes(150_000_000, 40_000));

    let flows = by_time(flows);
    let idx = flows
        .iter()
        .position(|f| f.uid == rdp_uid)
        .expect("rdp flow");
    let ctx = AppContext {
        users: vec!["EHI\\somchai".to_string()],
        client_hosts: vec!["TH-WS-0042".to_string()],
        ..AppContext::default()
    };
    (flows, vec![(idx, ctx)])
}
