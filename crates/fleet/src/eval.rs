//! Evaluates each terminal's inventory against the baseline and the indicators: its site
//! and role from the organisation model, the checks it fails with evidence, the
//! indicators found on it, and its verdict. Pure: time comes from the inventories.

use crate::baseline::{Action, Baseline, Check, Rule};
use crate::inventory::Inventory;
use crate::iocs::{Indicator, IndicatorKind, Indicators};
use crate::matchers::{Glob, lower};
use sekisho_event::Severity;
use sekisho_model::Org;
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

/// Evidence lines kept per failed check.
pub const MAX_EVIDENCE: usize = 5;
/// Indicator hits kept per terminal (all are counted).
pub const MAX_HITS: usize = 50;
/// Site name for terminals whose addresses are in no site of the organisation.
pub const UNPLACED: &str = "(unplaced)";
/// Role of terminals that are no declared asset.
pub const WORKSTATION: &str = "workstation";

/// A terminal's verdict, worst first when sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// An indicator of the incident is on it.
    Compromised,
    /// It fails at least one check of severity low or above.
    AtRisk,
    /// Its inventory is stale or incomplete: nothing can be said (never "sound").
    Unknown,
    /// Recent, complete, passes every check, no indicator.
    Sound,
}

impl Verdict {
    /// All verdicts, worst first.
    pub const ALL: [Verdict; 4] = [
        Verdict::Compromised,
        Verdict::AtRisk,
        Verdict::Unknown,
        Verdict::Sound,
    ];

    /// `compromised`, `at-risk`, `unknown`, `sound`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Compromised => "compromised",
            Verdict::AtRisk => "at-risk",
            Verdict::Unknown => "unknown",
            Verdict::Sound => "sound",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A check a terminal failed, with what showed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailedCheck {
    /// The check's id.
    pub id: String,
    /// Its severity.
    pub severity: Severity,
    /// What to do.
    pub action: Action,
    /// What the inventory showed (at most [`MAX_EVIDENCE`] lines).
    pub evidence: Vec<String>,
}

/// An indicator found on a terminal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IndicatorHit {
    /// `kind:value`.
    pub indicator: String,
    /// Where the indicator came from.
    pub source: String,
    /// Where it was found (`hash C:\…\x.exe`, `service WinSvcUpd`).
    pub evidence: String,
}

/// One terminal's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Terminal {
    /// Host name.
    pub host: String,
    /// Host id (host_uuid or hostIdentifier).
    pub host_id: String,
    /// Site id, or [`UNPLACED`].
    pub site: String,
    /// The address that placed it.
    pub address: Option<IpAddr>,
    /// Roles: the asset's from the org file, else [`WORKSTATION`].
    pub roles: Vec<String>,
    /// `os_version.name` and build.
    pub os: String,
    /// Newest inventory time (seconds since the epoch).
    pub last_seen: Option<i64>,
    /// Whole days between its newest inventory and the run's newest.
    pub age_days: Option<i64>,
    /// The verdict.
    pub verdict: Verdict,
    /// Why the verdict is `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
    /// Checks failed, in baseline order.
    pub failed_checks: Vec<FailedCheck>,
    /// Indicators found (at most [`MAX_HITS`]).
    pub indicator_hits: Vec<IndicatorHit>,
    /// Indicator hits counted, kept or not.
    pub indicator_hit_count: usize,
    /// What to do, most drastic first.
    pub actions: Vec<Action>,
    /// Ids of the checks that applied to it (role and platform).
    #[serde(skip)]
    pub applicable: Vec<u16>,
}

/// Everything evaluation needs, resolved once.
#[derive(Debug)]
pub struct Context<'a> {
    /// The organisation (sites, assets).
    pub org: &'a Org,
    /// The checks.
    pub baseline: &'a Baseline,
    /// The indicators, [`Indicators::prepare`]d.
    pub indicators: &'a Indicators,
    /// The newest inventory time of the run: staleness is measured against it, so the
    /// result does not depend on when the run happens.
    pub reference_time: Option<i64>,
}

/// The newest `last_seen` of a set of inventories.
pub fn newest(invs: &[Inventory]) -> Option<i64> {
    invs.iter().filter_map(|i| i.last_seen).max()
}

