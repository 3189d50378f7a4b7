//! The same input gives the same alerts; so does the same input read a little out of order.

mod common;

use common::*;
use proptest::prelude::*;
use sekisho_event::{Alert, AppContext, Flow, Timestamp};

fn story_alerts(flows: &[Flow], contexts: &[(usize, AppContext)]) -> Vec<Alert> {
    let org = org_with(STORY_SETTINGS);
    run_with_context(&org, &[], flows, contexts)
}

#[test]
fn the_same_input_twice_gives_identical_alerts_in_identical_order() {
    let (flows, contexts) = story();
    let a = story_alerts(&flows, &contexts);
    let b = story_alerts(&flows, &contexts);
    assert_eq!(a.len(), 13);
    assert_eq!(a, b);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

/// Reads the flows in the order of (time + a delay of up to a minute), so records within a
/// minute of each other, and records with equal times, come in shuffled.
fn jumbled(
    flows: &[Flow],
    contexts: &[(usize, AppContext)],
    delays: &[u32],
) -> (Vec<Flow>, Vec<(usize, AppContext)>) {
    let mut order: Vec<usize> = (0..flows.len()).collect();
    order.sort_by_key(|&i| {
        let delay = i64::from(delays[i % delays.len()] % 60_001) * 1_000;
        (
            flows[i].ts.as_micros() + delay,
            delays[(i * 7) % delays.len()],
        )
    });
    let moved: Vec<Flow> = order.iter().map(|&i| flows[i].clone()).collect();
    let ctx = contexts
        .iter()
        .map(|(i, c)| (order.iter().position(|j| j == i).unwrap(), c.clone()))
        .collect();
    (moved, ctx)
}

fn stable(alerts: &[Alert]) -> Vec<&Alert> {
    alerts.iter().filter(|a| a.detector != "fan-out").collect()
}

fn scan_identity(alerts: &[Alert]) -> Vec<String> {
    of(alerts, "fan-out")
        .iter()
        .map(|a| {
            format!(
                "{} {:?} {:?} {:?} {:?} {:?} {} {}",
                a.severity,
                a.src,
                a.dst,
                a.service,
                a.dst_port,
                a.attack,
                a.flow_count,
                a.summary.split(" (e.g.").next().unwrap()
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn records_up_to_a_minute_out_of_order_give_the_same_alerts(
        delays in proptest::collection::vec(0u32..=60_000, 64..256)
    ) {
        let (flows, contexts) = story();
        let expected = story_alerts(&flows, &contexts);
        let (moved, ctx) = jumbled(&flows, &contexts, &delays);
        // Really out of order.
        prop_assert!(moved.windows(2).any(|w| w[1].ts < w[0].ts));
        prop_assert!(moved.windows(2).all(|w| w[1].ts.micros_since(w[0].ts) > -Timestamp::MINUTE - 1));
        let got = story_alerts(&moved, &ctx);
        // Every alert is the same, field for field, except fan-out's: it reports at the
        // attempt that reaches the threshold, and which attempt that is (and so its time,
        // evidence and sample of targets) depends on the order they came in.
        prop_assert_eq!(stable(&got), stable(&expected));
        prop_assert_eq!(scan_identity(&got), scan_identity(&expected));
        prop_assert_eq!(got.len(), 13);
    }
}
