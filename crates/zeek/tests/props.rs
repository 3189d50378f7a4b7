//! Property tests: no input makes a parser panic, and what we write, we read back.

mod common;

use common::{CONN_HEADER, conn_line, gzip, read_bytes};
use proptest::prelude::*;
use sekisho_event::{AppKind, ConnState, Flow, Proto, RunStats, Service, Timestamp, Uid};
use sekisho_zeek::json::{self, JsonParser};
use sekisho_zeek::tsv::TsvParser;
use sekisho_zeek::{LogKind, Record};
use std::net::IpAddr;
use std::sync::Arc;

/// Every record read is parsed or rejected; file-level problems are not records.
fn check_accounting(records: usize, stats: &RunStats) {
    let file_level: u64 = ["io", "unknown-format", "decompression", "bad-header"]
        .iter()
        .filter_map(|r| stats.rejected_by_reason.get(*r))
        .sum();
    assert_eq!(stats.parsed, records as u64);
    assert_eq!(stats.records, stats.parsed + stats.rejected - file_level);
}

/// Lines that look enough like Zeek to get past the first checks, then go wrong.
fn line_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        "#(separator|set_separator|empty_field|unset_field|path|fields|types|close)[ \t][ -~\t]{0,40}"
            .prop_map(String::into_bytes),
        (0u32..100, proptest::collection::vec((0usize..250, any::<u8>()), 0..4)).prop_map(
            |(i, edits)| {
                let mut l = conn_line(i).into_bytes();
                for (at, b) in edits {
                    let at = at % l.len();
                    l[at] = b;
                }
                l
            }
        ),
    ]
}

