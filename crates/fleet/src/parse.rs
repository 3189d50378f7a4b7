//! Pure parsers for osquery's result formats, over bytes: no I/O, no clock.
//!
//! osqueryd's filesystem logger writes one JSON object per line, in one of three shapes:
//!
//! ```text
//! event:    {"name":"programs","hostIdentifier":"ws-1","unixTime":"1720000000",
//!            "decorations":{"host_uuid":"…","hostname":"ws-1"},
//!            "columns":{"name":"7-Zip","version":"23.01"},"action":"added"}
//! batch:    {"name":"programs",…,"diffResults":{"added":[{…}],"removed":[{…}]}}
//! snapshot: {"name":"programs",…,"snapshot":[{…},{…}],"action":"snapshot"}
//! ```
//!
//! `unixTime` is a string in older releases and a number in newer ones; an empty side of
//! a batch is sometimes written as `""`; column values are strings, or numbers when
//! `--logger_numerics` is on. All of that is accepted. `osqueryi --json` prints a JSON
//! array of row objects, read by [`parse_rows`].

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// Columns kept per row; a row with more is rejected as huge.
pub const MAX_COLUMNS: usize = 256;
/// Bytes (names and values) per row; a row with more is rejected as huge.
pub const MAX_ROW_BYTES: usize = 64 * 1024;
/// Rows per line (a batch or snapshot); more are rejected as huge.
pub const MAX_ROWS_PER_LINE: usize = 100_000;

/// One result row: column name and value, in the order written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row<'a> {
    /// `(column, value)` pairs. Numbers and booleans are kept as their text.
    pub cols: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> Row<'a> {
    /// A column's value, `""` when the row has no such column.
    pub fn get(&self, col: &str) -> &str {
        self.cols
            .iter()
            .find(|(k, _)| k == col)
            .map_or("", |(_, v)| v.as_ref())
    }
}

/// What one row object turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowSlot<'a> {
    /// A usable row.
    Ok(Row<'a>),
    /// More than [`MAX_COLUMNS`] columns or [`MAX_ROW_BYTES`] bytes: dropped, counted.
    Huge {
        /// Columns seen.
        columns: usize,
        /// Bytes seen.
        bytes: usize,
    },
    /// A value that is an object or an array, or a row that is not an object.
    Bad,
}

impl<'de: 'a, 'a> Deserialize<'de> for RowSlot<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RowVisitor)
    }
}

struct RowVisitor;

/// A scalar column value (string, number, bool, null) as text.
struct Scalar<'a>(Option<Cow<'a, str>>);

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Owned(v))))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Borrowed(if v { "1" } else { "0" }))))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Borrowed(""))))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Borrowed(""))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Visitor<'de> for RowVisitor {
    type Value = RowSlot<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a row object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut cols = Vec::new();
        let (mut columns, mut bytes, mut bad) = (0usize, 0usize, false);
        while let Some(k) = map.next_key::<Scalar<'de>>()? {
            // JSON keys are always strings; the wrapper borrows them when unescaped.
            let k = k.0.unwrap_or(Cow::Borrowed(""));
            let v: Scalar<'de> = map.next_value()?;
            columns += 1;
            match v.0 {
                Some(v) => {
                    bytes = bytes.saturating_add(k.len()).saturating_add(v.len());
                    if columns <= MAX_COLUMNS && bytes <= MAX_ROW_BYTES {
                        cols.push((k, v));
                    }
                }
                None => bad = true,
            }
        }
        if columns > MAX_COLUMNS || bytes > MAX_ROW_BYTES {
            return Ok(RowSlot::Huge { columns, bytes });
        }
        if bad {
            return Ok(RowSlot::Bad);
        }
        Ok(RowSlot::Ok(Row { cols }))
    }
    // Anything but an object where a row belongs.
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(RowSlot::Bad)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(RowSlot::Bad)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(RowSlot::Bad)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(RowSlot::Bad)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(RowSlot::Bad)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(RowSlot::Bad)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(RowSlot::Bad)
    }
}

