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

/// Fields in sort order: the file lists crossings by source, then destination, then service.
#[derive(Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
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
        lines.sort();
        lines.dedup();
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
