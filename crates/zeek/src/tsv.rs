//! Zeek's ASCII (TSV) log format: a `#` header block, then one record per line,
//! fields separated by tabs (shown as two spaces here):
//!
//! ```text
//! #separator \x09
//! #set_separator  ,
//! #empty_field  (empty)
//! #unset_field  -
//! #path  conn
//! #open  2024-04-12-19-29-13
//! #fields  ts  uid  id.orig_h  id.orig_p  ...
//! #types  time  string  addr  port  ...
//! 1521911721.258458  CMwJl820SlYyy434c8  10.164.94.120  39681  ...
//! #close  2024-04-12-19-34-07
//! ```
//!
//! A file may hold several blocks (logs concatenated, or a writer restarted): a
//! `#separator` line starts a new block and resets the header to defaults; a later
//! `#fields` replaces the columns; `#close` ends the block, so data after it needs a new
//! header. Pure: no I/O, no allocation per record.

use crate::conn_fast::{self, ConnLayout, Markers};
use crate::record::{Record, build, guess_kind};
use crate::value::{Cell, Fields, Slot, SplitSep, preview};
use crate::{LogKind, Parsed, RecordError};
use sekisho_event::RejectReason;
use std::sync::Arc;

/// One column of `#fields`.
#[derive(Clone, Copy, Debug)]
struct Column {
    /// The field sekisho reads from this column, if any.
    slot: Option<Slot>,
    /// `#types` says `set[..]` or `vector[..]`.
    container: bool,
}

/// The header state of a TSV log: what the latest header block said.
#[derive(Clone, Debug)]
pub struct TsvHeader {
    separator: Vec<u8>,
    set_separator: Vec<u8>,
    empty_field: Vec<u8>,
    unset_field: Vec<u8>,
    /// `#path` of the current block.
    path: Option<LogKind>,
    /// The log the file name suggests, for blocks without `#path`.
    hint: Option<LogKind>,
    /// `#fields` of the current block; `None` before it and after `#close`.
    columns: Option<Vec<Column>>,
    /// The kind records are parsed as: `#path`, else the hint, else a guess from `#fields`.
    kind: Option<LogKind>,
    /// Column positions for the conn fast path, when this block is a conn log it can serve.
    conn_layout: Option<ConnLayout>,
}

impl Default for TsvHeader {
    fn default() -> Self {
        TsvHeader::new(None)
    }
}

impl TsvHeader {
    /// Zeek's defaults, before any header line. `kind_hint` (from the file name) names the
    /// log when a block has no `#path`.
    pub fn new(kind_hint: Option<LogKind>) -> Self {
        TsvHeader {
            separator: b"\t".to_vec(),
            set_separator: b",".to_vec(),
            empty_field: b"(empty)".to_vec(),
            unset_field: b"-".to_vec(),
            path: None,
            kind: kind_hint.clone(),
            hint: kind_hint,
            columns: None,
            conn_layout: None,
        }
    }

    /// The log the current block's records belong to, when known.
    pub fn kind(&self) -> Option<&LogKind> {
        self.kind.as_ref()
    }

    /// True once `#fields` has been read (and no `#close` since).
    pub fn has_fields(&self) -> bool {
        self.columns.is_some()
    }

    /// Number of columns `#fields` declared.
    pub fn field_count(&self) -> Option<usize> {
        self.columns.as_ref().map(Vec::len)
    }

