//! Writing the four report files, each atomically.

use crate::{Analysis, html, markdown};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Why the reports could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Creating the directory, writing a file or renaming it into place failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Serialising an alert or incident failed (not expected for well-formed data).
    #[error("cannot serialise {what}: {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

/// Paths of the files [`write_all`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// `incidents.json`: a pretty-printed JSON array of incidents.
    pub incidents_json: PathBuf,
    /// `alerts.jsonl`: one alert per line.
    pub alerts_jsonl: PathBuf,
    /// `report.md`.
    pub report_md: PathBuf,
    /// `report.html`.
    pub report_html: PathBuf,
}

impl Written {
    /// The four paths, in the order written.
    pub fn paths(&self) -> [&Path; 4] {
        [
            &self.incidents_json,
            &self.alerts_jsonl,
            &self.report_md,
            &self.report_html,
        ]
    }
}

/// Creates `dir` (and its parents) and writes `incidents.json`, `alerts.jsonl`,
/// `report.md` and `report.html` into it.
///
/// Each file is written to a temporary file in `dir`, flushed to disk, then renamed over
/// the final name, so a reader (a browser refreshing the report, a script tailing the
/// directory) sees either the old file or the new one, never half of one. On error, the
/// temporary file is removed and files already renamed into place stay.
pub fn write_all(dir: &Path, a: &Analysis) -> Result<Written, ReportError> {
    fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let written = Written {
        incidents_json: dir.join("incidents.json"),
        alerts_jsonl: dir.join("alerts.jsonl"),
        report_md: dir.join("report.md"),
        report_html: dir.join("report.html"),
    };

    atomic_write(&written.incidents_json, |w| {
        serde_json::to_writer_pretty(&mut *w, a.incidents)
            .map_err(|source| json_or_io(source, "incidents"))?;
        w.write_all(b"\n").map_err(Inner::Io)
    })?;
    atomic_write(&written.alerts_jsonl, |w| {
        for alert in a.alerts {
            // serde_json escapes control characters in strings, so a hostile newline in
            // a summary cannot split an alert over two lines.
            serde_json::to_writer(&mut *w, alert).map_err(|source| json_or_io(source, "alert"))?;
            w.write_all(b"\n").map_err(Inner::Io)?;
        }
        Ok(())
    })?;
    let md = markdown(a);
    atomic_write(&written.report_md, |w| {
        w.write_all(md.as_bytes()).map_err(Inner::Io)
    })?;
    drop(md);
    let page = html(a);
    atomic_write(&written.report_html, |w| {
        w.write_all(page.as_bytes()).map_err(Inner::Io)
    })?;

    sync_dir(dir);
    Ok(written)
}

/// Error inside a writer callback, before the path is known to it.
enum Inner {
    Io(io::Error),
    Json(&'static str, serde_json::Error),
}

fn json_or_io(e: serde_json::Error, what: &'static str) -> Inner {
    // serde_json wraps the writer's I/O errors; report those as I/O on the file.
    match e.io_error_kind() {
        Some(kind) => Inner::Io(io::Error::new(kind, e)),
        None => Inner::Json(what, e),
    }
}

fn atomic_write(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> Result<(), Inner>,
) -> Result<(), ReportError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Hidden, per-process name in the same directory: rename within one file system is
    // atomic, and two concurrent runs do not write into each other's temporary file.
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let io_err = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };

    let result = (|| {
        let file = File::create(&tmp).map_err(Inner::Io)?;
        let mut w = BufWriter::new(file);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| Inner::Io(e.into_error()))?;
        file.sync_all().map_err(Inner::Io)?;
        fs::rename(&tmp, path).map_err(Inner::Io)
    })();

    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        match e {
            Inner::Io(source) => io_err(source),
            Inner::Json(what, source) => ReportError::Json { what, source },
        }
    })
}

/// Makes the renames durable. Best effort: not every platform can open a directory.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}
