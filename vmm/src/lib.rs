//! Guest management, portable: everything about running guests that is not an instruction or a
//! register, tested on the host.
//!
//! - [`Manager`] ([`manager`]): the table of guests, their life cycle (define, start, shut
//!   down, reboot, faults), host-side device work and running them in turn; generic over the
//!   [`Machine`] it runs on and, through it, the guest CPU ([`GuestCpu`]).
//! - [`cpu`]: the guest-CPU trait each architecture implements (create with an entry state,
//!   run a slice and say why it ended, reset, inject the device interrupt, read its timer), the
//!   one [`RunExit`] and [`GuestHalt`], and the [`GuestEnv`] a running guest's traps reach.
//! - [`machine`]: what guest management needs from the machine (time, console state, log,
//!   RAM for partitions, the built-in guest).
//! - [`guest`]: one guest; its RAM is owned while it holds it and viewed only through borrows.
//! - [`image`]: loading a guest's kernel at boot, checking an import archive step by step.
//! - [`net`]: the switch between guests' virtual interfaces and the frame loop.
//! - [`ether`]: physical Ethernet ports as switch ports, and the walk of a received frame.
//! - [`vlan_port`]: VLAN interfaces of a port or vif that are bridge ports.
//! - [`host_link`]: where the host's own IP meets the switch and the ports (VLAN interfaces
//!   with addresses included).
//! - [`partition`]: carving guests' RAM partitions out of the machine's RAM.
//! - [`sched`]: which guest runs next (round-robin with a time slice; guests waiting for an
//!   interrupt cost nothing until it is due).
//! - [`ring`]: byte rings for guest console traffic.
//! - [`lifecycle`]: a guest's states as `/metarouter print` shows them, and the legal moves
//!   between them.
//!
//! The hypervisor's arch layer does the mechanism (world switch, TLB, timer programming); its
//! `vm` module implements [`Machine`] on the real hardware. The tests drive the same code with
//! a fake CPU (`tests/common`).
#![no_std]
#![forbid(unsafe_code)]
// Addresses and lengths narrow only where they are shown to fit (guest physical addresses are
// 36 bits wide on e500). Test fixtures narrow known-small values; the library is linted without
// them.
#![warn(clippy::cast_possible_truncation)]
#![cfg_attr(test, allow(clippy::cast_possible_truncation))]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod cpu;
pub mod ether;
pub mod frame_queue;
pub mod guest;
pub mod host_link;
pub mod image;
pub mod image_files;
pub mod lifecycle;
pub mod machine;
pub mod manager;
pub mod net;
pub mod partition;
pub mod ring;
pub mod routed;
mod run;
pub mod sched;
pub mod vlan_port;

pub use cpu::{CpuError, EntryState, GuestCpu, GuestEnv, GuestHalt, RunExit};
pub use ether::{EtherPort, EtherPortPlan, PortCounters};
pub use forward;
pub use forward::RouteSource;
pub use guest::{GuestReport, GuestSpec};
pub use host_link::{HostAttach, HostPlan};
pub use hostip;
pub use machine::Machine;
pub use manager::Manager;
pub use net::{BridgePortPlan, NetworkPlan, VifPlan};
pub use vlan_port::{VlanParent, VlanPortPlan};

/// Most guests the hypervisor (and the management plane) will define at once.
pub const MAX_GUESTS: usize = 16;

/// Slot of a guest in the hypervisor's guest table (0..[`MAX_GUESTS`]). Chosen by the management
/// plane when a virtual machine is added and stable while it exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GuestId(pub u8);

// Every slot has a `GuestId`.
const _: () = assert!(MAX_GUESTS <= 1 << u8::BITS);

impl GuestId {
    /// The slot as an index into the guest table.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// Every slot, in table order. A plain range of indexes: the main loop walks it several
    /// times a pass (`(0..=u8::MAX).take(..)` was an out-of-line `RangeInclusive` step each).
    #[inline]
    pub fn all() -> impl Iterator<Item = GuestId> {
        // Each index fits a u8 (the assertion above).
        #[allow(clippy::cast_possible_truncation)]
        (0..MAX_GUESTS).map(|i| GuestId(i as u8))
    }
}

/// Why a request about a guest failed; each says who is to blame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestError {
    /// Not enough free guest RAM (the user asked for more than there is).
    OutOfMemory,
    /// The guest slot is not defined (a management-plane bug).
    NoSuchGuest,
    /// The request does not fit the guest's current state (e.g. start while running).
    WrongState,
    /// The named file is not in the file store.
    NoSuchFile,
    /// The image is not a valid guest image (the file's fault).
    BadImage,
    /// The guest's disk quota is too small for the image.
    DiskFull,
    /// This machine cannot run guests (yet).
    Unsupported,
}

/// Progress of an image import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportStatus {
    /// Still working; percent done (0..=100).
    Working(u8),
    /// Finished; the guest's disk now holds the image.
    Done,
    /// Gave up; the guest's disk is as it was.
    Failed(GuestError),
}
