//! MIPS32r2 (24Kc) architecture layer: entry, exception vectors, CP0 timer, interrupt masking.
//!
//! The hypervisor runs in kernel mode from kseg0 with the exception base (EBase) pointing at its
//! own vector page. See `crate::arch` for the surface every arch provides.

mod commpage;
pub mod cp0;
pub mod dcache;
mod fast_cp0;
mod guest;
mod highmem;
mod start;
mod tlb;
pub mod trap;
mod vcpu;

pub use highmem::guest_ram_map;
pub use vcpu::GuestCpu;

use core::sync::atomic::{AtomicU32, Ordering};

pub use trap::TrapFrame;

/// The architecture's name.
pub const NAME: &str = "mips";

/// Registers at entry, as the boot loader left them. On QEMU malta: `a0 = argc`,
/// `a1 = argv`, `a2 = envp`, `a3 = low RAM size`; RouterBOOT passes argc/argv only.
#[derive(Clone, Copy, Debug)]
pub struct BootRegs {
    pub a0: u32,
    pub a1: u32,
    pub a2: u32,
    pub a3: u32,
}

/// Point EBase at the hypervisor's vectors and leave bootstrap exception vectors (BEV) mode;
/// start from a clean TLB (nothing wired, nothing the boot loader left).
pub fn install_vectors() {
    cp0::write_wired(0);
    tlb::flush_all();
    extern "C" {
        static __hv_vectors: u8;
    }
    // Only the symbol's address is used.
    let base = core::ptr::addr_of!(__hv_vectors) as u32;
    assert!(base & 0xFFF == 0, "exception vectors must be 4 KiB aligned");
    cp0::write_ebase(base);
    cp0::write_cause(0); // IV = 0: interrupts use the general vector.
    cp0::write_status(cp0::read_status() & !cp0::STATUS_BEV);
}

/// Enable interrupts (Status.IE).
pub fn interrupts_enable() {
    cp0::ei();
}

/// Disable interrupts; returns whether they were enabled.
pub fn interrupts_disable() -> bool {
    cp0::di() & cp0::STATUS_IE != 0
}

/// Restore the state [`interrupts_disable`] returned.
pub fn interrupts_restore(enabled: bool) {
    if enabled {
        cp0::ei();
    }
}

/// Unmask the hardware interrupt lines in `lines` (bit n = Cause.IP n, n in 2..=7).
pub fn unmask_external(lines: u32) {
    let im = (lines & 0xFC) << 8;
    cp0::write_status(cp0::read_status() | im);
}

// The 64-bit extension of the 32-bit Count register. Updated with interrupts off; the tick
// reads it more often than Count wraps (26 s at 160 MHz), so no wrap is ever missed.
static COUNT_HIGH: AtomicU32 = AtomicU32::new(0);
static COUNT_LAST: AtomicU32 = AtomicU32::new(0);

/// The free-running CPU timer: CP0 Count, extended to 64 bits.
pub fn counter() -> u64 {
    let was = interrupts_disable();
    let low = cp0::read_count();
    let mut high = COUNT_HIGH.load(Ordering::Relaxed);
    if low < COUNT_LAST.load(Ordering::Relaxed) {
        high = high.wrapping_add(1);
        COUNT_HIGH.store(high, Ordering::Relaxed);
    }
    COUNT_LAST.store(low, Ordering::Relaxed);
    interrupts_restore(was);
    (u64::from(high) << 32) | u64::from(low)
}

static TICK_PERIOD: AtomicU32 = AtomicU32::new(0);
/// Count value of the next host tick.
static NEXT_TICK: AtomicU32 = AtomicU32::new(0);
/// Count value of an extra deadline (a guest's timer), valid when HAS_DEADLINE is set.
static DEADLINE: AtomicU32 = AtomicU32::new(0);
static HAS_DEADLINE: AtomicU32 = AtomicU32::new(0);

/// Start the periodic tick: CP0 Compare on IP7, every `period` Count cycles.
pub fn timer_start(period: u64) {
    let period = u32::try_from(period).expect("tick period must fit CP0 Count");
    TICK_PERIOD.store(period, Ordering::Relaxed);
    NEXT_TICK.store(cp0::read_count().wrapping_add(period), Ordering::Relaxed);
    program_compare();
    unmask_external(1 << 7);
}

/// Also interrupt at `deadline` (an absolute [`counter`] value), or drop the extra deadline.
/// Used for guests' timers: the running guest's, or the earliest of the waiting ones.
pub fn timer_set_deadline(deadline: Option<u64>) {
    match deadline {
        Some(d) => {
            // Compare matches Count, the counter's low 32 bits.
            #[allow(clippy::cast_possible_truncation)]
            DEADLINE.store(d as u32, Ordering::Relaxed);
            HAS_DEADLINE.store(1, Ordering::Relaxed);
        }
        None => HAS_DEADLINE.store(0, Ordering::Relaxed),
    }
    program_compare();
}

