//! Helpers shared by the detectors on host evidence: placing a logon's two ends on the
//! organisation's sites, the crossing a remote logon stands for (so the access policy can
//! judge it like a flow), alerts without flow evidence, and the hourly aggregation every
//! host detector uses to fold repeats into one alert.
//!
//! ```
//! use sekisho_detect::host::{logon_crossing, crossing_flow};
//! use sekisho_event::{HostOrigin, HostSource, Logon, LogonAction, Outcome, Service, Timestamp};
//! use sekisho_model::{Direction, Org};
//!
//! let org = Org::from_toml(r#"
//! [org]
//! name = "Example"
//! [[site]]
//! id = "jp-hq"
//! country = "JP"
//! timezone = "Asia/Tokyo"
//! networks = ["10.10.0.0/16"]
//! [[site]]
//! id = "th-bkk"
//! country = "TH"
//! timezone = "Asia/Bangkok"
//! networks = ["10.20.0.0/16"]
//! [[asset]]
//! name = "jp-fs01"
//! site = "jp-hq"
//! addresses = ["10.10.5.10"]
//! "#, "org.toml").unwrap();
//! let logon = Logon {
//!     ts: Timestamp::from_micros(0),
//!     source: HostSource::Evtx,
//!     event_id: Some(4624),
//!     action: LogonAction::Logon,
//!     outcome: Outcome::Success,
//!     user: Some("alice".into()),
//!     domain: None,
//!     logon_type: Some(10),
//!     auth: None,
//!     source_ip: Some("10.20.3.4".parse().unwrap()),
//!     source_port: None,
//!     source_host: None,
//!     // Located by name: the asset `jp-fs01`, short name, case ignored.
//!     host: Some("JP-FS01.corp.example".into()),
//!     host_ip: None,
//!     process: None,
//!     session: None,
//!     reason: None,
//!     channel: None,
//!     record_id: None,
//!     origin: Default::default(),
//!     fields: Default::default(),
//! };
//! let c = logon_crossing(&org, &logon).unwrap();
//! assert_eq!(c.service, Service::Rdp);
//! assert_eq!(c.direction, Direction::CrossSite);
//! assert_eq!(c.dst.ip, Some("10.10.5.10".parse().unwrap()));
//! assert_eq!(crossing_flow(&c, logon.ts).resp_port, 3389);
//! ```

use crate::bounded::{BoundedMap, Fp, cap, caps};
use crate::common::{clean_name, emit_sorted, finalize};
use crate::{AlertSink, DetectorStats};
use sekisho_event::{
    Alert, AlertEndpoint, AppContext, ConnState, Flow, HostSource, Logon, LogonAction, Proto,
    Service, Severity, Timestamp, Uid,
};
use sekisho_model::{AssetId, Direction, Location, Org};
use std::net::IpAddr;
use std::sync::Arc;

/// Where one end of a host record is: its address (given, or the single address of the
/// asset its host name matched), its location in the org, and the host name the log gave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Place {
    pub ip: Option<IpAddr>,
    pub loc: Location,
    pub name: Option<String>,
}

impl Place {
    /// The alert endpoint for this place.
    pub fn endpoint(&self, org: &Org) -> AlertEndpoint {
        org.endpoint(self.ip, self.loc)
    }

    /// `jp-hq jp-fs01 (10.10.5.10)`, `external 203.0.113.9`, `PC01.example.corp`: for
    /// summaries. Names from the log are cleaned of control characters and shortened.
    pub fn describe(&self, org: &Org) -> String {
        let mut parts: Vec<String> = Vec::with_capacity(3);
        match self.loc.site {
            Some(s) => parts.push(org.site(s).id.clone()),
            None if self.ip.is_some() && self.name.is_none() => parts.push("external".into()),
            None => {}
        }
        let name = match self.loc.asset {
            Some(a) => Some(org.asset(a).name.clone()),
            None => self.name.as_deref().map(clean_name),
        };
        match (name, self.ip) {
            (Some(n), Some(ip)) => parts.push(format!("{n} ({ip})")),
            (Some(n), None) => parts.push(n),
            (None, Some(ip)) => parts.push(ip.to_string()),
            (None, None) => parts.push("an unnamed host".into()),
        }
        parts.join(" ")
    }
}

