use crate::Proto;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Application protocol of a flow, in the vocabulary that policy files use
/// (`services = ["rdp", "smb", "ssh", "winrm"]`).
///
/// Admin protocols (the ones intruders cross sites with) are told apart precisely; the rest
/// only as far as detectors need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Service {
    Rdp,
    Smb,
    Ssh,
    Winrm,
    DceRpc,
    Telnet,
    Vnc,
    Kerberos,
    Ldap,
    Dns,
    Http,
    Https,
    Ntp,
    Smtp,
    Ftp,
    Mssql,
    Netbios,
    Icmp,
    Other,
}

/// Every service with its policy name, for parsing and listing.
pub const ALL_SERVICES: &[Service] = &[
    Service::Rdp,
    Service::Smb,
    Service::Ssh,
    Service::Winrm,
    Service::DceRpc,
    Service::Telnet,
    Service::Vnc,
    Service::Kerberos,
    Service::Ldap,
    Service::Dns,
    Service::Http,
    Service::Https,
    Service::Ntp,
    Service::Smtp,
    Service::Ftp,
    Service::Mssql,
    Service::Netbios,
    Service::Icmp,
    Service::Other,
];

impl Service {
    /// Name as written in policy files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Rdp => "rdp",
            Service::Smb => "smb",
            Service::Ssh => "ssh",
            Service::Winrm => "winrm",
            Service::DceRpc => "dce-rpc",
            Service::Telnet => "telnet",
            Service::Vnc => "vnc",
            Service::Kerberos => "kerberos",
            Service::Ldap => "ldap",
            Service::Dns => "dns",
            Service::Http => "http",
            Service::Https => "https",
            Service::Ntp => "ntp",
            Service::Smtp => "smtp",
            Service::Ftp => "ftp",
            Service::Mssql => "mssql",
            Service::Netbios => "netbios",
            Service::Icmp => "icmp",
            Service::Other => "other",
        }
    }

    /// From a policy-file name (`rdp`, `dce-rpc`, ...).
    pub fn from_name(name: &str) -> Option<Self> {
        ALL_SERVICES.iter().copied().find(|s| s.as_str() == name)
    }

    /// Remote administration and lateral-movement protocols: what `off-hours-crossing`
    /// and pivot detection care about.
    pub fn is_admin(self) -> bool {
        matches!(
            self,
            Service::Rdp
                | Service::Smb
                | Service::Ssh
                | Service::Winrm
                | Service::DceRpc
                | Service::Telnet
                | Service::Vnc
        )
    }

    /// The well-known service of a responder port.
    pub fn from_port(proto: Proto, port: u16) -> Self {
        match (proto, port) {
            (Proto::Icmp, _) => Service::Icmp,
            (Proto::Tcp, 3389) | (Proto::Udp, 3389) => Service::Rdp,
            (Proto::Tcp, 445) | (Proto::Tcp, 139) => Service::Smb,
            (Proto::Tcp, 22) => Service::Ssh,
            (Proto::Tcp, 5985) | (Proto::Tcp, 5986) => Service::Winrm,
            (Proto::Tcp, 135) => Service::DceRpc,
            (Proto::Tcp, 23) => Service::Telnet,
            (Proto::Tcp, 5900..=5903) => Service::Vnc,
            (_, 88) => Service::Kerberos,
            (_, 389) | (Proto::Tcp, 636) | (Proto::Tcp, 3268) | (Proto::Tcp, 3269) => Service::Ldap,
            (_, 53) => Service::Dns,
            (Proto::Tcp, 80) | (Proto::Tcp, 8080) => Service::Http,
            (Proto::Tcp, 443) | (Proto::Tcp, 8443) => Service::Https,
            (Proto::Udp, 123) => Service::Ntp,
            (Proto::Tcp, 25) | (Proto::Tcp, 587) => Service::Smtp,
            (Proto::Tcp, 21) => Service::Ftp,
            (Proto::Tcp, 1433) => Service::Mssql,
            (Proto::Udp, 137) | (Proto::Udp, 138) => Service::Netbios,
            _ => Service::Other,
        }
    }

    /// From Zeek's `service` field (comma-separated analyzer names such as `gssapi,smb,krb`)
    /// and the responder port. A named admin protocol wins; then an admin port (Zeek says
    /// `ssl` for RDP over TLS and `http` for WinRM); then the first named protocol we know;
    /// then the port.
    pub fn from_zeek(service_field: impl AsRef<[u8]>, proto: Proto, resp_port: u16) -> Self {
        let field = service_field.as_ref();
        // Most flows name no service (`-`, read as empty): only the port can tell.
        if field.is_empty() {
            return Service::from_port(proto, resp_port);
        }
        let mut first_known = None;
        for name in field.split(|&b| b == b',') {
            let s = match trim_whitespace(name) {
                b"rdp" | b"rdpeudp" => Service::Rdp,
                b"smb" => Service::Smb,
                b"ssh" => Service::Ssh,
                b"dce_rpc" => Service::DceRpc,
                b"krb" | b"krb_tcp" => Service::Kerberos,
                b"ldap" | b"ldap_tcp" => Service::Ldap,
                b"dns" => Service::Dns,
                b"http" => Service::Http,
                b"ssl" => Service::Https,
                b"ntp" => Service::Ntp,
                b"smtp" => Service::Smtp,
                b"ftp" | b"ftp-data" => Service::Ftp,
                b"vnc" => Service::Vnc,
                _ => continue,
            };
            if s.is_admin() {
                return s;
            }
            first_known.get_or_insert(s);
        }
        let by_port = Service::from_port(proto, resp_port);
        if by_port.is_admin() {
            return by_port;
        }
        first_known.unwrap_or(by_port)
    }
}

