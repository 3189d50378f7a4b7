//! Escaping of attacker-controlled strings, one function per output medium.
//!
//! All three start from the same rule, [`sanitize_terminal`]: one line, no control
//! characters, no invisible characters that change how text reads. Characters are made
//! visible (`\x1b`) rather than dropped, so an analyst sees that someone tried to inject
//! something, and nothing is lost silently.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Makes an attacker-controlled string safe to print on a terminal, on one line.
///
/// - tab, line feed and carriage return become a space (a value must not start a line of
///   its own, which could forge output such as a fake "no incidents" line);
/// - every other control character (C0, DEL, C1; this includes ESC, which starts terminal
///   escape sequences, and U+009B, the 8-bit CSI) is shown as `\xNN`;
/// - bidirectional overrides, zero-width and line/paragraph separator characters (which
///   make text read differently from what it is, "Trojan Source" style) are shown as
///   `\u{NNNN}`.
///
/// ```
/// use sekisho_report::sanitize_terminal;
/// assert_eq!(sanitize_terminal("ok\x1b[31mred\nnext"), "ok\\x1b[31mred next");
/// ```
pub fn sanitize_terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_sanitizing) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\t' | '\n' | '\r' => out.push(' '),
            // `is_control` is Unicode category Cc: U+0000..=U+001F and U+007F..=U+009F.
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_invisible_format(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_sanitizing(c: char) -> bool {
    c.is_control() || is_invisible_format(c)
}

/// Characters that reorder or hide text: bidi marks, embeddings, overrides and isolates,
/// zero-width characters, the byte-order mark, and the line and paragraph separators.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}'
    )
}

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and for (double- or single-quoted)
/// attribute values, inside HTML and inline SVG alike.
///
/// This is the whole of HTML's escaping rule and does nothing else; the report passes
/// strings through [`sanitize_terminal`] first so that they are also on one line.
///
/// ```
/// use sekisho_report::escape_html;
/// assert_eq!(escape_html(r#"<a href="x">'&'</a>"#),
///            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
/// ```
pub fn escape_html(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Makes an attacker-controlled string safe as inline Markdown text, including inside a
/// table cell: one line ([`sanitize_terminal`]), emphasis, code, link, strike-through,
/// table and math syntax (`\` `` ` `` `*` `_` `[` `]` `~` `|` `$`) backslash-escaped, and
/// `&<>` written as entities so that no renderer sees raw HTML.
///
/// Block syntax (`#`, `-`, `1.`) only matters at the start of a line; the report never
/// starts a line with a value, so those are left as they are, which keeps the raw file
/// readable.
///
/// ```
/// use sekisho_report::escape_markdown;
/// assert_eq!(escape_markdown("a|b *c* <i>\nd"), r"a\|b \*c\* &lt;i&gt; d");
/// ```
pub fn escape_markdown(s: &str) -> String {
    let line = sanitize_terminal(s);
    let mut out = String::with_capacity(line.len() + 8);
    for c in line.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '~' | '|' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// HTML-safe one-line text: what every renderer uses for a hostile value.
pub(crate) fn h(s: &str) -> String {
    escape_html(&sanitize_terminal(s)).into_owned()
}

/// Cuts `s` to at most `max` characters, marking the cut with `…`.
pub(crate) fn clip(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some(_) => {
            let end = s
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(s.len(), |(i, _)| i);
            Cow::Owned(format!("{}…", &s[..end]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sanitize_terminal_makes_escape_sequences_visible_and_keeps_one_line() {
        let hostile = "admin\x1b[31m\x1b]0;pwned\x07\u{9b}2J\nNo incidents\r\tok\u{7f}";
        let s = sanitize_terminal(hostile);
        assert_eq!(
            s,
            "admin\\x1b[31m\\x1b]0;pwned\\x07\\x9b2J No incidents  ok\\x7f"
        );
        assert!(!s.chars().any(|c| c.is_control()));
    }

    #[test]
    fn sanitize_terminal_shows_bidi_overrides_and_zero_width_characters() {
        let s = sanitize_terminal("user\u{202e}fdp.exe\u{200b}\u{2066}x\u{feff}");
        assert_eq!(s, "user\\u{202e}fdp.exe\\u{200b}\\u{2066}x\\u{feff}");
    }

    #[test]
    fn sanitize_terminal_leaves_ordinary_text_alone_and_borrowed() {
        let s = "EHI\\alice 東京 \\\\FS01\\share$ 10.10.5.10";
        assert!(matches!(sanitize_terminal(s), Cow::Borrowed(x) if x == s));
    }

    #[test]
    fn escape_markdown_escapes_table_and_inline_syntax() {
        assert_eq!(
            escape_markdown("`x` _y_ [l](u) ~~s~~ a\\|b &amp;"),
            r"\`x\` \_y\_ \[l\](u) \~\~s\~\~ a\\\|b &amp;amp;"
        );
    }

    #[test]
    fn clip_cuts_on_characters_not_bytes() {
        assert_eq!(clip("東京都港区", 3), "東京…");
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "ab…");
    }

    /// True when every `&` in `s` starts one of the entities `escape_html` writes.
    fn ampersands_are_entities(s: &str) -> bool {
        s.match_indices('&').all(|(i, _)| {
            ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                .iter()
                .any(|e| s[i..].starts_with(e))
        })
    }

    proptest! {
        #[test]
        fn escape_html_output_has_no_markup_characters(s in any::<String>()) {
            let e = escape_html(&s);
            prop_assert!(!e.contains(['<', '>', '"', '\'']));
            prop_assert!(ampersands_are_entities(&e));
        }

        #[test]
        fn h_output_is_one_line_without_markup_or_controls(s in "(?s).{0,64}|[<>&\"'\\x00-\\x1f\\x7f-\\x9f\u{202e}a]{0,32}") {
            let e = h(&s);
            prop_assert!(!e.contains(['<', '>', '"', '\'']));
            prop_assert!(!e.chars().any(|c| c.is_control()));
            prop_assert!(ampersands_are_entities(&e));
        }

        #[test]
        fn escape_markdown_leaves_no_unescaped_pipe_or_newline(s in any::<String>()) {
            let e = escape_markdown(&s);
            prop_assert!(!e.contains(['\n', '\r', '<', '>']));
            // Every `|` is preceded by an odd run of backslashes (it is escaped).
            let b = e.as_bytes();
            for (i, _) in e.match_indices('|') {
                let run = b[..i].iter().rev().take_while(|&&c| c == b'\\').count();
                prop_assert!(run % 2 == 1, "unescaped | in {e:?}");
            }
        }
    }
}
