//! Syslog lines (RFC 3164 with year inference, RFC 5424, rsyslog's RFC 3339 form, and the
//! untimed `host prog[pid]: msg` form) split into header and message, and the messages of
//! `sshd`, `sudo` and `su` classified.
//!
//! Pure functions over bytes: no I/O, no clock. The year of an RFC 3164 line comes from the
//! caller's [`SyslogContext`], never from the machine's clock.

use crate::winevent::parse_ip;
use sekisho_event::Timestamp;
use std::net::IpAddr;

/// What the caller knows that a syslog line does not say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyslogContext {
    /// The year the log was written up to (from the file's modification time, the archive's
    /// name, or the user).
    pub year: i32,
    /// The month (1..=12) the log was written up to: lines dated in a later month belong to
    /// the year before (a log that spans New Year).
    pub month: u32,
    /// Offset of the writer's local time from UTC, in seconds, for lines without a zone.
    pub utc_offset_secs: i32,
}

impl Default for SyslogContext {
    fn default() -> Self {
        SyslogContext {
            year: 1970,
            month: 12,
            utc_offset_secs: 0,
        }
    }
}

/// A syslog line split into its parts. Borrowed from the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyslogLine<'a> {
    /// `None` for the untimed form (journal short output without time).
    pub ts: Option<Timestamp>,
    pub host: Option<&'a str>,
    pub program: &'a str,
    pub pid: Option<u32>,
    pub message: &'a str,
}

/// Why a line could not be split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SyslogError {
    #[error("empty line")]
    Empty,
    #[error("not valid UTF-8")]
    InvalidUtf8,
    #[error("no readable timestamp")]
    BadTimestamp,
    #[error("no program tag")]
    NoProgram,
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Splits a timed syslog line: RFC 3164 (`Jun 21 16:47:48 host sshd[13709]: msg`, with or
/// without `<PRI>`, host optional), RFC 5424 (`<38>1 2019-07-08T17:40:16.95-04:00 host sshd
/// 57915 - - msg`) or rsyslog's `2015-04-16T18:02:50.32+00:00 host sshd[2716]: msg`.
pub fn parse_syslog_line<'a>(
    line: &'a [u8],
    ctx: &SyslogContext,
) -> Result<SyslogLine<'a>, SyslogError> {
    let line = std::str::from_utf8(line).map_err(|_| SyslogError::InvalidUtf8)?;
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Err(SyslogError::Empty);
    }
    // `<PRI>` is optional in files; RFC 5424 puts a version right after it.
    let mut rest = line;
    if let Some(r) = rest.strip_prefix('<')
        && let Some(end) = r.find('>')
        && end <= 3
        && r.as_bytes()[..end].iter().all(u8::is_ascii_digit)
    {
        rest = &r[end + 1..];
        if let Some(r5424) = rest.strip_prefix("1 ") {
            return parse_5424(r5424);
        }
    }
    let b = rest.as_bytes();
    if b.first().is_some_and(u8::is_ascii_digit) {
        // RFC 3339 time as the first token.
        let (tok, after) = split_token(rest);
        let ts = Timestamp::parse_rfc3339(tok).ok_or(SyslogError::BadTimestamp)?;
        return parse_tag(Some(ts), after);
    }
    let (ts, after) = parse_3164_time(rest, ctx)?;
    parse_tag(Some(ts), after)
}

/// Splits an untimed line, `host prog[pid]: msg`, as journalctl's short output without
/// time (and fail2ban's journal fixtures) write it.
pub fn parse_untimed_line(line: &[u8]) -> Result<SyslogLine<'_>, SyslogError> {
    let line = std::str::from_utf8(line).map_err(|_| SyslogError::InvalidUtf8)?;
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Err(SyslogError::Empty);
    }
    parse_tag(None, line)
}

fn split_token(s: &str) -> (&str, &str) {
    let s = s.trim_start_matches(' ');
    match s.find(' ') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    }
}

