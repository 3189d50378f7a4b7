//! Authentication results as the receiving servers wrote them: `Authentication-Results`
//! (RFC 8601), `ARC-Authentication-Results` (RFC 8617) and `Received-SPF` (RFC 7208).
//!
//! Lenient on purpose: Microsoft 365 writes `spf=none (sender IP is ...)`, omits the
//! authserv-id, and adds `compauth=fail reason=...` and `dmarc=bestguesspass`. We read
//! every `method=result` pair we find and ignore what we do not understand. A pass is
//! not proof of legitimacy (attackers pass SPF and DMARC on their own domains), so only
//! failures produce signals.

/// Longest header value we read (longer values are cut, the cut counted by the caller).
pub const MAX_AUTH_HEADER: usize = 16 * 1024;

/// What the receiving servers concluded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthSummary {
    /// `dmarc=fail` somewhere.
    pub dmarc_fail: bool,
    /// `compauth=fail` (Microsoft 365 composite authentication).
    pub compauth_fail: bool,
    /// `spf=fail` or `Received-SPF: Fail`.
    pub spf_fail: bool,
    /// `spf=softfail`.
    pub spf_softfail: bool,
    /// `dkim=fail`.
    pub dkim_fail: bool,
    /// Any `dmarc=pass` / `bestguesspass`.
    pub dmarc_pass: bool,
    /// `header.from=` domains seen (what DMARC was evaluated for).
    pub header_from: Vec<String>,
    /// `smtp.mailfrom=` / `envelope-from=` domains or addresses.
    pub mail_from: Vec<String>,
    /// The raw `method=result` pairs, for evidence.
    pub evidence: Vec<String>,
}

/// Most method results kept per message.
const MAX_RESULTS: usize = 64;

/// Reads one `Authentication-Results` or `ARC-Authentication-Results` value.
pub fn read_auth_results(value: &str, sum: &mut AuthSummary) {
    let value = crate::html::floor_str(value, MAX_AUTH_HEADER);
    let cleaned = strip_comments(value);
    for token in cleaned.split([';', ' ', '\t', '\r', '\n']) {
        let Some((k, v)) = token.split_once('=') else {
            continue;
        };
        let k = k.trim().to_ascii_lowercase();
        let v = v.trim().trim_matches('"').to_ascii_lowercase();
        match k.as_str() {
            "dmarc" | "spf" | "dkim" | "compauth" | "arc" | "dkim-atps" | "iprev" => {
                if sum.evidence.len() < MAX_RESULTS {
                    sum.evidence.push(format!("{k}={v}"));
                }
                match (k.as_str(), v.as_str()) {
                    ("dmarc", "fail") => sum.dmarc_fail = true,
                    ("dmarc", "pass" | "bestguesspass") => sum.dmarc_pass = true,
                    ("compauth", "fail") => sum.compauth_fail = true,
                    ("spf", "fail") => sum.spf_fail = true,
                    ("spf", "softfail") => sum.spf_softfail = true,
                    ("dkim", "fail") => sum.dkim_fail = true,
                    _ => {}
                }
            }
            "header.from" if sum.header_from.len() < MAX_RESULTS => sum.header_from.push(v),
            "smtp.mailfrom" if sum.mail_from.len() < MAX_RESULTS => sum.mail_from.push(v),
            _ => {}
        }
    }
}

/// Reads one `Received-SPF` value: the result is its first word.
pub fn read_received_spf(value: &str, sum: &mut AuthSummary) {
    let value = crate::html::floor_str(value, MAX_AUTH_HEADER);
    let first = value
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match first.as_str() {
        "fail" => sum.spf_fail = true,
        "softfail" => sum.spf_softfail = true,
        _ => {}
    }
    if sum.evidence.len() < MAX_RESULTS && !first.is_empty() {
        sum.evidence.push(format!("received-spf={first}"));
    }
    if let Some(p) = value.to_ascii_lowercase().find("envelope-from=") {
        let rest = value.get(p + 14..).unwrap_or("");
        let v: String = rest
            .trim_start_matches('"')
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != ';' && *c != '"')
            .collect();
        if sum.mail_from.len() < MAX_RESULTS && !v.is_empty() {
            sum.mail_from.push(v.to_ascii_lowercase());
        }
    }
}

/// Removes RFC 5322 comments (nested parentheses), which carry free text like
/// `(sender IP is 1.2.3.4)` that must not be read as results.
fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0u32;
    for c in s.chars() {
        match c {
            '(' => depth = depth.saturating_add(1),
            ')' => depth = depth.saturating_sub(1),
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microsoft_365_without_authserv_id() {
        let mut s = AuthSummary::default();
        read_auth_results(
            "spf=none (sender IP is 80.96.157.211)\n smtp.mailfrom=granigo.art; dkim=none (message not signed)\n header.d=none;dmarc=fail action=none header.from=newsletter.otto.de;compauth=fail reason=001",
            &mut s,
        );
        assert!(s.dmarc_fail && s.compauth_fail && !s.spf_fail);
        assert_eq!(s.header_from, ["newsletter.otto.de"]);
        assert_eq!(s.mail_from, ["granigo.art"]);
    }

    #[test]
    fn rfc_8601_with_authserv_id_and_bestguesspass() {
        let mut s = AuthSummary::default();
        read_auth_results(
            "mx.example.com; spf=softfail smtp.mailfrom=a.example; dmarc=bestguesspass action=none header.from=a.example",
            &mut s,
        );
        assert!(s.spf_softfail && s.dmarc_pass && !s.dmarc_fail);
    }

    #[test]
    fn received_spf_first_word() {
        let mut s = AuthSummary::default();
        read_received_spf(
            "Fail (protection.outlook.com: domain of x.example does not designate 1.2.3.4) envelope-from=bad@x.example",
            &mut s,
        );
        assert!(s.spf_fail);
        assert_eq!(s.mail_from, ["bad@x.example"]);
    }
}
