//! `fan-out`: one source trying many hosts, or many ports on one host — a scan.
//!
//! **What it does.** For destinations inside the organisation (a site's networks; traffic
//! to the Internet is left out: a browser touches hundreds of hosts in ten minutes), counts
//! per source address (inside or outside) and per window of `fan_out.window_minutes`
//! (aligned on the clock, so a window's state is dropped whole when it is over) the
//! distinct destination hosts it tried and, per destination, the distinct TCP/UDP ports.
//! Attempts count whether or not they were answered: scans are mostly `S0` and `REJ`. At
//! `min_hosts` distinct hosts, or `min_ports` distinct ports on one host, it reports once
//! for that source and window, at the attempt that reaches the threshold, and stops
//! counting until the next window. Sources whose asset has a role in `exempt_roles`
//! (sanctioned scanners) are skipped.
//!
//! Counting is exact: each source keeps the set of destinations it tried (32-bit
//! fingerprints with the first port, in a small open-addressing table that grows with use
//! and never holds more than `min_hosts` entries); destinations tried on a second port go
//! to a shared table of (source, destination, port). All of it is bounded
//! (`limits.max_tracked_keys` and the ceilings in [`crate::bounded::caps`]); under pressure
//! the least-recently-seen sources go first. The window before the current one is kept for
//! late records; records later than that are not counted.
//!
//! **Why it matters.** After landing on one host, intruders look around: which hosts are up,
//! which run SMB, RDP, SSH. The breach's "tooling that left almost no trace on the hosts"
//! still has to touch the network to find its next target.
//!
//! **Example.** `10.20.3.4` opens TCP connections to port 445 of 60 hosts in `10.10.0.0/16`
//! within five minutes, most unanswered → "th-bkk 10.20.3.4 tried 50 hosts within 10m, on
//! smb port 445, in jp-hq, across sites (e.g. 10.10.1.43, ..., 10.10.1.50)": `dst` has no
//! address, only the site when all targets were in one; `related` holds the last eight
//! targets before the threshold. Severity `medium`, `high` when the attempts cross sites.
//! A port scan names its one target: "jp-hq 10.10.30.30 tried 100 ports on jp-hq jp-fs01
//! (10.10.5.10) within 10m".
//!
//! **Known false positives.** Vulnerability scanners, inventory and monitoring systems (give
//! them an exempt role such as `scanner`), NAT gateways and proxies (one address for many
//! clients), busy servers that open many outbound connections (backup, patch distribution).
//! A scan split across two windows can stay under both thresholds (a known false negative).
//!
//! **ATT&CK.** T1046 (Network Service Discovery), for hosts and for ports alike.

use crate::bounded::{BoundedMap, Fp, cap, caps, ip_key};
use crate::common::{describe, fmt_duration, merge_context, minutes};
use crate::{AlertSink, Detector, DetectorSpec, DetectorStats, FlowView};
use sekisho_event::{Alert, AlertEndpoint, Proto, Service, Severity};
use sekisho_model::{Direction, Org, SiteId};
use std::net::IpAddr;

/// `fan-out`.
pub static SPEC: DetectorSpec = DetectorSpec {
    id: "fan-out",
    title: "one source trying many hosts, or many ports on one host (a scan)",
    attack: Some("T1046"),
    build,
};

/// Targets kept as a sample for `related`: the ones tried just before the threshold.
const SAMPLE: usize = 8;
/// (destination, port) combinations remembered per source to skip repeats cheaply.
const RECENT: usize = 8;

fn build(org: &Org) -> Option<Box<dyn Detector + '_>> {
    let s = &org.detectors.fan_out;
    let keys = org.detectors.limits.max_tracked_keys;
    let caps = Caps {
        sources: cap(keys, caps::FAN_OUT_SOURCES),
        slots: cap(keys, caps::FAN_OUT_SLOTS),
        pairs: cap(keys, caps::FAN_OUT_PAIRS),
        ports: cap(keys, caps::FAN_OUT_PORTS),
    };
    s.enabled
        .then(|| Box::new(FanOut::new(org, caps)) as Box<dyn Detector + '_>)
}

impl<'o> FanOut<'o> {
    fn new(org: &'o Org, caps: Caps) -> Self {
        let s = &org.detectors.fan_out;
        FanOut {
            org,
            window: minutes(s.window_minutes).max(1),
            min_hosts: s.min_hosts.max(1),
            min_ports: s.min_ports.max(1),
            exempt: org
                .assets
                .iter()
                .map(|a| s.exempt_roles.iter().any(|r| a.has_role(r)))
                .collect(),
            slots_cap: caps.slots,
            current: Generation::new(caps, i64::MIN),
            previous: Generation::new(caps, i64::MIN),
        }
    }
}

