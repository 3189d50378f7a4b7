//! Streaming capture reader over any [`std::io::Read`]: classic pcap and pcapng.
//!
//! The container formats are parsed by `pcap-parser` (rusticata); this module keeps the
//! pcapng interface table (link type and timestamp resolution per interface), turns every
//! packet into a [`RawPacket`] with its number and byte offset, and keeps memory bounded: one
//! circular buffer of [`INITIAL_BUFFER`] bytes, grown only for a single block larger than
//! that, never past [`MAX_BLOCK_SIZE`].

use crate::decode::LinkType;
use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError, PcapNGReader};
use std::io::{self, Read};

/// Bytes buffered from the input at a time.
pub const INITIAL_BUFFER: usize = 256 * 1024;
/// Largest single pcap record or pcapng block accepted (the buffer grows up to this).
pub const MAX_BLOCK_SIZE: usize = 16 * 1024 * 1024;
/// Most pcapng interfaces kept per section; EPBs naming a later one are counted as errors.
pub const MAX_INTERFACES: usize = 1024;
/// Bytes peeked at the start of an input to tell the format.
const PEEK: usize = 64 * 1024;

const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xd4, 0xc3, 0xb2, 0xa1], // µs, little-endian
    [0xa1, 0xb2, 0xc3, 0xd4], // µs, big-endian
    [0x4d, 0x3c, 0xb2, 0xa1], // ns, little-endian
    [0xa1, 0xb2, 0x3c, 0x4d], // ns, big-endian
];
const PCAP_MODIFIED_MAGICS: [[u8; 4]; 2] = [[0x34, 0xcd, 0xb2, 0xa1], [0xa1, 0xb2, 0xcd, 0x34]];
const PCAPNG_SHB: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const PCAPNG_BOMS: [[u8; 4]; 2] = [[0x4d, 0x3c, 0x2b, 0x1a], [0x1a, 0x2b, 0x3c, 0x4d]];

/// Which container an input is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic libpcap (either byte order, µs or ns timestamps).
    Pcap,
    /// pcapng.
    PcapNg,
}

/// True when `first_bytes` start like a capture file: a pcap magic (both byte orders, µs and
/// ns, and the Kuznetzov "modified" variant) or a pcapng Section Header Block with a valid
/// byte-order magic. Needs at least 12 bytes for pcapng, 4 for pcap.
pub fn looks_like_pcap(first_bytes: &[u8]) -> bool {
    sniff(first_bytes).is_some()
}

/// The format of an input from its first bytes, or `None`.
pub fn sniff(first_bytes: &[u8]) -> Option<CaptureFormat> {
    let magic: [u8; 4] = first_bytes.get(..4)?.try_into().ok()?;
    if PCAP_MAGICS.contains(&magic) || PCAP_MODIFIED_MAGICS.contains(&magic) {
        return Some(CaptureFormat::Pcap);
    }
    if magic == PCAPNG_SHB {
        let bom: [u8; 4] = first_bytes.get(8..12)?.try_into().ok()?;
        if PCAPNG_BOMS.contains(&bom) {
            return Some(CaptureFormat::PcapNg);
        }
    }
    None
}

/// Why reading a capture stopped early. The packets before it were delivered.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The input is not pcap or pcapng.
    #[error("not a pcap or pcapng capture")]
    NotACapture,
    /// Reading the input failed.
    #[error("read error at byte {offset}: {source}")]
    Io {
        /// Byte offset of the record being read.
        offset: u64,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The input ends inside a record (a capture cut while being written).
    #[error("capture truncated inside the record at byte {offset} (packet {packet})")]
    Truncated {
        /// Byte offset of the incomplete record.
        offset: u64,
        /// Number the packet would have had (1-based).
        packet: u64,
    },
    /// A record larger than [`MAX_BLOCK_SIZE`].
    #[error("record at byte {offset} is larger than {MAX_BLOCK_SIZE} bytes")]
    BlockTooLarge {
        /// Byte offset of the record.
        offset: u64,
    },
    /// A record or block that cannot be parsed; the stream cannot be resynchronised after it.
    #[error("corrupt record at byte {offset}: {detail}")]
    Corrupt {
        /// Byte offset of the record.
        offset: u64,
        /// What the container parser said (short).
        detail: String,
    },
}

