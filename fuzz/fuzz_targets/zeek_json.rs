//! One JSON line, with and without a log named by the file; then the input's lines in turn
//! through one parser, as a file is read (the key order of earlier lines is remembered).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_zeek::{LogKind, json};
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let sensor: Arc<str> = Arc::from("fuzz");
    let _ = json::parse_line(data, None, &sensor);
    let _ = json::parse_line(data, Some(&LogKind::Conn), &sensor);
    let _ = json::parse_line(data, Some(&LogKind::Kerberos), &sensor);
    let _ = json::line_log_kind(data);
    let mut parser = json::JsonParser::new(sensor, None);
    for line in data.split(|&b| b == b'\n') {
        let _ = parser.line(line);
    }
});
