//! Query results and their three renderings: an aligned text table, CSV and JSON.

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use std::io::{self, Write};

/// Longest cell shown in the text table; longer values are cut with `…` (CSV and JSON keep
/// them whole).
pub const MAX_TABLE_CELL_CHARS: usize = 60;

/// The rows a query returned, held in memory (at most [`crate::MAX_RESULT_ROWS`]).
#[derive(Debug, Clone)]
pub struct QueryResult {
    pub(crate) schema: SchemaRef,
    pub(crate) batches: Vec<RecordBatch>,
    pub(crate) rows: usize,
    pub(crate) truncated: bool,
}

/// One cell, typed enough for JSON.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    /// A number or boolean, written bare in JSON.
    Bare(String),
    Text(String),
}

impl QueryResult {
    /// Column names, in order.
    pub fn columns(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// Number of rows held.
    pub fn num_rows(&self) -> usize {
        self.rows
    }

    /// True when the query returned more than [`crate::MAX_RESULT_ROWS`] rows and only the
    /// first ones are held.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Every cell as text (`None` for SQL NULL), row by row: for callers and tests that want
    /// values rather than a rendering.
    pub fn rows(&self) -> Vec<Vec<Option<String>>> {
        let mut out = Vec::with_capacity(self.rows);
        self.for_each_row(|cells| {
            out.push(
                cells
                    .iter()
                    .map(|c| match c {
                        Cell::Null => None,
                        Cell::Bare(s) | Cell::Text(s) => Some(s.clone()),
                    })
                    .collect(),
            );
            Ok(())
        })
        .ok();
        out
    }

    fn for_each_row(&self, mut f: impl FnMut(&[Cell]) -> io::Result<()>) -> io::Result<()> {
        let opts = FormatOptions::default().with_null("");
        let mut cells: Vec<Cell> = Vec::with_capacity(self.schema.fields().len());
        for batch in &self.batches {
            let formatters: Vec<ArrayFormatter<'_>> = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
                .collect::<Result<_, _>>()
                .map_err(io::Error::other)?;
            let bare: Vec<bool> = batch
                .columns()
                .iter()
                .map(|c| is_bare(c.data_type()))
                .collect();
            for row in 0..batch.num_rows() {
                cells.clear();
                for (i, fmt) in formatters.iter().enumerate() {
                    let array = batch.column(i);
                    if array.is_null(row) {
                        cells.push(Cell::Null);
                        continue;
                    }
                    let text = fmt.value(row).to_string();
                    let is_bare = bare.get(i).copied().unwrap_or(false)
                        && !matches!(text.as_str(), "NaN" | "inf" | "-inf");
                    cells.push(if is_bare {
                        Cell::Bare(text)
                    } else {
                        Cell::Text(text)
                    });
                }
                f(&cells)?;
            }
        }
        Ok(())
    }

    /// Writes an aligned text table with a header, then a row count. Control characters in
    /// values are shown escaped (values come from the network and may be hostile).
    pub fn write_table(&self, out: &mut dyn Write) -> io::Result<()> {
        let columns = self.columns();
        let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
        let mut rows: Vec<Vec<String>> = Vec::with_capacity(self.rows);
        self.for_each_row(|cells| {
            let row: Vec<String> = cells
                .iter()
                .map(|c| match c {
                    Cell::Null => "NULL".to_string(),
                    Cell::Bare(s) => s.clone(),
                    Cell::Text(s) => table_text(s),
                })
                .collect();
            for (w, v) in widths.iter_mut().zip(&row) {
                *w = (*w).max(v.chars().count());
            }
            rows.push(row);
            Ok(())
        })?;
        let right: Vec<bool> = self
            .schema
            .fields()
            .iter()
            .map(|f| is_numeric(f.data_type()))
            .collect();
        let line = |out: &mut dyn Write, vals: &[String]| -> io::Result<()> {
            let mut s = String::new();
            for (i, v) in vals.iter().enumerate() {
                if i > 0 {
                    s.push_str("  ");
                }
                let w = widths.get(i).copied().unwrap_or(0);
                let pad = w.saturating_sub(v.chars().count());
                let last = i + 1 == vals.len();
                if right.get(i).copied().unwrap_or(false) {
                    s.extend(std::iter::repeat_n(' ', pad));
                    s.push_str(v);
                } else {
                    s.push_str(v);
                    if !last {
                        s.extend(std::iter::repeat_n(' ', pad));
                    }
                }
            }
            writeln!(out, "{s}")
        };
        line(&mut *out, &columns)?;
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        line(&mut *out, &rule)?;
        for r in &rows {
            line(&mut *out, r)?;
        }
        let plural = if self.rows == 1 { "" } else { "s" };
        if self.truncated {
            writeln!(
                out,
                "({} row{plural} shown; the result was cut at {} rows)",
                self.rows,
                crate::MAX_RESULT_ROWS
            )
        } else {
            writeln!(out, "({} row{plural})", self.rows)
        }
    }

    /// Writes CSV (RFC 4180: a header line, fields quoted when they hold `,`, `"` or line
    /// breaks; NULL is an empty field).
    pub fn write_csv(&self, out: &mut dyn Write) -> io::Result<()> {
        let header: Vec<String> = self.columns().iter().map(|c| csv_field(c)).collect();
        writeln!(out, "{}", header.join(","))?;
        self.for_each_row(|cells| {
            let fields: Vec<String> = cells
                .iter()
                .map(|c| match c {
                    Cell::Null => String::new(),
                    Cell::Bare(s) | Cell::Text(s) => csv_field(s),
                })
                .collect();
            writeln!(out, "{}", fields.join(","))
        })
    }

    /// Writes a JSON array with one object per row (numbers and booleans bare, NULL as
    /// `null`, everything else as strings; timestamps in RFC 3339).
    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        let keys: Vec<String> = self
            .columns()
            .iter()
            .map(|c| serde_json::Value::String(c.clone()).to_string())
            .collect();
        write!(out, "[")?;
        let mut first = true;
        self.for_each_row(|cells| {
            if !first {
                write!(out, ",")?;
            }
            first = false;
            write!(out, "\n  {{")?;
            for (i, (k, c)) in keys.iter().zip(cells).enumerate() {
                if i > 0 {
                    write!(out, ", ")?;
                }
                match c {
                    Cell::Null => write!(out, "{k}: null")?,
                    Cell::Bare(s) => write!(out, "{k}: {s}")?,
                    Cell::Text(s) => write!(out, "{k}: {}", serde_json::Value::String(s.clone()))?,
                }
            }
            write!(out, "}}")
        })?;
        writeln!(out, "{}]", if first { "" } else { "\n" })
    }
}

fn is_numeric(t: &DataType) -> bool {
    use DataType::*;
    matches!(
        t,
        Int8 | Int16
            | Int32
            | Int64
            | UInt8
            | UInt16
            | UInt32
            | UInt64
            | Float16
            | Float32
            | Float64
    )
}

/// Types whose display form is valid bare JSON. Decimals are left out on purpose: their
/// display may not be valid JSON in every case, so they go as strings.
fn is_bare(t: &DataType) -> bool {
    is_numeric(t) || matches!(t, DataType::Boolean)
}

/// A value as shown in the text table: control characters escaped, long values cut.
fn table_text(s: &str) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n >= MAX_TABLE_CELL_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn table_text_escapes_controls_and_cuts() {
        assert_eq!(table_text("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        let long = "x".repeat(100);
        let shown = table_text(&long);
        assert_eq!(shown.chars().count(), MAX_TABLE_CELL_CHARS + 1);
        assert!(shown.ends_with('…'));
    }
}
