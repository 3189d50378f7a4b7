//! The registry: stable ids, one documented file per detector, settings that switch off.

mod common;

use common::*;
use sekisho_detect::REGISTRY;

#[test]
fn ids_are_stable_unique_and_built_in_registry_order() {
    let ids: Vec<&str> = REGISTRY.iter().map(|s| s.id).collect();
    assert_eq!(
        ids,
        [
            "policy-deny",
            "policy-alert",
            "first-seen-crossing",
            "off-hours-crossing",
            "pivot-chain",
            "fan-out",
            "bulk-transfer",
            "beacon",
            "sensor-gap",
        ]
    );
    let org = org();
    let built: Vec<&str> = sekisho_detect::build_all(&org)
        .iter()
        .map(|d| d.id())
        .collect();
    assert_eq!(built, ids);
    for s in REGISTRY {
        assert!(s.attack.is_some_and(|a| a.starts_with('T')), "{}", s.id);
        assert!(!s.title.is_empty(), "{}", s.id);
    }
}

#[test]
fn every_detector_file_opens_with_the_documentation_template() {
    let files = [
        include_str!("../src/detectors/policy.rs"),
        include_str!("../src/detectors/first_seen.rs"),
        include_str!("../src/detectors/off_hours.rs"),
        include_str!("../src/detectors/pivot.rs"),
        include_str!("../src/detectors/fan_out.rs"),
        include_str!("../src/detectors/bulk.rs"),
        include_str!("../src/detectors/beacon.rs"),
        include_str!("../src/detectors/sensor_gap.rs"),
    ];
    for text in files {
        let head: String = text
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut at = 0;
        for section in [
            "**What it does.**",
            "**Why it matters.**",
            "**Example.**",
            "**Known false positives.**",
            "**ATT&CK.**",
        ] {
            let pos = head[at..]
                .find(section)
                .unwrap_or_else(|| panic!("{section} missing or out of order in:\n{head}"));
            at += pos;
        }
    }
}

#[test]
fn disabled_detectors_are_not_built() {
    let org = org_with(
        "[detectors.first_seen_crossing]\nenabled = false\n\
         [detectors.off_hours_crossing]\nenabled = false\n\
         [detectors.pivot_chain]\nenabled = false\n\
         [detectors.fan_out]\nenabled = false\n\
         [detectors.bulk_transfer]\nenabled = false\n\
         [detectors.beacon]\nenabled = false\n\
         [detectors.sensor_gap]\nenabled = false\n",
    );
    let built: Vec<&str> = sekisho_detect::build_all(&org)
        .iter()
        .map(|d| d.id())
        .collect();
    assert_eq!(built, ["policy-deny", "policy-alert"]);
}
