//! Decoding checked against an independent decoder: Wireshark's `cflow` dissector.
//!
//! Each vendor's datagrams (templates first, then data) are wrapped into one pcap with
//! `text2pcap -u 2055,2055` and decoded by `tshark -d udp.port==2055,cflow -T json`; the same
//! datagrams go through [`Decoder`]. Every field both produce is compared per record:
//! addresses, ports, protocol, octets, packets (forward and reverse), interfaces, TCP
//! flags, start and end times, template ids and sampling intervals.
//!
//! Needs Debian's `tshark` package (which brings `text2pcap`); without it the test fails.

mod common;

use sekisho_netflow::{Decoder, FlowRecord};
use serde_json::Value;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;

fn require_tools() {
    for (tool, arg) in [
        ("tshark", "--version"),
        ("text2pcap", "-h"),
        ("mergecap", "-h"),
    ] {
        let ok = Command::new(tool)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            ok,
            "`{tool}` is required for this test: install the Debian package `tshark` \
             (DEBIAN_FRONTEND=noninteractive apt-get install -y tshark), which brings \
             text2pcap and mergecap"
        );
    }
}

/// Writes datagrams as a hexdump the way text2pcap reads it (offsets restart at 0 for
/// each packet) and turns it into a pcap of UDP packets on port 2055.
fn make_pcap(dir: &Path, name: &str, src_port: u16, payloads: &[&[u8]]) -> PathBuf {
    let mut hex = String::new();
    for p in payloads {
        for (i, chunk) in p.chunks(16).enumerate() {
            hex.push_str(&format!("{:06x}", i * 16));
            for b in chunk {
                hex.push_str(&format!(" {b:02x}"));
            }
            hex.push('\n');
        }
    }
    let txt = dir.join(format!("{name}.txt"));
    let pcap = dir.join(format!("{name}.pcap"));
    std::fs::write(&txt, hex).expect("write hexdump");
    let out = Command::new("text2pcap")
        .args(["-q", "-u", &format!("{src_port},2055")])
        .arg(&txt)
        .arg(&pcap)
        .output()
        .expect("run text2pcap");
    assert!(out.status.success(), "text2pcap failed: {out:?}");
    pcap
}

fn tshark_json(pcap: &Path) -> Vec<Value> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args([
            "-d",
            "udp.port==2055,cflow",
            "-T",
            "json",
            "--no-duplicate-keys",
        ])
        .output()
        .expect("run tshark");
    assert!(out.status.success(), "tshark failed: {out:?}");
    match serde_json::from_slice(&out.stdout).expect("tshark JSON") {
        Value::Array(v) => v,
        other => panic!("tshark JSON is not an array: {other}"),
    }
}

/// Every (name, string value) under `v`, depth first, duplicates (arrays) spread out.
fn flatten(v: &Value, out: &mut Vec<(String, String)>) {
    if let Value::Object(m) = v {
        for (k, v) in m {
            match v {
                Value::String(s) => out.push((k.clone(), s.clone())),
                Value::Array(a) => {
                    for x in a {
                        match x {
                            Value::String(s) => out.push((k.clone(), s.clone())),
                            other => flatten(other, out),
                        }
                    }
                }
                Value::Object(_) => flatten(v, out),
                _ => {}
            }
        }
    }
}

struct Rec(Vec<(String, String)>);

impl Rec {
    fn all(&self, keys: &[&str]) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| keys.contains(&k.as_str()))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    fn one(&self, key: &str) -> Option<&str> {
        self.all(&[key]).first().copied()
    }
}

fn num(s: &str) -> u64 {
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).unwrap_or(u64::MAX),
        None => s.parse().unwrap_or(u64::MAX),
    }
}

/// tshark's relative times (`1704740.613000000` seconds) as milliseconds.
fn rel_ms(s: &str) -> u64 {
    let (secs, frac) = s.split_once('.').unwrap_or((s, "0"));
    let ms: String = frac.chars().chain("000".chars()).take(3).collect();
    num(secs) * 1000 + num(&ms)
}

/// tshark's absolute times (`Dec 25, 2016 12:58:35.818000000 UTC`) as µs since the epoch.
fn abs_us(s: &str) -> Option<i64> {
    let norm = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let t = chrono::NaiveDateTime::parse_from_str(&norm, "%b %d, %Y %H:%M:%S%.f UTC").ok()?;
    // tshark shows the epoch itself when a v9/IPFIX record lists its end before its start
    // (nProbe, ipfix.dat): its own placeholder, not a time the exporter sent.
    Some(t.and_utc().timestamp_micros()).filter(|&us| us != 0)
}

