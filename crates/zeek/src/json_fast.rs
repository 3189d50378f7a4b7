//! The hot path of the JSON reader: a flat object without escapes, scanned by hand.
//!
//! What Zeek's JSON writer produces is a flat object of numbers, strings without escapes,
//! booleans and arrays of strings. For such a line this scanner files the same raw value
//! texts under the same slots as the serde_json path in [`crate::json`] would, at a
//! fraction of the cost (serde_json's visitor machinery cost ~12,000 instructions per conn
//! record). Anything else — a backslash anywhere, a nested object, an array of arrays, a
//! control character, a number JSON does not allow, any syntax error — makes it return
//! `false`, and the caller parses the line with serde_json, which decides and words the
//! rejection. So this path can only agree with the general one (a property test holds it
//! to that).

use crate::split::{HIGH, ONES, first_zero_lanes};
use crate::value::{Cell, Fields, Slot};

/// Files the fields of the flat JSON object `text` in `fields`; `false` when the line is
/// not plain enough for this path (then `fields` may hold part of it and must be reset).
pub(crate) fn scan<'a>(text: &'a str, fields: &mut Fields<'a>) -> bool {
    is_plain(text.as_bytes()) && members(text, fields).is_some()
}

/// The object, consumed from the front. Every cut falls on an ASCII byte (a quote, a
/// bracket, a digit), and `strip_prefix`/`split_at_checked` keep that check cheap.
fn members<'a>(text: &'a str, fields: &mut Fields<'a>) -> Option<()> {
    let rest = spaces(text).strip_prefix('{')?;
    let mut rest = spaces(rest);
    if let Some(after) = rest.strip_prefix('}') {
        return spaces(after).is_empty().then_some(());
    }
    loop {
        let (key, after) = string(rest)?;
        let after = spaces(spaces(after).strip_prefix(':')?);
        let (value, after) = after.split_at_checked(value_len(after.as_bytes())?)?;
        if key == "id" {
            // Zeek's nested `id` object, or something odd in its place: the general path.
            return None;
        }
        if let Some(slot) = Slot::from_field(key)
            && value != "null"
        {
            fields.set(slot, Cell::Json(value));
        }
        let after = spaces(after);
        match after.strip_prefix(',') {
            Some(next) => rest = spaces(next),
            None => return spaces(after.strip_prefix('}')?).is_empty().then_some(()),
        }
    }
}

/// No backslash and no control character anywhere (so no escapes to decode, strings end at
/// the next quote, and whitespace between tokens can only be spaces), tested a word at a
/// time.
fn is_plain(bytes: &[u8]) -> bool {
    let (words, tail) = bytes.as_chunks::<8>();
    let mut found = 0;
    for word in words {
        let word = u64::from_le_bytes(*word);
        // Some lane below 0x20, and some lane equal to `\`: the classic "has less than"
        // and "has zero" tests, exact about whether any lane qualifies.
        let below_space = word.wrapping_sub(ONES * 0x20) & !word;
        found |= below_space | first_zero_lanes(word ^ (ONES * u64::from(b'\\')));
    }
    found & HIGH == 0 && tail.iter().all(|&b| b >= 0x20 && b != b'\\')
}

/// Whitespace between tokens: after [`is_plain`], only spaces.
#[inline]
fn spaces(s: &str) -> &str {
    // Byte by byte: `trim_start_matches` decodes characters.
    let mut s = s;
    while let Some(rest) = s.strip_prefix(' ') {
        s = rest;
    }
    s
}

/// A string at the front of `s`: its text without quotes, and what follows it.
#[inline]
fn string(s: &str) -> Option<(&str, &str)> {
    let s = s.strip_prefix('"')?;
    let (inner, after) = s.split_at_checked(find_quote(s.as_bytes(), 0)?)?;
    Some((inner, after.strip_prefix('"')?))
}

