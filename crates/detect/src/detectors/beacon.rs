//! `beacon`: one host calling one destination like clockwork — command and control.
//!
//! **What it does.** Watches pairs (source address, destination address) of flows that leave
//! the organisation (outbound), and with `beacon.cross_site = true` also pairs between sites.
//! Every pair has a cheap counter; a pair that reaches 4 connections gets a sample buffer
//! (at most `beacon.max_detailed_pairs` such pairs, least-recently-seen first out) that keeps
//! up to 256 connection start times (seconds) and originator byte counts. A pair is scored
//! when its buffer fills (a pair that does not score then starts a fresh buffer) and at the
//! end of the input, the way RITA scores beacons, with one change to the weights:
//!
//! * **timing** (intervals between distinct start times, at least 3 of them): Bowley
//!   skewness of the intervals (`1 − |skew|`; a spread under 10 s or a median equal to a
//!   quartile counts as symmetric), their median absolute deviation relative to the median
//!   (`(median − MAD) / median`, weighted twice), and how well the median interval explains
//!   the observed span (`min(1, median × intervals / span)`: long silences and bursts lower
//!   it — RITA's "connection count over the span");
//! * **size** (bytes sent by the source): the same skewness and MAD scores, and smallness
//!   (`1 − median / 64 KiB`): beacons say little;
//! * **total** = (2 × timing + size) / 3, in 0..1. Timing weighs more than in RITA because
//!   constant-size traffic at random times (NTP, health checks to many servers) otherwise
//!   scores too high.
//!
//! A pair with at least `min_connections` connections and a total of at least `min_score`
//! is reported once, with its period (median interval) and jitter (MAD).
//!
//! **Why it matters.** Intruders whose tools leave no trace on the hosts still have to reach
//! their controller; implants call home on a timer. In the breach, the first hint that the
//! other offices were compromised too would have been their hosts calling the same outside
//! address every few minutes.
//!
//! **Example.** `10.20.3.4 → 203.0.113.50:443` every 300 s ± 10 s, 240 bytes each, for a day:
//! when the buffer fills (the 259th connection: 3 counted, 256 sampled) → "th-bkk 10.20.3.4
//! → external 203.0.113.50 over https: 259 connections every 300s (jitter ±5s), beacon
//! score 0.97". `ts` is the first connection; the evidence is the earliest sampled ones.
//! Severity `high` when outbound, `medium` between sites.
//!
//! **Known false positives.** Software that polls on a timer: update checks, telemetry,
//! monitoring agents, mail and chat clients, NTP, cloud sync. Pairs evicted under memory
//! pressure start over (a known false negative when more than `max_detailed_pairs` pairs are
//! active at once).
//!
//! **ATT&CK.** T1071 (Application Layer Protocol: .001 web, .003 mail, .004 DNS); T1573
//! (Encrypted Channel) for TLS.

use crate::bounded::{Fp, cap, caps, ip_key};
use crate::common::{alert_from_evidence, describe, emit_sorted, fmt_duration, push_earliest};
use crate::fp_map::FpMap;
use crate::{AlertSink, Detector, DetectorSpec, DetectorStats, FlowView};
use sekisho_event::{Alert, Evidence, Flow, Service, Severity, Timestamp};
use sekisho_model::{Direction, Location, Org};
use std::net::IpAddr;

/// `beacon`.
pub static SPEC: DetectorSpec = DetectorSpec {
    id: "beacon",
    title: "periodic connections from one host to one destination (command and control)",
    attack: Some("T1071"),
    build,
};

/// Connections after which a pair gets a sample buffer.
const PROMOTE: u32 = 4;
/// Samples kept per pair.
const SAMPLES: usize = 256;
/// Flows kept as evidence per pair.
const EVIDENCE: usize = 4;

fn build(org: &Org) -> Option<Box<dyn Detector + '_>> {
    let s = &org.detectors.beacon;
    let keys = org.detectors.limits.max_tracked_keys;
    s.enabled.then(|| {
        Box::new(Beacon {
            org,
            cross_site: s.cross_site,
            min_connections: u64::from(s.min_connections.max(4)),
            min_score: s.min_score,
            pairs: FpMap::new(cap(keys, caps::BEACON_PAIRS)),
            sampled: 0,
            max_sampled: cap(keys, s.max_detailed_pairs),
            demoted: 0,
        }) as Box<dyn Detector + '_>
    })
}

#[derive(Debug)]
struct Detail {
    src: IpAddr,
    dst: IpAddr,
    src_loc: Location,
    dst_loc: Location,
    direction: Direction,
    /// Seconds; sample times are offsets from here.
    base: i64,
    /// Samples: start offset (seconds, as `i32` bits) in the low half, source bytes in the
    /// high half — one allocation, touched once per flow.
    samples: Vec<u64>,
    /// Connections counted, including those before sampling began.
    total: u64,
    bytes_out: u64,
    bytes_in: u64,
    first: i64,
    last: i64,
    evidence: Vec<Evidence>,
    /// Start of the latest flow kept as evidence, so later flows skip the evidence list.
    evidence_latest: i64,
    reported: bool,
}

