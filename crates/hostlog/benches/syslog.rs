//! sshd/syslog parsing throughput on one core: split + classify + session tracking.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sekisho_event::HostOrigin;
use sekisho_hostlog::auth::AuthTracker;
use sekisho_hostlog::syslog::{SyslogContext, parse_syslog_line};
use std::hint::black_box;

fn lines() -> Vec<Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/auth/fail2ban/sshd"
    );
    let text = std::fs::read_to_string(path).expect("fail2ban sshd sample");
    let mut base: Vec<Vec<u8>> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.as_bytes().to_vec())
        .collect();
    // A realistic auth.log is mostly other daemons (cron, systemd, CRON pam sessions).
    for i in 0..base.len() {
        base.push(format!("Mar  7 18:{:02}:20 bar CRON[{i}]: pam_unix(cron:session): session opened for user root by (uid=0)", i % 60).into_bytes());
    }
    base
}

fn bench(c: &mut Criterion) {
    let lines = lines();
    let ctx = SyslogContext {
        year: 2005,
        month: 8,
        utc_offset_secs: 0,
    };
    let origin = HostOrigin::default();
    let mut g = c.benchmark_group("syslog");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.bench_function("split_only", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for l in &lines {
                if let Ok(p) = parse_syslog_line(black_box(l), &ctx) {
                    n += p.message.len();
                }
            }
            n
        })
    });
    g.bench_function("split_classify_track", |b| {
        let mut out = Vec::new();
        b.iter(|| {
            let mut tracker = AuthTracker::new();
            let mut n = 0usize;
            for l in &lines {
                if let Ok(p) = parse_syslog_line(black_box(l), &ctx) {
                    tracker.push(&p, p.ts.unwrap_or_default(), &origin, &mut out);
                    n += out.len();
                    out.clear();
                }
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
