//! Mail triage: scores each message for phishing and for impersonation of the
//! organisation, and says why.
//!
//! [`scan`] is a pure function of a message's bytes and a [`MailPolicy`] (the
//! organisation's domains and brand names, signal weights, thresholds, bounds). It
//! returns a [`Verdict`]: `clean`, `suspicious` or `malicious`, a score, and every
//! [`Reason`] that added to it with its weight and evidence (the header value, the
//! look-alike domain and what it imitates, the URL, the attachment name and type).
//!
//! ```
//! use sekisho_mail::{MailPolicy, Level, scan};
//! let policy = MailPolicy::new(&["example-hi.com".into()], &["Example Heavy Industries".into()]);
//! let msg = b"From: Example Heavy Industries HR <hr@example-hi-careers.com>\r\n\
//! To: you@example.org\r\nSubject: Job offer\r\n\r\nPlease find the offer letter attached.\r\n";
//! let v = scan(msg, &policy);
//! assert_ne!(v.level, Level::Clean);
//! assert!(v.reasons.iter().any(|r| r.id == "imp-org-lookalike-domain"));
//! ```
//!
//! Signals come in categories (see [`Category`]): authentication results (failures only:
//! a pass is no proof, attackers pass SPF on their own domains), impersonation of the
//! organisation and of well-known brands, lure wording, header mismatches (scored only
//! in combination with another category: mailing lists differ legitimately), links and
//! attachments. Missing authentication headers are never a signal: old or internal mail
//! has none.
//!
//! Every message is bounded ([`limits`]): size, MIME parts, nesting depth, header line
//! length, attachments. What had to be cut or did not decode is reported in
//! [`Verdict::malformed`] with its byte offset; nothing panics on any input.
//!
//! [`discover()`] is the thin I/O shell that finds messages in `.eml` files, mbox files and
//! Maildir folders; [`report`] renders the table, JSON and a self-contained HTML report.

#![warn(missing_docs)]

pub mod attach;
pub mod auth;
pub mod brands;
pub mod discover;
pub mod domain;
pub mod html;
pub mod limits;
pub mod lure;
pub mod policy;
pub mod report;

pub use discover::{
    DiscoverError, Discovered, MessageSource, Source, SourceKind, discover, read_source,
};
pub use limits::{Limits, Malformed, MalformedKind};
pub use policy::{
    Category, MailPolicy, PolicyError, SIGNALS, SignalInfo, Thresholds, Weights, parse_weights,
};
pub use report::ScanResult;

use domain::DomainInfo;
use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};
use serde::Serialize;
use std::collections::BTreeSet;

/// How bad a message looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Below the suspicious threshold.
    Clean,
    /// At or above the suspicious threshold.
    Suspicious,
    /// At or above the malicious threshold.
    Malicious,
}

impl Level {
    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Clean => "clean",
            Level::Suspicious => "suspicious",
            Level::Malicious => "malicious",
        }
    }
}

/// One signal that fired.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    /// Stable id (also the key in the weights file).
    pub id: &'static str,
    /// What the signal is about.
    pub category: Category,
    /// What it added to the score (0 for header signals without a partner).
    pub weight: f64,
    /// What was seen: header values, domains, URLs, attachment names.
    pub evidence: String,
}

/// The result of scanning one message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    /// Clean, suspicious or malicious.
    #[serde(rename = "verdict")]
    pub level: Level,
    /// Sum of the reasons' weights.
    pub score: f64,
    /// Every signal that fired, highest weight first.
    pub reasons: Vec<Reason>,
    /// Structural problems, with byte offsets.
    pub malformed: Vec<Malformed>,
    /// The decoded subject (for display; escape before rendering).
    pub subject: String,
    /// The From header as `Name <address>`.
    pub from: String,
}

/// Shorteners: the target is hidden until clicked.
const SHORTENERS: &[&str] = &[
    "bit.ly",
    "tinyurl.com",
    "t.co",
    "goo.gl",
    "ow.ly",
    "is.gd",
    "buff.ly",
    "rebrand.ly",
    "cutt.ly",
    "shorturl.at",
    "rb.gy",
    "t.ly",
    "tiny.cc",
    "bit.do",
    "s.id",
    "qrco.de",
    "urlz.fr",
    "shorturl.gg",
    "v.gd",
    "tr.im",
    "x.co",
    "lnkd.in",
    "surl.li",
    "tiny.one",
    "bl.ink",
    "short.io",
    "gg.gg",
    "u.to",
];
/// Free hosting and form services not marked private in the PSL.
const FREE_HOSTING: &[&str] = &[
    "000webhostapp.com",
    "weebly.com",
    "wixsite.com",
    "godaddysites.com",
    "mystrikingly.com",
    "webflow.io",
    "square.site",
    "ipfs.io",
    "dweb.link",
    "forms.gle",
    "sites.google.com",
    "docs.google.com",
    "storage.googleapis.com",
    "firebasestorage.googleapis.com",
    "onmicrosoft.com",
    "sharepoint.com",
    "my.canva.site",
    "notion.site",
    "glitch.me",
    "r2.dev",
    "pages.dev",
    "workers.dev",
    "web.app",
    "firebaseapp.com",
    "netlify.app",
    "vercel.app",
    "github.io",
    "herokuapp.com",
    "azurewebsites.net",
    "windows.net",
    "amazonaws.com",
    "appspot.com",
    "typeform.com",
    "jotform.com",
    "formstack.com",
    "wufoo.com",
    "ngrok.io",
    "ngrok-free.app",
    "trycloudflare.com",
];

