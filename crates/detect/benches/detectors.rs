//! All detectors over 1M generated, enriched flows of a four-site organisation (4,600
//! hosts): mostly intra-site and allowed, a quarter outbound, a few percent cross-site (some
//! denied), a little inbound noise and scanning. Hosts have habits (their servers, a few
//! peers, their usual outside services) plus a random tail.
//!
//! * `detectors/*`: at the rate such an organisation produces (~3.3 flows/s per host, the
//!   Plixer sizing quoted in DESIGN.md: 15,000 flows/s, so 1M flows are ~67 s of traffic).
//!   All detectors together, then each alone.
//! * `detectors-stretched/all`: the same 1M flows spread over two hours — 110 times fewer
//!   repeats per window, far more distinct pairs: a worst case for the state tables.
//!
//! `cargo bench -p sekisho-detect -- --warm-up-time 1 --measurement-time 5`
//!
//! With `BENCH_STATS=1` the bench binary prints, for each run of all detectors, every
//! detector's table sizes and the alerts by detector (and times nothing useful).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sekisho_detect::{AlertSink, FlowView, REGISTRY, build_all};
use sekisho_event::{ConnState, Flow, Proto, Service, Timestamp, Uid};
use sekisho_model::{Enriched, Enricher, Org};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

const FLOWS: usize = 1_000_000;

const ORG: &str = r#"
[org]
name = "Bench Heavy Industries"

[[site]]
id = "jp-hq"
country = "JP"
timezone = "Asia/Tokyo"
networks = ["10.10.0.0/16"]
tags = ["hq"]

[[site]]
id = "th-bkk"
country = "TH"
timezone = "Asia/Bangkok"
networks = ["10.20.0.0/16"]
tags = ["overseas"]

[[site]]
id = "us-hou"
country = "US"
timezone = "America/Chicago"
networks = ["10.40.0.0/16"]
tags = ["overseas"]

[[site]]
id = "de-muc"
country = "DE"
timezone = "Europe/Berlin"
networks = ["10.50.0.0/16"]
tags = ["overseas"]

[[asset]]
name = "jp-fs01"
site = "jp-hq"
addresses = ["10.10.0.10"]
roles = ["file-server"]
data = ["customer-pii"]

[[asset]]
name = "jp-dc01"
site = "jp-hq"
addresses = ["10.10.0.1"]
roles = ["domain-controller"]

[[asset]]
name = "th-dc01"
site = "th-bkk"
addresses = ["10.20.0.1"]
roles = ["domain-controller"]

[[asset]]
name = "us-dc01"
site = "us-hou"
addresses = ["10.40.0.1"]
roles = ["domain-controller"]

[[asset]]
name = "de-dc01"
site = "de-muc"
addresses = ["10.50.0.1"]
roles = ["domain-controller"]

[[asset]]
name = "jp-web"
site = "jp-hq"
networks = ["10.10.1.0/28"]
roles = ["web"]

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

[[sensor]]
name = "de-muc-zeek"
sites = ["de-muc"]

[policy]
cross_site_default = "alert"

[[policy.rule]]
name = "AD replication"
from = { role = "domain-controller" }
to = { role = "domain-controller" }
services = ["ldap", "kerberos", "dce-rpc", "smb"]
action = "allow"

[[policy.rule]]
name = "no overseas admin access to HQ servers"
from = { tag = "overseas" }
to = { site = "jp-hq", role = ["file-server", "domain-controller"] }
services = ["rdp", "smb", "ssh", "winrm"]
action = "deny"

[[policy.rule]]
name = "overseas web to HQ"
from = { tag = "overseas" }
to = { site = "jp-hq" }
services = ["https", "http"]
action = "allow"

[[policy.rule]]
name = "web from the Internet"
from = { external = true }
to = { asset = "jp-web" }
services = ["https"]
action = "allow"
"#;

/// xorshift64*: deterministic test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

const SITES: [(u8, u32, &str); 4] = [
    (10, 3000, "jp-hq-zeek"),
    (20, 600, "th-bkk-zeek"),
    (40, 600, "us-hou-zeek"),
    (50, 400, "de-muc-zeek"),
];

