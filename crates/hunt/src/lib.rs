//! Hunting over the evidence store: SQL questions via DataFusion, and indicator sweeps.
//!
//! The store (`docs/store.md`) keeps flows, alerts, logons and other host events as Parquet
//! files under `DIR/flows/day=YYYY-MM-DD/site=S/`, `DIR/alerts/...`, `DIR/logons/...` and
//! `DIR/host_events/...`. [`Hunt::open`] registers them as the tables `flows`, `alerts`,
//! `logons` and `host_events`, with the partition columns `day` and `site` added, so that
//! filters on `day`, `site` and `ts` ranges skip the files of other days and sites unopened.
//! Queries are read-only: DDL, DML (`COPY`, `INSERT`) and `SET` statements are refused.
//!
//! ```
//! use sekisho_hunt::Hunt;
//! let dir = std::env::temp_dir().join(format!("sekisho-hunt-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! // An empty store answers with empty tables of the right shape.
//! let hunt = Hunt::open(&dir).unwrap();
//! let r = hunt.query("SELECT site, COUNT(*) AS n FROM flows GROUP BY site").unwrap();
//! assert_eq!(r.columns(), ["site", "n"]);
//! assert_eq!(r.num_rows(), 0);
//! let r = hunt.query("SELECT user, host, cross_site FROM logons WHERE outcome = 'failure'").unwrap();
//! assert_eq!(r.num_rows(), 0);
//! let r = hunt.query("SELECT host, object FROM host_events WHERE kind = 'service-installed'").unwrap();
//! assert_eq!(r.num_rows(), 0);
//! let r = hunt.query("SELECT cidr_contains('10.0.0.0/8', '10.1.2.3') AS inside").unwrap();
//! let mut csv = Vec::new();
//! r.write_csv(&mut csv).unwrap();
//! assert_eq!(String::from_utf8(csv).unwrap(), "inside\ntrue\n");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```
//!
//! This is the only crate of the workspace that depends on DataFusion; its public API is
//! small and not generic so that the CLI does not compile DataFusion code again.

mod ioc;
mod provider;
mod render;
mod udf;

pub use ioc::{
    Indicator, IndicatorHit, IndicatorKind, MAX_INDICATORS, MAX_LINE_CHARS, MAX_SITES_PER_HIT,
    parse_indicators,
};
pub use render::{MAX_TABLE_CELL_CHARS, QueryResult};

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::datasource::empty::EmptyTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::DataFusionError;
use datafusion::execution::context::{SQLOptions, SessionConfig, SessionContext};
use futures::StreamExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Most rows a query result holds; the rest is cut (and [`QueryResult::truncated`] says so).
pub const MAX_RESULT_ROWS: usize = 1_000_000;

/// Partition columns of every table, as in the store's paths.
const PARTITION_COLS: [&str; 2] = ["day", "site"];

/// Why a hunt failed.
#[derive(Debug, thiserror::Error)]
pub enum HuntError {
    /// The store directory cannot be used.
    #[error("store {path}: {message}")]
    Store { path: PathBuf, message: String },
    /// The SQL does not parse or plan (unknown column, type error, refused statement).
    #[error("SQL error: {0}")]
    Sql(String),
    /// The query planned but failed while running (an unreadable file, resources).
    #[error("query failed: {0}")]
    Query(String),
    /// The query runtime could not start.
    #[error("cannot start the query runtime: {0}")]
    Runtime(std::io::Error),
}

impl From<DataFusionError> for HuntError {
    fn from(e: DataFusionError) -> Self {
        match e.find_root() {
            DataFusionError::SQL(..)
            | DataFusionError::Plan(..)
            | DataFusionError::SchemaError(..)
            | DataFusionError::NotImplemented(..) => HuntError::Sql(e.to_string()),
            _ => HuntError::Query(e.to_string()),
        }
    }
}

/// An open store, ready for questions.
pub struct Hunt {
    ctx: SessionContext,
    runtime: tokio::runtime::Runtime,
    store: PathBuf,
}

