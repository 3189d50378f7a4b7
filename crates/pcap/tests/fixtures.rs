//! Small captures written by hand or with etherparse's packet builder: link types, VLANs,
//! IPv6 extension headers, fragments, truncation, TCP states, timeouts, pcapng interfaces.

mod common;

use common::*;
use etherparse::PacketBuilder;
use etherparse::{LinuxSllPacketType, VlanId};
use proptest::prelude::*;
use sekisho_event::{ConnState, Proto, Service};
use sekisho_pcap::*;
use std::net::IpAddr;
use std::sync::Arc;

fn run(cap: &[u8], cfg: FlowConfig) -> (Vec<FlowRecord>, CaptureStats) {
    let mut pf = PcapFlows::new(cap, cfg).expect("capture opens");
    let flows: Vec<_> = pf.by_ref().collect();
    (flows, pf.stats().clone())
}

fn eth_pcap(pkts: &[(i64, Vec<u8>)]) -> Vec<u8> {
    let p: Vec<_> = pkts.iter().map(|(t, f)| (*t, f.clone(), None)).collect();
    pcap(1, false, false, &p)
}

fn ip(a: [u8; 4]) -> IpAddr {
    IpAddr::from(a)
}

const SEC: i64 = 1_000_000;

#[test]
fn tcp_handshake_data_and_fin_is_sf_with_all_three_byte_counts() {
    let pkts = vec![
        (T0, tcp(A, B, 50000, 445, "S", &[])),
        (T0 + 1000, tcp(B, A, 445, 50000, "SA", &[])),
        (T0 + 2000, tcp(A, B, 50000, 445, "A", &[])),
        (T0 + 3000, tcp(A, B, 50000, 445, "PA", &[7; 100])),
        (T0 + 4000, tcp(B, A, 445, 50000, "PA", &[8; 50])),
        (T0 + 5000, tcp(A, B, 50000, 445, "FA", &[])),
        (T0 + 6000, tcp(B, A, 445, 50000, "FA", &[])),
        (T0 + 7000, tcp(A, B, 50000, 445, "A", &[])),
    ];
    let (flows, st) = run(&eth_pcap(&pkts), FlowConfig::default());
    assert_eq!(flows.len(), 1, "final ACK stays in the closed flow");
    let f = &flows[0];
    assert_eq!(f.state, ConnState::SF);
    assert_eq!((f.orig, f.resp), ((ip(A), 50000), (ip(B), 445)));
    assert_eq!(f.orig_counts.pkts, 5);
    assert_eq!(f.resp_counts.pkts, 3);
    assert_eq!(f.orig_counts.payload_bytes, 100);
    assert_eq!(f.resp_counts.payload_bytes, 50);
    // 40 bytes of IPv4+TCP headers per packet, 14 more of Ethernet per frame.
    assert_eq!(f.orig_counts.ip_bytes, 5 * 40 + 100);
    assert_eq!(f.orig_counts.frame_bytes, 5 * 54 + 100);
    assert_eq!((f.start_us, f.end_us), (T0, T0 + 7000));
    assert_eq!(st.decoded, 8);
    let ev = f.to_event(&Arc::from("hq"));
    assert_eq!(ev.service, Service::Smb);
    assert_eq!(ev.proto, Proto::Tcp);
    assert_eq!(
        (ev.orig_bytes, ev.resp_bytes, ev.orig_pkts, ev.resp_pkts),
        (100, 50, 5, 3)
    );
    assert_eq!(ev.duration_us, 7000);
    assert_eq!(&*ev.sensor, "hq");
    let uid = ev.uid.as_str();
    assert!(uid.starts_with('C') && uid.len() == 18, "{uid}");
    assert_eq!(f.uid(), f.uid(), "deterministic");
}

#[test]
fn syn_alone_is_s0_and_syn_answered_by_rst_is_rej() {
    let pkts = vec![
        (T0, tcp(A, B, 40000, 22, "S", &[])),
        (T0 + SEC, tcp(A, B, 40000, 22, "S", &[])),
        (T0 + 2 * SEC, tcp(A, B, 40001, 23, "S", &[])),
        (T0 + 2 * SEC + 10, tcp(B, A, 23, 40001, "RA", &[])),
    ];
    let (flows, _) = run(&eth_pcap(&pkts), FlowConfig::default());
    let states: Vec<_> = flows
        .iter()
        .map(|f| (f.resp.1, f.state, f.orig_counts.pkts))
        .collect();
    assert_eq!(
        states,
        vec![(22, ConnState::S0, 2), (23, ConnState::REJ, 1)]
    );
}

