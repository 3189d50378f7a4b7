//! `service-installed`: a new Windows service (System 7045).
//!
//! **What it does.** Reports every service installation, once per (host, service name,
//! image path) per clock hour. Severity is `high` when the service's image looks like
//! remote execution rather than software: a command shell or script host (`cmd`,
//! `%COMSPEC%`, `powershell`, `mshta`, `rundll32`, `regsvr32`), a binary on a share or an
//! admin share (`\\host\ADMIN$`), a PsExec-like service (`PSEXESVC`, `RemComSvc`,
//! `PAExec`), or one under a temp or public folder; `low` otherwise.
//!
//! **Why it matters.** PsExec, Impacket's `smbexec`/`psexec`, Metasploit and most
//! ransomware operators run code on a remote host by creating a service there. The service
//! install on an HQ server, joined with the SMB crossing that carried it, is the execution
//! step of the lateral movement.
//!
//! **Example.** `WIN-77LTAPHIQ1R.example.corp: service "spoolfool" installed running
//! "cmd.exe" as LocalSystem`.
//!
//! **Known false positives.** Software installs and updates (`low`); management tools that
//! push agents as services from shares (`high` for their first install).
//!
//! **ATT&CK.** T1543.003 (Windows Service); T1569.002 (Service Execution) when the image
//! looks like remote execution.

use crate::common::clean_name;
use crate::host::{Hourly, Key, add_operation, on_host_alert, place_host};
use crate::{AlertSink, DetectorStats, HostDetector, HostDetectorSpec};
use sekisho_event::{HostEvent, HostEventKind, Severity};
use sekisho_model::Org;

/// `service-installed`.
pub static SPEC: HostDetectorSpec = HostDetectorSpec {
    id: "service-installed",
    title: "a new Windows service (7045); high when it runs a shell or a binary from a share",
    attack: Some("T1543.003"),
    build,
};

/// Substrings (lower case) of an image path that mark a service as remote execution.
pub const SUSPICIOUS_IMAGE: &[&str] = &[
    "cmd.exe",
    "cmd /c",
    "cmd /q",
    "%comspec%",
    "powershell",
    "pwsh",
    "mshta",
    "rundll32",
    "regsvr32",
    "wscript",
    "cscript",
    "\\\\",
    "admin$",
    "psexesvc",
    "remcom",
    "paexec",
    "\\temp\\",
    "\\users\\public\\",
    "\\programdata\\",
];

/// True when a service image path looks like remote execution.
pub fn suspicious_image(image: &str) -> bool {
    let lower = image.to_ascii_lowercase();
    SUSPICIOUS_IMAGE.iter().any(|s| lower.contains(s))
}

fn build(org: &Org) -> Option<Box<dyn HostDetector + '_>> {
    Some(Box::new(ServiceInstall {
        org,
        open: Hourly::new(org),
    }))
}

#[derive(Debug)]
struct ServiceInstall<'o> {
    org: &'o Org,
    open: Hourly,
}

impl HostDetector for ServiceInstall<'_> {
    fn id(&self) -> &'static str {
        SPEC.id
    }

    fn on_host_event(&mut self, e: &HostEvent, out: &mut AlertSink) {
        self.open.advance(e.ts, out);
        if e.kind != HostEventKind::ServiceInstalled {
            return;
        }
        let org = self.org;
        let key = Key::new(0x3730_3435)
            .str(e.host.as_deref())
            .str(e.object.as_deref())
            .str(e.process.as_deref());
        self.open.add(
            key,
            e.ts,
            || {
                let host = place_host(org, e.host.as_deref(), None);
                let image = e.process.as_deref().unwrap_or("");
                let bad = suspicious_image(image);
                let name = e
                    .object
                    .as_deref()
                    .map(clean_name)
                    .unwrap_or_else(|| "?".into());
                let account = e
                    .target_user
                    .as_deref()
                    .map(|u| format!(" as {}", clean_name(u)))
                    .unwrap_or_default();
                let mut a = on_host_alert(
                    SPEC.id,
                    if bad { Severity::High } else { Severity::Low },
                    e.ts,
                    (&host, org),
                    format!(
                        "{}: service \"{name}\" installed running \"{}\"{account}",
                        host.describe(org),
                        clean_name(image)
                    ),
                    if bad { "T1569.002" } else { "T1543.003" },
                    e.user.as_deref(),
                );
                add_operation(&mut a, e.process.as_deref());
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
