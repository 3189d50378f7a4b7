//! A NetFlow v9 / IPFIX load generator for measuring `sekisho serve`.
//!
//! `sekisho-loadgen TARGET RECORDS_PER_SEC SECONDS [v9|ipfix]` sends over UDP;
//! `sekisho-loadgen --file PATH RECORDS [v9|ipfix]` writes the same datagrams back to back
//! into a file (what `sekisho analyze` reads as raw NetFlow, and what a side-by-side run
//! replays into other collectors).
//!
//! Sends bi-directional flow records (each connection as two records, as routers export
//! them) between hosts of 10.10-10.60/16 (mostly within one /16) at a steady rate, paced every millisecond, and prints
//! what it sent. Records per datagram: 30 (a 1500-byte MTU's worth).

use sekisho_netflow::encode::Encoder;
use sekisho_netflow::{FlowRecord, Version};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

const PER_DATAGRAM: usize = 30;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).is_some_and(|a| a == "--file") && args.len() >= 4 {
        write_file(&args);
        return;
    }
    if args.len() < 4 {
        eprintln!("usage: sekisho-loadgen TARGET RECORDS_PER_SEC SECONDS [v9|ipfix]");
        std::process::exit(2);
    }
    let parse = |i: usize, what: &str| -> u64 {
        args[i].parse().unwrap_or_else(|_| {
            eprintln!("bad {what}: {}", args[i]);
            std::process::exit(2)
        })
    };
    let target: SocketAddr = args[1].parse().unwrap_or_else(|_| {
        eprintln!("bad target address: {}", args[1]);
        std::process::exit(2)
    });
    let rate = parse(2, "rate");
    let seconds = parse(3, "seconds");
    let ipfix = args.get(4).is_some_and(|v| v == "ipfix");
    let socket = UdpSocket::bind(if target.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    })
    .expect("bind a UDP socket");
    let exporter = socket.local_addr().expect("local address");
    let mut encoder = if ipfix {
        Encoder::ipfix(1)
    } else {
        Encoder::v9(1)
    };
    let version = if ipfix { Version::Ipfix } else { Version::V9 };

    let total = rate * seconds;
    let start = Instant::now();
    let mut sent_records = 0u64;
    let mut sent_datagrams = 0u64;
    let mut batch = Vec::with_capacity(PER_DATAGRAM);
    let mut n = 0u64;
    let export_secs = EXPORT_SECS;
    socket
        .send_to(&encoder.templates(export_secs), target)
        .expect("send templates");
    while sent_records < total {
        // Where we should be by now; send what is due, then wait a millisecond.
        let due = (start.elapsed().as_secs_f64() * rate as f64) as u64;
        while sent_records < due.min(total) {
            let d = next_datagram(&mut encoder, &mut batch, &mut n, exporter, version);
            if socket.send_to(&d, target).is_ok() {
                sent_datagrams += 1;
                sent_records += batch.len() as u64;
            }
            if sent_datagrams.is_multiple_of(1000) {
                // Templates again now and then, as exporters do.
                let _ = socket.send_to(&encoder.templates(export_secs), target);
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "sent {sent_records} records in {sent_datagrams} datagrams over {secs:.2} s ({:.0} records/s)",
        sent_records as f64 / secs
    );
}

fn write_file(args: &[String]) {
    use std::io::Write;
    let records: u64 = args[3].parse().unwrap_or_else(|_| {
        eprintln!("bad record count: {}", args[3]);
        std::process::exit(2)
    });
    let ipfix = args.get(4).is_some_and(|v| v == "ipfix");
    let exporter: SocketAddr = "192.0.2.1:40000".parse().expect("literal");
    let mut encoder = if ipfix {
        Encoder::ipfix(1)
    } else {
        Encoder::v9(1)
    };
    let version = if ipfix { Version::Ipfix } else { Version::V9 };
    let file = std::fs::File::create(&args[2]).unwrap_or_else(|e| {
        eprintln!("cannot create {}: {e}", args[2]);
        std::process::exit(2)
    });
    let mut out = std::io::BufWriter::new(file);
    let export_secs = EXPORT_SECS;
    let mut written = 0u64;
    let mut n = 0u64;
    let mut batch = Vec::with_capacity(PER_DATAGRAM);
    out.write_all(&encoder.templates(export_secs))
        .expect("write");
    while written < records {
        let d = next_datagram(&mut encoder, &mut batch, &mut n, exporter, version);
        out.write_all(&d).expect("write");
        written += batch.len() as u64;
    }
    out.flush().expect("write");
    println!("wrote {written} records to {}", args[2]);
}

/// Export time of the whole run: flows are dated relative to it.
const EXPORT_SECS: u32 = 1_700_000_000;

/// The next data datagram: connections `n`, `n + 1`, ... as record pairs.
fn next_datagram(
    encoder: &mut Encoder,
    batch: &mut Vec<FlowRecord>,
    n: &mut u64,
    exporter: SocketAddr,
    version: Version,
) -> Vec<u8> {
    batch.clear();
    while batch.len() < PER_DATAGRAM {
        let (a, b) = record_pair(exporter, version, *n, EXPORT_SECS);
        batch.push(a);
        batch.push(b);
        *n += 1;
    }
    encoder.data(EXPORT_SECS + (*n / 100_000) as u32, batch)
}

/// Connection `n`: a client talking to a server of its own /16 (one in fifty crosses to
/// another), both directions — an enterprise's mix, where most traffic stays in its site.
fn record_pair(
    exporter: SocketAddr,
    version: Version,
    n: u64,
    export_secs: u32,
) -> (FlowRecord, FlowRecord) {
    let client = Ipv4Addr::new(
        10,
        (n % 6) as u8 * 10 + 10,
        ((n >> 8) % 250) as u8,
        (n % 250) as u8 + 1,
    );
    let site = if n.is_multiple_of(50) {
        (n + 1) % 6
    } else {
        n % 6
    };
    let server = Ipv4Addr::new(10, site as u8 * 10 + 10, 5, (n % 20) as u8 + 1);
    let mut a = FlowRecord::empty(exporter, version);
    a.src_ip = IpAddr::V4(client);
    a.dst_ip = IpAddr::V4(server);
    a.src_port = 20_000 + (n % 40_000) as u16;
    a.dst_port = [443, 445, 53, 80, 3389][(n % 5) as usize];
    a.protocol = if a.dst_port == 53 { 17 } else { 6 };
    a.tcp_flags = 0x1b;
    a.raw_bytes = 500 + n % 5000;
    a.raw_packets = 4 + n % 20;
    let t = sekisho_event::Timestamp::from_micros(
        (i64::from(export_secs) - 5) * 1_000_000 + (n % 1000) as i64 * 1000,
    );
    a.start = Some(t);
    a.end = Some(t);
    let mut b = a.clone();
    std::mem::swap(&mut b.src_ip, &mut b.dst_ip);
    std::mem::swap(&mut b.src_port, &mut b.dst_port);
    b.raw_bytes = 2000 + n % 50_000;
    (a, b)
}
