//! The RIB's generation: a value that changes with every change to the RIB, so that a data
//! plane may keep decisions taken under one generation (the forwarding path's flow cache)
//! and drop them when it changes.
//!
//! Every change goes through `Rib::change` or `Rib::batch` (the public edits: interfaces,
//! addresses, routes, tables, rules), which bump it first, whether the change then succeeds
//! or not; [`Rib::bump_generation`] bumps it for what a decision depends on outside the RIB (a route
//! view's map of interface ids). A generation is the RIB's instance (a number taken from a
//! counter shared by every RIB made in the program) and its count of changes, so that a RIB
//! made afresh (a configuration loaded again) never shows a generation an earlier RIB showed.

use core::sync::atomic::{AtomicU32, Ordering};

use super::Rib;

/// The instance number the next RIB (or a RIB whose count wrapped) takes.
static INSTANCES: AtomicU32 = AtomicU32::new(0);

fn next_instance() -> u32 {
    INSTANCES.fetch_add(1, Ordering::Relaxed)
}

/// A RIB's instance and its changes.
#[derive(Clone, Copy, Debug)]
pub(super) struct Generation {
    instance: u32,
    changes: u32,
}

impl Generation {
    pub(super) fn new() -> Generation {
        Generation {
            instance: next_instance(),
            changes: 0,
        }
    }

    /// A change is being made.
    pub(super) fn bump(&mut self) {
        match self.changes.checked_add(1) {
            Some(n) => self.changes = n,
            None => *self = Generation::new(),
        }
    }

    fn value(self) -> u64 {
        u64::from(self.instance) << 32 | u64::from(self.changes)
    }
}

impl Rib {
    /// A value that differs after every change to the RIB (and between RIBs), for data planes
    /// that keep decisions (see the module's doc).
    pub fn generation(&self) -> u64 {
        self.generation.value()
    }

    /// Something the decisions seen through this RIB depend on changed outside it (a route
    /// view's map of interface ids): [`Rib::generation`] changes.
    pub fn bump_generation(&mut self) {
        self.generation.bump();
    }
}

#[cfg(test)]
mod tests {
    use crate::{AddressSpec, IfId, InterfaceState, Rib, RibConfig};

    #[test]
    fn every_change_and_every_new_rib_has_a_new_generation() {
        let mut rib = Rib::new(RibConfig::default());
        let other = Rib::new(RibConfig::default());
        assert_ne!(rib.generation(), other.generation());
        let g0 = rib.generation();
        rib.set_interface(
            IfId(1),
            InterfaceState {
                running: true,
                point_to_point: false,
            },
        )
        .unwrap();
        let g1 = rib.generation();
        assert_ne!(g0, g1);
        let refused = rib.remove_interface(IfId(9));
        assert!(refused.is_err());
        assert_ne!(
            rib.generation(),
            g1,
            "a refused change counts too (harmless)"
        );
        let g2 = rib.generation();
        rib.batch(|rib| {
            rib.add_address(AddressSpec {
                address: "10.0.0.1".parse().unwrap(),
                prefix_len: 24,
                interface: IfId(1),
                disabled: false,
                comment: None,
            })
        })
        .unwrap();
        assert_ne!(rib.generation(), g2);
        let g3 = rib.generation();
        rib.bump_generation();
        assert_ne!(rib.generation(), g3);
    }
}
