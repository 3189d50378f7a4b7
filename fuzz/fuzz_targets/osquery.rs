//! osquery results-log lines and `osqueryi --json` dumps: the pure parsers, the collector
//! that applies them (differentials, snapshots, identity checks), STIX bundles and
//! indicator lists. Each input is split at the first newline into a line and a dump.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_fleet::{Collector, Indicators, parse_line, parse_rows};

fuzz_target!(|data: &[u8]| {
    let _ = parse_line(data);
    let _ = parse_rows(data);
    let mut c = Collector::new();
    for (n, line) in data.split(|&b| b == b'\n').enumerate() {
        c.feed_line("fuzz", n as u64 + 1, line);
    }
    c.feed_osqueryi("fuzz", "host", "programs", Some(1), data);
    let _ = c.finish();
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Indicators::from_stix(text, "fuzz");
        let _ = Indicators::from_list(text, "fuzz");
        let _ = Indicators::from_incident(text, "fuzz", "INC-0001");
        let _ = sekisho_fleet::Baseline::from_toml(text, "fuzz");
    }
});
