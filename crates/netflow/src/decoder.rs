//! The stateful datagram decoder: header, sets, templates, data records, sampling, sequence
//! numbers and the buffer for data that came before its template.

use crate::bounded::OrderedMap;
use crate::fields::{Action, VARLEN, action_for, be_uint, u16_at, u32_at};
use crate::record::{
    EnterpriseField, FlowRecord, MAX_ENTERPRISE_FIELDS, MAX_ENTERPRISE_VALUE, ReverseCounters,
    Version,
};
use sekisho_event::Timestamp;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Most templates (data and options) cached over all exporters; the oldest is evicted.
pub const MAX_TEMPLATES: usize = 4096;
/// Most field specifiers cached over all templates (the cache's size bound); the oldest
/// templates are evicted until a new one fits.
pub const MAX_TEMPLATE_CACHE_FIELDS: usize = 65_536;
/// Most fields one template may have; larger templates are refused (`template-too-large`).
pub const MAX_TEMPLATE_FIELDS: usize = 512;
/// Most data sets buffered while their template is unknown.
pub const MAX_PENDING_SETS: usize = 1024;
/// Most bytes buffered while templates are unknown.
pub const MAX_PENDING_BYTES: usize = 4 << 20;
/// Most (exporter, version, domain) streams whose sequence numbers and sampling are tracked.
pub const MAX_STREAMS: usize = 4096;
/// Most (exporter, domain, sampler id) sampling rates remembered from options data.
pub const MAX_SAMPLERS: usize = 4096;
/// Most exporters with their own counters.
pub const MAX_EXPORTERS: usize = 4096;

/// NTP era offset: seconds from 1900-01-01 to 1970-01-01.
const NTP_UNIX_OFFSET: i64 = 2_208_988_800;

/// A problem counted while decoding. Names are stable: they are reported and counted by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Problem {
    /// Datagram shorter than its header.
    TruncatedHeader,
    /// Version other than 5, 9 or 10.
    UnsupportedVersion,
    /// Header length (IPFIX) or record count (v5) disagrees with the datagram's size.
    BadLength,
    /// A set/flowset whose length is under 4 or runs past the datagram.
    BadSet,
    /// A set id that is reserved (IPFIX 4..=255, v9 2..=255).
    ReservedSetId,
    /// A template record that is malformed (id under 256, truncated, no scope).
    BadTemplate,
    /// A template with more than [`MAX_TEMPLATE_FIELDS`] fields.
    TemplateTooLarge,
    /// A data record that runs past its set (variable-length field too long).
    BadRecord,
    /// Non-zero bytes after a set's last record, too short to be a record (RFC 7011 §3.3.1
    /// says padding is zeros): a template that does not fit the data, most likely.
    BadPadding,
    /// Data for a template whose records have no length.
    EmptyTemplate,
    /// A buffered data set dropped to stay within [`MAX_PENDING_SETS`]/[`MAX_PENDING_BYTES`].
    PendingDropped,
    /// A buffered data set whose template never came (counted by [`Decoder::finish`]).
    MissingTemplate,
}

impl Problem {
    /// Every problem, in the order of [`Problem::as_str`]'s table.
    pub const ALL: [Problem; 12] = [
        Problem::TruncatedHeader,
        Problem::UnsupportedVersion,
        Problem::BadLength,
        Problem::BadSet,
        Problem::ReservedSetId,
        Problem::BadTemplate,
        Problem::TemplateTooLarge,
        Problem::BadRecord,
        Problem::BadPadding,
        Problem::EmptyTemplate,
        Problem::PendingDropped,
        Problem::MissingTemplate,
    ];

    /// Stable kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Problem::TruncatedHeader => "truncated-header",
            Problem::UnsupportedVersion => "unsupported-version",
            Problem::BadLength => "bad-length",
            Problem::BadSet => "bad-set",
            Problem::ReservedSetId => "reserved-set-id",
            Problem::BadTemplate => "bad-template",
            Problem::TemplateTooLarge => "template-too-large",
            Problem::BadRecord => "bad-record",
            Problem::BadPadding => "bad-padding",
            Problem::EmptyTemplate => "empty-template",
            Problem::PendingDropped => "pending-dropped",
            Problem::MissingTemplate => "missing-template",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A datagram that could not be decoded at all (its header is unusable). Problems inside
/// a datagram (a bad set, a bad template) are counted and the rest is decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("datagram of {len} bytes is shorter than its header")]
    TruncatedHeader { len: usize },
    #[error("unsupported version {0}")]
    UnsupportedVersion(u16),
    #[error("header says {declared} bytes but the datagram has {actual}")]
    BadLength { declared: usize, actual: usize },
}

impl DecodeError {
    /// The counter this error is counted under.
    pub fn problem(&self) -> Problem {
        match self {
            DecodeError::TruncatedHeader { .. } => Problem::TruncatedHeader,
            DecodeError::UnsupportedVersion(_) => Problem::UnsupportedVersion,
            DecodeError::BadLength { .. } => Problem::BadLength,
        }
    }
}

