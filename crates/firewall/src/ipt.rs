//! The iptables writer: an `iptables-restore` (or `ip6tables-restore`) file for one address
//! family, with a `SEKISHO-FORWARD` dispatch chain and one chain per site.
//!
//! In iptables `ACCEPT` ends the whole hook, so an allowed flow must not be accepted here
//! (that would skip the gateway's own rules): `allow` is `RETURN`, which ends *our* policy
//! and hands the flow back. A negated set of several networks (`external`) cannot be written
//! as one match, so a rule with an `external` side first sends every site address on with a
//! `goto` to the rest of the chain (a new chain part): a `RETURN` in a part still returns to
//! the dispatch chain, so first-match order holds across parts.

use crate::plan::{Family, L4, Plan, PlannedRule, Side, Span, Time, Variant};
use crate::text::{IPT_COMMENT_MAX, LINE_COMMENT_MAX, clean, rule_comment};
use sekisho_model::Action;
use std::fmt::Write;

/// The dispatch chain; hook it once with `iptables -A FORWARD -j SEKISHO-FORWARD`.
pub(crate) const DISPATCH: &str = "SEKISHO-FORWARD";
/// Longest site chain name before a part suffix (iptables allows 28 characters).
const CHAIN_BASE_MAX: usize = 22;
/// multiport takes at most 15 ports, a range counting as two.
const MULTIPORT_SLOTS: usize = 15;
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

struct SiteChain {
    base: String,
    parts: usize,
}

impl SiteChain {
    fn current(&self) -> String {
        if self.parts == 0 {
            self.base.clone()
        } else {
            format!("{}-{}", self.base, self.parts + 1)
        }
    }
}

pub(crate) fn write(plan: &Plan<'_>, f: Family) -> String {
    let (tool, ip) = match f {
        Family::V4 => ("iptables", "IPv4"),
        Family::V6 => ("ip6tables", "IPv6"),
    };
    let mut declared: Vec<String> = vec![DISPATCH.to_string()];
    let mut body = String::new();
    let mut dispatch_src = String::new();
    let mut dispatch_dst = String::new();
    for &s in &plan.chains {
        let Some(site) = plan.sites.get(s) else {
            continue;
        };
        if !site.nets.has(f) {
            continue;
        }
        let mut base = format!("SK{}-{}", s, site.id);
        base.truncate(CHAIN_BASE_MAX);
        let nets = site.nets.texts(f).join(",");
        let _ = writeln!(
            dispatch_src,
            "-A {DISPATCH} -s {nets} -m comment --comment \"site {}\" -j {base}",
            site.id
        );
        let _ = writeln!(
            dispatch_dst,
            "-A {DISPATCH} -d {nets} -m comment --comment \"site {}\" -j {base}",
            site.id
        );
        let mut chain = SiteChain { base, parts: 0 };
        declared.push(chain.current());
        let _ = writeln!(
            body,
            "# Flows from or to site {}, in policy order.",
            site.id
        );
        for pr in &plan.rules {
            let touching: Vec<&Variant> = pr
                .variants
                .iter()
                .filter(|v| v.touches(s) && v.has(f))
                .collect();
            if touching.is_empty() {
                continue;
            }
            let _ = writeln!(
                body,
                "# rule {} (line {}) {}: {}",
                pr.index + 1,
                pr.rule.line,
                pr.rule.action,
                clean(&pr.rule.name, LINE_COMMENT_MAX)
            );
            for v in touching {
                variant(&mut body, plan, f, pr, v, &mut chain, &mut declared);
            }
        }
        default_lines(&mut body, plan, f, s, &chain.current());
        let _ = writeln!(
            body,
            "-A {} -m comment --comment \"no rule matched: allowed by the policy\" -j RETURN",
            chain.current()
        );
    }
    // Flows from a site are decided in that site's chain; only flows from outside every
    // site are dispatched on their destination, so no flow is decided (or logged) twice.
    let scope: Vec<String> = if plan.chains.len() == plan.sites.len() {
        plan.all.texts(f)
    } else {
        plan.chains
            .iter()
            .filter_map(|&s| plan.sites.get(s))
            .flat_map(|s| s.nets.texts(f))
            .collect()
    };

    let mut o = String::new();
    let _ = writeln!(
        o,
        "# {ip} access policy of \"{}\" exported by `sekisho policy export --format {tool}`.\n\
         # Do not edit: change the org file and export again.\n\
         #\n\
         # Policy rules are written in policy order, so the first match still wins:\n\
         #   allow -> RETURN (our policy has no objection; the gateway's own rules still apply),\n\
         #   alert -> LOG + RETURN, deny -> DROP.\n\
         # Cross-site flows no rule matched get the cross_site_default ({}).\n\
         #\n\
         # Time windows are written in UTC (`-m time` without --kerneltz compares UTC), converted\n\
         # with each site's UTC offset on {}:\n\
         #   {}\n\
         # Sites with daylight saving time (export again when their offset changes): {}\n\
         #\n\
         # Load without flushing the gateway's other rules, then hook the chain once:\n\
         #   {tool}-restore --noflush FILE      (check first: {tool}-restore --test FILE)\n\
         #   {tool} -A FORWARD -j {DISPATCH}",
        clean(&plan.org.name, LINE_COMMENT_MAX),
        plan.default_action(),
        plan.date,
        plan.offsets_text(),
        {
            let d = plan.dst_sites();
            if d.is_empty() {
                "none".to_string()
            } else {
                d.join(", ")
            }
        },
    );
    crate::write_skipped(&mut o, plan);
    o.push_str("*filter\n");
    for c in &declared {
        let _ = writeln!(o, ":{c} - [0:0]");
    }
    o.push_str(&dispatch_src);
    if !scope.is_empty() {
        let _ = writeln!(
            o,
            "-A {DISPATCH} -s {} -m comment --comment \"decided in the source site's chain\" -j RETURN",
            scope.join(",")
        );
    }
    o.push_str(&dispatch_dst);
    o.push_str(&body);
    o.push_str("COMMIT\n");
    o
}

