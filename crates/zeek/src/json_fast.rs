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

use crate::split::{HIGH, ONES, first_zero_lanes, non_digit_lanes};
use crate::value::{Cell, Fields, Slot};

/// Files the fields of the flat JSON object `text` in `fields`; `false` when the line is
/// not plain enough for this path (then `fields` may hold part of it and must be reset).
/// `order` carries the keys of the lines before, and learns this line's.
pub(crate) fn scan<'a>(text: &'a str, fields: &mut Fields<'a>, order: &mut KeyOrder) -> bool {
    is_plain(text.as_bytes()) && members(text, fields, order).is_some()
}

/// The keys of the lines read so far, by position: Zeek writes every line of a log with the
/// same keys in the same order, so a key costs one comparison with the key the line above
/// had at that position, instead of a search for its closing quote and a lookup by name.
/// A line with other keys is scanned key by key and teaches its keys; the table is bounded
/// in members and key length, so a hostile file cannot grow it.
#[derive(Clone, Debug, Default)]
pub(crate) struct KeyOrder {
    members: Vec<KnownKey>,
}

#[derive(Clone, Debug)]
struct KnownKey {
    /// The key as written, quotes and colon included: `"id.orig_h":`.
    token: Vec<u8>,
    slot: Option<Slot>,
}

/// Members per line whose keys are remembered; Zeek's conn log has 21.
const KNOWN_MEMBERS: usize = 48;
/// Longest key remembered, in bytes with quotes and colon.
const KNOWN_KEY_BYTES: usize = 40;

impl KeyOrder {
    fn learn(&mut self, index: usize, token: &[u8], slot: Option<Slot>) {
        if token.len() > KNOWN_KEY_BYTES || index >= KNOWN_MEMBERS {
            return;
        }
        if let Some(known) = self.members.get_mut(index) {
            known.token.clear();
            known.token.extend_from_slice(token);
            known.slot = slot;
        } else if index == self.members.len() {
            self.members.push(KnownKey {
                token: token.to_vec(),
                slot,
            });
        }
    }
}

/// The object, walked by byte offset. Every cut falls on an ASCII byte (a quote, a bracket,
/// a digit), so `str::get` at those offsets always succeeds.
fn members<'a>(text: &'a str, fields: &mut Fields<'a>, order: &mut KeyOrder) -> Option<()> {
    let b = text.as_bytes();
    let mut at = skip_spaces(b, 0);
    if b.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_spaces(b, at + 1);
    if b.get(at) == Some(&b'}') {
        return (skip_spaces(b, at + 1) == b.len()).then_some(());
    }
    let mut index = 0;
    loop {
        let rest = b.get(at..)?;
        let slot = match order.members.get(index) {
            Some(known) if starts_with_short(rest, &known.token) => {
                at += known.token.len();
                known.slot
            }
            _ => {
                if rest.first() != Some(&b'"') {
                    return None;
                }
                let close = find_quote(b, at + 1)?;
                let key = text.get(at + 1..close)?;
                if key == "id" {
                    // Zeek's nested `id` object, or something odd in its place: the
                    // general path.
                    return None;
                }
                let slot = Slot::from_field(key);
                let colon = skip_spaces(b, close + 1);
                if b.get(colon) != Some(&b':') {
                    return None;
                }
                if colon == close + 1 {
                    order.learn(index, &b[at..=colon], slot);
                }
                at = colon + 1;
                slot
            }
        };
        at = skip_spaces(b, at);
        let len = value_len(b.get(at..)?)?;
        if let Some(slot) = slot
            // After `value_len`, a value starting with `n` is `null`: unset.
            && b[at] != b'n'
        {
            fields.set(slot, Cell::Json(text.get(at..at + len)?));
        }
        at = skip_spaces(b, at + len);
        match b.get(at)? {
            b',' => at = skip_spaces(b, at + 1),
            b'}' => return (skip_spaces(b, at + 1) == b.len()).then_some(()),
            _ => return None,
        }
        index += 1;
    }
}

