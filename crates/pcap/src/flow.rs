//! Bi-directional flow table over decoded packets.
//!
//! # Flow definition
//!
//! * **Key**: the canonical 5-tuple (protocol, the lower (address, port) endpoint, the higher
//!   one), so both directions land in one flow. VLAN ids are not part of the key (as in
//!   tshark's conversations; Zeek can be configured either way).
//! * **ICMP** (Zeek's convention): the "ports" are the message type and, for request/reply
//!   pairs, the counterpart type — echo request 8 ↔ reply 0, timestamp 13 ↔ 14, information
//!   15 ↔ 16, address mask 17 ↔ 18, router solicitation 10 ↔ advertisement 9; ICMPv6 echo
//!   128 ↔ 129, router 133 ↔ 134, neighbour 135 ↔ 136, MLD query 130 ↔ report 131, node
//!   information 139 ↔ 140. A request from A to B and its reply from B to A share one flow
//!   whose originator port is the request type and responder port the reply type (Zeek
//!   logs a ping as `8 → 0`). One-way messages (unreachable, time exceeded, ...) use the
//!   type as originator port and the code as responder port. Echo identifiers are not part
//!   of the key (as in Zeek).
//! * **Originator** = sender of the first packet seen, except when that packet is a TCP
//!   SYN-ACK: then the receiver opened the connection and the sides are swapped.
//! * **Counts per direction**: packets; payload bytes (transport payload implied by the IP
//!   lengths, what Zeek's `orig_bytes` counts for UDP/ICMP; for TCP Zeek uses the sequence
//!   space, which differs only for retransmissions and gaps); IP bytes (sum of the IP
//!   total length, Zeek's `orig_ip_bytes` and NetFlow's octets); frame bytes (sum of the
//!   on-wire frame length, what tshark's conversation tables count).
//! * **End**: idle timeout per protocol (TCP 5 min, UDP 1 min, ICMP and others 1 min, as
//!   Zeek's `tcp_inactivity_timeout` / `udp_inactivity_timeout` / `icmp_inactivity_timeout`);
//!   TCP closed by FIN from both sides or a RST ends [`FlowConfig::close_delay_us`] after the
//!   last packet (so the final ACKs stay in the flow, like Zeek's `tcp_close_delay`); a new
//!   SYN on a closed connection starts a new flow (port reuse); the active timeout (default
//!   1 h, NetFlow's notion, Zeek has none) emits a long flow in parts that keep their
//!   originator; table full → the least recently seen eighth is evicted (emitted, counted).
//! * **Order**: every sweep emits what expired sorted by (start, key); time comes from the
//!   packets only (the latest timestamp seen), never from a clock.

use crate::decode::{Fragment, Packet, ip_proto, tcp_flags};
use sekisho_event::{ConnState, Flow, Proto, Service, Timestamp, Uid};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;

/// Most flows tracked at once; beyond, the least recently seen are evicted (and emitted).
pub const MAX_FLOWS: usize = 1 << 20;
/// Most first-fragment keys remembered to attribute later fragments to their flow.
pub const MAX_FRAGMENT_KEYS: usize = 8192;
/// How long a first-fragment key is kept, µs of packet time.
pub const FRAGMENT_TIMEOUT_US: i64 = 60 * Timestamp::SECOND;
/// Packet time between two expiry sweeps.
pub const SWEEP_INTERVAL_US: i64 = Timestamp::SECOND;

/// Timeouts of the flow table, in microseconds of packet time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowConfig {
    /// TCP idle timeout (Zeek's `tcp_inactivity_timeout`, 5 min).
    pub tcp_idle_us: i64,
    /// UDP idle timeout (1 min).
    pub udp_idle_us: i64,
    /// ICMP/ICMPv6 idle timeout (1 min).
    pub icmp_idle_us: i64,
    /// Idle timeout of other IP protocols (1 min).
    pub other_idle_us: i64,
    /// Longest a flow record may span before it is emitted in parts (1 h).
    pub active_us: i64,
    /// Time a closed TCP connection (FIN both ways, or RST) lingers for its last packets (5 s).
    pub close_delay_us: i64,
    /// Table size bound (at most [`MAX_FLOWS`]).
    pub max_flows: usize,
}

impl Default for FlowConfig {
    fn default() -> Self {
        Self {
            tcp_idle_us: 5 * Timestamp::MINUTE,
            udp_idle_us: Timestamp::MINUTE,
            icmp_idle_us: Timestamp::MINUTE,
            other_idle_us: Timestamp::MINUTE,
            active_us: Timestamp::HOUR,
            close_delay_us: 5 * Timestamp::SECOND,
            max_flows: MAX_FLOWS,
        }
    }
}