impl std::fmt::Debug for Hunt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hunt")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// The store's tables: name and the schema of its files.
fn tables() -> [(&'static str, SchemaRef); 4] {
    [
        ("flows", sekisho_store::flows_schema()),
        ("alerts", sekisho_store::alerts_schema()),
        ("logons", sekisho_store::logons_schema()),
        ("host_events", sekisho_store::host_events_schema()),
    ]
}

impl Hunt {
    /// Opens the store at `dir` (which must exist). A table whose directory is missing is an
    /// empty table. Files are not read until a query needs them.
    pub fn open(dir: &Path) -> Result<Hunt, HuntError> {
        let store_err = |message: String| HuntError::Store {
            path: dir.to_path_buf(),
            message,
        };
        let dir = dir
            .canonicalize()
            .map_err(|e| store_err(format!("cannot open: {e}")))?;
        if !dir.is_dir() {
            return Err(store_err("not a directory".into()));
        }
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("sekisho-hunt")
            .build()
            .map_err(HuntError::Runtime)?;
        let config = SessionConfig::new()
            .with_target_partitions(threads)
            .with_information_schema(true);
        let ctx = SessionContext::new_with_config(config);
        ctx.register_udf(udf::cidr_contains());
        for (name, schema) in tables() {
            let provider = table_provider(&dir.join(name), schema)
                .map_err(|e| store_err(format!("table {name}: {e}")))?;
            ctx.register_table(name, provider)
                .map_err(|e| store_err(format!("table {name}: {e}")))?;
        }
        Ok(Hunt {
            ctx,
            runtime,
            store: dir,
        })
    }

    /// The store directory (canonical).
    pub fn store(&self) -> &Path {
        &self.store
    }

    /// Runs one SQL query and returns its rows (at most [`MAX_RESULT_ROWS`]).
    pub fn query(&self, sql: &str) -> Result<QueryResult, HuntError> {
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        self.runtime.block_on(async {
            let df = self.ctx.sql_with_options(sql, options).await?;
            // One row more than we keep tells whether the result was cut.
            let df = df.limit(0, Some(MAX_RESULT_ROWS + 1))?;
            let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
            let mut stream = df.execute_stream().await?;
            let mut batches = Vec::new();
            let mut rows = 0usize;
            let mut truncated = false;
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                let room = MAX_RESULT_ROWS - rows;
                if batch.num_rows() > room {
                    truncated = true;
                    if room > 0 {
                        batches.push(batch.slice(0, room));
                    }
                    rows += room;
                    break;
                }
                rows += batch.num_rows();
                batches.push(batch);
            }
            Ok(QueryResult {
                schema,
                batches,
                rows,
                truncated,
            })
        })
    }

    /// Sweeps all history for the indicators: one pass over each of `flows`, `alerts`,
    /// `logons` and `host_events` for the whole list. Returns one hit per indicator, in list order, including those the
    /// store cannot be searched for (see [`IndicatorHit::not_searchable`]).
    pub fn sweep(&self, indicators: &[Indicator]) -> Result<Vec<IndicatorHit>, HuntError> {
        let mut hits = ioc::empty_hits(indicators);
        let matcher = ioc::Matcher::new(indicators);
        if matcher.is_empty() {
            return Ok(hits);
        }
        for (table, sql) in [
            (
                ioc::Table::Flows,
                "SELECT ts, src_ip, dst_ip, dst_port, proto, site FROM flows",
            ),
            (
                ioc::Table::Alerts,
                "SELECT ts, src_ip, dst_ip, dst_port, CAST(NULL AS VARCHAR) AS proto, site \
                 FROM alerts",
            ),
            (
                ioc::Table::Logons,
                "SELECT ts, src_ip, host_ip AS dst_ip, CAST(NULL AS SMALLINT) AS dst_port, \
                 CAST(NULL AS VARCHAR) AS proto, site FROM logons",
            ),
            (
                ioc::Table::HostEvents,
                "SELECT ts, src_ip, dst_ip, dst_port, CAST(NULL AS VARCHAR) AS proto, site \
                 FROM host_events",
            ),
        ] {
            let mut sweep = ioc::Sweep::new(&matcher);
            self.runtime.block_on(async {
                let df = self.ctx.sql(sql).await?;
                let mut stream = df.execute_stream().await?;
                while let Some(batch) = stream.next().await {
                    sweep
                        .add(&batch?, table, &mut hits)
                        .map_err(HuntError::Query)?;
                }
                Ok::<(), HuntError>(())
            })?;
        }
        Ok(hits)
    }
}

/// A listing table over one table directory, or an empty table when it does not exist.
fn table_provider(
    dir: &Path,
    file_schema: SchemaRef,
) -> Result<Arc<dyn TableProvider>, DataFusionError> {
    let partition_cols: Vec<(String, DataType)> = PARTITION_COLS
        .iter()
        .map(|c| (c.to_string(), DataType::Utf8))
        .collect();
    if !dir.is_dir() {
        let mut fields: Vec<Field> = file_schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.extend(
            partition_cols
                .iter()
                .map(|(n, t)| Field::new(n, t.clone(), false)),
        );
        return Ok(Arc::new(EmptyTable::new(Arc::new(Schema::new(fields)))));
    }
    let url = ListingTableUrl::parse(format!("{}/", dir.display()))?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(partition_cols);
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(file_schema);
    // Listing is lazy: files are listed (and pruned by partition) when a query scans.
    let table = ListingTable::try_new(config)?;
    Ok(Arc::new(provider::DayPruned::new(Arc::new(table))))
}
