//! Benign traffic of one site for one UTC day: what the site's Zeek sensor writes into one
//! file, before the intrusion's flows are mixed in.
//!
//! Each flow is logged once, by the sensor of the originator's site (inbound mail, the only
//! connection opened from outside, by HQ's). Background processes are Poisson (exponential
//! gaps), so no benign pair is periodic: the only beacon in the data is the intruder's.
//! Everything a sanctioned crossing does also happens during the first-seen baseline.

use crate::org::{IT_ADMINS, Role, Server, Terminal, it_admin};
use crate::rng::{Rng, mix};
use crate::scenario::{
    DAY, HOUR, MIN, SEC, START_US, Scenario, at_local, hour_weights, in_business_hours, start_date,
};
use crate::zeek::{Conn, End, UidGen};
use chrono::{Datelike, Weekday};
use std::net::{IpAddr, Ipv4Addr};

const DNS_FORWARDERS: [Ipv4Addr; 3] = [
    Ipv4Addr::new(8, 8, 8, 8),
    Ipv4Addr::new(8, 8, 4, 4),
    Ipv4Addr::new(1, 1, 1, 1),
];
const NTP_SERVERS: [Ipv4Addr; 3] = [
    Ipv4Addr::new(162, 159, 200, 1),
    Ipv4Addr::new(162, 159, 200, 123),
    Ipv4Addr::new(133, 243, 238, 163),
];
/// The mail provider's relays (one /24, so outbound mail is not a fan-out).
const MAIL_RELAYS: [Ipv4Addr; 4] = [
    Ipv4Addr::new(52, 101, 68, 11),
    Ipv4Addr::new(52, 101, 68, 27),
    Ipv4Addr::new(52, 101, 68, 40),
    Ipv4Addr::new(52, 101, 68, 53),
];

/// Ports a Windows client picks its source port from.
pub(crate) fn win_port(rng: &mut Rng) -> u16 {
    49152 + rng.below(16384) as u16
}

/// Ports a Linux host (the scanner, relays) picks from.
pub(crate) fn linux_port(rng: &mut Rng) -> u16 {
    32768 + rng.below(28232) as u16
}

/// Writes flows for one (site, day) file.
pub(crate) struct Day<'a> {
    pub sc: &'a Scenario,
    pub site: usize,
    pub day: u32,
    pub start: i64,
    pub end: i64,
    pub rng: Rng,
    pub uids: UidGen,
    pub out: Vec<Conn>,
}

#[derive(Clone, Copy)]
enum Kind {
    Dns,
    Https,
    Http,
    Kerberos,
    Ldap,
    SmbFs,
    SmbDc,
    Erp,
    Mail,
    Ntp,
    LanRej,
    WebDead,
}

/// What a workstation's connections are, in percent.
const KINDS: [(Kind, u32); 12] = [
    (Kind::Dns, 26),
    (Kind::Https, 30),
    (Kind::Http, 3),
    (Kind::Kerberos, 6),
    (Kind::Ldap, 5),
    (Kind::SmbFs, 11),
    (Kind::SmbDc, 2),
    (Kind::Erp, 5),
    (Kind::Mail, 7),
    (Kind::Ntp, 1),
    (Kind::LanRej, 2),
    (Kind::WebDead, 2),
];

fn cumulative<const N: usize>(w: [u32; N]) -> [u32; N] {
    let mut c = w;
    for i in 1..N {
        c[i] += c[i - 1];
    }
    c
}

impl<'a> Day<'a> {
    pub(crate) fn new(sc: &'a Scenario, site: usize, day: u32, space: u64) -> Self {
        let start = START_US + i64::from(day) * DAY;
        Day {
            sc,
            site,
            day,
            start,
            end: start + DAY,
            rng: Rng::stream(sc.seed, &[0xDA7, site as u64, u64::from(day)]),
            uids: UidGen::new(sc.seed, space),
            out: Vec::new(),
        }
    }