/// Scans one message. Pure: no I/O, no clock; never panics.
pub fn scan(raw: &[u8], policy: &MailPolicy) -> Verdict {
    let mut malformed = Vec::new();
    let data = limits::prepare(raw, &policy.limits, &mut malformed);
    let mut sc = Scorer::new(policy);
    let Some(msg) = MessageParser::default().parse(data.as_ref()) else {
        malformed.push(Malformed {
            kind: MalformedKind::NotAMessage,
            offset: 0,
            detail: "no RFC 5322 header could be read".into(),
        });
        return sc.finish(malformed, String::new(), String::new());
    };

    // --- who it claims to be from
    let (from_name, from_addr) = first_addr(msg.from());
    let from_dom = from_addr
        .as_deref()
        .and_then(addr_domain)
        .and_then(DomainInfo::new);
    let subject = msg.subject().unwrap_or("").to_string();
    let from_display = match (&from_name, &from_addr) {
        (Some(n), Some(a)) => format!("{n} <{a}>"),
        (None, Some(a)) => a.clone(),
        (Some(n), None) => n.clone(),
        (None, None) => String::new(),
    };
    let (_, reply_addr) = first_addr(msg.reply_to());
    let reply_dom = reply_addr
        .as_deref()
        .and_then(addr_domain)
        .and_then(DomainInfo::new);
    let return_path = msg.return_address().map(str::to_string);
    let to_addrs: Vec<String> = msg
        .to()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.address.as_deref().map(str::to_lowercase))
                .take(50)
                .collect()
        })
        .unwrap_or_default();

    // --- authentication results
    let mut auth = auth::AuthSummary::default();
    let mut received_dates: Vec<i64> = Vec::new();
    for h in msg.headers() {
        let name = h.name.as_str();
        let raw_value = || {
            let s = usize::try_from(h.offset_start).unwrap_or(0);
            let e = usize::try_from(h.offset_end).unwrap_or(0);
            data.get(s..e.min(s.saturating_add(auth::MAX_AUTH_HEADER)))
                .map(String::from_utf8_lossy)
        };
        if name.eq_ignore_ascii_case("Authentication-Results")
            || name.eq_ignore_ascii_case("ARC-Authentication-Results")
        {
            if let Some(v) = raw_value() {
                auth::read_auth_results(&v, &mut auth);
            }
        } else if name.eq_ignore_ascii_case("Received-SPF") {
            if let Some(v) = raw_value() {
                auth::read_received_spf(&v, &mut auth);
            }
        } else if name.eq_ignore_ascii_case("Received")
            && let HeaderValue::Received(r) = &h.value
            && let Some(d) = &r.date
            && received_dates.len() < 100
        {
            received_dates.push(d.to_timestamp());
        }
    }
    let auth_ev = || auth.evidence.join(" ");
    if auth.dmarc_fail {
        sc.add(
            "auth-dmarc-fail",
            format!("{} (header.from={})", auth_ev(), auth.header_from.join(",")),
        );
    }
    if auth.compauth_fail {
        sc.add("auth-compauth-fail", auth_ev());
    }
    if auth.spf_fail {
        sc.add("auth-spf-fail", auth_ev());
    } else if auth.spf_softfail {
        sc.add("auth-spf-softfail", auth_ev());
    }
    if auth.dkim_fail {
        sc.add("auth-dkim-fail", auth_ev());
    }

    // --- the sender domain itself
    let org_owned = |d: &DomainInfo| policy.org_domains.iter().any(|o| o.same_org(d));
    if let Some(fd) = &from_dom {
        if !fd.known_suffix || !fd.name.contains('.') {
            sc.add(
                "imp-sender-domain-invalid",
                format!("From domain {} has no public suffix", fd.name),
            );
        } else if is_free_hosting(fd) {
            sc.add(
                "imp-sender-free-hosting",
                format!(
                    "From domain {} is under {}",
                    fd.name,
                    fd.suffix_or_list(FREE_HOSTING)
                ),
            );
        }
        if org_owned(fd) && (auth.dmarc_fail || auth.spf_fail || auth.compauth_fail) {
            sc.add(
                "imp-org-domain-spoofed",
                format!(
                    "From {} uses the organisation's domain; {}",
                    fd.name,
                    auth_ev()
                ),
            );
        }
    } else if let Some(a) = &from_addr
        && !a.contains('@')
    {
        sc.add(
            "imp-sender-domain-invalid",
            format!("From address {a} has no domain"),
        );
    }

    // --- bodies and links
    let mut facts = html::BodyFacts::default();
    for part in msg.html_bodies().take(8) {
        if let PartType::Html(h) = &part.body {
            html::read_html(html::floor_str(h, 2 * 1024 * 1024), &mut facts);
        }
    }
    if msg.html_body_count() == 0 || facts.text.trim().is_empty() {
        for part in msg.text_bodies().take(8) {
            if let PartType::Text(t) = &part.body {
                html::read_text(html::floor_str(t, 2 * 1024 * 1024), &mut facts);
            }
        }
    }

    // --- attachments
    let mut att_findings = Vec::new();
    let mut attachment_count = 0usize;
    for part in msg.attachments().take(policy.limits.max_attachments) {
        attachment_count += 1;
        let name = part.attachment_name().unwrap_or("").to_string();
        let ct = part
            .content_type()
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")))
            .unwrap_or_default();
        match &part.body {
            PartType::Message(inner) => {
                // A forwarded message: its own attachments are looked at, one level.
                for p in inner.attachments().take(policy.limits.max_attachments) {
                    let n = p.attachment_name().unwrap_or("").to_string();
                    attach::inspect(&n, "", p.contents(), &mut att_findings);
                }
            }
            PartType::Html(h) | PartType::Text(h) => {
                attach::inspect(&name, &ct, h.as_bytes(), &mut att_findings);
                if name.to_lowercase().ends_with(".htm")
                    || name.to_lowercase().ends_with(".html")
                    || ct == "text/html"
                {
                    let mut af = html::BodyFacts::default();
                    html::read_html(html::floor_str(h, 2 * 1024 * 1024), &mut af);
                    facts.password_form |= af.password_form;
                    facts.smuggling |= af.smuggling;
                    for l in af.links.into_iter().take(50) {
                        facts.links.push(l);
                    }
                }
            }
            _ => attach::inspect(&name, &ct, part.contents(), &mut att_findings),
        }
    }
    let mut seen_att = BTreeSet::new();
    for (id, ev) in att_findings {
        if seen_att.insert(id) {
            sc.add(id, ev);
        } else {
            sc.append_evidence(id, &ev);
        }
    }

    // --- link checks
    let mut hosts: Vec<DomainInfo> = Vec::new();
    let mut host_names: BTreeSet<String> = BTreeSet::new();
    for link in &facts.links {
        let href_l = link.href.to_ascii_lowercase();
        if href_l.starts_with("data:") || href_l.starts_with("javascript:") {
            sc.add_once("link-data-url", html::floor_str(&link.href, 80).to_string());
            continue;
        }
        let Some(host) = html::url_host(&link.href) else {
            continue;
        };
        if domain::is_ip_literal(host) {
            sc.add_once(
                "link-ip-literal",
                html::floor_str(&link.href, 120).to_string(),
            );
            continue;
        }
        let Some(hd) = DomainInfo::new(host) else {
            continue;
        };
        if let Some(th) = html::text_host(&link.text)
            && let Some(td) = DomainInfo::new(&th)
            && !td.same_org(&hd)
        {
            // Click trackers show the shop's domain and link elsewhere; showing a brand's or
            // the organisation's domain and linking elsewhere is the phishing case.
            let named = brands::BRANDS
                .iter()
                .any(|b| brands::brand_owns(b, &td.registrable, &td.label))
                || org_owned(&td);
            let scale = if named { 3.0 } else { 1.0 };
            sc.add_scaled(
                "link-text-mismatch",
                scale,
                format!("text shows {} but the link goes to {}", td.name, hd.name),
            );
        }
        if is_listed(&hd, SHORTENERS) {
            sc.add_once(
                "link-shortener",
                html::floor_str(&link.href, 120).to_string(),
            );
        } else if is_free_hosting(&hd) && !from_dom.as_ref().is_some_and(|f| f.same_org(&hd)) {
            sc.add_once(
                "link-free-hosting",
                html::floor_str(&link.href, 120).to_string(),
            );
        }
        if hosts.len() < 50 && host_names.insert(hd.registrable.clone()) {
            hosts.push(hd);
        }
    }
    if facts.password_form {
        sc.add("link-credential-form", "a form asks for a password".into());
    }
    if facts.smuggling {
        sc.add(
            "link-html-smuggling",
            "script decodes data into a Blob for download".into(),
        );
    }
    if facts.hidden_text {
        sc.add(
            "link-hidden-text",
            "text styled invisible (font-size:0 or display:none)".into(),
        );
    }

    // --- impersonation of the organisation
    let mut candidates: Vec<(&str, &DomainInfo)> = Vec::new();
    if let Some(d) = &from_dom {
        candidates.push(("From", d));
    }
    if let Some(d) = &reply_dom {
        candidates.push(("Reply-To", d));
    }
    for h in &hosts {
        candidates.push(("link", h));
    }
    for (role, cand) in &candidates {
        if org_owned(cand) {
            continue;
        }
        for target in &policy.org_domains {
            if let Some(kind) = domain::lookalike(cand, target) {
                sc.add_once(
                    "imp-org-lookalike-domain",
                    format!(
                        "{role} domain {} imitates {} ({})",
                        cand.name,
                        target.registrable,
                        kind.as_str()
                    ),
                );
            }
        }
        for key in &policy.org_brand_keys {
            if key.len() >= 4 && cand.key.contains(key.as_str()) {
                sc.add_once(
                    "imp-org-lookalike-domain",
                    format!("{role} domain {} carries the brand {key}", cand.name),
                );
            }
        }
    }
    let from_is_org = from_dom.as_ref().is_some_and(org_owned);
    if !from_is_org && !policy.org_brands.is_empty() {
        let claim_text = format!("{} {}", from_name.as_deref().unwrap_or(""), subject);
        for brand in &policy.org_brands {
            if brand.chars().count() >= 3
                && brands::contains_word(&claim_text.to_lowercase(), &brand.to_lowercase())
            {
                sc.add_once(
                    "imp-org-brand-claim",
                    format!(
                        "\"{}\" claims {brand}, sent from {}",
                        html::floor_str(&claim_text, 120).trim(),
                        from_dom.as_ref().map_or("(no domain)", |d| d.name.as_str())
                    ),
                );
            }
        }
    }

    // --- impersonation of well-known brands
    if let (Some(name), Some(fd)) = (&from_name, &from_dom)
        && !from_is_org
    {
        for brand in policy.brands.brands_in(name) {
            if !brands::brand_owns(brand, &fd.registrable, &fd.label) {
                sc.add_once(
                    "imp-brand-display-name",
                    format!(
                        "display name \"{}\" claims {}, sender domain {}",
                        html::floor_str(name, 80),
                        brand.name,
                        fd.registrable
                    ),
                );
                break;
            }
        }
    }
    for (role, cand) in &candidates {
        if org_owned(cand) {
            continue;
        }
        for (brand, _, bkey, keys) in &policy.brands.entries {
            if brands::brand_owns(brand, &cand.registrable, &cand.label) {
                continue;
            }
            let tokens_hit = bkey.len() >= 4
                && cand
                    .label
                    .split(|c: char| !c.is_alphanumeric())
                    .any(|t| t == bkey);
            if tokens_hit && *role != "link" {
                sc.add_once(
                    "imp-brand-in-domain",
                    format!("{role} domain {} carries {}'s name", cand.name, brand.name),
                );
            }
            if cand.key.len() >= 6 {
                for (bd, bk) in keys {
                    if cand.label != *bd
                        && cand.key.chars().next() == bk.chars().next()
                        && (cand.key == *bk
                            || domain::bounded_edit_distance(&cand.key, bk, 1).is_some())
                    {
                        sc.add_once(
                            "imp-brand-lookalike-domain",
                            format!("{role} domain {} imitates {}", cand.name, bd),
                        );
                    }
                }
            }
        }
    }
    for (role, cand) in &candidates {
        if cand.idn {
            sc.add_once(
                "imp-idn-domain",
                format!("{role} domain {} (internationalised)", cand.name),
            );
        }
    }
    if let (Some(name), Some(addr)) = (&from_name, &from_addr)
        && let Some(inner) = embedded_address(name)
        && !inner.eq_ignore_ascii_case(addr)
        && addr_domain(&inner).map(str::to_lowercase) != addr_domain(addr).map(str::to_lowercase)
    {
        sc.add(
            "imp-display-name-address",
            format!("display name shows {inner}, real sender {addr}"),
        );
    }
    let entries = from_entries(msg.from());
    let digits = from_name.as_deref().map_or(0, longest_digit_run);
    let junk = from_name.as_deref().is_some_and(junk_display_name);
    if entries > 1 || digits >= 6 || junk {
        sc.add(
            "imp-display-name-odd",
            format!(
                "From has {entries} entries; display name \"{}\"",
                html::floor_str(from_name.as_deref().unwrap_or(""), 80)
            ),
        );
    }
    if !from_is_org
        && let Some(fd) = &from_dom
        && lure_hits_early(&policy.lures, &subject)
        && let Some(brand) = policy
            .brands
            .brands_in(&subject)
            .find(|b| !brands::brand_owns(b, &fd.registrable, &fd.label))
    {
        sc.add_scaled(
            "imp-brand-display-name",
            0.5,
            format!(
                "subject claims {} with lure wording, sender domain {}",
                brand.name, fd.registrable
            ),
        );
    }
    for (what, text) in [
        ("subject", subject.as_str()),
        ("display name", from_name.as_deref().unwrap_or("")),
    ] {
        if let Some(word) = confusable_word(text) {
            sc.add_once(
                "imp-confusable-text",
                format!("{what}: \"{word}\" mixes scripts or uses look-alike letters"),
            );
        }
    }

    if let Some(a) = &from_addr
        && random_local_part(a)
    {
        sc.add("imp-sender-random", format!("sender {a} looks generated"));
    }

    // --- lures
    let recipient_hit = to_addrs.iter().any(|t| {
        t.contains('@')
            && (subject.to_lowercase().contains(t.as_str())
                || (from_name
                    .as_deref()
                    .is_some_and(|n| n.to_lowercase().contains(t.as_str()))
                    && !from_addr
                        .as_deref()
                        .is_some_and(|a| a.eq_ignore_ascii_case(t))))
    });
    if recipient_hit {
        sc.add(
            "lure-recipient-in-subject",
            format!(
                "recipient address in subject or sender: {}",
                to_addrs.join(", ")
            ),
        );
    }
    let lure_hits = policy
        .lures
        .scan(&subject, html::floor_str(&facts.text, 16 * 1024));
    let reply_outside = match (&reply_dom, &from_dom) {
        (Some(r), Some(f)) => !r.same_org(f),
        _ => false,
    };
    for ((id, _), hit) in lure::CATEGORIES.iter().zip(&lure_hits) {
        if hit.count >= 2 {
            let ev = format!("phrases: {}", hit.phrases.join(", "));
            if *id == "lure-recruiter" && (attachment_count > 0 || reply_outside) {
                sc.add_scaled(
                    id,
                    2.0,
                    format!(
                        "{ev}; with {}",
                        if attachment_count > 0 {
                            "an attachment"
                        } else {
                            "a reply-to outside the sender's domain"
                        }
                    ),
                );
            } else {
                sc.add(id, ev);
            }
        }
    }

    let any_lure = lure_hits.iter().any(|h| h.count >= 2);
    if any_lure
        && let Some(fd) = &from_dom
        && is_listed(fd, FREEMAIL)
        && from_name.as_deref().is_some_and(|n| {
            policy.brands.brands_in(n).next().is_some() || !n.contains(' ') || digits >= 4 || junk
        })
    {
        sc.add(
            "imp-freemail-lure",
            format!("lure wording from a freemail address {}", fd.name),
        );
    }
    if facts.images > 0 && facts.text.split_whitespace().count() < 25 && !facts.links.is_empty() {
        sc.add(
            "link-image-only",
            format!(
                "{} images, {} words of text, {} links",
                facts.images,
                facts.text.split_whitespace().count(),
                facts.links.len()
            ),
        );
    }

    // --- header mismatches (scored only in combination)
    if reply_outside && let (Some(r), Some(f)) = (&reply_dom, &from_dom) {
        sc.add(
            "hdr-reply-to-mismatch",
            format!("From {} but Reply-To {}", f.registrable, r.registrable),
        );
    }
    let envelope = return_path
        .clone()
        .or_else(|| auth.mail_from.first().cloned());
    if let (Some(env), Some(f)) = (&envelope, &from_dom)
        && let Some(ed) = addr_domain(env)
            .or(Some(env.as_str()))
            .and_then(DomainInfo::new)
        && !ed.same_org(f)
    {
        sc.add(
            "hdr-envelope-mismatch",
            format!(
                "From {} but envelope sender {}",
                f.registrable, ed.registrable
            ),
        );
    }
    // Received headers run newest first; an older hop stamped a day after a newer one is forged or broken.
    let out_of_order = received_dates
        .windows(2)
        .any(|w| matches!(w, [newer, older] if older - newer > 86_400));
    if out_of_order || received_dates.len() > 40 {
        sc.add(
            "hdr-received-odd",
            format!(
                "{} Received headers{}",
                received_dates.len(),
                if out_of_order {
                    ", out of time order"
                } else {
                    ""
                }
            ),
        );
    }

    // --- encoding problems the parser noticed
    for part in msg.parts.iter().take(policy.limits.max_mime_parts) {
        if part.is_encoding_problem {
            malformed.push(Malformed {
                kind: MalformedKind::BadEncoding,
                offset: u64::from(part.offset_body),
                detail: "part does not decode cleanly in its transfer encoding or charset".into(),
            });
            break;
        }
    }
    check_encodings(&msg, data.as_ref(), &mut malformed);
    if let Some(depth) = too_deep(&msg, policy.limits.max_mime_depth) {
        malformed.push(Malformed {
            kind: MalformedKind::TooDeep,
            offset: depth,
            detail: format!(
                "multipart nesting deeper than {}",
                policy.limits.max_mime_depth
            ),
        });
    }
    sc.finish(malformed, subject, from_display)
}

