//! The speed target of fleet inspection: the demo's ~26,000 terminals (medium scale,
//! about 18 tables each, gzip JSON lines) read and evaluated against a 50-check baseline
//! and 1,000 indicators, on all cores.
//!
//! ```text
//! cargo bench -p sekisho-fleet --bench inspect
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use sekisho_demo::{DemoConfig, FLEET_BASELINE, FleetFiles, Scale};
use sekisho_fleet::{Baseline, Context, IndicatorKind, Indicators, evaluate_all, newest, source};
use std::fmt::Write as _;
use std::path::PathBuf;

/// The demo baseline plus generated software rules, 50 checks in all.
pub fn baseline_50() -> String {
    let mut b = FLEET_BASELINE.to_string();
    let have = b.matches("[[check]]").count();
    for i in have..50 {
        let _ = write!(
            b,
            "\n[[check]]\nid = \"forbidden-{i}\"\nkind = \"software-forbidden\"\nseverity = \"medium\"\nrationale = \"bench\"\nname = \"Vendor{i} Tool*\"\nversions = \"<{i}.5\"\n"
        );
    }
    b
}

/// The demo's indicators plus random ones, 1,000 in all (hashes, domains, addresses).
fn indicators_1000(files: &FleetFiles) -> Indicators {
    let text = std::fs::read_to_string(&files.iocs).expect("iocs.txt");
    let mut ind = Indicators::from_list(&text, "iocs.txt").expect("list");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    while ind.len() < 1000 {
        match ind.len() % 3 {
            0 => {
                let h = format!(
                    "{:016x}{:016x}{:016x}{:016x}",
                    next(),
                    next(),
                    next(),
                    next()
                );
                ind.add(IndicatorKind::Sha256, &h, "bench");
            }
            1 => {
                ind.add(
                    IndicatorKind::Domain,
                    &format!("c{}.bad-{}.example", next() % 1000, next() % 1000),
                    "bench",
                );
            }
            _ => {
                let n = next();
                ind.add(
                    IndicatorKind::Ip,
                    &format!("198.51.{}.{}", (n >> 8) % 256, n % 256),
                    "bench",
                );
            }
        }
    }
    ind.prepare();
    ind
}

fn fleet_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fleet-bench-medium");
    let files = FleetFiles::under(&dir);
    if !files.truth.exists() {
        sekisho_demo::generate_fleet(&dir, &DemoConfig::new(7, Scale::Medium))
            .expect("generate the fleet");
    }
    dir
}

fn bench(c: &mut Criterion) {
    let dir = fleet_dir();
    let files = FleetFiles::under(&dir);
    let org = sekisho_model::Org::load(&dir.join("org.toml")).expect("org");
    let baseline = Baseline::from_toml(&baseline_50(), "baseline-50.toml").expect("baseline");
    assert_eq!(baseline.checks.len(), 50);
    let ind = indicators_1000(&files);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let inputs = vec![files.osquery.clone()];
    let (invs, _) = source::read_inventories(&inputs, threads);
    eprintln!("{} terminals", invs.len());

    let mut g = c.benchmark_group("fleet");
    g.sample_size(10);
    g.bench_function("read_26k_terminals", |b| {
        b.iter(|| source::read_inventories(&inputs, threads).0.len());
    });
    let ctx = Context {
        org: &org,
        baseline: &baseline,
        indicators: &ind,
        reference_time: newest(&invs),
    };
    g.bench_function("evaluate_26k_terminals_50_checks_1000_iocs", |b| {
        b.iter(|| evaluate_all(&invs, &ctx, threads).len());
    });
    g.bench_function("inspect_26k_end_to_end", |b| {
        b.iter(|| {
            let (invs, _) = source::read_inventories(&inputs, threads);
            let ctx = Context {
                reference_time: newest(&invs),
                ..ctx
            };
            evaluate_all(&invs, &ctx, threads).len()
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
