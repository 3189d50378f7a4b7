//! The `flows` table's segments, encoded by the store itself.
//!
//! Flows are most of what a store holds and of what an ingest writes. A generic Arrow →
//! Parquet writer re-derives what the store already knows: it interns every row of every
//! dictionary column again (to build the chunk's dictionary) and compares it again for
//! min/max, which cost more than parsing and analysing the flow together. So the columns
//! are kept here as the file wants them — dictionary pages' values as they are met, one
//! index per row, numbers in vectors — and encoded straight into pages. The `parquet` crate
//! still writes the page headers, the footer and the Arrow schema, so the files are the
//! same Parquet any engine reads: same schema, same encodings per column as before
//! (`docs/store.md`), and the tests read every column back with `parquet`'s reader.

use crate::dict::{Dictionary, KeyedDict, NULL, NumberDict, TextDict};
use crate::encode;
use crate::schema::{FlowPlace, conn_state_name, flows_schema};
use bytes::Bytes;
use parquet::arrow::{ArrowSchemaConverter, add_encoded_arrow_schema_to_metadata};
use parquet::basic::{Compression, Encoding, EncodingMask, PageType, ZstdLevel};
use parquet::column::page::{CompressedPage, Page, PageWriter};
use parquet::column::writer::ColumnCloseResult;
use parquet::data_type::ByteArray;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ColumnChunkMetaData, PageEncodingStats};
use parquet::file::properties::WriterProperties;
use parquet::file::statistics::{Statistics, ValueStatistics};
use parquet::file::writer::{SerializedFileWriter, SerializedPageWriter, TrackedWrite};
use parquet::schema::types::{ColumnDescPtr, SchemaDescriptor};
use sekisho_event::{ConnState, Flow, Proto, Service};
use std::io::Write;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

/// Rows per data page: pages of a few hundred kilobytes to a megabyte for the widest
/// columns, which readers take in one piece, and few enough compressor calls per segment.
const PAGE_ROWS: usize = 1 << 16;
/// zstd level 1 compressed the demo's segments smaller than level 3 and in less time,
/// because most bytes left after the encodings are random.
const ZSTD_LEVEL: i32 = 1;
/// The delta-encoded columns are not compressed: what bit-packing leaves of arrival times
/// and source ports is noise, which zstd only wrapped in frames (the medium demo's store
/// is 3 KB smaller without, and the ingest 1 % fewer instructions).
const DELTA_COMPRESSION: Compression = Compression::UNCOMPRESSED;
/// Byte-array min/max longer than this are left out of the statistics rather than kept
/// whole in every footer (a name from the org file can be long; an address never is).
const MAX_STAT_BYTES: usize = 64;

/// The columns of one `flows` segment, in the order of [`flows_schema`].
pub(crate) struct FlowColumns {
    ts: Vec<i64>,
    duration_us: Vec<u64>,
    /// PLAIN-encoded: length, then bytes, per row.
    uid: Vec<u8>,
    sensor: TextDict,
    src_ip: KeyedDict<IpAddr>,
    src_port: Vec<u16>,
    dst_ip: KeyedDict<IpAddr>,
    dst_port: NumberDict<4>,
    proto: KeyedDict<Proto>,
    service: KeyedDict<Service>,
    orig_bytes: Vec<u64>,
    resp_bytes: Vec<u64>,
    orig_pkts: NumberDict<8>,
    resp_pkts: NumberDict<8>,
    conn_state: KeyedDict<ConnState>,
    src_site: TextDict,
    dst_site: TextDict,
    src_asset: TextDict,
    dst_asset: TextDict,
    direction: TextDict,
    policy_action: TextDict,
    policy_rule: TextDict,
    pub(crate) rows: usize,
    pub(crate) min_ts: i64,
    pub(crate) max_ts: i64,
}