#[derive(Default)]
struct Tally {
    files: usize,
    records: usize,
    fields: usize,
    by_field: std::collections::BTreeMap<&'static str, usize>,
    mismatches: Vec<String>,
}

impl Tally {
    fn check(&mut self, ctx: &str, field: &'static str, theirs: &[String], mine: &str) {
        if theirs.is_empty() {
            return;
        }
        self.fields += 1;
        *self.by_field.entry(field).or_default() += 1;
        if !theirs.iter().any(|t| t == mine) {
            self.mismatches
                .push(format!("{ctx}: {field}: tshark {theirs:?}, sekisho {mine}"));
        }
    }
}

/// Header facts tshark shows for one datagram.
struct Hdr {
    /// systemInitTimeMilliseconds from the exporter's options data (IPFIX uptime times).
    sys_init_us: Option<i64>,
    version: u64,
    uptime_ms: u64,
    export_us: i64,
}

/// Sampling state as learned from tshark's options records.
#[derive(Default)]
struct Sampling {
    default: Option<u64>,
    samplers: HashMap<u64, u64>,
}

fn rate_of(r: &Rec) -> Option<u64> {
    if let Some(i) = r
        .one("cflow.sampling_interval")
        .or(r.one("cflow.sampler_random_interval"))
        .map(num)
        .filter(|&i| i > 0)
    {
        return Some(i);
    }
    if let Some(i) = r
        .one("cflow.sampling_packet_interval")
        .map(num)
        .filter(|&i| i > 0)
    {
        return Some(match r.one("cflow.sampling_packet_space").map(num) {
            Some(s) => (i + s) / i,
            None => i,
        });
    }
    None
}

fn sampler_of(r: &Rec) -> Option<u64> {
    r.one("cflow.sampler_id")
        .or(r.one("cflow.selector_id"))
        .map(num)
}

fn compare(
    t: &mut Tally,
    ctx: &str,
    h: &Hdr,
    set_id: Option<u64>,
    r: &Rec,
    m: &FlowRecord,
    s: &Sampling,
) {
    let strs =
        |keys: &[&str]| -> Vec<String> { r.all(keys).iter().map(|v| v.to_string()).collect() };
    let ips = |keys: &[&str]| -> Vec<String> {
        r.all(keys)
            .iter()
            .filter_map(|v| v.parse::<IpAddr>().ok())
            .map(|ip| ip.to_string())
            .collect()
    };
    t.records += 1;
    t.check(
        ctx,
        "src addr",
        &ips(&["cflow.srcaddr", "cflow.srcaddrv6"]),
        &m.src_ip.to_string(),
    );
    t.check(
        ctx,
        "dst addr",
        &ips(&["cflow.dstaddr", "cflow.dstaddrv6"]),
        &m.dst_ip.to_string(),
    );
    t.check(
        ctx,
        "src port",
        &strs(&["cflow.srcport"]),
        &m.src_port.to_string(),
    );
    t.check(
        ctx,
        "dst port",
        &strs(&["cflow.dstport"]),
        &m.dst_port.to_string(),
    );
    t.check(
        ctx,
        "protocol",
        &strs(&["cflow.protocol"]),
        &m.protocol.to_string(),
    );
    t.check(
        ctx,
        "input if",
        &strs(&["cflow.inputint"]),
        &m.ingress_if.to_string(),
    );
    t.check(
        ctx,
        "output if",
        &strs(&["cflow.outputint"]),
        &m.egress_if.to_string(),
    );
    let flags: Vec<String> = r
        .all(&["cflow.tcpflags"])
        .iter()
        .map(|v| (num(v) & 0xFFFF).to_string())
        .collect();
    t.check(ctx, "tcp flags", &flags, &m.tcp_flags.to_string());
    // Counters: forward and, for bi-flows, reverse values appear under the same names.
    const OCTETS: &[&str] = &[
        "cflow.octets",
        "cflow.octets64",
        "cflow.permanent_octets",
        "cflow.initiator_octets",
    ];
    const PACKETS: &[&str] = &[
        "cflow.packets",
        "cflow.packets64",
        "cflow.permanent_packets",
        "cflow.initiator_packets",
    ];
    const REV_OCTETS: &[&str] = &["cflow.responder_octets"];
    const REV_PACKETS: &[&str] = &["cflow.responder_packets"];
    let as_num =
        |keys: &[&str]| -> Vec<String> { r.all(keys).iter().map(|v| num(v).to_string()).collect() };
    t.check(ctx, "octets", &as_num(OCTETS), &m.raw_bytes.to_string());
    t.check(ctx, "packets", &as_num(PACKETS), &m.raw_packets.to_string());
    // Reverse values: RFC 5103 reverse elements come under the forward names (a second
    // value), NSEL responder counters under their own.
    if let Some(rev) = m.reverse {
        for (what, fwd, back, mine) in [
            ("reverse octets", OCTETS, REV_OCTETS, rev.raw_bytes),
            ("reverse packets", PACKETS, REV_PACKETS, rev.raw_packets),
        ] {
            let theirs = if r.all(fwd).len() >= 2 {
                as_num(&[fwd, back].concat())
            } else {
                as_num(back)
            };
            t.check(ctx, what, &theirs, &mine.to_string());
        }
    }
    if let Some(id) = set_id {
        t.check(
            ctx,
            "template id",
            &[id.to_string()],
            &m.template_id.to_string(),
        );
    }
    // Times: absolute ones as they are, uptime-relative ones (v5/v9) converted here from
    // tshark's header values.
    let us = |ts: Option<sekisho_event::Timestamp>| {
        ts.map_or("none".to_string(), |x| x.as_micros().to_string())
    };
    let abs = |key: &str| -> Vec<String> {
        r.all(&[key])
            .iter()
            .filter_map(|v| abs_us(v))
            .map(|x| x.to_string())
            .collect()
    };
    let rel = |key: &str| -> Vec<String> {
        if h.version == 10 {
            return match h.sys_init_us {
                Some(init) => r
                    .all(&[key])
                    .iter()
                    .map(|v| (init + rel_ms(v) as i64 * 1000).to_string())
                    .collect(),
                None => Vec::new(),
            };
        }
        r.all(&[key])
            .iter()
            .map(|v| {
                let back = (h.uptime_ms as u32).wrapping_sub(rel_ms(v) as u32) as i32;
                (h.export_us - i64::from(back) * 1000).to_string()
            })
            .collect()
    };
    let start_abs = abs("cflow.abstimestart");
    let end_abs = abs("cflow.abstimeend");
    if start_abs.is_empty() {
        t.check(ctx, "start (uptime)", &rel("cflow.timestart"), &us(m.start));
    } else {
        t.check(ctx, "start", &start_abs, &us(m.start));
    }
    if end_abs.is_empty() {
        t.check(ctx, "end (uptime)", &rel("cflow.timeend"), &us(m.end));
    } else {
        t.check(ctx, "end", &end_abs, &us(m.end));
    }
    // Sampling: the record's own interval, else its sampler's, else the domain's.
    if h.version != 5 {
        let expected = rate_of(r)
            .or_else(|| sampler_of(r).and_then(|id| s.samplers.get(&id).copied()))
            .or(s.default)
            .unwrap_or(1);
        t.check(
            ctx,
            "sampling interval",
            &[expected.to_string()],
            &m.sampling_interval.to_string(),
        );
    }
}

