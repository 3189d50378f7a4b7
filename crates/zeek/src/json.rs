//! Zeek's JSON-lines format: one object per line.
//!
//! Accepted variants, all seen in the wild:
//!
//! * field names dotted (`"id.orig_h"`, Zeek's own writer), underscored (`"id_orig_h"`,
//!   RockNSM and many Logstash pipelines) or nested (`"id": {"orig_h": ...}`);
//! * `ts` as epoch seconds (`1588205199.82437`) or RFC 3339 (`"2018-03-24T17:15:21.258458Z"`,
//!   Zeek's `JSON::TS_ISO8601`);
//! * the log named by `_path` (Zeek) or `@stream` (RockNSM); else by the file name.
//!
//! Values are captured as their source text ([`serde_json::value::RawValue`]) and only the
//! fields sekisho reads are decoded, so a record costs one pass of serde_json's scanner and
//! no map. Pure: no I/O.

use crate::json_fast::{self, KeyOrder};
use crate::record::{build, guess_kind};
use crate::value::{Cell, Fields, Slot};
use crate::{LogKind, Parsed, Record, RecordError};
use sekisho_event::RejectReason;
use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;
use std::sync::Arc;

/// The log a line names in its *first* key (`{"_path":"dns",...`, `{"@stream":"dns",...`),
/// as Zeek and RockNSM write it. Lets the reader skip lines of unwanted logs without
/// parsing them; other layouts are found by the full parse.
pub fn sniff_log_name(line: &[u8]) -> Option<&str> {
    let rest = line
        .strip_prefix(b"{\"_path\":\"")
        .or_else(|| line.strip_prefix(b"{\"@stream\":\""))?;
    let end = memchr::memchr2(b'"', b'\\', rest)?;
    if rest[end] != b'"' {
        return None;
    }
    std::str::from_utf8(&rest[..end]).ok()
}

/// Parses one JSON line. `kind_hint` (from the file name) names the log when the record
/// does not. `Ok(None)` for records of logs sekisho skips.
///
/// Lines of a skipped log are recognised without parsing when their first key names it
/// (`{"_path":"dns",...`), and so are all lines of a file named after a skipped log
/// (`dns.json`) that do not name a log up front: skipping must cost next to nothing, as
/// dns and ssl logs outweigh conn.
pub fn parse_line(
    line: &[u8],
    kind_hint: Option<&LogKind>,
    sensor: &Arc<str>,
) -> Result<Option<Record>, RecordError> {
    parse_line_in_order(line, kind_hint, sensor, &mut KeyOrder::default())
}

/// [`parse_line`], with the key order of the file's lines before.
fn parse_line_in_order(
    line: &[u8],
    kind_hint: Option<&LogKind>,
    sensor: &Arc<str>,
    order: &mut KeyOrder,
) -> Result<Option<Record>, RecordError> {
    let sniffed = sniff_log_name(line);
    match sniffed {
        Some(name) if LogKind::wanted(name).is_none() => return Ok(None),
        // A file named after a skipped log, whose lines do not say otherwise up front.
        None if kind_hint.is_some_and(|k| !k.is_wanted()) => return Ok(None),
        _ => {}
    }
    let mut fields = Fields::new(b",");
    parse_object(line, &mut fields, order)?;
    let named = fields
        .text(Slot::LogPath)?
        .map(|name| LogKind::from_name(&name));
    let kind = match (named, kind_hint) {
        (Some(kind), _) => kind,
        (None, Some(hint)) => hint.clone(),
        (None, None) => guess_kind(fields.get(Slot::ConnState).is_some()),
    };
    build(&kind, &fields, sensor)
}

/// The log of a line, for a reader that wants to know it before reading records: the
/// sniffed first key, else `_path`/`@stream` anywhere in the object. `None` for lines that
/// name no log (or are not JSON objects).
pub fn line_log_kind(line: &[u8]) -> Option<LogKind> {
    if let Some(name) = sniff_log_name(line) {
        return Some(LogKind::from_name(name));
    }
    let mut fields = Fields::new(b",");
    parse_object(line, &mut fields, &mut KeyOrder::default()).ok()?;
    let name = fields.text(Slot::LogPath).ok()??;
    Some(LogKind::from_name(&name))
}

