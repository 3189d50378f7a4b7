//! The hot path: conn.log TSV lines with a one-byte separator, parsed straight from the
//! line's bytes into a [`Flow`].
//!
//! Nearly every record sekisho reads is a conn record, and nearly every conn record is
//! plain: no escapes, no `(empty)` markers, ASCII throughout. For those this path skips
//! the general machinery (a cell table over every slot, UTF-8 checks and unescaping of
//! each text field) and reads the fourteen columns it needs from their positions, using
//! the same number, time and address parsers as the general path. Anything unusual — a
//! bad or missing value, an escape, an empty marker, a wrong field count — makes it
//! return `None`, and the caller parses the line again the general way, which produces
//! the exact rejection. So this path can only ever agree with the general one (a property
//! test holds it to that); it decides nothing on its own.

use crate::split::Separated;
use crate::value::{Slot, parse_ip, parse_micros, parse_u64};
use sekisho_event::{ConnState, Flow, Proto, Service, Timestamp, Uid};
use std::sync::Arc;

/// How many conn fields this path reads.
const FIELD_COUNT: usize = 14;
const TS: usize = 0;
const UID: usize = 1;
const ORIG_H: usize = 2;
const ORIG_P: usize = 3;
const RESP_H: usize = 4;
const RESP_P: usize = 5;
const PROTO: usize = 6;
const SERVICE: usize = 7;
const DURATION: usize = 8;
const ORIG_BYTES: usize = 9;
const RESP_BYTES: usize = 10;
const ORIG_PKTS: usize = 11;
const RESP_PKTS: usize = 12;
const CONN_STATE: usize = 13;

/// The index of a conn field in the values this path collects.
fn code_of(slot: Slot) -> Option<usize> {
    Some(match slot {
        Slot::Ts => TS,
        Slot::Uid => UID,
        Slot::OrigH => ORIG_H,
        Slot::OrigP => ORIG_P,
        Slot::RespH => RESP_H,
        Slot::RespP => RESP_P,
        Slot::Proto => PROTO,
        Slot::Service => SERVICE,
        Slot::Duration => DURATION,
        Slot::OrigBytes => ORIG_BYTES,
        Slot::RespBytes => RESP_BYTES,
        Slot::OrigPkts => ORIG_PKTS,
        Slot::RespPkts => RESP_PKTS,
        Slot::ConnState => CONN_STATE,
        _ => return None,
    })
}

/// Marks a column this path does not read.
const UNUSED: u8 = u8::MAX;

/// Where the conn fields sit in a `#fields` line, resolved once per header.
#[derive(Clone, Debug)]
pub(crate) struct ConnLayout {
    /// Per column up to the last one read: the field's index (see [`code_of`]), or
    /// [`UNUSED`].
    columns: Vec<u8>,
    /// How many columns follow the last one read.
    unread_tail: usize,
}

impl ConnLayout {
    /// The layout of a header block given its columns (the slot each one fills and whether
    /// `#types` made it a set or vector), or `None` when this path cannot serve it: a
    /// required field is missing, a field appears twice, or a field we read is a container.
    pub(crate) fn new(columns: impl Iterator<Item = (Option<Slot>, bool)>) -> Option<Self> {
        let mut codes = Vec::new();
        let mut seen = [false; FIELD_COUNT];
        for (slot, container) in columns {
            match slot.and_then(code_of) {
                Some(code) => {
                    if seen[code] || container {
                        return None;
                    }
                    seen[code] = true;
                    codes.push(code as u8);
                }
                None => codes.push(UNUSED),
            }
        }
        // The fields every record must have; the rest default when absent.
        let required = [TS, UID, ORIG_H, ORIG_P, RESP_H, RESP_P, PROTO];
        if !required.iter().all(|&f| seen[f]) {
            return None;
        }
        let read = codes.iter().rposition(|&c| c != UNUSED)? + 1;
        let unread_tail = codes.len() - read;
        codes.truncate(read);
        Some(ConnLayout {
            columns: codes,
            unread_tail,
        })
    }
}

/// The markers of the current header block that values are compared with.
pub(crate) struct Markers<'h> {
    pub(crate) separator: u8,
    pub(crate) unset: &'h [u8],
    pub(crate) empty: &'h [u8],
}

/// Parses a plain conn line, or `None` when the general path must decide.
#[inline]
pub(crate) fn parse(
    layout: &ConnLayout,
    markers: &Markers<'_>,
    line: &[u8],
    sensor: &Arc<str>,
) -> Option<Flow> {
    let mut values: [Option<&[u8]>; FIELD_COUNT] = [None; FIELD_COUNT];
    let mut fields = Separated::new(line, markers.separator);
    for &code in &layout.columns {
        let value = fields.next()?;
        // Unset optional fields read as absent; `(empty)` is left to the general path.
        if code != UNUSED && !is_marker(value, markers.unset) {
            if is_marker(value, markers.empty) {
                return None;
            }
            values[usize::from(code)] = Some(value);
        }
    }
    // The columns after the last one read are only counted; a wrong count is the general
    // path's to reject. The same pass over the line tells whether it is plain: one check
    // instead of one per text field, and an escape or a byte beyond ASCII anywhere sends
    // the line to the general path, which decides what it means.
    let (rest, plain) = fields.count_rest();
    if rest != layout.unread_tail || !plain {
        return None;
    }
    let orig_port = port(values[ORIG_P]?)?;
    let resp_port = port(values[RESP_P]?)?;
    let proto = values[PROTO]?;
    if proto.is_empty() {
        return None;
    }
    let proto = Proto::from_zeek(proto);
    let service = values[SERVICE].unwrap_or_default();
    let state = values[CONN_STATE].map_or(ConnState::Unknown, ConnState::from_zeek);
    let uid = values[UID]?;
    if uid.is_empty() {
        return None;
    }
    Some(Flow {
        ts: Timestamp::from_micros(parse_micros(values[TS]?)?),
        duration_us: match values[DURATION] {
            None => 0,
            Some(raw) => u64::try_from(parse_micros(raw)?).ok()?,
        },
        uid: Uid::from_bytes(uid)?,
        orig_ip: parse_ip(values[ORIG_H]?)?,
        orig_port,
        resp_ip: parse_ip(values[RESP_H]?)?,
        resp_port,
        proto,
        service: Service::from_zeek(service, proto, resp_port),
        orig_bytes: count(values[ORIG_BYTES])?,
        resp_bytes: count(values[RESP_BYTES])?,
        orig_pkts: count(values[ORIG_PKTS])?,
        resp_pkts: count(values[RESP_PKTS])?,
        state,
        sensor: Arc::clone(sensor),
    })
}

/// `value == marker`, compared in line: markers are a few bytes, and the slice comparison
/// calls `memcmp` whenever the lengths agree, which one-byte counts and the one-byte unset
/// marker `-` nearly always do (1.6 % of the small demo's analysis in `perf`).
#[inline]
fn is_marker(value: &[u8], marker: &[u8]) -> bool {
    value.len() == marker.len() && value.iter().zip(marker).all(|(a, b)| a == b)
}

#[inline]
fn port(raw: &[u8]) -> Option<u16> {
    parse_u64(raw).and_then(|n| u16::try_from(n).ok())
}

/// An optional count: absent is 0, present must parse.
#[inline]
fn count(raw: Option<&[u8]>) -> Option<u64> {
    match raw {
        None => Some(0),
        Some(raw) => parse_u64(raw),
    }
}