/// Canonical flow key: `lo` is the smaller (address, port) endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    /// IP protocol number.
    pub proto: u8,
    /// Smaller endpoint.
    pub lo: (IpAddr, u16),
    /// Larger endpoint.
    pub hi: (IpAddr, u16),
}

impl FlowKey {
    /// Key of a packet going from `src` to `dst`; `true` when `src` is the `lo` side.
    pub fn new(proto: u8, src: (IpAddr, u16), dst: (IpAddr, u16)) -> (Self, bool) {
        if src <= dst {
            (
                Self {
                    proto,
                    lo: src,
                    hi: dst,
                },
                true,
            )
        } else {
            (
                Self {
                    proto,
                    lo: dst,
                    hi: src,
                },
                false,
            )
        }
    }
}

/// Counts of one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirCounts {
    /// Packets.
    pub pkts: u64,
    /// Transport payload bytes (Zeek's `orig_bytes`/`resp_bytes`).
    pub payload_bytes: u64,
    /// IP-layer bytes (Zeek's `orig_ip_bytes`, NetFlow octets).
    pub ip_bytes: u64,
    /// On-wire frame bytes (tshark's conversation bytes).
    pub frame_bytes: u64,
}

impl DirCounts {
    fn add(&mut self, p: &Packet<'_>, payload: u32, ip: u32) {
        self.pkts += 1;
        self.payload_bytes += u64::from(payload);
        self.ip_bytes += u64::from(ip);
        self.frame_bytes += u64::from(p.frame_len);
    }
}

/// Why a flow record was emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EndReason {
    /// No packet for the protocol's idle timeout.
    Idle,
    /// TCP closed (FIN both ways or RST) and the close delay passed.
    Closed,
    /// A new SYN on a closed TCP connection (the old one is emitted, a new one starts).
    Reused,
    /// The active timeout cut a long flow; the next part follows.
    Active,
    /// The table was full.
    Evicted,
    /// End of input.
    Flushed,
}

/// One emitted bi-directional flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowRecord {
    /// Canonical key.
    pub key: FlowKey,
    /// Originator address and port (ICMP: request type).
    pub orig: (IpAddr, u16),
    /// Responder address and port (ICMP: reply type or code).
    pub resp: (IpAddr, u16),
    /// First packet time, µs.
    pub start_us: i64,
    /// Last packet time, µs.
    pub end_us: i64,
    /// Originator → responder counts.
    pub orig_counts: DirCounts,
    /// Responder → originator counts.
    pub resp_counts: DirCounts,
    /// Zeek-style connection state.
    pub state: ConnState,
    /// Why it was emitted.
    pub end: EndReason,
    /// Outermost VLAN id of the first packet.
    pub vlan: Option<u16>,
}

impl FlowRecord {
    /// IP protocol number.
    pub fn proto(&self) -> u8 {
        self.key.proto
    }

    /// The event vocabulary's protocol.
    pub fn event_proto(&self) -> Proto {
        match self.key.proto {
            ip_proto::TCP => Proto::Tcp,
            ip_proto::UDP => Proto::Udp,
            ip_proto::ICMP | ip_proto::ICMPV6 => Proto::Icmp,
            _ => Proto::Other,
        }
    }

    /// Deterministic Zeek-looking uid (`C` + 17 base-62 characters) from the key, the
    /// originator and the start time: the same capture always gives the same uids.
    pub fn uid(&self) -> Uid {
        let mut bytes = Vec::with_capacity(48);
        bytes.push(self.key.proto);
        for (ip, port) in [self.orig, self.resp] {
            match ip {
                IpAddr::V4(a) => bytes.extend_from_slice(&a.octets()),
                IpAddr::V6(a) => bytes.extend_from_slice(&a.octets()),
            }
            bytes.extend_from_slice(&port.to_be_bytes());
        }
        bytes.extend_from_slice(&self.start_us.to_be_bytes());
        let mut v = (u128::from(fnv1a(&bytes, 0xcbf2_9ce4_8422_2325)) << 64)
            | u128::from(fnv1a(&bytes, 0x8422_2325_cbf2_9ce4));
        const ALPHABET: &[u8; 62] =
            b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut s = String::with_capacity(18);
        s.push('C');
        for _ in 0..17 {
            let i = (v % 62) as usize;
            s.push(char::from(ALPHABET.get(i).copied().unwrap_or(b'0')));
            v /= 62;
        }
        Uid::new(&s).unwrap_or_default()
    }

