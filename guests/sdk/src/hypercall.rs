//! The MetaROUTER hypercalls (numbers from the guest's `arch/mips/rb/vm/setup.c` and
//! `hvc_meta.c`/`mtveth.c`; 16 from the PowerPC guest).
//!
//! | nr | call |
//! |---|---|
//! | 4 | `vm_create_queue(id, irq, tx_ring, rx_ring)`: rings as guest-virtual descriptor addresses; `irq` = virq bit, or -1 for none |
//! | 5 | `vm_release_queue(id)` |
//! | 6 | `vm_running()`: 0 when virtualized (-22 on bare metal) |
//! | 14 | `vm_setup_irqs(&word, 32)`: the 32-bit pending-virq word |
//! | 16 | `vm_yield()` (PowerPC idle; MIPS guests use `wait`) |

use crate::arch::hypercall::call;
use crate::vdma::Descriptor;
use core::sync::atomic::AtomicU32;

/// `vm_create_queue`.
pub const CREATE_QUEUE: u32 = 4;
/// `vm_release_queue`.
pub const RELEASE_QUEUE: u32 = 5;
/// `vm_running`.
pub const RUNNING: u32 = 6;
/// `vm_setup_irqs`.
pub const SETUP_IRQS: u32 = 14;
/// `vm_yield`.
pub const YIELD: u32 = 16;
/// What every hypercall returns on bare metal (the preloaded `$v0`).
pub const EINVAL: i32 = -22;

/// `vm_running()`: 0 when the guest runs under a MetaROUTER host.
pub fn vm_running() -> i32 {
    // SAFETY: takes no memory.
    unsafe { call(RUNNING, 0, 0, 0, 0) }
}

/// `vm_create_queue(id, irq, tx, rx)` with rings the guest owns for the rest of its life.
pub fn vm_create_queue(
    id: u32,
    irq: Option<u32>,
    tx: &'static [Descriptor],
    rx: &'static [Descriptor],
) -> i32 {
    let irq = irq.unwrap_or(u32::MAX);
    let tx = tx.first().map_or(0, Descriptor::address);
    let rx = rx.first().map_or(0, Descriptor::address);
    // SAFETY: the rings are 'static and handed over for good; their buffers are the caller's
    // DMA buffers, which the host may write only through RX descriptors the caller posted.
    unsafe { call(CREATE_QUEUE, id, irq, tx, rx) }
}

/// `vm_release_queue(id)`.
pub fn vm_release_queue(id: u32) -> i32 {
    // SAFETY: takes no memory.
    unsafe { call(RELEASE_QUEUE, id, 0, 0, 0) }
}

/// `vm_setup_irqs(&word, 32)` with a word the guest owns for the rest of its life.
pub fn vm_setup_irqs(word: &'static AtomicU32) -> i32 {
    // SAFETY: the word is 'static and only read with atomic swaps by the guest.
    unsafe { call(SETUP_IRQS, word.as_ptr() as u32, 32, 0, 0) }
}

/// `vm_yield()`.
pub fn vm_yield() -> i32 {
    // SAFETY: takes no memory.
    unsafe { call(YIELD, 0, 0, 0, 0) }
}

/// Any hypercall with raw arguments.
///
/// # Safety
/// The host may read and write memory the arguments name: they must not point at memory Rust
/// code uses (or the caller must accept the consequences, as the isolation probes do with
/// addresses outside the guest's RAM).
pub unsafe fn raw(nr: u32, a0: u32, a1: u32, a2: u32, a3: u32) -> i32 {
    // SAFETY: forwarded.
    unsafe { call(nr, a0, a1, a2, a3) }
}
