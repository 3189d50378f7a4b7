//! Flow sources other than Zeek logs: packet captures (pcap, pcapng), captures of exported
//! NetFlow/IPFIX traffic, and files of raw NetFlow/IPFIX datagrams. Each is told by its
//! content, never by its name.
//!
//! Packet flows leave a flow table when they end (idle or active timeout, FIN/RST), not in
//! start order, and NetFlow records arrive when exporters expire them. The pipeline wants
//! each stream in time order, so a stream sorts its flows by start time in batches of at
//! most [`MAX_SORTED_FLOWS`]: a capture with fewer flows (nearly all of them) is replayed
//! in exact order; a bigger one in sorted batches, whose seams stay within what detectors
//! tolerate for records merged across sensors.

use sekisho_event::{Flow, RejectReason, RunStats};
use sekisho_netflow::{Decoder as NetflowDecoder, FlowRecord as NetflowRecord, Pairer};
use sekisho_pcap::{CaptureReader, Decoded, FlowConfig, PcapFlows, decode_frame};
use std::fs::File;
use std::io::{BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// Flows held and sorted at once per capture stream.
pub const MAX_SORTED_FLOWS: usize = 1 << 20;

/// Bytes read to tell a file's format.
const SNIFF_BYTES: usize = 1 << 16;

/// UDP packets looked at to tell a capture of exported NetFlow from other traffic.
const NETFLOW_SNIFF_PACKETS: usize = 200;

/// What a file holds, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Content {
    /// pcap or pcapng.
    Capture,
    /// NetFlow v5/v9/IPFIX datagrams written back to back.
    NetflowDatagrams,
    /// Anything else: the Zeek reader decides (and rejects what is not Zeek).
    Other,
}

/// Tells a file's content. Unreadable files are `Other`: the Zeek reader reports them.
pub(crate) fn sniff(path: &Path) -> Content {
    let mut head = vec![0u8; SNIFF_BYTES];
    let Ok(mut f) = File::open(path) else {
        return Content::Other;
    };
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    let head = &head[..n];
    if sekisho_pcap::looks_like_pcap(head) {
        Content::Capture
    } else if sekisho_netflow::looks_like_netflow(head) {
        Content::NetflowDatagrams
    } else {
        Content::Other
    }
}

/// File name extensions a directory walk picks up as captures or datagram files (files
/// named on the command line are always sniffed).
pub(crate) fn capture_extension(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [".pcap", ".pcapng", ".cap", ".netflow", ".ipfix"]
        .iter()
        .any(|e| name.ends_with(e))
}

/// A capture or datagram file, read whole into time-ordered flows.
pub(crate) struct CaptureStream {
    /// The current sorted batch.
    pending: std::vec::IntoIter<Flow>,
    source: Option<Source>,
    display: String,
    sensor: Arc<str>,
}

enum Source {
    Packets(Box<PcapFlows<BufReader<File>>>),
    /// NetFlow records, from datagrams in a file or in a capture, through the pairer.
    Netflow(Box<NetflowSource>),
}

impl CaptureStream {
    /// Opens `path` as told by [`sniff`]; problems are counted in `stats`.
    pub(crate) fn open(
        path: &Path,
        display: String,
        sensor: Arc<str>,
        content: Content,
        stats: &mut RunStats,
    ) -> Option<Self> {
        stats.files += 1;
        let source = match content {
            Content::Capture if is_netflow_capture(path) => {
                let file = match File::open(path) {
                    Ok(f) => f,
                    Err(e) => {
                        stats.reject_file(&display, 0, RejectReason::Io, e.to_string());
                        return None;
                    }
                };
                match CaptureReader::new(BufReader::new(file)) {
                    Ok(r) => Source::Netflow(Box::new(NetflowSource::new(
                        Datagrams::Capture(Box::new(r)),
                        None,
                    ))),
                    Err(e) => {
                        stats.reject_file(&display, 0, RejectReason::BadPacket, e.to_string());
                        return None;
                    }
                }
            }
            Content::Capture => {
                let file = match File::open(path) {
                    Ok(f) => f,
                    Err(e) => {
                        stats.reject_file(&display, 0, RejectReason::Io, e.to_string());
                        return None;
                    }
                };
                match PcapFlows::new(BufReader::new(file), FlowConfig::default()) {
                    Ok(flows) => Source::Packets(Box::new(flows)),
                    Err(e) => {
                        stats.reject_file(&display, 0, RejectReason::BadPacket, e.to_string());
                        return None;
                    }
                }
            }
            Content::NetflowDatagrams => match File::open(path) {
                Ok(f) => Source::Netflow(Box::new(NetflowSource::new(
                    Datagrams::File(DatagramFile::new(f)),
                    Some(Arc::clone(&sensor)),
                ))),
                Err(e) => {
                    stats.reject_file(&display, 0, RejectReason::Io, e.to_string());
                    return None;
                }
            },
            Content::Other => return None,
        };
        Some(CaptureStream {
            pending: Vec::new().into_iter(),
            source: Some(source),
            display,
            sensor,
        })
    }

