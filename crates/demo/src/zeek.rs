//! Zeek 6 `conn.log` records and a fast TSV writer for them.
//!
//! The writer formats by hand into a byte buffer (no `format!` per field): at the Large
//! scale it writes fifty million lines, and formatting is, after compression, what the
//! generator spends its time on.

use crate::rng::{Rng, mix};
use sekisho_event::Proto;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;

/// Zeek's uid: `C` and 17 base62 characters.
pub(crate) type UidBytes = [u8; 18];

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Makes uids that look random but are unique by construction: each comes from a distinct
/// 64-bit counter value put through a keyed bijection, so two flows can never share a uid
/// (no birthday bound, no lookup table) and intrusion uids, drawn from their own counter
/// range, cannot be reused by benign flows.
#[derive(Debug)]
pub(crate) struct UidGen {
    key: u64,
    next: u64,
}

impl UidGen {
    /// `space` selects a disjoint counter range (the top 24 bits).
    pub(crate) fn new(seed: u64, space: u64) -> Self {
        UidGen {
            key: mix(seed ^ 0x0C0F_FEE0_0000_0000),
            next: space << 40,
        }
    }

    pub(crate) fn next_uid(&mut self) -> UidBytes {
        let x = mix(self.next ^ self.key); // bijective in `next`
        self.next += 1;
        let mut tail = mix(x ^ 0xA5A5_A5A5_A5A5_A5A5);
        let mut out = [b'C'; 18];
        // 11 base62 digits carry all 64 bits of x (62^11 > 2^64) ...
        let mut v = x;
        let mut digits = [0u8; 11];
        for d in digits.iter_mut().rev() {
            *d = (v % 62) as u8;
            v /= 62;
        }
        // ... 6 more come from a hash of x. The leading digit (at most 21) is shifted by
        // one of them so it does not stand out; the shift is recoverable, so uniqueness
        // holds.
        let mut extra = [0u8; 6];
        for e in extra.iter_mut() {
            *e = (tail % 62) as u8;
            tail /= 62;
        }
        digits[0] = (digits[0] + extra[0]) % 62;
        for (i, d) in digits.iter().chain(extra.iter()).enumerate() {
            out[1 + i] = BASE62[*d as usize];
        }
        out
    }
}

/// How a TCP connection ended, which decides Zeek's `conn_state` and `history`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// Normal open and close.
    Sf,
    /// Originator aborted with a RST.
    Rsto,
    /// Responder aborted with a RST.
    Rstr,
    /// Established, not closed when logged.
    S1,
    /// SYN, no answer.
    S0,
    /// SYN answered by RST: port closed or blocked.
    Rej,
    /// Handshake then immediate RST from the originator (a connect scan).
    Probe,
}

/// One conn.log record.
#[derive(Clone, Debug)]
pub(crate) struct Conn {
    /// Start, microseconds since the epoch.
    pub ts: i64,
    pub uid: UidBytes,
    pub orig: IpAddr,
    pub orig_p: u16,
    pub resp: IpAddr,
    pub resp_p: u16,
    pub proto: Proto,
    /// Zeek's `service` field (`-` when no analyser confirmed).
    pub service: &'static str,
    /// `None` for single-packet connections, where Zeek leaves duration and byte counts
    /// unset.
    pub duration_us: Option<u64>,
    pub orig_bytes: u64,
    pub resp_bytes: u64,
    pub state: &'static str,
    pub history: &'static str,
    pub orig_pkts: u64,
    pub orig_ip_bytes: u64,
    pub resp_pkts: u64,
    pub resp_ip_bytes: u64,
}

/// Addresses the sensors' `Site::local_nets` cover (every site: 10/8 and 2001:db8::/32).
fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.octets()[0] == 10,
        IpAddr::V6(a) => a.segments()[0] == 0x2001 && a.segments()[1] == 0xdb8,
    }
}