#[test]
fn established_then_reset_by_either_side_is_rsto_or_rstr() {
    let mut pkts = Vec::new();
    for (i, (port, rst_from_orig)) in [(1u16, true), (2, false)].into_iter().enumerate() {
        let t = T0 + i as i64 * 10 * SEC;
        pkts.push((t, tcp(A, B, port, 80, "S", &[])));
        pkts.push((t + 1, tcp(B, A, 80, port, "SA", &[])));
        pkts.push((t + 2, tcp(A, B, port, 80, "A", &[])));
        pkts.push(if rst_from_orig {
            (t + 3, tcp(A, B, port, 80, "R", &[]))
        } else {
            (t + 3, tcp(B, A, 80, port, "R", &[]))
        });
    }
    let (flows, _) = run(&eth_pcap(&pkts), FlowConfig::default());
    let states: Vec<_> = flows.iter().map(|f| f.state).collect();
    assert_eq!(states, vec![ConnState::RSTO, ConnState::RSTR]);
    // The first ends by the close delay (5 s of packet time), the last at end of input.
    assert_eq!(flows[0].end, EndReason::Closed);
    assert_eq!(flows[1].end, EndReason::Flushed);
}

#[test]
fn syn_ack_seen_first_makes_its_receiver_the_originator() {
    let pkts = vec![
        (T0, tcp(B, A, 3389, 50000, "SA", &[])),
        (T0 + 10, tcp(A, B, 50000, 3389, "A", &[])),
    ];
    let (flows, _) = run(&eth_pcap(&pkts), FlowConfig::default());
    assert_eq!(flows.len(), 1);
    assert_eq!(
        (flows[0].orig, flows[0].resp),
        ((ip(A), 50000), (ip(B), 3389))
    );
    assert_eq!(flows[0].orig_counts.pkts, 1);
    assert_eq!(flows[0].resp_counts.pkts, 1);
    assert_eq!(flows[0].to_event(&Arc::from("s")).service, Service::Rdp);
}

#[test]
fn new_syn_after_close_starts_a_new_flow() {
    let mut pkts = Vec::new();
    for round in 0..2 {
        let t = T0 + round * SEC;
        pkts.push((t, tcp(A, B, 1234, 445, "S", &[])));
        pkts.push((t + 1, tcp(B, A, 445, 1234, "SA", &[])));
        pkts.push((t + 2, tcp(A, B, 1234, 445, "A", &[])));
        pkts.push((t + 3, tcp(A, B, 1234, 445, "FA", &[])));
        pkts.push((t + 4, tcp(B, A, 445, 1234, "FA", &[])));
    }
    let (flows, _) = run(&eth_pcap(&pkts), FlowConfig::default());
    assert_eq!(flows.len(), 2);
    assert_eq!(flows[0].end, EndReason::Reused);
    assert!(flows.iter().all(|f| f.state == ConnState::SF));
    assert_ne!(flows[0].uid(), flows[1].uid(), "uids differ by start time");
}

#[test]
fn idle_timeouts_are_per_protocol_and_configurable() {
    let pkts = vec![
        (T0, udp(A, B, 5000, 53, b"q")),
        (T0 + 61 * SEC, udp(A, B, 5000, 53, b"q")),
        (T0, tcp(A, B, 6000, 80, "PA", b"x")),
        (T0 + 240 * SEC, tcp(A, B, 6000, 80, "PA", b"x")),
    ];
    let mut sorted = pkts.clone();
    sorted.sort_by_key(|p| p.0);
    let (flows, _) = run(&eth_pcap(&sorted), FlowConfig::default());
    let udp_parts: Vec<_> = flows.iter().filter(|f| f.key.proto == 17).collect();
    let tcp_parts: Vec<_> = flows.iter().filter(|f| f.key.proto == 6).collect();
    assert_eq!(udp_parts.len(), 2, "UDP: 1 min idle timeout splits");
    assert_eq!(udp_parts[0].end, EndReason::Idle);
    assert_eq!(tcp_parts.len(), 1, "TCP: 5 min idle timeout keeps it whole");
    assert_eq!(tcp_parts[0].state, ConnState::OTH, "mid-stream pickup");

    let cfg = FlowConfig {
        udp_idle_us: 100 * SEC,
        tcp_idle_us: 10 * SEC,
        ..FlowConfig::default()
    };
    let (flows, _) = run(&eth_pcap(&sorted), cfg);
    assert_eq!(flows.iter().filter(|f| f.key.proto == 17).count(), 1);
    assert_eq!(flows.iter().filter(|f| f.key.proto == 6).count(), 2);
}