/// Base64 bodies with characters outside the alphabet, quoted-printable with bad escapes,
/// and text that did not decode in its charset (U+FFFD after decoding).
fn check_encodings(msg: &mail_parser::Message<'_>, data: &[u8], out: &mut Vec<Malformed>) {
    let mut b64 = false;
    let mut qp = false;
    let mut cs = false;
    for part in msg.parts.iter().take(limits::MAX_MIME_PARTS) {
        let s = usize::try_from(part.offset_body).unwrap_or(0);
        let e = usize::try_from(part.offset_end).unwrap_or(0);
        let body = data.get(s..e).unwrap_or(&[]);
        let body = body.get(..body.len().min(1024 * 1024)).unwrap_or(body);
        match part.encoding {
            mail_parser::Encoding::Base64 if !b64 => {
                if let Some(p) = body.iter().position(|&c| {
                    !(c.is_ascii_alphanumeric()
                        || matches!(c, b'+' | b'/' | b'=' | b'\r' | b'\n' | b' ' | b'\t' | b'-'))
                }) {
                    b64 = true;
                    out.push(Malformed {
                        kind: MalformedKind::BadEncoding,
                        offset: u64::try_from(s + p).unwrap_or(u64::MAX),
                        detail: "base64 body with bytes outside the alphabet".into(),
                    });
                }
            }
            mail_parser::Encoding::QuotedPrintable if !qp => {
                let bad = memchr::memchr_iter(b'=', body).find(|&i| {
                    let a = body.get(i + 1).copied().unwrap_or(b'\n');
                    let b = body.get(i + 2).copied().unwrap_or(b'\n');
                    !(a == b'\n' || a == b'\r' || (a.is_ascii_hexdigit() && b.is_ascii_hexdigit()))
                });
                if let Some(p) = bad {
                    qp = true;
                    out.push(Malformed {
                        kind: MalformedKind::BadEncoding,
                        offset: u64::try_from(s + p).unwrap_or(u64::MAX),
                        detail: "quoted-printable with a bad escape".into(),
                    });
                }
            }
            _ => {}
        }
        if !cs
            && let PartType::Text(t) | PartType::Html(t) = &part.body
            && t.contains('\u{FFFD}')
        {
            cs = true;
            let charset = part
                .content_type()
                .and_then(|c| c.attribute("charset"))
                .unwrap_or("us-ascii");
            out.push(Malformed {
                kind: MalformedKind::BadCharset,
                offset: u64::try_from(s).unwrap_or(u64::MAX),
                detail: format!("text does not decode as {}", html::floor_str(charset, 40)),
            });
        }
    }
}

