//! The resolved scenario: calendar, scale, the organisation, the traffic rates and the plans
//! (help-desk sessions, the intrusion) that every per-file generator reads.

use crate::intrusion::{self, Intrusion};
use crate::org::Org;
use crate::rng::Rng;
use crate::{DemoConfig, Scale};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Weekday};
use chrono_tz::Tz;
use sekisho_event::Timestamp;
use std::net::{Ipv4Addr, Ipv6Addr};

pub(crate) const SEC: i64 = Timestamp::SECOND;
pub(crate) const MIN: i64 = Timestamp::MINUTE;
pub(crate) const HOUR: i64 = Timestamp::HOUR;
pub(crate) const DAY: i64 = Timestamp::DAY;

/// 2024-07-01T00:00:00Z, a Monday. Fixed so that the calendar (weekends, the weekly
/// scanner sweep) reads the same in every run; the seed moves the intrusion within it.
pub(crate) const START_US: i64 = 1_719_792_000 * SEC;

pub(crate) fn start_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 7, 1).unwrap_or_default()
}

/// Relative activity per local hour on a working day and on a weekend day (peak 100).
pub(crate) const WEEKDAY_HOURS: [u32; 24] = [
    1, 1, 1, 1, 1, 2, 4, 20, 70, 100, 100, 95, 60, 90, 100, 100, 95, 70, 40, 20, 10, 6, 3, 2,
];
pub(crate) const WEEKEND_HOURS: [u32; 24] = [
    1, 1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 7, 7, 7, 7, 6, 5, 4, 3, 3, 2, 2, 1,
];

fn sum(x: &[u32; 24]) -> u32 {
    x.iter().sum()
}

/// Local time of an instant.
pub(crate) fn local(tz: Tz, us: i64) -> DateTime<Tz> {
    DateTime::from_timestamp_micros(us)
        .unwrap_or_default()
        .with_timezone(&tz)
}

/// The instant of a local wall-clock time (the earlier one in a DST overlap, the hour
/// after in a DST gap).
pub(crate) fn at_local(tz: Tz, date: NaiveDate, hour: u32, minute: u32) -> i64 {
    let naive = date.and_hms_opt(hour, minute, 0).unwrap_or_default();
    match tz.from_local_datetime(&naive).earliest() {
        Some(dt) => dt.timestamp_micros(),
        None => at_local(tz, date, hour + 1, minute),
    }
}

pub(crate) fn is_workday(d: Weekday) -> bool {
    !matches!(d, Weekday::Sat | Weekday::Sun)
}

/// Business hours as the org file declares them (Mon–Fri 08:00–19:00 local).
pub(crate) fn in_business_hours(tz: Tz, us: i64) -> bool {
    let l = local(tz, us);
    is_workday(l.weekday()) && (8..19).contains(&l.hour())
}

/// Activity weight of each UTC hour of one UTC day at a site, from the site's local
/// calendar: Tokyo's morning is Houston's night.
pub(crate) fn hour_weights(tz: Tz, day_start: i64) -> [u32; 24] {
    let mut w = [0u32; 24];
    for (h, slot) in w.iter_mut().enumerate() {
        let l = local(tz, day_start + h as i64 * HOUR + 30 * MIN);
        let table = if is_workday(l.weekday()) {
            &WEEKDAY_HOURS
        } else {
            &WEEKEND_HOURS
        };
        *slot = table[l.hour() as usize];
    }
    w
}

/// Size of a scale.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Params {
    pub days: u32,
    pub baseline_days: u32,
    /// Declared workstations per active one (1 = all appear in the logs).
    pub active_divisor: u32,
    pub flows_per_day: u64,
}

pub(crate) fn params(scale: Scale) -> Params {
    match scale {
        Scale::Small => Params {
            days: 7,
            baseline_days: 3,
            active_divisor: 20,
            flows_per_day: 20_000,
        },
        Scale::Medium => Params {
            days: 21,
            baseline_days: 7,
            active_divisor: 1,
            flows_per_day: 140_000,
        },
        Scale::Large => Params {
            days: 56,
            baseline_days: 7,
            active_divisor: 1,
            flows_per_day: 880_000,
        },
    }
}

/// One help-desk remote-support session: HQ jump host → an overseas workstation.
#[derive(Clone, Debug)]
pub(crate) struct HelpDesk {
    pub ts: i64,
    pub site: usize,
    pub terminal: usize,
    pub duration_us: i64,
}

#[derive(Debug)]
pub(crate) struct Scenario {
    pub seed: u64,
    pub scale: Scale,
    pub days: u32,
    pub baseline_days: u32,
    pub org: Org,
    /// Flows per workstation on a working day at 100 % activity.
    pub terminal_rate: f64,
    /// Average benign workstation flows per day over all sites (for server-side rates
    /// that follow the workstations' load: ERP database queries, mail).
    pub terminal_flows_per_day: f64,
    pub web_v4: Vec<Ipv4Addr>,
    pub web_v6: Vec<Ipv6Addr>,
    pub helpdesk: Vec<HelpDesk>,
    pub intrusion: Intrusion,
}

/// Networks of big web, cloud and CDN operators that benign browsing goes to. Attacker
/// infrastructure is drawn from other ranges (see `intrusion`).
const WEB_NETS_V4: [[u8; 2]; 20] = [
    [13, 107],
    [20, 42],
    [20, 190],
    [23, 54],
    [34, 117],
    [35, 186],
    [40, 126],
    [52, 96],
    [52, 114],
    [104, 16],
    [104, 18],
    [142, 250],
    [151, 101],
    [157, 240],
    [172, 217],
    [184, 25],
    [199, 232],
    [216, 58],
    [13, 35],
    [54, 230],
];
const WEB_NETS_V6: [[u16; 2]; 4] = [
    [0x2606, 0x4700],
    [0x2a00, 0x1450],
    [0x2620, 0x1ec],
    [0x2a03, 0x2880],
];

