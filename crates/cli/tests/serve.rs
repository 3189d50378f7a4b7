//! `sekisho serve` end to end: a real process, real UDP datagrams and real files, stopped
//! with SIGTERM like a service manager would.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const ORG: &str = r#"
[org]
name = "Serve Test"
[[site]]
id = "jp-hq"
country = "JP"
timezone = "Asia/Tokyo"
networks = ["10.10.0.0/16"]
[[site]]
id = "th-bkk"
country = "TH"
timezone = "Asia/Bangkok"
networks = ["10.20.0.0/16"]
[policy]
cross_site_default = "deny"
"#;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sekisho-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("org.toml"), ORG).unwrap();
    dir
}

/// Starts serve; its stderr lines arrive on the returned channel.
fn start(args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sekisho"))
        .arg("serve")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn terminate(child: &mut Child) -> i32 {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait().unwrap().code().expect("exited, not killed")
}

fn alert_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn netflow_datagrams_become_alerts_live_and_sigterm_flushes_and_exits_0() {
    use sekisho_netflow::{FlowRecord, Version, encode::Encoder};
    let dir = scratch("netflow");
    let out = dir.join("out");
    let store = dir.join("store");
    let (mut child, stderr) = start(&[
        "--org",
        dir.join("org.toml").to_str().unwrap(),
        "--netflow",
        "127.0.0.1:0",
        "--out",
        out.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--status-every",
        "1",
    ]);
    let addr: SocketAddr = loop {
        let line = stderr
            .recv_timeout(Duration::from_secs(30))
            .expect("startup line");
        if let Some(rest) = line.strip_prefix("listening on udp ") {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    let exporter = sender.local_addr().unwrap();
    // Thailand hosts opening SMB to an HQ server: denied by the cross-site default. Like
    // a router, the exporter sends both directions of each connection.
    let records: Vec<FlowRecord> = (0..40u16)
        .flat_map(|i| {
            let mut r = FlowRecord::empty(exporter, Version::V9);
            r.src_ip = format!("10.20.0.{}", 1 + i % 4).parse().unwrap();
            r.dst_ip = "10.10.5.10".parse().unwrap();
            r.src_port = 50_000 + i;
            r.dst_port = 445;
            r.protocol = 6;
            r.tcp_flags = 0x1b;
            r.raw_bytes = 10_000;
            r.raw_packets = 20;
            let mut back = r.clone();
            std::mem::swap(&mut back.src_ip, &mut back.dst_ip);
            std::mem::swap(&mut back.src_port, &mut back.dst_port);
            back.tcp_flags = 0x1a;
            back.raw_bytes = 90_000;
            [r, back]
        })
        .collect();
    let datagrams = Encoder::v9(7).datagrams(1_700_000_000, &records);
    for d in &datagrams {
        sender.send_to(d, addr).unwrap();
    }
    let jsonl = out.join("alerts.jsonl");
    wait_for("a live alert", || !alert_lines(&jsonl).is_empty());
    assert_eq!(terminate(&mut child), 0);

    let alerts = alert_lines(&jsonl);
    assert!(alerts.iter().any(|a| a["detector"] == "policy-deny"
        && a["src"]["site"] == "th-bkk"
        && a["dst"]["site"] == "jp-hq"));
    let ids: Vec<&str> = alerts.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids[0], "L000001");
    let incidents: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report/incidents.json")).unwrap()).unwrap();
    assert!(!incidents.as_array().unwrap().is_empty());
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("serve-summary.json")).unwrap()).unwrap();
    assert_eq!(summary["counters"]["datagrams"], datagrams.len() as u64);
    assert_eq!(summary["counters"]["decoder"]["records"], 80);
    assert_eq!(summary["counters"]["dropped_backpressure"], 0);
    assert_eq!(summary["counters"]["flows"], 40);

    // `--store`: every flow and alert of the session is in the evidence store, intact.
    let kept = sekisho_store::Store::open(&store).unwrap();
    let scan = sekisho_store::Scan::default();
    let mut denied = 0;
    let n = kept
        .for_each_flow(&scan, |f| {
            assert_eq!(f.site, "th-bkk");
            if f.policy_action == "deny" && f.flow.resp_port == 445 {
                denied += 1;
            }
        })
        .unwrap();
    assert_eq!((n, denied), (40, 40));
    let stored = kept.alerts(&scan).unwrap();
    assert_eq!(stored.len(), alerts.len());
    assert!(stored.iter().any(|a| a.alert.detector == "policy-deny"));
    assert!(sekisho_store::verify(&store).unwrap().is_intact());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn zeek_directory_is_followed_across_rotation() {
    let dir = scratch("zeek");
    let zeek = dir.join("zeek");
    std::fs::create_dir_all(&zeek).unwrap();
    let out = dir.join("out");
    let header = "#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tconn_state\n";
    let line = |i: u32| {
        format!(
            "{}.0\tC{i}\t10.20.0.5\t{}\t10.10.0.9\t3389\ttcp\trdp\tSF\n",
            1_700_000_000 + i,
            40_000 + i
        )
    };
    std::fs::write(
        zeek.join("conn.log"),
        format!("{header}{}{}", line(1), line(2)),
    )
    .unwrap();
    let (mut child, _stderr) = start(&[
        "--org",
        dir.join("org.toml").to_str().unwrap(),
        "--zeek-dir",
        zeek.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let jsonl = out.join("alerts.jsonl");
    wait_for("an alert from the first file", || {
        !alert_lines(&jsonl).is_empty()
    });
    std::fs::rename(
        zeek.join("conn.log"),
        zeek.join("conn.2023-11-14-23-00-00.log"),
    )
    .unwrap();
    std::fs::write(
        zeek.join("conn.log"),
        format!("{header}{}bad line\n", line(3)),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(terminate(&mut child), 0);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("serve-summary.json")).unwrap()).unwrap();
    assert_eq!(summary["zeek"]["parsed"], 3, "{summary}");
    assert_eq!(summary["zeek"]["rejected"], 1, "{summary}");
    assert_eq!(summary["counters"]["flows"], 3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn non_loopback_listening_needs_allow_remote() {
    let dir = scratch("remote");
    let out = Command::new(env!("CARGO_BIN_EXE_sekisho"))
        .args(["serve", "--org"])
        .arg(dir.join("org.toml"))
        .args(["--netflow", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-remote"));
    let _ = std::fs::remove_dir_all(&dir);
}