impl std::fmt::Debug for FlowColumns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowColumns")
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl FlowColumns {
    pub(crate) fn new() -> Self {
        Self {
            ts: Vec::new(),
            duration_us: Vec::new(),
            uid: Vec::new(),
            sensor: TextDict::new(),
            src_ip: KeyedDict::new(),
            src_port: Vec::new(),
            dst_ip: KeyedDict::new(),
            dst_port: NumberDict::new(),
            proto: KeyedDict::new(),
            service: KeyedDict::new(),
            orig_bytes: Vec::new(),
            resp_bytes: Vec::new(),
            orig_pkts: NumberDict::new(),
            resp_pkts: NumberDict::new(),
            conn_state: KeyedDict::new(),
            src_site: TextDict::new(),
            dst_site: TextDict::new(),
            src_asset: TextDict::new(),
            dst_asset: TextDict::new(),
            direction: TextDict::new(),
            policy_action: TextDict::new(),
            policy_rule: TextDict::new(),
            rows: 0,
            min_ts: i64::MAX,
            max_ts: i64::MIN,
        }
    }

    pub(crate) fn push(&mut self, flow: &Flow, place: &FlowPlace<'_>) {
        let ts = flow.ts.as_micros();
        self.min_ts = self.min_ts.min(ts);
        self.max_ts = self.max_ts.max(ts);
        self.rows += 1;
        self.ts.push(ts);
        self.duration_us.push(flow.duration_us);
        let uid = flow.uid.as_bytes();
        self.uid
            .extend_from_slice(&(uid.len() as u32).to_le_bytes());
        self.uid.extend_from_slice(uid);
        self.sensor.append_value(&flow.sensor);
        let ip_text = |ip: IpAddr| move |s: &mut String| write_ip(s, ip);
        self.src_ip.append(flow.orig_ip, ip_text(flow.orig_ip));
        self.src_port.push(flow.orig_port);
        self.dst_ip.append(flow.resp_ip, ip_text(flow.resp_ip));
        self.dst_port.append(u64::from(flow.resp_port));
        let proto = flow.proto;
        self.proto.append(proto, |s| s.push_str(proto.as_str()));
        let service = flow.service;
        self.service
            .append(service, |s| s.push_str(service.as_str()));
        self.orig_bytes.push(flow.orig_bytes);
        self.resp_bytes.push(flow.resp_bytes);
        self.orig_pkts.append(flow.orig_pkts);
        self.resp_pkts.append(flow.resp_pkts);
        let state = flow.state;
        self.conn_state
            .append(state, |s| s.push_str(conn_state_name(state)));
        self.src_site.append_option(place.src_site);
        self.dst_site.append_option(place.dst_site);
        self.src_asset.append_option(place.src_asset);
        self.dst_asset.append_option(place.dst_asset);
        self.direction.append_value(place.direction);
        self.policy_action.append_value(place.policy_action);
        self.policy_rule.append_option(place.policy_rule);
    }

    /// Writes the segment as a Parquet file of one row group to `out` and empties the
    /// columns for the next segment.
    pub(crate) fn write<W: Write + Send>(
        &mut self,
        out: W,
        encoder: &mut PageEncoder,
    ) -> Result<W, ParquetError> {
        let (schema, props) = file_schema()?;
        let mut file = SerializedFileWriter::new(out, schema.root_schema_ptr(), props.clone())?;
        let chunks = self.encode(schema, encoder)?;
        let mut group = file.next_row_group()?;
        for (bytes, close) in chunks {
            group.append_column(&bytes, close)?;
        }
        group.close()?;
        self.clear();
        file.into_inner()
    }

    fn encode(
        &self,
        schema: &SchemaDescriptor,
        e: &mut PageEncoder,
    ) -> Result<Vec<(Bytes, ColumnCloseResult)>, ParquetError> {
        let rows = self.rows;
        let col = |i: usize| schema.column(i);
        Ok(vec![
            e.delta(col(0), &self.ts, int64_stats(self.min_ts, self.max_ts))?,
            e.plain_u64(col(1), &self.duration_us)?,
            e.plain_bytes(col(2), &self.uid, rows)?,
            e.dictionary(col(3), &self.sensor.dict, byte_stats)?,
            e.dictionary(col(4), &self.src_ip.dict, byte_stats)?,
            e.delta_u16(col(5), &self.src_port)?,
            e.dictionary(col(6), &self.dst_ip.dict, byte_stats)?,
            e.dictionary(col(7), &self.dst_port.dict, number_stats::<4>)?,
            e.dictionary(col(8), &self.proto.dict, byte_stats)?,
            e.dictionary(col(9), &self.service.dict, byte_stats)?,
            e.plain_u64(col(10), &self.orig_bytes)?,
            e.plain_u64(col(11), &self.resp_bytes)?,
            e.dictionary(col(12), &self.orig_pkts.dict, number_stats::<8>)?,
            e.dictionary(col(13), &self.resp_pkts.dict, number_stats::<8>)?,
            e.dictionary(col(14), &self.conn_state.dict, byte_stats)?,
            e.dictionary(col(15), &self.src_site.dict, byte_stats)?,
            e.dictionary(col(16), &self.dst_site.dict, byte_stats)?,
            e.dictionary(col(17), &self.src_asset.dict, byte_stats)?,
            e.dictionary(col(18), &self.dst_asset.dict, byte_stats)?,
            e.dictionary(col(19), &self.direction.dict, byte_stats)?,
            e.dictionary(col(20), &self.policy_action.dict, byte_stats)?,
            e.dictionary(col(21), &self.policy_rule.dict, byte_stats)?,
        ])
    }

    fn clear(&mut self) {
        self.ts.clear();
        self.duration_us.clear();
        self.uid.clear();
        self.src_port.clear();
        self.orig_bytes.clear();
        self.resp_bytes.clear();
        for d in [
            &mut self.sensor,
            &mut self.src_site,
            &mut self.dst_site,
            &mut self.src_asset,
            &mut self.dst_asset,
            &mut self.direction,
            &mut self.policy_action,
            &mut self.policy_rule,
        ] {
            d.clear();
        }
        self.src_ip.clear();
        self.dst_ip.clear();
        self.proto.clear();
        self.service.clear();
        self.conn_state.clear();
        self.dst_port.clear();
        self.orig_pkts.clear();
        self.resp_pkts.clear();
        self.rows = 0;
        self.min_ts = i64::MAX;
        self.max_ts = i64::MIN;
    }
}