impl ReadError {
    /// Stable name for counters.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NotACapture => "not-a-capture",
            Self::Io { .. } => "io",
            Self::Truncated { .. } => "truncated-file",
            Self::BlockTooLarge { .. } => "block-too-large",
            Self::Corrupt { .. } => "corrupt-record",
        }
    }
}

/// A packet as stored in the capture, before decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawPacket<'a> {
    /// 1-based packet number (as Wireshark numbers frames).
    pub number: u64,
    /// Byte offset of its record in the input.
    pub offset: u64,
    /// Capture time, microseconds since the epoch.
    pub ts_us: i64,
    /// Link type of its interface.
    pub link: LinkType,
    /// pcapng interface id (0 for classic pcap).
    pub interface: u32,
    /// Length on the wire.
    pub orig_len: u32,
    /// The captured bytes (`data.len()` is the captured length).
    pub data: &'a [u8],
}

/// A non-fatal problem met while reading (the packet or block is skipped, reading goes on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedBlock {
    /// Byte offset of the block.
    pub offset: u64,
    /// Stable reason name.
    pub reason: &'static str,
}

#[derive(Clone, Copy, Debug)]
struct Interface {
    link: LinkType,
    /// Timestamp units per second.
    units_per_sec: u64,
    /// Seconds added to every timestamp (`if_tsoffset`).
    offset_secs: i64,
    snaplen: u32,
}

enum Inner<R: Read> {
    Legacy(LegacyPcapReader<R>),
    Ng(PcapNGReader<R>),
}

/// Streaming pcap/pcapng reader; memory stays bounded whatever the file size.
pub struct CaptureReader<R: Read> {
    inner: Inner<io::Chain<io::Cursor<Vec<u8>>, R>>,
    format: CaptureFormat,
    /// Classic pcap: the single link type; nanosecond timestamps.
    legacy_link: LinkType,
    legacy_nanos: bool,
    interfaces: Vec<Interface>,
    /// Bytes consumed before the current buffer position.
    consumed: u64,
    /// Bytes of the block returned last time, consumed on the next call.
    pending: usize,
    packets: u64,
    buffer_size: usize,
    skipped: Vec<SkippedBlock>,
    skipped_total: u64,
    done: bool,
}

impl<R: Read> std::fmt::Debug for CaptureReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureReader")
            .field("format", &self.format)
            .field("consumed", &self.consumed)
            .field("packets", &self.packets)
            .finish_non_exhaustive()
    }
}

/// Most skipped-block samples kept (all are counted).
pub const MAX_SKIPPED_SAMPLES: usize = 100;

fn short(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::NomError(_, k) | PcapError::OwnedNomError(_, k) => format!("parse error {k:?}"),
        PcapError::HeaderNotRecognized => "header not recognised".to_string(),
        other => format!("{:?}", other.to_owned_vec())
            .chars()
            .take(80)
            .collect(),
    }
}

