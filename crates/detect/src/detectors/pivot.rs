//! `pivot-chain`: a host reached from another site (or from outside) that then reaches
//! further into its own network — lateral movement.
//!
//! **What it does.** When host H receives an established admin-service connection (RDP, SMB,
//! SSH, WinRM, DCE-RPC, Telnet, VNC) from S in another site or outside (at t0), a chain is
//! opened for H. Admin connections that H then opens, established, to other internal hosts
//! (destination in a site, not S) within `pivot_chain.window_minutes` of t0 are its onward
//! hops. Chains go on: a host T reached from H is followed in turn for the window from the
//! moment it was reached, and its own onward hosts U join the *same* chain (depth is capped
//! at S → H → T → U; U's connections are not followed). So one chain is one alert, rooted at
//! the first inbound connection, naming every host it reached. It is emitted when every
//! window in it has closed (plus `limits.reorder_slack_minutes`), or at the end of the input,
//! and only when H reached at least `min_targets` distinct hosts. Evidence: the inbound
//! flow and the earliest flow to each host reached (15 at most); `flow_count` and the byte
//! totals count every onward connection; `related` names up to 16 hosts reached (32 are
//! told apart per chain). A host already in an open chain does not open another.
//!
//! Records may come a few minutes out of order: each internal host's last two admin
//! connections (to different hosts) are remembered, so an onward connection read before
//! the inbound one that explains it still joins the chain.
//!
//! **Why it matters.** The intruders came in over the WAN to one HQ server and went on from
//! there; a single denied or first-seen crossing does not say how far they got. The chain
//! does: entry point, the host they landed on, and every host reached from it.
//!
//! **Example.** `10.20.3.4 → 10.10.7.7:3389` (th-bkk → jp-hq, rdp) at 02:00, then within the
//! hour `10.10.7.7 → 10.10.5.10:445` and `10.10.7.7 → 10.10.8.8:5985`, then
//! `10.10.8.8 → 10.10.1.1:445`: one alert "th-bkk 10.20.3.4 → jp-hq 10.10.7.7 →
//! {jp-fs01 (10.10.5.10), 10.10.8.8}; 10.10.8.8 → {jp-dc01 (10.10.1.1)}", related = the three
//! hosts reached. Severity `high`, `critical` when a host reached holds data.
//!
//! Connections that a policy rule explicitly allows are skipped, both inbound and onward:
//! sanctioned replication, backups and help-desk sessions are how the organisation works.
//!
//! **Known false positives.** Administrators who RDP into a jump host in another site and
//! administer servers from there (the pattern is the same; a policy rule cannot tell them
//! apart, only the people can — note the jump hosts); servers that serve cross-site SMB and
//! talk SMB/RPC to their domain controllers; cross-site domain-controller replication.
//!
//! **ATT&CK.** T1021 (Remote Services), tactic TA0008 (Lateral Movement).

use crate::bounded::{BoundedMap, cap, caps, ip_key};
use crate::common::{
    Watermark, alert_from_evidence, describe, describe_short, emit_sorted, established, finalize,
    minutes,
};
use crate::fp_map::FpMap;
use crate::{AlertSink, Detector, DetectorSpec, DetectorStats, FlowView};
use sekisho_event::{Alert, AppContext, Evidence, Severity, Uid};
use sekisho_model::{Action, Direction, Location, Org};
use std::net::IpAddr;

/// `pivot-chain`.
pub static SPEC: DetectorSpec = DetectorSpec {
    id: "pivot-chain",
    title: "a host reached across sites that goes on to reach internal hosts (lateral movement)",
    attack: Some("T1021"),
    build,
};

/// S → H is depth 1, H → T depth 2, T → U depth 3; hosts at the last depth are not followed.
const MAX_DEPTH: u8 = 3;
/// Distinct hosts stored per chain (beyond, onward flows are counted, hosts not named).
const MAX_HOPS: usize = 32;
/// Hosts named in `related`.
const MAX_RELATED: usize = 16;
/// Onward connections remembered per host, for records that come out of order.
const RING: usize = 2;

fn build(org: &Org) -> Option<Box<dyn Detector + '_>> {
    let s = &org.detectors.pivot_chain;
    let limits = &org.detectors.limits;
    s.enabled.then(|| {
        Box::new(Pivot {
            org,
            window: minutes(s.window_minutes),
            min_targets: s.min_targets.clamp(1, MAX_HOPS as u32),
            slack: minutes(limits.reorder_slack_minutes),
            nodes: BoundedMap::new(cap(limits.max_tracked_keys, caps::PIVOT_NODES)),
            chains: BoundedMap::new(cap(limits.max_tracked_keys, caps::PIVOT_CHAINS)),
            recent: FpMap::new(cap(limits.max_tracked_keys, caps::PIVOT_RECENT)),
            clock: Watermark::new(),
        }) as Box<dyn Detector + '_>
    })
}

