//! The demo organisation: sites, servers, workstation ranges, sensors and the access
//! policy, and the `org.toml` that describes them.
//!
//! Server addresses are fixed (they are the organisation's documented design, the same in
//! every run); which workstation addresses exist, how busy each is, and who the intruder
//! picks depend on the seed.

use crate::rng::Rng;
use chrono_tz::Tz;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub(crate) const ORG_NAME: &str = "Example Heavy Industries";

/// Declared workstations per site, 26,000 in all: the fleet the case had to inspect.
const TERMINALS: [u32; 6] = [11_000, 4_200, 3_000, 2_300, 3_100, 2_400];

/// A site as the org file declares it.
#[derive(Debug)]
pub(crate) struct Site {
    pub id: &'static str,
    /// Short prefix of the site's asset names (`th` → `th-dc01`).
    pub code: &'static str,
    pub name: &'static str,
    pub country: &'static str,
    pub tz: Tz,
    pub tz_name: &'static str,
    /// Second octet of the site's `10.x.0.0/16`.
    pub octet: u8,
    /// Third group of the site's `2001:db8:xx::/48`, for dual-stack sites.
    pub v6: Option<u16>,
    pub hq: bool,
    pub declared_terminals: u32,
}

impl Site {
    pub(crate) fn sensor(&self) -> String {
        format!("{}-zeek", self.id)
    }
}

pub(crate) fn sites() -> Vec<Site> {
    let s = |id, code, name, country, tz, tz_name, octet, v6, hq, n| Site {
        id,
        code,
        name,
        country,
        tz,
        tz_name,
        octet,
        v6,
        hq,
        declared_terminals: n,
    };
    vec![
        s(
            "jp-hq",
            "jp",
            "Tokyo headquarters",
            "JP",
            chrono_tz::Asia::Tokyo,
            "Asia/Tokyo",
            10,
            Some(0x10),
            true,
            TERMINALS[0],
        ),
        s(
            "th-bkk",
            "th",
            "Bangkok office and plant",
            "TH",
            chrono_tz::Asia::Bangkok,
            "Asia/Bangkok",
            20,
            None,
            false,
            TERMINALS[1],
        ),
        s(
            "id-jkt",
            "id",
            "Jakarta office",
            "ID",
            chrono_tz::Asia::Jakarta,
            "Asia/Jakarta",
            30,
            None,
            false,
            TERMINALS[2],
        ),
        s(
            "ph-mnl",
            "ph",
            "Manila office",
            "PH",
            chrono_tz::Asia::Manila,
            "Asia/Manila",
            40,
            None,
            false,
            TERMINALS[3],
        ),
        s(
            "us-hou",
            "us",
            "Houston office",
            "US",
            chrono_tz::America::Chicago,
            "America/Chicago",
            50,
            Some(0x50),
            false,
            TERMINALS[4],
        ),
        s(
            "de-muc",
            "de",
            "Munich office",
            "DE",
            chrono_tz::Europe::Berlin,
            "Europe/Berlin",
            60,
            Some(0x60),
            false,
            TERMINALS[5],
        ),
    ]
}

/// What a server is for; decides its traffic and its `roles` in the org file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    DomainController,
    FileServer,
    Erp,
    Database,
    Mail,
    Backup,
    Scanner,
    JumpHost,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::DomainController => "domain-controller",
            Role::FileServer => "file-server",
            Role::Erp => "erp",
            Role::Database => "database",
            Role::Mail => "mail",
            Role::Backup => "backup",
            Role::Scanner => "scanner",
            Role::JumpHost => "jump-host",
        }
    }
}

/// A server: one declared asset with fixed addresses.
#[derive(Debug)]
pub(crate) struct Server {
    pub name: String,
    pub site: usize,
    pub role: Role,
    pub v4: Ipv4Addr,
    pub v6: Option<Ipv6Addr>,
    pub data: &'static [&'static str],
    pub customers: &'static [&'static str],
}

pub(crate) const CUSTOMERS: [&str; 8] = [
    "Acme Air",
    "Orbital Co",
    "Kestrel Shipping",
    "Meridian Rail",
    "Halcyon Motors",
    "Northwind Energy",
    "Solace Pharma",
    "Tidewater Port Authority",
];

/// IPv6 interface id that reads like the IPv4 host number (`.21` → `::21`).
fn v6_host(host: u8) -> u16 {
    u16::from(host / 100) * 0x100 + u16::from(host / 10 % 10) * 0x10 + u16::from(host % 10)
}