    /// Applies one header line (starting with `#`). Unknown `#` lines are comments. A bad
    /// header line leaves the state as it was and returns `BadHeader`.
    pub fn apply(&mut self, line: &[u8]) -> Result<(), RecordError> {
        if let Some(rest) = line.strip_prefix(b"#separator") {
            // The one header line whose value follows a space: the separator is not
            // known yet.
            let value = match rest {
                [b' ' | b'\t', value @ ..] => decode_hex(value),
                _ => Vec::new(),
            };
            if value.is_empty() {
                return Err(bad_header("#separator", rest));
            }
            *self = TsvHeader::new(self.hint.take());
            self.separator = value;
            return Ok(());
        }
        let Some(body) = line.strip_prefix(b"#") else {
            return Err(bad_header("not a header line", line));
        };
        let (key, value) = match find_sep(body, &self.separator) {
            Some(i) => (&body[..i], &body[i + self.separator.len()..]),
            None => (body, &body[body.len()..]),
        };
        match key {
            b"set_separator" => {
                let v = decode_hex(value);
                if v.is_empty() {
                    return Err(bad_header("#set_separator", value));
                }
                self.set_separator = v;
            }
            b"empty_field" => self.empty_field = decode_hex(value),
            b"unset_field" => self.unset_field = decode_hex(value),
            b"path" => {
                let name = std::str::from_utf8(value)
                    .ok()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| bad_header("#path", value))?;
                self.path = Some(LogKind::from_name(name));
                self.update_kind();
            }
            b"fields" => {
                if value.is_empty() {
                    return Err(bad_header("#fields", value));
                }
                let columns = SplitSep::new(value, &self.separator)
                    .map(|name| Column {
                        slot: std::str::from_utf8(name).ok().and_then(Slot::from_field),
                        container: false,
                    })
                    .collect();
                self.columns = Some(columns);
                self.update_kind();
            }
            b"types" => {
                if let Some(columns) = &mut self.columns {
                    for (col, ty) in columns
                        .iter_mut()
                        .zip(SplitSep::new(value, &self.separator))
                    {
                        col.container = ty.starts_with(b"set[") || ty.starts_with(b"vector[");
                    }
                }
            }
            b"close" => self.columns = None,
            // `#open` and comments carry nothing records need.
            _ => {}
        }
        self.update_conn_layout();
        Ok(())
    }

    fn update_kind(&mut self) {
        let has_conn_state = self
            .columns
            .as_ref()
            .is_some_and(|c| c.iter().any(|c| c.slot == Some(Slot::ConnState)));
        self.kind = self
            .path
            .clone()
            .or_else(|| self.hint.clone())
            .or_else(|| self.columns.as_ref().map(|_| guess_kind(has_conn_state)));
    }

    /// Resolves the conn fast path's layout for conn blocks with a one-byte separator.
    /// Called after every header line: `#path`, `#fields`, `#types` and `#close` all
    /// change it, and header lines are rare.
    fn update_conn_layout(&mut self) {
        self.conn_layout = match (&self.kind, &self.columns, self.separator.as_slice()) {
            (Some(LogKind::Conn), Some(columns), [_]) => {
                ConnLayout::new(columns.iter().map(|c| (c.slot, c.container)))
            }
            _ => None,
        };
    }
}

/// Files one field under its slot, unless it is unset or a column sekisho does not read.
#[inline]
fn put<'a>(
    columns: &[Column],
    header: &'a TsvHeader,
    i: usize,
    raw: &'a [u8],
    fields: &mut Fields<'a>,
) {
    let Some(Column {
        slot: Some(slot),
        container,
    }) = columns.get(i).copied()
    else {
        return;
    };
    if raw == header.unset_field.as_slice() {
        return;
    }
    let cell = if raw == header.empty_field.as_slice() {
        Cell::TsvEmpty
    } else {
        Cell::Tsv { raw, container }
    };
    fields.set(slot, cell);
}

fn find_sep(s: &[u8], sep: &[u8]) -> Option<usize> {
    match sep {
        [b] => memchr::memchr(*b, s),
        sep => memchr::memmem::find(s, sep),
    }
}

/// Header values are written with `\xNN` escapes (`#separator \x09`).
fn decode_hex(value: &[u8]) -> Vec<u8> {
    crate::value::unescape_tsv(value).into_owned().into_bytes()
}

fn bad_header(what: &str, value: &[u8]) -> RecordError {
    RecordError::new(
        RejectReason::BadHeader,
        format!("{what}: {}", preview(value)),
    )
}

