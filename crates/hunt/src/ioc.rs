//! Indicator lists (IOC files) and the sweep that finds them in stored history.
//!
//! [`parse_indicators`] is a pure parser over text. The sweep reads each table once, whatever
//! the number of indicators: addresses are dictionary-encoded in the store, so each distinct
//! address of a row group is tested against every indicator once, and each row then costs two
//! table lookups and a port check.

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, DictionaryArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int32Type, TimeUnit, TimestampMicrosecondType};
use ipnet::IpNet;
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

/// Most indicators one list may hold; lines beyond are refused (and reported).
pub const MAX_INDICATORS: usize = 100_000;
/// Longest line accepted in an indicator list.
pub const MAX_LINE_CHARS: usize = 4096;
/// Most sites listed per indicator hit (the count of flows stays exact).
pub const MAX_SITES_PER_HIT: usize = 64;

/// What an indicator is, told by its form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndicatorKind {
    /// One address; matches flows from or to it.
    Ip(IpAddr),
    /// A network; matches flows from or to any address in it.
    Cidr(IpNet),
    /// A responder port (`445`), optionally with a protocol (`tcp/445`).
    Port { proto: Option<String>, port: u16 },
    /// A JA3/JA3S-style TLS fingerprint (32 hex digits, lower-cased).
    Ja3(String),
    /// A domain name (lower-cased, without a trailing dot).
    Domain(String),
}

impl IndicatorKind {
    /// Short name of the kind, for output.
    pub fn as_str(&self) -> &'static str {
        match self {
            IndicatorKind::Ip(_) => "ip",
            IndicatorKind::Cidr(_) => "cidr",
            IndicatorKind::Port { .. } => "port",
            IndicatorKind::Ja3(_) => "ja3",
            IndicatorKind::Domain(_) => "domain",
        }
    }

    /// Whether the store has a column this kind can be matched against. It holds no domain
    /// names and no TLS fingerprints today.
    pub fn searchable(&self) -> bool {
        !matches!(self, IndicatorKind::Ja3(_) | IndicatorKind::Domain(_))
    }
}

/// One indicator from a list, with the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// The indicator as written (after removing comments and surrounding space).
    pub text: String,
    pub kind: IndicatorKind,
    /// 1-based line in the list.
    pub line: usize,
}

/// What the sweep found for one indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorHit {
    pub indicator: Indicator,
    /// `None` when the store can be searched for this kind; otherwise why not.
    pub not_searchable: Option<String>,
    /// Flows with the indicator at either end (an address or network) or as responder port.
    pub flows: u64,
    /// Time of the earliest and latest such flow, logon or host event.
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    /// Partition sites of those flows, logons and host events (at most
    /// [`MAX_SITES_PER_HIT`]).
    pub sites: BTreeSet<String>,
    /// Stored alerts with the indicator as source, destination or responder port.
    pub alerts: u64,
    /// Stored logons with the indicator as the address logged on from or to.
    pub logons: u64,
    /// Stored host events with the indicator as their source or destination address
    /// (4648, Kerberos, RDP sessions, Sysmon network connections) or destination port.
    pub host_events: u64,
}

impl IndicatorHit {
    fn new(indicator: Indicator) -> Self {
        let not_searchable = (!indicator.kind.searchable()).then(|| {
            let what = match indicator.kind {
                IndicatorKind::Domain(_) => "domains",
                _ => "TLS fingerprints (JA3)",
            };
            format!("not searchable in this store (no column holds {what})")
        });
        Self {
            indicator,
            not_searchable,
            flows: 0,
            first_seen: None,
            last_seen: None,
            sites: BTreeSet::new(),
            alerts: 0,
            logons: 0,
            host_events: 0,
        }
    }

    /// True when the indicator was seen in a flow, an alert, a logon or a host event.
    pub fn found(&self) -> bool {
        self.flows > 0 || self.alerts > 0 || self.logons > 0 || self.host_events > 0
    }
}