    /// Converts to the event vocabulary: payload bytes go into `orig_bytes`/`resp_bytes`,
    /// service from the responder port, uid from [`FlowRecord::uid`].
    pub fn to_event(&self, sensor: &Arc<str>) -> Flow {
        let proto = self.event_proto();
        Flow {
            ts: Timestamp::from_micros(self.start_us),
            duration_us: u64::try_from(self.end_us.saturating_sub(self.start_us)).unwrap_or(0),
            uid: self.uid(),
            orig_ip: self.orig.0,
            orig_port: self.orig.1,
            resp_ip: self.resp.0,
            resp_port: self.resp.1,
            proto,
            service: Service::from_port(proto, self.resp.1),
            orig_bytes: self.orig_counts.payload_bytes,
            resp_bytes: self.resp_counts.payload_bytes,
            orig_pkts: self.orig_counts.pkts,
            resp_pkts: self.resp_counts.pkts,
            state: self.state,
            sensor: Arc::clone(sensor),
        }
    }
}

fn fnv1a(bytes: &[u8], seed: u64) -> u64 {
    let mut h = seed;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// TCP endpoint state, as Zeek's `TCP_ENDPOINT_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tcp {
    Inactive,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    /// True when the originator is the key's `lo` side.
    orig_is_lo: bool,
    start_us: i64,
    last_us: i64,
    /// No packet yet in this part (after an active-timeout cut).
    empty: bool,
    orig: DirCounts,
    resp: DirCounts,
    orig_tcp: Tcp,
    resp_tcp: Tcp,
    vlan: Option<u16>,
}

impl Entry {
    fn closed(&self) -> bool {
        matches!(self.orig_tcp, Tcp::Reset)
            || matches!(self.resp_tcp, Tcp::Reset)
            || (self.orig_tcp == Tcp::Closed && self.resp_tcp == Tcp::Closed)
    }
}

/// Counters kept by the flow table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowTableStats {
    /// Packets added to a flow.
    pub packets: u64,
    /// Flows started.
    pub flows_started: u64,
    /// Flow records emitted (all reasons).
    pub flows_emitted: u64,
    /// Flows evicted because the table was full (they were emitted).
    pub flows_evicted: u64,
    /// IP fragments seen.
    pub fragments: u64,
    /// Non-first fragments attributed to their flow through the first fragment's key.
    pub fragments_attributed: u64,
    /// Non-first fragments whose first fragment was not seen (counted, not in any flow).
    pub fragments_unattributed: u64,
    /// Fragment keys dropped because the key table was full.
    pub fragment_keys_evicted: u64,
    /// Packets older than the table's clock by more than the idle timeout (still counted in a flow).
    pub out_of_order: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct FragKey {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    id: u32,
}

/// Bounded bi-directional flow table. Feed packets in capture order with
/// [`FlowTable::add`]; take finished flows with [`FlowTable::pop`]; call
/// [`FlowTable::finish`] at the end of the input.
#[derive(Debug)]
pub struct FlowTable {
    cfg: FlowConfig,
    flows: HashMap<FlowKey, Entry>,
    frags: HashMap<FragKey, (u16, u16, i64)>,
    frag_order: VecDeque<FragKey>,
    out: VecDeque<FlowRecord>,
    /// Emitted between sweeps (port reuse); sorted into the next sweep's batch.
    staged: Vec<FlowRecord>,
    now: i64,
    next_sweep: i64,
    started: bool,
    stats: FlowTableStats,
}

