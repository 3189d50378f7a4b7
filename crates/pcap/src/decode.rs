//! Packet decoder: link layer → IP → transport, pure over one captured frame.
//!
//! Our own code rather than `etherparse`: it has to read Linux cooked capture v2 and BSD
//! loopback (etherparse 0.21 reads neither), any stack of 802.1Q / 802.1ad / 0x9100 tags up
//! to [`MAX_VLAN_DEPTH`], give the fragment id and offset of IPv4 and IPv6 fragments (the
//! flow table's reassembly key), and say at which byte a truncated header stops. It needs
//! no allocation per packet: [`Packet`] is a small `Copy`-like view that borrows the UDP
//! payload from the frame. The tests build packets with etherparse's writer, so the two
//! implementations check each other.
//!
//! Nothing here indexes untrusted data directly: every read goes through [`Cursor`], which
//! returns an error naming the byte offset where the frame ran out.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Most VLAN tags read from one frame (QinQ is 2; more is hostile or exotic).
pub const MAX_VLAN_DEPTH: usize = 4;
/// Most IPv6 extension headers followed before giving up on a packet.
pub const MAX_IPV6_EXT_HEADERS: usize = 8;

/// IP protocol numbers the decoder understands.
pub mod ip_proto {
    /// ICMP for IPv4.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// ICMP for IPv6.
    pub const ICMPV6: u8 = 58;
}

/// TCP flag bits as they appear in byte 13 of the TCP header.
pub mod tcp_flags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronise sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field significant.
    pub const ACK: u8 = 0x10;
}

/// The link-layer header type of a capture or pcapng interface (LINKTYPE_* values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LinkType {
    /// BSD loopback (`LINKTYPE_NULL`, 0): 4-byte address family in the capturing host's byte order.
    Null,
    /// Ethernet II (`LINKTYPE_ETHERNET`, 1), with 802.1Q / QinQ tags.
    Ethernet,
    /// Raw IP, version from the first nibble (`LINKTYPE_RAW`, 101; also DLT 12 and 14).
    Raw,
    /// OpenBSD loopback (`LINKTYPE_LOOP`, 108): address family in network byte order.
    Loop,
    /// Linux cooked capture v1 (`LINKTYPE_LINUX_SLL`, 113).
    LinuxSll,
    /// Raw IPv4 (`LINKTYPE_IPV4`, 228).
    Ipv4,
    /// Raw IPv6 (`LINKTYPE_IPV6`, 229).
    Ipv6,
    /// Linux cooked capture v2 (`LINKTYPE_LINUX_SLL2`, 276).
    LinuxSll2,
    /// Any other link type: frames are counted, not decoded.
    Other(u32),
}

impl LinkType {
    /// From the LINKTYPE number in a pcap header or pcapng IDB.
    pub fn from_linktype(n: u32) -> Self {
        match n {
            0 => Self::Null,
            1 => Self::Ethernet,
            101 | 12 | 14 => Self::Raw,
            108 => Self::Loop,
            113 => Self::LinuxSll,
            228 => Self::Ipv4,
            229 => Self::Ipv6,
            276 => Self::LinuxSll2,
            n => Self::Other(n),
        }
    }

    /// Stable short name, used as the key of per-link counters.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Ethernet => "ethernet",
            Self::Raw => "raw",
            Self::Loop => "loop",
            Self::LinuxSll => "linux-sll",
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
            Self::LinuxSll2 => "linux-sll2",
            Self::Other(_) => "other",
        }
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Other(n) => write!(f, "linktype-{n}"),
            _ => f.write_str(self.as_str()),
        }
    }
}

/// VLAN ids of a frame, outermost first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VlanIds {
    ids: [u16; MAX_VLAN_DEPTH],
    len: u8,
}

impl VlanIds {
    /// The ids, outermost (service tag in QinQ) first.
    pub fn as_slice(&self) -> &[u16] {
        &self.ids[..usize::from(self.len).min(MAX_VLAN_DEPTH)]
    }

