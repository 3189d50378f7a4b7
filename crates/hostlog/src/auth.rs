//! Linux auth logs to logons: sshd, sudo and su messages folded per sshd session (host and
//! process id) into [`Logon`] and [`HostEvent`] records.
//!
//! A single sshd line does not always say whether a login failed: `Failed publickey` for a
//! valid user is normal (clients try each key), a `pam_unix` failure is followed by
//! sshd's own line, and some messages (`Too many authentication failures`, kex errors) do not
//! name the peer, which an earlier `Connection from` line of the same process did. The
//! [`AuthTracker`] keeps that little state per session — bounded by [`MAX_SESSIONS`], oldest
//! evicted first — and emits one failed logon per failed attempt, with the peer, at the
//! line that settles it. Pure: no I/O, time from the lines.

use crate::syslog::{
    AuthProgram, Peer, SshdKind, SshdMessage, SyslogLine, auth_program, parse_sshd_message,
    parse_su_message, parse_sudo_message,
};
use sekisho_event::{
    Fields, HostEvent, HostEventKind, HostOrigin, HostRecord, HostSource, Logon, LogonAction,
    Outcome, Timestamp,
};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// sshd sessions tracked at once; the oldest is forgotten past this.
pub const MAX_SESSIONS: usize = 16_384;
/// Users remembered per session (for "tried another account" failures).
const MAX_USERS_PER_SESSION: usize = 8;

#[derive(Clone, Debug, Default)]
struct Session {
    ip: Option<IpAddr>,
    name: Option<String>,
    port: Option<u16>,
    /// A failure whose peer or verdict is not known yet: (time, user, reason).
    pending: Option<(Timestamp, Option<String>, &'static str)>,
    /// Users named by failed or deferred attempts.
    users: Vec<String>,
    /// An authentication failure was emitted: a later pre-auth disconnect is the same
    /// attempt, not a new one.
    auth_failed: bool,
    /// `maximum authentication attempts` or `Too many authentication failures` was seen:
    /// sshd logs both for one event.
    too_many: bool,
}

impl Session {
    fn note_user(&mut self, user: Option<&str>) {
        if let Some(u) = user
            && !self.users.iter().any(|x| x == u)
            && self.users.len() < MAX_USERS_PER_SESSION
        {
            self.users.push(u.to_string());
        }
    }

    fn peer_known(&self) -> bool {
        self.ip.is_some() || self.name.is_some()
    }
}

/// A session's key: the hash of the host name and the sshd process id. A hash rather than
/// the name saves an allocation per line (the hot path of auth log parsing); two names
/// colliding (one chance in 2^64) would only merge their sessions.
type SessionKey = (u64, u32);

/// Folds auth log lines into logons. One tracker per input stream (lines in order).
#[derive(Debug, Default)]
pub struct AuthTracker {
    sessions: HashMap<SessionKey, Session>,
    order: VecDeque<SessionKey>,
    /// Seeds the host-name hash of [`SessionKey`] (per tracker, so names cannot be crafted
    /// to collide).
    hasher: std::hash::RandomState,
    /// Sessions forgotten because of [`MAX_SESSIONS`].
    pub evicted: u64,
}

impl AuthTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles one split syslog line; pushes what it settles to `out`. Returns whether the
    /// line was from a program we read (sshd, sudo, su) — others are the caller's to skip.
    pub fn push(
        &mut self,
        line: &SyslogLine<'_>,
        ts: Timestamp,
        origin: &HostOrigin,
        out: &mut Vec<HostRecord>,
    ) -> bool {
        match auth_program(line.program) {
            Some(AuthProgram::Sshd) => {
                if let Some(m) = parse_sshd_message(line.message) {
                    self.sshd(line, ts, origin, &m, out);
                }
                true
            }
            Some(AuthProgram::Sudo) => {
                if let Some(p) = parse_sudo_message(line.message) {
                    if p.auth && !p.success {
                        out.push(priv_logon(HostSource::Sudo, line, ts, origin, &p));
                    } else if p.command.is_some() || !p.success {
                        let mut e =
                            HostEvent::new(ts, HostSource::Sudo, HostEventKind::SudoCommand);
                        e.host = line.host.map(str::to_string);
                        e.user = p.by.map(str::to_string);
                        e.target_user = p.target.map(str::to_string);
                        e.command = p.command.map(str::to_string);
                        e.outcome = Some(if p.success {
                            Outcome::Success
                        } else {
                            Outcome::Failure
                        });
                        e.channel = Some("auth".into());
                        e.origin = origin.clone();
                        e.fields = priv_fields(line, &p);
                        out.push(HostRecord::Event(e));
                    }
                }
                true
            }
            Some(AuthProgram::Su) => {
                if let Some(p) = parse_su_message(line.message) {
                    if p.auth {
                        out.push(priv_logon(HostSource::Su, line, ts, origin, &p));
                    } else {
                        let mut e = HostEvent::new(ts, HostSource::Su, HostEventKind::SuSession);
                        e.host = line.host.map(str::to_string);
                        e.user = p.by.map(str::to_string);
                        e.target_user = p.target.map(str::to_string);
                        e.outcome = Some(if p.success {
                            Outcome::Success
                        } else {
                            Outcome::Failure
                        });
                        e.channel = Some("auth".into());
                        e.origin = origin.clone();
                        e.fields = priv_fields(line, &p);
                        out.push(HostRecord::Event(e));
                    }
                }
                true
            }
            None => false,
        }
    }

