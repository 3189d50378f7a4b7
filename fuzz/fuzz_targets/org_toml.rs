//! The organisation file: any text either builds a model or gives an error with a position;
//! a built model then locates and enriches without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_model::Org;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(org) = Org::from_toml(text, "fuzz.toml") {
        for ip in ["10.10.5.10", "2001:db8::1", "0.0.0.0", "255.255.255.255"] {
            let _ = org.locate(ip.parse().unwrap());
        }
    }
});