    /// Outermost id, if the frame was tagged.
    pub fn outer(&self) -> Option<u16> {
        self.as_slice().first().copied()
    }

    fn push(&mut self, id: u16) -> bool {
        match self.ids.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = id;
                self.len += 1;
                true
            }
            None => false,
        }
    }
}

/// Where an IP packet sits in a fragmented datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fragment {
    /// IPv4 identification (16 bits) or IPv6 fragment header identification.
    pub id: u32,
    /// Offset of this fragment's data in the datagram, in bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
}

impl Fragment {
    /// The first fragment carries the transport header.
    pub fn is_first(&self) -> bool {
        self.offset == 0
    }
}

/// One decoded IP packet: what the flow table and other consumers need, borrowed from the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Capture time, microseconds since the epoch.
    pub ts_us: i64,
    /// Link type of the frame.
    pub link: LinkType,
    /// VLAN tags, outermost first.
    pub vlans: VlanIds,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol number of the transport (after IPv6 extension headers).
    pub proto: u8,
    /// Source port; for ICMP/ICMPv6 the message type. 0 when there is no transport header.
    pub src_port: u16,
    /// Destination port; for ICMP/ICMPv6 the message code. 0 when there is no transport header.
    pub dst_port: u16,
    /// True when ports (or ICMP type/code) were read: false for non-first fragments and
    /// protocols without ports.
    pub has_ports: bool,
    /// TCP flags (byte 13 of the header); 0 for other protocols.
    pub tcp_flags: u8,
    /// IP-layer length from the header: IPv4 total length, IPv6 40 + payload length.
    pub ip_total_len: u32,
    /// Transport payload length implied by the IP lengths (TCP/UDP/ICMP header removed;
    /// the whole fragment for non-first fragments). Not limited by the snap length.
    pub payload_len: u32,
    /// Length of the frame on the wire (pcap `orig_len`).
    pub frame_len: u32,
    /// Captured UDP payload (possibly shorter than `payload_len` when the capture was cut).
    pub udp_payload: Option<&'a [u8]>,
    /// Fragment position when the packet is an IP fragment.
    pub fragment: Option<Fragment>,
}

/// A frame that carries no IP packet (ARP, LLDP, STP, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotIp {
    /// EtherType (or the SLL protocol field, or the loopback address family) that was seen.
    pub ethertype: u32,
}

/// What a frame decoded to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// An IPv4 or IPv6 packet.
    Ip(Packet<'a>),
    /// A frame without IP.
    NotIp(NotIp),
}

/// Why a frame could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DecodeErrorKind {
    /// The captured bytes end inside a header.
    Truncated,
    /// A header field is impossible (IPv4 IHL < 5, total length shorter than the header, ...).
    Malformed,
    /// More VLAN tags than [`MAX_VLAN_DEPTH`] or IPv6 extension headers than [`MAX_IPV6_EXT_HEADERS`].
    TooDeep,
    /// A link type this decoder does not read.
    UnsupportedLink,
}

impl DecodeErrorKind {
    /// Stable name used in counters.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Truncated => "truncated",
            Self::Malformed => "malformed",
            Self::TooDeep => "too-deep",
            Self::UnsupportedLink => "unsupported-link",
        }
    }
}

/// A frame that could not be decoded, with the layer and byte offset (within the frame) where
/// decoding stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{layer}: {} at frame byte {offset}", kind.as_str())]
pub struct DecodeError {
    /// What went wrong.
    pub kind: DecodeErrorKind,
    /// Which header: `ethernet`, `vlan`, `sll`, `ipv4`, `ipv6`, `tcp`, ...
    pub layer: &'static str,
    /// Byte offset in the frame where the problem is.
    pub offset: usize,
}

