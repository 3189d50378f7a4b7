//! Windows events: the JSON forms (`evtx` crate / `evtx_dump`, Winlogbeat) parsed into a
//! [`RawEvent`], and the normaliser from a [`RawEvent`] to a [`HostRecord`].
//!
//! Pure functions over bytes: no I/O, no clock.

use sekisho_event::{
    Fields, HostEvent, HostEventKind, HostOrigin, HostRecord, HostSource, Logon, LogonAction,
    Outcome, Timestamp,
};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::net::IpAddr;

/// How deep nested `EventData`/`UserData` objects are followed; deeper values are skipped
/// (and counted as truncated fields).
pub const MAX_DATA_DEPTH: usize = 8;

/// The parts of a Windows event every consumer needs, plus its data fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawEvent {
    pub event_id: u32,
    pub provider: String,
    pub channel: String,
    pub computer: String,
    pub record_id: Option<u64>,
    pub ts: Option<Timestamp>,
    /// `EventData`/`UserData`, flattened to leaf names; empty when the event is not one we
    /// normalise (its data is not kept, to save time).
    pub fields: Fields,
}

/// Why a JSON record could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JsonError {
    #[error("malformed JSON: {0}")]
    Syntax(String),
    #[error("no event id")]
    NoEventId,
    #[error("no usable time")]
    NoTime,
}

/// Which of the events we normalise this is, from channel/provider and id. The same ids mean
/// different things in different channels (Sysmon 1 vs LocalSessionManager 21), so the
/// channel decides.
pub fn wanted(channel: &str, provider: &str, event_id: u32) -> bool {
    classify(channel, provider, event_id).is_some()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Logon(LogonAction),
    Event(HostEventKind),
}

fn has(hay: &str, needle: &str) -> bool {
    hay.len() >= needle.len()
        && hay
            .as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn classify(channel: &str, provider: &str, id: u32) -> Option<Class> {
    use HostEventKind as K;
    let security = channel.eq_ignore_ascii_case("Security")
        || provider.eq_ignore_ascii_case("Microsoft-Windows-Security-Auditing");
    if security {
        return Some(match id {
            4624 | 4625 => Class::Logon(LogonAction::Logon),
            4634 | 4647 => Class::Logon(LogonAction::Logoff),
            4648 => Class::Event(K::ExplicitCredentials),
            4672 => Class::Event(K::SpecialPrivileges),
            4720 => Class::Event(K::AccountCreated),
            4728 | 4732 | 4756 => Class::Event(K::GroupMemberAdded),
            4768 => Class::Event(K::KerberosTgt),
            4769 => Class::Event(K::KerberosServiceTicket),
            4771 => Class::Event(K::KerberosPreauthFailed),
            4776 => Class::Event(K::NtlmValidation),
            4778 => Class::Event(K::SessionReconnected),
            4779 => Class::Event(K::SessionDisconnected),
            4719 => Class::Event(K::AuditPolicyChanged),
            1102 => Class::Event(K::LogCleared),
            _ => return None,
        });
    }
    if channel.eq_ignore_ascii_case("System") {
        return match id {
            7045 => Some(Class::Event(K::ServiceInstalled)),
            104 if has(provider, "Eventlog") || provider.is_empty() => {
                Some(Class::Event(K::LogCleared))
            }
            _ => None,
        };
    }
    if has(channel, "TerminalServices-RemoteConnectionManager") {
        return (id == 1149).then_some(Class::Event(K::RdpAuthSucceeded));
    }
    if has(channel, "TerminalServices-LocalSessionManager") {
        return match id {
            21 => Some(Class::Event(K::RdpSessionLogon)),
            22 => Some(Class::Event(K::RdpShellStart)),
            24 => Some(Class::Event(K::RdpSessionDisconnected)),
            25 => Some(Class::Event(K::RdpSessionReconnected)),
            _ => None,
        };
    }
    if has(channel, "Sysmon/Operational") {
        return match id {
            1 => Some(Class::Event(K::ProcessCreated)),
            3 => Some(Class::Event(K::NetworkConnection)),
            _ => None,
        };
    }
    None
}

/// Which Windows records a reader keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Keep {
    /// Only the events [`wanted`] names, with their data fields; others are counted and
    /// skipped without reading their data (the fast path of the built-in detectors).
    #[default]
    Normalised,
    /// Every record with its data fields, the unclassified ones as
    /// [`HostEventKind::Other`]: what a rule engine (Sigma) needs.
    All,
}

