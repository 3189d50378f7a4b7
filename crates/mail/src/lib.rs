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
pub mod dkim;
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
    /// DKIM signatures verified against the supplied keys (empty without keys).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dkim: Vec<dkim::DkimCheck>,
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
    if let Some(keys) = &policy.dkim_keys {
        // The top Received header is when the message arrived here; x= is judged then.
        let received_at = received_dates
            .first()
            .copied()
            .or_else(|| msg.date().map(|d| d.to_timestamp()));
        sc.dkim = if matches!(data, std::borrow::Cow::Borrowed(_)) {
            dkim::verify(data.as_ref(), keys, received_at)
        } else {
            // A message cut by the limits no longer has the bytes that were signed.
            Vec::new()
        };
        let failed: Vec<String> = sc
            .dkim
            .iter()
            .filter(|c| c.status == dkim::DkimStatus::Fail)
            .map(dkim::DkimCheck::describe)
            .collect();
        if !failed.is_empty() {
            sc.add("auth-dkim-verify-fail", failed.join("; "));
        }
    }

    // --- the sender domain itself
    let org_owned = |d: &DomainInfo| policy.org_domains.iter().any(|o| o.same_org(d));
    if let Some(fd) = &from_dom {
        if !fd.known_suffix || !fd.name.contains('.') {
            sc.add(
                "imp-sender-domain-invalid",
                format!("From domain {} has no public suffix", fd.name),
            );
        } else if let Some(c) = invalid_host_char(&fd.name) {
            sc.add(
                "imp-sender-domain-invalid",
                format!("From domain {} contains {c:?}, not a host name", fd.name),
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
        } else if org_owned(fd)
            && let Some(keys) = &policy.dkim_keys
            && keys.covers(&fd.registrable)
            && !sc.dkim.iter().any(|c| {
                c.status == dkim::DkimStatus::Pass
                    && DomainInfo::new(&c.domain).is_some_and(|d| d.same_org(fd))
            })
        {
            // The user supplied the organisation's keys: its mail is signed, so a message
            // in its name without a valid signature of it did not come from it (DMARC's
            // relaxed alignment, judged offline).
            let seen: Vec<String> = sc.dkim.iter().map(dkim::DkimCheck::describe).collect();
            sc.add(
                "imp-org-domain-spoofed",
                format!(
                    "From {} uses the organisation's domain but carries no valid DKIM signature of {}{}",
                    fd.name,
                    fd.registrable,
                    if seen.is_empty() {
                        " (unsigned)".to_string()
                    } else {
                        format!(" ({})", seen.join("; "))
                    }
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
    // Attachments other than pictures (inline logos and signatures are images).
    let mut doc_attachments = 0usize;
    // Attachment names are read like the subject: "Your_balance_of_27821$_will_be_blocked.pdf".
    let mut att_names = String::new();
    for part in msg.attachments().take(policy.limits.max_attachments) {
        attachment_count += 1;
        if !part
            .content_type()
            .is_some_and(|c| c.ctype().eq_ignore_ascii_case("image"))
        {
            doc_attachments += 1;
        }
        let name = part.attachment_name().unwrap_or("").to_string();
        if att_names.len() < MAX_ATTACHMENT_NAME_TEXT {
            att_names.push(' ');
            att_names.extend(
                html::floor_str(&name, 200)
                    .replace("%24", "$")
                    .chars()
                    .map(|c| if matches!(c, '_' | '-') { ' ' } else { c }),
            );
        }
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
                    facts.tag_soup |= af.tag_soup;
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
        if let Some(c) = hidden_host_char(host) {
            sc.add_once(
                "link-obfuscated-html",
                format!(
                    "link host holds {c:?}: {}",
                    html::floor_str(&link.href, 120)
                ),
            );
            continue;
        }
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
    if facts.tag_soup {
        sc.add(
            "link-obfuscated-html",
            format!(
                "tag soup: more than {} <!DOCTYPE> in one body",
                html::MAX_DOCTYPES
            ),
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
    if let (Some(name), Some(fd)) = (&from_name, &from_dom)
        && embedded_address(name).is_none()
        && let Some(shown) = display_name_domain(name)
        && !shown.same_org(fd)
        && shown.label != fd.label
    {
        sc.add(
            "imp-display-name-domain",
            format!(
                "display name shows {}, real sender domain {}",
                shown.name, fd.registrable
            ),
        );
    }
    let entries = from_entries(msg.from());
    let digits = from_name.as_deref().map_or(0, longest_digit_run);
    let junk = from_name.as_deref().is_some_and(junk_display_name);
    if entries > 1 {
        sc.add(
            "imp-from-several",
            format!(
                "From has {entries} entries; display name \"{}\"",
                html::floor_str(from_name.as_deref().unwrap_or(""), 80)
            ),
        );
    }
    if digits >= 6 || junk {
        sc.add(
            "imp-display-name-odd",
            format!(
                "display name \"{}\"",
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
    // The display name and attachment names are read with the subject (they are what
    // the reader sees before opening anything).
    let headline = format!(
        "{subject} \u{2029} {} \u{2029}{att_names}",
        from_name.as_deref().unwrap_or("")
    );
    let lure_hits = policy
        .lures
        .scan(&headline, html::floor_str(&facts.text, 16 * 1024));
    if let Some(amount) = money_amount(&headline) {
        sc.add(
            "lure-money-subject",
            format!("amount {amount} in the subject, sender or attachment name"),
        );
    }
    if let Some(addr) = address_greeting(html::floor_str(&facts.text, 16 * 1024)) {
        sc.add(
            "lure-address-greeting",
            format!("the body greets the reader as {addr}"),
        );
    } else if let Some(addr) = address_opening(&subject) {
        sc.add(
            "lure-address-greeting",
            format!("the subject addresses the reader as {addr}"),
        );
    }
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

    let from_freemail = from_dom.as_ref().is_some_and(|d| is_listed(d, FREEMAIL));
    let words = facts.text.split_whitespace().take(BARE_BODY_WORDS).count();
    if from_freemail && doc_attachments > 0 && words < BARE_BODY_WORDS {
        sc.add(
            "att-freemail-bare",
            format!(
                "{doc_attachments} attachment(s) from {} with {words} words of text",
                from_addr.as_deref().unwrap_or("")
            ),
        );
    }
    if from_freemail {
        let body = html::floor_str(&facts.text, 16 * 1024);
        let lower = body.to_lowercase();
        if let Some(word) = CALLBACK_WORDS
            .iter()
            .find(|w| brands::contains_word(&lower, w))
            && let Some(phone) = phone_number(body)
        {
            sc.add(
                "lure-callback",
                format!("\"{word}\" with a number to call: {phone}"),
            );
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
    // The provider's own domain only: `groups.msn.com` is a mailing list, not a mailbox.
    let reply_freemail = reply_dom
        .as_ref()
        .is_some_and(|r| FREEMAIL.contains(&r.name.as_str()))
        && match (&reply_addr, &from_addr) {
            (Some(r), Some(f)) => !r.eq_ignore_ascii_case(f),
            (Some(_), None) => true,
            _ => false,
        };
    if reply_freemail {
        sc.add(
            "hdr-reply-to-freemail",
            format!(
                "From {} but Reply-To {}",
                from_addr.as_deref().unwrap_or("(none)"),
                reply_addr.as_deref().unwrap_or("")
            ),
        );
    } else if reply_outside && let (Some(r), Some(f)) = (&reply_dom, &from_dom) {
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
    let envelope_dom = envelope
        .as_deref()
        .and_then(|e| addr_domain(e).or(Some(e)))
        .and_then(DomainInfo::new);
    for (role, d) in [
        ("From", from_dom.as_ref()),
        ("envelope", envelope_dom.as_ref()),
    ] {
        if let Some(d) = d
            && let Some(tld) = abused_suffix(d)
        {
            sc.add_once(
                "imp-sender-abused-tld",
                format!("{role} domain {} is under {tld}", d.name),
            );
        }
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

/// Most bytes of attachment names read with the subject.
const MAX_ATTACHMENT_NAME_TEXT: usize = 1024;

/// A character that cannot appear in a host name (`%`, `'`, `!`, ...): the From domain was
/// written to display, not to receive mail.
fn invalid_host_char(name: &str) -> Option<char> {
    name.chars()
        .find(|&c| !(c.is_alphanumeric() || matches!(c, '-' | '.' | '_')))
}

/// A control or invisible formatting character in a link's host: it cannot resolve as
/// written, so it is there to break filters (some clients drop it and follow the rest).
fn hidden_host_char(host: &str) -> Option<char> {
    host.chars().find(|&c| {
        c.is_control() || matches!(c as u32, 0xad | 0x200b..=0x200f | 0x2060..=0x2064 | 0xfeff)
    })
}

/// A domain name written in a display name (`"Tether.to" <x@elsewhere.example>`): a token
/// with a dot whose last label is a known public suffix.
/// Only the name's first word counts: "CNET News.com Investor" is a publication's name,
/// "Tether.to" or "proton.me support" presents itself as the site.
fn display_name_domain(name: &str) -> Option<DomainInfo> {
    let first = name
        .split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '-'))
        .find(|t| !t.is_empty())?;
    let d = html::text_host(first).and_then(|h| DomainInfo::new(&h))?;
    // "R.Hughes" is an initial and a surname (`.hughes` is a TLD).
    (d.known_suffix && d.label.chars().count() >= 3).then_some(d)
}

/// TLDs and registry subdomain services with the highest phishing and spam abuse rates in
/// the Spamhaus and Interisle reports (cheap or free registrations, little checking).
const ABUSED_SUFFIXES: &[&str] = &[
    "xyz", "top", "click", "beauty", "best", "icu", "cfd", "sbs", "buzz", "rest", "bond", "quest",
    "lol", "mom", "monster", "cyou", "skin", "hair", "makeup", "autos", "boats", "yachts", "homes",
    "tk", "ml", "ga", "cf", "gq", "work", "fit", "surf", "zip", "mov", "sa.com", "eu.org",
];

/// The abused suffix a domain is under, if any.
fn abused_suffix(d: &DomainInfo) -> Option<&'static str> {
    let tld = d.suffix.rsplit('.').next().unwrap_or("");
    ABUSED_SUFFIXES
        .iter()
        .find(|s| d.suffix == **s || (!s.contains('.') && tld == **s))
        .copied()
}

/// Currency markers that make a number a money amount (lowercase).
const CURRENCY_WORDS: &[&str] = &["usd", "eur", "btc", "usdt", "usdc", "eth", "r$", "us$"];

/// A money amount in `text`: a currency sign or code next to a number (`$3,500`,
/// `250€`, `1.3426 BTC`, `R$ 119,35`). Returns the amount as written.
fn money_amount(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let toks: Vec<&str> = lower.split_whitespace().take(300).collect();
    let has_digit = |t: &str| t.chars().any(|c| c.is_ascii_digit());
    let is_amount = |t: &str| {
        let t = t.trim_matches(|c: char| !(c.is_alphanumeric() || "$€£+".contains(c)));
        let t = t.trim_start_matches('+');
        t.chars().next().is_some_and(|c| c.is_ascii_digit())
            && t.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | 'k' | 'm'))
    };
    for (i, t) in toks.iter().enumerate() {
        // A sign glued to digits: "$3,500", "+26637$", "€4,000,000", "usd$87m".
        if t.contains(['$', '€', '£']) && has_digit(t) {
            let lead = t.trim_start_matches(|c: char| !(c.is_alphanumeric() || "$€£+".contains(c)));
            // A code written before the sign: "usd$87m", "us$500", "r$1449,99".
            let lead = ["usd", "us", "r"]
                .iter()
                .find_map(|p| {
                    lead.strip_prefix(p)
                        .filter(|r| r.starts_with(['$', '€', '£']))
                })
                .unwrap_or(lead);
            let bare = lead.replace(['$', '€', '£'], "");
            if is_amount(&bare) {
                return Some(html::floor_str(t, 40).to_string());
            }
        }
        // A currency code or a lone sign next to a number: "1.3426 BTC", "$ 500".
        let word = t.trim_matches(|c: char| !(c.is_alphanumeric() || "$€£".contains(c)));
        let code = CURRENCY_WORDS.contains(&word) || matches!(word, "$" | "€" | "£");
        if code {
            let prev = i.checked_sub(1).and_then(|j| toks.get(j));
            let next = toks.get(i + 1);
            if let Some(n) = prev
                .filter(|p| is_amount(p))
                .or(next.filter(|n| is_amount(n)))
            {
                return Some(html::floor_str(&format!("{n} {word}"), 40).to_string());
            }
        }
    }
    None
}

/// Fewer words of text than this around an attachment make a bare attachment.
const BARE_BODY_WORDS: usize = 15;

/// Wording of the invoice, renewal or order notices that ask the reader to call.
const CALLBACK_WORDS: &[&str] = &[
    "invoice",
    "receipt",
    "subscription",
    "renewal",
    "renewed",
    "your order",
    "order confirmed",
    "purchase",
    "charged",
    "refund",
    "cancel",
    // The same in the other languages the lure tables cover.
    "compra",
    "fatura",
    "assinatura",
    "renovação",
    "cobrança",
    "reembolso",
    "factura",
    "suscripción",
    "rechnung",
    "abonnement",
    "bestellung",
    "commande",
    "remboursement",
    "bestelling",
];

/// A phone number as callback lures print it: 10 to 13 digits in 3 to 5 groups split by
/// spaces, dashes, dots or parentheses, the last group 3 or 4 digits long
/// (`(856)633-1822`, `+1 (844) 679-5541`, `1 808 303 2915`). Dates and times fail the
/// last-group test (`2023.12.21 06:57`).
fn phone_number(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut i = 0usize;
    while i < b.len() {
        let start_ok = b
            .get(i)
            .is_some_and(|&c| c.is_ascii_digit() || c == b'+' || c == b'(')
            && i.checked_sub(1)
                .and_then(|p| b.get(p))
                .is_none_or(|c| !c.is_ascii_alphanumeric());
        if !start_ok {
            i += 1;
            continue;
        }
        let (mut digits, mut groups, mut last, mut j) = (0usize, 0usize, 0usize, i);
        let mut end = i;
        while let Some(&c) = b.get(j) {
            if j - i > 24 {
                break;
            }
            if c.is_ascii_digit() {
                if b.get(j.wrapping_sub(1)).is_none_or(|p| !p.is_ascii_digit()) || j == i {
                    groups += 1;
                    last = 0;
                }
                digits += 1;
                last += 1;
                end = j + 1;
            } else if !matches!(c, b' ' | b'-' | b'.' | b'(' | b')' | b'+') {
                break;
            }
            j += 1;
        }
        let after_ok = b.get(end).is_none_or(|c| !c.is_ascii_alphanumeric());
        if (10..=13).contains(&digits)
            && (3..=5).contains(&groups)
            && (3..=4).contains(&last)
            && after_ok
        {
            return text.get(i..end).map(str::to_string);
        }
        i = j.max(i + 1);
    }
    None
}

/// Greeting words after which a name is expected.
const GREETINGS: &[&str] = &[
    "dear", "hi", "hello", "hallo", "hey", "olá", "ola", "oi", "prezado", "prezada", "caro",
    "cara", "bonjour", "beste", "geachte", "estimado", "estimada", "hola", "liebe", "lieber",
    "ciao", "sr(a)", "geehrte", "geehrter",
];

/// The body greets the reader with an email address where a name belongs
/// ("Hallo bob@example.com,"): the sender knows the address, not the person.
fn address_greeting(text: &str) -> Option<String> {
    let toks: Vec<&str> = text.split_whitespace().take(4000).collect();
    for (i, t) in toks.iter().enumerate() {
        // "Hi." ends a sentence ("Hi. Bob <bob@x> wrote:"); a greeting runs on.
        let w = t.trim_end_matches([',', ':', '!']);
        if !GREETINGS.iter().any(|g| g.eq_ignore_ascii_case(w)) {
            continue;
        }
        for next in toks.iter().skip(i + 1).take(2) {
            // `<bob@x>` is a quoted header, not a name.
            if next.starts_with('<') {
                break;
            }
            let a = next.trim_matches(|c: char| {
                !(c.is_alphanumeric() || matches!(c, '@' | '.' | '-' | '_' | '+'))
            });
            if let Some((local, dom)) = a.split_once('@')
                && !local.is_empty()
                && dom.chars().any(char::is_alphabetic)
            {
                return Some(html::floor_str(a, 80).to_string());
            }
        }
    }
    None
}

/// A subject that opens by addressing an email address ("bob@example.com, your offer"),
/// the subject-line form of [`address_greeting`].
fn address_opening(subject: &str) -> Option<String> {
    let first = subject.split_whitespace().next()?;
    let addr = first.strip_suffix([',', ':'])?;
    let (local, dom) = addr.split_once('@')?;
    (!local.is_empty() && dom.chars().any(char::is_alphabetic))
        .then(|| html::floor_str(addr, 80).to_string())
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
                // Scripts never written inside a Latin word whose letters look Latin (Cherokee,
                // Canadian syllabics, Tai Le, Lisu, IPA, phonetic small capitals, fullwidth):
                // `bᥣoᥴkᥱd` reads "blocked" to a person and to no filter.
                0x250..=0x2af
                | 0x13a0..=0x13ff
                | 0x1400..=0x167f
                | 0x1950..=0x197f
                | 0x1d00..=0x1d7f
                | 0xa4d0..=0xa4ff
                | 0xff21..=0xff5a => other = true,
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
    "mail.com",
    "msn.com",
    "ymail.com",
    "rocketmail.com",
    "yahoo.co.uk",
    "yahoo.com.br",
    "yahoo.fr",
    "hotmail.co.uk",
    "hotmail.com.br",
    "outlook.com.br",
    "gmx.com",
    "yandex.com",
    "inbox.ru",
    "rediffmail.com",
    "qq.com",
    "163.com",
    "126.com",
    "naver.com",
    "libero.it",
    "tutanota.com",
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
    dkim: Vec<dkim::DkimCheck>,
}

/// Most reasons kept per message (each id fires once; this only bounds evidence growth).
const MAX_EVIDENCE: usize = 600;

impl<'p> Scorer<'p> {
    fn new(policy: &'p MailPolicy) -> Self {
        Self {
            policy,
            reasons: Vec::new(),
            dkim: Vec::new(),
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
            dkim: self.dkim,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eml(headers: &str, body: &str) -> Vec<u8> {
        format!("{headers}\r\nTo: reader@example.org\r\n\r\n{body}\r\n").into_bytes()
    }

    fn ids(v: &Verdict) -> Vec<&'static str> {
        v.reasons
            .iter()
            .filter(|r| r.weight > 0.0)
            .map(|r| r.id)
            .collect()
    }

    fn fired(headers: &str, body: &str) -> Vec<&'static str> {
        ids(&scan(&eml(headers, body), &MailPolicy::default()))
    }

    #[test]
    fn sender_domain_with_non_host_characters_is_invalid() {
        let hit = fired(
            "From: Pedido <taxas@%pedidos.com>\r\nSubject: Pedido",
            "Seu pedido",
        );
        assert!(hit.contains(&"imp-sender-domain-invalid"), "{hit:?}");
        let ok = fired("From: Pedido <taxas@pedidos.com>\r\nSubject: Pedido", "x");
        assert!(!ok.contains(&"imp-sender-domain-invalid"), "{ok:?}");
        assert_eq!(invalid_host_char("a'b.example.com"), Some('\''));
        assert_eq!(invalid_host_char("mail_1.example-x.com"), None);
    }

    #[test]
    fn several_from_entries_fire_on_their_own_id() {
        let hit = fired(
            "From: \"Prize Team\", promo <promo@shop.example.com>\r\nSubject: Hello",
            "Hello",
        );
        assert!(hit.contains(&"imp-from-several"), "{hit:?}");
        assert!(!hit.contains(&"imp-display-name-odd"), "{hit:?}");
        let one = fired("From: Promo <promo@shop.example.com>\r\nSubject: Hi", "Hi");
        assert!(!one.contains(&"imp-from-several"), "{one:?}");
    }

    #[test]
    fn display_name_that_is_another_domain() {
        let hit = fired(
            "From: \"Tether.to\" <support@helpdesk.example.com>\r\nSubject: Hi",
            "Hi",
        );
        assert!(hit.contains(&"imp-display-name-domain"), "{hit:?}");
        for from in [
            "\"CNET News.com Investor\" <news@online.com>",
            "\"Craig R.Hughes\" <craig@deersoft.com>",
            "\"Example.com\" <news@mail.example.com>",
        ] {
            let v = fired(&format!("From: {from}\r\nSubject: Hi"), "Hi");
            assert!(!v.contains(&"imp-display-name-domain"), "{from}: {v:?}");
        }
    }

    #[test]
    fn abused_suffixes_of_sender_and_envelope() {
        let hit = fired("From: Offer <a@deals.xyz>\r\nSubject: Hi", "Hi");
        assert!(hit.contains(&"imp-sender-abused-tld"), "{hit:?}");
        let env = fired(
            "Return-Path: <b@x.offers.sa.com>\r\nFrom: Offer <a@shop.example.com>\r\nSubject: Hi",
            "Hi",
        );
        assert!(env.contains(&"imp-sender-abused-tld"), "{env:?}");
        let ok = fired("From: Offer <a@deals.com>\r\nSubject: Hi", "Hi");
        assert!(!ok.contains(&"imp-sender-abused-tld"), "{ok:?}");
    }

    #[test]
    fn money_amounts_in_subject_like_text() {
        for (text, want) in [
            ("Can you handle USD$87M?", "usd$87m?"),
            ("Score released: +$276 date", "+$276"),
            ("Your balance: 1.3426 BTC", "1.3426 btc"),
            ("My Donation €4,000,000,", "€4,000,000,"),
            ("Compra de R$1449,99", "r$1449,99"),
            ("Gewinnen Sie 250€ jetzt", "250€"),
        ] {
            assert_eq!(money_amount(text).as_deref(), Some(want), "{text}");
        }
        for text in [
            "$B0KEl!!?N(B",
            "Re: bug 1234 in usd parser",
            "US$ rates",
            "$PATH",
        ] {
            assert_eq!(money_amount(text), None, "{text}");
        }
        let hit = fired(
            "From: Support <s@mining.example.com>\r\nSubject: Your balance: 1.3426 BTC",
            "Hello",
        );
        assert!(hit.contains(&"lure-money-subject"), "{hit:?}");
    }

    #[test]
    fn attachment_names_are_read_with_the_subject() {
        let raw = "From: Laura <l@example.com>\r\nTo: r@example.org\r\nSubject: Hi\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
Content-Type: text/plain\r\n\r\nSee the file.\r\n--b\r\nContent-Type: application/pdf\r\n\
Content-Disposition: attachment; filename=\"Your_balance_of_27821%24_will_be_blocked.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n";
        let v = scan(raw.as_bytes(), &MailPolicy::default());
        assert!(ids(&v).contains(&"lure-money-subject"), "{:?}", v.reasons);
    }

    #[test]
    fn greeting_by_address() {
        let hit = fired(
            "From: Team <t@shop.example.com>\r\nSubject: News",
            "Hallo reader@example.org, Sie haben gewonnen.",
        );
        assert!(hit.contains(&"lure-address-greeting"), "{hit:?}");
        let caro = address_greeting("Caro (a) reader@example.org, voce possui valores");
        assert_eq!(caro.as_deref(), Some("reader@example.org"));
        // A reply that quotes its parent is not a greeting.
        assert_eq!(
            address_greeting("Hi.\n\nBob Smith <bob@example.org> wrote:"),
            None
        );
        assert_eq!(address_greeting("Hi Bob, mail bob@example.org"), None);
        let subj = fired(
            "From: Team <t@shop.example.com>\r\nSubject: reader@example.org, your windows quote",
            "Body",
        );
        assert!(subj.contains(&"lure-address-greeting"), "{subj:?}");
    }

    #[test]
    fn freemail_reply_to_counts_only_in_combination_and_replaces_mismatch() {
        let alone = scan(
            &eml(
                "From: Dr X <x@uni.example.edu>\r\nReply-To: x.private@gmail.com\r\nSubject: Hello",
                "Please reply.",
            ),
            &MailPolicy::default(),
        );
        assert_eq!(alone.level, Level::Clean, "{:?}", alone.reasons);
        let r = alone
            .reasons
            .iter()
            .find(|r| r.id == "hdr-reply-to-freemail")
            .expect("fires, unweighted");
        assert_eq!(r.weight, 0.0);
        assert!(
            !alone
                .reasons
                .iter()
                .any(|r| r.id == "hdr-reply-to-mismatch")
        );
        let with = fired(
            "From: Dr X <x@uni.example.edu>\r\nReply-To: x.private@gmail.com\r\nSubject: Can you handle USD$87M?",
            "Please reply.",
        );
        assert!(with.contains(&"hdr-reply-to-freemail"), "{with:?}");
        // The same mailbox is no mismatch.
        let same = scan(
            &eml(
                "From: <x@gmail.com>\r\nReply-To: x@gmail.com\r\nSubject: Hi",
                "Hi",
            ),
            &MailPolicy::default(),
        );
        assert!(!same.reasons.iter().any(|r| r.id == "hdr-reply-to-freemail"));
    }

    #[test]
    fn obfuscated_html_links_and_tag_soup() {
        let ctl = fired(
            "From: A <a@shop.example.com>\r\nSubject: Hi\r\nContent-Type: text/html",
            "<a href=\"http://ex&#159;ample.com/x\">open</a>",
        );
        assert!(ctl.contains(&"link-obfuscated-html"), "{ctl:?}");
        let soup = fired(
            "From: A <a@shop.example.com>\r\nSubject: Hi\r\nContent-Type: text/html",
            "<!DOCTYPE><!DOCTYPE><!DOCTYPE><a href=\"http://example.com/\">x</a>",
        );
        assert!(soup.contains(&"link-obfuscated-html"), "{soup:?}");
        // A URL cut out of plain text with its trailing comma is not obfuscation.
        let text = fired(
            "From: A <a@shop.example.com>\r\nSubject: Hi",
            "see http://www.example.com, thanks",
        );
        assert!(!text.contains(&"link-obfuscated-html"), "{text:?}");
    }

    #[test]
    fn phone_numbers_as_callback_lures_print_them() {
        for (text, want) in [
            ("call us at (856)633-1822 today", "(856)633-1822"),
            ("Support: +1 (844) 679-5541.", "+1 (844) 679-5541"),
            ("ring 1 808 303 2915", "1 808 303 2915"),
        ] {
            assert_eq!(phone_number(text).as_deref(), Some(want), "{text}");
        }
        for text in [
            "date 2023.12.21 time 06:57",
            "order 813704788758188",
            "receipt #390-66-709",
            "version 1.2.3.4",
        ] {
            assert_eq!(phone_number(text), None, "{text}");
        }
    }

    #[test]
    fn callback_lure_needs_freemail_wording_and_number() {
        let body = "Your subscription was renewed. To cancel call (856)633-1822.";
        let hit = fired(
            "From: Billing <billing.desk@gmail.com>\r\nSubject: Order",
            body,
        );
        assert!(hit.contains(&"lure-callback"), "{hit:?}");
        let corp = fired(
            "From: Billing <billing@shop.example.com>\r\nSubject: Order",
            body,
        );
        assert!(!corp.contains(&"lure-callback"), "{corp:?}");
        let no_number = fired(
            "From: Billing <billing.desk@gmail.com>\r\nSubject: Order",
            "Your subscription was renewed.",
        );
        assert!(!no_number.contains(&"lure-callback"), "{no_number:?}");
    }

    #[test]
    fn bare_attachment_from_freemail() {
        let raw = |from: &str, text: &str| {
            format!(
                "From: {from}\r\nTo: r@example.org\r\nSubject: Hi\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
{text}\r\n--b\r\nContent-Type: application/pdf\r\n\
Content-Disposition: attachment; filename=\"doc.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n"
            )
        };
        let p = MailPolicy::default();
        let bare = scan(raw("<someone@gmail.com>", "See it.").as_bytes(), &p);
        let r = bare
            .reasons
            .iter()
            .find(|r| r.id == "att-freemail-bare")
            .expect("fires");
        assert!(r.weight > 0.0);
        let long = "Here is the report we discussed on Monday, with the figures for the \
second quarter and the notes from the meeting.";
        let wordy = scan(raw("<someone@gmail.com>", long).as_bytes(), &p);
        assert!(!wordy.reasons.iter().any(|r| r.id == "att-freemail-bare"));
        let corp = scan(raw("<someone@example.com>", "See it.").as_bytes(), &p);
        assert!(!corp.reasons.iter().any(|r| r.id == "att-freemail-bare"));
    }

    #[test]
    fn latin_lookalikes_from_other_scripts() {
        assert!(confusable_word("We've b\u{1963}o\u{1974}k\u{1971}d your account").is_some());
        assert!(confusable_word("Caf\u{e9} r\u{e9}sum\u{e9} \u{e4}rger").is_none());
    }
}
