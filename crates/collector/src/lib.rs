//! The live shell of `sekisho serve`: UDP listeners for NetFlow/IPFIX exporters, tailing
//! of live Zeek log directories, the same pipeline as `sekisho analyze`, and alerts
//! written as they happen.
//!
//! Threads: one receiver per UDP socket and one Zeek tailer feed a bounded queue; the
//! calling thread owns the pipeline (enrichment, detectors), decodes datagrams through a
//! [`DatagramDecoder`], writes alerts to every [`AlertOutput`], rewrites `incidents.json`
//! every few seconds and reports a status line. A receiver never blocks on a full queue:
//! it counts the datagram as dropped for back-pressure, which the status line and the
//! summary show (it must stay zero at the rated load; see BENCHMARKS.md). Kernel drops on
//! the sockets (receive buffer full) are read from `/proc/net/udp` and shown too.
//!
//! Stopping: the caller sets the stop flag (on SIGINT/SIGTERM); receivers and the tailer
//! finish, the queue is drained, decoders and detectors are flushed, and the last alerts
//! and incidents are written before [`Collector::run`] returns.
//!
//! Detection takes time from the events, as in `analyze`: a window closes when a later
//! event arrives (or at shutdown), never on the wall clock. The wall clock only paces the
//! status line and the incident file.

mod counters;
mod netflow;
pub mod output;
pub mod tail;

pub use counters::{Counters, DecoderStatus, Snapshot};
pub use netflow::NetflowDecoder;
pub use output::{AlertOutput, JsonLines, SyslogCef};
pub use tail::ZeekTail;

use sekisho_engine::Pipeline;
use sekisho_event::{Alert, Flow, Incident, RunStats};
use sekisho_model::{Enriched, Org};
use sekisho_zeek::Record;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

/// Turns exporter datagrams into flows: the extension point for flow protocols
/// (NetFlow v5/v9/IPFIX today).
pub trait DatagramDecoder: Send {
    /// Decodes one datagram from `exporter`, appending finished flows to `flows`.
    fn decode(&mut self, exporter: SocketAddr, datagram: &[u8], flows: &mut Vec<Flow>);
    /// Hands over flows still held (unpaired halves) at shutdown.
    fn flush(&mut self, flows: &mut Vec<Flow>);
    /// Counters for the status line.
    fn status(&self) -> DecoderStatus;
}

/// How a live run is set up; resolved by the CLI.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// UDP addresses to receive NetFlow/IPFIX on (loopback by default in the CLI).
    pub netflow: Vec<SocketAddr>,
    /// Live Zeek log directories to follow.
    pub zeek_dirs: Vec<PathBuf>,
    /// Socket receive buffer asked for, in bytes (the kernel may cap it at
    /// `net.core.rmem_max`; the granted size is reported).
    pub recv_buffer: usize,
    /// Datagrams the queue between receivers and the pipeline holds.
    pub queue_capacity: usize,
    /// How often the status line is reported.
    pub status_every: Duration,
    /// How often `incidents.json` is rewritten (when alerts changed).
    pub incidents_every: Duration,
    /// How often Zeek directories are polled.
    pub poll_every: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            netflow: Vec::new(),
            zeek_dirs: Vec::new(),
            recv_buffer: 32 << 20,
            queue_capacity: 1 << 16,
            status_every: Duration::from_secs(5),
            incidents_every: Duration::from_secs(10),
            poll_every: Duration::from_millis(250),
        }
    }
}

