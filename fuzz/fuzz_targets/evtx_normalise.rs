//! EVTX bytes through the `evtx` crate, the JSON record parser and the normaliser, as a
//! file is read (with and without checksum validation); and the same bytes as one JSON
//! record (evtx_dump/Winlogbeat form). Nothing may panic; every problem is a count.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_event::{HostOrigin, HostRecord};
use sekisho_hostlog::ReadOptions;
use sekisho_hostlog::source::{Collected, read_evtx_bytes};
use sekisho_hostlog::winevent::{normalise, parse_json_record};

fuzz_target!(|data: &[u8]| {
    for validate in [false, true] {
        let opts = ReadOptions {
            validate_checksums: validate,
            ..ReadOptions::default()
        };
        let mut acc = Collected::<Vec<HostRecord>>::default();
        read_evtx_bytes(data.to_vec(), "fuzz.evtx", &opts, &mut acc);
        let _ = acc.continuity.report();
    }
    if let Ok(raw) = parse_json_record(data) {
        let _ = normalise(&raw, &HostOrigin::default());
    }
});