fn usable(a: &IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => !(v.is_loopback() || v.is_link_local() || v.is_unspecified()),
        IpAddr::V6(v) => {
            !(v.is_loopback() || v.is_unspecified() || (v.segments()[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// Per-host lower-cased strings, computed once for all checks.
struct Lowered {
    programs: Vec<String>,
}

struct Eval<'a> {
    inv: &'a Inventory,
    low: Lowered,
    windows: bool,
}

fn loopback_bind(a: &str) -> bool {
    let a = a.trim();
    a.starts_with("127.") || a == "::1"
}

impl Eval<'_> {
    fn check(&self, c: &Check, roles: &[String]) -> Option<Vec<String>> {
        let inv = self.inv;
        let mut ev: Vec<String> = Vec::new();
        let push = |ev: &mut Vec<String>, s: String| {
            if ev.len() < MAX_EVIDENCE {
                ev.push(s);
            }
        };
        match &c.rule {
            Rule::OsMinBuild {
                platform,
                min_build,
                min_version,
            } => {
                let os = inv.os.first()?;
                if *os.platform != **platform {
                    return None;
                }
                let build: i64 = os.build.trim().parse().unwrap_or(-1);
                if let Some(min) = min_build
                    && build < *min
                {
                    push(&mut ev, format!("{} build {} < {min}", os.name, os.build));
                }
                if let Some(min) = min_version
                    && crate::matchers::compare_versions(&os.version, min).is_lt()
                {
                    push(
                        &mut ev,
                        format!("{} version {} < {min}", os.name, os.version),
                    );
                }
            }
            Rule::SoftwareRequired { name, versions } => {
                let mut wrong = Vec::new();
                let mut ok = false;
                for (p, l) in inv.programs.iter().zip(&self.low.programs) {
                    if name.matches(l) {
                        if versions.as_ref().is_none_or(|v| v.matches(&p.version)) {
                            ok = true;
                            break;
                        }
                        wrong.push(format!(
                            "{} {} installed; required {}",
                            p.name,
                            p.version,
                            versions.as_ref().map(|v| v.to_string()).unwrap_or_default()
                        ));
                    }
                }
                if !ok {
                    if wrong.is_empty() {
                        push(&mut ev, format!("no program matching {:?}", name.as_str()));
                    }
                    for w in wrong {
                        push(&mut ev, w);
                    }
                }
            }
            Rule::SoftwareForbidden { name, versions } => {
                for (p, l) in inv.programs.iter().zip(&self.low.programs) {
                    if name.matches(l) && versions.as_ref().is_none_or(|v| v.matches(&p.version)) {
                        push(&mut ev, format!("{} {} installed", p.name, p.version));
                    }
                }
            }
            Rule::PatchRequired { hotfixes } => {
                if !self.windows {
                    return None;
                }
                for h in hotfixes {
                    if !inv
                        .patches
                        .iter()
                        .any(|p| p.hotfix_id.eq_ignore_ascii_case(h))
                    {
                        push(&mut ev, format!("{h} not installed"));
                    }
                }
            }
            Rule::Antivirus {
                products,
                up_to_date,
            } => {
                if !self.windows {
                    return None;
                }
                let ok = inv.security_products.iter().any(|p| {
                    p.kind.eq_ignore_ascii_case("antivirus")
                        && p.state.eq_ignore_ascii_case("on")
                        && (!up_to_date || p.signatures_up_to_date)
                        && (products.is_empty()
                            || products.iter().any(|g| g.matches(&lower(&p.name))))
                }) || (inv.security_products.is_empty()
                    && products.is_empty()
                    && inv
                        .security_center
                        .first()
                        .is_some_and(|w| w.antivirus.eq_ignore_ascii_case("good")));
                if !ok {
                    let mut any = false;
                    for p in inv
                        .security_products
                        .iter()
                        .filter(|p| p.kind.eq_ignore_ascii_case("antivirus"))
                    {
                        any = true;
                        push(
                            &mut ev,
                            format!(
                                "{}: state {}, signatures {}",
                                p.name,
                                p.state,
                                if p.signatures_up_to_date {
                                    "up to date"
                                } else {
                                    "out of date"
                                }
                            ),
                        );
                    }
                    if !any {
                        let wsc = inv
                            .security_center
                            .first()
                            .map_or("not reported", |w| &*w.antivirus);
                        push(
                            &mut ev,
                            format!("no antivirus product reported (security center: {wsc})"),
                        );
                    }
                }
            }
            Rule::EdrRunning { services } => {
                if !self.windows {
                    return None;
                }
                let ok = inv.services.iter().any(|s| {
                    s.status.eq_ignore_ascii_case("running")
                        && services.iter().any(|g| g.matches(&lower(&s.name)))
                });
                if !ok {
                    let found: Vec<String> = inv
                        .services
                        .iter()
                        .filter(|s| services.iter().any(|g| g.matches(&lower(&s.name))))
                        .map(|s| format!("service {} is {}", s.name, s.status))
                        .collect();
                    if found.is_empty() {
                        let names: Vec<&str> = services.iter().map(Glob::as_str).collect();
                        push(&mut ev, format!("none of {} installed", names.join(", ")));
                    }
                    for f in found {
                        push(&mut ev, f);
                    }
                }
            }
            Rule::FirewallOn => {
                if !self.windows {
                    return None;
                }
                let ok = inv
                    .security_center
                    .first()
                    .is_some_and(|w| w.firewall.eq_ignore_ascii_case("good"))
                    || inv.security_products.iter().any(|p| {
                        p.kind.eq_ignore_ascii_case("firewall")
                            && p.state.eq_ignore_ascii_case("on")
                    });
                if !ok {
                    let wsc = inv
                        .security_center
                        .first()
                        .map_or("not reported", |w| &*w.firewall);
                    push(&mut ev, format!("firewall health: {wsc}"));
                }
            }
            Rule::DiskEncrypted { drive } => {
                if self.windows {
                    let d = inv
                        .bitlocker
                        .iter()
                        .find(|b| b.drive_letter.eq_ignore_ascii_case(drive));
                    match d {
                        Some(b) if b.protection_status == 1 => {}
                        Some(b) => push(
                            &mut ev,
                            format!(
                                "BitLocker on {drive}: protection {}, conversion {}",
                                b.protection_status, b.conversion_status
                            ),
                        ),
                        None => push(&mut ev, format!("no BitLocker volume {drive} reported")),
                    }
                } else if !inv.disk_encryption.iter().any(|d| d.encrypted) {
                    push(&mut ev, "no encrypted disk reported".to_string());
                }
            }
            Rule::RemoteAccess { names, allow } => {
                let mut seen = BTreeSet::new();
                let bad = |n: &str| {
                    let l = lower(n);
                    names.iter().any(|g| g.matches(&l)) && !allow.iter().any(|g| g.matches(&l))
                };
                for p in inv.programs.iter().filter(|p| bad(&p.name)) {
                    seen.insert(format!("program {}", p.name));
                }
                for s in inv
                    .services
                    .iter()
                    .filter(|s| bad(&s.name) || bad(&s.display_name))
                {
                    seen.insert(format!("service {}", s.name));
                }
                for p in inv.processes.iter().filter(|p| bad(&p.name)) {
                    seen.insert(format!("process {} (pid {})", p.name, p.pid));
                }
                for s in seen {
                    push(&mut ev, s);
                }
            }
            Rule::NoAdminListeners {
                ports,
                exempt_roles,
            } => {
                if roles.iter().any(|r| exempt_roles.contains(r)) {
                    return Some(Vec::new());
                }
                for l in &inv.listening {
                    if ports.contains(&l.port) && l.protocol != 17 && !loopback_bind(&l.address) {
                        push(
                            &mut ev,
                            format!("listening on {}:{} (pid {})", l.address, l.port, l.pid),
                        );
                    }
                }
            }
            Rule::AutostartKnown { allow } => {
                let known = |a: &str, b: &str| {
                    let (a, b) = (lower(a), lower(b));
                    allow.iter().any(|g| g.matches(&a) || g.matches(&b))
                };
                for s in &inv.startup {
                    if !known(&s.name, &s.path) {
                        push(&mut ev, format!("startup item {} ({})", s.name, s.path));
                    }
                }
                for t in &inv.tasks {
                    if t.enabled
                        && !lower(&t.name).starts_with("\\microsoft\\")
                        && !known(&t.name, &t.path)
                    {
                        push(&mut ev, format!("scheduled task {} ({})", t.name, t.action));
                    }
                }
            }
            Rule::LocalAdmins { allow } => {
                let mut seen = BTreeSet::new();
                for u in inv.users.iter().filter(|u| u.is_admin()) {
                    let l = lower(&u.username);
                    if !allow.iter().any(|g| g.matches(&l)) {
                        seen.insert(u.username.to_string());
                    }
                }
                for u in seen {
                    push(&mut ev, format!("local administrator {u}"));
                }
            }
        }
        Some(ev)
    }
}

fn basename(p: &str) -> &str {
    p.rsplit(['\\', '/']).next().unwrap_or(p)
}

/// Finds every indicator on a terminal.
fn indicator_hits(inv: &Inventory, ind: &Indicators) -> (Vec<IndicatorHit>, usize) {
    let mut hits: Vec<IndicatorHit> = Vec::new();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    let mut count = 0usize;
    if ind.is_empty() {
        return (hits, 0);
    }
    let mut hit = |i: &Indicator, evidence: String| {
        let key = (i.to_string(), evidence);
        if seen.contains(&key) {
            return;
        }
        count += 1;
        if hits.len() < MAX_HITS {
            hits.push(IndicatorHit {
                indicator: key.0.clone(),
                source: i.source.clone(),
                evidence: key.1.clone(),
            });
        }
        seen.insert(key);
    };
    let path_hits = |p: &str, what: &str, hit: &mut dyn FnMut(&Indicator, String)| {
        if p.is_empty() {
            return;
        }
        let l = lower(p);
        if let Some(i) = ind.exact(IndicatorKind::Path, &l) {
            hit(i, format!("{what} {p}"));
        }
        if let Some(i) = ind.exact(IndicatorKind::FileName, basename(&l)) {
            hit(i, format!("{what} {p}"));
        }
    };
    for f in &inv.files {
        for (k, h) in [
            (IndicatorKind::Sha256, &f.sha256),
            (IndicatorKind::Sha1, &f.sha1),
            (IndicatorKind::Md5, &f.md5),
        ] {
            if let Some(i) = ind.exact(k, h) {
                hit(i, format!("file {} {} {h}", f.path, k.as_str()));
            }
        }
        path_hits(&f.path, "file", &mut hit);
    }
    for c in &inv.certificates {
        if let Some(i) = ind.exact(IndicatorKind::Sha1, &c.sha1) {
            hit(i, format!("certificate {:?}", c.common_name));
        }
    }
    for p in &inv.processes {
        path_hits(&p.path, "process", &mut hit);
        if let Some(i) = ind.exact(IndicatorKind::Name, &lower(&p.name)) {
            hit(i, format!("process {} (pid {})", p.name, p.pid));
        }
        ind.substrings(&p.cmdline, |i| {
            hit(i, format!("command line of {} (pid {})", p.name, p.pid))
        });
    }
    for s in &inv.services {
        let l = lower(&s.name);
        if let Some(i) = ind
            .exact(IndicatorKind::Service, &l)
            .or_else(|| ind.exact(IndicatorKind::Name, &l))
        {
            hit(i, format!("service {}", s.name));
        }
        path_hits(&s.path, "service binary", &mut hit);
    }
    for t in &inv.tasks {
        let l = lower(&t.name);
        let last = basename(&l).to_string();
        for k in [IndicatorKind::Task, IndicatorKind::Name] {
            if let Some(i) = ind.exact(k, &l).or_else(|| ind.exact(k, &last)) {
                hit(i, format!("scheduled task {}", t.name));
            }
        }
        path_hits(&t.path, "task binary", &mut hit);
        ind.substrings(&t.action, |i| hit(i, format!("action of task {}", t.name)));
    }
    for s in &inv.startup {
        if let Some(i) = ind.exact(IndicatorKind::Name, &lower(&s.name)) {
            hit(i, format!("startup item {}", s.name));
        }
        path_hits(&s.path, "startup item", &mut hit);
        ind.substrings(&s.args, |i| {
            hit(i, format!("arguments of startup item {}", s.name))
        });
    }
    for a in &inv.addresses {
        if let Some(i) = a.address.as_ref().and_then(|a| ind.ip(a)) {
            hit(i, format!("interface {} has the address", a.interface));
        }
    }
    for s in &inv.sockets {
        if let Some(i) = s.remote_address.as_ref().and_then(|a| ind.ip(a)) {
            hit(
                i,
                format!("socket to {}:{} (pid {})", i.value, s.remote_port, s.pid),
            );
        }
    }
    (hits, count)
}

/// Evaluates one terminal.
pub fn evaluate(inv: &Inventory, ctx: &Context) -> Terminal {
    // Place it: the first usable address the organisation knows, else the first usable.
    let usable_addrs: Vec<IpAddr> = inv
        .addresses
        .iter()
        .filter_map(|a| a.address)
        .filter(usable)
        .collect();
    let placed = usable_addrs
        .iter()
        .map(|a| (*a, ctx.org.locate(*a)))
        .find(|(_, l)| l.site.is_some());
    let (address, site, roles) = match placed {
        Some((a, loc)) => {
            let site = loc
                .site
                .map_or_else(|| UNPLACED.to_string(), |s| ctx.org.site(s).id.clone());
            let roles = loc
                .asset
                .map(|x| ctx.org.asset(x).roles.clone())
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| vec![WORKSTATION.to_string()]);
            (Some(a), site, roles)
        }
        None => (
            usable_addrs.first().copied(),
            UNPLACED.to_string(),
            vec![WORKSTATION.to_string()],
        ),
    };
    let os_row = inv.os.first();
    let windows = os_row.is_some_and(|o| &*o.platform == "windows");
    let ev = Eval {
        inv,
        low: Lowered {
            programs: inv.programs.iter().map(|p| lower(&p.name)).collect(),
        },
        windows,
    };
    let mut failed = Vec::new();
    let mut applicable = Vec::new();
    for (n, c) in ctx.baseline.checks.iter().enumerate() {
        if !c.roles.is_empty() && !roles.iter().any(|r| c.roles.contains(r)) {
            continue;
        }
        if !c.platforms.is_empty()
            && !os_row.is_some_and(|o| c.platforms.iter().any(|p| **p == *o.platform))
        {
            continue;
        }
        let Some(evidence) = ev.check(c, &roles) else {
            continue;
        };
        applicable.push(u16::try_from(n).unwrap_or(u16::MAX));
        if !evidence.is_empty() {
            failed.push(FailedCheck {
                id: c.id.clone(),
                severity: c.severity,
                action: c.action,
                evidence,
            });
        }
    }
    let (indicator_hits, indicator_hit_count) = indicator_hits(inv, ctx.indicators);
    let age_days = match (ctx.reference_time, inv.last_seen) {
        (Some(r), Some(l)) => Some(r.saturating_sub(l).max(0) / 86_400),
        _ => None,
    };
    let stale_secs = ctx.baseline.stale_after_days.saturating_mul(86_400);
    let unknown_reason = match (ctx.reference_time, inv.last_seen) {
        (_, None) => Some("inventory has no time".to_string()),
        (Some(r), Some(l)) if r.saturating_sub(l) > stale_secs => Some(format!(
            "inventory {} days older than the newest (limit {} days)",
            age_days.unwrap_or(0),
            ctx.baseline.stale_after_days
        )),
        _ if os_row.is_none() => Some("no os_version in the inventory".to_string()),
        _ => None,
    };
    let verdict = if indicator_hit_count > 0 {
        Verdict::Compromised
    } else if unknown_reason.is_some() {
        Verdict::Unknown
    } else if failed.iter().any(|f| f.severity >= Severity::Low) {
        Verdict::AtRisk
    } else {
        Verdict::Sound
    };
    let mut actions: Vec<Action> = failed.iter().map(|f| f.action).collect();
    if verdict == Verdict::Compromised {
        actions.push(Action::Reimage);
    }
    actions.sort_unstable_by(|a, b| b.cmp(a));
    actions.dedup();
    Terminal {
        host: if inv.hostname.is_empty() {
            inv.system
                .first()
                .map(|s| s.hostname.to_string())
                .unwrap_or_else(|| inv.host_id.clone())
        } else {
            inv.hostname.clone()
        },
        host_id: inv.host_id.clone(),
        site,
        address,
        roles,
        os: os_row
            .map(|o| format!("{} {}", o.name, o.build).trim().to_string())
            .unwrap_or_default(),
        last_seen: inv.last_seen,
        age_days,
        verdict,
        unknown_reason: if verdict == Verdict::Unknown {
            unknown_reason
        } else {
            None
        },
        failed_checks: failed,
        indicator_hits,
        indicator_hit_count,
        actions,
        applicable,
    }
}

/// Evaluates every terminal on up to `threads` threads; the result is sorted by site,
/// host and host id, whatever the thread count.
pub fn evaluate_all(invs: &[Inventory], ctx: &Context, threads: usize) -> Vec<Terminal> {
    let threads = threads.clamp(1, 64);
    let chunk = invs.len().div_ceil(threads).max(1);
    let mut out: Vec<Terminal> = std::thread::scope(|s| {
        let handles: Vec<_> = invs
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|i| evaluate(i, ctx)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    out.sort_by(|a, b| (&a.site, &a.host, &a.host_id).cmp(&(&b.site, &b.host, &b.host_id)));
    out
}
