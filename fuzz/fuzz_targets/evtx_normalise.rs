//! EVTX bytes through the `evtx` crate, the JSON record parser and the normaliser, as a
//! file is read (with and without checksum validation, normalised kinds only and every
//! record); and the same bytes as one JSON
//! record (evtx_dump/Winlogbeat form). Nothing may panic; every problem is a count.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_event::{HostOrigin, HostRecord};
use sekisho_hostlog::source::{Collected, read_evtx_bytes};
use sekisho_hostlog::winevent::{Keep, normalise_as, parse_json_record_as};
use sekisho_hostlog::ReadOptions;

fuzz_target!(|data: &[u8]| {
    for (validate, keep) in [(false, Keep::Normalised), (true, Keep::All)] {
        let opts = ReadOptions {
            validate_checksums: validate,
            keep,
            ..ReadOptions::default()
        };
        let mut acc = Collected::<Vec<HostRecord>>::default();
        read_evtx_bytes(data.to_vec(), "fuzz.evtx", &opts, &mut acc);
        let _ = acc.continuity.report();
    }
    for keep in [Keep::Normalised, Keep::All] {
        if let Ok(raw) = parse_json_record_as(data, keep) {
            let _ = normalise_as(&raw, &HostOrigin::default(), keep);
        }
    }
});
