//! Field values as the two formats write them, and their conversion to typed values.
//!
//! Both readers first cut a record into [`Cell`]s (borrowed slices of the line, no copy) and
//! file them under a [`Slot`]; only then are the few fields sekisho uses converted. Numbers
//! from both formats go through the same exact decimal parser, which is why a TSV record and
//! its JSON twin give bit-identical events.

use crate::RecordError;
use sekisho_event::{RejectReason, Timestamp};
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Longest value prefix quoted in a rejection's detail, in bytes.
pub(crate) const DETAIL_PREFIX: usize = 40;

macro_rules! slots {
    ($($slot:ident => $name:literal $(| $alias:literal)*,)*) => {
        /// A field sekisho reads, whatever log it is in. Field names mean the same thing in
        /// every log that has them (`client` in ssh and kerberos, `path` in both SMB logs),
        /// so one table serves all logs and the JSON reader needs no log kind to file them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Slot { $($slot,)* }

        impl Slot {
            /// Number of slots.
            pub(crate) const COUNT: usize = [$(Slot::$slot,)*].len();

            /// The slot of a field name, dotted (`id.orig_h`) or underscored (`id_orig_h`).
            pub(crate) fn from_field(name: &str) -> Option<Slot> {
                match name {
                    $($name $(| $alias)* => Some(Slot::$slot),)*
                    _ => None,
                }
            }

            /// Zeek's (dotted) name of the field, for rejection details.
            pub(crate) fn name(self) -> &'static str {
                match self { $(Slot::$slot => $name,)* }
            }
        }
    };
}

slots! {
    Ts => "ts",
    Uid => "uid",
    OrigH => "id.orig_h" | "id_orig_h",
    OrigP => "id.orig_p" | "id_orig_p",
    RespH => "id.resp_h" | "id_resp_h",
    RespP => "id.resp_p" | "id_resp_p",
    Proto => "proto",
    Service => "service",
    Duration => "duration",
    OrigBytes => "orig_bytes",
    RespBytes => "resp_bytes",
    OrigPkts => "orig_pkts",
    RespPkts => "resp_pkts",
    ConnState => "conn_state",
    Cookie => "cookie",
    Result => "result",
    SecurityProtocol => "security_protocol",
    ClientName => "client_name",
    AuthSuccess => "auth_success",
    AuthAttempts => "auth_attempts",
    Client => "client",
    Server => "server",
    Path => "path",
    ShareType => "share_type",
    Action => "action",
    Name => "name",
    Size => "size",
    Username => "username",
    Hostname => "hostname",
    Domainname => "domainname",
    Success => "success",
    RequestType => "request_type",
    Endpoint => "endpoint",
    Operation => "operation",
    // JSON only: the log a line belongs to (Zeek's `_path`, RockNSM/Logstash's `@stream`).
    LogPath => "_path" | "@stream",
}

