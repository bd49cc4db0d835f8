//! The CPU layer: everything that is an instruction or a CPU register.
//!
//! Surface every arch provides (MIPS 24Kc in `mips/`, PowerPC e500v2 in `e500/`):
//! - `_start` (the ELF entry) calling `crate::runtime` with a stack and a zeroed bss;
//! - `vectors::install()` and the exception entry calling `crate::trap::dispatch(&mut TrapFrame)`;
//! - `irq`: `disable() -> bool` (whether they were on), `enable()`, `without(f)`, `ack_virq()`;
//! - `hypercall::call(nr, a0..a3)`;
//! - `atomic::swap` (atomic with respect to the host, which writes while the guest is trapped);
//! - `idle()` (sleep until an interrupt without losing one that arrives just before) and
//!   `yield_now()` (give the CPU back with interrupts as they are);
//! - `catch::call` (run a function, turning an exception into an error);
//! - the tick and the counter (`cp0` Count/Compare on MIPS, `timer` on the e500).

#[cfg(target_arch = "mips")]
mod mips;
#[cfg(target_arch = "mips")]
pub use mips::*;

#[cfg(target_arch = "powerpc")]
mod e500;
#[cfg(target_arch = "powerpc")]
pub use e500::*;

/// Interrupt enable and disable on MIPS (Status.IE), as the rest of the runtime uses them.
#[cfg(target_arch = "mips")]
pub mod irq {
    use super::cp0;

    /// Disable interrupts; returns whether they were enabled.
    #[inline(always)]
    pub fn disable() -> bool {
        cp0::di() & cp0::STATUS_IE != 0
    }

    /// Enable interrupts.
    #[inline(always)]
    pub fn enable() {
        cp0::ei();
    }

    /// Run `f` with interrupts disabled, restoring the previous state afterwards.
    #[inline]
    pub fn without<R>(f: impl FnOnce() -> R) -> R {
        cp0::without_interrupts(f)
    }

    /// Acknowledge the virq interrupt (clear Cause.IP1, as the RouterOS guest's
    /// `soft_irq_ack` does).
    #[inline(always)]
    pub fn ack_virq() {
        cp0::write_cause(cp0::read_cause() & !(1 << (cp0::CAUSE_IP_SHIFT + cp0::IRQ_VIRQ)));
    }
}

#[cfg(not(any(target_arch = "mips", target_arch = "powerpc")))]
compile_error!(
    "mr-guest supports MIPS and PowerPC e500 MetaROUTER guests only (build with --target \
     mips-mti-none-elf or targets/powerpc-e500v2-none.json)"
);
