//! Throughput of `scan` over the real phish + ham sets (../shared/data/mail), one core.
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;

fn load() -> Vec<Vec<u8>> {
    let base = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/mail"
    ));
    let mut v = Vec::new();
    for set in ["phish", "ham"] {
        let mut files: Vec<_> = std::fs::read_dir(base.join(set))
            .expect("the shared mail data set")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        for f in files {
            v.push(std::fs::read(f).expect("readable"));
        }
    }
    v
}

fn bench(c: &mut Criterion) {
    let msgs = load();
    let policy = sekisho_mail::MailPolicy::new(
        &["example-hi.com".into()],
        &["Example Heavy Industries".into()],
    );
    let mut g = c.benchmark_group("mail");
    g.sample_size(10);
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("scan_phish_and_ham", |b| {
        b.iter(|| {
            for m in &msgs {
                black_box(sekisho_mail::scan(black_box(m), &policy));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
