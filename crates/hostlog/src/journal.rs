//! `journalctl -o json` lines: one JSON object per entry, with `__REALTIME_TIMESTAMP`
//! (microseconds since the epoch, as a string), `_HOSTNAME`, `SYSLOG_IDENTIFIER`, `_PID` or
//! `SYSLOG_PID`, and `MESSAGE` (a string, or an array of bytes when it is not UTF-8).
//!
//! Pure: no I/O.

use crate::syslog::SyslogLine;
use sekisho_event::Timestamp;
use serde::Deserialize;
use std::borrow::Cow;

/// One journal entry, the fields we use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalEntry {
    pub ts: Option<Timestamp>,
    pub host: Option<String>,
    pub program: String,
    pub pid: Option<u32>,
    pub message: String,
}

impl JournalEntry {
    /// The entry as a syslog line, for the auth tracker.
    pub fn as_syslog(&self) -> SyslogLine<'_> {
        SyslogLine {
            ts: self.ts,
            host: self.host.as_deref(),
            program: &self.program,
            pid: self.pid,
            message: &self.message,
        }
    }
}

/// Why a journal line was not used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JournalError {
    #[error("malformed JSON: {0}")]
    Syntax(String),
    #[error("no MESSAGE")]
    NoMessage,
}

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(rename = "__REALTIME_TIMESTAMP", borrow, default)]
    realtime: Option<Cow<'a, str>>,
    #[serde(rename = "_HOSTNAME", borrow, default)]
    hostname: Option<Cow<'a, str>>,
    #[serde(rename = "SYSLOG_IDENTIFIER", borrow, default)]
    ident: Option<Cow<'a, str>>,
    #[serde(rename = "_COMM", borrow, default)]
    comm: Option<Cow<'a, str>>,
    #[serde(rename = "_PID", borrow, default)]
    pid: Option<Cow<'a, str>>,
    #[serde(rename = "SYSLOG_PID", borrow, default)]
    syslog_pid: Option<Cow<'a, str>>,
    #[serde(rename = "MESSAGE", default)]
    message: Option<Message>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Message {
    Text(String),
    Bytes(Vec<u8>),
}

/// Parses one `journalctl -o json` line.
pub fn parse_journal_line(line: &[u8]) -> Result<JournalEntry, JournalError> {
    let raw: Raw<'_> = serde_json::from_slice(line)
        .map_err(|e| JournalError::Syntax(crate::cut_string(&e.to_string(), 120)))?;
    let message = match raw.message {
        Some(Message::Text(s)) => s,
        Some(Message::Bytes(b)) => String::from_utf8_lossy(&b).into_owned(),
        None => return Err(JournalError::NoMessage),
    };
    let ts = raw
        .realtime
        .and_then(|s| s.parse::<i64>().ok())
        .map(Timestamp::from_micros);
    let pid = raw
        .syslog_pid
        .or(raw.pid)
        .and_then(|p| p.parse::<u32>().ok());
    Ok(JournalEntry {
        ts,
        host: raw.hostname.map(Cow::into_owned),
        program: raw
            .ident
            .or(raw.comm)
            .map(Cow::into_owned)
            .unwrap_or_default(),
        pid,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_entry_is_read() {
        let j = br#"{"__REALTIME_TIMESTAMP":"1562622016954167","_HOSTNAME":"srv","SYSLOG_IDENTIFIER":"sshd","_PID":"57915","MESSAGE":"Failed password for root from 192.0.2.1 port 22 ssh2"}"#;
        let e = parse_journal_line(j).unwrap();
        assert_eq!(e.ts.unwrap().to_string(), "2019-07-08T21:40:16.954167Z");
        assert_eq!((e.program.as_str(), e.pid), ("sshd", Some(57915)));
        let j = br#"{"SYSLOG_IDENTIFIER":"sshd","MESSAGE":[70,97,105,255]}"#;
        assert_eq!(parse_journal_line(j).unwrap().message, "Fai\u{fffd}");
        assert_eq!(parse_journal_line(b"{}"), Err(JournalError::NoMessage));
    }
}
