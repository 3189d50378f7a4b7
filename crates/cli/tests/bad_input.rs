//! Hostile and broken input: every bad record is counted and reported with file and line,
//! and the run goes on to analyse the good ones.

mod common;
use common::*;
use flate2::{Compression, write::GzEncoder};
use std::io::Write;

const HEADER: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\n";

fn line(ts: u64, uid: &str, src: &str, dst: &str, port: u16) -> String {
    format!("{ts}.000000\t{uid}\t{src}\t51000\t{dst}\t{port}\ttcp\t-\t1.0\t100\t200\tSF\n")
}

#[test]
fn bad_records_are_counted_with_file_and_line_and_the_run_goes_on() {
    let dir = scratch("bad-input");
    let zeek = dir.join("zeek/sensor-a");
    std::fs::create_dir_all(&zeek).unwrap();

    // conn.log: good, too many fields, too few, bad IP, invalid UTF-8, header in the
    // middle (with fewer columns), a 10 MB line, then a denied SMB crossing that must
    // still be found.
    let mut text = String::from(HEADER);
    text += &line(1_715_742_000, "Cgood1", "10.0.1.4", "10.0.1.6", 80); // line 8
    text +=
        &line(1_715_742_001, "Cmany", "10.0.1.4", "10.0.1.6", 80).replace("SF\n", "SF\textra\n"); // 9
    text += "1715742002.0\tCfew\t10.0.1.4\n"; // 10
    text += &line(1_715_742_003, "Cbadip", "10.0.1.999", "10.0.1.6", 80); // 11
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(
        b"1715742004.0\tC\xff\xfe\t10.0.1.4\t1\t10.0.1.6\t80\ttcp\t-\t1.0\t1\t1\tSF\n",
    ); // 12
    bytes.extend_from_slice(
        b"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n",
    ); // 13
    bytes.extend_from_slice(b"1715742005.0\tCnew\t10.0.1.4\t1\t10.0.1.6\t81\ttcp\n"); // 14: valid under the new header
    bytes.extend_from_slice(HEADER.as_bytes()); // 15..21
    bytes.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024)); // 22
    bytes.push(b'\n');
    bytes
        .extend_from_slice(line(1_715_742_100, "Cdeny", "10.0.1.4", "192.168.0.4", 445).as_bytes()); // 23
    std::fs::write(zeek.join("conn.log"), &bytes).unwrap();

    // A truncated gzip conn log: two records, then cut.
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(HEADER.as_bytes()).unwrap();
    for i in 0..2000 {
        gz.write_all(
            line(
                1_715_742_200 + i,
                &format!("Cgz{i}"),
                "10.0.1.4",
                "10.0.1.6",
                80,
            )
            .as_bytes(),
        )
        .unwrap();
    }
    let full = gz.finish().unwrap();
    std::fs::write(
        zeek.join("conn.2024-05-15-03-00-00.log.gz"),
        &full[..full.len() / 2],
    )
    .unwrap();

    // Binary garbage with a log-like name.
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(zeek.join("rdp.log"), garbage).unwrap();

    let (code, doc) = analyze_json(&fixture("apt29.org.toml"), &[&dir.join("zeek")]);
    let stats = &doc["stats"];
    let reasons = &stats["rejected_by_reason"];
    // Too many (line 9) and too few (line 10); line 14 fits the header of line 13.
    assert_eq!(reasons["field-count"], 2, "{stats:#}");
    assert_eq!(reasons["bad-field"], 1, "{stats:#}");
    assert_eq!(reasons["invalid-utf8"], 1, "{stats:#}");
    assert_eq!(reasons["line-too-long"], 1, "{stats:#}");
    assert_eq!(reasons["decompression"], 1, "{stats:#}");
    assert_eq!(reasons["unknown-format"], 1, "{stats:#}");
    let samples: Vec<String> = stats["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}:{}:{}",
                s["file"].as_str().unwrap().rsplit('/').next().unwrap(),
                s["line"],
                s["reason"].as_str().unwrap()
            )
        })
        .collect();
    for want in [
        "conn.log:9:field-count",
        "conn.log:10:field-count",
        "conn.log:11:bad-field",
        "conn.log:12:invalid-utf8",
        "conn.log:22:line-too-long",
        "rdp.log:1:unknown-format",
    ] {
        assert!(
            samples.iter().any(|s| s == want),
            "{want} not in {samples:?}"
        );
    }
    assert!(
        samples
            .iter()
            .any(|s| s.starts_with("conn.2024-05-15-03-00-00.log.gz:")
                && s.ends_with(":decompression")),
        "{samples:?}"
    );
    // The good records around the bad ones were all read: 3 in conn.log and the gzip's
    // records before the cut.
    let parsed = stats["parsed"].as_u64().unwrap();
    assert!(parsed > 3 + 100, "{stats:#}");
    // And the last record, after all that, is still analysed: SMB to the Internet, denied.
    assert_eq!(code, 1);
    let alerts = doc["alerts"].as_array().unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a["detector"] == "policy-deny" && a["dst"]["ip"] == "192.168.0.4"),
        "{alerts:#?}"
    );
}

#[test]
fn inputs_with_no_usable_record_exit_2_not_clean() {
    let dir = scratch("nothing-usable");
    std::fs::write(dir.join("conn.log"), b"\x00\x01\x02 not a zeek log\n").unwrap();
    let out = sekisho(&[
        "analyze",
        "--org",
        fixture("apt29.org.toml").to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no record could be read"),
        "{}",
        stderr(&out)
    );
    // The summary still says what was rejected and where.
    assert!(
        stdout(&out).contains("conn.log:1: unknown-format"),
        "{}",
        stdout(&out)
    );
    let empty = scratch("nothing-at-all");
    let out = sekisho(&[
        "analyze",
        "--org",
        fixture("apt29.org.toml").to_str().unwrap(),
        empty.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
}
