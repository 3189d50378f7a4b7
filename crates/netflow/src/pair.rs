//! Joins uni-directional records into bi-directional [`Flow`]s.
//!
//! A NetFlow exporter reports each direction of a connection as its own record. The
//! [`Pairer`] keeps records in a bounded table keyed by exporter and the unordered 5-tuple
//! and, when the opposite direction arrives within the window, emits one [`Flow`] with the
//! side that opened the connection as `orig`:
//!
//! 1. TCP: when exactly one side carries SYN, that side opened;
//! 2. else the side whose first packet came earlier opened;
//! 3. else the side on a well-known service port (or, failing that, the lower port) is the
//!    responder.
//!
//! Records whose partner does not arrive become one-sided flows (the record's side is
//! `orig` unless its source port is the service port, then it is the responder's traffic).
//! RFC 5103 bi-flow records (and Cisco NSEL initiator/responder counters) are complete
//! already and are emitted at once.
//!
//! **Bytes differ from Zeek's:** NetFlow and IPFIX count IP-layer octets (headers
//! included), while Zeek's `orig_bytes`/`resp_bytes` count transport payload. A flow
//! assembled here therefore shows more bytes than Zeek shows for the same connection;
//! packets agree. Sampled exports are scaled by their sampling interval (an estimate).

use crate::record::FlowRecord;
use sekisho_event::{ConnState, Flow, Proto, Service, Timestamp, Uid};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;

/// Default time a record waits for its opposite direction: 2 minutes past its end, which
/// covers the common active timeouts (60 s) and export delays.
pub const DEFAULT_PAIR_WINDOW_US: i64 = 120 * Timestamp::SECOND;
/// Default most records waiting for their opposite direction.
pub const DEFAULT_MAX_UNPAIRED: usize = 200_000;
/// Most exporter names cached (one `Arc<str>` per exporter).
pub const MAX_SENSOR_NAMES: usize = 4096;

const SYN: u16 = 0x02;
const ACK: u16 = 0x10;
const FIN: u16 = 0x01;
const RST: u16 = 0x04;

/// Settings of a [`Pairer`].
#[derive(Clone, Debug)]
pub struct PairerConfig {
    /// How long (µs, in event time) after a record's end its partner may still come.
    pub window_us: i64,
    /// Most records held unpaired; the oldest is emitted one-sided when full.
    pub max_unpaired: usize,
    /// Sensor name for every flow; `None`: the exporter's IP address as text.
    pub sensor: Option<Arc<str>>,
}

impl Default for PairerConfig {
    fn default() -> Self {
        Self {
            window_us: DEFAULT_PAIR_WINDOW_US,
            max_unpaired: DEFAULT_MAX_UNPAIRED,
            sensor: None,
        }
    }
}

/// What the pairer did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PairerStats {
    /// Records pushed.
    pub records: u64,
    /// Flows made of two records.
    pub paired: u64,
    /// Flows made of one bi-flow record.
    pub biflows: u64,
    /// Flows made of one uni-directional record.
    pub one_sided: u64,
    /// Records emitted early because the table was full.
    pub evicted: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    exporter: IpAddr,
    proto: u8,
    a: (IpAddr, u16),
    b: (IpAddr, u16),
}

#[derive(Clone, Copy, Debug)]
struct Side {
    ip: IpAddr,
    port: u16,
    start: Timestamp,
    end: Timestamp,
    bytes: u64,
    packets: u64,
    flags: u16,
}

#[derive(Debug)]
struct Waiting {
    side: Side,
    peer: (IpAddr, u16),
    generation: u64,
}

/// Pairs uni-directional records into flows. Time is event time (the records' ends), so
/// the result does not depend on the clock.
#[derive(Debug)]
pub struct Pairer {
    cfg: PairerConfig,
    table: HashMap<Key, Waiting, Hasher>,
    /// Insertion order with each entry's deadline; entries whose generation no longer
    /// matches the table were paired already.
    order: VecDeque<(i64, Key, u64)>,
    generation: u64,
    watermark: i64,
    sensors: HashMap<IpAddr, Arc<str>, Hasher>,
    stats: PairerStats,
}

/// foldhash with a per-process random seed: several times cheaper per record than std's
/// SipHash and still seeded, so an exporter cannot precompute colliding keys. Nothing here
/// iterates the tables (expiry follows `order`), so the seed never changes the output.
type Hasher = foldhash::fast::RandomState;

impl Default for Pairer {
    fn default() -> Self {
        Self::new(PairerConfig::default())
    }
}

