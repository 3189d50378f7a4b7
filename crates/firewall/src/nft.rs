//! The nftables writer: one `inet sekisho` table with site sets, one chain per site and a
//! base chain on the forward hook that sends each flow to the chain of a site it touches.

use crate::plan::{Family, L4, Nets, Plan, PlannedRule, Side, Span, Time, Variant};
use crate::text::{LINE_COMMENT_MAX, NFT_COMMENT_MAX, clean, rule_comment};
use sekisho_model::Action;
use std::collections::BTreeMap;
use std::fmt::Write;

/// nft's weekday names, Monday first like the model.
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Named sets used by rules whose selectors are not exactly one site.
#[derive(Default)]
struct Sets {
    /// (family is v6, elements) -> name, in order of first use.
    by_content: BTreeMap<(bool, Vec<String>), String>,
    order: Vec<(String, bool, Vec<String>)>,
}

struct Writer<'p, 'o> {
    plan: &'p Plan<'o>,
    /// Per site: the name stem of its sets and chain.
    slugs: Vec<String>,
    sets: Sets,
}

pub(crate) fn write(plan: &Plan<'_>) -> String {
    let slugs = crate::slugs(plan.sites.iter().map(|s| s.id.as_str()));
    let mut w = Writer {
        plan,
        slugs,
        sets: Sets::default(),
    };
    let mut chains = String::new();
    for &s in &plan.chains {
        w.site_chain(&mut chains, s);
    }
    w.base_chain(&mut chains);

    let mut o = String::new();
    header(&mut o, plan);
    o.push_str("table inet sekisho\ndelete table inet sekisho\n\ntable inet sekisho {\n");
    set(
        &mut o,
        "sites_v4",
        false,
        &plan.all.texts(Family::V4),
        "every site network",
    );
    set(
        &mut o,
        "sites_v6",
        true,
        &plan.all.texts(Family::V6),
        "every site network",
    );
    for (site, slug) in plan.sites.iter().zip(&w.slugs) {
        let what = format!("site {}", site.id);
        set(
            &mut o,
            &format!("site_{slug}_v4"),
            false,
            &site.nets.texts(Family::V4),
            &what,
        );
        set(
            &mut o,
            &format!("site_{slug}_v6"),
            true,
            &site.nets.texts(Family::V6),
            &what,
        );
    }
    for (name, v6, elems) in &w.sets.order {
        set(&mut o, name, *v6, elems, "addresses of a policy rule");
    }
    o.push_str(&chains);
    o.push_str("}\n");
    o
}

fn header(o: &mut String, plan: &Plan<'_>) {
    let _ = writeln!(
        o,
        "#!/usr/sbin/nft -f\n\
         # Access policy of \"{}\" exported by `sekisho policy export --format nftables`.\n\
         # Do not edit: change the org file and export again.\n\
         #\n\
         # Policy rules are written in policy order, so the first match still wins:\n\
         #   allow -> accept, alert -> log + accept, deny -> drop.\n\
         # Cross-site flows no rule matched get the cross_site_default ({}); every other flow\n\
         # no rule matched is accepted by this table (other tables may still drop it).\n\
         #\n\
         # Time windows are written in UTC, converted with each site's UTC offset on {}:\n\
         #   {}\n\
         # Sites with daylight saving time (export again when their offset changes): {}\n\
         # nft reads `meta hour` in the time zone of the process that loads the file, and the\n\
         # kernel takes `meta day` in its own time zone: load with both in UTC:\n\
         #   TZ=UTC nft -f FILE      (check first: nft -c -f FILE)",
        clean(&plan.org.name, LINE_COMMENT_MAX),
        plan.default_action(),
        plan.date,
        plan.offsets_text(),
        list_or_none(&plan.dst_sites()),
    );
    crate::write_skipped(o, plan);
    o.push('\n');
}

