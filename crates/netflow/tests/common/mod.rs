//! The logstash-codec-netflow datagrams (real exporters from ~25 vendors), grouped by vendor.

#![allow(dead_code)]

use std::path::PathBuf;

pub const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/netflow/logstash-codec-netflow"
);

/// One `.dat` file: name without extension and its bytes.
pub struct Dat {
    pub stem: String,
    pub bytes: Vec<u8>,
}

/// Every `.dat` file, sorted by name.
pub fn all() -> Vec<Dat> {
    let mut v: Vec<Dat> = std::fs::read_dir(DATA)
        .unwrap_or_else(|e| panic!("{DATA}: {e} (shared test data missing)"))
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "dat"))
        .map(|p: PathBuf| Dat {
            stem: p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            bytes: std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
        })
        .collect();
    v.sort_by(|a, b| a.stem.cmp(&b.stem));
    assert!(
        v.len() >= 90,
        "expected the 92 datagrams, found {}",
        v.len()
    );
    v
}

fn is_tpl_token(t: &str) -> bool {
    t.starts_with("tpl") || t.starts_with("opttpl")
}

/// Vendor group of a file: the name up to its first `tpl*`/`opttpl*`/`data*` part
/// (`netflow9_test_cisco_asa_2_tpl_26x` → `netflow9_test_cisco_asa_2`).
pub fn group_of(stem: &str) -> String {
    let toks: Vec<&str> = stem.split('_').collect();
    let cut = toks
        .iter()
        .position(|t| is_tpl_token(t) || t.starts_with("data"))
        .unwrap_or(toks.len());
    toks[..cut].join("_")
}

/// Files grouped by vendor, templates first, then data, each part sorted by name.
pub fn groups() -> Vec<(String, Vec<Dat>)> {
    let mut groups: Vec<(String, Vec<Dat>)> = Vec::new();
    for d in all() {
        let g = group_of(&d.stem);
        match groups.iter_mut().find(|(name, _)| *name == g) {
            Some((_, v)) => v.push(d),
            None => groups.push((g, vec![d])),
        }
    }
    for (_, files) in &mut groups {
        files.sort_by_key(|d| {
            let tpl = d.stem.split('_').any(is_tpl_token);
            (!tpl, d.stem.clone())
        });
    }
    groups
}
