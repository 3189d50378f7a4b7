//! Host evidence: logons and other security-relevant host events, from Windows event logs
//! (EVTX or the JSON that Winlogbeat and `evtx_dump` write) and Linux auth logs (sshd, sudo,
//! su).
//!
//! Each event carries the typed fields detectors use most, plus a bounded list of
//! `(name, value)` pairs with everything the source's `EventData`/`UserData` said, so that a
//! rule engine (Sigma) can read any field by its Windows name (`TargetUserName`,
//! `IpAddress`, `CommandLine`, ...). Strings are as the log wrote them: attacker controlled,
//! escape before display.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// Where a host event came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostSource {
    /// A Windows event log record (EVTX, or Winlogbeat/`evtx_dump` JSON); see `event_id`.
    Evtx,
    /// OpenSSH's `sshd` (syslog or journal).
    Sshd,
    /// `sudo`.
    Sudo,
    /// `su`.
    Su,
}

impl HostSource {
    /// Stable name (`evtx`, `sshd`, `sudo`, `su`).
    pub fn as_str(self) -> &'static str {
        match self {
            HostSource::Evtx => "evtx",
            HostSource::Sshd => "sshd",
            HostSource::Sudo => "sudo",
            HostSource::Su => "su",
        }
    }
}

/// Whether an authentication succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    /// `success` or `failure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// What a logon record says happened to the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogonAction {
    /// A logon attempt (4624, 4625, sshd accepted/failed, sudo/su auth).
    Logon,
    /// The end of a session (4634, 4647, sshd disconnect/session closed).
    Logoff,
}

/// A bounded list of `(field name, value)` pairs, in the order the source gave them.
///
/// Holds what a Windows record's `EventData`/`UserData` (or an auth log line) said, so a rule
/// engine can look fields up by name. At most [`Fields::MAX_FIELDS`] pairs and
/// [`Fields::MAX_VALUE`] bytes per value are kept (cut at a character boundary); what is cut
/// is counted in `truncated`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fields {
    pub pairs: Vec<(String, String)>,
    /// Pairs dropped or values shortened because of the caps.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub truncated: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Fields {
    /// Cap on pairs kept per event.
    pub const MAX_FIELDS: usize = 64;
    /// Cap on a value's length in bytes.
    pub const MAX_VALUE: usize = 2048;
    /// Cap on a field name's length in bytes.
    pub const MAX_NAME: usize = 128;

    /// Adds a pair, respecting the caps.
    pub fn push(&mut self, name: &str, value: &str) {
        if self.pairs.len() >= Self::MAX_FIELDS {
            self.truncated = self.truncated.saturating_add(1);
            return;
        }
        let (name, cut_n) = cut(name, Self::MAX_NAME);
        let (value, cut_v) = cut(value, Self::MAX_VALUE);
        if cut_n || cut_v {
            self.truncated = self.truncated.saturating_add(1);
        }
        self.pairs.push((name.to_string(), value.to_string()));
    }

    /// The first value of a field, by exact name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a field, by name ignoring ASCII case (Sigma matches field names
    /// case-insensitively in practice).
    pub fn get_ignore_case(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }
}

/// `s` cut to at most `max` bytes at a character boundary, and whether it was cut.
pub fn cut(s: &str, max: usize) -> (&str, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    (s.get(..end).unwrap_or(""), true)
}

/// Where a host record was read: file (or sensor) and position, so that a finding can point
/// at its evidence.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostOrigin {
    /// File path as given, or the sensor/agent name for shipped logs.
    pub file: String,
    /// 1-based line for text inputs; 0 for EVTX (see `record_id`).
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub line: u64,
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

