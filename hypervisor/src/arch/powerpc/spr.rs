//! Special-purpose registers (SPRs) of the e500v2 core and the bits the kernel uses.
//!
//! Numbers and bit positions follow the e500 core reference manual (Power ISA Book E bit
//! numbering converted to masks on a 32-bit register). Reads and writes go through
//! [`mfspr!`]/[`mtspr!`], which take the SPR number as a constant (it is encoded in the
//! instruction).

/// Save/restore registers of the base interrupt class.
pub const SRR0: u32 = 26;
pub const SRR1: u32 = 27;
/// Critical class (critical input, watchdog, debug).
pub const CSRR0: u32 = 58;
pub const CSRR1: u32 = 59;
/// Machine check class.
pub const MCSRR0: u32 = 570;
pub const MCSRR1: u32 = 571;
pub const MCSR: u32 = 572;
pub const MCAR: u32 = 573;
/// Data exception address and exception syndrome.
pub const DEAR: u32 = 61;
pub const ESR: u32 = 62;
/// Interrupt vector prefix (upper 16 bits of every vector address).
pub const IVPR: u32 = 63;
/// Decrementer, timer control and status.
pub const DEC: u32 = 22;
pub const TSR: u32 = 336;
pub const TCR: u32 = 340;
/// Time base, read side (user-readable SPR numbers).
pub const TBL_READ: u32 = 268;
pub const TBU_READ: u32 = 269;
/// Hardware implementation-dependent register 0.
pub const HID0: u32 = 1008;
/// Scratch registers only supervisor state can read or write (SPRG4..7 are user-readable).
pub const SPRG0: u32 = 272;
pub const SPRG1: u32 = 273;
pub const SPRG2: u32 = 274;
/// Scratch registers a guest reads in problem state (write numbers: SPRG3 is read through 259,
/// SPRG4..7 through 260..263).
pub const SPRG3_WRITE: u32 = 275;
pub const SPRG4_WRITE: u32 = 276;
pub const SPRG5_WRITE: u32 = 277;
pub const SPRG6_WRITE: u32 = 278;
pub const SPRG7_WRITE: u32 = 279;
/// User-mode read/write scratch register (a guest's own, switched with it).
pub const USPRG0: u32 = 256;
/// Identity registers.
pub const PVR: u32 = 287;
pub const SVR: u32 = 1023;
/// Process IDs the MMU matches against TLB entries' TID.
pub const PID0: u32 = 48;
pub const PID1: u32 = 633;
pub const PID2: u32 = 634;
/// MMU assist registers (TLB reads, writes and searches).
pub const MAS0: u32 = 624;
pub const MAS1: u32 = 625;
pub const MAS2: u32 = 626;
pub const MAS3: u32 = 627;
pub const MAS6: u32 = 630;
pub const MAS7: u32 = 944;
/// MMU control and status 0 (flash invalidation).
pub const MMUCSR0: u32 = 1012;
/// Branch unit control and status.
pub const BUCSR: u32 = 1013;

/// MSR bits.
pub const MSR_WE: u32 = 1 << 18; // wait state enable (power management)
pub const MSR_EE: u32 = 1 << 15; // external (and decrementer) interrupt enable
pub const MSR_PR: u32 = 1 << 14; // problem state (user mode)
pub const MSR_ME: u32 = 1 << 12; // machine check enable
pub const MSR_IS: u32 = 1 << 5; // instruction address space
pub const MSR_DS: u32 = 1 << 4; // data address space

/// MMUCSR0 bits: flash-invalidate TLB0 / TLB1 (IPROT entries survive); clear when done.
pub const MMUCSR0_TLB0_FI: u32 = 1 << 2;
pub const MMUCSR0_TLB1_FI: u32 = 1 << 1;
/// BUCSR: flash-invalidate the branch target buffer.
pub const BUCSR_BBFI: u32 = 1 << 9;

/// HID0 bits.
pub const HID0_DOZE: u32 = 1 << 23;
pub const HID0_NAP: u32 = 1 << 22;
pub const HID0_SLEEP: u32 = 1 << 21;
pub const HID0_TBEN: u32 = 1 << 14;
pub const HID0_EN_MAS7_UPDATE: u32 = 1 << 7;

/// TCR/TSR bits.
pub const TCR_DIE: u32 = 1 << 26; // decrementer interrupt enable
pub const TCR_ARE: u32 = 1 << 22; // decrementer auto-reload (not used: the tick re-arms)
pub const TSR_DIS: u32 = 1 << 27; // decrementer interrupt status (write 1 to clear)
pub const TSR_ENW: u32 = 1 << 31; // watchdog: enable next watchdog time-out (write 1 to clear)
pub const TSR_WIS: u32 = 1 << 30; // watchdog interrupt status (write 1 to clear)

/// Read SPR `$spr` (a constant expression).
macro_rules! mfspr {
    ($spr:expr) => {{
        let value: u32;
        // SAFETY: reading an SPR of the running core has no side effect on the SPRs this kernel
        // reads (none of them is a read-to-clear register).
        unsafe { core::arch::asm!("mfspr {0}, {1}", out(reg) value, const $spr, options(nomem, nostack, preserves_flags)) };
        value
    }};
}

/// Write `$value` to SPR `$spr` (a constant expression), followed by `isync` so the new value
/// is in effect for the next instruction.
macro_rules! mtspr {
    ($spr:expr, $value:expr) => {{
        let value: u32 = $value;
        // SAFETY: the kernel owns the core's SPRs; each caller writes only the register and bits
        // it documents, in supervisor state.
        unsafe { core::arch::asm!("mtspr {1}, {0}", "isync", in(reg) value, const $spr, options(nostack, preserves_flags)) };
    }};
}

pub(crate) use {mfspr, mtspr};

/// Read the machine state register.
#[inline(always)]
pub fn read_msr() -> u32 {
    let value: u32;
    // SAFETY: reading the MSR has no side effects.
    unsafe {
        core::arch::asm!("mfmsr {0}", out(reg) value, options(nomem, nostack, preserves_flags))
    };
    value
}