#[test]
fn active_timeout_cuts_long_flows_keeping_the_originator() {
    // One UDP packet each way every 30 s for 2.5 h.
    let mut pkts = Vec::new();
    for i in 0..300 {
        let t = T0 + i * 30 * SEC;
        pkts.push((t, udp(A, B, 7000, 514, b"log")));
        pkts.push((t + 1, udp(B, A, 514, 7000, b"ok")));
    }
    let (flows, _) = run(&eth_pcap(&pkts), FlowConfig::default());
    assert_eq!(flows.len(), 3, "1 h + 1 h + rest");
    assert!(flows[..2].iter().all(|f| f.end == EndReason::Active));
    assert!(flows.iter().all(|f| f.orig == (ip(A), 7000)));
    assert_eq!(
        flows
            .iter()
            .map(|f| f.orig_counts.pkts + f.resp_counts.pkts)
            .sum::<u64>(),
        600
    );
    assert!(flows.windows(2).all(|w| w[0].end_us < w[1].start_us));
}

#[test]
fn full_table_evicts_least_recently_seen_and_loses_nothing() {
    let mut pkts = Vec::new();
    for i in 0..40u16 {
        pkts.push((T0 + i64::from(i), udp(A, B, 10000 + i, 53, b"q")));
    }
    let cfg = FlowConfig {
        max_flows: 8,
        ..FlowConfig::default()
    };
    let (flows, st) = run(&eth_pcap(&pkts), cfg);
    assert_eq!(flows.len(), 40, "evicted flows are emitted");
    assert!(st.table.flows_evicted >= 32, "{:?}", st.table);
    assert_eq!(
        flows.iter().filter(|f| f.end == EndReason::Evicted).count() as u64,
        st.table.flows_evicted
    );
    // The oldest go first.
    let first: Vec<u16> = flows.iter().take(4).map(|f| f.orig.1).collect();
    assert_eq!(first, vec![10000, 10001, 10002, 10003]);
}

#[test]
fn emission_order_is_start_then_key_and_repeatable() {
    let mut pkts = Vec::new();
    for i in 0..50u16 {
        let t = T0 + i64::from(i % 5) * 1000;
        pkts.push((t, udp([10, 0, 0, (i % 7) as u8 + 1], B, 2000 + i, 53, b"q")));
    }
    pkts.sort_by_key(|p| p.0);
    let cap = eth_pcap(&pkts);
    let (a, _) = run(&cap, FlowConfig::default());
    let (b, _) = run(&cap, FlowConfig::default());
    assert_eq!(a, b);
    assert!(
        a.windows(2)
            .all(|w| (w[0].start_us, w[0].key) < (w[1].start_us, w[1].key))
    );
}

#[test]
fn vlan_qinq_and_9100_tags_are_followed() {
    let mut single = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .single_vlan(VlanId::try_new(100).unwrap())
        .ipv4(A, B, 64)
        .udp(1, 2)
        .write(&mut single, b"abc")
        .unwrap();
    let mut double = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .double_vlan(VlanId::try_new(200).unwrap(), VlanId::try_new(300).unwrap())
        .ipv4(A, B, 64)
        .udp(1, 2)
        .write(&mut double, b"abc")
        .unwrap();
    let mut old_qinq = double.clone();
    old_qinq[12..14].copy_from_slice(&[0x91, 0x00]);
    for (frame, want) in [
        (&single, vec![100]),
        (&double, vec![200, 300]),
        (&old_qinq, vec![200, 300]),
    ] {
        let d = decode_frame(LinkType::Ethernet, 0, frame.len() as u32, frame).unwrap();
        let Decoded::Ip(p) = d else { panic!("not ip") };
        assert_eq!(p.vlans.as_slice(), &want[..]);
        assert_eq!(
            (p.src_port, p.dst_port, p.udp_payload),
            (1, 2, Some(&b"abc"[..]))
        );
    }
    // Five tags is more than MAX_VLAN_DEPTH: an error, not a panic.
    let mut deep = vec![0u8; 12];
    for _ in 0..5 {
        deep.extend_from_slice(&[0x81, 0x00, 0x00, 0x05]);
    }
    deep.extend_from_slice(&[0x08, 0x00]);
    deep.extend_from_slice(&[0; 40]);
    let mut fixed = deep.clone();
    fixed.drain(12..16);
    let e = decode_frame(LinkType::Ethernet, 0, 0, &deep).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::TooDeep);
    assert!(
        decode_frame(LinkType::Ethernet, 0, 0, &fixed).is_err(),
        "zeros are no IPv4 header"
    );
}

