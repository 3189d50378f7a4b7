//! Lure wording: what phishing asks the reader to do. Phrases in English, Portuguese,
//! Spanish, German, French and Dutch, grouped by lure. A category counts when its
//! phrases appear at least twice (a phrase in the subject counts double), so one
//! "invoice" in a newsletter is not enough.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// The lure categories, with the reason id each one raises.
pub const CATEGORIES: &[(&str, &[&str])] = &[
    (
        "lure-credential",
        &[
            "verify your account",
            "verify your identity",
            "confirm your identity",
            "confirm your account",
            "account has been suspended",
            "account will be suspended",
            "account has been locked",
            "account will be closed",
            "account has been limited",
            "unusual activity",
            "unusual sign-in",
            "suspicious activity",
            "unauthorized access",
            "login attempt",
            "reset your password",
            "password expires",
            "password will expire",
            "update your payment",
            "update your billing",
            "validate your",
            "mailbox is full",
            "storage is full",
            "mailbox quota",
            "seed phrase",
            "recovery phrase",
            "secret phrase",
            "wallet",
            "verify now",
            "confirm now",
            "re-activate",
            "reactivate",
            "unlock your",
            "security alert",
            "sign in to review",
            "sua conta",
            "seus dados",
            "atualize seus dados",
            "atualizar seus dados",
            "atualização cadastral",
            "bloqueado",
            "bloqueio",
            "senha",
            "token",
            "desbloqueio",
            "verifique",
            "confirme seus",
            "acesse sua conta",
            "unusual signin",
            "signin activity",
            "sign-in activity",
            "account security",
            "verify your email",
            "confirm your email",
            "ihr konto",
            "konto wurde",
            "gesperrt",
            "sperrung",
            "bestätigen sie",
            "verifizieren",
            "verifizierung",
            "ihre daten",
            "votre compte",
            "vérifier votre",
            "mot de passe",
            "su cuenta",
            "verifique su",
            "uw account",
            "uw rekening",
            "inloggen",
            "internet banking",
            "atualização",
            "connexion inhabituelle",
            "connexions inhabituelles",
            "activité inhabituelle",
            "activités de connexion",
            // Greetings of mail that does not know the reader's name.
            "dear customer",
            "dear user",
            "dear member",
            "dear account holder",
            "dear valued customer",
            "valued customer",
            "prezado cliente",
            "prezado(a) cliente",
            "prezada cliente",
            "caro cliente",
            "estimado cliente",
            "cher client",
            "chère cliente",
            "sehr geehrte kundin",
            "sehr geehrter kunde",
            "beste klant",
        ],
    ),
    (
        "lure-prize",
        &[
            "you have won",
            "you've won",
            "you won",
            "winner",
            "congratulations",
            "congrats",
            "claim your",
            "reward",
            "rewards",
            "gift card",
            "giftcard",
            "free spins",
            "giveaway",
            "prize",
            "jackpot",
            "selected to receive",
            "exclusive offer",
            "bonus",
            "cashback",
            "parabéns",
            "resgate",
            "resgatar",
            "pontos",
            "prêmio",
            "premio",
            "sorteio",
            "recompensa",
            "gewinn",
            "gewonnen",
            "gewinner",
            "freispiele",
            "glückwunsch",
            "gutschein",
            "félicitations",
            "gagnant",
            "cadeau",
            "ganador",
            "felicidades",
            "gefeliciteerd",
            "gewonnen",
            "beloning",
            "claim now",
            "limited time",
            "act now",
            "100% free",
            "free gift",
            "ausgewählt",
            "you have been selected",
            "casino",
            "spins",
            "welcome bonus",
            "no deposit",
            "kostenlos",
            "gratuit",
            "grátis",
        ],
    ),
    (
        "lure-delivery",
        &[
            "your package",
            "your parcel",
            "parcel",
            "shipment",
            "delivery attempt",
            "delivery failed",
            "unable to deliver",
            "could not be delivered",
            "held at",
            "being held",
            "customs fee",
            "redelivery",
            "tracking number",
            "encomenda",
            "mercadoria",
            "retida",
            "entrega",
            "rastreio",
            "objeto postado",
            "taxa de",
            "ihr paket",
            "sendung",
            "zustellung",
            "zollgebühr",
            "votre colis",
            "livraison",
            "su paquete",
            "envío",
            "uw pakket",
            "pakket",
            "bezorging",
            "levering",
            "verzending",
        ],
    ),
    (
        "lure-advance-fee",
        &[
            "next of kin",
            "beneficiary",
            "inheritance",
            "barrister",
            "compensation fund",
            "million dollars",
            "million usd",
            "fund transfer",
            "consignment",
            "diplomat",
            "atm card",
            "lottery",
            "awarded",
            "unclaimed",
            "deceased",
            "late husband",
            "my late",
            "attorney",
            "transfer of",
            "bank draft",
            "western union",
            "moneygram",
            "your assistance",
            "strictly confidential",
            "foreign partner",
            "herança",
            "beneficiário",
            "erbschaft",
            "nachlass",
            "business proposal",
            "investment fund",
            "cancer",
            "get back to me",
            "your consent",
            "doação",
            "viúva",
            "projeto",
            "proposta de negócio",
        ],
    ),
    (
        "lure-payment",
        &[
            "invoice",
            "payment",
            "overdue",
            "outstanding balance",
            "final notice",
            "urgent",
            "immediately",
            "within 24 hours",
            "within 48 hours",
            "24 hours",
            "48 hours",
            "expire",
            "expires today",
            "refund",
            "tax refund",
            "wire transfer",
            "bank transfer",
            "fatura",
            "boleto",
            "pendente",
            "pagamento",
            "débito",
            "reembolso",
            "restituição",
            "imposto",
            "multa",
            "urgente",
            "rechnung",
            "zahlung",
            "mahnung",
            "frist",
            "erstattung",
            "facture",
            "paiement",
            "remboursement",
            "factura",
            "pago",
            "betaling",
            "achterstallig",
        ],
    ),
    (
        "lure-recruiter",
        &[
            "job offer",
            "offer letter",
            "job opportunity",
            "employment opportunity",
            "position",
            "recruiter",
            "recruitment",
            "recruiting",
            "hiring",
            "interview",
            "salary",
            "resume",
            "curriculum vitae",
            "vacancy",
            "onboarding",
            "remote job",
            "work from home",
            "hr department",
            "human resources",
            "application form",
            "background check",
            "job description",
            "starting date",
            "per hour",
            "weekly pay",
            "vaga",
            "entrevista",
            "salário",
            "stellenangebot",
            "vorstellungsgespräch",
            "offre d'emploi",
            "entretien",
        ],
    ),
    (
        "lure-crypto",
        &[
            "bitcoin",
            "btc",
            "usdt",
            "usdc",
            "tether",
            "ethereum",
            "cryptocurrency",
            "cryptocurrencies",
            "crypto wallet",
            "airdrop",
            "cloud mining",
            "bitcoin mining",
            "withdrawal",
            "withdraw",
            "your balance",
            "account balance",
            "tokens",
            "blockchain",
            "web3",
            "nft",
            "kyc",
            "binance",
            "exchange account",
            "virtual assets",
        ],
    ),
    (
        "lure-legal",
        &[
            "court notice",
            "subpoena",
            "summons",
            "legal action",
            "arrest warrant",
            "police complaint",
            "intimação",
            "citação",
            "notificação extrajudicial",
            "processo judicial",
            "número do processo",
            "tribunal",
            "mandado",
            "queixa",
            "polícia",
            "vorladung",
            "strafanzeige",
            "convocation",
            "plainte",
        ],
    ),
];

