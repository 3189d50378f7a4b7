//! EVTX on real attack samples (sbousseaden/EVTX-ATTACK-SAMPLES): every file parses, the
//! record counts equal `evtx_dump`'s (checked by hand for the files named here, for all
//! files by scripts/check-evtx-counts.sh), the normalised fields are right; and damaged
//! copies of a real file are counted, never a panic.

use sekisho_event::{HostEventKind, HostRecord, Outcome};
use sekisho_hostlog::source::{Collected, read_evtx_bytes};
use sekisho_hostlog::{ReadOptions, Verdict, read_paths};
use std::path::PathBuf;

fn samples() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/evtx/evtx-attack-samples"
    ))
}

fn read(rel: &str) -> Collected<Vec<HostRecord>> {
    read_paths(&[samples().join(rel)], &ReadOptions::default())
}

#[test]
fn all_277_samples_parse_with_evtx_dump_record_counts() {
    let run = read_paths::<sekisho_hostlog::CountSink>(&[samples()], &ReadOptions::default());
    let evtx: Vec<_> = run.files.iter().filter(|f| f.format == "evtx").collect();
    assert_eq!(evtx.len(), 277);
    assert!(
        evtx.iter().all(|f| f.rejected == 0),
        "{:?}",
        evtx.iter().filter(|f| f.rejected > 0).collect::<Vec<_>>()
    );
    // `evtx_dump -o jsonl` writes 8255 records for these files (with and without
    // --validate-checksums).
    assert_eq!(evtx.iter().map(|f| f.records).sum::<u64>(), 8255);
    // The licence file is counted as an unknown format, not read as a log.
    assert_eq!(run.stats.rejected_by_reason.get("unknown-format"), Some(&1));
    assert_eq!(run.stats.rejected, 1);
    let count = |name: &str| {
        evtx.iter()
            .find(|f| f.file.ends_with(name))
            .map(|f| f.records)
    };
    assert_eq!(count("Command and Control/bits_openvpn.evtx"), Some(1537));
    assert_eq!(
        count("Defense Evasion/DE_1102_security_log_cleared.evtx"),
        Some(112)
    );
    assert_eq!(
        count("Defense Evasion/DE_104_system_log_cleared.evtx"),
        Some(1)
    );
    assert_eq!(
        count("Lateral Movement/LM_Remote_Service02_7045.evtx"),
        Some(3)
    );
    assert_eq!(
        count("Lateral Movement/LM_WMI_4624_4688_TargetHost.evtx"),
        Some(8)
    );
    assert!(run.sink.logons > 0 && run.sink.events > 0);
}

