//! pcap and pcapng captures → bi-directional flows.
//!
//! Three layers, each usable alone:
//!
//! * [`CaptureReader`] — streaming reader over any [`std::io::Read`] (classic pcap in both
//!   byte orders with µs or ns timestamps; pcapng with several sections and interfaces, each
//!   with its link type and `if_tsresol`). Memory is one bounded buffer, whatever the file
//!   size. [`looks_like_pcap`] tells a capture by its first bytes.
//! * [`decode_frame`] — pure decoder of one frame into a [`Packet`] view: Ethernet (802.1Q,
//!   802.1ad and 0x9100 tags), Linux cooked capture v1/v2, raw IPv4/IPv6, BSD loopback;
//!   IPv4 with options and fragments, IPv6 with extension headers and the fragment header;
//!   TCP, UDP (with its payload slice, for NetFlow-in-pcap), ICMP, ICMPv6.
//! * [`FlowTable`] — bounded table of bi-directional flows keyed by the canonical 5-tuple,
//!   with Zeek's originator and `conn_state` conventions, payload/IP/frame byte counts per
//!   direction, idle/active timeouts and FIN/RST closure, emitting [`FlowRecord`]s in a
//!   deterministic order; [`FlowRecord::to_event`] gives a [`sekisho_event::Flow`].
//!
//! [`PcapFlows`] strings them together and counts everything in [`CaptureStats`].
//!
//! Nothing here reads a clock: flow time is packet time. No input makes it panic (fuzz
//! target `fuzz/fuzz_targets/pcap.rs`); a damaged packet is counted with its number and byte
//! offset, and a damaged container ends the file with a [`ReadError`] naming the offset,
//! after every packet before it was delivered.
//!
//! # Example
//!
//! ```
//! use sekisho_pcap::{FlowConfig, PcapFlows, looks_like_pcap};
//! use std::sync::Arc;
//!
//! // A classic pcap (little-endian, µs, Ethernet) holding one UDP packet 10.0.0.1:5353 → 10.0.0.2:53.
//! let mut cap = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
//! cap.extend_from_slice(&[0; 8]);
//! cap.extend_from_slice(&65535u32.to_le_bytes());
//! cap.extend_from_slice(&1u32.to_le_bytes());
//! let mut frame = vec![0u8; 12];
//! frame.extend_from_slice(&[0x08, 0x00]);
//! frame.extend_from_slice(&[0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
//! frame.extend_from_slice(&[0x14, 0xe9, 0, 53, 0, 12, 0, 0, b'p', b'i', b'n', b'g']);
//! cap.extend_from_slice(&1_700_000_000u32.to_le_bytes());
//! cap.extend_from_slice(&0u32.to_le_bytes());
//! cap.extend_from_slice(&(frame.len() as u32).to_le_bytes());
//! cap.extend_from_slice(&(frame.len() as u32).to_le_bytes());
//! cap.extend_from_slice(&frame);
//!
//! assert!(looks_like_pcap(&cap));
//! let mut flows = PcapFlows::new(&cap[..], FlowConfig::default()).unwrap();
//! let rec = flows.next_flow().expect("one flow");
//! assert_eq!((rec.orig_counts.pkts, rec.orig_counts.payload_bytes, rec.orig_counts.ip_bytes), (1, 4, 32));
//! let flow = rec.to_event(&Arc::from("lab"));
//! assert_eq!(flow.resp_port, 53);
//! assert_eq!(flow.service, sekisho_event::Service::Dns);
//! assert!(flows.next_flow().is_none());
//! assert_eq!(flows.stats().decoded, 1);
//! ```
//!
//! Reading UDP payloads (for NetFlow exported over UDP and captured):
//!
//! ```
//! use sekisho_pcap::{CaptureReader, Decoded, decode_frame};
//! # fn f(bytes: &[u8]) -> Result<(), sekisho_pcap::ReadError> {
//! let mut reader = CaptureReader::new(bytes)?;
//! while let Some(raw) = reader.next_packet()? {
//!     if let Ok(Decoded::Ip(p)) = decode_frame(raw.link, raw.ts_us, raw.orig_len, raw.data) {
//!         if let Some(payload) = p.udp_payload {
//!             let _ = (p.src, p.dst_port, payload);
//!         }
//!     }
//! }
//! # Ok(()) }
//! ```

