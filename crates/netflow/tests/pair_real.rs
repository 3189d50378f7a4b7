//! Pairing the real exporters' records: nothing is lost or counted twice.

mod common;

use sekisho_netflow::{Decoder, Pairer};
use std::net::SocketAddr;

#[test]
fn pairing_conserves_records_bytes_and_packets() {
    let mut flows = Vec::new();
    let mut pairer = Pairer::default();
    let (mut bytes, mut packets, mut n) = (0u64, 0u64, 0u64);
    for (i, (_, files)) in common::groups().iter().enumerate() {
        let exporter = SocketAddr::from(([10, 2, 0, i as u8], 2055));
        let mut dec = Decoder::new();
        let mut records = Vec::new();
        for f in files {
            let _ = dec.decode(exporter, &f.bytes, &mut records);
        }
        for r in &records {
            let rev = r.reverse.unwrap_or_default();
            bytes += r.bytes + rev.bytes;
            packets += r.packets + rev.packets;
            n += 1;
            pairer.push(r, &mut flows);
        }
    }
    pairer.flush(&mut flows);
    let s = pairer.stats().clone();
    assert!(n > 400, "{n} records");
    assert_eq!(s.records, n);
    assert_eq!(2 * s.paired + s.biflows + s.one_sided, n);
    assert_eq!(flows.len() as u64, s.paired + s.biflows + s.one_sided);
    assert!(s.paired > 0 && s.biflows > 0, "{s:?}");
    let fb: u64 = flows.iter().map(|f| f.orig_bytes + f.resp_bytes).sum();
    let fp: u64 = flows.iter().map(|f| f.orig_pkts + f.resp_pkts).sum();
    assert_eq!((fb, fp), (bytes, packets));
    assert!(flows.iter().all(|f| f.sensor.starts_with("10.2.0.")));
    assert!(flows.iter().all(|f| !f.uid.is_empty()));
}
