//! A small, realistic analysis built by hand, and a strict checker for the HTML the crate
//! writes. Shared by the integration tests and the `fixture_report` example.
//!
//! The story: an intruder on a Bangkok workstation reaches the Tokyo headquarters file
//! server over RDP and SMB (policy denies both), pivots to the domain controller and sends
//! 1.8 GB out to the internet (incident 1); a day later, WinRM and SSH reach the same
//! domain controller from Jakarta and Manila out of hours (incident 2). Alert A000002 and a
//! rejection carry hostile strings: HTML and script injection, attribute breaking, table
//! pipes, ANSI escapes and newlines.

#![allow(dead_code)]

use sekisho_event::{
    Alert, AlertEndpoint, AppContext, BytesMoved, ConnState, EntryPoint, Evidence, Incident,
    RejectReason, RunStats, Service, Severity, TimelineEntry, Timestamp, Uid,
};
use sekisho_report::{Analysis, ReportContext, SiteInfo};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// The hostile summary of A000002.
pub const HOSTILE_SUMMARY: &str = "SMB to \\\\JP-FS01\\design$ by <script>alert(1)</script> | \"onmouseover=alert(2) \x1b[31mred\nforged line";

/// Everything an [`Analysis`] borrows.
pub struct Fixture {
    pub context: ReportContext,
    pub stats: RunStats,
    pub alerts: Vec<Alert>,
    pub incidents: Vec<Incident>,
}

impl Fixture {
    pub fn analysis(&self) -> Analysis<'_> {
        Analysis {
            context: &self.context,
            stats: &self.stats,
            alerts: &self.alerts,
            incidents: &self.incidents,
        }
    }
}

pub fn ts(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).expect("fixture time")
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("fixture address")
}

pub fn ep(
    addr: &str,
    site: Option<&str>,
    asset: Option<&str>,
    country: Option<&str>,
) -> AlertEndpoint {
    AlertEndpoint {
        ip: Some(ip(addr)),
        site: site.map(Into::into),
        asset: asset.map(Into::into),
        country: country.map(Into::into),
    }
}

#[allow(clippy::too_many_arguments)]
fn alert(
    id: &str,
    detector: &str,
    severity: Severity,
    at: &str,
    last: &str,
    src: AlertEndpoint,
    dst: AlertEndpoint,
    service: Service,
    port: u16,
    summary: &str,
    flows: u64,
    out: u64,
    inb: u64,
    sensor: &str,
) -> Alert {
    let ev = Evidence {
        ts: ts(at),
        uid: Uid::new(&format!("C{id}x")).expect("uid"),
        orig_ip: src.ip.expect("ip"),
        orig_port: 49_812,
        resp_ip: dst.ip.expect("ip"),
        resp_port: port,
        service,
        orig_bytes: out,
        resp_bytes: inb,
        state: ConnState::SF,
        sensor: sensor.into(),
    };
    Alert {
        id: id.into(),
        detector: detector.into(),
        severity,
        ts: ts(at),
        last_ts: ts(last),
        src,
        dst,
        service,
        dst_port: Some(port),
        rule: None,
        attack: None,
        summary: summary.into(),
        flow_count: flows,
        bytes_out: out,
        bytes_in: inb,
        related: Vec::new(),
        context: AppContext::default(),
        evidence: vec![ev],
    }
}

fn entry(x: &Alert) -> TimelineEntry {
    TimelineEntry {
        ts: x.ts,
        alert_id: x.id.clone(),
        detector: x.detector.clone(),
        severity: x.severity,
        src: x.src.clone(),
        dst: x.dst.clone(),
        service: x.service,
        summary: x.summary.clone(),
    }
}

fn incident(id: &str, title: &str, severity: Severity, alerts: &[&Alert]) -> Incident {
    let mut sites = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    let mut assets = BTreeSet::new();
    let mut detectors = BTreeSet::new();
    let mut users = Vec::new();
    for x in alerts {
        for e in [&x.src, &x.dst] {
            sites.extend(e.site.clone());
            hosts.extend(e.ip);
            assets.extend(e.asset.clone());
        }
        detectors.insert(x.detector.clone());
        for u in &x.context.users {
            if !users.contains(u) {
                users.push(u.clone());
            }
        }
    }
    Incident {
        id: id.into(),
        title: title.into(),
        severity,
        status: "open".into(),
        first_seen: alerts.iter().map(|x| x.ts).min().expect("alerts"),
        last_seen: alerts.iter().map(|x| x.last_ts).max().expect("alerts"),
        entry_points: Vec::new(),
        sites: sites.into_iter().collect(),
        hosts: hosts.into_iter().collect(),
        assets: assets.into_iter().collect(),
        data_classes: Vec::new(),
        customers: Vec::new(),
        users,
        bytes_moved: Vec::new(),
        detectors: detectors.into_iter().collect(),
        alert_ids: alerts.iter().map(|x| x.id.clone()).collect(),
        timeline: alerts.iter().map(|x| entry(x)).collect(),
    }
}