mod decode;
mod flow;
mod reader;

pub use decode::{
    DecodeError, DecodeErrorKind, Decoded, Fragment, LinkType, MAX_IPV6_EXT_HEADERS,
    MAX_VLAN_DEPTH, NotIp, Packet, VlanIds, decode_frame, ip_proto, tcp_flags,
};
pub use flow::{
    DirCounts, EndReason, FRAGMENT_TIMEOUT_US, FlowConfig, FlowKey, FlowRecord, FlowTable,
    FlowTableStats, MAX_FLOWS, MAX_FRAGMENT_KEYS, SWEEP_INTERVAL_US,
};
pub use reader::{
    CaptureFormat, CaptureReader, INITIAL_BUFFER, MAX_BLOCK_SIZE, MAX_INTERFACES,
    MAX_SKIPPED_SAMPLES, RawPacket, ReadError, SkippedBlock, looks_like_pcap, sniff,
};

use std::collections::BTreeMap;
use std::io::Read;

/// Most packet problems kept with their position (all are counted).
pub const MAX_PROBLEM_SAMPLES: usize = 100;

/// One packet that could not be (fully) used, and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketProblem {
    /// 1-based packet number.
    pub packet: u64,
    /// Byte offset of the packet's record in the file.
    pub offset: u64,
    /// Stable reason (`truncated`, `malformed`, `too-deep`, `unsupported-link`,
    /// `unattributed-fragment`, or a [`ReadError::reason`]).
    pub reason: &'static str,
    /// Short description (layer and byte within the frame).
    pub detail: String,
}

/// What a capture held and what could not be used. Every packet read is decoded, non-IP,
/// or counted under an error reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Packets read from the container.
    pub packets_read: u64,
    /// Bytes of input consumed.
    pub bytes_read: u64,
    /// Packets decoded to IP.
    pub decoded: u64,
    /// Packets read, by link type name.
    pub by_link: BTreeMap<&'static str, u64>,
    /// Frames without IP (ARP, LLDP, ...).
    pub non_ip: u64,
    /// Packets whose headers were cut by the snap length, plus a record cut by the end of the file.
    pub truncated: u64,
    /// Packets captured shorter than on the wire (`caplen < orig_len`); most decode fine.
    pub short_captures: u64,
    /// Packets or blocks that could not be used, by reason.
    pub errors_by_reason: BTreeMap<&'static str, u64>,
    /// The first [`MAX_PROBLEM_SAMPLES`] problems with their positions.
    pub samples: Vec<PacketProblem>,
    /// Flow table counters (fragments, evictions, flows emitted).
    pub table: FlowTableStats,
}

impl CaptureStats {
    fn problem(&mut self, packet: u64, offset: u64, reason: &'static str, detail: String) {
        *self.errors_by_reason.entry(reason).or_default() += 1;
        if self.samples.len() < MAX_PROBLEM_SAMPLES {
            self.samples.push(PacketProblem {
                packet,
                offset,
                reason,
                detail,
            });
        }
    }

    /// Total problems counted.
    pub fn errors(&self) -> u64 {
        self.errors_by_reason.values().sum()
    }
}

/// A capture read through the decoder into a flow table: an iterator of finished flows.
#[derive(Debug)]
pub struct PcapFlows<R: Read> {
    reader: CaptureReader<R>,
    table: FlowTable,
    stats: CaptureStats,
    error: Option<ReadError>,
    done: bool,
}

