//! Sigma rule text through the loader (YAML, conditions, modifiers, regexes) and the
//! compiled rules run on a record whose fields come from the same input. Nothing may
//! panic; a rule that does not load is a listed failure.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_detect::HostRules;
use sekisho_event::{HostEvent, HostEventKind, HostRecord, HostSource, Timestamp};
use sekisho_sigma::RuleSetBuilder;

fuzz_target!(|data: &[u8]| {
    // Rule text, then (after a NUL) `name=value` lines for the record.
    let (rule, fields) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let mut b = RuleSetBuilder::default();
    b.add_yaml(&String::from_utf8_lossy(rule), "fuzz.yml");
    let (rules, report) = b.build();
    assert_eq!(rules.len(), report.rules);
    let mut e = HostEvent::new(Timestamp::from_micros(0), HostSource::Evtx, HostEventKind::Other);
    e.event_id = Some(4624);
    e.channel = Some("Security".into());
    for line in String::from_utf8_lossy(fields).lines() {
        if let Some((n, v)) = line.split_once('=') {
            e.fields.push(n, v);
        }
    }
    let mut hits = Vec::new();
    rules.matches(&HostRecord::Event(e), &mut hits);
    assert!(hits.iter().all(|i| rules.rule(*i).is_some()));
});
