//! End-to-end checks of every output on a small hand-built analysis with hostile strings.

mod common;

use common::{HOSTILE_SUMMARY, check_markup, check_md_tables, fixture};
use sekisho_event::{Alert, Incident};
use sekisho_report::{ReportError, html, json_document, markdown, terminal_summary, write_all};
use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("report-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn html_escapes_hostile_strings_and_never_contains_raw_markup_from_them() {
    let f = fixture();
    let page = html(&f.analysis());

    // The escaped forms are there (the strings are shown, not dropped)...
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("&quot;onmouseover=alert(2)"));
    assert!(page.contains("&quot;onmouseover=alert(4) x=&#39;"));
    assert!(page.contains("&lt;img src=x onerror=alert(3)&gt;|col"));
    assert!(page.contains("zeek-jp|\\x1b]0;owned\\x07&lt;b&gt;bold&lt;/b&gt;"));
    assert!(page.contains("\\x1b[31mred forged line"));
    assert!(
        page.contains("&lt;script&gt;x&lt;/script&gt;"),
        "rejection detail"
    );
    // ... and the raw ones never.
    for raw in [
        "<script",
        "<img",
        "<b>",
        "\"onmouseover",
        "onerror=alert(3)>",
        "\x1b",
        "\x07",
        "red\nforged",
    ] {
        assert!(!page.contains(raw), "raw {raw:?} in the HTML");
    }
    // The summary appears in the timeline table and in the SVG tooltip.
    let escaped_summary = "SMB to \\\\JP-FS01\\design$ by &lt;script&gt;alert(1)&lt;/script&gt; | &quot;onmouseover=alert(2) \\x1b[31mred forged line";
    assert!(
        page.matches(escaped_summary).count() >= 2,
        "summary in table and tooltip"
    );
    assert!(page.contains(&format!("&#10;{escaped_summary}</title>")));
    assert_ne!(HOSTILE_SUMMARY, escaped_summary);
}

#[test]
fn html_uses_only_known_tags_and_attributes_and_links_inside_the_page() {
    let f = fixture();
    check_markup(&html(&f.analysis())).unwrap();
}

#[test]
fn html_is_self_contained_with_no_url_script_or_external_resource() {
    let f = fixture();
    let page = html(&f.analysis());
    // Checked on the whole page, hostile text included: the fixture's strings name no URL.
    for banned in [
        "http:", "https:", "=\"//", " src=\"", "url(", "@import", "<link", "<script", "<iframe",
        "<object", "<img", "xlink:", "xmlns",
    ] {
        assert!(!page.contains(banned), "{banned:?} in the HTML");
    }
    assert!(page.contains(
        r#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">"#
    ));
    assert!(page.contains("@media print"));
}

