//! The org file: what it accepts, and errors that name the line of what it refuses.

use sekisho_event::{ConnState, Flow, Proto, Service, Timestamp, Uid};
use sekisho_model::{Action, Direction, Enricher, Org};
use std::net::IpAddr;
use std::sync::Arc;

mod common;

use common::{EXAMPLE, org};

fn flow(src: &str, dst: &str, port: u16, service: Service, ts_secs: i64) -> Flow {
    Flow {
        ts: Timestamp::from_micros(ts_secs * Timestamp::SECOND),
        duration_us: 1_000,
        uid: Uid::new("Ctest").unwrap(),
        orig_ip: src.parse().unwrap(),
        orig_port: 50_000,
        resp_ip: dst.parse().unwrap(),
        resp_port: port,
        proto: Proto::Tcp,
        service,
        orig_bytes: 100,
        resp_bytes: 200,
        orig_pkts: 2,
        resp_pkts: 2,
        state: ConnState::SF,
        sensor: Arc::from("s"),
    }
}

#[test]
fn example_from_design_resolves_sites_assets_and_settings() {
    let org = org();
    assert_eq!(org.sites.len(), 3);
    assert_eq!(org.assets.len(), 3);
    assert_eq!(
        org.site_by_id("th-bkk").map(|s| org.site(s).name.as_str()),
        Some("Bangkok office")
    );
    assert_eq!(org.site_by_id("nowhere"), None);
    assert_eq!(org.policy.rules().len(), 3);
    assert_eq!(org.policy.cross_site_default, Action::Alert);
    assert_eq!(org.detectors.fan_out.min_hosts, 20);
    assert_eq!(
        org.detectors.first_seen_crossing.baseline_days, 7,
        "default kept"
    );
    let fs = org.locate("10.10.5.10".parse().unwrap());
    assert_eq!(org.asset(fs.asset.unwrap()).name, "jp-fs01");
    let fs6 = org.locate("2001:db8:10::10".parse().unwrap());
    assert_eq!(fs6, fs);
    let ws = org.locate("10.10.200.3".parse().unwrap());
    assert_eq!(org.site(ws.site.unwrap()).id, "jp-hq");
    assert_eq!(ws.asset, None);
    assert_eq!(org.locate("8.8.8.8".parse().unwrap()).site, None);
}

#[test]
fn overseas_rdp_to_hq_file_server_is_denied_by_name() {
    let org = org();
    let mut e = Enricher::new(&org);
    // Wednesday 2024-05-15 03:00 UTC = 10:00 in Bangkok.
    let f = flow("10.20.3.4", "10.10.5.10", 3389, Service::Rdp, 1_715_742_000);
    let en = e.enrich(&f);
    assert_eq!(en.direction, Direction::CrossSite);
    assert_eq!(en.verdict.action, Action::Deny);
    assert_eq!(
        org.rule_name(en.verdict.rule),
        Some("no overseas admin access to HQ servers")
    );
    let local = en.local.unwrap();
    assert_eq!((local.weekday, local.minute), (2, 10 * 60));
}

#[test]
fn first_match_wins_and_default_applies_to_cross_site_only() {
    let org = org();
    let mut e = Enricher::new(&org);
    // DC to DC over SMB: the allow rule comes before the deny rule.
    let dc = e.enrich(&flow(
        "10.20.1.1",
        "10.10.1.1",
        445,
        Service::Smb,
        1_715_742_000,
    ));
    assert_eq!(dc.verdict.action, Action::Allow);
    assert_eq!(dc.verdict.rule, Some(0));
    // Cross-site, no rule: the default.
    let other = e.enrich(&flow(
        "10.40.7.7",
        "10.10.99.9",
        8080,
        Service::Http,
        1_715_742_000,
    ));
    assert_eq!(
        (other.verdict.action, other.verdict.rule),
        (Action::Alert, None)
    );
    // Intra-site and outbound: allowed by default.
    let intra = e.enrich(&flow(
        "10.10.9.9",
        "10.10.5.10",
        445,
        Service::Smb,
        1_715_742_000,
    ));
    assert_eq!(
        (intra.direction, intra.verdict.action),
        (Direction::IntraSite, Action::Allow)
    );
    let out = e.enrich(&flow(
        "10.10.9.9",
        "93.184.216.34",
        443,
        Service::Https,
        1_715_742_000,
    ));
    assert_eq!(
        (out.direction, out.verdict.action),
        (Direction::Outbound, Action::Allow)
    );
    let inbound = e.enrich(&flow(
        "93.184.216.34",
        "10.10.9.9",
        443,
        Service::Https,
        1_715_742_000,
    ));
    assert_eq!(inbound.direction, Direction::Inbound);
}

