//! Zeek log readers: `conn.log` into [`Flow`](sekisho_event::Flow)s and the application
//! logs (rdp, ssh, smb_mapping, smb_files, ntlm, kerberos, dce_rpc) into
//! [`AppRecord`](sekisho_event::AppRecord)s.
//!
//! Two layers:
//!
//! * **Parsers** ([`tsv`], [`json`]) are pure functions of a line's bytes and a small state
//!   (the TSV header). They do no I/O, never panic, and return a [`RecordError`] with a
//!   [`RejectReason`](sekisho_event::RejectReason) and a short escaped detail for a bad
//!   record. The TSV conn path allocates nothing per record.
//! * **The shell** ([`discover`], [`LogFile`], [`LogReader`]) finds files, names their
//!   sensor, decompresses gzip, tells TSV from JSON by content, and reads lines into one
//!   reusable buffer of at most [`MAX_LINE_BYTES`]. Every line ends up counted in
//!   [`RunStats`](sekisho_event::RunStats): parsed, rejected (with file, line, reason) or
//!   skipped (logs sekisho does not use, such as dns, are counted, not parsed).
//!
//! This crate depends on no sekisho crate but `sekisho-event`.
//!
//! ```
//! use sekisho_event::RunStats;
//! use sekisho_zeek::{LogFile, LogReader, Record};
//!
//! let log = "#separator \\x09\n\
//!     #path\tconn\n\
//!     #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tconn_state\n\
//!     1588205199.824370\tCvf4XX17hSAgXDdGEd\t10.0.1.6\t54243\t10.0.0.4\t53\tudp\tdns\tSF\n\
//!     1588205199.9\tCbad\tnot-an-ip\t1\t10.0.0.4\t53\tudp\t-\tS0\n";
//! let file = LogFile::new("sensors/NASHUA_conn.log");
//! let mut stats = RunStats::default();
//! let mut reader =
//!     LogReader::from_read(&file, Box::new(std::io::Cursor::new(log)), &mut stats).unwrap();
//! let Some(Record::Flow(flow)) = reader.next_record(&mut stats) else { panic!() };
//! assert_eq!(flow.resp_port, 53);
//! assert_eq!(&*flow.sensor, "NASHUA");
//! assert!(reader.next_record(&mut stats).is_none());
//! assert_eq!((stats.parsed, stats.rejected), (1, 1));
//! assert_eq!(stats.samples[0].to_string(), "sensors/NASHUA_conn.log:5: bad-field: id.orig_h: \"not-an-ip\"");
//! ```

#![warn(missing_docs)]

mod conn_fast;
pub mod json;
mod json_fast;
mod kind;
mod record;
mod source;
mod split;
pub mod tsv;
mod value;

pub use kind::LogKind;
pub use record::{Record, RecordError};
pub use source::{
    LogFile, LogReader, MAX_DIR_DEPTH, ReadAll, discover, kind_from_file_name, sensor_name,
};

/// Longest line read, in bytes. A longer line is rejected (`line-too-long`) and skipped as
/// it streams by, so a hostile file cannot make the reader buffer it. Real Zeek lines are
/// well under 10 KiB; 1 MiB leaves room for huge `files.log` MIME lists.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// What one line turned out to be.
#[derive(Clone, Debug, PartialEq)]
pub enum Parsed {
    /// A TSV header or comment line (it updated the header state).
    Header,
    /// A record of a log sekisho does not use (dns, ssl, ...): counted, not parsed.
    Skipped,
    /// A record.
    Record(Record),
}