#[test]
fn html_has_a_timeline_chart_and_a_site_graph_per_incident() {
    let f = fixture();
    let page = html(&f.analysis());
    assert_eq!(page.matches("<svg").count(), 2 * f.incidents.len());
    let sections: Vec<&str> = page.split(r#"<section class="incident""#).skip(1).collect();
    assert_eq!(sections.len(), 2);
    for s in &sections {
        let s = s.split("</section>").next().unwrap();
        assert_eq!(s.matches(r#"<svg class="chart timeline""#).count(), 1);
        assert_eq!(s.matches(r#"<svg class="chart sites""#).count(), 1);
    }
    let inc1 = sections[0];
    // Timeline: one lane label per detector, a mark per alert, UTC tick labels.
    for d in ["policy-deny", "pivot-chain", "exfiltration"] {
        assert!(inc1.contains(&format!(">{d}</text>")), "lane {d}");
    }
    let timeline = &inc1[inc1.find(r#"<svg class="chart timeline""#).unwrap()..];
    let timeline = timeline.split("</svg>").next().unwrap();
    assert_eq!(timeline.matches("<circle").count(), 4);
    assert!(timeline.contains(">02:30</text>") && timeline.contains(">03:30</text>"));
    assert!(timeline.contains("UTC, 2024-03-04 02:09:"));
    // Severity colours: critical and high marks.
    assert!(timeline.contains(r##"fill="#b00020" stroke="#ffffff""##));
    assert!(timeline.contains(r##"fill="#d9480f" stroke="#ffffff""##));

    // Site graph: org sites on the circle with country, `external`, and edges with services.
    let graph = &inc1[inc1.find(r#"<svg class="chart sites""#).unwrap()..];
    let graph = graph.split("</svg>").next().unwrap();
    for label in [">jp-hq<", ">th-bkk<", ">external<", ">JP<", ">TH<", ">EXT<"] {
        assert!(graph.contains(label), "node label {label}");
    }
    assert!(graph.contains("th-bkk → jp-hq: 2 alerts, rdp, smb, 3.24 MB"));
    assert!(graph.contains("jp-hq → external: 1 alert, https, 1.83 GB"));
    assert!(
        graph.contains("jp-hq → jp-hq: 1 alert, winrm"),
        "intra-site loop"
    );
    assert_eq!(
        graph.matches("<polygon").count(),
        3,
        "one arrow per crossing"
    );
}

#[test]
fn html_shows_header_summary_scope_and_appendix() {
    let f = fixture();
    let page = html(&f.analysis());
    assert!(page.contains("<title>Incident report: Example Heavy Industries</title>"));
    assert!(page.contains("<dd>2024-03-04 02:13:05 to 2024-03-05 16:52:30 UTC</dd>"));
    assert!(page.contains(r#"<span class="badge sev-critical">critical</span>"#));
    assert!(page.contains("<span>customer-pii</span>"));
    assert!(page.contains("<span>Acme Air</span>"));
    assert!(page.contains("1.83 GB (1,830,000,000 bytes)"));
    assert!(page.contains("Appendix C: Input statistics"));
}

#[test]
fn markdown_tables_keep_their_column_count_with_hostile_cells() {
    let f = fixture();
    let md = markdown(&f.analysis());
    let tables = check_md_tables(&md).unwrap();
    assert!(tables >= 12, "{tables} tables");
    // The hostile cells are escaped, not dropped.
    assert!(md.contains(r#"&lt;script&gt;alert(1)&lt;/script&gt; \| "onmouseover=alert(2)"#));
    assert!(md.contains(r"\\x1b\[31mred forged line"));
    assert!(!md.contains("<script") && !md.contains("<img") && !md.contains('\x1b'));
}

#[test]
fn markdown_report_snapshot() {
    let f = fixture();
    insta::assert_snapshot!("report_md", markdown(&f.analysis()));
}

#[test]
fn terminal_without_colour_has_no_escape_byte() {
    let f = fixture();
    let out = terminal_summary(&f.analysis(), false);
    assert!(!out.contains('\x1b'), "{out}");
    assert!(!out.chars().any(|c| c.is_control() && c != '\n'));
    // Hostile values are shown, made visible.
    assert!(out.contains("\\x1b[2J<script>x</script>"), "{out}");
}

/// Removes the SGR sequences sekisho writes and fails on any other escape sequence.
fn strip_our_sgr(s: &str) -> Result<String, String> {
    const OURS: &[&str] = &["0", "1", "2", "1;31", "31", "32", "33", "36"];
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('\x1b') {
        out.push_str(&rest[..i]);
        let seq = &rest[i..];
        let params = seq
            .strip_prefix("\x1b[")
            .and_then(|p| p.split_once('m'))
            .map(|(p, _)| p)
            .ok_or_else(|| format!("not an SGR sequence: {:?}", &seq[..seq.len().min(12)]))?;
        if !OURS.contains(&params) {
            return Err(format!("foreign SGR parameters {params:?}"));
        }
        rest = &seq[2 + params.len() + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[test]
fn terminal_with_colour_writes_only_our_sgr_sequences_and_nothing_else() {
    let f = fixture();
    let a = f.analysis();
    let coloured = terminal_summary(&a, true);
    assert!(coloured.contains("\x1b[1;31mcritical"), "colour is used");
    // Stripping our sequences gives exactly the plain output: colour adds nothing else, and
    // no escape sequence from the input survives.
    assert_eq!(
        strip_our_sgr(&coloured).unwrap(),
        terminal_summary(&a, false)
    );
}

#[test]
fn terminal_summary_reports_counts_rejections_detectors_and_scope() {
    let f = fixture();
    let out = terminal_summary(&f.analysis(), false);
    let expect = [
        "Records: 120,451 read, 120,431 parsed, 20 rejected, 3,200 skipped (6 files, 48.2 MB)",
        "  rejected by reason: bad-field 13, field-count 6, invalid-utf8 1",
        "  logs/sensor-th/conn.log:88: bad-field: id.orig_h: not an address: \"\\x1b[2J<script>x</script>\"",
        "  (first 5 of 20 rejections shown)",
        "Alerts: 6",
        "  DETECTOR             ALERTS  HIGHEST",
        "  policy-deny               2  critical",
        "Incidents: 2 (1 critical, 1 medium)",
        "INC-0001  critical  Intrusion from th-bkk into jp-hq with exfiltration",
        "  seen         2024-03-04 02:13:05 → 2024-03-04 03:41:10 UTC",
        "  entry points th-bkk/10.20.1.5 → jp-hq/jp-fs01 (10.10.5.10) rdp at 2024-03-04 02:13:05 (A000001)",
        "  data classes credentials, customer-pii, design",
        "  customers    Acme Air, Orbital Co",
        "  users        EHI\\svc_backup, \"onmouseover=alert(4) x='",
        "  bytes moved  jp-hq → external 1.83 GB, jp-hq → th-bkk 3.14 MB, th-bkk → jp-hq 100 kB (total 1.83 GB)",
        "  alerts       4 (exfiltration, pivot-chain, policy-deny)",
        "INC-0002  medium    Off-hours admin access to jp-dc01 from id-jkt and ph-mnl",
    ];
    for line in expect {
        assert!(
            out.lines().any(|l| l == line),
            "missing line {line:?} in\n{out}"
        );
    }
}

#[test]
fn write_all_writes_four_files_that_round_trip() {
    let f = fixture();
    let dir = scratch("write-all").join("nested");
    let written = write_all(&dir, &f.analysis()).unwrap();
    for p in written.paths() {
        assert!(p.is_file(), "{}", p.display());
    }
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "no temporary file left: {names:?}");

    let incidents: Vec<Incident> =
        serde_json::from_slice(&std::fs::read(&written.incidents_json).unwrap()).unwrap();
    assert_eq!(incidents, f.incidents);

    let jsonl = std::fs::read_to_string(&written.alerts_jsonl).unwrap();
    assert_eq!(jsonl.lines().count(), f.alerts.len());
    let alerts: Vec<Alert> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(alerts, f.alerts);

    assert_eq!(
        std::fs::read_to_string(&written.report_md).unwrap(),
        markdown(&f.analysis())
    );
    assert_eq!(
        std::fs::read_to_string(&written.report_html).unwrap(),
        html(&f.analysis())
    );

    // A second run replaces the files in place.
    let again = write_all(&dir, &f.analysis()).unwrap();
    assert_eq!(again, written);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 4);
}

#[test]
fn write_all_names_the_path_it_could_not_create() {
    let f = fixture();
    let base = scratch("not-a-dir");
    std::fs::create_dir_all(&base).unwrap();
    let file = base.join("file");
    std::fs::write(&file, b"x").unwrap();
    let err = write_all(&file.join("out"), &f.analysis()).unwrap_err();
    assert!(matches!(&err, ReportError::Io { path, .. } if path == &file.join("out")));
    assert!(err.to_string().contains("not-a-dir/file/out"), "{err}");
}

#[test]
fn json_document_has_stats_alerts_incidents_and_counts() {
    let f = fixture();
    let doc = json_document(&f.analysis());
    assert_eq!(doc["stats"]["records"], 120_451);
    assert_eq!(doc["stats"]["rejected"], 20);
    assert_eq!(doc["stats"]["rejected_by_reason"]["bad-field"], 13);
    assert_eq!(doc["generated_by"], "sekisho 0.1.0");
    assert_eq!(doc["period"]["from"], "2024-03-04T02:13:05.123456Z");

    let alerts = doc["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 6);
    let a = &alerts[0];
    for key in [
        "id", "detector", "severity", "ts", "src", "dst", "service", "summary",
    ] {
        assert!(a.get(key).is_some(), "alert field {key}");
    }
    for key in ["ip", "site", "asset"] {
        assert!(
            a["src"].get(key).is_some() && a["dst"].get(key).is_some(),
            "endpoint {key}"
        );
    }
    assert_eq!(a["severity"], "critical");
    assert_eq!(a["service"], "rdp");
    assert_eq!(a["src"]["ip"], "10.20.1.5");
    assert_eq!(a["dst"]["asset"], "jp-fs01");
    assert_eq!(alerts[3]["dst"]["site"], serde_json::Value::Null);

    let incidents = doc["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 2);
    for key in [
        "id",
        "first_seen",
        "last_seen",
        "sites",
        "assets",
        "data_classes",
        "customers",
        "alert_ids",
    ] {
        assert!(incidents[0].get(key).is_some(), "incident field {key}");
    }
    assert_eq!(incidents[0]["alert_ids"].as_array().unwrap().len(), 4);

    let counts = &doc["alerts_by_detector"];
    assert_eq!(counts["policy-deny"], 2);
    assert_eq!(counts["exfiltration"], 1);
    assert_eq!(counts.as_object().unwrap().len(), 5);

    // The alerts are the same serialisation as alerts.jsonl.
    let back: Vec<Alert> = serde_json::from_value(doc["alerts"].clone()).unwrap();
    assert_eq!(back, f.alerts);
}

#[test]
fn reports_survive_alerts_at_both_ends_of_representable_time() {
    // Zeek times are attacker-written: an incident may span from the earliest to the
    // latest timestamp a log can hold. Nothing may overflow or panic.
    use sekisho_event::Timestamp;
    let mut f = fixture();
    let (lo, hi) = (
        Timestamp::from_micros(i64::MIN),
        Timestamp::from_micros(i64::MAX),
    );
    f.alerts[0].ts = lo;
    f.alerts[0].last_ts = lo;
    f.alerts[3].last_ts = hi;
    f.incidents[0].timeline[0].ts = lo;
    f.incidents[0].first_seen = lo;
    f.incidents[0].last_seen = hi;
    let a = f.analysis();
    let page = html(&a);
    check_markup(&page).unwrap();
    assert_eq!(page.matches("<svg").count(), 4);
    for bad in ["NaN", "inf\"", "inf,", "inf "] {
        if let Some(i) = page.find(bad) {
            panic!("{bad} in {:?}", &page[i.saturating_sub(120)..i + 40]);
        }
    }
    check_md_tables(&markdown(&a)).unwrap();
    assert!(terminal_summary(&a, false).contains("INC-0001"));
}
