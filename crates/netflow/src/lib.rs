//! NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011/7012, RFC 5103 bi-flows)
//! decoding over UDP datagrams, pure and bounded.
//!
//! - [`Decoder`] takes one datagram at a time with the address it came from and appends
//!   [`FlowRecord`]s. It keeps templates per (exporter, version, domain, template id) in a
//!   cache bounded by [`MAX_TEMPLATES`] and [`MAX_TEMPLATE_CACHE_FIELDS`] (oldest evicted,
//!   counted), buffers data that arrives before its template (at most [`MAX_PENDING_SETS`]
//!   sets and [`MAX_PENDING_BYTES`] bytes) and decodes it when the template comes, learns
//!   sampling intervals from options data and applies them, converts v5/v9 uptime-relative
//!   times to UTC, and follows sequence numbers to count lost datagrams or records. It does
//!   no I/O and reads no clock; a datagram whose header is unusable is an `Err`, and
//!   problems inside a datagram are counted by stable name ([`Problem`]) while the rest
//!   is decoded.
//! - [`Pairer`] joins the two directions of a connection into one
//!   [`sekisho_event::Flow`]. NetFlow counts IP-layer octets, Zeek counts payload bytes:
//!   see [`pair`].
//! - [`split_datagrams`] and [`looks_like_netflow`] read files of raw datagrams.
//! - [`encode`] builds v9/IPFIX datagrams from records (tests, benchmarks, load generators).
//!
//! ```
//! use sekisho_netflow::{Decoder, Pairer, encode::Encoder, FlowRecord, Version};
//! use std::net::SocketAddr;
//!
//! let exporter: SocketAddr = "192.0.2.1:40000".parse().unwrap();
//! let mut one = FlowRecord::empty(exporter, Version::V9);
//! one.src_ip = "10.1.0.5".parse().unwrap();
//! one.dst_ip = "10.2.0.9".parse().unwrap();
//! one.src_port = 51000;
//! one.dst_port = 3389;
//! one.protocol = 6;
//! one.tcp_flags = 0x02;
//! one.raw_bytes = 5200;
//! one.raw_packets = 12;
//!
//! // An exporter's datagrams, as a UDP socket would hand them over.
//! let datagrams = Encoder::v9(1).datagrams(1_700_000_000, &[one]);
//!
//! let mut decoder = Decoder::new();
//! let mut records = Vec::new();
//! for d in &datagrams {
//!     decoder.decode(exporter, d, &mut records).unwrap();
//! }
//! assert_eq!(records.len(), 1);
//! assert_eq!(decoder.stats().records, 1);
//!
//! let mut pairer = Pairer::default();
//! let mut flows = Vec::new();
//! for r in &records {
//!     pairer.push(r, &mut flows);
//! }
//! pairer.flush(&mut flows);
//! assert_eq!(flows[0].resp_port, 3389);
//! assert_eq!(flows[0].service, sekisho_event::Service::Rdp);
//! assert_eq!(&*flows[0].sensor, "192.0.2.1");
//! ```

mod bounded;
mod decoder;
pub mod encode;
mod fields;
pub mod pair;
mod record;
mod split;

pub use decoder::{
    DatagramInfo, DecodeError, Decoder, DecoderStats, ExporterStats, MAX_EXPORTERS,
    MAX_PENDING_BYTES, MAX_PENDING_SETS, MAX_SAMPLERS, MAX_STREAMS, MAX_TEMPLATE_CACHE_FIELDS,
    MAX_TEMPLATE_FIELDS, MAX_TEMPLATES, Problem,
};
pub use pair::{Pairer, PairerConfig, PairerStats};
pub use record::{
    EnterpriseField, FlowRecord, MAX_ENTERPRISE_FIELDS, MAX_ENTERPRISE_VALUE, REVERSE_PEN,
    ReverseCounters, Version,
};
pub use split::{Datagrams, looks_like_netflow, split_datagrams};
