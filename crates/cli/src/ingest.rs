//! `sekisho ingest --org ORG.toml --store DIR INPUT...` and `sekisho verify --store DIR`.

use crate::{Failure, analyze, output};
use anyhow::anyhow;
use clap::Args;
use sekisho_engine::{AnalyzeOptions, FlowObserver, Outcome, analyze_paths_with};
use sekisho_event::{Flow, HostEvent, HostRecord, Logon, RunStats};
use sekisho_model::{Enriched, Org};
use sekisho_store::{
    FlowPlace, InputHandle, InputId, StoreError, StoreWriter, StoredAlert, StoredHostEvent,
    StoredLogon, WriteStats, alert_key, host_event_key, job_key, logon_key,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  sekisho ingest --org org.toml --store /srv/sekisho/store /var/log/zeek/\n  sekisho verify --store /srv/sekisho/store\n\nRe-ingesting an input already stored adds nothing; an interrupted ingest resumes where its\nlast commit ended. Exit codes: 0 stored, 2 usage, input or store error."
)]
pub struct IngestArgs {
    /// The organisation file (TOML).
    #[arg(long)]
    pub org: PathBuf,
    /// The store directory (created if missing).
    #[arg(long)]
    pub store: PathBuf,
    /// Print the run's figures as JSON.
    #[arg(long)]
    pub json: bool,
    /// Commit (acknowledge) after this many flows; smaller commits mean more, smaller files.
    #[arg(long, default_value_t = sekisho_store::COMMIT_ROWS, value_name = "FLOWS")]
    pub commit_rows: usize,
    /// Sigma rules (YAML files or directories) to run on the host logs among the inputs;
    /// their alerts are stored with the others. May be repeated.
    #[arg(long, value_name = "PATH")]
    pub sigma: Vec<PathBuf>,
    /// Zeek logs, packet captures, NetFlow/IPFIX files or directories (not stdin: an input
    /// is identified by the hash of its bytes).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The store directory.
    #[arg(long)]
    pub store: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Stores every flow the analysis sees.
struct StoreObserver<'o> {
    org: &'o Org,
    writer: StoreWriter,
    /// Observer handle → writer handle; `None` when the input could not be hashed.
    handles: Vec<Option<InputHandle>>,
    by_path: HashMap<PathBuf, u32>,
    ids: Vec<InputId>,
    /// The first store error: storing stops there and the run fails.
    error: Option<StoreError>,
}

impl FlowObserver for StoreObserver<'_> {
    fn open_file(&mut self, path: &Path, display: &str) -> u32 {
        if let Some(&h) = self.by_path.get(path) {
            return h;
        }
        let handle = match InputId::of_file(path) {
            Ok(id) => {
                self.ids.push(id.clone());
                Some(self.writer.input(id, display))
            }
            Err(e) => {
                self.error.get_or_insert(e);
                None
            }
        };
        let h = self.handles.len() as u32;
        self.handles.push(handle);
        self.by_path.insert(path.to_path_buf(), h);
        h
    }

    fn on_flow(&mut self, file: u32, flow: &Flow, e: &Enriched) {
        if self.error.is_some() {
            return;
        }
        let Some(Some(input)) = self.handles.get(file as usize).copied() else {
            return;
        };
        if let Err(err) = self.writer.push_flow(input, flow, &place(self.org, e)) {
            self.error = Some(err);
        }
    }
}

/// A flow's enrichment as the names the store keeps.
pub fn place<'o>(org: &'o Org, e: &Enriched) -> FlowPlace<'o> {
    let site = |s: Option<sekisho_model::SiteId>| s.map(|s| org.site(s).id.as_str());
    let asset = |a: Option<sekisho_model::AssetId>| a.map(|a| org.asset(a).name.as_str());
    FlowPlace {
        partition_site: site(e.src.site.or(e.dst.site)),
        src_site: site(e.src.site),
        dst_site: site(e.dst.site),
        src_asset: asset(e.src.asset),
        dst_asset: asset(e.dst.asset),
        direction: e.direction.as_str(),
        policy_action: e.verdict.action.as_str(),
        policy_rule: org.rule_name(e.verdict.rule),
    }
}

/// Keeps a live run's flows and alerts in the store (`serve --store`): the session is one
/// input; a commit at every status tick acknowledges what came in since.
pub struct LiveStore<'o> {
    org: &'o Org,
    writer: Option<StoreWriter>,
    input: Option<InputHandle>,
    alerts: Vec<StoredAlert>,
    /// The first store error; storing stops there and it is reported at the end.
    pub error: Option<StoreError>,
    pub stats: WriteStats,
}

impl<'o> LiveStore<'o> {
    pub fn open(org: &'o Org, dir: &Path) -> Result<Self, StoreError> {
        let mut writer = StoreWriter::open(dir)?;
        // A live session has no file to hash: it is named by its start and process, so a
        // later session never counts as already stored.
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let name = format!("serve session {started} pid {}", std::process::id());
        let input = writer.input(InputId::of_bytes(name.as_bytes()), &name);
        Ok(Self {
            org,
            writer: Some(writer),
            input: Some(input),
            alerts: Vec::new(),
            error: None,
            stats: WriteStats::default(),
        })
    }