/// TCP and IP header bytes per packet (no TCP options after the handshake, as Windows
/// sends).
fn hdr(ip: IpAddr, proto: Proto) -> u64 {
    match (ip, proto) {
        (IpAddr::V4(_), Proto::Udp) => 28,
        (IpAddr::V6(_), Proto::Udp) => 48,
        (IpAddr::V4(_), _) => 40,
        (IpAddr::V6(_), _) => 60,
    }
}

const MSS: u64 = 1448;

impl Conn {
    /// A TCP connection with realistic packet counts and history for how it ended.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn tcp(
        uid: UidBytes,
        ts: i64,
        orig: IpAddr,
        orig_p: u16,
        resp: IpAddr,
        resp_p: u16,
        service: &'static str,
        orig_bytes: u64,
        resp_bytes: u64,
        duration_us: u64,
        end: End,
        rng: &mut Rng,
    ) -> Conn {
        let h = hdr(orig, Proto::Tcp);
        let (state, history, ob, rb, op, rp, dur, service) = match end {
            End::S0 => {
                // Retransmitted SYNs stretch the attempt over seconds.
                let syns = 1 + rng.below(3);
                let dur = (syns > 1).then(|| (syns - 1) * 3_000_000 + rng.below(20_000));
                ("S0", "S", 0, 0, syns, 0, dur, "-")
            }
            End::Rej => ("REJ", "Sr", 0, 0, 1, 1, Some(50 + rng.below(900)), "-"),
            End::Probe => (
                "RSTO",
                "ShAR",
                0,
                0,
                3,
                1,
                Some(200 + rng.below(3_000)),
                "-",
            ),
            _ => {
                let (state, history) = match end {
                    End::Rsto => ("RSTO", "ShADadR"),
                    End::Rstr => ("RSTR", "ShADadr"),
                    End::S1 => ("S1", "ShADad"),
                    _ => match rng.below(4) {
                        0 => ("SF", "ShADadfF"),
                        1 => ("SF", "ShADdaFf"),
                        _ => ("SF", "ShADadFf"),
                    },
                };
                let op = 3 + orig_bytes.div_ceil(MSS) + resp_bytes / MSS / 2;
                let rp = 2 + resp_bytes.div_ceil(MSS) + orig_bytes / MSS / 2;
                (
                    state,
                    history,
                    orig_bytes,
                    resp_bytes,
                    op,
                    rp,
                    Some(duration_us.max(1)),
                    service,
                )
            }
        };
        // SYN and SYN-ACK carry 12 bytes of options.
        let syn_extra = if op > 0 { 12 } else { 0 };
        Conn {
            ts,
            uid,
            orig,
            orig_p,
            resp,
            resp_p,
            proto: Proto::Tcp,
            service,
            duration_us: dur,
            orig_bytes: ob,
            resp_bytes: rb,
            state,
            history,
            orig_pkts: op,
            orig_ip_bytes: ob + op * h + syn_extra,
            resp_pkts: rp,
            resp_ip_bytes: if rp > 0 {
                rb + rp * h + if state == "REJ" { 0 } else { 12 }
            } else {
                0
            },
        }
    }

    /// A UDP request/response (or an unanswered request when `resp_bytes` is 0).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn udp(
        uid: UidBytes,
        ts: i64,
        orig: IpAddr,
        orig_p: u16,
        resp: IpAddr,
        resp_p: u16,
        service: &'static str,
        orig_bytes: u64,
        resp_bytes: u64,
        duration_us: u64,
    ) -> Conn {
        let h = hdr(orig, Proto::Udp);
        let answered = resp_bytes > 0;
        Conn {
            ts,
            uid,
            orig,
            orig_p,
            resp,
            resp_p,
            proto: Proto::Udp,
            service: if answered { service } else { "-" },
            duration_us: answered.then_some(duration_us.max(1)),
            orig_bytes: if answered { orig_bytes } else { 0 },
            resp_bytes,
            state: if answered { "SF" } else { "S0" },
            history: if answered { "Dd" } else { "D" },
            orig_pkts: 1,
            orig_ip_bytes: orig_bytes + h,
            resp_pkts: u64::from(answered),
            resp_ip_bytes: if answered { resp_bytes + h } else { 0 },
        }
    }
}