/// `rest` starts with the short `token`, compared eight bytes at a time (the last eight
/// overlapping): a call to memcmp for each member of a line cost more than the comparing.
#[inline]
fn starts_with_short(rest: &[u8], token: &[u8]) -> bool {
    let Some(head) = rest.get(..token.len()) else {
        return false;
    };
    match (head.last_chunk::<8>(), token.last_chunk::<8>()) {
        (Some(head_end), Some(token_end)) => {
            head_end == token_end
                && head
                    .as_chunks::<8>()
                    .0
                    .iter()
                    .zip(token.as_chunks::<8>().0)
                    .all(|(a, b)| a == b)
        }
        _ => head.iter().zip(token).all(|(a, b)| a == b),
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
#[inline]
fn value_len(b: &[u8]) -> Option<usize> {
    if b.first() == Some(&b'[') {
        array_len(b)
    } else {
        scalar_len(b)
    }
}

/// The length of the string, number or literal at the front of `b`. Inlined into the
/// member loop: a call per value cost a fifth of the scan.
#[inline(always)]
fn scalar_len(b: &[u8]) -> Option<usize> {
    match *b.first()? {
        b'"' => Some(find_quote(b, 1)? + 1),
        b't' => b.starts_with(b"true").then_some(4),
        b'f' => b.starts_with(b"false").then_some(5),
        b'n' => b.starts_with(b"null").then_some(4),
        _ => number_len(b),
    }
}

/// The length of the array of scalars at the front of `b`.
fn array_len(b: &[u8]) -> Option<usize> {
    let mut at = skip_spaces(b, 1);
    if b.get(at) == Some(&b']') {
        return Some(at + 1);
    }
    loop {
        at = skip_spaces(b, at + scalar_len(b.get(at..)?)?);
        match b.get(at)? {
            b',' => at = skip_spaces(b, at + 1),
            b']' => return Some(at + 1),
            _ => return None,
        }
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
    let digits = |at| digit_run(b, at);
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

/// The number of ASCII digits from `b[from]` on, eight bytes at a time (a conn line has
/// some seventy digits, a byte loop spent five instructions on each).
fn digit_run(b: &[u8], from: usize) -> usize {
    let mut at = from;
    while let Some(word) = b.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        let not_digit = non_digit_lanes(u64::from_le_bytes(*word));
        if not_digit != 0 {
            return at - from + (not_digit.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let tail = b.get(at..).unwrap_or_default();
    at - from + tail.iter().take_while(|c| c.is_ascii_digit()).count()
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

    /// Keys sekisho reads and others, valid and not.
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            8 => proptest::sample::select(&[
                "ts", "uid", "id.orig_h", "id_orig_p", "id.resp_p", "proto", "service",
                "_path", "tunnel_parents", "id", "history", "duration", "x",
            ][..])
            .prop_map(|k| format!("\"{k}\"")),
            1 => "\"[a-z._\\\\\u{1}]{0,5}\"",
        ]
    }

    /// Values: numbers, strings, literals, arrays and objects, valid and not.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => "-?(0|[1-9][0-9]{0,5})(\\.[0-9]{1,4})?([eE][+-]?[0-9]{1,2})?",
            1 => "[-+0-9.eE]{1,6}",
            1 => "-?0[0-9]{1,3}(\\.[0-9])?",
            4 => "\"[a-zA-Z0-9 .:\u{e9}]{0,6}\"",
            1 => "\"[a-z\\\\\u{1}]{0,3}\"",
            2 => proptest::sample::select(&["true", "false", "null", "tru", "nul"][..]).prop_map(String::from),
            2 => "\\[( ?(\"a\"|1|\\[\\]|\\{\\}|null) ?,?){0,3}\\]",
            1 => Just(r#"{"orig_h":"1.2.3.4"}"#.to_string()),
        ]
    }

    /// JSON's whitespace and others.
    fn space() -> impl Strategy<Value = String> {
        prop_oneof![
            40 => " {0,1}",
            1 => "\t|\r|\n",
            1 => Just("\u{a0}".to_string()),
        ]
    }

    /// Zeek-like members, valid and not, with whitespace around.
    fn member() -> impl Strategy<Value = String> {
        (space(), key(), space(), space(), value(), space())
            .prop_map(|(a, k, b, c, v, d)| format!("{a}{k}{b}:{c}{v}{d}"))
    }

    /// Lines of one file: the same keys in the same order with other values, now and then
    /// a key changed or a member more or less, as the key order cache meets them.
    fn similar_lines() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec((space(), key(), space()), 0..8).prop_flat_map(|keys| {
            let n = keys.len();
            let one = (
                proptest::collection::vec((space(), value(), space()), n),
                proptest::option::weighted(0.2, (any::<prop::sample::Index>(), key())),
                prop_oneof![3 => Just(n), 1 => 0..=n],
            );
            proptest::collection::vec(one, 1..5).prop_map(move |lines| {
                lines
                    .into_iter()
                    .map(|(values, changed, len)| {
                        let mut keys = keys.clone();
                        if let Some((at, other)) = changed
                            && !keys.is_empty()
                        {
                            let at = at.index(keys.len());
                            keys[at].1 = other;
                        }
                        let members: Vec<String> = keys
                            .iter()
                            .zip(&values)
                            .take(len)
                            .map(|((a, k, b), (c, v, d))| format!("{a}{k}{b}:{c}{v}{d}"))
                            .collect();
                        format!("{{{}}}", members.join(","))
                    })
                    .collect()
            })
        })
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
            if scan(&line, &mut fast, &mut KeyOrder::default()) {
                let mut general = Fields::new(b",");
                prop_assert!(parse_object_serde(&line, &mut general).is_ok(), "{}", line);
                prop_assert_eq!(cells(&fast), cells(&general), "{}", line);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn lines_scanned_in_turn_file_what_serde_json_files(lines in similar_lines()) {
            let mut order = KeyOrder::default();
            for line in &lines {
                let mut fast = Fields::new(b",");
                if scan(line, &mut fast, &mut order) {
                    let mut general = Fields::new(b",");
                    prop_assert!(parse_object_serde(line, &mut general).is_ok(), "{}", line);
                    prop_assert_eq!(cells(&fast), cells(&general), "{}", line);
                }
            }
        }
    }

    fn fast(line: &str) -> Option<Vec<(usize, String)>> {
        let mut fields = Fields::new(b",");
        scan(line, &mut fields, &mut KeyOrder::default()).then(|| {
            (0..Slot::COUNT)
                .filter_map(|i| match fields.cells[i] {
                    Some(Cell::Json(v)) => Some((i, v.to_string())),
                    _ => None,
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn short_prefixes_compare_as_starts_with_does(
            rest in proptest::collection::vec(b'a'..=b'c', 0..24),
            token in proptest::collection::vec(b'a'..=b'c', 0..20),
            flip in any::<prop::sample::Index>(),
        ) {
            prop_assert_eq!(starts_with_short(&rest, &token), rest.starts_with(&token));
            let mut longer = token.clone();
            longer.extend_from_slice(&rest);
            prop_assert!(starts_with_short(&longer, &token));
            if !token.is_empty() {
                longer[flip.index(token.len())] = b'x';
                prop_assert!(!starts_with_short(&longer, &token));
            }
        }

        #[test]
        fn digit_runs_are_counted_as_a_byte_loop_counts_them(
            bytes in proptest::collection::vec(
                prop_oneof![4 => b'0'..=b'9', 1 => any::<u8>(), 1 => Just(0xff_u8)], 0..40),
            from in 0..42_usize,
        ) {
            let expected = bytes.get(from..).unwrap_or_default().iter()
                .take_while(|c| c.is_ascii_digit()).count();
            prop_assert_eq!(digit_run(&bytes, from), expected);
        }
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