/// Turns a raw Windows event into a logon or host event; `None` for events we do not
/// normalise or that have no time.
pub fn normalise(raw: &RawEvent, origin: &HostOrigin) -> Option<HostRecord> {
    normalise_as(raw, origin, Keep::Normalised)
}

/// [`normalise`], keeping unclassified records as [`HostEventKind::Other`] under
/// [`Keep::All`].
pub fn normalise_as(raw: &RawEvent, origin: &HostOrigin, keep: Keep) -> Option<HostRecord> {
    let ts = raw.ts?;
    let class = match classify(&raw.channel, &raw.provider, raw.event_id) {
        Some(c) => c,
        None if keep == Keep::All => Class::Event(HostEventKind::Other),
        None => return None,
    };
    let f = &raw.fields;
    let host = non_empty(&raw.computer);
    let channel = non_empty(&raw.channel);
    match class {
        Class::Logon(action) => {
            let failed = raw.event_id == 4625;
            let reason = if failed {
                // SubStatus says more than Status (0xC000006A: bad password) when set.
                val(f, "SubStatus")
                    .filter(|s| s != "0x0")
                    .or_else(|| val(f, "Status"))
                    .or_else(|| val(f, "FailureReason"))
            } else {
                None
            };
            Some(HostRecord::Logon(Logon {
                ts,
                source: HostSource::Evtx,
                event_id: Some(raw.event_id),
                action,
                outcome: if failed {
                    Outcome::Failure
                } else {
                    Outcome::Success
                },
                user: val(f, "TargetUserName"),
                domain: val(f, "TargetDomainName"),
                logon_type: f.get("LogonType").and_then(|s| s.trim().parse().ok()),
                auth: val(f, "AuthenticationPackageName"),
                source_ip: f.get("IpAddress").and_then(parse_ip),
                source_port: f.get("IpPort").and_then(parse_port),
                source_host: val(f, "WorkstationName"),
                host,
                host_ip: None,
                process: val(f, "ProcessName"),
                session: val(f, "TargetLogonId"),
                reason,
                channel,
                record_id: raw.record_id,
                origin: origin.clone(),
                fields: f.clone(),
            }))
        }
        Class::Event(kind) => {
            let mut e = HostEvent::new(ts, HostSource::Evtx, kind);
            e.event_id = Some(raw.event_id);
            e.provider = non_empty(&raw.provider);
            e.channel = channel;
            e.host = host;
            e.record_id = raw.record_id;
            e.origin = origin.clone();
            fill_event(&mut e, f);
            e.fields = f.clone();
            Some(HostRecord::Event(e))
        }
    }
}