/// Per-source state for one window.
#[derive(Debug)]
struct Src {
    attempts: u32,
    hosts: u32,
    /// Fingerprints of the last few (destination, port) tried: repeats skip the rest.
    recent: [u32; RECENT],
    recent_next: u8,
    port: u16,
    site: u16,
    service: Service,
    flags: u8,
    dsts: DstSet,
    /// Allocated only for a source close to the threshold.
    sample: Option<Box<Sample>>,
}

/// Targets tried just before the threshold.
#[derive(Debug)]
struct Sample {
    len: usize,
    items: [IpAddr; SAMPLE],
}

const HAS_LAST: u8 = 1;
const ALERTED: u8 = 2;
const CROSSED: u8 = 4;
const MIXED_SERVICE: u8 = 8;
const MIXED_PORT: u8 = 16;
const MIXED_SITE: u8 = 32;
const NO_SITE: u16 = u16::MAX;

impl Src {
    fn new() -> Self {
        Src {
            attempts: 0,
            hosts: 0,
            recent: [0; RECENT],
            recent_next: 0,
            port: 0,
            site: NO_SITE,
            service: Service::Other,
            flags: 0,
            dsts: DstSet::default(),
            sample: None,
        }
    }
}

/// The destinations one source tried: a fingerprint (32 bits, never 0) and the first port
/// tried on it per slot. The first destination is held inline, since most sources touch one
/// destination per window and a heap set for each cost an allocation every other flow;
/// the others go to open addressing over a heap table.
#[derive(Debug, Default)]
struct DstSet {
    /// The first destination's slot, 0 while there is none.
    first: u64,
    slots: Box<[u64]>,
    /// Destinations in `slots`.
    len: u32,
}

enum Lookup {
    /// Seen before; the first port tried on it.
    Present(u16),
    /// Not seen; inserting needs this many more heap slots (0 when there is room).
    Absent(usize),
}

impl DstSet {
    const FIRST: usize = 4;

    #[inline]
    fn lookup(&self, fp: u32) -> Lookup {
        if self.first == 0 {
            return Lookup::Absent(0);
        }
        if (self.first >> 32) as u32 == fp {
            return Lookup::Present((self.first >> 16) as u16);
        }
        let n = self.slots.len();
        if n > 0 {
            let mask = n - 1;
            let mut i = fp as usize & mask;
            loop {
                let slot = self.slots[i];
                if slot == 0 {
                    break;
                }
                if (slot >> 32) as u32 == fp {
                    return Lookup::Present((slot >> 16) as u16);
                }
                i = (i + 1) & mask;
            }
        }
        // Keep the load at most 3/4.
        if (self.len as usize + 1) * 4 > n * 3 {
            Lookup::Absent(n.max(Self::FIRST / 2))
        } else {
            Lookup::Absent(0)
        }
    }

    /// Inserts an absent fingerprint (after [`DstSet::lookup`]), growing as it said.
    fn insert(&mut self, fp: u32, port: u16, grow: usize) {
        let slot = (u64::from(fp) << 32) | (u64::from(port) << 16);
        if self.first == 0 {
            self.first = slot;
            return;
        }
        if grow > 0 {
            let old = std::mem::take(&mut self.slots);
            self.slots = vec![0u64; old.len() + grow].into_boxed_slice();
            for slot in old.iter().copied().filter(|&s| s != 0) {
                self.place(slot);
            }
        }
        self.place(slot);
        self.len += 1;
    }

    fn place(&mut self, slot: u64) {
        let mask = self.slots.len() - 1;
        let mut i = (slot >> 32) as usize & mask;
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
    }
}

/// The state of one clock-aligned window. Two are kept: the current one, and the one before
/// for records that arrive late; an older one is dropped whole, so the tables only ever
/// hold what two windows saw.
#[derive(Debug)]
struct Generation {
    /// Window number (`ts / window`).
    epoch: i64,
    sources: BoundedMap<u128, Src>,
    /// Destination-set slots held by all sources.
    slots: usize,
    /// (source, destination) → distinct ports tried, for pairs tried on two ports or more.
    pair_ports: BoundedMap<u64, u32>,
    /// (source, destination, port) seen, for those pairs.
    ports: BoundedMap<u64, ()>,
}

/// Table sizes of one window.
#[derive(Debug, Clone, Copy)]
struct Caps {
    sources: usize,
    slots: usize,
    pairs: usize,
    ports: usize,
}

