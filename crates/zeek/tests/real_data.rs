//! Real Zeek logs nobody on this project wrote (`../shared/data/zeek`, see its MANIFEST).
//! Counts were checked with `zcat FILE | grep -vc '^#'` and `wc -l`.

mod common;

use common::{apps, data_dir, flows, read_files, read_path};
use sekisho_event::{AppKind, AppRecord, ConnState, Flow, Proto, Service, Timestamp, Uid};
use sekisho_zeek::{LogFile, LogKind, Record, discover};
use std::sync::Arc;

fn wrccdc(format: &str, file: &str) -> std::path::PathBuf {
    data_dir().join("zeek/wrccdc-2018").join(format).join(file)
}

/// (log, records in both the TSV and the JSON file)
const WRCCDC_TWINS: &[(&str, usize)] = &[
    ("rdp", 4122),
    ("ntlm", 422),
    ("smb_mapping", 393),
    ("dce_rpc", 78),
    ("kerberos", 11),
    ("ssh", 22),
];

#[test]
fn wrccdc_tsv_and_json_readers_give_identical_app_records() {
    for &(log, count) in WRCCDC_TWINS {
        let (tsv, tsv_stats) = read_path(&wrccdc("tsv", &format!("{log}.log.gz")));
        let (json, json_stats) = read_path(&wrccdc("json", &format!("{log}.json.gz")));
        for stats in [&tsv_stats, &json_stats] {
            assert_eq!(stats.rejected, 0, "{log}: {:?}", stats.samples);
            assert_eq!(stats.parsed, count as u64, "{log}");
            assert_eq!(stats.parsed_by_log.get(log), Some(&(count as u64)), "{log}");
            assert_eq!(stats.skipped, 0, "{log}");
            assert_eq!(stats.files, 1);
        }
        assert!(tsv.iter().all(|r| r.log_name() == log));
        let (tsv, json) = (apps(tsv), apps(json));
        assert_eq!(tsv.len(), count, "{log}");
        // Field by field, including strings with escapes (`\\\\SNOZBERRY\\IPC$` in TSV is
        // `"\\\\SNOZBERRY\\IPC$"` in JSON) and times (epoch floats vs RFC 3339).
        assert_eq!(tsv, json, "{log}: TSV and JSON disagree");
    }
}

#[test]
fn wrccdc_concrete_app_records_match_the_files() {
    let (rdp, _) = read_path(&wrccdc("tsv", "rdp.log.gz"));
    let rdp = apps(rdp);
    // First line of rdp.log.gz.
    assert_eq!(
        rdp[0],
        AppRecord {
            ts: Timestamp::from_micros(1_521_911_721_258_458),
            uid: Uid::new("CMwJl820SlYyy434c8").unwrap(),
            orig_ip: "10.164.94.120".parse().unwrap(),
            orig_port: 39681,
            resp_ip: "10.47.3.155".parse().unwrap(),
            resp_port: 3389,
            kind: AppKind::Rdp {
                cookie: None,
                result: Some("encrypted".into()),
                security_protocol: Some("HYBRID".into()),
                client_name: None,
            },
        }
    );
    let cookies: Vec<_> = rdp
        .iter()
        .filter_map(|a| match &a.kind {
            AppKind::Rdp { cookie, .. } => cookie.as_deref(),
            _ => None,
        })
        .collect();
    assert_eq!(cookies.len(), 23);
    assert_eq!(cookies.iter().filter(|c| **c == "nessus").count(), 11);
    // `client_dig_product_id` is `(empty)` on the nessus lines; `client_name` is set.
    assert!(rdp.iter().any(|a| matches!(&a.kind,
        AppKind::Rdp { cookie: Some(c), client_name: Some(n), .. } if c == "nessus" && n == "tenablese")));

    let (ntlm, _) = read_path(&wrccdc("tsv", "ntlm.log.gz"));
    let ntlm = apps(ntlm);
    let ok = ntlm
        .iter()
        .filter(|a| {
            matches!(
                a.kind,
                AppKind::Ntlm {
                    success: Some(true),
                    ..
                }
            )
        })
        .count();
    assert_eq!(ok, 206);
    assert!(ntlm.iter().any(|a| a.kind
        == AppKind::Ntlm {
            username: Some("Administrator".into()),
            hostname: None,
            domainname: Some("COTTONCANDY".into()),
            success: None,
        }));

    let (smb, _) = read_path(&wrccdc("tsv", "smb_mapping.log.gz"));
    let smb = apps(smb);
    assert_eq!(
        smb[0].kind,
        AppKind::SmbMapping {
            path: Some(r"\\10.47.21.25\ADMIN$".into()),
            share_type: Some("DISK".into()),
        }
    );

    let (ssh, _) = read_path(&wrccdc("json", "ssh.json.gz"));
    let auth: Vec<_> = apps(ssh)
        .iter()
        .map(|a| match &a.kind {
            AppKind::Ssh { auth_success, .. } => *auth_success,
            _ => panic!("not ssh"),
        })
        .collect();
    assert_eq!(auth.iter().filter(|a| **a == Some(true)).count(), 5);
    assert_eq!(auth.iter().filter(|a| **a == Some(false)).count(), 2);
    assert_eq!(auth.iter().filter(|a| a.is_none()).count(), 15);
}

