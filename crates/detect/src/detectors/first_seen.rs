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
use sekisho_model::settings::FirstSeenKey;
use sekisho_model::{Direction, Org};

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
        Box::new(FirstSeen {
            org,
            by_host: s.key == FirstSeenKey::Host,
            baseline: i64::from(s.baseline_days) * Timestamp::DAY,
            start: i64::MAX,
            known: BoundedMap::new(cap(limits.max_tracked_keys, caps::FINGERPRINTS)),
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
    baseline: i64,
    /// Earliest flow time seen: the baseline runs from here.
    start: i64,
    /// Fingerprints of the crossings learned.
    known: BoundedMap<u64, ()>,
    /// New crossings held for the reorder slack, so the alert names the earliest flow.
    pending: Pending,
    clock: Watermark,
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
        if self.clock.advance(ts) {
            self.pending.sweep(ts, out);
            self.clock.sweep_at(ts.saturating_add(Timestamp::MINUTE));
        }
        let e = view.enriched;
        if e.direction != Direction::CrossSite || !established(f) {
            return;
        }
        let (Some(src_site), Some(dst_site)) = (e.src.site, e.dst.site) else {
            return;
        };
        let from = if self.by_host {
            ip_key(f.orig_ip)
        } else {
            u128::from(src_site.0)
        };
        let to = match e.dst.asset {
            Some(a) => (1u64 << 32) | u64::from(a.0),
            None => u64::from(dst_site.0),
        };
        let key = Fp::new(0xf1)
            .u128(from)
            .u64(to)
            .u64(f.service as u64)
            .finish();
        let (org, by_host, baseline) = (self.org, self.by_host, self.baseline);
        if self.pending.contains(key) {
            self.pending
                .offer(key, f, || make_alert(org, by_host, baseline, view), out);
            return;
        }
        if !self.known.insert_key(key) || ts < self.start.saturating_add(self.baseline) {
            return;
        }
        self.pending
            .offer(key, f, || make_alert(org, by_host, baseline, view), out);
    }

    fn finish(&mut self, out: &mut AlertSink) {
        self.pending.flush(out);
    }

    fn stats(&self) -> DetectorStats {
        let mut s = DetectorStats::default();
        s.add(&self.known);
        s.add(self.pending.table());
        s
    }
}

fn make_alert(org: &Org, by_host: bool, baseline: i64, view: &FlowView<'_>) -> Alert {
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
    let days = baseline / Timestamp::DAY;
    let summary = format!(
        "new crossing {from_name} → {to_name} over {}: not seen in the {days}-day baseline or since (first flow {} → {}:{})",
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