/// An asset named like the host: exactly, or by its short name (`DC1` for
/// `DC1.corp.example`), ignoring ASCII case as Windows does. (The same rule as
/// `sekisho_hostlog::summary::asset_for_host`; detect does not depend on hostlog.)
pub fn asset_for_host(org: &Org, host: &str) -> Option<AssetId> {
    if let Some(a) = org.asset_by_name(host) {
        return Some(a);
    }
    let short = host.split('.').next().unwrap_or(host);
    if short.is_empty() {
        return None;
    }
    org.assets
        .iter()
        .position(|a| {
            a.name.eq_ignore_ascii_case(host)
                || a.name
                    .split('.')
                    .next()
                    .is_some_and(|n| n.eq_ignore_ascii_case(short))
        })
        .and_then(|i| u32::try_from(i).ok())
        .map(AssetId)
}

/// The one address of an asset declared with a single host address, if that is what it has.
fn single_address(org: &Org, id: AssetId) -> Option<IpAddr> {
    let mut hosts = org
        .asset(id)
        .networks
        .iter()
        .filter(|n| n.prefix_len() == n.max_prefix_len());
    let first = hosts.next()?;
    hosts.next().is_none().then(|| first.addr())
}

/// Places a host by its address when the address is inside a site, else by its name
/// against the assets (then the asset's address, when it has exactly one, stands for it so
/// that correlation can join the host's alerts with flow alerts on that address).
pub fn place_host(org: &Org, name: Option<&str>, ip: Option<IpAddr>) -> Place {
    let name_owned = name.map(str::to_string);
    if let Some(ip) = ip {
        let loc = org.locate(ip);
        if loc.site.is_some() {
            return Place {
                ip: Some(ip),
                loc,
                name: name_owned,
            };
        }
    }
    if let Some(id) = name.and_then(|n| asset_for_host(org, n)) {
        return Place {
            ip: ip.or_else(|| single_address(org, id)),
            loc: Location {
                site: Some(org.asset(id).site),
                asset: Some(id),
            },
            name: name_owned,
        };
    }
    Place {
        ip,
        loc: ip.map(|i| org.locate(i)).unwrap_or_default(),
        name: name_owned,
    }
}

/// Places a source address.
pub fn place_source(org: &Org, ip: IpAddr) -> Place {
    Place {
        ip: Some(ip),
        loc: org.locate(ip),
        name: None,
    }
}

/// Which way something goes from `src` to `dst` (as [`sekisho_model::Enriched`] says for
/// flows).
pub fn direction(src: Location, dst: Location) -> Direction {
    match (src.site, dst.site) {
        (Some(a), Some(b)) if a == b => Direction::IntraSite,
        (Some(_), Some(_)) => Direction::CrossSite,
        (None, Some(_)) => Direction::Inbound,
        (Some(_), None) => Direction::Outbound,
        (None, None) => Direction::External,
    }
}

/// True for the directions host detectors report as a crossing: from another site, or
/// from outside every site into one. A host that is in no site cannot be said to be
/// crossed into, so logons onto unplaced hosts never count.
pub fn is_crossing(d: Direction) -> bool {
    matches!(d, Direction::CrossSite | Direction::Inbound)
}

/// An address that can be placed as another machine's: not loopback, not unspecified, and
/// not link-local (`fe80::/10`, `169.254.0.0/16`: a neighbour on the same segment, which
/// no site's networks declare and which is certainly not "outside").
pub fn is_remote(ip: IpAddr) -> bool {
    let link_local = match ip {
        IpAddr::V4(a) => a.is_link_local(),
        IpAddr::V6(a) => a.is_unicast_link_local(),
    };
    !ip.is_loopback() && !ip.is_unspecified() && !link_local
}

/// A remote logon seen as the crossing it stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogonCrossing {
    pub src: Place,
    pub dst: Place,
    pub service: Service,
    pub direction: Direction,
}

/// The service a remote logon used: `ssh` for sshd, `rdp` for Windows logon type 10, `smb`
/// for type 3 (network logons over NTLM or Kerberos: file shares, RPC, WMI, PsExec);
/// `None` for local logons and for sudo/su.
pub fn logon_service(logon: &Logon) -> Option<Service> {
    match logon.source {
        HostSource::Sshd => Some(Service::Ssh),
        HostSource::Evtx => match logon.logon_type {
            Some(10) => Some(Service::Rdp),
            Some(3) => Some(Service::Smb),
            _ => None,
        },
        HostSource::Sudo | HostSource::Su => None,
    }
}

