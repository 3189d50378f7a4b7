//! Weights, thresholds and the organisation's names: everything a scan is judged against.
//!
//! Parsed once into [`MailPolicy`] and passed explicitly; no globals. The optional weights
//! file is TOML with unknown keys refused, and its errors name the line.

use crate::domain::{self, DomainInfo};
use serde::Deserialize;
use std::fmt;

macro_rules! signals {
    ($( $(#[doc = $doc:literal])* $field:ident = $default:expr, $id:literal, $cat:ident; )*) => {
        /// The weight of every signal. A weight of 0 turns a signal off. Field names in the
        /// weights file are the kebab-case reason ids (`auth-dmarc-fail = 3.0`).
        #[derive(Clone, Debug, PartialEq, Deserialize)]
        #[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
        pub struct Weights {
            $( $(#[doc = $doc])* pub $field: f64, )*
        }

        impl Default for Weights {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        /// Every signal: its id, category, default weight and one-line description, in
        /// the order they are documented (docs/mail-triage.md is written from this table).
        pub const SIGNALS: &[SignalInfo] = &[
            $( SignalInfo { id: $id, category: Category::$cat, default_weight: $default, doc: concat!($($doc),*) }, )*
        ];

        impl Weights {
            /// The weight of a signal by its id (0 for an unknown id).
            pub fn get(&self, id: &str) -> f64 {
                match id {
                    $( $id => self.$field, )*
                    _ => 0.0,
                }
            }
        }
    };
}

/// What a signal is about; header signals only count in combination with another kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Authentication results written by the receiving servers.
    Auth,
    /// Names and domains that imitate the organisation or a well-known brand.
    Impersonation,
    /// Wording typical of lures (credentials, prizes, parcels, payments, job offers).
    Lure,
    /// Header inconsistencies; weighted only when another category also fired.
    Headers,
    /// Links in the bodies.
    Links,
    /// Attached files.
    Attachments,
    /// Structure damaged on purpose or by accident (counted, lightly weighted).
    Malformed,
}

impl Category {
    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Auth => "auth",
            Category::Impersonation => "impersonation",
            Category::Lure => "lure",
            Category::Headers => "headers",
            Category::Links => "links",
            Category::Attachments => "attachments",
            Category::Malformed => "malformed",
        }
    }
}

/// One row of the signal table.
#[derive(Clone, Copy, Debug)]
pub struct SignalInfo {
    /// Stable reason id, also the key in the weights file.
    pub id: &'static str,
    /// What the signal is about.
    pub category: Category,
    /// Weight when the weights file does not set it.
    pub default_weight: f64,
    /// One line: what fires it.
    pub doc: &'static str,
}

signals! {
    /// DMARC evaluated to fail (Authentication-Results or ARC-Authentication-Results).
    auth_dmarc_fail = 2.5, "auth-dmarc-fail", Auth;
    /// Microsoft 365 composite authentication failed (`compauth=fail`).
    auth_compauth_fail = 2.0, "auth-compauth-fail", Auth;
    /// SPF hard fail (`spf=fail`, `Received-SPF: Fail`).
    auth_spf_fail = 1.0, "auth-spf-fail", Auth;
    /// SPF soft fail.
    auth_spf_softfail = 0.5, "auth-spf-softfail", Auth;
    /// A receiving server recorded a failed DKIM signature (`dkim=fail`).
    auth_dkim_fail = 0.5, "auth-dkim-fail", Auth;
    /// A DKIM signature fails verification against the keys given with `--dkim-keys`:
    /// the body or signed headers changed after signing, the key was revoked, or forged.
    auth_dkim_verify_fail = 1.5, "auth-dkim-verify-fail", Auth;
    /// A sender, reply-to or link domain imitates one of the organisation's domains.
    imp_org_lookalike_domain = 7.0, "imp-org-lookalike-domain", Impersonation;
    /// The display name or subject claims one of the organisation's brands, sent from outside it.
    imp_org_brand_claim = 4.0, "imp-org-brand-claim", Impersonation;
    /// The From address uses one of the organisation's domains but its authentication failed,
    /// or, with `--dkim-keys` holding a key of that domain, it carries no valid signature of it.
    imp_org_domain_spoofed = 5.0, "imp-org-domain-spoofed", Impersonation;
    /// The display name claims a well-known brand; the sender domain is not that brand's.
    imp_brand_display_name = 3.0, "imp-brand-display-name", Impersonation;
    /// The sender domain carries a well-known brand's name but is not that brand's domain.
    imp_brand_in_domain = 3.0, "imp-brand-in-domain", Impersonation;
    /// A sender or link domain imitates a well-known brand's domain (confusables, typos).
    imp_brand_lookalike_domain = 5.0, "imp-brand-lookalike-domain", Impersonation;
    /// The display name carries an address that is not the sender's.
    imp_display_name_address = 2.0, "imp-display-name-address", Impersonation;
    /// A display name with a long number (ticket-like) or padded with punctuation runs.
    imp_display_name_odd = 1.5, "imp-display-name-odd", Impersonation;
    /// The From header holds several entries: clients show one of them, and RFC 5322 asks
    /// for a Sender header then. Phish use it to show a bare name with no address.
    imp_from_several = 2.5, "imp-from-several", Impersonation;
    /// The display name is a domain name (`Tether.to`) that is not the sender's domain.
    imp_display_name_domain = 2.0, "imp-display-name-domain", Impersonation;
    /// The sender or envelope domain is under a TLD or registry subdomain service with a
    /// high abuse rate (Spamhaus / Interisle lists: `.xyz`, `.top`, `.sa.com`, ...). A
    /// reputation hint only: light, so it needs another signal.
    imp_sender_abused_tld = 1.0, "imp-sender-abused-tld", Impersonation;
    /// The sender's local part looks machine-generated (random mixed case).
    imp_sender_random = 1.0, "imp-sender-random", Impersonation;
    /// Lure wording from a freemail address with a brand, one-word or numbered display name.
    imp_freemail_lure = 1.5, "imp-freemail-lure", Impersonation;
    /// An internationalised (punycode or non-ASCII) sender or link domain.
    imp_idn_domain = 1.5, "imp-idn-domain", Impersonation;
    /// Display name or subject mixes scripts or uses look-alike letters (UTS #39).
    imp_confusable_text = 2.5, "imp-confusable-text", Impersonation;
    /// The sender domain has no public suffix (not a deliverable internet domain).
    imp_sender_domain_invalid = 2.0, "imp-sender-domain-invalid", Impersonation;
    /// The sender domain is under a free hosting or private PSL suffix.
    imp_sender_free_hosting = 2.5, "imp-sender-free-hosting", Impersonation;
    /// Credential-theft wording (verify account, suspended, password, wallet phrase).
    lure_credential = 1.5, "lure-credential", Lure;
    /// Prize, reward or giveaway wording.
    lure_prize = 1.5, "lure-prize", Lure;
    /// Parcel held / delivery fee wording.
    lure_delivery = 1.5, "lure-delivery", Lure;
    /// Advance-fee fraud wording (inheritance, beneficiary, barrister, funds).
    lure_advance_fee = 2.0, "lure-advance-fee", Lure;
    /// Invoice, payment or deadline pressure wording.
    lure_payment = 1.0, "lure-payment", Lure;
    /// Recruiter and job-offer wording (weighted more with an attachment or an outside reply-to).
    lure_recruiter = 1.5, "lure-recruiter", Lure;
    /// The subject or display name carries the recipient's own address (fake personalisation).
    lure_recipient_in_subject = 1.5, "lure-recipient-in-subject", Lure;
    /// Crypto-asset bait (balance to withdraw, airdrop, cloud mining, USDT/BTC amounts).
    lure_crypto = 1.5, "lure-crypto", Lure;
    /// The body greets the reader by an email address ("Hello bob@example.com"): mass mail
    /// that knows the address, not the person.
    lure_address_greeting = 1.5, "lure-address-greeting", Lure;
    /// An invoice, renewal or order notice from a freemail address that gives a phone
    /// number to call (callback phishing, "telephone-oriented attack delivery").
    lure_callback = 2.0, "lure-callback", Lure;
    /// Legal-threat wording (court summons, lawsuit, police complaint).
    lure_legal = 1.5, "lure-legal", Lure;
    /// A money amount in the subject, display name or attachment name (`$3,500,000`,
    /// `+0.3 BTC`, `€750`): the bait of prize, balance and advance-fee lures.
    lure_money_subject = 1.0, "lure-money-subject", Lure;
    /// Reply-To goes to another registrable domain than From (in combination only).
    hdr_reply_to_mismatch = 1.0, "hdr-reply-to-mismatch", Headers;
    /// Reply-To is another mailbox at a freemail provider: answers go to a throwaway
    /// account (advance-fee and BEC). Replaces `hdr-reply-to-mismatch`; in combination only.
    hdr_reply_to_freemail = 2.0, "hdr-reply-to-freemail", Headers;
    /// Return-Path / envelope sender in another registrable domain than From (in combination only).
    hdr_envelope_mismatch = 0.5, "hdr-envelope-mismatch", Headers;
    /// Received chain with hops out of time order or too many hops (in combination only).
    hdr_received_odd = 0.5, "hdr-received-odd", Headers;
    /// Link text shows one domain, the link goes to another.
    link_text_mismatch = 1.0, "link-text-mismatch", Links;
    /// A link to a bare IP address.
    link_ip_literal = 2.5, "link-ip-literal", Links;
    /// A link through a URL shortener.
    link_shortener = 1.5, "link-shortener", Links;
    /// A link to free hosting or a private PSL suffix (pages anyone can publish).
    link_free_hosting = 1.5, "link-free-hosting", Links;
    /// A `data:` or `javascript:` URL.
    link_data_url = 2.5, "link-data-url", Links;
    /// Script that builds a file in the browser (HTML smuggling: atob + Blob / download).
    link_html_smuggling = 4.0, "link-html-smuggling", Links;
    /// A form that asks for a password, in the body or an attachment.
    link_credential_form = 3.0, "link-credential-form", Links;
    /// An HTML body that is images and links with almost no text (image spam hides its
    /// words from filters; 1.5 since it fired on no legitimate message of the evaluation).
    link_image_only = 1.5, "link-image-only", Links;
    /// HTML written to defeat parsers and filters: a link whose host holds characters no
    /// host name can, or tag soup (several `<!DOCTYPE>`s in one body).
    link_obfuscated_html = 2.0, "link-obfuscated-html", Links;
    /// Text hidden from the reader (zero-size or invisible), a filter-evasion trick.
    link_hidden_text = 2.0, "link-hidden-text", Links;
    /// The attachment's content is not what its extension says (magic bytes).
    att_type_mismatch = 3.0, "att-type-mismatch", Attachments;
    /// An executable or script attachment.
    att_executable = 6.0, "att-executable", Attachments;
    /// A disk image or shortcut (ISO, IMG, VHD, LNK).
    att_disk_image = 5.0, "att-disk-image", Attachments;
    /// An Office document with macros.
    att_office_macro = 4.0, "att-office-macro", Attachments;
    /// An encrypted or nested archive.
    att_archive_evasive = 3.0, "att-archive-evasive", Attachments;
    /// A document attachment from a freemail address with (almost) no text around it:
    /// the file is the whole message. Needs another signal (people do send "see attached").
    att_freemail_bare = 2.0, "att-freemail-bare", Attachments;
    /// An HTML or SVG attachment.
    att_html = 3.0, "att-html", Attachments;
    /// A calendar invitation attachment (.ics).
    att_calendar = 1.0, "att-calendar", Attachments;
    /// An Apple configuration profile (.mobileconfig).
    att_mobileconfig = 5.0, "att-mobileconfig", Attachments;
    /// The message was truncated or damaged (size, parts, depth, encoding).
    malformed = 0.5, "malformed", Malformed;
}

/// Score thresholds: at or above `suspicious` a message is not clean.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Score from which a message is `suspicious`.
    pub suspicious: f64,
    /// Score from which a message is `malicious`.
    pub malicious: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            suspicious: 2.5,
            malicious: 7.0,
        }
    }
}

