//! Which Zeek log a file or record belongs to.

use std::fmt;

/// A Zeek log stream, by its `#path` / `_path` / `@stream` name.
///
/// The first eight are the logs sekisho turns into events; every other log is
/// [`LogKind::Other`], which readers count as skipped without parsing its records.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LogKind {
    /// `conn.log`: one [`sekisho_event::Flow`] per record.
    Conn,
    /// `rdp.log`
    Rdp,
    /// `ssh.log`
    Ssh,
    /// `smb_mapping.log`
    SmbMapping,
    /// `smb_files.log`
    SmbFiles,
    /// `ntlm.log`
    Ntlm,
    /// `kerberos.log`
    Kerberos,
    /// `dce_rpc.log`
    DceRpc,
    /// Any other log (`dns`, `ssl`, `files`, `weird`, ...): skipped whole.
    Other(String),
}

/// Names of Zeek's standard logs (and a few common plugin logs). Used to recognise file
/// names such as `NASHUA_dns.log`, where the part before `_` is a sensor name only if what
/// follows is a log name.
const KNOWN_LOG_NAMES: &[&str] = &[
    "analyzer",
    "broker",
    "capture_loss",
    "cluster",
    "config",
    "conn",
    "dce_rpc",
    "dhcp",
    "dnp3",
    "dns",
    "dpd",
    "files",
    "ftp",
    "http",
    "intel",
    "irc",
    "kerberos",
    "known_certs",
    "known_hosts",
    "known_modbus",
    "known_services",
    "ldap",
    "ldap_search",
    "loaded_scripts",
    "modbus",
    "mqtt_connect",
    "mqtt_publish",
    "mqtt_subscribe",
    "mysql",
    "netcontrol",
    "notice",
    "notice_alarm",
    "ntlm",
    "ntp",
    "ocsp",
    "packet_filter",
    "pe",
    "quic",
    "radius",
    "rdp",
    "reporter",
    "rfb",
    "signatures",
    "sip",
    "smb_cmd",
    "smb_files",
    "smb_mapping",
    "smtp",
    "snmp",
    "socks",
    "software",
    "ssh",
    "ssl",
    "stats",
    "syslog",
    "telemetry",
    "traceroute",
    "tunnel",
    "unified2",
    "weird",
    "weird_stats",
    "x509",
];

impl LogKind {
    /// The kind sekisho uses, without allocating; `None` for logs it skips.
    pub fn wanted(name: &str) -> Option<LogKind> {
        Some(match name {
            "conn" => LogKind::Conn,
            "rdp" => LogKind::Rdp,
            "ssh" => LogKind::Ssh,
            "smb_mapping" => LogKind::SmbMapping,
            "smb_files" => LogKind::SmbFiles,
            "ntlm" => LogKind::Ntlm,
            "kerberos" => LogKind::Kerberos,
            "dce_rpc" => LogKind::DceRpc,
            _ => return None,
        })
    }

    /// From a log name (`conn`, `smb_mapping`, `dns`, ...).
    pub fn from_name(name: &str) -> LogKind {
        LogKind::wanted(name).unwrap_or_else(|| LogKind::Other(name.to_string()))
    }

    /// Zeek's name of the log.
    pub fn name(&self) -> &str {
        match self {
            LogKind::Conn => "conn",
            LogKind::Rdp => "rdp",
            LogKind::Ssh => "ssh",
            LogKind::SmbMapping => "smb_mapping",
            LogKind::SmbFiles => "smb_files",
            LogKind::Ntlm => "ntlm",
            LogKind::Kerberos => "kerberos",
            LogKind::DceRpc => "dce_rpc",
            LogKind::Other(name) => name,
        }
    }

    /// True for the logs sekisho turns into events.
    pub fn is_wanted(&self) -> bool {
        !matches!(self, LogKind::Other(_))
    }

    /// True when `name` is one of Zeek's standard log names (wanted or not).
    pub fn is_known_name(name: &str) -> bool {
        KNOWN_LOG_NAMES.binary_search(&name).is_ok()
    }
}

impl fmt::Display for LogKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_are_sorted_for_binary_search() {
        assert!(KNOWN_LOG_NAMES.windows(2).all(|w| w[0] < w[1]));
        assert!(LogKind::is_known_name("smb_mapping"));
        assert!(!LogKind::is_known_name("mapping"));
    }

    #[test]
    fn wanted_logs_round_trip_and_others_are_skipped() {
        for name in [
            "conn",
            "rdp",
            "ssh",
            "smb_mapping",
            "smb_files",
            "ntlm",
            "kerberos",
            "dce_rpc",
        ] {
            let kind = LogKind::from_name(name);
            assert!(kind.is_wanted());
            assert_eq!(kind.name(), name);
            assert!(LogKind::is_known_name(name));
        }
        assert_eq!(LogKind::from_name("dns"), LogKind::Other("dns".into()));
        assert!(!LogKind::from_name("dns").is_wanted());
    }
}