/// The offset of the first part nested deeper than `max`, walking iteratively.
fn too_deep(msg: &mail_parser::Message<'_>, max: usize) -> Option<u64> {
    let mut stack: Vec<(u32, usize)> = vec![(0, 0)];
    let mut steps = 0usize;
    while let Some((id, depth)) = stack.pop() {
        steps += 1;
        if steps > limits::MAX_MIME_PARTS * 4 {
            return None;
        }
        let part = msg.parts.get(usize::try_from(id).ok()?)?;
        if depth > max {
            return Some(u64::from(part.offset_header));
        }
        if let PartType::Multipart(children) = &part.body {
            for c in children.iter().take(limits::MAX_MIME_PARTS) {
                if *c != id {
                    stack.push((*c, depth + 1));
                }
            }
        }
    }
    None
}

fn first_addr(a: Option<&Address<'_>>) -> (Option<String>, Option<String>) {
    // An unquoted comma in a display name ("Microsoft account team ,_<x@y>") splits it
    // into several entries: take the first name and the first real address.
    let Some(a) = a else { return (None, None) };
    let mut name = None;
    let mut addr = None;
    for x in a.iter().take(20) {
        if name.is_none() {
            name = x
                .name
                .as_deref()
                .map(|n| html::floor_str(n.trim(), 512).to_string())
                .filter(|n| !n.is_empty());
        }
        if addr.is_none() {
            addr = x
                .address
                .as_deref()
                .map(|a| html::floor_str(a.trim(), 512).to_string())
                .filter(|a| a.contains('@'));
        }
    }
    if addr.is_none() {
        addr = a
            .first()
            .and_then(|x| x.address.as_deref())
            .map(|a| html::floor_str(a.trim(), 512).to_string())
            .filter(|a| !a.is_empty());
    }
    (name, addr)
}