fn parse_3164_time<'a>(
    s: &'a str,
    ctx: &SyslogContext,
) -> Result<(Timestamp, &'a str), SyslogError> {
    let b = s.as_bytes();
    let mon = b.get(..3).ok_or(SyslogError::BadTimestamp)?;
    let month = MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(mon))
        .ok_or(SyslogError::BadTimestamp)? as u32
        + 1;
    let mut i = 3;
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    let mut day = 0u32;
    let start = i;
    while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
        day = day * 10 + u32::from(d - b'0');
        i += 1;
        if i - start > 2 {
            return Err(SyslogError::BadTimestamp);
        }
    }
    if i == start || b.get(i) != Some(&b' ') {
        return Err(SyslogError::BadTimestamp);
    }
    i += 1;
    let two = |at: usize| -> Option<u32> {
        let x = b.get(at)?;
        let y = b.get(at + 1)?;
        (x.is_ascii_digit() && y.is_ascii_digit())
            .then(|| u32::from(x - b'0') * 10 + u32::from(y - b'0'))
    };
    let hh = two(i).ok_or(SyslogError::BadTimestamp)?;
    let mm = two(i + 3).ok_or(SyslogError::BadTimestamp)?;
    let ss = two(i + 6).ok_or(SyslogError::BadTimestamp)?;
    if b.get(i + 2) != Some(&b':') || b.get(i + 5) != Some(&b':') {
        return Err(SyslogError::BadTimestamp);
    }
    i += 8;
    // Optional fraction (`.123456`), as some daemons add.
    let mut micros = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let mut scale = 100_000i64;
        while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
            micros += i64::from(d - b'0') * scale;
            scale /= 10;
            i += 1;
        }
    }
    // A log written up to `ctx.month` cannot hold later months of the same year.
    let year = if month > ctx.month {
        ctx.year - 1
    } else {
        ctx.year
    };
    let date =
        chrono::NaiveDate::from_ymd_opt(year, month, day).ok_or(SyslogError::BadTimestamp)?;
    let dt = date
        .and_hms_opt(hh, mm, ss)
        .ok_or(SyslogError::BadTimestamp)?;
    let secs = dt.and_utc().timestamp() - i64::from(ctx.utc_offset_secs);
    let ts = Timestamp::from_micros(
        secs.checked_mul(Timestamp::SECOND)
            .and_then(|m| m.checked_add(micros))
            .ok_or(SyslogError::BadTimestamp)?,
    );
    Ok((ts, s.get(i..).unwrap_or("")))
}

/// `[host] tag[: ]message` after the time.
fn parse_tag(ts: Option<Timestamp>, s: &str) -> Result<SyslogLine<'_>, SyslogError> {
    let (first, after_first) = split_token(s);
    if first.is_empty() {
        return Err(SyslogError::NoProgram);
    }
    // With no host, the first token is the tag itself: `sshd[8148]:` or `[sshd]`.
    let (host, tag, rest) =
        if first.ends_with(':') || first.starts_with('[') || looks_like_tag(first) {
            (None, first, after_first)
        } else {
            let (tag, rest) = split_token(after_first);
            (Some(first), tag, rest)
        };
    let tag = tag.strip_suffix(':').unwrap_or(tag);
    let (program, pid) = if let Some(inner) = tag.strip_prefix('[') {
        (inner.strip_suffix(']').unwrap_or(inner), None)
    } else if let Some(open) = tag.find('[') {
        let pid = tag
            .get(open + 1..)
            .and_then(|p| p.strip_suffix(']'))
            .and_then(|p| p.parse().ok());
        (&tag[..open], pid)
    } else {
        (tag, None)
    };
    if program.is_empty() {
        return Err(SyslogError::NoProgram);
    }
    Ok(SyslogLine {
        ts,
        host,
        program,
        pid,
        message: rest,
    })
}

fn looks_like_tag(tok: &str) -> bool {
    tok.ends_with(']') && tok.contains('[')
}

fn parse_5424(s: &str) -> Result<SyslogLine<'_>, SyslogError> {
    let (time, s) = split_token(s);
    let ts = Timestamp::parse_rfc3339(time).ok_or(SyslogError::BadTimestamp)?;
    let (host, s) = split_token(s);
    let (app, s) = split_token(s);
    let (procid, s) = split_token(s);
    let (_msgid, s) = split_token(s);
    // Structured data: `-` or one or more `[id k="v" ...]`, values may hold `]` in quotes.
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i = 1;
    } else {
        while b.get(i) == Some(&b'[') {
            let mut in_quotes = false;
            i += 1;
            loop {
                match b.get(i) {
                    None => return Err(SyslogError::NoProgram),
                    Some(b'\\') => i += 2,
                    Some(b'"') => {
                        in_quotes = !in_quotes;
                        i += 1;
                    }
                    Some(b']') if !in_quotes => {
                        i += 1;
                        break;
                    }
                    Some(_) => i += 1,
                }
            }
        }
    }
    let msg = s.get(i..).unwrap_or("").trim_start_matches(' ');
    let msg = msg.strip_prefix('\u{feff}').unwrap_or(msg);
    let nil = |v: &'_ str| v != "-" && !v.is_empty();
    if !nil(app) {
        return Err(SyslogError::NoProgram);
    }
    Ok(SyslogLine {
        ts: Some(ts),
        host: nil(host).then_some(host),
        program: app,
        pid: procid.parse().ok(),
        message: msg,
    })
}