    /// All benign flows of the day, unsorted.
    pub(crate) fn generate(&mut self) {
        self.terminals();
        self.dc_background();
        self.replication();
        self.dfs();
        self.backups();
        if self.sc.org.sites[self.site].hq {
            self.erp_database();
            self.mail_relay();
            self.it_admins();
            self.helpdesk();
            self.scanner();
        }
    }

    fn tcp(&mut self, f: TcpFlow) {
        let uid = self.uids.next_uid();
        let c = Conn::tcp(
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
        self.out.push(c);
    }

    #[allow(clippy::too_many_arguments)]
    fn udp(
        &mut self,
        ts: i64,
        orig: IpAddr,
        orig_p: u16,
        resp: IpAddr,
        resp_p: u16,
        service: &'static str,
        ob: u64,
        rb: u64,
        dur: u64,
    ) {
        let uid = self.uids.next_uid();
        self.out.push(Conn::udp(
            uid, ts, orig, orig_p, resp, resp_p, service, ob, rb, dur,
        ));
    }

    /// Calls `f` at the times of a Poisson process over the day.
    fn poisson(&mut self, mean_gap_us: f64, mut f: impl FnMut(&mut Self, i64)) {
        let mut t = self.start + self.rng.exp_gap(mean_gap_us);
        while t < self.end {
            f(self, t);
            t += self.rng.exp_gap(mean_gap_us);
        }
    }

    fn site_servers(&self, role: Role) -> Vec<&'a Server> {
        self.sc.org.servers_of(self.site, role).collect()
    }

    fn web_v4(&mut self) -> IpAddr {
        // Cubing skews choice towards the first entries: a few big services get most
        // connections, as on any real network.
        let u = self.rng.unit();
        let n = self.sc.web_v4.len();
        IpAddr::V4(self.sc.web_v4[((u * u * u) * n as f64) as usize % n])
    }

    fn web_v6(&mut self) -> IpAddr {
        let u = self.rng.unit();
        let n = self.sc.web_v6.len();
        IpAddr::V6(self.sc.web_v6[((u * u * u) * n as f64) as usize % n])
    }

    // ---------------------------------------------------------------- workstations

    fn terminals(&mut self) {
        let sc = self.sc;
        let site = &sc.org.sites[self.site];
        let w = hour_weights(site.tz, self.start);
        let cum = cumulative(w);
        let total = f64::from(cum[23]);
        let peak_day = f64::from(crate::scenario::WEEKDAY_HOURS.iter().sum::<u32>());
        let dcs = self.site_servers(Role::DomainController);
        let fss = self.site_servers(Role::FileServer);
        let kinds = cumulative(KINDS.map(|(_, w)| w));
        for t in &sc.org.terminals[self.site] {
            let lambda = sc.terminal_rate * f64::from(t.activity) / 100.0 * total / peak_day;
            let n = self.rng.count(lambda);
            for _ in 0..n {
                let h = self.rng.weighted(&cum) as i64;
                let ts = self.start + h * HOUR + self.rng.below(HOUR as u64) as i64;
                let kind = KINDS[self.rng.weighted(&kinds)].0;
                let dc = dcs[usize::from(t.home_dc) % dcs.len()];
                let fs = fss[usize::from(t.home_fs) % fss.len()];
                self.terminal_flow(t, ts, kind, dc, fs);
            }
        }
    }

