//! The two inline SVG charts of each incident in `report.html`: a timeline (one lane per
//! detector, one mark per alert) and a site-to-site graph (sites on a circle, an arrow per
//! crossing).
//!
//! Both are plain SVG elements with presentation attributes (no CSS classes needed, no
//! `id`s, so any number of charts can share one page, and no `xmlns` URL: inline SVG in
//! HTML does not need one). Every text from the input is escaped with
//! [`h`](crate::escape::h), including inside `<title>` tooltips.

use crate::escape::{clip, h};
use crate::facts::{Crossing, EXTERNAL, fmt_bytes, fmt_ts, fmt_ts_with, site_info};
use crate::{ReportContext, SiteInfo};
use sekisho_event::{Alert, Incident, Severity, Timestamp};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

/// Most alert marks drawn on one timeline; beyond it, an even sample is drawn (the caption
/// says so) so that a 100,000-alert incident does not make a 50 MB page.
pub(crate) const MAX_MARKS: usize = 2000;
/// Most arrows that get a text label; beyond, labels would cover each other and the
/// nodes, and the tooltips and the crossings table carry the same facts.
pub(crate) const MAX_EDGE_LABELS: usize = 6;
/// Most lanes; further detectors share the last lane.
const MAX_LANES: usize = 16;

/// Fill colour of a severity, shared with the HTML badges.
pub(crate) fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#b00020",
        Severity::High => "#d9480f",
        Severity::Medium => "#e8a100",
        Severity::Low => "#1c7ed6",
        Severity::Info => "#868e96",
    }
}

/// Tick spacings tried in order, in seconds; the first that gives at most 8 ticks wins.
const TICK_STEPS: &[i64] = &[
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    2 * 60,
    5 * 60,
    10 * 60,
    15 * 60,
    30 * 60,
    3600,
    2 * 3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86400,
    2 * 86400,
    7 * 86400,
    14 * 86400,
    30 * 86400,
    91 * 86400,
    365 * 86400,
];

/// Time axis: a linear scale from `[t0, t1]` (microseconds) to `[x0, x1]` pixels.
struct Scale {
    t0: i64,
    t1: i64,
    x0: f64,
    x1: f64,
}

impl Scale {
    fn x(&self, t: Timestamp) -> f64 {
        // Saturating: hostile logs can put alerts at both ends of the representable time.
        let f = t.as_micros().saturating_sub(self.t0) as f64
            / self.t1.saturating_sub(self.t0).max(1) as f64;
        self.x0 + f.clamp(0.0, 1.0) * (self.x1 - self.x0)
    }

    /// Tick times and the label format for them, aligned to UTC multiples of the step.
    fn ticks(&self) -> (Vec<Timestamp>, &'static str) {
        let span_s = (self.t1.saturating_sub(self.t0) / Timestamp::SECOND).max(1);
        let step_s = TICK_STEPS
            .iter()
            .copied()
            .find(|s| span_s / s <= 8)
            .unwrap_or_else(|| (span_s / 6 / 86400 + 1) * 86400);
        let step = step_s.saturating_mul(Timestamp::SECOND);
        let first = self
            .t0
            .div_euclid(step)
            .saturating_add(1)
            .saturating_mul(step);
        let mut ticks = Vec::new();
        let mut t = first;
        while t <= self.t1 && ticks.len() < 32 {
            ticks.push(Timestamp::from_micros(t));
            t = t.saturating_add(step);
        }
        let same_day = self.t0.div_euclid(Timestamp::DAY) == self.t1.div_euclid(Timestamp::DAY);
        let format = match (step_s >= 86400, same_day, step_s < 60) {
            (true, _, _) => "%Y-%m-%d",
            (false, true, true) => "%H:%M:%S",
            (false, true, false) => "%H:%M",
            (false, false, true) => "%m-%d %H:%M:%S",
            (false, false, false) => "%m-%d %H:%M",
        };
        (ticks, format)
    }
}

