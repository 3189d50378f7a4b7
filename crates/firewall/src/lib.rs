//! Policy export: the organisation's access policy as firewall rules for each site's
//! gateway, in nftables or iptables syntax.
//!
//! Firewalls are first-match like the policy, so every rule is written, in policy order,
//! with its verdict (allow, alert = log and let through, deny = drop): an `allow` above a
//! `deny` keeps its precedence. Each site gets one chain holding the rules that can match a
//! flow from or to its networks, ending with the `cross_site_default` for flows to or from
//! other sites. Every rule carries a comment naming the policy rule (number, org-file line,
//! name), made safe for the syntax. Address sets are asked of the model ([`Org::locate`]),
//! so they hold exactly the addresses the policy engine matches; named services become the
//! ports [`sekisho_event::Service::from_port`] gives them; time windows are converted to UTC.
//!
//! ```
//! use sekisho_firewall::{ExportOptions, Family, iptables, nftables};
//! use sekisho_model::Org;
//! let org = Org::from_toml(r#"
//! [org]
//! name = "Example"
//! [[site]]
//! id = "jp-hq"
//! country = "JP"
//! timezone = "Asia/Tokyo"
//! networks = ["10.10.0.0/16", "2001:db8:10::/48"]
//! [[site]]
//! id = "th-bkk"
//! country = "TH"
//! timezone = "Asia/Bangkok"
//! networks = ["10.20.0.0/16"]
//! [policy]
//! cross_site_default = "deny"
//! [[policy.rule]]
//! name = "No SMB from Bangkok to HQ"
//! from = { site = "th-bkk" }
//! to = { site = "jp-hq" }
//! services = ["smb"]
//! action = "deny"
//! "#, "org.toml").unwrap();
//! let opts = ExportOptions::at_date(2026, 1, 15).unwrap();
//! let nft = nftables(&org, &opts).unwrap();
//! assert!(nft.contains("ip saddr @site_th_bkk_v4 ip daddr @site_jp_hq_v4 tcp dport { 139, 445 }"));
//! assert!(nft.contains("comment \"rule 1 (line 16): No SMB from Bangkok to HQ\""));
//! let v4 = iptables(&org, Family::V4, &opts).unwrap();
//! assert!(v4.contains("-s 10.20.0.0/16 -d 10.10.0.0/16 -p tcp -m multiport --dports 139,445"));
//! ```
//!
//! Invariants: pure functions of the org and the options (no I/O, no clock: the date whose
//! UTC offsets convert time windows is an option).

mod ipt;
mod nft;
mod plan;
mod ports;
mod text;

pub use plan::Family;

use chrono::{DateTime, TimeZone, Utc};
use sekisho_model::Org;
use std::fmt::Write;

/// What to export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportOptions {
    /// The instant whose UTC offsets convert the policy's time windows (sites with
    /// daylight saving time need an export per season; the output lists them).
    pub at: DateTime<Utc>,
    /// Only this site's chain (for its gateway); `None` writes every site's.
    pub site: Option<String>,
}

impl ExportOptions {
    /// Options for noon UTC on a date, every site; `None` for an impossible date.
    pub fn at_date(year: i32, month: u32, day: u32) -> Option<Self> {
        Some(Self {
            at: Utc.with_ymd_and_hms(year, month, day, 12, 0, 0).single()?,
            site: None,
        })
    }

    /// Options for noon UTC on a `YYYY-MM-DD` date, every site.
    pub fn at_iso_date(text: &str) -> Result<Self, ExportError> {
        let bad = || ExportError::BadDate(text.to_string());
        let mut parts = text.trim().splitn(3, '-');
        let mut next = || parts.next().ok_or_else(bad);
        let (y, m, d) = (next()?, next()?, next()?);
        let y: i32 = y.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        let d: u32 = d.parse().map_err(|_| bad())?;
        Self::at_date(y, m, d).ok_or_else(bad)
    }

    /// Options for the day of a Unix time (seconds), every site; `None` out of range.
    pub fn at_unix(secs: i64) -> Option<Self> {
        let day = DateTime::<Utc>::from_timestamp(secs, 0)?.date_naive();
        Some(Self {
            at: day.and_hms_opt(12, 0, 0)?.and_utc(),
            site: None,
        })
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExportError {
    /// `site` names no site of the organisation.
    #[error("unknown site `{0}`")]
    UnknownSite(String),
    /// A date that is not `YYYY-MM-DD`.
    #[error("`{0}` is not a date (YYYY-MM-DD)")]
    BadDate(String),
}

/// The policy as an nftables file (`nft -f`): table `inet sekisho` with `site_<id>_v4`/`_v6`
/// sets, one `forward_<id>` chain per site and a `forward` base chain that dispatches to them.
pub fn nftables(org: &Org, opts: &ExportOptions) -> Result<String, ExportError> {
    let plan = plan::Plan::build(org, opts)?;
    Ok(nft::write(&plan))
}

/// The policy for one address family as an `iptables-restore` (V4) or `ip6tables-restore`
/// (V6) file: a `SEKISHO-FORWARD` chain to hook into `FORWARD`, and one chain per site.
pub fn iptables(org: &Org, family: Family, opts: &ExportOptions) -> Result<String, ExportError> {
    let plan = plan::Plan::build(org, opts)?;
    Ok(ipt::write(&plan, family))
}

/// Per site, a stem for set and chain names that nft accepts (letters, digits, `_`),
/// unique within the org.
pub(crate) fn slugs<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, id) in ids.enumerate() {
        let s: String = id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let s = if out.contains(&s) {
            format!("{s}_{i}")
        } else {
            s
        };
        // Still taken (an id that looked like the suffixed one): fall back to the index.
        let s = if out.contains(&s) { format!("s{i}") } else { s };
        out.push(s);
    }
    out
}

/// Header lines for rules that export to nothing, and for alert rules.
pub(crate) fn write_skipped(o: &mut String, plan: &plan::Plan<'_>) {
    for pr in &plan.rules {
        if let Some(why) = pr.never {
            let _ = writeln!(
                o,
                "# Not exported: rule {} (line {}) `{}`: {why}.",
                pr.index + 1,
                pr.rule.line,
                text::clean(&pr.rule.name, text::LINE_COMMENT_MAX)
            );
        }
    }
}
