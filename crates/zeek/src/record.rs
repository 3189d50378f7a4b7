//! From a record's fields to a sekisho event.

use crate::LogKind;
use crate::value::{Fields, Slot};
use sekisho_event::{
    AppKind, AppRecord, ConnState, Flow, Proto, RejectReason, Service, Timestamp, Uid,
};
use std::net::IpAddr;
use std::sync::Arc;

/// One event read from a Zeek log.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// A `conn.log` record.
    Flow(Flow),
    /// A record of one of the application logs (rdp, ssh, smb_mapping, smb_files, ntlm,
    /// kerberos, dce_rpc). Boxed: they are rare beside conn records, and a `Record` as
    /// small as a `Flow` moves through the reader without extra copies.
    App(Box<AppRecord>),
}

impl Record {
    /// Zeek's name of the log the record came from (`conn`, `rdp`, ...), the key of
    /// [`sekisho_event::RunStats::parsed_by_log`].
    pub fn log_name(&self) -> &'static str {
        match self {
            Record::Flow(_) => "conn",
            Record::App(app) => app.kind.log_name(),
        }
    }
}

/// Why one line could not be turned into a [`Record`]: the reason that is counted, and a
/// short detail for the report (field name and an escaped prefix of the value, never the
/// whole line).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct RecordError {
    /// What is counted in [`sekisho_event::RunStats::rejected_by_reason`].
    pub reason: RejectReason,
    /// Field name and an escaped prefix of the value (at most 40 bytes), or what was wrong
    /// with the line (`expected 21 fields, found 22`).
    pub detail: String,
}

impl RecordError {
    /// A rejection for `reason`.
    pub fn new(reason: RejectReason, detail: impl Into<String>) -> Self {
        RecordError {
            reason,
            detail: detail.into(),
        }
    }
}

/// The fields every record must have: when, which connection, between which endpoints.
struct Common {
    ts: Timestamp,
    uid: Uid,
    orig_ip: IpAddr,
    orig_port: u16,
    resp_ip: IpAddr,
    resp_port: u16,
}

fn common(f: &Fields<'_>) -> Result<Common, RecordError> {
    let ts = f.ts(Slot::Ts)?;
    let uid = match f.text(Slot::Uid)? {
        None => return Err(crate::value::missing(Slot::Uid)),
        Some(s) if s.is_empty() => return Err(crate::value::missing(Slot::Uid)),
        Some(s) => Uid::new(&s).ok_or_else(|| crate::value::bad(Slot::Uid, s.as_bytes()))?,
    };
    Ok(Common {
        ts,
        uid,
        orig_ip: f.ip(Slot::OrigH)?,
        orig_port: f.port(Slot::OrigP)?,
        resp_ip: f.ip(Slot::RespH)?,
        resp_port: f.port(Slot::RespP)?,
    })
}

/// Builds the event of a record of log `kind`; `Ok(None)` for logs sekisho skips.
pub(crate) fn build(
    kind: &LogKind,
    f: &Fields<'_>,
    sensor: &Arc<str>,
) -> Result<Option<Record>, RecordError> {
    if !kind.is_wanted() {
        return Ok(None);
    }
    let c = common(f)?;
    let app = |kind| {
        Record::App(Box::new(AppRecord {
            ts: c.ts,
            uid: c.uid,
            orig_ip: c.orig_ip,
            orig_port: c.orig_port,
            resp_ip: c.resp_ip,
            resp_port: c.resp_port,
            kind,
        }))
    };
    let record = match kind {
        LogKind::Conn => {
            let proto = match f.text(Slot::Proto)? {
                Some(p) if !p.is_empty() => Proto::from_zeek(p.as_bytes()),
                _ => return Err(crate::value::missing(Slot::Proto)),
            };
            let service = f.text(Slot::Service)?;
            let state = f.text(Slot::ConnState)?;
            Record::Flow(Flow {
                ts: c.ts,
                duration_us: f.interval_us(Slot::Duration)?.unwrap_or(0),
                uid: c.uid,
                orig_ip: c.orig_ip,
                orig_port: c.orig_port,
                resp_ip: c.resp_ip,
                resp_port: c.resp_port,
                proto,
                service: Service::from_zeek(service.as_deref().unwrap_or(""), proto, c.resp_port),
                orig_bytes: f.count(Slot::OrigBytes)?.unwrap_or(0),
                resp_bytes: f.count(Slot::RespBytes)?.unwrap_or(0),
                orig_pkts: f.count(Slot::OrigPkts)?.unwrap_or(0),
                resp_pkts: f.count(Slot::RespPkts)?.unwrap_or(0),
                state: state
                    .as_deref()
                    .map_or(ConnState::Unknown, ConnState::from_zeek),
                sensor: Arc::clone(sensor),
            })
        }
        LogKind::Rdp => app(AppKind::Rdp {
            cookie: f.string(Slot::Cookie)?,
            result: f.string(Slot::Result)?,
            security_protocol: f.string(Slot::SecurityProtocol)?,
            client_name: f.string(Slot::ClientName)?,
        }),
        LogKind::Ssh => app(AppKind::Ssh {
            auth_success: f.bool(Slot::AuthSuccess)?,
            auth_attempts: f.count(Slot::AuthAttempts)?,
            client: f.string(Slot::Client)?,
            server: f.string(Slot::Server)?,
        }),
        LogKind::SmbMapping => app(AppKind::SmbMapping {
            path: f.string(Slot::Path)?,
            share_type: f.string(Slot::ShareType)?,
        }),
        LogKind::SmbFiles => app(AppKind::SmbFiles {
            action: f.string(Slot::Action)?,
            path: f.string(Slot::Path)?,
            name: f.string(Slot::Name)?,
            size: f.count(Slot::Size)?,
        }),
        LogKind::Ntlm => app(AppKind::Ntlm {
            username: f.string(Slot::Username)?,
            hostname: f.string(Slot::Hostname)?,
            domainname: f.string(Slot::Domainname)?,
            success: f.bool(Slot::Success)?,
        }),
        LogKind::Kerberos => app(AppKind::Kerberos {
            request_type: f.string(Slot::RequestType)?,
            client: f.string(Slot::Client)?,
            service: f.string(Slot::Service)?,
            success: f.bool(Slot::Success)?,
        }),
        LogKind::DceRpc => app(AppKind::DceRpc {
            endpoint: f.string(Slot::Endpoint)?,
            operation: f.string(Slot::Operation)?,
        }),
        LogKind::Other(_) => return Ok(None),
    };
    Ok(Some(record))
}

/// The log a record belongs to when neither the file nor the record names it. Among the
/// logs sekisho reads only conn has `conn_state`; anything else is skipped rather than
/// misread (a dns record also has `proto`, so that field would not do).
pub(crate) fn guess_kind(has_conn_state: bool) -> LogKind {
    if has_conn_state {
        LogKind::Conn
    } else {
        LogKind::Other("unknown".to_string())
    }
}
