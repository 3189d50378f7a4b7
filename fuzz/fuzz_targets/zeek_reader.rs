//! The whole reader over in-memory bytes: gzip detection and decompression, format
//! sniffing, line splitting and limits, both parsers, and the accounting in RunStats.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_event::RunStats;
use sekisho_zeek::{LogFile, LogReader};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the file name, so name-derived hints are fuzzed too.
    let (name, body) = match data.split_first() {
        Some((b, rest)) => (
            ["conn.log", "NASHUA_rdp.log.gz", "dns.json", "x", "-"][*b as usize % 5],
            rest,
        ),
        None => ("conn.log", data),
    };
    let file = LogFile::new(name);
    let mut stats = RunStats::default();
    let Some(mut reader) = LogReader::from_read(
        &file,
        Box::new(std::io::Cursor::new(body.to_vec())),
        &mut stats,
    ) else {
        return;
    };
    let _ = reader.log_kind();
    let mut records = 0u64;
    while reader.next_record(&mut stats).is_some() {
        records += 1;
    }
    // Every record returned was counted as parsed.
    assert_eq!(stats.parsed, records);
    assert!(stats.parsed + stats.rejected >= stats.records);
});