#[test]
fn time_windows_use_the_source_site_clock() {
    let org = org();
    let mut e = Enricher::new(&org);
    // 2024-05-15 14:00 UTC: 21:00 in Bangkok (after hours), 09:00 in Houston (business hours).
    let ts = 1_715_781_600;
    let from_bkk = e.enrich(&flow("10.20.3.4", "10.10.9.9", 443, Service::Https, ts));
    assert_eq!(
        (from_bkk.verdict.action, from_bkk.verdict.rule),
        (Action::Alert, None)
    );
    let from_hou = e.enrich(&flow("10.40.3.4", "10.10.9.9", 443, Service::Https, ts));
    assert_eq!(
        (from_hou.verdict.action, from_hou.verdict.rule),
        (Action::Allow, Some(2))
    );
}

fn error_of(text: &str) -> String {
    Org::from_toml(text, "org.toml")
        .expect_err("must be refused")
        .to_string()
}

fn with(extra_site_fields: &str, rest: &str) -> String {
    format!(
        "[org]\nname = \"X\"\n\n[[site]]\nid = \"a\"\ncountry = \"JP\"\ntimezone = \"Asia/Tokyo\"\nnetworks = [\"10.1.0.0/16\"]\n{extra_site_fields}\n{rest}"
    )
}

#[test]
fn unknown_key_names_its_line() {
    let e = error_of(&with("colour = \"blue\"", ""));
    assert!(e.starts_with("org.toml:9:"), "{e}");
    assert!(e.contains("colour"), "{e}");
}

#[test]
fn bad_time_zone_names_its_line() {
    let text = "[org]\nname = \"X\"\n[[site]]\nid = \"a\"\ncountry = \"JP\"\ntimezone = \"Asia/Tokio\"\nnetworks = [\"10.1.0.0/16\"]\n";
    let e = error_of(text);
    assert!(e.starts_with("org.toml:6:"), "{e}");
    assert!(e.contains("Asia/Tokio"), "{e}");
}

#[test]
fn bad_cidr_names_its_line() {
    let text = "[org]\nname = \"X\"\n[[site]]\nid = \"a\"\ncountry = \"JP\"\ntimezone = \"Asia/Tokyo\"\nnetworks = [\n  \"10.1.0.0/16\",\n  \"10.300.0.0/16\",\n]\n";
    let e = error_of(text);
    assert!(e.starts_with("org.toml:9:"), "{e}");
    let host_bits = error_of(&text.replace("10.300.0.0/16", "10.2.0.1/16"));
    assert!(
        host_bits.contains("did you mean 10.2.0.0/16"),
        "{host_bits}"
    );
}

#[test]
fn overlapping_site_networks_name_both_sites() {
    let e = error_of(&with(
        "",
        "[[site]]\nid = \"b\"\ncountry = \"TH\"\ntimezone = \"Asia/Bangkok\"\nnetworks = [\"10.1.128.0/17\"]\n",
    ));
    assert!(e.starts_with("org.toml:14:"), "{e}");
    assert!(e.contains("overlaps 10.1.0.0/16 of site `a`"), "{e}");
}

#[test]
fn unknown_site_references_name_their_line() {
    let asset = error_of(&with(
        "",
        "[[asset]]\nname = \"fs\"\nsite = \"nowhere\"\naddresses = [\"10.1.0.5\"]\n",
    ));
    assert!(asset.starts_with("org.toml:12:"), "{asset}");
    let rule = error_of(&with(
        "",
        "[[policy.rule]]\nname = \"r\"\nfrom = { site = \"a\" }\nto = { site = \"zz\" }\naction = \"deny\"\n",
    ));
    assert!(rule.starts_with("org.toml:13:"), "{rule}");
    assert!(rule.contains("unknown site `zz`"), "{rule}");
    let sensor = error_of(&with("", "[[sensor]]\nname = \"s\"\nsites = [\"b\"]\n"));
    assert!(sensor.starts_with("org.toml:12:"), "{sensor}");
}