fn variant(
    o: &mut String,
    plan: &Plan<'_>,
    f: Family,
    pr: &PlannedRule<'_>,
    v: &Variant,
    chain: &mut SiteChain,
    declared: &mut Vec<String>,
) {
    if let Some(c) = &v.clock {
        let _ = writeln!(o, "# window in the local time of {c}, written in UTC");
    }
    let all = plan.all.texts(f).join(",");
    // An `external` side: site addresses skip to the next part of the chain.
    let mut split = false;
    for (side, flag) in [(&v.src, "-s"), (&v.dst, "-d")] {
        if *side == Side::External && !all.is_empty() {
            if !split {
                chain.parts += 1;
                split = true;
            }
            let _ = writeln!(
                o,
                "-A {} {flag} {all} -m comment --comment \"not external: next part\" -g {}",
                previous(chain),
                chain.current()
            );
        }
    }
    let cur = if split {
        previous(chain)
    } else {
        chain.current()
    };
    let mut addr = String::new();
    if let Side::Nets(n) = &v.src {
        let _ = write!(addr, "-s {} ", n.texts(f).join(","));
    }
    if let Side::Nets(n) = &v.dst {
        let _ = write!(addr, "-d {} ", n.texts(f).join(","));
    }
    let comment = rule_comment(pr.index, pr.rule.line, &pr.rule.name, IPT_COMMENT_MAX);
    let spans: Vec<Option<&Span>> = match &v.time {
        Time::Always => vec![None],
        Time::Spans(s) => s.iter().map(Some).collect(),
    };
    for l4 in &pr.l4 {
        for l4 in l4_texts(l4, f) {
            for span in &spans {
                let time = span.map(time_text).unwrap_or_default();
                let m = format!("-A {cur} {addr}{l4}{time}-m comment --comment \"{comment}\"");
                match pr.rule.action {
                    Action::Allow => {
                        let _ = writeln!(o, "{m} -j RETURN");
                    }
                    Action::Deny => {
                        let _ = writeln!(o, "{m} -j DROP");
                    }
                    Action::Alert => {
                        let _ = writeln!(
                            o,
                            "{m} -j LOG --log-prefix \"sekisho rule {} alert: \"\n{m} -j RETURN",
                            pr.index + 1
                        );
                    }
                }
            }
        }
    }
    if split {
        let _ = writeln!(
            o,
            "-A {cur} -m comment --comment \"rest of the policy\" -g {}",
            chain.current()
        );
        declared.push(chain.current());
    }
}

