//! The intrusion, modelled on the case in DESIGN.md: a foothold in the Bangkok office
//! reaches an HQ file server over the WAN at night, moves laterally, stages data and tries
//! to exfiltrate it while beaconing to its C2; in the following days footholds in Jakarta,
//! Manila and Houston reach HQ the same way. After the restriction date nothing more.
//!
//! Every flow is planned here, once, with its own uid range; the per-file generators only
//! mix the flows into the right sensor's file.

use crate::Scale;
use crate::org::Org;
use crate::rng::Rng;
use crate::scenario::{HOUR, MIN, SEC, at_local, start_date};
use crate::traffic::{TcpFlow, win_port};
use crate::truth::TruthIncident;
use crate::zeek::{Conn, End, UidGen};
use chrono::NaiveDate;
use sekisho_event::{Service, Timestamp};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

/// Counter range of intrusion uids; benign files use ranges 1.. (see `UidGen`).
pub(crate) const UID_SPACE: u64 = 0xFF_FFFF;

/// One planned intrusion flow.
#[derive(Clone, Debug)]
pub(crate) struct IFlow {
    pub conn: Conn,
    /// Site whose sensor logs it (the originator's).
    pub sensor: usize,
    /// Index into `Intrusion::incidents`.
    pub incident: usize,
    pub stage: &'static str,
}

/// The whole intrusion and its ground truth.
#[derive(Debug)]
pub(crate) struct Intrusion {
    pub incidents: Vec<TruthIncident>,
    pub flows: Vec<IFlow>,
    pub restriction_date: NaiveDate,
    /// 00:00 Tokyo time on the restriction date.
    pub restriction_us: i64,
}

const STAGE_ORDER: [&str; 6] = [
    "initial-access",
    "discovery",
    "lateral-movement",
    "collection",
    "exfiltration",
    "command-and-control",
];

/// Hosting ranges the attacker's servers come from; none is used by benign traffic.
const ATTACKER_NETS: [[u8; 2]; 6] = [
    [45, 133],
    [91, 215],
    [185, 225],
    [193, 42],
    [194, 165],
    [103, 75],
];

struct Builder<'a> {
    org: &'a Org,
    rng: Rng,
    uids: UidGen,
    flows: Vec<IFlow>,
    incident: usize,
}