fn ipv4_udp_bytes() -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ipv4(A, B, 64)
        .udp(5353, 53)
        .write(&mut v, b"hello")
        .unwrap();
    v
}

#[test]
fn every_link_type_reaches_the_same_udp_packet() {
    let ip = ipv4_udp_bytes();
    let mut sll = Vec::new();
    PacketBuilder::linux_sll(LinuxSllPacketType::OUTGOING, 6, [1, 2, 3, 4, 5, 6, 0, 0])
        .ipv4(A, B, 64)
        .udp(5353, 53)
        .write(&mut sll, b"hello")
        .unwrap();
    let mut sll2 = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0,
    ];
    sll2.extend_from_slice(&ip);
    let mut null_le = 2u32.to_le_bytes().to_vec();
    null_le.extend_from_slice(&ip);
    let mut null_be = 2u32.to_be_bytes().to_vec();
    null_be.extend_from_slice(&ip);
    let mut lo = 2u32.to_be_bytes().to_vec();
    lo.extend_from_slice(&ip);
    let cases: Vec<(u32, Vec<u8>, &str)> = vec![
        (113, sll, "linux-sll"),
        (276, sll2, "linux-sll2"),
        (0, null_le, "null"),
        (0, null_be, "null"),
        (108, lo, "loop"),
        (101, ip.clone(), "raw"),
        (228, ip.clone(), "ipv4"),
    ];
    for (link, frame, name) in cases {
        let cap = pcap(link, false, false, &[(T0, frame, None)]);
        let (flows, st) = run(&cap, FlowConfig::default());
        assert_eq!(st.by_link.get(name), Some(&1), "{name}");
        assert_eq!(flows.len(), 1, "{name}: {st:?}");
        assert_eq!(
            (flows[0].orig, flows[0].resp),
            ((ip_of(A), 5353), (ip_of(B), 53)),
            "{name}"
        );
        assert_eq!(flows[0].orig_counts.payload_bytes, 5, "{name}");
        assert_eq!(flows[0].orig_counts.ip_bytes, 33, "{name}");
    }
}

fn ip_of(a: [u8; 4]) -> IpAddr {
    IpAddr::from(a)
}

fn ipv6_header(next: u8, payload_len: u16) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&payload_len.to_be_bytes());
    h.push(next);
    h.push(64);
    h.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    h.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    h
}