impl Generation {
    fn new(caps: Caps, epoch: i64) -> Self {
        Self {
            epoch,
            sources: BoundedMap::new(caps.sources),
            slots: 0,
            pair_ports: BoundedMap::new(caps.pairs),
            ports: BoundedMap::new(caps.ports),
        }
    }

    /// Empties the tables for another window, keeping their allocations.
    fn reset(&mut self, epoch: i64) {
        self.epoch = epoch;
        self.sources.clear();
        self.slots = 0;
        self.pair_ports.clear();
        self.ports.clear();
    }

    /// Makes room for `need` more set slots within `cap`, least-recently-seen sources first.
    #[cold]
    fn make_room(&mut self, need: usize, cap: usize) {
        while self.slots + need > cap && !self.sources.is_empty() {
            let slots = &mut self.slots;
            self.sources
                .evict_oldest(|_, s| *slots -= s.dsts.slots.len());
        }
    }
}

#[derive(Debug)]
struct FanOut<'o> {
    org: &'o Org,
    window: i64,
    min_hosts: u32,
    min_ports: u32,
    exempt: Vec<bool>,
    /// Destination-set slots allowed per window.
    slots_cap: usize,
    /// The two windows kept. Their tables are reused, never replaced (a reset keeps each
    /// table's eviction count), so the counts of these two are the run's.
    current: Generation,
    previous: Generation,
}

impl FanOut<'_> {
    /// The generation a flow of window `epoch` belongs to; `None` for records later than a
    /// whole window (their window is gone).
    #[inline]
    fn generation(&mut self, epoch: i64) -> Option<&mut Generation> {
        if epoch == self.current.epoch {
            return Some(&mut self.current);
        }
        if epoch > self.current.epoch {
            std::mem::swap(&mut self.current, &mut self.previous);
            self.current.reset(epoch);
            return Some(&mut self.current);
        }
        (epoch == self.previous.epoch).then_some(&mut self.previous)
    }
}

impl Detector for FanOut<'_> {
    fn id(&self) -> &'static str {
        SPEC.id
    }

    #[inline]
    fn on_flow(&mut self, view: &FlowView<'_>, out: &mut AlertSink) {
        let e = view.enriched;
        // Only destinations inside the organisation: reconnaissance of our own networks.
        // Outside, a browser touches hundreds of hosts in ten minutes.
        if e.dst.site.is_none() {
            return;
        }
        if let Some(a) = e.src.asset
            && self.exempt[a.index()]
        {
            return;
        }
        let f = view.flow;
        let (org, window, min_hosts, min_ports, slots_cap) = (
            self.org,
            self.window,
            self.min_hosts,
            self.min_ports,
            self.slots_cap,
        );
        let Some(g) = self.generation(f.ts.as_micros().div_euclid(window)) else {
            return;
        };
        let sk = ip_key(f.orig_ip);
        // Sources pushed out by the table's bound give back their destination-set slots.
        let slots = &mut g.slots;
        let (s, _) = g
            .sources
            .entry_with(sk, Src::new, |_, gone| *slots -= gone.dsts.slots.len());
        s.attempts = s.attempts.saturating_add(1);
        if s.flags & ALERTED != 0 {
            return;
        }
        let dk = ip_key(f.resp_ip);
        let has_port = matches!(f.proto, Proto::Tcp | Proto::Udp);
        let port = if has_port { f.resp_port } else { 0 };
        let dst_fp = Fp::new(0xfd).u128(dk).finish();
        let recent = (dst_fp ^ u64::from(port).wrapping_mul(0x9e37_79b9_7f4a_7c15)) as u32;
        if s.recent.contains(&recent) {
            return;
        }
        s.recent[usize::from(s.recent_next) % RECENT] = recent;
        s.recent_next = s.recent_next.wrapping_add(1);
        let dst_site = e.dst.site.map_or(NO_SITE, |x| x.0);
        if s.flags & HAS_LAST == 0 {
            s.service = f.service;
            s.port = port;
            s.site = dst_site;
        } else {
            if s.service != f.service {
                s.flags |= MIXED_SERVICE;
            }
            if s.port != port {
                s.flags |= MIXED_PORT;
            }
            if s.site != dst_site {
                s.flags |= MIXED_SITE;
            }
        }
        s.flags |= HAS_LAST;
        if e.direction == Direction::CrossSite {
            s.flags |= CROSSED;
        }

        let fp = ((dst_fp >> 32) as u32).max(1);
        let first_port = match s.dsts.lookup(fp) {
            Lookup::Present(first) => first,
            Lookup::Absent(grow) => {
                let s = if grow > 0 && g.slots + grow > slots_cap {
                    g.make_room(grow, slots_cap);
                    match g.sources.peek_mut(&sk) {
                        Some(s) => s,
                        // The table was so small that this source itself had to go.
                        None => return,
                    }
                } else {
                    s
                };
                s.dsts.insert(fp, port, grow);
                g.slots += grow;
                s.hosts += 1;
                if s.hosts + SAMPLE as u32 > min_hosts {
                    let sample = s.sample.get_or_insert_with(|| {
                        Box::new(Sample {
                            len: 0,
                            items: [IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED); SAMPLE],
                        })
                    });
                    if sample.len < SAMPLE {
                        sample.items[sample.len] = f.resp_ip;
                        sample.len += 1;
                    }
                }
                if s.hosts >= min_hosts {
                    s.flags |= ALERTED;
                    out.push(hosts_alert(org, s, view, window));
                    s.sample = None;
                } else if has_port && min_ports <= 1 {
                    s.flags |= ALERTED;
                    out.push(ports_alert(org, 1, s.attempts, view, window));
                }
                return;
            }
        };
        if !has_port || port == first_port {
            return;
        }
        // A second port (or more) on this destination: counted in the shared tables.
        let pair = Fp::new(0xfa).u128(sk).u64(dst_fp).finish();
        let (count, new_pair) = g.pair_ports.entry(pair, || 1);
        if new_pair {
            g.ports
                .insert_key(Fp::new(0xfb).u64(pair).u64(u64::from(first_port)).finish());
        }
        if *count >= min_ports
            || !g
                .ports
                .insert_key(Fp::new(0xfb).u64(pair).u64(u64::from(port)).finish())
        {
            return;
        }
        *count += 1;
        if *count >= min_ports {
            let count = *count;
            if let Some(s) = g.sources.peek_mut(&sk) {
                s.flags |= ALERTED;
                s.sample = None;
                out.push(ports_alert(org, count, s.attempts, view, window));
            }
        }
    }

    fn finish(&mut self, _out: &mut AlertSink) {}

    fn stats(&self) -> DetectorStats {
        let mut s = DetectorStats::default();
        for g in [&self.current, &self.previous] {
            s.add(&g.sources);
            s.add_table(g.slots, 0);
            s.add(&g.pair_ports);
            s.add(&g.ports);
        }
        s
    }
}

