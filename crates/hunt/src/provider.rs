//! A table over the store that turns time filters into partition filters.
//!
//! Files live under `day=YYYY-MM-DD/site=S/`, and `day` is the UTC day of `ts`. DataFusion
//! prunes files on filters over `day` and `site`, but knows nothing of how `day` relates to
//! `ts`. This wrapper adds, for each `ts >= X` / `ts > X` / `ts <= X` / `ts < X` /
//! `ts BETWEEN X AND Y` filter, the implied `day >= 'day(X)'` / `day <= 'day(Y)'`, so a
//! question about one day opens only that day's files. The added filters are implied by the
//! user's (a row in day D has `ts` in day D), so results do not change.

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{Result as DfResult, ScalarValue, Statistics};
use datafusion::logical_expr::{
    BinaryExpr, Expr, Operator, TableProviderFilterPushDown, TableType, col, lit,
};
use datafusion::physical_plan::ExecutionPlan;
use std::sync::Arc;

/// Name of the timestamp column that decides a row's `day` partition.
const TS: &str = "ts";
/// Name of the day partition column.
const DAY: &str = "day";

/// Wraps a listing table of the store.
#[derive(Debug)]
pub(crate) struct DayPruned {
    inner: Arc<dyn TableProvider>,
}

impl DayPruned {
    pub(crate) fn new(inner: Arc<dyn TableProvider>) -> Self {
        Self { inner }
    }
}

/// A timestamp literal as microseconds since the epoch.
fn literal_micros(e: &Expr) -> Option<i64> {
    let Expr::Literal(v, _) = e else { return None };
    match v {
        ScalarValue::TimestampSecond(Some(s), _) => s.checked_mul(1_000_000),
        ScalarValue::TimestampMillisecond(Some(ms), _) => ms.checked_mul(1_000),
        ScalarValue::TimestampMicrosecond(Some(us), _) => Some(*us),
        ScalarValue::TimestampNanosecond(Some(ns), _) => Some(ns.div_euclid(1_000)),
        _ => None,
    }
}

/// `ts`, or `ts` cast to another timestamp type (unit or zone): arrow keeps the instant in
/// such casts, so bounds on the cast are bounds on `ts`.
fn is_ts(e: &Expr) -> bool {
    match e {
        Expr::Column(c) => c.name == TS,
        Expr::Cast(c) => matches!(c.field.data_type(), DataType::Timestamp(..)) && is_ts(&c.expr),
        Expr::TryCast(c) => {
            matches!(c.field.data_type(), DataType::Timestamp(..)) && is_ts(&c.expr)
        }
        _ => false,
    }
}

/// `YYYY-MM-DD` of the UTC day holding `micros`, named by the store's own layout so that
/// pruning cannot drift from what the writer names.
pub(crate) fn day_name(micros: i64) -> Option<String> {
    sekisho_store::layout::partition_day(micros)
}

/// Day bounds implied by one filter: (lower, upper), inclusive day names.
fn implied_days(e: &Expr) -> (Option<String>, Option<String>) {
    match e {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            // Normalise to `ts OP literal`.
            let (op, lit_side) = if is_ts(left) {
                (*op, right.as_ref())
            } else if is_ts(right) {
                match op.swap() {
                    Some(op) => (op, left.as_ref()),
                    None => return (None, None),
                }
            } else {
                return (None, None);
            };
            let Some(us) = literal_micros(lit_side) else {
                return (None, None);
            };
            match op {
                Operator::Gt | Operator::GtEq => (day_name(us), None),
                // `ts < midnight` could exclude that day; keeping it costs at most one day
                // of files and is always correct.
                Operator::Lt | Operator::LtEq => (None, day_name(us)),
                Operator::Eq => (day_name(us), day_name(us)),
                _ => (None, None),
            }
        }
        Expr::Between(b) if !b.negated && is_ts(&b.expr) => (
            literal_micros(&b.low).and_then(day_name),
            literal_micros(&b.high).and_then(day_name),
        ),
        _ => (None, None),
    }
}

/// The filters plus the day filters they imply.
pub(crate) fn with_day_filters(filters: &[Expr]) -> Vec<Expr> {
    let mut out = filters.to_vec();
    for f in filters {
        let (lo, hi) = implied_days(f);
        if let Some(lo) = lo {
            out.push(col(DAY).gt_eq(lit(lo)));
        }
        if let Some(hi) = hi {
            out.push(col(DAY).lt_eq(lit(hi)));
        }
    }
    out
}

#[async_trait]
impl TableProvider for DayPruned {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let filters = with_day_filters(filters);
        self.inner.scan(state, projection, &filters, limit).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }

    fn statistics(&self) -> Option<Statistics> {
        self.inner.statistics()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts_lit(us: i64) -> Expr {
        lit(ScalarValue::TimestampMicrosecond(
            Some(us),
            Some("UTC".into()),
        ))
    }

    const MAY2: i64 = 1_714_608_000_000_000; // 2024-05-02T00:00:00Z

    #[test]
    fn range_filters_imply_day_bounds() {
        let f = vec![
            col(TS).gt_eq(ts_lit(MAY2)),
            col(TS).lt(ts_lit(MAY2 + 3_600_000_000)),
        ];
        let out = with_day_filters(&f);
        assert_eq!(out.len(), 4);
        assert_eq!(out[2], col(DAY).gt_eq(lit("2024-05-02")));
        assert_eq!(out[3], col(DAY).lt_eq(lit("2024-05-02")));
    }

    #[test]
    fn flipped_and_between_and_other_columns() {
        // literal on the left: `X <= ts` is `ts >= X`.
        let out = with_day_filters(&[ts_lit(MAY2).lt_eq(col(TS))]);
        assert_eq!(out[1], col(DAY).gt_eq(lit("2024-05-02")));
        let out = with_day_filters(&[col(TS).between(ts_lit(MAY2 - 1), ts_lit(MAY2))]);
        assert_eq!(out[1], col(DAY).gt_eq(lit("2024-05-01")));
        assert_eq!(out[2], col(DAY).lt_eq(lit("2024-05-02")));
        // Not `ts`, or not a literal: nothing added.
        assert_eq!(
            with_day_filters(&[col("last_ts").gt(ts_lit(MAY2))]).len(),
            1
        );
        assert_eq!(with_day_filters(&[col(TS).gt(col("last_ts"))]).len(), 1);
        assert_eq!(with_day_filters(&[col(TS).not_eq(ts_lit(MAY2))]).len(), 1);
    }

    #[test]
    fn day_name_handles_before_epoch_and_extremes() {
        assert_eq!(day_name(-1).as_deref(), Some("1969-12-31"));
        // The name the writer gives the partition of the same time.
        let may2 = 1_714_608_000_000_000 + 3_600_000_000;
        assert_eq!(
            day_name(may2),
            Some(sekisho_store::layout::day_name(
                sekisho_store::layout::day_of(may2)
            ))
        );
        assert_eq!(day_name(may2).as_deref(), Some("2024-05-02"));
        // Out of chrono's range: no day (no pruning bound), no panic.
        assert_eq!(day_name(i64::MAX), None);
        assert_eq!(day_name(i64::MIN), None);
    }
}
