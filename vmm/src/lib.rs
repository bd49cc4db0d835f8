//! Guest management core: the policy half of running guests, with no hardware in it.
//!
//! - [`partition`]: carving guests' RAM partitions out of the machine's RAM (contiguous,
//!   aligned, never overlapping each other or the hypervisor).
//! - [`sched`]: which guest runs next (round-robin with a time slice; guests waiting for an
//!   interrupt cost nothing until it is due).
//! - [`ring`]: byte rings for guest console traffic.
//! - [`lifecycle`]: a guest's states as `/metarouter print` shows them, and the legal moves
//!   between them.
//!
//! The hypervisor's arch layer does the mechanism (world switch, TLB, timer programming) and
//! asks these modules what to do. Everything here is tested on the host.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod lifecycle;
pub mod partition;
pub mod ring;
pub mod sched;

/// Most guests the hypervisor (and the management plane) will define at once.
pub const MAX_GUESTS: usize = 16;

/// Slot of a guest in the hypervisor's guest table (0..[`MAX_GUESTS`]). Chosen by the management
/// plane when a virtual machine is added and stable while it exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GuestId(pub u8);

impl GuestId {
    /// The slot as an index into the guest table.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}