/// The header values tshark shows for one datagram.
fn header(cflow: &Value, sys_init_us: Option<i64>) -> Hdr {
    let mut flat = Vec::new();
    if let Some(m) = cflow.as_object() {
        for (k, v) in m {
            // Header fields and the timestamp tree; not the sets.
            if !v.is_object() || k.starts_with("cflow.") {
                let mut one = serde_json::Map::new();
                one.insert(k.clone(), v.clone());
                flatten(&Value::Object(one), &mut flat);
            }
        }
    }
    let hdr = Rec(flat);
    let secs = hdr
        .one("cflow.unix_secs")
        .or(hdr.one("cflow.exporttime"))
        .map(num)
        .unwrap_or(0) as i64;
    let nsecs = hdr.one("cflow.unix_nsecs").map(num).unwrap_or(0) as i64;
    Hdr {
        sys_init_us,
        version: hdr.one("cflow.version").map(num).unwrap_or(0),
        uptime_ms: hdr.one("cflow.sysuptime").map(rel_ms).unwrap_or(0),
        export_us: secs * 1_000_000 + nsecs / 1000,
    }
}

/// What tshark learnt from one exporter's options data so far.
#[derive(Default)]
struct Options {
    ids: Vec<u64>,
    sampling: Sampling,
    sys_init_us: Option<i64>,
}