fn fill_event(e: &mut HostEvent, f: &Fields) {
    use HostEventKind as K;
    e.user = val(f, "SubjectUserName");
    e.domain = val(f, "SubjectDomainName");
    let status_ok = |name: &str| {
        f.get(name).map(|s| {
            if s.trim() == "0x0" || s.trim() == "0" {
                Outcome::Success
            } else {
                Outcome::Failure
            }
        })
    };
    match e.kind {
        K::ServiceInstalled => {
            e.object = val(f, "ServiceName");
            e.process = val(f, "ImagePath");
            e.target_user = val(f, "AccountName");
        }
        K::LogCleared => {
            // 104 names the log in `Channel`; 1102 is always the Security log.
            e.object = val(f, "Channel").or_else(|| e.channel.clone());
        }
        K::AccountCreated => {
            e.target_user = val(f, "TargetUserName").or_else(|| val(f, "SamAccountName"));
            e.object = val(f, "TargetDomainName");
        }
        K::GroupMemberAdded => {
            e.target_user = val(f, "MemberName").or_else(|| val(f, "MemberSid"));
            e.object = val(f, "TargetUserName");
        }
        K::ExplicitCredentials => {
            e.target_user = val(f, "TargetUserName");
            e.target_host = val(f, "TargetServerName");
            e.source_ip = f.get("IpAddress").and_then(parse_ip);
            e.source_port = f.get("IpPort").and_then(parse_port);
            e.process = val(f, "ProcessName");
        }
        K::SpecialPrivileges => {
            e.object = val(f, "PrivilegeList");
        }
        K::KerberosTgt | K::KerberosServiceTicket | K::KerberosPreauthFailed => {
            e.target_user = val(f, "TargetUserName");
            e.domain = val(f, "TargetDomainName");
            e.object = val(f, "ServiceName");
            e.source_ip = f.get("IpAddress").and_then(parse_ip);
            e.source_port = f.get("IpPort").and_then(parse_port);
            e.outcome = if e.kind == K::KerberosPreauthFailed {
                Some(Outcome::Failure)
            } else {
                status_ok("Status")
            };
        }
        K::NtlmValidation => {
            e.target_user = val(f, "TargetUserName");
            e.target_host = val(f, "Workstation");
            e.object = val(f, "PackageName");
            e.outcome = status_ok("Status");
        }
        K::SessionReconnected | K::SessionDisconnected => {
            e.target_user = val(f, "AccountName");
            e.domain = val(f, "AccountDomain");
            e.target_host = val(f, "ClientName");
            e.source_ip = f.get("ClientAddress").and_then(parse_ip);
        }
        K::RdpAuthSucceeded => {
            // UserData/EventXML: Param1 user, Param2 domain, Param3 client address.
            e.target_user = val(f, "Param1");
            e.domain = val(f, "Param2");
            e.source_ip = f.get("Param3").and_then(parse_ip);
            e.outcome = Some(Outcome::Success);
        }
        K::RdpSessionLogon
        | K::RdpShellStart
        | K::RdpSessionDisconnected
        | K::RdpSessionReconnected => {
            // `User` is `DOMAIN\user`; `Address` is the client or `LOCAL`.
            if let Some(u) = f.get("User") {
                match u.rsplit_once('\\') {
                    Some((d, u)) => {
                        e.domain = non_empty(d);
                        e.target_user = non_empty(u);
                    }
                    None => e.target_user = non_empty(u),
                }
            }
            e.source_ip = f.get("Address").and_then(parse_ip);
            e.object = val(f, "SessionID");
        }
        K::ProcessCreated => {
            e.user = val(f, "User");
            e.domain = None;
            e.process = val(f, "Image");
            e.command = val(f, "CommandLine");
            e.object = val(f, "ParentImage");
        }
        K::NetworkConnection => {
            e.user = val(f, "User");
            e.domain = None;
            e.process = val(f, "Image");
            e.source_ip = f.get("SourceIp").and_then(parse_ip);
            e.source_port = f.get("SourcePort").and_then(parse_port);
            e.dest_ip = f.get("DestinationIp").and_then(parse_ip);
            e.dest_port = f.get("DestinationPort").and_then(parse_port);
            e.target_host = val(f, "DestinationHostname");
        }
        K::AuditPolicyChanged => {
            e.object = val(f, "SubcategoryGuid").or_else(|| val(f, "CategoryId"));
        }
        K::Other => {
            e.target_user = val(f, "TargetUserName");
            e.process = val(f, "Image").or_else(|| val(f, "NewProcessName"));
            e.command = val(f, "CommandLine");
            e.source_ip = f
                .get("IpAddress")
                .or_else(|| f.get("SourceIp"))
                .and_then(parse_ip);
        }
        K::SudoCommand | K::SuSession => {}
    }
}

/// A field's value when it says something: not empty and not Windows' `-` placeholder.
fn val(f: &Fields, name: &str) -> Option<String> {
    f.get(name).and_then(non_empty)
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty() && t != "-").then(|| t.to_string())
}

/// An address as Windows writes it: `10.0.0.5`, `::ffff:10.0.0.5` (shown as the v4
/// address), `fe80::1%12`; `-`, `LOCAL` and names give `None`.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    let s = s.split('%').next().unwrap_or(s);
    let s = s.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = s.parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    })
}

fn parse_port(s: &str) -> Option<u16> {
    s.trim().parse::<u16>().ok().filter(|p| *p != 0)
}

// ---------------------------------------------------------------------------------------
// JSON forms.

/// Parses one record as `evtx_dump`/the `evtx` crate render it (`{"Event":{"System":{..},
/// "EventData":{..}}}`) or as Winlogbeat ships it (`{"@timestamp":..,"winlog":{..}}`).
/// Data fields are kept only for events [`wanted`] says we normalise.
pub fn parse_json_record(bytes: &[u8]) -> Result<RawEvent, JsonError> {
    parse_json_record_as(bytes, Keep::Normalised)
}

/// [`parse_json_record`], keeping every record's data fields under [`Keep::All`].
pub fn parse_json_record_as(bytes: &[u8], keep: Keep) -> Result<RawEvent, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let doc = DocSeed { keep }
        .deserialize(&mut de)
        .and_then(|d| de.end().map(|()| d))
        .map_err(|e| JsonError::Syntax(short(&e)))?;
    let mut raw = match doc {
        Doc::Evtx(raw) => raw,
        Doc::Beat(raw) => raw,
        Doc::Unknown => return Err(JsonError::NoEventId),
    };
    if raw.event_id == u32::MAX {
        return Err(JsonError::NoEventId);
    }
    if raw.ts.is_none() {
        raw.fields = Fields::default();
        return Err(JsonError::NoTime);
    }
    Ok(raw)
}

