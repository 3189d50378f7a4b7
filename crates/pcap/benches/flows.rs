//! Packets/s and flows/s over a generated capture.
//!
//! The capture (built in memory, classic pcap, Ethernet) holds 20,000 TCP connections
//! (SYN, SYN-ACK, ACK, 4 data segments of 512 bytes, FIN, FIN, ACK = 10 packets) and 20,000
//! UDP request/reply pairs, interleaved 64 connections at a time over 10 minutes of
//! packet time: 240,000 packets, 40,000 flows.
//!
//! `cargo bench -p sekisho-pcap --bench flows`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use etherparse::PacketBuilder;
use sekisho_pcap::{CaptureReader, FlowConfig, PcapFlows, decode_frame};
use std::hint::black_box;

const CONNS: u32 = 20_000;

fn frame(
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    flags: u8,
    payload: &[u8],
    udp: bool,
) -> Vec<u8> {
    let b = PacketBuilder::ethernet2([1; 6], [2; 6]).ipv4(src, dst, 64);
    let mut v = Vec::new();
    if udp {
        b.udp(sport, dport).write(&mut v, payload).expect("udp");
    } else {
        let mut t = b.tcp(sport, dport, 1, 8192);
        if flags & 2 != 0 {
            t = t.syn();
        }
        if flags & 0x10 != 0 {
            t = t.ack(1);
        }
        if flags & 1 != 0 {
            t = t.fin();
        }
        t.write(&mut v, payload).expect("tcp");
    }
    v
}

fn capture() -> (Vec<u8>, u64, u64) {
    let mut cap = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    cap.extend_from_slice(&65535u32.to_le_bytes());
    cap.extend_from_slice(&1u32.to_le_bytes());
    let data = [0x5au8; 512];
    let mut packets = 0u64;
    let mut ts: i64 = 1_700_000_000_000_000;
    let step = 600_000_000 / i64::from(CONNS * 12);
    for batch in (0..CONNS).step_by(64) {
        for round in 0..12 {
            for c in batch..(batch + 64).min(CONNS) {
                let client = [10, (c >> 16) as u8, (c >> 8) as u8, c as u8];
                let server = [172, 16, 0, (c % 50) as u8 + 1];
                let sport = 1024 + (c % 60000) as u16;
                let f = match round {
                    0 => frame(client, server, sport, 445, 0x02, &[], false),
                    1 => frame(server, client, 445, sport, 0x12, &[], false),
                    2 => frame(client, server, sport, 445, 0x10, &[], false),
                    3..=6 => frame(client, server, sport, 445, 0x18, &data, false),
                    7 => frame(client, server, sport, 445, 0x11, &[], false),
                    8 => frame(server, client, 445, sport, 0x11, &[], false),
                    9 => frame(client, server, sport, 445, 0x10, &[], false),
                    10 => frame(client, server, sport, 53, 0, &data[..40], true),
                    _ => frame(server, client, 53, sport, 0, &data[..120], true),
                };
                ts += step;
                cap.extend_from_slice(&((ts / 1_000_000) as u32).to_le_bytes());
                cap.extend_from_slice(&((ts % 1_000_000) as u32).to_le_bytes());
                cap.extend_from_slice(&(f.len() as u32).to_le_bytes());
                cap.extend_from_slice(&(f.len() as u32).to_le_bytes());
                cap.extend_from_slice(&f);
                packets += 1;
            }
        }
    }
    (cap, packets, u64::from(CONNS) * 2)
}

fn bench(c: &mut Criterion) {
    let (cap, packets, flows) = capture();
    let mut g = c.benchmark_group("pcap");
    g.sample_size(10);
    g.throughput(Throughput::Elements(packets));
    g.bench_function("read+decode packets", |b| {
        b.iter(|| {
            let mut r = CaptureReader::new(&cap[..]).expect("capture");
            let mut n = 0u64;
            while let Ok(Some(p)) = r.next_packet() {
                if decode_frame(p.link, p.ts_us, p.orig_len, p.data).is_ok() {
                    n += 1;
                }
            }
            black_box(n)
        })
    });
    g.bench_function("packets to flows", |b| {
        b.iter(|| {
            let pf = PcapFlows::new(&cap[..], FlowConfig::default()).expect("capture");
            let n = pf.count() as u64;
            assert_eq!(n, flows);
            black_box(n)
        })
    });
    g.throughput(Throughput::Elements(flows));
    g.bench_function("flows", |b| {
        b.iter(|| {
            black_box(
                PcapFlows::new(&cap[..], FlowConfig::default())
                    .expect("capture")
                    .count(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