fn list_or_none(v: &[&str]) -> String {
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

fn set(o: &mut String, name: &str, v6: bool, elems: &[String], what: &str) {
    let ty = if v6 { "ipv6_addr" } else { "ipv4_addr" };
    let _ = writeln!(
        o,
        "\t# {}\n\tset {name} {{\n\t\ttype {ty}\n\t\tflags interval",
        clean(what, LINE_COMMENT_MAX)
    );
    if !elems.is_empty() {
        let _ = writeln!(o, "\t\telements = {{ {} }}", elems.join(", "));
    }
    o.push_str("\t}\n\n");
}

fn fam(f: Family) -> (&'static str, &'static str) {
    match f {
        Family::V4 => ("ip", "v4"),
        Family::V6 => ("ip6", "v6"),
    }
}

impl Writer<'_, '_> {
    fn site_chain(&mut self, o: &mut String, s: usize) {
        let plan = self.plan;
        let (Some(site), Some(slug)) = (plan.sites.get(s), self.slugs.get(s).cloned()) else {
            return;
        };
        let _ = writeln!(
            o,
            "\t# Flows from or to site {}, in policy order.\n\tchain forward_{slug} {{",
            site.id
        );
        for pr in &plan.rules {
            let touching: Vec<&Variant> = pr.variants.iter().filter(|v| v.touches(s)).collect();
            if touching.is_empty() {
                continue;
            }
            let _ = writeln!(
                o,
                "\t\t# rule {} (line {}) {}: {}",
                pr.index + 1,
                pr.rule.line,
                pr.rule.action,
                clean(&pr.rule.name, LINE_COMMENT_MAX)
            );
            for v in touching {
                self.variant(o, pr, v);
            }
        }
        self.default_lines(o, s, &slug);
        o.push_str(
            "\t\tcounter accept comment \"no rule matched: allowed by the policy\"\n\t}\n\n",
        );
    }

    fn variant(&mut self, o: &mut String, pr: &PlannedRule<'_>, v: &Variant) {
        if let Some(c) = &v.clock {
            let _ = writeln!(o, "\t\t# window in the local time of {c}, written in UTC");
        }
        let families: Vec<Option<Family>> = if v.src == Side::Any && v.dst == Side::Any {
            vec![None]
        } else {
            [Family::V4, Family::V6]
                .into_iter()
                .filter(|f| v.has(*f))
                .map(Some)
                .collect()
        };
        let comment = rule_comment(pr.index, pr.rule.line, &pr.rule.name, NFT_COMMENT_MAX);
        let verdict = match pr.rule.action {
            Action::Allow => "accept".to_string(),
            Action::Deny => "drop".to_string(),
            Action::Alert => format!(
                "log prefix \"sekisho rule {} alert: \" accept",
                pr.index + 1
            ),
        };
        let spans: Vec<Option<&Span>> = match &v.time {
            Time::Always => vec![None],
            Time::Spans(s) => s.iter().map(Some).collect(),
        };
        for f in families {
            let mut addr = String::new();
            if let Some(f) = f {
                addr.push_str(&self.side(&v.src, f, "saddr", pr.index, "src"));
                addr.push_str(&self.side(&v.dst, f, "daddr", pr.index, "dst"));
            }
            for l4 in &pr.l4 {
                let l4 = l4_text(l4, f);
                for span in &spans {
                    let time = span.map(time_text).unwrap_or_default();
                    let _ = writeln!(
                        o,
                        "\t\t{addr}{l4}{time}counter {verdict} comment \"{comment}\""
                    );
                }
            }
        }
    }

    /// `ip saddr @set ` for one side in one family; empty for `Any`.
    fn side(&mut self, side: &Side, f: Family, dir: &str, index: usize, which: &str) -> String {
        let (kw, suffix) = fam(f);
        match side {
            Side::Any => String::new(),
            Side::External => format!("{kw} {dir} != @sites_{suffix} "),
            Side::Nets(n) => {
                let name = self.set_name(n, f, index, which);
                format!("{kw} {dir} @{name} ")
            }
        }
    }

    /// A site's set when the networks are exactly one site's, the all-sites set when they
    /// are every site's, else a set of the rule's own (shared by rules with the same one).
    fn set_name(&mut self, n: &Nets, f: Family, index: usize, which: &str) -> String {
        let (_, suffix) = fam(f);
        let elems = n.texts(f);
        if let Some(i) = self
            .plan
            .sites
            .iter()
            .position(|s| s.nets.texts(f) == elems)
            && let Some(slug) = self.slugs.get(i)
        {
            return format!("site_{slug}_{suffix}");
        }
        if self.plan.all.texts(f) == elems {
            return format!("sites_{suffix}");
        }
        let v6 = f == Family::V6;
        let key = (v6, elems);
        if let Some(name) = self.sets.by_content.get(&key) {
            return name.clone();
        }
        let name = format!("rule{}_{which}_{suffix}", index + 1);
        self.sets.order.push((name.clone(), v6, key.1.clone()));
        self.sets.by_content.insert(key, name.clone());
        name
    }

    fn default_lines(&self, o: &mut String, s: usize, slug: &str) {
        let plan = self.plan;
        let action = plan.default_action();
        if action == Action::Allow {
            return;
        }
        let Some(site) = plan.sites.get(s) else {
            return;
        };
        let verdict = match action {
            Action::Alert => "log prefix \"sekisho cross-site default: \" accept",
            _ => "drop",
        };
        let _ = writeln!(o, "\t\t# cross_site_default = {action}");
        for f in [Family::V4, Family::V6] {
            if !site.nets.has(f) {
                continue;
            }
            let (kw, suffix) = fam(f);
            let me = format!("@site_{slug}_{suffix}");
            let _ = writeln!(
                o,
                "\t\t{kw} saddr {me} {kw} daddr {me} counter accept comment \"intra-site: allowed by the policy\"\n\
                 \t\t{kw} saddr {me} {kw} daddr @sites_{suffix} counter {verdict} comment \"cross_site_default {action}\"\n\
                 \t\t{kw} daddr {me} {kw} saddr @sites_{suffix} counter {verdict} comment \"cross_site_default {action}\""
            );
        }
    }

    fn base_chain(&self, o: &mut String) {
        o.push_str(
            "\t# Each flow goes to the chain of a site it touches; every site chain ends in a verdict.\n\
             \tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n",
        );
        for &s in &self.plan.chains {
            let (Some(site), Some(slug)) = (self.plan.sites.get(s), self.slugs.get(s)) else {
                continue;
            };
            for f in [Family::V4, Family::V6] {
                if !site.nets.has(f) {
                    continue;
                }
                let (kw, suffix) = fam(f);
                for dir in ["saddr", "daddr"] {
                    let _ = writeln!(
                        o,
                        "\t\t{kw} {dir} @site_{slug}_{suffix} jump forward_{slug} comment \"site {}\"",
                        site.id
                    );
                }
            }
        }
        o.push_str("\t}\n");
    }
}

fn l4_text(l4: &L4, f: Option<Family>) -> String {
    match l4 {
        L4::Any => String::new(),
        L4::Tcp(p) => format!("tcp dport {} ", ports_text(p)),
        L4::Udp(p) => format!("udp dport {} ", ports_text(p)),
        L4::Icmp => match f {
            Some(Family::V4) => "meta l4proto icmp ".to_string(),
            Some(Family::V6) => "meta l4proto ipv6-icmp ".to_string(),
            None => "meta l4proto { icmp, ipv6-icmp } ".to_string(),
        },
    }
}

fn ports_text(p: &[(u16, u16)]) -> String {
    let items: Vec<String> = p
        .iter()
        .map(|&(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            }
        })
        .collect();
    match items.as_slice() {
        [one] => one.clone(),
        _ => format!("{{ {} }}", items.join(", ")),
    }
}

fn time_text(s: &Span) -> String {
    let mut t = String::new();
    let days: Vec<String> = s
        .days
        .iter()
        .zip(DAYS)
        .filter(|(on, _)| **on)
        .map(|(_, d)| format!("\"{d}\""))
        .collect();
    match days.len() {
        7 => {}
        1 => {
            let _ = write!(t, "meta day {} ", days.join(""));
        }
        _ => {
            let _ = write!(t, "meta day {{ {} }} ", days.join(", "));
        }
    }
    if !(s.start == 0 && s.end >= 1440) {
        // nft ranges are inclusive: stop one second before the end minute.
        let last = s.end.saturating_sub(1);
        let _ = write!(
            t,
            "meta hour \"{:02}:{:02}\"-\"{:02}:{:02}:59\" ",
            s.start / 60,
            s.start % 60,
            last / 60,
            last % 60
        );
    }
    t
}