/// The crossing a logon attempt stands for: from its source address to the host logged on
/// to, over the service of [`logon_service`]. `None` for logoffs, local logons, logons
/// without a remote source address, and logons from the host's own address.
pub fn logon_crossing(org: &Org, logon: &Logon) -> Option<LogonCrossing> {
    if logon.action != LogonAction::Logon {
        return None;
    }
    let service = logon_service(logon)?;
    let src_ip = logon.source_ip.filter(|ip| is_remote(*ip))?;
    if logon.host_ip == Some(src_ip) {
        return None;
    }
    let src = place_source(org, src_ip);
    let dst = place_host(org, logon.host.as_deref(), logon.host_ip);
    if dst.ip == Some(src_ip) {
        return None;
    }
    let direction = direction(src.loc, dst.loc);
    Some(LogonCrossing {
        src,
        dst,
        service,
        direction,
    })
}

/// The well-known port of a logon's service.
pub fn service_port(service: Service) -> u16 {
    match service {
        Service::Rdp => 3389,
        Service::Smb => 445,
        Service::Ssh => 22,
        Service::Winrm => 5985,
        _ => 0,
    }
}

/// A flow equivalent to the crossing, for [`sekisho_model::Policy::evaluate`]: TCP to the
/// service's port, no bytes, no uid. The policy only reads its service and port; the
/// locations are passed beside it.
pub fn crossing_flow(c: &LogonCrossing, ts: Timestamp) -> Flow {
    let unspecified = IpAddr::from([0u8, 0, 0, 0]);
    Flow {
        ts,
        duration_us: 0,
        uid: Uid::default(),
        orig_ip: c.src.ip.unwrap_or(unspecified),
        orig_port: 0,
        resp_ip: c.dst.ip.unwrap_or(unspecified),
        resp_port: service_port(c.service),
        proto: Proto::Tcp,
        service: c.service,
        orig_bytes: 0,
        resp_bytes: 0,
        orig_pkts: 0,
        resp_pkts: 0,
        state: ConnState::Unknown,
        sensor: Arc::from("host-log"),
    }
}

/// An alert from host evidence: no flows (`flow_count` 0, no evidence), the time of the
/// record.
/// An alert about something done on one host, by `user`: both ends are the host, so the
/// report shows no crossing.
pub fn on_host_alert(
    detector: &str,
    severity: Severity,
    ts: Timestamp,
    (host, org): (&Place, &Org),
    summary: String,
    attack: &str,
    user: Option<&str>,
) -> Alert {
    let mut a = host_alert(
        detector,
        severity,
        ts,
        host.endpoint(org),
        host.endpoint(org),
        Service::Other,
        summary,
    );
    a.attack = Some(attack.to_string());
    add_user(&mut a, user);
    a
}

pub fn host_alert(
    detector: &str,
    severity: Severity,
    ts: Timestamp,
    src: AlertEndpoint,
    dst: AlertEndpoint,
    service: Service,
    summary: String,
) -> Alert {
    Alert {
        id: String::new(),
        detector: detector.to_string(),
        severity,
        ts,
        last_ts: ts,
        src,
        dst,
        service,
        dst_port: None,
        rule: None,
        attack: None,
        summary,
        flow_count: 0,
        bytes_out: 0,
        bytes_in: 0,
        related: Vec::new(),
        context: AppContext::default(),
        evidence: Vec::new(),
    }
}

fn push_capped(list: &mut Vec<String>, value: Option<&str>) {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty() && *v != "-") else {
        return;
    };
    let mut end = v.len().min(AppContext::MAX_STRING);
    while end > 0 && !v.is_char_boundary(end) {
        end -= 1;
    }
    let v = v.get(..end).unwrap_or("");
    if list.len() < AppContext::MAX_ITEMS && !list.iter().any(|x| x == v) {
        list.push(v.to_string());
    }
}

/// Names the account in the alert's context (which the incident's scope lists as users).
pub fn add_user(alert: &mut Alert, user: Option<&str>) {
    push_capped(&mut alert.context.users, user);
}

/// Names the client machine in the alert's context.
pub fn add_client(alert: &mut Alert, host: Option<&str>) {
    push_capped(&mut alert.context.client_hosts, host);
}

/// Records what happened (`4624 type 3 NTLM`, a service's image path) in the context.
pub fn add_operation(alert: &mut Alert, op: Option<&str>) {
    push_capped(&mut alert.context.operations, op);
}

/// A 64-bit fingerprint of a few strings (ASCII case folded, as Windows names are) and
/// numbers, keeping state keys fixed-size.
#[derive(Clone, Copy, Debug)]
pub struct Key(Fp);

