//! Hostile and broken input: every bad record is counted with its file and line, and the
//! reader goes on to the next good record.

mod common;

use common::{CONN_HEADER, conn_line, flows, gzip, read_bytes, read_files};
use sekisho_event::{MAX_REJECTION_SAMPLES, RejectReason, RunStats};
use sekisho_zeek::{LogFile, LogReader, MAX_LINE_BYTES, Record};
use std::path::PathBuf;

/// Header lines in [`CONN_HEADER`]; data starts on the next line.
const HEADER_LINES: u64 = 8;

/// (line, reason) of every rejection, in order.
fn positions(stats: &RunStats) -> Vec<(u64, RejectReason)> {
    assert!(stats.samples.len() < MAX_REJECTION_SAMPLES);
    stats.samples.iter().map(|s| (s.line, s.reason)).collect()
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("zeek-bad-input-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn bad_tsv_lines_are_counted_at_their_line_and_reading_goes_on() {
    let good = conn_line(1);
    let cols: Vec<&str> = good.trim_end().split('\t').collect();
    let with = |i: usize, v: &str| {
        let mut c = cols.clone();
        c[i] = v;
        c.join("\t")
    };
    let lines = [
        good.trim_end().to_string(),           // 9 ok
        format!("{}\textra", good.trim_end()), // 10 too many fields
        cols[..cols.len() - 3].join("\t"),     // 11 too few fields
        with(2, "10.164.94.x"),                // 12 IP that is not an IP
        with(3, "http"),                       // 13 port that is not a number
        with(3, "65536"),                      // 14 port out of range
        with(0, "-"),                          // 15 ts unset
        with(1, "C".repeat(32).as_str()),      // 16 uid longer than Uid::MAX_LEN
        with(9, "lots"),                       // 17 bytes not a number
        with(8, "-3.0"),                       // 18 negative duration
        with(6, "(empty)"),                    // 19 proto empty
        String::new(),                         // 20 blank: ignored
        with(15, "Sh\u{1b}[2J"),               // 21 ok: history is not read
        good.trim_end().to_string(),           // 22 ok
    ];
    // 23: invalid UTF-8 in a field we keep (uid); 24: in one we do not (history): fine.
    let mut line23 = with(1, "CX").into_bytes();
    let at = line23.iter().position(|&c| c == b'X').unwrap();
    line23[at] = 0xff;
    let mut line24 = with(15, "SX").into_bytes();
    let at = line24.iter().position(|&c| c == b'X').unwrap();
    line24[at] = 0xfe;
    let mut bytes = CONN_HEADER.as_bytes().to_vec();
    for l in &lines {
        bytes.extend_from_slice(l.as_bytes());
        bytes.push(b'\n');
    }
    for l in [line23, line24] {
        bytes.extend_from_slice(&l);
        bytes.push(b'\n');
    }
    // 25: a header in the middle of the data replacing the columns, then a line of the
    // new shape (26) and one of the old (27).
    bytes.extend_from_slice(
        b"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n\
          1.5\tCnew\t10.0.0.1\t1\t10.0.0.2\t22\ttcp\n",
    );
    bytes.extend_from_slice(good.as_bytes());

    let (records, stats) = read_bytes("sensorA/conn.log", &bytes);
    use RejectReason::*;
    assert_eq!(
        positions(&stats),
        vec![
            (10, FieldCount),
            (11, FieldCount),
            (12, BadField),
            (13, BadField),
            (14, BadField),
            (15, MissingField),
            (16, BadField),
            (17, BadField),
            (18, BadField),
            (19, MissingField),
            (23, InvalidUtf8),
            (27, FieldCount),
        ]
    );
    let flows = flows(&records);
    assert_eq!(flows.len(), 5);
    assert_eq!(flows[3].uid.as_str(), "CMwJl820SlYy000001"); // line 24
    assert_eq!(flows[4].uid.as_str(), "Cnew");
    assert_eq!((stats.parsed, stats.rejected, stats.records), (5, 12, 17));
    let sample = |line| stats.samples.iter().find(|s| s.line == line).unwrap();
    assert_eq!(sample(12).file, "sensorA/conn.log");
    assert_eq!(sample(12).detail, "id.orig_h: \"10.164.94.x\"");
    assert_eq!(sample(13).detail, "id.orig_p: \"http\"");
    assert_eq!(sample(10).detail, "expected 21 fields, found 22");
    assert_eq!(sample(16).detail, format!("uid: \"{}\"", "C".repeat(32)));
    assert_eq!(sample(23).detail, "uid: \"C\\xff\"");
}

#[test]
fn data_before_any_header_is_rejected_until_the_header_comes() {
    let mut text = String::from("1.5\tC1\t10.0.0.1\t1\n");
    text.push_str(CONN_HEADER);
    text.push_str(&conn_line(1));
    // Header lines come first for `#`-sniffing; a stray data line first means not TSV...
    let (_, stats) = read_bytes("conn.log", text.as_bytes());
    assert_eq!(positions(&stats), vec![(1, RejectReason::UnknownFormat)]);
    // ...but after a comment line it is a TSV data line without `#fields`.
    let text = format!("#comment\n1.5\tC1\n{CONN_HEADER}{}", conn_line(1));
    let (records, stats) = read_bytes("conn.log", text.as_bytes());
    assert_eq!(positions(&stats), vec![(2, RejectReason::NoHeader)]);
    assert_eq!(records.len(), 1);
}

#[test]
fn bad_json_lines_are_counted_and_reading_goes_on() {
    let good = r#"{"_path":"conn","ts":1.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":445,"proto":"tcp"}"#;
    let mut bytes = Vec::new();
    for l in [
        good,                                                    // 1
        "[1,2,3]",                                               // 2 not an object
        "\"just a string\"",                                     // 3 not an object
        r#"{"_path":"conn","ts":1.5,"uid":"C1""#,                // 4 truncated
        &good.replace("\"10.0.0.1\"", "\"::g\""),                // 5 not an IP
        &good.replace("\"id.orig_p\":1", "\"id.orig_p\":\"x\""), // 6 port not a number
        &good.replace("\"proto\":\"tcp\"", "\"p\":1"),           // 7 no proto
        r#"{"_path":"dns","ts":"not parsed at all"#,             // 8 skipped log
        good,                                                    // 9
    ] {
        bytes.extend_from_slice(l.as_bytes());
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(b"{\"_path\":\"conn\",\"uid\":\"\xff\"}\n"); // 10 invalid UTF-8
    bytes.extend_from_slice(good.as_bytes()); // 11, no final newline
    let (records, stats) = read_bytes("x/conn.json", &bytes);
    use RejectReason::*;
    assert_eq!(
        positions(&stats),
        vec![
            (2, BadJson),
            (3, BadJson),
            (4, BadJson),
            (5, BadField),
            (6, BadField),
            (7, MissingField),
            (10, InvalidUtf8),
        ]
    );
    assert_eq!(records.len(), 3);
    assert_eq!(stats.skipped, 1);
    assert_eq!(stats.parsed_by_log["conn"], 3);
}

/// A gzip file cut or damaged in the middle keeps the records before the damage and
/// reports one decompression rejection at the line reached.
#[test]
fn truncated_or_corrupt_gzip_keeps_the_records_before_the_damage() {
    let mut text = CONN_HEADER.to_string();
    for i in 0..5000 {
        text.push_str(&conn_line(i));
    }
    let gz = gzip(text.as_bytes());
    // Cut short: the records before the cut are kept, whole, and nothing after.
    for (what, damaged) in [
        ("truncated", gz[..gz.len() / 2].to_vec()),
        ("no trailer", gz[..gz.len() - 4].to_vec()),
    ] {
        let (records, stats) = read_bytes("conn.log.gz", &damaged);
        let parsed = records.len() as u64;
        assert!(parsed > 100, "{what}: {parsed}");
        assert!(parsed < 5000 || what == "no trailer", "{what}: {parsed}");
        for (i, f) in flows(&records).iter().enumerate() {
            assert_eq!(f.uid.as_str(), format!("CMwJl820SlYy{i:06}"), "{what}");
        }
        let rejections = positions(&stats);
        let (line, reason) = *rejections.last().unwrap();
        assert_eq!(reason, RejectReason::Decompression, "{what}");
        assert_eq!(stats.samples.last().unwrap().file, "conn.log.gz");
        // The line reached: the one after the last complete line. A line cut by the end
        // of data is dropped, not parsed from half its bytes.
        assert_eq!(line, HEADER_LINES + parsed + 1, "{what}: {rejections:?}");
        assert_eq!(rejections.len(), 1, "{what}: {rejections:?}");
    }
    // Corrupt in the middle: deflate has no per-block check, so damaged lines come out
    // as garbage (rejected as such) until gzip's CRC fails at the end of the member; that
    // failure is the one decompression rejection.
    let mut corrupt = gz.clone();
    let mid = corrupt.len() / 2;
    for b in &mut corrupt[mid..mid + 64] {
        *b = !*b;
    }
    let (records, stats) = read_bytes("conn.log.gz", &corrupt);
    assert_eq!(stats.rejected_by_reason["decompression"], 1);
    assert!(stats.rejected > 1);
    let kept = flows(&records);
    assert!(kept.len() > 2000 && kept.len() < 5000, "{}", kept.len());
    for (i, f) in kept[..2000].iter().enumerate() {
        assert_eq!(f.uid.as_str(), format!("CMwJl820SlYy{i:06}"));
    }
}

#[test]
fn garbage_files_are_rejected_whole_and_the_run_continues() {
    let dir = scratch_dir("garbage");
    let mut noise = Vec::new();
    let mut x: u32 = 0x1234_5678;
    for _ in 0..100_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.push(x as u8);
    }
    noise[0] = 0x7f; // ELF-like, neither `#`, `{` nor gzip
    std::fs::write(dir.join("conn.log"), &noise).unwrap();
    // Gzip whose content is garbage.
    std::fs::write(dir.join("dns.log.gz"), gzip(&noise)).unwrap();
    // Gzip magic followed by garbage.
    let mut fake = vec![0x1f, 0x8b];
    fake.extend_from_slice(&noise[..1000]);
    std::fs::write(dir.join("fake.log.gz"), &fake).unwrap();
    let mut good = CONN_HEADER.to_string();
    good.push_str(&conn_line(7));
    std::fs::write(dir.join("zz_good.log"), good).unwrap();
    let files = vec![
        LogFile::new(dir.join("conn.log")),
        LogFile::new(dir.join("dns.log.gz")),
        LogFile::new(dir.join("fake.log.gz")),
        LogFile::new(dir.join("missing.log")),
        LogFile::new(dir.clone()),
        LogFile::new(dir.join("zz_good.log")),
    ];
    let (records, stats) = read_files(&files);
    let got: Vec<_> = stats
        .samples
        .iter()
        .map(|s| {
            (
                s.file.rsplit('/').next().unwrap().to_string(),
                s.line,
                s.reason,
            )
        })
        .collect();
    let dir_name = dir.file_name().unwrap().to_string_lossy().into_owned();
    use RejectReason::*;
    assert_eq!(
        got,
        vec![
            ("conn.log".to_string(), 1, UnknownFormat),
            ("dns.log.gz".to_string(), 1, UnknownFormat),
            ("fake.log.gz".to_string(), 1, Decompression),
            ("missing.log".to_string(), 0, Io),
            (dir_name, 0, Io),
        ]
    );
    assert!(
        stats.samples[0].detail.len() < 100,
        "{}",
        stats.samples[0].detail
    );
    assert_eq!(records.len(), 1);
    assert_eq!(flows(&records)[0].uid.as_str(), "CMwJl820SlYy000007");
    assert_eq!(stats.records, 1);
}

#[test]
fn a_10_mb_line_is_skipped_with_bounded_memory() {
    for json in [false, true] {
        let (header, good) = if json {
            (
                String::new(),
                r#"{"_path":"conn","ts":1.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":445,"proto":"tcp"}"#
                    .to_string()
                    + "\n",
            )
        } else {
            (CONN_HEADER.to_string(), conn_line(1))
        };
        let mut bytes = header.into_bytes();
        bytes.extend_from_slice(good.as_bytes());
        let mut huge = good.trim_end().as_bytes().to_vec();
        huge.resize(10 << 20, b'A');
        bytes.extend_from_slice(&huge);
        bytes.push(b'\n');
        bytes.extend_from_slice(good.as_bytes());
        let first_data = if json { 1 } else { HEADER_LINES + 1 };

        let mut stats = RunStats::default();
        let file = LogFile::new("big/conn.log");
        let mut reader =
            LogReader::from_read(&file, Box::new(std::io::Cursor::new(bytes)), &mut stats).unwrap();
        let mut records = Vec::new();
        while let Some(r) = reader.next_record(&mut stats) {
            records.push(r);
            // Never more than the limit held, however long the line.
            assert!(reader.line_buffer_capacity() <= MAX_LINE_BYTES * 2);
        }
        assert!(reader.line_buffer_capacity() <= MAX_LINE_BYTES * 2);
        assert_eq!(records.len(), 2, "json={json}");
        assert!(records.iter().all(|r| matches!(r, Record::Flow(_))));
        assert_eq!(
            positions(&stats),
            vec![(first_data + 1, RejectReason::LineTooLong)]
        );
        assert!(stats.samples[0].detail.starts_with("10485760 bytes"));
        assert!(stats.samples[0].detail.len() < 150);
        assert!(stats.bytes > 10 << 20);
    }
}

#[test]
fn stats_count_files_bytes_and_skipped_records() {
    let mut text = CONN_HEADER.replace("#path\tconn", "#path\tdns");
    for i in 0..10 {
        text.push_str(&conn_line(i));
    }
    let (records, stats) = read_bytes("conn.log", &gzip(text.as_bytes()));
    assert!(records.is_empty());
    assert_eq!(stats.skipped, 10);
    assert_eq!(stats.files, 1);
    // Decompressed bytes, not file bytes.
    assert_eq!(stats.bytes, text.len() as u64);
    assert_eq!((stats.records, stats.rejected), (0, 0));
}
