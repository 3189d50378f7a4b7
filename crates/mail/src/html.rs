//! A small, bounded HTML reader: visible text, links with their text, and the markers
//! of credential forms, HTML smuggling and hidden text. Not a full HTML parser: it only
//! needs to see what a mail client would render and what a script would build.

use memchr::memmem;

/// Most links kept per message (the rest are counted, not analysed).
pub const MAX_LINKS: usize = 500;
/// Most bytes of visible text kept for wording tests.
pub const MAX_TEXT: usize = 64 * 1024;

/// One link found in a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The target as written (entity-decoded, trimmed).
    pub href: String,
    /// The visible text of the anchor (empty for bare URLs in text).
    pub text: String,
}

/// What a body contains.
#[derive(Clone, Debug, Default)]
pub struct BodyFacts {
    /// Links, at most [`MAX_LINKS`].
    pub links: Vec<Link>,
    /// Links beyond the bound.
    pub links_dropped: usize,
    /// Visible text, at most [`MAX_TEXT`] bytes.
    pub text: String,
    /// A `<form>` with a password field.
    pub password_form: bool,
    /// Script that decodes and saves a blob (HTML smuggling).
    pub smuggling: bool,
    /// `<img>` tags seen.
    pub images: usize,
    /// Text styled to be invisible (`font-size:0`, `display:none` with text).
    pub hidden_text: bool,
    /// Tag soup written to confuse parsers: more than [`MAX_DOCTYPES`] `<!DOCTYPE>`s in
    /// one body (a document has one).
    pub tag_soup: bool,
}

/// Most `<!DOCTYPE>` declarations a body may hold before it counts as tag soup (one is
/// normal; a forwarded or concatenated page may bring a second).
pub const MAX_DOCTYPES: usize = 2;

impl BodyFacts {
    fn push_link(&mut self, href: &str, text: &str) {
        if self.links.len() >= MAX_LINKS {
            self.links_dropped += 1;
            return;
        }
        let href = decode_entities(href.trim());
        let text = collapse(&decode_entities(text));
        self.links.push(Link { href, text });
    }