impl FlowTable {
    /// An empty table.
    pub fn new(mut cfg: FlowConfig) -> Self {
        cfg.max_flows = cfg.max_flows.clamp(1, MAX_FLOWS);
        Self {
            cfg,
            flows: HashMap::new(),
            frags: HashMap::new(),
            frag_order: VecDeque::new(),
            out: VecDeque::new(),
            staged: Vec::new(),
            now: i64::MIN,
            next_sweep: i64::MIN,
            started: false,
            stats: FlowTableStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &FlowTableStats {
        &self.stats
    }

    /// Flows currently tracked.
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    /// True when no flow is tracked.
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// The next finished flow, in emission order.
    pub fn pop(&mut self) -> Option<FlowRecord> {
        self.out.pop_front()
    }

    /// Finished flows waiting to be taken.
    pub fn ready(&self) -> usize {
        self.out.len()
    }

    /// Adds one decoded packet. Returns false when the packet was not put in a flow (a
    /// non-first fragment whose first fragment was not seen).
    pub fn add(&mut self, p: &Packet<'_>) -> bool {
        if !self.started || p.ts_us > self.now {
            self.now = p.ts_us;
            if !self.started {
                self.started = true;
                self.next_sweep = p.ts_us.saturating_add(SWEEP_INTERVAL_US);
            }
        }
        if self.now >= self.next_sweep {
            self.sweep(false);
            self.next_sweep = self.now.saturating_add(SWEEP_INTERVAL_US);
        }
        let (mut sport, mut dport) = (p.src_port, p.dst_port);
        let mut payload = p.payload_len;
        if let Some(f) = p.fragment {
            self.stats.fragments += 1;
            match self.fragment_ports(p, f) {
                Some(ports) => (sport, dport) = ports,
                None => {
                    self.stats.fragments_unattributed += 1;
                    return false;
                }
            }
            if !f.is_first() {
                self.stats.fragments_attributed += 1;
            }
        }
        let is_icmp = p.proto == ip_proto::ICMP || p.proto == ip_proto::ICMPV6;
        // ICMP (Zeek): request/reply types pair up; one-way messages use type → code.
        let mut icmp_request = true;
        if is_icmp && p.has_ports {
            let ty = sport as u8;
            match icmp_counterpart(p.proto, ty) {
                Some((other, is_request)) => {
                    icmp_request = is_request;
                    dport = u16::from(other);
                }
                None => dport = p.dst_port,
            }
        }
        if !p.has_ports && p.fragment.is_none() {
            sport = 0;
            dport = 0;
        }
        if p.fragment.is_some_and(|f| !f.is_first()) {
            // Non-first fragments carry data only.
            payload = p.payload_len;
        }
        let (key, src_is_lo) = FlowKey::new(p.proto, (p.src, sport), (p.dst, dport));
        let flags = if p.proto == ip_proto::TCP && p.fragment.is_none_or(|f| f.is_first()) {
            p.tcp_flags
        } else {
            0
        };
        // Port reuse: a fresh SYN on a connection that already closed starts a new flow.
        let syn_only = flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN;
        if syn_only
            && self.flows.get(&key).is_some_and(|e| e.closed())
            && let Some(e) = self.flows.remove(&key)
        {
            let rec = self.record(key, &e, EndReason::Reused);
            self.staged.push(rec);
        }
        // One hash lookup per packet on the common path; the extra one only when full.
        if self.flows.len() >= self.cfg.max_flows && !self.flows.contains_key(&key) {
            self.evict();
        }
        let now = self.now;
        let idle = self.idle_timeout(p.proto);
        let e = match self.flows.entry(key) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                // Originator: the sender, unless this first packet is a SYN-ACK (the
                // receiver opened the connection) or an ICMP reply (the receiver asked).
                let synack =
                    flags & (tcp_flags::SYN | tcp_flags::ACK) == (tcp_flags::SYN | tcp_flags::ACK);
                let reply = is_icmp && !icmp_request;
                let sender_is_orig = !(synack || reply);
                self.stats.flows_started += 1;
                v.insert(Entry {
                    orig_is_lo: src_is_lo == sender_is_orig,
                    start_us: p.ts_us,
                    last_us: p.ts_us,
                    empty: true,
                    orig: DirCounts::default(),
                    resp: DirCounts::default(),
                    orig_tcp: Tcp::Inactive,
                    resp_tcp: Tcp::Inactive,
                    vlan: p.vlans.outer(),
                })
            }
        };
        if e.empty {
            e.start_us = p.ts_us;
            e.last_us = p.ts_us;
            e.empty = false;
        }
        if now.saturating_sub(p.ts_us) > idle {
            self.stats.out_of_order += 1;
        }
        e.last_us = e.last_us.max(p.ts_us);
        let from_orig = src_is_lo == e.orig_is_lo;
        let ip_len = if p.ip_total_len == 0 {
            p.frame_len
        } else {
            p.ip_total_len
        };
        if from_orig {
            e.orig.add(p, payload, ip_len);
        } else {
            e.resp.add(p, payload, ip_len);
        }
        if p.proto == ip_proto::TCP && flags != 0 {
            let (me, peer) = if from_orig {
                (&mut e.orig_tcp, &mut e.resp_tcp)
            } else {
                (&mut e.resp_tcp, &mut e.orig_tcp)
            };
            tcp_update(me, peer, flags);
        }
        self.stats.packets += 1;
        true
    }