impl<R: Read> CaptureReader<R> {
    /// Opens a capture: reads its first bytes, tells the format by content and parses the
    /// file header.
    pub fn new(mut input: R) -> Result<Self, ReadError> {
        // Peek by repeated reads so that short reads (pipes, decompressors) do not make the
        // header look incomplete.
        let mut head = vec![0u8; PEEK];
        let mut filled = 0;
        while filled < PEEK {
            match input.read(head.get_mut(filled..).unwrap_or(&mut [])) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => return Err(ReadError::Io { offset: 0, source }),
            }
        }
        head.truncate(filled);
        let format = sniff(&head).ok_or(ReadError::NotACapture)?;
        let chained = io::Cursor::new(head).chain(input);
        let header_err = |e: PcapError<&'static [u8]>| match e {
            PcapError::Incomplete(_) => ReadError::Truncated {
                offset: 0,
                packet: 1,
            },
            other => ReadError::Corrupt {
                offset: 0,
                detail: short(&other),
            },
        };
        let (inner, legacy_link, legacy_nanos) = match format {
            CaptureFormat::Pcap => {
                let r = LegacyPcapReader::new(INITIAL_BUFFER, chained).map_err(header_err)?;
                (Inner::Legacy(r), LinkType::Ethernet, false)
            }
            CaptureFormat::PcapNg => {
                let r = PcapNGReader::new(INITIAL_BUFFER, chained).map_err(header_err)?;
                (Inner::Ng(r), LinkType::Ethernet, false)
            }
        };
        Ok(Self {
            inner,
            format,
            legacy_link,
            legacy_nanos,
            interfaces: Vec::new(),
            consumed: 0,
            pending: 0,
            packets: 0,
            buffer_size: INITIAL_BUFFER,
            skipped: Vec::new(),
            skipped_total: 0,
            done: false,
        })
    }

    /// The container format.
    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    /// Bytes of input consumed so far.
    pub fn bytes_consumed(&self) -> u64 {
        self.consumed + self.pending as u64
    }

    /// Blocks skipped so far (EPBs of unknown interfaces, too many interfaces), first
    /// [`MAX_SKIPPED_SAMPLES`] with their offsets.
    pub fn skipped(&self) -> (u64, &[SkippedBlock]) {
        (self.skipped_total, &self.skipped)
    }

    fn it(&mut self) -> &mut dyn PcapReaderIterator {
        match &mut self.inner {
            Inner::Legacy(r) => r,
            Inner::Ng(r) => r,
        }
    }

    fn skip(&mut self, offset: u64, reason: &'static str) {
        self.skipped_total += 1;
        if self.skipped.len() < MAX_SKIPPED_SAMPLES {
            self.skipped.push(SkippedBlock { offset, reason });
        }
    }

    /// The next packet, `Ok(None)` at the end of the input. After an error the reader is
    /// finished (the container cannot be resynchronised) and returns `Ok(None)`.
    pub fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, ReadError> {
        if self.done {
            return Ok(None);
        }
        let pending = std::mem::take(&mut self.pending);
        if pending > 0 {
            self.it().consume(pending);
            self.consumed += pending as u64;
        }
        loop {
            let offset = self.consumed;
            // First pass: parse, copy out the metadata and where the data sits in the
            // buffer; the borrow of the buffer ends before we slice it again to return.
            let step = {
                let base = self.it().data().as_ptr() as usize;
                let legacy_link = self.legacy_link;
                let legacy_nanos = self.legacy_nanos;
                let interfaces = &self.interfaces;
                let it: &mut dyn PcapReaderIterator = match &mut self.inner {
                    Inner::Legacy(r) => r,
                    Inner::Ng(r) => r,
                };
                match it.next() {
                    Ok((len, block)) => Step::Block(
                        len,
                        classify(block, base, legacy_link, legacy_nanos, interfaces),
                    ),
                    Err(PcapError::Eof) => Step::Eof,
                    Err(PcapError::Incomplete(_)) => Step::Refill,
                    Err(PcapError::BufferTooSmall) => Step::Grow,
                    Err(PcapError::UnexpectedEof) => Step::Fail(ReadError::Truncated {
                        offset,
                        packet: self.packets + 1,
                    }),
                    Err(PcapError::ReadError) => Step::Fail(ReadError::Io {
                        offset,
                        source: io::Error::other("read failed"),
                    }),
                    Err(e) => Step::Fail(ReadError::Corrupt {
                        offset,
                        detail: short(&e),
                    }),
                }
            };
            match step {
                Step::Eof => {
                    self.done = true;
                    return Ok(None);
                }
                Step::Fail(e) => {
                    self.done = true;
                    return Err(e);
                }
                Step::Refill => {
                    if let Err(e) = self.it().refill().map_err(|e| short(&e)) {
                        self.done = true;
                        return Err(ReadError::Io {
                            offset,
                            source: io::Error::other(e),
                        });
                    }
                }
                Step::Grow => {
                    let want = self.buffer_size.saturating_mul(2).min(MAX_BLOCK_SIZE);
                    if want <= self.buffer_size || !self.it().grow(want) {
                        self.done = true;
                        return Err(ReadError::BlockTooLarge { offset });
                    }
                    self.buffer_size = want;
                    if let Err(e) = self.it().refill().map_err(|e| short(&e)) {
                        self.done = true;
                        return Err(ReadError::Io {
                            offset,
                            source: io::Error::other(e),
                        });
                    }
                }
                Step::Block(len, kind) => match kind {
                    Kind::Packet(meta) => {
                        self.pending = len;
                        self.packets += 1;
                        let number = self.packets;
                        let data = self
                            .it()
                            .data()
                            .get(meta.start..meta.start + meta.caplen)
                            .unwrap_or(&[]);
                        return Ok(Some(RawPacket {
                            number,
                            offset,
                            ts_us: meta.ts_us,
                            link: meta.link,
                            interface: meta.interface,
                            orig_len: meta.orig_len,
                            data,
                        }));
                    }
                    other => {
                        self.it().consume(len);
                        self.consumed += len as u64;
                        match other {
                            Kind::LegacyHeader { link, nanos } => {
                                self.legacy_link = link;
                                self.legacy_nanos = nanos;
                            }
                            Kind::Section => self.interfaces.clear(),
                            Kind::Interface(i) => {
                                if self.interfaces.len() < MAX_INTERFACES {
                                    self.interfaces.push(i);
                                } else {
                                    self.skip(offset, "too-many-interfaces");
                                }
                            }
                            Kind::Skip(reason) => self.skip(offset, reason),
                            Kind::Other | Kind::Packet(_) => {}
                        }
                    }
                },
            }
        }
    }
}

