//! Auth log lines: syslog splitting (RFC 3164/5424/3339, untimed), sshd/sudo/su message
//! classification, the per-session tracker, and journal JSON lines. No panic on any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_event::HostOrigin;
use sekisho_hostlog::auth::AuthTracker;
use sekisho_hostlog::journal::parse_journal_line;
use sekisho_hostlog::syslog::{SyslogContext, parse_syslog_line, parse_untimed_line};

fuzz_target!(|data: &[u8]| {
    let ctx = SyslogContext {
        year: 2024,
        month: 3,
        utc_offset_secs: 3600,
    };
    let mut tracker = AuthTracker::new();
    let mut out = Vec::new();
    let origin = HostOrigin::default();
    for line in data.split(|b| *b == b'\n') {
        if let Ok(l) = parse_syslog_line(line, &ctx) {
            tracker.push(&l, l.ts.unwrap_or_default(), &origin, &mut out);
        }
        if let Ok(l) = parse_untimed_line(line) {
            tracker.push(&l, Default::default(), &origin, &mut out);
        }
        if let Ok(j) = parse_journal_line(line) {
            let l = j.as_syslog();
            tracker.push(&l, l.ts.unwrap_or_default(), &origin, &mut out);
        }
    }
});
