//! A queue slot: absent, open (a TX ring, an RX ring and a virq bit), or faulted.
//!
//! Devices run every ring operation through [`Slot::run`], which turns the first
//! [`RingError`] into a [`QueueFault`] and drops the rings: a faulted queue never touches guest
//! memory again until the guest creates it anew. Other queues of the same guest are unaffected.

use crate::abi::{QueueId, MAX_RING_ENTRIES};
use crate::fault::{DeviceError, QueueFault, RingError, Side};
use crate::ring::Ring;
use guest_mem::{GuestRam, Gva};

/// The rings of an open queue and the virq bit it raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channel {
    /// Guest-to-host ring.
    pub tx: Ring,
    /// Host-to-guest ring.
    pub rx: Ring,
    /// Bit of the virq word to set when the guest has something to look at (`None`: polled).
    pub irq: Option<u8>,
}

/// A queue's state, as the hypervisor can inspect it.
// An explicit tag byte: the frame path tests it on every call, which is then one load and one
// compare instead of decoding a niche.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum QueueStatus {
    /// Not created (or released) by the guest.
    Absent,
    /// Working.
    Open(Channel),
    /// Stopped by a guest fault; the guest must create it again.
    Faulted(QueueFault),
}

/// A ring error tagged with the ring it happened on.
pub(crate) type SideError = (Side, RingError);

/// Tags ring results with their side: `ring_op.tx()?` inside [`Slot::run`].
pub(crate) trait OnSide<T> {
    fn tx(self) -> Result<T, SideError>;
    fn rx(self) -> Result<T, SideError>;
}

impl<T> OnSide<T> for Result<T, RingError> {
    #[inline]
    fn tx(self) -> Result<T, SideError> {
        self.map_err(|e| (Side::Tx, e))
    }
    #[inline]
    fn rx(self) -> Result<T, SideError> {
        self.map_err(|e| (Side::Rx, e))
    }
}

/// One queue of one guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    queue: QueueId,
    status: QueueStatus,
}

impl Slot {
    pub(crate) const fn new(queue: QueueId) -> Self {
        Self {
            queue,
            status: QueueStatus::Absent,
        }
    }

    pub(crate) fn status(&self) -> QueueStatus {
        self.status
    }

    /// Opens the queue on the guest's rings; on a bad ring the queue is faulted and the fault
    /// returned.
    pub(crate) fn open(
        &mut self,
        ram: &GuestRam<'_>,
        irq: Option<u8>,
        tx: Gva,
        rx: Gva,
    ) -> Result<(), QueueFault> {
        let rings = Ring::attach(ram, tx, MAX_RING_ENTRIES)
            .tx()
            .and_then(|tx| Ok((tx, Ring::attach(ram, rx, MAX_RING_ENTRIES).rx()?)));
        match rings {
            Ok((tx, rx)) => {
                self.status = QueueStatus::Open(Channel { tx, rx, irq });
                Ok(())
            }
            Err((side, error)) => {
                let fault = QueueFault {
                    queue: self.queue,
                    side,
                    error,
                };
                self.status = QueueStatus::Faulted(fault);
                Err(fault)
            }
        }
    }

    /// Forgets the queue; returns whether there was one.
    pub(crate) fn release(&mut self) -> bool {
        let existed = self.status != QueueStatus::Absent;
        self.status = QueueStatus::Absent;
        existed
    }

    pub(crate) fn is_open(&self) -> bool {
        matches!(self.status, QueueStatus::Open(_))
    }

    pub(crate) fn irq(&self) -> Option<u8> {
        match self.status {
            QueueStatus::Open(channel) => channel.irq,
            _ => None,
        }
    }

    /// The channel, if the queue is open (for fast paths that handle errors themselves with
    /// [`Slot::fault`] and [`Slot::closed`]).
    #[inline(always)]
    pub(crate) fn open_mut(&mut self) -> Option<&mut Channel> {
        match &mut self.status {
            QueueStatus::Open(channel) => Some(channel),
            _ => None,
        }
    }

    /// Faults the queue with `error` on `side`, as [`Slot::run`] does.
    #[cold]
    #[inline(never)]
    pub(crate) fn fault(&mut self, (side, error): SideError) -> DeviceError {
        let fault = QueueFault {
            queue: self.queue,
            side,
            error,
        };
        self.status = QueueStatus::Faulted(fault);
        DeviceError::Faulted(fault)
    }

    /// The error for an operation on a queue that is not open, as [`Slot::run`] gives it.
    #[cold]
    #[inline(never)]
    pub(crate) fn closed(&self) -> DeviceError {
        match self.status {
            QueueStatus::Faulted(_) => DeviceError::Dead,
            _ => DeviceError::NotOpen,
        }
    }

    /// Runs `op` on the open channel. A ring error faults this queue (and only this queue) and
    /// comes back as [`DeviceError::Faulted`].
    #[inline]
    pub(crate) fn run<T>(
        &mut self,
        op: impl FnOnce(&mut Channel) -> Result<T, SideError>,
    ) -> Result<T, DeviceError> {
        let Some(channel) = self.open_mut() else {
            return Err(self.closed());
        };
        match op(channel) {
            Ok(value) => Ok(value),
            Err(error) => Err(self.fault(error)),
        }
    }
}
