//! Flows from real captures checked against an independent tool: Wireshark's `tshark`
//! (Debian package `tshark`).
//!
//! The OTRF lateral-movement captures (Windows workstations during PsExec, WMI, DCOM, WinRM
//! and SMB techniques) are read in memory from their zip archives. tshark prints one line
//! per frame with its TCP/UDP stream index; its streams are tshark's conversations. We then
//! require, for every capture:
//!
//! * the same packets read (including a capture cut in the middle of its last record);
//! * the same TCP and UDP conversations (5-tuples), with exactly the same packets, frame
//!   bytes (`frame.len`), IP bytes (`ip.len`, or 40 + `ipv6.plen`) and payload bytes
//!   (`tcp.len`, `udp.length` − 8) in each direction — including segments captured before
//!   TCP segmentation offload, whose IPv4 length field is 0 (both take the frame's length);
//! * where tshark has as many streams for a 5-tuple as we have flows, each flow equal to its
//!   stream (start time, originator, counts each way); where we have more, every extra cut
//!   is one of the documented definitional differences (idle timeout, FIN/RST close then
//!   reuse) — tshark never splits a conversation on time;
//! * the originator equal to the sender of the stream's first frame, unless that frame is a
//!   SYN-ACK (then the receiver).

use sekisho_pcap::{EndReason, FlowConfig, FlowRecord, PcapFlows, ReadError, ip_proto};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::IpAddr;
use std::process::{Command, Stdio};

fn data_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/pcap/otrf-lateral-movement"
    ))
}

/// Every `.cap` inside every zip archive, read in memory.
fn captures() -> Vec<(String, Vec<u8>)> {
    let mut zips: Vec<_> = std::fs::read_dir(data_dir())
        .expect("shared data: pcap/otrf-lateral-movement")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "zip"))
        .collect();
    zips.sort();
    let mut out = Vec::new();
    for z in zips {
        let file = std::fs::File::open(&z).expect("open zip");
        let mut archive = zip::ZipArchive::new(file).expect("read zip");
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).expect("zip entry");
            let name = entry.name().expect("entry name").to_string();
            if !name.ends_with(".cap") {
                continue;
            }
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).expect("inflate");
            out.push((name, bytes));
        }
    }
    assert_eq!(out.len(), 15, "expected the 15 OTRF captures");
    out
}

const FIELDS: &[&str] = &[
    "frame.number",
    "frame.time_epoch",
    "frame.len",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.stream",
    "tcp.flags",
    "udp.srcport",
    "udp.dstport",
    "udp.stream",
    "ip.len",
    "ipv6.plen",
    "tcp.len",
    "udp.length",
];

/// Runs tshark over the capture bytes (stdin) and returns one field vector per frame.
fn tshark_frames(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut args: Vec<&str> = vec![
        "-r",
        "-",
        "-n",
        // One stream per 5-tuple lifetime, as tshark's own conversation tables.
        "-T",
        "fields",
        "-E",
        "separator=\t",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ];
    for f in FIELDS {
        args.push("-e");
        args.push(f);
    }
    let mut child = match Command::new("tshark")
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("tshark not runnable ({e}): install the Debian package `tshark`"),
    };
    let mut stdin = child.stdin.take().expect("stdin");
    let owned = bytes.to_vec();
    let writer = std::thread::spawn(move || {
        // tshark may stop reading at a truncated record: a broken pipe is fine.
        let _ = stdin.write_all(&owned);
    });
    let out = child.wait_with_output().expect("tshark output");
    writer.join().expect("writer thread");
    let text = String::from_utf8(out.stdout).expect("tshark prints UTF-8");
    assert!(
        !text.is_empty(),
        "tshark printed nothing: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn micros(epoch: &str) -> i64 {
    let (s, frac) = epoch.split_once('.').unwrap_or((epoch, "0"));
    let mut f = frac.to_string();
    f.truncate(6);
    while f.len() < 6 {
        f.push('0');
    }
    s.parse::<i64>().expect("secs") * 1_000_000 + f.parse::<i64>().expect("frac")
}

type Ep = (IpAddr, u16);

/// (packets, frame bytes, IP bytes, payload bytes) of one direction.
type Counts = (u64, u64, u64, u64);

