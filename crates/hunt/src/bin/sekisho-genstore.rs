//! Writes N synthetic flows (and a few alerts) into an evidence store, for benchmarks and
//! for cross-checking engines on a store of realistic shape.
//!
//! ```text
//! sekisho-genstore --store DIR --flows N [--days D] [--start YYYY-MM-DD] [--seed S]
//! ```
//!
//! The organisation has six sites (`jp-hq`, `jp-osa`, `th-bkk`, `us-hou`, `de-ham`,
//! `sg-sin`) of unequal size; hosts and services are skewed (a few hosts and DNS/HTTPS make
//! most flows); most flows stay inside a site, some cross sites, some go out to or come in
//! from the internet. Flows are spread evenly over the days, in time order, and the output is
//! a pure function of the arguments (a fixed PRNG, no clock).

use sekisho_event::{
    Alert, AlertEndpoint, AppContext, ConnState, Flow, Proto, Service, Severity, Timestamp, Uid,
};
use sekisho_store::{FlowPlace, InputId, StoreWriter, StoredAlert, alert_key};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// (site id, second octet of its 10.x.0.0/16, relative size).
const SITES: [(&str, u8, u32); 6] = [
    ("jp-hq", 10, 40),
    ("jp-osa", 11, 20),
    ("th-bkk", 20, 15),
    ("us-hou", 40, 12),
    ("de-ham", 50, 8),
    ("sg-sin", 60, 5),
];
/// Hosts per unit of site size.
const HOSTS_PER_UNIT: u32 = 50;
/// Servers per site (the first hosts), named as assets.
const SERVERS: u32 = 20;
/// Distinct internet addresses.
const EXTERNAL_HOSTS: u32 = 50_000;
/// One alert per this many flows.
const FLOWS_PER_ALERT: u64 = 100_000;

/// Service, responder port, protocol, weight.
const SERVICES: [(Service, u16, Proto, u32); 12] = [
    (Service::Dns, 53, Proto::Udp, 300),
    (Service::Https, 443, Proto::Tcp, 250),
    (Service::Http, 80, Proto::Tcp, 80),
    (Service::Smb, 445, Proto::Tcp, 90),
    (Service::Ldap, 389, Proto::Tcp, 60),
    (Service::Kerberos, 88, Proto::Tcp, 60),
    (Service::Ntp, 123, Proto::Udp, 40),
    (Service::Ssh, 22, Proto::Tcp, 30),
    (Service::Rdp, 3389, Proto::Tcp, 20),
    (Service::Mssql, 1433, Proto::Tcp, 20),
    (Service::Smtp, 25, Proto::Tcp, 15),
    (Service::Other, 8080, Proto::Tcp, 35),
];

/// SplitMix64: small, fast, and good enough for synthetic traffic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() >> 32) * n) >> 32
    }
    /// Skewed towards 0: index `n * u^3`.
    fn skewed(&mut self, n: u64) -> u64 {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((u * u * u) * n as f64) as u64
    }
}

struct Args {
    store: PathBuf,
    flows: u64,
    days: u64,
    start_micros: i64,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut store = None;
    let mut flows = None;
    let mut days = 28u64;
    let mut start = "2024-05-01".to_string();
    let mut seed = 1u64;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--store" => store = Some(PathBuf::from(val()?)),
            "--flows" => flows = Some(parse_count(&val()?)?),
            "--days" => days = val()?.parse().map_err(|e| format!("--days: {e}"))?,
            "--start" => start = val()?,
            "--seed" => seed = val()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "-h" | "--help" => {
                return Err("usage: sekisho-genstore --store DIR --flows N [--days D] \
                            [--start YYYY-MM-DD] [--seed S]"
                    .into());
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let start = chrono::NaiveDate::parse_from_str(&start, "%Y-%m-%d")
        .map_err(|e| format!("--start: {e}"))?;
    let start_micros = start
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_micros())
        .ok_or("--start: bad date")?;
    if days == 0 {
        return Err("--days must be at least 1".into());
    }
    Ok(Args {
        store: store.ok_or("--store DIR is required")?,
        flows: flows.ok_or("--flows N is required")?,
        days,
        start_micros,
        seed,
    })
}