pub fn fixture() -> Fixture {
    let site = |id: &str, name: &str, country: &str, tags: &[&str]| SiteInfo {
        id: id.into(),
        name: name.into(),
        country: country.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
    };
    let context = ReportContext {
        org_name: "Example Heavy Industries".into(),
        sites: vec![
            site("jp-hq", "Tokyo headquarters", "JP", &["hq"]),
            site("th-bkk", "Bangkok office", "TH", &["overseas"]),
            site("id-jkt", "Jakarta office", "ID", &["overseas"]),
            site("ph-mnl", "Manila office", "PH", &["overseas"]),
            site("us-hou", "Houston office", "US", &["overseas"]),
        ],
        inputs: vec!["logs/sensor-th/".into(), "logs/sensor-jp/".into()],
        generated_by: "sekisho 0.1.0".into(),
    };

    let th_ws = || ep("10.20.1.5", Some("th-bkk"), None, Some("TH"));
    let jp_fs = || ep("10.10.5.10", Some("jp-hq"), Some("jp-fs01"), Some("JP"));
    let jp_dc = || ep("10.10.1.2", Some("jp-hq"), Some("jp-dc01"), Some("JP"));

    let mut a1 = alert(
        "A000001",
        "policy-deny",
        Severity::Critical,
        "2024-03-04T02:13:05.123456Z",
        "2024-03-04T02:13:05.123456Z",
        th_ws(),
        jp_fs(),
        Service::Rdp,
        3389,
        "RDP from th-bkk/10.20.1.5 to jp-hq/jp-fs01 denied by rule \"no overseas admin access to HQ servers\"",
        1,
        48_210,
        1_902_334,
        "zeek-jp",
    );
    a1.rule = Some("no overseas admin access to HQ servers".into());
    a1.attack = Some("T1021.001".into());
    a1.context.users = vec!["EHI\\svc_backup".into()];
    a1.context.client_hosts = vec!["TH-WS-0042".into()];
    a1.context.auth_success = Some(true);

    let mut a2 = alert(
        "A000002",
        "policy-deny",
        Severity::High,
        "2024-03-04T02:20:41Z",
        "2024-03-04T02:44:10Z",
        th_ws(),
        jp_fs(),
        Service::Smb,
        445,
        HOSTILE_SUMMARY,
        14,
        52_000,
        1_240_000,
        "zeek-jp|\x1b]0;owned\x07<b>bold</b>",
    );
    a2.rule = Some("no overseas admin access to HQ servers".into());
    a2.attack = Some("T1021.002".into());
    a2.context.users = vec!["\"onmouseover=alert(4) x='".into()];
    a2.context.shares = vec![
        "\\\\JP-FS01\\design$".into(),
        "<img src=x onerror=alert(3)>|col".into(),
    ];
    a2.context.files = vec!["Q3 | customers\r\n.xlsx".into()];

    let mut a3 = alert(
        "A000003",
        "pivot-chain",
        Severity::High,
        "2024-03-04T02:48:00Z",
        "2024-03-04T02:48:00Z",
        jp_fs(),
        jp_dc(),
        Service::Winrm,
        5985,
        "jp-fs01 reached jp-dc01 over WinRM 4 min after being reached from th-bkk",
        1,
        8_400,
        15_200,
        "zeek-jp",
    );
    a3.attack = Some("T1021.006".into());
    a3.related = vec![th_ws()];

    let a4 = alert(
        "A000004",
        "exfiltration",
        Severity::High,
        "2024-03-04T03:05:00Z",
        "2024-03-04T03:41:10Z",
        jp_fs(),
        ep("203.0.113.7", None, None, None),
        Service::Https,
        443,
        "jp-fs01 sent 1.83 GB to external 203.0.113.7 over 37 HTTPS flows",
        37,
        1_830_000_000,
        2_100_000,
        "zeek-jp",
    );

    let mut a5 = alert(
        "A000005",
        "off-hours-crossing",
        Severity::Medium,
        "2024-03-05T16:40:00Z",
        "2024-03-05T16:40:00Z",
        ep("10.30.2.8", Some("id-jkt"), None, Some("ID")),
        jp_dc(),
        Service::Winrm,
        5985,
        "WinRM from id-jkt to jp-dc01 at 23:40 local time (business hours Mon-Fri 08:00-19:00)",
        1,
        3_100,
        9_800,
        "zeek-id",
    );
    a5.attack = Some("T1021.006".into());

    let a6 = alert(
        "A000006",
        "first-seen-crossing",
        Severity::Low,
        "2024-03-05T16:52:30Z",
        "2024-03-05T16:52:30Z",
        ep("10.40.3.3", Some("ph-mnl"), None, Some("PH")),
        jp_dc(),
        Service::Ssh,
        22,
        "First SSH crossing from ph-mnl to jp-hq in 90 days",
        2,
        4_400,
        3_900,
        "zeek-jp",
    );

    let mut inc1 = incident(
        "INC-0001",
        "Intrusion from th-bkk into jp-hq with exfiltration",
        Severity::Critical,
        &[&a1, &a2, &a3, &a4],
    );
    inc1.entry_points = vec![EntryPoint {
        ts: a1.ts,
        src: a1.src.clone(),
        dst: a1.dst.clone(),
        service: Service::Rdp,
        alert_id: a1.id.clone(),
    }];
    inc1.data_classes = vec!["credentials".into(), "customer-pii".into(), "design".into()];
    inc1.customers = vec!["Acme Air".into(), "Orbital Co".into()];
    inc1.bytes_moved = vec![
        BytesMoved {
            from_site: "jp-hq".into(),
            to_site: "external".into(),
            bytes: 1_830_000_000,
        },
        BytesMoved {
            from_site: "jp-hq".into(),
            to_site: "th-bkk".into(),
            bytes: 3_142_334,
        },
        BytesMoved {
            from_site: "th-bkk".into(),
            to_site: "jp-hq".into(),
            bytes: 100_210,
        },
    ];

    let mut inc2 = incident(
        "INC-0002",
        "Off-hours admin access to jp-dc01 from id-jkt and ph-mnl",
        Severity::Medium,
        &[&a5, &a6],
    );
    inc2.entry_points = vec![
        EntryPoint {
            ts: a5.ts,
            src: a5.src.clone(),
            dst: a5.dst.clone(),
            service: Service::Winrm,
            alert_id: a5.id.clone(),
        },
        EntryPoint {
            ts: a6.ts,
            src: a6.src.clone(),
            dst: a6.dst.clone(),
            service: Service::Ssh,
            alert_id: a6.id.clone(),
        },
    ];
    inc2.data_classes = vec!["credentials".into()];
    inc2.bytes_moved = vec![
        BytesMoved {
            from_site: "id-jkt".into(),
            to_site: "jp-hq".into(),
            bytes: 3_100,
        },
        BytesMoved {
            from_site: "jp-hq".into(),
            to_site: "id-jkt".into(),
            bytes: 9_800,
        },
        BytesMoved {
            from_site: "jp-hq".into(),
            to_site: "ph-mnl".into(),
            bytes: 3_900,
        },
        BytesMoved {
            from_site: "ph-mnl".into(),
            to_site: "jp-hq".into(),
            bytes: 4_400,
        },
    ];

    let mut stats = RunStats {
        files: 6,
        bytes: 48_213_004,
        skipped: 3_200,
        ..RunStats::default()
    };
    for (log, n) in [
        ("conn", 118_911u64),
        ("rdp", 820),
        ("smb_mapping", 400),
        ("ntlm", 300),
    ] {
        stats.parsed_by_log.insert(log.into(), n);
        stats.parsed += n;
        stats.records += n;
    }
    // (file, first line, reason, detail of the first, count, detail of the others)
    let rejections = [
        (
            "logs/sensor-th/conn.log",
            88,
            RejectReason::BadField,
            "id.orig_h: not an address: \"\x1b[2J<script>x</script>\"",
            12,
            "id.orig_p: not a port",
        ),
        (
            "logs/sensor-th/conn.log",
            412,
            RejectReason::FieldCount,
            "21 fields, header has 22",
            6,
            "23 fields, header has 22",
        ),
        (
            "logs/sensor-jp/ntlm.log",
            7,
            RejectReason::InvalidUtf8,
            "username: invalid UTF-8 at byte 3",
            1,
            "",
        ),
        (
            "logs/sensor-jp/conn.log",
            9001,
            RejectReason::BadField,
            "ts: not a number",
            1,
            "",
        ),
    ];
    for (file, line, reason, first, count, rest) in rejections {
        stats.reject(file, line, reason, first);
        for k in 1..count {
            stats.reject(file, line + k, reason, rest);
        }
    }

    Fixture {
        context,
        stats,
        alerts: vec![a1, a2, a3, a4, a5, a6],
        incidents: vec![inc1, inc2],
    }
}

