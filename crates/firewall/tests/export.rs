//! Exported rules are checked by the real tools (`nft -c -f`, `iptables-restore --test`,
//! `ip6tables-restore --test`) and read back for what they must mean.

use sekisho_firewall::{ExportError, ExportOptions, Family, iptables, nftables};
use sekisho_model::Org;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn load(name: &str) -> Org {
    Org::load(&fixture_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn january() -> ExportOptions {
    ExportOptions::at_date(2026, 1, 15).expect("a date")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("firewall");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

/// Runs a checker on a file; a missing tool fails the test naming its Debian package.
fn run_check(tool: &str, args: &[&str], package: &str, text: &str, file: &str) {
    let path = scratch(file);
    std::fs::write(&path, text).expect("write export");
    let out = Command::new(tool)
        .args(args)
        .arg(&path)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `{tool}` ({e}): install the Debian package `{package}`")
        });
    assert!(
        out.status.success(),
        "`{tool} {}` rejected {} (needs root or CAP_NET_ADMIN):\n{}\n--- file ---\n{text}",
        args.join(" "),
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn nft_check(text: &str, file: &str) {
    run_check("nft", &["-c", "-f"], "nftables", text, file);
}

fn ipt_check(text: &str, family: Family, file: &str) {
    let tool = match family {
        Family::V4 => "iptables-restore",
        Family::V6 => "ip6tables-restore",
    };
    run_check(tool, &["--test"], "iptables", text, file);
}

/// Exports in all three forms and has the real tools check each.
fn check_all(org: &Org, opts: &ExportOptions, stem: &str) -> (String, String, String) {
    let nft = nftables(org, opts).expect("nft export");
    let v4 = iptables(org, Family::V4, opts).expect("v4 export");
    let v6 = iptables(org, Family::V6, opts).expect("v6 export");
    nft_check(&nft, &format!("{stem}.nft"));
    ipt_check(&v4, Family::V4, &format!("{stem}.v4.rules"));
    ipt_check(&v6, Family::V6, &format!("{stem}.v6.rules"));
    (nft, v4, v6)
}

/// The lines of one nft chain (between `chain NAME {` and its closing brace).
fn nft_chain<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let head = format!("chain {name} {{");
    let mut lines = text.lines().skip_while(|l| l.trim() != head);
    assert!(lines.next().is_some(), "no chain {name}:\n{text}");
    lines
        .take_while(|l| l.trim() != "}")
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// The elements of an nft set and its type.
fn nft_set(text: &str, name: &str) -> (String, Vec<String>) {
    let head = format!("set {name} {{");
    let block: Vec<&str> = text
        .lines()
        .skip_while(|l| l.trim() != head)
        .skip(1)
        .take_while(|l| l.trim() != "}")
        .collect();
    assert!(!block.is_empty(), "no set {name}:\n{text}");
    let ty = block
        .iter()
        .find_map(|l| l.trim().strip_prefix("type "))
        .expect("a type")
        .to_string();
    let elems = block
        .iter()
        .find_map(|l| l.trim().strip_prefix("elements = {"))
        .map(|e| {
            e.trim_end_matches('}')
                .split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    (ty, elems)
}

/// The policy rule number a firewall line names in its comment, if any.
fn rule_no(line: &str) -> Option<usize> {
    let at = line.find("comment \"rule ")? + "comment \"rule ".len();
    line[at..].split(' ').next()?.parse().ok()
}

#[test]
fn every_fixture_passes_the_real_tools() {
    for name in ["three-sites.toml", "v6-only.toml", "hostile-names.toml"] {
        let org = load(name);
        let stem = name.trim_end_matches(".toml");
        check_all(&org, &january(), stem);
        let july = ExportOptions::at_date(2026, 7, 15).expect("a date");
        check_all(&org, &july, &format!("{stem}-july"));
        for site in &org.sites {
            let opts = ExportOptions {
                site: Some(site.id.clone()),
                ..january()
            };
            check_all(&org, &opts, &format!("{stem}-{}", site.id));
        }
    }
}

#[test]
fn the_demo_organisation_passes_the_real_tools() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("firewall-demo");
    let summary = sekisho_demo::generate(
        &dir,
        &sekisho_demo::DemoConfig::new(7, sekisho_demo::Scale::Small),
    )
    .expect("demo generates");
    let org = Org::load(&summary.org_path).expect("demo org loads");
    let (nft, v4, v6) = check_all(&org, &january(), "demo");
    // Every site has a chain, and every policy rule that can match reaches a chain.
    for site in &org.sites {
        let slug = site.id.replace('-', "_");
        assert!(
            nft.contains(&format!("chain forward_{slug} {{")),
            "{}",
            site.id
        );
    }
    for (i, _) in org.policy.rules().iter().enumerate() {
        let tag = format!("comment \"rule {} ", i + 1);
        assert!(
            nft.contains(&tag) || nft.contains(&format!("# Not exported: rule {} ", i + 1)),
            "rule {} is neither exported nor listed as not exported",
            i + 1
        );
        assert!(v4.contains(&tag.replace("comment \"", "--comment \"")) || !nft.contains(&tag));
    }
    assert!(v6.contains("2001:db8:"), "demo sites have v6 networks");
}

#[test]
fn a_deny_rule_lands_in_the_chains_of_its_sites_with_networks_ports_and_comment() {
    let org = load("three-sites.toml");
    let (nft, v4, _) = check_all(&org, &january(), "deny");
    let line = 69; // `[[policy.rule]]` of "No SMB from overseas to HQ" in the fixture.
    let comment = format!("comment \"rule 2 (line {line}): No SMB from overseas to HQ\"");
    let want = format!(
        "ip saddr @rule2_src_v4 ip daddr @site_jp_hq_v4 tcp dport {{ 139, 445 }} counter drop {comment}"
    );
    for chain in ["forward_jp_hq", "forward_th_bkk", "forward_us_hou"] {
        assert!(
            nft_chain(&nft, chain).contains(&want.as_str()),
            "{chain} lacks `{want}`:\n{nft}"
        );
    }
    let (ty, elems) = nft_set(&nft, "rule2_src_v4");
    assert_eq!(ty, "ipv4_addr");
    assert_eq!(elems, ["10.20.0.0/16", "10.30.0.0/16", "172.16.30.0/24"]);
    let (_, hq) = nft_set(&nft, "site_jp_hq_v4");
    assert_eq!(hq, ["10.10.0.0/16"]);
    // HQ's v6 networks are in the rule's v6 form; the overseas v6 source is Houston only.
    assert!(nft.contains(
        "ip6 saddr @site_us_hou_v6 ip6 daddr @site_jp_hq_v6 tcp dport { 139, 445 } counter drop"
    ));
    assert!(v4.contains(&format!(
        "-A SK0-jp-hq -s 10.20.0.0/16,10.30.0.0/16,172.16.30.0/24 -d 10.10.0.0/16 -p tcp -m multiport --dports 139,445 -m comment --comment \"rule 2 (line {line}): No SMB from overseas to HQ\" -j DROP"
    )));
}

#[test]
fn rules_keep_policy_order_so_an_allow_above_a_deny_wins() {
    let org = load("three-sites.toml");
    let (nft, v4, _) = check_all(&org, &january(), "order");
    let chain = nft_chain(&nft, "forward_jp_hq");
    let numbers: Vec<usize> = chain.iter().filter_map(|l| rule_no(l)).collect();
    assert!(numbers.windows(2).all(|w| w[0] <= w[1]), "{numbers:?}");
    // The DC replication allow (rule 1, smb included) precedes the SMB deny (rule 2).
    let first_allow = chain
        .iter()
        .position(|l| rule_no(l) == Some(1))
        .expect("rule 1");
    let first_deny = chain
        .iter()
        .position(|l| rule_no(l) == Some(2))
        .expect("rule 2");
    assert!(first_allow < first_deny);
    assert!(chain[first_allow].contains(" accept comment"));
    assert!(
        chain[first_allow]
            .contains("tcp dport { 53, 88, 139, 389, 445, 636, 3268-3269, 49152-65535 }")
    );
    // The cross-site default follows every rule; the chain ends in the catch-all accept.
    let default = chain
        .iter()
        .position(|l| l.contains("cross_site_default deny"))
        .expect("default");
    assert!(
        chain
            .iter()
            .rposition(|l| rule_no(l).is_some())
            .expect("rules")
            < default
    );
    assert_eq!(
        chain.last(),
        Some(&"counter accept comment \"no rule matched: allowed by the policy\"")
    );
    // Same order in iptables; allow is RETURN there, so the gateway's own rules still run.
    let ipt: Vec<usize> = v4
        .lines()
        .filter(|l| l.starts_with("-A SK0-jp-hq"))
        .filter_map(|l| {
            let at = l.find("--comment \"rule ")? + "--comment \"rule ".len();
            l[at..].split(' ').next()?.parse().ok()
        })
        .collect();
    assert!(ipt.windows(2).all(|w| w[0] <= w[1]), "{ipt:?}");
    assert!(v4.contains(
        "--comment \"rule 1 (line 62): AD replication between domain controllers\" -j RETURN"
    ));
    assert!(
        !v4.contains("-j ACCEPT"),
        "iptables export must never ACCEPT"
    );
}

#[test]
fn nested_asset_networks_follow_the_longest_prefix_like_the_model() {
    // jp-backup (10.10.2.50) sits inside jp-servers (10.10.2.0/24): the model locates that
    // address as the backup server, so the file-server set must leave it out.
    let org = load("three-sites.toml");
    let nft = nftables(&org, &january()).expect("export");
    let (_, servers) = nft_set(&nft, "rule5_dst_v4");
    assert_eq!(
        servers,
        [
            "10.10.2.0/27",
            "10.10.2.32/28",
            "10.10.2.48/31",
            "10.10.2.51/32",
            "10.10.2.52/30",
            "10.10.2.56/29",
            "10.10.2.64/26",
            "10.10.2.128/25"
        ]
    );
    let (_, backup) = nft_set(&nft, "rule4_dst_v4");
    assert_eq!(backup, ["10.10.2.50/32"]);
}

#[test]
fn v6_networks_land_in_v6_sets_and_v6_files() {
    for name in ["three-sites.toml", "v6-only.toml"] {
        let org = load(name);
        let (nft, v4, v6) = check_all(&org, &january(), &format!("fam-{name}"));
        let sets: Vec<&str> = nft
            .lines()
            .filter_map(|l| l.trim().strip_prefix("set ")?.strip_suffix(" {"))
            .collect();
        assert!(!sets.is_empty());
        for set in sets {
            let (ty, elems) = nft_set(&nft, set);
            let v6 = set.ends_with("_v6");
            assert_eq!(ty, if v6 { "ipv6_addr" } else { "ipv4_addr" }, "{set}");
            assert!(
                elems.iter().all(|e| e.contains(':') == v6),
                "{set}: {elems:?}"
            );
        }
        for l in v4.lines().filter(|l| l.starts_with("-A ")) {
            assert!(!l.contains("2001:"), "v6 address in the v4 file: {l}");
        }
        for l in v6.lines().filter(|l| l.starts_with("-A ")) {
            assert!(!l.contains(" 10."), "v4 address in the v6 file: {l}");
        }
    }
    let org = load("v6-only.toml");
    let nft = nftables(&org, &january()).expect("export");
    let (_, muc) = nft_set(&nft, "site_de_muc_v6");
    assert_eq!(muc, ["2001:db8:40::/47"], "two adjacent /48s merge");
    assert_eq!(nft_set(&nft, "site_de_muc_v4").1, Vec::<String>::new());
    let v4 = iptables(&org, Family::V4, &january()).expect("export");
    let v6 = iptables(&org, Family::V6, &january()).expect("export");
    assert!(
        !v4.contains(":SK0-de-muc"),
        "no v4 chain for a v6-only site"
    );
    assert!(v6.contains(":SK0-de-muc"));
    assert!(v6.contains("-d 2001:db8:40::/47 -p tcp -m multiport --dports 22 "));
}

#[test]
fn hostile_rule_names_cannot_break_out_of_their_comment() {
    let org = load("hostile-names.toml");
    let (nft, v4, v6) = check_all(&org, &january(), "hostile");
    // Three rules from a to b: each exports one v4 and one v6 line, in both site chains.
    for chain in ["forward_a", "forward_b"] {
        let lines = nft_chain(&nft, chain);
        let numbered: Vec<usize> = lines.iter().filter_map(|l| rule_no(l)).collect();
        assert_eq!(numbered, [1, 1, 2, 2, 3, 3], "{chain}:\n{nft}");
        // 6 rule lines and the final accept (the default is allow): nothing injected.
        assert_eq!(lines.len(), 7, "{chain}: {lines:#?}");
        for l in &lines {
            // The comment is the last thing on the line and holds no quote of its own.
            let at = l.find("comment \"").expect("a comment") + "comment \"".len();
            let inner = l[at..].strip_suffix('"').expect("comment ends the line");
            assert!(!inner.contains('"'), "{l}");
        }
    }
    // Only our three chains and one table exist; the would-be `chain evil` stays text.
    let chains: Vec<&str> = nft
        .lines()
        .filter(|l| l.trim_start().starts_with("chain "))
        .collect();
    assert_eq!(chains.len(), 3, "{chains:#?}");
    assert_eq!(nft.matches("table inet sekisho {").count(), 1);
    // A 300-character name is cut to what nft accepts.
    assert!(nft.lines().all(|l| match l.find("comment \"") {
        Some(at) => l[at + 9..].trim_end_matches('"').len() <= 128,
        None => true,
    }));
    for (text, chain) in [(&v4, "SK0-a"), (&v6, "SK0-a")] {
        let rules: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(&format!("-A {chain} ")))
            .collect();
        // rules 1 and 2 deny (one line each), rule 3 alert (LOG + RETURN), final RETURN.
        assert_eq!(rules.len(), 5, "{rules:#?}");
        assert_eq!(text.matches("\nCOMMIT").count(), 1);
        assert!(!text.contains("\n*nat"));
        // What follows each comment is one of our verdicts, never injected text.
        for l in text.lines().filter(|l| l.starts_with("-A ")) {
            let (_, verdict) = l.rsplit_once("\" ").expect("a comment");
            assert!(
                [
                    "-j DROP",
                    "-j RETURN",
                    "-j LOG --log-prefix",
                    "-j SK",
                    "-g SK"
                ]
                .iter()
                .any(|v| verdict.starts_with(v)),
                "{l}"
            );
        }
    }
}

#[test]
fn time_windows_are_written_in_utc_with_the_source_sites_offset() {
    let org = load("three-sites.toml");
    let (nft, v4, _) = check_all(&org, &january(), "time");
    // Rule 7: outside Mon-Fri 07:00-20:00 in Houston (UTC-06:00 in January) = UTC
    // Mon 00:00-13:00, Tue-Fri 02:00-13:00, Sat 02:00-24:00, Sun all day.
    let hou =
        "-A SK2-us-hou-2 -s 10.30.0.0/16,172.16.30.0/24 -d 10.30.0.0/16,172.16.30.0/24 -m time";
    for want in [
        "--timestart 02:00:00 --timestop 12:59:59 --weekdays Tue,Wed,Thu,Fri",
        "--timestart 00:00:00 --timestop 12:59:59 --weekdays Mon",
        "--timestart 02:00:00 --timestop 23:59:59 --weekdays Sat",
        "--timestart 00:00:00 --timestop 23:59:59 --weekdays Sun",
    ] {
        assert!(
            v4.contains(&format!("{hou} {want} ")),
            "missing {want}:\n{v4}"
        );
    }
    assert!(nft.contains("meta day { \"Tuesday\", \"Wednesday\", \"Thursday\", \"Friday\" } meta hour \"02:00\"-\"12:59:59\""));
    assert!(
        nft.contains(
            "# window in the local time of source site us-hou (UTC-06:00), written in UTC"
        )
    );
    assert!(nft.contains(
        "Sites with daylight saving time (export again when their offset changes): us-hou"
    ));
    // In July Houston is UTC-05:00: the same window is an hour earlier in UTC.
    let july = ExportOptions::at_date(2026, 7, 15).expect("a date");
    let v4_july = iptables(&org, Family::V4, &july).expect("export");
    assert!(v4_july.contains(&format!(
        "{hou} --timestart 01:00:00 --timestop 11:59:59 --weekdays Tue,Wed,Thu,Fri "
    )));
    // From Tokyo (UTC+09:00) to Houston: Tokyo's clock.
    assert!(v4.contains("-A SK2-us-hou-2 -s 10.10.0.0/16 -d 10.30.0.0/16,172.16.30.0/24 -m time"));
}

#[test]
fn external_sources_are_everything_outside_the_site_networks() {
    let org = load("three-sites.toml");
    let (nft, v4, _) = check_all(&org, &january(), "external");
    assert!(nft.contains(
        "ip saddr != @sites_v4 tcp dport 3389 counter log prefix \"sekisho rule 3 alert: \" accept"
    ));
    let (_, all) = nft_set(&nft, "sites_v4");
    assert_eq!(
        all,
        [
            "10.10.0.0/16",
            "10.20.0.0/16",
            "10.30.0.0/16",
            "172.16.30.0/24"
        ]
    );
    // iptables cannot negate a list: site sources go on to the next part of the chain.
    assert!(v4.contains("-A SK0-jp-hq -s 10.10.0.0/16,10.20.0.0/16,10.30.0.0/16,172.16.30.0/24 -m comment --comment \"not external: next part\" -g SK0-jp-hq-2"));
    assert!(v4.contains("-A SK0-jp-hq -p tcp -m multiport --dports 3389 -m comment --comment \"rule 3 (line 76): RDP from the Internet is watched\" -j LOG"));
    assert!(v4.contains("-A SK0-jp-hq -m comment --comment \"rest of the policy\" -g SK0-jp-hq-2"));
    assert!(v4.contains(":SK0-jp-hq-2 - [0:0]"));
}

#[test]
fn one_site_exports_only_its_chain_and_unknown_sites_are_errors() {
    let org = load("three-sites.toml");
    let opts = ExportOptions {
        site: Some("th-bkk".to_string()),
        ..january()
    };
    let nft = nftables(&org, &opts).expect("export");
    assert!(nft.contains("chain forward_th_bkk {"));
    assert!(!nft.contains("chain forward_jp_hq {"));
    let bad = ExportOptions {
        site: Some("nowhere".to_string()),
        ..january()
    };
    assert_eq!(
        nftables(&org, &bad),
        Err(ExportError::UnknownSite("nowhere".to_string()))
    );
}