enum Step {
    Block(usize, Kind),
    Eof,
    Refill,
    Grow,
    Fail(ReadError),
}

struct Meta {
    start: usize,
    caplen: usize,
    ts_us: i64,
    link: LinkType,
    interface: u32,
    orig_len: u32,
}

enum Kind {
    Packet(Meta),
    LegacyHeader { link: LinkType, nanos: bool },
    Section,
    Interface(Interface),
    Skip(&'static str),
    Other,
}

/// Where `part` starts inside the buffer whose data starts at address `base`.
fn start_in(part: &[u8], base: usize) -> usize {
    (part.as_ptr() as usize).saturating_sub(base)
}

fn classify(
    block: PcapBlockOwned<'_>,
    base: usize,
    legacy_link: LinkType,
    legacy_nanos: bool,
    interfaces: &[Interface],
) -> Kind {
    match block {
        PcapBlockOwned::LegacyHeader(h) => Kind::LegacyHeader {
            // The upper 16 bits may carry FCS information; the link type is the lower half.
            link: LinkType::from_linktype((h.network.0 as u32) & 0xffff),
            nanos: h.is_nanosecond_precision(),
        },
        PcapBlockOwned::Legacy(b) => {
            let frac = i64::from(b.ts_usec);
            let sub_us = if legacy_nanos { frac / 1000 } else { frac };
            Kind::Packet(Meta {
                start: start_in(b.data, base),
                caplen: b.data.len(),
                ts_us: i64::from(b.ts_sec) * 1_000_000 + sub_us,
                link: legacy_link,
                interface: 0,
                orig_len: b.origlen,
            })
        }
        PcapBlockOwned::NG(Block::SectionHeader(_)) => Kind::Section,
        PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
            let units_per_sec = ts_resolution(idb.if_tsresol).unwrap_or(1_000_000);
            Kind::Interface(Interface {
                link: LinkType::from_linktype(idb.linktype.0 as u32),
                units_per_sec,
                offset_secs: idb.ts_offset(),
                snaplen: idb.snaplen,
            })
        }
        PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
            let Some(iface) = interfaces.get(epb.if_id as usize) else {
                return Kind::Skip("unknown-interface");
            };
            // EPB data includes padding to 32 bits: cut it to the captured length.
            let caplen = (epb.caplen as usize).min(epb.data.len());
            let ts = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
            Kind::Packet(Meta {
                start: start_in(epb.data, base),
                caplen,
                ts_us: ts_to_us(ts, iface.units_per_sec, iface.offset_secs),
                link: iface.link,
                interface: epb.if_id,
                orig_len: epb.origlen,
            })
        }
        PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
            let Some(iface) = interfaces.first() else {
                return Kind::Skip("unknown-interface");
            };
            // SPB: captured length is min(orig_len, snaplen); the rest is padding.
            let mut caplen = (spb.origlen as usize).min(spb.data.len());
            if iface.snaplen > 0 {
                caplen = caplen.min(iface.snaplen as usize);
            }
            Kind::Packet(Meta {
                start: start_in(spb.data, base),
                caplen,
                // SPBs carry no timestamp.
                ts_us: 0,
                link: iface.link,
                interface: 0,
                orig_len: spb.origlen,
            })
        }
        PcapBlockOwned::NG(_) => Kind::Other,
    }
}