/// Parses an indicator list: one indicator per line, `#` starts a comment, blank lines are
/// skipped, defanged dots (`[.]`) are accepted. Returns the indicators and, for each line
/// that is none of the known forms, its 1-based number and why.
pub fn parse_indicators(text: &str) -> (Vec<Indicator>, Vec<(usize, String)>) {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let body = raw.split('#').next().unwrap_or("").trim();
        if body.is_empty() {
            continue;
        }
        if body.chars().count() > MAX_LINE_CHARS {
            bad.push((line, format!("longer than {MAX_LINE_CHARS} characters")));
            continue;
        }
        if out.len() >= MAX_INDICATORS {
            bad.push((line, format!("more than {MAX_INDICATORS} indicators")));
            continue;
        }
        match parse_one(body) {
            Ok(kind) => out.push(Indicator {
                text: body.to_string(),
                kind,
                line,
            }),
            Err(reason) => bad.push((line, reason)),
        }
    }
    (out, bad)
}

fn parse_one(s: &str) -> Result<IndicatorKind, String> {
    let s = s.replace("[.]", ".");
    let s = s.as_str();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(IndicatorKind::Ip(ip));
    }
    if let Some((a, b)) = s.split_once('/') {
        if let Ok(net) = s.parse::<IpNet>() {
            return Ok(IndicatorKind::Cidr(net.trunc()));
        }
        let proto = a.to_ascii_lowercase();
        if matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
            return parse_port(b).map(|port| IndicatorKind::Port {
                proto: Some(proto),
                port,
            });
        }
        return Err(format!("`{s}` is neither a CIDR network nor proto/port"));
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return parse_port(s).map(|port| IndicatorKind::Port { proto: None, port });
    }
    if s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(IndicatorKind::Ja3(s.to_ascii_lowercase()));
    }
    if is_domain(s) {
        return Ok(IndicatorKind::Domain(
            s.trim_end_matches('.').to_ascii_lowercase(),
        ));
    }
    Err(format!(
        "`{}` is not an IP, CIDR, port, JA3 hash or domain",
        s.chars().take(80).collect::<String>()
    ))
}

fn parse_port(s: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("`{s}` is not a port (1-65535)")),
    }
}

fn is_domain(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    let s = s.strip_prefix("*.").unwrap_or(s);
    if s.len() > 253 || !s.contains('.') {
        return false;
    }
    let labels: Vec<&str> = s.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_alphabetic()))
}

/// Which indicators match an address or a port; built once per sweep.
#[derive(Debug)]
pub(crate) struct Matcher {
    ips: HashMap<IpAddr, Vec<u32>>,
    nets: Vec<(IpNet, u32)>,
    ports: HashMap<u16, Vec<(Option<String>, u32)>>,
}

impl Matcher {
    pub(crate) fn new(indicators: &[Indicator]) -> Self {
        let mut m = Matcher {
            ips: HashMap::new(),
            nets: Vec::new(),
            ports: HashMap::new(),
        };
        for (i, ind) in indicators.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            match &ind.kind {
                IndicatorKind::Ip(a) => m.ips.entry(*a).or_default().push(i),
                IndicatorKind::Cidr(n) => m.nets.push((*n, i)),
                IndicatorKind::Port { proto, port } => {
                    m.ports.entry(*port).or_default().push((proto.clone(), i))
                }
                IndicatorKind::Ja3(_) | IndicatorKind::Domain(_) => {}
            }
        }
        m
    }

    /// True when no indicator can match anything in the store.
    pub(crate) fn is_empty(&self) -> bool {
        self.ips.is_empty() && self.nets.is_empty() && self.ports.is_empty()
    }

    fn address(&self, text: &str, out: &mut Vec<u32>) {
        let Ok(ip) = text.trim().parse::<IpAddr>() else {
            return;
        };
        if let Some(v) = self.ips.get(&ip) {
            out.extend_from_slice(v);
        }
        for (net, i) in &self.nets {
            if net.contains(&ip) {
                out.push(*i);
            }
        }
    }

    fn port(&self, port: u16, proto: Option<&str>, out: &mut Vec<u32>) {
        if let Some(v) = self.ports.get(&port) {
            for (want, i) in v {
                // A protocol-less row (alerts) matches any protocol.
                if want.is_none() || proto.is_none() || want.as_deref() == proto {
                    out.push(*i);
                }
            }
        }
    }
}

/// Matches of each distinct value of a dictionary, cached while batches share it.
#[derive(Debug, Default)]
struct DictMatches {
    /// The dictionary values the table was built for. Held so that their memory cannot be
    /// reused by another dictionary while we compare addresses.
    values: Option<ArrayRef>,
    /// Per dictionary value: indicator indices (empty: none).
    hits: Vec<Vec<u32>>,
}