    /// Emits every flow still open (sorted by start, then key). Call at the end of input.
    pub fn finish(&mut self) {
        self.sweep(true);
    }

    fn idle_timeout(&self, proto: u8) -> i64 {
        match proto {
            ip_proto::TCP => self.cfg.tcp_idle_us,
            ip_proto::UDP => self.cfg.udp_idle_us,
            ip_proto::ICMP | ip_proto::ICMPV6 => self.cfg.icmp_idle_us,
            _ => self.cfg.other_idle_us,
        }
    }

    /// Ports of a fragment: a first fragment records them, a later one looks them up.
    fn fragment_ports(&mut self, p: &Packet<'_>, f: Fragment) -> Option<(u16, u16)> {
        let fk = FragKey {
            src: p.src,
            dst: p.dst,
            proto: p.proto,
            id: f.id,
        };
        if f.is_first() {
            let ports = (p.src_port, p.dst_port);
            if self.frags.insert(fk, (ports.0, ports.1, p.ts_us)).is_none() {
                self.frag_order.push_back(fk);
                while self.frag_order.len() > MAX_FRAGMENT_KEYS {
                    if let Some(old) = self.frag_order.pop_front() {
                        self.frags.remove(&old);
                        self.stats.fragment_keys_evicted += 1;
                    }
                }
            }
            return Some(ports);
        }
        let (s, d, seen) = *self.frags.get(&fk)?;
        if p.ts_us.saturating_sub(seen) > FRAGMENT_TIMEOUT_US {
            return None;
        }
        Some((s, d))
    }

    fn record(&self, key: FlowKey, e: &Entry, end: EndReason) -> FlowRecord {
        let (orig, resp) = if e.orig_is_lo {
            (key.lo, key.hi)
        } else {
            (key.hi, key.lo)
        };
        FlowRecord {
            key,
            orig,
            resp,
            start_us: e.start_us,
            end_us: e.last_us,
            orig_counts: e.orig,
            resp_counts: e.resp,
            state: conn_state(key.proto, e),
            end,
            vlan: e.vlan,
        }
    }

    /// Removes what has expired (or everything with `all`), emitting it sorted.
    fn sweep(&mut self, all: bool) {
        let now = self.now;
        let cfg = self.cfg;
        let mut batch = std::mem::take(&mut self.staged);
        let mut cut: Vec<FlowKey> = Vec::new();
        let mut gone: Vec<(FlowKey, EndReason)> = Vec::new();
        for (k, e) in &self.flows {
            let idle = self.idle_timeout(k.proto);
            let quiet = now.saturating_sub(e.last_us);
            if all {
                gone.push((*k, EndReason::Flushed));
            } else if k.proto == ip_proto::TCP && e.closed() && quiet >= cfg.close_delay_us {
                gone.push((*k, EndReason::Closed));
            } else if quiet >= idle {
                gone.push((*k, EndReason::Idle));
            } else if !e.empty && now.saturating_sub(e.start_us) >= cfg.active_us {
                cut.push(*k);
            }
        }
        for (k, why) in gone {
            if let Some(e) = self.flows.remove(&k)
                && !e.empty
            {
                batch.push(self.record(k, &e, why));
            }
        }
        for k in cut {
            let rec = self
                .flows
                .get(&k)
                .map(|e| self.record(k, e, EndReason::Active));
            if let (Some(rec), Some(e)) = (rec, self.flows.get_mut(&k)) {
                batch.push(rec);
                // Keep orientation and TCP state; the next part starts with its next packet.
                e.orig = DirCounts::default();
                e.resp = DirCounts::default();
                e.empty = true;
            }
        }
        self.emit(batch);
        // Fragment keys age out with packet time too.
        while let Some(front) = self.frag_order.front() {
            let expired = self
                .frags
                .get(front)
                .is_none_or(|(_, _, t)| now.saturating_sub(*t) > FRAGMENT_TIMEOUT_US);
            if !expired && !all {
                break;
            }
            if let Some(k) = self.frag_order.pop_front() {
                self.frags.remove(&k);
            }
        }
    }

