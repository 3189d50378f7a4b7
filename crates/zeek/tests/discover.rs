//! Finding log files, naming their sensor and log from the path.

use sekisho_zeek::{LogFile, LogKind, discover, kind_from_file_name, sensor_name};
use std::path::{Path, PathBuf};

#[test]
fn rotated_and_prefixed_names_are_recognised() {
    for name in [
        "conn.log",
        "conn.log.gz",
        "conn.2024-01-01-00-00-00.log.gz",
        "conn.00:00:00-01:00:00.log.gz",
        "conn.json",
        "conn.json.gz",
        "NASHUA_conn.log",
        "Site-2_conn.json.gz",
    ] {
        assert_eq!(kind_from_file_name(name), Some(LogKind::Conn), "{name}");
    }
    assert_eq!(
        kind_from_file_name("SCRANTON_smb_mapping.log"),
        Some(LogKind::SmbMapping)
    );
    assert_eq!(
        kind_from_file_name("dns.00:00:00-01:00:00.log.gz"),
        Some(LogKind::Other("dns".into()))
    );
    // `known_hosts` is a log, not sensor `known` + log `hosts`.
    assert_eq!(
        kind_from_file_name("known_hosts.log"),
        Some(LogKind::Other("known_hosts".into()))
    );
    assert_eq!(kind_from_file_name("LICENSE"), None);
    assert_eq!(kind_from_file_name("capture.pcap"), None);
}

#[test]
fn sensor_comes_from_the_name_prefix_else_the_folder() {
    let s = |p: &str| sensor_name(Path::new(p));
    assert_eq!(s("/data/zeek/NASHUA_conn.log"), "NASHUA");
    assert_eq!(s("/data/zeek/Scranton_dce_rpc.log"), "Scranton");
    // Lower-case prefix: not a sensor name (could be part of a log name).
    assert_eq!(s("/data/tokyo-dc/lower_conn.log"), "tokyo-dc");
    assert_eq!(s("/data/NASHUA_notalog.log"), "data");
    assert_eq!(s("/sensors/osaka/conn.log.gz"), "osaka");
    // Zeek's archive puts each day in a dated folder: the sensor is above it.
    assert_eq!(
        s("/sensors/osaka/2024-01-01/conn.00:00:00-01:00:00.log.gz"),
        "osaka"
    );
    assert_eq!(s("conn.log"), "default");
    let stdin = LogFile::new("-");
    assert!(stdin.is_stdin());
    assert_eq!((&*stdin.sensor, stdin.display.as_str()), ("stdin", "-"));
    let f = LogFile::new("/sensors/osaka/NASHUA_ssh.log");
    assert_eq!(
        (&*f.sensor, f.kind_hint.clone(), f.display.as_str()),
        (
            "NASHUA",
            Some(LogKind::Ssh),
            "/sensors/osaka/NASHUA_ssh.log"
        )
    );
}

#[test]
fn directories_are_walked_recursively_in_sorted_order() {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("zeek-discover-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    for (path, body) in [
        ("b/NASHUA_conn.log", "{}"),
        ("a/conn.log", "#"),
        ("a/sub/dns.log.gz", ""),
        ("a/LICENSE", "text"),
        ("a/.status.log", "hidden"),
        ("a/.state/conn.log", "hidden"),
        ("c/2024-01-01/conn.00:00:00-01:00:00.log.gz", ""),
        ("c/2024-01-01/stats.json", ""),
        ("Z.json", "{}"),
    ] {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    let missing = root.join("missing.log");
    let found = discover(&[
        root.clone(),
        PathBuf::from("-"),
        root.join("a/LICENSE"),
        missing.clone(),
    ]);
    let rel: Vec<_> = found
        .iter()
        .map(|f| {
            let p = f.path.strip_prefix(&root).unwrap_or(&f.path);
            (p.to_string_lossy().into_owned(), f.sensor.to_string())
        })
        .collect();
    let expect = |p: &str, s: &str| (p.to_string(), s.to_string());
    assert_eq!(
        rel,
        vec![
            expect("Z.json", &root.file_name().unwrap().to_string_lossy()),
            expect("a/conn.log", "a"),
            expect("a/sub/dns.log.gz", "sub"),
            expect("b/NASHUA_conn.log", "NASHUA"),
            expect("c/2024-01-01/conn.00:00:00-01:00:00.log.gz", "c"),
            expect("c/2024-01-01/stats.json", "c"),
            expect("-", "stdin"),
            // Named explicitly: read even though a walk would leave it out.
            expect("a/LICENSE", "a"),
            // Does not exist: kept, so that opening it reports an io rejection.
            expect("missing.log", root.file_name().unwrap().to_str().unwrap()),
        ]
    );
    // Same input, same order.
    assert_eq!(discover(std::slice::from_ref(&root)), discover(&[root]));
}

#[test]
fn files_of_one_sensor_share_one_name() {
    let dir = std::env::temp_dir().join(format!("sekisho-discover-share-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("th-bkk-zeek")).unwrap();
    for f in [
        "conn.2024-07-01-00-00-00.log.gz",
        "conn.2024-07-02-00-00-00.log.gz",
    ] {
        std::fs::write(dir.join("th-bkk-zeek").join(f), b"").unwrap();
    }
    let files = sekisho_zeek::discover(std::slice::from_ref(&dir));
    assert_eq!(files.len(), 2);
    assert_eq!(&*files[0].sensor, "th-bkk-zeek");
    assert!(std::sync::Arc::ptr_eq(&files[0].sensor, &files[1].sensor));
    let _ = std::fs::remove_dir_all(&dir);
}