fn host(site: u8, n: u32) -> IpAddr {
    // Workstations from 10.x.2.0 on.
    let n = n + 512;
    IpAddr::V4(Ipv4Addr::new(
        10,
        site,
        (n / 250) as u8,
        (n % 250 + 1) as u8,
    ))
}

fn server(site: u8, last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, site, 0, last))
}

/// An outside address: half the time one of 50 popular services, mostly one of the
/// source's own eight habits (its mail, its SaaS, its updates) in a tail of 20,000, and
/// sometimes anywhere in that tail.
fn external(r: &mut Rng, habit: u64) -> IpAddr {
    let n = match r.below(10) {
        0..=4 => r.below(50),
        5..=8 => {
            habit
                .wrapping_mul(0x9e37_79b9)
                .wrapping_add(r.below(8) * 7_919)
                % 20_000
        }
        _ => r.below(20_000),
    } as u32;
    IpAddr::V4(Ipv4Addr::new(
        (n % 200 + 20) as u8,
        (n / 200 % 250) as u8,
        7,
        (n % 250 + 1) as u8,
    ))
}

fn generate(span_secs: i64) -> Vec<Flow> {
    let mut r = Rng(0x5eed_1234_abcd_ef01);
    let sensors: Vec<Arc<str>> = SITES.iter().map(|s| Arc::from(s.2)).collect();
    // Wednesday 2024-05-15 00:00 UTC: office hours in Asia, night in the Americas.
    let start = 1_715_731_200i64 * Timestamp::SECOND;
    let mut flows = Vec::with_capacity(FLOWS);
    for i in 0..FLOWS {
        let si = match r.below(100) {
            0..=59 => 0,
            60..=74 => 1,
            75..=89 => 2,
            _ => 3,
        };
        let (net, hosts, _) = SITES[si];
        let n = r.below(u64::from(hosts));
        let src = host(net, n as u32);
        let habit = n + u64::from(net) * 100_000;
        // Peers: mostly the same few (a shared printer, a team's file shares).
        let peer = if r.chance(0.8) {
            (n + 1 + r.below(4) * 37) % u64::from(hosts)
        } else {
            r.below(u64::from(hosts))
        } as u32;
        let kind = r.below(1000);
        let (src, dst, proto, port) = match kind {
            // Intra-site infrastructure: DNS, Kerberos, LDAP to the DC; SMB to the file server.
            0..=199 => (src, server(net, 1), Proto::Udp, 53),
            200..=279 => (src, server(net, 1), Proto::Tcp, 88),
            280..=359 => (src, server(net, 1), Proto::Tcp, 389),
            360..=479 => (src, server(net, 10), Proto::Tcp, 445),
            480..=549 => (src, server(net, 20), Proto::Tcp, 8080),
            // Intra-site peer traffic.
            550..=649 => (
                src,
                host(net, peer),
                Proto::Tcp,
                [443, 135, 5985, 49_700][r.below(4) as usize],
            ),
            // Outbound web.
            650..=899 => (src, external(&mut r, habit), Proto::Tcp, 443),
            900..=919 => (src, external(&mut r, habit), Proto::Udp, 123),
            // Cross-site: web to HQ, SMB to the HQ file server (denied from overseas), RDP.
            920..=954 => (
                src,
                IpAddr::V4(Ipv4Addr::new(10, 10, 1, 3)),
                Proto::Tcp,
                443,
            ),
            955..=964 => (src, server(10, 10), Proto::Tcp, 445),
            // Now and then an administrator's RDP session into HQ.
            965..=969 if r.chance(0.1) => (src, host(10, r.below(3000) as u32), Proto::Tcp, 3389),
            965..=969 => (
                src,
                IpAddr::V4(Ipv4Addr::new(10, 10, 1, 4)),
                Proto::Tcp,
                443,
            ),
            970..=979 => (server(net, 1), server(10, 1), Proto::Tcp, 389),
            // Inbound to the web servers and Internet noise.
            980..=994 => (
                external(&mut r, habit),
                IpAddr::V4(Ipv4Addr::new(10, 10, 1, 3)),
                Proto::Tcp,
                443,
            ),
            _ => (
                external(&mut r, habit),
                host(net, r.below(u64::from(hosts)) as u32),
                Proto::Tcp,
                [22, 23, 445, 3389][r.below(4) as usize],
            ),
        };
        let state = match r.below(100) {
            // Internet scanning of internal hosts mostly meets the firewall.
            _ if kind >= 995 && r.chance(0.95) => ConnState::S0,
            0..=89 => ConnState::SF,
            90..=94 => ConnState::S0,
            95..=97 => ConnState::REJ,
            _ => ConnState::RSTO,
        };
        // Evenly over the span, up to 30 s out of order.
        let ts = start + (i as i64) * span_secs * Timestamp::SECOND / FLOWS as i64
            - r.below(30_000_000) as i64;
        let service = Service::from_port(proto, port);
        let big = r.chance(0.001);
        flows.push(Flow {
            ts: Timestamp::from_micros(ts),
            duration_us: r.below(5_000_000),
            uid: Uid::new(&format!("C{i:017}")).expect("uid"),
            orig_ip: src,
            orig_port: 49_152 + r.below(16_000) as u16,
            resp_ip: dst,
            resp_port: port,
            proto,
            service,
            orig_bytes: r.below(2_000),
            resp_bytes: if big {
                50_000_000 + r.below(50_000_000)
            } else {
                r.below(40_000)
            },
            orig_pkts: 6,
            resp_pkts: 8,
            state,
            sensor: sensors[si].clone(),
        });
    }
    flows
}

