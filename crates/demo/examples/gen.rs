//! Times `generate`: `cargo run --release -p sekisho-demo --example gen -- [small|medium|large] [seed] [out-dir] [flows-per-day]`.
//!
//! Prints the flows written, the wall time and the rate.

use sekisho_demo::{DemoConfig, Scale, generate};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scale: Scale = args.first().map_or(Ok(Scale::Medium), |s| s.parse())?;
    let seed = args.get(1).map_or(Ok(7), |s| s.parse())?;
    let out = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| format!("target/demo-{scale}"));
    let mut cfg = DemoConfig::new(seed, scale);
    cfg.flows_per_day_override = args.get(3).map(|s| s.parse()).transpose()?;
    let t = Instant::now();
    let s = generate(std::path::Path::new(&out), &cfg)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{scale} seed {seed}: {} flows ({} intrusion) in {} files, {} days, {} of {} terminals active -> {out}",
        s.flows_written, s.intrusion_flows, s.files, s.days, s.terminals, s.terminals_declared
    );
    println!("{secs:.2} s, {:.0} flows/s", s.flows_written as f64 / secs);
    Ok(())
}
