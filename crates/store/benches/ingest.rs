//! Store-side cost of ingest: flows pushed through `StoreWriter` into Parquet segments
//! (buffering, dictionary encoding, zstd, hashing, commit), one core.
//!
//! `cargo bench -p sekisho-store --bench ingest`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sekisho_event::{ConnState, Flow, Proto, Service, Timestamp, Uid};
use sekisho_store::{FlowPlace, InputId, StoreWriter};

const FLOWS: u64 = 1_000_000;

fn flows() -> Vec<(Flow, usize)> {
    // Skewed like an enterprise: a few thousand hosts per site, a handful of servers.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..FLOWS)
        .map(|i| {
            let r = next();
            let site = (r % 6) as usize;
            let f = Flow {
                ts: Timestamp::from_micros(1_719_792_000_000_000 + i as i64 * 2_000),
                duration_us: r % 5_000_000,
                uid: Uid::new(&format!("C{:017x}", next())).unwrap_or_default(),
                orig_ip: format!(
                    "10.{}.{}.{}",
                    site * 10 + 10,
                    64 + (r >> 8) % 32,
                    (r >> 16) % 250 + 1
                )
                .parse()
                .unwrap(),
                orig_port: 49_152 + (r >> 24) as u16 % 16_000,
                resp_ip: format!("10.10.5.{}", (r >> 32) % 30 + 1).parse().unwrap(),
                resp_port: [443, 445, 3389, 53, 88][((r >> 40) % 5) as usize],
                proto: Proto::Tcp,
                service: Service::Https,
                orig_bytes: (r >> 20) % 100_000,
                resp_bytes: (r >> 30) % 1_000_000,
                orig_pkts: (r >> 12) % 100,
                resp_pkts: (r >> 14) % 1000,
                state: ConnState::SF,
                sensor: "s1".into(),
            };
            (f, site)
        })
        .collect()
}

fn ingest(c: &mut Criterion) {
    let sites = ["jp-hq", "th-bkk", "id-jkt", "ph-mnl", "us-hou", "de-muc"];
    let data = flows();
    let dir = std::env::temp_dir().join(format!("sekisho-bench-store-{}", std::process::id()));
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(FLOWS));
    group.sample_size(10);
    group.bench_function("ingest 1M flows", |b| {
        b.iter(|| {
            let _ = std::fs::remove_dir_all(&dir);
            let mut w = StoreWriter::open(&dir).unwrap();
            let input = w.input(InputId::of_bytes(b"bench"), "bench");
            for (f, site) in &data {
                let place = FlowPlace {
                    partition_site: Some(sites[*site]),
                    src_site: Some(sites[*site]),
                    dst_site: Some("jp-hq"),
                    src_asset: None,
                    dst_asset: Some("jp-fs01"),
                    direction: if *site == 0 {
                        "intra-site"
                    } else {
                        "cross-site"
                    },
                    policy_action: "allow",
                    policy_rule: None,
                };
                w.push_flow(input, f, &place).unwrap();
            }
            w.complete(input);
            w.finish(None).unwrap()
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, ingest);
criterion_main!(benches);
