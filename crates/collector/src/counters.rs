//! What a live run has done so far: shared atomic counters, read for the status line and
//! the summary on exit.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters bumped by the receiver threads and the pipeline thread.
#[derive(Debug, Default)]
pub struct Counters {
    /// UDP datagrams received from exporters.
    pub datagrams: AtomicU64,
    /// Bytes of those datagrams.
    pub datagram_bytes: AtomicU64,
    /// Datagrams the receiver could not queue because the pipeline was behind. Must stay
    /// zero at the rated load; anything else is data lost by sekisho, so it is reported.
    pub dropped_backpressure: AtomicU64,
    /// Messages waiting in the queue between receivers and the pipeline (last seen).
    pub queue_depth: AtomicU64,
    /// Highest queue depth seen.
    pub queue_peak: AtomicU64,
    /// Zeek log records read by tailing.
    pub zeek_records: AtomicU64,
    /// Flows handed to the detectors.
    pub flows: AtomicU64,
    /// Bytes of those flows, both directions (IP octets for NetFlow, payload for Zeek).
    pub flow_bytes: AtomicU64,
    /// Packets of those flows, both directions.
    pub flow_packets: AtomicU64,
    /// Alerts written.
    pub alerts: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// What a datagram decoder reports about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DecoderStatus {
    /// Flow records decoded.
    pub records: u64,
    /// Datagrams or records that could not be decoded, by reason.
    pub errors: BTreeMap<String, u64>,
    /// Datagrams (or records, as the protocol counts) missing by sequence number, per
    /// exporter.
    pub sequence_gaps: BTreeMap<String, u64>,
}

/// A point-in-time copy of everything counted, for the status line and the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    pub datagrams: u64,
    pub datagram_bytes: u64,
    pub dropped_backpressure: u64,
    pub queue_depth: u64,
    pub queue_peak: u64,
    pub zeek_records: u64,
    pub flows: u64,
    pub flow_bytes: u64,
    pub flow_packets: u64,
    pub alerts: u64,
    pub decoder: DecoderStatus,
    /// Datagrams the kernel dropped on our sockets because the receive buffer was full
    /// (Linux: `/proc/net/udp{,6}` `drops`), when known.
    pub kernel_drops: Option<u64>,
}

impl Snapshot {
    pub(crate) fn take(c: &Counters, decoder: DecoderStatus, kernel_drops: Option<u64>) -> Self {
        Snapshot {
            datagrams: Counters::get(&c.datagrams),
            datagram_bytes: Counters::get(&c.datagram_bytes),
            dropped_backpressure: Counters::get(&c.dropped_backpressure),
            queue_depth: Counters::get(&c.queue_depth),
            queue_peak: Counters::get(&c.queue_peak),
            zeek_records: Counters::get(&c.zeek_records),
            flows: Counters::get(&c.flows),
            flow_bytes: Counters::get(&c.flow_bytes),
            flow_packets: Counters::get(&c.flow_packets),
            alerts: Counters::get(&c.alerts),
            decoder,
            kernel_drops,
        }
    }

    /// One line for the terminal, every few seconds.
    pub fn status_line(&self) -> String {
        let errors: u64 = self.decoder.errors.values().sum();
        let gaps: u64 = self.decoder.sequence_gaps.values().sum();
        let mut s = format!(
            "datagrams {} | records {} | decode errors {} | seq gaps {} | zeek {} | flows {} | alerts {} | queue {} (peak {}) | dropped {}",
            self.datagrams,
            self.decoder.records,
            errors,
            gaps,
            self.zeek_records,
            self.flows,
            self.alerts,
            self.queue_depth,
            self.queue_peak,
            self.dropped_backpressure,
        );
        if let Some(k) = self.kernel_drops {
            let _ = write!(s, " | kernel drops {k}");
        }
        s
    }

    /// The summary printed on exit: the status line plus the breakdowns.
    pub fn summary(&self) -> String {
        let mut s = self.status_line();
        s.push('\n');
        for (reason, n) in &self.decoder.errors {
            let _ = writeln!(s, "  decode error {reason}: {n}");
        }
        for (exporter, n) in &self.decoder.sequence_gaps {
            let _ = writeln!(s, "  sequence gap {exporter}: {n}");
        }
        s
    }
}