    fn terminal_flow(&mut self, t: &Terminal, ts: i64, kind: Kind, dc: &Server, fs: &Server) {
        let r = &mut self.rng;
        let v6 = t.v6.is_some() && r.chance(0.5);
        // Local services over IPv6 when both ends have it.
        let (me, dc_ip, fs_ip) = match (t.v6, dc.v6, fs.v6) {
            (Some(a), Some(d), Some(f)) if v6 => (IpAddr::V6(a), IpAddr::V6(d), IpAddr::V6(f)),
            _ => (IpAddr::V4(t.v4), IpAddr::V4(dc.v4), IpAddr::V4(fs.v4)),
        };
        let v4 = IpAddr::V4(t.v4);
        let port = win_port(r);
        match kind {
            Kind::Dns => {
                let ob = r.between(30, 70);
                let rb = if r.chance(0.015) {
                    0
                } else {
                    r.log_uniform(46, 400)
                };
                let dur = r.log_uniform(150, 40_000);
                self.udp(ts, me, port, dc_ip, 53, "dns", ob, rb, dur);
            }
            Kind::Kerberos => {
                if r.chance(0.15) {
                    let (ob, rb, dur) = (
                        r.between(180, 320),
                        r.between(140, 260),
                        r.log_uniform(300, 20_000),
                    );
                    self.udp(ts, me, port, dc_ip, 88, "krb", ob, rb, dur);
                } else {
                    let f = TcpFlow::new(ts, me, port, dc_ip, 88, "krb_tcp")
                        .bytes(r.between(1_200, 2_900), r.between(1_300, 3_100))
                        .dur(r.log_uniform(1_000, 60_000))
                        .end(if r.chance(0.2) { End::Rsto } else { End::Sf });
                    self.tcp(f);
                }
            }
            Kind::Ldap => {
                if r.chance(0.4) {
                    let (ob, rb, dur) = (
                        r.between(180, 270),
                        r.between(180, 420),
                        r.log_uniform(200, 8_000),
                    );
                    self.udp(ts, me, port, dc_ip, 389, "ldap_udp", ob, rb, dur);
                } else {
                    let f = TcpFlow::new(ts, me, port, dc_ip, 389, "ldap_tcp")
                        .bytes(r.log_uniform(300, 6_000), r.log_uniform(500, 60_000))
                        .dur(r.log_uniform(3_000, 3_000_000))
                        .end(sf_mostly(r));
                    self.tcp(f);
                }
            }
            Kind::SmbFs => {
                let f = TcpFlow::new(ts, me, port, fs_ip, 445, "gssapi,smb,krb")
                    .bytes(
                        r.log_uniform(1_000, 6_000_000),
                        r.log_uniform(2_000, 40_000_000),
                    )
                    .dur(r.log_uniform(50_000, 900 * SEC as u64))
                    .end(match r.below(20) {
                        0..=1 => End::Rsto,
                        2 => End::S1,
                        _ => End::Sf,
                    });
                self.tcp(f);
            }
            Kind::SmbDc => {
                let f = TcpFlow::new(ts, me, port, dc_ip, 445, "gssapi,smb,krb")
                    .bytes(r.log_uniform(2_000, 20_000), r.log_uniform(5_000, 250_000))
                    .dur(r.log_uniform(20_000, 5 * SEC as u64))
                    .end(sf_mostly(r));
                self.tcp(f);
            }
            Kind::Erp | Kind::Mail => {
                let name = if matches!(kind, Kind::Erp) {
                    "jp-erp01"
                } else {
                    "jp-mail01"
                };
                let srv = IpAddr::V4(self.sc.org.server(name).v4);
                let r = &mut self.rng;
                let (ob, rb, dur) = if matches!(kind, Kind::Erp) {
                    (
                        r.log_uniform(800, 60_000),
                        r.log_uniform(3_000, 900_000),
                        r.log_uniform(80_000, 60 * SEC as u64),
                    )
                } else {
                    (
                        r.log_uniform(1_000, 200_000),
                        r.log_uniform(2_000, 2_000_000),
                        r.log_uniform(100_000, 900 * SEC as u64),
                    )
                };
                let f = TcpFlow::new(ts, v4, port, srv, 443, "ssl")
                    .bytes(ob, rb)
                    .dur(dur)
                    .end(sf_mostly(r));
                self.tcp(f);
            }
            Kind::Https | Kind::Http => {
                let dst = if t.v6.is_some() && r.chance(0.5) && matches!(kind, Kind::Https) {
                    let d = self.web_v6();
                    match t.v6 {
                        Some(a) => (IpAddr::V6(a), d),
                        None => (v4, d),
                    }
                } else {
                    (v4, self.web_v4())
                };
                let r = &mut self.rng;
                let (rp, svc, ob, rb) = if matches!(kind, Kind::Https) {
                    (
                        443,
                        "ssl",
                        r.log_uniform(500, 80_000),
                        r.log_uniform(2_000, 3_000_000),
                    )
                } else {
                    (
                        80,
                        "http",
                        r.log_uniform(200, 3_000),
                        r.log_uniform(300, 500_000),
                    )
                };
                let end = match r.below(100) {
                    0..=2 => End::Rsto,
                    3..=4 => End::Rstr,
                    5..=6 => End::S1,
                    _ => End::Sf,
                };
                let f = TcpFlow::new(ts, dst.0, port, dst.1, rp, svc)
                    .bytes(ob, rb)
                    .dur(r.log_uniform(40_000, 180 * SEC as u64))
                    .end(end);
                self.tcp(f);
            }
            Kind::Ntp => {
                let dur = r.log_uniform(200, 5_000);
                self.udp(ts, me, 123, dc_ip, 123, "ntp", 48, 48, dur);
            }
            Kind::LanRej => {
                // Network discovery and stale mappings to other PCs: refused or dropped.
                let peers = &self.sc.org.terminals[self.site];
                let peer = IpAddr::V4(peers[self.rng.below(peers.len() as u64) as usize].v4);
                let r = &mut self.rng;
                let rp = *r.pick(&[445u16, 139, 5357]);
                let end = if r.chance(0.7) { End::Rej } else { End::S0 };
                self.tcp(TcpFlow::new(ts, v4, port, peer, rp, "-").end(end));
            }
            Kind::WebDead => {
                let dst = self.web_v4();
                self.tcp(TcpFlow::new(ts, v4, port, dst, 443, "-").end(End::S0));
            }
        }
    }

