//! Log continuity: is a host's log whole, or was something removed?
//!
//! Windows numbers each channel's records (`EventRecordID`) one by one. For each host and
//! channel this keeps the runs of consecutive record ids seen (a handful per file, so memory
//! stays small however many records there are), the largest time jumps between
//! consecutive records, and the clears (1102, 104). The [`Verdict`] says either
//! "continuous from T0 to T1" or lists the breaks, for an `attest` command to quote.

use sekisho_event::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Runs kept per host and channel; past this, the runs farthest apart are merged into a
/// counted gap (so the verdict still says "broken").
pub const MAX_RUNS: usize = 4096;
/// Breaks listed per host and channel (more are counted).
pub const MAX_BREAKS: usize = 256;
/// Host/channel pairs tracked.
pub const MAX_LOGS: usize = 65_536;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    end: u64,
    start_ts: Timestamp,
    end_ts: Timestamp,
}

/// One way a log is not continuous.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Break {
    /// Record ids `after + 1 ..= before - 1` are missing.
    RecordGap {
        after: u64,
        before: u64,
        missing: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<Timestamp>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<Timestamp>,
    },
    /// Consecutive records more than the threshold apart in time.
    TimeGap {
        after_record: u64,
        from: Timestamp,
        to: Timestamp,
        seconds: i64,
    },
    /// The log was cleared (1102 in Security, 104 in System for any channel).
    Cleared {
        at: Timestamp,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        record_id: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
}

/// The continuity verdict for one host's channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// Every record id from the first to the last was seen, no clear, no time gap over the
    /// threshold.
    Continuous { from: Timestamp, to: Timestamp },
    /// The breaks, oldest first.
    Broken {
        breaks: Vec<Break>,
        /// Breaks not listed because of [`MAX_BREAKS`].
        #[serde(default, skip_serializing_if = "is_zero")]
        more: u64,
    },
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The report for one host's channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogContinuity {
    pub host: String,
    pub channel: String,
    pub records: u64,
    pub first_record: u64,
    pub last_record: u64,
    pub first_ts: Timestamp,
    pub last_ts: Timestamp,
    /// Records whose id was seen before (the same file read twice, or overlapping exports).
    pub duplicates: u64,
    pub verdict: Verdict,
}

impl LogContinuity {
    /// One line for people: `continuous from T0 to T1` or `N breaks: ...`.
    pub fn summary(&self) -> String {
        match &self.verdict {
            Verdict::Continuous { from, to } => format!("continuous from {from} to {to}"),
            Verdict::Broken { breaks, more } => {
                let mut s = format!("{} break(s):", breaks.len() as u64 + more);
                for b in breaks.iter().take(5) {
                    match b {
                        Break::RecordGap {
                            after,
                            before,
                            missing,
                            ..
                        } => {
                            s.push_str(&format!(" records {after}..{before} ({missing} missing);"))
                        }
                        Break::TimeGap {
                            from, to, seconds, ..
                        } => s.push_str(&format!(" {seconds}s silent {from}..{to};")),
                        Break::Cleared { at, by, .. } => s.push_str(&format!(
                            " cleared at {at}{};",
                            by.as_deref()
                                .map(|b| format!(" by {b}"))
                                .unwrap_or_default()
                        )),
                    }
                }
                s
            }
        }
    }
}

#[derive(Clone, Debug, Default)]
struct LogState {
    runs: BTreeMap<u64, Run>,
    records: u64,
    duplicates: u64,
    time_gaps: Vec<Break>,
    time_gaps_more: u64,
    clears: Vec<Break>,
    /// Gaps forced by merging runs past [`MAX_RUNS`].
    merged_gaps: u64,
}

/// Collects record ids and times per host and channel. Feed records in any order; records
/// of one file in order keep it cheapest.
#[derive(Clone, Debug)]
pub struct Continuity {
    logs: BTreeMap<(String, String), LogState>,
    /// Time between consecutive records above which a time gap is reported, in µs.
    threshold: i64,
    /// Host/channel pairs not tracked because of [`MAX_LOGS`].
    pub dropped_logs: u64,
    last_key: Option<(String, String)>,
}

impl Default for Continuity {
    fn default() -> Self {
        Self::new(24 * Timestamp::HOUR)
    }
}

impl Continuity {
    /// `gap_threshold_micros`: a silence longer than this between consecutive records is a
    /// break.
    pub fn new(gap_threshold_micros: i64) -> Self {
        Continuity {
            logs: BTreeMap::new(),
            threshold: gap_threshold_micros.max(1),
            dropped_logs: 0,
            last_key: None,
        }
    }

    fn state(&mut self, host: &str, channel: &str) -> Option<&mut LogState> {
        let same = self
            .last_key
            .as_ref()
            .is_some_and(|(h, c)| h == host && c == channel);
        if !same {
            let key = (host.to_string(), channel.to_string());
            if !self.logs.contains_key(&key) && self.logs.len() >= MAX_LOGS {
                self.dropped_logs += 1;
                return None;
            }
            self.last_key = Some(key);
        }
        let key = self.last_key.clone()?;
        Some(self.logs.entry(key).or_default())
    }