/// Appends the timeline chart of one incident: lanes by detector in order of first alert,
/// a circle per alert at its time (a bar to its last time when it spans), coloured by
/// severity, with a tooltip giving id, severity, time and summary.
pub(crate) fn timeline(o: &mut String, inc: &Incident, alerts: &HashMap<&str, &Alert>) {
    const W: f64 = 960.0;
    const LABEL_W: f64 = 180.0;
    const RIGHT: f64 = 28.0;
    const TOP: f64 = 10.0;
    const LANE_H: f64 = 30.0;
    const AXIS_H: f64 = 46.0;

    // Lanes: detectors in order of first appearance, which reads as the story of the attack.
    let mut lanes: Vec<&str> = Vec::new();
    for e in &inc.timeline {
        if !lanes.contains(&e.detector.as_str()) && lanes.len() < MAX_LANES {
            lanes.push(&e.detector);
        }
    }
    let lane_of = |d: &str| {
        lanes
            .iter()
            .position(|l| *l == d)
            .unwrap_or(lanes.len().saturating_sub(1))
    };
    let n_lanes = lanes.len().max(1);
    let height = TOP + n_lanes as f64 * LANE_H + AXIS_H;

    // Domain: every alert from its first to its last time, padded so marks sit inside.
    let end_of = |id: &str, ts: Timestamp| alerts.get(id).map_or(ts, |x| x.last_ts.max(ts));
    let mut t0 = inc.first_seen.as_micros();
    let mut t1 = inc.last_seen.as_micros().max(t0);
    for e in &inc.timeline {
        t0 = t0.min(e.ts.as_micros());
        t1 = t1.max(end_of(&e.alert_id, e.ts).as_micros());
    }
    let span = t1.saturating_sub(t0).max(Timestamp::MINUTE);
    let mid = t0 / 2 + t1 / 2;
    let (t0, t1) = if t1.saturating_sub(t0) < Timestamp::MINUTE {
        (mid.saturating_sub(span / 2), mid.saturating_add(span / 2))
    } else {
        (t0, t1)
    };
    let pad = span / 25;
    let scale = Scale {
        t0: t0.saturating_sub(pad),
        t1: t1.saturating_add(pad),
        x0: LABEL_W,
        x1: W - RIGHT,
    };

    let _ = write!(
        o,
        r##"<svg class="chart timeline" viewBox="0 0 {W} {height}" role="img" aria-label="Timeline of {} alerts by detector" font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif" font-size="12">"##,
        inc.timeline.len()
    );
    let _ = write!(o, "<title>Timeline of {}</title>", h(&inc.id));

    // Lane bands and labels.
    for (i, name) in lanes.iter().enumerate() {
        let y = TOP + i as f64 * LANE_H;
        let fill = if i % 2 == 0 { "#f6f8fa" } else { "#ffffff" };
        let _ = write!(
            o,
            r##"<rect x="0" y="{y}" width="{W}" height="{LANE_H}" fill="{fill}"/>"##
        );
        let _ = write!(
            o,
            r##"<text x="{}" y="{}" text-anchor="end" fill="#1d232b">{}</text>"##,
            LABEL_W - 12.0,
            y + LANE_H / 2.0 + 4.0,
            h(&clip(name, 26))
        );
    }

    // Grid and axis.
    let axis_y = TOP + n_lanes as f64 * LANE_H;
    let (ticks, format) = scale.ticks();
    for t in &ticks {
        let x = scale.x(*t);
        let _ = write!(
            o,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{axis_y}" stroke="#d5dae1" stroke-dasharray="2 3"/><line x1="{x:.1}" y1="{axis_y}" x2="{x:.1}" y2="{}" stroke="#5b6470"/><text x="{x:.1}" y="{}" text-anchor="middle" fill="#5b6470" font-size="11">{}</text>"##,
            axis_y + 5.0,
            axis_y + 18.0,
            h(&fmt_ts_with(*t, format))
        );
    }
    let _ = write!(
        o,
        r##"<line x1="{LABEL_W}" y1="{axis_y}" x2="{}" y2="{axis_y}" stroke="#5b6470"/>"##,
        W - RIGHT
    );
    let _ = write!(
        o,
        r##"<text x="{LABEL_W}" y="{}" fill="#5b6470" font-size="11">UTC, {} to {}</text>"##,
        axis_y + 38.0,
        h(&fmt_ts(Timestamp::from_micros(scale.t0))),
        h(&fmt_ts(Timestamp::from_micros(scale.t1)))
    );

    // Marks: an even sample when there are too many, always keeping the first and last.
    let n = inc.timeline.len();
    let stride = n.div_ceil(MAX_MARKS).max(1);
    let mut marks: Vec<_> = inc
        .timeline
        .iter()
        .enumerate()
        .filter(|(k, _)| k % stride == 0 || k + 1 == n)
        .map(|(_, e)| e)
        .collect();
    // Most severe drawn last, so that overlapping marks never hide a critical one.
    marks.sort_by_key(|e| e.severity);
    for e in marks {
        let y = TOP + lane_of(&e.detector) as f64 * LANE_H + LANE_H / 2.0;
        let x = scale.x(e.ts);
        let color = severity_color(e.severity);
        let _ = write!(
            o,
            "<g><title>{} · {} · {} UTC · {}&#10;{}</title>",
            h(&e.alert_id),
            e.severity,
            fmt_ts(e.ts),
            h(&e.detector),
            h(&e.summary)
        );
        let end = end_of(&e.alert_id, e.ts);
        if end > e.ts {
            let x2 = scale.x(end);
            if x2 - x >= 2.0 {
                let _ = write!(
                    o,
                    r##"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="8" rx="4" fill="{color}" fill-opacity="0.35"/>"##,
                    y - 4.0,
                    x2 - x
                );
            }
        }
        let _ = write!(
            o,
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="6" fill="{color}" stroke="#ffffff" stroke-width="1.5"/></g>"##
        );
    }
    o.push_str("</svg>");
}