/// [`timer_set_deadline`] relative to now: `cycles` from now.
pub(crate) fn timer_set_guest_deadline(cycles: Option<u32>) {
    match cycles {
        Some(c) => {
            DEADLINE.store(cp0::read_count().wrapping_add(c), Ordering::Relaxed);
            HAS_DEADLINE.store(1, Ordering::Relaxed);
        }
        None => HAS_DEADLINE.store(0, Ordering::Relaxed),
    }
    program_compare();
}

/// Compare = the earliest of the next tick and the extra deadline (never in the past).
///
/// Count keeps running between reading it and writing Compare, and under emulation that gap can
/// be long (the emulator's thread may be descheduled). A Compare written behind Count raises
/// nothing until Count wraps (27 s at 160 MHz), which would stop the tick; so after the write
/// Count is read again, and Compare is moved further out until it is still ahead.
fn program_compare() {
    let mut margin: u32 = 64;
    loop {
        let now = cp0::read_count();
        let tick = NEXT_TICK.load(Ordering::Relaxed);
        let mut target = tick;
        if HAS_DEADLINE.load(Ordering::Relaxed) != 0 {
            let d = DEADLINE.load(Ordering::Relaxed);
            if (d.wrapping_sub(now) as i32) < (tick.wrapping_sub(now) as i32) {
                target = d;
            }
        }
        // A deadline already passed (or too close to catch) fires shortly.
        if (target.wrapping_sub(now) as i32) < margin as i32 {
            target = now.wrapping_add(margin);
        }
        cp0::write_compare(target);
        if (target.wrapping_sub(cp0::read_count()) as i32) > 0 {
            return;
        }
        margin = margin.saturating_mul(4).min(1 << 20);
    }
}

/// The timer interrupt: run the host tick if it is due (skipping missed ticks) and re-arm.
/// Returns whether the host tick was due.
fn timer_interrupt() -> bool {
    let period = TICK_PERIOD.load(Ordering::Relaxed);
    let now = cp0::read_count();
    let mut next = NEXT_TICK.load(Ordering::Relaxed);
    let due = now.wrapping_sub(next) as i32 >= 0;
    if due {
        while now.wrapping_sub(next) as i32 >= 0 {
            next = next.wrapping_add(period);
        }
        NEXT_TICK.store(next, Ordering::Relaxed);
    }
    // An extra deadline that has passed is done with; its owner re-arms as needed.
    if HAS_DEADLINE.load(Ordering::Relaxed) != 0
        && now.wrapping_sub(DEADLINE.load(Ordering::Relaxed)) as i32 >= 0
    {
        HAS_DEADLINE.store(0, Ordering::Relaxed);
    }
    program_compare();
    due
}

/// Sleep until an interrupt has been handled. Returns with interrupts enabled.
///
/// Call with interrupts disabled after finding no work: an interrupt that arrives between that
/// check and the `wait` instruction is taken inside the idle region, and the trap handler then
/// resumes after the `wait`, so it never sleeps on work it already has.
pub fn idle() {
    extern "C" {
        fn __hv_idle();
    }
    // SAFETY: `__hv_idle` (start.rs) only sets Status.IE and executes `wait`; it follows the
    // o32 ABI and clobbers only $t0.
    unsafe { __hv_idle() }
}

/// A guest's RAM partition as bytes.
///
/// # Safety
/// `base .. base + size` must be RAM owned by one guest, and the caller must not create a
/// second live view of it (nor let the guest run while this one is used).
pub unsafe fn guest_ram(base: u64, size: usize) -> &'static mut [u8] {
    let va = highmem::kernel_va(base, size);
    // SAFETY: RAM the hypervisor reaches (kseg0 or its window); exclusivity is the caller's
    // contract.
    unsafe { core::slice::from_raw_parts_mut(va as *mut u8, size) }
}

/// Read-only view of physical memory the boot loader filled (preloaded files).
///
/// # Safety
/// `base .. base + size` must be RAM that nothing writes for as long as the view is used.
pub unsafe fn phys_bytes(base: u64, size: usize) -> &'static [u8] {
    let va = highmem::kernel_va(base, size);
    // SAFETY: RAM the hypervisor reaches (kseg0 or its window); immutability is the caller's
    // contract.
    unsafe { core::slice::from_raw_parts(va as *const u8, size) }
}

/// The physical address of a kernel (kseg0) address.
pub fn virt_to_phys(va: usize) -> u64 {
    (va & 0x1FFF_FFFF) as u64
}

/// Stop for good: interrupts off, `wait` forever.
pub fn halt() -> ! {
    interrupts_disable();
    loop {
        cp0::wait();
    }
}
