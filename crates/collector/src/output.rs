//! Where live alerts go as they happen: one small trait, three implementations.
//!
//! * [`JsonLines`]: one JSON object per line, appended to a file (or any writer), flushed
//!   after every alert so a `tail -f` or a log shipper sees it at once.
//! * [`SyslogCef`]: RFC 5424 syslog over UDP with an ArcSight CEF payload, the format every
//!   SIEM ingests.
//!
//! Stdout is `JsonLines` over `std::io::stdout()`.

use sekisho_event::{Alert, Severity};
use std::io::{self, Write};
use std::net::{SocketAddr, UdpSocket};

/// A destination for alerts written as they happen.
pub trait AlertOutput: Send {
    /// Writes one alert. An error is counted by the caller and the run goes on.
    fn write_alert(&mut self, alert: &Alert) -> io::Result<()>;
    /// Short name for counters and messages (`jsonl`, `stdout`, `syslog`).
    fn name(&self) -> &'static str;
}

/// JSON lines to any writer.
#[derive(Debug)]
pub struct JsonLines<W: Write + Send> {
    out: W,
    name: &'static str,
}

impl<W: Write + Send> JsonLines<W> {
    pub fn new(out: W, name: &'static str) -> Self {
        Self { out, name }
    }
}

impl<W: Write + Send> AlertOutput for JsonLines<W> {
    fn write_alert(&mut self, alert: &Alert) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, alert)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    fn name(&self) -> &'static str {
        self.name
    }
}

/// Syslog (RFC 5424) over UDP carrying CEF.
#[derive(Debug)]
pub struct SyslogCef {
    socket: UdpSocket,
    target: SocketAddr,
    hostname: String,
}

impl SyslogCef {
    /// Sends from an ephemeral port on the loopback or unspecified address matching the
    /// target's family.
    pub fn new(target: SocketAddr, hostname: &str) -> io::Result<Self> {
        let bind: SocketAddr = if target.is_ipv4() {
            "0.0.0.0:0".parse().expect("literal")
        } else {
            "[::]:0".parse().expect("literal")
        };
        Ok(Self {
            socket: UdpSocket::bind(bind)?,
            target,
            hostname: sanitize_hostname(hostname),
        })
    }
}

impl AlertOutput for SyslogCef {
    fn write_alert(&mut self, alert: &Alert) -> io::Result<()> {
        let msg = syslog_line(&self.hostname, alert);
        self.socket.send_to(msg.as_bytes(), self.target).map(|_| ())
    }

    fn name(&self) -> &'static str {
        "syslog"
    }
}

/// The RFC 5424 line for an alert: facility local4 (20), severity from the alert's.
pub fn syslog_line(hostname: &str, alert: &Alert) -> String {
    let sev = match alert.severity {
        Severity::Critical => 2,
        Severity::High => 3,
        Severity::Medium => 4,
        Severity::Low => 5,
        Severity::Info => 6,
    };
    let pri = 20 * 8 + sev;
    let hostname = sanitize_hostname(hostname);
    format!(
        "<{pri}>1 {} {} sekisho - {} - {}",
        alert.ts,
        if hostname.is_empty() { "-" } else { &hostname },
        sd_name(&alert.detector),
        cef(alert)
    )
}