/// (set id, record) of every flow record tshark shows in one datagram, in order; options
/// records are taken into `opts` instead.
fn flow_records(cflow: &Value, version: u64, opts: &mut Options) -> Vec<(Option<u64>, Rec)> {
    let mut theirs = Vec::new();
    let Some(obj) = cflow.as_object() else {
        return theirs;
    };
    for (k, v) in obj {
        if version == 5 && k.starts_with("pdu ") {
            let mut f = Vec::new();
            flatten(v, &mut f);
            theirs.push((None, Rec(f)));
            continue;
        }
        if !(k.starts_with("FlowSet ") || k.starts_with("Set ")) {
            continue;
        }
        let Some(set) = v.as_object() else { continue };
        let set_id = set.get("cflow.flowset_id").and_then(Value::as_str).map(num);
        for (rk, rv) in set {
            if rk.starts_with("Options Template (Id = ")
                && let Some(id) = rv.get("cflow.template_id").and_then(Value::as_str)
            {
                opts.ids.push(num(id));
            }
            if !rk.starts_with("Flow ") {
                continue;
            }
            let mut f = Vec::new();
            flatten(rv, &mut f);
            let rec = Rec(f);
            if set_id.is_some_and(|id| opts.ids.contains(&id)) {
                if let Some(rate) = rate_of(&rec) {
                    match sampler_of(&rec) {
                        Some(id) => {
                            opts.sampling.samplers.insert(id, rate);
                        }
                        None => opts.sampling.default = Some(rate),
                    }
                }
                if let Some(init) = rec.one("cflow.sys_init_time").and_then(abs_us) {
                    opts.sys_init_us = Some(init);
                }
                continue;
            }
            theirs.push((set_id, rec));
        }
    }
    theirs
}

#[test]
fn every_field_matches_tshark() {
    require_tools();
    let dir = std::env::temp_dir().join(format!("sekisho-netflow-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let groups = common::groups();
    // One pcap per vendor, each from its own UDP source port (tshark keeps templates per
    // transport session, as the decoder does per exporter), concatenated: one tshark run.
    let mut pcaps = Vec::new();
    for (i, (group, files)) in groups.iter().enumerate() {
        let payloads: Vec<&[u8]> = files.iter().map(|f| f.bytes.as_slice()).collect();
        pcaps.push(make_pcap(&dir, group, 10_000 + i as u16, &payloads));
    }
    let all = dir.join("all.pcap");
    let merged = Command::new("mergecap")
        .arg("-a")
        .arg("-w")
        .arg(&all)
        .args(&pcaps)
        .output()
        .expect("run mergecap");
    assert!(merged.status.success(), "mergecap failed: {merged:?}");
    let packets = tshark_json(&all);
    let total: usize = groups.iter().map(|(_, f)| f.len()).sum();
    assert_eq!(packets.len(), total, "one packet per datagram");

    let mut t = Tally::default();
    let mut refused = 0;
    let mut packets = packets.iter();
    for (i, (_, files)) in groups.iter().enumerate() {
        let exporter = SocketAddr::from(([10, 1, 1, 1], 10_000 + i as u16));
        let mut dec = Decoder::new();
        let mut opts = Options::default();
        for (file, pkt) in files.iter().zip(&mut packets) {
            let mut mine = Vec::new();
            // (Sequence numbers are not compared: tshark follows them only across
            // datagrams that carry flow records, sekisho across all, as RFC 3954/7011 say.)
            let decoded = dec.decode(exporter, &file.bytes, &mut mine);
            if decoded.is_err() {
                // Refused whole (and counted). Only the files malformed on purpose may be:
                // tshark salvages what it can of a v5 datagram whose count runs past it.
                assert!(file.stem.contains("invalid"), "{} refused", file.stem);
                refused += 1;
                continue;
            }
            let Some(cflow) = pkt.pointer("/_source/layers/cflow") else {
                continue;
            };
            let h = header(cflow, opts.sys_init_us);
            let theirs = flow_records(cflow, h.version, &mut opts);
            if theirs.is_empty() {
                continue;
            }
            // tshark stops a datagram at the first field it cannot dissect (an address
            // field of 2 bytes in H3C's template): then it shows fewer records.
            let malformed = pkt.to_string().contains("_ws.malformed");
            if theirs.len() != mine.len() && !(malformed && mine.len() > theirs.len()) {
                t.mismatches.push(format!(
                    "{}: tshark shows {} records, sekisho decoded {}",
                    file.stem,
                    theirs.len(),
                    mine.len()
                ));
            }
            for (i, ((set_id, r), m)) in theirs.iter().zip(&mine).enumerate() {
                let ctx = format!("{} record {i}", file.stem);
                compare(&mut t, &ctx, &h, *set_id, r, m, &opts.sampling);
            }
            t.files += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "tshark comparison: {} files decoded by both, {refused} refused as malformed, {} records compared, {} fields compared, {} mismatches",
        t.files,
        t.records,
        t.fields,
        t.mismatches.len()
    );
    println!("  fields compared: {:?}", t.by_field);
    for m in t.mismatches.iter().take(40) {
        println!("  {m}");
    }
    assert!(
        t.mismatches.is_empty(),
        "{} fields differ from tshark",
        t.mismatches.len()
    );
    assert!(t.files >= 40, "only {} files compared", t.files);
    assert!(t.records >= 300, "only {} records compared", t.records);
}
