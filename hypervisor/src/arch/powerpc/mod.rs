//! PowerPC e500v2 (Book E) architecture layer: entry, TLB1 map, exception vectors, decrementer
//! tick (shared with the guests' timers), time base, interrupt masking, idle, and guests
//! (`vcpu`: the guest CPU over the `vcpu_e500` model; `guest`: the world switch; `tlb`: the
//! host TLB entries guests run through; `fast_spr`: the assembly path of a guest's Program
//! interrupt).
//!
//! The hypervisor runs in supervisor state, address space 0, with the TLB1 map of [`mmu`]
//! (low RAM at virtual = physical, CCSR at [`mmu::CCSR_VIRT`]) and its own vectors (IVPR/IVORn,
//! see `trap`). See `crate::arch` for the surface every arch provides.
//!
//! e500 specifics: the core has one external interrupt input (from the MPIC), gated by `MSR[EE]`
//! alone, so the only "line" is [`EXTERNAL_INPUT`]; the decrementer raises its own interrupt
//! (IVOR10), also gated by `MSR[EE]`.

mod fast_spr;
mod guest;
mod memory;
pub mod mmu;
pub(crate) mod spr;
mod start;
mod tlb;
pub mod trap;
mod vcpu;

pub use memory::{guest_ram, guest_ram_map, phys_bytes, virt_to_phys};
pub use vcpu::GuestCpu;

use core::sync::atomic::{AtomicU32, Ordering};

use spr::{mfspr, mtspr};
pub use trap::TrapFrame;

/// The architecture's name.
pub const NAME: &str = "powerpc";

/// The e500 core's external interrupt input (from the MPIC), as a bit in
/// [`crate::board::BoardInfo::irq_lines`] and the `line` given to
/// [`crate::board::Board::handle_interrupt`].
pub const EXTERNAL_INPUT: u32 = 0;

/// Registers at entry, as the boot loader left them (ePAPR): `r3` = physical address of the
/// flattened device tree, `r6` = [`BootRegs::EPAPR_MAGIC`], `r7` = size of the initial mapped
/// area; `r4`, `r5` = 0.
#[derive(Clone, Copy, Debug)]
pub struct BootRegs {
    pub r3: u32,
    pub r4: u32,
    pub r5: u32,
    pub r6: u32,
    pub r7: u32,
}

impl BootRegs {
    /// The value ePAPR boot loaders put in r6 ("EPAP").
    pub const EPAPR_MAGIC: u32 = 0x4550_4150;

    /// The flattened device tree the boot loader left at r3, if all of it (its header gives the
    /// length) lies in the RAM the hypervisor maps and outside the hypervisor's own image (whose
    /// `.bss`, stacks and heap are overwritten at boot).
    pub fn device_tree(&self) -> Option<&'static [u8]> {
        extern "C" {
            static __image_start: u8;
            static __image_end: u8;
        }
        const HEADER: usize = 8; // magic, total size
        let start = self.r3 as usize;
        if start == 0 || start.checked_add(HEADER)? > mmu::RAM_MAPPED {
            return None;
        }
        // SAFETY: the header's first two words lie in RAM the entry code mapped (checked above);
        // reading RAM has no side effects.
        let total = u32::from_be(unsafe { ((start + 4) as *const u32).read_unaligned() }) as usize;
        let end = start.checked_add(total)?;
        // Only the symbols' addresses are used.
        let image =
            core::ptr::addr_of!(__image_start) as usize..core::ptr::addr_of!(__image_end) as usize;
        if total < HEADER || end > mmu::RAM_MAPPED || (start < image.end && image.start < end) {
            return None;
        }
        // SAFETY: `start..end` is mapped RAM (checked above) outside the image, which ePAPR gives
        // to the device tree; nothing in the hypervisor writes it.
        Some(unsafe { core::slice::from_raw_parts(start as *const u8, total) })
    }
}

/// Point IVPR/IVORn at the hypervisor's vectors.
pub fn install_vectors() {
    trap::install();
}

/// Enable interrupts (`MSR[EE]`: external input and decrementer).
#[inline(always)]
pub fn interrupts_enable() {
    // SAFETY: `wrteei 1` only sets MSR[EE]; the trap path is ready whenever it runs.
    unsafe { core::arch::asm!("wrteei 1", options(nostack, preserves_flags)) };
}

