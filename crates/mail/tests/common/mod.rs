//! The shared mail data set (../shared/data/mail), read where it lies.

use std::path::{Path, PathBuf};

/// `../shared/data/mail`.
pub fn data_dir() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/mail"
    ))
    .to_path_buf()
}

/// The `.eml` files of a folder, sorted.
pub fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the shared mail data set is required)",
                dir.display()
            )
        })
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    v.sort();
    v
}
