//! The engine alone on files, timed: `analyze` without the report writers and the query
//! engine, so it builds in a minute where the whole binary takes many.
//!
//! `cargo run --release -p sekisho-engine --example analyze_bench -- ORG.toml INPUT...`

use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1]).unwrap();
    let org = sekisho_model::Org::from_toml(&text, &args[1]).unwrap();
    let inputs: Vec<std::path::PathBuf> = args[2..].iter().map(Into::into).collect();
    let t = Instant::now();
    let (outcome, stats) = sekisho_engine::analyze_paths(&org, &inputs, &mut |_| {});
    eprintln!(
        "{:.2} s, {} records, {} alerts, {} incidents, by direction {:?}",
        t.elapsed().as_secs_f64(),
        stats.records,
        outcome.alerts.len(),
        outcome.incidents.len(),
        outcome.flows_by_direction
    );
}