/// A host that is part of an open chain.
#[derive(Debug, Clone, Copy)]
struct Node {
    /// The chain's root host H (the chains table's key).
    root: u128,
    depth: u8,
    /// When the host was reached (its onward window starts here).
    reached: i64,
    /// The host that reached it.
    from: u128,
}

#[derive(Debug, Clone)]
struct Hop {
    from: IpAddr,
    to: IpAddr,
    to_loc: Location,
    depth: u8,
    reached: i64,
    /// Uid of the earliest flow that reached it.
    uid: Uid,
}

#[derive(Debug)]
struct Chain {
    src: IpAddr,
    src_loc: Location,
    host: IpAddr,
    host_loc: Location,
    inbound: Evidence,
    context: AppContext,
    hops: Vec<Hop>,
    onward: Vec<Evidence>,
    onward_count: u64,
    bytes_out: u64,
    bytes_in: u64,
    /// Latest end of a window in the chain.
    deadline: i64,
    /// Distinct hosts H reached itself.
    direct: u32,
    data_target: bool,
}

/// An established admin connection into a site that no rule explicitly allows: the only
/// flows this detector looks at. A connection an explicit rule allows (replication,
/// backups, the help desk's jump host) is the organisation's own plumbing: it neither opens
/// a chain nor extends one.
#[inline]
fn followed(view: &FlowView<'_>) -> bool {
    let (f, e) = (view.flow, view.enriched);
    f.service.is_admin()
        && established(f)
        && e.dst.site.is_some()
        && !(e.verdict.action == Action::Allow && e.verdict.rule.is_some())
}

#[derive(Debug, Default)]
struct Ring {
    items: [Option<Evidence>; RING],
    next: u8,
}

#[derive(Debug)]
struct Pivot<'o> {
    org: &'o Org,
    window: i64,
    min_targets: u32,
    slack: i64,
    nodes: BoundedMap<u128, Node>,
    chains: BoundedMap<u128, Box<Chain>>,
    /// Every internal host's admin connections pass through this table, which outgrows the
    /// caches, so [`Detector::prefetch`] loads a host's slot ahead.
    recent: FpMap<u128, Ring>,
    clock: Watermark,
}