pub(crate) const FIELDS: &str = "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents";
const TYPES: &str = "time\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]";

/// Zeek's header block, `open` formatted as Zeek does (`2024-07-01-00-00-00`).
pub(crate) fn header(open: &str) -> String {
    format!(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t{open}\n#fields\t{FIELDS}\n#types\t{TYPES}\n"
    )
}

pub(crate) fn footer(close: &str) -> String {
    format!("#close\t{close}\n")
}

/// One line being formatted, on the stack: bytes go in one at a time and the finished line
/// is appended with a single copy (per-field `extend_from_slice` calls cost more than the
/// formatting itself).
struct LineBuf {
    b: [u8; LineBuf::CAP],
    n: usize,
}

impl LineBuf {
    /// Longest possible line: two IPv6 addresses, twenty-one fields, every count at its
    /// widest, with room to spare.
    const CAP: usize = 512;

    #[inline]
    fn byte(&mut self, x: u8) {
        self.b[self.n] = x;
        self.n += 1;
    }

    #[inline]
    fn bytes(&mut self, s: &[u8]) {
        for &x in s {
            self.byte(x);
        }
    }

    #[inline]
    fn tab(&mut self) {
        self.byte(b'\t');
    }

    fn u64(&mut self, v: u64) {
        let mut len = 1;
        let mut x = v;
        while x >= 10 {
            x /= 10;
            len += 1;
        }
        let mut i = self.n + len;
        let mut x = v;
        loop {
            i -= 1;
            self.b[i] = b'0' + (x % 10) as u8;
            x /= 10;
            if x == 0 {
                break;
            }
        }
        self.n += len;
    }

    /// `secs.micros` with six decimals, as Zeek writes `time` and `interval`.
    fn micros(&mut self, us: u64) {
        self.u64(us / 1_000_000);
        self.byte(b'.');
        let mut frac = us % 1_000_000;
        for i in (0..6).rev() {
            self.b[self.n + i] = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        self.n += 6;
    }

    fn ip(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(a) => {
                let o = a.octets();
                self.u64(u64::from(o[0]));
                for x in &o[1..] {
                    self.byte(b'.');
                    self.u64(u64::from(*x));
                }
            }
            IpAddr::V6(a) => {
                let mut s = String::with_capacity(40);
                let _ = write!(s, "{a}");
                self.bytes(s.as_bytes());
            }
        }
    }

    fn bool(&mut self, b: bool) {
        self.byte(if b { b'T' } else { b'F' });
    }
}

/// Appends one TSV line.
#[cfg(test)]
pub(crate) fn push_line(buf: &mut Vec<u8>, c: &Conn) {
    let mut l = LineBuf {
        b: [0; LineBuf::CAP],
        n: 0,
    };
    format_line(&mut l, c);
    buf.extend_from_slice(&l.b[..l.n]);
}

/// Formats one TSV line into `l` (from its start).
fn format_line(l: &mut LineBuf, c: &Conn) {
    l.n = 0;
    l.micros(c.ts as u64);
    l.tab();
    l.bytes(&c.uid);
    l.tab();
    l.ip(c.orig);
    l.tab();
    l.u64(u64::from(c.orig_p));
    l.tab();
    l.ip(c.resp);
    l.tab();
    l.u64(u64::from(c.resp_p));
    l.tab();
    l.bytes(c.proto.as_str().as_bytes());
    l.tab();
    l.bytes(c.service.as_bytes());
    l.tab();
    match c.duration_us {
        Some(d) => {
            l.micros(d);
            l.tab();
            l.u64(c.orig_bytes);
            l.tab();
            l.u64(c.resp_bytes);
        }
        None => l.bytes(b"-\t-\t-"),
    }
    l.tab();
    l.bytes(c.state.as_bytes());
    l.tab();
    l.bool(is_local(c.orig));
    l.tab();
    l.bool(is_local(c.resp));
    l.bytes(b"\t0\t");
    l.bytes(c.history.as_bytes());
    l.tab();
    l.u64(c.orig_pkts);
    l.tab();
    l.u64(c.orig_ip_bytes);
    l.tab();
    l.u64(c.resp_pkts);
    l.tab();
    l.u64(c.resp_ip_bytes);
    l.bytes(b"\t-\n");
}