fn hosts_alert(org: &Org, s: &Src, view: &FlowView<'_>, window: i64) -> Alert {
    let (f, e) = (view.flow, view.enriched);
    let crossed = s.flags & CROSSED != 0;
    let single_port = s.flags & MIXED_PORT == 0 && s.port != 0;
    let single_service = s.flags & MIXED_SERVICE == 0;
    let dst_site = (s.flags & MIXED_SITE == 0 && s.site != NO_SITE).then_some(SiteId(s.site));
    let mut sample: Vec<IpAddr> = s
        .sample
        .as_deref()
        .map(|x| x.items[..x.len].to_vec())
        .unwrap_or_default();
    sample.sort();
    let mut summary = format!(
        "{} tried {} hosts within {}",
        describe(org, f.orig_ip, e.src),
        s.hosts,
        fmt_duration(window)
    );
    match (single_service, single_port) {
        (true, true) => summary.push_str(&format!(", on {} port {}", s.service, s.port)),
        (false, true) => summary.push_str(&format!(", on port {}", s.port)),
        _ => summary.push_str(", on several ports"),
    }
    if let Some(site) = dst_site {
        summary.push_str(&format!(", in {}", org.site(site).id));
    }
    if crossed {
        summary.push_str(", across sites");
    }
    if !sample.is_empty() {
        let names: Vec<String> = sample.iter().map(ToString::to_string).collect();
        summary.push_str(&format!(" (e.g. {})", names.join(", ")));
    }
    let dst = AlertEndpoint {
        ip: None,
        site: dst_site.map(|x| org.site(x).id.clone()),
        asset: None,
        country: dst_site.map(|x| org.site(x).country.clone()),
    };
    let severity = if crossed {
        Severity::High
    } else {
        Severity::Medium
    };
    let mut a = Alert::for_flow(
        SPEC.id,
        severity,
        f,
        org.endpoint(Some(f.orig_ip), e.src),
        dst,
        summary,
    );
    a.service = if single_service {
        s.service
    } else {
        Service::Other
    };
    a.dst_port = single_port.then_some(s.port);
    a.flow_count = u64::from(s.attempts);
    a.attack = Some("T1046".to_string());
    a.related = sample
        .iter()
        .map(|ip| org.endpoint(Some(*ip), org.locate(*ip)))
        .collect();
    merge_context(&mut a, view.context);
    a
}