    // ---------------------------------------------------------------- servers

    /// Domain controllers forward DNS to public resolvers and keep time from public NTP:
    /// a steady trickle day and night that also keeps every sensor's log continuous.
    fn dc_background(&mut self) {
        let dcs = self.site_servers(Role::DomainController);
        // Forwarded queries follow the site's clients (cache misses), with a floor so that
        // even a quiet site's sensor never falls silent for long.
        let sc = self.sc;
        let share =
            sc.org.terminals[self.site].len() as f64 / sc.org.active_terminals().max(1) as f64;
        let per_day = (0.06 * sc.terminal_flows_per_day * share / dcs.len() as f64).max(400.0);
        for dc in dcs {
            let me = IpAddr::V4(dc.v4);
            let mean = DAY as f64 / per_day;
            self.poisson(mean, |d, ts| {
                let r = &mut d.rng;
                let dst = IpAddr::V4(*r.pick(&DNS_FORWARDERS));
                let (p, ob) = (win_port(r), r.between(35, 80));
                let rb = if r.chance(0.01) {
                    0
                } else {
                    r.log_uniform(50, 500)
                };
                let dur = r.log_uniform(4_000, 90_000);
                d.udp(ts, me, p, dst, 53, "dns", ob, rb, dur);
            });
            self.poisson(1100.0 * SEC as f64, |d, ts| {
                let r = &mut d.rng;
                let dst = IpAddr::V4(*r.pick(&NTP_SERVERS));
                let dur = r.log_uniform(2_000, 60_000);
                d.udp(ts, me, 123, dst, 123, "ntp", 48, 48, dur);
            });
        }
    }

