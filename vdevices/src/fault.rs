//! Why a queue stopped working, and the errors device calls return.
//!
//! A [`RingError`] is always the guest's fault: a pointer outside its RAM, a misaligned
//! descriptor, a `next` chain that loops. It kills only the queue it happened on (the queue is
//! then [`QueueStatus::Faulted`](crate::QueueStatus) until the guest creates it again); the
//! hypervisor logs the [`QueueFault`] and decides whether to stop the guest.

use crate::abi::QueueId;
use core::fmt;
use guest_mem::{Gva, MemError};

/// Which ring of a queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Guest to host.
    Tx,
    /// Host to guest.
    Rx,
}

impl Side {
    /// `"tx"` or `"rx"`.
    pub const fn name(self) -> &'static str {
        match self {
            Side::Tx => "tx",
            Side::Rx => "rx",
        }
    }
}

/// What is wrong with a guest's descriptor ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingError {
    /// A descriptor address (the ring head or a `next` link) is outside the RAM window,
    /// misaligned (descriptors are 16-byte aligned) or runs past 4 GiB.
    Descriptor(MemError),
    /// The buffer of the descriptor at `descriptor` is not inside the RAM window.
    Buffer {
        /// The descriptor that points at the bad buffer.
        descriptor: Gva,
        /// What is wrong with the buffer range.
        error: MemError,
    },
    /// Following `next` from the head enters a cycle that never returns to the head
    /// (found at attach time), or the chain was rewired later so that more links than the ring
    /// had were followed without meeting the head again.
    Loop {
        /// A descriptor on the offending cycle.
        at: Gva,
    },
    /// Following `next` from the head did not come back to it within `limit` descriptors.
    TooLong {
        /// The bound ([`MAX_RING_ENTRIES`](crate::abi::MAX_RING_ENTRIES)).
        limit: u32,
    },
}

impl fmt::Display for RingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RingError::Descriptor(e) => write!(f, "bad descriptor pointer: {e}"),
            RingError::Buffer { descriptor, error } => {
                write!(f, "descriptor {descriptor} has a bad buffer: {error}")
            }
            RingError::Loop { at } => {
                write!(f, "next chain loops at {at} without reaching the head")
            }
            RingError::TooLong { limit } => {
                write!(
                    f,
                    "next chain does not return to the head within {limit} descriptors"
                )
            }
        }
    }
}

/// A queue's fault: which queue, which ring, and what the guest got wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueFault {
    /// The queue that faulted.
    pub queue: QueueId,
    /// The ring that held the bad pointer.
    pub side: Side,
    /// What was wrong.
    pub error: RingError,
}

impl fmt::Display for QueueFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "queue {} ({}) {}: {}",
            self.queue.id(),
            self.queue.name(),
            self.side.name(),
            self.error
        )
    }
}

/// Why a device call did nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceError {
    /// The guest has not created this queue (or released it).
    NotOpen,
    /// The queue faulted during this very call (the guest's fault). Reported once; log it.
    Faulted(QueueFault),
    /// The queue faulted earlier and stays dead until the guest creates it again.
    Dead,
    /// A TX token that is not for the descriptor at the cursor: a hypervisor bug, nothing done.
    StaleToken,
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceError::NotOpen => write!(f, "queue not created by the guest"),
            DeviceError::Faulted(fault) => write!(f, "{fault}"),
            DeviceError::Dead => write!(f, "queue is faulted"),
            DeviceError::StaleToken => write!(f, "stale tx token"),
        }
    }
}