/// The weights file as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct WeightsFile {
    thresholds: Thresholds,
    weights: Weights,
}

/// A weights file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// TOML syntax or an unknown/ill-typed key, with its 1-based line.
    #[error("line {line}: {message}")]
    Parse {
        /// 1-based line of the error (0 when unknown).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Thresholds that cannot work.
    #[error("thresholds: suspicious ({suspicious}) must be > 0 and <= malicious ({malicious})")]
    Thresholds {
        /// The suspicious threshold given.
        suspicious: f64,
        /// The malicious threshold given.
        malicious: f64,
    },
}

/// Reads a weights file's text. Unknown keys are refused; errors name the line.
pub fn parse_weights(text: &str) -> Result<(Weights, Thresholds), PolicyError> {
    let file: WeightsFile = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| {
                text.get(..s.start)
                    .map_or(0, |t| t.bytes().filter(|&b| b == b'\n').count() + 1)
            })
            .unwrap_or(0);
        PolicyError::Parse {
            line,
            message: e.message().to_string(),
        }
    })?;
    let t = file.thresholds;
    if !(t.suspicious > 0.0 && t.suspicious <= t.malicious) {
        return Err(PolicyError::Thresholds {
            suspicious: t.suspicious,
            malicious: t.malicious,
        });
    }
    Ok((file.weights, t))
}