    /// Notes one record.
    pub fn observe(&mut self, host: &str, channel: &str, record_id: u64, ts: Timestamp) {
        let threshold = self.threshold;
        let Some(st) = self.state(host, channel) else {
            return;
        };
        st.records += 1;
        insert(st, record_id, ts, threshold);
    }

    /// Notes a clear of `channel` on `host` (1102: the Security log; 104: the channel it
    /// names).
    pub fn cleared(
        &mut self,
        host: &str,
        channel: &str,
        at: Timestamp,
        record_id: Option<u64>,
        by: Option<String>,
    ) {
        let Some(st) = self.state(host, channel) else {
            return;
        };
        if st.clears.len() < MAX_BREAKS {
            st.clears.push(Break::Cleared { at, record_id, by });
        } else {
            st.time_gaps_more += 1;
        }
    }

    /// Adds another collector's records (parallel readers).
    pub fn merge(&mut self, other: Continuity) {
        self.dropped_logs += other.dropped_logs;
        let threshold = self.threshold;
        for (key, o) in other.logs {
            if !self.logs.contains_key(&key) && self.logs.len() >= MAX_LOGS {
                self.dropped_logs += 1;
                continue;
            }
            let st = self.logs.entry(key).or_default();
            st.records += o.records;
            st.duplicates += o.duplicates;
            st.merged_gaps += o.merged_gaps;
            st.time_gaps_more += o.time_gaps_more;
            for g in o.time_gaps {
                push_break(&mut st.time_gaps, &mut st.time_gaps_more, g);
            }
            for c in o.clears {
                push_break(&mut st.clears, &mut st.time_gaps_more, c);
            }
            for (start, run) in o.runs {
                // A run is its ends; joining it checks the time at each seam.
                insert_run(st, start, run, threshold);
            }
        }
        self.last_key = None;
    }

    /// The report, per host and channel, sorted by host then channel.
    pub fn report(&self) -> Vec<LogContinuity> {
        self.logs
            .iter()
            .filter_map(|((host, channel), st)| {
                let (&first, first_run) = st.runs.iter().next()?;
                let (_, last_run) = st.runs.iter().next_back()?;
                let mut breaks: Vec<Break> = Vec::new();
                let mut prev: Option<Run> = None;
                for (&start, run) in &st.runs {
                    if let Some(p) = prev {
                        breaks.push(Break::RecordGap {
                            after: p.end,
                            before: start,
                            missing: start.saturating_sub(p.end).saturating_sub(1),
                            from: Some(p.end_ts),
                            to: Some(run.start_ts),
                        });
                    }
                    prev = Some(*run);
                }
                breaks.extend(st.time_gaps.iter().cloned());
                breaks.extend(st.clears.iter().cloned());
                breaks.sort_by_key(break_time);
                let mut more = st.time_gaps_more + st.merged_gaps;
                if breaks.len() > MAX_BREAKS {
                    more += (breaks.len() - MAX_BREAKS) as u64;
                    breaks.truncate(MAX_BREAKS);
                }
                let first_ts = st.runs.values().map(|r| r.start_ts).min()?;
                let last_ts = st.runs.values().map(|r| r.end_ts).max()?;
                let verdict = if breaks.is_empty() && more == 0 {
                    Verdict::Continuous {
                        from: first_ts,
                        to: last_ts,
                    }
                } else {
                    Verdict::Broken { breaks, more }
                };
                let _ = first_run;
                Some(LogContinuity {
                    host: host.clone(),
                    channel: channel.clone(),
                    records: st.records,
                    first_record: first,
                    last_record: last_run.end,
                    first_ts,
                    last_ts,
                    duplicates: st.duplicates,
                    verdict,
                })
            })
            .collect()
    }
}

fn break_time(b: &Break) -> Timestamp {
    match b {
        Break::RecordGap { from, .. } => from.unwrap_or_default(),
        Break::TimeGap { from, .. } => *from,
        Break::Cleared { at, .. } => *at,
    }
}

fn push_break(v: &mut Vec<Break>, more: &mut u64, b: Break) {
    if v.len() < MAX_BREAKS {
        v.push(b);
    } else {
        *more += 1;
    }
}

fn note_time_gap(
    st: &mut LogState,
    after_record: u64,
    from: Timestamp,
    to: Timestamp,
    threshold: i64,
) {
    let d = to.micros_since(from);
    if d > threshold {
        push_break(
            &mut st.time_gaps,
            &mut st.time_gaps_more,
            Break::TimeGap {
                after_record,
                from,
                to,
                seconds: d / Timestamp::SECOND,
            },
        );
    }
}

fn insert(st: &mut LogState, id: u64, ts: Timestamp, threshold: i64) {
    insert_run(
        st,
        id,
        Run {
            end: id,
            start_ts: ts,
            end_ts: ts,
        },
        threshold,
    );
}