/// The compiled phrase matcher; build once per policy and share.
#[derive(Debug, Clone)]
pub struct LureMatcher {
    ac: AhoCorasick,
    /// For each pattern: (category index, phrase).
    owners: Vec<(usize, &'static str)>,
}

impl Default for LureMatcher {
    fn default() -> Self {
        Self::new()
    }
}

/// Phrases found for one category.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LureHit {
    /// Weighted count (subject hits count double).
    pub count: usize,
    /// Distinct phrases, in order of appearance, at most a few.
    pub phrases: Vec<&'static str>,
}

impl LureMatcher {
    /// Compiles the phrase table.
    pub fn new() -> Self {
        let mut pats = Vec::new();
        let mut owners = Vec::new();
        for (ci, (_, phrases)) in CATEGORIES.iter().enumerate() {
            for p in *phrases {
                pats.push(*p);
                owners.push((ci, *p));
            }
        }
        #[allow(clippy::expect_used)]
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&pats)
            // The patterns are the constant table above; building cannot fail on them.
            .expect("constant lure patterns build");
        Self { ac, owners }
    }

    /// Counts phrase hits per category; whole words only.
    pub fn scan(&self, subject: &str, body: &str) -> Vec<LureHit> {
        let mut hits = vec![LureHit::default(); CATEGORIES.len()];
        for (text, mult) in [(subject, 2usize), (body, 1usize)] {
            let lower = text.to_lowercase();
            let bytes = lower.as_bytes();
            let mut seen: Vec<usize> = Vec::new();
            for m in self.ac.find_iter(bytes) {
                let before = m.start().checked_sub(1).and_then(|i| bytes.get(i));
                let after = bytes.get(m.end());
                let wordish = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
                if wordish(before) || wordish(after) {
                    continue;
                }
                let pid = m.pattern().as_usize();
                if seen.contains(&pid) {
                    continue;
                }
                seen.push(pid);
                if let Some((ci, phrase)) = self.owners.get(pid)
                    && let Some(h) = hits.get_mut(*ci)
                {
                    h.count += mult;
                    if h.phrases.len() < 4 && !h.phrases.contains(phrase) {
                        h.phrases.push(phrase);
                    }
                }
            }
        }
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_count_per_category_and_subject_doubles() {
        let m = LureMatcher::new();
        let hits = m.scan("Verify your account", "Unusual activity on your wallet");
        assert_eq!(hits[0].count, 4);
        assert_eq!(
            hits[0].phrases,
            ["verify your account", "unusual activity", "wallet"]
        );
        assert_eq!(hits[1].count, 0);
        // Not inside words.
        assert_eq!(m.scan("", "prizes")[1].count, 0);
    }

    fn count(m: &LureMatcher, id: &str, subject: &str, body: &str) -> usize {
        let i = CATEGORIES
            .iter()
            .position(|(c, _)| *c == id)
            .expect("category exists");
        m.scan(subject, body)[i].count
    }

    #[test]
    fn crypto_legal_and_greeting_phrases() {
        let m = LureMatcher::new();
        assert_eq!(
            count(
                &m,
                "lure-crypto",
                "",
                "Withdraw your BTC before the airdrop ends"
            ),
            3
        );
        // "mining" alone is data mining, not crypto bait.
        assert_eq!(count(&m, "lure-crypto", "", "data mining"), 0);
        assert_eq!(
            count(
                &m,
                "lure-legal",
                "",
                "Intimação: número do processo 0007162"
            ),
            2
        );
        assert_eq!(
            count(
                &m,
                "lure-credential",
                "",
                "Dear customer, your account security"
            ),
            2
        );
        assert_eq!(
            count(
                &m,
                "lure-credential",
                "",
                "Activités de connexion inhabituelles"
            ),
            1
        );
    }
}
