//! The ports of a named service.
//!
//! This is the one place where a policy's service names (`rdp`, `smb`, ...) become ports,
//! and it holds no table of its own: it is read off [`Service::from_port`], the function
//! that names the service of every flow the engine sees. So `rdp` exports as tcp/3389 and
//! udp/3389, `smb` as tcp/139 and tcp/445, `ssh` as tcp/22, `winrm` as tcp/5985-5986, and
//! a port added to `from_port` is exported without a change here.
//!
//! A firewall sees ports only: a flow that Zeek names by its protocol on another port
//! (ssh on 2222) is matched by the policy engine but not by the exported rule.

use sekisho_event::{Proto, Service};
use std::collections::HashMap;

/// Port ranges of every service, per protocol.
#[derive(Debug)]
pub(crate) struct PortTable {
    tcp: HashMap<Service, Vec<(u16, u16)>>,
    udp: HashMap<Service, Vec<(u16, u16)>>,
}

impl PortTable {
    /// Asks [`Service::from_port`] about every TCP and UDP port.
    pub fn build() -> Self {
        Self {
            tcp: ranges(Proto::Tcp),
            udp: ranges(Proto::Udp),
        }
    }

    pub fn tcp(&self, s: Service) -> &[(u16, u16)] {
        self.tcp.get(&s).map_or(&[], Vec::as_slice)
    }

    pub fn udp(&self, s: Service) -> &[(u16, u16)] {
        self.udp.get(&s).map_or(&[], Vec::as_slice)
    }
}

fn ranges(proto: Proto) -> HashMap<Service, Vec<(u16, u16)>> {
    let mut out: HashMap<Service, Vec<(u16, u16)>> = HashMap::new();
    for port in 0..=u16::MAX {
        let v = out.entry(Service::from_port(proto, port)).or_default();
        match v.last_mut() {
            Some(last) if u32::from(last.1) + 1 == u32::from(port) => last.1 = port,
            _ => v.push((port, port)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_services_export_their_well_known_ports() {
        let t = PortTable::build();
        assert_eq!(t.tcp(Service::Rdp), &[(3389, 3389)]);
        assert_eq!(t.udp(Service::Rdp), &[(3389, 3389)]);
        assert_eq!(t.tcp(Service::Smb), &[(139, 139), (445, 445)]);
        assert_eq!(t.udp(Service::Smb), &[] as &[(u16, u16)]);
        assert_eq!(t.tcp(Service::Ssh), &[(22, 22)]);
        assert_eq!(t.tcp(Service::Winrm), &[(5985, 5986)]);
        assert_eq!(t.tcp(Service::Vnc), &[(5900, 5903)]);
    }
}