fn proto_of(n: u8) -> Proto {
    match n {
        6 => Proto::Tcp,
        17 => Proto::Udp,
        1 | 58 => Proto::Icmp,
        _ => Proto::Other,
    }
}

impl Pairer {
    /// A pairer with these settings.
    pub fn new(cfg: PairerConfig) -> Self {
        Self {
            cfg,
            table: HashMap::default(),
            order: VecDeque::new(),
            generation: 0,
            watermark: i64::MIN,
            sensors: HashMap::default(),
            stats: PairerStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &PairerStats {
        &self.stats
    }

    /// Records waiting for their opposite direction.
    pub fn unpaired(&self) -> usize {
        self.table.len()
    }

    /// Takes one record; appends to `out` the flows it completes and those whose window
    /// has passed.
    pub fn push(&mut self, rec: &FlowRecord, out: &mut Vec<Flow>) {
        self.stats.records += 1;
        let side = Side {
            ip: rec.src_ip,
            port: rec.src_port,
            start: rec.start_or_export(),
            end: rec.end_or_export(),
            bytes: rec.bytes,
            packets: rec.packets,
            flags: rec.tcp_flags,
        };
        self.watermark = self.watermark.max(side.end.as_micros());
        self.expire(out);
        let exporter = rec.exporter.ip();
        if let Some(rev) = rec.reverse {
            let resp = Side {
                ip: rec.dst_ip,
                port: rec.dst_port,
                bytes: rev.bytes,
                packets: rev.packets,
                flags: rev.tcp_flags,
                ..side
            };
            self.stats.biflows += 1;
            let f = self.flow(exporter, rec.protocol, side, Some(resp));
            out.push(f);
            return;
        }
        let (a, b) = {
            let x = (rec.src_ip, rec.src_port);
            let y = (rec.dst_ip, rec.dst_port);
            if x <= y { (x, y) } else { (y, x) }
        };
        let key = Key {
            exporter,
            proto: rec.protocol,
            a,
            b,
        };
        if let Some(w) = self.table.remove(&key) {
            let opposite = w.side.ip == rec.dst_ip && w.side.port == rec.dst_port;
            let in_window =
                side.start.as_micros() <= w.side.end.as_micros().saturating_add(self.cfg.window_us);
            if opposite && in_window {
                self.stats.paired += 1;
                let (o, r) = if first_is_orig(&w.side, &side, rec.protocol) {
                    (w.side, side)
                } else {
                    (side, w.side)
                };
                let f = self.flow(exporter, rec.protocol, o, Some(r));
                out.push(f);
                return;
            }
            // Same direction again (the next active-timeout record) or too late: the
            // waiting one is complete as it is.
            let f = self.one_sided(exporter, rec.protocol, w.side, w.peer);
            out.push(f);
        }
        self.generation += 1;
        let deadline = side.end.as_micros().saturating_add(self.cfg.window_us);
        self.table.insert(
            key,
            Waiting {
                side,
                peer: (rec.dst_ip, rec.dst_port),
                generation: self.generation,
            },
        );
        self.order.push_back((deadline, key, self.generation));
        while self.table.len() > self.cfg.max_unpaired.max(1) {
            if !self.emit_front(out) {
                break;
            }
            self.stats.evicted += 1;
        }
        if self.order.len() > 2 * self.cfg.max_unpaired.max(1) + 1024 {
            let table = &self.table;
            self.order
                .retain(|(_, k, g)| table.get(k).is_some_and(|w| w.generation == *g));
        }
    }

    /// Emits every waiting record as a one-sided flow (end of input).
    pub fn flush(&mut self, out: &mut Vec<Flow>) {
        while self.emit_front(out) {}
        self.order.clear();
    }

    fn expire(&mut self, out: &mut Vec<Flow>) {
        while let Some(&(deadline, _, _)) = self.order.front() {
            if deadline >= self.watermark {
                break;
            }
            self.emit_front(out);
        }
    }

    /// Emits the oldest live waiting record; false when none is left.
    fn emit_front(&mut self, out: &mut Vec<Flow>) -> bool {
        while let Some((_, key, generation)) = self.order.pop_front() {
            let live = self
                .table
                .get(&key)
                .is_some_and(|w| w.generation == generation);
            if !live {
                continue;
            }
            if let Some(w) = self.table.remove(&key) {
                let f = self.one_sided(key.exporter, key.proto, w.side, w.peer);
                out.push(f);
                return true;
            }
        }
        false
    }

    fn one_sided(&mut self, exporter: IpAddr, proto: u8, side: Side, peer: (IpAddr, u16)) -> Flow {
        self.stats.one_sided += 1;
        let p = proto_of(proto);
        let src_service = Service::from_port(p, side.port) != Service::Other;
        let dst_service = Service::from_port(p, peer.1) != Service::Other;
        let syn_only = proto == 6 && side.flags & SYN != 0 && side.flags & ACK == 0;
        let from_responder = !syn_only
            && p != Proto::Icmp
            && ((src_service && !dst_service) || (side.port < 1024 && peer.1 >= 1024));
        if from_responder {
            let orig = Side {
                ip: peer.0,
                port: peer.1,
                bytes: 0,
                packets: 0,
                flags: 0,
                ..side
            };
            let mut f = self.flow(exporter, proto, orig, Some(side));
            f.state = ConnState::OTH;
            f
        } else {
            let mut f = self.flow(exporter, proto, side, None);
            f.resp_ip = peer.0;
            f.resp_port = peer.1;
            f.service = Service::from_port(p, peer.1);
            f.uid = uid(exporter, proto, &side, peer);
            f
        }
    }

    fn sensor(&mut self, exporter: IpAddr) -> Arc<str> {
        if let Some(s) = &self.cfg.sensor {
            return Arc::clone(s);
        }
        if let Some(s) = self.sensors.get(&exporter) {
            return Arc::clone(s);
        }
        let s: Arc<str> = Arc::from(exporter.to_string());
        if self.sensors.len() < MAX_SENSOR_NAMES {
            self.sensors.insert(exporter, Arc::clone(&s));
        }
        s
    }

    fn flow(&mut self, exporter: IpAddr, proto: u8, o: Side, r: Option<Side>) -> Flow {
        let p = proto_of(proto);
        let (resp_ip, resp_port) = r.map(|r| (r.ip, r.port)).unwrap_or((o.ip, 0));
        let start = r.map_or(o.start, |r| o.start.min(r.start));
        let end = r.map_or(o.end, |r| o.end.max(r.end));
        Flow {
            ts: start,
            duration_us: u64::try_from(end.micros_since(start)).unwrap_or(0),
            uid: uid(exporter, proto, &o, (resp_ip, resp_port)),
            orig_ip: o.ip,
            orig_port: o.port,
            resp_ip,
            resp_port,
            proto: p,
            service: Service::from_port(p, resp_port),
            orig_bytes: o.bytes,
            resp_bytes: r.map_or(0, |r| r.bytes),
            orig_pkts: o.packets,
            resp_pkts: r.map_or(0, |r| r.packets),
            state: state(proto, o.flags, r.map(|r| r.flags)),
            sensor: self.sensor(exporter),
        }
    }
}

/// True when `x` opened the connection that `x` and `y` are the two directions of.
fn first_is_orig(x: &Side, y: &Side, proto: u8) -> bool {
    if proto == 6 {
        let (xs, ys) = (x.flags & SYN != 0, y.flags & SYN != 0);
        if xs != ys {
            return xs;
        }
    }
    if x.start != y.start {
        return x.start < y.start;
    }
    let p = proto_of(proto);
    let xk = Service::from_port(p, x.port) != Service::Other;
    let yk = Service::from_port(p, y.port) != Service::Other;
    if xk != yk {
        return yk;
    }
    x.port >= y.port
}

/// Zeek-like connection state from cumulative TCP flags (NetFlow has no packet order).
/// Without flags it says `OTH` for TCP; for other protocols `SF` with a reply, `S0` without.
fn state(proto: u8, o: u16, r: Option<u16>) -> ConnState {
    if proto != 6 {
        return if r.is_some() {
            ConnState::SF
        } else {
            ConnState::S0
        };
    }
    let Some(r) = r else {
        return if o & SYN != 0 && o & ACK == 0 {
            ConnState::S0
        } else {
            ConnState::OTH
        };
    };
    if o & SYN != 0 && r & RST != 0 && r & SYN == 0 {
        return ConnState::REJ;
    }
    if o & SYN != 0 && r & SYN != 0 {
        return if o & RST != 0 {
            ConnState::RSTO
        } else if r & RST != 0 {
            ConnState::RSTR
        } else if o & FIN != 0 && r & FIN != 0 {
            ConnState::SF
        } else {
            ConnState::S1
        };
    }
    if o & SYN != 0 && r == 0 {
        return ConnState::S0;
    }
    ConnState::OTH
}

/// A stable id: FNV-1a of exporter, protocol, originator, responder and start.
fn uid(exporter: IpAddr, proto: u8, o: &Side, resp: (IpAddr, u16)) -> Uid {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    let ip = |a: IpAddr| match a {
        IpAddr::V4(v) => v.to_ipv6_mapped().octets(),
        IpAddr::V6(v) => v.octets(),
    };
    eat(&ip(exporter));
    eat(&[proto]);
    eat(&ip(o.ip));
    eat(&o.port.to_be_bytes());
    eat(&ip(resp.0));
    eat(&resp.1.to_be_bytes());
    eat(&o.start.as_micros().to_be_bytes());
    // `N` and 16 hex digits, without the formatting machinery (one per flow).
    let mut text = [b'N'; 17];
    for (i, c) in text[1..].iter_mut().enumerate() {
        *c = b"0123456789abcdef"[((h >> (60 - 4 * i)) & 0xf) as usize];
    }
    std::str::from_utf8(&text)
        .ok()
        .and_then(Uid::new)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Version;

    fn rec(
        src: &str,
        sp: u16,
        dst: &str,
        dp: u16,
        start_s: i64,
        flags: u16,
        bytes: u64,
    ) -> FlowRecord {
        let mut r = FlowRecord::empty("192.0.2.9:2055".parse().unwrap(), Version::V9);
        r.src_ip = src.parse().unwrap();
        r.dst_ip = dst.parse().unwrap();
        r.src_port = sp;
        r.dst_port = dp;
        r.protocol = 6;
        r.tcp_flags = flags;
        r.bytes = bytes;
        r.packets = 1;
        r.start = Some(Timestamp::from_micros(start_s * Timestamp::SECOND));
        r.end = Some(Timestamp::from_micros((start_s + 5) * Timestamp::SECOND));
        r
    }

    #[test]
    fn pairs_two_directions_with_the_syn_side_as_orig() {
        let mut p = Pairer::default();
        let mut out = Vec::new();
        // The responder's record comes first and even starts at the same second.
        p.push(
            &rec(
                "10.0.1.5",
                445,
                "10.0.0.7",
                50000,
                100,
                SYN | ACK | FIN,
                900,
            ),
            &mut out,
        );
        p.push(
            &rec(
                "10.0.0.7",
                50000,
                "10.0.1.5",
                445,
                100,
                SYN | ACK | FIN,
                300,
            ),
            &mut out,
        );
        assert!(out.is_empty() || out.len() == 1);
        p.flush(&mut out);
        assert_eq!(out.len(), 1);
        let f = &out[0];
        assert_eq!(f.orig_ip.to_string(), "10.0.0.7");
        assert_eq!((f.resp_port, f.service), (445, Service::Smb));
        assert_eq!((f.orig_bytes, f.resp_bytes), (300, 900));
        assert_eq!(f.state, ConnState::SF);
        assert_eq!(&*f.sensor, "192.0.2.9");
        assert_eq!(p.stats().paired, 1);
    }

    #[test]
    fn earliest_start_wins_over_ports() {
        let mut p = Pairer::default();
        let mut out = Vec::new();
        p.push(&rec("10.0.0.1", 80, "10.0.0.2", 40000, 10, 0, 1), &mut out);
        p.push(&rec("10.0.0.2", 40000, "10.0.0.1", 80, 11, 0, 2), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].orig_port, 80);
    }

    #[test]
    fn lone_records_expire_one_sided_and_the_table_is_bounded() {
        let mut p = Pairer::new(PairerConfig {
            max_unpaired: 2,
            sensor: Some(Arc::from("wan1")),
            ..PairerConfig::default()
        });
        let mut out = Vec::new();
        for i in 0..5 {
            p.push(
                &rec("10.0.0.1", 40000 + i, "10.0.9.9", 3389, 10, SYN, 1),
                &mut out,
            );
        }
        assert_eq!(p.unpaired(), 2);
        assert_eq!(p.stats().evicted, 3);
        // A record far later pushes the rest out of the window.
        p.push(&rec("10.0.0.3", 1, "10.0.0.4", 2, 10_000, 0, 1), &mut out);
        assert_eq!(out.len(), 5);
        assert!(
            out.iter()
                .all(|f| f.state == ConnState::S0 && f.service == Service::Rdp)
        );
        assert_eq!(&*out[0].sensor, "wan1");
        // A responder-only record is turned around.
        p.push(
            &rec("10.0.5.5", 22, "10.0.0.8", 55555, 10_001, ACK, 7),
            &mut out,
        );
        p.flush(&mut out);
        let last = out.last().unwrap();
        assert_eq!(
            (last.orig_ip.to_string().as_str(), last.resp_port),
            ("10.0.0.8", 22)
        );
        assert_eq!((last.orig_bytes, last.resp_bytes), (0, 7));
    }
}