    fn commit(&mut self, last: bool) {
        let Some(w) = self.writer.as_mut() else {
            return;
        };
        let alerts = std::mem::take(&mut self.alerts);
        let result = w.push_alerts(alerts).and_then(|_| {
            if last && let Some(i) = self.input {
                w.complete(i);
            }
            w.commit(None)
        });
        if let Err(e) = result {
            self.error.get_or_insert(e);
        }
        self.stats = w.stats().clone();
    }
}

impl sekisho_collector::FlowTap for LiveStore<'_> {
    fn flow(&mut self, flow: &Flow, e: &Enriched) {
        if self.error.is_some() {
            return;
        }
        if let (Some(w), Some(i)) = (self.writer.as_mut(), self.input)
            && let Err(err) = w.push_flow(i, flow, &place(self.org, e))
        {
            self.error = Some(err);
        }
    }

    fn alert(&mut self, alert: &sekisho_event::Alert) {
        self.alerts.push(StoredAlert {
            key: alert_key(alert),
            incident: None,
            alert: alert.clone(),
        });
    }

    fn tick(&mut self) {
        self.commit(false);
    }

    fn finish(&mut self) {
        self.commit(true);
    }
}

pub fn run(args: IngestArgs) -> Result<u8, Failure> {
    let org = Org::load(&args.org).map_err(|e| Failure::input(anyhow!("{e}")))?;
    if args.inputs.iter().any(|p| p.as_os_str() == "-") {
        return Err(Failure::input(anyhow!(
            "ingest cannot read stdin: an input is identified by the hash of its bytes; write it to a file first"
        )));
    }
    analyze::check_inputs(&args.inputs)?;
    let options = AnalyzeOptions {
        host_rules: crate::sigma::load_for_run(&args.sigma)?,
    };
    let writer = StoreWriter::open(&args.store)
        .map_err(|e| Failure::input(anyhow!("{e}")))?
        .with_commit_rows(args.commit_rows);
    let (outcome, stats, figures) = ingest(&org, &args.inputs, &options, writer)?;
    if args.json {
        let doc = serde_json::json!({
            "stats": stats,
            "stored": {
                "flows": figures.flows_stored,
                "flows_already_stored": figures.flows_skipped,
                "alerts": figures.alerts_stored,
                "alerts_already_stored": figures.alerts_skipped,
                "logons": figures.logons_stored,
                "logons_already_stored": figures.logons_skipped,
                "host_events": figures.host_events_stored,
                "host_events_already_stored": figures.host_events_skipped,
                "commits": figures.commits,
                "segments": figures.segments,
                "bytes": figures.bytes_written,
            },
            "incidents": outcome.incidents.len(),
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).map_err(anyhow::Error::from)?
        );
    } else {
        print!("{}", stats_lines(&stats));
        println!(
            "stored: {} flows ({} already stored), {} alerts ({} already stored), {} logons ({} already stored), {} host events ({} already stored), {} segments, {} bytes in {} commits",
            figures.flows_stored,
            figures.flows_skipped,
            figures.alerts_stored,
            figures.alerts_skipped,
            figures.logons_stored,
            figures.logons_skipped,
            figures.host_events_stored,
            figures.host_events_skipped,
            figures.segments,
            figures.bytes_written,
            figures.commits
        );
        print!("{}", analyze::limits_note(&outcome));
        let head = sekisho_store::Store::open(&args.store)
            .map(|s| s.chain_head())
            .unwrap_or_default();
        println!("chain head: {head}");
    }
    if stats.parsed == 0 {
        eprintln!(
            "error: no record could be read from the inputs ({} rejected, {} files)",
            stats.rejected, stats.files
        );
        return Ok(2);
    }
    Ok(0)
}

/// Analyses the inputs, storing every flow and, at the end, every alert and every record of
/// the host logs among them.
pub fn ingest(
    org: &Org,
    inputs: &[PathBuf],
    options: &AnalyzeOptions,
    writer: StoreWriter,
) -> Result<(Outcome, RunStats, WriteStats), Failure> {
    let mut observer = StoreObserver {
        org,
        writer,
        handles: Vec::new(),
        by_path: HashMap::new(),
        ids: Vec::new(),
        error: None,
    };
    let bar = output::reading_bar();
    let (outcome, stats) = analyze_paths_with(
        org,
        inputs,
        options,
        &mut |p| output::show(&bar, p),
        &mut observer,
    );
    bar.finish_and_clear();
    let store_failed = |e: StoreError| Failure::input(anyhow!("store: {e}"));
    if let Some(e) = observer.error.take() {
        return Err(store_failed(e));
    }
    let mut incident_of: HashMap<&str, &str> = HashMap::new();
    for inc in &outcome.incidents {
        for a in &inc.alert_ids {
            incident_of.insert(a.as_str(), inc.id.as_str());
        }
    }
    let alerts: Vec<StoredAlert> = outcome
        .alerts
        .iter()
        .map(|a| StoredAlert {
            key: alert_key(a),
            incident: incident_of.get(a.id.as_str()).map(|s| s.to_string()),
            alert: a.clone(),
        })
        .collect();
    let mut writer = observer.writer;
    writer.push_alerts(alerts).map_err(store_failed)?;
    store_host_records(org, inputs, &mut writer).map_err(store_failed)?;
    for h in observer.handles.iter().flatten() {
        writer.complete(*h);
    }
    let job = job_key(&observer.ids);
    let figures = writer.finish(Some(job)).map_err(store_failed)?;
    Ok((outcome, stats, figures))
}