impl Builder<'_> {
    fn ip(&self, name: &str) -> IpAddr {
        IpAddr::V4(self.org.server(name).v4)
    }

    fn tcp(&mut self, stage: &'static str, f: TcpFlow) {
        let uid = self.uids.next_uid();
        let conn = Conn::tcp(
            uid,
            f.ts,
            f.orig,
            f.orig_p,
            f.resp,
            f.resp_p,
            f.service,
            f.ob,
            f.rb,
            f.dur,
            f.end,
            &mut self.rng,
        );
        let sensor = self
            .org
            .site_of(f.orig)
            .or_else(|| self.org.site_of(f.resp))
            .unwrap_or(0);
        self.flows.push(IFlow {
            conn,
            sensor,
            incident: self.incident,
            stage,
        });
    }

    fn rdp(&mut self, stage: &'static str, ts: i64, src: IpAddr, dst: IpAddr, minutes: (u64, u64)) {
        let r = &mut self.rng;
        let f = TcpFlow::new(
            ts,
            src,
            win_port(r),
            dst,
            3389,
            if r.chance(0.5) { "rdp" } else { "ssl" },
        )
        .bytes(
            r.log_uniform(1_500_000, 8_000_000),
            r.log_uniform(15_000_000, 80_000_000),
        )
        .dur(r.between(minutes.0 * 60, minutes.1 * 60) * SEC as u64 + r.below(SEC as u64));
        self.tcp(stage, f);
    }

    /// SMB with NTLM: the intruder authenticates with stolen hashes, not Kerberos tickets.
    fn smb(
        &mut self,
        stage: &'static str,
        ts: i64,
        src: IpAddr,
        dst: IpAddr,
        ob: (u64, u64),
        rb: (u64, u64),
    ) {
        let r = &mut self.rng;
        let f = TcpFlow::new(ts, src, win_port(r), dst, 445, "gssapi,ntlm,smb")
            .bytes(r.log_uniform(ob.0, ob.1), r.log_uniform(rb.0, rb.1))
            .dur(r.log_uniform(2 * SEC as u64, 240 * SEC as u64));
        self.tcp(stage, f);
    }

    fn winrm(&mut self, stage: &'static str, ts: i64, src: IpAddr, dst: IpAddr) {
        let r = &mut self.rng;
        let f = TcpFlow::new(ts, src, win_port(r), dst, 5985, "http")
            .bytes(r.log_uniform(3_000, 60_000), r.log_uniform(2_000, 40_000))
            .dur(r.log_uniform(SEC as u64, 45 * SEC as u64));
        self.tcp(stage, f);
    }

    /// Remote service creation or task scheduling over RPC: endpoint mapper, then the
    /// service's dynamic port.
    fn rpc(&mut self, stage: &'static str, ts: i64, src: IpAddr, dst: IpAddr) {
        let r = &mut self.rng;
        let epm = TcpFlow::new(ts, src, win_port(r), dst, 135, "dce_rpc")
            .bytes(r.between(72, 220), r.between(100, 240))
            .dur(r.log_uniform(1_000, 40_000));
        let call = TcpFlow::new(
            ts + r.between(5_000, 90_000) as i64,
            src,
            win_port(r),
            dst,
            49152 + r.below(16000) as u16,
            "dce_rpc",
        )
        .bytes(r.log_uniform(1_000, 30_000), r.log_uniform(500, 20_000))
        .dur(r.log_uniform(20_000, 5 * SEC as u64));
        self.tcp(stage, epm);
        self.tcp(stage, call);
    }

    /// C2 check-ins every `period` ± `jitter` from `from` until `to`.
    fn beacon(&mut self, src: IpAddr, c2: IpAddr, from: i64, to: i64, period: i64, jitter: i64) {
        let mut k = 0;
        loop {
            let ts = from + k * period + self.rng.jitter(jitter);
            if ts >= to {
                break;
            }
            k += 1;
            let r = &mut self.rng;
            let f = TcpFlow::new(ts, src, win_port(r), c2, 443, "ssl")
                .bytes(r.between(180, 700), r.between(200, 1_400))
                .dur(r.log_uniform(80_000, 600_000));
            self.tcp("command-and-control", f);
        }
    }

    fn minutes(&mut self, lo: u64, hi: u64) -> i64 {
        self.rng.between(lo * 60, hi * 60) as i64 * SEC + self.rng.below(SEC as u64) as i64
    }
}