/// `name` without the ASCII characters `str::trim` removes (it also removes vertical tab,
/// which `trim_ascii` keeps). Zeek writes analyzer names in ASCII.
fn trim_whitespace(name: &[u8]) -> &[u8] {
    let space = |b: &u8| matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ');
    // The usual name has nothing to trim: two tests instead of two scans.
    if !name.first().is_some_and(space) && !name.last().is_some_and(space) {
        return name;
    }
    let start = name.iter().position(|b| !space(b)).unwrap_or(name.len());
    let end = name
        .iter()
        .rposition(|b| !space(b))
        .map_or(start, |i| i + 1);
    &name[start..end]
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_protocol_named_by_zeek_or_port_wins_over_generic_ones() {
        assert_eq!(
            Service::from_zeek("gssapi,smb,krb", Proto::Tcp, 445),
            Service::Smb
        );
        assert_eq!(Service::from_zeek("ssl", Proto::Tcp, 3389), Service::Rdp);
        assert_eq!(Service::from_zeek("http", Proto::Tcp, 5985), Service::Winrm);
        assert_eq!(Service::from_zeek("ssh", Proto::Tcp, 2222), Service::Ssh);
        assert_eq!(Service::from_zeek("-", Proto::Udp, 53), Service::Dns);
        assert_eq!(Service::from_zeek("ssl", Proto::Tcp, 443), Service::Https);
        assert_eq!(Service::from_zeek("", Proto::Tcp, 40000), Service::Other);
        // Names are trimmed as `str::trim` trims ASCII, vertical tab included.
        assert_eq!(
            Service::from_zeek(" dns,\x0bssh ", Proto::Udp, 53),
            Service::Ssh
        );
        assert_eq!(
            Service::from_zeek(&b"dns"[..], Proto::Tcp, 40000),
            Service::Dns
        );
    }

    #[test]
    fn an_empty_field_is_read_by_port_and_either_end_of_a_name_is_trimmed() {
        assert_eq!(Service::from_zeek("", Proto::Tcp, 3389), Service::Rdp);
        assert_eq!(Service::from_zeek("", Proto::Udp, 53), Service::Dns);
        assert_eq!(Service::from_zeek("", Proto::Icmp, 0), Service::Icmp);
        assert_eq!(Service::from_zeek("\tssh", Proto::Tcp, 80), Service::Ssh);
        assert_eq!(Service::from_zeek("ssh\r", Proto::Tcp, 80), Service::Ssh);
        assert_eq!(Service::from_zeek("dns ", Proto::Tcp, 40000), Service::Dns);
        assert_eq!(Service::from_zeek(" ", Proto::Tcp, 445), Service::Smb);
        assert_eq!(
            Service::from_zeek("d ns", Proto::Tcp, 40000),
            Service::Other
        );
    }

    #[test]
    fn every_service_name_round_trips() {
        for s in ALL_SERVICES {
            assert_eq!(Service::from_name(s.as_str()), Some(*s));
        }
    }
}
