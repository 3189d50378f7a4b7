//! `off-hours-crossing`: admin access between sites, or from outside, at night or at weekends.
//!
//! **What it does.** Reports established admin-service flows (RDP, SMB, SSH, WinRM, DCE-RPC,
//! Telnet, VNC) that cross sites or come in from outside, at a local time outside the
//! business hours of the clock site (the source site; the destination site for inbound
//! flows), unless an explicit policy rule allows them: backups and replication run at night
//! by design, and a rule that says so sanctions them. One alert per (source address,
//! destination address, service, local day), on the first such flow.
//!
//! **Why it matters.** Intruders working from another time zone, or waiting for the office
//! to empty, use the WAN when nobody is there to notice. In the breach, access from the Thai,
//! Indonesian, Philippine and US offices into headquarters had no reason to happen at 2 a.m.
//! Bangkok time.
//!
//! **Example.** Sunday 02:14 in Bangkok: `10.20.3.4 → 10.10.5.10:3389` (rdp), established,
//! no allow rule → "th-bkk 10.20.3.4 → jp-hq jp-fs01 (10.10.5.10) over rdp at Sun 02:14 local
//! time in th-bkk, outside business hours (Mon-Fri 08:00-19:00)". Severity `medium`.
//!
//! **Known false positives.** On-call administrators, maintenance windows and night jobs
//! that no rule describes (write an allow rule with `during`/`outside` for them), sites whose
//! business hours are not declared (the policy's default applies).
//!
//! **ATT&CK.** T1021 (Remote Services, with the sub-technique of the service).

use crate::bounded::{BoundedMap, Fp, cap, caps, ip_key};
use crate::common::{
    Pending, Watermark, describe, established, merge_context, minutes, remote_services_attack,
};
use crate::{AlertSink, Detector, DetectorSpec, DetectorStats, FlowView};
use sekisho_event::{Alert, Severity, Timestamp};
use sekisho_model::{Action, Direction, Org};

/// `off-hours-crossing`.
pub static SPEC: DetectorSpec = DetectorSpec {
    id: "off-hours-crossing",
    title: "admin access across sites or from outside outside business hours",
    attack: Some("T1021"),
    build,
};

fn build(org: &Org) -> Option<Box<dyn Detector + '_>> {
    let limits = &org.detectors.limits;
    org.detectors.off_hours_crossing.enabled.then(|| {
        Box::new(OffHours {
            org,
            seen: BoundedMap::new(cap(limits.max_tracked_keys, caps::FINGERPRINTS)),
            pending: Pending::new(
                cap(limits.max_tracked_keys, caps::OPEN_ALERTS),
                minutes(limits.reorder_slack_minutes),
            ),
            clock: Watermark::new(),
        }) as Box<dyn Detector + '_>
    })
}

#[derive(Debug)]
struct OffHours<'o> {
    org: &'o Org,
    /// Fingerprints of (src, dst, service, local day) already reported.
    seen: BoundedMap<u64, ()>,
    /// Alerts held for the reorder slack, so each names the earliest flow of its key.
    pending: Pending,
    clock: Watermark,
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

impl Detector for OffHours<'_> {
    fn id(&self) -> &'static str {
        SPEC.id
    }

    #[inline]
    fn on_flow(&mut self, view: &FlowView<'_>, out: &mut AlertSink) {
        let f = view.flow;
        let ts = f.ts.as_micros();
        if self.clock.advance(ts) {
            self.pending.sweep(ts, out);
            self.clock.sweep_at(ts.saturating_add(Timestamp::MINUTE));
        }
        if !f.service.is_admin() {
            return;
        }
        let e = view.enriched;
        if !matches!(e.direction, Direction::CrossSite | Direction::Inbound) || !established(f) {
            return;
        }
        if e.verdict.action == Action::Allow && e.verdict.rule.is_some() {
            return;
        }
        let (Some(site), Some(local)) = (e.clock_site, e.local) else {
            return;
        };
        let org = self.org;
        if org.site(site).business_hours.contains(local) {
            return;
        }
        let key = Fp::new(0x0ff)
            .u128(ip_key(f.orig_ip))
            .u128(ip_key(f.resp_ip))
            .u64(f.service as u64)
            .i64(i64::from(local.day))
            .finish();
        if self.pending.contains(key) || self.seen.insert_key(key) {
            self.pending.offer(key, f, || make_alert(org, view), out);
        }
    }

    fn finish(&mut self, out: &mut AlertSink) {
        self.pending.flush(out);
    }

    fn stats(&self) -> DetectorStats {
        let mut s = DetectorStats::default();
        s.add(&self.seen);
        s.add(self.pending.table());
        s
    }
}

fn make_alert(org: &Org, view: &FlowView<'_>) -> Alert {
    let (f, e) = (view.flow, view.enriched);
    let (site, local) = (e.clock_site, e.local);
    let site = site.map(|s| org.site(s));
    let summary = format!(
        "{} → {} over {} at {} {:02}:{:02} local time in {}, outside business hours ({})",
        describe(org, f.orig_ip, e.src),
        describe(org, f.resp_ip, e.dst),
        f.service,
        local.map_or("?", |l| DAYS[usize::from(l.weekday % 7)]),
        local.map_or(0, |l| l.minute / 60),
        local.map_or(0, |l| l.minute % 60),
        site.map_or("?", |s| s.id.as_str()),
        site.map(|s| s.business_hours.to_string())
            .unwrap_or_default(),
    );
    let mut a = Alert::for_flow(
        SPEC.id,
        Severity::Medium,
        f,
        org.endpoint(Some(f.orig_ip), e.src),
        org.endpoint(Some(f.resp_ip), e.dst),
        summary,
    );
    a.attack = Some(remote_services_attack(f.service).to_string());
    if let Some(r) = org.rule_name(e.verdict.rule) {
        a.rule = Some(r.to_string());
    }
    merge_context(&mut a, view.context);
    a
}
