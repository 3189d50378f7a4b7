//! The whole analysis (read + parse + enrich + every detector + correlation) over the demo
//! scenario at small scale, once as gzip logs as the demo writes them and once as plain
//! TSV. Throughput is in conn records.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sekisho_demo::{DemoConfig, Scale};
use sekisho_model::Org;
use std::io::Read;
use std::path::{Path, PathBuf};

fn gunzip_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            gunzip_tree(&path, &target);
        } else if let Some(name) = path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .strip_suffix(".gz")
        {
            let mut text = Vec::new();
            flate2_read(&path).read_to_end(&mut text).unwrap();
            std::fs::write(to.join(name), text).unwrap();
        }
    }
}

fn flate2_read(path: &Path) -> impl Read {
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
}

fn pipeline(c: &mut Criterion) {
    let dir = std::env::temp_dir().join("sekisho-bench-pipeline");
    let _ = std::fs::remove_dir_all(&dir);
    let summary = sekisho_demo::generate(&dir, &DemoConfig::new(7, Scale::Small)).unwrap();
    let org = Org::load(&summary.org_path).unwrap();
    let plain = dir.join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    gunzip_tree(&summary.zeek_dir, &plain);

    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    group.throughput(Throughput::Elements(summary.flows_written));
    for (name, input) in [
        ("demo-small-tsv", plain.clone()),
        ("demo-small-gzip", summary.zeek_dir.clone()),
    ] {
        let inputs: Vec<PathBuf> = vec![input];
        group.bench_function(name, |b| {
            b.iter(|| {
                let (outcome, stats) = sekisho_engine::analyze_paths(&org, &inputs, &mut |_| {});
                assert_eq!(stats.parsed, summary.flows_written);
                outcome.alerts.len()
            })
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