/// What one datagram held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatagramInfo {
    pub version: Version,
    /// Observation domain / source id (v5: engine type and id).
    pub domain: u32,
    /// The header's sequence number.
    pub sequence: u32,
    /// Export time from the header.
    pub export_time: Timestamp,
    /// Flow records appended to `out` (including buffered ones decoded now).
    pub records: usize,
    /// Options data records (sampling, system init time) taken in.
    pub options_records: usize,
    /// Template and options template records taken in (withdrawals included).
    pub templates: usize,
    /// Data sets buffered because their template is not known yet.
    pub buffered_sets: usize,
    /// Problems counted inside this datagram.
    pub problems: usize,
    /// The first problem, with the byte offset in the datagram of the set it was found in
    /// (for the shell's "file:offset: reason" report; add the datagram's own offset).
    pub first_problem: Option<(Problem, usize)>,
    /// Datagrams (v9) or records (v5, IPFIX) the sequence number says were lost before this one.
    pub lost: u64,
}

/// Decoder-wide counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecoderStats {
    /// Datagrams given to [`Decoder::decode`].
    pub datagrams: u64,
    /// Flow records decoded.
    pub records: u64,
    /// Options data records taken in.
    pub options_records: u64,
    /// Template records accepted (data and options, redefinitions included).
    pub templates: u64,
    /// Accepted templates that replaced a different one with the same id.
    pub template_redefinitions: u64,
    /// Templates removed by an IPFIX withdrawal.
    pub template_withdrawals: u64,
    /// Templates evicted to stay within the cache bounds.
    pub template_evictions: u64,
    /// Data sets buffered for a template not yet known.
    pub pending_buffered: u64,
    /// Buffered data sets decoded when their template came.
    pub pending_decoded: u64,
    /// Enterprise fields not kept because a record had [`MAX_ENTERPRISE_FIELDS`] already.
    pub enterprise_fields_dropped: u64,
    errors: [u64; Problem::ALL.len()],
}

impl DecoderStats {
    /// Count of one problem.
    pub fn error_count(&self, p: Problem) -> u64 {
        self.errors.get(p.index()).copied().unwrap_or(0)
    }

    /// Every problem with a non-zero count, by stable name order of [`Problem::ALL`].
    pub fn errors(&self) -> impl Iterator<Item = (Problem, u64)> + '_ {
        Problem::ALL
            .iter()
            .map(|&p| (p, self.error_count(p)))
            .filter(|&(_, n)| n > 0)
    }

    /// All problems counted.
    pub fn total_errors(&self) -> u64 {
        self.errors.iter().sum()
    }

    fn count(&mut self, p: Problem) {
        if let Some(n) = self.errors.get_mut(p.index()) {
            *n += 1;
        }
    }
}

/// Counters of one exporter (one socket address).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExporterStats {
    pub datagrams: u64,
    pub records: u64,
    /// Datagrams that could not be decoded or had problems inside.
    pub errors: u64,
    /// v9 datagrams missing according to the sequence numbers.
    pub lost_datagrams: u64,
    /// v5 and IPFIX records missing according to the sequence numbers.
    pub lost_records: u64,
    /// Sequence numbers that went backwards (exporter restart or reordering).
    pub sequence_resets: u64,
}

type TemplateKey = (SocketAddr, Version, u32, u16);
type StreamKey = (SocketAddr, Version, u32);
type SamplerKey = (SocketAddr, Version, u32, u64);

#[derive(Clone, Copy, Debug)]
struct Field {
    len: u16,
    action: Action,
    id: u16,
    enterprise: u32,
}

/// A compiled template.
#[derive(Debug)]
struct Template {
    id: u16,
    fields: Vec<Field>,
    options: bool,
    /// Shortest possible record: fixed lengths plus one byte per variable-length field.
    min_len: usize,
    has_dst_port: bool,
}

impl Template {
    fn same_layout(&self, other: &Template) -> bool {
        self.options == other.options
            && self.fields.len() == other.fields.len()
            && self
                .fields
                .iter()
                .zip(&other.fields)
                .all(|(a, b)| (a.id, a.len, a.enterprise) == (b.id, b.len, b.enterprise))
    }
}

#[derive(Debug, Default)]
struct Stream {
    next_seq: Option<u32>,
    /// Sampling interval from options data without a sampler id.
    default_rate: Option<u64>,
    /// systemInitTimeMilliseconds from options data (IPFIX uptime-relative times).
    system_init_ms: Option<u64>,
}

/// Header facts that records need.
#[derive(Clone, Copy, Debug)]
struct Ctx {
    exporter: SocketAddr,
    version: Version,
    domain: u32,
    export_us: i64,
    sys_uptime_ms: u32,
}

#[derive(Debug)]
struct Pending {
    key: TemplateKey,
    ctx: Ctx,
    bytes: Vec<u8>,
}

/// Per-datagram tallies.
#[derive(Default)]
struct Tally {
    records: usize,
    options_records: usize,
    templates: usize,
    buffered: usize,
    problems: usize,
    /// Records (flow and options) decoded from sets buffered by earlier datagrams.
    replayed: usize,
    /// Offset of the set being decoded.
    set_off: usize,
    first_problem: Option<(Problem, usize)>,
}

/// Decodes NetFlow v5, v9 and IPFIX datagrams. Holds the template cache, the pending buffer,
/// sequence and sampling state; does no I/O and reads no clock.
#[derive(Debug, Default)]
pub struct Decoder {
    templates: OrderedMap<TemplateKey, Arc<Template>>,
    template_fields: usize,
    pending: VecDeque<Pending>,
    pending_bytes: usize,
    streams: OrderedMap<StreamKey, Stream>,
    samplers: OrderedMap<SamplerKey, u64>,
    exporters: OrderedMap<SocketAddr, ExporterStats>,
    stats: DecoderStats,
}