    /// AD replication is pull: each DC connects to its partners. Overseas DCs replicate
    /// with jp-dc01 (the hub); the two HQ DCs with each other.
    fn replication(&mut self) {
        let org = &self.sc.org;
        for dc in self.site_servers(Role::DomainController) {
            let partners: Vec<&Server> = if dc.name == "jp-dc01" {
                org.servers
                    .iter()
                    .filter(|s| s.role == Role::DomainController && s.name != dc.name)
                    .collect()
            } else {
                // jp-dc02 and every overseas DC.
                vec![org.server("jp-dc01")]
            };
            for p in partners {
                let intra = p.site == dc.site;
                let mean = if intra { 10.0 } else { 15.0 } * MIN as f64;
                let (me, peer) = (IpAddr::V4(dc.v4), IpAddr::V4(p.v4));
                // The DRSUAPI endpoint's dynamic port stays put until the partner reboots.
                let rpc_port =
                    49152 + (mix(self.sc.seed ^ u64::from(u32::from(p.v4))) % 16000) as u16;
                self.poisson(mean, |d, ts| {
                    d.rpc_exchange(ts, me, peer, rpc_port, 2_000, 60_000, 2_000, 400_000)
                });
                self.poisson(mean * 6.0, |d, ts| {
                    let r = &mut d.rng;
                    let (p1, p2) = (win_port(r), win_port(r));
                    let k = TcpFlow::new(ts, me, p1, peer, 88, "krb_tcp")
                        .bytes(r.between(1_300, 2_800), r.between(1_400, 3_000))
                        .dur(r.log_uniform(2_000, 80_000));
                    let l =
                        TcpFlow::new(ts + r.below(200_000) as i64, me, p2, peer, 389, "ldap_tcp")
                            .bytes(r.log_uniform(400, 8_000), r.log_uniform(800, 90_000))
                            .dur(r.log_uniform(5_000, 2_000_000));
                    d.tcp(k);
                    d.tcp(l);
                });
            }
        }
    }

    /// An RPC call: endpoint mapper on 135, then the service on its dynamic port.
    #[allow(clippy::too_many_arguments)]
    fn rpc_exchange(
        &mut self,
        ts: i64,
        me: IpAddr,
        peer: IpAddr,
        rpc_port: u16,
        ob_lo: u64,
        ob_hi: u64,
        rb_lo: u64,
        rb_hi: u64,
    ) {
        let r = &mut self.rng;
        let (p1, p2) = (win_port(r), win_port(r));
        let epm = TcpFlow::new(ts, me, p1, peer, 135, "dce_rpc")
            .bytes(r.between(72, 220), r.between(100, 240))
            .dur(r.log_uniform(1_000, 40_000));
        let rpc = TcpFlow::new(
            ts + r.between(2_000, 80_000) as i64,
            me,
            p2,
            peer,
            rpc_port,
            "dce_rpc",
        )
        .bytes(r.log_uniform(ob_lo, ob_hi), r.log_uniform(rb_lo, rb_hi))
        .dur(r.log_uniform(20_000, 8 * SEC as u64));
        self.tcp(epm);
        self.tcp(rpc);
    }

    /// DFS replication between each overseas file server and jp-fs02, the HQ hub. Pulls
    /// are small (at most a few MB), so the hub never sends 100 MB to a site in an hour.
    fn dfs(&mut self) {
        let org = &self.sc.org;
        for fs in self.site_servers(Role::FileServer) {
            let partners: Vec<&Server> = if fs.name == "jp-fs02" {
                org.servers
                    .iter()
                    .filter(|s| s.role == Role::FileServer && !org.sites[s.site].hq)
                    .collect()
            } else if org.sites[fs.site].hq {
                continue;
            } else {
                vec![org.server("jp-fs02")]
            };
            for p in partners {
                let (me, peer) = (IpAddr::V4(fs.v4), IpAddr::V4(p.v4));
                let rpc_port =
                    49152 + (mix(self.sc.seed ^ 0xDF5 ^ u64::from(u32::from(p.v4))) % 16000) as u16;
                self.poisson(14.0 * MIN as f64, |d, ts| {
                    d.rpc_exchange(ts, me, peer, rpc_port, 1_000, 40_000, 5_000, 3_000_000)
                });
            }
        }
    }