/// A list of rows; `""` (osquery's empty side of a batch) and `null` read as none.
#[derive(Debug, Default)]
struct Rows<'a>(Vec<RowSlot<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for Rows<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Rows<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of rows")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(r) = seq.next_element::<RowSlot<'de>>()? {
                    if out.len() < MAX_ROWS_PER_LINE {
                        out.push(r);
                    } else {
                        out.push(RowSlot::Huge {
                            columns: 0,
                            bytes: 0,
                        });
                        while seq.next_element::<IgnoredAny>()?.is_some() {}
                        break;
                    }
                }
                Ok(Rows(out))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v.is_empty() {
                    Ok(Rows(Vec::new()))
                } else {
                    Err(E::custom("expected an array of rows"))
                }
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Rows(Vec::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `unixTime`: a string or a number of seconds.
#[derive(Debug)]
struct Seconds(Option<i64>);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Scalar::deserialize(d)?;
        Ok(Seconds(s.0.and_then(|v| {
            let v = v.trim();
            v.parse::<i64>().ok().or_else(|| {
                v.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f as i64)
            })
        })))
    }
}

#[derive(Deserialize, Default)]
struct Diff<'a> {
    #[serde(borrow, default)]
    added: Rows<'a>,
    #[serde(borrow, default)]
    removed: Rows<'a>,
}

#[derive(Deserialize)]
struct RawLine<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "hostIdentifier")]
    host_identifier: Option<Cow<'a, str>>,
    #[serde(default, rename = "unixTime")]
    unix_time: Option<Seconds>,
    #[serde(borrow, default)]
    decorations: Option<RowSlot<'a>>,
    #[serde(borrow, default)]
    columns: Option<RowSlot<'a>>,
    #[serde(borrow, default)]
    action: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    snapshot: Option<Rows<'a>>,
    #[serde(borrow, default, rename = "diffResults")]
    diff_results: Option<Diff<'a>>,
}

/// The fields every result line carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// The scheduled query's name (`programs`, `pack/Global/programs`).
    pub name: Cow<'a, str>,
    /// `hostIdentifier` (hostname or uuid, per `--host_identifier`).
    pub host_identifier: Cow<'a, str>,
    /// `unixTime`, seconds.
    pub unix_time: Option<i64>,
    /// `decorations`, if any.
    pub decorations: Row<'a>,
}

impl Header<'_> {
    /// The host's identity: the `host_uuid` decoration when present, else `hostIdentifier`.
    pub fn host_id(&self) -> &str {
        let uuid = self.decorations.get("host_uuid");
        if uuid.is_empty() {
            &self.host_identifier
        } else {
            uuid
        }
    }
}

/// The rows a line carries, by format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body<'a> {
    /// Event format: one row added or removed.
    Event {
        /// `added` → true, `removed` → false.
        added: bool,
        /// The row.
        row: RowSlot<'a>,
    },
    /// Batch format: rows added and removed since the last run.
    Batch {
        /// `diffResults.added`.
        added: Vec<RowSlot<'a>>,
        /// `diffResults.removed`.
        removed: Vec<RowSlot<'a>>,
    },
    /// Snapshot: the whole table.
    Snapshot(Vec<RowSlot<'a>>),
}

/// One parsed result line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultLine<'a> {
    /// Name, host, time, decorations.
    pub header: Header<'a>,
    /// Its rows.
    pub body: Body<'a>,
}

/// Why a line could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineError {
    /// Not JSON, or truncated JSON; the message is serde_json's (position included).
    BadJson(String),
    /// JSON, but not an osquery result line (no `name`, no host, or no rows).
    NotAResult(&'static str),
}