/// Tags the HTML report may contain.
const TAGS: &[&str] = &[
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "footer",
    "main",
    "section",
    "nav",
    "div",
    "h1",
    "h2",
    "h3",
    "p",
    "dl",
    "dt",
    "dd",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "br",
    "span",
    "strong",
    "a",
    "ul",
    "li",
    "figure",
    "figcaption",
    "svg",
    "g",
    "rect",
    "line",
    "circle",
    "path",
    "polygon",
    "text",
    "tspan",
];

/// Attributes the HTML report may contain: no event handlers, no `src`, no `style`.
const ATTRS: &[&str] = &[
    "lang",
    "charset",
    "http-equiv",
    "content",
    "name",
    "class",
    "id",
    "href",
    "viewBox",
    "role",
    "aria-label",
    "font-family",
    "font-size",
    "font-weight",
    "x",
    "y",
    "dy",
    "width",
    "height",
    "rx",
    "cx",
    "cy",
    "r",
    "x1",
    "y1",
    "x2",
    "y2",
    "d",
    "points",
    "fill",
    "fill-opacity",
    "stroke",
    "stroke-width",
    "stroke-opacity",
    "stroke-dasharray",
    "stroke-linecap",
    "stroke-linejoin",
    "paint-order",
    "text-anchor",
];