/// How many entries the From header holds (more than one is forged or broken).
fn from_entries(a: Option<&Address<'_>>) -> usize {
    a.map_or(0, |a| a.iter().take(20).count())
}

fn longest_digit_run(s: &str) -> usize {
    let mut best = 0;
    let mut cur = 0;
    for c in s.chars() {
        if c.is_ascii_digit() {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

/// Does the subject alone carry credential or delivery wording?
fn lure_hits_early(m: &lure::LureMatcher, subject: &str) -> bool {
    let h = m.scan(subject, "");
    h.first().is_some_and(|x| x.count > 0) || h.get(2).is_some_and(|x| x.count > 0)
}

/// The domain of `local@domain` (trailing `>` and spaces removed).
fn addr_domain(a: &str) -> Option<&str> {
    let d = a.rsplit_once('@')?.1.trim().trim_end_matches('>').trim();
    (!d.is_empty()).then_some(d)
}

/// An email address written inside a display name.
fn embedded_address(name: &str) -> Option<String> {
    let at = name.find('@')?;
    let start = name
        .get(..at)?
        .rfind(|c: char| c.is_whitespace() || matches!(c, '<' | '(' | '"' | '\''))
        .map_or(0, |p| p + 1);
    let end = name
        .get(at..)?
        .find(|c: char| c.is_whitespace() || matches!(c, '>' | ')' | '"' | '\'' | ','))
        .map_or(name.len(), |p| at + p);
    let a = name.get(start..end)?;
    (a.len() > 3 && addr_domain(a).is_some_and(|d| d.contains('.'))).then(|| a.to_string())
}

/// A word that mixes Latin with Cyrillic/Greek/Armenian letters, or uses mathematical
/// alphanumeric symbols (𝐏𝐚𝐲𝐏𝐚𝐥) — text dressed to evade filters.
fn confusable_word(text: &str) -> Option<String> {
    for w in text.split_whitespace().take(200) {
        let mut latin = false;
        let mut other = false;
        let mut hidden = false;
        for c in w.chars() {
            match c as u32 {
                0x41..=0x5a | 0x61..=0x7a => latin = true,
                // Letters of other scripts: confusable with Latin when their skeleton is ASCII.
                0x370..=0x3ff | 0x400..=0x4ff | 0x530..=0x58f | 0x1d400..=0x1d7ff => other = true,
                // Invisible or overlay characters inside a word: filter evasion.
                0x200b..=0x200d | 0x2060 | 0xad | 0x0334..=0x0338 | 0xe0000..=0xe0fff => {
                    hidden = true
                }
                n if n > 0x24f && c.is_alphabetic() => {
                    let mut buf = [0u8; 4];
                    let sk: String = unicode_security::skeleton(c.encode_utf8(&mut buf)).collect();
                    if !sk.is_empty() && sk.chars().all(|k| k.is_ascii_alphanumeric()) {
                        other = true;
                    }
                }
                _ => {}
            }
        }
        if (latin && (other || hidden)) || w.chars().any(|c| matches!(c as u32, 0x1d400..=0x1d7ff))
        {
            return Some(html::floor_str(w, 60).to_string());
        }
    }
    None
}

/// A local part made of random-looking tokens: a segment mixing cases with two or
/// more capitals after its first letter (`qsJec`, `YeBfmEC`), as generated senders are.
fn random_local_part(addr: &str) -> bool {
    let local = addr.split('@').next().unwrap_or("");
    // Bounce (VERP) addresses carry digits and symbols by design; generated senders are letters.
    if !local.chars().all(|c| c.is_ascii_alphabetic() || c == '.') {
        return false;
    }
    local.split(|c: char| !c.is_ascii_alphabetic()).any(|seg| {
        seg.len() >= 4
            && seg.chars().any(|c| c.is_ascii_lowercase())
            && seg
                .chars()
                .skip(1)
                .filter(|c| c.is_ascii_uppercase())
                .count()
                >= 2
    })
}

/// A display name padded with punctuation runs or control characters (`"""-Paid~"""`,
/// `Offer!." .IHUZJ`), a trick to defeat name matching.
fn junk_display_name(name: &str) -> bool {
    let mut run = 0;
    for c in name.chars() {
        if c.is_control() {
            return true;
        }
        if c.is_ascii_punctuation() && c != '&' && c != '(' && c != ')' && c != '\'' {
            run += 1;
            if run >= 3 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// Freemail providers: anyone can open an address there.
const FREEMAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "aol.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.ru",
    "yandex.ru",
    "icloud.com",
    "proton.me",
    "protonmail.com",
    "zoho.com",
    "yahoo.co.jp",
    "hotmail.fr",
    "outlook.fr",
    "uol.com.br",
    "bol.com.br",
    "terra.com.br",
];

/// Free hosting: the list above, or a private PSL suffix named like a hosting platform
/// (personal and dynamic-DNS suffixes such as `priv.at` or `dyndns.org` are not).
fn is_free_hosting(d: &DomainInfo) -> bool {
    const HOSTING_WORDS: &[&str] = &[
        "app", "dev", "page", "site", "host", "cloud", "web", "storage", "ipfs", "blob", "s3",
    ];
    is_listed(d, FREE_HOSTING)
        || (d.private_suffix
            && d.suffix
                .split(['.', '-'])
                .any(|w| HOSTING_WORDS.iter().any(|h| w.contains(h))))
}

fn is_listed(d: &DomainInfo, list: &[&str]) -> bool {
    list.iter().any(|l| {
        d.name == *l
            || d.name
                .strip_suffix(l)
                .is_some_and(|rest| rest.ends_with('.'))
    })
}

impl DomainInfo {
    fn suffix_or_list(&self, list: &[&str]) -> String {
        list.iter()
            .find(|l| self.name == **l || self.name.ends_with(&format!(".{l}")))
            .map_or_else(|| self.suffix.clone(), |l| (*l).to_string())
    }
}

/// Collects reasons and turns them into a verdict.
struct Scorer<'p> {
    policy: &'p MailPolicy,
    reasons: Vec<Reason>,
}

/// Most reasons kept per message (each id fires once; this only bounds evidence growth).
const MAX_EVIDENCE: usize = 600;

impl<'p> Scorer<'p> {
    fn new(policy: &'p MailPolicy) -> Self {
        Self {
            policy,
            reasons: Vec::new(),
        }
    }

    fn add(&mut self, id: &'static str, evidence: String) {
        self.add_scaled(id, 1.0, evidence);
    }

    fn add_scaled(&mut self, id: &'static str, scale: f64, evidence: String) {
        if self.reasons.iter().any(|r| r.id == id) {
            self.append_evidence(id, &evidence);
            return;
        }
        let category = SIGNALS
            .iter()
            .find(|s| s.id == id)
            .map_or(Category::Malformed, |s| s.category);
        let weight = self.policy.weights.get(id) * scale;
        self.reasons.push(Reason {
            id,
            category,
            weight,
            evidence: html::floor_str(&evidence, MAX_EVIDENCE).to_string(),
        });
    }

    fn add_once(&mut self, id: &'static str, evidence: String) {
        self.add(id, evidence);
    }

    fn append_evidence(&mut self, id: &'static str, ev: &str) {
        if let Some(r) = self.reasons.iter_mut().find(|r| r.id == id)
            && r.evidence.len() < MAX_EVIDENCE
            && !r.evidence.contains(ev)
        {
            r.evidence.push_str("; ");
            let room = MAX_EVIDENCE.saturating_sub(r.evidence.len());
            r.evidence.push_str(html::floor_str(ev, room));
        }
    }

    fn finish(mut self, malformed: Vec<Malformed>, subject: String, from: String) -> Verdict {
        if !malformed.is_empty() {
            let kinds: Vec<String> = malformed
                .iter()
                .map(|m| format!("{} at byte {}", m.kind.as_str(), m.offset))
                .collect();
            self.add("malformed", kinds.join(", "));
        }
        // Header mismatches alone are how mailing lists and forwarders look: they only
        // count when a signal of another kind fired too.
        let partnered = self.reasons.iter().any(|r| {
            !matches!(r.category, Category::Headers | Category::Malformed) && r.weight > 0.0
        });
        if !partnered {
            for r in self
                .reasons
                .iter_mut()
                .filter(|r| r.category == Category::Headers)
            {
                r.weight = 0.0;
                r.evidence.push_str(" (alone: not scored)");
            }
        }
        self.reasons
            .retain(|r| r.weight > 0.0 || r.category == Category::Headers);
        self.reasons
            .sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.id.cmp(b.id)));
        let score = (self.reasons.iter().map(|r| r.weight).sum::<f64>() * 100.0).round() / 100.0;
        let t = self.policy.thresholds;
        let level = if score >= t.malicious {
            Level::Malicious
        } else if score >= t.suspicious {
            Level::Suspicious
        } else {
            Level::Clean
        };
        Verdict {
            level,
            score,
            reasons: self.reasons,
            malformed,
            subject: html::floor_str(&subject, 1024).to_string(),
            from,
        }
    }
}