/// Appends the site-to-site graph of one incident and returns the org's other sites (not
/// drawn, so that the crossings get the room; the caller lists them in a caption).
///
/// The sites the incident touched are laid out on a circle, each labelled with its id,
/// name and country; `external` is a node when an alert has an end outside every site.
/// One arrow per crossing direction, as wide as the bytes it moved (log scale; by alert
/// count when no bytes moved), coloured by its worst severity and labelled with its
/// services (when there are few enough arrows for labels to stay readable; the caller
/// lists every crossing in a table); crossings within one site are loops.
pub(crate) fn site_graph<'c>(
    o: &mut String,
    inc: &Incident,
    ctx: &'c ReportContext,
    edges: &BTreeMap<(&str, &str), Crossing>,
) -> Vec<&'c SiteInfo> {
    const W: f64 = 560.0;
    const CX: f64 = W / 2.0;
    const CY: f64 = 200.0;

    // Nodes: org order for known sites, then unknown ids sorted, then `external` last.
    let involved: BTreeSet<&str> = inc
        .sites
        .iter()
        .map(String::as_str)
        .chain(edges.keys().flat_map(|(a, b)| [*a, *b]))
        .collect();
    let mut nodes: Vec<&str> = ctx
        .sites
        .iter()
        .map(|s| s.id.as_str())
        .filter(|id| involved.contains(id))
        .collect();
    for id in &involved {
        if *id != EXTERNAL && !nodes.contains(id) {
            nodes.push(id);
        }
    }
    if involved.contains(EXTERNAL) {
        nodes.push(EXTERNAL);
    }
    let others: Vec<&SiteInfo> = ctx
        .sites
        .iter()
        .filter(|s| !involved.contains(s.id.as_str()))
        .collect();

    let n = nodes.len();
    let radius = if n <= 1 { 0.0 } else { 150.0 };
    // Nodes shrink when many share the circle, so that they do not overlap.
    let node_r = if n <= 3 {
        24.0
    } else {
        (std::f64::consts::PI * radius / n as f64 * 0.7).clamp(8.0, 24.0)
    };
    // Two sites read best side by side; more start at the top and go clockwise.
    let start = if n == 2 {
        std::f64::consts::PI
    } else {
        -std::f64::consts::FRAC_PI_2
    };
    let pos: HashMap<&str, Point> = nodes
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let a = start + i as f64 * std::f64::consts::TAU / n.max(1) as f64;
            (*id, (CX + radius * a.cos(), CY + radius * a.sin()))
        })
        .collect();

    // Fit the drawing's height to the nodes, with room for labels and bowed arrows.
    let (y0, y1) = pos
        .values()
        .fold((CY, CY), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let (y0, y1) = (y0 - node_r - 56.0, y1 + node_r + 64.0);
    let height = (y1 - y0).max(200.0);
    let _ = write!(
        o,
        r##"<svg class="chart sites" viewBox="0 {y0:.0} {W} {height:.0}" role="img" aria-label="Site-to-site crossings" font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif" font-size="12">"##
    );
    let _ = write!(o, "<title>Site-to-site crossings of {}</title>", h(&inc.id));

    // Edge widths: bytes on a log scale when any bytes moved, else alert counts.
    let max_bytes = edges.values().map(|e| e.bytes).max().unwrap_or(0);
    let max_alerts = edges.values().map(|e| e.alerts).max().unwrap_or(1).max(1);
    let width_of = |e: &Crossing| {
        if max_bytes > 0 {
            1.5 + 6.5 * ((e.bytes as f64).ln_1p() / (max_bytes as f64).ln_1p())
        } else {
            1.5 + 6.5 * (e.alerts as f64 / max_alerts as f64)
        }
    };

    // Edges first so nodes sit on top; labels after nodes so nothing hides them.
    let mut labels = String::new();
    let show_labels = edges.len() <= MAX_EDGE_LABELS;
    for ((from, to), e) in edges {
        let (Some(&p1), Some(&p2)) = (pos.get(from), pos.get(to)) else {
            continue;
        };
        let color = severity_color(e.worst);
        let width = width_of(e);
        let services: Vec<&str> = e.services.iter().copied().collect();
        let alerts_text = format!("{} alert{}", e.alerts, if e.alerts == 1 { "" } else { "s" });
        let tooltip = format!(
            "{from} → {to}: {alerts_text}, {}, {}",
            services.join(", "),
            fmt_bytes(e.bytes)
        );
        let (path, head, label_at, side) = if from == to {
            self_loop(p1, (CX, CY), node_r)
        } else {
            // A lone direction bows away from the centre, which keeps the middle free for
            // loops; with both directions, each bows to its left so the two stay apart.
            let bend = if edges.contains_key(&(*to, *from)) {
                0.16
            } else {
                let (mx, my) = ((p1.0 + p2.0) / 2.0 - CX, (p1.1 + p2.1) / 2.0 - CY);
                let (nx, ny) = (p2.1 - p1.1, p1.0 - p2.0);
                if mx * nx + my * ny >= 0.0 { 0.1 } else { -0.1 }
            };
            arc(p1, p2, node_r, bend)
        };
        let _ = write!(
            o,
            r##"<g><title>{}</title><path d="{path}" fill="none" stroke="{color}" stroke-width="{width:.1}" stroke-opacity="0.8" stroke-linecap="round"/><polygon points="{head}" fill="{color}"/></g>"##,
            h(&tooltip)
        );
        // Beside the arrow, on its outer side: anchored so the text grows away from it.
        if !show_labels {
            continue;
        }
        let (lx, ly) = label_at;
        let anchor = if side.0 > 0.35 {
            "start"
        } else if side.0 < -0.35 {
            "end"
        } else {
            "middle"
        };
        let ly = if side.1 > 0.35 {
            ly + 8.0
        } else if side.1 < -0.35 {
            ly - 12.0
        } else {
            ly
        };
        let _ = write!(
            labels,
            r##"<text x="{lx:.1}" y="{:.1}" text-anchor="{anchor}" font-size="11" fill="#1d232b" stroke="#ffffff" stroke-width="4" stroke-linejoin="round" paint-order="stroke"><title>{}</title><tspan x="{lx:.1}" font-weight="600">{}</tspan><tspan x="{lx:.1}" dy="13">{} · {}</tspan></text>"##,
            ly - 3.0,
            h(&tooltip),
            h(&services.join(", ")),
            alerts_text,
            fmt_bytes(e.bytes)
        );
    }

    for id in &nodes {
        let (x, y) = pos[id];
        let info: Option<&SiteInfo> = site_info(&ctx.sites, id);
        let is_external = *id == EXTERNAL;
        let (fill, stroke, dash) = if is_external {
            ("#fff4f4", "#b00020", r#" stroke-dasharray="4 3""#)
        } else {
            ("#e8f0fb", "#1c4e80", "")
        };
        let country = match info {
            Some(s) if !s.country.is_empty() => s.country.as_str(),
            _ if is_external => "EXT",
            _ => "?",
        };
        let name = info.map_or(
            if is_external {
                "outside every site"
            } else {
                ""
            },
            |s| s.name.as_str(),
        );
        // Label outside the circle, anchored away from the centre.
        let (dx, dy) = if n <= 1 {
            (0.0, 1.0)
        } else {
            let (ux, uy) = (x - CX, y - CY);
            let l = (ux * ux + uy * uy).sqrt().max(1e-9);
            (ux / l, uy / l)
        };
        let lx = x + dx * (node_r + 10.0);
        let ly = y + dy * (node_r + 10.0) + if dy > 0.3 { 10.0 } else { 0.0 }
            - if dy < -0.3 { 14.0 } else { 0.0 };
        let anchor = if dx > 0.35 {
            "start"
        } else if dx < -0.35 {
            "end"
        } else {
            "middle"
        };
        let _ = write!(
            o,
            r##"<g><title>{}</title><circle cx="{x:.1}" cy="{y:.1}" r="{node_r:.1}" fill="{fill}" stroke="{stroke}" stroke-width="2"{dash}/><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="11" font-weight="700" fill="#1d232b">{}</text><text x="{lx:.1}" y="{ly:.1}" text-anchor="{anchor}" font-weight="600" fill="#1d232b">{}<tspan x="{lx:.1}" dy="13" font-weight="400" font-size="11" fill="#5b6470">{}</tspan></text></g>"##,
            h(&format!("{id} ({country}) {name}")),
            y + 4.0,
            h(&clip(country, 4)),
            h(&clip(id, 24)),
            h(&clip(name, 28))
        );
    }
    o.push_str(&labels);
    o.push_str("</svg>");
    others
}

type Point = (f64, f64);

/// A curved arrow from node `a` to node `b`: the path, the arrowhead polygon, and where
/// its label goes, and the unit vector of the side it bows to. `bend` is how far the curve bows, as a fraction of the distance,
/// positive to the left of the direction of travel (so `a → b` and `b → a` with the same
/// `bend` stay apart).
fn arc(a: Point, b: Point, node_r: f64, bend: f64) -> (String, String, Point, Point) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len = (dx * dx + dy * dy).sqrt().max(1e-9);
    let side = if bend < 0.0 { -1.0 } else { 1.0 };
    let (nx, ny) = (dy / len * side, -dx / len * side);
    let bend = len * bend.abs();
    let c = ((a.0 + b.0) / 2.0 + nx * bend, (a.1 + b.1) / 2.0 + ny * bend);
    let start = toward(a, c, node_r + 2.0);
    let tip = toward(b, c, node_r + 3.0);
    let base = toward(tip, c, 11.0);
    let path = format!(
        "M{:.1},{:.1} Q{:.1},{:.1} {:.1},{:.1}",
        start.0, start.1, c.0, c.1, base.0, base.1
    );
    // The curve's midpoint, moved off the line to the outside of the bend.
    let label = (
        0.25 * start.0 + 0.5 * c.0 + 0.25 * tip.0 + nx * 8.0,
        0.25 * start.1 + 0.5 * c.1 + 0.25 * tip.1 + ny * 8.0,
    );
    (path, arrowhead(tip, base), label, (nx, ny))
}

