//! NetFlow v5/v9/IPFIX as a [`DatagramDecoder`]: the decoder, then the pairer that joins
//! the two directions of a connection into one flow.

use crate::{DatagramDecoder, DecoderStatus};
use sekisho_event::Flow;
use sekisho_netflow::{Decoder, FlowRecord, Pairer, PairerConfig};
use std::net::SocketAddr;

/// NetFlow/IPFIX datagrams → bi-directional flows.
#[derive(Debug, Default)]
pub struct NetflowDecoder {
    decoder: Decoder,
    pairer: Pairer,
    records: Vec<FlowRecord>,
}

impl NetflowDecoder {
    pub fn new(pairing: PairerConfig) -> Self {
        Self {
            pairer: Pairer::new(pairing),
            ..Self::default()
        }
    }
}

impl DatagramDecoder for NetflowDecoder {
    fn decode(&mut self, exporter: SocketAddr, datagram: &[u8], flows: &mut Vec<Flow>) {
        self.records.clear();
        // A datagram with an unusable header is counted by the decoder under its reason.
        let _ = self.decoder.decode(exporter, datagram, &mut self.records);
        for r in &self.records {
            self.pairer.push(r, flows);
        }
    }

    fn flush(&mut self, flows: &mut Vec<Flow>) {
        self.decoder.finish();
        self.pairer.flush(flows);
    }

    fn status(&self) -> DecoderStatus {
        let stats = self.decoder.stats();
        let errors = stats
            .errors()
            .map(|(p, n)| (p.as_str().to_string(), n))
            .collect();
        DecoderStatus {
            records: stats.records,
            errors,
            sequence_gaps: self
                .decoder
                .exporters()
                .filter(|(_, e)| e.lost_datagrams + e.lost_records > 0)
                .map(|(addr, e)| (addr.to_string(), e.lost_datagrams + e.lost_records))
                .collect(),
        }
    }
}
