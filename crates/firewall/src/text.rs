//! Text from the org file made safe inside a firewall file.
//!
//! Rule and site names are the user's text. Neither nft's nor iptables-restore's quoted
//! strings have an escape that both honour, so instead of escaping, everything that could
//! end a string, a line or a token is replaced: quotes, backslashes, control characters
//! (newlines included) and Unicode line and paragraph separators. What remains cannot leave
//! the quotes it is put in.

/// Longest nft comment, in bytes (nft refuses more than 128).
pub(crate) const NFT_COMMENT_MAX: usize = 120;
/// Longest iptables comment, in bytes (the comment match holds 255 and a NUL).
pub(crate) const IPT_COMMENT_MAX: usize = 240;
/// Longest user text in a `#` line comment.
pub(crate) const LINE_COMMENT_MAX: usize = 200;

/// `s` with unsafe characters replaced by `_`, cut to at most `max` bytes on a character
/// boundary.
pub(crate) fn clean(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max));
    for c in s.chars() {
        let c = if c.is_control()
            || matches!(
                c,
                '"' | '\'' | '`' | '\\' | '\u{2028}' | '\u{2029}' | '\u{85}' | '\u{feff}'
            ) {
            '_'
        } else {
            c
        };
        if out.len() + c.len_utf8() > max {
            break;
        }
        out.push(c);
    }
    out
}

/// The comment that names a policy rule: `rule 3 (line 42): <name>`.
pub(crate) fn rule_comment(index: usize, line: usize, name: &str, max: usize) -> String {
    clean(&format!("rule {} (line {line}): {name}", index + 1), max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_newlines_and_backslashes_are_replaced() {
        assert_eq!(clean("a\"b'c\\d\ne\r\u{2028}f", 100), "a_b_c_d_e__f");
    }

    #[test]
    fn no_character_survives_that_could_end_a_string_or_a_line() {
        let all: String = (0..=0x10ffff_u32).filter_map(char::from_u32).collect();
        let c = clean(&all, usize::MAX);
        assert_eq!(c.chars().count(), all.chars().count());
        assert!(
            !c.chars()
                .any(|ch| ch.is_control() || matches!(ch, '"' | '\'' | '\\' | '\u{2028}'))
        );
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let s = "関".repeat(100);
        let c = clean(&s, 10);
        assert_eq!(c, "関関関");
        assert!(c.len() <= 10);
    }
}