/// A loop on node `p` for crossings within one site, drawn towards the centre of the
/// circle: the outer side holds the node's label.
fn self_loop(p: Point, centre: Point, node_r: f64) -> (String, String, Point, Point) {
    let (ux, uy) = {
        let (dx, dy) = (centre.0 - p.0, centre.1 - p.1);
        let l = (dx * dx + dy * dy).sqrt();
        if l < 1e-6 {
            (0.0, -1.0)
        } else {
            (dx / l, dy / l)
        }
    };
    let rot = |(x, y): Point, a: f64| (x * a.cos() - y * a.sin(), x * a.sin() + y * a.cos());
    let (s_dir, e_dir) = (rot((ux, uy), -0.5), rot((ux, uy), 0.5));
    let start = (
        p.0 + s_dir.0 * (node_r + 2.0),
        p.1 + s_dir.1 * (node_r + 2.0),
    );
    let tip = (
        p.0 + e_dir.0 * (node_r + 3.0),
        p.1 + e_dir.1 * (node_r + 3.0),
    );
    let far = node_r + 46.0;
    let c1 = (
        p.0 + rot((ux, uy), -0.6).0 * far,
        p.1 + rot((ux, uy), -0.6).1 * far,
    );
    let c2 = (
        p.0 + rot((ux, uy), 0.6).0 * far,
        p.1 + rot((ux, uy), 0.6).1 * far,
    );
    let base = toward(tip, c2, 11.0);
    let path = format!(
        "M{:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
        start.0, start.1, c1.0, c1.1, c2.0, c2.1, base.0, base.1
    );
    let label = (p.0 + ux * (far - 8.0), p.1 + uy * (far - 8.0));
    (path, arrowhead(tip, base), label, (ux, uy))
}

