//! `first-seen-crossing`: a path between sites that was never used before.
//!
//! **What it does.** Learns which crossings are normal: for every established cross-site
//! flow, the key (source site — or source host with `first_seen_crossing.key = "host"` —,
//! destination asset when the destination is a declared asset, else destination site,
//! service). The first `baseline_days` days, counted from the earliest flow seen, only
//! learn. After that, a key never seen before gives one alert and is learned. A connection
//! whose state is unknown (a source that does not say) counts as established; attempts that
//! were never answered do not (they are fan-out's business).
//!
//! **Why it matters.** The intruders' way into headquarters was a path that had no business
//! existing: an office host talking to an HQ server over an admin protocol. A policy catches
//! the paths someone thought of; this catches the ones nobody did, whatever the policy says.
//!
//! **Example.** After a 7-day baseline in which `th-bkk` never spoke SMB to `jp-fs01`, the
//! flow `10.20.3.4 → 10.10.5.10:445` gives "new crossing th-bkk → jp-hq jp-fs01 over smb".
//! Severity `low`, `medium` when the service is an admin service or the destination asset
//! holds data (both hold here).
//!
//! **Saved baseline.** `sekisho analyze --save-baseline FILE` writes what was learned
//! (by name, see `sekisho_model::baseline`); `--baseline FILE` loads it into
//! `first_seen_crossing.saved`, and then nothing is learned silently: every crossing not in
//! the file alerts from the first flow on (and is learned, so the saved union grows).
//!
//! **Known false positives.** New legitimate work: a new application, a server moved between
//! sites, a baseline shorter than the cycle of some job (monthly reports). Keys forgotten
//! under memory pressure (least-recently-seen first) alert again when they return.
//!
//! **ATT&CK.** T1021 (Remote Services, with the sub-technique of the service) for admin
//! services; none for other services, where a new path is not by itself a technique.

use crate::bounded::{BoundedMap, Fp, cap, caps, ip_key};
use crate::common::{
    Pending, Watermark, describe, established, merge_context, minutes, remote_services_attack,
};
use crate::{AlertSink, Detector, DetectorSpec, DetectorStats, FlowView};
use sekisho_event::{Alert, Severity, Timestamp};
use sekisho_model::baseline::{Baseline, CrossingSource, KnownCrossing};
use sekisho_model::settings::FirstSeenKey;
use sekisho_model::{Direction, Enriched, Org};
use std::sync::Arc;

/// `first-seen-crossing`.
pub static SPEC: DetectorSpec = DetectorSpec {
    id: "first-seen-crossing",
    title: "a crossing between sites not seen in the baseline or since",
    attack: Some("T1021"),
    build,
};

fn build(org: &Org) -> Option<Box<dyn Detector + '_>> {
    let s = &org.detectors.first_seen_crossing;
    let limits = &org.detectors.limits;
    s.enabled.then(|| {
        let mut known = BoundedMap::new(cap(limits.max_tracked_keys, caps::FINGERPRINTS));
        for c in s.saved.iter().flat_map(|b| &b.crossings) {
            known.entry(fingerprint(c), || *c);
        }
        Box::new(FirstSeen {
            org,
            by_host: s.key == FirstSeenKey::Host,
            baseline: if s.saved.is_some() {
                0
            } else {
                i64::from(s.baseline_days) * Timestamp::DAY
            },
            saved: s.saved.clone(),
            start: i64::MAX,
            last: i64::MIN,
            known,
            pending: Pending::new(
                cap(limits.max_tracked_keys, caps::OPEN_ALERTS),
                minutes(limits.reorder_slack_minutes),
            ),
            clock: Watermark::new(),
        }) as Box<dyn Detector + '_>
    })
}

#[derive(Debug)]
struct FirstSeen<'o> {
    org: &'o Org,
    by_host: bool,
    /// Learning window; 0 when a saved baseline was loaded.
    baseline: i64,
    saved: Option<Arc<Baseline>>,
    /// Earliest flow time seen: the baseline runs from here.
    start: i64,
    /// Latest flow time seen.
    last: i64,
    /// The crossings learned (or loaded), by fingerprint.
    known: BoundedMap<u64, KnownCrossing>,
    /// New crossings held for the reorder slack, so the alert names the earliest flow.
    pending: Pending,
    clock: Watermark,
}

/// The crossing a cross-site flow makes, as this detector keys it.
fn crossing_of(by_host: bool, f: &sekisho_event::Flow, e: &Enriched) -> Option<KnownCrossing> {
    let (Some(src_site), Some(to_site)) = (e.src.site, e.dst.site) else {
        return None;
    };
    Some(KnownCrossing {
        from: if by_host {
            CrossingSource::Host(f.orig_ip)
        } else {
            CrossingSource::Site(src_site)
        },
        to_site,
        to_asset: e.dst.asset,
        service: f.service,
    })
}