/// Parses one data line (not starting with `#`) under `header`.
///
/// `Ok(None)` when the line belongs to a log sekisho skips: such lines are only counted,
/// never split. No allocation on the conn path except the sensor's `Arc` clone.
pub fn parse_line(
    header: &TsvHeader,
    line: &[u8],
    sensor: &Arc<str>,
) -> Result<Option<crate::Record>, RecordError> {
    let Some(columns) = &header.columns else {
        return Err(RecordError::new(
            RejectReason::NoHeader,
            format!("data before #fields: {}", preview(line)),
        ));
    };
    let kind = match &header.kind {
        Some(kind) if kind.is_wanted() => kind,
        _ => return Ok(None),
    };
    if let (Some(layout), [separator]) = (&header.conn_layout, header.separator.as_slice()) {
        let markers = Markers {
            separator: *separator,
            unset: &header.unset_field,
            empty: &header.empty_field,
        };
        if let Some(flow) = conn_fast::parse(layout, &markers, line, sensor) {
            return Ok(Some(Record::Flow(flow)));
        }
    }
    parse_line_general(columns, kind, header, line, sensor)
}

/// [`parse_line`] without the conn fast path: every log, every oddity.
fn parse_line_general(
    columns: &[Column],
    kind: &LogKind,
    header: &TsvHeader,
    line: &[u8],
    sensor: &Arc<str>,
) -> Result<Option<crate::Record>, RecordError> {
    let mut fields = Fields::new(&header.set_separator);
    let mut n = 0;
    // The common case: a one-byte separator.
    if let [sep] = header.separator.as_slice() {
        for raw in crate::split::Separated::new(line, *sep) {
            put(columns, header, n, raw, &mut fields);
            n += 1;
        }
    } else {
        for raw in SplitSep::new(line, &header.separator) {
            put(columns, header, n, raw, &mut fields);
            n += 1;
        }
    }
    if n != columns.len() {
        return Err(RecordError::new(
            RejectReason::FieldCount,
            format!("expected {} fields, found {n}", columns.len()),
        ));
    }
    build(kind, &fields, sensor)
}

/// A TSV log read line by line: header state plus the sensor name records carry.
#[derive(Clone, Debug)]
pub struct TsvParser {
    header: TsvHeader,
    sensor: Arc<str>,
}

impl TsvParser {
    /// A parser for one file; `kind_hint` comes from the file name.
    pub fn new(sensor: Arc<str>, kind_hint: Option<LogKind>) -> Self {
        TsvParser {
            header: TsvHeader::new(kind_hint),
            sensor,
        }
    }

    /// The current header state.
    pub fn header(&self) -> &TsvHeader {
        &self.header
    }

