//! A saved first-seen baseline: the crossings between sites that `first-seen-crossing`
//! learned in one run (`sekisho analyze --save-baseline FILE`), to be known from the first
//! flow of a later run (`--baseline FILE`) instead of learning for `baseline_days` again.
//!
//! The file is JSON lines and names things as the org file does (site ids, asset names,
//! service names, addresses), not by index, so it survives edits of the org file and can be
//! reviewed and diffed: a baseline is a statement of what is normal, and a crossing that
//! should not be normal must be deleted from it before reuse. Line 1 is a header:
//!
//! ```text
//! {"sekisho":"first-seen-baseline","version":1,"key":"site","first_flow":"2024-05-01T00:00:03Z","last_flow":"2024-05-28T23:59:58Z","crossings":2}
//! {"from":"th-bkk","to_site":"jp-hq","to_asset":"jp-erp","service":"https"}
//! {"from":"th-bkk","to_site":"jp-hq","to_asset":null,"service":"ldap"}
//! ```
//!
//! With `key = "host"` the `from` of a crossing is the source address.

use crate::settings::FirstSeenKey;
use crate::{AssetId, Org, SiteId};
use sekisho_event::{Service, Timestamp};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Where a known crossing comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CrossingSource {
    /// A whole site (`key = "site"`).
    Site(SiteId),
    /// One host (`key = "host"`).
    Host(IpAddr),
}

/// One crossing `first-seen-crossing` knows, resolved against an org.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KnownCrossing {
    pub from: CrossingSource,
    pub to_site: SiteId,
    /// The destination asset when the destination is a declared asset.
    pub to_asset: Option<AssetId>,
    pub service: Service,
}

/// What a run learned, or what a later run starts from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Baseline {
    pub key: FirstSeenKey,
    /// Time of the earliest and latest flow of the run that learned it.
    pub first_flow: Option<Timestamp>,
    pub last_flow: Option<Timestamp>,
    pub crossings: Vec<KnownCrossing>,
}

/// A baseline file that cannot be used, with the line it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct BaselineError {
    pub line: usize,
    pub message: String,
}

/// Lines of a baseline that name what the org file no longer has: skipped, not fatal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaleLines {
    /// `(line, why)` of the first [`MAX_STALE_LISTED`] of them.
    pub listed: Vec<(usize, String)>,
    pub count: usize,
}

/// Stale lines listed by line number; the rest are only counted.
pub const MAX_STALE_LISTED: usize = 20;

const MAGIC: &str = "first-seen-baseline";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    sekisho: String,
    version: u32,
    key: FirstSeenKey,
    first_flow: Option<Timestamp>,
    last_flow: Option<Timestamp>,
    crossings: usize,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    from: String,
    to_site: String,
    to_asset: Option<String>,
    service: String,
}

impl Baseline {
    /// The file text: header, then one crossing per line sorted by their names, so that two
    /// baselines of the same traffic are byte-identical and diff line by line.
    pub fn to_jsonl(&self, org: &Org) -> String {
        let mut lines: Vec<Line> = self
            .crossings
            .iter()
            .map(|c| Line {
                from: match c.from {
                    CrossingSource::Site(s) => org.site(s).id.clone(),
                    CrossingSource::Host(ip) => ip.to_string(),
                },
                to_site: org.site(c.to_site).id.clone(),
                to_asset: c.to_asset.map(|a| org.asset(a).name.clone()),
                service: c.service.as_str().to_string(),
            })
            .collect();
        lines.sort_by(|a, b| {
            (&a.from, &a.to_site, &a.to_asset, &a.service).cmp(&(
                &b.from,
                &b.to_site,
                &b.to_asset,
                &b.service,
            ))
        });
        lines.dedup_by(|a, b| {
            a.from == b.from
                && a.to_site == b.to_site
                && a.to_asset == b.to_asset
                && a.service == b.service
        });
        let header = Header {
            sekisho: MAGIC.into(),
            version: 1,
            key: self.key,
            first_flow: self.first_flow,
            last_flow: self.last_flow,
            crossings: lines.len(),
        };
        let mut out = serde_json::to_string(&header).unwrap_or_default();
        out.push('\n');
        for l in &lines {
            out.push_str(&serde_json::to_string(l).unwrap_or_default());
            out.push('\n');
        }
        out
    }

    /// Reads a baseline for `org`. Malformed lines and a key that differs from the org's
    /// `detectors.first_seen_crossing.key` are errors; lines naming a site, asset or service
    /// the org does not have are skipped and returned as stale.
    pub fn from_jsonl(text: &str, org: &Org) -> Result<(Baseline, StaleLines), BaselineError> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty());
        let (_, first) = lines.next().ok_or(BaselineError {
            line: 1,
            message: "empty file, not a first-seen baseline".into(),
        })?;
        let header: Header = serde_json::from_str(first).map_err(|e| BaselineError {
            line: 1,
            message: format!("not a first-seen baseline header: {e}"),
        })?;
        if header.sekisho != MAGIC || header.version != 1 {
            return Err(BaselineError {
                line: 1,
                message: format!(
                    "a {} version {} file, not a {MAGIC} version 1",
                    header.sekisho, header.version
                ),
            });
        }
        let wanted = org.detectors.first_seen_crossing.key;
        if header.key != wanted {
            return Err(BaselineError {
                line: 1,
                message: format!(
                    "learned with key = \"{}\", but the org file keys first-seen-crossing by \"{}\" (detectors.first_seen_crossing.key)",
                    key_name(header.key),
                    key_name(wanted)
                ),
            });
        }
        let mut baseline = Baseline {
            key: header.key,
            first_flow: header.first_flow,
            last_flow: header.last_flow,
            crossings: Vec::new(),
        };
        let mut stale = StaleLines::default();
        for (line, text) in lines {
            let l: Line = serde_json::from_str(text).map_err(|e| BaselineError {
                line,
                message: format!("not a crossing: {e}"),
            })?;
            match resolve(&l, header.key, org) {
                Ok(c) => baseline.crossings.push(c),
                Err(why) => {
                    stale.count += 1;
                    if stale.listed.len() < MAX_STALE_LISTED {
                        stale.listed.push((line, why));
                    }
                }
            }
        }
        Ok((baseline, stale))
    }
}