/// Data classes are declared only on HQ servers: the organisation classified what it holds
/// at headquarters, which is also where the case's customer data sat. Overseas file servers
/// and the backup server carry none, so their sanctioned bulk copies are not data leaving.
fn hq_servers(site: &Site) -> Vec<Server> {
    let o = site.octet;
    let v6 = site.v6;
    let mk = |name: &str, role, host: u8, data, customers| Server {
        name: name.to_string(),
        site: 0,
        role,
        v4: Ipv4Addr::new(10, o, 5, host),
        v6: v6.map(|g| Ipv6Addr::new(0x2001, 0xdb8, g, 5, 0, 0, 0, v6_host(host))),
        data,
        customers,
    };
    vec![
        mk("jp-dc01", Role::DomainController, 11, &[], &[]),
        mk("jp-dc02", Role::DomainController, 12, &[], &[]),
        mk(
            "jp-fs01",
            Role::FileServer,
            21,
            &["customer-pii", "design"],
            &[
                "Acme Air",
                "Orbital Co",
                "Kestrel Shipping",
                "Meridian Rail",
            ],
        ),
        mk(
            "jp-fs02",
            Role::FileServer,
            22,
            &["design", "contracts"],
            &["Orbital Co", "Halcyon Motors", "Northwind Energy"],
        ),
        mk(
            "jp-fs03",
            Role::FileServer,
            23,
            &["contracts", "customer-pii"],
            &[
                "Acme Air",
                "Northwind Energy",
                "Solace Pharma",
                "Tidewater Port Authority",
            ],
        ),
        mk("jp-erp01", Role::Erp, 31, &[], &[]),
        mk(
            "jp-db01",
            Role::Database,
            32,
            &["customer-pii", "financial"],
            &CUSTOMERS,
        ),
        mk("jp-mail01", Role::Mail, 41, &[], &[]),
        mk("jp-bk01", Role::Backup, 51, &[], &[]),
        mk("jp-scan01", Role::Scanner, 61, &[], &[]),
        mk("jp-jump01", Role::JumpHost, 71, &[], &[]),
    ]
}

fn overseas_servers(idx: usize, site: &Site) -> Vec<Server> {
    let mk = |suffix: &str, role, host: u8| Server {
        name: format!("{}-{suffix}", site.code),
        site: idx,
        role,
        v4: Ipv4Addr::new(10, site.octet, 5, host),
        v6: site
            .v6
            .map(|g| Ipv6Addr::new(0x2001, 0xdb8, g, 5, 0, 0, 0, v6_host(host))),
        data: &[],
        customers: &[],
    };
    vec![
        mk("dc01", Role::DomainController, 11),
        mk("fs01", Role::FileServer, 21),
    ]
}

/// HQ's IT administrators' workstations: they RDP to the jump host and manage servers.
pub(crate) const IT_ADMINS: u8 = 20;

pub(crate) fn it_admin(i: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 10, 8, 10 + i)
}

/// One workstation that appears in the logs.
#[derive(Clone, Debug)]
pub(crate) struct Terminal {
    pub v4: Ipv4Addr,
    /// Dual-stack sites give some workstations an IPv6 address too.
    pub v6: Option<Ipv6Addr>,
    /// Activity relative to the site's average, in percent (light to heavy users).
    pub activity: u32,
    /// Index into the site's file servers: the share the user's department maps.
    pub home_fs: u8,
    /// Index into the site's domain controllers.
    pub home_dc: u8,
}

/// Workstations of a site: `count` distinct addresses drawn (seeded) from the site's
/// workstation range `10.x.64.0/18`, hosts .1–.254 of each /24.
pub(crate) fn terminals(seed: u64, idx: usize, site: &Site, count: u32) -> Vec<Terminal> {
    let mut rng = Rng::stream(seed, &[0x7E41, idx as u64]);
    // Partial Fisher–Yates over the 64 × 254 slots.
    let mut slots: Vec<u16> = (0..64u16 * 254).collect();
    let n = (count as usize).min(slots.len());
    for i in 0..n {
        let j = i + rng.below((slots.len() - i) as u64) as usize;
        slots.swap(i, j);
    }
    let n_fs = if site.hq { 3 } else { 1 };
    let n_dc = if site.hq { 2 } else { 1 };
    slots[..n]
        .iter()
        .map(|&s| {
            let v4 = Ipv4Addr::new(10, site.octet, 64 + (s / 254) as u8, 1 + (s % 254) as u8);
            let v6 = match site.v6 {
                Some(g) if rng.chance(0.3) => {
                    let iid = rng.next_u64();
                    Some(Ipv6Addr::new(
                        0x2001,
                        0xdb8,
                        g,
                        0x100 + s / 254,
                        (iid >> 48) as u16,
                        (iid >> 32) as u16,
                        (iid >> 16) as u16,
                        iid as u16,
                    ))
                }
                _ => None,
            };
            Terminal {
                v4,
                v6,
                activity: 30 + rng.below(171) as u32,
                home_fs: rng.below(n_fs) as u8,
                home_dc: rng.below(n_dc) as u8,
            }
        })
        .collect()
}

