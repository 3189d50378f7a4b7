//! A real exporter end to end: Debian's `softflowd` replays real lateral-movement captures
//! as NetFlow v9 and IPFIX into `sekisho serve`, and what serve receives must match what
//! `sekisho analyze` derives from the same capture, with the lateral-movement alert raised
//! both ways.
//!
//! Documented differences of the two flow definitions: both count IP-layer octets and
//! packets of every IP packet, so totals must be equal; flow boundaries may differ (softflowd
//! expires on its own timeouts), so flow counts are compared within one.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/pcap/otrf-lateral-movement")
}

fn org() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/otrf-lateral-movement.org.toml")
}

/// Extracts the capture whose name starts with `prefix` from the zip `zip_name`.
fn capture(zip_name: &str, prefix: &str, dir: &Path) -> PathBuf {
    let file = std::fs::File::open(data().join(zip_name)).expect("real capture zip");
    let mut zip = zip::ZipArchive::new(file).unwrap();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let name = entry
            .name()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        if name.starts_with(prefix) && name.ends_with(".cap") {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            return path;
        }
    }
    panic!("{prefix} not in {zip_name}");
}

struct Totals {
    flows: u64,
    packets: u64,
    ip_bytes: u64,
}

/// What sekisho derives from the capture (the flows `analyze FILE.cap` analyses).
fn pcap_totals(path: &Path) -> Totals {
    let file = std::fs::File::open(path).unwrap();
    let mut t = Totals {
        flows: 0,
        packets: 0,
        ip_bytes: 0,
    };
    for rec in sekisho_pcap::PcapFlows::new(file, sekisho_pcap::FlowConfig::default()).unwrap() {
        t.flows += 1;
        t.packets += rec.orig_counts.pkts + rec.resp_counts.pkts;
        t.ip_bytes += rec.orig_counts.ip_bytes + rec.resp_counts.ip_bytes;
    }
    t
}

fn softflowd() -> &'static str {
    let path = "/usr/sbin/softflowd";
    assert!(
        Path::new(path).exists(),
        "softflowd is missing: install Debian's `softflowd` package (.ci/run does)"
    );
    path
}

/// Replays `cap` with softflowd (NetFlow `version`) into a fresh serve; returns serve's
/// summary and alerts.
fn through_softflowd(
    cap: &Path,
    version: &str,
    out: &Path,
) -> (serde_json::Value, Vec<serde_json::Value>) {
    let mut serve = Command::new(env!("CARGO_BIN_EXE_sekisho"))
        .args(["serve", "--org"])
        .arg(org())
        .args(["--netflow", "127.0.0.1:0", "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(serve.stderr.take().unwrap()).lines();
    let addr: SocketAddr = loop {
        let line = lines.next().expect("serve's startup line").unwrap();
        if let Some(rest) = line.strip_prefix("listening on udp ") {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let status = Command::new(softflowd())
        .arg("-r")
        .arg(cap)
        .args(["-n", &addr.to_string(), "-v", version, "-d"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "softflowd failed");
    std::thread::sleep(Duration::from_millis(500));
    let kill = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert_eq!(serve.wait().unwrap().code(), Some(0));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("serve-summary.json")).unwrap()).unwrap();
    let alerts = std::fs::read_to_string(out.join("alerts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (summary, alerts)
}

fn is_lateral(a: &serde_json::Value) -> bool {
    a["rule"] == "no admin protocols between workstations"
        && a["src"]["ip"] == "172.18.39.5"
        && a["dst"]["ip"] == "172.18.39.6"
}

#[test]
fn softflowd_v9_and_ipfix_match_the_capture_and_raise_the_lateral_movement_alert() {
    let dir = std::env::temp_dir().join(format!("sekisho-softflowd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "empire_psexec_dcerpc_tcp_svcctl.zip",
            "empire_psexec_dcerpc_tcp_svcctl_WORKSTATION5",
        ),
        (
            "empire_smbexec_dcerpc_smb_svcctl.zip",
            "empire_smbexec_dcerpc_smb_svcctl_WORKSTATION5",
        ),
        (
            "empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod.zip",
            "empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod_WORKSTATION5",
        ),
    ];
    for (zip_name, prefix) in cases {
        let cap = capture(zip_name, prefix, &dir);
        let expected = pcap_totals(&cap);
        assert!(expected.flows > 0);

        // analyze on the capture itself.
        let out = Command::new(env!("CARGO_BIN_EXE_sekisho"))
            .args(["analyze", "--json", "--org"])
            .arg(org())
            .arg(&cap)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let alerts = doc["alerts"].as_array().unwrap();
        assert!(
            alerts.iter().any(is_lateral),
            "analyze {prefix}: {alerts:?}"
        );

        for version in ["9", "10"] {
            let out_dir = dir.join(format!("{prefix}-v{version}"));
            let (summary, alerts) = through_softflowd(&cap, version, &out_dir);
            let c = &summary["counters"];
            let what = format!("{prefix} v{version}: {c}");
            assert_eq!(c["decoder"]["errors"], serde_json::json!({}), "{what}");
            assert_eq!(c["dropped_backpressure"], 0, "{what}");
            assert_eq!(c["flow_packets"], expected.packets, "{what}");
            assert_eq!(c["flow_bytes"], expected.ip_bytes, "{what}");
            let flows = c["flows"].as_u64().unwrap();
            assert!(
                flows.abs_diff(expected.flows) <= 1,
                "{what}: pcap gave {} flows",
                expected.flows
            );
            assert!(alerts.iter().any(is_lateral), "{what}: {alerts:?}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