/// Files the fields of the JSON object in `line` under their slots.
fn parse_object<'a>(
    line: &'a [u8],
    fields: &mut Fields<'a>,
    order: &mut KeyOrder,
) -> Result<(), RecordError> {
    // JSON text is UTF-8; Zeek's writer escapes bad bytes as `\\xNN`, so raw invalid
    // bytes are damage. One check of the whole line is also cheaper than serde_json
    // checking every string it meets (`from_str` below trusts it).
    let text = std::str::from_utf8(line).map_err(|e| {
        RecordError::new(
            RejectReason::InvalidUtf8,
            format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        )
    })?;
    if !text.trim_start().starts_with('{') {
        return Err(RecordError::new(RejectReason::BadJson, "not a JSON object"));
    }
    if json_fast::scan(text, fields, order) {
        return Ok(());
    }
    fields.cells = [None; Slot::COUNT];
    parse_object_serde(text, fields)
}

/// [`parse_object`] by serde_json: every layout, every error.
pub(crate) fn parse_object_serde<'a>(
    text: &'a str,
    fields: &mut Fields<'a>,
) -> Result<(), RecordError> {
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_map(ObjectVisitor {
        fields,
        nested: false,
    })
    .and_then(|()| de.end())
    .map_err(|e| {
        // serde_json's message can quote the input; say only what and where.
        let what = match e.classify() {
            serde_json::error::Category::Eof => "truncated JSON",
            serde_json::error::Category::Syntax => "JSON syntax error",
            serde_json::error::Category::Data => "unexpected JSON value",
            serde_json::error::Category::Io => "I/O error",
        };
        RecordError::new(
            RejectReason::BadJson,
            format!("{what} at column {}", e.column()),
        )
    })
}

/// What a key means to us.
enum Key {
    Field(Slot),
    /// `"id": {...}`: the four endpoint fields, nested.
    Id,
    Skip,
}

struct KeySeed {
    nested: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    // serde_json hands keys without escapes straight from the input, others decoded in a
    // scratch buffer: either way no allocation.
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(if self.nested {
            match key {
                "orig_h" => Key::Field(Slot::OrigH),
                "orig_p" => Key::Field(Slot::OrigP),
                "resp_h" => Key::Field(Slot::RespH),
                "resp_p" => Key::Field(Slot::RespP),
                _ => Key::Skip,
            }
        } else if key == "id" {
            Key::Id
        } else {
            Slot::from_field(key).map_or(Key::Skip, Key::Field)
        })
    }
}

struct ObjectVisitor<'f, 'a> {
    fields: &'f mut Fields<'a>,
    nested: bool,
}

