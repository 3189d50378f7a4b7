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
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

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
    /// Flows handed out next: part of a sorted batch.
    pending: SortedBatch,
    producer: Producer,
}

/// Where a stream's sorted batches are made.
enum Producer {
    /// In the caller's thread, when asked for.
    Inline(Batcher),
    /// In a thread of its own (see [`CaptureStream::read_ahead`]), which reads the next
    /// batch while the pipeline analyses this one.
    Thread {
        batches: Receiver<Batch>,
        thread: Option<JoinHandle<()>>,
        display: String,
    },
    Done,
}

/// A sorted batch and the counts made while reading it.
struct Batch {
    flows: SortedBatch,
    stats: RunStats,
}

/// Reads a source into batches of flows sorted by start time.
struct Batcher {
    source: Option<Source>,
    /// Flows per batch: [`MAX_SORTED_FLOWS`], smaller in tests.
    batch_size: usize,
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
            pending: SortedBatch::default(),
            producer: Producer::Inline(Batcher {
                source: Some(source),
                batch_size: MAX_SORTED_FLOWS,
                display,
                sensor,
            }),
        })
    }

    /// Moves the reading, decoding, pairing and sorting into a thread of its own, so that
    /// it runs beside the pipeline on another core. The flows and counts are the same as
    /// when read in line, in the same order: only where the work is done changes. Stays
    /// in line if no thread can be started.
    pub(crate) fn read_ahead(mut self) -> Self {
        let Producer::Inline(batcher) = std::mem::replace(&mut self.producer, Producer::Done)
        else {
            return self;
        };
        let display = batcher.display.clone();
        let (tx, rx) = sync_channel::<Batch>(0);
        // Handed over through a slot, so that it stays here if no thread can be started.
        let slot = Arc::new(Mutex::new(Some(batcher)));
        let handed = Arc::clone(&slot);
        let spawned = std::thread::Builder::new()
            .name("sekisho-capture".into())
            .spawn(move || {
                let Some(mut batcher) = handed.lock().ok().and_then(|mut b| b.take()) else {
                    return;
                };
                loop {
                    let mut stats = RunStats::default();
                    let flows = batcher.next_batch(&mut stats);
                    let last = flows.is_empty();
                    // Blocks until the pipeline takes it, so at most two batches exist:
                    // the one being analysed and the one being read.
                    if tx.send(Batch { flows, stats }).is_err() || last {
                        return; // the end, or the pipeline stopped reading
                    }
                }
            });
        self.producer = match spawned {
            Ok(thread) => Producer::Thread {
                batches: rx,
                thread: Some(thread),
                display,
            },
            Err(_) => match slot.lock().ok().and_then(|mut b| b.take()) {
                Some(batcher) => Producer::Inline(batcher),
                None => Producer::Done,
            },
        };
        self
    }

    /// The next flow in time order, refilling a sorted batch when the last is used up.
    pub(crate) fn next_flow(&mut self, stats: &mut RunStats) -> Option<Flow> {
        loop {
            if let Some(f) = self.pending.next() {
                return Some(f);
            }
            match &mut self.producer {
                Producer::Inline(batcher) => {
                    let batch = batcher.next_batch(stats);
                    if batch.is_empty() {
                        self.producer = Producer::Done;
                        return None;
                    }
                    self.pending = batch;
                }
                Producer::Thread {
                    batches,
                    thread,
                    display,
                } => match batches.recv() {
                    Ok(batch) => {
                        stats.merge(&batch.stats);
                        self.pending = batch.flows;
                    }
                    Err(_) => {
                        // The thread has ended; if it did not end by itself, say so
                        // rather than lose the rest of the file silently.
                        if let Some(t) = thread.take()
                            && t.join().is_err()
                        {
                            stats.reject_file(
                                display,
                                0,
                                RejectReason::Io,
                                "the thread reading this file failed; the rest of it was not read",
                            );
                        }
                        self.producer = Producer::Done;
                        return None;
                    }
                },
                Producer::Done => return None,
            }
        }
    }
}

impl Batcher {
    /// The next batch of at most [`MAX_SORTED_FLOWS`] flows, in order of start time; empty
    /// when the source is used up. Reading problems are counted in `stats`.
    fn next_batch(&mut self, stats: &mut RunStats) -> SortedBatch {
        let Some(source) = self.source.as_mut() else {
            return SortedBatch::default();
        };
        let mut batch = Vec::new();
        let mut exhausted = false;
        while batch.len() < self.batch_size {
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
        if exhausted {
            self.source = None;
        }
        for f in &batch {
            stats.observe(f.ts);
        }
        SortedBatch::new(batch)
    }
}

/// A batch handed out in order of start time, flows that start together in the order the
/// source gave them (a stable sort by start time). A flow is ~130 bytes, so only the keys
/// are sorted; each flow is then moved once, straight out of its place in the batch.
#[derive(Default)]
struct SortedBatch {
    slots: Vec<Option<Flow>>,
    order: std::vec::IntoIter<u32>,
}

impl SortedBatch {
    fn is_empty(&self) -> bool {
        self.order.as_slice().is_empty()
    }