/// An address as `Display` writes it. A segment meets thousands of addresses for the first
/// time (scans, clients), and the formatting machinery costs several times the digits, so
/// IPv4 is written digit by digit; IPv6, with its zero-run rules, is left to `Display`.
fn write_ip(s: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    s.push('.');
                }
                if octet >= 100 {
                    s.push(char::from(b'0' + octet / 100));
                }
                if octet >= 10 {
                    s.push(char::from(b'0' + octet / 10 % 10));
                }
                s.push(char::from(b'0' + octet % 10));
            }
        }
        IpAddr::V6(_) => {
            use std::fmt::Write;
            let _ = write!(s, "{ip}");
        }
    }
}

/// The Parquet schema of `flows` and the file properties: zstd, and the Arrow schema in
/// the footer so Arrow readers get back the same types (dictionaries, UTC timestamps).
fn file_schema() -> Result<&'static (SchemaDescriptor, Arc<WriterProperties>), ParquetError> {
    static FILE: OnceLock<Result<(SchemaDescriptor, Arc<WriterProperties>), String>> =
        OnceLock::new();
    FILE.get_or_init(|| {
        let arrow = flows_schema();
        let schema = ArrowSchemaConverter::new()
            .convert(&arrow)
            .map_err(|e| e.to_string())?;
        let mut props = WriterProperties::builder()
            .set_compression(compression())
            .build();
        add_encoded_arrow_schema_to_metadata(&arrow, &mut props);
        Ok((schema, Arc::new(props)))
    })
    .as_ref()
    .map_err(|e| ParquetError::General(e.clone()))
}

fn compression() -> Compression {
    Compression::ZSTD(ZstdLevel::try_new(ZSTD_LEVEL).unwrap_or_default())
}

fn int64_stats(min: i64, max: i64) -> Statistics {
    ValueStatistics::new(Some(min), Some(max), None, Some(0), false).into()
}

/// Min/max of a number column's distinct values (unsigned, as its logical type sorts),
/// INT64 for 8-byte values, INT32 for 4-byte ones.
fn number_stats<const BYTES: usize>(dict: &Dictionary, _nulls: u64) -> Option<Statistics> {
    let min = dict.number_values::<BYTES>().min()?;
    let max = dict.number_values::<BYTES>().max()?;
    Some(if BYTES == 8 {
        int64_stats(min as i64, max as i64)
    } else {
        ValueStatistics::new(Some(min as i32), Some(max as i32), None, Some(0), false).into()
    })
}

/// Min/max of a text column's distinct values in byte order, and its nulls.
fn byte_stats(dict: &Dictionary, nulls: u64) -> Option<Statistics> {
    let min = dict.byte_values().min();
    let max = dict.byte_values().max();
    let (min, max) = match (min, max) {
        (Some(min), Some(max)) if min.len().max(max.len()) <= MAX_STAT_BYTES => (
            Some(ByteArray::from(min.to_vec())),
            Some(ByteArray::from(max.to_vec())),
        ),
        _ => (None, None),
    };
    Some(ValueStatistics::new(min, max, None, Some(nulls), false).into())
}

/// Most threads a commit encodes its `flows` segments on: segments are independent, so
/// they are spread over the cores the process may use, up to this many.
const MAX_ENCODE_THREADS: usize = 4;

/// Encoders for a commit's `flows` segments, one per thread the process may use (one under
/// `taskset -c 0`). The segments come out byte for byte as one encoder would write them, in
/// the order given, so files and hash chain do not depend on the machine.
pub(crate) struct SegmentEncoders {
    threads: usize,
    encoders: Vec<PageEncoder>,
}

impl std::fmt::Debug for SegmentEncoders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentEncoders")
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