/// Where a record's temporaries go: everything whose meaning depends on other fields.
#[derive(Clone, Copy)]
enum Slot {
    BytesDelta,
    BytesTotal,
    PktsDelta,
    PktsTotal,
    RevBytesDelta,
    RevBytesTotal,
    RevPktsDelta,
    RevPktsTotal,
    RevFlags,
    InitBytes,
    RespBytes,
    InitPkts,
    RespPkts,
    Icmp,
    StartUptime,
    EndUptime,
    StartUs,
    EndUs,
    StartDelta,
    EndDelta,
    Interval,
    Sampler,
    PktInterval,
    PktSpace,
    SampSize,
    SampPop,
    SystemInitMs,
}

const SLOTS: usize = Slot::SystemInitMs as usize + 1;

/// Temporaries of one record. One per data set: only the presence bits are reset per
/// record (values of absent slots are never read), so a record costs one store here.
struct Scratch {
    present: u32,
    v: [u64; SLOTS],
}

impl Scratch {
    fn new() -> Self {
        Self {
            present: 0,
            v: [0; SLOTS],
        }
    }

    #[inline(always)]
    fn put(&mut self, slot: Slot, value: u64) {
        if let Some(x) = self.v.get_mut(slot as usize) {
            *x = value;
        }
        self.present |= 1 << slot as u32;
    }

    #[inline(always)]
    fn get(&self, slot: Slot) -> Option<u64> {
        if self.present & (1 << slot as u32) == 0 {
            return None;
        }
        self.v.get(slot as usize).copied()
    }

    /// Sampling interval the record itself states.
    fn rate(&self) -> Option<u64> {
        if let Some(i) = self.get(Slot::Interval).filter(|&i| i > 0) {
            return Some(i);
        }
        if let Some(i) = self.get(Slot::PktInterval).filter(|&i| i > 0) {
            return Some(match self.get(Slot::PktSpace) {
                Some(s) => i.saturating_add(s) / i,
                None => i,
            });
        }
        match (self.get(Slot::SampSize), self.get(Slot::SampPop)) {
            (Some(size), Some(pop)) if size > 0 && pop >= size => Some(pop / size),
            _ => None,
        }
    }
}

fn ntp_to_us(v: u64) -> i64 {
    let secs = (v >> 32) as i64 - NTP_UNIX_OFFSET;
    let frac = ((v & 0xFFFF_FFFF) * 1_000_000) >> 32;
    secs.saturating_mul(1_000_000).saturating_add(frac as i64)
}

/// Absolute time of an uptime-relative (ms since boot) v5/v9 time: the header gives the
/// uptime and the wall clock at export. The difference is read as signed 32 bits, so an
/// uptime that wrapped (49.7 days) between flow start and export still works.
fn uptime_to_us(ctx: &Ctx, t: u32) -> i64 {
    let back_ms = i64::from(ctx.sys_uptime_ms.wrapping_sub(t) as i32);
    ctx.export_us.saturating_sub(back_ms.saturating_mul(1000))
}

fn ip4(v: &[u8]) -> Option<IpAddr> {
    let a: [u8; 4] = v.try_into().ok()?;
    Some(IpAddr::V4(Ipv4Addr::from(a)))
}

fn ip6(v: &[u8]) -> Option<IpAddr> {
    let a: [u8; 16] = v.try_into().ok()?;
    Some(IpAddr::V6(Ipv6Addr::from(a)))
}

