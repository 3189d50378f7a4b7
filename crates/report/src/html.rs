//! `report.html`: the Markdown report's content as one self-contained page, plus a timeline
//! chart and a site-to-site graph per incident.
//!
//! Self-contained means: inline CSS, inline SVG, no script, no URL. A strict
//! Content-Security-Policy (`default-src 'none'`) backs the escaping up: should a hostile
//! string ever slip through unescaped, the browser still runs no script and loads nothing.

use crate::escape::h;
use crate::facts::crossings;
use crate::facts::{
    Facts, MAX_ALERT_ROWS, MAX_LIST_ITEMS, MAX_REJECTION_ROWS, MAX_TIMELINE_ROWS, bytes_total,
    context_line, crossing_label, endpoint_label, fmt_bytes, fmt_bytes_exact, fmt_count, fmt_ts,
    plural, sensors, severity_breakdown, site_label,
};
use crate::svg::{self, MAX_EDGE_LABELS, MAX_MARKS};
use crate::{Analysis, ReportContext};
use sekisho_event::{Incident, Severity};
use std::fmt::Write as _;

const CSS: &str = r#"
:root{--ink:#1d232b;--muted:#5b6470;--line:#d5dae1;--panel:#f6f8fa;--accent:#1c4e80;
--crit:#b00020;--high:#d9480f;--med:#e8a100;--low:#1c7ed6;--info:#868e96}
*{box-sizing:border-box}
html{font-size:15px}
body{margin:0;color:var(--ink);background:#eef1f4;line-height:1.5;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Noto Sans CJK JP",sans-serif}
header.top{background:#14243a;color:#fff;padding:28px 0 24px}
header.top .wrap{max-width:1160px;margin:0 auto;padding:0 28px;display:flex;flex-wrap:wrap;gap:12px 40px;justify-content:space-between;align-items:flex-end}
header.top h1{margin:0;font-size:1.75rem;font-weight:650;letter-spacing:.01em}
header.top .org{margin:2px 0 0;font-size:1.1rem;opacity:.92}
header.top dl{display:grid;grid-template-columns:max-content auto;gap:2px 14px;margin:0;font-size:.88rem}
header.top dt{opacity:.7}
header.top dd{margin:0}
main{max-width:1160px;margin:24px auto;padding:0 28px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:22px 28px;margin:0 0 24px}
h2{font-size:1.35rem;margin:0 0 14px;line-height:1.3}
h3{font-size:1.02rem;margin:22px 0 8px;color:var(--accent)}
p{margin:0 0 12px}
.lead{font-size:1.05rem;max-width:60rem}
table{border-collapse:collapse;width:100%;font-size:.86rem;margin:4px 0 14px}
th,td{border:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top;overflow-wrap:break-word}
td.text,.chips span{overflow-wrap:anywhere}
table.narrow{width:auto;min-width:50%}
thead th{background:var(--panel);font-weight:600;white-space:nowrap}
tbody tr:nth-child(even) td{background:#fbfcfd}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.num{padding-left:18px}
td.time{white-space:nowrap;font-variant-numeric:tabular-nums}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:.82rem}
table.kv th{width:11rem;background:var(--panel);font-weight:600}
table.kv.wide th{width:17rem}
td.id{white-space:nowrap}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.72rem;font-weight:700;text-transform:uppercase;letter-spacing:.05em;color:#fff;vertical-align:.12em;white-space:nowrap}
.sev-critical{background:var(--crit)}.sev-high{background:var(--high)}.sev-medium{background:var(--med);color:#1d232b}
.sev-low{background:var(--low)}.sev-info{background:var(--info)}
.cards{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:12px;margin:4px 0 18px}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 14px;background:var(--panel)}
.card .n{font-size:1.55rem;font-weight:700;line-height:1.25}
.card .l{color:var(--muted);font-size:.74rem;text-transform:uppercase;letter-spacing:.06em}
.chips span{display:inline-block;background:#eef2f7;border:1px solid #d8e0ea;border-radius:4px;padding:0 6px;margin:1px 4px 1px 0;font-size:.82rem}
.chips.risk span{background:#fff1f0;border-color:#f3c9c5}
.scope{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:22px;align-items:start}
figure{margin:8px 0 14px}
figcaption{color:var(--muted);font-size:.8rem;margin-top:4px}
svg.chart{display:block;width:100%;height:auto;border:1px solid var(--line);border-radius:6px;background:#fff}
.note{color:var(--muted);font-size:.85rem}
.incident h2 .id{color:var(--muted);font-weight:600;margin-right:.3em}
nav.toc ul{margin:0;padding-left:1.2em}
footer{text-align:center;color:var(--muted);font-size:.8rem;padding:0 0 32px}
a{color:var(--accent)}
@media (max-width:900px){.scope{grid-template-columns:1fr}.cards{grid-template-columns:repeat(2,minmax(0,1fr))}}
@page{size:A4;margin:14mm 12mm}
@media print{
html{font-size:10pt}
body{background:#fff}
header.top{background:#fff;color:#000;border-bottom:2px solid #000;padding:0 0 8px}
header.top .wrap,main{max-width:none;padding:0}
main{margin:12px 0 0}
section{border:none;border-radius:0;padding:0;margin:0 0 16pt}
section.incident{break-before:page}
h2,h3{break-after:avoid}
.scope{grid-template-columns:minmax(0,1fr) minmax(0,1fr)}
.cards{grid-template-columns:repeat(4,minmax(0,1fr))}
figure,tr,.card,table.kv{break-inside:avoid}
thead{display:table-header-group}
.badge,.card,svg,th,.chips span,tbody tr:nth-child(even) td{-webkit-print-color-adjust:exact;print-color-adjust:exact}
a{color:inherit;text-decoration:none}
footer{padding:8pt 0 0}
}
"#;

/// Opening of a table with a header row; a header starting with `>` is right-aligned.
fn thead(o: &mut String, class: &str, headers: &[&str]) {
    if class.is_empty() {
        o.push_str("<table><thead><tr>");
    } else {
        let _ = write!(o, r#"<table class="{class}"><thead><tr>"#);
    }
    for hd in headers {
        match hd.strip_prefix('>') {
            Some(hd) => {
                let _ = write!(o, r#"<th class="num">{hd}</th>"#);
            }
            None => {
                let _ = write!(o, "<th>{hd}</th>");
            }
        }
    }
    o.push_str("</tr></thead><tbody>");
}

fn badge(s: Severity) -> String {
    format!(r#"<span class="badge sev-{s}">{s}</span>"#)
}

/// Items as chips, escaped, at most [`MAX_LIST_ITEMS`]; `-` when empty.
fn chips(items: &[impl AsRef<str>], class: &str) -> String {
    if items.is_empty() {
        return "-".into();
    }
    let mut o = if class.is_empty() {
        String::from(r#"<span class="chips">"#)
    } else {
        format!(r#"<span class="chips {class}">"#)
    };
    for i in items.iter().take(MAX_LIST_ITEMS) {
        let _ = write!(o, "<span>{}</span>", h(i.as_ref()));
    }
    o.push_str("</span>");
    if items.len() > MAX_LIST_ITEMS {
        let _ = write!(o, " +{} more", items.len() - MAX_LIST_ITEMS);
    }
    o
}

/// The HTML report: one self-contained page with a header (organisation, period), an
/// executive summary, one section per incident (scope, site graph, timeline chart, entry
/// points, crossings, bytes moved, timeline table) and the appendices of the Markdown
/// report.
///
/// Every value from the input is escaped with [`escape_html`](crate::escape_html) after
/// [`sanitize_terminal`](crate::sanitize_terminal), in text, attributes and SVG alike. The
/// page has no script and references no URL; it prints on A4 with one incident per page.
pub fn html(a: &Analysis) -> String {
    let facts = Facts::new(a);
    let ctx = a.context;
    let mut o = String::with_capacity(64 * 1024);

    // The header names what was watched; without records, what was alerted.
    let period = match facts.data_period.or(facts.period) {
        Some((from, to)) => format!("{} to {} UTC", fmt_ts(from), fmt_ts(to)),
        None => "no alerted activity".into(),
    };
    let _ = write!(
        o,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{gen}">
<title>Incident report: {org}</title>
<style>{CSS}</style>
</head>
<body>
<header class="top"><div class="wrap"><div><h1>Incident report</h1><p class="org">{org}</p></div>
<dl><dt>Period</dt><dd>{period}</dd><dt>Incidents</dt><dd>{n}</dd><dt>Generated by</dt><dd>{gen}</dd><dt>Times</dt><dd>UTC</dd></dl></div></header>
<main>
"#,
        gen = h(&ctx.generated_by),
        org = h(&ctx.org_name),
        period = h(&period),
        n = a.incidents.len(),
    );

    summary(&mut o, a, &facts);
    for (i, inc) in a.incidents.iter().enumerate() {
        incident(&mut o, ctx, &facts, inc, i + 1);
    }
    appendix(&mut o, a, &facts);

    let _ = write!(
        o,
        "</main>\n<footer>{} · {} · all times UTC</footer>\n</body>\n</html>\n",
        h(&ctx.generated_by),
        h(&ctx.org_name)
    );
    o
}

fn summary(o: &mut String, a: &Analysis, facts: &Facts) {
    let ctx = a.context;
    let moved = a
        .incidents
        .iter()
        .fold(0u64, |t, i| t.saturating_add(bytes_total(i)));
    o.push_str(r#"<section id="summary"><h2>Executive summary</h2>"#);

    match (facts.worst, facts.period) {
        (Some(w), Some((from, to))) => {
            let _ = write!(
                o,
                r##"<p class="lead">Between {} and {} UTC, sekisho found <strong>{} {}</strong> ({}), built from {} {}. The most severe is <a href="#inc-{}"><strong>{}</strong></a> {}: {}. It reached {} {} and {} declared {}.</p>"##,
                fmt_ts(from),
                fmt_ts(to),
                a.incidents.len(),
                plural(a.incidents.len(), "incident", "incidents"),
                severity_breakdown(&facts.incidents_by_severity),
                fmt_count(a.alerts.len() as u64),
                plural(a.alerts.len(), "alert", "alerts"),
                a.incidents
                    .iter()
                    .position(|i| std::ptr::eq(i, w))
                    .map_or(1, |p| p + 1),
                h(&w.id),
                badge(w.severity),
                h(&w.title),
                w.sites.len(),
                plural(w.sites.len(), "site", "sites"),
                w.assets.len(),
                plural(w.assets.len(), "asset", "assets"),
            );
        }
        _ => {
            let _ = write!(
                o,
                r#"<p class="lead">sekisho found <strong>no incidents</strong> in the analysed input ({} {} alerted).</p>"#,
                fmt_count(a.alerts.len() as u64),
                plural(a.alerts.len(), "alert", "alerts"),
            );
        }
    }

    // Cards: the numbers a reader looks for first.
    o.push_str(r#"<div class="cards">"#);
    let card = |o: &mut String, n: String, l: &str| {
        let _ = write!(
            o,
            r#"<div class="card"><div class="n">{n}</div><div class="l">{l}</div></div>"#
        );
    };
    card(o, a.incidents.len().to_string(), "incidents");
    card(
        o,
        facts
            .worst
            .map_or_else(|| "-".to_string(), |w| badge(w.severity)),
        "worst severity",
    );
    card(o, fmt_count(a.alerts.len() as u64), "alerts");
    card(o, facts.sites.len().to_string(), "sites involved");
    card(o, facts.customers.len().to_string(), "customers at risk");
    card(o, fmt_bytes(moved), "moved across sites");
    card(o, fmt_count(a.stats.records), "records read");
    card(o, fmt_count(a.stats.rejected), "records rejected");
    o.push_str("</div>");

    let sites: Vec<String> = facts
        .sites
        .iter()
        .map(|s| site_label(&ctx.sites, s))
        .collect();
    let data: Vec<&str> = facts.data_classes.iter().copied().collect();
    let customers: Vec<&str> = facts.customers.iter().copied().collect();
    o.push_str(r#"<table class="kv wide"><tbody>"#);
    if let Some((from, to)) = facts.data_period {
        let _ = write!(
            o,
            "<tr><th>Data covered</th><td>{} to {} UTC</td></tr>",
            fmt_ts(from),
            fmt_ts(to)
        );
    }
    let _ = write!(o, "<tr><th>Period of alerted activity</th><td>");
    match facts.period {
        Some((from, to)) => {
            let _ = write!(o, "{} to {} UTC", fmt_ts(from), fmt_ts(to));
        }
        None => o.push_str("no alerted activity"),
    }
    o.push_str("</td></tr>");
    let _ = write!(
        o,
        "<tr><th>Incidents</th><td>{}{}</td></tr>",
        a.incidents.len(),
        if a.incidents.is_empty() {
            String::new()
        } else {
            format!(" ({})", severity_breakdown(&facts.incidents_by_severity))
        }
    );
    if let Some(w) = facts.worst {
        let _ = write!(
            o,
            "<tr><th>Most severe</th><td>{} {}: {}</td></tr>",
            badge(w.severity),
            h(&w.id),
            h(&w.title)
        );
    }
    let _ = write!(
        o,
        "<tr><th>Sites involved</th><td>{}</td></tr>",
        chips(&sites, "")
    );
    let _ = write!(
        o,
        "<tr><th>Data classes at risk</th><td>{}</td></tr>",
        if data.is_empty() {
            "none declared on the assets touched".into()
        } else {
            chips(&data, "risk")
        }
    );
    let _ = write!(
        o,
        "<tr><th>Customers whose data may be exposed</th><td>{}</td></tr>",
        if customers.is_empty() {
            "none declared on the assets touched".into()
        } else {
            chips(&customers, "risk")
        }
    );
    let _ = write!(
        o,
        "<tr><th>Bytes moved across sites (external included)</th><td>{}</td></tr>",
        fmt_bytes_exact(moved)
    );
    let _ = write!(
        o,
        r##"<tr><th>Input</th><td>{} records read, {} parsed, {} rejected (see <a href="#input">input statistics</a>)</td></tr>"##,
        fmt_count(a.stats.records),
        fmt_count(a.stats.parsed),
        fmt_count(a.stats.rejected),
    );
    o.push_str("</tbody></table>");

    if !a.incidents.is_empty() {
        o.push_str("<h3>Incidents</h3>");
        thead(
            o,
            "",
            &[
                "Incident",
                "Severity",
                "First seen",
                "Last seen",
                "Sites",
                ">Alerts",
                "Title",
            ],
        );
        for (n, i) in a.incidents.iter().enumerate() {
            let _ = write!(
                o,
                r##"<tr><td class="id"><a href="#inc-{}">{}</a></td><td>{}</td><td class="time">{}</td><td class="time">{}</td><td>{}</td><td class="num">{}</td><td class="text">{}</td></tr>"##,
                n + 1,
                h(&i.id),
                badge(i.severity),
                fmt_ts(i.first_seen),
                fmt_ts(i.last_seen),
                chips(&i.sites, ""),
                i.alert_ids.len(),
                h(&i.title)
            );
        }
        o.push_str("</tbody></table>");
    }
    o.push_str("</section>\n");
}

fn incident(o: &mut String, ctx: &ReportContext, facts: &Facts, inc: &Incident, n: usize) {
    // Anchors are numbered by position, never taken from data.
    let _ = write!(
        o,
        r#"<section class="incident" id="inc-{n}"><h2><span class="id">{}</span>{} {}</h2>"#,
        h(&inc.id),
        h(&inc.title),
        badge(inc.severity)
    );

    // Scope table beside the site graph.
    let hosts: Vec<String> = inc.hosts.iter().map(ToString::to_string).collect();
    let sites: Vec<String> = inc
        .sites
        .iter()
        .map(|s| site_label(&ctx.sites, s))
        .collect();
    o.push_str(r#"<div class="scope"><div><table class="kv"><tbody>"#);
    let row = |o: &mut String, k: &str, v: String| {
        let _ = write!(o, "<tr><th>{k}</th><td>{v}</td></tr>");
    };
    row(o, "Severity", badge(inc.severity));
    row(o, "Status", h(&inc.status));
    row(o, "First seen", format!("{} UTC", fmt_ts(inc.first_seen)));
    row(o, "Last seen", format!("{} UTC", fmt_ts(inc.last_seen)));
    row(o, "Sites", chips(&sites, ""));
    row(
        o,
        "Hosts",
        format!(r#"<span class="mono">{}</span>"#, chips(&hosts, "")),
    );
    row(o, "Assets", chips(&inc.assets, ""));
    row(o, "Data classes", chips(&inc.data_classes, "risk"));
    row(o, "Customers", chips(&inc.customers, "risk"));
    row(o, "Users", chips(&inc.users, ""));
    row(o, "Detectors", chips(&inc.detectors, ""));
    row(o, "Alerts", inc.alert_ids.len().to_string());
    row(o, "Bytes moved", fmt_bytes_exact(bytes_total(inc)));
    o.push_str("</tbody></table></div><figure>");
    let crossings = crossings(inc, &facts.alert_by_id);
    let others = svg::site_graph(o, inc, ctx, &crossings);
    o.push_str(
        "<figcaption>Crossings between the sites involved. Arrow width: bytes moved (log \
         scale), or alert count when no bytes moved; colour: worst severity.",
    );
    if crossings.len() > MAX_EDGE_LABELS {
        o.push_str(" Too many arrows to label: hover one, or see the crossings table.");
    }
    if !others.is_empty() {
        let ids: Vec<&str> = others.iter().map(|s| s.id.as_str()).collect();
        let _ = write!(o, " Sites not involved: {}.", h(&ids.join(", ")));
    }
    o.push_str("</figcaption></figure></div>");

    o.push_str("<h3>Timeline</h3><figure>");
    svg::timeline(o, inc, &facts.alert_by_id);
    let _ = write!(
        o,
        "<figcaption>One lane per detector, one mark per alert, coloured by severity{}. \
         Hover a mark for its summary.</figcaption></figure>",
        if inc.timeline.len() > MAX_MARKS {
            format!(
                "; an even sample of {MAX_MARKS} of {} alerts is drawn",
                fmt_count(inc.timeline.len() as u64)
            )
        } else {
            String::new()
        }
    );

    o.push_str("<h3>Entry points</h3>");
    if inc.entry_points.is_empty() {
        o.push_str(r#"<p class="note">None recorded.</p>"#);
    } else {
        thead(o, "", &["Time (UTC)", "From", "To", "Service", "Alert"]);
        for e in &inc.entry_points {
            let _ = write!(
                o,
                r#"<tr><td class="time">{}</td><td class="mono">{}</td><td class="mono">{}</td><td>{}</td><td class="id">{}</td></tr>"#,
                fmt_ts(e.ts),
                h(&endpoint_label(&e.src)),
                h(&endpoint_label(&e.dst)),
                e.service,
                h(&e.alert_id)
            );
        }
        o.push_str("</tbody></table>");
    }

    o.push_str("<h3>Crossings between sites</h3>");
    if crossings.is_empty() {
        o.push_str(r#"<p class="note">None recorded.</p>"#);
    } else {
        thead(
            o,
            "",
            &[
                "From site",
                "To site",
                "Services",
                ">Alerts",
                ">Bytes",
                "Worst severity",
            ],
        );
        for ((from, to), c) in &crossings {
            let services: Vec<&str> = c.services.iter().copied().collect();
            let _ = write!(
                o,
                r#"<tr><td>{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>"#,
                h(from),
                h(to),
                services.join(", "),
                fmt_count(c.alerts as u64),
                fmt_bytes(c.bytes),
                badge(c.worst)
            );
        }
        o.push_str("</tbody></table>");
    }

    o.push_str("<h3>Bytes moved by site pair</h3>");
    if inc.bytes_moved.is_empty() {
        o.push_str(r#"<p class="note">None recorded.</p>"#);
    } else {
        thead(o, "narrow", &["From site", "To site", ">Bytes"]);
        for b in &inc.bytes_moved {
            let _ = write!(
                o,
                r#"<tr><td>{}</td><td>{}</td><td class="num">{}</td></tr>"#,
                h(&b.from_site),
                h(&b.to_site),
                fmt_bytes_exact(b.bytes)
            );
        }
        o.push_str("</tbody></table>");
    }

    o.push_str("<h3>Alerts in time order</h3>");
    if inc.timeline.is_empty() {
        o.push_str(r#"<p class="note">No alerts recorded.</p>"#);
    } else {
        thead(
            o,
            "",
            &[
                "Time (UTC)",
                "Alert",
                "Detector",
                "Severity",
                "Source → destination",
                "Service",
                "Summary",
            ],
        );
        for e in inc.timeline.iter().take(MAX_TIMELINE_ROWS) {
            let _ = write!(
                o,
                r#"<tr><td class="time">{}</td><td class="id">{}</td><td class="id">{}</td><td>{}</td><td class="mono">{}</td><td>{}</td><td class="text">{}</td></tr>"#,
                fmt_ts(e.ts),
                h(&e.alert_id),
                h(&e.detector),
                badge(e.severity),
                h(&crossing_label(&e.src, &e.dst)),
                e.service,
                h(&e.summary)
            );
        }
        o.push_str("</tbody></table>");
        if inc.timeline.len() > MAX_TIMELINE_ROWS {
            let _ = write!(
                o,
                r#"<p class="note">First {MAX_TIMELINE_ROWS} of {} alerts shown; all are in incidents.json.</p>"#,
                fmt_count(inc.timeline.len() as u64)
            );
        }
    }
    let missing = inc
        .alert_ids
        .len()
        .saturating_sub(facts.alerts_of(inc).len());
    if missing > 0 {
        let _ = write!(
            o,
            r#"<p class="note">{missing} of this incident's alert ids have no alert in this run.</p>"#
        );
    }
    o.push_str("</section>\n");
}

fn appendix(o: &mut String, a: &Analysis, facts: &Facts) {
    let st = a.stats;

    o.push_str(r#"<section id="detectors"><h2>Appendix A: Alerts by detector</h2>"#);
    if facts.by_detector.is_empty() {
        o.push_str(r#"<p class="note">No alerts.</p>"#);
    } else {
        thead(o, "narrow", &["Detector", ">Alerts", "Highest severity"]);
        for d in &facts.by_detector {
            let _ = write!(
                o,
                r#"<tr><td>{}</td><td class="num">{}</td><td>{}</td></tr>"#,
                h(d.detector),
                fmt_count(d.alerts),
                badge(d.worst)
            );
        }
        o.push_str("</tbody></table>");
    }
    o.push_str("</section>\n");

    o.push_str(r#"<section id="alerts"><h2>Appendix B: Alert details</h2>"#);
    if a.alerts.is_empty() {
        o.push_str(r#"<p class="note">No alerts.</p>"#);
    } else {
        // Six columns, facts stacked in each: thirteen side by side do not fit a page.
        thead(
            o,
            "",
            &[
                "Alert",
                "Detector, rule, ATT&amp;CK",
                "Crossing",
                ">Flows, bytes out / in",
                "Application context",
                "Sensors",
            ],
        );
        for x in a.alerts.iter().take(MAX_ALERT_ROWS) {
            let service = match x.dst_port {
                Some(p) => format!("{}/{p}", x.service),
                None => x.service.to_string(),
            };
            let mut detector = h(&x.detector);
            for extra in [&x.rule, &x.attack].into_iter().flatten() {
                let _ = write!(detector, "<br>{}", h(extra));
            }
            let _ = write!(
                o,
                r#"<tr><td class="id">{}<br>{}<br>{}</td><td class="text">{detector}</td><td class="mono">{}<br>{service}</td><td class="num">{}<br>{} / {}</td><td class="text">{}</td><td class="text">{}</td></tr>"#,
                h(&x.id),
                fmt_ts(x.ts),
                badge(x.severity),
                h(&crossing_label(&x.src, &x.dst)),
                fmt_count(x.flow_count),
                fmt_bytes(x.bytes_out),
                fmt_bytes(x.bytes_in),
                h(&context_line(x)),
                h(&sensors(x).join(", ")),
            );
        }
        o.push_str("</tbody></table>");
        if a.alerts.len() > MAX_ALERT_ROWS {
            let _ = write!(
                o,
                r#"<p class="note">First {MAX_ALERT_ROWS} of {} alerts shown; all are in alerts.jsonl.</p>"#,
                fmt_count(a.alerts.len() as u64)
            );
        }
    }
    o.push_str("</section>\n");

    o.push_str(r#"<section id="input"><h2>Appendix C: Input statistics</h2>"#);
    let _ = write!(o, "<p>Inputs: {}</p>", chips(&a.context.inputs, ""));
    thead(o, "narrow", &["Measure", ">Count"]);
    for (k, v) in [
        ("Files read", st.files),
        ("Bytes read", st.bytes),
        ("Records read", st.records),
        ("Records parsed", st.parsed),
        ("Records rejected", st.rejected),
        ("Records skipped (logs not used)", st.skipped),
    ] {
        let _ = write!(
            o,
            r#"<tr><td>{k}</td><td class="num">{}</td></tr>"#,
            fmt_count(v)
        );
    }
    o.push_str("</tbody></table>");
    if !st.parsed_by_log.is_empty() {
        thead(o, "narrow", &["Log", ">Records parsed"]);
        for (log, n) in &st.parsed_by_log {
            let _ = write!(
                o,
                r#"<tr><td>{}</td><td class="num">{}</td></tr>"#,
                h(log),
                fmt_count(*n)
            );
        }
        o.push_str("</tbody></table>");
    }
    if !st.rejected_by_reason.is_empty() {
        thead(o, "narrow", &["Rejection reason", ">Records"]);
        for (r, n) in &st.rejected_by_reason {
            let _ = write!(
                o,
                r#"<tr><td>{}</td><td class="num">{}</td></tr>"#,
                h(r),
                fmt_count(*n)
            );
        }
        o.push_str("</tbody></table>");
    }
    if !st.samples.is_empty() {
        let shown = st.samples.len().min(MAX_REJECTION_ROWS);
        let _ = write!(
            o,
            "<p>First {shown} of {} rejected records:</p>",
            fmt_count(st.rejected)
        );
        thead(o, "", &["File", ">Line", "Reason", "Detail"]);
        for r in st.samples.iter().take(shown) {
            let _ = write!(
                o,
                r#"<tr><td class="mono">{}</td><td class="num">{}</td><td>{}</td><td class="mono text">{}</td></tr>"#,
                h(&r.file),
                r.line,
                r.reason,
                h(&r.detail)
            );
        }
        o.push_str("</tbody></table>");
    }
    o.push_str("</section>\n");

    if !a.context.sites.is_empty() {
        o.push_str(r#"<section id="sites"><h2>Appendix D: Sites</h2>"#);
        thead(o, "", &["Site", "Name", "Country", "Tags"]);
        for s in &a.context.sites {
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                h(&s.id),
                h(&s.name),
                h(&s.country),
                chips(&s.tags, "")
            );
        }
        o.push_str("</tbody></table></section>\n");
    }
}