    fn key(&self, host: &str, pid: u32) -> SessionKey {
        use std::hash::BuildHasher;
        (self.hasher.hash_one(host), pid)
    }

    fn session(&mut self, host: &str, pid: u32) -> &mut Session {
        let key = self.key(host, pid);
        if !self.sessions.contains_key(&key) {
            if self.sessions.len() >= MAX_SESSIONS
                && let Some(old) = self.order.pop_front()
            {
                self.sessions.remove(&old);
                self.evicted += 1;
            }
            self.order.push_back(key);
        }
        self.sessions.entry(key).or_default()
    }

    fn end(&mut self, host: &str, pid: u32) {
        // The order queue keeps the key until it reaches the front; removal there is a no-op.
        let key = self.key(host, pid);
        self.sessions.remove(&key);
        if self.order.len() > 2 * MAX_SESSIONS {
            let live = &self.sessions;
            self.order.retain(|k| live.contains_key(k));
        }
    }

    fn sshd(
        &mut self,
        line: &SyslogLine<'_>,
        ts: Timestamp,
        origin: &HostOrigin,
        m: &SshdMessage<'_>,
        out: &mut Vec<HostRecord>,
    ) {
        let host = line.host.unwrap_or("");
        let mut scratch = Session::default();
        let tracked = line.pid.is_some();
        let pid = line.pid.unwrap_or(0);
        let s: &mut Session = if tracked {
            self.session(host, pid)
        } else {
            &mut scratch
        };
        match &m.peer {
            Some(Peer::Ip(ip)) => {
                s.ip = Some(*ip);
                s.name = None;
            }
            Some(Peer::Name(n)) => {
                s.name = Some((*n).to_string());
                s.ip = None;
            }
            None => {}
        }
        if m.port.is_some() {
            s.port = m.port;
        }
        let user = m.user;
        let emit = |s: &mut Session,
                    out: &mut Vec<HostRecord>,
                    outcome,
                    action,
                    reason: &str,
                    user: Option<&str>,
                    auth: Option<&str>| {
            out.push(HostRecord::Logon(sshd_logon(
                line, ts, origin, s, outcome, action, reason, user, auth,
            )));
        };
        let mut ended = false;
        match &m.kind {
            SshdKind::ConnectionFrom => {
                // A new connection: whatever the process id did before is another session.
                let (ip, name, port) = (s.ip, s.name.clone(), s.port);
                *s = Session {
                    ip,
                    name,
                    port,
                    ..Session::default()
                };
            }
            SshdKind::Accepted { method } => {
                // Failed attempts at *other* accounts before this success are failures
                // (an intruder trying names, then one that works); at this account they
                // were typos or key probing.
                if s.users.iter().any(|u| Some(u.as_str()) != user) {
                    emit(
                        s,
                        out,
                        Outcome::Failure,
                        LogonAction::Logon,
                        "other-user-attempts",
                        user,
                        Some(method),
                    );
                }
                s.pending = None;
                s.users.clear();
                emit(
                    s,
                    out,
                    Outcome::Success,
                    LogonAction::Logon,
                    "accepted",
                    user,
                    Some(method),
                );
            }
            SshdKind::Failed {
                method,
                invalid_user,
            } if *method == "publickey" && !*invalid_user => {
                // Clients offer each key in turn; only a session that never succeeds fails.
                s.pending = Some((ts, user.map(str::to_string), "publickey"));
                s.note_user(user);
            }
            SshdKind::PamUnixAuthFailure => {
                let other = user.is_some_and(|u| s.users.iter().any(|x| x != u));
                s.note_user(user);
                if other && s.peer_known() {
                    s.pending = None;
                    s.auth_failed = true;
                    emit(
                        s,
                        out,
                        Outcome::Failure,
                        LogonAction::Logon,
                        "other-user-attempts",
                        user,
                        Some("password"),
                    );
                } else {
                    s.pending = Some((ts, user.map(str::to_string), "pam-auth-failure"));
                }
            }
            SshdKind::TooManyFailures | SshdKind::MaxAttempts if s.too_many => {}
            SshdKind::Failed { .. }
            | SshdKind::InvalidUser
            | SshdKind::PamError
            | SshdKind::NotAllowed
            | SshdKind::Refused
            | SshdKind::MaxAttempts
            | SshdKind::TooManyFailures
            | SshdKind::RefusedUser => {
                if matches!(m.kind, SshdKind::MaxAttempts | SshdKind::TooManyFailures) {
                    s.too_many = true;
                }
                s.auth_failed = true;
                s.note_user(user);
                let method = match &m.kind {
                    SshdKind::Failed { method, .. } => Some(*method),
                    _ => None,
                };
                if s.peer_known() {
                    s.pending = None;
                    emit(
                        s,
                        out,
                        Outcome::Failure,
                        LogonAction::Logon,
                        m.kind.as_str(),
                        user,
                        method,
                    );
                } else {
                    s.pending = Some((ts, user.map(str::to_string), m.kind.as_str()));
                }
            }
            SshdKind::ProtocolError => {
                if s.peer_known() {
                    s.pending = None;
                    emit(
                        s,
                        out,
                        Outcome::Failure,
                        LogonAction::Logon,
                        "protocol-error",
                        user,
                        None,
                    );
                } else {
                    s.pending = Some((ts, None, "protocol-error"));
                }
            }
            SshdKind::PreauthClose => {
                if let Some((_, u, reason)) = s.pending.take() {
                    emit(
                        s,
                        out,
                        Outcome::Failure,
                        LogonAction::Logon,
                        reason,
                        u.as_deref().or(user),
                        None,
                    );
                } else if !s.auth_failed {
                    emit(
                        s,
                        out,
                        Outcome::Failure,
                        LogonAction::Logon,
                        "preauth-disconnect",
                        user,
                        None,
                    );
                }
                ended = true;
            }
            SshdKind::Close => {
                if let Some((_, u, reason)) = s.pending.take()
                    && reason != "pam-auth-failure"
                    && reason != "publickey"
                {
                    emit(
                        s,
                        out,
                        Outcome::Failure,
                        LogonAction::Logon,
                        reason,
                        u.as_deref(),
                        None,
                    );
                }
                ended = true;
            }
            SshdKind::Logoff | SshdKind::SessionClosed => {
                emit(
                    s,
                    out,
                    Outcome::Success,
                    LogonAction::Logoff,
                    m.kind.as_str(),
                    user,
                    None,
                );
                ended = matches!(m.kind, SshdKind::Logoff);
            }
            SshdKind::SessionOpened => {}
        }
        if tracked && ended {
            self.end(host, pid);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn sshd_logon(
    line: &SyslogLine<'_>,
    ts: Timestamp,
    origin: &HostOrigin,
    s: &Session,
    outcome: Outcome,
    action: LogonAction,
    reason: &str,
    user: Option<&str>,
    auth: Option<&str>,
) -> Logon {
    let mut fields = Fields::default();
    fields.push("program", line.program);
    fields.push("message", line.message);
    Logon {
        ts,
        source: HostSource::Sshd,
        event_id: None,
        action,
        outcome,
        user: user.map(str::to_string),
        domain: None,
        logon_type: None,
        auth: auth.map(str::to_string),
        source_ip: s.ip,
        source_port: s.port,
        source_host: s.name.clone(),
        host: line.host.map(str::to_string),
        host_ip: None,
        process: Some(line.program.to_string()),
        session: line.pid.map(|p| p.to_string()),
        reason: (outcome == Outcome::Failure).then(|| reason.to_string()),
        channel: Some("auth".into()),
        record_id: None,
        origin: origin.clone(),
        fields,
    }
}

fn priv_fields(line: &SyslogLine<'_>, p: &crate::syslog::PrivMessage<'_>) -> Fields {
    let mut f = Fields::default();
    f.push("program", line.program);
    if let Some(t) = p.tty {
        f.push("tty", t);
    }
    if let Some(r) = p.reason {
        f.push("reason", r);
    }
    f.push("message", line.message);
    f
}

fn priv_logon(
    source: HostSource,
    line: &SyslogLine<'_>,
    ts: Timestamp,
    origin: &HostOrigin,
    p: &crate::syslog::PrivMessage<'_>,
) -> HostRecord {
    let outcome = if p.success {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    HostRecord::Logon(Logon {
        ts,
        source,
        event_id: None,
        action: LogonAction::Logon,
        outcome,
        user: p.target.map(str::to_string),
        domain: None,
        logon_type: None,
        auth: None,
        source_ip: None,
        source_port: None,
        source_host: None,
        host: line.host.map(str::to_string),
        host_ip: None,
        process: Some(line.program.to_string()),
        session: line.pid.map(|p| p.to_string()),
        reason: p.reason.map(str::to_string),
        channel: Some("auth".into()),
        record_id: None,
        origin: origin.clone(),
        fields: priv_fields(line, p),
    })
}