impl Decoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decoder-wide counters.
    pub fn stats(&self) -> &DecoderStats {
        &self.stats
    }

    /// Counters per exporter (at most [`MAX_EXPORTERS`], oldest first out).
    pub fn exporters(&self) -> impl Iterator<Item = (&SocketAddr, &ExporterStats)> {
        self.exporters.iter()
    }

    /// Templates cached now.
    pub fn template_count(&self) -> usize {
        self.templates.len()
    }

    /// Field specifiers cached now over all templates.
    pub fn template_field_count(&self) -> usize {
        self.template_fields
    }

    /// Data sets waiting for their template.
    pub fn pending_sets(&self) -> usize {
        self.pending.len()
    }

    /// Bytes waiting for their template.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Ends a run: buffered data whose template never came is dropped and counted as
    /// `missing-template`.
    pub fn finish(&mut self) {
        for p in self.pending.drain(..) {
            self.stats.count(Problem::MissingTemplate);
            if let Some(e) = self.exporters.get_mut(&p.key.0) {
                e.errors += 1;
            }
        }
        self.pending_bytes = 0;
    }

    /// Decodes one datagram from `exporter`, appending its flow records (and any buffered
    /// records its templates unlock) to `out`. A datagram whose header is unusable is an
    /// `Err` (counted); problems inside a datagram are counted and the rest is decoded.
    pub fn decode(
        &mut self,
        exporter: SocketAddr,
        datagram: &[u8],
        out: &mut Vec<FlowRecord>,
    ) -> Result<DatagramInfo, DecodeError> {
        self.stats.datagrams += 1;
        if self.exporters.get(&exporter).is_none() {
            while self.exporters.len() >= MAX_EXPORTERS {
                self.exporters.pop_oldest();
            }
            self.exporters.insert(exporter, ExporterStats::default());
        }
        let result = match u16_at(datagram, 0) {
            None => Err(DecodeError::TruncatedHeader {
                len: datagram.len(),
            }),
            Some(5) => self.decode_v5(exporter, datagram, out),
            Some(9) => self.decode_sets(exporter, Version::V9, datagram, out),
            Some(10) => self.decode_sets(exporter, Version::Ipfix, datagram, out),
            Some(v) => Err(DecodeError::UnsupportedVersion(v)),
        };
        match &result {
            Ok(info) => {
                self.stats.records += info.records as u64;
                if let Some(e) = self.exporters.get_mut(&exporter) {
                    e.datagrams += 1;
                    e.records += info.records as u64;
                    if info.problems > 0 {
                        e.errors += 1;
                    }
                }
            }
            Err(err) => {
                self.stats.count(err.problem());
                if let Some(e) = self.exporters.get_mut(&exporter) {
                    e.datagrams += 1;
                    e.errors += 1;
                }
            }
        }
        result
    }

    /// Checks a sequence number against the one expected; returns the gap (0 when none or
    /// unknown) and records the next expected number (`None`: unknown).
    fn sequence(&mut self, key: StreamKey, seq: u32) -> u64 {
        let stream = self.stream(key);
        let mut lost = 0u64;
        let mut reset = false;
        if let Some(expected) = stream.next_seq {
            let d = seq.wrapping_sub(expected);
            if d != 0 && d < 0x8000_0000 {
                lost = u64::from(d);
            } else if d != 0 {
                reset = true;
            }
        }
        if let Some(e) = self.exporters.get_mut(&key.0) {
            match key.1 {
                Version::V9 => e.lost_datagrams += lost,
                _ => e.lost_records += lost,
            }
            if reset {
                e.sequence_resets += 1;
            }
        }
        lost
    }

    fn set_next_seq(&mut self, key: StreamKey, next: Option<u32>) {
        self.stream(key).next_seq = next;
    }

    fn stream(&mut self, key: StreamKey) -> &mut Stream {
        if self.streams.get(&key).is_none() {
            while self.streams.len() >= MAX_STREAMS {
                self.streams.pop_oldest();
            }
        }
        self.streams.get_or_insert_with(key, Stream::default)
    }

    fn decode_v5(
        &mut self,
        exporter: SocketAddr,
        d: &[u8],
        out: &mut Vec<FlowRecord>,
    ) -> Result<DatagramInfo, DecodeError> {
        const HDR: usize = 24;
        const REC: usize = 48;
        let hdr = d
            .get(..HDR)
            .ok_or(DecodeError::TruncatedHeader { len: d.len() })?;
        let h16 = |o: usize| u16_at(hdr, o).unwrap_or(0);
        let h32 = |o: usize| u32_at(hdr, o).unwrap_or(0);
        let count = usize::from(h16(2));
        let declared = HDR + REC * count;
        if d.len() < declared {
            return Err(DecodeError::BadLength {
                declared,
                actual: d.len(),
            });
        }
        let sys_uptime_ms = h32(4);
        let export_us = i64::from(h32(8)) * 1_000_000 + i64::from(h32(12) / 1000);
        let sequence = h32(16);
        let domain = u32::from(h16(20));
        let rate = match u64::from(h16(22) & 0x3FFF) {
            0 => 1,
            r => r,
        };
        let ctx = Ctx {
            exporter,
            version: Version::V5,
            domain,
            export_us,
            sys_uptime_ms,
        };
        let lost = self.sequence((exporter, Version::V5, domain), sequence);
        self.set_next_seq(
            (exporter, Version::V5, domain),
            Some(sequence.wrapping_add(count as u32)),
        );
        out.reserve(count);
        for i in 0..count {
            let Some(r) = d.get(HDR + i * REC..HDR + (i + 1) * REC) else {
                break;
            };
            let f32 = |o: usize| u32_at(r, o).unwrap_or(0);
            let f16 = |o: usize| u16_at(r, o).unwrap_or(0);
            let byte = |o: usize| r.get(o).copied().unwrap_or(0);
            let raw_packets = u64::from(f32(16));
            let raw_bytes = u64::from(f32(20));
            let mut rec = FlowRecord::empty(exporter, Version::V5);
            rec.domain = domain;
            rec.export_time = Timestamp::from_micros(export_us);
            rec.src_ip = IpAddr::V4(Ipv4Addr::from(f32(0)));
            rec.dst_ip = IpAddr::V4(Ipv4Addr::from(f32(4)));
            rec.ingress_if = u32::from(f16(12));
            rec.egress_if = u32::from(f16(14));
            rec.raw_packets = raw_packets;
            rec.raw_bytes = raw_bytes;
            rec.packets = raw_packets.saturating_mul(rate);
            rec.bytes = raw_bytes.saturating_mul(rate);
            rec.sampling_interval = rate as u32;
            rec.start = Some(Timestamp::from_micros(uptime_to_us(&ctx, f32(24))));
            rec.end = Some(Timestamp::from_micros(uptime_to_us(&ctx, f32(28))));
            rec.src_port = f16(32);
            rec.dst_port = f16(34);
            rec.tcp_flags = u16::from(byte(37));
            rec.protocol = byte(38);
            out.push(rec);
        }
        Ok(DatagramInfo {
            version: Version::V5,
            domain,
            sequence,
            export_time: Timestamp::from_micros(export_us),
            records: count,
            options_records: 0,
            templates: 0,
            buffered_sets: 0,
            problems: 0,
            first_problem: None,
            lost,
        })
    }

    fn decode_sets(
        &mut self,
        exporter: SocketAddr,
        version: Version,
        d: &[u8],
        out: &mut Vec<FlowRecord>,
    ) -> Result<DatagramInfo, DecodeError> {
        let hdr_len = if version == Version::V9 { 20 } else { 16 };
        if d.len() < hdr_len {
            return Err(DecodeError::TruncatedHeader { len: d.len() });
        }
        let h32 = |o: usize| u32_at(d, o).unwrap_or(0);
        let (body, sys_uptime_ms, export_secs, sequence, domain) = if version == Version::V9 {
            (d, h32(4), h32(8), h32(12), h32(16))
        } else {
            let len = usize::from(u16_at(d, 2).unwrap_or(0));
            if len < hdr_len || len > d.len() {
                return Err(DecodeError::BadLength {
                    declared: len,
                    actual: d.len(),
                });
            }
            (d.get(..len).unwrap_or(d), 0, h32(4), h32(8), h32(12))
        };
        let ctx = Ctx {
            exporter,
            version,
            domain,
            export_us: i64::from(export_secs) * 1_000_000,
            sys_uptime_ms,
        };
        let skey = (exporter, version, domain);
        let lost = self.sequence(skey, sequence);
        let mut t = Tally::default();
        let mut off = hdr_len;
        while off < body.len() {
            t.set_off = off;
            let rest = body.get(off..).unwrap_or(&[]);
            let (Some(id), Some(len)) = (u16_at(rest, 0), u16_at(rest, 2)) else {
                if rest.iter().any(|&b| b != 0) {
                    self.problem(&mut t, Problem::BadSet);
                }
                break;
            };
            let len = usize::from(len);
            if len < 4 || len > rest.len() {
                // Some exporters pad datagrams with zeros (Palo Alto): that is no set.
                if rest.iter().any(|&b| b != 0) {
                    self.problem(&mut t, Problem::BadSet);
                }
                break;
            }
            let payload = rest.get(4..len).unwrap_or(&[]);
            match (version, id) {
                (Version::V9, 0) | (Version::Ipfix, 2) => {
                    self.template_set(&ctx, payload, false, &mut t, out)
                }
                (Version::V9, 1) | (Version::Ipfix, 3) => {
                    self.template_set(&ctx, payload, true, &mut t, out)
                }
                (_, id) if id >= 256 => {
                    let key = (exporter, version, domain, id);
                    match self.templates.get(&key).cloned() {
                        Some(tpl) => self.data_set(&ctx, &tpl, payload, &mut t, out),
                        None => self.buffer(key, ctx, payload, &mut t),
                    }
                }
                _ => self.problem(&mut t, Problem::ReservedSetId),
            }
            off += len;
        }
        let next = match version {
            Version::V9 => Some(sequence.wrapping_add(1)),
            // IPFIX counts data records; buffered sets hold an unknown number.
            _ if t.buffered > 0 => None,
            _ => {
                let own = (t.records + t.options_records).saturating_sub(t.replayed);
                Some(sequence.wrapping_add(own as u32))
            }
        };
        self.set_next_seq(skey, next);
        self.stats.options_records += t.options_records as u64;
        Ok(DatagramInfo {
            version,
            domain,
            sequence,
            export_time: Timestamp::from_micros(ctx.export_us),
            records: t.records,
            options_records: t.options_records,
            templates: t.templates,
            buffered_sets: t.buffered,
            problems: t.problems,
            first_problem: t.first_problem,
            lost,
        })
    }

    fn problem(&mut self, t: &mut Tally, p: Problem) {
        self.stats.count(p);
        t.problems += 1;
        if t.first_problem.is_none() {
            t.first_problem = Some((p, t.set_off));
        }
    }

    fn buffer(&mut self, key: TemplateKey, ctx: Ctx, payload: &[u8], t: &mut Tally) {
        if payload.len() > MAX_PENDING_BYTES {
            self.problem(t, Problem::PendingDropped);
            return;
        }
        while self.pending.len() >= MAX_PENDING_SETS
            || self.pending_bytes + payload.len() > MAX_PENDING_BYTES
        {
            match self.pending.pop_front() {
                Some(old) => {
                    self.pending_bytes -= old.bytes.len();
                    self.problem(t, Problem::PendingDropped);
                }
                None => break,
            }
        }
        self.pending_bytes += payload.len();
        self.pending.push_back(Pending {
            key,
            ctx,
            bytes: payload.to_vec(),
        });
        self.stats.pending_buffered += 1;
        t.buffered += 1;
    }

    /// Template or options template set (v9 flowset 0/1, IPFIX set 2/3).
    fn template_set(
        &mut self,
        ctx: &Ctx,
        mut p: &[u8],
        options: bool,
        t: &mut Tally,
        out: &mut Vec<FlowRecord>,
    ) {
        let ipfix = ctx.version == Version::Ipfix;
        // Each record starts with id and a count; anything shorter is padding.
        while p.len() >= 4 {
            let id = u16_at(p, 0).unwrap_or(0);
            let n1 = u16_at(p, 2).unwrap_or(0);
            if id == 0 && n1 == 0 {
                break; // padding
            }
            if ipfix && n1 == 0 {
                self.withdraw(ctx, id, options, t);
                p = p.get(4..).unwrap_or(&[]);
                continue;
            }
            // Header of the record and the list of (scope?, specifier) to read.
            let (mut q, nfields, scope): (&[u8], usize, usize) = match (ipfix, options) {
                (_, false) => (p.get(4..).unwrap_or(&[]), usize::from(n1), 0),
                (true, true) => {
                    let Some(sc) = u16_at(p, 4) else {
                        self.problem(t, Problem::BadTemplate);
                        return;
                    };
                    if sc == 0 || sc > n1 {
                        self.problem(t, Problem::BadTemplate);
                        return;
                    }
                    (p.get(6..).unwrap_or(&[]), usize::from(n1), usize::from(sc))
                }
                (false, true) => {
                    // v9: scope and option lengths are in bytes.
                    let Some(ol) = u16_at(p, 4) else {
                        self.problem(t, Problem::BadTemplate);
                        return;
                    };
                    let (sl, ol) = (usize::from(n1), usize::from(ol));
                    if sl % 4 != 0 || ol % 4 != 0 || sl == 0 {
                        self.problem(t, Problem::BadTemplate);
                        return;
                    }
                    (p.get(6..).unwrap_or(&[]), (sl + ol) / 4, sl / 4)
                }
            };
            if nfields > MAX_TEMPLATE_FIELDS {
                self.problem(t, Problem::TemplateTooLarge);
                return;
            }
            let mut fields = Vec::with_capacity(nfields);
            let mut min_len = 0usize;
            let mut has_dst_port = false;
            for i in 0..nfields {
                let (Some(raw_id), Some(len)) = (u16_at(q, 0), u16_at(q, 2)) else {
                    self.problem(t, Problem::BadTemplate);
                    return;
                };
                let mut skip = 4;
                let mut enterprise = 0;
                let mut fid = raw_id;
                if ipfix && raw_id & 0x8000 != 0 {
                    let Some(pen) = u32_at(q, 4) else {
                        self.problem(t, Problem::BadTemplate);
                        return;
                    };
                    enterprise = pen;
                    fid = raw_id & 0x7FFF;
                    skip = 8;
                }
                q = q.get(skip..).unwrap_or(&[]);
                let v9_scope = !ipfix && i < scope;
                let action = action_for(fid, enterprise, ctx.version, v9_scope);
                has_dst_port |= action == Action::DstPort;
                min_len += if len == VARLEN { 1 } else { usize::from(len) };
                fields.push(Field {
                    len,
                    action,
                    id: fid,
                    enterprise,
                });
            }
            let consumed = p.len() - q.len();
            p = if !ipfix && options {
                // v9 options templates are padded to 4 bytes each.
                let padded = consumed.div_ceil(4) * 4;
                p.get(padded..).unwrap_or(&[])
            } else {
                q
            };
            if id < 256 {
                self.problem(t, Problem::BadTemplate);
                continue;
            }
            t.templates += 1;
            let tpl = Template {
                id,
                fields,
                options,
                min_len,
                has_dst_port,
            };
            self.install(ctx, tpl, t, out);
        }
    }

    fn withdraw(&mut self, ctx: &Ctx, id: u16, options: bool, t: &mut Tally) {
        t.templates += 1;
        let set_id = if options { 3 } else { 2 };
        if id == set_id {
            // All (options) templates of this domain.
            let removed = self.templates.remove_where(|k, v| {
                (k.0, k.1, k.2) == (ctx.exporter, ctx.version, ctx.domain) && v.options == options
            });
            for tpl in removed {
                self.template_fields -= tpl.fields.len();
                self.stats.template_withdrawals += 1;
            }
        } else if id >= 256 {
            let key = (ctx.exporter, ctx.version, ctx.domain, id);
            if let Some(tpl) = self.templates.remove(&key) {
                self.template_fields -= tpl.fields.len();
                self.stats.template_withdrawals += 1;
            }
        } else {
            self.problem(t, Problem::BadTemplate);
        }
    }

    fn install(&mut self, ctx: &Ctx, tpl: Template, t: &mut Tally, out: &mut Vec<FlowRecord>) {
        let key = (ctx.exporter, ctx.version, ctx.domain, tpl.id);
        self.stats.templates += 1;
        if let Some(old) = self.templates.remove(&key) {
            self.template_fields -= old.fields.len();
            if !old.same_layout(&tpl) {
                self.stats.template_redefinitions += 1;
            }
        }
        while self.templates.len() >= MAX_TEMPLATES
            || self.template_fields + tpl.fields.len() > MAX_TEMPLATE_CACHE_FIELDS
        {
            match self.templates.pop_oldest() {
                Some((_, old)) => {
                    self.template_fields -= old.fields.len();
                    self.stats.template_evictions += 1;
                }
                None => break,
            }
        }
        self.template_fields += tpl.fields.len();
        let tpl = Arc::new(tpl);
        self.templates.insert(key, Arc::clone(&tpl));
        // Data that came before this template.
        if self.pending.iter().any(|p| p.key == key) {
            let mut keep = VecDeque::with_capacity(self.pending.len());
            let mut ready = Vec::new();
            for p in self.pending.drain(..) {
                if p.key == key {
                    ready.push(p);
                } else {
                    keep.push_back(p);
                }
            }
            self.pending = keep;
            for p in ready {
                self.pending_bytes -= p.bytes.len();
                self.stats.pending_decoded += 1;
                let before = t.records + t.options_records;
                self.data_set(&p.ctx, &tpl, &p.bytes, t, out);
                t.replayed += t.records + t.options_records - before;
            }
        }
    }

    fn data_set(
        &mut self,
        ctx: &Ctx,
        tpl: &Template,
        set: &[u8],
        t: &mut Tally,
        out: &mut Vec<FlowRecord>,
    ) {
        if tpl.min_len == 0 {
            if set.iter().any(|&b| b != 0) {
                self.problem(t, Problem::EmptyTemplate);
            }
            return;
        }
        let skey = (ctx.exporter, ctx.version, ctx.domain);
        let (default_rate, system_init) = match self.streams.get(&skey) {
            Some(s) => (s.default_rate, s.system_init_ms),
            None => (None, None),
        };
        let mut p = 0usize;
        let mut s = Scratch::new();
        while set.len().saturating_sub(p) >= tpl.min_len {
            // Built in place in `out` (a record is ~200 bytes; no copy on push).
            out.push(FlowRecord::empty(ctx.exporter, ctx.version));
            let Some(rec) = out.last_mut() else {
                return;
            };
            s.present = 0;
            let mut bad = false;
            for f in &tpl.fields {
                let len = if f.len == VARLEN {
                    let Some(&l1) = set.get(p) else {
                        bad = true;
                        break;
                    };
                    if l1 < 255 {
                        p += 1;
                        usize::from(l1)
                    } else {
                        let Some(l2) = u16_at(set, p + 1) else {
                            bad = true;
                            break;
                        };
                        p += 3;
                        usize::from(l2)
                    }
                } else {
                    usize::from(f.len)
                };
                let Some(v) = set.get(p..p + len) else {
                    bad = true;
                    break;
                };
                p += len;
                self.apply(f, v, rec, &mut s);
            }
            if bad {
                out.pop();
                if set.get(p..).is_some_and(|r| r.iter().any(|&b| b != 0)) {
                    self.problem(t, Problem::BadRecord);
                }
                return;
            }
            if tpl.options {
                out.pop();
                self.take_options(ctx, &s);
                t.options_records += 1;
                continue;
            }
            // Sampling: the record's own interval, else its sampler's, else the domain's.
            let rate = s
                .rate()
                .or_else(|| {
                    s.get(Slot::Sampler).and_then(|id| {
                        self.samplers
                            .get(&(ctx.exporter, ctx.version, ctx.domain, id))
                            .copied()
                    })
                })
                .or(default_rate)
                .unwrap_or(1)
                .clamp(1, u64::from(u32::MAX));
            finish(ctx, tpl, &s, rate, system_init, rec);
            t.records += 1;
        }
        if set
            .get(p..)
            .is_some_and(|r| r.len() < tpl.min_len && r.iter().any(|&b| b != 0))
        {
            self.problem(t, Problem::BadPadding);
        }
    }

    #[inline(always)]
    fn apply(&mut self, f: &Field, v: &[u8], rec: &mut FlowRecord, s: &mut Scratch) {
        match f.action {
            Action::Skip => {}
            Action::Bytes => s.put(Slot::BytesDelta, be_uint(v)),
            Action::Packets => s.put(Slot::PktsDelta, be_uint(v)),
            Action::BytesTotal => s.put(Slot::BytesTotal, be_uint(v)),
            Action::PacketsTotal => s.put(Slot::PktsTotal, be_uint(v)),
            Action::RevBytes => s.put(Slot::RevBytesDelta, be_uint(v)),
            Action::RevPackets => s.put(Slot::RevPktsDelta, be_uint(v)),
            Action::RevBytesTotal => s.put(Slot::RevBytesTotal, be_uint(v)),
            Action::RevPacketsTotal => s.put(Slot::RevPktsTotal, be_uint(v)),
            Action::RevTcpFlags => s.put(Slot::RevFlags, be_uint(v)),
            Action::InitiatorBytes => s.put(Slot::InitBytes, be_uint(v)),
            Action::ResponderBytes => s.put(Slot::RespBytes, be_uint(v)),
            Action::InitiatorPackets => s.put(Slot::InitPkts, be_uint(v)),
            Action::ResponderPackets => s.put(Slot::RespPkts, be_uint(v)),
            Action::Proto => rec.protocol = be_uint(v) as u8,
            Action::TcpFlags => rec.tcp_flags = be_uint(v) as u16,
            Action::SrcPort => rec.src_port = be_uint(v) as u16,
            Action::DstPort => rec.dst_port = be_uint(v) as u16,
            Action::SrcV4 => rec.src_ip = ip4(v).unwrap_or(rec.src_ip),
            Action::DstV4 => rec.dst_ip = ip4(v).unwrap_or(rec.dst_ip),
            Action::SrcV6 => rec.src_ip = ip6(v).unwrap_or(rec.src_ip),
            Action::DstV6 => rec.dst_ip = ip6(v).unwrap_or(rec.dst_ip),
            Action::Ingress => rec.ingress_if = be_uint(v) as u32,
            Action::Egress => rec.egress_if = be_uint(v) as u32,
            Action::IcmpTypeCode => s.put(Slot::Icmp, be_uint(v)),
            Action::UptimeStart => s.put(Slot::StartUptime, be_uint(v)),
            Action::UptimeEnd => s.put(Slot::EndUptime, be_uint(v)),
            Action::StartSec => s.put(
                Slot::StartUs,
                ((be_uint(v) as i64).saturating_mul(1_000_000)) as u64,
            ),
            Action::EndSec => s.put(
                Slot::EndUs,
                ((be_uint(v) as i64).saturating_mul(1_000_000)) as u64,
            ),
            Action::StartMs => s.put(
                Slot::StartUs,
                ((be_uint(v) as i64).saturating_mul(1_000)) as u64,
            ),
            Action::EndMs => s.put(
                Slot::EndUs,
                ((be_uint(v) as i64).saturating_mul(1_000)) as u64,
            ),
            Action::StartNtp => s.put(Slot::StartUs, (ntp_to_us(be_uint(v))) as u64),
            Action::EndNtp => s.put(Slot::EndUs, (ntp_to_us(be_uint(v))) as u64),
            Action::StartDeltaUs => s.put(Slot::StartDelta, be_uint(v)),
            Action::EndDeltaUs => s.put(Slot::EndDelta, be_uint(v)),
            Action::SamplingInterval => s.put(Slot::Interval, be_uint(v)),
            Action::SamplerId => s.put(Slot::Sampler, be_uint(v)),
            Action::PacketInterval => s.put(Slot::PktInterval, be_uint(v)),
            Action::PacketSpace => s.put(Slot::PktSpace, be_uint(v)),
            Action::SamplingSize => s.put(Slot::SampSize, be_uint(v)),
            Action::SamplingPopulation => s.put(Slot::SampPop, be_uint(v)),
            Action::SystemInitMs => s.put(Slot::SystemInitMs, be_uint(v)),
            Action::Enterprise => {
                if rec.enterprise.len() < MAX_ENTERPRISE_FIELDS {
                    let keep = v.get(..MAX_ENTERPRISE_VALUE).unwrap_or(v);
                    rec.enterprise.push(EnterpriseField {
                        enterprise: f.enterprise,
                        id: f.id,
                        value: keep.to_vec(),
                    });
                } else {
                    self.stats.enterprise_fields_dropped += 1;
                }
            }
        }
    }

    /// Options data: sampler rates and the exporter's boot time.
    fn take_options(&mut self, ctx: &Ctx, s: &Scratch) {
        let skey = (ctx.exporter, ctx.version, ctx.domain);
        if let Some(init) = s.get(Slot::SystemInitMs) {
            self.stream(skey).system_init_ms = Some(init);
        }
        let Some(rate) = s.rate() else {
            return;
        };
        match s.get(Slot::Sampler) {
            Some(id) => {
                let key = (ctx.exporter, ctx.version, ctx.domain, id);
                if self.samplers.get(&key).is_none() {
                    while self.samplers.len() >= MAX_SAMPLERS {
                        self.samplers.pop_oldest();
                    }
                }
                self.samplers.insert(key, rate);
            }
            None => self.stream(skey).default_rate = Some(rate),
        }
    }
}