/// The destination side of the key is the asset when the destination is a declared asset,
/// else its site (so declaring a new asset makes the crossings to it new once).
fn fingerprint(c: &KnownCrossing) -> u64 {
    let from = match c.from {
        CrossingSource::Site(s) => u128::from(s.0),
        CrossingSource::Host(ip) => ip_key(ip),
    };
    let to = match c.to_asset {
        Some(a) => (1u64 << 32) | u64::from(a.0),
        None => u64::from(c.to_site.0),
    };
    Fp::new(0xf1)
        .u128(from)
        .u64(to)
        .u64(c.service as u64)
        .finish()
}

impl Detector for FirstSeen<'_> {
    fn id(&self) -> &'static str {
        SPEC.id
    }

    #[inline]
    fn on_flow(&mut self, view: &FlowView<'_>, out: &mut AlertSink) {
        let f = view.flow;
        let ts = f.ts.as_micros();
        self.start = self.start.min(ts);
        self.last = self.last.max(ts);
        if self.clock.advance(ts) {
            self.pending.sweep(ts, out);
            self.clock.sweep_at(ts.saturating_add(Timestamp::MINUTE));
        }
        let e = view.enriched;
        if e.direction != Direction::CrossSite || !established(f) {
            return;
        }
        let Some(crossing) = crossing_of(self.by_host, f, e) else {
            return;
        };
        let key = fingerprint(&crossing);
        let (org, by_host, window) = (self.org, self.by_host, self.baseline);
        let saved = self.saved.as_deref();
        if self.pending.contains(key) {
            self.pending.offer(
                key,
                f,
                || make_alert(org, by_host, window, saved, view),
                out,
            );
            return;
        }
        if !self.known.entry(key, || crossing).1 || ts < self.start.saturating_add(self.baseline) {
            return;
        }
        self.pending.offer(
            key,
            f,
            || make_alert(org, by_host, window, saved, view),
            out,
        );
    }

    fn finish(&mut self, out: &mut AlertSink) {
        self.pending.flush(out);
    }

    fn learned_baseline(&self) -> Option<Baseline> {
        let mut crossings: Vec<KnownCrossing> = self.known.iter().map(|(_, c)| *c).collect();
        crossings.sort();
        let first = self
            .saved
            .as_ref()
            .and_then(|b| b.first_flow)
            .map(|t| t.as_micros())
            .into_iter()
            .chain((self.start != i64::MAX).then_some(self.start))
            .min();
        Some(Baseline {
            key: if self.by_host {
                FirstSeenKey::Host
            } else {
                FirstSeenKey::Site
            },
            first_flow: first.map(Timestamp::from_micros),
            last_flow: (self.last != i64::MIN)
                .then(|| Timestamp::from_micros(self.last))
                .or_else(|| self.saved.as_ref().and_then(|b| b.last_flow)),
            crossings,
        })
    }

    fn stats(&self) -> DetectorStats {
        let mut s = DetectorStats::default();
        s.add(&self.known);
        s.add(self.pending.table());
        s
    }
}

/// "the 7-day baseline", or the saved baseline with the days it was learned over.
fn describe_baseline(window: i64, saved: Option<&Baseline>) -> String {
    let day = |t: Timestamp| t.to_string().chars().take(10).collect::<String>();
    match saved {
        Some(b) => match (b.first_flow, b.last_flow) {
            (Some(a), Some(z)) => {
                format!("the saved baseline (learned {} to {})", day(a), day(z))
            }
            _ => "the saved baseline".to_string(),
        },
        None => format!("the {}-day baseline", window / Timestamp::DAY),
    }
}

fn make_alert(
    org: &Org,
    by_host: bool,
    window: i64,
    saved: Option<&Baseline>,
    view: &FlowView<'_>,
) -> Alert {
    let learned = describe_baseline(window, saved);
    let (f, e) = (view.flow, view.enriched);
    let data = e.dst.asset.is_some_and(|a| org.asset(a).holds_data());
    let severity = if f.service.is_admin() || data {
        Severity::Medium
    } else {
        Severity::Low
    };
    let from_name = match (by_host, e.src.site) {
        (false, Some(s)) => org.site(s).id.clone(),
        _ => describe(org, f.orig_ip, e.src),
    };
    let to_name = match (e.dst.site, e.dst.asset) {
        (Some(s), Some(a)) => format!("{} {}", org.site(s).id, org.asset(a).name),
        (Some(s), None) => org.site(s).id.clone(),
        (None, _) => describe(org, f.resp_ip, e.dst),
    };
    let summary = format!(
        "new crossing {from_name} → {to_name} over {}: not seen in {learned} or since (first flow {} → {}:{})",
        f.service, f.orig_ip, f.resp_ip, f.resp_port
    );
    let mut a = Alert::for_flow(
        SPEC.id,
        severity,
        f,
        org.endpoint(Some(f.orig_ip), e.src),
        org.endpoint(Some(f.resp_ip), e.dst),
        summary,
    );
    a.attack = f
        .service
        .is_admin()
        .then(|| remote_services_attack(f.service).to_string());
    if let Some(r) = org.rule_name(e.verdict.rule) {
        a.rule = Some(r.to_string());
    }
    merge_context(&mut a, view.context);
    a
}
