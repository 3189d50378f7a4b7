//! A small NetFlow v9 / IPFIX exporter: builds template and data datagrams from
//! [`FlowRecord`]s. Used by tests, the benchmark and load generators.
//!
//! Two templates are used: [`TEMPLATE_V4`] and [`TEMPLATE_V6`]. v9 times are written as
//! uptime milliseconds against a boot time fixed at the first datagram (ten days before
//! it), so flows up to ten days older than their export round-trip exactly; IPFIX times are
//! `flowStartMilliseconds`/`flowEndMilliseconds`. Counters are written raw (the
//! record's `raw_bytes`/`raw_packets`), unsampled.
//!
//! ```
//! use sekisho_netflow::{Decoder, FlowRecord, Version, encode::Encoder};
//! use std::net::SocketAddr;
//! let exporter: SocketAddr = "192.0.2.1:2055".parse().unwrap();
//! let mut rec = FlowRecord::empty(exporter, Version::Ipfix);
//! rec.src_ip = "10.0.0.1".parse().unwrap();
//! rec.dst_ip = "10.0.1.1".parse().unwrap();
//! rec.dst_port = 445;
//! rec.protocol = 6;
//! rec.raw_bytes = 1200;
//! let mut enc = Encoder::ipfix(7);
//! let mut dec = Decoder::new();
//! let mut out = Vec::new();
//! for d in enc.datagrams(1_700_000_000, &[rec]) {
//!     dec.decode(exporter, &d, &mut out).unwrap();
//! }
//! assert_eq!(out[0].dst_port, 445);
//! assert_eq!(out[0].bytes, 1200);
//! ```

use crate::record::{FlowRecord, Version};
use std::net::IpAddr;

/// Template id of IPv4 records.
pub const TEMPLATE_V4: u16 = 256;
/// Template id of IPv6 records.
pub const TEMPLATE_V6: u16 = 257;
/// Records per data datagram in [`Encoder::datagrams`]: about what routers send in a
/// 1500-byte MTU.
pub const RECORDS_PER_DATAGRAM: usize = 30;

const TEN_DAYS_MS: i64 = 10 * 86_400_000;

/// Builds v9 or IPFIX datagrams for one exporter and observation domain.
#[derive(Clone, Debug)]
pub struct Encoder {
    ipfix: bool,
    domain: u32,
    sequence: u32,
    boot_ms: Option<i64>,
}

impl Encoder {
    /// A NetFlow v9 exporter with this source id.
    pub fn v9(source_id: u32) -> Self {
        Self {
            ipfix: false,
            domain: source_id,
            sequence: 0,
            boot_ms: None,
        }
    }

    /// An IPFIX exporter with this observation domain.
    pub fn ipfix(domain: u32) -> Self {
        Self {
            ipfix: true,
            ..Self::v9(domain)
        }
    }

    /// The protocol written.
    pub fn version(&self) -> Version {
        if self.ipfix {
            Version::Ipfix
        } else {
            Version::V9
        }
    }

    /// (id, length) of every field of a template.
    fn fields(&self, v6: bool) -> Vec<(u16, u16)> {
        let (src, dst, alen) = if v6 { (27, 28, 16) } else { (8, 12, 4) };
        let mut f = vec![
            (src, alen),
            (dst, alen),
            (7, 2),
            (11, 2),
            (4, 1),
            (6, 1),
            (1, 8),
            (2, 8),
            (10, 4),
            (14, 4),
        ];
        if self.ipfix {
            f.extend([(152, 8), (153, 8)]);
        } else {
            f.extend([(22, 4), (21, 4)]);
        }
        f
    }

    fn header(&mut self, export_secs: u32, count: u16, data_records: u32) -> Vec<u8> {
        let mut h = Vec::with_capacity(1500);
        let boot = *self
            .boot_ms
            .get_or_insert(i64::from(export_secs) * 1000 - TEN_DAYS_MS);
        if self.ipfix {
            h.extend_from_slice(&10u16.to_be_bytes());
            h.extend_from_slice(&0u16.to_be_bytes()); // length, set at the end
            h.extend_from_slice(&export_secs.to_be_bytes());
            h.extend_from_slice(&self.sequence.to_be_bytes());
            h.extend_from_slice(&self.domain.to_be_bytes());
            self.sequence = self.sequence.wrapping_add(data_records);
        } else {
            let uptime = (i64::from(export_secs) * 1000 - boot) as u32;
            h.extend_from_slice(&9u16.to_be_bytes());
            h.extend_from_slice(&count.to_be_bytes());
            h.extend_from_slice(&uptime.to_be_bytes());
            h.extend_from_slice(&export_secs.to_be_bytes());
            h.extend_from_slice(&self.sequence.to_be_bytes());
            h.extend_from_slice(&self.domain.to_be_bytes());
            self.sequence = self.sequence.wrapping_add(1);
        }
        h
    }