fn counts(c: &sekisho_pcap::DirCounts) -> Counts {
    (c.pkts, c.frame_bytes, c.ip_bytes, c.payload_bytes)
}

#[derive(Debug, Default, Clone)]
struct Stream {
    first_src: Option<Ep>,
    first_dst: Option<Ep>,
    first_ts: i64,
    first_synack: bool,
    /// Counts by sending endpoint.
    by_src: BTreeMap<Ep, Counts>,
}

/// Canonical key of an endpoint pair.
fn canon(proto: u8, a: Ep, b: Ep) -> (u8, Ep, Ep) {
    if a <= b { (proto, a, b) } else { (proto, b, a) }
}

struct Outcome {
    packets: u64,
    read_error: Option<String>,
    flows: Vec<FlowRecord>,
    truncated: u64,
}

fn ours(bytes: &[u8]) -> Outcome {
    let mut pf = PcapFlows::new(bytes, FlowConfig::default()).expect("open capture");
    let flows: Vec<FlowRecord> = pf.by_ref().collect();
    let read_error = pf.error().map(|e: &ReadError| e.reason().to_string());
    let st = pf.stats().clone();
    assert_eq!(
        st.packets_read,
        st.decoded
            + st.non_ip
            + st.errors_by_reason
                .iter()
                .filter(|(k, _)| !k.contains("file"))
                .map(|(_, v)| v)
                .sum::<u64>(),
        "every packet is decoded, non-IP or counted as an error: {st:?}"
    );
    Outcome {
        packets: st.packets_read,
        read_error,
        flows,
        truncated: st.truncated,
    }
}