fn key_name(k: FirstSeenKey) -> &'static str {
    match k {
        FirstSeenKey::Site => "site",
        FirstSeenKey::Host => "host",
    }
}

fn resolve(l: &Line, key: FirstSeenKey, org: &Org) -> Result<KnownCrossing, String> {
    let from = match key {
        FirstSeenKey::Site => CrossingSource::Site(
            org.site_by_id(&l.from)
                .ok_or_else(|| format!("no site {:?} in the org file", l.from))?,
        ),
        FirstSeenKey::Host => CrossingSource::Host(
            l.from
                .parse()
                .map_err(|_| format!("{:?} is not an address", l.from))?,
        ),
    };
    let to_site = org
        .site_by_id(&l.to_site)
        .ok_or_else(|| format!("no site {:?} in the org file", l.to_site))?;
    let to_asset = match &l.to_asset {
        None => None,
        Some(name) => Some(
            org.asset_by_name(name)
                .ok_or_else(|| format!("no asset {name:?} in the org file"))?,
        ),
    };
    let service =
        Service::from_name(&l.service).ok_or_else(|| format!("unknown service {:?}", l.service))?;
    Ok(KnownCrossing {
        from,
        to_site,
        to_asset,
        service,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = r#"
[org]
name = "Example"
[[site]]
id = "jp-hq"
country = "JP"
timezone = "Asia/Tokyo"
networks = ["10.10.0.0/16"]
[[site]]
id = "th-bkk"
country = "TH"
timezone = "Asia/Bangkok"
networks = ["10.20.0.0/16"]
[[asset]]
name = "jp-fs01"
site = "jp-hq"
addresses = ["10.10.5.10"]
"#;

    fn org() -> Org {
        Org::from_toml(ORG, "org.toml").expect("org")
    }

    #[test]
    fn round_trip_by_names_sorted_and_deduplicated() {
        let org = org();
        let (hq, bkk) = (
            org.site_by_id("jp-hq").expect("hq"),
            org.site_by_id("th-bkk").expect("bkk"),
        );
        let fs = org.asset_by_name("jp-fs01");
        let smb = KnownCrossing {
            from: CrossingSource::Site(bkk),
            to_site: hq,
            to_asset: fs,
            service: Service::Smb,
        };
        let ldap = KnownCrossing {
            from: CrossingSource::Site(hq),
            to_site: bkk,
            to_asset: None,
            service: Service::from_name("ldap").expect("ldap"),
        };
        let b = Baseline {
            key: FirstSeenKey::Site,
            first_flow: Timestamp::parse_rfc3339("2024-05-01T00:00:00Z"),
            last_flow: Timestamp::parse_rfc3339("2024-05-08T00:00:00Z"),
            crossings: vec![smb, ldap, smb],
        };
        let text = b.to_jsonl(&org);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].contains("\"crossings\":2"), "{text}");
        assert!(lines[1].starts_with("{\"from\":\"jp-hq\""), "{text}");
        assert_eq!(
            lines[2],
            r#"{"from":"th-bkk","to_site":"jp-hq","to_asset":"jp-fs01","service":"smb"}"#
        );
        let (back, stale) = Baseline::from_jsonl(&text, &org).expect("reads");
        assert_eq!(stale, StaleLines::default());
        assert_eq!(back.first_flow, b.first_flow);
        let mut want = vec![ldap, smb];
        want.sort();
        let mut got = back.crossings.clone();
        got.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn stale_names_are_skipped_and_broken_lines_name_their_line() {
        let org = org();
        let header = r#"{"sekisho":"first-seen-baseline","version":1,"key":"site","first_flow":null,"last_flow":null,"crossings":3}"#;
        let text = format!(
            "{header}\n{}\n{}\n{}\n",
            r#"{"from":"th-bkk","to_site":"jp-hq","to_asset":"jp-fs01","service":"smb"}"#,
            r#"{"from":"id-jkt","to_site":"jp-hq","to_asset":null,"service":"smb"}"#,
            r#"{"from":"th-bkk","to_site":"jp-hq","to_asset":"jp-old","service":"rdp"}"#,
        );
        let (b, stale) = Baseline::from_jsonl(&text, &org).expect("reads");
        assert_eq!(b.crossings.len(), 1);
        assert_eq!(stale.count, 2);
        assert_eq!(stale.listed[0].0, 3);
        assert!(stale.listed[0].1.contains("id-jkt"));
        assert_eq!(stale.listed[1].0, 4);

        let broken = format!("{header}\n\n{{\"from\":\"th-bkk\"}}\n");
        let e = Baseline::from_jsonl(&broken, &org).unwrap_err();
        assert_eq!(e.line, 3);
        let e = Baseline::from_jsonl("{\"alerts\":[]}\n", &org).unwrap_err();
        assert_eq!(e.line, 1);
        let by_host = header.replace("\"site\"", "\"host\"");
        let e = Baseline::from_jsonl(&by_host, &org).unwrap_err();
        assert!(e.message.contains("key = \"host\""), "{e}");
    }
}
