//! Offline DKIM verification (RFC 6376; Ed25519 from RFC 8463; what is no longer accepted
//! from RFC 8301) against key records the user supplies. No DNS query is ever made.
//!
//! Why offline: a triage tool looks at evidence, often months old, often on an isolated
//! machine. Looking up `selector._domainkey.attacker.example` live tells the attacker that
//! the message is being examined, and answers with today's key, not the one in force when
//! the message arrived. So the user collects the records once (`dig +noall +answer TXT
//! sel._domainkey.example.com`, or the zone file of the organisation's own domains) and
//! sekisho verifies against those only; a signature whose key is not supplied is `no-key`.
//!
//! Why not the `mail-auth` crate: its last release that builds on our Rust (0.13) always
//! builds a live resolver (hickory + tokio) and falls back to it on a cache miss, verifies
//! through an async API, and judges `x=` expiry against the wall clock, so the same message
//! would verify today and fail next year. Verification here is pure: bytes and keys in,
//! results out, and `x=` is judged against the time the message was received.
//!
//! Line endings: messages stored on Unix (mbox, Maildir, `.eml`) usually have bare LF;
//! they are turned into CRLF before canonicalisation, as signers and verifiers on Unix do.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ring::signature::{ED25519, RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, UnparsedPublicKey};
use serde::Serialize;
use std::collections::HashMap;

/// Signatures checked per message; more are reported as not checked.
pub const MAX_SIGNATURES: usize = 8;
/// Fields one signature may name in `h=`: each is looked up among the message's fields,
/// so the bound keeps a hostile `h=` from costing time by the square.
const MAX_SIGNED_HEADERS: usize = 512;
/// Header fields read per message when selecting what a signature covers.
const MAX_FIELDS: usize = 2_000;
/// Records kept from a key file.
const MAX_RECORDS: usize = 100_000;
/// CNAME hops followed when looking a key up.
const MAX_ALIAS_HOPS: usize = 8;

const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// DNS answers for `selector._domainkey.domain` names, supplied by the user.
#[derive(Clone, Debug, Default)]
pub struct DkimKeys {
    /// Owner name (lowercase, no trailing dot) to the TXT record's strings joined.
    txt: HashMap<String, String>,
    /// Owner name to the name it is an alias of (CNAME).
    alias: HashMap<String, String>,
}

/// A key file that could not be read, with the line it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct KeysError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong there.
    pub message: String,
}

impl DkimKeys {
    /// Reads DNS records in zone-file / `dig` answer syntax:
    ///
    /// ```text
    /// ; comments
    /// $ORIGIN example.com.
    /// mail._domainkey  IN TXT ( "v=DKIM1; k=rsa; "
    ///                           "p=MIIBIjANBgkq..." )
    /// s1._domainkey.example.net. 300 IN TXT "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
    /// selector1._domainkey.example.org. 3600 IN CNAME selector1-example-org._domainkey.example.onmicrosoft.com.
    /// ```
    ///
    /// TXT and CNAME records are kept; other types (a whole zone pasted in) are skipped.
    /// Names without a trailing dot are relative to `$ORIGIN` when one was given.
    pub fn parse(text: &str) -> Result<Self, KeysError> {
        let mut keys = DkimKeys::default();
        let mut origin: Option<String> = None;
        let mut last_owner: Option<String> = None;
        for record in tokenize(text)? {
            let line = record.line;
            let err = |message: String| KeysError { line, message };
            let mut words = record.tokens.into_iter().peekable();
            let owner = if record.inherits_owner {
                last_owner
                    .clone()
                    .ok_or_else(|| err("a record without a name and no earlier name".into()))?
            } else {
                let Some(Token::Word(first)) = words.next() else {
                    return Err(err("expected a name".into()));
                };
                if let Some(directive) = first.strip_prefix('$') {
                    match directive.to_ascii_uppercase().as_str() {
                        "ORIGIN" => match words.next() {
                            Some(Token::Word(o)) => origin = Some(absolute(&o, None)),
                            _ => return Err(err("$ORIGIN needs a domain name".into())),
                        },
                        "TTL" => {}
                        other => return Err(err(format!("unsupported directive ${other}"))),
                    }
                    continue;
                }
                absolute(&first, origin.as_deref())
            };
            last_owner = Some(owner.clone());
            // [TTL] [class] TYPE, TTL and class in either order.
            let mut rtype = None;
            for _ in 0..3 {
                match words.next() {
                    Some(Token::Word(w)) if w.bytes().all(|b| b.is_ascii_digit()) => {}
                    Some(Token::Word(w))
                        if ["IN", "CH", "HS"].iter().any(|c| w.eq_ignore_ascii_case(c)) => {}
                    Some(Token::Word(w)) => {
                        rtype = Some(w.to_ascii_uppercase());
                        break;
                    }
                    _ => break,
                }
            }
            let Some(rtype) = rtype else {
                return Err(err(format!("no record type after {owner}")));
            };
            if keys.txt.len() + keys.alias.len() >= MAX_RECORDS {
                return Err(err(format!("more than {MAX_RECORDS} records")));
            }
            match rtype.as_str() {
                "TXT" => {
                    let mut value = String::new();
                    for t in words {
                        match t {
                            Token::Word(w) | Token::Quoted(w) => value.push_str(&w),
                        }
                    }
                    if value.is_empty() {
                        return Err(err(format!("TXT record of {owner} has no text")));
                    }
                    // Several TXT records on one name: DKIM wants exactly one key record;
                    // keep the one that looks like a key.
                    let keep = !keys.txt.contains_key(&owner) || looks_like_key(&value);
                    if keep {
                        keys.txt.insert(owner, value);
                    }
                }
                "CNAME" => match words.next() {
                    Some(Token::Word(target)) => {
                        keys.alias
                            .insert(owner, absolute(&target, origin.as_deref()));
                    }
                    _ => return Err(err(format!("CNAME of {owner} has no target"))),
                },
                _ => {}
            }
        }
        Ok(keys)
    }