/// Units per second of a pcapng `if_tsresol` byte: 10^n, or 2^n when the top bit is set.
/// Ours because pcap-parser 0.17's `ts_resolution` compares the byte with the top bit still
/// set and so rejects every binary resolution. `None` when it does not fit in a u64 (an
/// unrepresentable value keeps µs, so times stay plausible).
fn ts_resolution(raw: u8) -> Option<u64> {
    let n = u32::from(raw & 0x7f);
    if raw & 0x80 == 0 {
        10u64.checked_pow(n)
    } else {
        1u64.checked_shl(n).filter(|_| n < 64)
    }
}

/// pcapng timestamp units → µs since the epoch, saturating.
fn ts_to_us(ts: u64, units_per_sec: u64, offset_secs: i64) -> i64 {
    let us = i128::from(ts) * 1_000_000 / i128::from(units_per_sec.max(1))
        + i128::from(offset_secs) * 1_000_000;
    i64::try_from(us).unwrap_or(if us < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_every_magic() {
        for m in PCAP_MAGICS.iter().chain(PCAP_MODIFIED_MAGICS.iter()) {
            assert_eq!(sniff(m), Some(CaptureFormat::Pcap));
        }
        let mut shb = vec![0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0];
        shb.extend_from_slice(&[0x4d, 0x3c, 0x2b, 0x1a]);
        assert!(looks_like_pcap(&shb));
        shb[8] = 0;
        assert!(
            !looks_like_pcap(&shb),
            "an SHB type needs a valid byte-order magic"
        );
        assert!(!looks_like_pcap(b"#separator \\x09"));
        assert!(!looks_like_pcap(&[0xd4, 0xc3]));
    }

    #[test]
    fn pcapng_resolutions_convert_to_micros() {
        assert_eq!(
            ts_to_us(1_500_000_000_123_456, 1_000_000, 0),
            1_500_000_000_123_456
        );
        assert_eq!(
            ts_to_us(1_500_000_000_123_456_789, 1_000_000_000, 0),
            1_500_000_000_123_456
        );
        // 2^-10 s units: 1024 units = 1 s.
        assert_eq!(ts_to_us(2048, 1024, 10), 12_000_000);
        assert_eq!(ts_to_us(u64::MAX, 1, i64::MAX), i64::MAX);
        assert_eq!(ts_resolution(6), Some(1_000_000));
        assert_eq!(ts_resolution(9), Some(1_000_000_000));
        assert_eq!(ts_resolution(0x80 | 10), Some(1024));
        assert_eq!(ts_resolution(20), None);
        assert_eq!(ts_resolution(0x80 | 64), None);
    }
}