    /// Feeds one line (without its newline): a header line updates the state, a data line
    /// is parsed.
    pub fn line(&mut self, line: &[u8]) -> Result<Parsed, RecordError> {
        if line.first() == Some(&b'#') {
            self.header.apply(line)?;
            return Ok(Parsed::Header);
        }
        Ok(match parse_line(&self.header, line, &self.sensor)? {
            Some(record) => Parsed::Record(record),
            None => Parsed::Skipped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Record;
    use sekisho_event::{AppKind, Service};

    fn parser() -> TsvParser {
        TsvParser::new(Arc::from("s1"), None)
    }

    /// Feeds lines, returning what each gave (`Err` reasons as `Err`).
    fn feed(p: &mut TsvParser, text: &str) -> Vec<Result<Parsed, RejectReason>> {
        text.lines()
            .map(|l| p.line(l.as_bytes()).map_err(|e| e.reason))
            .collect()
    }

    fn records(results: &[Result<Parsed, RejectReason>]) -> Vec<&Record> {
        results
            .iter()
            .filter_map(|r| match r {
                Ok(Parsed::Record(rec)) => Some(rec),
                _ => None,
            })
            .collect()
    }

    fn rdp(rec: &Record) -> (Option<&str>, Option<&str>, Option<&str>, Option<&str>) {
        match rec {
            Record::App(a) => match &a.kind {
                AppKind::Rdp {
                    cookie,
                    result,
                    security_protocol,
                    client_name,
                } => (
                    cookie.as_deref(),
                    result.as_deref(),
                    security_protocol.as_deref(),
                    client_name.as_deref(),
                ),
                other => panic!("not rdp: {other:?}"),
            },
            other => panic!("not an app record: {other:?}"),
        }
    }

    const RDP_FIELDS: &str = "ts uid id.orig_h id.orig_p id.resp_h id.resp_p cookie result security_protocol client_name";

    #[test]
    fn custom_separator_and_markers_are_honoured() {
        let mut p = parser();
        let text = format!(
            "#separator \\x7c\n#set_separator|;\n#empty_field|EMPTY\n#unset_field|NONE\n#path|rdp\n#fields|{}\n\
             1.5|C1|10.0.0.1|1|10.0.0.2|3389|NONE|EMPTY|a\\x7cb|host\\x09x\n",
            RDP_FIELDS.replace(' ', "|")
        );
        let out = feed(&mut p, &text);
        assert!(out[..6].iter().all(|r| *r == Ok(Parsed::Header)));
        let recs = records(&out);
        assert_eq!(recs.len(), 1);
        assert_eq!(rdp(recs[0]), (None, Some(""), Some("a|b"), Some("host\tx")));
        // With `|` as separator a tab is data, not a field break.
        assert_eq!(p.header().field_count(), Some(10));
    }

    #[test]
    fn empty_marker_is_an_empty_string_and_unset_marker_is_none() {
        let mut p = parser();
        let text = format!(
            "#separator \\x09\n#empty_field\t(empty)\n#unset_field\t-\n#path\trdp\n#fields\t{}\n\
             1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t3389\t-\t(empty)\t\\x2d\t\\x28empty)\n",
            RDP_FIELDS.replace(' ', "\t")
        );
        let out = feed(&mut p, &text);
        // An escaped `-` or `(empty)` is that text, not the marker.
        assert_eq!(
            rdp(records(&out)[0]),
            (None, Some(""), Some("-"), Some("(empty)"))
        );
    }

    #[test]
    fn escaped_values_are_decoded() {
        let mut p = parser();
        let text = format!(
            "#path\trdp\n#fields\t{}\n\
             1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t3389\t\\xc3\\xbcser\t\\\\\\\\FS01\\\\C$\t\\xff\tplain\\q\n",
            RDP_FIELDS.replace(' ', "\t")
        );
        let out = feed(&mut p, &text);
        assert_eq!(
            rdp(records(&out)[0]),
            (
                Some("\u{fc}ser"),
                Some(r"\\FS01\C$"),
                // Not UTF-8 after decoding: kept as Zeek's JSON writer would write it.
                Some(r"\xff"),
                Some(r"plain\q")
            )
        );
    }

    #[test]
    fn a_second_header_in_the_middle_replaces_the_first() {
        let mut p = parser();
        let text = format!(
            "#separator \\x09\n#path\trdp\n#fields\t{}\n\
             1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t3389\tu1\tok\tRDP\th1\n\
             #fields\tuid\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tcookie\n\
             C2\t2.5\t10.0.0.3\t2\t10.0.0.4\t3390\tu2\n\
             1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t3389\tu1\tok\tRDP\th1\n",
            RDP_FIELDS.replace(' ', "\t")
        );
        let out = feed(&mut p, &text);
        let recs = records(&out);
        assert_eq!(recs.len(), 2);
        assert_eq!(rdp(recs[1]), (Some("u2"), None, None, None));
        let Record::App(second) = recs[1] else {
            panic!()
        };
        assert_eq!(second.uid.as_str(), "C2");
        assert_eq!(second.resp_port, 3390);
        // A line shaped like the first block no longer fits.
        assert_eq!(out[6], Err(RejectReason::FieldCount));
    }

    #[test]
    fn close_ends_the_block_and_a_new_separator_line_resets_the_markers() {
        let mut p = parser();
        let fields = RDP_FIELDS.replace(' ', "\t");
        let text = format!(
            "#separator \\x09\n#unset_field\tNONE\n#path\trdp\n#fields\t{fields}\n\
             1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t3389\tNONE\t-\tRDP\th1\n\
             #close\t2024-04-12-19-34-07\n\
             1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t3389\tNONE\t-\tRDP\th1\n\
             #separator \\x09\n#path\trdp\n#fields\t{fields}\n\
             1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t3389\tNONE\t-\tRDP\th1\n"
        );
        let out = feed(&mut p, &text);
        let recs = records(&out);
        assert_eq!(rdp(recs[0]), (None, Some("-"), Some("RDP"), Some("h1")));
        assert_eq!(out[6], Err(RejectReason::NoHeader));
        // Second block: default unset marker `-`, so `NONE` is text now.
        assert_eq!(rdp(recs[1]), (Some("NONE"), None, Some("RDP"), Some("h1")));
    }

    #[test]
    fn set_fields_are_split_by_the_set_separator() {
        let mut p = parser();
        let text = "#separator \\x09\n#set_separator\t;\n#path\tconn\n\
                    #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\n\
                    #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tset[string]\n\
                    1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t80\ttcp\thttp;ssh\n";
        let out = feed(&mut p, text);
        let Record::Flow(flow) = records(&out)[0] else {
            panic!()
        };
        // `http;ssh` is the set {http, ssh}: SSH named by Zeek wins over port 80.
        assert_eq!(flow.service, Service::Ssh);
    }

    #[test]
    fn skipped_logs_are_not_parsed_and_unknown_logs_are_guessed_from_fields() {
        let mut p = parser();
        let out = feed(
            &mut p,
            "#path\tdns\n#fields\tts\tuid\nnot even two fields, not a time\n",
        );
        assert_eq!(out[2], Ok(Parsed::Skipped));
        // No #path, no file name: a conn_state column means conn.
        let mut p = parser();
        let out = feed(
            &mut p,
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\n\
             1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t80\ttcp\tS0\n",
        );
        assert_eq!(p.header().kind(), Some(&LogKind::Conn));
        assert_eq!(records(&out).len(), 1);
        let mut p = parser();
        let out = feed(&mut p, "#fields\tts\tuid\n1.5\tC1\n");
        assert_eq!(out[1], Ok(Parsed::Skipped));
    }

    #[test]
    fn bad_header_lines_are_rejected_and_leave_the_state_alone() {
        let mut p = parser();
        let out = feed(
            &mut p,
            "#separator\n#separator \n#fields\n#path\t\n#fields\tts\tuid\n",
        );
        assert_eq!(
            out,
            vec![
                Err(RejectReason::BadHeader),
                Err(RejectReason::BadHeader),
                Err(RejectReason::BadHeader),
                Err(RejectReason::BadHeader),
                Ok(Parsed::Header)
            ]
        );
        assert_eq!(p.header().field_count(), Some(2));
        let mut h = TsvHeader::default();
        assert_eq!(h.apply(b"").unwrap_err().reason, RejectReason::BadHeader);
        assert_eq!(
            h.apply(b"fields	ts").unwrap_err().reason,
            RejectReason::BadHeader
        );
    }

    #[test]
    fn conn_without_proto_is_missing_a_field() {
        let mut p = parser();
        let out = feed(
            &mut p,
            "#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n\
             1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t80\t-\n",
        );
        assert_eq!(out[2], Err(RejectReason::MissingField));
    }
}

/// The conn fast path may only ever agree with the general path: for every line it accepts,
/// both must build the same flow, and on plain lines it must actually fire.
#[cfg(test)]
mod conn_fast_agrees {
    use super::*;
    use proptest::prelude::*;
    use sekisho_event::Service;

    const HEADER: &[&str] = &[
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tconn",
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents",
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]",
    ];

    fn header() -> TsvHeader {
        let mut h = TsvHeader::new(None);
        for line in HEADER {
            h.apply(line.as_bytes()).unwrap();
        }
        h
    }

    /// A value for one column: mostly plausible, sometimes hostile.
    fn cell(plain: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            6 => proptest::sample::select(plain).prop_map(|s| s.as_bytes().to_vec()),
            1 => proptest::sample::select(&[
                "-", "(empty)", "", "\\x41", "1e3", "-5", "007", "99999999999999999999999",
                "::1", "300.1.1.1", "tcp,udp", " 1", "\u{e9}",
            ][..]).prop_map(|s| s.as_bytes().to_vec()),
            1 => proptest::collection::vec(any::<u8>(), 0..6),
        ]
    }

    fn line() -> impl Strategy<Value = Vec<u8>> {
        let cols = vec![
            cell(&[
                "1521911721.258458",
                "1700000000",
                "0.5",
                "1521911721.2584589",
            ]),
            cell(&["CMwJl820SlYyy434c8", "C1"]),
            cell(&["10.0.0.1", "192.168.10.254", "fe80::1", "2001:db8::5"]),
            cell(&["39681", "0", "65535", "65536"]),
            cell(&["10.0.0.2", "8.8.8.8", "2001:db8::6"]),
            cell(&["445", "3389", "53"]),
            cell(&["tcp", "udp", "icmp", "unknown_transport"]),
            cell(&["-", "smb", "dce_rpc,smb", "ssl", "krb_tcp"]),
            cell(&["-", "0.000123", "12.5", "3600"]),
            cell(&["-", "0", "1234", "18446744073709551615"]),
            cell(&["-", "0", "98765"]),
            cell(&["SF", "S0", "REJ", "-", "XX"]),
            cell(&["T", "F", "-"]),
            cell(&["0"]),
            cell(&["ShADadFf", "-"]),
            cell(&["-", "3", "10"]),
            cell(&["-", "200"]),
            cell(&["-", "2", "9"]),
            cell(&["-", "100"]),
            cell(&["(empty)", "-", "a,b"]),
        ];
        (cols, 0..3usize).prop_map(|(cols, extra)| {
            let mut line = cols.join(&b'\t');
            // Sometimes a field too many or too few.
            match extra {
                1 => line.extend_from_slice(b"\tx"),
                2 => {
                    let cut = line.iter().rposition(|&b| b == b'\t').unwrap_or(0);
                    line.truncate(cut);
                }
                _ => {}
            }
            line
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn fast_path_flows_equal_general_path_flows(line in line()) {
            let h = header();
            let sensor: Arc<str> = Arc::from("s");
            let columns = h.columns.as_ref().unwrap();
            let general = parse_line_general(columns, &LogKind::Conn, &h, &line, &sensor);
            let markers = Markers { separator: b'\t', unset: b"-", empty: b"(empty)" };
            let layout = h.conn_layout.as_ref().expect("a conn header gets a fast layout");
            if let Some(fast) = conn_fast::parse(layout, &markers, &line, &sensor) {
                prop_assert_eq!(general, Ok(Some(Record::Flow(fast))));
            }
            // Through the public entry point, whichever path serves it, the result is the
            // general path's.
            let public = parse_line(&h, &line, &sensor);
            let general = parse_line_general(columns, &LogKind::Conn, &h, &line, &sensor);
            prop_assert_eq!(public, general);
        }
    }

    #[test]
    fn plain_lines_take_the_fast_path() {
        let h = header();
        let layout = h.conn_layout.as_ref().expect("fast layout");
        let markers = Markers {
            separator: b'\t',
            unset: b"-",
            empty: b"(empty)",
        };
        let line = b"1521911721.258458\tCMwJl820SlYyy434c8\t10.0.0.1\t39681\t10.0.0.2\t445\ttcp\tsmb\t12.5\t1234\t98765\tSF\tT\t0\tShADadFf\t3\t200\t2\t100\t(empty)";
        let flow = conn_fast::parse(layout, &markers, line, &Arc::from("s")).expect("fast");
        assert_eq!(flow.orig_bytes, 1234);
        assert_eq!(flow.resp_pkts, 2);
        assert_eq!(flow.service, Service::Smb);
        // `(empty)` in a column the path reads is left to the general path.
        let empty_service = b"1521911721.258458\tC1\t10.0.0.1\t1\t10.0.0.2\t445\ttcp\t(empty)\t-\t-\t-\tSF\tT\t0\t-\t-\t-\t-\t-\t-";
        assert!(conn_fast::parse(layout, &markers, empty_service, &Arc::from("s")).is_none());
    }

    #[test]
    fn containers_duplicates_and_other_logs_get_no_fast_layout() {
        let mut h = header();
        h.apply(b"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tset[string]")
            .unwrap();
        assert!(h.conn_layout.is_none(), "service as a set");
        let mut h = header();
        h.apply(b"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tproto")
            .unwrap();
        assert!(h.conn_layout.is_none(), "duplicate column");
        let mut h = header();
        h.apply(b"#path\tdns").unwrap();
        assert!(h.conn_layout.is_none(), "not conn");
        let mut h = header();
        h.apply(b"#close\t2024").unwrap();
        assert!(h.conn_layout.is_none(), "after #close");
    }
}
