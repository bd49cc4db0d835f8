//! Virtual ethernet (queue 3, virq 3), as `mtveth.c` of the RouterOS guest: one queue for all
//! of the guest's interfaces, each frame prefixed with a big-endian `u16` interface id, id 0
//! carrying NEWIFACE/DELIFACE from the host. RX buffers are 1600 bytes (prefix included).
//!
//! [`Veth::init`] creates the queue once; the host then announces the configured interfaces.
//! Poll [`VethRx::receive`] when [`crate::event::VETH`] is pending: control messages update
//! [`VethRx::interfaces`] on the way, data frames of known interfaces are returned (the slot
//! goes back to the host when the [`RxFrame`] is dropped). [`VethTx::send`] fills the next
//! free TX slot in place.

use core::sync::atomic::{AtomicBool, Ordering};

use mr_proto::descriptor::{link_ring, RxCursor, TxCursor};
use mr_proto::veth::{
    finish_tx, parse_received, InterfaceChange, Interfaces, Received, ID_LEN, VETH_BUFFER_SIZE,
    VETH_QUEUE, VETH_VIRQ,
};

use crate::hypercall;
use crate::vdma::{Descriptor, DescriptorRing, DmaBuffer};

/// TX descriptors (and 1600-byte buffers).
pub const TX_SLOTS: usize = 32;
/// RX descriptors (and 1600-byte buffers).
pub const RX_SLOTS: usize = 32;
const BUF: usize = VETH_BUFFER_SIZE as usize;
const CHANGES: usize = 8;

static TX: [Descriptor; TX_SLOTS] = [const { Descriptor::new() }; TX_SLOTS];
static RX: [Descriptor; RX_SLOTS] = [const { Descriptor::new() }; RX_SLOTS];
static TX_BUFFERS: [DmaBuffer<BUF>; TX_SLOTS] = [const { DmaBuffer::new() }; TX_SLOTS];
static RX_BUFFERS: [DmaBuffer<BUF>; RX_SLOTS] = [const { DmaBuffer::new() }; RX_SLOTS];
static TAKEN: AtomicBool = AtomicBool::new(false);

/// Why virtual ethernet could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VethError {
    /// Guest bug: `init` was called twice.
    AlreadyInitialised,
    /// The host refused `vm_create_queue` with this result.
    Host(i32),
}

/// Why a frame was not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxError {
    /// All TX slots are still owned by the host.
    Busy,
    /// Caller error: the frame does not fit a 1600-byte buffer (with its 2-byte prefix).
    TooLong,
}

/// The queue, split into its receive and transmit halves.
pub struct Veth {
    /// Receive half.
    pub rx: VethRx,
    /// Transmit half.
    pub tx: VethTx,
}

impl Veth {
    /// Link the rings, post every RX buffer and create queue 3 (virq 3).
    pub fn init() -> Result<Self, VethError> {
        if TAKEN.swap(true, Ordering::Relaxed) {
            return Err(VethError::AlreadyInitialised);
        }
        link_ring(&DescriptorRing(&TX));
        link_ring(&DescriptorRing(&RX));
        let cursor = RxCursor::new(VETH_BUFFER_SIZE);
        for (i, b) in RX_BUFFERS.iter().enumerate() {
            cursor.post(&DescriptorRing(&RX), i, b.address());
        }
        let r = hypercall::vm_create_queue(VETH_QUEUE, Some(VETH_VIRQ), &TX, &RX);
        if r < 0 {
            return Err(VethError::Host(r));
        }
        Ok(Self {
            rx: VethRx {
                cursor,
                interfaces: Interfaces::new(),
                changes: [None; CHANGES],
                dropped: 0,
            },
            tx: VethTx {
                cursor: TxCursor::new(),
                sent: 0,
                busy: 0,
            },
        })
    }
}

/// The receive half.
pub struct VethRx {
    cursor: RxCursor,
    interfaces: Interfaces,
    changes: [Option<InterfaceChange>; CHANGES],
    dropped: u32,
}

impl VethRx {
    /// The interfaces the host announced.
    pub fn interfaces(&self) -> &Interfaces {
        &self.interfaces
    }

    /// The oldest interface change not taken yet (at most 8 are kept).
    pub fn take_change(&mut self) -> Option<InterfaceChange> {
        let first = self.changes[0].take();
        self.changes.rotate_left(1);
        first
    }

