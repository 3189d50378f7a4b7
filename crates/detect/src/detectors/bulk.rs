//! `bulk-transfer`: a lot of data leaving a data-bearing asset for another site or outside.
//!
//! **What it does.** For assets that hold data (a non-empty `data` list in the org file),
//! counts the bytes that leave them across a site boundary: when the asset opened the flow,
//! its `orig_bytes` towards another site or outside; when the asset answered, its
//! `resp_bytes` to a peer in another site or outside (the peer pulled the data). Bytes are
//! summed per (asset, peer site — or "outside" —, window of `bulk_transfer.window_minutes`
//! aligned on the clock). When a window closes (plus `limits.reorder_slack_minutes`) or the
//! input ends, a sum of at least `min_bytes` is reported: one alert per (asset, peer address)
//! for the peers that carried the bytes, largest first, until together they reach
//! `min_bytes` (so a transfer split over three hosts of one office gives three alerts, and
//! a stray small connection beside one big one gives none). Up to 8 peers are told apart
//! per group; each alert has `bytes_out`/`bytes_in` of that peer's flows.
//!
//! **Why it matters.** The breach's hardest question was what had left: which data, to
//! where, how much. Data leaving a file server for another office or the Internet in bulk is
//! the moment that question gets its answer.
//!
//! **Example.** `jp-fs01` (customer PII) answers `10.20.3.4` (th-bkk) with 180 MB over SMB
//! within the hour → "th-bkk 10.20.3.4 pulled 180 MB from jp-hq jp-fs01 (10.10.5.10) within
//! 1h". Severity `high`; `critical` when the peer is outside the organisation.
//!
//! **Known false positives.** Backups and replication to another site or a cloud provider,
//! users copying large files they are entitled to, software distribution from a file server.
//!
//! **ATT&CK.** T1048 (Exfiltration Over Alternative Protocol) when the peer is outside;
//! T1074.002 (Remote Data Staging) when the bytes go to another site of the organisation.

use crate::bounded::{BoundedMap, cap, caps};
use crate::common::{
    Watermark, alert_from_evidence, describe, emit_sorted, fmt_bytes, fmt_duration, minutes,
    push_earliest,
};
use crate::{AlertSink, Detector, DetectorSpec, DetectorStats, FlowView};
use sekisho_event::{Alert, AppContext, Evidence, Severity};
use sekisho_model::{AssetId, Direction, Location, Org};
use std::net::IpAddr;

/// `bulk-transfer`.
pub static SPEC: DetectorSpec = DetectorSpec {
    id: "bulk-transfer",
    title: "bulk data leaving a data-bearing asset for another site or outside",
    attack: Some("T1048"),
    build,
};

/// Peers told apart per group; the bytes of further peers count only in the total.
const MAX_PEERS: usize = 8;
/// Flows kept as evidence per peer.
const EVIDENCE: usize = 8;
/// Peer group of addresses outside every site.
const OUTSIDE: u32 = u32::MAX;