/// Bounds-checked reads over one frame.
struct Cursor<'a> {
    data: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn bytes(&self, at: usize, n: usize, layer: &'static str) -> Result<&'a [u8], DecodeError> {
        at.checked_add(n)
            .and_then(|end| self.data.get(at..end))
            .ok_or(DecodeError {
                kind: DecodeErrorKind::Truncated,
                layer,
                offset: self.data.len().min(at),
            })
    }
    fn u8(&self, at: usize, layer: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(at, layer)?[0])
    }
    fn be16(&self, at: usize, layer: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(at, layer)?))
    }
    fn array<const N: usize>(
        &self,
        at: usize,
        layer: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        let b = self.bytes(at, N, layer)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }
}

fn malformed(layer: &'static str, offset: usize) -> DecodeError {
    DecodeError {
        kind: DecodeErrorKind::Malformed,
        layer,
        offset,
    }
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

/// Decodes one captured frame.
///
/// `frame_len` is the length on the wire (pcap `orig_len`), kept in the view for frame-byte
/// counting; `data` is what was captured (maybe cut by the snap length).
pub fn decode_frame(
    link: LinkType,
    ts_us: i64,
    frame_len: u32,
    data: &[u8],
) -> Result<Decoded<'_>, DecodeError> {
    let c = Cursor { data };
    let mut vlans = VlanIds::default();
    let (ip_at, version) = match link {
        LinkType::Ethernet => {
            let ethertype = c.be16(12, "ethernet")?;
            match ether_payload(&c, 14, ethertype, &mut vlans)? {
                Some(x) => x,
                None => return Ok(not_ip(ethertype)),
            }
        }
        LinkType::LinuxSll => {
            // pkttype(2) arphrd(2) addrlen(2) addr(8) protocol(2)
            let proto = c.be16(14, "sll")?;
            match ether_payload(&c, 16, proto, &mut vlans)? {
                Some(x) => x,
                None => return Ok(not_ip(proto)),
            }
        }
        LinkType::LinuxSll2 => {
            // protocol(2) reserved(2) ifindex(4) arphrd(2) pkttype(1) addrlen(1) addr(8)
            let proto = c.be16(0, "sll2")?;
            c.bytes(0, 20, "sll2")?;
            match ether_payload(&c, 20, proto, &mut vlans)? {
                Some(x) => x,
                None => return Ok(not_ip(proto)),
            }
        }
        LinkType::Null | LinkType::Loop => {
            let raw = c.array::<4>(0, "loopback")?;
            // DLT_NULL is in the capturing host's byte order: accept either.
            let fam = if link == LinkType::Loop {
                u32::from_be_bytes(raw)
            } else {
                let le = u32::from_le_bytes(raw);
                if le <= 0xffff {
                    le
                } else {
                    u32::from_be_bytes(raw)
                }
            };
            match fam {
                2 => (4, 4),
                // AF_INET6 differs by OS: 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS), 10 (Linux).
                10 | 24 | 28 | 30 => (4, 6),
                _ => return Ok(Decoded::NotIp(NotIp { ethertype: fam })),
            }
        }
        LinkType::Raw => (0, c.u8(0, "ip")? >> 4),
        LinkType::Ipv4 => (0, 4),
        LinkType::Ipv6 => (0, 6),
        LinkType::Other(_) => {
            return Err(DecodeError {
                kind: DecodeErrorKind::UnsupportedLink,
                layer: "link",
                offset: 0,
            });
        }
    };
    let mut p = Packet {
        ts_us,
        link,
        vlans,
        src: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        dst: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        proto: 0,
        src_port: 0,
        dst_port: 0,
        has_ports: false,
        tcp_flags: 0,
        ip_total_len: 0,
        payload_len: 0,
        frame_len,
        udp_payload: None,
        fragment: None,
    };
    let (l4_at, l4_len) = match version {
        4 => ipv4(&c, ip_at, frame_len, &mut p)?,
        6 => ipv6(&c, ip_at, &mut p)?,
        _ => return Err(malformed("ip", ip_at)),
    };
    if p.fragment.is_some_and(|f| !f.is_first()) {
        // No transport header here: the whole fragment is payload of the transport.
        p.payload_len = l4_len;
        return Ok(Decoded::Ip(p));
    }
    transport(&c, l4_at, l4_len, &mut p)?;
    Ok(Decoded::Ip(p))
}

