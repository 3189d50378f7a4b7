//! Per-flow enrichment: where each end is, which way the flow crosses, the local time at
//! the source site, and the policy's verdict.

use crate::hours::LocalTime;
use crate::policy::Verdict;
use crate::{Org, SiteId};
use chrono::{Offset, TimeZone};
use sekisho_event::{Flow, Timestamp};
use serde::Serialize;

/// Where an address is in the organisation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// `None`: outside every site (the Internet, or an undeclared network).
    pub site: Option<SiteId>,
    pub asset: Option<crate::AssetId>,
}

/// Which way a flow goes relative to the sites.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Both ends in the same site.
    IntraSite,
    /// From one site to another.
    CrossSite,
    /// From outside every site into one.
    Inbound,
    /// From a site to outside every site.
    Outbound,
    /// Neither end in a site.
    External,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::IntraSite => "intra-site",
            Direction::CrossSite => "cross-site",
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::External => "external",
        }
    }

    fn of(src: Location, dst: Location) -> Self {
        match (src.site, dst.site) {
            (Some(a), Some(b)) if a == b => Direction::IntraSite,
            (Some(_), Some(_)) => Direction::CrossSite,
            (None, Some(_)) => Direction::Inbound,
            (Some(_), None) => Direction::Outbound,
            (None, None) => Direction::External,
        }
    }
}

/// A flow's enrichment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Enriched {
    pub src: Location,
    pub dst: Location,
    pub direction: Direction,
    /// The site whose clock applies: the source's, or the destination's for inbound flows.
    pub clock_site: Option<SiteId>,
    /// Local time at `clock_site` when the flow started.
    pub local: Option<LocalTime>,
    pub verdict: Verdict,
}

/// Enriches flows against one org. Holds a small per-site cache of UTC offsets, so it is
/// `&mut` and one per thread.
#[derive(Debug)]
pub struct Enricher<'o> {
    org: &'o Org,
    /// Per site: (quarter-hour bucket, UTC offset in seconds) of the last lookup. Offsets
    /// change only at transitions, which fall on quarter hours in every IANA zone in use.
    offsets: Vec<(i64, i32)>,
}

const BUCKET: i64 = 15 * Timestamp::MINUTE;

impl<'o> Enricher<'o> {
    pub fn new(org: &'o Org) -> Self {
        Self {
            org,
            offsets: vec![(i64::MIN, 0); org.sites.len()],
        }
    }

    pub fn org(&self) -> &'o Org {
        self.org
    }

    /// Enriches one flow.
    #[inline]
    pub fn enrich(&mut self, flow: &Flow) -> Enriched {
        let src = self.org.locate(flow.orig_ip);
        let dst = self.org.locate(flow.resp_ip);
        let direction = Direction::of(src, dst);
        let clock_site = src.site.or(dst.site);
        let local = clock_site.map(|s| self.local_time(s, flow.ts));
        let verdict =
            self.org
                .policy
                .evaluate(flow, src, dst, direction == Direction::CrossSite, local);
        Enriched {
            src,
            dst,
            direction,
            clock_site,
            local,
            verdict,
        }
    }

    /// Local time at a site.
    pub fn local_time(&mut self, site: SiteId, ts: Timestamp) -> LocalTime {
        let micros = ts.as_micros();
        let bucket = micros.div_euclid(BUCKET);
        let slot = &mut self.offsets[site.index()];
        if slot.0 != bucket {
            *slot = (
                bucket,
                utc_offset(&self.org.sites[site.index()].timezone, ts),
            );
        }
        local_from_offset(micros, slot.1)
    }
}

fn utc_offset(tz: &chrono_tz::Tz, ts: Timestamp) -> i32 {
    match ts.to_datetime() {
        Some(dt) => tz
            .offset_from_utc_datetime(&dt.naive_utc())
            .fix()
            .local_minus_utc(),
        None => 0,
    }
}

fn local_from_offset(micros: i64, offset_secs: i32) -> LocalTime {
    let local_secs = micros.div_euclid(Timestamp::SECOND) + i64::from(offset_secs);
    let day = local_secs.div_euclid(86_400);
    let minute = (local_secs.rem_euclid(86_400) / 60) as u16;
    // 1970-01-01 was a Thursday (index 3 when Monday is 0).
    let weekday = (day + 3).rem_euclid(7) as u8;
    LocalTime {
        weekday,
        minute,
        day: day.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_matches_chrono_including_dst() {
        // 2024-03-10 07:59:59Z is 01:59:59 CST in Chicago; a second later it is 03:00 CDT.
        let tz: chrono_tz::Tz = "America/Chicago".parse().unwrap();
        for (secs, weekday, minute) in
            [(1_710_057_599i64, 6u8, 60 + 59), (1_710_057_600, 6, 3 * 60)]
        {
            let ts = Timestamp::from_micros(secs * Timestamp::SECOND);
            let t = local_from_offset(ts.as_micros(), utc_offset(&tz, ts));
            assert_eq!((t.weekday, t.minute), (weekday, minute as u16), "{secs}");
        }
    }
}
