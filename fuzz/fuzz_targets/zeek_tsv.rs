//! TSV lines, header and data mixed: the input is split at newlines and fed to one parser,
//! so header state (separators, markers, columns) is fuzzed together with the records.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_zeek::tsv::TsvParser;
use std::sync::Arc;

/// A conn header to start from, so that most inputs reach the record code.
const HEADER: &[&[u8]] = &[
    b"#separator \\x09",
    b"#path\tconn",
    b"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state",
    b"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tset[string]\tinterval\tcount\tcount\tstring",
];

fuzz_target!(|data: &[u8]| {
    let mut parser = TsvParser::new(Arc::from("fuzz"), None);
    if data.first() != Some(&b'#') {
        for line in HEADER {
            let _ = parser.line(line);
        }
    }
    for line in data.split(|&b| b == b'\n') {
        let _ = parser.line(line);
    }
});