fn not_ip<'a>(ethertype: u16) -> Decoded<'a> {
    Decoded::NotIp(NotIp {
        ethertype: u32::from(ethertype),
    })
}

/// Follows VLAN tags from an EtherType at `at`; returns the IP header offset and version, or
/// `None` for a non-IP payload.
fn ether_payload(
    c: &Cursor<'_>,
    mut at: usize,
    mut ethertype: u16,
    vlans: &mut VlanIds,
) -> Result<Option<(usize, u8)>, DecodeError> {
    loop {
        match ethertype {
            ETHERTYPE_IPV4 => return Ok(Some((at, 4))),
            ETHERTYPE_IPV6 => return Ok(Some((at, 6))),
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD => {
                let tci = c.be16(at, "vlan")?;
                if !vlans.push(tci & 0x0fff) {
                    return Err(DecodeError {
                        kind: DecodeErrorKind::TooDeep,
                        layer: "vlan",
                        offset: at,
                    });
                }
                ethertype = c.be16(at + 2, "vlan")?;
                at += 4;
            }
            _ => return Ok(None),
        }
    }
}

/// Returns (transport offset, transport length from the IP header).
fn ipv4(
    c: &Cursor<'_>,
    at: usize,
    frame_len: u32,
    p: &mut Packet<'_>,
) -> Result<(usize, u32), DecodeError> {
    const L: &str = "ipv4";
    let h = c.array::<20>(at, L)?;
    if h[0] >> 4 != 4 {
        return Err(malformed(L, at));
    }
    let ihl = usize::from(h[0] & 0x0f) * 4;
    if ihl < 20 {
        return Err(malformed(L, at));
    }
    let mut total = u32::from(u16::from_be_bytes([h[2], h[3]]));
    if total == 0 {
        // TCP segmentation offload: the host captured its own segment before the NIC split
        // it and filled in the length. Like Wireshark, take the length from the frame.
        total = frame_len.saturating_sub(at as u32);
    }
    if total < ihl as u32 {
        return Err(malformed(L, at + 2));
    }
    // Options: must be captured, even if ignored, for the transport offset to be right.
    c.bytes(at, ihl, L)?;
    let id = u16::from_be_bytes([h[4], h[5]]);
    let ff = u16::from_be_bytes([h[6], h[7]]);
    let more = ff & 0x2000 != 0;
    let offset = u32::from(ff & 0x1fff) * 8;
    if more || offset != 0 {
        p.fragment = Some(Fragment {
            id: u32::from(id),
            offset,
            more,
        });
    }
    p.proto = h[9];
    p.src = IpAddr::V4(Ipv4Addr::new(h[12], h[13], h[14], h[15]));
    p.dst = IpAddr::V4(Ipv4Addr::new(h[16], h[17], h[18], h[19]));
    p.ip_total_len = total;
    Ok((at + ihl, total - ihl as u32))
}

