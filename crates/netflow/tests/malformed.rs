//! Hostile and broken datagrams: counted errors, never a panic.

mod common;

use sekisho_netflow::{DecodeError, Decoder, Problem, split_datagrams};
use std::net::SocketAddr;

/// The v5 files malformed on purpose (a record count that runs past the datagram) are
/// refused and counted. (`netflow9_test_invalid01` is decoded: its faults, a header count of
/// 2 for 6 records and a flowset not padded to 4 bytes, do not stop a decoder; tshark
/// reads it the same way and `tshark.rs` compares its records.)
#[test]
fn invalid_files_are_counted_errors() {
    let exporter: SocketAddr = "192.0.2.7:2055".parse().unwrap();
    let files: Vec<_> = common::all()
        .into_iter()
        .filter(|d| d.stem.starts_with("netflow5") && d.stem.contains("invalid"))
        .collect();
    assert_eq!(files.len(), 2);
    for f in &files {
        let mut dec = Decoder::new();
        let mut out = Vec::new();
        let r = dec.decode(exporter, &f.bytes, &mut out);
        let problems = match &r {
            Ok(info) => info.problems,
            Err(_) => 1,
        };
        assert!(problems > 0, "{}: no problem counted ({r:?})", f.stem);
        assert_eq!(dec.stats().total_errors(), problems as u64, "{}", f.stem);
        let (_, e) = dec.exporters().next().unwrap();
        assert_eq!(e.errors, 1, "{}", f.stem);
    }
    // v5 whose record count runs past the datagram.
    let mut dec = Decoder::new();
    let r = dec.decode(exporter, &files[0].bytes, &mut Vec::new());
    assert!(matches!(r, Err(DecodeError::BadLength { .. })), "{r:?}");
    assert_eq!(dec.stats().error_count(Problem::BadLength), 1);
}

/// Every real datagram cut at every length, and with bytes flipped, through one decoder
/// that keeps its templates: no panic, and every datagram is accounted for.
#[test]
fn truncated_and_flipped_real_datagrams_never_panic() {
    let exporter: SocketAddr = "192.0.2.8:2055".parse().unwrap();
    let mut dec = Decoder::new();
    let mut out = Vec::new();
    let mut n = 0u64;
    let all = common::all();
    // Templates of every vendor first, so that mutated data reaches the record decoder.
    for f in &all {
        let _ = dec.decode(exporter, &f.bytes, &mut out);
        n += 1;
    }
    for f in &all {
        for cut in (0..f.bytes.len()).step_by(3) {
            let _ = dec.decode(exporter, &f.bytes[..cut], &mut out);
            n += 1;
        }
        for pos in (0..f.bytes.len()).step_by(5) {
            let mut d = f.bytes.clone();
            d[pos] ^= 0xA5;
            let _ = dec.decode(exporter, &d, &mut out);
            n += 1;
        }
        out.clear();
    }
    assert_eq!(dec.stats().datagrams, n);
    assert!(dec.stats().total_errors() > 0);
    // All files back to back, as a file of raw datagrams: the splitter finds each one.
    let joined: Vec<u8> = all.iter().flat_map(|f| f.bytes.iter().copied()).collect();
    let parts: Vec<_> = split_datagrams(&joined).collect();
    let starts: Vec<usize> = all
        .iter()
        .scan(0, |off, f| {
            let s = *off;
            *off += f.bytes.len();
            Some(s)
        })
        .collect();
    let found = parts.iter().filter(|(o, _)| starts.contains(o)).count();
    println!(
        "split: {} parts, {found} of {} datagram starts found",
        parts.len(),
        all.len()
    );
    assert!(found >= 85, "only {found} datagram starts found");
    assert_eq!(
        parts.iter().map(|(_, d)| d.len()).sum::<usize>(),
        joined.len()
    );
}

#[test]
fn short_and_unknown_headers_are_errors() {
    let exporter: SocketAddr = "192.0.2.8:2055".parse().unwrap();
    let mut dec = Decoder::new();
    let mut out = Vec::new();
    assert!(matches!(
        dec.decode(exporter, &[0], &mut out),
        Err(DecodeError::TruncatedHeader { len: 1 })
    ));
    assert!(matches!(
        dec.decode(exporter, &[0, 7, 0, 0], &mut out),
        Err(DecodeError::UnsupportedVersion(7))
    ));
    assert!(matches!(
        dec.decode(
            exporter,
            &[0, 10, 0, 99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            &mut out
        ),
        Err(DecodeError::BadLength {
            declared: 99,
            actual: 16
        })
    ));
    assert_eq!(dec.stats().error_count(Problem::TruncatedHeader), 1);
    assert_eq!(dec.stats().error_count(Problem::UnsupportedVersion), 1);
    assert_eq!(dec.stats().error_count(Problem::BadLength), 1);
    let names: Vec<_> = dec.stats().errors().map(|(p, n)| (p.as_str(), n)).collect();
    assert_eq!(
        names,
        vec![
            ("truncated-header", 1),
            ("unsupported-version", 1),
            ("bad-length", 1)
        ]
    );
}
