//! Logon summaries with the organisation model: who logged on where from where, grouped by
//! user, source, destination, logon type and outcome, with first and last seen; the groups
//! that cross sites first.
//!
//! Collection is cheap and bounded (one map entry per distinct group, at most
//! [`MAX_GROUPS`]); enrichment against the [`Org`] happens once per group at the end.

use crate::source::HostSink;
use sekisho_event::{HostRecord, LogonAction, Outcome, Timestamp};
use sekisho_model::{AssetId, Org, SiteId};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// Distinct groups kept; logons of further groups are counted in `dropped`.
pub const MAX_GROUPS: usize = 200_000;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    event_id: String,
    user: Option<String>,
    domain: Option<String>,
    logon_type: Option<u8>,
    outcome: Outcome,
    source_ip: Option<IpAddr>,
    source_host: Option<String>,
    host: Option<String>,
    host_ip: Option<IpAddr>,
}

#[derive(Clone, Copy, Debug)]
struct Acc {
    count: u64,
    first: Timestamp,
    last: Timestamp,
}

/// A [`HostSink`] that folds logons into groups and counts other host events by kind.
#[derive(Debug, Default)]
pub struct LogonSummary {
    groups: HashMap<Key, Acc>,
    /// Logons not grouped because of [`MAX_GROUPS`].
    pub dropped: u64,
    /// Logoffs seen (not grouped).
    pub logoffs: u64,
    /// Other host events by kind name.
    pub events: BTreeMap<&'static str, u64>,
}

impl HostSink for LogonSummary {
    fn record(&mut self, record: HostRecord) {
        let l = match record {
            HostRecord::Logon(l) => l,
            HostRecord::Event(e) => {
                *self.events.entry(e.kind.as_str()).or_default() += 1;
                return;
            }
        };
        if l.action == LogonAction::Logoff {
            self.logoffs += 1;
            return;
        }
        let key = Key {
            event_id: l.kind_label(),
            user: l.user,
            domain: l.domain,
            logon_type: l.logon_type,
            outcome: l.outcome,
            source_ip: l.source_ip,
            source_host: l.source_host,
            host: l.host,
            host_ip: l.host_ip,
        };
        self.add(
            key,
            Acc {
                count: 1,
                first: l.ts,
                last: l.ts,
            },
        );
    }

    fn merge(&mut self, other: Self) {
        self.dropped += other.dropped;
        self.logoffs += other.logoffs;
        for (k, v) in other.events {
            *self.events.entry(k).or_default() += v;
        }
        for (k, a) in other.groups {
            self.add(k, a);
        }
    }
}

impl LogonSummary {
    fn add(&mut self, key: Key, a: Acc) {
        if let Some(g) = self.groups.get_mut(&key) {
            g.count += a.count;
            g.first = g.first.min(a.first);
            g.last = g.last.max(a.last);
        } else if self.groups.len() < MAX_GROUPS {
            self.groups.insert(key, a);
        } else {
            self.dropped += a.count;
        }
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The groups enriched with `org`, cross-site first, then by first seen.
    pub fn groups(&self, org: &Org) -> Vec<LogonGroup> {
        let mut out: Vec<LogonGroup> = self
            .groups
            .iter()
            .map(|(k, a)| {
                let (src_site, src_asset) = place_end(org, k.source_ip, k.source_host.as_deref());
                let (dst_site, dst_asset) = place_end(org, k.host_ip, k.host.as_deref());
                let site = |s: Option<SiteId>| s.map(|s| org.site(s).id.clone());
                let asset = |a: Option<AssetId>| a.map(|a| org.asset(a).name.clone());
                let cross_site = matches!((src_site, dst_site), (Some(a), Some(b)) if a != b);
                LogonGroup {
                    event_id: k.event_id.clone(),
                    user: k.user.clone(),
                    domain: k.domain.clone(),
                    logon_type: k.logon_type,
                    outcome: k.outcome,
                    source_ip: k.source_ip,
                    source_host: k.source_host.clone(),
                    source_site: site(src_site),
                    source_asset: asset(src_asset),
                    host: k.host.clone(),
                    host_ip: k.host_ip,
                    host_site: site(dst_site),
                    host_asset: asset(dst_asset),
                    cross_site,
                    count: a.count,
                    first_seen: a.first,
                    last_seen: a.last,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.cross_site
                .cmp(&a.cross_site)
                .then(a.first_seen.cmp(&b.first_seen))
                .then_with(|| a.sort_key().cmp(&b.sort_key()))
        });
        out
    }
}

/// An asset named like the host: exactly, or by its short name (`DC1` for
/// `DC1.corp.example`), ignoring ASCII case as Windows does.
/// The site and asset of one end of a logon: by its address, else by its host name (an
/// asset of that name, whose site is the asset's).
pub fn place_end(
    org: &Org,
    ip: Option<std::net::IpAddr>,
    host: Option<&str>,
) -> (Option<SiteId>, Option<AssetId>) {
    let by_ip = ip.map(|ip| org.locate(ip));
    let asset = by_ip
        .and_then(|l| l.asset)
        .or_else(|| host.and_then(|h| asset_for_host(org, h)));
    let site = by_ip
        .and_then(|l| l.site)
        .or_else(|| asset.map(|a| org.asset(a).site));
    (site, asset)
}

pub fn asset_for_host(org: &Org, host: &str) -> Option<AssetId> {
    if let Some(a) = org.asset_by_name(host) {
        return Some(a);
    }
    let short = host.split('.').next().unwrap_or(host);
    org.assets
        .iter()
        .position(|a| {
            a.name.eq_ignore_ascii_case(host)
                || a.name.eq_ignore_ascii_case(short)
                || a.name
                    .split('.')
                    .next()
                    .is_some_and(|n| n.eq_ignore_ascii_case(short))
        })
        .and_then(|i| u32::try_from(i).ok())
        .map(AssetId)
}

/// One group of logons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogonGroup {
    /// `4624`, `4625`, `sshd`, `sudo`, `su`; serialised as a number for Windows ids.
    #[serde(serialize_with = "number_or_name")]
    pub event_id: String,
    pub user: Option<String>,
    pub domain: Option<String>,
    pub logon_type: Option<u8>,
    pub outcome: Outcome,
    pub source_ip: Option<IpAddr>,
    pub source_host: Option<String>,
    pub source_site: Option<String>,
    pub source_asset: Option<String>,
    /// The host logged on to.
    pub host: Option<String>,
    pub host_ip: Option<IpAddr>,
    pub host_site: Option<String>,
    pub host_asset: Option<String>,
    /// Source and destination are in different sites of the organisation.
    pub cross_site: bool,
    pub count: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

fn number_or_name<S: serde::Serializer>(id: &str, s: S) -> Result<S::Ok, S::Error> {
    match id.parse::<u64>() {
        Ok(n) => s.serialize_u64(n),
        Err(_) => s.serialize_str(id),
    }
}

impl LogonGroup {
    fn sort_key(
        &self,
    ) -> (
        String,
        Option<String>,
        Option<String>,
        Option<IpAddr>,
        Outcome,
        Option<u8>,
    ) {
        (
            self.event_id.clone(),
            self.host.clone(),
            self.user.clone(),
            self.source_ip,
            self.outcome,
            self.logon_type,
        )
    }
}