    /// Every server pushes a nightly backup to jp-bk01 between 01:00 and 04:00 local.
    /// Each night's schedule comes from its own generator so that a backup straddling
    /// midnight UTC is the same whichever day's file it lands in.
    fn backups(&mut self) {
        let sc = self.sc;
        let tz = sc.org.sites[self.site].tz;
        let bk = sc.org.server("jp-bk01");
        for (si, srv) in sc.org.servers.iter().enumerate() {
            if srv.site != self.site || srv.role == Role::Backup {
                continue;
            }
            for back in [-1i64, 0, 1] {
                let d = i64::from(self.day) + back;
                if d < 0 {
                    continue;
                }
                let date = start_date() + chrono::Days::new(d as u64);
                let mut r = Rng::stream(sc.seed, &[0xBAC, si as u64, d as u64]);
                let ts = at_local(tz, date, 1, 0) + r.below(180 * MIN as u64) as i64;
                if ts < self.start || ts >= self.end || ts >= sc.end_us() {
                    continue;
                }
                let ob = match srv.role {
                    Role::FileServer => r.log_uniform(800_000_000, 4_000_000_000),
                    Role::DomainController => r.log_uniform(150_000_000, 600_000_000),
                    _ => r.log_uniform(100_000_000, 1_500_000_000),
                };
                let wan = srv.site != bk.site;
                let rate = if wan {
                    r.between(8, 25)
                } else {
                    r.between(60, 110)
                } * 1_000_000;
                let dur = ob * 1_000_000 / rate;
                let (me, to) = (IpAddr::V4(srv.v4), IpAddr::V4(bk.v4));
                let (p1, p2) = (win_port(&mut r), win_port(&mut r));
                let ctl = TcpFlow::new(ts, me, p1, to, 445, "gssapi,smb,krb")
                    .bytes(r.between(3_000, 9_000), r.between(2_000, 6_000))
                    .dur(r.log_uniform(100_000, 2 * SEC as u64));
                let data = TcpFlow::new(
                    ts + r.between(2, 20) as i64 * SEC,
                    me,
                    p2,
                    to,
                    445,
                    "gssapi,smb,krb",
                )
                .bytes(ob, ob / 500 + r.below(100_000))
                .dur(dur);
                self.tcp(ctl);
                self.tcp(data);
            }
        }
    }

    /// The ERP application server queries its database (MSSQL, no Zeek analyser).
    fn erp_database(&mut self) {
        let erp = IpAddr::V4(self.sc.org.server("jp-erp01").v4);
        let db = IpAddr::V4(self.sc.org.server("jp-db01").v4);
        let per_day = (self.sc.terminal_flows_per_day * 0.015).max(200.0);
        self.poisson(DAY as f64 / per_day, |d, ts| {
            let r = &mut d.rng;
            let f = TcpFlow::new(ts, erp, win_port(r), db, 1433, "-")
                .bytes(r.log_uniform(200, 20_000), r.log_uniform(500, 500_000))
                .dur(r.log_uniform(2_000, 4 * SEC as u64))
                .end(sf_mostly(r));
            d.tcp(f);
        });
    }

    /// Mail in and out through the provider's relays.
    fn mail_relay(&mut self) {
        let mail = IpAddr::V4(self.sc.org.server("jp-mail01").v4);
        let per_day = (self.sc.terminal_flows_per_day * 0.01).max(150.0);
        self.poisson(DAY as f64 / per_day, |d, ts| {
            let r = &mut d.rng;
            let relay = IpAddr::V4(*r.pick(&MAIL_RELAYS));
            let (ob, rb) = (r.log_uniform(2_000, 5_000_000), r.between(300, 1_200));
            let f = if r.chance(0.5) {
                TcpFlow::new(ts, mail, win_port(r), relay, 25, "smtp,ssl").bytes(ob, rb)
            } else {
                TcpFlow::new(ts, relay, linux_port(r), mail, 25, "smtp,ssl").bytes(ob, rb)
            };
            let f = f.dur(r.log_uniform(300_000, 30 * SEC as u64));
            d.tcp(f);
        });
    }