/// ArcSight CEF:0 for an alert. Header fields escape `\` and `|`; extension values escape
/// `\`, `=` and line breaks, as the CEF specification requires. Every string here may be
/// attacker-influenced (user names, share paths from logs).
pub fn cef(alert: &Alert) -> String {
    let severity = match alert.severity {
        Severity::Info => 1,
        Severity::Low => 3,
        Severity::Medium => 5,
        Severity::High => 8,
        Severity::Critical => 10,
    };
    let mut ext = vec![
        ("rt", alert.ts.as_micros().div_euclid(1000).to_string()),
        ("externalId", alert.id.clone()),
        ("cs1Label", "rule".to_string()),
        ("cs1", alert.rule.clone().unwrap_or_default()),
        ("cnt", alert.flow_count.to_string()),
        ("out", alert.bytes_out.to_string()),
        ("in", alert.bytes_in.to_string()),
    ];
    if let Some(ip) = alert.src.ip {
        ext.push(("src", ip.to_string()));
    }
    if let Some(ip) = alert.dst.ip {
        ext.push(("dst", ip.to_string()));
    }
    if let Some(p) = alert.dst_port {
        ext.push(("dpt", p.to_string()));
    }
    if let Some(site) = &alert.src.site {
        ext.push(("cs2Label", "src_site".to_string()));
        ext.push(("cs2", site.clone()));
    }
    if let Some(site) = &alert.dst.site {
        ext.push(("cs3Label", "dst_site".to_string()));
        ext.push(("cs3", site.clone()));
    }
    if let Some(t) = &alert.attack {
        ext.push(("cs4Label", "attack".to_string()));
        ext.push(("cs4", t.clone()));
    }
    ext.push(("msg", alert.summary.clone()));
    let ext: Vec<String> = ext
        .into_iter()
        .map(|(k, v)| format!("{k}={}", cef_ext_escape(&v)))
        .collect();
    format!(
        "CEF:0|sekisho|sekisho|{}|{}|{}|{}|{}",
        cef_header_escape(env!("CARGO_PKG_VERSION")),
        cef_header_escape(&alert.detector),
        cef_header_escape(&alert.summary),
        severity,
        ext.join(" ")
    )
}

fn cef_header_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '\r' | '\n' => out.push(' '),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn cef_ext_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '=' => out.push_str("\\="),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// RFC 5424 MSGID: 1 to 32 printable US-ASCII characters.
fn sd_name(s: &str) -> String {
    let s: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(32)
        .collect();
    if s.is_empty() { "-".to_string() } else { s }
}

fn sanitize_hostname(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(255)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sekisho_event::{AlertEndpoint, Service, Timestamp};

    fn alert(summary: &str) -> Alert {
        Alert {
            id: "L000001".into(),
            detector: "policy-deny".into(),
            severity: Severity::High,
            ts: Timestamp::from_micros(1_700_000_000_000_000),
            last_ts: Timestamp::from_micros(1_700_000_000_000_000),
            src: AlertEndpoint {
                ip: Some("10.20.0.5".parse().unwrap()),
                site: Some("th-bkk".into()),
                ..AlertEndpoint::default()
            },
            dst: AlertEndpoint {
                ip: Some("10.10.0.9".parse().unwrap()),
                site: Some("jp-hq".into()),
                ..AlertEndpoint::default()
            },
            service: Service::Smb,
            dst_port: Some(445),
            rule: Some("deny-overseas".into()),
            attack: None,
            summary: summary.into(),
            flow_count: 3,
            bytes_out: 10,
            bytes_in: 20,
            related: Vec::new(),
            context: Default::default(),
            evidence: Vec::new(),
        }
    }

    #[test]
    fn cef_escapes_pipes_equals_and_line_breaks_from_hostile_text() {
        let line = syslog_line("sensor 1", &alert("user=a|b\\c\nEVIL"));
        assert!(line.starts_with("<163>1 2023-11-14T22:13:20"), "{line}");
        assert!(line.contains(" sensor1 sekisho - policy-deny - CEF:0|sekisho|sekisho|"));
        // Header: pipe and backslash escaped, newline gone.
        assert!(line.contains("|user=a\\|b\\\\c EVIL|8|"), "{line}");
        // Extension: equals and newline escaped.
        assert!(line.contains("msg=user\\=a|b\\\\c\\nEVIL"), "{line}");
        assert!(!line.contains('\n'));
        assert!(line.contains("src=10.20.0.5 dst=10.10.0.9 dpt=445"));
        assert!(line.contains("cs2=th-bkk") && line.contains("cs3=jp-hq"));
    }

    #[test]
    fn json_lines_are_one_object_per_line() {
        let mut out = JsonLines::new(Vec::new(), "jsonl");
        out.write_alert(&alert("a")).unwrap();
        out.write_alert(&alert("b\nc")).unwrap();
        let text = String::from_utf8(out.out).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let v: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(v["summary"], "b\nc");
    }
}