impl DictMatches {
    fn refresh(&mut self, values: &ArrayRef, m: &Matcher) -> Result<(), String> {
        if let Some(held) = &self.values
            && same_array(held, values)
        {
            return Ok(());
        }
        let strings = cast(values, &DataType::Utf8).map_err(|e| e.to_string())?;
        let strings = strings.as_string::<i32>();
        self.hits.clear();
        for v in strings.iter() {
            let mut h = Vec::new();
            if let Some(t) = v {
                m.address(t, &mut h);
            }
            self.hits.push(h);
        }
        self.values = Some(values.clone());
        Ok(())
    }
}

/// True when two arrays share the same buffers (the same dictionary, handed out again for
/// the next batch of a row group).
fn same_array(a: &ArrayRef, b: &ArrayRef) -> bool {
    let (a, b) = (a.to_data(), b.to_data());
    a.len() == b.len()
        && a.offset() == b.offset()
        && a.buffers().len() == b.buffers().len()
        && a.buffers()
            .iter()
            .zip(b.buffers())
            .all(|(x, y)| x.as_ptr() == y.as_ptr())
}

/// The running totals of a sweep over one table.
#[derive(Debug)]
pub(crate) struct Sweep<'m> {
    matcher: &'m Matcher,
    src: DictMatches,
    dst: DictMatches,
    scratch: Vec<u32>,
}

/// Which table a batch comes from: each counts toward its own figure; all but alerts
/// also toward first/last seen and sites (an alert restates flows already counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Flows,
    Alerts,
    Logons,
    HostEvents,
}

fn as_dict(a: &ArrayRef) -> Result<DictionaryArray<Int32Type>, String> {
    let want = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let d = if a.data_type() == &want {
        a.clone()
    } else {
        cast(a, &want).map_err(|e| e.to_string())?
    };
    Ok(d.as_dictionary::<Int32Type>().clone())
}

impl<'m> Sweep<'m> {
    pub(crate) fn new(matcher: &'m Matcher) -> Self {
        Self {
            matcher,
            src: DictMatches::default(),
            dst: DictMatches::default(),
            scratch: Vec::new(),
        }
    }

    /// Adds one batch with columns `ts, src_ip, dst_ip, dst_port, proto, site` (in that
    /// order; `proto` may be all NULL, and `dst_port` for logons).
    pub(crate) fn add(
        &mut self,
        batch: &RecordBatch,
        table: Table,
        hits: &mut [IndicatorHit],
    ) -> Result<(), String> {
        let col = |i: usize| batch.columns().get(i).cloned().ok_or("missing column");
        let ts = cast(
            &col(0)?,
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        )
        .map_err(|e| e.to_string())?;
        let ts = ts.as_primitive::<TimestampMicrosecondType>();
        let src = as_dict(&col(1)?)?;
        let dst = as_dict(&col(2)?)?;
        let port = cast(&col(3)?, &DataType::UInt16).map_err(|e| e.to_string())?;
        let port = port.as_primitive::<datafusion::arrow::datatypes::UInt16Type>();
        let proto = cast(&col(4)?, &DataType::Utf8).map_err(|e| e.to_string())?;
        let proto = proto.as_string::<i32>();
        let site = cast(&col(5)?, &DataType::Utf8).map_err(|e| e.to_string())?;
        let site = site.as_string::<i32>();
        self.src.refresh(src.values(), self.matcher)?;
        self.dst.refresh(dst.values(), self.matcher)?;
        let no_ports = self.matcher.ports.is_empty();
        for row in 0..batch.num_rows() {
            let s = key_hits(&src, row, &self.src);
            let d = key_hits(&dst, row, &self.dst);
            if s.is_empty() && d.is_empty() && no_ports {
                continue;
            }
            self.scratch.clear();
            self.scratch.extend_from_slice(s);
            self.scratch.extend_from_slice(d);
            if !no_ports && port.is_valid(row) {
                let p = proto.is_valid(row).then(|| proto.value(row));
                self.matcher.port(port.value(row), p, &mut self.scratch);
            }
            if self.scratch.is_empty() {
                continue;
            }
            // A flow inside a network at both ends counts once.
            self.scratch.sort_unstable();
            self.scratch.dedup();
            let t = ts
                .is_valid(row)
                .then(|| ts.value(row))
                .and_then(DateTime::from_timestamp_micros);
            let site = site.is_valid(row).then(|| site.value(row));
            for &i in &self.scratch {
                let Some(h) = hits.get_mut(i as usize) else {
                    continue;
                };
                match table {
                    Table::Alerts => {
                        h.alerts += 1;
                        continue;
                    }
                    Table::Flows => h.flows += 1,
                    Table::Logons => h.logons += 1,
                    Table::HostEvents => h.host_events += 1,
                }
                if let Some(t) = t {
                    h.first_seen = Some(h.first_seen.map_or(t, |f| f.min(t)));
                    h.last_seen = Some(h.last_seen.map_or(t, |l| l.max(t)));
                }
                if let Some(site) = site
                    && h.sites.len() < MAX_SITES_PER_HIT
                    && !h.sites.contains(site)
                {
                    h.sites.insert(site.to_string());
                }
            }
        }
        Ok(())
    }
}

