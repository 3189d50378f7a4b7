use crate::{Service, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// Transport protocol of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
    /// Anything else (Zeek's `unknown_transport`, IP protocol numbers from NetFlow).
    Other,
}

impl Proto {
    /// From Zeek's `proto` field (`tcp`, `udp`, `icmp`, `unknown_transport`), as text or
    /// as the raw bytes of a log line.
    pub fn from_zeek(s: impl AsRef<[u8]>) -> Self {
        match s.as_ref() {
            b"tcp" => Proto::Tcp,
            b"udp" => Proto::Udp,
            b"icmp" => Proto::Icmp,
            _ => Proto::Other,
        }
    }

    /// Lower-case name as used in policy files (`tcp/445`).
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Other => "other",
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Zeek's `conn_state`: how the connection went, seen from the sensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConnState {
    S0,
    S1,
    SF,
    REJ,
    S2,
    S3,
    RSTO,
    RSTR,
    RSTOS0,
    RSTRH,
    SH,
    SHR,
    OTH,
    /// Not given by the source.
    Unknown,
}

impl ConnState {
    /// From Zeek's `conn_state` value; unknown strings map to `Unknown`.
    pub fn from_zeek(s: impl AsRef<[u8]>) -> Self {
        match s.as_ref() {
            b"S0" => Self::S0,
            b"S1" => Self::S1,
            b"SF" => Self::SF,
            b"REJ" => Self::REJ,
            b"S2" => Self::S2,
            b"S3" => Self::S3,
            b"RSTO" => Self::RSTO,
            b"RSTR" => Self::RSTR,
            b"RSTOS0" => Self::RSTOS0,
            b"RSTRH" => Self::RSTRH,
            b"SH" => Self::SH,
            b"SHR" => Self::SHR,
            b"OTH" => Self::OTH,
            _ => Self::Unknown,
        }
    }

    /// True when the responder answered: the connection was established or at least
    /// acknowledged. Scans and blocked attempts (S0, REJ, RSTOS0, SH) are not.
    pub fn established(self) -> bool {
        matches!(
            self,
            Self::S1 | Self::SF | Self::S2 | Self::S3 | Self::RSTO | Self::RSTR | Self::OTH
        )
    }
}

/// A flow's unique id as given by the sensor (Zeek's `uid`, e.g. `CMwJl820SlYyy434c8`).
///
/// Stored inline (no allocation per record); at most [`Uid::MAX_LEN`] bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Uid {
    len: u8,
    bytes: [u8; Uid::MAX_LEN],
}

impl Uid {
    /// Longest uid accepted. Zeek's are 18 to 20 characters.
    pub const MAX_LEN: usize = 31;

    /// `None` when `s` is longer than [`Uid::MAX_LEN`].
    pub fn new(s: &str) -> Option<Self> {
        Self::from_bytes(s.as_bytes())
    }

    /// The uid in a log line's raw bytes; `None` when longer than [`Uid::MAX_LEN`] or not
    /// UTF-8.
    pub fn from_bytes(s: &[u8]) -> Option<Self> {
        if s.len() > Self::MAX_LEN || !(s.is_ascii() || std::str::from_utf8(s).is_ok()) {
            return None;
        }
        let mut bytes = [0u8; Self::MAX_LEN];
        bytes[..s.len()].copy_from_slice(s);
        Some(Self {
            len: s.len() as u8,
            bytes,
        })
    }

    /// The uid as text.
    pub fn as_str(&self) -> &str {
        // Built only from a &str, cut at its own length: always valid UTF-8.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }

    /// The uid's UTF-8 bytes, without checking them again (a writer copying them out needs
    /// no `&str`).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len).min(Self::MAX_LEN)]
    }

    /// True when the source gave no uid.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uid({})", self.as_str())
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Uid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Uid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Uid::new(&s).ok_or_else(|| serde::de::Error::custom("uid too long"))
    }
}

/// One connection as a sensor saw it: Zeek's conn.log record, or a bi-directional flow
/// assembled from NetFlow/IPFIX or packets.
///
/// `orig` is the side that opened the connection (Zeek's originator); bytes and packets are
/// counted per direction. Durations and counts a source leaves unset are 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    /// Start of the connection.
    pub ts: Timestamp,
    /// Length of the connection in microseconds.
    pub duration_us: u64,
    pub uid: Uid,
    pub orig_ip: IpAddr,
    pub orig_port: u16,
    pub resp_ip: IpAddr,
    pub resp_port: u16,
    pub proto: Proto,
    /// Application protocol, from the sensor's protocol detection or else the port.
    pub service: Service,
    /// Payload bytes sent by the originator.
    pub orig_bytes: u64,
    /// Payload bytes sent by the responder.
    pub resp_bytes: u64,
    pub orig_pkts: u64,
    pub resp_pkts: u64,
    pub state: ConnState,
    /// Name of the sensor that saw it (Zeek's folder or `_system`/`@system`).
    pub sensor: Arc<str>,
}

impl Flow {
    /// End of the connection.
    pub fn end(&self) -> Timestamp {
        self.ts
            .add_micros(i64::try_from(self.duration_us).unwrap_or(i64::MAX))
    }
}