impl<'de> Visitor<'de> for ObjectVisitor<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some(key) = map.next_key_seed(KeySeed {
            nested: self.nested,
        })? {
            match key {
                Key::Field(slot) => {
                    let raw: &'de RawValue = map.next_value()?;
                    let text = raw.get();
                    if text != "null" {
                        self.fields.set(slot, Cell::Json(text));
                    }
                }
                Key::Id => {
                    let raw: &'de RawValue = map.next_value()?;
                    let text = raw.get();
                    // Only one level: the nested visitor does not look for `id` again.
                    if text.starts_with('{') {
                        let mut de = serde_json::Deserializer::from_str(text);
                        de.deserialize_map(ObjectVisitor {
                            fields: &mut *self.fields,
                            nested: true,
                        })
                        .map_err(|_| de::Error::custom("bad id object"))?;
                    }
                }
                Key::Skip => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A JSON log read line by line.
#[derive(Clone, Debug)]
pub struct JsonParser {
    kind_hint: Option<LogKind>,
    sensor: Arc<str>,
    order: KeyOrder,
}

impl JsonParser {
    /// A parser for one file; `kind_hint` comes from the file name.
    pub fn new(sensor: Arc<str>, kind_hint: Option<LogKind>) -> Self {
        JsonParser {
            kind_hint,
            sensor,
            order: KeyOrder::default(),
        }
    }

    /// The log the file name suggests.
    pub fn kind_hint(&self) -> Option<&LogKind> {
        self.kind_hint.as_ref()
    }

    /// Parses one line (without its newline).
    pub fn line(&mut self, line: &[u8]) -> Result<Parsed, RecordError> {
        let order = &mut self.order;
        Ok(
            match parse_line_in_order(line, self.kind_hint.as_ref(), &self.sensor, order)? {
                Some(record) => Parsed::Record(record),
                None => Parsed::Skipped,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sekisho_event::{AppKind, ConnState, Flow, Proto, Service, Timestamp};

    fn sensor() -> Arc<str> {
        Arc::from("s1")
    }

    fn flow(line: &str, hint: Option<LogKind>) -> Flow {
        match parse_line(line.as_bytes(), hint.as_ref(), &sensor()) {
            Ok(Some(Record::Flow(f))) => f,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn reason(line: &[u8]) -> RejectReason {
        parse_line(line, Some(&LogKind::Conn), &sensor())
            .expect_err("should be rejected")
            .reason
    }

    const DOTTED: &str = r#"{"_path":"conn","ts":1588205199.82437,"uid":"Cvf4XX17hSAgXDdGEd","id.orig_h":"10.0.1.6","id.orig_p":54243,"id.resp_h":"10.0.0.4","id.resp_p":53,"proto":"udp","service":"dns","duration":0.001528024673461914,"orig_bytes":39,"resp_bytes":55,"conn_state":"SF","orig_pkts":1,"resp_pkts":1,"tunnel_parents":[]}"#;

    #[test]
    fn dotted_underscore_and_nested_names_give_the_same_flow() {
        let dotted = flow(DOTTED, None);
        assert_eq!(dotted.ts, Timestamp::from_micros(1_588_205_199_824_370));
        assert_eq!(dotted.duration_us, 1528);
        assert_eq!(dotted.proto, Proto::Udp);
        assert_eq!(dotted.service, Service::Dns);
        assert_eq!(dotted.state, ConnState::SF);
        assert_eq!((dotted.orig_bytes, dotted.resp_pkts), (39, 1));
        let underscore = DOTTED.replace("\"id.", "\"id_").replace("_path", "@stream");
        assert_eq!(flow(&underscore, None), dotted);
        let nested = DOTTED.replace(
            r#""id.orig_h":"10.0.1.6","id.orig_p":54243,"id.resp_h":"10.0.0.4","id.resp_p":53"#,
            r#""id":{"orig_h":"10.0.1.6","orig_p":54243,"resp_h":"10.0.0.4","resp_p":53}"#,
        );
        assert_ne!(nested, DOTTED);
        assert_eq!(flow(&nested, None), dotted);
        // An escaped key is still the key.
        let escaped = DOTTED.replace("\"id.orig_h\"", r#""id\u002eorig_h""#);
        assert_eq!(flow(&escaped, None), dotted);
    }

    #[test]
    fn epoch_and_rfc3339_times_agree() {
        let iso = DOTTED.replace("1588205199.82437", r#""2020-04-30T00:06:39.824370Z""#);
        assert_eq!(flow(&iso, None), flow(DOTTED, None));
        let iso_offset = DOTTED.replace("1588205199.82437", r#""2020-04-30T09:06:39.82437+09:00""#);
        assert_eq!(flow(&iso_offset, None).ts, flow(DOTTED, None).ts);
        let quoted_epoch = DOTTED.replace("1588205199.82437", r#""1588205199.82437""#);
        assert_eq!(flow(&quoted_epoch, None).ts, flow(DOTTED, None).ts);
        let bad = DOTTED.replace("1588205199.82437", r#""yesterday""#);
        assert_eq!(reason(bad.as_bytes()), RejectReason::BadField);
    }

    #[test]
    fn the_log_comes_from_path_then_stream_then_the_file_name() {
        let no_path = DOTTED.replace(r#""_path":"conn","#, "");
        // Without `_path`, the file name decides; an unwanted one skips the line.
        assert_eq!(
            flow(&no_path, Some(LogKind::Conn)).uid.as_str(),
            "Cvf4XX17hSAgXDdGEd"
        );
        assert_eq!(
            parse_line(
                no_path.as_bytes(),
                Some(&LogKind::from_name("dns")),
                &sensor()
            ),
            Ok(None)
        );
        // Nothing names it: a conn_state field makes it conn.
        assert_eq!(flow(&no_path, None).resp_port, 53);
        // `_path` later in the object wins over the file name...
        let late = no_path.replace(r#""proto""#, r#""_path":"conn","proto""#);
        assert_eq!(flow(&late, Some(LogKind::Rdp)).resp_port, 53);
        // ...except in a file named after a skipped log, whose lines are not parsed unless
        // they name their log up front.
        assert_eq!(
            parse_line(late.as_bytes(), Some(&LogKind::from_name("dns")), &sensor()),
            Ok(None)
        );
        // A leading `_path` of a skipped log: not parsed at all.
        assert_eq!(
            parse_line(br#"{"_path":"dns", this is not JSON"#, None, &sensor()),
            Ok(None)
        );
        assert_eq!(
            parse_line(
                br#"{"@stream":"ssl","ts":"#,
                Some(&LogKind::Conn),
                &sensor()
            ),
            Ok(None)
        );
        assert_eq!(line_log_kind(DOTTED.as_bytes()), Some(LogKind::Conn));
        assert_eq!(line_log_kind(late.as_bytes()), Some(LogKind::Conn));
    }

    #[test]
    fn app_fields_and_nulls() {
        let line = r#"{"_path":"ntlm","ts":"2018-03-24T17:15:21.608646Z","uid":"CGLspW1BuwJH6YxjK6","id.orig_h":"10.164.94.120","id.orig_p":36315,"id.resp_h":"10.47.8.208","id.resp_p":445,"username":"Administrator","hostname":null,"domainname":"CORP\u00fc","success":true}"#;
        let Ok(Some(Record::App(app))) = parse_line(line.as_bytes(), None, &sensor()) else {
            panic!()
        };
        assert_eq!(
            app.kind,
            AppKind::Ntlm {
                username: Some("Administrator".into()),
                hostname: None,
                domainname: Some("CORP\u{fc}".into()),
                success: Some(true),
            }
        );
    }

    #[test]
    fn malformed_json_is_rejected_without_quoting_it() {
        for line in [&b"[1,2]"[..], b"42", b"\"x\"", b"null", b"#fields\tts"] {
            let e = parse_line(line, Some(&LogKind::Conn), &sensor()).unwrap_err();
            assert_eq!(e.reason, RejectReason::BadJson);
            assert_eq!(e.detail, "not a JSON object");
        }
        let e = parse_line(br#"{"ts":"SECRET-PAYLOAD-IN-LOG"#, None, &sensor()).unwrap_err();
        assert_eq!(e.reason, RejectReason::BadJson);
        assert!(!e.detail.contains("SECRET"), "{}", e.detail);
        assert_eq!(reason(br#"{"ts":1} trailing"#), RejectReason::BadJson);
        assert_eq!(reason(br#"{"uid":"\xff"}"#), RejectReason::BadJson);
        assert_eq!(reason(b"{\"uid\":\"\xff\"}"), RejectReason::InvalidUtf8);
        assert_eq!(reason(b"\xff{}"), RejectReason::InvalidUtf8);
        // Even in a field sekisho does not read: the line is not JSON text.
        assert_eq!(reason(b"{\"history\":\"\xff\"}"), RejectReason::InvalidUtf8);
    }

    #[test]
    fn bad_and_missing_fields_are_named() {
        let e = parse_line(
            DOTTED.replace("\"10.0.1.6\"", "\"10.0.1.x\"").as_bytes(),
            None,
            &sensor(),
        )
        .unwrap_err();
        assert_eq!(e.reason, RejectReason::BadField);
        assert_eq!(e.detail, "id.orig_h: \"10.0.1.x\"");
        let e = parse_line(
            DOTTED.replace("\"id.resp_p\":53,", "").as_bytes(),
            None,
            &sensor(),
        )
        .unwrap_err();
        assert_eq!(e, RecordError::new(RejectReason::MissingField, "id.resp_p"));
        for (from, to) in [
            ("54243", "70000"),
            ("54243", "-1"),
            ("54243", "\"http\""),
            ("\"udp\"", "{}"),
            ("Cvf4XX17hSAgXDdGEd", "Cvf4XX17hSAgXDdGEdCvf4XX17hSAgXDdGEd"),
            ("\"orig_bytes\":39", "\"orig_bytes\":3.5"),
        ] {
            let line = DOTTED.replacen(from, to, 1);
            assert_eq!(reason(line.as_bytes()), RejectReason::BadField, "{line}");
        }
    }
}