    /// The next flow in time order, refilling a sorted batch when the last is used up.
    pub(crate) fn next_flow(&mut self, stats: &mut RunStats) -> Option<Flow> {
        if let Some(f) = self.pending.next() {
            return Some(f);
        }
        let source = self.source.as_mut()?;
        let mut batch = Vec::new();
        let mut exhausted = false;
        while batch.len() < MAX_SORTED_FLOWS {
            let next = match source {
                Source::Packets(p) => p.next_flow().map(|r| r.to_event(&self.sensor)),
                Source::Netflow(n) => n.next_flow(&self.display, stats),
            };
            match next {
                Some(f) => batch.push(f),
                None => {
                    exhausted = true;
                    break;
                }
            }
        }
        if exhausted && let Some(Source::Packets(p)) = self.source.take() {
            account_capture(*p, &self.display, stats);
        }
        for f in &batch {
            stats.observe(f.ts);
        }
        // Flows come out nearly in order already, which the stable sort finds in one pass.
        batch.sort_by_key(|f| (f.ts, f.uid));
        self.pending = batch.into_iter();
        self.pending.next()
    }
}

/// Adds a finished capture's counts: every packet read is a record, decoded ones are
/// parsed, frames without IP are skipped, problems are rejected with their packet number.
fn account_capture(mut p: PcapFlows<BufReader<File>>, display: &str, stats: &mut RunStats) {
    let st = p.stats().clone();
    stats.bytes += st.bytes_read;
    let problems: u64 = st.errors_by_reason.values().sum();
    let sampled = st.samples.len() as u64;
    for s in &st.samples {
        stats.reject(
            display,
            s.packet,
            RejectReason::BadPacket,
            format!("{} at byte {}: {}", s.reason, s.offset, s.detail),
        );
    }
    // Problems beyond the sample still count.
    stats.count_rejected(RejectReason::BadPacket, problems.saturating_sub(sampled));
    stats.count_parsed("packet", st.decoded.min(st.packets_read));
    stats.records += st.non_ip;
    stats.skipped += st.non_ip;
}

/// True when the capture's UDP traffic is NetFlow/IPFIX export (a capture taken on a
/// collector), told from its first packets.
fn is_netflow_capture(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    let Ok(mut reader) = CaptureReader::new(BufReader::new(file)) else {
        return false;
    };
    let (mut packets, mut netflow) = (0usize, 0usize);
    while packets < NETFLOW_SNIFF_PACKETS {
        let Ok(Some(raw)) = reader.next_packet() else {
            break;
        };
        packets += 1;
        if let Ok(Decoded::Ip(p)) = decode_frame(raw.link, raw.ts_us, raw.orig_len, raw.data)
            && p.udp_payload
                .is_some_and(sekisho_netflow::looks_like_netflow)
        {
            netflow += 1;
        }
    }
    netflow > 0 && netflow * 2 >= packets
}

/// Most bytes of a datagram file buffered at once; a datagram is at most 64 KiB, so a
/// datagram that ends before `buffer - 64 KiB` is known to be whole.
const DATAGRAM_BUFFER: usize = 4 << 20;
const MAX_DATAGRAM: usize = 1 << 16;

/// Where NetFlow datagrams come from.
enum Datagrams {
    /// UDP payloads of a capture taken on a collector; the exporter is the packet's source.
    Capture(Box<CaptureReader<BufReader<File>>>),
    /// A file of datagrams back to back; the exporter is unknown.
    File(DatagramFile),
}

/// A file of raw datagrams, read through a bounded buffer.
struct DatagramFile {
    file: File,
    buf: Vec<u8>,
    /// Start of the unread part of `buf`.
    pos: usize,
    /// File offset of `buf[0]`.
    base: u64,
    eof: bool,
}

impl DatagramFile {
    fn new(file: File) -> Self {
        Self {
            file,
            buf: Vec::new(),
            pos: 0,
            base: 0,
            eof: false,
        }
    }

    /// The next datagram and its byte offset; `Err` on a read error.
    fn next(&mut self) -> std::io::Result<Option<(u64, Vec<u8>)>> {
        if !self.eof && self.buf.len() - self.pos < DATAGRAM_BUFFER - MAX_DATAGRAM {
            self.buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.pos = 0;
            let want = DATAGRAM_BUFFER - self.buf.len();
            let got = (&mut self.file)
                .take(want as u64)
                .read_to_end(&mut self.buf)?;
            if got == 0 {
                self.eof = true;
            }
        }
        let rest = &self.buf[self.pos..];
        let Some((_, datagram)) = sekisho_netflow::split_datagrams(rest).next() else {
            return Ok(None);
        };
        let offset = self.base + self.pos as u64;
        self.pos += datagram.len();
        Ok(Some((offset, datagram.to_vec())))
    }
}