/// Plans the intrusion for a seed and scale. Medium and Large put the Thailand foothold on
/// a seeded day after the 7-day baseline and follow the case's rhythm (D, D+2, D+4, D+5,
/// restriction D+7); Small compresses it into days 4–6 after a 3-day baseline.
pub(crate) fn plan(seed: u64, scale: Scale, org: &Org, days: u32) -> Intrusion {
    let mut rng = Rng::stream(seed, &[0x1A7]);
    let (d0, offsets, restriction) = match scale {
        Scale::Small => (3, [0u32, 1, 2, 2], 3u32),
        Scale::Medium => (8 + rng.below(5) as u32, [0, 2, 4, 5], 7),
        Scale::Large => (14 + rng.below(22) as u32, [0, 2, 4, 5], 7),
    };
    debug_assert!(d0 + restriction < days);
    let restriction_date = start_date() + chrono::Days::new(u64::from(d0 + restriction));
    let restriction_us = at_local(org.sites[0].tz, restriction_date, 0, 0);

    // Attacker infrastructure: a C2 per foothold and one exfiltration server.
    let mut nets: Vec<[u8; 2]> = ATTACKER_NETS.to_vec();
    let mut infra = Vec::new();
    for _ in 0..5 {
        let n = nets.remove(rng.below(nets.len() as u64) as usize);
        infra.push(IpAddr::V4(Ipv4Addr::new(
            n[0],
            n[1],
            rng.below(256) as u8,
            2 + rng.below(250) as u8,
        )));
    }
    let foothold = |site: usize, rng: &mut Rng| {
        let t = &org.terminals[site];
        IpAddr::V4(t[rng.below(t.len() as u64) as usize].v4)
    };
    let site_idx = |id: &str| org.sites.iter().position(|s| s.id == id).unwrap_or(0);
    let (th, idn, ph, us) = (
        site_idx("th-bkk"),
        site_idx("id-jkt"),
        site_idx("ph-mnl"),
        site_idx("us-hou"),
    );
    let feet = [
        foothold(th, &mut rng),
        foothold(idn, &mut rng),
        foothold(ph, &mut rng),
        foothold(us, &mut rng),
    ];

    let mut b = Builder {
        org,
        rng: Rng::stream(seed, &[0x1A7, 1]),
        uids: UidGen::new(seed, UID_SPACE),
        flows: Vec::new(),
        incident: 0,
    };
    let date = |i: usize| start_date() + chrono::Days::new(u64::from(d0 + offsets[i]));
    // Local (hour, minute) each foothold starts at; all outside business hours. Small,
    // with four footholds in three days, shifts Jakarta and Manila so the four stay apart
    // in time (Jakarta 20:30, Manila 05:00 instead of 01:00 and 21:10).
    let starts: [(u32, u32); 4] = match scale {
        Scale::Small => [(23, 0), (20, 30), (5, 0), (2, 0)],
        _ => [(23, 0), (1, 0), (21, 10), (2, 0)],
    };
    let (fs01, fs02, fs03) = (b.ip("jp-fs01"), b.ip("jp-fs02"), b.ip("jp-fs03"));
    let (dc01, dc02, db01, erp, jump) = (
        b.ip("jp-dc01"),
        b.ip("jp-dc02"),
        b.ip("jp-db01"),
        b.ip("jp-erp01"),
        b.ip("jp-jump01"),
    );

    // T1 — Thailand, at night Bangkok time.
    {
        let tz = org.sites[th].tz;
        let fh = feet[0];
        let (c2, exfil) = (infra[0], infra[4]);
        let beacon_from = at_local(tz, date(0), 17, 30) + b.minutes(0, 90);
        let recon = at_local(tz, date(0), starts[0].0, starts[0].1) + b.minutes(0, 30);
        // Discovery: a quick connect scan of the HQ server subnet on SMB and RDP.
        let mut targets: Vec<(IpAddr, bool)> = org
            .servers
            .iter()
            .filter(|s| s.site == 0)
            .map(|s| (IpAddr::V4(s.v4), true))
            .collect();
        for h in [13u8, 24, 33] {
            targets.push((IpAddr::V4(Ipv4Addr::new(10, 10, 5, h)), false));
        }
        let mut t = recon;
        for (ip, exists) in targets {
            for port in [445u16, 3389] {
                t += b.rng.between(300_000, 4_000_000) as i64;
                let role = org
                    .servers
                    .iter()
                    .find(|s| IpAddr::V4(s.v4) == ip)
                    .map(|s| s.role);
                let end = match role {
                    Some(role) if exists && crate::traffic::open_port(role, port) => End::Probe,
                    Some(_) => End::Rej,
                    None => End::S0,
                };
                let sp = win_port(&mut b.rng);
                b.tcp("discovery", TcpFlow::new(t, fh, sp, ip, port, "-").end(end));
            }
        }
        // Initial access: a failed RDP logon, then a long session and SMB to jp-fs01.
        let first = t + b.minutes(4, 9);
        let sp = win_port(&mut b.rng);
        let (ob, rb) = (b.rng.between(2_000, 4_000), b.rng.between(3_000, 6_000));
        let dur = b.rng.between(2, 4) * SEC as u64;
        b.tcp(
            "initial-access",
            TcpFlow::new(first, fh, sp, fs01, 3389, "rdp")
                .bytes(ob, rb)
                .dur(dur)
                .end(End::Rsto),
        );
        let session = first + b.minutes(1, 3);
        b.rdp("initial-access", session, fh, fs01, (50, 90));
        let mut t = session + b.minutes(6, 12);
        for _ in 0..3 {
            b.smb(
                "initial-access",
                t,
                fh,
                fs01,
                (50_000, 3_000_000),
                (10_000, 500_000),
            );
            t += b.minutes(3, 8);
        }
        // Lateral movement from jp-fs01 to four HQ servers within the hour.
        let lat = session + b.minutes(15, 25);
        let mut steps: Vec<u8> = vec![0, 1, 2, 3, 4, 5, 6];
        for i in (1..steps.len()).rev() {
            let j = b.rng.below(i as u64 + 1) as usize;
            steps.swap(i, j);
        }
        for (k, s) in steps.into_iter().enumerate() {
            let ts = lat + k as i64 * 4 * MIN + b.minutes(0, 3);
            match s {
                0 => b.rpc("lateral-movement", ts, fs01, dc01),
                1 => b.smb(
                    "lateral-movement",
                    ts,
                    fs01,
                    dc01,
                    (5_000, 50_000),
                    (5_000, 80_000),
                ),
                2 => b.winrm("lateral-movement", ts, fs01, db01),
                3 => b.smb(
                    "lateral-movement",
                    ts,
                    fs01,
                    fs02,
                    (5_000, 80_000),
                    (10_000, 200_000),
                ),
                4 => b.smb(
                    "lateral-movement",
                    ts,
                    fs01,
                    fs03,
                    (200_000, 2_000_000),
                    (5_000, 40_000),
                ),
                5 => b.winrm("lateral-movement", ts, fs01, fs03),
                _ => b.winrm("lateral-movement", ts, fs01, db01),
            }
        }
        // Collection: jp-fs03 pulls database exports and design files onto itself.
        let stage = lat + 30 * MIN + b.minutes(0, 8);
        for (k, src) in [db01, fs02].into_iter().enumerate() {
            let r = &mut b.rng;
            let rb = r.between(120_000_000, 320_000_000);
            let f = TcpFlow::new(
                stage + k as i64 * b.rng.between(3, 9) as i64 * MIN,
                fs03,
                win_port(&mut b.rng),
                src,
                445,
                "gssapi,ntlm,smb",
            )
            .bytes(b.rng.between(40_000, 400_000), rb)
            .dur(rb * SEC as u64 / b.rng.between(60_000_000, 110_000_000));
            b.tcp("collection", f);
        }
        // Exfiltration attempt: several hundred MB from jp-fs03 to a VPS over TLS; the
        // last transfer is cut off.
        let mut t = stage + b.minutes(18, 30);
        for k in 0..5 {
            let r = &mut b.rng;
            let ob = r.between(90_000_000, 170_000_000);
            let f = TcpFlow::new(t, fs03, win_port(r), exfil, 443, "ssl")
                .bytes(ob, r.between(50_000, 200_000))
                .dur(ob * SEC as u64 / r.between(1_500_000, 4_000_000))
                .end(if k == 4 { End::Rsto } else { End::Sf });
            b.tcp("exfiltration", f);
            t += b.minutes(4, 8);
        }
        let beacon_to = beacon_from + 13 * HOUR + b.minutes(0, 120);
        b.beacon(fh, c2, beacon_from, beacon_to, 300 * SEC, 6 * SEC);
    }

    // T2 — Jakarta, two days later: into the HQ jump host, and on from it.
    b.incident = 1;
    {
        let tz = org.sites[idn].tz;
        let fh = feet[1];
        let t0 = at_local(tz, date(1), starts[1].0, starts[1].1) + b.minutes(0, 40);
        b.rdp("initial-access", t0, fh, jump, (30, 60));
        let t = t0 + b.minutes(5, 15);
        b.smb(
            "initial-access",
            t,
            fh,
            fs02,
            (20_000, 400_000),
            (50_000, 4_000_000),
        );
        let at = t + b.minutes(2, 6);
        b.smb(
            "initial-access",
            at,
            fh,
            fs02,
            (20_000, 400_000),
            (50_000, 4_000_000),
        );
        let lat = t0 + b.minutes(10, 20);
        b.rdp("lateral-movement", lat, jump, dc01, (5, 15));
        let at = lat + b.minutes(3, 8);
        b.smb(
            "lateral-movement",
            at,
            jump,
            fs01,
            (5_000, 80_000),
            (10_000, 2_000_000),
        );
        let at = lat + b.minutes(9, 14);
        b.rpc("lateral-movement", at, jump, dc02);
        let from = t0 - 3 * HOUR + b.minutes(0, 60);
        let to = t0 + 4 * HOUR + b.minutes(0, 60);
        b.beacon(fh, infra[1], from, to, 600 * SEC, 15 * SEC);
    }

    // T3 — Manila: into the ERP server, and on to its database.
    b.incident = 2;
    {
        let tz = org.sites[ph].tz;
        let fh = feet[2];
        let t0 = at_local(tz, date(2), starts[2].0, starts[2].1) + b.minutes(0, 40);
        b.rdp("initial-access", t0, fh, erp, (20, 45));
        let lat = t0 + b.minutes(8, 15);
        b.winrm("lateral-movement", lat, erp, db01);
        let at = lat + b.minutes(2, 5);
        b.winrm("lateral-movement", at, erp, db01);
        let at = lat + b.minutes(8, 14);
        b.smb(
            "collection",
            at,
            erp,
            db01,
            (10_000, 80_000),
            (20_000_000, 60_000_000),
        );
        let at = lat + b.minutes(15, 20);
        b.smb(
            "lateral-movement",
            at,
            erp,
            fs03,
            (5_000, 60_000),
            (10_000, 300_000),
        );
        let from = t0 - 2 * HOUR + b.minutes(0, 30);
        let to = t0 + 4 * HOUR;
        b.beacon(fh, infra[2], from, to, 300 * SEC, 15 * SEC);
    }

    // T4 — Houston, in the small hours: back to jp-fs01.
    b.incident = 3;
    {
        let tz = org.sites[us].tz;
        let fh = feet[3];
        let t0 = at_local(tz, date(3), starts[3].0, starts[3].1) + b.minutes(0, 45);
        b.rdp("initial-access", t0, fh, fs01, (25, 50));
        let at = t0 + b.minutes(4, 9);
        b.smb(
            "initial-access",
            at,
            fh,
            fs01,
            (50_000, 2_000_000),
            (10_000, 300_000),
        );
        let at = t0 + b.minutes(10, 16);
        b.smb(
            "initial-access",
            at,
            fh,
            fs01,
            (50_000, 2_000_000),
            (10_000, 300_000),
        );
        let lat = t0 + b.minutes(12, 20);
        b.smb(
            "lateral-movement",
            lat,
            fs01,
            fs03,
            (5_000, 80_000),
            (10_000, 400_000),
        );
        let at = lat + b.minutes(3, 6);
        b.smb(
            "lateral-movement",
            at,
            fs01,
            fs03,
            (5_000, 80_000),
            (10_000, 400_000),
        );
        let at = lat + b.minutes(8, 14);
        b.rpc("lateral-movement", at, fs01, dc02);
        let from = t0 - 4 * HOUR + b.minutes(0, 30);
        let to = t0 + 5 * HOUR;
        b.beacon(fh, infra[3], from, to, 900 * SEC, 20 * SEC);
    }

    let titles = [
        "Thailand foothold reaches HQ file server jp-fs01, moves laterally, stages and exfiltrates data",
        "Indonesia foothold reaches the HQ jump host and moves on to HQ servers",
        "Philippines foothold reaches the HQ ERP server and its database",
        "United States foothold reaches HQ file server jp-fs01",
    ];
    let entry = [th, idn, ph, us];
    let mut incidents = Vec::new();
    for i in 0..4 {
        let flows: Vec<&IFlow> = b.flows.iter().filter(|f| f.incident == i).collect();
        let mut hosts = BTreeSet::new();
        let mut stages = BTreeSet::new();
        for f in &flows {
            hosts.insert(f.conn.orig);
            hosts.insert(f.conn.resp);
            stages.insert(f.stage);
        }
        let first = flows.iter().map(|f| f.conn.ts).min().unwrap_or(0);
        let last = flows
            .iter()
            .map(|f| f.conn.ts + f.conn.duration_us.unwrap_or(0) as i64)
            .max()
            .unwrap_or(0);
        let mut external: Vec<IpAddr> = hosts
            .iter()
            .copied()
            .filter(|h| org.site_of(*h).is_none())
            .collect();
        external.sort();
        incidents.push(TruthIncident {
            id: format!("T{}", i + 1),
            title: titles[i].to_string(),
            entry_site: org.sites[entry[i]].id.to_string(),
            foothold: feet[i],
            hosts: hosts.into_iter().collect(),
            external,
            first_seen: Timestamp::from_micros(first),
            last_seen: Timestamp::from_micros(last),
            stages: STAGE_ORDER
                .iter()
                .filter(|s| stages.contains(*s))
                .map(|s| s.to_string())
                .collect(),
        });
    }
    b.flows.sort_by_key(|f| (f.conn.ts, f.conn.uid));
    Intrusion {
        incidents,
        flows: b.flows,
        restriction_date,
        restriction_us,
    }
}