/// A logon, failed logon or logoff on a host.
///
/// `host` is the machine where the logon happened (the event's `Computer`, or the syslog
/// host name); `source_*` is where the user came from. Fields the source did not say are
/// `None`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Logon {
    pub ts: Timestamp,
    pub source: HostSource,
    /// Windows event id (4624, 4625, 4634, 4647); `None` for Linux sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<u32>,
    pub action: LogonAction,
    pub outcome: Outcome,
    /// The account logged on to (`TargetUserName`, the sshd user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Windows logon type (2 interactive, 3 network, 10 remote interactive, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logon_type: Option<u8>,
    /// Authentication package or method: `NTLM`, `Kerberos`, `Negotiate`; sshd's `password`,
    /// `publickey`, `keyboard-interactive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_port: Option<u16>,
    /// The client's name (`WorkstationName`, or a DNS name sshd logged instead of an
    /// address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_host: Option<String>,
    /// The host logged on to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The address logged on to, when the log says it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<IpAddr>,
    /// The process that handled the logon (`ProcessName`, `sshd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// Windows `TargetLogonId`, or the sshd process id: joins logon to logoff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Why it failed (`Status`/`SubStatus`, sshd's reason: `invalid-user`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Windows channel (`Security`); `auth` for syslog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// `EventRecordID` in its channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<u64>,
    pub origin: HostOrigin,
    /// Every field the source gave, by name.
    #[serde(default, skip_serializing_if = "Fields::is_empty")]
    pub fields: Fields,
}

impl Logon {
    /// The label logon summaries group by: the event id (`4624`) or the source (`sshd`).
    pub fn kind_label(&self) -> String {
        match self.event_id {
            Some(id) => id.to_string(),
            None => self.source.as_str().to_string(),
        }
    }
}

/// What a [`HostEvent`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostEventKind {
    /// 7045: a service was installed.
    ServiceInstalled,
    /// 1102 (Security) or 104 (System): an event log was cleared.
    LogCleared,
    /// 4720: a user account was created.
    AccountCreated,
    /// 4732 (also 4728, 4756): a member was added to a security group.
    GroupMemberAdded,
    /// 4648: a logon was attempted with explicit credentials.
    ExplicitCredentials,
    /// 4672: special privileges were assigned to a new logon (an admin logon).
    SpecialPrivileges,
    /// 4768: a Kerberos TGT was requested.
    KerberosTgt,
    /// 4769: a Kerberos service ticket was requested.
    KerberosServiceTicket,
    /// 4771: Kerberos pre-authentication failed.
    KerberosPreauthFailed,
    /// 4776: the domain controller validated NTLM credentials.
    NtlmValidation,
    /// 1149 (RemoteConnectionManager): RDP network authentication succeeded.
    RdpAuthSucceeded,
    /// 21 (LocalSessionManager): RDP session logon succeeded.
    RdpSessionLogon,
    /// 22: RDP shell start notification received.
    RdpShellStart,
    /// 24: RDP session disconnected.
    RdpSessionDisconnected,
    /// 25: RDP session reconnected.
    RdpSessionReconnected,
    /// 4778: a session was reconnected to a window station.
    SessionReconnected,
    /// 4779: a session was disconnected from a window station.
    SessionDisconnected,
    /// Sysmon 1: process created.
    ProcessCreated,
    /// Sysmon 3: network connection.
    NetworkConnection,
    /// 4719: system audit policy was changed.
    AuditPolicyChanged,
    /// A command run through `sudo`.
    SudoCommand,
    /// A session opened (or refused) by `su`.
    SuSession,
    /// A Windows record of no kind above, kept whole for rule engines (Sigma) when the
    /// reader is asked to keep every record.
    Other,
}