fn run(org: &Org, flows: &[(Flow, Enriched)], only: Option<&str>) -> usize {
    let mut detectors = build_all(org);
    detectors.retain(|d| only.is_none_or(|id| d.id() == id));
    let mut sink = AlertSink::new(org.detectors.limits.max_alerts);
    for (f, e) in flows {
        let view = FlowView {
            flow: f,
            enriched: e,
            context: None,
        };
        for d in detectors.iter_mut() {
            d.on_flow(&view, &mut sink);
        }
    }
    for d in detectors.iter_mut() {
        d.finish(&mut sink);
    }
    if std::env::var_os("BENCH_STATS").is_some() {
        for d in &detectors {
            eprintln!("{}: {:?}", d.id(), d.stats());
        }
        let mut by: std::collections::BTreeMap<String, usize> = Default::default();
        for a in sink.into_alerts() {
            *by.entry(a.detector).or_default() += 1;
        }
        eprintln!("{by:?}");
        return 0;
    }
    sink.len()
}

fn enriched(org: &Org, span_secs: i64) -> Vec<(Flow, Enriched)> {
    let mut enricher = Enricher::new(org);
    generate(span_secs)
        .into_iter()
        .map(|f| {
            let e = enricher.enrich(&f);
            (f, e)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let org = Org::from_toml(ORG, "bench.toml").expect("bench org");
    // 4,600 hosts at 3.3 flows/s each.
    let flows = enriched(&org, FLOWS as i64 / 15_000);
    let alerts = run(&org, &flows, None);
    eprintln!("{} flows, {alerts} alerts", flows.len());
    let mut g = c.benchmark_group("detectors");
    g.throughput(Throughput::Elements(flows.len() as u64));
    g.sample_size(10);
    g.bench_function("all", |b| b.iter(|| black_box(run(&org, &flows, None))));
    for spec in REGISTRY {
        g.bench_function(spec.id, |b| {
            b.iter(|| black_box(run(&org, &flows, Some(spec.id))))
        });
    }
    g.finish();
    drop(flows);

    let stretched = enriched(&org, 7_200);
    let alerts = run(&org, &stretched, None);
    eprintln!("{} flows over 2 h, {alerts} alerts", stretched.len());
    let mut g = c.benchmark_group("detectors-stretched");
    g.throughput(Throughput::Elements(stretched.len() as u64));
    g.sample_size(10);
    g.bench_function("all", |b| b.iter(|| black_box(run(&org, &stretched, None))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
