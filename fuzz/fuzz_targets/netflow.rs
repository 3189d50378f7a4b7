//! NetFlow v5/v9/IPFIX datagrams: the input is split into datagrams (as a file of raw
//! datagrams would be) and fed to one decoder from two exporters, so templates learnt from
//! one datagram are used on the next; then paired into flows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_netflow::{Decoder, Pairer, split_datagrams};
use std::net::SocketAddr;

fuzz_target!(|data: &[u8]| {
    let a = SocketAddr::from(([192, 0, 2, 1], 2055));
    let b = SocketAddr::from(([192, 0, 2, 2], 2055));
    let mut dec = Decoder::new();
    let mut records = Vec::new();
    for (i, (_, d)) in split_datagrams(data).enumerate() {
        let _ = dec.decode(if i % 2 == 0 { a } else { b }, d, &mut records);
        // The same bytes as one datagram too: the splitter's cut is not the only one.
    }
    let _ = dec.decode(a, data, &mut records);
    dec.finish();
    let mut pairer = Pairer::default();
    let mut flows = Vec::new();
    for r in &records {
        pairer.push(r, &mut flows);
    }
    pairer.flush(&mut flows);
});