impl Pivot<'_> {
    /// An onward admin connection `ev` from `from_key` (already known to be a node).
    fn onward(&mut self, from_key: u128, node: Node, ev: &Evidence, ctx: Option<&AppContext>) {
        let ts = ev.ts.as_micros();
        if ts < node.reached || ts > node.reached.saturating_add(self.window) {
            return;
        }
        let to = ev.resp_ip;
        let to_key = ip_key(to);
        if to_key == node.from || to_key == from_key {
            return;
        }
        let org = self.org;
        let Some(chain) = self.chains.get_mut(&node.root) else {
            return;
        };
        if to == chain.src || to == chain.host {
            return;
        }
        chain.onward_count += 1;
        chain.bytes_out = chain.bytes_out.saturating_add(ev.orig_bytes);
        chain.bytes_in = chain.bytes_in.saturating_add(ev.resp_bytes);
        if let Some(c) = ctx {
            chain.context.merge(c);
        }
        if let Some(h) = chain.hops.iter_mut().find(|h| h.to == to) {
            // A host already reached: counted; its evidence is the earliest flow to it.
            if (ts, ev.uid) < (h.reached, h.uid) {
                h.reached = ts;
                h.uid = ev.uid;
                h.from = ev.orig_ip;
                push_earliest_ev(&mut chain.onward, ev, Alert::MAX_EVIDENCE - 1);
            }
            return;
        }
        // The first flow to each new host is evidence.
        push_earliest_ev(&mut chain.onward, ev, Alert::MAX_EVIDENCE - 1);
        if chain.hops.len() >= MAX_HOPS {
            return;
        }
        let to_loc = org.locate(to);
        let depth = node.depth + 1;
        chain.hops.push(Hop {
            from: ev.orig_ip,
            to,
            to_loc,
            depth,
            reached: ts,
            uid: ev.uid,
        });
        if depth == 2 {
            chain.direct += 1;
        }
        chain.data_target |= to_loc.asset.is_some_and(|a| org.asset(a).holds_data());
        if depth >= MAX_DEPTH || self.nodes.contains_key(&to_key) {
            return;
        }
        chain.deadline = chain.deadline.max(ts.saturating_add(self.window));
        let next = Node {
            root: node.root,
            depth,
            reached: ts,
            from: from_key,
        };
        self.nodes.entry(to_key, || next);
        self.replay(to_key, next);
    }

    /// Feeds a newly followed host's remembered onward connections to its chain.
    fn replay(&mut self, key: u128, node: Node) {
        let Some(ring) = self.recent.peek(&key) else {
            return;
        };
        let mut items: Vec<Evidence> = ring.items.iter().flatten().cloned().collect();
        items.sort_by_key(|a| (a.ts, a.uid));
        for ev in &items {
            self.onward(key, node, ev, None);
        }
    }

    fn remember(&mut self, key: u128, view: &FlowView<'_>) {
        let f = view.flow;
        let (ring, _) = self.recent.entry_with(key, Ring::default, |_, _| {});
        // A later connection to the host just remembered adds nothing a replay would use
        // (a host reached counts once, from its earliest flow).
        let last = (usize::from(ring.next) + RING - 1) % RING;
        if let Some(prev) = &ring.items[last]
            && prev.resp_ip == f.resp_ip
            && prev.ts <= f.ts
        {
            return;
        }
        let slot = usize::from(ring.next) % RING;
        ring.items[slot] = Some(Evidence::from(f));
        ring.next = ((slot + 1) % RING) as u8;
    }

    /// An inbound admin connection: opens a chain rooted at its destination.
    fn open(&mut self, view: &FlowView<'_>, out: &mut AlertSink) {
        let (f, e) = (view.flow, view.enriched);
        let host = ip_key(f.resp_ip);
        let ts = f.ts.as_micros();
        if let Some(n) = self.nodes.peek(&host).copied()
            && let Some(chain) = self.chains.peek_mut(&n.root)
        {
            // Already in an open chain. An earlier inbound read late takes the root's place.
            if n.depth == 1 && (f.ts, f.uid) < (chain.inbound.ts, chain.inbound.uid) {
                chain.src = f.orig_ip;
                chain.src_loc = e.src;
                chain.inbound = Evidence::from(f);
                if let Some(node) = self.nodes.peek_mut(&host) {
                    node.reached = ts;
                    node.from = ip_key(f.orig_ip);
                }
            }
            return;
        }
        let node = Node {
            root: host,
            depth: 1,
            reached: ts,
            from: ip_key(f.orig_ip),
        };
        self.nodes.entry(host, || node);
        self.clock
            .sweep_before(ts.saturating_add(self.window).saturating_add(self.slack));
        let (org, min_targets) = (self.org, self.min_targets);
        let chain = Box::new(Chain {
            src: f.orig_ip,
            src_loc: e.src,
            host: f.resp_ip,
            host_loc: e.dst,
            inbound: Evidence::from(f),
            context: view.context.cloned().unwrap_or_default(),
            hops: Vec::new(),
            onward: Vec::new(),
            onward_count: 0,
            bytes_out: 0,
            bytes_in: 0,
            deadline: ts.saturating_add(self.window),
            direct: 0,
            data_target: false,
        });
        // A full table hands back its oldest chains: reported now if they qualify.
        self.chains.entry_with(
            host,
            || chain,
            |_, c| {
                if c.direct >= min_targets {
                    let mut a = chain_alert(org, &c);
                    finalize(&mut a);
                    out.push(a);
                }
            },
        );
        self.replay(host, node);
    }

    /// Emits the chains whose every window has closed; the next sweep is due when the
    /// earliest open chain can close (chains only ever get later deadlines).
    fn sweep(&mut self, out: &mut AlertSink) {
        let now = self.clock.now;
        let slack = self.slack;
        let mut next = i64::MAX;
        let closed = self.chains.extract(|_, c| {
            let due = c.deadline.saturating_add(slack);
            if due > now {
                next = next.min(due);
            }
            due <= now
        });
        self.clock.sweep_at(next);
        if !closed.is_empty() {
            self.emit(closed, out);
        }
    }

    fn emit(&mut self, closed: Vec<(u128, Box<Chain>)>, out: &mut AlertSink) {
        let mut roots: Vec<u128> = closed.iter().map(|(k, _)| *k).collect();
        roots.sort_unstable();
        self.nodes
            .extract(|_, n| roots.binary_search(&n.root).is_ok());
        let mut alerts: Vec<Alert> = closed
            .iter()
            .filter(|(_, c)| c.direct >= self.min_targets)
            .map(|(_, c)| chain_alert(self.org, c))
            .collect();
        emit_sorted(&mut alerts, out);
    }
}

