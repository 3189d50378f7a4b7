//! Parse speed of conn records, TSV and JSON, over a generated in-memory conn.log of
//! 100,000 records shaped like Zeek 6's defaults.
//!
//! `cargo bench -p sekisho-zeek -- --warm-up-time 1 --measurement-time 3`
//!
//! * `parse/*`: the pure line parsers alone (lines already in memory);
//! * `reader/*`: the whole [`LogReader`] (line reading, stats) over the same bytes, plain and
//!   gzip.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sekisho_event::RunStats;
use sekisho_zeek::tsv::{TsvHeader, parse_line};
use sekisho_zeek::{LogFile, LogKind, LogReader, json};
use std::hint::black_box;
use std::io::Write;
use std::sync::Arc;

const RECORDS: usize = 100_000;

const TSV_HEADER: &str = "#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tconn
#open\t2024-04-12-19-29-13
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]
";

/// One generated record's values.
struct Conn {
    ts: String,
    uid: String,
    orig: String,
    orig_p: u16,
    resp: String,
    resp_p: u16,
    proto: &'static str,
    service: &'static str,
    duration: String,
    orig_bytes: u64,
    resp_bytes: u64,
    state: &'static str,
    history: &'static str,
    orig_pkts: u64,
    resp_pkts: u64,
}

fn generate() -> Vec<Conn> {
    // xorshift: deterministic, no dependency.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    const SERVICES: &[(&str, &str, u16)] = &[
        ("tcp", "ssl", 443),
        ("udp", "dns", 53),
        ("tcp", "gssapi,smb,krb", 445),
        ("tcp", "http", 80),
        ("tcp", "-", 3389),
        ("udp", "-", 123),
        ("tcp", "-", 22),
    ];
    const STATES: &[(&str, &str)] = &[
        ("SF", "ShADadFf"),
        ("S0", "S"),
        ("RSTO", "ShADdaR"),
        ("REJ", "Sr"),
        ("SF", "Dd"),
    ];
    let base = 1_521_911_721_000_000u64;
    (0..RECORDS)
        .map(|i| {
            let r = next();
            let (proto, service, resp_p) = SERVICES[(r % SERVICES.len() as u64) as usize];
            let (state, history) = STATES[((r >> 8) % STATES.len() as u64) as usize];
            let ts = base + i as u64 * 1_000 + (r >> 40) % 1_000;
            let dur = (r >> 20) % 100_000_000;
            let uid: String = (0..17)
                .map(|k| {
                    let c = ((r >> (k * 3)) % 62) as u8;
                    (match c {
                        0..=9 => b'0' + c,
                        10..=35 => b'A' + c - 10,
                        _ => b'a' + c - 36,
                    }) as char
                })
                .collect();
            Conn {
                ts: format!("{}.{:06}", ts / 1_000_000, ts % 1_000_000),
                uid: format!("C{uid}"),
                orig: format!("10.{}.{}.{}", r % 200, (r >> 16) % 256, (r >> 24) % 254 + 1),
                orig_p: 1024 + (r >> 32) as u16 % 60000,
                resp: format!("10.47.{}.{}", (r >> 36) % 256, (r >> 44) % 254 + 1),
                resp_p,
                proto,
                service,
                duration: format!("{}.{:06}", dur / 1_000_000, dur % 1_000_000),
                orig_bytes: (r >> 12) % 100_000,
                resp_bytes: (r >> 28) % 1_000_000,
                state,
                history,
                orig_pkts: (r >> 5) % 1000,
                resp_pkts: (r >> 9) % 1000,
            }
        })
        .collect()
}

fn tsv_log(conns: &[Conn]) -> Vec<u8> {
    let mut out = TSV_HEADER.as_bytes().to_vec();
    for c in conns {
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\tT\tT\t0\t{}\t{}\t{}\t{}\t{}\t(empty)",
            c.ts,
            c.uid,
            c.orig,
            c.orig_p,
            c.resp,
            c.resp_p,
            c.proto,
            c.service,
            c.duration,
            c.orig_bytes,
            c.resp_bytes,
            c.state,
            c.history,
            c.orig_pkts,
            c.orig_pkts * 40 + c.orig_bytes,
            c.resp_pkts,
            c.resp_pkts * 40 + c.resp_bytes
        )
        .unwrap();
    }
    out
}