/// Errors that stop a live run before it starts.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    #[error("cannot listen on udp {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("cannot follow Zeek directory {dir}: {source}")]
    ZeekDir {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// What a live run ends with.
#[derive(Debug)]
pub struct ServeOutcome {
    /// Every alert written, ids `L000001`... in the order they were written.
    pub alerts: Vec<Alert>,
    pub incidents: Vec<Incident>,
    /// Alerts not kept for incidents because `limits.max_alerts` was reached (they were
    /// still written to the outputs).
    pub alerts_not_kept: u64,
    /// Zeek records read, parsed, rejected.
    pub zeek: RunStats,
    /// Final counters.
    pub counters: Snapshot,
    /// Alerts that an output failed to write, by output name.
    pub output_errors: Vec<(String, u64)>,
}

/// Sees what a live run analyses: every flow with its enrichment and every alert as it is
/// written (how `serve --store` keeps the evidence). `tick` comes with each status line,
/// `finish` once at the end, after the last flow and alert.
pub trait FlowTap {
    fn flow(&mut self, flow: &Flow, enriched: &Enriched);
    fn alert(&mut self, alert: &Alert);
    fn tick(&mut self);
    fn finish(&mut self);
}

/// The tap of a run that keeps nothing.
#[derive(Debug, Default)]
pub struct NoTap;

impl FlowTap for NoTap {
    fn flow(&mut self, _: &Flow, _: &Enriched) {}
    fn alert(&mut self, _: &Alert) {}
    fn tick(&mut self) {}
    fn finish(&mut self) {}
}

/// Sockets bound and directories checked: ready to run.
#[derive(Debug)]
pub struct Collector {
    sockets: Vec<UdpSocket>,
    /// Granted receive buffer per socket, bytes.
    granted_buffers: Vec<usize>,
    config: ServeConfig,
}

enum Message {
    Datagram(SocketAddr, Vec<u8>),
    Zeek(Record),
}

/// Largest UDP payload.
const MAX_DATAGRAM: usize = 65_535;

impl Collector {
    /// Binds every UDP address and checks every Zeek directory.
    pub fn bind(config: ServeConfig) -> Result<Self, CollectorError> {
        let mut sockets = Vec::new();
        let mut granted_buffers = Vec::new();
        for &addr in &config.netflow {
            let bind_err = |source| CollectorError::Bind { addr, source };
            let socket = socket2::Socket::new(
                socket2::Domain::for_address(addr),
                socket2::Type::DGRAM,
                Some(socket2::Protocol::UDP),
            )
            .map_err(bind_err)?;
            // Ask for a large buffer: exporters send in bursts (a router flushes its
            // cache); what the kernel grants is reported.
            let _ = socket.set_recv_buffer_size(config.recv_buffer);
            socket.bind(&addr.into()).map_err(bind_err)?;
            socket
                .set_read_timeout(Some(Duration::from_millis(100)))
                .map_err(bind_err)?;
            granted_buffers.push(socket.recv_buffer_size().unwrap_or(0));
            sockets.push(UdpSocket::from(socket));
        }
        for dir in &config.zeek_dirs {
            std::fs::read_dir(dir).map_err(|source| CollectorError::ZeekDir {
                dir: dir.clone(),
                source,
            })?;
        }
        Ok(Self {
            sockets,
            granted_buffers,
            config,
        })
    }

    /// The addresses actually bound (port 0 becomes the port the kernel chose).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.sockets
            .iter()
            .filter_map(|s| s.local_addr().ok())
            .collect()
    }

    /// Receive buffer the kernel granted per socket, in bytes.
    pub fn granted_buffers(&self) -> &[usize] {
        &self.granted_buffers
    }

    /// Runs until `stop` is set, then drains, flushes and returns.
    ///
    /// `status` is called with a snapshot every `status_every`; `incidents` every
    /// `incidents_every` when alerts changed, and once at the end.
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        self,
        org: &Org,
        mut decoder: Box<dyn DatagramDecoder>,
        outputs: &mut [Box<dyn AlertOutput>],
        tap: &mut dyn FlowTap,
        stop: &AtomicBool,
        status: &mut dyn FnMut(&Snapshot),
        incidents_changed: &mut dyn FnMut(&[Alert], &[Incident]),
    ) -> ServeOutcome {
        let counters = Counters::default();
        let config = &self.config;
        let ports: Vec<u16> = self.local_addrs().iter().map(SocketAddr::port).collect();
        let (tx, rx) = mpsc::sync_channel::<Message>(config.queue_capacity);
        let mut pipeline = Pipeline::live(org);
        let max_alerts = org.detectors.limits.max_alerts;
        let mut kept: Vec<Alert> = Vec::new();
        let mut not_kept = 0u64;
        let mut written = 0u64;
        let mut output_errors = vec![0u64; outputs.len()];
        let mut flows = Vec::new();
        let mut zeek_stats = RunStats::default();

        std::thread::scope(|scope| {
            for socket in &self.sockets {
                let tx = tx.clone();
                let counters = &counters;
                scope.spawn(move || receive(socket, tx, counters, stop));
            }
            let tail_handle = if config.zeek_dirs.is_empty() {
                None
            } else {
                let tx = tx.clone();
                let counters = &counters;
                let dirs = config.zeek_dirs.clone();
                let every = config.poll_every;
                Some(scope.spawn(move || follow(dirs, every, tx, counters, stop)))
            };
            drop(tx);

            let mut next_status = Instant::now() + config.status_every;
            let mut next_incidents = Instant::now() + config.incidents_every;
            let mut alerts_at_last_write = 0usize;
            let mut write_alerts =
                |pipeline: &mut Pipeline<'_>, kept: &mut Vec<Alert>, tap: &mut dyn FlowTap| {
                    for mut alert in pipeline.take_alerts() {
                        written += 1;
                        alert.id = format!("L{written:06}");
                        tap.alert(&alert);
                        for (out, errors) in outputs.iter_mut().zip(output_errors.iter_mut()) {
                            if out.write_alert(&alert).is_err() {
                                *errors += 1;
                            }
                        }
                        Counters::add(&counters.alerts, 1);
                        if kept.len() < max_alerts {
                            kept.push(alert);
                        } else {
                            not_kept += 1;
                        }
                    }
                };
            loop {
                match rx.recv_timeout(Duration::from_millis(50)) {
                    Ok(msg) => {
                        counters.queue_depth.fetch_sub(1, Ordering::Relaxed);
                        handle(
                            msg,
                            decoder.as_mut(),
                            &mut flows,
                            &mut pipeline,
                            &counters,
                            tap,
                        );
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
                write_alerts(&mut pipeline, &mut kept, tap);
                let now = Instant::now();
                if now >= next_status {
                    next_status = now + config.status_every;
                    tap.tick();
                    status(&Snapshot::take(
                        &counters,
                        decoder.status(),
                        kernel_drops(&ports),
                    ));
                }
                if now >= next_incidents {
                    next_incidents = now + config.incidents_every;
                    if kept.len() != alerts_at_last_write {
                        alerts_at_last_write = kept.len();
                        let incidents = sekisho_correlate::correlate(org, &kept);
                        incidents_changed(&kept, &incidents);
                    }
                }
            }
            if let Some(h) = tail_handle {
                zeek_stats = h.join().unwrap_or_default();
            }
            flows.clear();
            decoder.flush(&mut flows);
            for f in &flows {
                push(&mut pipeline, f, &counters, tap);
            }
            pipeline.flush();
            write_alerts(&mut pipeline, &mut kept, tap);
        });
        tap.finish();

        let incidents = sekisho_correlate::correlate(org, &kept);
        incidents_changed(&kept, &incidents);
        let snapshot = Snapshot::take(&counters, decoder.status(), kernel_drops(&ports));
        ServeOutcome {
            alerts: kept,
            incidents,
            alerts_not_kept: not_kept,
            zeek: zeek_stats,
            counters: snapshot,
            output_errors: outputs
                .iter()
                .zip(output_errors)
                .filter(|(_, n)| *n > 0)
                .map(|(o, n)| (o.name().to_string(), n))
                .collect(),
        }
    }
}