impl HostEventKind {
    /// Stable kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            HostEventKind::ServiceInstalled => "service-installed",
            HostEventKind::LogCleared => "log-cleared",
            HostEventKind::AccountCreated => "account-created",
            HostEventKind::GroupMemberAdded => "group-member-added",
            HostEventKind::ExplicitCredentials => "explicit-credentials",
            HostEventKind::SpecialPrivileges => "special-privileges",
            HostEventKind::KerberosTgt => "kerberos-tgt",
            HostEventKind::KerberosServiceTicket => "kerberos-service-ticket",
            HostEventKind::KerberosPreauthFailed => "kerberos-preauth-failed",
            HostEventKind::NtlmValidation => "ntlm-validation",
            HostEventKind::RdpAuthSucceeded => "rdp-auth-succeeded",
            HostEventKind::RdpSessionLogon => "rdp-session-logon",
            HostEventKind::RdpShellStart => "rdp-shell-start",
            HostEventKind::RdpSessionDisconnected => "rdp-session-disconnected",
            HostEventKind::RdpSessionReconnected => "rdp-session-reconnected",
            HostEventKind::SessionReconnected => "session-reconnected",
            HostEventKind::SessionDisconnected => "session-disconnected",
            HostEventKind::ProcessCreated => "process-created",
            HostEventKind::NetworkConnection => "network-connection",
            HostEventKind::AuditPolicyChanged => "audit-policy-changed",
            HostEventKind::SudoCommand => "sudo-command",
            HostEventKind::SuSession => "su-session",
            HostEventKind::Other => "other",
        }
    }
}

impl fmt::Display for HostEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A security-relevant host event other than a logon.
///
/// The typed fields are the ones most detectors need, filled where the event has them
/// (`user` is the account acted upon or acting — see each kind's Windows fields in
/// `fields`); everything else is in `fields` by its source name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostEvent {
    pub ts: Timestamp,
    pub source: HostSource,
    pub kind: HostEventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<u32>,
    /// The provider (`Microsoft-Windows-Security-Auditing`, `Service Control Manager`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The host the event was logged on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<u64>,
    /// The account that acted (`SubjectUserName`, the sudo/su caller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// The account acted upon (`TargetUserName`, the sudo/su target user, the new account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_user: Option<String>,
    /// A server or host name the event names (`TargetServerName`, `ServiceName` of a
    /// ticket, the client name of an RDP session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_port: Option<u16>,
    /// Process image (Sysmon `Image`, 4648 `ProcessName`) or service binary (7045
    /// `ImagePath`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// Command line (Sysmon `CommandLine`, the sudo `COMMAND`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// A name the event is about: service name, group name, log name cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Whether the action succeeded, when the event says (Kerberos, NTLM, sudo, su).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    pub origin: HostOrigin,
    #[serde(default, skip_serializing_if = "Fields::is_empty")]
    pub fields: Fields,
}

impl HostEvent {
    /// An event of `kind` at `ts` with every optional field empty.
    pub fn new(ts: Timestamp, source: HostSource, kind: HostEventKind) -> Self {
        HostEvent {
            ts,
            source,
            kind,
            event_id: None,
            provider: None,
            channel: None,
            host: None,
            record_id: None,
            user: None,
            domain: None,
            target_user: None,
            target_host: None,
            source_ip: None,
            source_port: None,
            dest_ip: None,
            dest_port: None,
            process: None,
            command: None,
            object: None,
            outcome: None,
            origin: HostOrigin::default(),
            fields: Fields::default(),
        }
    }
}

/// One normalised host record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HostRecord {
    Logon(Logon),
    Event(HostEvent),
}

impl HostRecord {
    pub fn ts(&self) -> Timestamp {
        match self {
            HostRecord::Logon(l) => l.ts,
            HostRecord::Event(e) => e.ts,
        }
    }

    /// Every field the source gave, by name.
    pub fn fields(&self) -> &Fields {
        match self {
            HostRecord::Logon(l) => &l.fields,
            HostRecord::Event(e) => &e.fields,
        }
    }

    /// The Windows event id; `None` for Linux sources.
    pub fn event_id(&self) -> Option<u32> {
        match self {
            HostRecord::Logon(l) => l.event_id,
            HostRecord::Event(e) => e.event_id,
        }
    }