    fn push_text(&mut self, t: &str) {
        if self.text.len() >= MAX_TEXT {
            return;
        }
        let room = MAX_TEXT - self.text.len();
        let t = floor_str(t, room);
        self.text.push_str(t);
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
pub fn floor_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

fn lower_ascii(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// Reads an HTML body.
pub fn read_html(html: &str, facts: &mut BodyFacts) {
    let lower = lower_ascii(html);
    let lb = lower.as_bytes();
    if memmem::find(lb, b"<form").is_some()
        && memmem::find(lb, b"type=\"password\"")
            .or_else(|| memmem::find(lb, b"type=password"))
            .or_else(|| memmem::find(lb, b"type='password'"))
            .is_some()
    {
        facts.password_form = true;
    }
    let has_blob = memmem::find(lb, b"new blob").is_some()
        || memmem::find(lb, b"createobjecturl").is_some()
        || memmem::find(lb, b"mssaveoropenblob").is_some()
        || memmem::find(lb, b"mssaveblob").is_some();
    let has_decode = memmem::find(lb, b"atob(").is_some()
        || memmem::find(lb, b"fromcharcode").is_some()
        || memmem::find(lb, b"base64,").is_some();
    if memmem::find(lb, b"<script").is_some() && has_blob && has_decode {
        facts.smuggling = true;
    }
    if memmem::find(lb, b"font-size:0").is_some()
        || memmem::find(lb, b"font-size: 0px").is_some()
        || memmem::find(lb, b"font-size:0px").is_some()
        || memmem::find(lb, b"display:none").is_some()
            && memmem::find(lb, b"<div style=\"display:none").is_some()
    {
        facts.hidden_text = true;
    }

    if memmem::find_iter(lb, b"<!doctype")
        .take(MAX_DOCTYPES + 1)
        .count()
        > MAX_DOCTYPES
    {
        facts.tag_soup = true;
    }

    // One pass over tags: text outside tags is visible unless inside script/style/head title.
    let mut i = 0usize;
    let mut skip_until: Option<&'static str> = None;
    let mut anchor: Option<(String, String)> = None;
    while i < html.len() {
        let Some(rel) = lb.get(i..).and_then(|r| memchr::memchr(b'<', r)) else {
            if skip_until.is_none() {
                let t = html.get(i..).unwrap_or("");
                text_chunk(facts, &mut anchor, t);
            }
            break;
        };
        let lt = i + rel;
        if skip_until.is_none() && rel > 0 {
            let t = html.get(i..lt).unwrap_or("");
            text_chunk(facts, &mut anchor, t);
        }
        let Some(gt_rel) = lb.get(lt..).and_then(|r| memchr::memchr(b'>', r)) else {
            break;
        };
        let gt = lt + gt_rel;
        let tag_l = lower.get(lt + 1..gt).unwrap_or("");
        let tag = html.get(lt + 1..gt).unwrap_or("");
        i = gt + 1;
        if let Some(end) = skip_until {
            if tag_l.starts_with(end) {
                skip_until = None;
            }
            continue;
        }
        if tag_l.starts_with("script") {
            skip_until = Some("/script");
        } else if tag_l.starts_with("style") {
            skip_until = Some("/style");
        } else if tag_l.starts_with("a ") || tag_l.starts_with("a\n") || tag_l.starts_with("a\t") {
            if let Some((href, text)) = anchor.take() {
                facts.push_link(&href, &text);
            }
            if let Some(h) = attr(tag, tag_l, "href") {
                anchor = Some((h.to_string(), String::new()));
            }
        } else if tag_l.starts_with("/a") {
            if let Some((href, text)) = anchor.take() {
                facts.push_link(&href, &text);
            }
        } else if tag_l.starts_with("form")
            || tag_l.starts_with("iframe")
            || tag_l.starts_with("img")
        {
            if tag_l.starts_with("img") {
                facts.images += 1;
            }
            let name = if tag_l.starts_with("form") {
                "action"
            } else {
                "src"
            };
            if let Some(h) = attr(tag, tag_l, name)
                && !h.is_empty()
                && (tag_l.starts_with("form")
                    || h.starts_with("data:")
                    || h.starts_with("javascript:"))
            {
                facts.push_link(h, "");
            }
        } else if tag_l.starts_with("br")
            || tag_l.starts_with("p")
            || tag_l.starts_with("div")
            || tag_l.starts_with("/p")
            || tag_l.starts_with("/div")
            || tag_l.starts_with("td")
            || tag_l.starts_with("tr")
        {
            facts.push_text(" ");
        }
    }
    if let Some((href, text)) = anchor.take() {
        facts.push_link(&href, &text);
    }
}

fn text_chunk(facts: &mut BodyFacts, anchor: &mut Option<(String, String)>, t: &str) {
    if let Some((_, text)) = anchor.as_mut()
        && text.len() < 512
    {
        text.push_str(floor_str(t, 512));
    }
    let decoded = decode_entities(t);
    facts.push_text(&decoded);
}

/// The value of attribute `name` in a tag (`tag` original case, `tag_l` lowercased).
fn attr<'a>(tag: &'a str, tag_l: &str, name: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(p) = tag_l.get(from..).and_then(|t| t.find(name)) {
        let at = from + p;
        from = at + name.len();
        let before_ok = tag_l
            .get(..at)
            .and_then(|t| t.chars().next_back())
            .is_some_and(|c| c.is_ascii_whitespace() || c == '"' || c == '\'');
        if !before_ok {
            continue;
        }
        let rest = tag.get(from..)?.trim_start();
        let rest = rest.strip_prefix('=')?.trim_start();
        let (q, body) = match rest.chars().next()? {
            '"' => ('"', rest.get(1..)?),
            '\'' => ('\'', rest.get(1..)?),
            _ => (' ', rest),
        };
        let end = body.find(q).unwrap_or(body.len());
        return body.get(..end);
    }
    None
}

/// Decodes the entities that matter for hiding URLs and words.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(rest.get(..p).unwrap_or(""));
        let tail = rest.get(p..).unwrap_or("");
        let semi = floor_str(tail, 12).find(';');
        let decoded = semi.and_then(|e| {
            let ent = tail.get(1..e)?;
            let c = match ent {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                "nbsp" => ' ',
                _ if named_letter(ent).is_some() => named_letter(ent)?,
                _ => {
                    let n = if let Some(h) =
                        ent.strip_prefix("#x").or_else(|| ent.strip_prefix("#X"))
                    {
                        u32::from_str_radix(h, 16).ok()?
                    } else {
                        ent.strip_prefix('#')?.parse().ok()?
                    };
                    char::from_u32(n)?
                }
            };
            Some((c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = tail.get(len..).unwrap_or("");
            }
            None => {
                out.push('&');
                rest = tail.get(1..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    out
}

/// The Latin-1 letters and signs HTML names (`&eacute;`): lure wording in French,
/// German, Portuguese or Spanish is written with them and must read as text.
fn named_letter(ent: &str) -> Option<char> {
    const BASES: &[[char; 2]] = &[['a', 'A'], ['e', 'E'], ['i', 'I'], ['o', 'O'], ['u', 'U']];
    const MARKS: &[(&str, [&str; 5])] = &[
        ("acute", ["á", "é", "í", "ó", "ú"]),
        ("grave", ["à", "è", "ì", "ò", "ù"]),
        ("circ", ["â", "ê", "î", "ô", "û"]),
        ("uml", ["ä", "ë", "ï", "ö", "ü"]),
        ("tilde", ["ã", "ẽ", "ĩ", "õ", "ũ"]),
    ];
    match ent {
        "ccedil" => return Some('ç'),
        "Ccedil" => return Some('Ç'),
        "ntilde" => return Some('ñ'),
        "Ntilde" => return Some('Ñ'),
        "szlig" => return Some('ß'),
        "euro" => return Some('€'),
        "pound" => return Some('£'),
        "rsquo" | "lsquo" => return Some('\''),
        "ldquo" | "rdquo" => return Some('"'),
        "ndash" | "mdash" => return Some('-'),
        "shy" | "zwnj" | "zwj" => return Some('\u{200b}'),
        _ => {}
    }
    let mut chars = ent.chars();
    let first = chars.next()?;
    let mark = chars.as_str();
    let (vi, cases) = BASES.iter().enumerate().find(|(_, c)| c.contains(&first))?;
    let (_, row) = MARKS.iter().find(|(m, _)| *m == mark)?;
    let lower = row.get(vi)?.chars().next()?;
    if first == cases[0] {
        Some(lower)
    } else {
        lower.to_uppercase().next()
    }
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Finds bare `http://`, `https://` and `www.` URLs in plain text.
pub fn read_text(text: &str, facts: &mut BodyFacts) {
    facts.push_text(text);
    facts.push_text(" ");
    let lower = lower_ascii(text);
    let mut from = 0;
    while let Some(p) = lower.get(from..).and_then(|t| t.find("http")) {
        let at = from + p;
        let rest = lower.get(at..).unwrap_or("");
        if !(rest.starts_with("http://") || rest.starts_with("https://")) {
            from = at + 4;
            continue;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>' | ')' | ']' | '\''))
            .unwrap_or(rest.len());
        if let Some(u) = text.get(at..at + end) {
            facts.push_link(u, "");
        }
        from = at + end.max(1);
    }
}

/// The host of a URL (`None` for relative, mailto: and the like).
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url.get(..8).map(str::to_ascii_lowercase).and_then(|p| {
        if p.starts_with("https://") {
            url.get(8..)
        } else if p.starts_with("http://") {
            url.get(7..)
        } else if p.starts_with("//") {
            url.get(2..)
        } else {
            None
        }
    })?;
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let auth = rest.get(..end)?;
    // user:pass@host — the part after the last @ is where the browser goes.
    let host_port = auth.rsplit('@').next()?;
    let host = if host_port.starts_with('[') {
        host_port.find(']').and_then(|e| host_port.get(..=e))?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

/// The host a link's visible text names, when the text looks like a URL or domain.
pub fn text_host(text: &str) -> Option<String> {
    let t = text.trim().trim_end_matches(['.', ',', ';', ':']);
    if t.is_empty() || t.len() > 200 || t.contains(char::is_whitespace) {
        return None;
    }
    let t_l = t.to_ascii_lowercase();
    if let Some(h) = url_host(t) {
        return Some(h.to_string());
    }
    let candidate = t_l
        .strip_prefix("www.")
        .map_or(t_l.as_str(), |_| t_l.as_str());
    let host = candidate.split(['/', '?', '#']).next()?;
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
        && labels
            .last()
            .is_some_and(|l| l.len() >= 2 && l.chars().all(char::is_alphabetic))
        && (host.starts_with("www.") || t_l.contains('/') || labels.len() >= 2)
    {
        // A domain-looking text must be a known suffix to count (not "e.g." or "v1.2").
        let known = psl::suffix(host.as_bytes()).is_some_and(|s| s.typ().is_some());
        if known {
            return Some(host.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_keep_their_text() {
        let mut f = BodyFacts::default();
        read_html(
            r#"<p>Hi</p><a class="x" href="http://evil.example/login">https://www.paypal.com</a><script>var s="<a href=x>";</script>"#,
            &mut f,
        );
        assert_eq!(f.links.len(), 1);
        assert_eq!(f.links[0].href, "http://evil.example/login");
        assert_eq!(f.links[0].text, "https://www.paypal.com");
        assert!(f.text.contains("Hi"));
    }

    #[test]
    fn hosts_from_urls_and_texts() {
        assert_eq!(
            url_host("https://user@evil.example:8080/x"),
            Some("evil.example")
        );
        assert_eq!(url_host("mailto:a@b"), None);
        assert_eq!(
            text_host("www.paypal.com").as_deref(),
            Some("www.paypal.com")
        );
        assert_eq!(text_host("Click here"), None);
        assert_eq!(text_host("v1.2"), None);
    }

    #[test]
    fn smuggling_and_password_forms_are_seen() {
        let mut f = BodyFacts::default();
        read_html(
            r#"<form action="https://x.example/p"><input type="password"></form><script>var b=new Blob([atob(d)]);URL.createObjectURL(b)</script>"#,
            &mut f,
        );
        assert!(f.password_form && f.smuggling);
    }

    #[test]
    fn tag_soup_is_seen() {
        let mut f = BodyFacts::default();
        read_html("<!DOCTYPE html><html><body>Hi</body></html>", &mut f);
        assert!(!f.tag_soup);
        read_html(
            "<a href=x>y</a><!DOCTYPE><!DOCTYPE><!doctype><option><option>",
            &mut f,
        );
        assert!(f.tag_soup);
    }

    #[test]
    fn entities_decode() {
        assert_eq!(decode_entities("a&amp;b&#x41;&#66;&bogus"), "a&bAB&bogus");
        assert_eq!(
            decode_entities("Activit&eacute;s &Eacute;t&eacute; &ccedil;a &uuml;ber &notanentity;"),
            "Activités Été ça über &notanentity;"
        );
    }
}