#[test]
fn wrccdc_tsv_folder_parses_app_logs_and_counts_the_others_as_skipped() {
    let files = discover(&[data_dir().join("zeek/wrccdc-2018/tsv")]);
    assert_eq!(files.len(), 14);
    assert!(files.iter().all(|f| &*f.sensor == "tsv"));
    let (records, stats) = read_files(&files);
    assert_eq!(stats.rejected, 0, "{:?}", stats.samples);
    assert_eq!(stats.files, 14);
    let by_log: Vec<_> = stats
        .parsed_by_log
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        by_log,
        vec![
            ("dce_rpc", 78),
            ("kerberos", 11),
            ("ntlm", 422),
            ("rdp", 4122),
            ("smb_files", 13),
            ("smb_mapping", 393),
            ("ssh", 22),
        ]
    );
    // dns 53615 + known_hosts 253 + known_services 1579 + notice 207 + software 376
    // + ssl 49474 + weird 24202: counted, never parsed.
    assert_eq!(stats.skipped, 129_706);
    assert_eq!(records.len(), 5061);
    let smb_files: Vec<_> = records
        .iter()
        .filter(|r| r.log_name() == "smb_files")
        .collect();
    assert!(
        matches!(smb_files[0], Record::App(app) if matches!(&**app, AppRecord { kind: AppKind::SmbFiles {
        action: Some(a), path: None, name: Some(n), size: Some(0) }, .. }
        if a == "SMB::FILE_OPEN" && n == r"\svcctl"))
    );
}

#[test]
fn apt29_conn_logs_parse_whole_with_sensor_from_file_name() {
    let dir = data_dir().join("zeek/otrf-apt29-day1");
    let (nashua, stats) = read_path(&dir.join("NASHUA_conn.log"));
    assert_eq!(stats.rejected, 0, "{:?}", stats.samples);
    assert_eq!(stats.parsed, 479);
    assert_eq!(nashua.len(), 479);
    let nashua = flows(&nashua);
    assert!(nashua.iter().all(|f| &*f.sensor == "NASHUA"));
    // The first line of NASHUA_conn.log, field by field.
    assert_eq!(
        *nashua[0],
        Flow {
            ts: Timestamp::from_micros(1_588_205_199_824_370),
            duration_us: 1528, // 0.001528024673461914 s
            uid: Uid::new("Cvf4XX17hSAgXDdGEd").unwrap(),
            orig_ip: "10.0.1.6".parse().unwrap(),
            orig_port: 54243,
            resp_ip: "10.0.0.4".parse().unwrap(),
            resp_port: 53,
            proto: Proto::Udp,
            service: Service::Dns,
            orig_bytes: 39,
            resp_bytes: 55,
            orig_pkts: 1,
            resp_pkts: 1,
            state: ConnState::SF,
            sensor: Arc::from("NASHUA"),
        }
    );
    // Second line: `gssapi,smb,krb` to 445 is SMB.
    assert_eq!(nashua[1].service, Service::Smb);
    assert_eq!(nashua[1].state, ConnState::RSTO);
    assert_eq!(nashua[1].duration_us, 10_761_077);

    let (scranton, stats) = read_path(&dir.join("SCRANTON_conn.log"));
    assert_eq!(stats.rejected, 0, "{:?}", stats.samples);
    assert_eq!(scranton.len(), 134);
    assert!(flows(&scranton).iter().all(|f| &*f.sensor == "SCRANTON"));
}

#[test]
fn apt29_folder_reads_every_log_without_rejections() {
    let files = discover(&[data_dir().join("zeek/otrf-apt29-day1")]);
    // 26 logs; LICENSE is not a log name and is left out of the walk.
    assert_eq!(files.len(), 26);
    assert_eq!(
        LogFile::new(data_dir().join("zeek/otrf-apt29-day1/SCRANTON_smb_mapping.log")).kind_hint,
        Some(LogKind::SmbMapping)
    );
    let (records, stats) = read_files(&files);
    assert_eq!(stats.rejected, 0, "{:?}", stats.samples);
    let by_log: Vec<_> = stats
        .parsed_by_log
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        by_log,
        vec![
            ("conn", 613),
            ("dce_rpc", 123),
            ("kerberos", 35),
            ("smb_files", 12),
            ("smb_mapping", 11),
        ]
    );
    // dns, dpd, files, http, notice, pe, ssl, weird, x509 of both sensors.
    assert_eq!(stats.skipped, 1346);
    assert_eq!(records.len(), 794);
    let smb = records.iter().find_map(|r| match r {
        Record::App(a) if a.kind.log_name() == "smb_mapping" => Some(a),
        _ => None,
    });
    assert_eq!(
        smb.unwrap().kind,
        AppKind::SmbMapping {
            path: Some(r"\\NEWYORK.dmevals.local\IPC$".into()),
            share_type: Some("PIPE".into()),
        }
    );
}
