//! The store's Parquet files are readable by an independent engine: DuckDB (python3 module
//! `duckdb`) and DataFusion give the same counts and sums over a generated store.

use crate::common::TempDir;
use sekisho_hunt::Hunt;
use std::process::Command;

/// One figure from every column of `flows`, each kind of column encoded its own way
/// (delta, plain, dictionary, nullable dictionary): both engines must decode them all.
const COLUMNS: &str = "COUNT(DISTINCT ts), SUM(duration_us), COUNT(DISTINCT uid), \
    COUNT(DISTINCT sensor), COUNT(DISTINCT src_ip), SUM(src_port), COUNT(DISTINCT dst_ip), \
    SUM(dst_port), COUNT(DISTINCT proto), COUNT(DISTINCT service), SUM(resp_bytes), \
    SUM(orig_pkts), SUM(resp_pkts), COUNT(DISTINCT conn_state), COUNT(src_site), \
    COUNT(dst_site), COUNT(src_asset), COUNT(dst_asset), COUNT(DISTINCT direction), \
    COUNT(DISTINCT policy_action), COUNT(policy_rule), COUNT(DISTINCT policy_rule)";

const DUCKDB_SCRIPT: &str = r#"
import json, sys
try:
    import duckdb
except ImportError:
    print("MISSING-DUCKDB")
    sys.exit(3)
store = sys.argv[1]
con = duckdb.connect()
src = f"read_parquet('{store}/flows/**/*.parquet', hive_partitioning=true)"
n, b = con.execute(f"SELECT COUNT(*), SUM(orig_bytes) FROM {src}").fetchone()
per_site = con.execute(f"SELECT site, COUNT(*) FROM {src} GROUP BY site ORDER BY site").fetchall()
day_site = con.execute(
    f"SELECT COUNT(*), SUM(resp_bytes) FROM {src} WHERE day = '2024-05-02' AND site = 'th-bkk'"
).fetchone()
pairs = con.execute(
    f"SELECT src_site, dst_site, service, SUM(orig_bytes + resp_bytes) FROM {src} "
    "GROUP BY ALL ORDER BY 4 DESC, 1, 2, 3 LIMIT 5"
).fetchall()
columns = con.execute(f"SELECT {COLUMNS} FROM {src}").fetchone()
asrc = f"read_parquet('{store}/alerts/**/*.parquet', hive_partitioning=true)"
alerts = con.execute(f"SELECT COUNT(*), SUM(bytes_out) FROM {asrc}").fetchone()
print(json.dumps({
    "count": n, "sum": int(b), "per_site": [[s, c] for s, c in per_site],
    "day_site": [day_site[0], int(day_site[1] or 0)],
    "pairs": [[a, b, c, int(d)] for a, b, c, d in pairs],
    "alerts": [alerts[0], int(alerts[1] or 0)],
    "columns": [int(v) for v in columns],
}))
"#;

fn one(hunt: &Hunt, sql: &str) -> Vec<Vec<Option<String>>> {
    hunt.query(sql).unwrap().rows()
}

fn num(v: &Option<String>) -> serde_json::Value {
    serde_json::Value::from(v.as_deref().unwrap_or("0").parse::<u64>().unwrap())
}

#[test]
fn duckdb_reads_the_same_files_and_agrees() {
    let dir = TempDir::new("duckdb");
    let status = Command::new(env!("CARGO_BIN_EXE_sekisho-genstore"))
        .args(["--flows", "200000", "--days", "4", "--store"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());

    let out = Command::new("python3")
        .arg("-c")
        .arg(DUCKDB_SCRIPT.replace("{COLUMNS}", COLUMNS))
        .arg(dir.path())
        .output()
        .expect("python3 is needed for this test (Debian package python3)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("MISSING-DUCKDB"),
        "the python3 module `duckdb` is missing: run `pip install duckdb`"
    );
    assert!(
        out.status.success(),
        "duckdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let duck: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();

    let hunt = Hunt::open(dir.path()).unwrap();
    let total = one(&hunt, "SELECT COUNT(*), SUM(orig_bytes) FROM flows");
    assert_eq!(duck["count"], num(&total[0][0]));
    assert_eq!(duck["count"], serde_json::json!(200000));
    assert_eq!(duck["sum"], num(&total[0][1]));

    let per_site: Vec<serde_json::Value> = one(
        &hunt,
        "SELECT site, COUNT(*) FROM flows GROUP BY site ORDER BY site",
    )
    .iter()
    .map(|r| serde_json::json!([r[0], num(&r[1])]))
    .collect();
    assert_eq!(duck["per_site"], serde_json::Value::from(per_site));
    assert!(duck["per_site"].as_array().unwrap().len() >= 6);

    let ds = one(
        &hunt,
        "SELECT COUNT(*), SUM(resp_bytes) FROM flows WHERE day = '2024-05-02' AND site = 'th-bkk'",
    );
    assert_eq!(
        duck["day_site"],
        serde_json::json!([num(&ds[0][0]), num(&ds[0][1])])
    );
    assert!(duck["day_site"][0].as_u64().unwrap() > 0);

    let pairs: Vec<serde_json::Value> = one(
        &hunt,
        "SELECT src_site, dst_site, service, SUM(orig_bytes + resp_bytes) AS b FROM flows \
         GROUP BY src_site, dst_site, service ORDER BY b DESC, src_site, dst_site, service LIMIT 5",
    )
    .iter()
    .map(|r| serde_json::json!([r[0], r[1], r[2], num(&r[3])]))
    .collect();
    assert_eq!(duck["pairs"], serde_json::Value::from(pairs));

    let columns = one(&hunt, &format!("SELECT {COLUMNS} FROM flows"));
    let columns: Vec<serde_json::Value> = columns[0].iter().map(num).collect();
    assert_eq!(duck["columns"], serde_json::Value::from(columns));
    // The generated store has one empty uid for all flows and no source assets (a chunk
    // of nulls only); every other figure counts real values.
    let zeros = duck["columns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v.as_u64() == Some(0));
    assert_eq!(zeros.count(), 1, "{}", duck["columns"]);

    let alerts = one(&hunt, "SELECT COUNT(*), SUM(bytes_out) FROM alerts");
    assert_eq!(
        duck["alerts"],
        serde_json::json!([num(&alerts[0][0]), num(&alerts[0][1])])
    );
    assert!(duck["alerts"][0].as_u64().unwrap() > 0);
}