/// The first `"` in `b` at or after `from`, eight bytes at a time: strings are most of a
/// line, and a byte loop or a call to memchr per string cost several times more.
#[inline]
fn find_quote(b: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(word) = b.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        let lanes = first_zero_lanes(u64::from_le_bytes(*word) ^ (ONES * u64::from(b'"')));
        if lanes != 0 {
            return Some(at + (lanes.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = b.get(at..)?;
    tail.iter().position(|&c| c == b'"').map(|i| at + i)
}

/// The length of the value at the front of `b`: a string, number, literal, or an array of
/// those; `None` for objects, nested arrays and anything malformed.
fn value_len(b: &[u8]) -> Option<usize> {
    match *b.first()? {
        b'"' => Some(find_quote(b, 1)? + 1),
        b'[' => {
            let mut at = skip_spaces(b, 1);
            if b.get(at) == Some(&b']') {
                return Some(at + 1);
            }
            loop {
                if matches!(b.get(at), Some(b'[' | b'{')) {
                    return None;
                }
                at = skip_spaces(b, at + value_len(b.get(at..)?)?);
                match b.get(at)? {
                    b',' => at = skip_spaces(b, at + 1),
                    b']' => return Some(at + 1),
                    _ => return None,
                }
            }
        }
        b't' => b.starts_with(b"true").then_some(4),
        b'f' => b.starts_with(b"false").then_some(5),
        b'n' => b.starts_with(b"null").then_some(4),
        _ => number_len(b),
    }
}

fn skip_spaces(b: &[u8], mut at: usize) -> usize {
    while b.get(at) == Some(&b' ') {
        at += 1;
    }
    at
}

/// A number as JSON's grammar has it: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`.
fn number_len(b: &[u8]) -> Option<usize> {
    let digits = |mut at: usize| {
        let start = at;
        while at < b.len() && b[at].is_ascii_digit() {
            at += 1;
        }
        at - start
    };
    let mut at = usize::from(b.first() == Some(&b'-'));
    match b.get(at)? {
        b'0' => at += 1,
        b'1'..=b'9' => at += digits(at),
        _ => return None,
    }
    if b.get(at) == Some(&b'.') {
        let n = digits(at + 1);
        if n == 0 {
            return None;
        }
        at += 1 + n;
    }
    if let Some(b'e' | b'E') = b.get(at) {
        at += 1;
        if let Some(b'+' | b'-') = b.get(at) {
            at += 1;
        }
        let n = digits(at);
        if n == 0 {
            return None;
        }
        at += n;
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_object_serde;
    use proptest::prelude::*;

    fn cells(fields: &Fields<'_>) -> Vec<(usize, String)> {
        (0..Slot::COUNT)
            .filter_map(|i| match fields.cells[i] {
                Some(Cell::Json(v)) => Some((i, v.to_string())),
                _ => None,
            })
            .collect()
    }

    /// Zeek-like members, valid and not: numbers, strings, literals, arrays and objects
    /// under names sekisho reads and others, with JSON's and other whitespace around.
    fn member() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            8 => proptest::sample::select(&[
                "ts", "uid", "id.orig_h", "id_orig_p", "id.resp_p", "proto", "service",
                "_path", "tunnel_parents", "id", "history", "duration", "x",
            ][..])
            .prop_map(|k| format!("\"{k}\"")),
            1 => "\"[a-z._\\\\\u{1}]{0,5}\"",
        ];
        let value = prop_oneof![
            6 => "-?(0|[1-9][0-9]{0,5})(\\.[0-9]{1,4})?([eE][+-]?[0-9]{1,2})?",
            1 => "[-+0-9.eE]{1,6}",
            1 => "-?0[0-9]{1,3}(\\.[0-9])?",
            4 => "\"[a-zA-Z0-9 .:\u{e9}]{0,6}\"",
            1 => "\"[a-z\\\\\u{1}]{0,3}\"",
            2 => proptest::sample::select(&["true", "false", "null", "tru", "nul"][..]).prop_map(String::from),
            2 => "\\[( ?(\"a\"|1|\\[\\]|\\{\\}|null) ?,?){0,3}\\]",
            1 => Just(r#"{"orig_h":"1.2.3.4"}"#.to_string()),
        ];
        let space = || {
            prop_oneof![
                40 => " {0,1}",
                1 => "\t|\r|\n",
                1 => Just("\u{a0}".to_string()),
            ]
        };
        (space(), key, space(), space(), value, space())
            .prop_map(|(a, k, b, c, v, d)| format!("{a}{k}{b}:{c}{v}{d}"))
    }

    fn line() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(member(), 0..8),
            "( |\t){0,1}",
            prop_oneof![8 => Just(String::new()), 1 => ".{1,2}"],
            any::<prop::sample::Index>(),
        )
            .prop_map(|(members, space, noise, at)| {
                let mut line = format!("{space}{{{}}}{space}", members.join(","));
                // Now and then a stray character somewhere.
                if !noise.is_empty() {
                    let mut at = at.index(line.len() + 1);
                    while !line.is_char_boundary(at) {
                        at -= 1;
                    }
                    line.insert_str(at, &noise);
                }
                line
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(6000))]
        #[test]
        fn the_scan_files_what_serde_json_files(line in line()) {
            let mut fast = Fields::new(b",");
            if scan(&line, &mut fast) {
                let mut general = Fields::new(b",");
                prop_assert!(parse_object_serde(&line, &mut general).is_ok(), "{}", line);
                prop_assert_eq!(cells(&fast), cells(&general), "{}", line);
            }
        }
    }

    fn fast(line: &str) -> Option<Vec<(usize, String)>> {
        let mut fields = Fields::new(b",");
        scan(line, &mut fields).then(|| {
            (0..Slot::COUNT)
                .filter_map(|i| match fields.cells[i] {
                    Some(Cell::Json(v)) => Some((i, v.to_string())),
                    _ => None,
                })
                .collect()
        })
    }

    #[test]
    fn quotes_are_found_in_words_and_tails() {
        let text = br#"0123456789abcdef"x"0123456"#;
        for from in 0..=16 {
            assert_eq!(find_quote(text, from), Some(16), "{from}");
        }
        assert_eq!(find_quote(text, 17), Some(18));
        assert_eq!(find_quote(text, 19), None);
        assert_eq!(find_quote(b"\"", 0), Some(0));
        assert_eq!(find_quote(b"", 0), None);
        assert_eq!(find_quote(b"ab", 5), None);
        // A byte 0x23 ('"' + 1) right after a 0x22 is where the short test could err.
        assert_eq!(find_quote(b"aaaaaaa\"#aaaaaa", 0), Some(7));
    }

    #[test]
    fn plain_objects_are_scanned_and_odd_ones_left_alone() {
        let filed =
            fast(r#" {"ts":1.5e3, "uid" : "C1","x":[1,"a",[]],"proto":null,"success":true} "#);
        assert_eq!(filed, None, "an array of arrays goes to serde_json");
        let filed = fast(r#" {"ts":1.5e3, "uid" : "C1","x":[1,"a"],"proto":null,"success":true} "#)
            .expect("plain");
        let texts: Vec<&str> = filed.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(texts, ["1.5e3", "\"C1\"", "true"]);
        assert_eq!(fast("{}"), Some(vec![]));
        for odd in [
            r#"{"ts":01}"#,
            r#"{"ts":1.}"#,
            r#"{"ts":-}"#,
            r#"{"ts":1e}"#,
            r#"{"ts":+1}"#,
            r#"{"uid":"a\"b"}"#,
            "{\"uid\":\"a\u{1}b\"}",
            r#"{"id":{"orig_h":"10.0.0.1"}}"#,
            r#"{"ts":1,}"#,
            r#"{"ts":1}x"#,
            r#"{"ts" 1}"#,
            r#"{"ts":tru}"#,
            r#"{"ts":1"#,
            r#"["ts"]"#,
        ] {
            assert_eq!(fast(odd), None, "{odd}");
        }
    }
}