/// Inserts the run `start..=run.end`, joining neighbours it touches.
fn insert_run(st: &mut LogState, start: u64, run: Run, threshold: i64) {
    let mut start = start;
    let mut run = run;
    // The run before (starting at or before `start`).
    if let Some((&ps, prev)) = st.runs.range(..=start).next_back() {
        let prev = *prev;
        if prev.end >= run.end {
            // Entirely inside: every id was seen already.
            st.duplicates += run.end - start + 1;
            return;
        }
        if prev.end >= start {
            st.duplicates += prev.end - start + 1;
            run.start_ts = prev.start_ts.min(run.start_ts);
            start = ps;
            st.runs.remove(&ps);
        } else if prev.end.checked_add(1) == Some(start) {
            note_time_gap(st, prev.end, prev.end_ts, run.start_ts, threshold);
            run.start_ts = prev.start_ts;
            start = ps;
            st.runs.remove(&ps);
        }
    }
    // Runs after that it touches or overlaps.
    loop {
        let next = st.runs.range(start..).next().map(|(s, r)| (*s, *r));
        let Some((ns, nrun)) = next else { break };
        if ns > run.end.saturating_add(1) {
            break;
        }
        st.runs.remove(&ns);
        if ns == run.end.saturating_add(1) {
            note_time_gap(st, run.end, run.end_ts, nrun.start_ts, threshold);
        } else {
            st.duplicates += run.end.min(nrun.end) - ns + 1;
        }
        if nrun.end > run.end {
            run.end = nrun.end;
            run.end_ts = nrun.end_ts;
        }
    }
    st.runs.insert(start, run);
    // Bounded: merge the two closest runs (in ids) and count the gap that hides.
    if st.runs.len() > MAX_RUNS {
        let mut best: Option<(u64, u64)> = None;
        let mut prev: Option<(u64, u64)> = None;
        for (&s, r) in &st.runs {
            if let Some((ps, pend)) = prev {
                let gap = s - pend;
                if best.is_none_or(|(_, g)| gap < g) {
                    best = Some((ps, gap));
                }
            }
            prev = Some((s, r.end));
        }
        if let Some((ps, _)) = best
            && let Some(a) = st.runs.remove(&ps)
            && let Some((&ns, _)) = st.runs.range(ps..).next()
            && let Some(b) = st.runs.remove(&ns)
        {
            st.runs.insert(
                ps,
                Run {
                    end: b.end,
                    start_ts: a.start_ts,
                    end_ts: b.end_ts,
                },
            );
            st.merged_gaps += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_micros(s * Timestamp::SECOND)
    }

    #[test]
    fn consecutive_records_are_continuous_in_any_order() {
        let mut c = Continuity::new(Timestamp::HOUR);
        for id in [3u64, 1, 2, 5, 4] {
            c.observe("PC", "Security", id, t(id as i64));
        }
        let r = c.report();
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].verdict,
            Verdict::Continuous {
                from: t(1),
                to: t(5)
            }
        );
        assert_eq!(
            r[0].summary(),
            "continuous from 1970-01-01T00:00:01.000000Z to 1970-01-01T00:00:05.000000Z"
        );
    }

    #[test]
    fn gaps_clears_and_silences_are_breaks() {
        let mut c = Continuity::new(Timestamp::HOUR);
        for id in 1..=10u64 {
            c.observe("PC", "Security", id, t(id as i64));
        }
        for id in 15..=20u64 {
            c.observe("PC", "Security", id, t(id as i64));
        }
        c.observe("PC", "Security", 21, t(21 + 7200));
        c.observe("PC", "Security", 21, t(21 + 7200));
        c.cleared("PC", "Security", t(9), Some(9), Some("admin".into()));
        let r = c.report();
        let Verdict::Broken { breaks, more } = &r[0].verdict else {
            panic!()
        };
        assert_eq!(*more, 0);
        assert_eq!(breaks.len(), 3, "{breaks:?}");
        assert!(matches!(
            breaks[1],
            Break::RecordGap {
                after: 10,
                before: 15,
                missing: 4,
                ..
            }
        ));
        assert!(matches!(
            breaks[2],
            Break::TimeGap {
                after_record: 20,
                seconds: 7201,
                ..
            }
        ));
        assert_eq!(r[0].duplicates, 1);
    }

    #[test]
    fn merging_collectors_joins_runs() {
        let mut a = Continuity::new(Timestamp::HOUR);
        let mut b = Continuity::new(Timestamp::HOUR);
        for id in 1..=5u64 {
            a.observe("PC", "System", id, t(id as i64));
        }
        for id in 6..=9u64 {
            b.observe("PC", "System", id, t(id as i64));
        }
        a.merge(b);
        assert!(matches!(a.report()[0].verdict, Verdict::Continuous { .. }));
    }

    #[test]
    fn runs_are_bounded() {
        let mut c = Continuity::new(Timestamp::HOUR);
        for i in 0..(MAX_RUNS as u64 + 50) {
            c.observe("PC", "Security", i * 3, t(i as i64));
        }
        let r = c.report();
        let Verdict::Broken { more, .. } = &r[0].verdict else {
            panic!()
        };
        assert!(*more >= 50);
    }
}