/// Disable interrupts; returns whether they were enabled.
#[inline(always)]
pub fn interrupts_disable() -> bool {
    let msr = spr::read_msr();
    // SAFETY: `wrteei 0` only clears MSR[EE].
    unsafe { core::arch::asm!("wrteei 0", options(nostack, preserves_flags)) };
    msr & spr::MSR_EE != 0
}

/// Restore the state [`interrupts_disable`] returned.
#[inline(always)]
pub fn interrupts_restore(enabled: bool) {
    if enabled {
        interrupts_enable();
    }
}

static EXTERNAL_LINES: AtomicU32 = AtomicU32::new(0);

/// Accept the external interrupt lines in `lines` (bit [`EXTERNAL_INPUT`]).
///
/// The e500 core has no per-input mask below `MSR[EE]`: masking individual sources is the MPIC's
/// job (the board's). This records which lines the kernel has accepted, so an External Input
/// interrupt before the board initialised its controller is reported instead of being passed
/// to a board that is not ready for it.
pub fn unmask_external(lines: u32) {
    EXTERNAL_LINES.fetch_or(lines & (1 << EXTERNAL_INPUT), Ordering::Relaxed);
}

/// External Input interrupt (trap context).
fn external_input() {
    if EXTERNAL_LINES.load(Ordering::Relaxed) & (1 << EXTERNAL_INPUT) == 0 {
        panic!("external input interrupt before the kernel unmasked it");
    }
    crate::kernel::on_external_interrupt(EXTERNAL_INPUT);
}

/// The free-running CPU timer: the 64-bit time base.
pub fn counter() -> u64 {
    loop {
        let high = mfspr!(spr::TBU_READ);
        let low = mfspr!(spr::TBL_READ);
        if mfspr!(spr::TBU_READ) == high {
            return (u64::from(high) << 32) | u64::from(low);
        }
    }
}

// The tick: period in time-base units and the time-base value of the next tick (64-bit, kept
// as two halves: e500 has 32-bit atomics only). Written only with interrupts off: by
// `timer_start` before the kernel enables them, and by the decrementer handler.
static TICK_PERIOD: AtomicU32 = AtomicU32::new(0);
static NEXT_TICK_HIGH: AtomicU32 = AtomicU32::new(0);
static NEXT_TICK_LOW: AtomicU32 = AtomicU32::new(0);

fn set_next_tick(at: u64) {
    NEXT_TICK_HIGH.store((at >> 32) as u32, Ordering::Relaxed);
    NEXT_TICK_LOW.store((at & 0xFFFF_FFFF) as u32, Ordering::Relaxed);
}

fn next_tick() -> u64 {
    (u64::from(NEXT_TICK_HIGH.load(Ordering::Relaxed)) << 32)
        | u64::from(NEXT_TICK_LOW.load(Ordering::Relaxed))
}

/// Start the periodic tick: the decrementer (counting down at the time-base rate, IVOR10)
/// fires every `period` time-base units. Each tick is scheduled against the time base, not
/// from the moment the previous interrupt was taken, so a late interrupt does not delay the
/// following ticks; ticks missed while interrupts were off are skipped, not queued.
pub fn timer_start(period: u64) {
    let period = u32::try_from(period)
        .ok()
        .filter(|&p| p > 0)
        .expect("tick period must fit the 32-bit decrementer");
    TICK_PERIOD.store(period, Ordering::Relaxed);
    set_next_tick(counter() + u64::from(period));
    mtspr!(spr::TCR, mfspr!(spr::TCR) & !spr::TCR_ARE);
    mtspr!(spr::DEC, period);
    mtspr!(spr::TSR, spr::TSR_DIS);
    mtspr!(spr::TCR, mfspr!(spr::TCR) | spr::TCR_DIE);
}

// An extra deadline (a guest's timer) as two halves, and whether it is set. Written only with
// interrupts off.
static DEADLINE_HIGH: AtomicU32 = AtomicU32::new(0);
static DEADLINE_LOW: AtomicU32 = AtomicU32::new(0);
static HAS_DEADLINE: AtomicU32 = AtomicU32::new(0);

fn deadline() -> Option<u64> {
    (HAS_DEADLINE.load(Ordering::Relaxed) != 0).then(|| {
        (u64::from(DEADLINE_HIGH.load(Ordering::Relaxed)) << 32)
            | u64::from(DEADLINE_LOW.load(Ordering::Relaxed))
    })
}