// ---------------------------------------------------------------------------------------
// Messages.

/// Which daemon a program name is, for the ones we read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthProgram {
    Sshd,
    Sudo,
    Su,
}

/// `sshd`, `sshd-session`, `sshd-auth` (OpenSSH 9.8+ splits sshd), `sudo`, `su`.
pub fn auth_program(program: &str) -> Option<AuthProgram> {
    match program {
        "sshd" | "sshd-session" | "sshd-auth" => Some(AuthProgram::Sshd),
        "sudo" => Some(AuthProgram::Sudo),
        "su" => Some(AuthProgram::Su),
        _ => None,
    }
}

/// A host as sshd logs it: an address (`::ffff:` stripped) or, with `UseDNS`, a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peer<'a> {
    Ip(IpAddr),
    Name(&'a str),
}

impl<'a> Peer<'a> {
    fn of(s: &'a str) -> Option<Self> {
        let s = s.trim_end_matches([':', ',', ';']);
        if s.is_empty() {
            return None;
        }
        Some(match parse_ip(s) {
            Some(ip) => Peer::Ip(ip),
            None => Peer::Name(s),
        })
    }
}

/// What an sshd message says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SshdKind<'a> {
    /// `Accepted <method> for <user> from <peer> port <n>`.
    Accepted { method: &'a str },
    /// `Failed <method> for [invalid user ]<user> from <peer>`.
    Failed { method: &'a str, invalid_user: bool },
    /// `Invalid user <user> from <peer>`.
    InvalidUser,
    /// `error: PAM: Authentication failure for <user> from <peer>` and its variants.
    PamError,
    /// `pam_unix(sshd:auth): authentication failure; ... rhost=<peer> user=<user>`: sshd
    /// logs `Failed password` too, so this alone is not counted until the session shows it
    /// was not followed by success for that user.
    PamUnixAuthFailure,
    /// `User <user> [from <peer>] not allowed because ...`.
    NotAllowed,
    /// `ROOT LOGIN REFUSED FROM <peer>`, `refused connect from ...`.
    Refused,
    /// `error: maximum authentication attempts exceeded for <user> from <peer>`.
    MaxAttempts,
    /// `Disconnecting: Too many authentication failures [for <user>]`.
    TooManyFailures,
    /// `Disconnecting [invalid|authenticating] user <user> <peer> port <n>: <reason>` and
    /// `Connection closed by invalid user <user> <peer>`: an attempt that ended in refusal.
    RefusedUser,
    /// A connection ended before authentication (`... [preauth]`, or a client's `Auth fail`).
    PreauthClose,
    /// A connection ended (after authentication, or without saying).
    Close,
    /// `Disconnected from user <user> <peer> port <n>`: the end of an authenticated session.
    Logoff,
    /// `Connection from <peer> port <n>`: remembers the peer of the session.
    ConnectionFrom,
    /// Scanners and broken clients: no identification string, bad protocol version, no
    /// matching cipher/kex/MAC, timeout before authentication, kex errors.
    ProtocolError,
    /// `pam_unix(sshd:session): session opened for user <user>`.
    SessionOpened,
    /// `pam_unix(sshd:session): session closed for user <user>`.
    SessionClosed,
}

impl SshdKind<'_> {
    /// Stable name used as a logon's failure reason.
    pub fn as_str(&self) -> &'static str {
        match self {
            SshdKind::Accepted { .. } => "accepted",
            SshdKind::Failed { .. } => "failed",
            SshdKind::InvalidUser => "invalid-user",
            SshdKind::PamError => "pam-error",
            SshdKind::PamUnixAuthFailure => "pam-auth-failure",
            SshdKind::NotAllowed => "not-allowed",
            SshdKind::Refused => "refused",
            SshdKind::MaxAttempts => "max-auth-attempts",
            SshdKind::TooManyFailures => "too-many-failures",
            SshdKind::RefusedUser => "refused-user",
            SshdKind::PreauthClose => "preauth-disconnect",
            SshdKind::Close => "close",
            SshdKind::Logoff => "logoff",
            SshdKind::ConnectionFrom => "connection",
            SshdKind::ProtocolError => "protocol-error",
            SshdKind::SessionOpened => "session-opened",
            SshdKind::SessionClosed => "session-closed",
        }
    }
}

/// One classified sshd message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshdMessage<'a> {
    pub kind: SshdKind<'a>,
    pub user: Option<&'a str>,
    pub peer: Option<Peer<'a>>,
    pub port: Option<u16>,
}