#[test]
fn ipv6_extension_headers_are_skipped_to_tcp() {
    // hop-by-hop (8) → destination options (16) → TCP SYN (20) + 4 bytes of data.
    let mut tcp_seg = Vec::new();
    etherparse::TcpHeader::new(40000, 22, 1, 100)
        .write(&mut tcp_seg)
        .unwrap();
    tcp_seg[13] = 0x02;
    tcp_seg.extend_from_slice(b"data");
    let mut body = vec![60, 0, 1, 4, 0, 0, 0, 0];
    body.extend_from_slice(&[6, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    body.extend_from_slice(&tcp_seg);
    let mut pkt = ipv6_header(0, body.len() as u16);
    pkt.extend_from_slice(&body);
    let Decoded::Ip(p) = decode_frame(LinkType::Ipv6, 0, pkt.len() as u32, &pkt).unwrap() else {
        panic!()
    };
    assert_eq!(
        (p.proto, p.src_port, p.dst_port, p.tcp_flags),
        (6, 40000, 22, 0x02)
    );
    assert_eq!(p.payload_len, 4);
    assert_eq!(p.ip_total_len, pkt.len() as u32);
    // Nine extension headers is more than MAX_IPV6_EXT_HEADERS.
    let mut body = Vec::new();
    for _ in 0..9 {
        body.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
    }
    let mut deep = ipv6_header(60, body.len() as u16);
    deep.extend_from_slice(&body);
    assert_eq!(
        decode_frame(LinkType::Ipv6, 0, 0, &deep).unwrap_err().kind,
        DecodeErrorKind::TooDeep
    );
}

/// IPv4 header (no options) + payload.
fn ipv4(proto: u8, id: u16, mf: bool, offset8: u16, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let ff = (if mf { 0x2000 } else { 0 }) | offset8;
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    h.extend_from_slice(&ff.to_be_bytes());
    h.extend_from_slice(&[64, proto, 0, 0]);
    h.extend_from_slice(&A);
    h.extend_from_slice(&B);
    h.extend_from_slice(payload);
    h
}

#[test]
fn fragments_join_their_flow_when_the_first_was_seen_and_are_counted_otherwise() {
    // A 1008-byte UDP datagram (8 header + 1000 data) in two fragments: 504 + 504 bytes.
    let mut dgram = vec![0x13, 0x88, 0x00, 0x35];
    dgram.extend_from_slice(&1008u16.to_be_bytes());
    dgram.extend_from_slice(&[0, 0]);
    dgram.extend_from_slice(&[9u8; 1000]);
    let first = ipv4(17, 77, true, 0, &dgram[..504]);
    let second = ipv4(17, 77, false, 63, &dgram[504..]);
    let orphan = ipv4(17, 78, false, 63, &dgram[504..]);
    let cap = pcap(
        101,
        false,
        false,
        &[
            (T0, first, None),
            (T0 + 1, second, None),
            (T0 + 2, orphan, None),
        ],
    );
    let (flows, st) = run(&cap, FlowConfig::default());
    assert_eq!(flows.len(), 1);
    let f = &flows[0];
    assert_eq!((f.orig.1, f.resp.1), (5000, 53));
    assert_eq!(f.orig_counts.pkts, 2);
    assert_eq!(
        f.orig_counts.payload_bytes, 1000,
        "UDP payload across both fragments"
    );
    assert_eq!(f.orig_counts.ip_bytes, 1048);
    assert_eq!(st.table.fragments, 3);
    assert_eq!(st.table.fragments_attributed, 1);
    assert_eq!(st.table.fragments_unattributed, 1);
    assert_eq!(st.errors_by_reason.get("unattributed-fragment"), Some(&1));
    assert_eq!(st.samples[0].packet, 3);
}

#[test]
fn ipv6_fragment_header_gives_the_reassembly_key() {
    let mut first = ipv6_header(44, 16);
    first.extend_from_slice(&[17, 0, 0x00, 0x01, 0, 0, 0, 9]); // offset 0, M=1, id 9
    first.extend_from_slice(&[0x13, 0x88, 0x00, 0x35, 0, 16, 0, 0]);
    let mut second = ipv6_header(44, 16);
    second.extend_from_slice(&[17, 0, 0x00, 0x08, 0, 0, 0, 9]); // offset 1 (8 bytes), M=0
    second.extend_from_slice(&[1u8; 8]);
    let Decoded::Ip(p) = decode_frame(LinkType::Ipv6, 0, 0, &second).unwrap() else {
        panic!()
    };
    assert_eq!(
        p.fragment,
        Some(Fragment {
            id: 9,
            offset: 8,
            more: false
        })
    );
    assert!(!p.has_ports);
    let cap = pcap(
        229,
        false,
        false,
        &[(T0, first, None), (T0 + 1, second, None)],
    );
    let (flows, st) = run(&cap, FlowConfig::default());
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].orig_counts.pkts, 2);
    // The UDP header travels in the first fragment, its 8 data bytes in the second.
    assert_eq!(flows[0].orig_counts.payload_bytes, 8);
    assert_eq!(st.table.fragments_attributed, 1);
}