/// As Zeek's JSON writer with `_path` and `_write_ts` (the wrccdc-2018 layout).
fn json_log(conns: &[Conn]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in conns {
        let service = if c.service == "-" {
            String::new()
        } else {
            format!(",\"service\":\"{}\"", c.service)
        };
        writeln!(
            out,
            "{{\"_path\":\"conn\",\"_write_ts\":\"2018-03-24T17:15:21.400275Z\",\"ts\":{},\"uid\":\"{}\",\"id.orig_h\":\"{}\",\"id.orig_p\":{},\"id.resp_h\":\"{}\",\"id.resp_p\":{},\"proto\":\"{}\"{service},\"duration\":{},\"orig_bytes\":{},\"resp_bytes\":{},\"conn_state\":\"{}\",\"local_orig\":true,\"local_resp\":true,\"missed_bytes\":0,\"history\":\"{}\",\"orig_pkts\":{},\"orig_ip_bytes\":{},\"resp_pkts\":{},\"resp_ip_bytes\":{}}}",
            c.ts, c.uid, c.orig, c.orig_p, c.resp, c.resp_p, c.proto, c.duration,
            c.orig_bytes, c.resp_bytes, c.state, c.history, c.orig_pkts, c.orig_pkts * 40 + c.orig_bytes,
            c.resp_pkts, c.resp_pkts * 40 + c.resp_bytes
        )
        .unwrap();
    }
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn read_all(name: &str, bytes: &'static [u8]) -> u64 {
    let mut stats = RunStats::default();
    let file = LogFile::new(name);
    let mut reader =
        LogReader::from_read(&file, Box::new(std::io::Cursor::new(bytes)), &mut stats).unwrap();
    while let Some(r) = reader.next_record(&mut stats) {
        black_box(r);
    }
    assert_eq!(stats.parsed, RECORDS as u64);
    stats.parsed
}

fn bench(c: &mut Criterion) {
    let conns = generate();
    let tsv = tsv_log(&conns);
    let json_bytes = json_log(&conns);
    let sensor: Arc<str> = Arc::from("bench");

    let mut header = TsvHeader::new(None);
    let mut data_start = 0;
    for line in tsv.split(|&b| b == b'\n') {
        if line.first() != Some(&b'#') {
            break;
        }
        header.apply(line).unwrap();
        data_start += line.len() + 1;
    }
    let tsv_lines: Vec<&[u8]> = tsv[data_start..]
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let json_lines: Vec<&[u8]> = json_bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(tsv_lines.len(), RECORDS);
    assert!(
        tsv_lines
            .iter()
            .all(|l| matches!(parse_line(&header, l, &sensor), Ok(Some(_))))
    );
    assert!(
        json_lines
            .iter()
            .all(|l| matches!(json::parse_line(l, None, &sensor), Ok(Some(_))))
    );

    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(RECORDS as u64));
    g.bench_function("tsv_conn", |b| {
        b.iter(|| {
            for line in &tsv_lines {
                black_box(parse_line(&header, line, &sensor).ok());
            }
        })
    });
    g.bench_function("json_conn", |b| {
        b.iter(|| {
            for line in &json_lines {
                black_box(json::parse_line(line, Some(&LogKind::Conn), &sensor).ok());
            }
        })
    });
    g.finish();

    // The reader takes an owned `'static` source; leak one copy rather than copying the
    // input on every iteration.
    let tsv_gz: &'static [u8] = gzip(&tsv).leak();
    let tsv: &'static [u8] = tsv.clone().leak();
    let json_bytes: &'static [u8] = json_bytes.clone().leak();
    let mut g = c.benchmark_group("reader");
    g.throughput(Throughput::Elements(RECORDS as u64));
    g.bench_function("tsv_conn", |b| b.iter(|| read_all("conn.log", tsv)));
    g.bench_function("json_conn", |b| {
        b.iter(|| read_all("conn.json", json_bytes))
    });
    g.bench_function("tsv_conn_gzip", |b| {
        b.iter(|| read_all("conn.log.gz", tsv_gz))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