fn msg<'a>(
    kind: SshdKind<'a>,
    user: Option<&'a str>,
    peer: Option<Peer<'a>>,
    port: Option<u16>,
) -> Option<SshdMessage<'a>> {
    Some(SshdMessage {
        kind,
        user,
        peer,
        port,
    })
}

fn find(hay: &str, needle: &str) -> Option<usize> {
    memchr::memmem::find(hay.as_bytes(), needle.as_bytes())
}

fn rfind(hay: &str, needle: &str) -> Option<usize> {
    memchr::memmem::rfind(hay.as_bytes(), needle.as_bytes())
}

/// The token right after `from ` (the last ` from ` in `s`, since user names may contain
/// `from`), and the port after it.
fn last_from(s: &str) -> (Option<Peer<'_>>, Option<u16>) {
    let start = match rfind(s, " from ") {
        Some(i) => i + 6,
        None if s.starts_with("from ") => 5,
        None => return (None, None),
    };
    let after = s.get(start..).unwrap_or("");
    let (tok, rest) = split_token(after);
    (Peer::of(tok), port_after(rest))
}

fn port_after(s: &str) -> Option<u16> {
    let s = s.trim_start().strip_prefix("port ")?;
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s.get(..end)?.parse().ok()
}

/// For `... <peer> port <n> ...`: the token before the last ` port `, or the last token.
fn peer_before_port(s: &str) -> (Option<Peer<'_>>, Option<u16>) {
    let s = s.trim_end().trim_end_matches("[preauth]").trim_end();
    match rfind(s, " port ") {
        Some(i) => {
            let head = &s[..i];
            let tok = head.rsplit(' ').next().unwrap_or(head);
            (Peer::of(tok), port_after(&s[i + 1..]))
        }
        None => (s.rsplit(' ').next().and_then(Peer::of), None),
    }
}

/// The user of `... user <name> <peer> port <n>` forms: what lies between `user ` and the
/// peer token (user names can hold spaces when an attacker sends them).
fn user_before_peer<'a>(s: &'a str, marker: &str) -> Option<&'a str> {
    let start = find(s, marker)? + marker.len();
    let s = s.get(start..)?;
    let s = s.trim_end().trim_end_matches("[preauth]").trim_end();
    let end = rfind(s, " port ").unwrap_or(s.len());
    let head = s.get(..end)?;
    let cut = head.rfind(' ')?;
    head.get(..cut)
}

