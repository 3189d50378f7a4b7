//! Well-known brands that phishing imitates, with the registrable domains that really
//! send their mail. Used when a message claims a brand the organisation file does not
//! name: "PayPal" in the display name, sent from `random-shop.example`.
//!
//! The list is general (banks, carriers, tax offices, big platforms, wallets, retailers
//! used in gift-card lures); it names brands, never messages. A brand matches as a whole
//! word, case-insensitively; `strict` brands (common English words such as "Chase" or
//! "Target") only match with their exact capitalisation.

/// One brand.
#[derive(Clone, Copy, Debug)]
pub struct Brand {
    /// The name as it appears in mail.
    pub name: &'static str,
    /// Registrable domains (and label prefixes) that legitimately send for it.
    pub domains: &'static [&'static str],
    /// Only match with the exact capitalisation.
    pub strict: bool,
}

const fn b(name: &'static str, domains: &'static [&'static str]) -> Brand {
    Brand {
        name,
        domains,
        strict: false,
    }
}

const fn s(name: &'static str, domains: &'static [&'static str]) -> Brand {
    Brand {
        name,
        domains,
        strict: true,
    }
}

/// The built-in brand table. A domain entry matches a registrable domain whose label
/// equals it (`amazon` matches `amazon.co.jp`) or the full registrable domain.
pub const BRANDS: &[Brand] = &[
    b(
        "PayPal",
        &["paypal", "paypal-communication.com", "paypal.me"],
    ),
    s("Apple", &["apple", "icloud", "me.com", "itunes"]),
    b("iCloud", &["apple", "icloud"]),
    b("iTunes", &["apple", "itunes"]),
    b(
        "Microsoft",
        &[
            "microsoft",
            "outlook",
            "office",
            "office365",
            "live",
            "hotmail",
            "microsoftonline",
            "msn",
            "sharepoint",
            "onmicrosoft.com",
            "windows",
            "xbox",
            "skype",
        ],
    ),
    b(
        "Outlook",
        &["microsoft", "outlook", "office", "live", "hotmail"],
    ),
    b(
        "Office 365",
        &["microsoft", "office", "office365", "outlook"],
    ),
    b("OneDrive", &["microsoft", "live", "onedrive"]),
    b("SharePoint", &["microsoft", "sharepoint"]),
    b(
        "Amazon",
        &[
            "amazon",
            "amazonses.com",
            "amazon-corp.com",
            "amazonaws.com",
            "primevideo",
            "audible",
        ],
    ),
    b("Netflix", &["netflix"]),
    b(
        "Google",
        &[
            "google",
            "gmail.com",
            "youtube",
            "googlemail.com",
            "gstatic.com",
            "blogger",
        ],
    ),
    b("Gmail", &["google", "gmail.com", "googlemail.com"]),
    b(
        "Facebook",
        &["facebook", "facebookmail.com", "fb.com", "meta.com"],
    ),
    b("Instagram", &["instagram", "facebookmail.com", "meta.com"]),
    b("WhatsApp", &["whatsapp", "facebookmail.com", "meta.com"]),
    b("LinkedIn", &["linkedin"]),
    b("DocuSign", &["docusign"]),
    b("Dropbox", &["dropbox", "dropboxmail.com"]),
    b("Adobe", &["adobe"]),
    b("WeTransfer", &["wetransfer"]),
    b("DHL", &["dhl"]),
    b("FedEx", &["fedex"]),
    b("USPS", &["usps", "usps.gov"]),
    s("UPS", &["ups"]),
    b("Correios", &["correios"]),
    b("Royal Mail", &["royalmail"]),
    b("La Poste", &["laposte"]),
    b("PostNL", &["postnl"]),
    b("Deutsche Post", &["deutschepost", "dhl"]),
    b("Hermes", &["hermes", "myhermes"]),
    b("Bradesco", &["bradesco", "bradescoseguros", "next.me"]),
    b("Itaú", &["itau"]),
    b("Itau", &["itau"]),
    b("Santander", &["santander"]),
    b("Caixa", &["caixa"]),
    b("Banco do Brasil", &["bb.com.br"]),
    b("Nubank", &["nubank"]),
    b(
        "Mercado Pago",
        &["mercadopago", "mercadolivre", "mercadolibre"],
    ),
    b(
        "Mercado Livre",
        &["mercadolivre", "mercadopago", "mercadolibre"],
    ),
    b("Serasa", &["serasa", "serasaexperian"]),
    b("Receita Federal", &["gov.br"]),
    b("Detran", &["gov.br"]),
    b("Livelo", &["livelo"]),
    b("Wells Fargo", &["wellsfargo"]),
    s("Chase", &["chase", "jpmorgan", "jpmchase"]),
    b("Bank of America", &["bankofamerica", "bofa"]),
    b("Citibank", &["citi", "citibank"]),
    b("American Express", &["americanexpress", "aexp", "amex"]),
    s("Amex", &["americanexpress", "aexp", "amex"]),
    s("Visa", &["visa"]),
    b("Mastercard", &["mastercard"]),
    b("HSBC", &["hsbc"]),
    b("Barclays", &["barclays"]),
    b("ING", &["ing"]),
    b("Deutsche Bank", &["deutsche-bank", "db.com"]),
    b("Sparkasse", &["sparkasse"]),
    b("Commerzbank", &["commerzbank"]),
    b("Volksbank", &["volksbank", "vr.de"]),
    b("Postbank", &["postbank"]),
    b("Telekom", &["telekom", "t-online"]),
    b("Deutsche Bahn", &["bahn", "deutschebahn"]),
    b("Vodafone", &["vodafone"]),
    b("IRS", &["irs.gov"]),
    b("HMRC", &["hmrc.gov.uk", "gov.uk"]),
    b("DigiD", &["digid.nl"]),
    b("MetaMask", &["metamask"]),
    b("Ledger", &["ledger"]),
    b("Trezor", &["trezor"]),
    b("Trust Wallet", &["trustwallet"]),
    b("Coinbase", &["coinbase"]),
    b("Binance", &["binance"]),
    b("Kraken", &["kraken"]),
    b("Crypto.com", &["crypto"]),
    b("OpenSea", &["opensea"]),
    b("Uniswap", &["uniswap"]),
    b("Ripple", &["ripple"]),
    b("Lido", &["lido"]),
    b("Norton", &["norton", "nortonlifelock", "gen.digital"]),
    b("McAfee", &["mcafee"]),
    b("Geek Squad", &["geeksquad", "bestbuy"]),
    b("Walmart", &["walmart"]),
    b("Costco", &["costco"]),
    b("Lowe's", &["lowes"]),
    b("Lowes", &["lowes"]),
    b("Home Depot", &["homedepot"]),
    b("Macy's", &["macys"]),
    b("Macys", &["macys"]),
    b("Kohl's", &["kohls"]),
    b("CVS", &["cvs", "cvshealth"]),
    b("Walgreens", &["walgreens"]),
    b("Xfinity", &["xfinity", "comcast"]),
    b("Comcast", &["comcast", "xfinity"]),
    b("AT&T", &["att", "att.net"]),
    b("Verizon", &["verizon", "verizonwireless"]),
    b("T-Mobile", &["t-mobile"]),
    b("Spotify", &["spotify"]),
    s("Steam", &["steampowered", "steamcommunity"]),
    b("eBay", &["ebay"]),
    b("Shopee", &["shopee"]),
    b("AliExpress", &["aliexpress", "alibaba"]),
    b("Booking.com", &["booking"]),
    b("Airbnb", &["airbnb"]),
    b("Zoom", &["zoom"]),
    b("Yahoo", &["yahoo", "yahoogroups", "yahoo-inc"]),
    b("Elon Musk", &["tesla", "spacex", "x.com"]),
    b("Tesla", &["tesla"]),
    b("Otto", &["otto"]),
    b("Rossmann", &["rossmann"]),
    b("Lidl", &["lidl"]),
    b("Aldi", &["aldi", "aldi-sued", "aldi-nord"]),
    b("IKEA", &["ikea"]),
    b("Proton", &["proton", "protonmail"]),
    b("ProtonMail", &["proton", "protonmail"]),
    b("Tether", &["tether"]),
    b("Revolut", &["revolut"]),
    b("N26", &["n26"]),
    b("Consorsbank", &["consorsbank"]),
    b("ABN AMRO", &["abnamro"]),
    b("Rabobank", &["rabobank"]),
    b("KPN", &["kpn"]),
    s("DPD", &["dpd"]),
    s("GLS", &["gls-group.eu", "gls"]),
    b("Temu", &["temu"]),
    b("Shein", &["shein"]),
    b("Bol.com", &["bol.com"]),
    b("Albert Heijn", &["ah.nl", "albertheijn"]),
    s("ADAC", &["adac"]),
    s("AAA", &["aaa"]),
    b("Edeka", &["edeka"]),
    b("Leroy Merlin", &["leroymerlin"]),
    b("Decathlon", &["decathlon"]),
    b("Carrefour", &["carrefour"]),
    b("Ameli", &["ameli.fr"]),
    s(
        "CPF",
        &[
            "moncompteformation.gouv.fr",
            "caissedesdepots.fr",
            "gouv.fr",
            "gov.br",
        ],
    ),
    b("Avast", &["avast"]),
    b("Kaspersky", &["kaspersky"]),
    b(
        "UnitedHealthcare",
        &["uhc", "unitedhealthcare", "unitedhealthgroup"],
    ),
    b(
        "UnitedHealth",
        &["uhc", "unitedhealthcare", "unitedhealthgroup"],
    ),
];

/// Does the registrable domain (and its label) belong to the brand?
pub fn brand_owns(brand: &Brand, registrable: &str, label: &str) -> bool {
    brand.domains.iter().any(|d| {
        if d.contains('.') {
            registrable == *d
                || registrable
                    .strip_suffix(d)
                    .is_some_and(|rest| rest.ends_with('.'))
        } else {
            label == *d
        }
    })
}

/// One prepared brand: the brand, its lowercase name, its name key, and the look-alike
/// keys of its label-only domains.
pub type BrandEntry = (&'static Brand, String, String, Vec<(&'static str, String)>);

/// The brand table prepared for matching, built once per policy.
#[derive(Clone, Debug)]
pub struct BrandIndex {
    /// Per brand: lowercase name, name key (letters and digits), look-alike keys of its
    /// label-only domains.
    pub entries: Vec<BrandEntry>,
}

impl Default for BrandIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl BrandIndex {
    /// Prepares [`BRANDS`].
    pub fn new() -> Self {
        let entries = BRANDS
            .iter()
            .map(|b| {
                let keys = b
                    .domains
                    .iter()
                    .filter(|d| !d.contains('.'))
                    .map(|d| (*d, crate::domain::confusable_key(d)))
                    .filter(|(_, k)| k.chars().count() >= 6)
                    .collect();
                (
                    b,
                    b.name.to_lowercase(),
                    crate::domain::brand_key(b.name),
                    keys,
                )
            })
            .collect();
        Self { entries }
    }

    /// Finds the brands named as whole words in `text`.
    /// Hyphens and underscores count as spaces on both sides (`Albert-Heijn`, `T-Mobile`).
    pub fn brands_in<'a>(&'a self, text: &'a str) -> impl Iterator<Item = &'static Brand> + 'a {
        let lower = text.to_lowercase().replace(['-', '_'], " ");
        self.entries.iter().filter_map(move |(b, lname, _, _)| {
            let hit = if b.strict {
                contains_word(text, b.name)
            } else {
                contains_word(&lower, &lname.replace('-', " "))
            };
            hit.then_some(*b)
        })
    }
}