/// One field's value as written in the line.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Cell<'a> {
    /// A TSV field, `\xNN` escapes not yet decoded. `container` when `#types` says
    /// `set[..]`/`vector[..]`: elements are split by the set separator.
    Tsv { raw: &'a [u8], container: bool },
    /// A TSV field equal to the `#empty_field` marker: an empty string or container.
    TsvEmpty,
    /// A JSON value's source text (string with its quotes, number, `true`, array, ...).
    /// `null` is never stored: it is unset.
    Json(&'a str),
}

/// The fields of one record that sekisho reads; unset fields are `None`.
#[derive(Debug)]
pub(crate) struct Fields<'a> {
    pub(crate) cells: [Option<Cell<'a>>; Slot::COUNT],
    /// TSV set separator, to join container elements with `,` like Zeek's JSON does.
    pub(crate) set_sep: &'a [u8],
}

impl<'a> Fields<'a> {
    pub(crate) fn new(set_sep: &'a [u8]) -> Self {
        Fields {
            cells: [None; Slot::COUNT],
            set_sep,
        }
    }

    pub(crate) fn get(&self, slot: Slot) -> Option<Cell<'a>> {
        self.cells[slot as usize]
    }

    pub(crate) fn set(&mut self, slot: Slot, cell: Cell<'a>) {
        self.cells[slot as usize] = Some(cell);
    }

    /// A required field's number text.
    fn required(&self, slot: Slot) -> Result<&'a [u8], RecordError> {
        match self.get(slot) {
            None => Err(missing(slot)),
            Some(cell) => scalar(slot, cell),
        }
    }

    fn optional(&self, slot: Slot) -> Result<Option<&'a [u8]>, RecordError> {
        self.get(slot).map(|cell| scalar(slot, cell)).transpose()
    }

    /// A required time: epoch seconds (both formats) or RFC 3339 (JSON strings).
    pub(crate) fn ts(&self, slot: Slot) -> Result<Timestamp, RecordError> {
        let cell = self.get(slot).ok_or_else(|| missing(slot))?;
        let text = scalar(slot, cell)?;
        if let Some(micros) = parse_micros(text) {
            return Ok(Timestamp::from_micros(micros));
        }
        if matches!(cell, Cell::Json(raw) if raw.starts_with('"')) {
            // Zeek's JSON writer with `JSON::TS_ISO8601`; RFC 3339 text is plain ASCII.
            if let Some(ts) = std::str::from_utf8(text)
                .ok()
                .and_then(Timestamp::parse_rfc3339)
            {
                return Ok(ts);
            }
        }
        Err(bad(slot, text))
    }

    pub(crate) fn ip(&self, slot: Slot) -> Result<IpAddr, RecordError> {
        let text = self.required(slot)?;
        parse_ip(text).ok_or_else(|| bad(slot, text))
    }

    pub(crate) fn port(&self, slot: Slot) -> Result<u16, RecordError> {
        let text = self.required(slot)?;
        parse_u64(text)
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| bad(slot, text))
    }

    pub(crate) fn count(&self, slot: Slot) -> Result<Option<u64>, RecordError> {
        match self.optional(slot)? {
            None => Ok(None),
            Some(text) => parse_u64(text).map(Some).ok_or_else(|| bad(slot, text)),
        }
    }

    /// An interval in seconds as microseconds; negative intervals are an error.
    pub(crate) fn interval_us(&self, slot: Slot) -> Result<Option<u64>, RecordError> {
        match self.optional(slot)? {
            None => Ok(None),
            Some(text) => parse_micros(text)
                .and_then(|us| u64::try_from(us).ok())
                .map(Some)
                .ok_or_else(|| bad(slot, text)),
        }
    }

    pub(crate) fn bool(&self, slot: Slot) -> Result<Option<bool>, RecordError> {
        match self.optional(slot)? {
            None => Ok(None),
            Some(b"T" | b"true") => Ok(Some(true)),
            Some(b"F" | b"false") => Ok(Some(false)),
            Some(text) => Err(bad(slot, text)),
        }
    }

    /// A string field, decoded. Borrowed unless it had escapes or was a container.
    pub(crate) fn text(&self, slot: Slot) -> Result<Option<Cow<'a, str>>, RecordError> {
        let Some(cell) = self.get(slot) else {
            return Ok(None);
        };
        let text = match cell {
            Cell::TsvEmpty => Cow::Borrowed(""),
            Cell::Tsv { raw, container } => {
                // Zeek escapes every non-printable byte, so raw invalid UTF-8 in a line is
                // corruption (or not Zeek), not data.
                let s = std::str::from_utf8(raw).map_err(|_| invalid_utf8(slot, raw))?;
                if container && !self.set_sep.is_empty() {
                    let mut out = String::new();
                    for (i, elem) in SplitSep::new(raw, self.set_sep).enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str(&unescape_tsv(elem));
                    }
                    Cow::Owned(out)
                } else if raw.contains(&b'\\') {
                    Cow::Owned(unescape_tsv(raw).into_owned())
                } else {
                    Cow::Borrowed(s)
                }
            }
            Cell::Json(raw) => json_text(slot, raw)?,
        };
        Ok(Some(text))
    }

    /// A string field we keep in an event: owned.
    pub(crate) fn string(&self, slot: Slot) -> Result<Option<String>, RecordError> {
        Ok(self.text(slot)?.map(Cow::into_owned))
    }
}