fn ipv6(c: &Cursor<'_>, at: usize, p: &mut Packet<'_>) -> Result<(usize, u32), DecodeError> {
    const L: &str = "ipv6";
    let h = c.array::<40>(at, L)?;
    if h[0] >> 4 != 6 {
        return Err(malformed(L, at));
    }
    let mut payload = u32::from(u16::from_be_bytes([h[4], h[5]]));
    if payload == 0 && p.frame_len > at as u32 + 40 {
        // Jumbogram or segmentation offload: the length comes from the frame.
        payload = p.frame_len - at as u32 - 40;
    }
    let mut next = h[6];
    let mut src = [0u8; 16];
    src.copy_from_slice(&h[8..24]);
    let mut dst = [0u8; 16];
    dst.copy_from_slice(&h[24..40]);
    p.src = IpAddr::V6(Ipv6Addr::from(src));
    p.dst = IpAddr::V6(Ipv6Addr::from(dst));
    p.ip_total_len = 40 + payload;
    let mut off = at + 40;
    let mut remaining = payload;
    for _ in 0..=MAX_IPV6_EXT_HEADERS {
        let ext_len = match next {
            // Hop-by-hop, routing, destination options, mobility, HIP, shim6: (len + 1) * 8.
            0 | 43 | 60 | 135 | 139 | 140 => (usize::from(c.u8(off + 1, "ipv6-ext")?) + 1) * 8,
            // Authentication header: (len + 2) * 4.
            51 => (usize::from(c.u8(off + 1, "ipv6-ext")?) + 2) * 4,
            44 => {
                let f = c.array::<8>(off, "ipv6-frag")?;
                let fo = u16::from_be_bytes([f[2], f[3]]);
                let frag = Fragment {
                    id: u32::from_be_bytes([f[4], f[5], f[6], f[7]]),
                    offset: u32::from(fo >> 3) * 8,
                    more: fo & 1 != 0,
                };
                // An atomic fragment (offset 0, no more) is a whole datagram (RFC 6946).
                if frag.more || frag.offset != 0 {
                    p.fragment = Some(frag);
                }
                8
            }
            _ => {
                p.proto = next;
                return Ok((off, remaining));
            }
        };
        let Ok(ext_len32) = u32::try_from(ext_len) else {
            return Err(malformed("ipv6-ext", off));
        };
        remaining = remaining
            .checked_sub(ext_len32)
            .ok_or(malformed("ipv6-ext", off))?;
        next = c.u8(off, "ipv6-ext")?;
        off += ext_len;
        if p.fragment.is_some_and(|f| !f.is_first()) {
            // Later fragments carry no further headers: what follows is data.
            p.proto = next;
            return Ok((off, remaining));
        }
    }
    Err(DecodeError {
        kind: DecodeErrorKind::TooDeep,
        layer: "ipv6-ext",
        offset: off,
    })
}

fn transport<'a>(
    c: &Cursor<'a>,
    at: usize,
    len: u32,
    p: &mut Packet<'a>,
) -> Result<(), DecodeError> {
    match p.proto {
        ip_proto::TCP => {
            const L: &str = "tcp";
            let h = c.array::<14>(at, L)?;
            p.src_port = u16::from_be_bytes([h[0], h[1]]);
            p.dst_port = u16::from_be_bytes([h[2], h[3]]);
            p.has_ports = true;
            let hlen = u32::from(h[12] >> 4) * 4;
            if hlen < 20 || hlen > len {
                return Err(malformed(L, at + 12));
            }
            p.tcp_flags = h[13];
            p.payload_len = len - hlen;
        }
        ip_proto::UDP => {
            const L: &str = "udp";
            let h = c.array::<8>(at, L)?;
            p.src_port = u16::from_be_bytes([h[0], h[1]]);
            p.dst_port = u16::from_be_bytes([h[2], h[3]]);
            p.has_ports = true;
            if len < 8 {
                return Err(malformed(L, at + 4));
            }
            p.payload_len = len - 8;
            let start = at + 8;
            let want = usize::try_from(p.payload_len).unwrap_or(usize::MAX);
            let end = start.saturating_add(want).min(c.data.len());
            p.udp_payload = Some(c.data.get(start..end).unwrap_or(&[]));
        }
        ip_proto::ICMP | ip_proto::ICMPV6 => {
            let layer: &str = if p.proto == ip_proto::ICMP {
                "icmp"
            } else {
                "icmpv6"
            };
            let h = c.array::<2>(at, layer)?;
            p.src_port = u16::from(h[0]);
            p.dst_port = u16::from(h[1]);
            p.has_ports = true;
            if len < 4 {
                return Err(malformed(layer, at));
            }
            // Zeek counts ICMP payload after the 8-byte header (type, code, checksum and
            // the 4 type-specific bytes such as echo id/sequence).
            p.payload_len = len.saturating_sub(8);
        }
        _ => p.payload_len = len,
    }
    Ok(())
}