    fn close(&self, mut d: Vec<u8>) -> Vec<u8> {
        if self.ipfix {
            let len = (d.len().min(usize::from(u16::MAX)) as u16).to_be_bytes();
            d[2] = len[0];
            d[3] = len[1];
        }
        d
    }

    /// A datagram with both templates.
    pub fn templates(&mut self, export_secs: u32) -> Vec<u8> {
        let mut d = self.header(export_secs, 2, 0);
        let set_start = d.len();
        d.extend_from_slice(&(if self.ipfix { 2u16 } else { 0 }).to_be_bytes());
        d.extend_from_slice(&0u16.to_be_bytes());
        for (id, v6) in [(TEMPLATE_V4, false), (TEMPLATE_V6, true)] {
            let fields = self.fields(v6);
            d.extend_from_slice(&id.to_be_bytes());
            d.extend_from_slice(&(fields.len() as u16).to_be_bytes());
            for (fid, len) in fields {
                d.extend_from_slice(&fid.to_be_bytes());
                d.extend_from_slice(&len.to_be_bytes());
            }
        }
        let set_len = ((d.len() - set_start) as u16).to_be_bytes();
        d[set_start + 2] = set_len[0];
        d[set_start + 3] = set_len[1];
        self.close(d)
    }

    /// One data datagram holding `records` (keep them to about [`RECORDS_PER_DATAGRAM`]
    /// so the datagram stays under 64 KiB and a typical MTU).
    pub fn data(&mut self, export_secs: u32, records: &[FlowRecord]) -> Vec<u8> {
        let n = records.len().min(usize::from(u16::MAX));
        let mut d = self.header(export_secs, n as u16, n as u32);
        let boot = self.boot_ms.unwrap_or(0);
        let mut i = 0;
        while i < n {
            let v6 = records[i].src_ip.is_ipv6() || records[i].dst_ip.is_ipv6();
            let id = if v6 { TEMPLATE_V6 } else { TEMPLATE_V4 };
            let set_start = d.len();
            d.extend_from_slice(&id.to_be_bytes());
            d.extend_from_slice(&0u16.to_be_bytes());
            while i < n {
                let r = &records[i];
                if (r.src_ip.is_ipv6() || r.dst_ip.is_ipv6()) != v6 {
                    break;
                }
                put_ip(&mut d, r.src_ip, v6);
                put_ip(&mut d, r.dst_ip, v6);
                d.extend_from_slice(&r.src_port.to_be_bytes());
                d.extend_from_slice(&r.dst_port.to_be_bytes());
                d.push(r.protocol);
                d.push(r.tcp_flags as u8);
                d.extend_from_slice(&r.raw_bytes.to_be_bytes());
                d.extend_from_slice(&r.raw_packets.to_be_bytes());
                d.extend_from_slice(&r.ingress_if.to_be_bytes());
                d.extend_from_slice(&r.egress_if.to_be_bytes());
                let start_ms = r.start_or_export().as_micros().div_euclid(1000);
                let end_ms = r.end_or_export().as_micros().div_euclid(1000);
                if self.ipfix {
                    d.extend_from_slice(&(start_ms.max(0) as u64).to_be_bytes());
                    d.extend_from_slice(&(end_ms.max(0) as u64).to_be_bytes());
                } else {
                    d.extend_from_slice(&((start_ms - boot).max(0) as u32).to_be_bytes());
                    d.extend_from_slice(&((end_ms - boot).max(0) as u32).to_be_bytes());
                }
                i += 1;
            }
            let set_len = ((d.len() - set_start) as u16).to_be_bytes();
            d[set_start + 2] = set_len[0];
            d[set_start + 3] = set_len[1];
        }
        self.close(d)
    }

    /// The template datagram, then data datagrams of [`RECORDS_PER_DATAGRAM`] records.
    pub fn datagrams(&mut self, export_secs: u32, records: &[FlowRecord]) -> Vec<Vec<u8>> {
        let mut v = vec![self.templates(export_secs)];
        for chunk in records.chunks(RECORDS_PER_DATAGRAM) {
            v.push(self.data(export_secs, chunk));
        }
        v
    }
}

fn put_ip(d: &mut Vec<u8>, ip: IpAddr, v6: bool) {
    match (ip, v6) {
        (IpAddr::V4(a), false) => d.extend_from_slice(&a.octets()),
        (IpAddr::V4(a), true) => d.extend_from_slice(&a.to_ipv6_mapped().octets()),
        (IpAddr::V6(a), true) => d.extend_from_slice(&a.octets()),
        // Not reached: a record with an IPv6 address goes into the IPv6 template.
        (IpAddr::V6(_), false) => d.extend_from_slice(&[0; 4]),
    }
}
