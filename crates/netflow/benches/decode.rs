//! Decoding speed: a realistic capture (a template datagram, then data datagrams of 30
//! records each, IPv4 and some IPv6) generated with the crate's encoder, decoded by one
//! [`Decoder`]. Throughput is in records (criterion's "elements").

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sekisho_event::Timestamp;
use sekisho_netflow::encode::Encoder;
use sekisho_netflow::{Decoder, FlowRecord, Version};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

const RECORDS: usize = 30_000;

/// A deterministic mix: site-to-site TCP/UDP, 1 in 10 over IPv6.
fn records(exporter: SocketAddr) -> Vec<FlowRecord> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..RECORDS)
        .map(|i| {
            let r = next();
            let mut f = FlowRecord::empty(exporter, Version::Ipfix);
            if i % 10 == 0 {
                f.src_ip = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, r as u16));
                f.dst_ip = IpAddr::V6(Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    2,
                    0,
                    0,
                    0,
                    0,
                    (r >> 16) as u16,
                ));
            } else {
                f.src_ip = IpAddr::V4(Ipv4Addr::from(0x0A00_0000 | (r as u32 & 0xFFFF)));
                f.dst_ip = IpAddr::V4(Ipv4Addr::from(0x0A01_0000 | ((r >> 16) as u32 & 0xFFFF)));
            }
            f.src_port = 1024 + (r >> 32) as u16 % 60000;
            f.dst_port = [445, 3389, 443, 53, 22][(r >> 48) as usize % 5];
            f.protocol = if f.dst_port == 53 { 17 } else { 6 };
            f.tcp_flags = 0x1b;
            f.raw_bytes = r >> 44;
            f.raw_packets = (r >> 54) + 1;
            f.ingress_if = 3;
            f.egress_if = 7;
            let start = 1_700_000_000 * Timestamp::SECOND + (i as i64) * 1000;
            f.start = Some(Timestamp::from_micros(start));
            f.end = Some(Timestamp::from_micros(start + 30 * Timestamp::SECOND));
            f
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let exporter: SocketAddr = "192.0.2.1:2055".parse().expect("address");
    let recs = records(exporter);
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(RECORDS as u64));
    for (name, mut enc) in [("ipfix", Encoder::ipfix(1)), ("v9", Encoder::v9(1))] {
        let datagrams = enc.datagrams(1_700_000_100, &recs);
        let bytes: usize = datagrams.iter().map(Vec::len).sum();
        eprintln!(
            "{name}: {} datagrams, {bytes} bytes, {RECORDS} records",
            datagrams.len()
        );
        let mut dec = Decoder::new();
        let mut out = Vec::with_capacity(RECORDS);
        g.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                for d in &datagrams {
                    let _ = dec.decode(exporter, black_box(d), &mut out);
                }
                assert_eq!(out.len(), RECORDS);
                black_box(&out);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