/// The text of a scalar cell: TSV as written, JSON numbers and literals as written, JSON
/// strings without their quotes (a quoted number is accepted; some pipelines quote them).
fn scalar<'a>(slot: Slot, cell: Cell<'a>) -> Result<&'a [u8], RecordError> {
    match cell {
        Cell::Tsv { raw, .. } => Ok(raw),
        Cell::TsvEmpty => Err(bad(slot, b"(empty)")),
        Cell::Json(raw) => {
            let b = raw.as_bytes();
            match b.first() {
                Some(b'"') if b.len() >= 2 => Ok(&b[1..b.len() - 1]),
                Some(b'[' | b'{') => Err(bad(slot, b)),
                _ => Ok(b),
            }
        }
    }
}

fn json_text<'a>(slot: Slot, raw: &'a str) -> Result<Cow<'a, str>, RecordError> {
    let b = raw.as_bytes();
    match b.first() {
        Some(b'"') => {
            if !b.contains(&b'\\') && b.len() >= 2 {
                Ok(Cow::Borrowed(&raw[1..raw.len() - 1]))
            } else {
                serde_json::from_str::<String>(raw)
                    .map(Cow::Owned)
                    .map_err(|_| bad(slot, b))
            }
        }
        // Zeek writes sets and vectors as arrays; join them the way the TSV reader does.
        Some(b'[') => match serde_json::from_str::<Vec<Cow<'_, str>>>(raw) {
            Ok(items) => Ok(Cow::Owned(items.join(","))),
            Err(_) => Err(bad(slot, b)),
        },
        Some(b'{') => Err(bad(slot, b)),
        // Numbers and booleans where text was expected: keep their text.
        _ => Ok(Cow::Borrowed(raw)),
    }
}