/// Turns the record's temporaries into counters, times and sampling.
fn finish(
    ctx: &Ctx,
    tpl: &Template,
    s: &Scratch,
    rate: u64,
    system_init: Option<u64>,
    rec: &mut FlowRecord,
) {
    rec.domain = ctx.domain;
    rec.template_id = tpl.id;
    rec.export_time = Timestamp::from_micros(ctx.export_us);
    rec.sampling_interval = rate as u32;
    let g = |slot| s.get(slot);
    rec.raw_bytes = g(Slot::BytesDelta)
        .or(g(Slot::BytesTotal))
        .or(g(Slot::InitBytes))
        .unwrap_or(0);
    rec.raw_packets = g(Slot::PktsDelta)
        .or(g(Slot::PktsTotal))
        .or(g(Slot::InitPkts))
        .unwrap_or(0);
    rec.bytes = rec.raw_bytes.saturating_mul(rate);
    rec.packets = rec.raw_packets.saturating_mul(rate);
    let rev_bytes = g(Slot::RevBytesDelta)
        .or(g(Slot::RevBytesTotal))
        .or(g(Slot::RespBytes));
    let rev_pkts = g(Slot::RevPktsDelta)
        .or(g(Slot::RevPktsTotal))
        .or(g(Slot::RespPkts));
    if rev_bytes.is_some() || rev_pkts.is_some() {
        let rb = rev_bytes.unwrap_or(0);
        let rp = rev_pkts.unwrap_or(0);
        rec.reverse = Some(ReverseCounters {
            bytes: rb.saturating_mul(rate),
            packets: rp.saturating_mul(rate),
            raw_bytes: rb,
            raw_packets: rp,
            tcp_flags: g(Slot::RevFlags).unwrap_or(0) as u16,
        });
    }
    if let (Some(icmp), false) = (g(Slot::Icmp), tpl.has_dst_port) {
        rec.dst_port = icmp as u16;
    }
    let init = g(Slot::SystemInitMs).or(system_init);
    let from_uptime = |t: u64| -> Option<i64> {
        match ctx.version {
            Version::Ipfix => {
                init.map(|i| (i as i64).saturating_add(t as i64).saturating_mul(1000))
            }
            _ => Some(uptime_to_us(ctx, t as u32)),
        }
    };
    let from_delta = |d: u64| ctx.export_us.saturating_sub(d.min(i64::MAX as u64) as i64);
    rec.start = g(Slot::StartUs)
        .map(|v| v as i64)
        .or_else(|| g(Slot::StartUptime).and_then(from_uptime))
        .or_else(|| g(Slot::StartDelta).map(from_delta))
        .map(Timestamp::from_micros);
    rec.end = g(Slot::EndUs)
        .map(|v| v as i64)
        .or_else(|| g(Slot::EndUptime).and_then(from_uptime))
        .or_else(|| g(Slot::EndDelta).map(from_delta))
        .map(Timestamp::from_micros);
}
