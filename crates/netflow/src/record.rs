//! The decoded record: one uni-directional flow (or an RFC 5103 bi-flow) as an exporter
//! reported it, with sampling already applied.

use sekisho_event::Timestamp;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Most enterprise-specific fields kept per record; further ones are skipped (and counted).
pub const MAX_ENTERPRISE_FIELDS: usize = 16;
/// Longest enterprise-specific value kept; longer values are cut (the field is still kept).
pub const MAX_ENTERPRISE_VALUE: usize = 64;

/// IANA private enterprise number that RFC 5103 uses for reverse information elements.
pub const REVERSE_PEN: u32 = 29305;

/// Export protocol version of a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// NetFlow v5: fixed 48-byte records, IPv4 only.
    V5,
    /// NetFlow v9 (RFC 3954): templates, times relative to the exporter's uptime.
    V9,
    /// IPFIX (RFC 7011), version number 10.
    Ipfix,
}

impl Version {
    /// The number in the datagram header (5, 9 or 10).
    pub fn number(self) -> u16 {
        match self {
            Version::V5 => 5,
            Version::V9 => 9,
            Version::Ipfix => 10,
        }
    }

    /// From the header's version number.
    pub fn from_number(n: u16) -> Option<Self> {
        match n {
            5 => Some(Version::V5),
            9 => Some(Version::V9),
            10 => Some(Version::Ipfix),
            _ => None,
        }
    }
}

/// An enterprise-specific (or unknown vendor) field kept by number, value as sent
/// (network byte order), cut at [`MAX_ENTERPRISE_VALUE`] bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnterpriseField {
    /// Private enterprise number (0 for NetFlow v9 vendor fields with ids ≥ 32768).
    pub enterprise: u32,
    /// Information element id (without the enterprise bit).
    pub id: u16,
    /// The value's bytes (at most [`MAX_ENTERPRISE_VALUE`]).
    pub value: Vec<u8>,
}

/// Counters of the reverse direction of an RFC 5103 bi-flow (or of a Cisco ASA NSEL record,
/// whose responder counters are the same idea).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReverseCounters {
    /// Octets from destination to source, sampling applied.
    pub bytes: u64,
    /// Packets from destination to source, sampling applied.
    pub packets: u64,
    /// Octets as the exporter counted them (before sampling is applied).
    pub raw_bytes: u64,
    /// Packets as the exporter counted them.
    pub raw_packets: u64,
    /// TCP flags seen from destination to source (0 when not given).
    pub tcp_flags: u16,
}

/// One flow record as an exporter reported it.
///
/// Byte counts are IP-layer octets (headers included), as NetFlow and IPFIX define them;
/// Zeek's `orig_bytes` count payload only, so the two differ by the headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowRecord {
    /// Who sent the datagram (as the I/O shell gave it).
    pub exporter: SocketAddr,
    /// Protocol of the datagram that carried the record.
    pub version: Version,
    /// IPFIX observation domain, NetFlow v9 source id, or v5 `engine_type << 8 | engine_id`.
    pub domain: u32,
    /// Template the record was decoded with (0 for v5).
    pub template_id: u16,
    /// Time the datagram was exported (from its header).
    pub export_time: Timestamp,
    /// First packet of the flow, when the record says (absolute UTC).
    pub start: Option<Timestamp>,
    /// Last packet of the flow, when the record says.
    pub end: Option<Timestamp>,
    pub src_ip: IpAddr,
    pub dst_ip: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    /// IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6 ...).
    pub protocol: u8,
    /// Octets from source to destination, multiplied by the sampling interval.
    pub bytes: u64,
    /// Packets from source to destination, multiplied by the sampling interval.
    pub packets: u64,
    /// Octets as the exporter counted them.
    pub raw_bytes: u64,
    /// Packets as the exporter counted them.
    pub raw_packets: u64,
    /// The sampling interval applied (1 = not sampled or unknown).
    pub sampling_interval: u32,
    /// Cumulative TCP flags (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10 ...).
    pub tcp_flags: u16,
    /// Reverse-direction counters of a bi-flow record.
    pub reverse: Option<ReverseCounters>,
    /// SNMP index of the input interface (0 when not given).
    pub ingress_if: u32,
    /// SNMP index of the output interface (0 when not given).
    pub egress_if: u32,
    /// Enterprise-specific fields, at most [`MAX_ENTERPRISE_FIELDS`].
    pub enterprise: Vec<EnterpriseField>,
}

impl FlowRecord {
    /// A record with every field unset, for builders and tests.
    pub fn empty(exporter: SocketAddr, version: Version) -> Self {
        Self {
            exporter,
            version,
            domain: 0,
            template_id: 0,
            export_time: Timestamp::default(),
            start: None,
            end: None,
            src_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            dst_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            src_port: 0,
            dst_port: 0,
            protocol: 0,
            bytes: 0,
            packets: 0,
            raw_bytes: 0,
            raw_packets: 0,
            sampling_interval: 1,
            tcp_flags: 0,
            reverse: None,
            ingress_if: 0,
            egress_if: 0,
            enterprise: Vec::new(),
        }
    }

    /// Start of the flow, or the export time when the record gives none.
    pub fn start_or_export(&self) -> Timestamp {
        self.start.or(self.end).unwrap_or(self.export_time)
    }

    /// End of the flow, or its start, or the export time.
    pub fn end_or_export(&self) -> Timestamp {
        self.end.or(self.start).unwrap_or(self.export_time)
    }

    /// The kept enterprise field with this number, if any.
    pub fn enterprise_field(&self, enterprise: u32, id: u16) -> Option<&EnterpriseField> {
        self.enterprise
            .iter()
            .find(|f| f.enterprise == enterprise && f.id == id)
    }
}