fn handle(
    msg: Message,
    decoder: &mut dyn DatagramDecoder,
    flows: &mut Vec<Flow>,
    pipeline: &mut Pipeline<'_>,
    counters: &Counters,
    tap: &mut dyn FlowTap,
) {
    match msg {
        Message::Datagram(from, bytes) => {
            flows.clear();
            decoder.decode(from, &bytes, flows);
            for f in flows.iter() {
                push(pipeline, f, counters, tap);
            }
        }
        Message::Zeek(Record::Flow(f)) => push(pipeline, &f, counters, tap),
        Message::Zeek(Record::App(a)) => pipeline.add_app_record(&a),
    }
}

fn push(pipeline: &mut Pipeline<'_>, f: &Flow, counters: &Counters, tap: &mut dyn FlowTap) {
    let enriched = pipeline.push_flow(f);
    tap.flow(f, &enriched);
    Counters::add(&counters.flows, 1);
    Counters::add(&counters.flow_bytes, f.orig_bytes + f.resp_bytes);
    Counters::add(&counters.flow_packets, f.orig_pkts + f.resp_pkts);
}

fn enqueue(tx: &SyncSender<Message>, counters: &Counters, msg: Message) -> bool {
    let depth = counters.queue_depth.fetch_add(1, Ordering::Relaxed) + 1;
    counters.queue_peak.fetch_max(depth, Ordering::Relaxed);
    match tx.try_send(msg) {
        Ok(()) => true,
        Err(TrySendError::Full(_)) => {
            counters.queue_depth.fetch_sub(1, Ordering::Relaxed);
            Counters::add(&counters.dropped_backpressure, 1);
            true
        }
        Err(TrySendError::Disconnected(_)) => false,
    }
}

