//! SQL over a small store: values put in come back out, as a table, CSV and JSON.

use crate::common::{TempDir, write_store};
use sekisho_hunt::{Hunt, HuntError};

fn render(r: &sekisho_hunt::QueryResult) -> (String, String, String) {
    let (mut t, mut c, mut j) = (Vec::new(), Vec::new(), Vec::new());
    r.write_table(&mut t).unwrap();
    r.write_csv(&mut c).unwrap();
    r.write_json(&mut j).unwrap();
    (
        String::from_utf8(t).unwrap(),
        String::from_utf8(c).unwrap(),
        String::from_utf8(j).unwrap(),
    )
}

#[test]
fn bytes_by_site_in_three_formats() {
    let dir = TempDir::new("sql-formats");
    write_store(dir.path());
    let hunt = Hunt::open(dir.path()).unwrap();
    let r = hunt
        .query(
            "SELECT site, COUNT(*) AS flows, SUM(orig_bytes) AS bytes \
             FROM flows GROUP BY site ORDER BY site",
        )
        .unwrap();
    assert_eq!(r.columns(), ["site", "flows", "bytes"]);
    assert!(!r.truncated());
    let (table, csv, json) = render(&r);
    assert_eq!(
        csv,
        "site,flows,bytes\n_external,1,1\nbkk,2,1010\nhq,3,5107\n"
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v,
        serde_json::json!([
            {"site": "_external", "flows": 1, "bytes": 1},
            {"site": "bkk", "flows": 2, "bytes": 1010},
            {"site": "hq", "flows": 3, "bytes": 5107},
        ])
    );
    // Aligned: numbers to the right under their headers, then the count.
    assert_eq!(
        table,
        "site       flows  bytes\n\
         ---------  -----  -----\n\
         _external      1      1\n\
         bkk            2   1010\n\
         hq             3   5107\n\
         (3 rows)\n"
    );
}

#[test]
fn enrichment_columns_filter_and_nulls_render() {
    let dir = TempDir::new("sql-columns");
    write_store(dir.path());
    let hunt = Hunt::open(dir.path()).unwrap();
    let r = hunt
        .query(
            "SELECT ts, src_ip, dst_ip, service, src_site, dst_site, dst_asset, policy_rule \
             FROM flows WHERE direction = 'inbound' OR (direction = 'cross-site' \
             AND policy_action = 'deny') ORDER BY ts",
        )
        .unwrap();
    assert_eq!(
        r.rows(),
        vec![
            vec![
                Some("2024-05-01T01:00:00Z".to_string()),
                Some("10.10.0.5".into()),
                Some("10.20.0.9".into()),
                Some("smb".into()),
                Some("hq".into()),
                Some("bkk".into()),
                None,
                Some("deny-rule".into()),
            ],
            vec![
                Some("2024-05-03T06:00:00Z".to_string()),
                Some("198.51.100.7".into()),
                Some("10.10.0.5".into()),
                Some("rdp".into()),
                None,
                Some("hq".into()),
                Some("hq-fs01".into()),
                Some("deny-rule".into()),
            ],
        ]
    );
    let (table, csv, json) = render(&r);
    assert!(table.contains("NULL"), "{table}");
    // NULL is an empty CSV field and a JSON null.
    assert!(
        csv.lines()
            .nth(2)
            .unwrap()
            .starts_with("2024-05-03T06:00:00Z,198.51.100.7,10.10.0.5,rdp,,hq,"),
        "{csv}"
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[1]["src_site"], serde_json::Value::Null);
    assert_eq!(v[0]["ts"], "2024-05-01T01:00:00Z");
}

#[test]
fn alerts_table_and_cidr_contains() {
    let dir = TempDir::new("sql-alerts");
    write_store(dir.path());
    let hunt = Hunt::open(dir.path()).unwrap();
    let r = hunt
        .query("SELECT src_ip, dst_port, site, day FROM alerts ORDER BY ts")
        .unwrap();
    assert_eq!(
        r.rows(),
        vec![
            vec![
                Some("10.10.0.5".into()),
                Some("445".into()),
                Some("hq".into()),
                Some("2024-05-01".into())
            ],
            vec![
                Some("198.51.100.7".into()),
                Some("3389".into()),
                Some("hq".into()),
                Some("2024-05-03".into())
            ],
        ]
    );
    let r = hunt
        .query(
            "SELECT COUNT(*) AS n FROM flows WHERE cidr_contains('10.20.0.0/16', src_ip) \
             OR cidr_contains('2001:db8::/32', dst_ip)",
        )
        .unwrap();
    assert_eq!(r.rows(), vec![vec![Some("2".into())]]);
    // Bad input gives NULL, not an error.
    let r = hunt
        .query(
            "SELECT cidr_contains('not-a-net', '10.0.0.1') AS a, cidr_contains('10.0.0.0/8', 'x') AS b, \
             cidr_contains(NULL, '10.0.0.1') AS c, cidr_contains('2001:db8::/32', '2001:db8::1') AS d",
        )
        .unwrap();
    assert_eq!(r.rows(), vec![vec![None, None, None, Some("true".into())]]);
}

#[test]
fn bad_sql_and_writes_are_typed_errors() {
    let dir = TempDir::new("sql-errors");
    write_store(dir.path());
    let hunt = Hunt::open(dir.path()).unwrap();
    match hunt.query("SELECT no_such_column FROM flows") {
        Err(HuntError::Sql(m)) => assert!(m.contains("no_such_column"), "{m}"),
        other => panic!("expected an SQL error, got {other:?}"),
    }
    match hunt.query("SELEC 1") {
        Err(HuntError::Sql(_)) => {}
        other => panic!("expected an SQL error, got {other:?}"),
    }
    // Hunts are read-only: no DDL, no COPY, no SET.
    let out = dir.path().join("copied.csv");
    for sql in [
        "CREATE TABLE t AS SELECT 1".to_string(),
        format!("COPY (SELECT * FROM flows) TO '{}'", out.display()),
        "SET datafusion.execution.batch_size = 1".to_string(),
        "DROP TABLE flows".to_string(),
    ] {
        assert!(matches!(hunt.query(&sql), Err(HuntError::Sql(_))), "{sql}");
    }
    assert!(!out.exists());
    // The tables are still there.
    assert_eq!(
        hunt.query("SELECT COUNT(*) FROM flows").unwrap().rows(),
        vec![vec![Some("6".into())]]
    );
}

#[test]
fn missing_tables_are_empty_with_their_columns() {
    let dir = TempDir::new("sql-empty");
    let hunt = Hunt::open(dir.path()).unwrap();
    let r = hunt
        .query("SELECT site, day, src_ip, SUM(orig_bytes) AS b FROM flows GROUP BY 1, 2, 3")
        .unwrap();
    assert_eq!(r.num_rows(), 0);
    let r = hunt
        .query("SELECT COUNT(*) AS n FROM alerts WHERE severity = 'high'")
        .unwrap();
    assert_eq!(r.rows(), vec![vec![Some("0".into())]]);
    // Empty JSON is an empty array.
    let r = hunt.query("SELECT * FROM flows").unwrap();
    let mut j = Vec::new();
    r.write_json(&mut j).unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&j).unwrap(),
        serde_json::json!([])
    );
    assert!(matches!(
        Hunt::open(&dir.path().join("nope")),
        Err(HuntError::Store { .. })
    ));
}
