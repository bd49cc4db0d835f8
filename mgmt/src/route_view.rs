//! The configuration's RIB as the data plane's route source: the hypervisor's frame loop
//! routes every packet with [`RouteView`] (lent for one pass, `vmm::Manager::service_routing`).
//!
//! The data plane names interfaces by their place in the host's interface list
//! ([`crate::network_derive::interface_order`], the `IfaceId`s of the host IP and of the
//! forwarding path); the RIB by its own stable ids ([`crate::rib_state`]). [`HostIndex`] maps
//! between the two and is rebuilt whenever the interfaces change; a decision for an interface
//! the host does not have (none in the list) names [`NOT_HOSTS`], which the forwarding path
//! drops and counts. The view's generation is the RIB's, which the map's rebuilding bumps too,
//! so the forwarding path's flow cache never outlives either.

use alloc::vec::Vec;

use routing::{Decision, EcmpChoice, IfId, Packet, Rib};

use crate::config::Config;
use crate::network_derive::interface_order;
use crate::rib_state::RibState;

/// The interface a decision names when the host has no interface for the RIB's.
pub const NOT_HOSTS: IfId = IfId(u16::MAX);

/// The host's interface index of each RIB interface, and back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostIndex {
    /// The RIB id of the host's interface `n`.
    rib_of: Vec<IfId>,
    /// The host's index of RIB interface `n` (`u16::MAX`: none).
    host_of: Vec<u16>,
}

impl HostIndex {
    /// The map for `config`'s interfaces, whose RIB ids `rib_id` gives.
    pub fn build(config: &Config, rib_id: impl Fn(crate::config::IfaceRef) -> IfId) -> Self {
        let rib_of: Vec<IfId> = interface_order(config).into_iter().map(rib_id).collect();
        let len = rib_of
            .iter()
            .filter(|id| id.0 != u16::MAX)
            .map(|id| usize::from(id.0) + 1)
            .max()
            .unwrap_or(0);
        let mut host_of = alloc::vec![u16::MAX; len];
        for (n, id) in rib_of.iter().enumerate() {
            if let (Some(slot), Ok(n)) = (host_of.get_mut(usize::from(id.0)), u16::try_from(n)) {
                *slot = n;
            }
        }
        HostIndex { rib_of, host_of }
    }

    /// The RIB id of the host's interface `host`.
    pub fn rib(&self, host: IfId) -> Option<IfId> {
        self.rib_of.get(usize::from(host.0)).copied()
    }

    /// The host's interface of RIB interface `rib` ([`NOT_HOSTS`] when it has none).
    pub fn host(&self, rib: IfId) -> IfId {
        match self.host_of.get(usize::from(rib.0)) {
            Some(&n) if n != u16::MAX => IfId(n),
            _ => NOT_HOSTS,
        }
    }
}

/// The RIB, deciding for packets whose interfaces are named the host's way.
#[derive(Clone, Copy)]
pub struct RouteView<'a> {
    rib: &'a Rib,
    index: &'a HostIndex,
}

impl<'a> RouteView<'a> {
    /// The view of `state`.
    pub fn new(state: &'a RibState) -> Self {
        RouteView {
            rib: state.rib(),
            index: state.host_index(),
        }
    }
}

impl vmm::RouteSource for RouteView<'_> {
    fn decide(&self, packet: &Packet, ecmp: EcmpChoice) -> Decision {
        let packet = Packet {
            in_interface: packet.in_interface.and_then(|i| self.index.rib(i)),
            ..*packet
        };
        match self.rib.decide_ecmp(&packet, ecmp) {
            Decision::Forward {
                next_hop,
                interface,
            } => Decision::Forward {
                next_hop,
                interface: self.index.host(interface),
            },
            Decision::PointToPoint { interface } => Decision::PointToPoint {
                interface: self.index.host(interface),
            },
            other => other,
        }
    }

    /// The RIB's: it changes with every change to the RIB and whenever the map of interface
    /// ids is rebuilt (`RibState::sync_host_index`).
    fn generation(&self) -> Option<u64> {
        Some(self.rib.generation())
    }
}

#[cfg(test)]
mod tests {
    use vmm::RouteSource;

    use crate::config::Config;
    use crate::rib_state::RibState;

    /// The data plane keeps decisions while the view's generation stays: rebuilding the map
    /// of interface ids must change it, as a change of the RIB does.
    #[test]
    fn the_generation_changes_with_the_rib_and_with_the_interface_map() {
        let mut state = RibState::empty();
        let before = state.routes().generation().unwrap();
        state.sync_host_index(&Config::new(2));
        let after = state.routes().generation().unwrap();
        assert_ne!(before, after);
        assert_eq!(
            after,
            state.routes().generation().unwrap(),
            "stable while unchanged"
        );
    }
}