    /// HQ IT staff manage HQ servers during the Tokyo working day.
    fn it_admins(&mut self) {
        let tz = self.sc.org.sites[self.site].tz;
        let targets: Vec<IpAddr> = self
            .sc
            .org
            .servers
            .iter()
            .filter(|s| s.site == self.site && s.role != Role::Scanner)
            .map(|s| IpAddr::V4(s.v4))
            .collect();
        self.poisson(12.0 * MIN as f64, |d, ts| {
            if !in_business_hours(tz, ts) {
                return;
            }
            let r = &mut d.rng;
            let me = IpAddr::V4(it_admin(r.below(u64::from(IT_ADMINS)) as u8));
            let dst = *r.pick(&targets);
            let f = match r.below(3) {
                0 => TcpFlow::new(ts, me, win_port(r), dst, 3389, "rdp")
                    .bytes(
                        r.log_uniform(200_000, 5_000_000),
                        r.log_uniform(2_000_000, 60_000_000),
                    )
                    .dur(r.log_uniform(120 * SEC as u64, 3_600 * SEC as u64)),
                1 => TcpFlow::new(ts, me, win_port(r), dst, 5985, "http")
                    .bytes(r.log_uniform(2_000, 60_000), r.log_uniform(2_000, 80_000))
                    .dur(r.log_uniform(500_000, 60 * SEC as u64)),
                _ => TcpFlow::new(ts, me, win_port(r), dst, 445, "gssapi,smb,krb")
                    .bytes(
                        r.log_uniform(3_000, 2_000_000),
                        r.log_uniform(3_000, 5_000_000),
                    )
                    .dur(r.log_uniform(200_000, 300 * SEC as u64)),
            };
            d.tcp(f);
        });
    }

    /// Help-desk sessions planned for this day: an IT admin logs on to the jump host, and
    /// from it opens RDP to the user's workstation overseas.
    fn helpdesk(&mut self) {
        let sc = self.sc;
        let jump = IpAddr::V4(sc.org.server("jp-jump01").v4);
        let (start, end) = (self.start, self.end);
        for h in sc.helpdesk.iter().filter(|h| h.ts >= start && h.ts < end) {
            let t = &sc.org.terminals[h.site][h.terminal];
            let r = &mut self.rng;
            let admin = IpAddr::V4(it_admin(r.below(u64::from(IT_ADMINS)) as u8));
            let lead = r.between(30, 240) as i64 * SEC;
            let login = TcpFlow::new(h.ts - lead, admin, win_port(r), jump, 3389, "rdp")
                .bytes(
                    r.log_uniform(300_000, 3_000_000),
                    r.log_uniform(3_000_000, 40_000_000),
                )
                .dur((h.duration_us + lead + r.below(300) as i64 * SEC) as u64);
            let session = TcpFlow::new(h.ts, jump, win_port(r), IpAddr::V4(t.v4), 3389, "rdp")
                .bytes(
                    r.log_uniform(300_000, 3_000_000),
                    r.log_uniform(5_000_000, 60_000_000),
                )
                .dur(h.duration_us as u64);
            self.tcp(login);
            self.tcp(session);
        }
    }