/// Everything a scan is judged against, resolved once.
#[derive(Clone)]
pub struct MailPolicy {
    /// The organisation's own domains, lowercased, as registrable domains.
    pub(crate) org_domains: Vec<DomainInfo>,
    /// The organisation's brand names as given.
    pub(crate) org_brands: Vec<String>,
    /// Brand names normalised for matching (lowercase, letters and digits only).
    pub(crate) org_brand_keys: Vec<String>,
    /// Signal weights.
    pub weights: Weights,
    /// Verdict thresholds.
    pub thresholds: Thresholds,
    /// Per-message bounds.
    pub limits: crate::limits::Limits,
    /// Compiled lure phrases.
    pub(crate) lures: crate::lure::LureMatcher,
    /// Prepared well-known brand table.
    pub(crate) brands: crate::brands::BrandIndex,
    /// DKIM keys the user supplied; signatures are verified only when present.
    pub(crate) dkim_keys: Option<std::sync::Arc<crate::dkim::DkimKeys>>,
}

impl fmt::Debug for MailPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailPolicy")
            .field("org_domains", &self.org_domains.len())
            .field("org_brands", &self.org_brands)
            .field("thresholds", &self.thresholds)
            .finish()
    }
}

impl Default for MailPolicy {
    fn default() -> Self {
        Self::new(&[], &[])
    }
}