impl SegmentEncoders {
    pub(crate) fn new() -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::with_threads(threads)
    }

    pub(crate) fn with_threads(threads: usize) -> Self {
        Self {
            threads: threads.clamp(1, MAX_ENCODE_THREADS),
            encoders: Vec::new(),
        }
    }

    /// Writes each segment as a Parquet file in memory (emptying its columns) and hands it
    /// to `each` with its index, in order. With one thread each file is handed on before the
    /// next is encoded, so memory holds one segment's file at a time; with more, the
    /// commit's files are all held until the last is encoded.
    pub(crate) fn encode<E: From<ParquetError>>(
        &mut self,
        segments: Vec<&mut FlowColumns>,
        mut each: impl FnMut(usize, Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        let threads = self.threads.min(segments.len()).max(1);
        while self.encoders.len() < threads {
            self.encoders.push(PageEncoder::new()?);
        }
        if threads == 1 {
            let encoder = &mut self.encoders[0];
            for (i, columns) in segments.into_iter().enumerate() {
                each(i, columns.write(Vec::new(), encoder)?)?;
            }
            return Ok(());
        }
        // Largest segment first to the thread with the fewest rows so far.
        let mut order: Vec<usize> = (0..segments.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(segments[i].rows));
        let mut load = vec![0usize; threads];
        let mut owner = vec![0usize; segments.len()];
        for i in order {
            let t = (0..threads).min_by_key(|&t| load[t]).unwrap_or(0);
            load[t] += segments[i].rows;
            owner[i] = t;
        }
        let mut work: Vec<Vec<(usize, &mut FlowColumns)>> =
            (0..threads).map(|_| Vec::new()).collect();
        for (i, columns) in segments.into_iter().enumerate() {
            work[owner[i]].push((i, columns));
        }
        let mut files: Vec<Option<Result<Vec<u8>, ParquetError>>> =
            (0..owner.len()).map(|_| None).collect();
        std::thread::scope(|scope| {
            let running: Vec<_> = work
                .into_iter()
                .zip(self.encoders.iter_mut())
                .map(|(mine, encoder)| {
                    scope.spawn(move || {
                        mine.into_iter()
                            .map(|(i, c)| (i, c.write(Vec::new(), encoder)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for thread in running {
                match thread.join() {
                    Ok(done) => {
                        for (i, file) in done {
                            files[i] = Some(file);
                        }
                    }
                    Err(_) => {
                        // Its segments stay `None` and fail below.
                    }
                }
            }
        });
        for (i, file) in files.into_iter().enumerate() {
            let panicked = || ParquetError::General("a segment encoder thread panicked".into());
            each(i, file.ok_or_else(panicked)??)?;
        }
        Ok(())
    }
}

/// Encodes column chunks page by page: one zstd context and scratch buffers for a whole run.
pub(crate) struct PageEncoder {
    zstd: zstd::bulk::Compressor<'static>,
    page_rows: usize,
    page: Vec<u8>,
    levels: Vec<u32>,
    values: Vec<u32>,
    wide: Vec<i64>,
}

impl std::fmt::Debug for PageEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageEncoder").finish_non_exhaustive()
    }
}

/// One column chunk being written: its pages so far and what its metadata needs.
struct Chunk {
    compression: Compression,
    sink: TrackedWrite<Vec<u8>>,
    uncompressed: u64,
    dictionary_offset: Option<i64>,
    data_offset: Option<i64>,
    encodings: Vec<Encoding>,
    page_stats: Vec<PageEncodingStats>,
    values: u64,
}

impl Chunk {
    fn new() -> Self {
        Self::compressed_by(compression())
    }

    fn compressed_by(compression: Compression) -> Self {
        Self {
            compression,
            sink: TrackedWrite::new(Vec::new()),
            uncompressed: 0,
            dictionary_offset: None,
            data_offset: None,
            encodings: vec![Encoding::RLE],
            page_stats: Vec::new(),
            values: 0,
        }
    }
}

impl PageEncoder {
    pub(crate) fn new() -> Result<Self, ParquetError> {
        let zstd = zstd::bulk::Compressor::new(ZSTD_LEVEL)
            .map_err(|e| ParquetError::External(Box::new(e)))?;
        Ok(Self {
            zstd,
            page_rows: PAGE_ROWS,
            page: Vec::new(),
            levels: Vec::new(),
            values: Vec::new(),
            wide: Vec::new(),
        })
    }

    /// Compresses `self.page` and writes it to `chunk` as a page of `values` values.
    fn flush_page(
        &mut self,
        chunk: &mut Chunk,
        kind: PageType,
        encoding: Encoding,
        values: u32,
    ) -> Result<(), ParquetError> {
        let buf = match chunk.compression {
            Compression::UNCOMPRESSED => Bytes::copy_from_slice(&self.page),
            _ => Bytes::from(
                self.zstd
                    .compress(&self.page)
                    .map_err(|e| ParquetError::External(Box::new(e)))?,
            ),
        };
        let page = match kind {
            PageType::DICTIONARY_PAGE => Page::DictionaryPage {
                buf,
                num_values: values,
                encoding,
                is_sorted: false,
            },
            _ => Page::DataPage {
                buf,
                num_values: values,
                encoding,
                def_level_encoding: Encoding::RLE,
                rep_level_encoding: Encoding::RLE,
                statistics: None,
            },
        };
        let spec = SerializedPageWriter::new(&mut chunk.sink)
            .write_page(CompressedPage::new(page, self.page.len()))?;
        chunk.uncompressed += spec.uncompressed_size as u64;
        let offset = Some(spec.offset as i64);
        if kind == PageType::DICTIONARY_PAGE {
            chunk.dictionary_offset = offset;
        } else {
            chunk.data_offset = chunk.data_offset.or(offset);
            chunk.values += u64::from(values);
        }
        if !chunk.encodings.contains(&encoding) {
            chunk.encodings.push(encoding);
        }
        match chunk.page_stats.last_mut() {
            Some(s) if s.page_type == kind && s.encoding == encoding => s.count += 1,
            _ => chunk.page_stats.push(PageEncodingStats {
                page_type: kind,
                encoding,
                count: 1,
            }),
        }
        Ok(())
    }

    fn data_page(
        &mut self,
        chunk: &mut Chunk,
        encoding: Encoding,
        values: usize,
    ) -> Result<(), ParquetError> {
        self.flush_page(chunk, PageType::DATA_PAGE, encoding, values as u32)
    }

    fn finish(
        chunk: Chunk,
        descr: ColumnDescPtr,
        statistics: Option<Statistics>,
    ) -> Result<(Bytes, ColumnCloseResult), ParquetError> {
        let statistics = statistics.map(|s| match s {
            Statistics::Int32(v) => {
                Statistics::Int32(v.with_backwards_compatible_min_max(signed(&descr)))
            }
            Statistics::Int64(v) => {
                Statistics::Int64(v.with_backwards_compatible_min_max(signed(&descr)))
            }
            other => other,
        });
        let bytes = Bytes::from(chunk.sink.into_inner()?);
        let mut builder = ColumnChunkMetaData::builder(descr)
            .set_compression(chunk.compression)
            .set_encodings_mask(EncodingMask::new_from_encodings(chunk.encodings.iter()))
            .set_page_encoding_stats(chunk.page_stats)
            .set_total_compressed_size(bytes.len() as i64)
            .set_total_uncompressed_size(chunk.uncompressed as i64)
            .set_num_values(chunk.values as i64)
            .set_data_page_offset(chunk.data_offset.unwrap_or(0))
            .set_dictionary_page_offset(chunk.dictionary_offset);
        if let Some(s) = statistics {
            builder = builder.set_statistics(s);
        }
        let close = ColumnCloseResult {
            bytes_written: bytes.len() as u64,
            rows_written: chunk.values,
            metadata: builder.build()?,
            bloom_filter: None,
            column_index: None,
            offset_index: None,
        };
        Ok((bytes, close))
    }

    /// A required INT64 column (unsigned logical type), PLAIN.
    fn plain_u64(
        &mut self,
        descr: ColumnDescPtr,
        values: &[u64],
    ) -> Result<(Bytes, ColumnCloseResult), ParquetError> {
        let mut chunk = Chunk::new();
        for page in values.chunks(self.page_rows) {
            self.page.clear();
            for v in page {
                self.page.extend_from_slice(&v.to_le_bytes());
            }
            self.data_page(&mut chunk, Encoding::PLAIN, page.len())?;
        }
        let min = values.iter().min().copied();
        let max = values.iter().max().copied();
        let stats = min.zip(max).map(|(a, b)| int64_stats(a as i64, b as i64));
        Self::finish(chunk, descr, stats)
    }

    /// A required BYTE_ARRAY column given PLAIN-encoded, PLAIN, without statistics (it is
    /// the uid: random, so min/max would prune nothing).
    fn plain_bytes(
        &mut self,
        descr: ColumnDescPtr,
        plain: &[u8],
        rows: usize,
    ) -> Result<(Bytes, ColumnCloseResult), ParquetError> {
        let mut chunk = Chunk::new();
        let (mut rest, mut left) = (plain, rows);
        while left > 0 {
            let n = left.min(self.page_rows);
            let mut len = 0;
            for _ in 0..n {
                let size = rest
                    .get(len..len + 4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                    .ok_or_else(|| ParquetError::General("uid column cut short".into()))?;
                len += 4 + size;
            }
            self.page.clear();
            self.page.extend_from_slice(&rest[..len]);
            self.data_page(&mut chunk, Encoding::PLAIN, n)?;
            rest = &rest[len..];
            left -= n;
        }
        Self::finish(chunk, descr, None)
    }

    /// A required INT64 column, DELTA_BINARY_PACKED.
    fn delta(
        &mut self,
        descr: ColumnDescPtr,
        values: &[i64],
        stats: Statistics,
    ) -> Result<(Bytes, ColumnCloseResult), ParquetError> {
        let mut chunk = Chunk::compressed_by(DELTA_COMPRESSION);
        for page in values.chunks(self.page_rows) {
            self.page.clear();
            encode::delta_binary_packed(page, &mut self.page);
            self.data_page(&mut chunk, Encoding::DELTA_BINARY_PACKED, page.len())?;
        }
        let stats = (!values.is_empty()).then_some(stats);
        Self::finish(chunk, descr, stats)
    }

    /// A required INT32 column of 16-bit values, DELTA_BINARY_PACKED.
    fn delta_u16(
        &mut self,
        descr: ColumnDescPtr,
        values: &[u16],
    ) -> Result<(Bytes, ColumnCloseResult), ParquetError> {
        let mut chunk = Chunk::compressed_by(DELTA_COMPRESSION);
        for page in values.chunks(self.page_rows) {
            self.wide.clear();
            self.wide.extend(page.iter().map(|&v| i64::from(v)));
            self.page.clear();
            encode::delta_binary_packed(&self.wide, &mut self.page);
            self.data_page(&mut chunk, Encoding::DELTA_BINARY_PACKED, page.len())?;
        }
        let min = values.iter().min().copied();
        let max = values.iter().max().copied();
        let stats = min.zip(max).map(|(a, b)| {
            ValueStatistics::new(Some(i32::from(a)), Some(i32::from(b)), None, Some(0), false)
                .into()
        });
        Self::finish(chunk, descr, stats)
    }

    /// A dictionary column: the dictionary page, then RLE_DICTIONARY data pages with
    /// definition levels when the column is nullable. A chunk of nulls only has no
    /// dictionary: its PLAIN pages hold levels and no values.
    fn dictionary(
        &mut self,
        descr: ColumnDescPtr,
        dict: &Dictionary,
        stats: impl FnOnce(&Dictionary, u64) -> Option<Statistics>,
    ) -> Result<(Bytes, ColumnCloseResult), ParquetError> {
        let mut chunk = Chunk::new();
        let nullable = descr.max_def_level() > 0;
        let nulls = if nullable {
            dict.rows.iter().filter(|&&k| k == NULL).count() as u64
        } else {
            0
        };
        let encoding = if dict.len > 0 {
            self.page.clear();
            self.page.extend_from_slice(&dict.plain);
            self.flush_page(
                &mut chunk,
                PageType::DICTIONARY_PAGE,
                Encoding::PLAIN,
                dict.len,
            )?;
            Encoding::RLE_DICTIONARY
        } else {
            Encoding::PLAIN
        };
        let width = encode::bit_width(u64::from(dict.len.saturating_sub(1)));
        for page in dict.rows.chunks(self.page_rows) {
            self.page.clear();
            let keys = if nullable {
                self.levels.clear();
                self.levels
                    .extend(page.iter().map(|&k| u32::from(k != NULL)));
                self.page.extend_from_slice(&[0; 4]);
                encode::rle_hybrid(&self.levels, 1, &mut self.page);
                let len = (self.page.len() - 4) as u32;
                self.page[..4].copy_from_slice(&len.to_le_bytes());
                self.values.clear();
                self.values
                    .extend(page.iter().copied().filter(|&k| k != NULL));
                &self.values
            } else {
                page
            };
            if dict.len > 0 {
                self.page.push(width);
                encode::rle_hybrid(keys, width, &mut self.page);
            }
            self.data_page(&mut chunk, encoding, page.len())?;
        }
        let stats = stats(dict, nulls);
        Self::finish(chunk, descr, stats)
    }
}

fn signed(descr: &ColumnDescPtr) -> bool {
    descr.sort_order().is_signed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int32Type, TimestampMicrosecondType, UInt16Type, UInt64Type};
    use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use sekisho_event::{ALL_SERVICES, Timestamp, Uid};

    /// One row as the test builds it: a flow and where it sits.
    #[derive(Clone, Debug)]
    struct Row {
        flow: Flow,
        sites: [Option<&'static str>; 4],
        direction: &'static str,
        rule: Option<&'static str>,
    }

    const NAMES: [&str; 4] = [
        "hq",
        "th-bkk",
        "a-name-longer-than-the-sixty-four-bytes-statistics-keep-whole-xx",
        "",
    ];
    const STATES: [ConnState; 4] = [
        ConnState::SF,
        ConnState::S0,
        ConnState::REJ,
        ConnState::Unknown,
    ];
    const PROTOS: [Proto; 4] = [Proto::Tcp, Proto::Udp, Proto::Icmp, Proto::Other];

    fn name() -> impl Strategy<Value = Option<&'static str>> {
        proptest::option::weighted(0.7, proptest::sample::select(&NAMES[..]))
    }

    /// Numbers both small (the direct table) and anywhere in range.
    fn number() -> impl Strategy<Value = u64> {
        prop_oneof![0u64..40, 1000u64..1100, any::<u64>()]
    }

    fn ip() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            (0u8..4).prop_map(|i| IpAddr::from([10, 0, 0, i])),
            any::<[u8; 16]>().prop_map(IpAddr::from),
        ]
    }

    prop_compose! {
        fn row()(
            ts in prop_oneof![any::<i64>(), 1_700_000_000_000_000i64..1_700_000_100_000_000],
            duration_us in any::<u64>(),
            uid in "[A-Za-z0-9]{0,20}",
            orig_ip in ip(),
            orig_port in any::<u16>(),
            resp_ip in ip(),
            resp_port in prop_oneof![Just(445u16), any::<u16>()],
            proto in proptest::sample::select(&PROTOS[..]),
            service in proptest::sample::select(ALL_SERVICES),
            orig_bytes in number(),
            resp_bytes in number(),
            orig_pkts in number(),
            resp_pkts in number(),
            state in proptest::sample::select(&STATES[..]),
            sensor in proptest::sample::select(&["s1", "s2"][..]),
            sites in [name(), name(), name(), name()],
            direction in proptest::sample::select(&["inbound", "cross-site"][..]),
            rule in name(),
        ) -> Row {
            let flow = Flow {
                ts: Timestamp::from_micros(ts),
                duration_us,
                uid: Uid::new(&uid).unwrap(),
                orig_ip,
                orig_port,
                resp_ip,
                resp_port,
                proto,
                service,
                orig_bytes,
                resp_bytes,
                orig_pkts,
                resp_pkts,
                state,
                sensor: sensor.into(),
            };
            Row { flow, sites, direction, rule }
        }
    }

    /// Rows in runs, as flows come: each row repeated up to `runs` times.
    fn rows() -> impl Strategy<Value = Vec<Row>> {
        proptest::collection::vec((row(), 1usize..12), 1..40).prop_map(|runs| {
            runs.into_iter()
                .flat_map(|(r, n)| std::iter::repeat_n(r, n))
                .collect()
        })
    }

    fn place(r: &Row) -> FlowPlace<'static> {
        FlowPlace {
            partition_site: r.sites[0],
            src_site: r.sites[0],
            dst_site: r.sites[1],
            src_asset: r.sites[2],
            dst_asset: r.sites[3],
            direction: r.direction,
            policy_action: "allow",
            policy_rule: r.rule,
        }
    }

    fn write(rows: &[Row], page_rows: usize) -> Vec<u8> {
        let mut columns = FlowColumns::new();
        for r in rows {
            columns.push(&r.flow, &place(r));
        }
        let mut encoder = PageEncoder::new().unwrap();
        encoder.page_rows = page_rows;
        let out = columns.write(Vec::new(), &mut encoder).unwrap();
        assert_eq!(columns.rows, 0, "write leaves the columns empty");
        out
    }

    fn read(file: Vec<u8>) -> RecordBatch {
        let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file))
            .unwrap()
            .with_batch_size(usize::MAX)
            .build()
            .unwrap();
        let mut batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
        assert_eq!(
            batches.len(),
            1,
            "a batch size past the rows gives one batch"
        );
        batches.pop().unwrap()
    }

    fn texts(column: &ArrayRef) -> Vec<Option<String>> {
        let dict = column.as_dictionary::<Int32Type>();
        let values = dict
            .values()
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        dict.keys()
            .iter()
            .map(|k| k.map(|k| values.value(k as usize).to_string()))
            .collect()
    }

    fn u64s(column: &ArrayRef) -> Vec<u64> {
        column.as_primitive::<UInt64Type>().values().to_vec()
    }

    fn u16s(column: &ArrayRef) -> Vec<u16> {
        column.as_primitive::<UInt16Type>().values().to_vec()
    }

    fn owned(v: impl Iterator<Item = Option<&'static str>>) -> Vec<Option<String>> {
        v.map(|s| s.map(str::to_string)).collect()
    }

    /// A column's name and how to get its value from a flow.
    type Field<T> = (&'static str, fn(&Flow) -> T);

    /// Every column reads back, through `parquet`'s own reader, as the rows were given.
    fn assert_reads_back(rows: &[Row], page_rows: usize) {
        let batch = read(write(rows, page_rows));
        assert_eq!(
            batch.schema(),
            flows_schema(),
            "the Arrow schema travels in the footer"
        );
        assert_eq!(batch.num_rows(), rows.len());
        let c = |name: &str| batch.column_by_name(name).unwrap().clone();
        let flows = || rows.iter().map(|r| &r.flow);
        let ts: Vec<i64> = c("ts")
            .as_primitive::<TimestampMicrosecondType>()
            .values()
            .to_vec();
        assert_eq!(ts, flows().map(|f| f.ts.as_micros()).collect::<Vec<_>>());
        assert_eq!(
            u64s(&c("duration_us")),
            flows().map(|f| f.duration_us).collect::<Vec<_>>()
        );
        let uid = c("uid");
        let uid: Vec<&str> = uid.as_string::<i32>().iter().map(|u| u.unwrap()).collect();
        assert_eq!(uid, flows().map(|f| f.uid.as_str()).collect::<Vec<_>>());
        let text = |name: &str, f: &dyn Fn(&Row) -> String| {
            assert_eq!(
                texts(&c(name)),
                rows.iter().map(|r| Some(f(r))).collect::<Vec<_>>(),
                "{name}"
            );
        };
        text("sensor", &|r| r.flow.sensor.to_string());
        text("src_ip", &|r| r.flow.orig_ip.to_string());
        text("dst_ip", &|r| r.flow.resp_ip.to_string());
        text("proto", &|r| r.flow.proto.as_str().to_string());
        text("service", &|r| r.flow.service.as_str().to_string());
        text("conn_state", &|r| conn_state_name(r.flow.state).to_string());
        text("direction", &|r| r.direction.to_string());
        text("policy_action", &|_| "allow".to_string());
        let ports: [Field<u16>; 2] = [("src_port", |f| f.orig_port), ("dst_port", |f| f.resp_port)];
        for (name, field) in ports {
            assert_eq!(
                u16s(&c(name)),
                flows().map(field).collect::<Vec<_>>(),
                "{name}"
            );
        }
        let numbers: [Field<u64>; 4] = [
            ("orig_bytes", |f| f.orig_bytes),
            ("resp_bytes", |f| f.resp_bytes),
            ("orig_pkts", |f| f.orig_pkts),
            ("resp_pkts", |f| f.resp_pkts),
        ];
        for (name, field) in numbers {
            assert_eq!(
                u64s(&c(name)),
                flows().map(field).collect::<Vec<_>>(),
                "{name}"
            );
        }
        for (i, name) in ["src_site", "dst_site", "src_asset", "dst_asset"]
            .iter()
            .enumerate()
        {
            assert_eq!(
                texts(&c(name)),
                owned(rows.iter().map(|r| r.sites[i])),
                "{name}"
            );
            assert_eq!(
                c(name).null_count(),
                rows.iter().filter(|r| r.sites[i].is_none()).count()
            );
        }
        assert_eq!(texts(&c("policy_rule")), owned(rows.iter().map(|r| r.rule)));
    }

    proptest! {
        #[test]
        fn addresses_are_written_as_display_writes_them(ip in ip_any()) {
            let mut s = String::new();
            write_ip(&mut s, ip);
            prop_assert_eq!(s, ip.to_string());
        }
    }

    fn ip_any() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(IpAddr::from),
            any::<[u8; 16]>().prop_map(IpAddr::from),
            Just(IpAddr::from([0, 0, 0, 0])),
            Just(IpAddr::from([255, 255, 255, 255])),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn every_column_reads_back_as_pushed(rows in rows(), page_rows in prop_oneof![Just(7usize), Just(64), Just(PAGE_ROWS)]) {
            assert_reads_back(&rows, page_rows);
        }
    }

    /// Statistics are what readers prune by: they must bound the values, in the column's
    /// own order (unsigned for the counts), and count the nulls.
    #[test]
    fn chunk_statistics_bound_the_values_and_count_nulls() {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let rows = rows_strategy_value(&mut runner);
        let file = SerializedFileReader::new(Bytes::from(write(&rows, 16))).unwrap();
        let group = file.metadata().row_group(0);
        let stats = |name: &str| {
            group
                .columns()
                .iter()
                .find(|c| c.column_path().string() == name)
                .unwrap()
                .statistics()
                .cloned()
        };
        let flows = || rows.iter().map(|r| &r.flow);
        let range = |name: &str| match stats(name) {
            Some(Statistics::Int64(s)) => (*s.min_opt().unwrap(), *s.max_opt().unwrap()),
            other => panic!("{name} statistics: {other:?}"),
        };
        let unsigned = |(min, max): (i64, i64)| (min as u64, max as u64);
        let bounds =
            |values: Vec<u64>| (values.iter().min().copied(), values.iter().max().copied());
        let (min, max) = bounds(flows().map(|f| f.orig_bytes).collect());
        assert_eq!(unsigned(range("orig_bytes")), (min.unwrap(), max.unwrap()));
        let (min, max) = bounds(flows().map(|f| f.resp_pkts).collect());
        assert_eq!(unsigned(range("resp_pkts")), (min.unwrap(), max.unwrap()));
        let ts: Vec<i64> = flows().map(|f| f.ts.as_micros()).collect();
        let ts_bounds = (*ts.iter().min().unwrap(), *ts.iter().max().unwrap());
        assert_eq!(range("ts"), ts_bounds);
        match stats("src_ip") {
            Some(Statistics::ByteArray(s)) => {
                let ips: Vec<String> = flows().map(|f| f.orig_ip.to_string()).collect();
                assert_eq!(
                    s.min_opt().unwrap().data(),
                    ips.iter().min().unwrap().as_bytes()
                );
                assert_eq!(
                    s.max_opt().unwrap().data(),
                    ips.iter().max().unwrap().as_bytes()
                );
            }
            other => panic!("src_ip statistics: {other:?}"),
        }
        let nulls = rows.iter().filter(|r| r.sites[1].is_none()).count() as u64;
        assert_eq!(stats("dst_site").unwrap().null_count_opt(), Some(nulls));
        assert!(stats("uid").is_none());
    }

    /// Segments encoded on several threads are the bytes one thread writes, in the order given.
    #[test]
    fn segments_encoded_in_parallel_are_those_of_one_encoder_in_order() {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let segments: Vec<Vec<Row>> = (0..7)
            .map(|k| {
                let mut rows = Vec::new();
                while rows.len() < 50 * (k % 3 + 1) {
                    rows.extend(rows_strategy_value(&mut runner));
                }
                rows
            })
            .collect();
        let fill = || -> Vec<FlowColumns> {
            segments
                .iter()
                .map(|rows| {
                    let mut columns = FlowColumns::new();
                    for r in rows {
                        columns.push(&r.flow, &place(r));
                    }
                    columns
                })
                .collect()
        };
        let encode = |threads: usize| {
            let mut columns = fill();
            let mut files = Vec::new();
            SegmentEncoders::with_threads(threads)
                .encode(columns.iter_mut().collect(), |i, file| {
                    assert_eq!(i, files.len(), "files come in order");
                    files.push(file);
                    Ok::<_, ParquetError>(())
                })
                .unwrap();
            assert!(
                columns.iter().all(|c| c.rows == 0),
                "encoding empties the columns"
            );
            files
        };
        let one = encode(1);
        assert_eq!(one.len(), segments.len());
        for (file, rows) in one.iter().zip(&segments) {
            assert_eq!(read(file.clone()).num_rows(), rows.len());
        }
        assert_eq!(encode(3), one);
    }

    fn rows_strategy_value(runner: &mut proptest::test_runner::TestRunner) -> Vec<Row> {
        rows().new_tree(runner).unwrap().current()
    }

    /// Many rows over several pages, long runs and a dictionary past the direct table.
    #[test]
    fn a_large_segment_reads_back_over_many_pages() {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let mut many = Vec::new();
        while many.len() < 20_000 {
            many.extend(rows_strategy_value(&mut runner));
        }
        assert_reads_back(&many, 4096);
    }
}