impl Detail {
    fn add(&mut self, f: &Flow) {
        let ts = f.ts.as_micros();
        self.total += 1;
        self.bytes_out = self.bytes_out.saturating_add(f.orig_bytes);
        self.bytes_in = self.bytes_in.saturating_add(f.resp_bytes);
        self.first = self.first.min(ts);
        self.last = self.last.max(ts);
        if self.reported {
            return;
        }
        if self.evidence.len() < EVIDENCE || ts < self.evidence_latest {
            push_earliest(&mut self.evidence, f, EVIDENCE);
            self.evidence_latest = self
                .evidence
                .iter()
                .map(|e| e.ts.as_micros())
                .max()
                .unwrap_or(ts);
        }
        let off = (f.ts.as_secs() - self.base).clamp(i64::from(i32::MIN), i64::from(i32::MAX));
        let size = u32::try_from(f.orig_bytes).unwrap_or(u32::MAX);
        self.samples
            .push(u64::from(off as i32 as u32) | (u64::from(size) << 32));
    }

    /// Sample times (offsets, seconds) and sizes.
    fn unpacked(&self) -> (Vec<i32>, Vec<u32>) {
        self.samples
            .iter()
            .map(|&s| (s as u32 as i32, (s >> 32) as u32))
            .unzip()
    }
}

/// One pair: a counter until it reaches [`PROMOTE`] connections, then a sample buffer.
#[derive(Debug)]
enum Pair {
    Counting { count: u32, first: i64 },
    Sampled(Box<Detail>),
}

#[derive(Debug)]
struct Beacon<'o> {
    org: &'o Org,
    cross_site: bool,
    min_connections: u64,
    min_score: f64,
    /// Every pair, in one table so that a flow costs one lookup, whose slot
    /// [`Detector::prefetch`] loads ahead.
    pairs: FpMap<u64, Pair>,
    /// Pairs with a sample buffer now, and the most allowed.
    sampled: usize,
    max_sampled: usize,
    /// Sample buffers dropped to make room for others.
    demoted: u64,
}

/// The pair a flow belongs to.
#[inline]
fn pair_key(f: &Flow) -> u64 {
    Fp::new(0xbe)
        .u128(ip_key(f.orig_ip))
        .u128(ip_key(f.resp_ip))
        .finish()
}

impl Beacon<'_> {
    /// Whether this detector follows a flow going this way.
    #[inline]
    fn follows(&self, direction: Direction) -> bool {
        match direction {
            Direction::Outbound => true,
            Direction::CrossSite => self.cross_site,
            _ => false,
        }
    }

    /// Takes the sample buffers of the least-recently-seen tenth of the sampled pairs (they
    /// start counting again), handing them to `out` to be scored.
    #[cold]
    fn demote_oldest(&mut self, out: &mut Vec<Detail>) {
        let n = (self.max_sampled / 10).max(1);
        for key in self.pairs.oldest_keys(n, |p| matches!(p, Pair::Sampled(_))) {
            if let Some(p) = self.pairs.peek_mut(&key) {
                let first = match p {
                    Pair::Sampled(d) => d.first,
                    Pair::Counting { first, .. } => *first,
                };
                if let Pair::Sampled(d) = std::mem::replace(p, Pair::Counting { count: 0, first }) {
                    out.push(*d);
                    self.demoted += 1;
                }
            }
        }
    }
}

/// Scores a pair; the alert when it is a beacon.
fn judge(org: &Org, min_connections: u64, min_score: f64, d: &Detail) -> Option<Alert> {
    if d.reported || d.total < min_connections || d.samples.len() < 4 {
        return None;
    }
    let (times, sizes) = d.unpacked();
    let s = score(&times, &sizes)?;
    if s.total < min_score {
        return None;
    }
    Some(beacon_alert(org, d, &s))
}

