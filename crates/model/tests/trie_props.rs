//! The prefix-trie lookup agrees with a linear longest-prefix scan for any address.

use ipnet::IpNet;
use proptest::prelude::*;
use sekisho_model::Org;
use std::net::{IpAddr, Ipv4Addr};

fn org_with(nets: &[(u8, u8)]) -> (Org, Vec<(String, IpNet)>) {
    // One site per /16 under 10.x, with /24 assets inside some of them.
    let mut text = String::from("[org]\nname = \"P\"\n");
    let mut expect = Vec::new();
    for (i, (b, asset)) in nets.iter().enumerate() {
        let net: IpNet = format!("10.{b}.0.0/16").parse().unwrap();
        text += &format!(
            "[[site]]\nid = \"s{i}\"\ncountry = \"JP\"\ntimezone = \"UTC\"\nnetworks = [\"{net}\"]\n"
        );
        expect.push((format!("s{i}"), net));
        let anet: IpNet = format!("10.{b}.{asset}.0/24").parse().unwrap();
        text += &format!("[[asset]]\nname = \"a{i}\"\nsite = \"s{i}\"\nnetworks = [\"{anet}\"]\n");
        expect.push((format!("a{i}"), anet));
    }
    (Org::from_toml(&text, "p.toml").unwrap(), expect)
}

proptest! {
    #[test]
    fn trie_agrees_with_linear_scan(
        seconds in proptest::collection::btree_map(0u8..=255, 0u8..=255, 1..12),
        probes in proptest::collection::vec((0u8..=255, 0u8..=255, 0u8..=255), 1..64),
    ) {
        let nets: Vec<(u8, u8)> = seconds.into_iter().collect();
        let (org, expect) = org_with(&nets);
        for (b, c, d) in probes {
            let ip = IpAddr::V4(Ipv4Addr::new(10, b, c, d));
            let best = expect
                .iter()
                .filter(|(_, n)| n.contains(&ip))
                .max_by_key(|(_, n)| n.prefix_len())
                .map(|(name, _)| name.clone());
            let loc = org.locate(ip);
            let got = loc
                .asset
                .map(|a| org.asset(a).name.clone())
                .or_else(|| loc.site.map(|s| org.site(s).id.clone()));
            prop_assert_eq!(got, best);
        }
    }
}
