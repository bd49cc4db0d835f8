//! The simulated network for the host's own IP: the host's endpoint (the same `hostip` code the
//! hypervisor runs) and, for each running guest model given an address on its console
//! (`ip A.B.C.D/N`), a peer endpoint on its first vif that answers ARP and ping as netguest
//! does. Frames go straight between them: the host's frames on a vif to that vif's guest, on a
//! bridge to the guests of its vif ports; a guest's frames to the host on its vif, or on the
//! bridge the vif is a port of. Delivery takes no time, so round trips are 0 ms. Each peer also
//! runs a TFTP server on port 69 (`crate::tftp_server`), for `/tool fetch`.

use mgmt::hostip::{AddrConfig, ArpMode, FrameSink, HostIp, IfaceConfig, IfaceId};
use mgmt::network::{NetInterfaceKind, NetworkConfig};
use mgmt::{GuestId, MAX_GUESTS};

use crate::tftp_server::TftpServer;

#[derive(Default)]
struct Outbox(Vec<(IfaceId, Vec<u8>)>);

impl FrameSink for Outbox {
    fn send(&mut self, iface: IfaceId, frame: &[u8]) {
        self.0.push((iface, frame.to_vec()));
    }
}

/// The host's endpoint and the guests' peers.
#[derive(Clone)]
pub struct SimNet {
    pub host: Box<HostIp>,
    /// A guest's peer endpoint, on the interface id of its first vif, and its TFTP server.
    peers: Vec<Option<(IfaceId, Box<HostIp>)>>,
    servers: Vec<TftpServer>,
    addresses: Vec<Option<([u8; 4], u8)>>,
    network: NetworkConfig,
}

impl Default for SimNet {
    fn default() -> Self {
        SimNet {
            host: Box::new(HostIp::new()),
            peers: (0..MAX_GUESTS).map(|_| None).collect(),
            servers: vec![TftpServer::default(); MAX_GUESTS],
            addresses: vec![None; MAX_GUESTS],
            network: NetworkConfig::default(),
        }
    }
}

impl SimNet {
    /// The network changed.
    pub fn apply(&mut self, network: &NetworkConfig) {
        self.network = network.clone();
        let (ifaces, addrs) = network.host_ip();
        let _ = self.host.configure(&ifaces, &addrs);
        self.host.set_static_arp(&network.host_static_arp());
    }

    /// Guest `id` is running with `address` (or not: `None`); a peer whose address and vif
    /// are unchanged keeps its tables.
    pub fn set_peer_if_changed(&mut self, id: GuestId, address: Option<([u8; 4], u8)>) {
        let current = self.peers[id.index()].as_ref().map(|(iface, peer)| {
            (
                *iface,
                peer.interfaces().first().map(|i| i.mac),
                self.addresses[id.index()],
            )
        });
        let wanted = self
            .vif_of(id)
            .map(|(i, mac)| (IfaceId(i as u16), Some(mac), address));
        if address.is_none() {
            self.peers[id.index()] = None;
        } else if current != wanted {
            self.set_peer(id, address);
        }
        self.addresses[id.index()] = address;
    }

    fn vif_of(&self, id: GuestId) -> Option<(usize, [u8; 6])> {
        self.network
            .interfaces
            .iter()
            .enumerate()
            .find_map(|(i, iface)| match iface.kind {
                NetInterfaceKind::Vif { link } if link.guest == id && iface.enabled => {
                    Some((i, link.guest_mac))
                }
                _ => None,
            })
    }

    /// Guest `id` is running with `address` (or not: `None`).
    fn set_peer(&mut self, id: GuestId, address: Option<([u8; 4], u8)>) {
        let vif = self.vif_of(id);
        self.peers[id.index()] = match (address, vif) {
            (Some((addr, len)), Some((index, mac))) => {
                let iface = IfaceId(index as u16);
                let mut peer = HostIp::new();
                peer.udp_bind(69);
                self.servers[id.index()] = TftpServer::default();
                let _ = peer.configure(
                    &[IfaceConfig {
                        id: iface,
                        mac,
                        arp: ArpMode::Enabled,
                        mtu: 1500,
                    }],
                    &[AddrConfig {
                        iface,
                        addr: addr.into(),
                        prefix_len: len,
                    }],
                );
                Some((iface, Box::new(peer)))
            }
            _ => None,
        };
    }

    /// Time passes (microseconds): every endpoint is polled and frames are carried until none
    /// is left.
    pub fn run(&mut self, now: u64) {
        let mut to_guests = Outbox::default();
        self.host.poll(now, &mut to_guests);
        let mut to_host = Outbox::default();
        for (_, peer) in self.peers.iter_mut().flatten() {
            peer.poll(now, &mut to_host);
        }
        for _ in 0..100 {
            if to_guests.0.is_empty() && to_host.0.is_empty() {
                break;
            }
            for (iface, frame) in core::mem::take(&mut to_guests.0) {
                for (peer_iface, peer) in self.peers.iter_mut().flatten() {
                    if reaches(&self.network, iface, *peer_iface) {
                        peer.receive(now, *peer_iface, &frame, &mut to_host);
                    }
                }
            }
            for (iface, frame) in core::mem::take(&mut to_host.0) {
                let host_iface = bridge_of(&self.network, iface).unwrap_or(iface);
                self.host.receive(now, host_iface, &frame, &mut to_guests);
            }
            // The guests' TFTP servers answer what reached them; the host sends what its
            // client queued.
            let mut buf = [0u8; 1500];
            for (peer, server) in self.peers.iter_mut().zip(&mut self.servers) {
                let Some((_, peer)) = peer else { continue };
                while let Some(d) = peer.udp_recv(&mut buf) {
                    if let Some(answer) = server.handle(d.port, &buf[..d.len]) {
                        let _ = peer.udp_send(now, d.from, d.port, &answer);
                    }
                }
                peer.poll(now, &mut to_host);
            }
            self.host.poll(now, &mut to_guests);
        }
    }
}

/// The bridge vif `iface` is a port of.
fn bridge_of(network: &NetworkConfig, iface: IfaceId) -> Option<IfaceId> {
    network
        .bridge_ports
        .iter()
        .find(|p| p.interface == usize::from(iface.0))
        .map(|p| IfaceId(p.bridge as u16))
}

/// Whether the host's frames on `host_iface` reach vif `vif`.
fn reaches(network: &NetworkConfig, host_iface: IfaceId, vif: IfaceId) -> bool {
    match bridge_of(network, vif) {
        Some(bridge) => bridge == host_iface,
        None => host_iface == vif,
    }
}