#[test]
fn security_log_clear_is_an_event_and_a_continuity_break() {
    let run = read("Defense Evasion/DE_1102_security_log_cleared.evtx");
    let clears: Vec<_> = run
        .sink
        .iter()
        .filter_map(|r| match r {
            HostRecord::Event(e) if e.kind == HostEventKind::LogCleared => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(clears.len(), 1);
    let c = clears[0];
    assert_eq!(c.event_id, Some(1102));
    assert_eq!(c.user.as_deref(), Some("user01"));
    assert_eq!(c.domain.as_deref(), Some("EXAMPLE"));
    assert_eq!(c.host.as_deref(), Some("PC01.example.corp"));
    assert_eq!(c.record_id, Some(452811));
    assert_eq!(c.ts.to_string(), "2019-03-19T23:35:07.524202Z");
    let report = run.continuity.report();
    let sec = report.iter().find(|l| l.channel == "Security").unwrap();
    assert_eq!(
        (sec.first_record, sec.last_record, sec.records),
        (452811, 452922, 112)
    );
    let Verdict::Broken { breaks, .. } = &sec.verdict else {
        panic!("{:?}", sec.verdict)
    };
    assert!(
        matches!(&breaks[0], sekisho_hostlog::Break::Cleared { by: Some(u), .. } if u == "user01")
    );
}

#[test]
fn system_log_clear_and_service_install() {
    let run = read("Defense Evasion/DE_104_system_log_cleared.evtx");
    let HostRecord::Event(e) = &run.sink[0] else {
        panic!()
    };
    assert_eq!((e.kind, e.event_id), (HostEventKind::LogCleared, Some(104)));
    assert_eq!(e.object.as_deref(), Some("System"));
    let run = read("Lateral Movement/LM_Remote_Service02_7045.evtx");
    let svc: Vec<_> = run
        .sink
        .iter()
        .filter_map(|r| match r {
            HostRecord::Event(e) if e.kind == HostEventKind::ServiceInstalled => Some(e),
            _ => None,
        })
        .collect();
    assert!(!svc.is_empty());
    assert_eq!(svc[0].object.as_deref(), Some("spoolfool"));
    assert_eq!(svc[0].process.as_deref(), Some("cmd.exe"));
    assert_eq!(svc[0].fields.get("StartType"), Some("auto start"));
}

#[test]
fn network_logon_fields() {
    let run = read("Lateral Movement/LM_WMI_4624_4688_TargetHost.evtx");
    let logons: Vec<_> = run
        .sink
        .iter()
        .filter_map(|r| match r {
            HostRecord::Logon(l) if l.event_id == Some(4624) => Some(l),
            _ => None,
        })
        .collect();
    assert_eq!(logons.len(), 6);
    let l = logons
        .iter()
        .find(|l| l.record_id == Some(563265))
        .expect("record 563265");
    assert_eq!(l.user.as_deref(), Some("WIN-77LTAPHIQ1R$"));
    assert_eq!(l.logon_type, Some(3));
    assert_eq!(l.auth.as_deref(), Some("Kerberos"));
    assert_eq!(l.outcome, Outcome::Success);
    assert_eq!(
        l.source_ip,
        Some("fe80::79bf:8ee2:433c:2567".parse().unwrap())
    );
    assert_eq!(l.source_port, Some(55585));
    assert_eq!(l.session.as_deref(), Some("0x10fac2"));
    assert_eq!(l.host.as_deref(), Some("WIN-77LTAPHIQ1R.example.corp"));
    assert_eq!(l.fields.get("LogonProcessName"), Some("Kerberos"));
}

// ---- damaged input -------------------------------------------------------------------

fn real_bytes() -> Vec<u8> {
    std::fs::read(samples().join("Command and Control/bits_openvpn.evtx")).unwrap()
}

const FILE_HEADER: usize = 4096;
const CHUNK: usize = 65536;

fn run_bytes(bytes: Vec<u8>, validate: bool) -> Collected<Vec<HostRecord>> {
    let opts = ReadOptions {
        validate_checksums: validate,
        ..ReadOptions::default()
    };
    let mut acc = Collected::default();
    read_evtx_bytes(bytes, "damaged.evtx", &opts, &mut acc);
    acc
}

#[test]
fn truncated_file_keeps_whole_chunks_and_counts_the_cut_one() {
    let bytes = real_bytes();
    let whole = run_bytes(bytes.clone(), false);
    assert_eq!(whole.stats.records, 1537);
    let cut = FILE_HEADER + 2 * CHUNK + CHUNK / 2;
    let run = run_bytes(bytes[..cut].to_vec(), false);
    assert!(
        run.stats.records > 0 && run.stats.records < 1537,
        "{:?}",
        run.stats
    );
    assert_eq!(
        run.stats.rejected_by_reason.get("corrupt-chunk"),
        Some(&1),
        "{:?}",
        run.stats
    );
    assert!(
        run.stats.samples[0]
            .detail
            .contains("chunk 2 at offset 0x21000"),
        "{}",
        run.stats.samples[0]
    );
    // Cut inside the file header: the whole file is one counted problem.
    let run = run_bytes(bytes[..100].to_vec(), false);
    assert_eq!(run.stats.records, 0);
    assert_eq!(run.stats.rejected, 1);
}

#[test]
fn bad_checksum_chunk_is_rejected_when_validating() {
    let mut bytes = real_bytes();
    // A byte in the middle of chunk 1's records: the data checksum no longer matches.
    bytes[FILE_HEADER + CHUNK + 20_000] ^= 0x55;
    let run = run_bytes(bytes.clone(), true);
    assert_eq!(
        run.stats.rejected_by_reason.get("corrupt-chunk"),
        Some(&1),
        "{:?}",
        run.stats
    );
    assert!(run.stats.records < 1537);
    // Without validation the chunk is parsed as far as it goes; no panic either way.
    let run = run_bytes(bytes, false);
    assert!(run.stats.records + run.stats.rejected >= 1);
}

#[test]
fn huge_record_size_claim_is_counted() {
    let mut bytes = real_bytes();
    // First record of chunk 0 starts after the 512-byte chunk header: magic, then size.
    let rec = FILE_HEADER + 512;
    assert_eq!(&bytes[rec..rec + 4], b"\x2a\x2a\x00\x00");
    bytes[rec + 4..rec + 8].copy_from_slice(&0x4000_0000u32.to_le_bytes());
    let run = run_bytes(bytes, false);
    assert!(run.stats.rejected >= 1, "{:?}", run.stats);
    assert!(run.stats.records < 1537 + 1);
}

#[test]
fn bad_utf16_and_random_damage_never_panic() {
    let bytes = real_bytes();
    // Unpaired surrogates written over string data in every chunk.
    let mut b = bytes.clone();
    let mut at = FILE_HEADER + 512 + 300;
    while at + 64 < b.len() {
        for k in 0..16 {
            b[at + 2 * k] = 0x00;
            b[at + 2 * k + 1] = 0xD8;
        }
        at += 4099;
    }
    let run = run_bytes(b, false);
    assert!(run.stats.records + run.stats.rejected > 0);
    // Deterministic pseudo-random byte damage (LCG), many rounds.
    let mut seed: u64 = 0x5eed;
    for _ in 0..12 {
        let mut b = bytes.clone();
        for _ in 0..64 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let pos = (seed >> 33) as usize % b.len();
            b[pos] = (seed >> 17) as u8;
        }
        let run = run_bytes(b, false);
        assert!(run.stats.records + run.stats.rejected > 0);
    }
}

#[test]
fn hostile_event_json_is_counted() {
    let dir = std::env::temp_dir().join(format!("sekisho-hostlog-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("events.jsonl");
    // A nesting bomb (serde_json's recursion limit turns it into an error), a huge
    // repeated value (capped per field), a broken line and a good Winlogbeat record.
    let bomb = format!(
        "{{\"winlog\":{{\"event_id\":4624,\"event_data\":{}1{}}}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let big = format!(
        "{{\"@timestamp\":\"2021-05-01T10:00:00Z\",\"winlog\":{{\"channel\":\"Security\",\"event_id\":4625,\"record_id\":1,\"computer_name\":\"h\",\"event_data\":{{\"TargetUserName\":\"{}\"}}}}}}",
        "A".repeat(500_000)
    );
    let text = format!(
        "{bomb}\n{big}\n{{not json\n{{\"@timestamp\":\"2021-05-01T10:00:01Z\",\"winlog\":{{\"channel\":\"Security\",\"event_id\":\"4624\",\"record_id\":2,\"computer_name\":\"h\",\"event_data\":{{\"TargetUserName\":\"bob\",\"LogonType\":\"3\",\"IpAddress\":\"10.1.2.3\"}}}}}}\n"
    );
    std::fs::write(&f, text).unwrap();
    let run = read_paths::<Vec<HostRecord>>(&[f], &ReadOptions::default());
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(run.stats.rejected, 2, "{:?}", run.stats);
    assert_eq!(run.stats.rejected_by_reason.get("bad-json"), Some(&2));
    assert_eq!(run.sink.len(), 2);
    let HostRecord::Logon(l) = &run.sink[0] else {
        panic!()
    };
    assert_eq!(
        l.user.as_ref().map(String::len),
        Some(sekisho_event::Fields::MAX_VALUE)
    );
    assert_eq!(l.fields.truncated, 1);
    assert!(matches!(
        run.continuity.report()[0].verdict,
        Verdict::Continuous { .. }
    ));
}