/// Parses one line of an osqueryd results log (the line without its newline).
///
/// ```
/// use sekisho_fleet::{parse_line, Body};
/// let line = br#"{"name":"os_version","hostIdentifier":"ws-1","unixTime":1720000000,
///   "snapshot":[{"name":"Microsoft Windows 11 Pro","build":"22631","platform":"windows"}],
///   "action":"snapshot"}"#;
/// let l = parse_line(line).unwrap();
/// assert_eq!(l.header.host_id(), "ws-1");
/// assert!(matches!(l.body, Body::Snapshot(ref rows) if rows.len() == 1));
/// ```
pub fn parse_line(bytes: &[u8]) -> Result<ResultLine<'_>, LineError> {
    let raw: RawLine =
        serde_json::from_slice(bytes).map_err(|e| LineError::BadJson(e.to_string()))?;
    let name = raw.name.ok_or(LineError::NotAResult("no \"name\""))?;
    let decorations = match raw.decorations {
        Some(RowSlot::Ok(r)) => r,
        _ => Row::default(),
    };
    let host_identifier = raw.host_identifier.unwrap_or(Cow::Borrowed(""));
    let header = Header {
        name,
        host_identifier,
        unix_time: raw.unix_time.and_then(|s| s.0),
        decorations,
    };
    if header.host_id().is_empty() {
        return Err(LineError::NotAResult("no hostIdentifier or host_uuid"));
    }
    let body = if let Some(d) = raw.diff_results {
        Body::Batch {
            added: d.added.0,
            removed: d.removed.0,
        }
    } else if let Some(s) = raw.snapshot {
        Body::Snapshot(s.0)
    } else if let Some(row) = raw.columns {
        let added = match raw.action.as_deref() {
            Some("removed") => false,
            Some("added") | Some("snapshot") | None => true,
            Some(_) => return Err(LineError::NotAResult("unknown \"action\"")),
        };
        Body::Event { added, row }
    } else {
        return Err(LineError::NotAResult(
            "no \"columns\", \"diffResults\" or \"snapshot\"",
        ));
    };
    Ok(ResultLine { header, body })
}

/// Parses `osqueryi --json` output: a JSON array of row objects.
pub fn parse_rows(bytes: &[u8]) -> Result<Vec<RowSlot<'_>>, LineError> {
    let rows: Rows =
        serde_json::from_slice(bytes).map_err(|e| LineError::BadJson(e.to_string()))?;
    Ok(rows.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_with_empty_side_and_numeric_time() {
        let l = parse_line(
            br#"{"diffResults":{"removed":[{"address":"127.0.0.1"}],"added":""},"name":"pack/t/hosts","hostIdentifier":"FA01","unixTime":1511049728,"epoch":"0","counter":"10","decorations":{"host_uuid":"U-1","hostname":"kl"}}"#,
        )
        .unwrap();
        assert_eq!(l.header.host_id(), "U-1");
        assert_eq!(l.header.unix_time, Some(1_511_049_728));
        match l.body {
            Body::Batch { added, removed } => {
                assert!(added.is_empty());
                assert_eq!(removed.len(), 1);
            }
            b => panic!("{b:?}"),
        }
    }

    #[test]
    fn truncated_and_foreign_lines_are_errors() {
        assert!(matches!(
            parse_line(br#"{"name":"programs","hostIdentifier":"a","snap"#),
            Err(LineError::BadJson(_))
        ));
        assert!(matches!(
            parse_line(br#"{"hello":1}"#),
            Err(LineError::NotAResult(_))
        ));
        assert!(matches!(
            parse_line(br#"{"name":"x","columns":{}}"#),
            Err(LineError::NotAResult(_))
        ));
    }

    #[test]
    fn nested_values_and_huge_rows_are_flagged() {
        let l = parse_line(
            br#"{"name":"p","hostIdentifier":"h","columns":{"a":{"b":1}},"action":"added"}"#,
        )
        .unwrap();
        assert!(matches!(
            l.body,
            Body::Event {
                row: RowSlot::Bad,
                ..
            }
        ));
        let big = format!(
            r#"{{"name":"p","hostIdentifier":"h","columns":{{"a":"{}"}},"action":"added"}}"#,
            "x".repeat(MAX_ROW_BYTES + 1)
        );
        let l = parse_line(big.as_bytes()).unwrap();
        assert!(matches!(
            l.body,
            Body::Event {
                row: RowSlot::Huge { .. },
                ..
            }
        ));
    }
}
