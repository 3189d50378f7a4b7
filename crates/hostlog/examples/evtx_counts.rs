//! Prints, per input file, the records sekisho decoded and the problems it counted, as
//! `path<TAB>decoded<TAB>rejected` (for scripts/check-evtx-counts.sh), then a total line on
//! stderr. With `--summary-only`, only the totals (for throughput runs).
//!
//! cargo run --release -p sekisho-hostlog --example evtx_counts -- DIR_OR_FILES...

use sekisho_hostlog::{CountSink, ReadOptions, read_paths};
use std::path::PathBuf;

fn main() {
    let mut summary_only = false;
    let mut validate = false;
    let mut inputs = Vec::new();
    for a in std::env::args_os().skip(1) {
        match a.to_str() {
            Some("--summary-only") => summary_only = true,
            Some("--validate-checksums") => validate = true,
            _ => inputs.push(PathBuf::from(a)),
        }
    }
    let opts = ReadOptions {
        validate_checksums: validate,
        ..ReadOptions::default()
    };
    let run = read_paths::<CountSink>(&inputs, &opts);
    if !summary_only {
        for f in &run.files {
            println!(
                "{}\t{}\t{}",
                f.file,
                f.records - f.rejected.min(f.records),
                f.rejected
            );
        }
    }
    let s = &run.stats;
    eprintln!(
        "files {} records {} parsed {} skipped {} rejected {} logons {} events {}",
        s.files, s.records, s.parsed, s.skipped, s.rejected, run.sink.logons, run.sink.events
    );
}