/// Classifies one sshd message. `None` for messages that say nothing about a logon.
pub fn parse_sshd_message(m: &str) -> Option<SshdMessage<'_>> {
    let mut m = m.trim_end();
    // Solaris: `[ID 800047 auth.info] `.
    if m.starts_with("[ID ")
        && let Some(i) = m.find("] ")
    {
        m = &m[i + 2..];
    }
    // Some kernels/relays prefix a monotonic stamp: `kernel:[  970.699396]: `.
    if let Some(r) = m.strip_prefix("kernel:") {
        let r = r.trim_start();
        if let Some(r) = r.strip_prefix('[')
            && let Some(i) = r.find(']')
        {
            m = r[i + 1..].trim_start_matches(':').trim_start();
        }
    }
    if let Some(r) = m.strip_prefix("error: ") {
        m = r;
    }
    let preauth = m.ends_with("[preauth]");
    let first = m.as_bytes().first().copied()?;
    match first {
        b'A' => {
            if let Some(r) = m.strip_prefix("Accepted ") {
                let (method, r) = split_token(r);
                let r = r.strip_prefix("for ")?;
                let end = rfind(r, " from ")?;
                let (peer, port) = last_from(&r[end..]);
                return msg(SshdKind::Accepted { method }, Some(&r[..end]), peer, port);
            }
            if m.starts_with("Address ") {
                return None;
            }
        }
        b'F' => {
            if let Some(r) = m.strip_prefix("Failed ") {
                let (method, r) = split_token(r);
                let r = r.strip_prefix("for ")?;
                // Cut the auth-info suffix (`ssh2: RSA ...`, `ssh2: ruser ...`).
                let r = cut_auth_info(r);
                let (invalid, r) = match r.strip_prefix("invalid user ") {
                    Some(r) => (true, r),
                    None => (false, r),
                };
                let end = rfind(r, " from ")?;
                let (peer, port) = last_from(&r[end..]);
                let user = &r[..end];
                let invalid = invalid || user == "<invalid username>";
                return msg(
                    SshdKind::Failed {
                        method,
                        invalid_user: invalid,
                    },
                    Some(user),
                    peer,
                    port,
                );
            }
        }
        b'I' => {
            if let Some(r) = m
                .strip_prefix("Invalid user ")
                .or_else(|| m.strip_prefix("Illegal user "))
            {
                let end = rfind(r, " from ")?;
                let (peer, port) = last_from(&r[end..]);
                return msg(SshdKind::InvalidUser, Some(&r[..end]), peer, port);
            }
        }
        b'P' => {
            if let Some(r) = m.strip_prefix("PAM: ") {
                let (peer, port) = last_from(r.split(" via ").next().unwrap_or(r));
                let user = find(r, " for ").and_then(|i| {
                    let u = &r[i + 5..];
                    let u = u.strip_prefix("illegal user ").unwrap_or(u);
                    rfind(u, " from ").map(|j| &u[..j])
                });
                return msg(SshdKind::PamError, user, peer, port);
            }
        }
        b'p' => {
            if let Some(r) = m.strip_prefix("pam_unix(") {
                if let Some(r) = r.strip_prefix("sshd:auth): authentication failure;") {
                    let rhost = kv(r, "rhost=").and_then(Peer::of);
                    let user = kv(r, "user=").or_else(|| kv(r, "ruser="));
                    return msg(SshdKind::PamUnixAuthFailure, user, rhost, None);
                }
                if let Some(r) = r.strip_prefix("sshd:session): session ") {
                    let kind = if r.starts_with("opened") {
                        SshdKind::SessionOpened
                    } else if r.starts_with("closed") {
                        SshdKind::SessionClosed
                    } else {
                        return None;
                    };
                    let user = find(r, "for user ").map(|i| split_token(&r[i + 9..]).0);
                    return msg(kind, user, None, None);
                }
            }
            if m.starts_with("pam_") {
                return None;
            }
        }
        b'U' => {
            if let Some(r) = m.strip_prefix("User ") {
                let na = find(r, " not allowed because")?;
                let head = &r[..na];
                return match find(head, " from ") {
                    Some(i) => {
                        let (peer, _) = last_from(&head[i..]);
                        msg(SshdKind::NotAllowed, Some(&head[..i]), peer, None)
                    }
                    None => msg(SshdKind::NotAllowed, Some(head), None, None),
                };
            }
            if let Some(r) = m.strip_prefix("Unable to negotiate with ") {
                let (tok, rest) = split_token(r);
                return msg(
                    SshdKind::ProtocolError,
                    None,
                    Peer::of(tok),
                    port_after(rest),
                );
            }
        }
        b'R' => {
            if let Some(r) = m.strip_prefix("ROOT LOGIN REFUSED FROM ") {
                let (tok, rest) = split_token(r);
                return msg(
                    SshdKind::Refused,
                    Some("root"),
                    Peer::of(tok),
                    port_after(rest),
                );
            }
            if let Some(r) = m.strip_prefix("Received disconnect from ") {
                let (tok, rest) = split_token(r);
                let kind = if preauth || find(r, "Auth fail").is_some() {
                    SshdKind::PreauthClose
                } else {
                    SshdKind::Close
                };
                return msg(kind, None, Peer::of(tok), port_after(rest));
            }
            if m.starts_with("Read error from remote host ") {
                let (peer, port) = last_from(m);
                return msg(SshdKind::ProtocolError, None, peer, port);
            }
        }
        b'r' => {
            if let Some(r) = m.strip_prefix("refused connect from ") {
                // `refused connect from name@addr (addr)`: the parenthesised one is clean.
                let peer = r
                    .rfind('(')
                    .and_then(|i| r.get(i + 1..))
                    .and_then(|p| p.strip_suffix(')'))
                    .and_then(Peer::of);
                return msg(SshdKind::Refused, None, peer, None);
            }
        }
        b'm' => {
            if let Some(r) = m.strip_prefix("maximum authentication attempts exceeded for ") {
                let r = cut_auth_info(r);
                let r = r.strip_prefix("invalid user ").unwrap_or(r);
                let end = rfind(r, " from ")?;
                let (peer, port) = last_from(&r[end..]);
                return msg(SshdKind::MaxAttempts, Some(&r[..end]), peer, port);
            }
        }
        b'D' => {
            if let Some(r) = m.strip_prefix("Disconnecting: Too many authentication failures") {
                let user = r
                    .trim_end_matches("[preauth]")
                    .trim()
                    .strip_prefix("for ")
                    .map(str::trim);
                return msg(SshdKind::TooManyFailures, user, None, None);
            }
            if let Some(r) = m.strip_prefix("Disconnecting ") {
                // `Disconnecting invalid user U H port P: reason`
                let (head, reason) = match find(r, ": ") {
                    Some(i) => (&r[..i], &r[i + 2..]),
                    None => (r, ""),
                };
                let (peer, port) = peer_before_port(head);
                let user = user_before_peer(head, "user ");
                let kind = if reason.starts_with("Too many authentication failures") {
                    SshdKind::TooManyFailures
                } else {
                    SshdKind::RefusedUser
                };
                return msg(kind, user, peer, port);
            }
            if let Some(r) = m.strip_prefix("Disconnected from ") {
                let (peer, port) = peer_before_port(r);
                if preauth {
                    let user = user_before_peer(r, "user ");
                    return msg(SshdKind::PreauthClose, user, peer, port);
                }
                let user = r.strip_prefix("user ").and(user_before_peer(r, "user "));
                let kind = if user.is_some() {
                    SshdKind::Logoff
                } else {
                    SshdKind::Close
                };
                return msg(kind, user, peer, port);
            }
            if let Some(r) = m.strip_prefix("Did not receive identification string from ") {
                let (tok, rest) = split_token(r);
                return msg(
                    SshdKind::ProtocolError,
                    None,
                    Peer::of(tok),
                    port_after(rest),
                );
            }
        }
        b'C' => {
            if let Some(r) = m
                .strip_prefix("Connection closed by ")
                .or_else(|| m.strip_prefix("Connection reset by "))
            {
                if r.starts_with("peer") {
                    return None;
                }
                let (peer, port) = peer_before_port(r);
                if r.starts_with("invalid user ") {
                    let user = user_before_peer(r, "invalid user ");
                    return msg(SshdKind::RefusedUser, user, peer, port);
                }
                let user = user_before_peer(r, "authenticating user ");
                let kind = if preauth {
                    SshdKind::PreauthClose
                } else {
                    SshdKind::Close
                };
                return msg(kind, user, peer, port);
            }
            if let Some(r) = m.strip_prefix("Connection from ") {
                let (tok, rest) = split_token(r);
                return msg(
                    SshdKind::ConnectionFrom,
                    None,
                    Peer::of(tok),
                    port_after(rest),
                );
            }
        }
        b'B' if m.starts_with("Bad protocol version identification") => {
            let (peer, port) = last_from(m);
            return msg(SshdKind::ProtocolError, None, peer, port);
        }
        b'b' => {
            if let Some(r) = m.strip_prefix("banner exchange: Connection from ") {
                let (tok, rest) = split_token(r);
                return msg(
                    SshdKind::ProtocolError,
                    None,
                    Peer::of(tok),
                    port_after(rest),
                );
            }
        }
        b'S' => {
            // `SSH: Server;Ltype: Version;Remote: 127.0.0.1-1780;...` (some vendor builds).
            if let Some(r) = m.strip_prefix("SSH: Server;") {
                let remote = find(r, "Remote: ").map(|i| &r[i + 8..])?;
                let remote = remote.split(';').next().unwrap_or(remote);
                let (host, port) = match remote.rfind('-') {
                    Some(i) => (&remote[..i], remote[i + 1..].parse().ok()),
                    None => (remote, None),
                };
                return msg(SshdKind::ConnectionFrom, None, Peer::of(host), port);
            }
        }
        b's' => {
            if let Some(r) = m.strip_prefix("ssh_dispatch_run_fatal: Connection from ") {
                let (tok, rest) = split_token(r);
                return msg(
                    SshdKind::ProtocolError,
                    None,
                    Peer::of(tok),
                    port_after(rest),
                );
            }
        }
        b'T' => {
            if let Some(r) = m.strip_prefix("Timeout before authentication for ") {
                let r = r.strip_prefix("connection from ").unwrap_or(r);
                let (tok, rest) = split_token(r);
                return msg(
                    SshdKind::ProtocolError,
                    None,
                    Peer::of(tok),
                    port_after(rest),
                );
            }
        }
        b'k' if m.starts_with("kex_exchange_identification: ") => {
            return msg(SshdKind::ProtocolError, None, None, None);
        }
        b'f' => {
            if let Some(r) = m.strip_prefix("fatal: ") {
                if r.starts_with("Timeout before authentication for ") {
                    return parse_sshd_message(r);
                }
                if let Some(r2) = r.strip_prefix("Unable to negotiate with ") {
                    let (tok, rest) = split_token(r2);
                    return msg(
                        SshdKind::ProtocolError,
                        None,
                        Peer::of(tok),
                        port_after(rest),
                    );
                }
                if r.starts_with("Unable to negotiate")
                    || r.starts_with("no matching ")
                    || r.starts_with("Read from socket failed")
                    || r.starts_with("ssh_packet_")
                {
                    return msg(SshdKind::ProtocolError, None, None, None);
                }
            }
        }
        _ => {}
    }
    None
}