/// Datagrams → NetFlow decoder → pairer → flows, pulled one datagram at a time.
struct NetflowSource {
    input: Datagrams,
    decoder: NetflowDecoder,
    pairer: Pairer,
    records: Vec<NetflowRecord>,
    ready: std::collections::VecDeque<Flow>,
    scratch: Vec<Flow>,
    done: bool,
}

impl NetflowSource {
    fn new(input: Datagrams, sensor: Option<Arc<str>>) -> Self {
        Self {
            input,
            decoder: NetflowDecoder::new(),
            pairer: Pairer::new(sekisho_netflow::PairerConfig {
                sensor,
                ..sekisho_netflow::PairerConfig::default()
            }),
            records: Vec::new(),
            ready: std::collections::VecDeque::new(),
            scratch: Vec::new(),
            done: false,
        }
    }

    fn next_flow(&mut self, display: &str, stats: &mut RunStats) -> Option<Flow> {
        loop {
            if let Some(f) = self.ready.pop_front() {
                return Some(f);
            }
            if self.done {
                return None;
            }
            self.step(display, stats);
        }
    }

    /// Takes in one datagram (or finishes at the end of the input).
    fn step(&mut self, display: &str, stats: &mut RunStats) {
        // (position for rejections, exporter, datagram)
        let next: Option<(u64, SocketAddr, Vec<u8>)> = match &mut self.input {
            Datagrams::File(f) => match f.next() {
                Ok(Some((offset, d))) => {
                    stats.bytes += d.len() as u64;
                    Some((offset, SocketAddr::from(([0, 0, 0, 0], 0)), d))
                }
                Ok(None) => None,
                Err(e) => {
                    stats.reject_file(display, 0, RejectReason::Io, e.to_string());
                    None
                }
            },
            Datagrams::Capture(reader) => loop {
                match reader.next_packet() {
                    Ok(Some(raw)) => {
                        let number = raw.number;
                        match decode_frame(raw.link, raw.ts_us, raw.orig_len, raw.data) {
                            Ok(Decoded::Ip(p)) => match p.udp_payload {
                                Some(payload) if sekisho_netflow::looks_like_netflow(payload) => {
                                    break Some((
                                        number,
                                        SocketAddr::new(p.src, p.src_port),
                                        payload.to_vec(),
                                    ));
                                }
                                _ => {
                                    stats.records += 1;
                                    stats.skipped += 1;
                                }
                            },
                            Ok(Decoded::NotIp(_)) => {
                                stats.records += 1;
                                stats.skipped += 1;
                            }
                            Err(e) => stats.reject(
                                display,
                                number,
                                RejectReason::BadPacket,
                                e.to_string(),
                            ),
                        }
                    }
                    Ok(None) => {
                        stats.bytes += reader.bytes_consumed();
                        break None;
                    }
                    Err(e) => {
                        stats.bytes += reader.bytes_consumed();
                        stats.reject_file(display, 0, RejectReason::BadPacket, e.to_string());
                        break None;
                    }
                }
            },
        };
        let Some((position, exporter, datagram)) = next else {
            self.decoder.finish();
            self.scratch.clear();
            self.pairer.flush(&mut self.scratch);
            self.ready.extend(self.scratch.drain(..));
            self.done = true;
            return;
        };
        self.records.clear();
        let where_ = match self.input {
            Datagrams::File(_) => "byte offset",
            Datagrams::Capture(_) => "packet",
        };
        match self.decoder.decode(exporter, &datagram, &mut self.records) {
            Ok(info) if info.problems == 0 => stats.parsed("netflow"),
            Ok(info) => stats.reject(
                display,
                position,
                RejectReason::BadDatagram,
                format!(
                    "{where_} {position}: {} problems inside the datagram",
                    info.problems
                ),
            ),
            Err(e) => stats.reject(
                display,
                position,
                RejectReason::BadDatagram,
                format!("{where_} {position}: {e}"),
            ),
        }
        self.scratch.clear();
        for r in &self.records {
            self.pairer.push(r, &mut self.scratch);
        }
        self.ready.extend(self.scratch.drain(..));
    }
}

/// Capture and datagram files under the directory inputs, by extension, sorted, at most
/// [`sekisho_zeek::MAX_DIR_DEPTH`] deep (files named directly come through the Zeek
/// discovery and are sniffed there).
pub(crate) fn discover(inputs: &[std::path::PathBuf]) -> Vec<sekisho_zeek::LogFile> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<std::path::PathBuf>) {
        if depth > sekisho_zeek::MAX_DIR_DEPTH {
            return;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let Ok(kind) = e.file_type() else { continue };
            let path = e.path();
            if kind.is_dir() {
                walk(&path, depth + 1, out);
            } else if kind.is_file() && capture_extension(&e.file_name().to_string_lossy()) {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            walk(input, 0, &mut out);
        }
    }
    out.into_iter().map(sekisho_zeek::LogFile::new).collect()
}