    /// Frames dropped: runts, bad control messages, unknown interfaces, host overruns.
    pub fn dropped(&self) -> u32 {
        self.dropped
    }

    /// The next data frame of any known interface, handling control messages on the way.
    pub fn receive(&mut self) -> Option<RxFrame<'_>> {
        self.receive_where(|_| true)
    }

    /// The next data frame of interface `id`, handling control messages and dropping frames of
    /// other interfaces on the way (`receive_on(0)` only handles control messages).
    pub fn receive_on(&mut self, id: u16) -> Option<RxFrame<'_>> {
        self.receive_where(|i| i == id)
    }

    fn receive_where(&mut self, wanted: impl Fn(u16) -> bool) -> Option<RxFrame<'_>> {
        let ring = DescriptorRing(&RX);
        loop {
            let filled = self.cursor.filled(&ring)?;
            if filled.overrun {
                self.dropped += 1;
                self.cursor.release(&ring);
                continue;
            }
            // SAFETY: DONE is set, so the guest owns this buffer until it is posted again.
            let bytes = unsafe { &RX_BUFFERS[filled.slot].bytes()[..filled.len as usize] };
            match parse_received(bytes) {
                Received::Frame { id, .. } if self.interfaces.mac(id).is_some() && wanted(id) => {
                    return Some(RxFrame {
                        rx: self,
                        slot: filled.slot,
                        id,
                        len: filled.len as usize,
                    });
                }
                Received::Control(msg) => {
                    let change = self.interfaces.apply(&msg);
                    if change != InterfaceChange::Ignored {
                        if let Some(free) = self.changes.iter_mut().find(|c| c.is_none()) {
                            *free = Some(change);
                        }
                    }
                }
                Received::Runt | Received::BadControl | Received::Frame { .. } => self.dropped += 1,
            }
            self.cursor.release(&ring);
        }
    }
}

/// A received frame; its slot is given back to the host when this is dropped.
pub struct RxFrame<'a> {
    rx: &'a mut VethRx,
    slot: usize,
    id: u16,
    len: usize,
}

impl RxFrame<'_> {
    /// The interface it arrived on.
    pub fn interface(&self) -> u16 {
        self.id
    }

    /// The Ethernet frame (no prefix, no FCS).
    pub fn data(&self) -> &[u8] {
        // SAFETY: the guest owns the slot until `drop` posts it again.
        unsafe { &RX_BUFFERS[self.slot].bytes()[ID_LEN..self.len] }
    }
}

impl Drop for RxFrame<'_> {
    fn drop(&mut self) {
        debug_assert_eq!(self.rx.cursor.slot(), self.slot);
        self.rx.cursor.release(&DescriptorRing(&RX));
    }
}

/// The transmit half.
pub struct VethTx {
    cursor: TxCursor,
    sent: u32,
    busy: u32,
}

impl VethTx {
    /// Whether a TX slot is free.
    pub fn can_send(&self) -> bool {
        self.cursor.free_slot(&DescriptorRing(&TX)).is_some()
    }

    /// Frames sent and frames refused because every slot was busy.
    pub fn counters(&self) -> (u32, u32) {
        (self.sent, self.busy)
    }

    /// Send a frame of `frame_len` bytes on interface `id`: `fill` writes the Ethernet frame
    /// (without FCS) into the slice it gets; short frames are zero-padded to 60 bytes.
    pub fn send<R>(
        &mut self,
        id: u16,
        frame_len: usize,
        fill: impl FnOnce(&mut [u8]) -> R,
    ) -> Result<R, TxError> {
        if ID_LEN + frame_len.max(mr_proto::veth::ETH_ZLEN) > BUF {
            return Err(TxError::TooLong);
        }
        let ring = DescriptorRing(&TX);
        let Some(slot) = self.cursor.free_slot(&ring) else {
            self.busy += 1;
            return Err(TxError::Busy);
        };
        // SAFETY: DONE is clear, so the guest owns this buffer; `&mut self` makes this the
        // only reference.
        let buf = unsafe { TX_BUFFERS[slot].bytes_mut() };
        let r = fill(&mut buf[ID_LEN..ID_LEN + frame_len]);
        let total = finish_tx(buf, id, frame_len).ok_or(TxError::TooLong)?;
        self.cursor
            .commit(&ring, TX_BUFFERS[slot].address(), total as u32);
        self.sent += 1;
        Ok(r)
    }
}