#[test]
fn asset_outside_its_site_and_bad_policy_values_are_refused() {
    let outside = error_of(&with(
        "",
        "[[asset]]\nname = \"fs\"\nsite = \"a\"\naddresses = [\"10.9.0.5\"]\n",
    ));
    assert!(
        outside.contains("outside the networks of its site `a`"),
        "{outside}"
    );
    let action = error_of(&with(
        "",
        "[[policy.rule]]\nname = \"r\"\nfrom = { any = true }\nto = { external = true }\naction = \"block\"\n",
    ));
    assert!(action.starts_with("org.toml:14:"), "{action}");
    let service = error_of(&with(
        "",
        "[[policy.rule]]\nname = \"r\"\nfrom = { any = true }\nto = { any = true }\nservices = [\"rdpp\"]\naction = \"deny\"\n",
    ));
    assert!(service.contains("unknown service `rdpp`"), "{service}");
    let empty_selector = error_of(&with(
        "",
        "[[policy.rule]]\nname = \"r\"\nfrom = {}\nto = { any = true }\naction = \"deny\"\n",
    ));
    assert!(
        empty_selector.starts_with("org.toml:12:"),
        "{empty_selector}"
    );
}

#[test]
fn syntax_error_names_its_line() {
    let e = error_of("[org]\nname = \"X\"\n[[site]\n");
    assert!(e.starts_with("org.toml:3:"), "{e}");
}

#[test]
fn locate_returns_nothing_for_addresses_outside_the_org() {
    let org = org();
    for ip in ["192.168.1.1", "10.30.0.1", "2001:db8:11::1", "::1"] {
        let ip: IpAddr = ip.parse().unwrap();
        assert_eq!(org.locate(ip).site, None, "{ip}");
    }
}

#[test]
fn off_hours_keyword_is_the_complement_of_business_hours() {
    let text = EXAMPLE.replace("during = \"business-hours\"", "during = \"off-hours\"");
    let org = Org::from_toml(&text, "org.toml").unwrap();
    let mut e = Enricher::new(&org);
    // 21:00 in Bangkok: off hours, so the (now off-hours) allow rule matches.
    let night = e.enrich(&flow(
        "10.20.3.4",
        "10.10.9.9",
        443,
        Service::Https,
        1_715_781_600,
    ));
    assert_eq!(
        (night.verdict.action, night.verdict.rule),
        (Action::Allow, Some(2))
    );
    // 10:00 in Bangkok: business hours, the rule does not match, the default applies.
    let day = e.enrich(&flow(
        "10.20.3.4",
        "10.10.9.9",
        443,
        Service::Https,
        1_715_742_000,
    ));
    assert_eq!(
        (day.verdict.action, day.verdict.rule),
        (Action::Alert, None)
    );
}

#[test]
fn lookups_at_the_ends_of_the_v4_space_and_nested_assets() {
    let text = r#"
[org]
name = "Edges"
[[site]]
id = "low"
country = "JP"
timezone = "UTC"
networks = ["0.0.0.0/8"]
[[site]]
id = "high"
country = "JP"
timezone = "UTC"
networks = ["255.255.255.0/24"]
[[asset]]
name = "top"
site = "high"
addresses = ["255.255.255.255"]
[[asset]]
name = "net"
site = "low"
networks = ["0.0.1.0/24"]
[[asset]]
name = "host-in-net"
site = "low"
addresses = ["0.0.1.7"]
"#;
    let org = Org::from_toml(text, "edges.toml").unwrap();
    let name = |ip: &str| {
        let l = org.locate(ip.parse().unwrap());
        l.asset
            .map(|a| org.asset(a).name.clone())
            .or_else(|| l.site.map(|s| org.site(s).id.clone()))
    };
    assert_eq!(name("0.0.0.0").as_deref(), Some("low"));
    assert_eq!(name("0.0.1.6").as_deref(), Some("net"));
    assert_eq!(name("0.0.1.7").as_deref(), Some("host-in-net"));
    assert_eq!(name("0.0.1.8").as_deref(), Some("net"));
    assert_eq!(name("0.0.2.0").as_deref(), Some("low"));
    assert_eq!(name("1.0.0.0"), None);
    assert_eq!(name("255.255.254.255"), None);
    assert_eq!(name("255.255.255.254").as_deref(), Some("high"));
    assert_eq!(name("255.255.255.255").as_deref(), Some("top"));
}