fn ports_alert(org: &Org, ports: u32, attempts: u32, view: &FlowView<'_>, window: i64) -> Alert {
    let (f, e) = (view.flow, view.enriched);
    let summary = format!(
        "{} tried {ports} ports on {} within {}",
        describe(org, f.orig_ip, e.src),
        describe(org, f.resp_ip, e.dst),
        fmt_duration(window)
    );
    let severity = if e.direction == Direction::CrossSite {
        Severity::High
    } else {
        Severity::Medium
    };
    let dst = org.endpoint(Some(f.resp_ip), e.dst);
    let mut a = Alert::for_flow(
        SPEC.id,
        severity,
        f,
        org.endpoint(Some(f.orig_ip), e.src),
        dst.clone(),
        summary,
    );
    a.service = Service::Other;
    a.dst_port = None;
    a.flow_count = u64::from(attempts);
    a.attack = Some("T1046".to_string());
    a.related = vec![dst];
    merge_context(&mut a, view.context);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slots a window counts are the slots its sources hold, however many sources the
    /// bound pushed out on the way (each gives its slots back).
    #[test]
    fn slots_counted_are_the_slots_held_after_evictions() {
        use sekisho_event::{ConnState, Flow, Timestamp, Uid};
        let org = Org::from_toml(
            "[org]\nname = \"x\"\n\n[[site]]\nid = \"hq\"\ncountry = \"JP\"\n\
             timezone = \"Asia/Tokyo\"\nnetworks = [\"10.10.0.0/16\"]\n\n\
             [detectors.fan_out]\nmin_hosts = 50\nwindow_minutes = 10\n",
            "org.toml",
        )
        .unwrap();
        let caps = Caps {
            sources: 10,
            slots: 1_000,
            pairs: 100,
            ports: 100,
        };
        let mut det = FanOut::new(&org, caps);
        let mut enricher = sekisho_model::Enricher::new(&org);
        let mut sink = AlertSink::new(100);
        // Thirty sources, five hosts each: the table of ten sources pushes out twenty,
        // each holding a destination table by then.
        for i in 0..150u32 {
            let flow = Flow {
                ts: Timestamp::from_micros(1_715_742_000_000_000 + i64::from(i) * 1_000_000),
                duration_us: 0,
                uid: Uid::new("C1").unwrap(),
                orig_ip: format!("10.10.3.{}", i / 5 + 1).parse().unwrap(),
                orig_port: 40_000,
                resp_ip: format!("10.10.1.{}", i % 5 + 1).parse().unwrap(),
                resp_port: 445,
                proto: Proto::Tcp,
                service: Service::Smb,
                orig_bytes: 0,
                resp_bytes: 0,
                orig_pkts: 1,
                resp_pkts: 0,
                state: ConnState::S0,
                sensor: "s".into(),
            };
            let enriched = enricher.enrich(&flow);
            let view = FlowView {
                flow: &flow,
                enriched: &enriched,
                context: None,
            };
            det.on_flow(&view, &mut sink);
        }
        let g = &det.current;
        let held: usize = g.sources.iter().map(|(_, s)| s.dsts.slots.len()).sum();
        assert!(held > 0);
        assert_eq!(g.sources.evicted(), 20);
        assert_eq!(g.slots, held);
    }

    #[test]
    fn dst_set_finds_every_destination_with_its_first_port() {
        let mut set = DstSet::default();
        let mut heap_slots = 0;
        for fp in 1..=200u32 {
            let port = (fp * 7) as u16;
            let Lookup::Absent(grow) = set.lookup(fp) else {
                panic!("{fp} present before insertion");
            };
            set.insert(fp, port, grow);
            heap_slots += grow;
            assert!(matches!(set.lookup(fp), Lookup::Present(p) if p == port));
        }
        // The first destination lives inline: 199 in the heap table, at most 3/4 full.
        assert_eq!(set.len, 199);
        assert_eq!(set.slots.len(), heap_slots);
        assert!(set.slots.len() * 3 >= 199 * 4);
        for fp in 1..=200u32 {
            match set.lookup(fp) {
                Lookup::Present(port) => assert_eq!(port, (fp * 7) as u16, "{fp}"),
                Lookup::Absent(_) => panic!("{fp} lost"),
            }
        }
        assert!(matches!(set.lookup(201), Lookup::Absent(_)));
        // A single destination needs no heap table at all.
        let mut one = DstSet::default();
        let Lookup::Absent(grow) = one.lookup(9) else {
            panic!()
        };
        assert_eq!(grow, 0);
        one.insert(9, 445, grow);
        assert!(matches!(one.lookup(9), Lookup::Present(445)));
        assert!(one.slots.is_empty());
    }
}
