//! The store's promises: round trip, idempotence, recovery after a cut, tamper evidence.

use sekisho_event::{
    Alert, AlertEndpoint, ConnState, Flow, Proto, Service, Severity, Timestamp, Uid,
};
use sekisho_store::{
    FlowPlace, InputId, ProblemKind, Scan, Store, StoreWriter, StoredAlert, StoredHostEvent,
    StoredLogon, Table, alert_key, host_event_key, key_id, logon_key, verify,
};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

const DAY: i64 = 86_400_000_000;
const T0: i64 = 1_714_521_600_000_000; // 2024-05-01T00:00:00Z

fn temp_store(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sekisho-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Flow `i`: three sites and the outside, three days, distinct uids and byte counts.
fn flow(i: u64) -> (Flow, Option<&'static str>) {
    let sites = [Some("hq"), Some("th-bkk"), Some("us-nyc"), None];
    let site = sites[(i % 4) as usize];
    let ts = T0 + (i as i64 % 3) * DAY + i as i64 * 1_000;
    let f = Flow {
        ts: Timestamp::from_micros(ts),
        duration_us: i,
        uid: Uid::new(&format!("C{i:08}")).unwrap(),
        orig_ip: format!("10.{}.0.{}", i % 4, i % 250).parse().unwrap(),
        orig_port: 40_000 + (i % 1000) as u16,
        resp_ip: "10.0.0.9".parse().unwrap(),
        resp_port: 445,
        proto: Proto::Tcp,
        service: Service::Smb,
        orig_bytes: i * 3,
        resp_bytes: i * 7,
        orig_pkts: i % 17,
        resp_pkts: i % 19,
        state: ConnState::SF,
        sensor: if i.is_multiple_of(2) {
            "s1".into()
        } else {
            "s2".into()
        },
    };
    (f, site)
}

fn place(site: Option<&str>) -> FlowPlace<'_> {
    FlowPlace {
        partition_site: site,
        src_site: site,
        dst_site: Some("hq"),
        src_asset: None,
        dst_asset: Some("fs01"),
        direction: if site.is_none() {
            "inbound"
        } else {
            "cross-site"
        },
        policy_action: "deny",
        policy_rule: Some("no-smb"),
    }
}

/// Stores flows `range` of one input named `name`; returns the writer's stats.
fn ingest(dir: &Path, name: &str, range: std::ops::Range<u64>, commit_rows: usize) {
    let mut w = StoreWriter::open(dir)
        .unwrap()
        .with_commit_rows(commit_rows);
    let input = w.input(InputId::of_bytes(name.as_bytes()), name);
    for i in range {
        let (f, site) = flow(i);
        w.push_flow(input, &f, &place(site)).unwrap();
    }
    w.complete(input);
    w.finish(None).unwrap();
}

fn stored(dir: &Path) -> Vec<Flow> {
    let mut out = Vec::new();
    Store::open(dir)
        .unwrap()
        .for_each_flow(&Scan::default(), |f| out.push(f.flow))
        .unwrap();
    out.sort_by_key(|f| f.uid);
    out
}