fn key_hits<'a>(d: &DictionaryArray<Int32Type>, row: usize, m: &'a DictMatches) -> &'a [u32] {
    if !d.is_valid(row) {
        return &[];
    }
    let k = d.keys().value(row);
    usize::try_from(k)
        .ok()
        .and_then(|k| m.hits.get(k))
        .map_or(&[], Vec::as_slice)
}

/// Empty hits, one per indicator, in list order.
pub(crate) fn empty_hits(indicators: &[Indicator]) -> Vec<IndicatorHit> {
    indicators.iter().cloned().map(IndicatorHit::new).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_told_by_form() {
        let (ind, bad) = parse_indicators(
            "# threat intel\n\n10.1.2.3\n2001:db8::1  # v6\n198.51.100.0/24\n445\ntcp/3389\n\
             e7d705a3286e19ea42f587b344ee6865\nEvil-Example.COM.\nbad[.]example[.]net\n\
             not an indicator\n70000\nudp/x\n",
        );
        let kinds: Vec<&str> = ind.iter().map(|i| i.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "ip", "ip", "cidr", "port", "port", "ja3", "domain", "domain"
            ]
        );
        assert_eq!(ind[0].line, 3);
        assert_eq!(ind[1].text, "2001:db8::1");
        assert_eq!(
            ind[4].kind,
            IndicatorKind::Port {
                proto: Some("tcp".into()),
                port: 3389
            }
        );
        assert_eq!(
            ind[6].kind,
            IndicatorKind::Domain("evil-example.com".into())
        );
        assert_eq!(ind[7].kind, IndicatorKind::Domain("bad.example.net".into()));
        let bad_lines: Vec<usize> = bad.iter().map(|b| b.0).collect();
        assert_eq!(bad_lines, [11, 12, 13]);
    }

    #[test]
    fn cidr_with_host_bits_is_truncated() {
        let (ind, _) = parse_indicators("10.1.2.3/16\n");
        assert_eq!(
            ind[0].kind,
            IndicatorKind::Cidr("10.1.0.0/16".parse().unwrap())
        );
    }

    #[test]
    fn unsearchable_kinds_say_why() {
        let (ind, _) = parse_indicators("evil.example\ne7d705a3286e19ea42f587b344ee6865\n");
        let hits = empty_hits(&ind);
        assert!(
            hits[0]
                .not_searchable
                .as_deref()
                .unwrap()
                .contains("domains")
        );
        assert!(hits[1].not_searchable.as_deref().unwrap().contains("JA3"));
    }

    #[test]
    fn matcher_finds_ips_nets_and_ports() {
        let (ind, _) = parse_indicators("10.1.2.3\n10.0.0.0/8\ntcp/445\n53\n");
        let m = Matcher::new(&ind);
        let mut out = Vec::new();
        m.address("10.1.2.3", &mut out);
        assert_eq!(out, [0, 1]);
        out.clear();
        m.port(445, Some("udp"), &mut out);
        assert!(out.is_empty());
        m.port(445, Some("tcp"), &mut out);
        m.port(53, Some("udp"), &mut out);
        assert_eq!(out, [2, 3]);
    }
}