fn build(org: &Org) -> Option<Box<dyn Detector + '_>> {
    let s = &org.detectors.bulk_transfer;
    let limits = &org.detectors.limits;
    s.enabled.then(|| {
        Box::new(Bulk {
            org,
            window: minutes(s.window_minutes).max(1),
            min_bytes: s.min_bytes.max(1),
            slack: minutes(limits.reorder_slack_minutes),
            data: org.assets.iter().map(|a| a.holds_data()).collect(),
            groups: BoundedMap::new(cap(limits.max_tracked_keys, caps::BULK_GROUPS)),
            clock: Watermark::new(),
        }) as Box<dyn Detector + '_>
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct GroupKey {
    asset: u32,
    peer_site: u32,
    window: i64,
}

#[derive(Debug, Default)]
struct Group {
    total: u64,
    peers: Vec<Peer>,
}

#[derive(Debug)]
struct Peer {
    ip: IpAddr,
    loc: Location,
    asset_ip: IpAddr,
    asset_loc: Location,
    /// The asset opened the flows (it pushed); else the peer did (it pulled).
    asset_is_orig: bool,
    /// Bytes that left the asset.
    counted: u64,
    bytes_out: u64,
    bytes_in: u64,
    flows: u64,
    first: i64,
    last: i64,
    evidence: Vec<Evidence>,
    context: AppContext,
}

#[derive(Debug)]
struct Bulk<'o> {
    org: &'o Org,
    window: i64,
    min_bytes: u64,
    slack: i64,
    data: Vec<bool>,
    groups: BoundedMap<GroupKey, Group>,
    clock: Watermark,
}

struct Side {
    asset: AssetId,
    asset_ip: IpAddr,
    asset_loc: Location,
    peer_ip: IpAddr,
    peer_loc: Location,
    asset_is_orig: bool,
    bytes: u64,
}

impl Bulk<'_> {
    fn add(&mut self, side: Side, view: &FlowView<'_>, out: &mut AlertSink) {
        let (f, ctx) = (view.flow, view.context);
        let ts = f.ts.as_micros();
        let key = GroupKey {
            asset: side.asset.0,
            peer_site: side.peer_loc.site.map_or(OUTSIDE, |s| u32::from(s.0)),
            window: ts.div_euclid(self.window),
        };
        // A full table hands back its oldest groups: reported now if they reached the bar.
        let mut evicted = Vec::new();
        let (g, _) = self
            .groups
            .entry_with(key, Group::default, |k, v| evicted.push((k, v)));
        if !evicted.is_empty() {
            self.emit(evicted, out);
            return self.add(side, view, out);
        }
        g.total = g.total.saturating_add(side.bytes);
        let peer = match g
            .peers
            .iter_mut()
            .position(|p| p.ip == side.peer_ip && p.asset_is_orig == side.asset_is_orig)
        {
            Some(i) => &mut g.peers[i],
            None if g.peers.len() < MAX_PEERS => {
                g.peers.push(Peer {
                    ip: side.peer_ip,
                    loc: side.peer_loc,
                    asset_ip: side.asset_ip,
                    asset_loc: side.asset_loc,
                    asset_is_orig: side.asset_is_orig,
                    counted: 0,
                    bytes_out: 0,
                    bytes_in: 0,
                    flows: 0,
                    first: ts,
                    last: ts,
                    evidence: Vec::new(),
                    context: AppContext::default(),
                });
                g.peers.last_mut().expect("just pushed")
            }
            None => return,
        };
        peer.counted = peer.counted.saturating_add(side.bytes);
        peer.bytes_out = peer.bytes_out.saturating_add(f.orig_bytes);
        peer.bytes_in = peer.bytes_in.saturating_add(f.resp_bytes);
        peer.flows += 1;
        peer.first = peer.first.min(ts);
        peer.last = peer.last.max(ts);
        push_earliest(&mut peer.evidence, f, EVIDENCE);
        if let Some(c) = ctx {
            peer.context.merge(c);
        }
    }

    fn sweep(&mut self, out: &mut AlertSink) {
        let now = self.clock.now;
        let closed_before = now.saturating_sub(self.slack).div_euclid(self.window);
        self.clock.sweep_at(
            (closed_before + 1)
                .saturating_mul(self.window)
                .saturating_add(self.slack),
        );
        if self.groups.is_empty() {
            return;
        }
        let closed = self.groups.extract(|k, _| k.window < closed_before);
        self.emit(closed, out);
    }

    fn emit(&self, closed: Vec<(GroupKey, Group)>, out: &mut AlertSink) {
        let mut alerts = Vec::new();
        for (_, mut g) in closed {
            if g.total < self.min_bytes {
                continue;
            }
            g.peers
                .sort_by(|a, b| b.counted.cmp(&a.counted).then(a.ip.cmp(&b.ip)));
            let mut carried = 0u64;
            for p in &g.peers {
                if carried >= self.min_bytes {
                    break;
                }
                carried = carried.saturating_add(p.counted);
                alerts.push(self.peer_alert(p, g.total));
            }
        }
        emit_sorted(&mut alerts, out);
    }

    fn peer_alert(&self, p: &Peer, total: u64) -> Alert {
        let org = self.org;
        let asset = describe(org, p.asset_ip, p.asset_loc);
        let peer = describe(org, p.ip, p.loc);
        let within = fmt_duration(self.window);
        let mut summary = if p.asset_is_orig {
            format!(
                "{asset} sent {} to {peer} within {within}",
                fmt_bytes(p.counted)
            )
        } else {
            format!(
                "{peer} pulled {} from {asset} within {within}",
                fmt_bytes(p.counted)
            )
        };
        if total > p.counted {
            let group = match p.loc.site {
                Some(s) => org.site(s).id.as_str(),
                None => "outside",
            };
            summary.push_str(&format!(" ({} left for {group} in all)", fmt_bytes(total)));
        }
        let (src, dst) = if p.asset_is_orig {
            (
                org.endpoint(Some(p.asset_ip), p.asset_loc),
                org.endpoint(Some(p.ip), p.loc),
            )
        } else {
            (
                org.endpoint(Some(p.ip), p.loc),
                org.endpoint(Some(p.asset_ip), p.asset_loc),
            )
        };
        let external = p.loc.site.is_none();
        let severity = if external {
            Severity::Critical
        } else {
            Severity::High
        };
        let mut a = alert_from_evidence(SPEC.id, severity, p.evidence.clone(), src, dst, summary);
        a.flow_count = p.flows;
        a.bytes_out = p.bytes_out;
        a.bytes_in = p.bytes_in;
        a.ts = a.ts.min(sekisho_event::Timestamp::from_micros(p.first));
        a.last_ts = sekisho_event::Timestamp::from_micros(p.last);
        a.attack = Some(if external { "T1048" } else { "T1074.002" }.to_string());
        a.context = p.context.clone();
        a
    }
}

