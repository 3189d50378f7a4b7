//! Domain names: registrable domain by the Public Suffix List, IDN decoding, and the
//! look-alike tests (UTS #39 skeletons, digit-for-letter swaps, edit distance, added
//! words, other TLDs).

/// Longest domain name we look at (RFC 1035 caps names at 253 octets).
pub const MAX_DOMAIN_LEN: usize = 253;

/// A domain split into what matters for comparisons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainInfo {
    /// The whole name, lowercased, IDN labels decoded to Unicode.
    pub name: String,
    /// Registrable domain (label + public suffix), or the whole name if there is none.
    pub registrable: String,
    /// The label left of the public suffix (`example` in `mail.example.co.jp`).
    pub label: String,
    /// The public suffix (`co.jp`); empty when unknown.
    pub suffix: String,
    /// Suffix is a known ICANN or private suffix (not just the PSL's `*` default rule).
    pub known_suffix: bool,
    /// Suffix is in the PSL's private section (hosting anyone can publish under).
    pub private_suffix: bool,
    /// Some label was punycode or non-ASCII.
    pub idn: bool,
    /// The label's confusable skeleton with digit swaps undone, letters and digits only.
    pub key: String,
}

impl DomainInfo {
    /// Parses a host name; `None` for an empty, overlong or IP-literal name.
    pub fn new(raw: &str) -> Option<Self> {
        let raw = raw.trim().trim_end_matches('.');
        if raw.is_empty() || raw.len() > MAX_DOMAIN_LEN || is_ip_literal(raw) {
            return None;
        }
        let lower = raw.to_lowercase();
        let mut idn = !lower.is_ascii();
        let mut decoded = String::with_capacity(lower.len());
        for (i, label) in lower.split('.').enumerate() {
            if i > 0 {
                decoded.push('.');
            }
            match label.strip_prefix("xn--").and_then(punycode_decode) {
                Some(u) => {
                    idn = true;
                    decoded.push_str(&u);
                }
                None => decoded.push_str(label),
            }
        }
        // The PSL is looked up on the ASCII form (its IDN rules are stored both ways).
        let (suffix, known, private) = match psl::suffix(lower.as_bytes()) {
            Some(s) => (
                String::from_utf8_lossy(s.as_bytes()).into_owned(),
                s.typ().is_some(),
                s.typ() == Some(psl::Type::Private),
            ),
            None => (String::new(), false, false),
        };
        let registrable = match psl::domain(lower.as_bytes()) {
            Some(d) => String::from_utf8_lossy(d.as_bytes()).into_owned(),
            None => lower.clone(),
        };
        let label_ascii = registrable
            .strip_suffix(suffix.as_str())
            .map(|l| l.trim_end_matches('.'))
            .unwrap_or(&registrable);
        let label_ascii = label_ascii.rsplit('.').next().unwrap_or(label_ascii);
        let label = label_ascii
            .strip_prefix("xn--")
            .and_then(punycode_decode)
            .unwrap_or_else(|| label_ascii.to_string());
        let key = confusable_key(&label);
        Some(Self {
            name: decoded,
            registrable,
            label,
            suffix,
            known_suffix: known,
            private_suffix: private,
            idn,
            key,
        })
    }

    /// True when `other` is this domain or a subdomain of its registrable domain.
    pub fn same_org(&self, other: &DomainInfo) -> bool {
        self.registrable == other.registrable
    }
}

