//! Host evidence for sekisho: Windows event logs and Linux auth logs turned into
//! [`Logon`](sekisho_event::Logon) and [`HostEvent`](sekisho_event::HostEvent) records, the
//! continuity of each host's logs, and logon summaries placed on the organisation's sites.
//!
//! - [`winevent`]: the JSON forms of Windows events (`evtx`/`evtx_dump`, Winlogbeat) and the
//!   normaliser (Security 4624/4625/4634/4647/4648/4672/4720/4732/4768/4769/4771/4776/4778/
//!   4779/4719/1102, System 7045/104, RDP 1149 and 21/22/24/25, Sysmon 1/3).
//! - [`syslog`]: syslog lines (RFC 3164 with year inference, RFC 5424) and sshd/sudo/su
//!   messages; [`journal`]: `journalctl -o json`; [`auth`]: the per-session tracker that
//!   decides which sshd lines are failed logins.
//! - [`continuity`]: record-id and time gaps and clears per host and channel, with a verdict.
//! - [`summary`]: logon groups enriched with `sekisho_model::Org`.
//! - [`source`]: the thin I/O shell — file discovery, content sniffing, parallel reading.
//!
//! Parsers are pure functions over bytes and never panic; every bad record is counted in
//! [`RunStats`](sekisho_event::RunStats) with its file and position.
//!
//! ```
//! use sekisho_hostlog::syslog::{parse_syslog_line, SyslogContext};
//! use sekisho_hostlog::auth::AuthTracker;
//! use sekisho_event::{HostOrigin, HostRecord, Outcome};
//!
//! let ctx = SyslogContext { year: 2024, month: 12, utc_offset_secs: 0 };
//! let line = parse_syslog_line(
//!     b"Mar  7 18:53:24 bar sshd[1558]: Failed password for root from 192.0.2.114 port 52100 ssh2",
//!     &ctx,
//! ).unwrap();
//! let mut out = Vec::new();
//! AuthTracker::new().push(&line, line.ts.unwrap(), &HostOrigin::default(), &mut out);
//! let HostRecord::Logon(l) = &out[0] else { panic!() };
//! assert_eq!(l.outcome, Outcome::Failure);
//! assert_eq!(l.source_ip, Some("192.0.2.114".parse().unwrap()));
//! assert_eq!(l.ts.to_string(), "2024-03-07T18:53:24.000000Z");
//! ```

pub mod auth;
pub mod continuity;
pub mod journal;
pub mod source;
pub mod summary;
pub mod syslog;
pub mod winevent;

pub use continuity::{Break, Continuity, LogContinuity, Verdict};
pub use source::{
    Collected, CountSink, FileCount, HostSink, ReadOptions, read_paths, read_paths_into,
};
pub use summary::{LogonGroup, LogonSummary, place_end};
pub use winevent::Keep;

/// `s` cut to at most `max` bytes at a character boundary, owned.
pub(crate) fn cut_string(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("").to_string()
}