fn beacon_alert(org: &Org, d: &Detail, s: &Score) -> Alert {
    let service = d.evidence.first().map_or(Service::Other, |e| e.service);
    let summary = format!(
        "{} → {} over {service}: {} connections every {} (jitter ±{}), beacon score {:.2}",
        describe(org, d.src, d.src_loc),
        describe(org, d.dst, d.dst_loc),
        d.total,
        fmt_secs(s.period),
        fmt_secs(s.jitter),
        s.total
    );
    let severity = if d.direction == Direction::Outbound {
        Severity::High
    } else {
        Severity::Medium
    };
    let mut a = alert_from_evidence(
        SPEC.id,
        severity,
        d.evidence.clone(),
        org.endpoint(Some(d.src), d.src_loc),
        org.endpoint(Some(d.dst), d.dst_loc),
        summary,
    );
    a.ts = Timestamp::from_micros(d.first);
    a.last_ts = Timestamp::from_micros(d.last);
    a.flow_count = d.total;
    a.bytes_out = d.bytes_out;
    a.bytes_in = d.bytes_in;
    a.attack = Some(
        match service {
            Service::Https => "T1573",
            Service::Http => "T1071.001",
            Service::Smtp => "T1071.003",
            Service::Dns => "T1071.004",
            _ => "T1071",
        }
        .to_string(),
    );
    a
}

/// `299s` under ten minutes (the exact period matters there), else rounded to the minute.
fn fmt_secs(s: f64) -> String {
    let s = s.round().max(0.0) as i64;
    if s < 600 {
        format!("{s}s")
    } else {
        fmt_duration((s + 30) / 60 * Timestamp::MINUTE)
    }
}

impl Detector for Beacon<'_> {
    fn id(&self) -> &'static str {
        SPEC.id
    }

    fn prefetches(&self) -> bool {
        true
    }

    #[inline]
    fn prefetch(&self, view: &FlowView<'_>) {
        if self.follows(view.enriched.direction) {
            self.pairs.prefetch(pair_key(view.flow));
        }
    }

    #[inline]
    fn on_flow(&mut self, view: &FlowView<'_>, out: &mut AlertSink) {
        let e = view.enriched;
        if !self.follows(e.direction) {
            return;
        }
        let f = view.flow;
        let ts = f.ts.as_micros();
        let key = pair_key(f);
        // A full table hands back its least-recently-seen pairs: scored before they go.
        let mut evicted: Vec<Detail> = Vec::new();
        let (pair, _) = self.pairs.entry_with(
            key,
            || Pair::Counting {
                count: 0,
                first: ts,
            },
            |_, p| {
                if let Pair::Sampled(d) = p {
                    evicted.push(*d);
                }
            },
        );
        let promote = match pair {
            Pair::Sampled(d) => {
                d.add(f);
                let full = d.samples.len() >= SAMPLES;
                if full {
                    let found = judge(self.org, self.min_connections, self.min_score, d);
                    if let Some(a) = found {
                        d.reported = true;
                        out.push(a);
                    }
                    // Reported pairs only count from now on; others start a fresh sample.
                    d.samples = Vec::new();
                    d.evidence.clear();
                    d.base = f.ts.as_secs();
                }
                None
            }
            Pair::Counting { count, first } => {
                *count = count.saturating_add(1);
                *first = (*first).min(ts);
                (*count >= PROMOTE).then_some((u64::from(*count - 1), *first))
            }
        };
        if let Some((seen_before, first)) = promote {
            if self.sampled >= self.max_sampled {
                self.demote_oldest(&mut evicted);
            }
            let mut d = Box::new(Detail {
                src: f.orig_ip,
                dst: f.resp_ip,
                src_loc: e.src,
                dst_loc: e.dst,
                direction: e.direction,
                base: f.ts.as_secs(),
                samples: Vec::with_capacity(16),
                total: seen_before,
                bytes_out: 0,
                bytes_in: 0,
                first,
                last: ts,
                evidence: Vec::new(),
                evidence_latest: i64::MIN,
                reported: false,
            });
            d.add(f);
            if let Some(p) = self.pairs.peek_mut(&key) {
                *p = Pair::Sampled(d);
                self.sampled += 1;
            }
        }
        if !evicted.is_empty() {
            self.sampled -= evicted.len();
            let mut alerts: Vec<Alert> = evicted
                .iter()
                .filter_map(|d| judge(self.org, self.min_connections, self.min_score, d))
                .collect();
            emit_sorted(&mut alerts, out);
        }
    }

    fn finish(&mut self, out: &mut AlertSink) {
        let mut alerts: Vec<Alert> = self
            .pairs
            .iter()
            .filter_map(|(_, p)| match p {
                Pair::Sampled(d) => judge(self.org, self.min_connections, self.min_score, d),
                Pair::Counting { .. } => None,
            })
            .collect();
        emit_sorted(&mut alerts, out);
    }

    fn stats(&self) -> DetectorStats {
        let mut s = DetectorStats::default();
        s.add_table(self.pairs.len(), self.pairs.evicted());
        s.evicted += self.demoted;
        s
    }
}

/// A pair's beacon score and what it is made of.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Score {
    pub total: f64,
    pub timing: f64,
    pub size: f64,
    /// Median interval, seconds.
    pub period: f64,
    /// Median absolute deviation of the intervals, seconds.
    pub jitter: f64,
}