fn receive(socket: &UdpSocket, tx: SyncSender<Message>, counters: &Counters, stop: &AtomicBool) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    while !stop.load(Ordering::Relaxed) {
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                Counters::add(&counters.datagrams, 1);
                Counters::add(&counters.datagram_bytes, n as u64);
                let payload = buf.get(..n).unwrap_or_default().to_vec();
                if !enqueue(&tx, counters, Message::Datagram(from, payload)) {
                    return;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // ICMP port-unreachable echoes and the like: keep receiving.
            Err(_) => {}
        }
    }
    // Whatever the kernel still holds arrived before the stop: take it too.
    let _ = socket.set_nonblocking(true);
    while let Ok((n, from)) = socket.recv_from(&mut buf) {
        Counters::add(&counters.datagrams, 1);
        Counters::add(&counters.datagram_bytes, n as u64);
        let payload = buf.get(..n).unwrap_or_default().to_vec();
        if !enqueue(&tx, counters, Message::Datagram(from, payload)) {
            return;
        }
    }
}

/// Follows Zeek directories; a file is data, not a datagram, so this waits for room in
/// the queue rather than dropping.
fn follow(
    dirs: Vec<PathBuf>,
    every: Duration,
    tx: SyncSender<Message>,
    counters: &Counters,
    stop: &AtomicBool,
) -> RunStats {
    let mut stats = RunStats::default();
    let mut tails: Vec<ZeekTail> = dirs.into_iter().map(ZeekTail::new).collect();
    let mut send = |rec: Record| {
        Counters::add(&counters.zeek_records, 1);
        counters.queue_depth.fetch_add(1, Ordering::Relaxed);
        let _ = tx.send(Message::Zeek(rec));
    };
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        for t in &mut tails {
            t.poll(&mut stats, &mut send);
        }
        if stopping {
            for t in &mut tails {
                t.finish(&mut stats, &mut send);
            }
            return stats;
        }
        std::thread::sleep(every);
    }
}

/// Datagrams the kernel dropped on our UDP ports (Linux `/proc/net/udp{,6}`, last column).
pub fn kernel_drops(ports: &[u16]) -> Option<u64> {
    if ports.is_empty() {
        return None;
    }
    let mut total = None;
    for table in ["/proc/net/udp", "/proc/net/udp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for drops in proc_net_udp_drops(&text, ports) {
            *total.get_or_insert(0) += drops;
        }
    }
    total
}

/// The `drops` of the rows of a `/proc/net/udp` table whose local port is one of `ports`.
fn proc_net_udp_drops(table: &str, ports: &[u16]) -> Vec<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let local = cols.get(1)?;
            let port = u16::from_str_radix(local.rsplit(':').next()?, 16).ok()?;
            if !ports.contains(&port) {
                return None;
            }
            cols.last()?.parse().ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_udp_drops_are_read_for_our_ports_only() {
        let table = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
  123: 0100007F:0807 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 12345 2 0000000000000000 17\n\
  124: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 12346 2 0000000000000000 99\n";
        assert_eq!(proc_net_udp_drops(table, &[2055]), vec![17]);
        assert_eq!(proc_net_udp_drops(table, &[9995]), Vec::<u64>::new());
    }
}
