//! Address lookup agrees with a linear longest-prefix scan for any address, IPv4 and IPv6.

use ipnet::IpNet;
use proptest::prelude::*;
use sekisho_model::Org;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn org_with(nets: &[(u8, u8)]) -> (Org, Vec<(String, IpNet)>) {
    // One site per /16 under 10.x, with /24 assets inside some of them.
    org_of(
        nets,
        |b| format!("10.{b}.0.0/16"),
        |b, a| format!("10.{b}.{a}.0/24"),
    )
}

fn org_with_v6(nets: &[(u8, u8)]) -> (Org, Vec<(String, IpNet)>) {
    // One site per /32 under fd00::/16, with /48 assets inside.
    org_of(
        nets,
        |b| format!("fd00:{b:x}::/32"),
        |b, a| format!("fd00:{b:x}:{a:x}::/48"),
    )
}

fn org_of(
    nets: &[(u8, u8)],
    site_net: impl Fn(u8) -> String,
    asset_net: impl Fn(u8, u8) -> String,
) -> (Org, Vec<(String, IpNet)>) {
    let mut text = String::from("[org]\nname = \"P\"\n");
    let mut expect = Vec::new();
    for (i, &(b, asset)) in nets.iter().enumerate() {
        let net: IpNet = site_net(b).parse().unwrap();
        text += &format!(
            "[[site]]\nid = \"s{i}\"\ncountry = \"JP\"\ntimezone = \"UTC\"\nnetworks = [\"{net}\"]\n"
        );
        expect.push((format!("s{i}"), net));
        let anet: IpNet = asset_net(b, asset).parse().unwrap();
        text += &format!("[[asset]]\nname = \"a{i}\"\nsite = \"s{i}\"\nnetworks = [\"{anet}\"]\n");
        expect.push((format!("a{i}"), anet));
    }
    (Org::from_toml(&text, "p.toml").unwrap(), expect)
}

/// What a linear scan of `expect` finds for `ip`, and what the org's lookup finds.
fn both(org: &Org, expect: &[(String, IpNet)], ip: IpAddr) -> (Option<String>, Option<String>) {
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
    (got, best)
}

proptest! {
    #[test]
    fn ipv6_lookup_agrees_with_linear_scan(
        seconds in proptest::collection::btree_map(0u8..=255, 0u8..=255, 1..12),
        probes in proptest::collection::vec((0u8..=255, 0u8..=255, any::<u64>(), 0u8..4), 1..64),
    ) {
        let nets: Vec<(u8, u8)> = seconds.into_iter().collect();
        let (org, expect) = org_with_v6(&nets);
        for (b, c, low, edge) in probes {
            let block48 = (0xfd00u128 << 112) | (u128::from(b) << 96) | (u128::from(c) << 80);
            let ones = |bits: u32| (1u128 << bits) - 1;
            let bits = match edge {
                // Somewhere in a /48, its first address, its last, the last of its /32.
                0 => block48 | u128::from(low),
                1 => block48,
                2 => block48 | ones(80),
                _ => block48 | ones(96),
            };
            let ip = IpAddr::V6(Ipv6Addr::from(bits));
            let (got, best) = both(&org, &expect, ip);
            prop_assert_eq!(got, best, "{}", ip);
        }
    }

    #[test]
    fn trie_agrees_with_linear_scan(
        seconds in proptest::collection::btree_map(0u8..=255, 0u8..=255, 1..12),
        probes in proptest::collection::vec((0u8..=255, 0u8..=255, 0u8..=255), 1..64),
    ) {
        let nets: Vec<(u8, u8)> = seconds.into_iter().collect();
        let (org, expect) = org_with(&nets);
        for (b, c, d) in probes {
            let ip = IpAddr::V4(Ipv4Addr::new(10, b, c, d));
            let (got, best) = both(&org, &expect, ip);
            prop_assert_eq!(got, best);
        }
    }
}