/// Cuts sshd's auth-info suffix: the first ` ssh2`/` ssh1` that ends the string or is
/// followed by `:` ends the fixed part (`... port 22 ssh2: RSA SHA256:...`).
fn cut_auth_info(s: &str) -> &str {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(b.get(from..).unwrap_or(&[]), b" ssh") {
        let at = from + i;
        let next = b.get(at + 5);
        if matches!(b.get(at + 4), Some(b'1' | b'2')) && matches!(next, None | Some(b':')) {
            return &s[..at + 5];
        }
        from = at + 4;
    }
    s
}

/// `key=value` in a `pam_unix` message (value up to the next space).
fn kv<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(b.get(from..)?, key.as_bytes()) {
        let at = from + i;
        // Must start a word: `user=` must not match inside `ruser=`.
        if at == 0 || b.get(at - 1) == Some(&b' ') || b.get(at - 1) == Some(&b';') {
            let v = s.get(at + key.len()..)?;
            let v = v.split(' ').next().unwrap_or("");
            return (!v.is_empty()).then_some(v);
        }
        from = at + key.len();
    }
    None
}

/// What a sudo or su message says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivMessage<'a> {
    /// The account that ran sudo/su.
    pub by: Option<&'a str>,
    /// The account switched to (`USER=` for sudo, `(to root)` for su).
    pub target: Option<&'a str>,
    pub command: Option<&'a str>,
    pub tty: Option<&'a str>,
    pub success: bool,
    /// Whether this is an authentication (password) event rather than a command/session.
    pub auth: bool,
    pub reason: Option<&'a str>,
}