    /// Tuesday 10:00–16:00 Tokyo: the vulnerability scanner sweeps every server and every
    /// workstation of every site. Results per (address, port) are fixed, so every sweep
    /// looks like the first one.
    fn scanner(&mut self) {
        let sc = self.sc;
        let tz = sc.org.sites[0].tz;
        let scan = IpAddr::V4(sc.org.server("jp-scan01").v4);
        for back in [-1i64, 0] {
            let d = i64::from(self.day) + back;
            if d < 0 {
                continue;
            }
            let date = start_date() + chrono::Days::new(d as u64);
            if date.weekday() != Weekday::Tue {
                continue;
            }
            let begin = at_local(tz, date, 10, 0);
            let mut targets: Vec<(IpAddr, Option<Role>)> = Vec::new();
            for s in &sc.org.servers {
                if s.role != Role::Scanner {
                    targets.push((IpAddr::V4(s.v4), Some(s.role)));
                }
            }
            for terms in &sc.org.terminals {
                targets.extend(terms.iter().map(|t| (IpAddr::V4(t.v4), None)));
            }
            let mut probes: Vec<(IpAddr, Option<Role>, u16)> = Vec::new();
            for (ip, role) in targets {
                let ports: &[u16] = if role.is_some() {
                    &SERVER_PORTS
                } else {
                    &WS_PORTS
                };
                probes.extend(ports.iter().map(|&p| (ip, role, p)));
            }
            // Hosts and ports in random order, as scanners do; it also keeps any one
            // host's probes from being evenly spaced.
            let mut r = Rng::stream(sc.seed, &[0x5CA, d as u64]);
            for i in (1..probes.len()).rev() {
                let j = r.below(i as u64 + 1) as usize;
                probes.swap(i, j);
            }
            let step = (6 * HOUR) / probes.len().max(1) as i64;
            for (k, &(ip, role, port)) in probes.iter().enumerate() {
                let ts = begin + k as i64 * step + r.below(step.max(1) as u64) as i64;
                let sp = linux_port(&mut r);
                if ts < self.start || ts >= self.end {
                    continue;
                }
                let fate = mix(sc.seed ^ (u64::from(port) << 32) ^ ip_key(ip));
                let end = match role {
                    Some(role) if open_port(role, port) => End::Probe,
                    Some(_) => {
                        if fate % 10 < 4 {
                            End::Rej
                        } else {
                            End::S0
                        }
                    }
                    None => {
                        if fate % 100 < 15 {
                            End::Rej
                        } else {
                            End::S0
                        }
                    }
                };
                self.tcp(TcpFlow::new(ts, scan, sp, ip, port, "-").end(end));
            }
        }
    }
}

const SERVER_PORTS: [u16; 16] = [
    21, 22, 23, 25, 53, 80, 88, 135, 139, 389, 443, 445, 1433, 3389, 5985, 8080,
];
const WS_PORTS: [u16; 3] = [135, 445, 3389];

pub(crate) fn open_port(role: Role, port: u16) -> bool {
    let open: &[u16] = match role {
        Role::DomainController => &[53, 88, 135, 139, 389, 445, 3389],
        Role::FileServer => &[135, 139, 445, 3389, 5985],
        Role::Erp => &[135, 443, 3389, 5985],
        Role::Database => &[135, 445, 1433, 3389],
        Role::Mail => &[25, 135, 443, 3389],
        Role::Backup | Role::JumpHost => &[135, 445, 3389],
        Role::Scanner => &[22],
    };
    open.contains(&port)
}

fn ip_key(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(a) => u64::from(u32::from(a)),
        IpAddr::V6(a) => {
            let x = u128::from(a);
            (x as u64) ^ ((x >> 64) as u64)
        }
    }
}

fn sf_mostly(r: &mut Rng) -> End {
    if r.chance(0.04) { End::Rsto } else { End::Sf }
}

/// A TCP flow being described; `Day::tcp` gives it a uid and packet counts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TcpFlow {
    pub ts: i64,
    pub orig: IpAddr,
    pub orig_p: u16,
    pub resp: IpAddr,
    pub resp_p: u16,
    pub service: &'static str,
    pub ob: u64,
    pub rb: u64,
    pub dur: u64,
    pub end: End,
}

impl TcpFlow {
    pub(crate) fn new(
        ts: i64,
        orig: IpAddr,
        orig_p: u16,
        resp: IpAddr,
        resp_p: u16,
        service: &'static str,
    ) -> Self {
        TcpFlow {
            ts,
            orig,
            orig_p,
            resp,
            resp_p,
            service,
            ob: 0,
            rb: 0,
            dur: 0,
            end: End::Sf,
        }
    }
    pub(crate) fn bytes(mut self, ob: u64, rb: u64) -> Self {
        self.ob = ob;
        self.rb = rb;
        self
    }
    pub(crate) fn dur(mut self, us: u64) -> Self {
        self.dur = us;
        self
    }
    pub(crate) fn end(mut self, end: End) -> Self {
        self.end = end;
        self
    }
}
