//! `remote-execution`: a process started the way remote execution starts them (Sysmon 1).
//!
//! **What it does.** Reads Sysmon process-creation events (1) and reports a process whose
//! parent is a remote-execution host, or which is one itself:
//!
//! | how | parent → child | ATT&CK |
//! |---|---|---|
//! | WMI (`wmic /node`, Impacket `wmiexec`) | `WmiPrvSE.exe` → anything | T1047 |
//! | WinRM / PowerShell remoting | `wsmprovhost.exe`, `winrshost.exe` → anything | T1021.006 |
//! | DCOM (MMC20, `mshta`, Office) | `mmc.exe`, `mshta.exe`, `excel.exe`... started with `-Embedding`, and their children | T1021.003 |
//! | PsExec-like services | `services.exe` → a shell or script host; any `PSEXESVC`, `RemComSvc`, `PAExec` image | T1569.002 |
//! | web shell | `w3wp.exe`, `httpd`, `tomcat`, `php-cgi` → a shell | T1505.003 |
//! | SQL `xp_cmdshell` | `sqlservr.exe` → a shell | T1505.001 |
//! | RDP drive redirection (SharpRDP, `\\tsclient`) | an image under `\\tsclient\` | T1021.001 |
//!
//! One alert per (host, parent, image) per clock hour.
//!
//! **Why it matters.** The crossing and the logon say someone reached a server; this says
//! they ran something there. Most lateral-movement tools leave exactly one of these
//! parent/child pairs, whatever the network looked like.
//!
//! **Example.** `IEWIN7: C:\Windows\System32\wbem\WmiPrvSE.exe started cmd.exe /Q /c whoami
//! /all 1> \\127.0.0.1\ADMIN$\__1556656369.7 (WMI)`.
//!
//! **Known false positives.** Local WMI consumers and management agents (SCCM runs scripts
//! under `WmiPrvSE.exe`); administrators using PowerShell remoting; DCOM servers started by
//! local applications; SQL jobs that shell out on purpose.
//!
//! **ATT&CK.** As in the table; T1021 overall.

use crate::common::clean_name;
use crate::host::{Hourly, Key, add_operation, image_name, on_host_alert, place_host};
use crate::{AlertSink, DetectorStats, HostDetector, HostDetectorSpec};
use sekisho_event::{HostEvent, HostEventKind, Severity};
use sekisho_model::Org;

/// `remote-execution`.
pub static SPEC: HostDetectorSpec = HostDetectorSpec {
    id: "remote-execution",
    title: "a process started by WMI, WinRM, DCOM, a PsExec-like service, a web or SQL server, or from an RDP client's drive (Sysmon 1)",
    attack: Some("T1021"),
    build,
};

/// Shells and script hosts: what a service, web or SQL server should not start.
pub const SHELLS: &[&str] = &[
    "cmd.exe",
    "powershell.exe",
    "pwsh.exe",
    "mshta.exe",
    "rundll32.exe",
    "regsvr32.exe",
    "wscript.exe",
    "cscript.exe",
    "bitsadmin.exe",
    "certutil.exe",
    "whoami.exe",
    "net.exe",
    "sh",
    "bash",
];

/// DCOM servers an attacker activates remotely (`-Embedding` on their command line).
const DCOM_SERVERS: &[&str] = &[
    "mmc.exe",
    "mshta.exe",
    "excel.exe",
    "winword.exe",
    "outlook.exe",
    "visio.exe",
];

/// How a process creation looks like remote execution: (what, ATT&CK), or `None`.
pub fn classify(parent: &str, image: &str, command: &str) -> Option<(&'static str, &'static str)> {
    let p = image_name(parent);
    let i = image_name(image);
    let shell = SHELLS.contains(&i.as_str());
    let embedding = command.to_ascii_lowercase().contains("-embedding");
    let lower_image = image.to_ascii_lowercase();
    if lower_image.starts_with("\\\\tsclient\\") {
        return Some(("RDP drive redirection", "T1021.001"));
    }
    if ["psexesvc.exe", "remcomsvc.exe"].contains(&i.as_str()) || i.starts_with("paexec") {
        return Some(("PsExec-like service", "T1569.002"));
    }
    match p.as_str() {
        "wmiprvse.exe" => return Some(("WMI", "T1047")),
        "wsmprovhost.exe" | "winrshost.exe" => return Some(("WinRM", "T1021.006")),
        "services.exe" if shell => return Some(("service", "T1569.002")),
        "w3wp.exe" | "httpd.exe" | "httpd" | "tomcat.exe" | "php-cgi.exe" | "nginx.exe"
            if shell =>
        {
            return Some(("web shell", "T1505.003"));
        }
        "sqlservr.exe" if shell => return Some(("SQL xp_cmdshell", "T1505.001")),
        "mmc.exe" | "excel.exe" | "winword.exe" | "outlook.exe" if shell => {
            return Some(("DCOM", "T1021.003"));
        }
        _ => {}
    }
    if ["wsmprovhost.exe", "winrshost.exe"].contains(&i.as_str()) {
        return Some(("WinRM", "T1021.006"));
    }
    if embedding && DCOM_SERVERS.contains(&i.as_str()) {
        return Some(("DCOM", "T1021.003"));
    }
    None
}

fn build(org: &Org) -> Option<Box<dyn HostDetector + '_>> {
    Some(Box::new(RemoteExec {
        org,
        open: Hourly::new(org),
    }))
}

#[derive(Debug)]
struct RemoteExec<'o> {
    org: &'o Org,
    open: Hourly,
}

impl HostDetector for RemoteExec<'_> {
    fn id(&self) -> &'static str {
        SPEC.id
    }

    fn on_host_event(&mut self, e: &HostEvent, out: &mut AlertSink) {
        self.open.advance(e.ts, out);
        if e.kind != HostEventKind::ProcessCreated {
            return;
        }
        let parent = e.object.as_deref().unwrap_or("");
        let image = e.process.as_deref().unwrap_or("");
        let command = e.command.as_deref().unwrap_or("");
        let Some((how, attack)) = classify(parent, image, command) else {
            return;
        };
        let org = self.org;
        let key = Key::new(0x7265_7865)
            .str(e.host.as_deref())
            .str(Some(parent))
            .str(Some(image));
        self.open.add(
            key,
            e.ts,
            || {
                let host = place_host(org, e.host.as_deref(), None);
                let what = if command.is_empty() { image } else { command };
                let summary = format!(
                    "{}: {} started {} ({how})",
                    host.describe(org),
                    if parent.is_empty() {
                        "a process".to_string()
                    } else {
                        clean_name(parent)
                    },
                    clean_name(what)
                );
                let mut a = on_host_alert(
                    SPEC.id,
                    Severity::High,
                    e.ts,
                    (&host, org),
                    summary,
                    attack,
                    e.user.as_deref(),
                );
                add_operation(&mut a, e.command.as_deref().or(e.process.as_deref()));
                a
            },
            out,
        );
    }

    fn finish(&mut self, out: &mut AlertSink) {
        self.open.finish(out);
    }

    fn stats(&self) -> DetectorStats {
        let mut s = DetectorStats::default();
        self.open.add_stats(&mut s);
        s
    }
}