/// `1.2.3.4`, `[1.2.3.4]` or an IPv6 literal.
pub fn is_ip_literal(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.parse::<std::net::IpAddr>().is_ok()
        || (h.contains(':') && h.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.'))
        // Dotted numbers in other bases (0x7f.1, 3232235777) still reach an address.
        || (!h.is_empty() && h.chars().all(|c| c.is_ascii_digit() || c == '.') && h.contains(|c: char| c.is_ascii_digit()) && !h.contains(".."))
}

/// A brand or label reduced for comparison: UTS #39 skeleton, lowercase, digit swaps
/// undone (`0`→`o`, `1`→`l`, ...), `rn`→`m`, `vv`→`w`, only letters and digits kept.
pub fn confusable_key(s: &str) -> String {
    // ASCII needs no skeleton lookup: the mapping below covers its confusables.
    let skel: String = if s.is_ascii() {
        s.to_string()
    } else {
        unicode_security::skeleton(s).collect()
    };
    let mut out = String::with_capacity(skel.len());
    for c in skel.to_lowercase().chars() {
        let c = match c {
            '0' => 'o',
            '1' | '!' | '|' => 'l',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            '8' => 'b',
            'i' => 'l',
            c => c,
        };
        if c.is_alphanumeric() {
            out.push(c);
        }
    }
    out.replace("rn", "m").replace("vv", "w")
}

/// A brand name for matching: lowercase letters and digits only.
pub fn brand_key(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Words attackers add to a brand to make a plausible domain.
const ADDED_WORDS: &[&str] = &[
    "careers",
    "career",
    "jobs",
    "job",
    "hr",
    "recruiting",
    "recruitment",
    "recruit",
    "hiring",
    "talent",
    "support",
    "help",
    "helpdesk",
    "secure",
    "security",
    "login",
    "signin",
    "verify",
    "account",
    "accounts",
    "service",
    "services",
    "mail",
    "email",
    "online",
    "portal",
    "team",
    "staff",
    "official",
    "update",
    "billing",
    "pay",
    "payroll",
    "benefits",
    "it",
    "admin",
    "group",
    "global",
    "corp",
    "inc",
    "usa",
    "us",
    "jp",
    "info",
    "app",
    "web",
    "id",
    "auth",
    "sso",
    "office",
    "docs",
    "share",
    "notice",
    "alert",
    "wallet",
    "customer",
    "client",
    "apply",
];

/// How a domain imitates another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookalike {
    /// Same skeleton: confusable letters or digit swaps.
    Confusable,
    /// One or two letters off.
    Typo,
    /// The name with a word added (`-careers`, `hr-`).
    AddedWord,
    /// The same name under another suffix.
    OtherTld,
}

impl Lookalike {
    /// Short English description.
    pub fn as_str(self) -> &'static str {
        match self {
            Lookalike::Confusable => "confusable letters or digit swap",
            Lookalike::Typo => "typo (edit distance)",
            Lookalike::AddedWord => "added word",
            Lookalike::OtherTld => "same name, other TLD",
        }
    }
}

/// Does `cand` imitate `target` (without being it)?
pub fn lookalike(cand: &DomainInfo, target: &DomainInfo) -> Option<Lookalike> {
    if cand.same_org(target) || target.key.len() < 3 || cand.key.is_empty() {
        return None;
    }
    if cand.label == target.label {
        return Some(Lookalike::OtherTld);
    }
    if cand.key == target.key {
        return Some(Lookalike::Confusable);
    }
    let tl = target.key.chars().count();
    if tl >= 5 {
        let max = if tl >= 10 { 2 } else { 1 };
        if bounded_edit_distance(&cand.key, &target.key, max).is_some() {
            return Some(Lookalike::Typo);
        }
    }
    // Added words: the target's key with only known words around it.
    if tl >= 4
        && let Some(pos) = cand.key.find(&target.key)
    {
        let before = cand.key.get(..pos).unwrap_or("");
        let after = cand.key.get(pos + target.key.len()..).unwrap_or("");
        if is_added(before) && is_added(after) {
            return Some(Lookalike::AddedWord);
        }
    }
    None
}

fn is_added(s: &str) -> bool {
    s.is_empty()
        || ADDED_WORDS.iter().any(|w| {
            let k = confusable_key(w);
            s == k
        })
        || s.chars().all(|c| c.is_ascii_digit())
}

/// Edit distance (Levenshtein plus adjacent transpositions, "optimal string alignment")
/// if it is at most `max`; names are cut at 64 characters.
pub fn bounded_edit_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().take(64).collect();
    let b: Vec<char> = b.chars().take(64).collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let w = b.len() + 1;
    let mut rows = vec![vec![0usize; w]; a.len() + 1];
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[i][0] = i;
        let mut row_min = i;
        for j in 1..w {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (rows[i - 1][j - 1] + cost)
                .min(rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
    }
    let d = rows[a.len()][b.len()];
    (d <= max).then_some(d)
}

/// Maximum decoded length of one punycode label.
const MAX_LABEL_CHARS: usize = 63;

