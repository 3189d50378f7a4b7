//! Information elements the decoder understands, and what it does with each.
//!
//! Numbers are IANA's IPFIX registry (RFC 7012 and later), which NetFlow v9 shares for
//! everything below 128 and for the Cisco NSEL ids used here.

use crate::record::{REVERSE_PEN, Version};

/// Variable length marker in an IPFIX field specifier (RFC 7011 §7).
pub(crate) const VARLEN: u16 = 0xFFFF;

/// What the decoder does with a field of a template. Decided once per template, so the
/// per-record loop is one `match` on a small enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Skip,
    Bytes,
    Packets,
    BytesTotal,
    PacketsTotal,
    RevBytes,
    RevPackets,
    RevBytesTotal,
    RevPacketsTotal,
    RevTcpFlags,
    InitiatorBytes,
    ResponderBytes,
    InitiatorPackets,
    ResponderPackets,
    Proto,
    TcpFlags,
    SrcPort,
    DstPort,
    SrcV4,
    DstV4,
    SrcV6,
    DstV6,
    Ingress,
    Egress,
    IcmpTypeCode,
    /// flowStartSysUpTime (22) / flowEndSysUpTime (21): ms since the exporter booted.
    UptimeStart,
    UptimeEnd,
    StartSec,
    EndSec,
    StartMs,
    EndMs,
    /// NTP-format timestamps (154..157).
    StartNtp,
    EndNtp,
    StartDeltaUs,
    EndDeltaUs,
    /// samplingInterval (34) and samplerRandomInterval (50): "1 out of N".
    SamplingInterval,
    /// samplerId (48) and selectorId (302).
    SamplerId,
    PacketInterval,
    PacketSpace,
    SamplingSize,
    SamplingPopulation,
    SystemInitMs,
    /// Enterprise-specific field kept by number.
    Enterprise,
}

/// The action for a field. `scope` fields of NetFlow v9 options templates use their own
/// numbering (1 system, 2 interface ...), so they are never read as flow fields.
pub(crate) fn action_for(id: u16, enterprise: u32, version: Version, v9_scope: bool) -> Action {
    if v9_scope {
        return Action::Skip;
    }
    if enterprise == REVERSE_PEN {
        return match id {
            1 => Action::RevBytes,
            2 => Action::RevPackets,
            85 => Action::RevBytesTotal,
            86 => Action::RevPacketsTotal,
            6 => Action::RevTcpFlags,
            _ => Action::Enterprise,
        };
    }
    if enterprise != 0 {
        return Action::Enterprise;
    }
    if version == Version::V9 && id >= 0x8000 {
        return Action::Enterprise;
    }
    match id {
        1 => Action::Bytes,
        2 => Action::Packets,
        85 => Action::BytesTotal,
        86 => Action::PacketsTotal,
        4 => Action::Proto,
        6 => Action::TcpFlags,
        7 => Action::SrcPort,
        11 => Action::DstPort,
        8 => Action::SrcV4,
        12 => Action::DstV4,
        27 => Action::SrcV6,
        28 => Action::DstV6,
        10 => Action::Ingress,
        14 => Action::Egress,
        32 | 139 => Action::IcmpTypeCode,
        22 => Action::UptimeStart,
        21 => Action::UptimeEnd,
        150 => Action::StartSec,
        151 => Action::EndSec,
        152 => Action::StartMs,
        153 => Action::EndMs,
        154 | 156 => Action::StartNtp,
        155 | 157 => Action::EndNtp,
        158 => Action::StartDeltaUs,
        159 => Action::EndDeltaUs,
        34 | 50 => Action::SamplingInterval,
        48 | 302 => Action::SamplerId,
        305 => Action::PacketInterval,
        306 => Action::PacketSpace,
        309 => Action::SamplingSize,
        310 => Action::SamplingPopulation,
        160 => Action::SystemInitMs,
        231 => Action::InitiatorBytes,
        232 => Action::ResponderBytes,
        298 => Action::InitiatorPackets,
        299 => Action::ResponderPackets,
        _ => Action::Skip,
    }
}

/// Unsigned big-endian integer of 1..=8 bytes (reduced-size encoding, RFC 7011 §6.2).
/// Longer values keep their last 8 bytes; an empty slice is 0.
#[inline]
pub(crate) fn be_uint(b: &[u8]) -> u64 {
    // The common widths without a loop: this is the decoder's innermost call.
    match *b {
        [a] => return u64::from(a),
        [a, b] => return u64::from(u16::from_be_bytes([a, b])),
        [a, b, c, d] => return u64::from(u32::from_be_bytes([a, b, c, d])),
        [a, b, c, d, e, f, g, h] => return u64::from_be_bytes([a, b, c, d, e, f, g, h]),
        _ => {}
    }
    let tail = b.get(b.len().saturating_sub(8)..).unwrap_or(&[]);
    let mut v = 0u64;
    for &x in tail {
        v = (v << 8) | u64::from(x);
    }
    v
}

#[inline]
pub(crate) fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

#[inline]
pub(crate) fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduced_size_integers() {
        assert_eq!(be_uint(&[]), 0);
        assert_eq!(be_uint(&[1, 2]), 0x0102);
        assert_eq!(be_uint(&[0, 0, 0, 0, 0, 0, 0, 1, 2]), 0x0102);
        assert_eq!(u16_at(&[1], 0), None);
        assert_eq!(u32_at(&[0, 0, 0, 1, 9], 1), Some(0x0000_0109));
    }

    #[test]
    fn reverse_elements_map_to_reverse_counters() {
        assert_eq!(
            action_for(1, REVERSE_PEN, Version::Ipfix, false),
            Action::RevBytes
        );
        assert_eq!(action_for(1, 9, Version::Ipfix, false), Action::Enterprise);
        assert_eq!(action_for(1, 0, Version::V9, true), Action::Skip);
        assert_eq!(action_for(40000, 0, Version::V9, false), Action::Enterprise);
    }
}