/// The organisation: sites, servers and each site's active workstations.
#[derive(Debug)]
pub(crate) struct Org {
    pub sites: Vec<Site>,
    pub servers: Vec<Server>,
    /// Active workstations per site.
    pub terminals: Vec<Vec<Terminal>>,
}

impl Org {
    /// `active_share`: the fraction of declared workstations that appear in the logs.
    pub(crate) fn new(seed: u64, active_divisor: u32) -> Org {
        let sites = sites();
        let mut servers = hq_servers(&sites[0]);
        for (i, s) in sites.iter().enumerate().skip(1) {
            servers.extend(overseas_servers(i, s));
        }
        let terminals = sites
            .iter()
            .enumerate()
            .map(|(i, s)| terminals(seed, i, s, s.declared_terminals / active_divisor))
            .collect();
        Org {
            sites,
            servers,
            terminals,
        }
    }

    pub(crate) fn server(&self, name: &str) -> &Server {
        self.servers
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no server {name} in the demo org"))
    }

    pub(crate) fn servers_of(&self, site: usize, role: Role) -> impl Iterator<Item = &Server> {
        self.servers
            .iter()
            .filter(move |s| s.site == site && s.role == role)
    }

    /// The site whose networks hold `ip`; `None` for external addresses.
    pub(crate) fn site_of(&self, ip: IpAddr) -> Option<usize> {
        match ip {
            IpAddr::V4(v4) => {
                let o = v4.octets();
                if o[0] != 10 {
                    return None;
                }
                self.sites.iter().position(|s| s.octet == o[1])
            }
            IpAddr::V6(v6) => {
                let g = v6.segments();
                if g[0] != 0x2001 || g[1] != 0xdb8 {
                    return None;
                }
                self.sites.iter().position(|s| s.v6 == Some(g[2]))
            }
        }
    }

    pub(crate) fn active_terminals(&self) -> u64 {
        self.terminals.iter().map(|t| t.len() as u64).sum()
    }

    pub(crate) fn declared_terminals(&self) -> u64 {
        self.sites
            .iter()
            .map(|s| u64::from(s.declared_terminals))
            .sum()
    }
}

fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