    /// Adds the records of another file; on a name in both, the other file's wins.
    pub fn merge(&mut self, other: DkimKeys) {
        self.txt.extend(other.txt);
        self.alias.extend(other.alias);
    }

    /// Number of TXT records read.
    pub fn len(&self) -> usize {
        self.txt.len()
    }

    /// No TXT record read.
    pub fn is_empty(&self) -> bool {
        self.txt.is_empty()
    }

    /// Whether some key of `domain` or of a subdomain of it was supplied: the user tells
    /// that this domain signs its mail.
    pub fn covers(&self, domain: &str) -> bool {
        let domain = domain.to_ascii_lowercase();
        self.txt.keys().chain(self.alias.keys()).any(|n| {
            n.split_once("._domainkey.").is_some_and(|(sel, d)| {
                !sel.is_empty()
                    && (d == domain
                        || d.strip_suffix(domain.as_str())
                            .is_some_and(|rest| rest.ends_with('.')))
            })
        })
    }

    /// The TXT record of `selector._domainkey.domain`, following CNAMEs.
    fn lookup(&self, selector: &str, domain: &str) -> Option<&str> {
        let mut name = format!("{selector}._domainkey.{domain}").to_ascii_lowercase();
        for _ in 0..=MAX_ALIAS_HOPS {
            if let Some(t) = self.txt.get(&name) {
                return Some(t);
            }
            name = self.alias.get(&name)?.clone();
        }
        None
    }
}

fn looks_like_key(txt: &str) -> bool {
    Tags::parse(txt).is_ok_and(|t| t.get("p").is_some())
}

fn absolute(name: &str, origin: Option<&str>) -> String {
    let name = name.to_ascii_lowercase();
    if name == "@" {
        return origin.unwrap_or_default().to_string();
    }
    match (name.strip_suffix('.'), origin) {
        (Some(abs), _) => abs.to_string(),
        (None, Some(o)) if !o.is_empty() => format!("{name}.{o}"),
        (None, _) => name,
    }
}

enum Token {
    Word(String),
    Quoted(String),
}

struct RawRecord {
    line: usize,
    inherits_owner: bool,
    tokens: Vec<Token>,
}

/// Splits zone text into records: words, quoted strings (with `\"`, `\\` and `\DDD`),
/// `;` comments, and parentheses that let one record run over several lines.
fn tokenize(text: &str) -> Result<Vec<RawRecord>, KeysError> {
    let mut records = Vec::new();
    let mut current: Option<RawRecord> = None;
    let mut depth = 0usize;
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let bytes = line.as_bytes();
        let mut pos = 0;
        if depth == 0 {
            if let Some(r) = current.take().filter(|r| !r.tokens.is_empty()) {
                records.push(r);
            }
            current = Some(RawRecord {
                line: line_no,
                inherits_owner: bytes.first().is_some_and(|b| *b == b' ' || *b == b'\t'),
                tokens: Vec::new(),
            });
        }
        let rec = current.get_or_insert_with(|| RawRecord {
            line: line_no,
            inherits_owner: false,
            tokens: Vec::new(),
        });
        while pos < bytes.len() {
            match bytes[pos] {
                b' ' | b'\t' | b'\r' => pos += 1,
                b';' => break,
                b'(' => {
                    depth += 1;
                    pos += 1;
                }
                b')' => {
                    depth = depth.checked_sub(1).ok_or(KeysError {
                        line: line_no,
                        message: "unbalanced ')'".into(),
                    })?;
                    pos += 1;
                }
                b'"' => {
                    pos += 1;
                    let mut s = Vec::new();
                    loop {
                        match bytes.get(pos) {
                            None => {
                                return Err(KeysError {
                                    line: line_no,
                                    message: "unterminated quoted string".into(),
                                });
                            }
                            Some(b'"') => {
                                pos += 1;
                                break;
                            }
                            Some(b'\\') => {
                                let digits = bytes
                                    .get(pos + 1..pos + 4)
                                    .filter(|d| d.iter().all(u8::is_ascii_digit));
                                if let Some(d) = digits {
                                    let v =
                                        d.iter().fold(0u32, |a, b| a * 10 + u32::from(b - b'0'));
                                    s.push(u8::try_from(v).unwrap_or(b'?'));
                                    pos += 4;
                                } else if let Some(&c) = bytes.get(pos + 1) {
                                    s.push(c);
                                    pos += 2;
                                } else {
                                    pos += 1;
                                }
                            }
                            Some(&c) => {
                                s.push(c);
                                pos += 1;
                            }
                        }
                    }
                    rec.tokens
                        .push(Token::Quoted(String::from_utf8_lossy(&s).into_owned()));
                }
                _ => {
                    let start = pos;
                    while pos < bytes.len()
                        && !matches!(bytes[pos], b' ' | b'\t' | b'\r' | b';' | b'(' | b')' | b'"')
                    {
                        pos += 1;
                    }
                    rec.tokens.push(Token::Word(line[start..pos].to_string()));
                }
            }
        }
    }
    if depth != 0 {
        return Err(KeysError {
            line: current.as_ref().map_or(0, |r| r.line),
            message: "'(' not closed".into(),
        });
    }
    if let Some(r) = current.filter(|r| !r.tokens.is_empty()) {
        records.push(r);
    }
    Ok(records)
}