/// The part before the current one.
fn previous(chain: &SiteChain) -> String {
    SiteChain {
        base: chain.base.clone(),
        parts: chain.parts.saturating_sub(1),
    }
    .current()
}

fn default_lines(o: &mut String, plan: &Plan<'_>, f: Family, s: usize, cur: &str) {
    let action = plan.default_action();
    if action == Action::Allow {
        return;
    }
    let Some(site) = plan.sites.get(s) else {
        return;
    };
    let me = site.nets.texts(f).join(",");
    let all = plan.all.texts(f).join(",");
    let _ = writeln!(
        o,
        "# cross_site_default = {action}\n\
         -A {cur} -s {me} -d {me} -m comment --comment \"intra-site: allowed by the policy\" -j RETURN"
    );
    for (a, b) in [("-s", "-d"), ("-d", "-s")] {
        let m = format!(
            "-A {cur} {a} {me} {b} {all} -m comment --comment \"cross_site_default {action}\""
        );
        if action == Action::Deny {
            let _ = writeln!(o, "{m} -j DROP");
        } else {
            let _ = writeln!(
                o,
                "{m} -j LOG --log-prefix \"sekisho cross-site default: \"\n{m} -j RETURN"
            );
        }
    }
}

/// Protocol and port matches, split so each multiport list fits.
fn l4_texts(l4: &L4, f: Family) -> Vec<String> {
    let (proto, ports) = match l4 {
        L4::Any => return vec![String::new()],
        L4::Icmp => {
            return vec![match f {
                Family::V4 => "-p icmp ".to_string(),
                Family::V6 => "-p ipv6-icmp ".to_string(),
            }];
        }
        L4::Tcp(p) => ("tcp", p),
        L4::Udp(p) => ("udp", p),
    };
    let mut out = Vec::new();
    let mut chunk: Vec<String> = Vec::new();
    let mut slots = 0;
    for &(lo, hi) in ports {
        let (item, cost) = if lo == hi {
            (lo.to_string(), 1)
        } else {
            (format!("{lo}:{hi}"), 2)
        };
        if slots + cost > MULTIPORT_SLOTS {
            out.push(format!(
                "-p {proto} -m multiport --dports {} ",
                chunk.join(",")
            ));
            chunk.clear();
            slots = 0;
        }
        chunk.push(item);
        slots += cost;
    }
    if !chunk.is_empty() {
        out.push(format!(
            "-p {proto} -m multiport --dports {} ",
            chunk.join(",")
        ));
    }
    out
}

fn time_text(s: &Span) -> String {
    let mut t = String::new();
    if s.start == 0 && s.end >= 1440 && s.days.iter().all(|&d| d) {
        return t;
    }
    let last = s.end.saturating_sub(1);
    let _ = write!(
        t,
        "-m time --timestart {:02}:{:02}:00 --timestop {:02}:{:02}:59 ",
        s.start / 60,
        s.start % 60,
        last / 60,
        last % 60
    );
    if !s.days.iter().all(|&d| d) {
        let days: Vec<&str> = s
            .days
            .iter()
            .zip(DAYS)
            .filter(|(on, _)| **on)
            .map(|(_, d)| d)
            .collect();
        let _ = write!(t, "--weekdays {} ", days.join(","));
    }
    t
}