fn json_strategy() -> impl Strategy<Value = Vec<u8>> {
    let good = r#"{"_path":"conn","ts":1.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id":{"resp_h":"::1","resp_p":2},"proto":"tcp","service":["a","b"],"duration":1e3}"#;
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        proptest::collection::vec((0usize..200, any::<u8>()), 0..4).prop_map(move |edits| {
            let mut l = good.as_bytes().to_vec();
            for (at, b) in edits {
                let at = at % l.len();
                l[at] = b;
            }
            l
        }),
        (0usize..200).prop_map(move |cut| good.as_bytes()[..cut.min(good.len())].to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn tsv_parser_never_panics(lines in proptest::collection::vec(line_strategy(), 0..12)) {
        let mut p = TsvParser::new(Arc::from("s"), None);
        p.line(CONN_HEADER.lines().nth(4).unwrap().as_bytes()).unwrap();
        for line in CONN_HEADER.lines().skip(6) {
            p.line(line.as_bytes()).unwrap();
        }
        for line in &lines {
            let _ = p.line(line);
        }
    }

    #[test]
    fn json_parser_never_panics(line in json_strategy()) {
        let _ = json::parse_line(&line, None, &Arc::from("s"));
        let _ = json::parse_line(&line, Some(&LogKind::Rdp), &Arc::from("s"));
        let _ = json::line_log_kind(&line);
        let _ = JsonParser::new(Arc::from("s"), Some(LogKind::Conn)).line(&line);
    }

    #[test]
    fn whole_reader_never_panics_and_accounts_for_every_line(
        body in proptest::collection::vec(line_strategy(), 0..12),
        json_lines in proptest::collection::vec(json_strategy(), 0..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut tsv = CONN_HEADER.as_bytes().to_vec();
        for l in &body {
            tsv.extend_from_slice(l);
            tsv.push(b'\n');
        }
        let mut js = Vec::new();
        for l in &json_lines {
            js.extend_from_slice(l);
            js.push(b'\n');
        }
        let raw: Vec<u8> = body.concat();
        let gz = gzip(&tsv);
        let cut_gz = gz[..cut.index(gz.len())].to_vec();
        for (name, bytes) in [
            ("conn.log", &tsv),
            ("conn.json", &js),
            ("x", &raw),
            ("conn.log.gz", &gz),
            ("conn.log.gz", &cut_gz),
            ("conn.json.gz", &gzip(&js)),
        ] {
            let (records, stats) = read_bytes(name, bytes);
            check_accounting(records.len(), &stats);
        }
    }
}

// Round trip: a Flow written the way Zeek writes it reads back as the same Flow.

const SERVICES: &[&str] = &[
    "-",
    "dns",
    "ssl",
    "http",
    "gssapi,smb,krb",
    "rdp",
    "ssh",
    "dce_rpc",
    "krb_tcp",
    "ldap",
    "ntp",
    "quic",
];
const STATES: &[&str] = &[
    "S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH", "-",
];
const PROTOS: &[&str] = &["tcp", "udp", "icmp", "unknown_transport"];

#[derive(Debug, Clone)]
struct Written {
    flow: Flow,
    service: &'static str,
    state: &'static str,
    proto: &'static str,
}

fn flow_strategy() -> impl Strategy<Value = Written> {
    (
        (
            0i64..4_102_444_800_000_000,
            0u64..10_000_000_000_000,
            "[A-Za-z0-9]{1,31}",
        ),
        (any::<IpAddr>(), any::<u16>(), any::<IpAddr>(), any::<u16>()),
        (0..PROTOS.len(), 0..SERVICES.len(), 0..STATES.len()),
        (any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>()),
    )
        .prop_map(
            |((ts, dur, uid), (oh, op, rh, rp), (p, s, st), (ob, rb, opk, rpk))| {
                let proto = Proto::from_zeek(PROTOS[p]);
                let service = SERVICES[s];
                let field = if service == "-" { "" } else { service };
                Written {
                    flow: Flow {
                        ts: Timestamp::from_micros(ts),
                        duration_us: dur,
                        uid: Uid::new(&uid).unwrap(),
                        orig_ip: oh,
                        orig_port: op,
                        resp_ip: rh,
                        resp_port: rp,
                        proto,
                        service: Service::from_zeek(field, proto, rp),
                        orig_bytes: ob,
                        resp_bytes: rb,
                        orig_pkts: opk,
                        resp_pkts: rpk,
                        state: ConnState::from_zeek(STATES[st]),
                        sensor: Arc::from("NASHUA"),
                    },
                    service,
                    state: STATES[st],
                    proto: PROTOS[p],
                }
            },
        )
}

/// Seconds with six decimals, as Zeek writes `time` and `interval`.
fn secs(micros: i64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

fn tsv_line(w: &Written) -> String {
    let f = &w.flow;
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t-\t-\t0\tShADdaR\t{}\t0\t{}\t0\t(empty)\n",
        secs(f.ts.as_micros()),
        f.uid,
        f.orig_ip,
        f.orig_port,
        f.resp_ip,
        f.resp_port,
        w.proto,
        w.service,
        secs(f.duration_us as i64),
        f.orig_bytes,
        f.resp_bytes,
        w.state,
        f.orig_pkts,
        f.resp_pkts,
    )
}

fn json_line(w: &Written, sep: char, iso: bool) -> String {
    let f = &w.flow;
    let ts = if iso {
        format!("\"{}\"", f.ts)
    } else {
        secs(f.ts.as_micros())
    };
    let mut s = format!(
        "{{\"_path\":\"conn\",\"ts\":{ts},\"uid\":\"{}\",\"id{sep}orig_h\":\"{}\",\"id{sep}orig_p\":{},\"id{sep}resp_h\":\"{}\",\"id{sep}resp_p\":{},\"proto\":\"{}\",\"duration\":{},\"orig_bytes\":{},\"resp_bytes\":{},\"orig_pkts\":{},\"resp_pkts\":{}",
        f.uid,
        f.orig_ip,
        f.orig_port,
        f.resp_ip,
        f.resp_port,
        w.proto,
        secs(f.duration_us as i64),
        f.orig_bytes,
        f.resp_bytes,
        f.orig_pkts,
        f.resp_pkts,
    );
    // Zeek's JSON writer leaves unset fields out.
    if w.service != "-" {
        s.push_str(&format!(",\"service\":\"{}\"", w.service));
    }
    if w.state != "-" {
        s.push_str(&format!(",\"conn_state\":\"{}\"", w.state));
    }
    s.push_str("}\n");
    s
}

/// Escapes a string the way Zeek's ASCII writer does.
fn zeek_escape(s: &str) -> String {
    if s.is_empty() {
        return "(empty)".to_string();
    }
    if s == "-" {
        return "\\x2d".to_string();
    }
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e if b != b'\t' => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn flows_round_trip_through_tsv_and_json(w in flow_strategy()) {
        let mut tsv = CONN_HEADER.to_string();
        tsv.push_str(&tsv_line(&w));
        let (records, stats) = read_bytes("/x/NASHUA_conn.log", tsv.as_bytes());
        prop_assert_eq!(stats.rejected, 0, "{:?}", stats.samples);
        prop_assert_eq!(&records, &vec![Record::Flow(w.flow.clone())]);

        for (sep, iso) in [('.', false), ('_', false), ('.', true)] {
            let line = json_line(&w, sep, iso);
            let parsed = json::parse_line(line.trim_end().as_bytes(), None, &Arc::from("NASHUA"));
            prop_assert_eq!(parsed, Ok(Some(Record::Flow(w.flow.clone()))), "{}", line);
        }
    }

    #[test]
    fn tsv_escaped_strings_round_trip(cookie in any::<String>(), client in "[ -~]{0,20}") {
        let line = format!(
            "#path\trdp\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tcookie\tclient_name\n\
             1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t3389\t{}\t{}\n",
            zeek_escape(&cookie),
            zeek_escape(&client)
        );
        let (records, stats) = read_bytes("rdp.log", format!("#separator \\x09\n{line}").as_bytes());
        prop_assert_eq!(stats.rejected, 0, "{:?}", stats.samples);
        let Some(Record::App(app)) = records.first() else {
            return Err(TestCaseError::fail("no record"));
        };
        let AppKind::Rdp { cookie: got, client_name, .. } = &app.kind else {
            return Err(TestCaseError::fail("not rdp"));
        };
        prop_assert_eq!(got.as_deref(), Some(cookie.as_str()));
        prop_assert_eq!(client_name.as_deref(), Some(client.as_str()));
    }
}