/// What became of one signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DkimStatus {
    /// The signature verifies with the supplied key.
    Pass,
    /// It does not: the body or the signed headers changed after signing, the key was
    /// revoked, or the signature was forged.
    Fail,
    /// No key for its selector and domain was supplied.
    NoKey,
    /// `x=` had passed when the message was received.
    Expired,
    /// Malformed, or uses what is not accepted (rsa-sha1, unknown algorithms).
    Invalid,
}

impl DkimStatus {
    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            DkimStatus::Pass => "pass",
            DkimStatus::Fail => "fail",
            DkimStatus::NoKey => "no-key",
            DkimStatus::Expired => "expired",
            DkimStatus::Invalid => "invalid",
        }
    }
}

/// The verification of one `DKIM-Signature` header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DkimCheck {
    /// `d=`, lowercased (empty when missing).
    pub domain: String,
    /// `s=` (empty when missing).
    pub selector: String,
    /// `a=` as written.
    pub algorithm: String,
    /// The outcome.
    pub status: DkimStatus,
    /// Why, in words.
    pub detail: String,
}

impl DkimCheck {
    /// `d=example.com s=sel: detail`
    pub fn describe(&self) -> String {
        format!(
            "d={} s={} {}: {}",
            self.domain,
            self.selector,
            self.status.as_str(),
            self.detail
        )
    }
}

/// Verifies every `DKIM-Signature` of `message` (at most [`MAX_SIGNATURES`]) against
/// `keys`. `received_at` (Unix seconds) is when the message arrived; `x=` is judged
/// against it, and not at all when it is unknown. Pure; never panics.
pub fn verify(message: &[u8], keys: &DkimKeys, received_at: Option<i64>) -> Vec<DkimCheck> {
    let message = crlf(message);
    let (fields, body) = split_message(&message);
    let mut out = Vec::new();
    for field in fields
        .iter()
        .filter(|f| f.name.eq_ignore_ascii_case(b"DKIM-Signature"))
    {
        if out.len() == MAX_SIGNATURES {
            break;
        }
        out.push(verify_one(field, &fields, body, keys, received_at));
    }
    out
}

