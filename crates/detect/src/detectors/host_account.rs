//! `account-created` and `admin-group-added`: new accounts (4720) and new members of
//! administrative groups (4728, 4732, 4756).
//!
//! **What it does.** Reports each account creation (`medium`), and each addition to a group
//! named in `detectors.host.admin_groups` (`Administrators`, `Domain Admins`, `Remote
//! Desktop Users`, ...; compared ignoring case) as `high`. Additions to other groups are
//! not reported. One alert per (host, actor, account, group) per clock hour.
//!
//! **Why it matters.** Intruders who reach a server make themselves at home: a local
//! account to come back with, or their stolen account added to Administrators or Remote
//! Desktop Users so the next crossing needs no exploit.
//!
//! **Example.** `jp-hq jp-dc01 (10.10.1.5): admin01 added svc_bkp to "Domain Admins"`.
//!
//! **Known false positives.** Help-desk work: new hires, temporary admin rights.
//!
//! **ATT&CK.** T1136 (Create Account) for 4720; T1098 (Account Manipulation) for group
//! additions.

use crate::common::clean_name;
use crate::host::{Hourly, Key, add_user, on_host_alert, place_host};
use crate::{AlertSink, DetectorStats, HostDetector, HostDetectorSpec};
use sekisho_event::{HostEvent, HostEventKind, Severity};
use sekisho_model::Org;

/// `account-created`.
pub static CREATED: HostDetectorSpec = HostDetectorSpec {
    id: "account-created",
    title: "a user account was created (4720)",
    attack: Some("T1136"),
    build: build_created,
};

/// `admin-group-added`.
pub static ADMIN_GROUP: HostDetectorSpec = HostDetectorSpec {
    id: "admin-group-added",
    title: "a member was added to an administrative group (4728/4732/4756)",
    attack: Some("T1098"),
    build: build_group,
};

fn build_created(org: &Org) -> Option<Box<dyn HostDetector + '_>> {
    Some(Box::new(Account {
        org,
        group: false,
        open: Hourly::new(org),
    }))
}

fn build_group(org: &Org) -> Option<Box<dyn HostDetector + '_>> {
    Some(Box::new(Account {
        org,
        group: true,
        open: Hourly::new(org),
    }))
}

#[derive(Debug)]
struct Account<'o> {
    org: &'o Org,
    group: bool,
    open: Hourly,
}

impl HostDetector for Account<'_> {
    fn id(&self) -> &'static str {
        if self.group {
            ADMIN_GROUP.id
        } else {
            CREATED.id
        }
    }

    fn on_host_event(&mut self, e: &HostEvent, out: &mut AlertSink) {
        self.open.advance(e.ts, out);
        let org = self.org;
        let wanted = match (self.group, e.kind) {
            (false, HostEventKind::AccountCreated) => true,
            (true, HostEventKind::GroupMemberAdded) => e.object.as_deref().is_some_and(|g| {
                let g = g.trim();
                org.detectors
                    .host
                    .admin_groups
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(g))
            }),
            _ => false,
        };
        if !wanted {
            return;
        }
        let group = self.group;
        let key = Key::new(0x6163_6374)
            .str(e.host.as_deref())
            .str(e.user.as_deref())
            .str(e.target_user.as_deref())
            .str(e.object.as_deref());
        self.open.add(
            key,
            e.ts,
            || {
                let host = place_host(org, e.host.as_deref(), None);
                let who = e
                    .user
                    .as_deref()
                    .map(clean_name)
                    .unwrap_or_else(|| "someone".into());
                let whom = e
                    .target_user
                    .as_deref()
                    .map(clean_name)
                    .unwrap_or_else(|| "an account".into());
                let (id, severity, what, attack) = if group {
                    let g = e.object.as_deref().map(clean_name).unwrap_or_default();
                    (
                        ADMIN_GROUP.id,
                        Severity::High,
                        format!("{who} added {whom} to \"{g}\""),
                        "T1098",
                    )
                } else {
                    (
                        CREATED.id,
                        Severity::Medium,
                        format!("{who} created the account {whom}"),
                        "T1136",
                    )
                };
                let mut a = on_host_alert(
                    id,
                    severity,
                    e.ts,
                    (&host, org),
                    format!("{}: {what}", host.describe(org)),
                    attack,
                    e.user.as_deref(),
                );
                add_user(&mut a, e.target_user.as_deref());
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