#[test]
fn flows_come_back_as_stored_partitioned_by_day_and_site() {
    let dir = temp_store("roundtrip");
    ingest(&dir, "a", 0..1000, 300);
    let back = stored(&dir);
    let expected: Vec<Flow> = (0..1000).map(|i| flow(i).0).collect();
    assert_eq!(back, expected);
    let store = Store::open(&dir).unwrap();
    let parts: HashSet<(String, String)> = store
        .segments(Table::Flows, &Scan::default())
        .map(|s| (s.day.clone(), s.site.clone()))
        .collect();
    assert_eq!(parts.len(), 12, "3 days x (3 sites + outside): {parts:?}");
    assert!(parts.contains(&("2024-05-03".to_string(), "_external".to_string())));
    for seg in store.segments(Table::Flows, &Scan::default()) {
        let expected = format!("flows/day={}/site={}/", seg.day, seg.site);
        assert!(seg.path.starts_with(&expected), "{}", seg.path);
        assert!(dir.join(&seg.path).is_file());
    }
    // Pruning: one day, one site reads only that partition's rows.
    let mut scan = Scan {
        from: Some(T0 + DAY),
        to: Some(T0 + 2 * DAY),
        sites: Some(["th-bkk".to_string()].into()),
    };
    let mut n = 0;
    store
        .for_each_flow(&scan, |f| {
            assert_eq!(f.site, "th-bkk");
            assert_eq!(f.policy_rule.as_deref(), Some("no-smb"));
            n += 1
        })
        .unwrap();
    let want = (0..1000u64).filter(|i| i % 4 == 1 && i % 3 == 1).count();
    assert_eq!(n, want);
    scan.sites = None;
    assert!(
        store
            .segments(Table::Flows, &scan)
            .all(|s| s.day == "2024-05-02")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The encodings chosen per column (see `flow_file.rs`): unique columns carry no
/// dictionary, `ts` and `src_port` are delta-encoded and left uncompressed, the uid keeps no
/// min/max, the rest keeps Parquet's dictionary; every other chunk is zstd.
#[test]
fn flow_segments_encode_each_column_for_what_it_holds() {
    use parquet::basic::{Compression, Encoding};
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let dir = temp_store("encodings");
    ingest(&dir, "a", 0..2000, 2000);
    let store = Store::open(&dir).unwrap();
    let all = Scan::default();
    // A site's segment: outside every site `src_site` holds only nulls, which need no
    // dictionary.
    let seg = store
        .segments(Table::Flows, &all)
        .find(|s| s.site != "_external")
        .unwrap();
    let file = std::fs::File::open(dir.join(&seg.path)).unwrap();
    let reader = SerializedFileReader::new(file).unwrap();
    let group = reader.metadata().row_group(0);
    let chunk = |name: &str| {
        group
            .columns()
            .iter()
            .find(|c| c.column_path().string() == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let has = |name: &str, e: Encoding| chunk(name).encodings().any(|x| x == e);
    for name in [
        "uid",
        "duration_us",
        "orig_bytes",
        "resp_bytes",
        "ts",
        "src_port",
    ] {
        assert!(
            !has(name, Encoding::RLE_DICTIONARY),
            "{name} has a dictionary"
        );
        assert!(chunk(name).dictionary_page_offset().is_none(), "{name}");
    }
    for name in ["ts", "src_port"] {
        assert!(has(name, Encoding::DELTA_BINARY_PACKED), "{name} not delta");
    }
    for name in [
        "src_ip",
        "dst_ip",
        "service",
        "src_site",
        "direction",
        "orig_pkts",
    ] {
        assert!(
            has(name, Encoding::RLE_DICTIONARY),
            "{name} lost its dictionary"
        );
    }
    assert!(chunk("uid").statistics().is_none(), "uid keeps min/max");
    assert!(
        chunk("ts").statistics().is_some(),
        "ts must keep min/max for pruning"
    );
    for c in group.columns() {
        let name = c.column_path().string();
        if name == "ts" || name == "src_port" {
            assert_eq!(c.compression(), Compression::UNCOMPRESSED, "{name}");
        } else {
            assert!(matches!(c.compression(), Compression::ZSTD(_)), "{name}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn flows_of_one_day_from_alternating_sites_each_land_in_their_site() {
    let dir = temp_store("alternating");
    let mut w = StoreWriter::open(&dir).unwrap();
    let input = w.input(InputId::of_bytes(b"alternating"), "alternating");
    // Runs of one, two and three flows per site, all on one day and then the next.
    let sites = [Some("hq"), Some("th-bkk"), Some("hq"), None, Some("th-bkk")];
    let mut expected = Vec::new();
    for i in 0..300u64 {
        let (mut f, _) = flow(i);
        f.ts = Timestamp::from_micros(T0 + (i as i64 / 150) * DAY + i as i64);
        let site = sites[(i / (1 + i % 3)) as usize % sites.len()];
        w.push_flow(input, &f, &place(site)).unwrap();
        expected.push((f.uid, site.unwrap_or("_external").to_string()));
    }
    w.complete(input);
    w.finish(None).unwrap();
    let mut back = Vec::new();
    Store::open(&dir)
        .unwrap()
        .for_each_flow(&Scan::default(), |f| back.push((f.flow.uid, f.site)))
        .unwrap();
    back.sort();
    expected.sort();
    assert_eq!(back, expected);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn storing_the_same_input_again_adds_nothing() {
    let dir = temp_store("idempotent");
    ingest(&dir, "a", 0..500, 100);
    let head = Store::open(&dir).unwrap().chain_head();
    ingest(&dir, "a", 0..500, 100);
    assert_eq!(stored(&dir).len(), 500);
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.chain_head(), head, "no new segment");
    // Another input is stored.
    ingest(&dir, "b", 500..600, 100);
    assert_eq!(stored(&dir).len(), 600);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_interrupted_input_resumes_after_its_last_commit() {
    let dir = temp_store("resume");
    {
        // A run that commits 2 x 100 flows, then dies with 50 buffered.
        let mut w = StoreWriter::open(&dir).unwrap().with_commit_rows(100);
        let input = w.input(InputId::of_bytes(b"big"), "big");
        for i in 0..250 {
            let (f, site) = flow(i);
            w.push_flow(input, &f, &place(site)).unwrap();
        }
        std::mem::forget(w); // no finish, no drop: as if killed
    }
    assert_eq!(stored(&dir).len(), 200);
    ingest(&dir, "big", 0..1000, 100);
    let back = stored(&dir);
    assert_eq!(back.len(), 1000);
    let uids: HashSet<Uid> = back.iter().map(|f| f.uid).collect();
    assert_eq!(uids.len(), 1000, "no flow twice");
    assert!(verify(&dir).unwrap().is_intact());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_torn_commit_and_stray_staged_files_are_cleaned_on_open() {
    let dir = temp_store("torn");
    ingest(&dir, "a", 0..100, 1000);
    let manifest = dir.join("manifest.jsonl");
    let good = std::fs::read(&manifest).unwrap();
    // Half a commit line (no newline) and a staged file that no commit names.
    let mut torn = good.clone();
    let tail = br#"{"seq":2,"segments":[{"table":"flows","pa"#;
    torn.extend_from_slice(tail);
    std::fs::write(&manifest, &torn).unwrap();
    std::fs::write(dir.join("_staging/deadbeef.parquet.tmp"), b"PAR1 half").unwrap();
    let report = verify(&dir).unwrap();
    assert!(
        report.is_intact(),
        "a torn tail is not tampering: {:?}",
        report.problems
    );
    assert_eq!(report.torn_tail_bytes, Some(tail.len() as u64));
    assert_eq!(report.staged_files, 1);
    drop(StoreWriter::open(&dir).unwrap());
    assert_eq!(std::fs::read(&manifest).unwrap(), good);
    assert_eq!(std::fs::read_dir(dir.join("_staging")).unwrap().count(), 0);
    assert_eq!(stored(&dir).len(), 100);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_committed_segment_left_in_staging_is_put_in_place() {
    let dir = temp_store("replace");
    ingest(&dir, "a", 0..100, 1000);
    let store = Store::open(&dir).unwrap();
    let seg = store
        .segments(Table::Flows, &Scan::default())
        .next()
        .unwrap()
        .clone();
    // As if the run died between the manifest line and the rename: move it back.
    let staged = std::fs::read_dir(dir.join("_staging")).unwrap().count();
    assert_eq!(staged, 0);
    let name = format!("{}.parquet.tmp", &blake3_hex(seg.path.as_bytes())[..32]);
    let staged = dir.join("_staging").join(name);
    std::fs::rename(dir.join(&seg.path), &staged).unwrap();
    // Committed and intact, only not moved yet: not a problem, but told.
    let report = verify(&dir).unwrap();
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!((report.unplaced, report.staged_files), (1, 1));
    // Its bytes are still checked where they lie.
    let good = std::fs::read(&staged).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 1;
    std::fs::write(&staged, &bad).unwrap();
    assert_eq!(verify(&dir).unwrap().problems[0].kind, ProblemKind::Changed);
    std::fs::write(&staged, &good).unwrap();
    // Gone from both places: missing.
    std::fs::rename(&staged, dir.join("elsewhere")).unwrap();
    assert_eq!(verify(&dir).unwrap().problems[0].kind, ProblemKind::Missing);
    std::fs::rename(dir.join("elsewhere"), &staged).unwrap();
    drop(StoreWriter::open(&dir).unwrap());
    let report = verify(&dir).unwrap();
    assert!(report.is_intact());
    assert_eq!((report.unplaced, report.staged_files), (0, 0));
    assert_eq!(stored(&dir).len(), 100);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn blake3_hex(bytes: &[u8]) -> String {
    // The store names staged files by the BLAKE3 of the final path; the id helper is the
    // same hash.
    InputId::of_bytes(bytes).0
}

/// A store with several segments, and their paths in commit order.
fn tamper_store(name: &str) -> (PathBuf, Vec<String>) {
    let dir = temp_store(name);
    ingest(&dir, "a", 0..400, 100);
    let store = Store::open(&dir).unwrap();
    let paths = store
        .segments(Table::Flows, &Scan::default())
        .map(|s| s.path.clone())
        .collect();
    assert!(verify(&dir).unwrap().is_intact());
    (dir, paths)
}

fn kinds(dir: &Path) -> Vec<(ProblemKind, String)> {
    verify(dir)
        .unwrap()
        .problems
        .into_iter()
        .map(|p| (p.kind, p.path))
        .collect()
}

#[test]
fn verify_catches_a_flipped_byte() {
    let (dir, paths) = tamper_store("flip");
    let target = dir.join(&paths[3]);
    let mut bytes = std::fs::read(&target).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&target, bytes).unwrap();
    assert_eq!(kinds(&dir), vec![(ProblemKind::Changed, paths[3].clone())]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn verify_catches_a_deleted_segment() {
    let (dir, paths) = tamper_store("delete");
    std::fs::remove_file(dir.join(&paths[0])).unwrap();
    assert_eq!(kinds(&dir), vec![(ProblemKind::Missing, paths[0].clone())]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn verify_catches_reordered_segments_and_commits() {
    let (dir, paths) = tamper_store("reorder");
    // Swap two files' contents.
    let (a, b) = (dir.join(&paths[1]), dir.join(&paths[2]));
    let (ba, bb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    std::fs::write(&a, &bb).unwrap();
    std::fs::write(&b, &ba).unwrap();
    let mut found = kinds(&dir);
    found.sort();
    let mut want = vec![
        (ProblemKind::Reordered, paths[1].clone()),
        (ProblemKind::Reordered, paths[2].clone()),
    ];
    want.sort();
    assert_eq!(found, want);
    std::fs::write(&a, &ba).unwrap();
    std::fs::write(&b, &bb).unwrap();
    // Swap two commit lines of the manifest.
    let manifest = dir.join("manifest.jsonl");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(0, 1);
    std::fs::write(&manifest, lines.join("\n") + "\n").unwrap();
    let found = kinds(&dir);
    assert!(
        found.iter().any(|(k, _)| *k == ProblemKind::Reordered)
            && found.iter().any(|(k, _)| *k == ProblemKind::ChainBroken),
        "{found:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn verify_catches_an_added_segment() {
    let (dir, paths) = tamper_store("add");
    let extra = "flows/day=2024-05-01/site=hq/part-99999999-0000.parquet";
    std::fs::copy(dir.join(&paths[0]), dir.join(extra)).unwrap();
    assert_eq!(kinds(&dir), vec![(ProblemKind::Added, extra.to_string())]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn alerts_are_stored_once_by_content() {
    let dir = temp_store("alerts");
    let (f, _) = flow(1);
    let endpoint = |ip: &str, site: &str| AlertEndpoint {
        ip: Some(ip.parse().unwrap()),
        site: Some(site.to_string()),
        asset: None,
        country: None,
    };
    let mut a = Alert::for_flow(
        "policy-deny",
        Severity::High,
        &f,
        endpoint("10.1.0.1", "th-bkk"),
        endpoint("10.0.0.9", "hq"),
        "SMB from <script>th</script> to hq".to_string(),
    );
    a.id = "A000001".to_string();
    let stored_alert = |a: &Alert, incident: &str| StoredAlert {
        key: alert_key(a),
        incident: Some(incident.to_string()),
        alert: a.clone(),
    };
    let mut w = StoreWriter::open(&dir).unwrap();
    w.push_alerts(vec![stored_alert(&a, "I001")]).unwrap();
    w.finish(None).unwrap();
    // The same finding under another run's id and incident is the same alert.
    let mut again = a.clone();
    again.id = "A000007".to_string();
    let mut w = StoreWriter::open(&dir).unwrap();
    w.push_alerts(vec![stored_alert(&again, "I003")]).unwrap();
    let stats = w.finish(None).unwrap();
    assert_eq!((stats.alerts_stored, stats.alerts_skipped), (0, 1));
    let back = Store::open(&dir).unwrap().alerts(&Scan::default()).unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].alert, a);
    assert_eq!(back[0].incident.as_deref(), Some("I001"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A 4624 network logon on HQ's file server from a Thailand workstation, read at `line`
/// of `file`.
fn logon(file: &str, line: u64, user: &str) -> sekisho_event::Logon {
    serde_json::from_value(serde_json::json!({
        "ts": "2024-05-01T10:00:00Z",
        "source": "evtx",
        "event_id": 4624,
        "action": "logon",
        "outcome": "success",
        "user": user,
        "domain": "CORP",
        "logon_type": 3,
        "auth": "NTLM",
        "source_ip": "10.1.0.5",
        "host": "hq-fs01",
        "channel": "Security",
        "record_id": line,
        "origin": { "file": file, "line": line },
    }))
    .unwrap()
}

fn stored_logon(l: sekisho_event::Logon, src_site: Option<&str>) -> StoredLogon {
    StoredLogon {
        key: logon_key(&l),
        logon: l,
        src_site: src_site.map(str::to_string),
        src_asset: None,
        host_site: Some("hq".into()),
        host_asset: Some("hq-fs01".into()),
    }
}

#[test]
fn logons_are_stored_once_by_content_in_the_host_site_partition() {
    let dir = temp_store("logons");
    let mut w = StoreWriter::open(&dir).unwrap();
    w.push_logons([
        stored_logon(logon("a/Security.evtx", 7, "alice"), Some("th-bkk")),
        stored_logon(logon("a/Security.evtx", 8, "<b>bob</b>"), None),
    ])
    .unwrap();
    let first = w.finish(None).unwrap();
    assert_eq!((first.logons_stored, first.logons_skipped), (2, 0));
    // The same log read again from another path adds nothing; another record does.
    let mut w = StoreWriter::open(&dir).unwrap();
    w.push_logons([
        stored_logon(logon("copy/Security.evtx", 7, "alice"), Some("th-bkk")),
        stored_logon(logon("copy/Security.evtx", 9, "alice"), Some("th-bkk")),
    ])
    .unwrap();
    let second = w.finish(None).unwrap();
    assert_eq!((second.logons_stored, second.logons_skipped), (1, 1));
    // An org file that now places the host elsewhere does not make it a new record.
    let mut moved = stored_logon(logon("b/Security.evtx", 9, "alice"), Some("th-bkk"));
    moved.host_site = Some("jp-osaka".into());
    let mut w = StoreWriter::open(&dir).unwrap();
    w.push_logons([moved]).unwrap();
    let third = w.finish(None).unwrap();
    assert_eq!((third.logons_stored, third.logons_skipped), (0, 1));

    let store = Store::open(&dir).unwrap();
    let all = Scan::default();
    let segs: Vec<_> = store.segments(Table::Logons, &all).collect();
    assert_eq!(segs.len(), 2);
    assert!(
        segs.iter()
            .all(|s| s.path.starts_with("logons/day=2024-05-01/site=hq/"))
    );
    let mut rows = Vec::new();
    for seg in &segs {
        for b in store.read_segment(seg, &["user", "cross_site"]).unwrap() {
            let col = |name: &str| b.column_by_name(name).unwrap().as_any();
            let user = col("user")
                .downcast_ref::<arrow_array::StringArray>()
                .unwrap();
            let cross = col("cross_site")
                .downcast_ref::<arrow_array::BooleanArray>()
                .unwrap();
            for i in 0..b.num_rows() {
                rows.push((user.value(i).to_string(), cross.value(i)));
            }
        }
    }
    rows.sort();
    assert_eq!(
        rows,
        [
            ("<b>bob</b>".to_string(), false),
            ("alice".to_string(), true),
            ("alice".to_string(), true),
        ]
    );
    assert_eq!(store.keys(Table::Logons, None).unwrap().len(), 3);
    // Keys are held as the 128-bit numbers their hex spells; anything else is hashed.
    let key = logon_key(&logon("a/Security.evtx", 7, "alice"));
    assert!(
        store
            .keys(Table::Logons, None)
            .unwrap()
            .contains(&key_id(&key))
    );
    assert_eq!(key_id("000000000000000000000000000000ff"), 255);
    assert_ne!(key_id("not a key"), key_id("not a key either"));
    assert!(verify(&dir).unwrap().is_intact());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn host_events_are_stored_once_by_content_with_their_fields() {
    let dir = temp_store("host-events");
    let mut install = sekisho_event::HostEvent::new(
        Timestamp::from_micros(T0 + 3_600_000_000),
        sekisho_event::HostSource::Evtx,
        sekisho_event::HostEventKind::ServiceInstalled,
    );
    install.event_id = Some(7045);
    install.host = Some("hq-fs01".into());
    install.object = Some("PSEXESVC".into());
    install.fields.push("ServiceName", "PSEXESVC");
    install
        .fields
        .push("ImagePath", "%SystemRoot%\\PSEXESVC.exe");
    let stored = |e: &sekisho_event::HostEvent, site: Option<&str>| StoredHostEvent {
        key: host_event_key(e),
        event: e.clone(),
        src_site: None,
        src_asset: None,
        host_site: site.map(str::to_string),
        host_asset: None,
    };
    let mut w = StoreWriter::open(&dir).unwrap();
    w.push_host_events([stored(&install, Some("hq"))]).unwrap();
    w.finish(None).unwrap();
    // Read again under another file name: the same record.
    let mut again = install.clone();
    again.origin.file = "copy/System.evtx".into();
    let mut w = StoreWriter::open(&dir).unwrap();
    w.push_host_events([stored(&again, Some("hq"))]).unwrap();
    let stats = w.finish(None).unwrap();
    assert_eq!(
        (stats.host_events_stored, stats.host_events_skipped),
        (0, 1)
    );

    let store = Store::open(&dir).unwrap();
    let all = Scan::default();
    let segs: Vec<_> = store.segments(Table::HostEvents, &all).collect();
    assert_eq!(segs.len(), 1);
    assert!(
        segs[0]
            .path
            .starts_with("host_events/day=2024-05-01/site=hq/")
    );
    let batches = store
        .read_segment(segs[0], &["kind", "object", "fields"])
        .unwrap();
    let view = sekisho_store::BatchView::new(&batches[0]).unwrap();
    let text = |name: &str| view.text(name, 0).unwrap().to_string();
    assert_eq!(text("kind"), "service-installed");
    assert_eq!(text("object"), "PSEXESVC");
    let fields: serde_json::Value = serde_json::from_str(&text("fields")).unwrap();
    assert_eq!(fields["ImagePath"], "%SystemRoot%\\PSEXESVC.exe");
    assert!(verify(&dir).unwrap().is_intact());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_corrupt_manifest_line_in_the_middle_is_an_error_naming_it() {
    let dir = temp_store("badline");
    ingest(&dir, "a", 0..300, 100);
    let manifest = dir.join("manifest.jsonl");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[1] = "{not json".to_string();
    std::fs::write(&manifest, lines.join("\n") + "\n").unwrap();
    let err = verify(&dir).unwrap_err().to_string();
    assert!(err.contains("line 2"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