/// The org file, in the format `sekisho-model` reads. Written by hand (not serialised) so
/// that it carries comments a reader learns the format from.
pub(crate) fn org_toml(org: &Org, baseline_days: u32) -> String {
    let mut t = String::new();
    let w = &mut t;
    let _ = writeln!(
        w,
        "# Organisation model of the sekisho demo scenario (generated by `sekisho demo`).\n\
         # Sites, the servers that matter, workstation ranges, sensors and the access policy.\n"
    );
    let _ = writeln!(
        w,
        "[org]\nname = {ORG_NAME:?}\n\
         domains = [\"example-hi.co.jp\", \"example-hi.com\"]\n\
         brands = [\"Example Heavy Industries\", \"EHI\"]\n"
    );
    for s in &org.sites {
        let mut nets = vec![format!("10.{}.0.0/16", s.octet)];
        if let Some(g) = s.v6 {
            nets.push(format!("2001:db8:{g:x}::/48"));
        }
        let nets: Vec<&str> = nets.iter().map(String::as_str).collect();
        let tag = if s.hq { "hq" } else { "overseas" };
        let _ = writeln!(
            w,
            "[[site]]\nid = {:?}\nname = {:?}\ncountry = {:?}\ntimezone = {:?}\nnetworks = {}\ntags = [{tag:?}]\n",
            s.id,
            s.name,
            s.country,
            s.tz_name,
            list(&nets)
        );
    }
    let _ = writeln!(
        w,
        "# Servers. `data` and `customers` say whose data would be exposed if one is reached."
    );
    for a in &org.servers {
        let mut addrs = vec![a.v4.to_string()];
        if let Some(v6) = a.v6 {
            addrs.push(v6.to_string());
        }
        let addrs: Vec<&str> = addrs.iter().map(String::as_str).collect();
        let _ = writeln!(
            w,
            "[[asset]]\nname = {:?}\nsite = {:?}\naddresses = {}\nroles = [{:?}]",
            a.name,
            org.sites[a.site].id,
            list(&addrs),
            a.role.as_str()
        );
        if !a.data.is_empty() {
            let _ = writeln!(w, "data = {}", list(a.data));
        }
        if !a.customers.is_empty() {
            let _ = writeln!(w, "customers = {}", list(a.customers));
        }
        let _ = writeln!(w);
    }
    let _ = writeln!(
        w,
        "# IT administrators' workstations at HQ.\n\
         [[asset]]\nname = \"jp-it-admin\"\nsite = \"jp-hq\"\nnetworks = [\"10.10.8.0/24\"]\nroles = [\"workstation\", \"it-admin\"]\n"
    );
    let _ = writeln!(
        w,
        "# Workstation ranges: terminals are address ranges, not one asset each."
    );
    for s in &org.sites {
        let mut nets = vec![format!("10.{}.64.0/18", s.octet)];
        if let Some(g) = s.v6 {
            nets.push(format!("2001:db8:{g:x}:100::/56"));
        }
        let nets: Vec<&str> = nets.iter().map(String::as_str).collect();
        let _ = writeln!(
            w,
            "[[asset]]\nname = \"{}-workstations\"\nsite = {:?}\nnetworks = {}\nroles = [\"workstation\"]\n",
            s.code,
            s.id,
            list(&nets)
        );
    }
    let _ = writeln!(
        w,
        "# One Zeek sensor per site; its name is its folder under zeek/."
    );
    for s in &org.sites {
        let _ = writeln!(
            w,
            "[[sensor]]\nname = {:?}\nsites = [{:?}]\n",
            s.sensor(),
            s.id
        );
    }
    let _ = write!(w, "{}", POLICY);
    let _ = writeln!(
        w,
        "\n[detectors.first_seen_crossing]\nbaseline_days = {baseline_days}\n\n\
         [detectors.fan_out]\nmin_hosts = 50"
    );
    t
}

/// The access policy. Every sanctioned cross-site pattern the demo generates is allowed by
/// a rule above the deny rule, so benign traffic never reaches the deny rule or the
/// cross-site default: what does is the intrusion.
const POLICY: &str = r#"[policy]
cross_site_default = "alert"
business_hours = "Mon-Fri 08:00-19:00"

# Rules are tried in order; the first match wins.
[[policy.rule]]
name = "AD replication between domain controllers"
from = { role = "domain-controller" }
to = { role = "domain-controller" }
services = ["ldap", "kerberos", "dce-rpc", "smb", "dns", "tcp/49152-65535"]
action = "allow"

[[policy.rule]]
name = "DFS replication between file servers"
from = { role = "file-server" }
to = { role = "file-server" }
services = ["dce-rpc", "tcp/49152-65535"]
action = "allow"

[[policy.rule]]
name = "Nightly backups to the HQ backup server"
from = { role = ["domain-controller", "file-server", "erp", "database", "mail", "jump-host", "scanner"] }
to = { role = "backup" }
services = ["smb"]
during = "off-hours"
action = "allow"

[[policy.rule]]
name = "IT vulnerability scanner sweeps"
from = { role = "scanner" }
to = { any = true }
services = ["any"]
action = "allow"

[[policy.rule]]
name = "Help-desk remote support from the HQ jump host"
from = { asset = "jp-jump01" }
to = { tag = "overseas", role = "workstation" }
services = ["rdp"]
during = "business-hours"
action = "allow"

[[policy.rule]]
name = "ERP and mail at HQ for every site's workstations"
from = { role = "workstation" }
to = { site = "jp-hq", role = ["erp", "mail"] }
services = ["https", "smtp"]
action = "allow"

[[policy.rule]]
name = "No overseas admin access to HQ servers"
from = { tag = "overseas" }
to = { site = "jp-hq", role = ["file-server", "domain-controller", "erp", "jump-host", "database"] }
services = ["rdp", "smb", "ssh", "winrm", "dce-rpc"]
action = "deny"
severity = "high"

[[policy.rule]]
name = "Web, DNS and time to the internet"
from = { any = true }
to = { external = true }
services = ["https", "http", "dns", "ntp"]
action = "allow"

[[policy.rule]]
name = "Outbound mail through the relay"
from = { asset = "jp-mail01" }
to = { external = true }
services = ["smtp"]
action = "allow"

[[policy.rule]]
name = "Inbound mail from the relay"
from = { external = true }
to = { asset = "jp-mail01" }
services = ["smtp"]
action = "allow"
"#;