/// Classifies a sudo message: `alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/id`,
/// `alice : 3 incorrect password attempts ; ...`, `alice : user NOT in sudoers ; ...`,
/// `pam_unix(sudo:auth): authentication failure; ... ruser=alice ... user=alice`.
pub fn parse_sudo_message(m: &str) -> Option<PrivMessage<'_>> {
    let m = m.trim();
    if let Some(r) = m.strip_prefix("pam_unix(sudo:auth): authentication failure;") {
        return Some(PrivMessage {
            by: kv(r, "ruser="),
            target: kv(r, "user="),
            command: None,
            tty: kv(r, "tty="),
            success: false,
            auth: true,
            reason: Some("auth-failure"),
        });
    }
    let (user, rest) = m.split_once(" : ")?;
    let user = user.trim();
    if user.is_empty() || user.contains(' ') {
        return None;
    }
    let mut target = None;
    let mut command = None;
    let mut tty = None;
    let mut reason = None;
    for (i, part) in rest.split(" ; ").enumerate() {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("USER=") {
            target = Some(v);
        } else if let Some(v) = part.strip_prefix("COMMAND=") {
            command = Some(v);
        } else if let Some(v) = part.strip_prefix("TTY=") {
            tty = Some(v);
        } else if i == 0 && !part.contains('=') {
            reason = Some(part);
        }
    }
    let success = reason.is_none();
    Some(PrivMessage {
        by: Some(user),
        target,
        command,
        tty,
        success,
        auth: reason.is_some_and(|r| r.contains("password")),
        reason,
    })
}