impl MailPolicy {
    /// A policy for an organisation with these domains and brand names, default weights.
    pub fn new(domains: &[String], brands: &[String]) -> Self {
        let org_domains = domains
            .iter()
            .filter_map(|d| DomainInfo::new(d.trim()))
            .collect();
        let org_brand_keys = brands
            .iter()
            .map(|b| domain::brand_key(b))
            .filter(|k| k.len() >= 3)
            .collect();
        Self {
            org_domains,
            org_brands: brands.to_vec(),
            org_brand_keys,
            weights: Weights::default(),
            thresholds: Thresholds::default(),
            limits: crate::limits::Limits::default(),
            lures: crate::lure::LureMatcher::new(),
            brands: crate::brands::BrandIndex::new(),
            dkim_keys: None,
        }
    }

    /// Verifies DKIM signatures against these keys (see [`crate::dkim`]).
    pub fn with_dkim_keys(mut self, keys: crate::dkim::DkimKeys) -> Self {
        self.dkim_keys = Some(std::sync::Arc::new(keys));
        self
    }

    /// Replaces weights and thresholds (from [`parse_weights`]).
    pub fn with_weights(mut self, weights: Weights, thresholds: Thresholds) -> Self {
        self.weights = weights;
        self.thresholds = thresholds;
        self
    }

    /// The organisation's brand names as given.
    pub fn org_brands(&self) -> &[String] {
        &self.org_brands
    }
}