impl Key {
    pub fn new(tag: u64) -> Self {
        Key(Fp::new(tag))
    }
    pub fn str(self, s: Option<&str>) -> Self {
        let mut fp = self.0.u64(0x5f5f);
        if let Some(s) = s {
            for chunk in s.as_bytes().chunks(8) {
                let mut w = [0u8; 8];
                for (d, b) in w.iter_mut().zip(chunk) {
                    *d = b.to_ascii_lowercase();
                }
                fp = fp.u64(u64::from_le_bytes(w));
            }
            fp = fp.u64(s.len() as u64);
        }
        Key(fp)
    }
    pub fn ip(self, ip: Option<IpAddr>) -> Self {
        Key(self
            .0
            .u128(ip.map(crate::bounded::ip_key).unwrap_or(u128::MAX)))
    }
    pub fn num(self, n: i64) -> Self {
        Key(self.0.i64(n))
    }
    pub fn finish(self) -> u64 {
        self.0.finish()
    }
}

/// One open aggregate: the alert, how many records it stands for, and its clock hour.
#[derive(Debug)]
struct Open {
    alert: Box<Alert>,
    count: u64,
    hour: i64,
}

/// Repeats folded into one alert per key per UTC clock hour, as the policy detectors do for
/// flows. Records come in time order, so an hour is closed as soon as a later hour's record
/// arrives; the table is bounded (`limits.max_tracked_keys`, at most
/// [`caps::OPEN_ALERTS`]) and a full table emits its oldest aggregates early rather than
/// dropping them.
#[derive(Debug)]
pub struct Hourly {
    open: BoundedMap<u64, Open>,
    hour: i64,
}

impl Hourly {
    pub fn new(org: &Org) -> Self {
        let limits = &org.detectors.limits;
        Self {
            open: BoundedMap::new(cap(
                limits.max_tracked_keys,
                caps::OPEN_ALERTS.min(limits.max_alerts.max(1)),
            )),
            hour: i64::MIN,
        }
    }

    /// Moves to `ts`, emitting aggregates of hours that ended before it.
    pub fn advance(&mut self, ts: Timestamp, out: &mut AlertSink) {
        let hour = ts.as_micros().div_euclid(Timestamp::HOUR);
        if hour <= self.hour {
            return;
        }
        self.hour = hour;
        let mut done: Vec<Alert> = self
            .open
            .extract(|_, o| o.hour < hour)
            .into_iter()
            .map(|(_, o)| close(o))
            .collect();
        emit_sorted(&mut done, out);
    }

    /// Adds one record under `key` (the hour is added to it here); `make` builds the alert
    /// the first time. True when this opened a new aggregate.
    pub fn add(
        &mut self,
        key: Key,
        ts: Timestamp,
        make: impl FnOnce() -> Alert,
        out: &mut AlertSink,
    ) -> bool {
        self.advance(ts, out);
        let hour = ts.as_micros().div_euclid(Timestamp::HOUR);
        let k = key.num(hour).finish();
        if let Some(o) = self.open.get_mut(&k) {
            o.count += 1;
            o.alert.last_ts = o.alert.last_ts.max(ts);
            o.alert.ts = o.alert.ts.min(ts);
            return false;
        }
        let mut early = Vec::new();
        self.open.entry_with(
            k,
            || Open {
                alert: Box::new(make()),
                count: 1,
                hour,
            },
            |_, o| early.push(close(o)),
        );
        emit_sorted(&mut early, out);
        true
    }

    /// Emits every open aggregate.
    pub fn finish(&mut self, out: &mut AlertSink) {
        let mut done: Vec<Alert> = self
            .open
            .drain()
            .into_iter()
            .map(|(_, o)| close(o))
            .collect();
        emit_sorted(&mut done, out);
    }

    /// Adds the table's figures.
    pub fn add_stats(&self, s: &mut DetectorStats) {
        s.add(&self.open);
    }
}

fn close(o: Open) -> Alert {
    let mut a = *o.alert;
    if o.count > 1 {
        a.summary
            .push_str(&format!(" ({} times within the hour)", o.count));
    }
    finalize(&mut a);
    a
}

/// A Windows account or host name reduced for comparison: lower case, without the domain
/// part of `DOMAIN\user` or the DNS suffix of `host.domain`.
pub fn short_name(s: &str) -> String {
    let s = s.rsplit('\\').next().unwrap_or(s);
    s.split('.').next().unwrap_or(s).to_ascii_lowercase()
}

/// The file name of a Windows or Unix path, lower case (`C:\Windows\System32\cmd.exe` →
/// `cmd.exe`).
pub fn image_name(path: &str) -> String {
    path.rsplit(['\\', '/'])
        .next()
        .unwrap_or(path)
        .trim_matches('"')
        .to_ascii_lowercase()
}