/// Writes a whole conn.log (header, sorted records, footer) to `w`.
pub(crate) fn write_log<'c, W: Write>(
    w: &mut W,
    open: &str,
    close: &str,
    conns: impl IntoIterator<Item = &'c Conn>,
) -> io::Result<()> {
    w.write_all(header(open).as_bytes())?;
    let mut buf = Vec::with_capacity(1 << 20);
    // One line buffer for the whole file: zeroing 512 bytes per line showed in profiles.
    let mut line = LineBuf {
        b: [0; LineBuf::CAP],
        n: 0,
    };
    for c in conns {
        format_line(&mut line, c);
        buf.extend_from_slice(&line.b[..line.n]);
        if buf.len() >= (1 << 20) - 512 {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    w.write_all(&buf)?;
    w.write_all(footer(close).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn uids_look_like_zeek_and_never_repeat() {
        let mut g = UidGen::new(7, 1);
        let mut h = UidGen::new(7, 2);
        let mut seen = HashSet::new();
        for _ in 0..50_000 {
            for u in [g.next_uid(), h.next_uid()] {
                assert_eq!(u[0], b'C');
                assert!(u[1..].iter().all(|b| b.is_ascii_alphanumeric()));
                assert!(seen.insert(u));
            }
        }
        // The first character after `C` is not confined to the low digits.
        let firsts: HashSet<u8> = seen.iter().map(|u| u[1]).collect();
        assert!(firsts.len() > 50, "{}", firsts.len());
    }

    #[test]
    fn lines_have_every_field_in_zeek_notation() {
        let mut rng = Rng::stream(1, &[]);
        let uid = *b"CAbCdEfGhIjKlMnOpQ";
        let a: IpAddr = "10.20.64.5".parse().unwrap();
        let b: IpAddr = "10.10.5.21".parse().unwrap();
        let ext: IpAddr = "8.8.8.8".parse().unwrap();
        let mut buf = Vec::new();
        let c = Conn::tcp(
            uid,
            1_719_792_000_000_001,
            a,
            50123,
            b,
            445,
            "gssapi,smb,krb",
            1000,
            2000,
            1_500_000,
            End::Rsto,
            &mut rng,
        );
        push_line(&mut buf, &c);
        let s = String::from_utf8(buf).unwrap();
        let f: Vec<&str> = s.trim_end().split('\t').collect();
        assert_eq!(f.len(), FIELDS.split('\t').count());
        assert_eq!(
            &f[..16],
            &[
                "1719792000.000001",
                "CAbCdEfGhIjKlMnOpQ",
                "10.20.64.5",
                "50123",
                "10.10.5.21",
                "445",
                "tcp",
                "gssapi,smb,krb",
                "1.500000",
                "1000",
                "2000",
                "RSTO",
                "T",
                "T",
                "0",
                "ShADadR"
            ]
        );
        assert_eq!(f[20], "-");
        let mut buf = Vec::new();
        push_line(
            &mut buf,
            &Conn::udp(uid, 1_000_000, a, 5353, ext, 53, "dns", 40, 0, 0),
        );
        let s = String::from_utf8(buf).unwrap();
        assert!(
            s.contains("\tudp\t-\t-\t-\t-\tS0\tT\tF\t0\tD\t1\t68\t0\t0\t-"),
            "{s}"
        );
    }
}