/// Also interrupt at `deadline` (an absolute [`counter`] value), or drop the extra deadline.
/// Used for guests' timers: the running guest's, or the earliest of the waiting ones. Call with
/// interrupts off.
pub fn timer_set_deadline(deadline: Option<u64>) {
    match deadline {
        Some(d) => {
            DEADLINE_HIGH.store((d >> 32) as u32, Ordering::Relaxed);
            DEADLINE_LOW.store((d & 0xFFFF_FFFF) as u32, Ordering::Relaxed);
            HAS_DEADLINE.store(1, Ordering::Relaxed);
        }
        None => HAS_DEADLINE.store(0, Ordering::Relaxed),
    }
    program_decrementer();
}

/// [`timer_set_deadline`] relative to now: `ticks` time-base units from now.
pub(crate) fn timer_set_guest_deadline(ticks: Option<u64>) {
    timer_set_deadline(ticks.map(|t| counter().saturating_add(t)));
}

/// DEC = time-base units until the earliest of the next tick and the extra deadline (at least
/// 1: the decrementer interrupts on its 1 -> 0 transition; a passed deadline fires at once).
fn program_decrementer() {
    let now = counter();
    let target = match deadline() {
        Some(d) => d.min(next_tick()),
        None => next_tick(),
    };
    // At most one tick period away, which fits the 32-bit decrementer (`timer_start`).
    #[allow(clippy::cast_possible_truncation)]
    let ticks = target.saturating_sub(now).clamp(1, u64::from(u32::MAX)) as u32;
    mtspr!(spr::DEC, ticks);
}

/// The decrementer interrupt: acknowledge it (write-one-to-clear `TSR[DIS]`), advance the tick
/// if it is due (skipping ticks missed while interrupts were off), drop an extra deadline that
/// has passed, and program the next interrupt. Returns whether the host tick was due. The same
/// write services the core's watchdog (`TSR[ENW]`, `TSR[WIS]`) in case the boot loader enabled
/// it: once enabled it cannot be turned off, and it then resets the board only if ticks stop.
fn timer_interrupt() -> bool {
    mtspr!(spr::TSR, spr::TSR_DIS | spr::TSR_ENW | spr::TSR_WIS);
    let period = u64::from(TICK_PERIOD.load(Ordering::Relaxed));
    let now = counter();
    let mut next = next_tick();
    let due = now >= next;
    if due {
        next += ((now - next) / period + 1) * period;
        set_next_tick(next);
    }
    if deadline().is_some_and(|d| d <= now) {
        HAS_DEADLINE.store(0, Ordering::Relaxed);
    }
    program_decrementer();
    due
}

/// Sleep until an interrupt has been handled. Returns with interrupts enabled.
///
/// Call with interrupts disabled after finding no work. e500v2 has no `wait` instruction: it
/// dozes while `MSR[WE]` = 1 (with `HID0[DOZE]`, set at entry). `__hv_idle` sets `MSR[EE]` and
/// `MSR[WE]` with one `mtmsr`, so there is no window in which interrupts are enabled but the decision to
/// sleep is not yet taken, nor one in which the core sleeps with interrupts masked: an interrupt
/// that became pending after the last look for work is taken right after that `mtmsr` (or wakes
/// the core at once). Either way the trap handler sees SRR0 inside the idle region, clears WE in
/// the saved MSR and resumes after the region, so the core never dozes on work it already has.
/// This is the same scheme as Linux's `e500_idle`.
pub fn idle() {
    extern "C" {
        fn __hv_idle();
    }
    // SAFETY: `__hv_idle` (start.rs) only sets MSR[EE] and MSR[WE] and returns through the trap
    // handler's idle-region fix-up; it follows the SysV ABI and clobbers only r3.
    unsafe { __hv_idle() }
}

/// Stop for good: interrupts off, doze forever.
pub fn halt() -> ! {
    interrupts_disable();
    let msr = (spr::read_msr() & !spr::MSR_EE) | spr::MSR_WE;
    loop {
        // SAFETY: with MSR[EE] = 0 and MSR[WE] = 1 the core dozes until a critical or machine
        // check interrupt, both of which end in the panic handler; nothing else changes.
        unsafe { core::arch::asm!("msync", "mtmsr {0}", "isync", in(reg) msr, options(nostack)) };
    }
}