fn verify_one(
    sig_field: &Field<'_>,
    fields: &[Field<'_>],
    body: &[u8],
    keys: &DkimKeys,
    received_at: Option<i64>,
) -> DkimCheck {
    let mut check = DkimCheck {
        domain: String::new(),
        selector: String::new(),
        algorithm: String::new(),
        status: DkimStatus::Invalid,
        detail: String::new(),
    };
    let value = String::from_utf8_lossy(sig_field.value());
    // Who signed and with what come first: a verifier refuses an algorithm before it
    // looks at anything else, and the report should name the signer even then.
    let tags = match Tags::parse(&value) {
        Ok(t) => t,
        Err(e) => {
            check.detail = e;
            return check;
        }
    };
    check.domain = tags.get("d").unwrap_or_default().to_ascii_lowercase();
    check.selector = tags.get("s").unwrap_or_default().to_ascii_lowercase();
    check.algorithm = tags.get("a").unwrap_or_default().to_string();
    let alg = match algorithm(&check.algorithm) {
        Ok(a) => a,
        Err(refusal) => {
            check.detail = refusal;
            return check;
        }
    };
    let sig = match Signature::from_tags(&tags) {
        Ok(s) => s,
        Err(e) => {
            check.detail = e;
            return check;
        }
    };
    if let (Some(x), Some(at)) = (sig.expires, received_at)
        && at > x
    {
        check.status = DkimStatus::Expired;
        check.detail = format!("x={x} had passed when the message was received ({at})");
        return check;
    }

    let canon_body = canonical_body(body, sig.body_canon);
    let covered = match sig.length {
        Some(l) => match usize::try_from(l).ok().and_then(|l| canon_body.get(..l)) {
            Some(c) => c,
            None => {
                check.status = DkimStatus::Fail;
                check.detail = format!("l={l} is longer than the body");
                return check;
            }
        },
        None => &canon_body[..],
    };
    if ring::digest::digest(&ring::digest::SHA256, covered).as_ref() != sig.body_hash.as_slice() {
        check.status = DkimStatus::Fail;
        check.detail = "body hash does not match: the body changed after signing".into();
        return check;
    }

    let Some(record) = keys.lookup(&sig.selector, &sig.domain) else {
        check.status = DkimStatus::NoKey;
        check.detail = format!(
            "no key for {}._domainkey.{} was supplied",
            sig.selector, sig.domain
        );
        return check;
    };
    let key = match KeyRecord::parse(record) {
        Ok(k) => k,
        Err(e) => {
            check.detail = format!("key record: {e}");
            return check;
        }
    };
    if let Err(e) = key.accepts(&sig, alg) {
        check.status = DkimStatus::Fail;
        check.detail = e;
        return check;
    }

    let data = signed_header_data(&sig, sig_field, fields);
    let ok = match alg {
        Algorithm::RsaSha256 => match rsa_public_key(&key.public_key) {
            Some(pk) => UnparsedPublicKey::new(&RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, pk)
                .verify(&data, &sig.signature)
                .is_ok(),
            None => {
                check.detail = "key record: p= is not an RSA public key".into();
                return check;
            }
        },
        Algorithm::Ed25519Sha256 => {
            // RFC 8463: Ed25519 signs the SHA-256 hash of the header data.
            let digest = ring::digest::digest(&ring::digest::SHA256, &data);
            UnparsedPublicKey::new(&ED25519, &key.public_key)
                .verify(digest.as_ref(), &sig.signature)
                .is_ok()
        }
    };
    if ok {
        check.status = DkimStatus::Pass;
        check.detail = if sig.length.is_some() {
            format!(
                "verified; l= covers only the first {} of {} body bytes",
                covered.len(),
                canon_body.len()
            )
        } else {
            "verified".into()
        };
    } else {
        check.status = DkimStatus::Fail;
        check.detail =
            "signature does not verify: signed headers changed, or not signed with this key".into();
    }
    check
}

/// The algorithm an `a=` names, or why it is not verified.
fn algorithm(name: &str) -> Result<Algorithm, String> {
    match name.to_ascii_lowercase().as_str() {
        "rsa-sha256" => Ok(Algorithm::RsaSha256),
        "ed25519-sha256" => Ok(Algorithm::Ed25519Sha256),
        "rsa-sha1" => Err("rsa-sha1 is not accepted any more (RFC 8301)".into()),
        "" => Err("a= is missing".into()),
        other => Err(format!("unknown algorithm {other}")),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Algorithm {
    RsaSha256,
    Ed25519Sha256,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Canon {
    Simple,
    Relaxed,
}

struct Signature {
    algorithm_name: String,
    signature: Vec<u8>,
    body_hash: Vec<u8>,
    header_canon: Canon,
    body_canon: Canon,
    domain: String,
    signed_headers: Vec<String>,
    identity_domain: Option<String>,
    length: Option<u64>,
    selector: String,
    expires: Option<i64>,
}

impl Signature {
    fn from_tags(tags: &Tags<'_>) -> Result<Signature, String> {
        let need = |name: &str| tags.get(name).ok_or_else(|| format!("{name}= is missing"));
        if need("v")? != "1" {
            return Err(format!("v={} is not 1", need("v")?));
        }
        let algorithm_name = need("a")?.to_string();
        let signature = decode_b64(need("b")?).ok_or("b= is not base64")?;
        let body_hash = decode_b64(need("bh")?).ok_or("bh= is not base64")?;
        let canon = |s: &str| match s.to_ascii_lowercase().as_str() {
            "simple" => Ok(Canon::Simple),
            "relaxed" => Ok(Canon::Relaxed),
            other => Err(format!("unknown canonicalization {other}")),
        };
        let (header_canon, body_canon) = match tags.get("c") {
            None => (Canon::Simple, Canon::Simple),
            Some(c) => match c.split_once('/') {
                Some((h, b)) => (canon(h)?, canon(b)?),
                None => (canon(c)?, Canon::Simple),
            },
        };
        let domain = need("d")?.to_ascii_lowercase();
        let signed_headers: Vec<String> = need("h")?
            .split(':')
            .map(|h| strip_fws(h).to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        if signed_headers.len() > MAX_SIGNED_HEADERS {
            return Err(format!(
                "h= names {} fields (more than {MAX_SIGNED_HEADERS})",
                signed_headers.len()
            ));
        }
        if !signed_headers.iter().any(|h| h == "from") {
            return Err("h= does not include From".into());
        }
        let identity_domain = match tags.get("i") {
            None => None,
            Some(i) => {
                let d = i
                    .rsplit_once('@')
                    .map_or(i, |(_, d)| d)
                    .to_ascii_lowercase();
                if d != domain && !d.ends_with(&format!(".{domain}")) {
                    return Err(format!("i= domain {d} is not d={domain} or under it"));
                }
                Some(d)
            }
        };
        let number = |name: &str| -> Result<Option<u64>, String> {
            tags.get(name)
                .map(|v| {
                    v.parse::<u64>()
                        .map_err(|_| format!("{name}={v} is not a number"))
                })
                .transpose()
        };
        let length = number("l")?;
        let timestamp = number("t")?;
        let expires = number("x")?;
        if let (Some(t), Some(x)) = (timestamp, expires)
            && x < t
        {
            return Err(format!("x={x} is before t={t}"));
        }
        if let Some(q) = tags.get("q")
            && !q
                .split(':')
                .any(|m| strip_fws(m).eq_ignore_ascii_case("dns/txt"))
        {
            return Err(format!("q={q} has no dns/txt"));
        }
        Ok(Signature {
            algorithm_name,
            signature,
            body_hash,
            header_canon,
            body_canon,
            domain,
            signed_headers,
            identity_domain,
            length,
            selector: need("s")?.to_ascii_lowercase(),
            expires: expires.and_then(|x| i64::try_from(x).ok()),
        })
    }
}

struct KeyRecord {
    key_type: String,
    hashes: Option<Vec<String>>,
    strict_identity: bool,
    public_key: Vec<u8>,
}

impl KeyRecord {
    fn parse(record: &str) -> Result<KeyRecord, String> {
        let tags = Tags::parse(record)?;
        if let Some(v) = tags.get("v")
            && v != "DKIM1"
        {
            return Err(format!("v={v} is not DKIM1"));
        }
        if let Some(s) = tags.get("s")
            && !s.split(':').any(|s| matches!(strip_fws(s), "*" | "email"))
        {
            return Err(format!("s={s} does not allow email"));
        }
        let p = tags.get("p").ok_or("p= is missing")?;
        let public_key = decode_b64(p).ok_or("p= is not base64")?;
        Ok(KeyRecord {
            key_type: tags.get("k").unwrap_or("rsa").to_ascii_lowercase(),
            hashes: tags.get("h").map(|h| {
                h.split(':')
                    .map(|x| strip_fws(x).to_ascii_lowercase())
                    .collect()
            }),
            strict_identity: tags
                .get("t")
                .is_some_and(|t| t.split(':').any(|f| strip_fws(f).eq_ignore_ascii_case("s"))),
            public_key,
        })
    }

    /// Whether this key may verify this signature at all (RFC 6376 §6.1.2).
    fn accepts(&self, sig: &Signature, alg: Algorithm) -> Result<(), String> {
        if self.public_key.is_empty() {
            return Err("the key is revoked (empty p=)".into());
        }
        let wanted = match alg {
            Algorithm::RsaSha256 => "rsa",
            Algorithm::Ed25519Sha256 => "ed25519",
        };
        if self.key_type != wanted {
            return Err(format!(
                "key type k={} does not fit a={}",
                self.key_type, sig.algorithm_name
            ));
        }
        if let Some(h) = &self.hashes
            && !h.iter().any(|h| h == "sha256")
        {
            return Err(format!("key allows only h={}", h.join(":")));
        }
        if self.strict_identity
            && let Some(i) = &sig.identity_domain
            && *i != sig.domain
        {
            return Err(format!(
                "key has t=s but i= is a subdomain ({i}) of d={}",
                sig.domain
            ));
        }
        Ok(())
    }
}

/// The `tag=value` pairs of a tag list (RFC 6376 §3.2); values keep inner FWS.
struct Tags<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Tags<'a> {
    fn parse(list: &'a str) -> Result<Self, String> {
        let mut out: Vec<(&str, &str)> = Vec::new();
        for spec in list.split(';') {
            if strip_fws(spec).is_empty() {
                continue;
            }
            let (name, value) = spec
                .split_once('=')
                .ok_or_else(|| format!("tag without '=': {}", clip(strip_fws(spec))))?;
            let name = strip_fws(name);
            if name.is_empty()
                || !name.starts_with(|c: char| c.is_ascii_alphabetic())
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(format!("bad tag name {}", clip(name)));
            }
            if out.iter().any(|(k, _)| *k == name) {
                return Err(format!("tag {name}= appears twice"));
            }
            if out.len() == 64 {
                return Err("more than 64 tags".into());
            }
            out.push((name, strip_fws(value)));
        }
        Ok(Tags(out))
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }
}

fn clip(s: &str) -> &str {
    let mut end = s.len().min(40);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn strip_fws(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

fn decode_b64(s: &str) -> Option<Vec<u8>> {
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    B64.decode(compact).ok()
}

/// An RSA public key as ring wants it (PKCS#1 `RSAPublicKey`), from DKIM's `p=`, which is
/// normally a `SubjectPublicKeyInfo` and sometimes the bare `RSAPublicKey`.
fn rsa_public_key(p: &[u8]) -> Option<&[u8]> {
    let (tag, inner, _) = der(p)?;
    if tag != 0x30 {
        return None;
    }
    let (first_tag, _, rest) = der(inner)?;
    match first_tag {
        0x02 => Some(p), // RSAPublicKey: SEQUENCE { INTEGER n, INTEGER e }
        0x30 => {
            // SubjectPublicKeyInfo: SEQUENCE { AlgorithmIdentifier, BIT STRING }
            let (bit_tag, bits, _) = der(rest)?;
            if bit_tag != 0x03 || bits.first() != Some(&0) {
                return None;
            }
            bits.get(1..)
        }
        _ => None,
    }
}

/// One DER element: (tag, contents, what follows).
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let len = input
            .get(2..2 + n)?
            .iter()
            .fold(0usize, |a, b| (a << 8) | usize::from(*b));
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    Some((tag, input.get(header..end)?, input.get(end..)?))
}

/// The message with every bare LF made CRLF.
fn crlf(message: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let bare = message
        .iter()
        .enumerate()
        .any(|(i, b)| *b == b'\n' && (i == 0 || message[i - 1] != b'\r'));
    if !bare {
        return std::borrow::Cow::Borrowed(message);
    }
    let mut out = Vec::with_capacity(message.len() + message.len() / 32);
    let mut prev = 0u8;
    for &b in message {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    std::borrow::Cow::Owned(out)
}

/// One header field as it is in the message, CRLF included.
struct Field<'a> {
    name: &'a [u8],
    raw: &'a [u8],
}

impl Field<'_> {
    /// What follows the colon, up to (not including) the final CRLF.
    fn value(&self) -> &[u8] {
        let after = self.raw.get(self.name_end() + 1..).unwrap_or(&[]);
        after.strip_suffix(b"\r\n").unwrap_or(after)
    }

    fn name_end(&self) -> usize {
        memchr::memchr(b':', self.raw).unwrap_or(self.raw.len())
    }
}

/// Header fields and the body of a CRLF message.
fn split_message(m: &[u8]) -> (Vec<Field<'_>>, &[u8]) {
    let mut fields: Vec<Field<'_>> = Vec::new();
    let mut pos = 0;
    let mut start: Option<usize> = None;
    while pos < m.len() {
        let end = memchr::memmem::find(&m[pos..], b"\r\n").map_or(m.len(), |e| pos + e + 2);
        let line = &m[pos..end];
        if line == b"\r\n" {
            if let Some(s) = start.take() {
                push_field(m, &mut fields, s, pos);
            }
            return (fields, &m[end..]);
        }
        let continuation = matches!(line.first(), Some(b' ' | b'\t'));
        if !continuation {
            if let Some(s) = start.take() {
                push_field(m, &mut fields, s, pos);
            }
            start = Some(pos);
        }
        pos = end;
    }
    if let Some(s) = start {
        push_field(m, &mut fields, s, m.len());
    }
    (fields, &[])
}

fn push_field<'a>(m: &'a [u8], fields: &mut Vec<Field<'a>>, start: usize, end: usize) {
    if fields.len() >= MAX_FIELDS {
        return;
    }
    let raw = &m[start..end];
    if let Some(colon) = memchr::memchr(b':', raw) {
        let name = raw[..colon].trim_ascii_end();
        fields.push(Field { name, raw });
    }
}

/// RFC 6376 §3.4.3 and §3.4.4.
fn canonical_body(body: &[u8], canon: Canon) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 2);
    match canon {
        Canon::Simple => {
            let mut end = body.len();
            while end >= 2 && &body[end - 2..end] == b"\r\n" {
                end -= 2;
            }
            out.extend_from_slice(&body[..end]);
            out.extend_from_slice(b"\r\n");
        }
        Canon::Relaxed => {
            let mut pending_blank = 0usize;
            for line in body.split_inclusive(|b| *b == b'\n') {
                let line = line.strip_suffix(b"\r\n").unwrap_or(line);
                let mut l = Vec::with_capacity(line.len());
                let mut in_wsp = false;
                for &b in line {
                    if b == b' ' || b == b'\t' {
                        in_wsp = true;
                    } else {
                        if in_wsp {
                            l.push(b' ');
                        }
                        in_wsp = false;
                        l.push(b);
                    }
                }
                if l.is_empty() {
                    pending_blank += 1;
                    continue;
                }
                for _ in 0..pending_blank {
                    out.extend_from_slice(b"\r\n");
                }
                pending_blank = 0;
                out.extend_from_slice(&l);
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out
}

/// RFC 6376 §3.4.2: name lowercased, value unfolded, WSP runs made one space, WSP around
/// the colon and at the end removed.
fn relaxed_header(name: &[u8], value: &[u8], out: &mut Vec<u8>) {
    out.extend(name.trim_ascii().iter().map(u8::to_ascii_lowercase));
    out.push(b':');
    let mut in_wsp = false;
    let mut started = false;
    for &b in value {
        match b {
            b'\r' | b'\n' => {}
            b' ' | b'\t' => in_wsp = true,
            _ => {
                if in_wsp && started {
                    out.push(b' ');
                }
                in_wsp = false;
                started = true;
                out.push(b);
            }
        }
    }
    out.extend_from_slice(b"\r\n");
}

fn canonical_header(field: &Field<'_>, canon: Canon, out: &mut Vec<u8>) {
    match canon {
        Canon::Simple => out.extend_from_slice(field.raw),
        Canon::Relaxed => relaxed_header(field.name, field.value(), out),
    }
}

/// The header data the signature covers (RFC 6376 §3.7): each field named in `h=`, taking
/// repeated names from the bottom up, then the signature field itself with `b=` emptied
/// and no final CRLF.
fn signed_header_data(sig: &Signature, sig_field: &Field<'_>, fields: &[Field<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut used: HashMap<&str, usize> = HashMap::new();
    for name in &sig.signed_headers {
        let skip = used.entry(name.as_str()).or_insert(0);
        let found = fields
            .iter()
            .rev()
            .filter(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
            .nth(*skip);
        *skip += 1;
        if let Some(f) = found {
            canonical_header(f, sig.header_canon, &mut out);
        }
    }
    let stripped = without_b_value(sig_field.raw);
    let field = Field {
        name: sig_field.name,
        raw: &stripped,
    };
    canonical_header(&field, sig.header_canon, &mut out);
    if out.ends_with(b"\r\n") {
        out.truncate(out.len() - 2);
    }
    out
}

/// The raw signature field with the value of its `b=` tag removed (`b=` itself kept).
fn without_b_value(raw: &[u8]) -> Vec<u8> {
    let colon = memchr::memchr(b':', raw).map_or(0, |c| c + 1);
    let mut out = raw[..colon].to_vec();
    let value = &raw[colon..];
    let mut pos = 0;
    for spec in value.split_inclusive(|b| *b == b';') {
        let eq = memchr::memchr(b'=', spec);
        let is_b = eq.is_some_and(|e| {
            spec[..e]
                .iter()
                .filter(|b| !b.is_ascii_whitespace())
                .eq(b"b".iter())
        });
        match (is_b, eq) {
            (true, Some(e)) => {
                out.extend_from_slice(&spec[..=e]);
                if spec.ends_with(b";") {
                    out.push(b';');
                } else if spec.ends_with(b"\r\n") {
                    out.extend_from_slice(b"\r\n");
                }
            }
            _ => out.extend_from_slice(spec),
        }
        pos += spec.len();
    }
    debug_assert_eq!(pos, value.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6376 §3.4.6, the canonicalization example.
    const EXAMPLE_HEADERS: &[u8] = b"A: X\r\nB : Y\t\r\n\tZ  \r\n";
    const EXAMPLE_BODY: &[u8] = b" C \r\nD \t E\r\n\r\n\r\n";

    /// The example's headers and body, canonicalized one way.
    fn canonical_example(canon: Canon) -> (Vec<u8>, Vec<u8>) {
        let mut m = EXAMPLE_HEADERS.to_vec();
        m.extend_from_slice(b"\r\n");
        m.extend_from_slice(EXAMPLE_BODY);
        let (fields, body) = split_message(&m);
        let mut h = Vec::new();
        for f in &fields {
            canonical_header(f, canon, &mut h);
        }
        (h, canonical_body(body, canon))
    }

    #[test]
    fn rfc6376_example() {
        let (h, b) = canonical_example(Canon::Relaxed);
        assert_eq!(h, b"a:X\r\nb:Y Z\r\n");
        assert_eq!(b, b" C\r\nD E\r\n");
        let (h, b) = canonical_example(Canon::Simple);
        assert_eq!(h, EXAMPLE_HEADERS);
        assert_eq!(b, b" C \r\nD \t E\r\n");
    }

    #[test]
    fn empty_bodies() {
        assert_eq!(canonical_body(b"", Canon::Simple), b"\r\n");
        assert_eq!(canonical_body(b"\r\n\r\n", Canon::Simple), b"\r\n");
        assert_eq!(canonical_body(b"", Canon::Relaxed), b"");
        assert_eq!(canonical_body(b" \r\n\t\r\n", Canon::Relaxed), b"");
        assert_eq!(canonical_body(b"x", Canon::Relaxed), b"x\r\n");
    }

    #[test]
    fn bare_lf_becomes_crlf() {
        assert_eq!(&*crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
        assert!(matches!(crlf(b"a\r\n"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn b_value_is_emptied_but_bh_kept() {
        let raw = b"DKIM-Signature: v=1; bh=abc=; b=dGVz\r\n\tdA==; d=x.example\r\n";
        assert_eq!(
            without_b_value(raw),
            b"DKIM-Signature: v=1; bh=abc=; b=; d=x.example\r\n".to_vec()
        );
        let last = b"DKIM-Signature: v=1; b=abc\r\n";
        assert_eq!(
            without_b_value(last),
            b"DKIM-Signature: v=1; b=\r\n".to_vec()
        );
    }

    #[test]
    fn spki_and_bare_rsa_keys() {
        // SEQUENCE { SEQUENCE { OID, NULL }, BIT STRING { 00, SEQUENCE { INTEGER 5, INTEGER 3 } } }
        let rsa = [0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03];
        let mut spki = vec![0x30, 0x1a, 0x30, 0x0d];
        spki.extend_from_slice(&[
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 1, 5, 0,
        ]);
        spki.extend_from_slice(&[0x03, 0x09, 0x00]);
        spki.extend_from_slice(&rsa);
        assert_eq!(rsa_public_key(&spki), Some(&rsa[..]));
        assert_eq!(rsa_public_key(&rsa), Some(&rsa[..]));
        assert_eq!(rsa_public_key(&[0x30, 0x85, 1, 2, 3, 4, 5]), None);
        assert_eq!(rsa_public_key(&[]), None);
    }

    #[test]
    fn key_file_syntax() {
        let text = "; keys\n$ORIGIN example.com.\nmail._domainkey IN TXT ( \"v=DKIM1; k=rsa; \"\n   \"p=AAAA\" )  ; comment\n\
                    s2._domainkey.example.net. 300 IN TXT \"v=DKIM1; \\\"k=ed25519; p=BBBB\"\n\
                    sel._domainkey.example.org. 3600 IN CNAME s2._domainkey.example.net.\n\
                    example.com. IN MX 10 mx.example.com.\n";
        let keys = DkimKeys::parse(text).expect("parses");
        assert_eq!(keys.len(), 2);
        assert_eq!(
            keys.lookup("mail", "example.com"),
            Some("v=DKIM1; k=rsa; p=AAAA")
        );
        assert_eq!(
            keys.lookup("sel", "EXAMPLE.org"),
            Some("v=DKIM1; \"k=ed25519; p=BBBB")
        );
        assert!(keys.covers("example.com"));
        assert!(keys.covers("example.org"));
        assert!(!keys.covers("other.example"));
        assert!(!keys.covers("ample.com"));
        assert_eq!(keys.lookup("other", "example.com"), None);
    }

    #[test]
    fn key_file_errors_name_the_line() {
        let e = DkimKeys::parse("a.example. IN TXT \"v=DKIM1\"\nb.example. IN TXT \"open\n")
            .unwrap_err();
        assert_eq!(e.line, 2);
        let e = DkimKeys::parse("x.example. IN TXT (\n\"p=\"\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("not closed"));
        let e = DkimKeys::parse("\n\n$INCLUDE other\n").unwrap_err();
        assert_eq!(e.line, 3);
        let e = DkimKeys::parse("x.example. IN TXT\n").unwrap_err();
        assert_eq!(e.line, 1);
    }

    #[test]
    fn alias_loops_end() {
        let keys = DkimKeys::parse(
            "a._domainkey.x.example. CNAME b._domainkey.x.example.\nb._domainkey.x.example. CNAME a._domainkey.x.example.\n",
        )
        .expect("parses");
        assert_eq!(keys.lookup("a", "x.example"), None);
    }

    fn ed25519_signed(headers: &str, body: &str, tags: &str) -> (Vec<u8>, DkimKeys) {
        use ring::signature::{Ed25519KeyPair, KeyPair};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("key");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("key");
        let canon_body = canonical_body(&crlf(body.as_bytes()), Canon::Relaxed);
        let bh = B64.encode(ring::digest::digest(&ring::digest::SHA256, &canon_body));
        let unsigned = format!(
            "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com;\r\n s=sel; h=from:subject; {tags}bh={bh}; b=\r\n"
        );
        let mut m = format!("{unsigned}{headers}\r\n{body}").into_bytes();
        let (fields, _) = split_message(&m);
        let value = String::from_utf8_lossy(fields[0].value()).into_owned();
        let sig = Signature::from_tags(&Tags::parse(&value).expect("tags")).expect("sig");
        let data = signed_header_data(&sig, &fields[0], &fields);
        let digest = ring::digest::digest(&ring::digest::SHA256, &data);
        let b = B64.encode(pair.sign(digest.as_ref()));
        let at = unsigned.len() - 2;
        m.splice(at..at, b.bytes());
        let keys = DkimKeys::parse(&format!(
            "sel._domainkey.example.com. TXT \"v=DKIM1; k=ed25519; p={}\"",
            B64.encode(pair.public_key().as_ref())
        ))
        .expect("keys");
        (m, keys)
    }

    #[test]
    fn own_ed25519_signature_round_trip() {
        let (m, keys) = ed25519_signed("From: a@example.com\r\nSubject: hi\r\n", "Hello\r\n", "");
        let r = verify(&m, &keys, None);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].status, DkimStatus::Pass, "{}", r[0].describe());

        let changed = String::from_utf8_lossy(&m).replace("Subject: hi", "Subject: Hi");
        assert_eq!(
            verify(changed.as_bytes(), &keys, None)[0].status,
            DkimStatus::Fail
        );
        let body = String::from_utf8_lossy(&m).replace("Hello", "Hellp");
        let r = verify(body.as_bytes(), &keys, None);
        assert_eq!(r[0].status, DkimStatus::Fail);
        assert!(r[0].detail.contains("body hash"));
        assert_eq!(
            verify(&m, &DkimKeys::default(), None)[0].status,
            DkimStatus::NoKey
        );
    }

    #[test]
    fn every_single_byte_change_is_survived_and_signed_bytes_are_guarded() {
        let (m, keys) = ed25519_signed("From: a@example.com\r\nSubject: hi\r\n", "Hello\r\n", "");
        let text = String::from_utf8_lossy(&m).into_owned();
        let from = text.find("From: a@").expect("from") + 6;
        for i in 0..m.len() {
            for b in [b'\n', b'\r', b' ', b';', b'=', b':', 0xff, 0] {
                let mut x = m.clone();
                if x[i] == b {
                    continue;
                }
                x[i] = b;
                let r = verify(&x, &keys, None);
                if (from..from + 13).contains(&i) {
                    assert_ne!(
                        r.first().map(|c| c.status),
                        Some(DkimStatus::Pass),
                        "byte {i}"
                    );
                }
            }
            let _ = verify(&m[..i], &keys, None);
        }
    }

    #[test]
    fn expiry_is_judged_at_receipt() {
        let (m, keys) = ed25519_signed(
            "From: a@example.com\r\nSubject: hi\r\n",
            "Hello\r\n",
            "t=1000; x=2000; ",
        );
        assert_eq!(verify(&m, &keys, Some(1500))[0].status, DkimStatus::Pass);
        assert_eq!(verify(&m, &keys, None)[0].status, DkimStatus::Pass);
        assert_eq!(verify(&m, &keys, Some(2001))[0].status, DkimStatus::Expired);
    }

    #[test]
    fn malformed_signatures_are_invalid_not_panics() {
        for value in [
            "v=1",
            "v=2; a=rsa-sha256; b=; bh=; d=x; h=from; s=s",
            "v=1; a=rsa-sha1; b=AA==; bh=AA==; d=x; h=from; s=s",
            "v=1; a=rsa-sha256; b=AA==; bh=AA==; d=x; h=subject; s=s",
            "v=1; a=rsa-sha256; b=AA==; bh=AA==; d=x; h=from; s=s; i=@other",
            "v=1; v=1",
            "=1",
            "v=1; a=rsa-sha256; b=!!; bh=AA==; d=x; h=from; s=s",
            &format!(
                "v=1; a=rsa-sha256; b=AA==; bh=AA==; d=x; s=s; h=from{}",
                ":from".repeat(600)
            ),
        ] {
            let m = format!("DKIM-Signature: {value}\r\nFrom: a@x\r\n\r\nbody\r\n");
            let r = verify(m.as_bytes(), &DkimKeys::default(), None);
            assert_eq!(r.len(), 1, "{value}");
            assert_eq!(r[0].status, DkimStatus::Invalid, "{value}: {}", r[0].detail);
        }
    }
}
