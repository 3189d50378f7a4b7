//! The evidence store's manifest reader over arbitrary bytes: must never panic, and a
//! manifest it accepts names no segment outside the store.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_store::manifest::{Manifest, inside_store};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Manifest::parse(data) {
        assert!(m.segments().all(|s| inside_store(&s.path)));
        let _ = m.chain_head();
        let _ = m.inputs();
        assert!(m.committed_len <= data.len() as u64);
    }
});