/// Classifies a su message: `(to root) alice on pts/0`, `FAILED SU (to root) alice on
/// pts/0`, `Successful su for root by alice`, `FAILED su for root by alice`,
/// `pam_unix(su:auth): authentication failure; ... ruser=alice ... user=root`,
/// `pam_unix(su:session): session opened for user root by alice(uid=1000)`.
pub fn parse_su_message(m: &str) -> Option<PrivMessage<'_>> {
    let m = m.trim();
    let mk = |by, target, tty, success, auth, reason| {
        Some(PrivMessage {
            by,
            target,
            command: None,
            tty,
            success,
            auth,
            reason,
        })
    };
    if let Some(r) = m
        .strip_prefix("pam_unix(su:auth): authentication failure;")
        .or_else(|| m.strip_prefix("pam_unix(su-l:auth): authentication failure;"))
    {
        return mk(
            kv(r, "ruser="),
            kv(r, "user="),
            kv(r, "tty="),
            false,
            true,
            Some("auth-failure"),
        );
    }
    if let Some(r) = m
        .strip_prefix("pam_unix(su:session): session opened for user ")
        .or_else(|| m.strip_prefix("pam_unix(su-l:session): session opened for user "))
    {
        let (target, r) = split_token(r);
        let by = r
            .strip_prefix("by ")
            .map(|b| b.split('(').next().unwrap_or(b));
        return mk(
            by.filter(|b| !b.is_empty()),
            Some(target),
            None,
            true,
            false,
            None,
        );
    }
    let (failed, r) = match m
        .strip_prefix("FAILED SU ")
        .or_else(|| m.strip_prefix("- "))
    {
        Some(r) => (true, r),
        None => (false, m.strip_prefix("+ ").unwrap_or(m)),
    };
    if let Some(r) = r.strip_prefix("(to ") {
        let (target, r) = r.split_once(") ")?;
        let (by, r) = split_token(r);
        let tty = r.strip_prefix("on ");
        return mk(
            Some(by),
            Some(target),
            tty,
            !failed,
            !failed,
            failed.then_some("failed"),
        );
    }
    for (prefix, success) in [("Successful su for ", true), ("FAILED su for ", false)] {
        if let Some(r) = m.strip_prefix(prefix) {
            let (target, r) = split_token(r);
            let by = r.strip_prefix("by ").map(str::trim);
            return mk(
                by,
                Some(target),
                None,
                success,
                true,
                (!success).then_some("failed"),
            );
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> SyslogContext {
        SyslogContext {
            year: 2005,
            month: 8,
            utc_offset_secs: 0,
        }
    }

    #[test]
    fn rfc3164_year_comes_from_the_context() {
        let l = parse_syslog_line(b"Sep 29 16:28:02 spaceman sshd[16699]: Failed password for dan from 127.0.0.1 port 45416 ssh1", &ctx()).unwrap();
        assert_eq!(l.ts.unwrap().to_string(), "2004-09-29T16:28:02.000000Z");
        assert_eq!(l.host, Some("spaceman"));
        assert_eq!((l.program, l.pid), ("sshd", Some(16699)));
        let l = parse_syslog_line(b"Jun  7 01:10:56 host sshd[5937]: x", &ctx()).unwrap();
        assert_eq!(l.ts.unwrap().to_string(), "2005-06-07T01:10:56.000000Z");
    }

    #[test]
    fn host_and_colon_are_optional() {
        let l = parse_syslog_line(b"Nov 23 21:50:19 sshd[8148]: Disconnecting", &ctx()).unwrap();
        assert_eq!((l.host, l.program, l.pid), (None, "sshd", Some(8148)));
        let l = parse_syslog_line(
            b"Jun 25 23:53:34 [sshd] User root from 1.2.3.4 not allowed because x",
            &ctx(),
        )
        .unwrap();
        assert_eq!((l.host, l.program), (None, "sshd"));
        assert!(l.message.starts_with("User root"));
    }

    #[test]
    fn rfc5424_with_structured_data() {
        let l = parse_syslog_line(br#"<38>1 2019-07-08T17:40:17.954167-04:00 hostname.example.com sshd 55555 - [timeQuality tzKnown="1"][xxx@123 test="[brackets]"] Failed unknown for invalid user redmond from 192.0.2.2 port 55555 ssh2"#, &ctx()).unwrap();
        assert_eq!(l.ts.unwrap().to_string(), "2019-07-08T21:40:17.954167Z");
        assert_eq!(l.pid, Some(55555));
        assert!(l.message.starts_with("Failed unknown"), "{}", l.message);
    }

    #[test]
    fn failed_password_resists_injection_in_user_and_info() {
        let m = parse_sshd_message("Failed password for invalid user test from 127.0.0.1 port 58946 ssh2: from 10.10.1.2 port 55555 ssh2").unwrap();
        assert_eq!(m.peer, Some(Peer::Ip("127.0.0.1".parse().unwrap())));
        let m = parse_sshd_message("Failed password for invalid user test from 10.10.1.2 port 55555 ssh2 from 127.0.0.1 port 58946 ssh2").unwrap();
        assert_eq!(m.peer, Some(Peer::Ip("127.0.0.1".parse().unwrap())));
        assert_eq!(m.port, Some(58946));
    }

    #[test]
    fn sudo_and_su() {
        let s = parse_sudo_message(
            "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/cat /etc/shadow",
        )
        .unwrap();
        assert_eq!(
            (s.by, s.target, s.command, s.success),
            (
                Some("alice"),
                Some("root"),
                Some("/bin/cat /etc/shadow"),
                true
            )
        );
        let s = parse_sudo_message(
            "bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/sh",
        )
        .unwrap();
        assert!(!s.success && s.auth);
        let s = parse_su_message("FAILED SU (to root) alice on pts/0").unwrap();
        assert_eq!(
            (s.by, s.target, s.success),
            (Some("alice"), Some("root"), false)
        );
        let s = parse_su_message(
            "pam_unix(su:session): session opened for user root by alice(uid=1000)",
        )
        .unwrap();
        assert_eq!(
            (s.by, s.target, s.success),
            (Some("alice"), Some("root"), true)
        );
    }
}