/// `100000000`, `100M`, `5k`.
fn parse_count(s: &str) -> Result<u64, String> {
    let (num, mul) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 1_000),
        Some('m' | 'M') => (&s[..s.len() - 1], 1_000_000),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mul))
        .ok_or(format!("`{s}` is not a count"))
}

fn site_host(site: usize, host: u32) -> IpAddr {
    let octet = SITES.get(site).map_or(99, |s| s.1);
    IpAddr::V4(Ipv4Addr::new(
        10,
        octet,
        (host / 250) as u8,
        (host % 250 + 1) as u8,
    ))
}

fn external_host(i: u32) -> IpAddr {
    // Spread over public-looking space (documentation and benchmark ranges stay clear).
    let x = i.wrapping_mul(2_654_435_761);
    IpAddr::V4(Ipv4Addr::new(
        (x >> 24) as u8 % 200 + 11,
        (x >> 16) as u8,
        (x >> 8) as u8,
        (x as u8).max(1),
    ))
}

/// The asset name of a server address of a site (the first [`SERVERS`] hosts).
fn asset_name(assets: &[Vec<String>], site: Option<usize>, ip: IpAddr) -> Option<&str> {
    let IpAddr::V4(v4) = ip else { return None };
    let [_, _, hi, lo] = v4.octets();
    let host = u32::from(hi) * 250 + u32::from(lo).saturating_sub(1);
    assets.get(site?)?.get(host as usize).map(String::as_str)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("sekisho-genstore: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sekisho-genstore: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let started = std::time::Instant::now();
    let mut rng = Rng(args.seed);
    let total_weight: u32 = SITES.iter().map(|s| s.2).sum();
    let service_weight: u32 = SERVICES.iter().map(|s| s.3).sum();
    let sensors: Vec<Arc<str>> = SITES
        .iter()
        .map(|s| Arc::from(format!("zeek-{}", s.0)))
        .collect();
    let assets: Vec<Vec<String>> = SITES
        .iter()
        .map(|s| (0..SERVERS).map(|i| format!("{}-srv{i:02}", s.0)).collect())
        .collect();
    let span = (args.days as i64).saturating_mul(86_400_000_000);
    let step = span / args.flows.max(1) as i64;

    let mut w = StoreWriter::open(&args.store).map_err(|e| e.to_string())?;
    let name = format!("synthetic-{}-{}-{}", args.flows, args.days, args.seed);
    let input = w.input(InputId::of_bytes(name.as_bytes()), &name);
    let mut alerts = Vec::new();
    let pick_site = |rng: &mut Rng| {
        let mut r = rng.below(u64::from(total_weight)) as u32;
        for (i, s) in SITES.iter().enumerate() {
            if r < s.2 {
                return i;
            }
            r -= s.2;
        }
        0
    };
    for i in 0..args.flows {
        let ts = args.start_micros
            + step.saturating_mul(i as i64)
            + rng.below(step.max(1) as u64) as i64;
        let mut r = rng.below(u64::from(service_weight)) as u32;
        let mut svc = SERVICES[0];
        for s in SERVICES {
            if r < s.3 {
                svc = s;
                break;
            }
            r -= s.3;
        }
        let src_site = pick_site(&mut rng);
        let hosts = SITES[src_site].2 * HOSTS_PER_UNIT;
        let kind = rng.below(100);
        // 70% intra-site, 15% cross-site, 12% outbound, 3% inbound.
        let (src, dst, s_site, d_site, direction) = if kind < 85 {
            let d_site = if kind < 70 {
                src_site
            } else {
                pick_site(&mut rng)
            };
            let d_hosts = SITES[d_site].2 * HOSTS_PER_UNIT;
            let src_host = rng.skewed(u64::from(hosts)) as u32 + SERVERS;
            let dst_host = rng.skewed(u64::from(d_hosts.min(SERVERS * 4))) as u32;
            let dir = if d_site == src_site {
                "intra-site"
            } else {
                "cross-site"
            };
            (
                site_host(src_site, src_host.min(hosts + SERVERS)),
                site_host(d_site, dst_host),
                Some(src_site),
                Some(d_site),
                dir,
            )
        } else if kind < 97 {
            let src_host = rng.skewed(u64::from(hosts)) as u32 + SERVERS;
            let ext = rng.skewed(u64::from(EXTERNAL_HOSTS)) as u32;
            (
                site_host(src_site, src_host),
                external_host(ext),
                Some(src_site),
                None,
                "outbound",
            )
        } else {
            let ext = rng.below(u64::from(EXTERNAL_HOSTS)) as u32;
            let dst_host = rng.below(u64::from(SERVERS)) as u32;
            (
                external_host(ext),
                site_host(src_site, dst_host),
                None,
                Some(src_site),
                "inbound",
            )
        };
        let (service, port, proto, _) = svc;
        let (action, rule) = match (direction, service) {
            ("cross-site", Service::Rdp) => ("deny", Some("no-cross-site-rdp")),
            ("cross-site", Service::Ssh) => ("alert", Some("watch-cross-site-ssh")),
            ("inbound", Service::Rdp | Service::Smb) => ("deny", Some("no-inbound-admin")),
            _ => ("allow", None),
        };
        let orig_bytes = 40 + rng.skewed(2_000_000);
        let resp_bytes = 40 + rng.skewed(20_000_000);
        let flow = Flow {
            ts: Timestamp::from_micros(ts),
            duration_us: rng.skewed(60_000_000),
            uid: Uid::default(),
            orig_ip: src,
            orig_port: 1024 + rng.below(64_000) as u16,
            resp_ip: dst,
            resp_port: port,
            proto,
            service,
            orig_bytes,
            resp_bytes,
            orig_pkts: 1 + orig_bytes / 1000,
            resp_pkts: 1 + resp_bytes / 1000,
            state: if rng.below(20) == 0 {
                ConnState::S0
            } else {
                ConnState::SF
            },
            sensor: sensors[s_site.or(d_site).unwrap_or(0)].clone(),
        };
        let place = FlowPlace {
            partition_site: s_site.or(d_site).map(|s| SITES[s].0),
            src_site: s_site.map(|s| SITES[s].0),
            dst_site: d_site.map(|s| SITES[s].0),
            src_asset: asset_name(&assets, s_site, src),
            dst_asset: asset_name(&assets, d_site, dst),
            direction,
            policy_action: action,
            policy_rule: rule,
        };
        w.push_flow(input, &flow, &place)
            .map_err(|e| e.to_string())?;
        if action != "allow"
            && (i % FLOWS_PER_ALERT < 3 || alerts.len() < 3)
            && alerts.len() < 100_000
        {
            let endpoint = |ip: IpAddr, site: Option<usize>| AlertEndpoint {
                ip: Some(ip),
                site: site.map(|s| SITES[s].0.to_string()),
                asset: None,
                country: None,
            };
            let alert = Alert {
                id: String::new(),
                detector: format!("policy-{action}"),
                severity: if action == "deny" {
                    Severity::High
                } else {
                    Severity::Medium
                },
                ts: flow.ts,
                last_ts: flow.ts,
                src: endpoint(src, s_site),
                dst: endpoint(dst, d_site),
                service,
                dst_port: Some(port),
                rule: rule.map(str::to_string),
                attack: None,
                summary: format!("{service:?} {src} -> {dst} ({direction})"),
                flow_count: 1,
                bytes_out: orig_bytes,
                bytes_in: resp_bytes,
                related: Vec::new(),
                context: AppContext::default(),
                evidence: Vec::new(),
            };
            alerts.push(StoredAlert {
                key: alert_key(&alert),
                incident: None,
                alert,
            });
        }
    }
    w.complete(input);
    let n_alerts = alerts.len();
    w.push_alerts(alerts).map_err(|e| e.to_string())?;
    let stats = w.finish(None).map_err(|e| e.to_string())?;
    eprintln!(
        "sekisho-genstore: {} flows, {n_alerts} alerts over {} days in {:.1} s ({stats:?})",
        args.flows,
        args.days,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