/// Stores every record of the host logs among the inputs: logons, failed logons and logoffs
/// in `logons`, the rest in `host_events`, placed in the org as `sekisho logons` places
/// them. The analysis has read and counted these files already; they are read again here
/// one at a time, so memory holds one file's records, not every host log's.
fn store_host_records(
    org: &Org,
    inputs: &[PathBuf],
    writer: &mut StoreWriter,
) -> Result<(), StoreError> {
    let opts = sekisho_hostlog::ReadOptions::default();
    for path in sekisho_engine::host_files(inputs) {
        let mut read =
            sekisho_hostlog::Collected::<Vec<HostRecord>>::new(opts.gap_threshold_micros);
        sekisho_hostlog::source::read_file(&path, &opts, 0, &mut read);
        let (mut logons, mut events) = (Vec::new(), Vec::new());
        for r in read.sink {
            match r {
                HostRecord::Logon(l) => logons.push(stored_logon(org, l)),
                HostRecord::Event(e) => events.push(stored_host_event(org, e)),
            }
        }
        writer.push_logons(logons)?;
        writer.push_host_events(events)?;
    }
    Ok(())
}

/// The site id and asset name of one end of a host record, by address, else by host name.
fn place_named(
    org: &Org,
    ip: Option<std::net::IpAddr>,
    host: Option<&str>,
) -> (Option<String>, Option<String>) {
    let (site, asset) = sekisho_hostlog::place_end(org, ip, host);
    (
        site.map(|s| org.site(s).id.clone()),
        asset.map(|a| org.asset(a).name.clone()),
    )
}

fn stored_host_event(org: &Org, event: HostEvent) -> StoredHostEvent {
    let (src_site, src_asset) = place_named(org, event.source_ip, None);
    let (host_site, host_asset) = place_named(org, None, event.host.as_deref());
    StoredHostEvent {
        key: host_event_key(&event),
        event,
        src_site,
        src_asset,
        host_site,
        host_asset,
    }
}

fn stored_logon(org: &Org, logon: Logon) -> StoredLogon {
    let (src_site, src_asset) = place_named(org, logon.source_ip, logon.source_host.as_deref());
    let (host_site, host_asset) = place_named(org, logon.host_ip, logon.host.as_deref());
    StoredLogon {
        key: logon_key(&logon),
        logon,
        src_site,
        src_asset,
        host_site,
        host_asset,
    }
}

/// Records read, parsed and rejected (with reasons).
pub fn stats_lines(stats: &RunStats) -> String {
    let mut s = format!(
        "records: {} read, {} parsed, {} rejected ({} files, {} bytes)\n",
        stats.records, stats.parsed, stats.rejected, stats.files, stats.bytes
    );
    for (reason, n) in &stats.rejected_by_reason {
        s += &format!("  rejected {reason}: {n}\n");
    }
    for r in stats.samples.iter().take(5) {
        s += &format!("  e.g. {r}\n");
    }
    s
}

pub fn verify(args: VerifyArgs) -> Result<u8, Failure> {
    let report = sekisho_store::verify(&args.store).map_err(|e| Failure::input(anyhow!("{e}")))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(anyhow::Error::from)?
        );
    } else {
        println!(
            "{} commits, {} segments, {} rows, {} bytes re-read",
            report.commits, report.segments, report.rows, report.bytes
        );
        println!("chain head: {}", report.chain_head);
        if let Some(n) = report.torn_tail_bytes {
            println!(
                "note: the manifest ends with {n} bytes of an interrupted commit (not evidence; the next ingest removes them)"
            );
        }
        if report.unplaced > 0 {
            println!(
                "note: {} committed segments are still in staging, intact (a run stopped before moving them; the next ingest does)",
                report.unplaced
            );
        }
        if report.staged_files > report.unplaced {
            println!(
                "note: {} staged files of an interrupted run (never committed)",
                report.staged_files - report.unplaced
            );
        }
        for p in &report.problems {
            println!(
                "{}: {} ({})",
                serde_json::to_value(&p.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                p.path,
                p.detail
            );
        }
        println!(
            "{}",
            if report.is_intact() {
                "intact: every committed segment is as recorded and nothing was added"
            } else {
                "NOT INTACT"
            }
        );
    }
    Ok(if report.is_intact() { 0 } else { 1 })
}