#[test]
fn truncated_packets_are_counted_with_number_and_offset_and_reading_goes_on() {
    let good = udp(A, B, 1, 2, b"payload");
    let pkts = vec![
        (T0, good.clone(), None),
        (T0 + 1, good.clone(), Some(20)), // cut inside the IPv4 header
        (T0 + 2, good.clone(), Some(40)), // cut inside the UDP header
        (T0 + 3, good.clone(), Some(44)), // headers whole, payload cut: fine
    ];
    let mut cap = pcap(1, false, false, &pkts);
    let record_len = 16 + good.len();
    let (flows, st) = run(&cap, FlowConfig::default());
    assert_eq!(st.truncated, 2);
    assert_eq!(st.short_captures, 3);
    assert_eq!(st.decoded, 2);
    assert_eq!(flows[0].orig_counts.pkts, 2);
    assert_eq!(
        flows[0].orig_counts.payload_bytes, 14,
        "payload counted from the IP length"
    );
    let s = &st.samples[0];
    assert_eq!(
        (s.packet, s.offset, s.reason),
        (2, 24 + record_len as u64, "truncated")
    );
    assert!(s.detail.contains("ipv4"), "{}", s.detail);
    // A file cut inside a record: the packets before it are delivered, then an error.
    cap.extend_from_within(24..24 + 30);
    let mut pf = PcapFlows::new(&cap[..], FlowConfig::default()).unwrap();
    assert_eq!(pf.by_ref().count(), 1);
    match pf.error() {
        Some(ReadError::Truncated { packet, offset }) => {
            assert_eq!(*packet, 5);
            assert_eq!(*offset, (cap.len() - 30) as u64);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(pf.stats().truncated, 3);
}

#[test]
fn pcap_byte_orders_and_resolutions_agree() {
    let pkts: Vec<_> = (0..4)
        .map(|i| (T0 + i * 1234, udp(A, B, 9, 10, b"x"), None))
        .collect();
    let base = run(&pcap(1, false, false, &pkts), FlowConfig::default()).0;
    for (be, ns) in [(true, false), (false, true), (true, true)] {
        assert_eq!(
            run(&pcap(1, be, ns, &pkts), FlowConfig::default()).0,
            base,
            "be={be} ns={ns}"
        );
    }
    assert_eq!(base[0].end_us, T0 + 3 * 1234);
}

#[test]
fn pcapng_with_two_interfaces_link_types_and_resolutions() {
    let mut cap = shb();
    cap.extend(idb(1, None)); // Ethernet, µs
    cap.extend(idb(101, Some(9))); // raw IP, ns
    cap.extend(idb(1, Some(0x80 | 10))); // Ethernet, 2^-10 s
    let secs = (T0 / SEC) as u64;
    cap.extend(epb(0, T0 as u64, &udp(A, B, 1, 2, b"a")));
    cap.extend(epb(
        1,
        secs * 1_000_000_000 + 500_000_000,
        &ipv4_udp_bytes(),
    ));
    cap.extend(epb(2, secs * 1024 + 256, &tcp(A, B, 3, 4, "S", &[])));
    cap.extend(epb(7, 0, &udp(A, B, 1, 2, b"a"))); // no interface 7
    cap.extend(spb(&udp(B, A, 2, 1, b"b")));
    let mut r = CaptureReader::new(&cap[..]).unwrap();
    assert_eq!(r.format(), CaptureFormat::PcapNg);
    let mut seen = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        seen.push((p.number, p.interface, p.link, p.ts_us));
    }
    assert_eq!(
        seen,
        vec![
            (1, 0, LinkType::Ethernet, T0),
            (2, 1, LinkType::Raw, secs as i64 * SEC + 500_000),
            (3, 2, LinkType::Ethernet, secs as i64 * SEC + 250_000),
            (4, 0, LinkType::Ethernet, 0),
        ]
    );
    assert_eq!(
        r.skipped().0,
        1,
        "the EPB of an unknown interface is counted"
    );
    let (flows, st) = run(&cap, FlowConfig::default());
    assert_eq!(st.packets_read, 4);
    assert_eq!(st.errors_by_reason.get("unknown-interface"), Some(&1));
    assert_eq!(flows.len(), 3);
}

#[test]
fn icmp_echo_pairs_like_zeek_and_one_way_messages_use_type_and_code() {
    let mut req = Vec::new();
    PacketBuilder::ipv4(A, B, 64)
        .icmpv4_echo_request(1, 1)
        .write(&mut req, b"ping")
        .unwrap();
    let mut rep = Vec::new();
    PacketBuilder::ipv4(B, A, 64)
        .icmpv4_echo_reply(1, 1)
        .write(&mut rep, b"ping")
        .unwrap();
    let mut unreach = Vec::new();
    PacketBuilder::ipv4(B, A, 64)
        .icmpv4_raw(3, 1, [0; 4])
        .write(&mut unreach, &[0; 28])
        .unwrap();
    let cap = pcap(
        101,
        false,
        false,
        &[
            (T0, req, None),
            (T0 + 5, rep, None),
            (T0 + 9, unreach, None),
        ],
    );
    let (flows, _) = run(&cap, FlowConfig::default());
    assert_eq!(flows.len(), 2);
    let echo = &flows[0];
    assert_eq!((echo.orig, echo.resp), ((ip(A), 8), (ip(B), 0)));
    assert_eq!((echo.orig_counts.pkts, echo.resp_counts.pkts), (1, 1));
    assert_eq!(echo.orig_counts.payload_bytes, 4);
    assert_eq!(echo.state, ConnState::OTH);
    let ev = echo.to_event(&Arc::from("s"));
    assert_eq!((ev.proto, ev.service), (Proto::Icmp, Service::Icmp));
    assert_eq!((flows[1].orig, flows[1].resp), ((ip(B), 3), (ip(A), 1)));
}

#[test]
fn a_reply_seen_first_still_makes_the_requester_the_originator() {
    let mut rep = Vec::new();
    PacketBuilder::ipv4(B, A, 64)
        .icmpv4_echo_reply(1, 1)
        .write(&mut rep, b"")
        .unwrap();
    let (flows, _) = run(
        &pcap(101, false, false, &[(T0, rep, None)]),
        FlowConfig::default(),
    );
    assert_eq!((flows[0].orig, flows[0].resp), ((ip(A), 8), (ip(B), 0)));
    assert_eq!(flows[0].resp_counts.pkts, 1);
}

#[test]
fn non_ip_frames_and_unknown_links_are_counted() {
    let mut arp = vec![0u8; 12];
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.extend_from_slice(&[0; 28]);
    let (_, st) = run(&eth_pcap(&[(T0, arp)]), FlowConfig::default());
    assert_eq!(st.non_ip, 1);
    let (_, st) = run(
        &pcap(147, false, false, &[(T0, vec![1, 2, 3], None)]),
        FlowConfig::default(),
    );
    assert_eq!(st.errors_by_reason.get("unsupported-link"), Some(&1));
}

#[test]
fn not_a_capture_is_refused() {
    assert!(matches!(
        PcapFlows::new(&b"#separator \\x09\n"[..], FlowConfig::default()),
        Err(ReadError::NotACapture)
    ));
}

/// Gives its data one byte per `read`, like a slow pipe.
struct Trickle<'a>(&'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((b, rest)), Some(slot)) => {
                *slot = *b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn short_reads_give_the_same_flows() {
    let pkts: Vec<_> = (0..50)
        .map(|i| (T0 + i, tcp(A, B, 1 + (i % 3) as u16, 80, "PA", &[1; 300])))
        .collect();
    let cap = eth_pcap(&pkts);
    let whole = run(&cap, FlowConfig::default()).0;
    let mut pf = PcapFlows::new(Trickle(&cap), FlowConfig::default()).unwrap();
    let trickled: Vec<_> = pf.by_ref().collect();
    assert_eq!(whole, trickled);
    assert_eq!(whole.len(), 3);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_frames_never_panic(link in prop::sample::select(vec![0u32, 1, 101, 108, 113, 228, 229, 276, 999]), frame in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_frame(LinkType::from_linktype(link), 0, frame.len() as u32, &frame);
        let cap = pcap(link, false, false, &[(T0, frame, None)]);
        let (_, st) = run(&cap, FlowConfig::default());
        prop_assert_eq!(st.packets_read, 1);
    }

    #[test]
    fn mutated_captures_never_panic(flips in prop::collection::vec((0usize..2000, any::<u8>()), 1..8), cut in 0usize..2000) {
        let mut cap = shb();
        cap.extend(idb(1, Some(9)));
        for i in 0..5u16 {
            cap.extend(epb(0, 1, &tcp(A, B, i, 80, "S", b"x")));
        }
        for (at, b) in flips {
            let n = cap.len();
            if let Some(x) = cap.get_mut(at % n) {
                *x = b;
            }
        }
        cap.truncate(cut.max(12));
        if let Ok(mut pf) = PcapFlows::new(&cap[..], FlowConfig::default()) {
            let n = pf.by_ref().count();
            prop_assert!(n as u64 <= pf.stats().packets_read);
        }
    }
}