/// RFC 3492 decoding of one label (without its `xn--`); `None` when invalid.
pub fn punycode_decode(input: &str) -> Option<String> {
    const BASE: u32 = 36;
    const TMIN: u32 = 1;
    const TMAX: u32 = 26;
    const SKEW: u32 = 38;
    const DAMP: u32 = 700;
    if !input.is_ascii() || input.len() > MAX_LABEL_CHARS * 4 {
        return None;
    }
    let (basic, ext) = match input.rfind('-') {
        Some(p) => (input.get(..p)?, input.get(p + 1..)?),
        None => ("", input),
    };
    let mut out: Vec<char> = basic.chars().collect();
    let mut n: u32 = 128;
    let mut i: u32 = 0;
    let mut bias: u32 = 72;
    let mut it = ext.bytes().peekable();
    while it.peek().is_some() {
        let old_i = i;
        let mut w: u32 = 1;
        let mut k = BASE;
        loop {
            let c = it.next()?;
            let digit = match c {
                b'a'..=b'z' => u32::from(c - b'a'),
                b'A'..=b'Z' => u32::from(c - b'A'),
                b'0'..=b'9' => u32::from(c - b'0') + 26,
                _ => return None,
            };
            i = i.checked_add(digit.checked_mul(w)?)?;
            let t = if k <= bias {
                TMIN
            } else if k >= bias + TMAX {
                TMAX
            } else {
                k - bias
            };
            if digit < t {
                break;
            }
            w = w.checked_mul(BASE - t)?;
            k = k.checked_add(BASE)?;
        }
        let len = u32::try_from(out.len() + 1).ok()?;
        // Bias adaptation (RFC 3492 section 6.1).
        let mut delta = if old_i == 0 {
            (i - old_i) / DAMP
        } else {
            (i - old_i) / 2
        };
        delta += delta / len;
        let mut kk = 0;
        while delta > ((BASE - TMIN) * TMAX) / 2 {
            delta /= BASE - TMIN;
            kk += BASE;
        }
        bias = kk + (((BASE - TMIN + 1) * delta) / (delta + SKEW));
        n = n.checked_add(i / len)?;
        i %= len;
        let ch = char::from_u32(n)?;
        if out.len() >= MAX_LABEL_CHARS {
            return None;
        }
        out.insert(usize::try_from(i).ok()?, ch);
        i += 1;
    }
    Some(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> DomainInfo {
        DomainInfo::new(s).unwrap()
    }

    #[test]
    fn registrable_and_label_follow_the_psl() {
        let x = d("Mail.Example-HI.co.jp");
        assert_eq!(x.registrable, "example-hi.co.jp");
        assert_eq!(x.label, "example-hi");
        assert_eq!(x.suffix, "co.jp");
        assert!(x.known_suffix && !x.private_suffix);
        assert!(d("foo.firebaseapp.com").private_suffix);
        assert!(!d("bank.nosuchtld-zz").known_suffix);
    }

    #[test]
    fn punycode_decodes_rfc_examples() {
        assert_eq!(punycode_decode("mnchen-3ya").as_deref(), Some("münchen"));
        assert_eq!(punycode_decode("80ak6aa92e").as_deref(), Some("аррӏе"));
        assert_eq!(punycode_decode("!!"), None);
    }

    #[test]
    fn lookalikes_of_an_org_domain() {
        let t = d("example-hi.com");
        assert_eq!(
            lookalike(&d("examp1e-hi.com"), &t),
            Some(Lookalike::Confusable)
        );
        assert_eq!(lookalike(&d("exampel-hi.com"), &t), Some(Lookalike::Typo));
        assert_eq!(
            lookalike(&d("example-hi-careers.com"), &t),
            Some(Lookalike::AddedWord)
        );
        assert_eq!(
            lookalike(&d("hr-examplehi.net"), &t),
            Some(Lookalike::AddedWord)
        );
        assert_eq!(
            lookalike(&d("example-hi.co"), &t),
            Some(Lookalike::OtherTld)
        );
        assert_eq!(
            lookalike(&d("ex\u{430}mple-hi.com"), &t),
            Some(Lookalike::Confusable)
        );
        assert_eq!(lookalike(&d("jobs.example-hi.com"), &t), None);
        assert_eq!(lookalike(&d("unrelated.org"), &t), None);
        assert_eq!(
            lookalike(&d("paypal.com"), &d("paypa1.com")),
            Some(Lookalike::Confusable)
        );
    }

    #[test]
    fn edit_distance_is_banded() {
        assert_eq!(bounded_edit_distance("kitten", "sitting", 3), Some(3));
        assert_eq!(bounded_edit_distance("kitten", "sitting", 2), None);
        assert_eq!(bounded_edit_distance("example", "exampel", 1), Some(1));
    }
}