#[test]
fn flows_match_tshark_conversations_on_every_otrf_capture() {
    let mut total_flows = 0usize;
    let mut total_streams = 0usize;
    let mut splits = 0usize;
    let mut truncated_files = 0;
    for (name, bytes) in captures() {
        let frames = tshark_frames(&bytes);
        let got = ours(&bytes);
        assert_eq!(got.packets, frames.len() as u64, "{name}: packets read");
        if got.read_error.is_some() {
            // A capture cut inside its last record: tshark stops at the same place.
            assert_eq!(got.read_error.as_deref(), Some("truncated-file"), "{name}");
            assert_eq!(got.truncated, 1, "{name}");
            truncated_files += 1;
        }

        let mut streams: BTreeMap<(u8, u64), Stream> = BTreeMap::new();
        for f in &frames {
            let g = |i: usize| f.get(i).map(String::as_str).unwrap_or("");
            let (src, dst) = if !g(3).is_empty() {
                (g(3), g(4))
            } else {
                (g(5), g(6))
            };
            assert!(
                !src.contains(',') && !g(9).contains(',') && !g(13).contains(','),
                "{name}: frame {} is tunnelled or quotes another packet; not expected in this data",
                g(0)
            );
            let (proto, sport, dport, stream) = if !g(9).is_empty() {
                (ip_proto::TCP, g(7), g(8), g(9))
            } else if !g(13).is_empty() {
                (ip_proto::UDP, g(11), g(12), g(13))
            } else {
                continue;
            };
            let s: Ep = (src.parse().expect("ip"), sport.parse().expect("port"));
            let d: Ep = (dst.parse().expect("ip"), dport.parse().expect("port"));
            let e = streams
                .entry((proto, stream.parse().expect("stream")))
                .or_default();
            if e.first_src.is_none() {
                e.first_src = Some(s);
                e.first_dst = Some(d);
                e.first_ts = micros(g(1));
                let flags = u16::from_str_radix(g(10).trim_start_matches("0x"), 16).unwrap_or(0);
                e.first_synack = proto == ip_proto::TCP && flags & 0x12 == 0x12;
            }
            let num = |i: usize| g(i).parse::<u64>().unwrap_or(0);
            let ip_bytes = if !g(3).is_empty() {
                num(14)
            } else {
                num(15) + 40
            };
            let payload = if proto == ip_proto::TCP {
                num(16)
            } else {
                num(17).saturating_sub(8)
            };
            let c = e.by_src.entry(s).or_default();
            c.0 += 1;
            c.1 += num(2);
            c.2 += ip_bytes;
            c.3 += payload;
        }

        // Per 5-tuple and direction totals must be identical.
        let mut theirs: BTreeMap<(u8, Ep, Ep), u64> = BTreeMap::new();
        let mut theirs_dir: BTreeMap<(u8, Ep, Ep), Counts> = BTreeMap::new();
        for ((proto, _), st) in &streams {
            let (a, b) = (st.first_src.expect("src"), st.first_dst.expect("dst"));
            *theirs.entry(canon(*proto, a, b)).or_default() += 1;
            for (src, c) in &st.by_src {
                let dst = if *src == a { b } else { a };
                let t = theirs_dir.entry((*proto, *src, dst)).or_default();
                t.0 += c.0;
                t.1 += c.1;
                t.2 += c.2;
                t.3 += c.3;
            }
        }
        let mut mine: BTreeMap<(u8, Ep, Ep), Vec<&FlowRecord>> = BTreeMap::new();
        let mut mine_dir: BTreeMap<(u8, Ep, Ep), Counts> = BTreeMap::new();
        for r in got
            .flows
            .iter()
            .filter(|r| matches!(r.proto(), ip_proto::TCP | ip_proto::UDP))
        {
            mine.entry(canon(r.proto(), r.orig, r.resp))
                .or_default()
                .push(r);
            for (src, dst, c) in [
                (r.orig, r.resp, r.orig_counts),
                (r.resp, r.orig, r.resp_counts),
            ] {
                if c.pkts > 0 {
                    let t = mine_dir.entry((r.proto(), src, dst)).or_default();
                    t.0 += c.pkts;
                    t.1 += c.frame_bytes;
                    t.2 += c.ip_bytes;
                    t.3 += c.payload_bytes;
                }
            }
        }
        assert_eq!(
            mine.keys().collect::<Vec<_>>(),
            theirs.keys().collect::<Vec<_>>(),
            "{name}: same conversations"
        );
        assert_eq!(
            mine_dir, theirs_dir,
            "{name}: packets, frame bytes, IP bytes and payload bytes per direction"
        );

        // Stream by stream.
        let mut by_key: BTreeMap<(u8, Ep, Ep), Vec<&Stream>> = BTreeMap::new();
        for ((proto, _), st) in &streams {
            let k = canon(
                *proto,
                st.first_src.expect("src"),
                st.first_dst.expect("dst"),
            );
            by_key.entry(k).or_default().push(st);
        }
        for (k, ts) in &mut by_key {
            ts.sort_by_key(|s| s.first_ts);
            let ms = &mine[k];
            total_streams += ts.len();
            total_flows += ms.len();
            if ms.len() == ts.len() {
                for (m, t) in ms.iter().zip(ts.iter()) {
                    assert_eq!(m.start_us, t.first_ts, "{name} {k:?}: start");
                    let (o, r) = if t.first_synack {
                        (t.first_dst, t.first_src)
                    } else {
                        (t.first_src, t.first_dst)
                    };
                    assert_eq!(
                        (Some(m.orig), Some(m.resp)),
                        (o, r),
                        "{name} {k:?}: originator"
                    );
                    let want_o = t.by_src.get(&m.orig).copied().unwrap_or_default();
                    let want_r = t.by_src.get(&m.resp).copied().unwrap_or_default();
                    assert_eq!(
                        (counts(&m.orig_counts), counts(&m.resp_counts)),
                        (want_o, want_r),
                        "{name} {k:?}: counts each way"
                    );
                }
            } else {
                assert!(
                    ms.len() > ts.len(),
                    "{name} {k:?}: tshark splits more ({}) than we do ({})",
                    ts.len(),
                    ms.len()
                );
                splits += ms.len() - ts.len();
                for m in &ms[..ms.len() - 1] {
                    assert!(
                        matches!(
                            m.end,
                            EndReason::Idle | EndReason::Closed | EndReason::Reused
                        ),
                        "{name} {k:?}: unexplained cut {:?}",
                        m.end
                    );
                }
            }
        }
    }
    eprintln!(
        "tshark comparison: {total_streams} streams, {total_flows} flows, {splits} extra cuts by timeouts/close, {truncated_files} truncated captures"
    );
    assert!(total_streams > 100, "the captures hold many conversations");
    assert!(
        truncated_files >= 1,
        "some OTRF captures end inside a record"
    );
}
