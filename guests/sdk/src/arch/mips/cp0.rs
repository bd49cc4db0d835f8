//! Coprocessor 0 access as a MIPS32r2 kernel does it. Under MetaROUTER each of these traps to
//! the host, which emulates a virtual CP0 for the guest.

use core::arch::asm;

/// Status.IE: interrupts enabled.
pub const STATUS_IE: u32 = 1 << 0;
/// Status.EXL: exception level.
pub const STATUS_EXL: u32 = 1 << 1;
/// Status.ERL: error level.
pub const STATUS_ERL: u32 = 1 << 2;
/// Status.KSU: mode (00 kernel, 01 supervisor, 10 user).
pub const STATUS_KSU_MASK: u32 = 3 << 3;
/// Status.IM0..IM7 shift.
pub const STATUS_IM_SHIFT: u32 = 8;
/// Status.BEV: bootstrap exception vectors.
pub const STATUS_BEV: u32 = 1 << 22;
/// Cause.IV: interrupts use the special vector (+0x200).
pub const CAUSE_IV: u32 = 1 << 23;
/// Cause.IP shift.
pub const CAUSE_IP_SHIFT: u32 = 8;
/// Cause.ExcCode shift and mask.
pub const CAUSE_EXCCODE_SHIFT: u32 = 2;
/// Cause.ExcCode mask (after the shift).
pub const CAUSE_EXCCODE_MASK: u32 = 0x1F;
/// Interrupt line of the CP0 timer (Count/Compare).
pub const IRQ_TIMER: u32 = 7;
/// Interrupt line (software interrupt 1) the host raises for virqs.
pub const IRQ_VIRQ: u32 = 1;

/// `mfc0`/`mtc0` wrappers for one register/select pair, with `ehb` after every write.
macro_rules! cp0_register {
    ($(#[$doc:meta])* $read:ident, $write:ident, $reg:literal, $sel:literal) => {
        $(#[$doc])*
        #[inline(always)]
        pub fn $read() -> u32 {
            let value: u32;
            // SAFETY: reading a CP0 register has no side effect on memory.
            unsafe {
                asm!(".set push", ".set noat", concat!("mfc0 {0}, $", $reg, ", ", $sel), ".set pop", out(reg) value, options(nomem, nostack))
            };
            value
        }
        $(#[$doc])*
        #[inline(always)]
        pub fn $write(value: u32) {
            // SAFETY: the guest kernel owns its (virtual) CP0; callers change only what they
            // document, and `ehb` clears the execution hazard before the next instruction.
            unsafe {
                asm!(".set push", ".set noat", concat!("mtc0 {0}, $", $reg, ", ", $sel), "ehb", ".set pop", in(reg) value, options(nostack))
            };
        }
    };
}

cp0_register!(/// Index (0).
    read_index, write_index, "0", "0");
cp0_register!(/// Random (1).
    read_random, write_random, "1", "0");
cp0_register!(/// EntryLo0 (2).
    read_entrylo0, write_entrylo0, "2", "0");
cp0_register!(/// EntryLo1 (3).
    read_entrylo1, write_entrylo1, "3", "0");
cp0_register!(/// PageMask (5).
    read_pagemask, write_pagemask, "5", "0");
cp0_register!(/// Wired (6).
    read_wired, write_wired, "6", "0");
cp0_register!(/// BadVAddr (8).
    read_badvaddr, write_badvaddr, "8", "0");
cp0_register!(/// Count (9).
    read_count, write_count, "9", "0");
cp0_register!(/// EntryHi (10).
    read_entryhi, write_entryhi, "10", "0");
cp0_register!(/// Compare (11); writing it acknowledges the timer interrupt.
    read_compare, write_compare, "11", "0");
cp0_register!(/// Status (12).
    read_status, write_status, "12", "0");
cp0_register!(/// Cause (13); only IP0/IP1, IV and WP are writable.
    read_cause, write_cause, "13", "0");
cp0_register!(/// EPC (14).
    read_epc, write_epc, "14", "0");
cp0_register!(/// PRId (15, 0).
    read_prid, write_prid, "15", "0");
cp0_register!(/// EBase (15, 1).
    read_ebase, write_ebase, "15", "1");
cp0_register!(/// Config (16, 0).
    read_config, write_config, "16", "0");
cp0_register!(/// Config1 (16, 1).
    read_config1, write_config1, "16", "1");
cp0_register!(/// Config3 (16, 3).
    read_config3, write_config3, "16", "3");
cp0_register!(/// Config4 (16, 4).
    read_config4, write_config4, "16", "4");
cp0_register!(/// TagLo (28, 0).
    read_taglo, write_taglo, "28", "0");
cp0_register!(/// ErrorEPC (30).
    read_errorepc, write_errorepc, "30", "0");

/// Disable interrupts; returns Status as it was.
#[inline(always)]
pub fn di() -> u32 {
    let old: u32;
    // SAFETY: `di` only clears Status.IE.
    unsafe {
        asm!(".set push", ".set noat", "di {0}", "ehb", ".set pop", out(reg) old, options(nostack))
    };
    old
}

/// Enable interrupts.
#[inline(always)]
pub fn ei() {
    // SAFETY: `ei` only sets Status.IE; the vectors are installed before anything enables them.
    unsafe { asm!("ei", "ehb", options(nostack)) };
}

/// Wait for an interrupt (under MetaROUTER: yield the CPU).
#[inline(always)]
pub fn wait() {
    // SAFETY: `wait` only stalls until an interrupt is pending (or the host resumes the guest).
    unsafe { asm!("wait", options(nostack)) };
}

/// Run `f` with interrupts disabled, restoring the previous state afterwards.
#[inline]
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    let was = di();
    let r = f();
    if was & STATUS_IE != 0 {
        ei();
    }
    r
}

/// Write the TLB entry at Index from EntryHi/EntryLo0/EntryLo1/PageMask.
#[inline(always)]
pub fn tlbwi() {
    // SAFETY: changes only the guest's (virtual) TLB; the caller chose the entry.
    unsafe { asm!("tlbwi", "ehb", options(nostack)) };
}

/// Write the TLB entry at Random.
#[inline(always)]
pub fn tlbwr() {
    // SAFETY: as `tlbwi`.
    unsafe { asm!("tlbwr", "ehb", options(nostack)) };
}

/// Read the TLB entry at Index into EntryHi/EntryLo0/EntryLo1/PageMask.
#[inline(always)]
pub fn tlbr() {
    // SAFETY: only loads CP0 registers from the TLB.
    unsafe { asm!("tlbr", "ehb", options(nostack)) };
}

/// Probe the TLB for EntryHi; the result is in Index (bit 31 set: no match).
#[inline(always)]
pub fn tlbp() {
    // SAFETY: only writes Index.
    unsafe { asm!("tlbp", "ehb", options(nostack)) };
}