fn push_earliest_ev(list: &mut Vec<Evidence>, ev: &Evidence, cap: usize) {
    if list.len() < cap {
        list.push(ev.clone());
        return;
    }
    if let Some((i, latest)) = list.iter().enumerate().max_by_key(|(_, e)| (e.ts, e.uid))
        && (ev.ts, ev.uid) < (latest.ts, latest.uid)
    {
        list[i] = ev.clone();
    }
}

fn chain_alert(org: &Org, c: &Chain) -> Alert {
    let mut hops: Vec<&Hop> = c.hops.iter().collect();
    hops.sort_by_key(|a| (a.depth, a.reached, a.to));
    // "S → H → {T1, T2}; T1 → {U1}": groups by the host each was reached from, in order.
    let mut summary = format!(
        "{} → {}",
        describe(org, c.src, c.src_loc),
        describe(org, c.host, c.host_loc)
    );
    let mut froms: Vec<IpAddr> = vec![c.host];
    for h in &hops {
        if !froms.contains(&h.from) {
            froms.push(h.from);
        }
    }
    for (i, from) in froms.iter().enumerate() {
        let targets: Vec<String> = hops
            .iter()
            .filter(|h| h.from == *from)
            .map(|h| describe_short(org, h.to, h.to_loc))
            .collect();
        if targets.is_empty() {
            continue;
        }
        if i > 0 {
            let loc = org.locate(*from);
            summary.push_str(&format!("; {}", describe_short(org, *from, loc)));
        }
        summary.push_str(&format!(" → {{{}}}", targets.join(", ")));
    }
    summary.push_str(&format!(
        " ({} in, then {} admin connection{} onward)",
        c.inbound.service,
        c.onward_count,
        if c.onward_count == 1 { "" } else { "s" }
    ));
    let severity = if c.data_target {
        Severity::Critical
    } else {
        Severity::High
    };
    let mut evidence = Vec::with_capacity(1 + c.onward.len());
    evidence.push(c.inbound.clone());
    evidence.extend(c.onward.iter().cloned());
    let mut a = alert_from_evidence(
        SPEC.id,
        severity,
        evidence,
        org.endpoint(Some(c.src), c.src_loc),
        org.endpoint(Some(c.host), c.host_loc),
        summary,
    );
    a.ts = c.inbound.ts;
    a.service = c.inbound.service;
    a.dst_port = Some(c.inbound.resp_port);
    a.flow_count = 1 + c.onward_count;
    a.bytes_out = c.inbound.orig_bytes.saturating_add(c.bytes_out);
    a.bytes_in = c.inbound.resp_bytes.saturating_add(c.bytes_in);
    a.attack = Some("T1021".to_string());
    a.related = hops
        .iter()
        .take(MAX_RELATED)
        .map(|h| org.endpoint(Some(h.to), h.to_loc))
        .collect();
    a.context = c.context.clone();
    a
}

impl Detector for Pivot<'_> {
    fn id(&self) -> &'static str {
        SPEC.id
    }

    fn prefetches(&self) -> bool {
        true
    }

    /// The slot [`Pivot::remember`] will write: the flows it keeps are too many for the
    /// caches (every internal admin connection), and a miss there was most of its time.
    #[inline]
    fn prefetch(&self, view: &FlowView<'_>) {
        if followed(view) && view.enriched.src.site.is_some() {
            self.recent.prefetch(ip_key(view.flow.orig_ip));
        }
    }

    #[inline]
    fn on_flow(&mut self, view: &FlowView<'_>, out: &mut AlertSink) {
        let f = view.flow;
        if self.clock.advance(f.ts.as_micros()) {
            self.sweep(out);
        }
        if !followed(view) {
            return;
        }
        let e = view.enriched;
        if e.src.site.is_some() {
            // An internal host's admin connection to another internal host: maybe a hop.
            let key = ip_key(f.orig_ip);
            self.remember(key, view);
            if !self.nodes.is_empty()
                && let Some(node) = self.nodes.peek(&key).copied()
            {
                let ev = Evidence::from(f);
                self.onward(key, node, &ev, view.context);
            }
        }
        if matches!(e.direction, Direction::CrossSite | Direction::Inbound) {
            self.open(view, out);
        }
    }

    fn finish(&mut self, out: &mut AlertSink) {
        let all = self.chains.drain();
        self.emit(all, out);
        self.nodes.drain();
    }

    fn stats(&self) -> DetectorStats {
        let mut s = DetectorStats::default();
        s.add(&self.nodes);
        s.add(&self.chains);
        s.add_table(self.recent.len(), self.recent.evicted());
        s
    }
}