/// Finds the brands named as whole words in `text` (builds the index; prefer
/// [`BrandIndex::brands_in`] in loops).
pub fn brands_in(text: &str) -> Vec<&'static Brand> {
    BrandIndex::new().brands_in(text).collect()
}

/// `needle` occurs in `hay` with no letter or digit on either side.
pub fn contains_word(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let mut start = 0;
    while let Some(pos) = hay.get(start..).and_then(|h| h.find(needle)) {
        let at = start + pos;
        let end = at + needle.len();
        let before_ok = hay
            .get(..at)
            .and_then(|h| h.chars().next_back())
            .is_none_or(|c| !c.is_alphanumeric());
        let after_ok = hay
            .get(end..)
            .and_then(|h| h.chars().next())
            .is_none_or(|c| !c.is_alphanumeric());
        if before_ok && after_ok {
            return true;
        }
        start = end;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brands_match_whole_words() {
        let names: Vec<_> = brands_in("PayPal Service").iter().map(|b| b.name).collect();
        assert_eq!(names, ["PayPal"]);
        assert_eq!(brands_in("chase the bus").len(), 0);
        assert_eq!(brands_in("Chase Bank").len(), 1);
        assert_eq!(brands_in("paypals").len(), 0);
    }

    #[test]
    fn hyphens_and_underscores_separate_brand_words() {
        let idx = BrandIndex::new();
        let names: Vec<_> = idx
            .brands_in("-Albert-Heijn Cadeaucentrum!")
            .map(|b| b.name)
            .collect();
        assert_eq!(names, ["Albert Heijn"]);
        assert!(
            idx.brands_in("T-Mobile Rewards")
                .any(|b| b.name == "T-Mobile")
        );
        assert!(
            idx.brands_in("Winacties*Bol.com")
                .any(|b| b.name == "Bol.com")
        );
        // Strict brands keep their exact capitalisation.
        assert!(
            idx.brands_in("ADAC Auto-Notfallset")
                .any(|b| b.name == "ADAC")
        );
        assert!(!idx.brands_in("adac").any(|b| b.name == "ADAC"));
    }

    #[test]
    fn brand_domains_are_matched_by_label_or_domain() {
        let p = BRANDS.iter().find(|b| b.name == "PayPal").unwrap();
        assert!(brand_owns(p, "paypal.co.uk", "paypal"));
        assert!(!brand_owns(p, "paypal-secure.com", "paypal-secure"));
    }
}