    /// Table full: emits the least recently seen eighth (ties by key), so eviction costs
    /// O(1) amortised per flow and does not depend on hash order.
    fn evict(&mut self) {
        let mut by_age: Vec<(i64, FlowKey)> =
            self.flows.iter().map(|(k, e)| (e.last_us, *k)).collect();
        let n = (self.flows.len() / 8).max(1);
        if n < by_age.len() {
            by_age.select_nth_unstable(n);
            by_age.truncate(n);
        }
        let mut batch = Vec::with_capacity(n);
        for (_, k) in by_age {
            if let Some(e) = self.flows.remove(&k) {
                self.stats.flows_evicted += 1;
                if !e.empty {
                    batch.push(self.record(k, &e, EndReason::Evicted));
                }
            }
        }
        self.emit(batch);
    }

    fn emit(&mut self, mut batch: Vec<FlowRecord>) {
        batch.sort_by_key(|r| (r.start_us, r.key, r.end));
        self.stats.flows_emitted += batch.len() as u64;
        self.out.extend(batch);
    }
}

/// ICMP request/reply counterpart: `(other type, this type is the request)`.
fn icmp_counterpart(proto: u8, ty: u8) -> Option<(u8, bool)> {
    let pairs: &[(u8, u8)] = if proto == ip_proto::ICMP {
        &[(8, 0), (13, 14), (15, 16), (17, 18), (10, 9)]
    } else {
        &[(128, 129), (133, 134), (135, 136), (130, 131), (139, 140)]
    };
    pairs.iter().find_map(|&(req, rep)| {
        if ty == req {
            Some((rep, true))
        } else if ty == rep {
            Some((req, false))
        } else {
            None
        }
    })
}

/// Zeek's TCP endpoint transitions, reduced to what `conn_state` needs.
fn tcp_update(me: &mut Tcp, peer: &mut Tcp, flags: u8) {
    let syn = flags & tcp_flags::SYN != 0;
    let ack = flags & tcp_flags::ACK != 0;
    if flags & tcp_flags::RST != 0 {
        *me = Tcp::Reset;
        return;
    }
    if *me == Tcp::Reset {
        return;
    }
    if syn {
        if *me == Tcp::Inactive || *me == Tcp::Partial {
            if ack {
                // SYN-ACK: the responder is established once it answers a SYN.
                *me = if *peer == Tcp::SynSent {
                    Tcp::Established
                } else {
                    Tcp::SynAckSent
                };
            } else {
                *me = Tcp::SynSent;
            }
        }
    } else if ack || flags & tcp_flags::FIN != 0 {
        match *me {
            Tcp::SynSent | Tcp::SynAckSent if *peer != Tcp::Inactive => {
                *me = Tcp::Established;
                if *peer == Tcp::SynAckSent {
                    *peer = Tcp::Established;
                }
            }
            Tcp::Inactive => *me = Tcp::Partial,
            _ => {}
        }
    }
    if flags & tcp_flags::FIN != 0 {
        *me = Tcp::Closed;
    }
}

/// Zeek's `conn_state` (base/protocols/conn/main.zeek) from the two endpoint states.
fn conn_state(proto: u8, e: &Entry) -> ConnState {
    match proto {
        ip_proto::TCP => {
            let (os, rs) = (e.orig_tcp, e.resp_tcp);
            let o_inactive = matches!(os, Tcp::Inactive | Tcp::Partial);
            let r_inactive = matches!(rs, Tcp::Inactive | Tcp::Partial);
            if rs == Tcp::Reset {
                if matches!(os, Tcp::SynSent | Tcp::SynAckSent) {
                    ConnState::REJ
                } else if o_inactive {
                    ConnState::RSTRH
                } else {
                    ConnState::RSTR
                }
            } else if os == Tcp::Reset {
                if r_inactive {
                    ConnState::RSTOS0
                } else {
                    ConnState::RSTO
                }
            } else if os == Tcp::Closed && rs == Tcp::Closed {
                ConnState::SF
            } else if os == Tcp::Closed {
                if r_inactive {
                    ConnState::SH
                } else {
                    ConnState::S2
                }
            } else if rs == Tcp::Closed {
                if o_inactive {
                    ConnState::SHR
                } else {
                    ConnState::S3
                }
            } else if os == Tcp::SynSent && rs == Tcp::Inactive {
                ConnState::S0
            } else if os == Tcp::Established && rs == Tcp::Established {
                ConnState::S1
            } else {
                ConnState::OTH
            }
        }
        // Zeek: UDP with replies is SF, without is S0; ICMP and others OTH.
        ip_proto::UDP => {
            if e.resp.pkts > 0 {
                ConnState::SF
            } else {
                ConnState::S0
            }
        }
        _ => ConnState::OTH,
    }
}
