//! The whole capture path over arbitrary bytes: format sniffing, the pcap/pcapng container
//! reader, the frame decoder for every link type and the flow table (with a tiny table and
//! short timeouts so eviction, expiry and active cuts are reached), plus the event conversion.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_pcap::{FlowConfig, LinkType, PcapFlows, decode_frame, looks_like_pcap};
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let _ = looks_like_pcap(data);
    // The decoder alone: the first byte picks the link type.
    if let Some((b, frame)) = data.split_first() {
        let link = [0u32, 1, 101, 108, 113, 228, 229, 276][*b as usize % 8];
        let _ = decode_frame(LinkType::from_linktype(link), 0, frame.len() as u32, frame);
    }
    let cfg = FlowConfig {
        max_flows: 4,
        udp_idle_us: 1_000,
        tcp_idle_us: 5_000,
        active_us: 10_000,
        close_delay_us: 100,
        ..FlowConfig::default()
    };
    let Ok(mut flows) = PcapFlows::new(data, cfg) else {
        return;
    };
    let sensor: Arc<str> = Arc::from("fuzz");
    let mut n = 0u64;
    while let Some(rec) = flows.next_flow() {
        let ev = rec.to_event(&sensor);
        assert!(ev.orig_pkts + ev.resp_pkts >= 1);
        n += 1;
    }
    let stats = flows.stats();
    assert!(n <= stats.packets_read);
});