/// Policy-vocabulary service name of a planned flow (what the analysis will call it).
pub(crate) fn service_name(c: &Conn) -> &'static str {
    Service::from_zeek(c.service, c.proto, c.resp_p).as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{DAY, START_US, in_business_hours, params};
    use std::collections::HashSet;

    /// The plan's promises, for every scale and many seeds: after the baseline, before the
    /// restriction, at night where the foothold is, pivots within the hour, a real
    /// exfiltration, and seeds that move the days and the footholds.
    #[test]
    fn every_scale_and_seed_keeps_the_intrusion_between_baseline_and_restriction() {
        for scale in [Scale::Small, Scale::Medium, Scale::Large] {
            let p = params(scale);
            let mut first_days = HashSet::new();
            let mut footholds = HashSet::new();
            for seed in 0..16 {
                let org = Org::new(seed, p.active_divisor);
                let intr = plan(seed, scale, &org, p.days);
                let baseline_end = START_US + i64::from(p.baseline_days) * DAY;
                let data_end = START_US + i64::from(p.days) * DAY;
                assert!(intr.restriction_us < data_end, "{scale} {seed}");
                for f in &intr.flows {
                    let end = f.conn.ts + f.conn.duration_us.unwrap_or(0) as i64;
                    assert!(f.conn.ts >= baseline_end, "{scale} {seed} {}", f.stage);
                    assert!(end < intr.restriction_us, "{scale} {seed} {}", f.stage);
                }
                for (i, t) in intr.incidents.iter().enumerate() {
                    let flows: Vec<&IFlow> =
                        intr.flows.iter().filter(|f| f.incident == i).collect();
                    let access: Vec<&&IFlow> = flows
                        .iter()
                        .filter(|f| f.stage == "initial-access")
                        .collect();
                    assert!(!access.is_empty());
                    let entry = access[0].sensor;
                    for f in &access {
                        assert!(
                            !in_business_hours(org.sites[f.sensor].tz, f.conn.ts),
                            "{scale} {seed} {}",
                            t.id
                        );
                        assert_eq!(
                            org.site_of(f.conn.resp),
                            Some(0),
                            "initial access reaches HQ"
                        );
                    }
                    // Each pivot host first received a cross-site admin connection less
                    // than an hour before it moved on.
                    for f in flows.iter().filter(|f| f.stage == "lateral-movement") {
                        let into = access
                            .iter()
                            .filter(|a| a.conn.resp == f.conn.orig && a.conn.ts <= f.conn.ts)
                            .map(|a| a.conn.ts)
                            .min()
                            .expect("pivot host was reached from the foothold");
                        assert!(
                            f.conn.ts - into < 60 * crate::scenario::MIN,
                            "{scale} {seed} {}",
                            t.id
                        );
                    }
                    assert_eq!(t.entry_site, org.sites[entry].id);
                    footholds.insert(t.foothold);
                }
                // The exfiltration moves >= 100 MB within an hour.
                let exfil: Vec<&IFlow> = intr
                    .flows
                    .iter()
                    .filter(|f| f.stage == "exfiltration")
                    .collect();
                let span = exfil.last().unwrap().conn.ts - exfil[0].conn.ts;
                assert!(span < crate::scenario::HOUR);
                assert!(exfil.iter().map(|f| f.conn.orig_bytes).sum::<u64>() >= 300_000_000);
                for w in intr.incidents.windows(2) {
                    assert!(w[0].first_seen < w[1].first_seen, "{scale} {seed}");
                }
                first_days.insert(intr.incidents[0].first_seen.as_micros() / DAY);
            }
            if !matches!(scale, Scale::Small) {
                assert!(
                    first_days.len() >= 3,
                    "{scale}: seeds should move the intrusion's day"
                );
            }
            assert!(
                footholds.len() >= 16 * 3,
                "{scale}: seeds should move the footholds"
            );
        }
    }
}
