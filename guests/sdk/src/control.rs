//! The control channel (queue 0, virq 0): 4 buffers of 256 bytes each way, carrying
//! "restart" and "halt" (NUL included) in both directions, as the RouterOS guest's
//! `arch/mips/rb/vm/setup.c`.
//!
//! The host sends "restart"/"halt" to ask the guest to reboot or power off; the guest sends
//! them when it reboots or halts itself, and the host then restarts or stops it.

use mr_proto::control::{
    ControlMessage, CONTROL_BUFFERS, CONTROL_BUFFER_SIZE, CONTROL_QUEUE, CONTROL_VIRQ,
};
use mr_proto::descriptor::{link_ring, RxCursor, TxCursor};

use crate::arch::{self, irq};
use crate::cell::IrqCell;
use crate::hypercall;
use crate::vdma::{Descriptor, DescriptorRing, DmaBuffer};

const SIZE: usize = CONTROL_BUFFER_SIZE as usize;
/// Yields to wait for a free TX slot before giving up on a message.
pub const SEND_WAITS: u32 = 200;

static TX: [Descriptor; CONTROL_BUFFERS] = [const { Descriptor::new() }; CONTROL_BUFFERS];
static RX: [Descriptor; CONTROL_BUFFERS] = [const { Descriptor::new() }; CONTROL_BUFFERS];
static TX_BUFFERS: [DmaBuffer<SIZE>; CONTROL_BUFFERS] =
    [const { DmaBuffer::new() }; CONTROL_BUFFERS];
static RX_BUFFERS: [DmaBuffer<SIZE>; CONTROL_BUFFERS] =
    [const { DmaBuffer::new() }; CONTROL_BUFFERS];

struct Cursors {
    tx: TxCursor,
    rx: RxCursor,
    created: i32,
}

static STATE: IrqCell<Cursors> = IrqCell::new(Cursors {
    tx: TxCursor::new(),
    rx: RxCursor::new(CONTROL_BUFFER_SIZE),
    created: 0,
});

/// Link the rings, post the RX buffers and create queue 0.
pub(crate) fn init() {
    link_ring(&DescriptorRing(&TX));
    link_ring(&DescriptorRing(&RX));
    STATE.with(|s| {
        for (i, b) in RX_BUFFERS.iter().enumerate() {
            s.rx.post(&DescriptorRing(&RX), i, b.address());
        }
        s.created = hypercall::vm_create_queue(CONTROL_QUEUE, Some(CONTROL_VIRQ), &TX, &RX);
    });
}

/// What `vm_create_queue` returned for the control queue.
pub fn create_result() -> i32 {
    STATE.with(|s| s.created)
}

/// Send a message; false if no TX slot became free in time.
pub fn send(msg: ControlMessage) -> bool {
    let wire = msg.wire();
    for _ in 0..=SEND_WAITS {
        let sent = STATE.with(|s| {
            let ring = DescriptorRing(&TX);
            let slot = s.tx.free_slot(&ring)?;
            // SAFETY: DONE is clear, so the guest owns this buffer; interrupts are off.
            unsafe { TX_BUFFERS[slot].bytes_mut()[..wire.len()].copy_from_slice(wire) };
            s.tx.commit(&ring, TX_BUFFERS[slot].address(), wire.len() as u32);
            Some(())
        });
        if sent.is_some() {
            return true;
        }
        arch::yield_now();
    }
    false
}

/// The next message from the host, if one arrived (unrecognised messages are dropped).
pub fn poll() -> Option<ControlMessage> {
    STATE.with(|s| {
        let ring = DescriptorRing(&RX);
        while let Some(filled) = s.rx.filled(&ring) {
            // SAFETY: DONE is set, so the guest owns this buffer until it is posted again.
            let bytes = unsafe { &RX_BUFFERS[filled.slot].bytes()[..filled.len as usize] };
            let msg = ControlMessage::parse(bytes);
            s.rx.release(&ring);
            if msg.is_some() {
                return msg;
            }
        }
        None
    })
}

/// Tell the host the guest halts, then stop for good (interrupts off, yielding forever).
pub fn halt() -> ! {
    send(ControlMessage::Halt);
    stop()
}

/// Tell the host the guest reboots, then wait for it to restart the guest.
pub fn reboot() -> ! {
    send(ControlMessage::Restart);
    stop()
}

/// Interrupts off, `wait` forever (the host stops or restarts the guest).
pub fn stop() -> ! {
    irq::disable();
    loop {
        arch::yield_now();
    }
}