    /// A field of the record's envelope by its Windows `System` name: `Channel`,
    /// `Computer` (the host the record was written on) or `Provider_Name`.
    pub fn system_field(&self, name: &str) -> Option<&str> {
        match (self, name) {
            (HostRecord::Logon(l), "Channel") => l.channel.as_deref(),
            (HostRecord::Event(e), "Channel") => e.channel.as_deref(),
            (HostRecord::Logon(l), "Computer") => l.host.as_deref(),
            (HostRecord::Event(e), "Computer") => e.host.as_deref(),
            (HostRecord::Event(e), "Provider_Name") => e.provider.as_deref(),
            _ => None,
        }
    }

    /// Field lookup by name for rule engines: the source's own fields first, then the
    /// typed ones under their ECS-like names (`user`, `source_ip`, `host`, ...).
    pub fn field(&self, name: &str) -> Option<String> {
        if let Some(v) = self.fields().get(name) {
            return Some(v.to_string());
        }
        let system = match name {
            "host" => "Computer",
            "channel" => "Channel",
            "provider" => "Provider_Name",
            other => other,
        };
        if let Some(v) = self.system_field(system) {
            return Some(v.to_string());
        }
        match (self, name) {
            (_, "EventID" | "event_id") => self.event_id().map(|i| i.to_string()),
            (HostRecord::Logon(l), "user") => l.user.clone(),
            (HostRecord::Event(e), "user") => e.user.clone(),
            (HostRecord::Logon(l), "source_ip") => l.source_ip.map(|i| i.to_string()),
            (HostRecord::Event(e), "source_ip") => e.source_ip.map(|i| i.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_bounded_and_cut_on_char_boundaries() {
        let mut f = Fields::default();
        let long = "é".repeat(Fields::MAX_VALUE);
        f.push("CommandLine", &long);
        assert!(f.get("CommandLine").unwrap().len() <= Fields::MAX_VALUE);
        assert_eq!(f.truncated, 1);
        for i in 0..(Fields::MAX_FIELDS + 3) {
            f.push(&format!("f{i}"), "v");
        }
        assert_eq!(f.len(), Fields::MAX_FIELDS);
        assert_eq!(f.truncated, 5);
        assert_eq!(
            f.get_ignore_case("commandline").map(str::len),
            f.get("CommandLine").map(str::len)
        );
    }

    #[test]
    fn host_record_round_trips_through_json() {
        let mut e = HostEvent::new(
            Timestamp::from_micros(1),
            HostSource::Evtx,
            HostEventKind::LogCleared,
        );
        e.event_id = Some(1102);
        e.fields.push("SubjectUserName", "admin");
        let r = HostRecord::Event(e);
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"kind\":\"log-cleared\""), "{json}");
        assert_eq!(serde_json::from_str::<HostRecord>(&json).unwrap(), r);
        assert_eq!(r.field("SubjectUserName").as_deref(), Some("admin"));
        assert_eq!(r.field("EventID").as_deref(), Some("1102"));
    }

    #[test]
    fn envelope_fields_answer_by_windows_and_ecs_names() {
        let mut e = HostEvent::new(
            Timestamp::from_micros(1),
            HostSource::Evtx,
            HostEventKind::ServiceInstalled,
        );
        e.host = Some("dc1.corp".into());
        e.channel = Some("System".into());
        e.provider = Some("Service Control Manager".into());
        let r = HostRecord::Event(e);
        assert_eq!(r.system_field("Computer"), Some("dc1.corp"));
        assert_eq!(
            r.system_field("Provider_Name"),
            Some("Service Control Manager")
        );
        for (name, want) in [
            ("Computer", "dc1.corp"),
            ("host", "dc1.corp"),
            ("Channel", "System"),
            ("channel", "System"),
            ("provider", "Service Control Manager"),
        ] {
            assert_eq!(r.field(name).as_deref(), Some(want), "{name}");
        }
        // The source's own field of that name wins over the envelope.
        let HostRecord::Event(mut e) = r else {
            unreachable!()
        };
        e.fields.push("Computer", "as-logged");
        assert_eq!(
            HostRecord::Event(e).field("Computer").as_deref(),
            Some("as-logged")
        );
    }
}
