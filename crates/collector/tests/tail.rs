//! The Zeek tailer against real file operations: appends, partial lines, rotation by
//! rename (Zeek's way), truncation, over-long lines.

use sekisho_collector::ZeekTail;
use sekisho_event::RunStats;
use sekisho_zeek::Record;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

const HEADER: &str = "#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tconn_state\n";

fn conn_line(i: u32) -> String {
    format!(
        "{}.5\tC{i}\t10.20.0.{}\t5000{}\t10.10.0.5\t445\ttcp\tsmb\tSF\n",
        1_700_000_000 + i,
        i % 200 + 1,
        i % 10
    )
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn poll(tail: &mut ZeekTail, stats: &mut RunStats) -> Vec<String> {
    let mut uids = Vec::new();
    tail.poll(stats, &mut |r| {
        if let Record::Flow(f) = r {
            uids.push(f.uid.to_string());
        }
    });
    uids
}

#[test]
fn appends_partial_lines_and_rotation_lose_nothing_and_repeat_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("conn.log");
    let mut tail = ZeekTail::new(dir.path());
    let mut stats = RunStats::default();

    append(&log, HEADER);
    append(&log, &conn_line(1));
    // Half a line: must wait for its newline.
    let l2 = conn_line(2);
    append(&log, &l2[..10]);
    assert_eq!(poll(&mut tail, &mut stats), vec!["C1"]);
    append(&log, &l2[10..]);
    append(&log, &conn_line(3));
    assert_eq!(poll(&mut tail, &mut stats), vec!["C2", "C3"]);

    // Rotation: Zeek renames the file (more lines may land in it just before) and starts
    // a new one with its own header.
    append(&log, &conn_line(4));
    fs::rename(&log, dir.path().join("conn.2023-11-14-22-00-00.log")).unwrap();
    append(&log, HEADER);
    append(&log, &conn_line(5));
    assert_eq!(poll(&mut tail, &mut stats), vec!["C4", "C5"]);
    assert_eq!(
        poll(&mut tail, &mut stats),
        Vec::<String>::new(),
        "nothing twice"
    );

    // Truncation in place: the new content is read from the start.
    fs::write(&log, format!("{HEADER}{}", conn_line(6))).unwrap();
    assert_eq!(poll(&mut tail, &mut stats), vec!["C6"]);
    assert_eq!(stats.parsed, 6);
    assert_eq!(stats.rejected, 0);
}

#[test]
fn bad_and_over_long_lines_are_counted_where_they_are_and_tailing_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("conn.log");
    let mut tail = ZeekTail::new(dir.path());
    let mut stats = RunStats::default();
    append(&log, HEADER);
    append(&log, "garbage\tline\n");
    // An over-long line written in two parts, across polls.
    let long = "x".repeat(sekisho_zeek::MAX_LINE_BYTES / 2 + 10);
    append(&log, &long);
    assert!(poll(&mut tail, &mut stats).is_empty());
    append(&log, &long);
    append(&log, "\n");
    append(&log, &conn_line(7));
    assert_eq!(poll(&mut tail, &mut stats), vec!["C7"]);
    assert_eq!(stats.rejected, 2, "{:?}", stats.samples);
    let where_: Vec<(u64, &str)> = stats
        .samples
        .iter()
        .map(|s| (s.line, s.reason.as_str()))
        .collect();
    assert_eq!(where_, vec![(4, "field-count"), (5, "line-too-long")]);
    assert!(stats.samples[0].file.ends_with("conn.log"));
}

#[test]
fn rotated_archives_and_unused_logs_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    append(
        &dir.path().join("conn.2023-11-14-21-00-00.log"),
        &format!("{HEADER}{}", conn_line(1)),
    );
    append(&dir.path().join("notes.txt"), "hello\n");
    let mut tail = ZeekTail::new(dir.path());
    let mut stats = RunStats::default();
    assert!(poll(&mut tail, &mut stats).is_empty());
    assert_eq!(stats.files, 0);
}