/// The point `d` away from `from` in the direction of `to`.
fn toward(from: Point, to: Point, d: f64) -> Point {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let l = (dx * dx + dy * dy).sqrt().max(1e-9);
    (from.0 + dx / l * d, from.1 + dy / l * d)
}

/// Triangle with its point at `tip` and its base centred on `base`.
fn arrowhead(tip: Point, base: Point) -> String {
    let (dx, dy) = (tip.0 - base.0, tip.1 - base.1);
    let l = (dx * dx + dy * dy).sqrt().max(1e-9);
    let (px, py) = (-dy / l * 5.5, dx / l * 5.5);
    format!(
        "{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
        tip.0,
        tip.1,
        base.0 + px,
        base.1 + py,
        base.0 - px,
        base.1 - py
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scale(from: &str, to: &str) -> Scale {
        Scale {
            t0: Timestamp::parse_rfc3339(from).unwrap().as_micros(),
            t1: Timestamp::parse_rfc3339(to).unwrap().as_micros(),
            x0: 0.0,
            x1: 100.0,
        }
    }

    #[test]
    fn ticks_are_utc_aligned_and_labelled_for_the_span() {
        let s = scale("2024-03-04T01:07:00Z", "2024-03-04T05:55:00Z");
        let (ticks, format) = s.ticks();
        assert_eq!(format, "%H:%M");
        let labels: Vec<String> = ticks.iter().map(|t| fmt_ts_with(*t, format)).collect();
        assert_eq!(labels, ["02:00", "03:00", "04:00", "05:00"]);

        let s = scale("2024-03-04T22:00:00Z", "2024-03-06T02:00:00Z");
        let (ticks, format) = s.ticks();
        assert_eq!(format, "%m-%d %H:%M");
        assert_eq!(fmt_ts_with(ticks[0], format), "03-05 00:00");

        let s = scale("2024-01-01T00:00:00Z", "2024-03-01T00:00:00Z");
        let (ticks, format) = s.ticks();
        assert_eq!(format, "%Y-%m-%d");
        assert!(ticks.len() <= 9 && ticks.len() >= 4, "{ticks:?}");
    }

    #[test]
    fn scale_clamps_times_outside_the_domain() {
        let s = scale("2024-03-04T00:00:00Z", "2024-03-04T01:00:00Z");
        assert_eq!(s.x(Timestamp::from_micros(0)), 0.0);
        assert_eq!(s.x(Timestamp::from_micros(i64::MAX)), 100.0);
    }

    #[test]
    fn opposite_crossings_curve_to_opposite_sides() {
        let (_, _, l1, _) = arc((0.0, 0.0), (100.0, 0.0), 10.0, 0.16);
        let (_, _, l2, _) = arc((100.0, 0.0), (0.0, 0.0), 10.0, 0.16);
        assert!(l1.1 * l2.1 < 0.0, "{l1:?} {l2:?}");
    }
}