impl Scenario {
    pub(crate) fn new(cfg: &DemoConfig) -> Scenario {
        let p = params(cfg.scale);
        let seed = cfg.seed;
        let org = Org::new(seed, p.active_divisor);
        let flows_per_day = cfg.flows_per_day_override.unwrap_or(p.flows_per_day) as f64;
        // Workstations make ~92 % of the flows; servers, replication, backups and the
        // scanner the rest.
        let terminal_flows_per_day = flows_per_day * 0.92;
        let week_equiv = (5.0 * f64::from(sum(&WEEKDAY_HOURS))
            + 2.0 * f64::from(sum(&WEEKEND_HOURS)))
            / f64::from(sum(&WEEKDAY_HOURS));
        let mean_activity = 1.15; // terminals() draws 30..=200 %
        let active = org.active_terminals().max(1) as f64;
        let terminal_rate = terminal_flows_per_day * 7.0 / (active * mean_activity * week_equiv);

        let mut rng = Rng::stream(seed, &[0x3EB]);
        let web_v4 = (0..3000)
            .map(|_| {
                let n = rng.pick(&WEB_NETS_V4);
                Ipv4Addr::new(n[0], n[1], rng.below(256) as u8, 1 + rng.below(254) as u8)
            })
            .collect();
        let web_v6 = (0..600)
            .map(|_| {
                let n = rng.pick(&WEB_NETS_V6);
                Ipv6Addr::new(
                    n[0],
                    n[1],
                    rng.below(0x10000) as u16,
                    rng.below(0x100) as u16,
                    0,
                    0,
                    0,
                    1 + rng.below(0x100) as u16,
                )
            })
            .collect();
        let helpdesk = plan_helpdesk(seed, &org, p.days, p.baseline_days);
        let intrusion = intrusion::plan(seed, cfg.scale, &org, p.days);
        Scenario {
            seed,
            scale: cfg.scale,
            days: p.days,
            baseline_days: p.baseline_days,
            org,
            terminal_rate,
            terminal_flows_per_day,
            web_v4,
            web_v6,
            helpdesk,
            intrusion,
        }
    }

    pub(crate) fn end_us(&self) -> i64 {
        START_US + i64::from(self.days) * DAY
    }
}

/// Workstations help-desk staff support at each overseas site. Every one of them gets a
/// session during the first-seen baseline, so later sessions are never a first crossing.
const HELPDESK_POOL: usize = 8;

/// Help-desk sessions: on HQ working days, from the HQ jump host to workstations at the
/// Asian offices and Munich, inside both HQ's and the target's business hours. Houston's
/// working day does not overlap Tokyo's, so it gets none.
fn plan_helpdesk(seed: u64, org: &Org, days: u32, baseline_days: u32) -> Vec<HelpDesk> {
    let hq_tz = org.sites[0].tz;
    let mut out = Vec::new();
    for (si, site) in org.sites.iter().enumerate().skip(1) {
        if site.id == "us-hou" {
            continue;
        }
        let terms = &org.terminals[si];
        let mut pick = Rng::stream(seed, &[0x4E1D, si as u64]);
        // The pool: distinct workstations, excluding none (the foothold may be one: a
        // help-desk visit to a compromised PC is realistic and harmless here).
        let mut pool: Vec<usize> = Vec::new();
        while pool.len() < HELPDESK_POOL.min(terms.len()) {
            let t = pick.below(terms.len() as u64) as usize;
            if !pool.contains(&t) {
                pool.push(t);
            }
        }
        // HQ-local window (minutes after midnight) inside both business days.
        let (from, to) = if site.id == "de-muc" {
            (16 * 60 + 5, 18 * 60 + 10)
        } else {
            (10 * 60 + 5, 18 * 60 + 10)
        };
        let mut baseline_workdays = Vec::new();
        for d in 0..days {
            let date = start_date() + chrono::Days::new(u64::from(d));
            if !is_workday(date.weekday()) {
                continue;
            }
            if d < baseline_days {
                baseline_workdays.push(d);
            }
        }
        let nb = baseline_workdays.len().max(1);
        for d in 0..days {
            let date = start_date() + chrono::Days::new(u64::from(d));
            if !is_workday(date.weekday()) {
                continue;
            }
            let mut rng = Rng::stream(seed, &[0x4E1D, si as u64, u64::from(d)]);
            let targets: Vec<usize> =
                if let Some(k) = baseline_workdays.iter().position(|&b| b == d) {
                    pool.iter()
                        .enumerate()
                        .filter(|(i, _)| i % nb == k)
                        .map(|(_, &t)| t)
                        .collect()
                } else {
                    (0..rng.below(3)).map(|_| *rng.pick(&pool)).collect()
                };
            for t in targets {
                let start_min = from + rng.below((to - from) as u64) as u32;
                let ts =
                    at_local(hq_tz, date, start_min / 60, start_min % 60) + rng.jitter(29 * SEC);
                let duration_us = rng.log_uniform(4 * 60, 40 * 60) as i64 * SEC;
                out.push(HelpDesk {
                    ts,
                    site: si,
                    terminal: t,
                    duration_us,
                });
            }
        }
    }
    out.sort_by_key(|h| h.ts);
    out
}