/// Tokenises `html` the way a browser would for the markup this crate writes and fails
/// unless every tag and attribute is one the crate uses, every `href` stays in the page,
/// and no text contains a raw `<`. A hostile string that escaped its escaping shows up as
/// an unknown tag, an unknown attribute, or a tag that does not parse.
pub fn check_markup(html: &str) -> Result<(), String> {
    let rest = html.strip_prefix("<!DOCTYPE html>").ok_or("no doctype")?;
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        let at = i;
        i += 1;
        if b.get(i) == Some(&b'/') {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let tag = &rest[start..i];
        if !TAGS.contains(&tag) {
            return Err(format!(
                "unknown tag {tag:?} at {at}: {:?}",
                excerpt(rest, at)
            ));
        }
        loop {
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
            match b.get(i) {
                Some(b'>') => {
                    i += 1;
                    break;
                }
                Some(b'/') if b.get(i + 1) == Some(&b'>') => {
                    i += 2;
                    break;
                }
                Some(c) if c.is_ascii_alphabetic() => {
                    let s = i;
                    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'-') {
                        i += 1;
                    }
                    let attr = &rest[s..i];
                    if !ATTRS.contains(&attr) {
                        return Err(format!(
                            "unknown attribute {attr:?} at {s}: {:?}",
                            excerpt(rest, at)
                        ));
                    }
                    if b.get(i) != Some(&b'=') || b.get(i + 1) != Some(&b'"') {
                        return Err(format!("attribute {attr} without a quoted value at {s}"));
                    }
                    i += 2;
                    let vs = i;
                    while i < b.len() && b[i] != b'"' {
                        if b[i] == b'<' || b[i] == b'>' {
                            return Err(format!(
                                "markup in attribute {attr} at {i}: {:?}",
                                excerpt(rest, at)
                            ));
                        }
                        i += 1;
                    }
                    let value = &rest[vs..i];
                    if attr == "href" && !value.starts_with('#') {
                        return Err(format!("href out of the page: {value:?}"));
                    }
                    i += 1;
                }
                _ => return Err(format!("malformed tag at {at}: {:?}", excerpt(rest, at))),
            }
        }
    }
    Ok(())
}

fn excerpt(s: &str, at: usize) -> &str {
    let mut end = (at + 80).min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[at..end]
}

/// Column count of a Markdown table row: `|` not escaped by a backslash.
pub fn md_columns(line: &str) -> usize {
    let mut n = 0usize;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '|' => n += 1,
            _ => {}
        }
    }
    n.saturating_sub(1)
}

/// Every block of consecutive `|` lines keeps the column count of its header row.
pub fn check_md_tables(md: &str) -> Result<usize, String> {
    let mut tables = 0;
    let mut header: Option<usize> = None;
    for (n, line) in md.lines().enumerate() {
        if line.starts_with('|') {
            let cols = md_columns(line);
            match header {
                None => {
                    header = Some(cols);
                    tables += 1;
                }
                Some(h) if h != cols => {
                    return Err(format!(
                        "line {}: {cols} columns, header has {h}: {line}",
                        n + 1
                    ));
                }
                Some(_) => {}
            }
        } else {
            header = None;
        }
    }
    Ok(tables)
}