impl<R: Read> PcapFlows<R> {
    /// Opens a capture (format told by content).
    pub fn new(input: R, cfg: FlowConfig) -> Result<Self, ReadError> {
        Ok(Self {
            reader: CaptureReader::new(input)?,
            table: FlowTable::new(cfg),
            stats: CaptureStats::default(),
            error: None,
            done: false,
        })
    }

    /// The next finished flow; `None` when the input is exhausted and every flow emitted.
    /// A container error ends reading early: see [`PcapFlows::error`].
    pub fn next_flow(&mut self) -> Option<FlowRecord> {
        loop {
            if let Some(r) = self.table.pop() {
                return Some(r);
            }
            if self.done {
                return None;
            }
            self.step();
        }
    }

    /// Reads one packet into the table (or finishes the table at the end).
    fn step(&mut self) {
        match self.reader.next_packet() {
            Ok(Some(raw)) => {
                let st = &mut self.stats;
                st.packets_read += 1;
                *st.by_link.entry(raw.link.as_str()).or_default() += 1;
                if (raw.data.len() as u64) < u64::from(raw.orig_len) {
                    st.short_captures += 1;
                }
                match decode_frame(raw.link, raw.ts_us, raw.orig_len, raw.data) {
                    Ok(Decoded::Ip(p)) => {
                        st.decoded += 1;
                        if !self.table.add(&p) {
                            st.problem(
                                raw.number,
                                raw.offset,
                                "unattributed-fragment",
                                format!(
                                    "fragment at offset {} of an unseen datagram",
                                    p.fragment.map_or(0, |f| f.offset)
                                ),
                            );
                        }
                    }
                    Ok(Decoded::NotIp(_)) => st.non_ip += 1,
                    Err(e) => {
                        if e.kind == DecodeErrorKind::Truncated {
                            st.truncated += 1;
                        }
                        st.problem(raw.number, raw.offset, e.kind.as_str(), e.to_string());
                    }
                }
            }
            Ok(None) => self.end(),
            Err(e) => {
                if let ReadError::Truncated { offset, packet } = e {
                    self.stats.truncated += 1;
                    self.stats
                        .problem(packet, offset, e.reason(), e.to_string());
                } else {
                    let offset = match &e {
                        ReadError::Io { offset, .. }
                        | ReadError::BlockTooLarge { offset }
                        | ReadError::Corrupt { offset, .. } => *offset,
                        _ => 0,
                    };
                    let packet = self.stats.packets_read + 1;
                    self.stats
                        .problem(packet, offset, e.reason(), e.to_string());
                }
                self.error = Some(e);
                self.end();
            }
        }
    }

    fn end(&mut self) {
        self.table.finish();
        let (n, samples) = self.reader.skipped();
        let samples: Vec<SkippedBlock> = samples.to_vec();
        let counted: u64 = samples.len() as u64;
        for s in samples {
            self.stats.problem(
                0,
                s.offset,
                s.reason,
                format!("pcapng block skipped: {}", s.reason),
            );
        }
        if n > counted {
            *self
                .stats
                .errors_by_reason
                .entry("skipped-block")
                .or_default() += n - counted;
        }
        self.done = true;
    }

    /// Counters so far (complete once [`PcapFlows::next_flow`] returned `None`).
    pub fn stats(&mut self) -> &CaptureStats {
        self.stats.bytes_read = self.reader.bytes_consumed();
        self.stats.table = *self.table.stats();
        &self.stats
    }

    /// The container error that ended reading early, if any.
    pub fn error(&self) -> Option<&ReadError> {
        self.error.as_ref()
    }

    /// The container format.
    pub fn format(&self) -> CaptureFormat {
        self.reader.format()
    }
}

impl<R: Read> Iterator for PcapFlows<R> {
    type Item = FlowRecord;
    fn next(&mut self) -> Option<FlowRecord> {
        self.next_flow()
    }
}