    fn new(batch: Vec<Flow>) -> Self {
        // Start time (as an order-preserving u64) above the position: one integer compare
        // per step, and equal start times keep the source's order.
        let mut keys: Vec<u128> = batch
            .iter()
            .zip(0u32..)
            .map(|(f, i)| {
                let t = (f.ts.as_micros() as u64) ^ (1 << 63);
                (u128::from(t) << 64) | u128::from(i)
            })
            .collect();
        keys.sort_unstable();
        Self {
            slots: batch.into_iter().map(Some).collect(),
            order: keys
                .into_iter()
                .map(|k| k as u32)
                .collect::<Vec<_>>()
                .into_iter(),
        }
    }
}

impl Iterator for SortedBatch {
    type Item = Flow;

    fn next(&mut self) -> Option<Flow> {
        // Every position is in `order` once, so no slot is found empty.
        self.order
            .next()
            .and_then(|i| self.slots.get_mut(i as usize).and_then(Option::take))
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
        // Refilled only when less than one largest datagram is left, so each byte is moved
        // at most once by the compaction below (refilling whenever the buffer was not full
        // moved ~4 MiB per 64 KiB read).
        if !self.eof && self.buf.len() - self.pos < MAX_DATAGRAM {
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

#[cfg(test)]
mod tests {
    use super::*;
    use sekisho_event::Timestamp;
    use sekisho_netflow::encode::Encoder;
    use sekisho_netflow::{FlowRecord as Record, Version};
    use std::net::{IpAddr, Ipv4Addr};

    /// A file of NetFlow v9 datagrams: `n` connections (both directions each) whose start
    /// times run backwards and repeat, so that sorting has work and ties to keep.
    fn datagram_file(name: &str, n: u64) -> std::path::PathBuf {
        let exporter = SocketAddr::from(([192, 0, 2, 1], 2055));
        let mut enc = Encoder::v9(7);
        let mut bytes = enc.templates(1_700_000_000);
        let mut records = Vec::new();
        for i in 0..n {
            let mut a = Record::empty(exporter, Version::V9);
            a.src_ip = IpAddr::V4(Ipv4Addr::new(10, 10, (i >> 8) as u8, i as u8));
            a.dst_ip = IpAddr::V4(Ipv4Addr::new(10, 20, 0, 1));
            a.src_port = 40_000 + (i % 1000) as u16;
            a.dst_port = 445;
            a.protocol = 6;
            a.tcp_flags = 0x1b;
            a.raw_bytes = 100 + i;
            a.raw_packets = 2;
            let t = Timestamp::from_micros(1_699_999_000_000_000 + ((n - i) % 37) as i64 * 1000);
            a.start = Some(t);
            a.end = Some(t);
            let mut b = a.clone();
            std::mem::swap(&mut b.src_ip, &mut b.dst_ip);
            std::mem::swap(&mut b.src_port, &mut b.dst_port);
            records.push(a);
            records.push(b);
        }
        for chunk in records.chunks(30) {
            bytes.extend(enc.data(1_700_000_000, chunk));
        }
        let path =
            std::env::temp_dir().join(format!("sekisho-{name}-{}.netflow", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn drain(mut c: CaptureStream) -> (Vec<Flow>, RunStats) {
        let mut stats = RunStats::default();
        let flows = std::iter::from_fn(|| c.next_flow(&mut stats)).collect();
        (flows, stats)
    }

    fn open(path: &Path, batch_size: usize) -> CaptureStream {
        let mut stats = RunStats::default();
        let mut c = CaptureStream::open(
            path,
            "test.netflow".into(),
            Arc::from("nf"),
            sniff(path),
            &mut stats,
        )
        .unwrap();
        if let Producer::Inline(b) = &mut c.producer {
            b.batch_size = batch_size;
        }
        c
    }

    /// The pairer's flows in the order it gives them.
    fn unsorted(path: &Path) -> Vec<Flow> {
        let file = File::open(path).unwrap();
        let mut n = NetflowSource::new(
            Datagrams::File(DatagramFile::new(file)),
            Some(Arc::from("nf")),
        );
        let mut stats = RunStats::default();
        std::iter::from_fn(|| n.next_flow("x", &mut stats)).collect()
    }

    #[test]
    fn a_batch_comes_out_by_start_time_with_ties_in_source_order() {
        let path = datagram_file("sorted", 500);
        let (flows, stats) = drain(open(&path, MAX_SORTED_FLOWS));
        let given = unsorted(&path);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(flows.len(), 500);
        assert_eq!(stats.parsed_by_log.get("netflow"), Some(&35));
        let mut expected = given.clone();
        expected.sort_by_key(|f| f.ts);
        assert_ne!(given, expected, "the input was out of order");
        assert!(flows.windows(2).any(|w| w[0].ts == w[1].ts), "with ties");
        assert_eq!(flows, expected);
    }

    #[test]
    fn reading_ahead_in_a_thread_gives_the_same_flows_and_counts() {
        let path = datagram_file("ahead", 300);
        for batch_size in [7, 64, MAX_SORTED_FLOWS] {
            let inline = drain(open(&path, batch_size));
            let ahead = drain(open(&path, batch_size).read_ahead());
            assert_eq!(inline.0.len(), 300);
            assert_eq!(inline, ahead, "batches of {batch_size}");
            // Each batch in order of its own start times.
            for batch in inline.0.chunks(batch_size) {
                assert!(batch.is_sorted_by_key(|f| f.ts));
            }
        }
        std::fs::remove_file(&path).unwrap();
    }
}