impl Detector for Bulk<'_> {
    fn id(&self) -> &'static str {
        SPEC.id
    }

    #[inline]
    fn on_flow(&mut self, view: &FlowView<'_>, out: &mut AlertSink) {
        let f = view.flow;
        if self.clock.advance(f.ts.as_micros()) {
            self.sweep(out);
        }
        let e = view.enriched;
        let src_data = e.src.asset.is_some_and(|a| self.data[a.index()]);
        let dst_data = e.dst.asset.is_some_and(|a| self.data[a.index()]);
        if !src_data && !dst_data {
            return;
        }
        if let (true, Some(asset)) = (src_data, e.src.asset)
            && matches!(e.direction, Direction::CrossSite | Direction::Outbound)
            && f.orig_bytes > 0
        {
            let side = Side {
                asset,
                asset_ip: f.orig_ip,
                asset_loc: e.src,
                peer_ip: f.resp_ip,
                peer_loc: e.dst,
                asset_is_orig: true,
                bytes: f.orig_bytes,
            };
            self.add(side, view, out);
        }
        if let (true, Some(asset)) = (dst_data, e.dst.asset)
            && matches!(e.direction, Direction::CrossSite | Direction::Inbound)
            && f.resp_bytes > 0
        {
            let side = Side {
                asset,
                asset_ip: f.resp_ip,
                asset_loc: e.dst,
                peer_ip: f.orig_ip,
                peer_loc: e.src,
                asset_is_orig: false,
                bytes: f.resp_bytes,
            };
            self.add(side, view, out);
        }
    }

    fn finish(&mut self, out: &mut AlertSink) {
        let all = self.groups.drain();
        self.emit(all, out);
    }

    fn stats(&self) -> DetectorStats {
        let mut s = DetectorStats::default();
        s.add(&self.groups);
        s
    }
}