/// Scores connection times (seconds, any order) and sizes; `None` with fewer than 3
/// non-zero intervals.
pub(crate) fn score(times: &[i32], sizes: &[u32]) -> Option<Score> {
    let mut t: Vec<i64> = times.iter().map(|&x| i64::from(x)).collect();
    t.sort_unstable();
    let mut deltas: Vec<f64> = t
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|&d| d > 0)
        .map(|d| d as f64)
        .collect();
    if deltas.len() < 3 {
        return None;
    }
    deltas.sort_by(f64::total_cmp);
    let span: f64 = deltas.iter().sum();
    let (median, mad) = median_mad(&deltas);
    let t_skew = 1.0 - bowley(&deltas).abs();
    let t_mad = mad_score(median, mad);
    let regularity = (median * deltas.len() as f64 / span).min(1.0);
    let timing = (t_skew + 2.0 * t_mad + regularity) / 4.0;

    let mut s: Vec<f64> = sizes.iter().map(|&x| f64::from(x)).collect();
    s.sort_by(f64::total_cmp);
    let (s_median, s_mad) = median_mad(&s);
    let s_skew = 1.0 - bowley(&s).abs();
    let s_mad_score = mad_score(s_median, s_mad);
    let smallness = 1.0 - (s_median / 65_536.0).min(1.0);
    let size = (s_skew + s_mad_score + smallness) / 3.0;

    let total = ((2.0 * timing + size) / 3.0 * 1000.0).round() / 1000.0;
    Some(Score {
        total: total.clamp(0.0, 1.0),
        timing,
        size,
        period: median,
        jitter: mad,
    })
}

/// Linear-interpolation quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Bowley (quartile) skewness; 0 when the quartiles are under 10 apart or the median sits on
/// a quartile (as RITA does: such distributions are as regular as it gets).
fn bowley(sorted: &[f64]) -> f64 {
    let (q1, q2, q3) = (
        quantile(sorted, 0.25),
        quantile(sorted, 0.5),
        quantile(sorted, 0.75),
    );
    let den = q3 - q1;
    if den >= 10.0 && q2 != q1 && q2 != q3 {
        (q1 + q3 - 2.0 * q2) / den
    } else {
        0.0
    }
}

fn median_mad(sorted: &[f64]) -> (f64, f64) {
    let median = quantile(sorted, 0.5);
    let mut dev: Vec<f64> = sorted.iter().map(|x| (x - median).abs()).collect();
    dev.sort_by(f64::total_cmp);
    (median, quantile(&dev, 0.5))
}

/// `(median − MAD) / median`, in 0..1; 1 when the median is under 1 (all zero: constant).
fn mad_score(median: f64, mad: f64) -> f64 {
    if median < 1.0 {
        return 1.0;
    }
    ((median - mad) / median).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random numbers in 0..1 (xorshift), for test data only.
    fn rng(seed: &mut u64) -> f64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn a_jittered_periodic_pair_scores_high() {
        let mut seed = 7;
        let mut t = 0f64;
        let mut times = Vec::new();
        let mut sizes = Vec::new();
        for _ in 0..200 {
            t += 300.0 + (rng(&mut seed) - 0.5) * 30.0;
            times.push(t as i32);
            sizes.push(240 + (rng(&mut seed) * 20.0) as u32);
        }
        let s = score(&times, &sizes).unwrap();
        assert!(s.total >= 0.95, "{s:?}");
        assert!((s.period - 300.0).abs() < 10.0, "{s:?}");
    }

    #[test]
    fn poisson_arrivals_of_constant_size_score_low() {
        let mut seed = 11;
        let mut t = 0f64;
        let mut times = Vec::new();
        for _ in 0..200 {
            t += -600.0 * (1.0 - rng(&mut seed)).ln();
            times.push(t as i32);
        }
        let sizes = vec![300; 200];
        let s = score(&times, &sizes).unwrap();
        assert!(s.total < 0.8, "{s:?}");
    }

    #[test]
    fn bursts_at_random_times_score_below_the_default_bar() {
        // Ten connections a second apart (a user clicking), at random times of the day.
        let mut seed = 3;
        let mut times = Vec::new();
        let mut t = 0.0;
        for _ in 0..12 {
            t += 600.0 + rng(&mut seed) * 14_400.0;
            for i in 0..10 {
                times.push(t as i32 + i);
            }
        }
        let sizes: Vec<u32> = (0..120).map(|i| 1000 + i * 37 % 5000).collect();
        let s = score(&times, &sizes).unwrap();
        assert!(s.total < 0.85, "{s:?}");
        assert!(s.timing < 0.8, "{s:?}");
        assert_eq!(score(&[0, 0, 10, 20], &[1, 1, 1, 1]), None);
    }
}
