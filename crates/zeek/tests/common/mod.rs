//! Helpers shared by the integration tests.

#![allow(dead_code)] // each test binary uses a different subset

use sekisho_event::{AppRecord, Flow, RunStats};
use sekisho_zeek::{LogFile, LogReader, Record};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `<repo root>/../shared/data`: real data beside the repository, never inside it.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// Reads every record of every input, as the engine would.
pub fn read_files(files: &[LogFile]) -> (Vec<Record>, RunStats) {
    let mut stats = RunStats::default();
    let mut out = Vec::new();
    for file in files {
        if let Some(mut reader) = LogReader::open(file, &mut stats) {
            while let Some(record) = reader.next_record(&mut stats) {
                out.push(record);
            }
        }
    }
    (out, stats)
}

pub fn read_path(path: &Path) -> (Vec<Record>, RunStats) {
    read_files(&[LogFile::new(path)])
}

/// Reads in-memory bytes as if they were the file `name`.
pub fn read_bytes(name: &str, bytes: &[u8]) -> (Vec<Record>, RunStats) {
    let file = LogFile::new(name);
    let mut stats = RunStats::default();
    let mut out = Vec::new();
    if let Some(mut reader) = LogReader::from_read(
        &file,
        Box::new(std::io::Cursor::new(bytes.to_vec())),
        &mut stats,
    ) {
        while let Some(record) = reader.next_record(&mut stats) {
            out.push(record);
        }
    }
    (out, stats)
}

pub fn flows(records: &[Record]) -> Vec<&Flow> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Flow(f) => Some(f),
            Record::App(_) => None,
        })
        .collect()
}

pub fn apps(records: Vec<Record>) -> Vec<AppRecord> {
    records
        .into_iter()
        .filter_map(|r| match r {
            Record::App(a) => Some(*a),
            Record::Flow(_) => None,
        })
        .collect()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A conn.log header as Zeek 6 writes it (default fields).
pub const CONN_HEADER: &str = "#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tconn
#open\t2024-04-12-19-29-13
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]
";

/// A good conn line number `i` (distinct uid and port).
pub fn conn_line(i: u32) -> String {
    format!(
        "1521911721.{:06}\tCMwJl820SlYy{:06}\t10.164.94.120\t{}\t10.47.3.155\t445\ttcp\tgssapi,smb,krb\t10.761077\t4020\t1681\tRSTO\t-\t-\t0\tShADdaR\t12\t1307\t11\t2133\t(empty)\n",
        i % 1_000_000,
        i % 1_000_000,
        1024 + i % 60000
    )
}
