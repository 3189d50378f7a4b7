//! Any sequence of datagrams (arbitrary bytes, mutated real and generated datagrams, from
//! many exporters) keeps the decoder's tables within their bounds and never panics.

mod common;

use proptest::prelude::*;
use sekisho_netflow::encode::Encoder;
use sekisho_netflow::{
    Decoder, FlowRecord, MAX_PENDING_BYTES, MAX_PENDING_SETS, MAX_TEMPLATE_CACHE_FIELDS,
    MAX_TEMPLATES, Version, split_datagrams,
};
use std::net::SocketAddr;
use std::sync::OnceLock;

/// Seeds: the real datagrams and a few generated ones.
fn seeds() -> &'static Vec<Vec<u8>> {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut v: Vec<Vec<u8>> = common::all().into_iter().map(|d| d.bytes).collect();
        let exporter: SocketAddr = "192.0.2.1:1".parse().unwrap();
        let mut r = FlowRecord::empty(exporter, Version::Ipfix);
        r.src_ip = "2001:db8::1".parse().unwrap();
        r.raw_bytes = 99;
        let mut r4 = r.clone();
        r4.src_ip = "10.0.0.1".parse().unwrap();
        v.extend(Encoder::ipfix(3).datagrams(1_700_000_000, &[r.clone(), r4.clone()]));
        v.extend(Encoder::v9(4).datagrams(1_700_000_000, &[r4, r]));
        v
    })
}

#[derive(Debug, Clone)]
enum Op {
    /// Random bytes.
    Raw(Vec<u8>),
    /// A seed with some bytes overwritten, maybe cut short, and a template id rewritten
    /// so that templates spread over many ids.
    Mutate {
        seed: usize,
        edits: Vec<(usize, u8)>,
        cut: Option<usize>,
        id_shift: u16,
    },
}

fn op() -> impl Strategy<Value = (u8, Op)> {
    let raw = proptest::collection::vec(any::<u8>(), 0..200).prop_map(Op::Raw);
    let mutate = (
        any::<usize>(),
        proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        proptest::option::of(any::<usize>()),
        any::<u16>(),
    )
        .prop_map(|(seed, edits, cut, id_shift)| Op::Mutate {
            seed,
            edits,
            cut,
            id_shift,
        });
    (any::<u8>(), prop_oneof![1 => raw, 4 => mutate])
}

fn build(op: &Op) -> Vec<u8> {
    match op {
        Op::Raw(b) => b.clone(),
        Op::Mutate {
            seed,
            edits,
            cut,
            id_shift,
        } => {
            let s = seeds();
            let mut d = s[seed % s.len()].clone();
            // Template ids sit right after a set header in template sets; shifting the
            // first set's template id makes many distinct templates.
            let ipfix = d.get(1) == Some(&10);
            let at = if ipfix { 20 } else { 24 };
            if d.len() > at + 1 {
                let id = u16::from_be_bytes([d[at], d[at + 1]]).wrapping_add(*id_shift) | 0x100;
                d[at..at + 2].copy_from_slice(&id.to_be_bytes());
            }
            for &(pos, b) in edits {
                if !d.is_empty() {
                    let n = d.len();
                    d[pos % n] = b;
                }
            }
            if let Some(c) = cut {
                let n = d.len() + 1;
                d.truncate(c % n);
            }
            d
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn bounds_hold_and_nothing_panics(ops in proptest::collection::vec(op(), 1..400)) {
        let mut dec = Decoder::new();
        let mut out = Vec::new();
        for (exporter, op) in &ops {
            let d = build(op);
            let addr = SocketAddr::from(([10, 0, 0, *exporter % 16], 2055));
            let _ = dec.decode(addr, &d, &mut out);
            prop_assert!(dec.template_count() <= MAX_TEMPLATES);
            prop_assert!(dec.template_field_count() <= MAX_TEMPLATE_CACHE_FIELDS);
            prop_assert!(dec.pending_sets() <= MAX_PENDING_SETS);
            prop_assert!(dec.pending_bytes() <= MAX_PENDING_BYTES);
            for _ in split_datagrams(&d) {}
            out.clear();
        }
        let s = dec.stats();
        prop_assert_eq!(s.datagrams, ops.len() as u64);
        dec.finish();
        prop_assert_eq!(dec.pending_sets(), 0);
    }
}

/// Many exporters each defining many large templates: the cache evicts the oldest and
/// counts it, and stays within both bounds.
#[test]
fn template_flood_is_evicted_and_counted() {
    let mut dec = Decoder::new();
    let mut out = Vec::new();
    let mut sent = 0u64;
    for exporter in 0..40u8 {
        let addr = SocketAddr::from(([10, 1, 0, exporter], 4739));
        for batch in 0..8u16 {
            // One IPFIX datagram with 40 templates of 60 fields each.
            let mut d = vec![0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
            let mut set = vec![0u8, 2, 0, 0];
            for t in 0..40u16 {
                set.extend_from_slice(&(256 + batch * 40 + t).to_be_bytes());
                set.extend_from_slice(&60u16.to_be_bytes());
                for f in 0..60u16 {
                    set.extend_from_slice(&(f + 1).to_be_bytes());
                    set.extend_from_slice(&4u16.to_be_bytes());
                }
                sent += 1;
            }
            let n = set.len() as u16;
            set[2..4].copy_from_slice(&n.to_be_bytes());
            d.extend_from_slice(&set);
            let n = d.len() as u16;
            d[2..4].copy_from_slice(&n.to_be_bytes());
            dec.decode(addr, &d, &mut out).unwrap();
            assert!(dec.template_count() <= MAX_TEMPLATES);
            assert!(dec.template_field_count() <= MAX_TEMPLATE_CACHE_FIELDS);
        }
    }
    let s = dec.stats();
    assert_eq!(s.templates, sent);
    assert_eq!(
        s.template_evictions,
        sent - dec.template_count() as u64,
        "every template not cached was evicted and counted"
    );
    assert!(s.template_evictions > 0);
}