/// Decodes Zeek's ASCII-writer escapes: `\xNN` for separators and non-printable bytes and
/// `\\` for a backslash; any other backslash is kept as is. Bytes that do not form UTF-8
/// after decoding are written back as `\xNN` text, exactly as Zeek's JSON writer does, so
/// both formats give the same string.
pub(crate) fn unescape_tsv(raw: &[u8]) -> Cow<'_, str> {
    if !raw.contains(&b'\\') {
        return String::from_utf8_lossy(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c == b'\\' {
            if raw.get(i + 1) == Some(&b'x')
                && let (Some(h), Some(l)) = (raw.get(i + 2), raw.get(i + 3))
                && let (Some(h), Some(l)) = (hex(*h), hex(*l))
            {
                out.push((h << 4) | l);
                i += 4;
                continue;
            }
            if raw.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => {
            let bytes = e.into_bytes();
            let mut s = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                s.push_str(chunk.valid());
                for b in chunk.invalid() {
                    s.push_str(&format!("\\x{b:02x}"));
                }
            }
            Cow::Owned(s)
        }
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Splits `s` at every occurrence of a (one- or multi-byte) separator.
pub(crate) struct SplitSep<'a> {
    rest: Option<&'a [u8]>,
    sep: &'a [u8],
}

impl<'a> SplitSep<'a> {
    pub(crate) fn new(s: &'a [u8], sep: &'a [u8]) -> Self {
        SplitSep { rest: Some(s), sep }
    }
}

impl<'a> Iterator for SplitSep<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        let at = match self.sep {
            [] => None,
            [b] => memchr::memchr(*b, rest),
            sep => memchr::memmem::find(rest, sep),
        };
        match at {
            Some(i) => {
                self.rest = Some(&rest[i + self.sep.len()..]);
                Some(&rest[..i])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// A decimal integer (digits only).
pub(crate) fn parse_u64(s: &[u8]) -> Option<u64> {
    match s.len() {
        ..20 => plain_digits(s),
        // Only twenty digits can overflow: the last one is added with a check.
        20 => {
            let last = digit(s.last())?;
            plain_digits(&s[..19])?
                .checked_mul(10)?
                .checked_add(u64::from(last))
        }
        _ => None,
    }
}

/// One to nineteen decimal digits, which cannot overflow a `u64`.
#[inline]
fn plain_digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    let mut n: u64 = 0;
    for &c in s {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u64::from(d);
    }
    Some(n)
}

/// Largest magnitude of seconds accepted, as in [`Timestamp::from_secs_f64`].
const MAX_SECS: i64 = 9_000_000_000_000;

/// Decimal seconds (`1588205199.824370`, `-0.5`, `1e3`) as microseconds, rounded half away
/// from zero at the seventh fractional digit.
///
/// Plain decimals are parsed exactly (no float), which is both faster and the reason a
/// value gives the same microseconds whichever format wrote it; exponent forms fall back to
/// `f64`.
pub(crate) fn parse_micros(s: &[u8]) -> Option<i64> {
    plain_micros(s).or_else(|| any_micros(s))
}

/// What Zeek writes: up to twelve integer digits, a point, and six fraction digits (TSV)
/// or one to six (JSON trims trailing zeros). No rounding, no overflow check needed (at
/// most 18 digits).
#[inline]
fn plain_micros(s: &[u8]) -> Option<i64> {
    let (point, micros) = if s.len() >= 8 && s[s.len() - 7] == b'.' {
        // The six fraction digits, read as eight bytes whose first two (a digit or the
        // point, and the digit or point before) are overwritten with zeros.
        let last8 = u64::from_le_bytes(*s.last_chunk::<8>()?);
        (s.len() - 7, eight_digits((last8 & !0xffff) | 0x3030)?)
    } else {
        let tail = &s[s.len().saturating_sub(6)..];
        let point = s.len() - tail.len() + tail.iter().rposition(|&c| c == b'.')?;
        let frac = &s[point + 1..];
        (
            point,
            plain_digits(frac)? * 10u64.pow(6 - frac.len() as u32),
        )
    };
    if !(1..=12).contains(&point) {
        return None;
    }
    let secs = if point >= 8 {
        let low = eight_digits(u64::from_le_bytes(*s[..point].last_chunk::<8>()?))?;
        let high = if point > 8 {
            plain_digits(&s[..point - 8])?
        } else {
            0
        };
        high * 100_000_000 + low
    } else {
        plain_digits(&s[..point])?
    };
    i64::try_from(secs * 1_000_000 + micros).ok()
}

/// Eight ASCII digits, the first in the lowest byte, as their value; `None` unless all
/// eight are digits. Three multiplications instead of eight steps (Lemire's method).
#[inline]
fn eight_digits(word: u64) -> Option<u64> {
    if crate::split::non_digit_lanes(word) != 0 {
        return None;
    }
    let pairs = ((word & 0x0f0f_0f0f_0f0f_0f0f).wrapping_mul(2561)) >> 8;
    let quads = ((pairs & 0x00ff_00ff_00ff_00ff).wrapping_mul(6_553_601)) >> 16;
    Some(((quads & 0x0000_ffff_0000_ffff).wrapping_mul(42_949_672_960_001)) >> 32)
}

fn any_micros(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first()? {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let int_len = digits
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let (int, rest) = digits.split_at(int_len);
    let frac = match rest {
        [] => Some(&rest[..0]),
        [b'.', frac @ ..] if frac.iter().all(u8::is_ascii_digit) => Some(frac),
        _ => None,
    };
    let Some(frac) = frac else {
        return parse_micros_float(s);
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    // Leading zeros are harmless; strip them so the length cap below means magnitude.
    let int = &int[int.iter().take_while(|&&c| c == b'0').count()..];
    if int.len() > 13 {
        return None;
    }
    let mut secs: i64 = 0;
    for &c in int {
        secs = secs * 10 + i64::from(c - b'0');
    }
    if secs > MAX_SECS {
        return None;
    }
    let mut micros: i64 = 0;
    for i in 0..6 {
        micros = micros * 10 + frac.get(i).map_or(0, |&c| i64::from(c - b'0'));
    }
    let round_up = frac.get(6).is_some_and(|&c| c >= b'5');
    let total = secs * 1_000_000 + micros + i64::from(round_up);
    Some(if neg { -total } else { total })
}

fn parse_micros_float(s: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(s).ok()?;
    // Only exponent forms reach here; refuse `inf`, `nan` and other words f64 accepts.
    if !s
        .bytes()
        .all(|c| c.is_ascii_digit() || b"+-.eE".contains(&c))
    {
        return None;
    }
    let secs: f64 = s.parse().ok()?;
    Timestamp::from_secs_f64(secs).map(Timestamp::as_micros)
}

/// An IPv4 or IPv6 address. Dotted-quad IPv4 (almost every address in real logs) is parsed
/// by hand; anything else goes to the standard library.
pub(crate) fn parse_ip(s: &[u8]) -> Option<IpAddr> {
    if let Some(v4) = parse_ipv4(s) {
        return Some(IpAddr::V4(v4));
    }
    if let Some(v6) = parse_ipv6_hex(s) {
        return Some(IpAddr::V6(v6));
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// IPv6 written as hex groups with at most one `::`, the form Zeek writes; `None` for
/// anything else (an embedded IPv4 tail, a bad address), which the standard library then
/// judges. It costs a tenth of the standard parser, which tries every form at every group.
fn parse_ipv6_hex(s: &[u8]) -> Option<Ipv6Addr> {
    if !(2..=39).contains(&s.len()) {
        return None;
    }
    let mut groups = [0u16; 8];
    let mut count = 0;
    // Where `::` stands among the groups.
    let mut gap = None;
    let mut at = 0;
    if s.starts_with(b"::") {
        gap = Some(0);
        at = 2;
    }
    while at < s.len() {
        let start = at;
        let mut value: u16 = 0;
        while at - start < 4 {
            let Some(d) = s.get(at).and_then(|&c| char::from(c).to_digit(16)) else {
                break;
            };
            value = value << 4 | d as u16;
            at += 1;
        }
        if at == start || count == 8 {
            return None;
        }
        groups[count] = value;
        count += 1;
        match s.get(at) {
            None => break,
            Some(b':') => at += 1,
            Some(_) => return None,
        }
        if s.get(at) == Some(&b':') {
            if gap.is_some() {
                return None;
            }
            gap = Some(count);
            at += 1;
        } else if at == s.len() {
            // A single trailing colon.
            return None;
        }
    }
    match gap {
        None if count == 8 => Some(Ipv6Addr::from(groups)),
        // `::` stands for at least one group of zeros.
        Some(gap) if count < 8 => {
            let moved = count - gap;
            groups.copy_within(gap..count, 8 - moved);
            groups[gap..8 - moved].fill(0);
            Some(Ipv6Addr::from(groups))
        }
        _ => None,
    }
}

fn parse_ipv4(s: &[u8]) -> Option<Ipv4Addr> {
    if !(7..=15).contains(&s.len()) {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut at = 0;
    for (i, octet) in octets.iter_mut().enumerate() {
        if i > 0 {
            if s.get(at) != Some(&b'.') {
                return None;
            }
            at += 1;
        }
        let first = digit(s.get(at))?;
        let mut value = u32::from(first);
        at += 1;
        // At most three digits, and like the standard library no leading zero (`010` is
        // ambiguous: octal?).
        for _ in 0..2 {
            let Some(d) = digit(s.get(at)) else { break };
            if first == 0 {
                return None;
            }
            value = value * 10 + u32::from(d);
            at += 1;
        }
        *octet = u8::try_from(value).ok()?;
    }
    (at == s.len()).then(|| Ipv4Addr::from(octets))
}

#[inline]
fn digit(c: Option<&u8>) -> Option<u8> {
    let d = c?.wrapping_sub(b'0');
    (d <= 9).then_some(d)
}

/// A short, terminal-safe quote of a hostile value: at most [`DETAIL_PREFIX`] bytes, escaped.
pub(crate) fn preview(value: &[u8]) -> String {
    let cut = value.len().min(DETAIL_PREFIX);
    let mut out = String::with_capacity(cut + 8);
    out.push('"');
    for chunk in value[..cut].utf8_chunks() {
        out.extend(chunk.valid().escape_debug());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    if value.len() > cut {
        out.push_str("...");
    }
    out
}

pub(crate) fn missing(slot: Slot) -> RecordError {
    RecordError::new(RejectReason::MissingField, slot.name())
}

pub(crate) fn bad(slot: Slot, value: &[u8]) -> RecordError {
    RecordError::new(
        RejectReason::BadField,
        format!("{}: {}", slot.name(), preview(value)),
    )
}

fn invalid_utf8(slot: Slot, value: &[u8]) -> RecordError {
    RecordError::new(
        RejectReason::InvalidUtf8,
        format!("{}: {}", slot.name(), preview(value)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_seconds_are_exact_micros() {
        assert_eq!(
            parse_micros(b"1588205199.82437"),
            Some(1_588_205_199_824_370)
        );
        assert_eq!(
            parse_micros(b"1521911721.258458"),
            Some(1_521_911_721_258_458)
        );
        assert_eq!(parse_micros(b"0.001528024673461914"), Some(1528));
        assert_eq!(parse_micros(b"0.0000005"), Some(1));
        assert_eq!(parse_micros(b"-1.5"), Some(-1_500_000));
        assert_eq!(parse_micros(b"12"), Some(12_000_000));
        assert_eq!(parse_micros(b".5"), Some(500_000));
        assert_eq!(parse_micros(b"1.5e3"), Some(1_500_000_000));
        for bad in [
            &b""[..],
            b"-",
            b".",
            b"1.2.3",
            b"inf",
            b"NaN",
            b"1e99",
            b"abc",
            b"1 ",
        ] {
            assert_eq!(
                parse_micros(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(parse_micros(b"99999999999999999999"), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
        #[test]
        fn plain_micros_agree_with_the_general_parser(
            s in "[0-9]{0,14}[.]?[0-9]{0,8}|[0-9. -]{0,20}|[0-9]{1,13}[.][0-9]{6}|[0-9/:]{1,13}[.][0-9/:]{6}"
        ) {
            // What Zeek writes always takes the fast path.
            let zeek_form = s.len() >= 8
                && s.len() - 7 <= 12
                && s.bytes().enumerate().all(|(i, c)| if i == s.len() - 7 { c == b'.' } else { c.is_ascii_digit() });
            if zeek_form {
                proptest::prop_assert!(plain_micros(s.as_bytes()).is_some(), "{}", s);
            }
            if let Some(fast) = plain_micros(s.as_bytes()) {
                proptest::prop_assert_eq!(Some(fast), any_micros(s.as_bytes()), "{}", s);
            }
        }

        #[test]
        fn ipv6_parser_agrees_with_std(
            s in "[0-9a-fA-F:]{0,40}|[0-9a-f]{0,5}(::?[0-9a-f]{0,5}){0,9}:?|[0-9a-f:]{0,20}[.0-9]{0,9}",
            bits in proptest::prelude::any::<u128>(),
            zeros in 0usize..8,
        ) {
            let parsed = parse_ip(s.as_bytes());
            proptest::prop_assert_eq!(parsed, s.parse::<IpAddr>().ok(), "{}", s);
            // Real addresses, compressed the way `Display` writes them, with runs of zeros.
            let groups: Vec<u16> = (0..8u32)
                .map(|i| if (i as usize) < zeros { 0 } else { (bits >> (16 * i)) as u16 })
                .collect();
            let addr = Ipv6Addr::from(<[u16; 8]>::try_from(groups).unwrap());
            let text = addr.to_string();
            proptest::prop_assert_eq!(parse_ip(text.as_bytes()), Some(IpAddr::V6(addr)));
            if !text.contains('.') {
                proptest::prop_assert_eq!(parse_ipv6_hex(text.as_bytes()), Some(addr), "{}", text);
            }
            let upper = text.to_uppercase();
            proptest::prop_assert_eq!(parse_ip(upper.as_bytes()), Some(IpAddr::V6(addr)));
        }

        #[test]
        fn ipv4_parser_agrees_with_std(
            s in "[0-9]{1,4}[.][0-9]{1,4}[.][0-9]{1,4}[.][0-9]{1,4}|[0-9.:a-f]{0,16}"
        ) {
            proptest::prop_assert_eq!(parse_ip(s.as_bytes()), s.parse::<IpAddr>().ok(), "{}", s);
        }
    }

    #[test]
    fn eight_digits_at_once() {
        let word = |s: &[u8; 8]| u64::from_le_bytes(*s);
        assert_eq!(eight_digits(word(b"12345678")), Some(12_345_678));
        assert_eq!(eight_digits(word(b"00000000")), Some(0));
        assert_eq!(eight_digits(word(b"99999999")), Some(99_999_999));
        for bad in [
            b"1234567/",
            b"1234567:",
            b"/2345678",
            b"1234 678",
            b"\xb12345678"[..8].try_into().unwrap(),
        ] {
            assert_eq!(
                eight_digits(word(bad)),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(
            parse_micros(b"1719792161.514862"),
            Some(1_719_792_161_514_862)
        );
        assert_eq!(parse_micros(b"0.003255"), Some(3_255));
        assert_eq!(parse_micros(b"12345678.000001"), Some(12_345_678_000_001));
        // JSON trims trailing zeros.
        assert_eq!(
            plain_micros(b"1588205199.82437"),
            Some(1_588_205_199_824_370)
        );
        assert_eq!(plain_micros(b"0.5"), Some(500_000));
        assert_eq!(plain_micros(b"12.0"), Some(12_000_000));
        for not_plain in [&b"1.5e3"[..], b".5", b"5.", b"-0.5", b"0.0000005", b"12"] {
            assert_eq!(
                plain_micros(not_plain),
                None,
                "{:?}",
                String::from_utf8_lossy(not_plain)
            );
        }
    }

    #[test]
    fn counts_up_to_u64_max() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(
            parse_u64(b"9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            &b""[..],
            b"18446744073709551616",
            b"99999999999999999999",
            b"123456789012345678901",
            b"1-",
            b"+1",
            b" 1",
        ] {
            assert_eq!(parse_u64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn ipv4_fast_path_agrees_with_std() {
        for s in [
            "10.0.1.6",
            "0.0.0.0",
            "255.255.255.255",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "01.1.1.1",
            "1..1.1",
            "1.1.1.",
            "",
            "::1",
            "fe80::1",
            "::ffff:1.2.3.4",
            "x",
        ] {
            assert_eq!(parse_ip(s.as_bytes()), s.parse::<IpAddr>().ok(), "{s}");
        }
    }

    #[test]
    fn tsv_unescape_decodes_hex_and_backslash_and_keeps_bad_bytes_as_text() {
        assert_eq!(unescape_tsv(br"a\x09b"), "a\tb");
        assert_eq!(unescape_tsv(br"\\\\SNOZBERRY\\IPC$"), r"\\SNOZBERRY\IPC$");
        assert_eq!(unescape_tsv(br"\xc3\xbc"), "\u{fc}");
        assert_eq!(unescape_tsv(br"\xff!"), r"\xff!");
        assert_eq!(unescape_tsv(br"\x2d"), "-");
        assert_eq!(unescape_tsv(br"tail\"), "tail\\");
        assert_eq!(unescape_tsv(br"\xZZ"), r"\xZZ");
    }

    #[test]
    fn preview_is_short_and_escaped() {
        let long = [b'a'; 100];
        assert_eq!(preview(&long), format!("\"{}\"...", "a".repeat(40)));
        assert_eq!(preview(b"a\x1b[31m"), "\"a\\u{1b}[31m\"");
        assert_eq!(preview(b"\xffok\"\n"), r#""\xffok\"\n""#);
    }

    #[test]
    fn split_handles_multi_byte_separators() {
        let parts: Vec<_> = SplitSep::new(b"a::b::", b"::").collect();
        assert_eq!(parts, vec![&b"a"[..], b"b", b""]);
        let parts: Vec<_> = SplitSep::new(b"a,b", b",").collect();
        assert_eq!(parts, vec![&b"a"[..], b"b"]);
    }
}