fn short(e: &serde_json::Error) -> String {
    crate::cut_string(&e.to_string(), 120)
}

enum Doc {
    Evtx(RawEvent),
    Beat(RawEvent),
    Unknown,
}

/// Reads a [`Doc`], keeping what `keep` says.
struct DocSeed {
    keep: Keep,
}

impl<'de> DeserializeSeed<'de> for DocSeed {
    type Value = Doc;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Doc, D::Error> {
        struct V(Keep);
        impl<'de> Visitor<'de> for V {
            type Value = Doc;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an event object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Doc, A::Error> {
                let mut out = Doc::Unknown;
                let mut beat_ts: Option<Timestamp> = None;
                while let Some(k) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                    match k.as_ref() {
                        "Event" => out = Doc::Evtx(m.next_value_seed(EventSeed(self.0))?),
                        "winlog" => out = Doc::Beat(m.next_value_seed(BeatSeed(self.0))?),
                        "@timestamp" => {
                            let s: std::borrow::Cow<'de, str> = m.next_value()?;
                            beat_ts = Timestamp::parse_rfc3339(&s);
                        }
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                if let Doc::Beat(raw) = &mut out
                    && raw.ts.is_none()
                {
                    raw.ts = beat_ts;
                }
                Ok(out)
            }
        }
        d.deserialize_map(V(self.keep))
    }
}

/// The `Event` object of the evtx JSON form.
struct EventSeed(Keep);

impl<'de> DeserializeSeed<'de> for EventSeed {
    type Value = RawEvent;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RawEvent, D::Error> {
        struct V(Keep);
        impl<'de> Visitor<'de> for V {
            type Value = RawEvent;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an Event object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<RawEvent, A::Error> {
                let mut raw = RawEvent {
                    event_id: u32::MAX,
                    ..RawEvent::default()
                };
                while let Some(k) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                    match k.as_ref() {
                        "System" => {
                            let s: System = m.next_value()?;
                            raw.event_id = s.event_id.and_then(|n| n.0).unwrap_or(u32::MAX);
                            raw.provider = s
                                .provider
                                .and_then(|p| p.attributes)
                                .and_then(|a| a.name)
                                .unwrap_or_default();
                            raw.channel = s.channel.unwrap_or_default();
                            raw.computer = s.computer.unwrap_or_default();
                            raw.record_id = s.record_id.and_then(|n| n.0);
                            raw.ts = s
                                .time_created
                                .and_then(|t| t.attributes)
                                .and_then(|a| a.system_time)
                                .and_then(|t| parse_system_time(&t));
                        }
                        "EventData" | "UserData"
                            if self.0 == Keep::All
                                || wanted(&raw.channel, &raw.provider, raw.event_id) =>
                        {
                            m.next_value_seed(Flatten {
                                fields: &mut raw.fields,
                                name: k.as_ref(),
                                depth: 0,
                            })?;
                        }
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(raw)
            }
        }
        d.deserialize_map(V(self.0))
    }
}

/// The `winlog` object of Winlogbeat's documents.
struct BeatSeed(Keep);

impl<'de> DeserializeSeed<'de> for BeatSeed {
    type Value = RawEvent;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RawEvent, D::Error> {
        struct V(Keep);
        impl<'de> Visitor<'de> for V {
            type Value = RawEvent;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a winlog object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<RawEvent, A::Error> {
                let mut raw = RawEvent {
                    event_id: u32::MAX,
                    ..RawEvent::default()
                };
                // Winlogbeat does not promise an order, so data is kept until the ids are
                // known and dropped afterwards if unwanted.
                while let Some(k) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                    match k.as_ref() {
                        "event_id" => {
                            raw.event_id = m.next_value::<Num<u32>>()?.0.unwrap_or(u32::MAX);
                        }
                        "record_id" => raw.record_id = m.next_value::<Num>()?.0,
                        "channel" => raw.channel = m.next_value()?,
                        "computer_name" => raw.computer = m.next_value()?,
                        "provider_name" => raw.provider = m.next_value()?,
                        "event_data" | "user_data" => {
                            m.next_value_seed(Flatten {
                                fields: &mut raw.fields,
                                name: k.as_ref(),
                                depth: 0,
                            })?;
                        }
                        "time_created" => {
                            let s: Option<String> = m.next_value()?;
                            raw.ts = s.and_then(|s| parse_system_time(&s));
                        }
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                if self.0 != Keep::All && !wanted(&raw.channel, &raw.provider, raw.event_id) {
                    raw.fields = Fields::default();
                }
                Ok(raw)
            }
        }
        d.deserialize_map(V(self.0))
    }
}

/// `2019-03-19T23:34:33.467516Z`, or with fewer/more fraction digits (Windows writes 7).
fn parse_system_time(s: &str) -> Option<Timestamp> {
    Timestamp::parse_rfc3339(s.trim())
}

#[derive(Deserialize)]
struct System {
    #[serde(rename = "Provider")]
    provider: Option<Provider>,
    #[serde(rename = "EventID")]
    event_id: Option<Num<u32>>,
    #[serde(rename = "TimeCreated")]
    time_created: Option<TimeCreated>,
    #[serde(rename = "EventRecordID")]
    record_id: Option<Num>,
    #[serde(rename = "Channel")]
    channel: Option<String>,
    #[serde(rename = "Computer")]
    computer: Option<String>,
}

#[derive(Deserialize)]
struct Provider {
    #[serde(rename = "#attributes")]
    attributes: Option<ProviderAttrs>,
}

#[derive(Deserialize)]
struct ProviderAttrs {
    #[serde(rename = "Name")]
    name: Option<String>,
}

#[derive(Deserialize)]
struct TimeCreated {
    #[serde(rename = "#attributes")]
    attributes: Option<TimeAttrs>,
}

#[derive(Deserialize)]
struct TimeAttrs {
    #[serde(rename = "SystemTime")]
    system_time: Option<String>,
}

/// A number written as a JSON number, a string, or `{"#text": n, "#attributes": ..}` (how
/// evtx renders `EventID` with `Qualifiers`). `None` when it is none of these or too large.
struct Num<T = u64>(Option<T>);

impl<'de, T: TryFrom<u64>> Deserialize<'de> for Num<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: TryFrom<u64>> Visitor<'de> for V<T> {
            type Value = Num<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num<T>, E> {
                Ok(Num(T::try_from(v).ok()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num<T>, E> {
                Ok(Num(u64::try_from(v).ok().and_then(|v| T::try_from(v).ok())))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Num<T>, E> {
                Ok(Num(None))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num<T>, E> {
                Ok(Num(v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .and_then(|v| T::try_from(v).ok())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Num<T>, E> {
                Ok(Num(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Num<T>, E> {
                Ok(Num(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Num<T>, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Num(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Num<T>, A::Error> {
                let mut out = None;
                while let Some(k) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                    if k == "#text" {
                        out = m.next_value::<Num<T>>()?.0;
                    } else {
                        m.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Num(out))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// Flattens an `EventData`/`UserData` object into `(leaf name, value)` pairs: nested objects
/// (`UserData.LogFileCleared.SubjectUserName`) give their leaf names, `#attributes` and
/// `#text` are folded into the enclosing name, arrays give one pair per element (unnamed
/// `Data` items). Depth is capped at [`MAX_DATA_DEPTH`].
struct Flatten<'f, 'n> {
    fields: &'f mut Fields,
    name: &'n str,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Flatten<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Flatten<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("event data")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.fields.push(self.name, v);
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.fields.push(self.name, &v.to_string());
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.fields.push(self.name, &v.to_string());
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.fields.push(self.name, &v.to_string());
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.fields
            .push(self.name, if v { "true" } else { "false" });
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.fields.push(self.name, "");
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<(), A::Error> {
        if self.depth >= MAX_DATA_DEPTH {
            self.fields.truncated = self.fields.truncated.saturating_add(1);
            while s.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        while s
            .next_element_seed(Flatten {
                fields: &mut *self.fields,
                name: self.name,
                depth: self.depth + 1,
            })?
            .is_some()
        {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        if self.depth >= MAX_DATA_DEPTH {
            self.fields.truncated = self.fields.truncated.saturating_add(1);
            while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        while let Some(k) = m.next_key::<std::borrow::Cow<'de, str>>()? {
            // `#text` and `#attributes` belong to the element they are in.
            let name: &str = if k == "#text" || k == "#attributes" {
                self.name
            } else {
                k.as_ref()
            };
            m.next_value_seed(Flatten {
                fields: &mut *self.fields,
                name,
                depth: self.depth + 1,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOGON: &str = r##"{"Event":{"#attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Auditing","Guid":"{54849625-5478-4994-A5BA-3E3B0328C30D}"}},"EventID":4624,"Version":2,"TimeCreated":{"#attributes":{"SystemTime":"2019-03-19T23:34:33.467516Z"}},"EventRecordID":2013,"Channel":"Security","Computer":"DC1.insecurebank.local"},"EventData":{"TargetUserName":"Administrator","TargetDomainName":"INSECUREBANK","TargetLogonId":"0x8d5b3","LogonType":3,"AuthenticationPackageName":"NTLM","WorkstationName":"WIN10","IpAddress":"::ffff:10.0.2.17","IpPort":"49712","ProcessName":"-"}}}"##;

    #[test]
    fn evtx_json_logon_is_normalised() {
        let raw = parse_json_record(LOGON.as_bytes()).unwrap();
        assert_eq!(raw.event_id, 4624);
        assert_eq!(raw.record_id, Some(2013));
        let Some(HostRecord::Logon(l)) = normalise(&raw, &HostOrigin::default()) else {
            panic!("not a logon")
        };
        assert_eq!(l.user.as_deref(), Some("Administrator"));
        assert_eq!(l.logon_type, Some(3));
        assert_eq!(l.source_ip, Some("10.0.2.17".parse().unwrap()));
        assert_eq!(l.source_port, Some(49712));
        assert_eq!(l.process, None, "'-' means unset");
        assert_eq!(l.host.as_deref(), Some("DC1.insecurebank.local"));
        assert_eq!(l.ts.to_string(), "2019-03-19T23:34:33.467516Z");
    }

    #[test]
    fn qualified_event_id_and_user_data_are_read() {
        let j = r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Eventlog"}},"EventID":{"#attributes":{"Qualifiers":""},"#text":104},"TimeCreated":{"#attributes":{"SystemTime":"2019-03-19T23:34:33Z"}},"EventRecordID":"7","Channel":"System","Computer":"PC"},"UserData":{"LogFileCleared":{"SubjectUserName":"bob","Channel":"Application"}}}}"##;
        let raw = parse_json_record(j.as_bytes()).unwrap();
        let Some(HostRecord::Event(e)) = normalise(&raw, &HostOrigin::default()) else {
            panic!()
        };
        assert_eq!(e.kind, HostEventKind::LogCleared);
        assert_eq!(e.user.as_deref(), Some("bob"));
        assert_eq!(e.object.as_deref(), Some("Application"));
        assert_eq!(e.record_id, Some(7));
    }

    #[test]
    fn winlogbeat_document_is_read() {
        let j = r##"{"@timestamp":"2021-05-01T10:00:00.000Z","event":{"code":"4625"},"winlog":{"channel":"Security","provider_name":"Microsoft-Windows-Security-Auditing","event_id":"4625","record_id":99,"computer_name":"srv1","event_data":{"TargetUserName":"alice","LogonType":"10","IpAddress":"192.0.2.9","Status":"0xc000006d","SubStatus":"0xc000006a"}}}"##;
        let raw = parse_json_record(j.as_bytes()).unwrap();
        let Some(HostRecord::Logon(l)) = normalise(&raw, &HostOrigin::default()) else {
            panic!()
        };
        assert_eq!(l.outcome, Outcome::Failure);
        assert_eq!(l.reason.as_deref(), Some("0xc000006a"));
        assert_eq!(l.logon_type, Some(10));
        assert_eq!(l.record_id, Some(99));
    }

    #[test]
    fn same_id_means_different_things_per_channel() {
        assert!(wanted("Microsoft-Windows-Sysmon/Operational", "", 1));
        assert!(!wanted("Application", "", 1));
        assert!(wanted(
            "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
            "",
            21
        ));
        assert!(!wanted("Security", "", 21));
    }

    #[test]
    fn deep_nesting_is_capped_not_recursed() {
        let mut j = String::from(
            r##"{"Event":{"System":{"EventID":4624,"Channel":"Security","TimeCreated":{"#attributes":{"SystemTime":"2019-03-19T23:34:33Z"}}},"EventData":"##,
        );
        j.push_str(&"{\"a\":".repeat(60));
        j.push('1');
        j.push_str(&"}".repeat(60));
        j.push_str("}}");
        let raw = parse_json_record(j.as_bytes()).unwrap();
        assert!(raw.fields.truncated > 0);
    }
}
