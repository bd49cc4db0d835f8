//! PowerPC e500v2 (Book E) architecture layer: entry, TLB1 map, exception vectors, decrementer
//! tick, time base, interrupt masking, idle.
//!
//! The hypervisor runs in supervisor state, address space 0, with the TLB1 map of [`mmu`]
//! (low RAM at virtual = physical, CCSR at [`mmu::CCSR_VIRT`]) and its own vectors (IVPR/IVORn,
//! see `trap`). See `crate::arch` for the surface every arch provides.
//!
//! e500 specifics: the core has one external interrupt input (from the MPIC), gated by MSR[EE]
//! alone, so the only "line" is [`EXTERNAL_INPUT`]; the decrementer raises its own interrupt
//! (IVOR10), also gated by MSR[EE].

pub mod mmu;
pub(crate) mod spr;
mod start;
pub mod trap;

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

    /// The device tree's address, if it lies in the RAM the hypervisor maps.
    pub fn device_tree(&self) -> Option<usize> {
        let addr = self.r3 as usize;
        (addr != 0 && addr < mmu::RAM_MAPPED).then_some(addr)
    }
}

/// Point IVPR/IVORn at the hypervisor's vectors.
pub fn install_vectors() {
    trap::install();
}

/// Enable interrupts (MSR[EE]: external input and decrementer).
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
/// The e500 core has no per-input mask below MSR[EE]: masking individual sources is the MPIC's
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

/// Start the periodic tick: the decrementer counts down at the time base rate and reloads
/// itself from DECAR (TCR[ARE]), so ticks stay evenly spaced with no re-arming; a tick missed
/// while interrupts were off is not queued (TSR[DIS] is one bit), so late ticks are skipped.
pub fn timer_start(period: u64) {
    let period = u32::try_from(period).ok().filter(|&p| p > 0).expect("tick period must fit the 32-bit decrementer");
    mtspr!(spr::DECAR, period);
    mtspr!(spr::DEC, period);
    mtspr!(spr::TSR, spr::TSR_DIS);
    mtspr!(spr::TCR, mfspr!(spr::TCR) | spr::TCR_DIE | spr::TCR_ARE);
}

/// Acknowledge the decrementer interrupt (write-one-to-clear TSR[DIS]).
fn timer_acknowledge() {
    mtspr!(spr::TSR, spr::TSR_DIS);
}

/// Sleep until an interrupt has been handled. Returns with interrupts enabled.
///
/// Call with interrupts disabled after finding no work. e500v2 has no `wait` instruction: it
/// dozes while MSR[WE] = 1 (with HID0[DOZE], set at entry). `__hv_idle` sets MSR[EE] and MSR[WE]
/// with one `mtmsr`, so there is no window in which interrupts are enabled but the decision to
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
    // handler's idle-region fix-up; it clobbers only r3 (a caller-saved register).
    unsafe { core::arch::asm!("bl __hv_idle", out("r3") _, clobber_abi("C")) };
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
