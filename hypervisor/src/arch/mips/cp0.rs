//! Coprocessor 0 access: the few CP0 registers and instructions the kernel uses.

use core::arch::asm;

pub const STATUS_IE: u32 = 1 << 0;
pub const STATUS_EXL: u32 = 1 << 1;
pub const STATUS_ERL: u32 = 1 << 2;
pub const STATUS_KSU_MASK: u32 = 3 << 3;
pub const STATUS_BEV: u32 = 1 << 22;

pub const CAUSE_BD: u32 = 1 << 31;
pub const CAUSE_IP_SHIFT: u32 = 8;
pub const CAUSE_EXCCODE_SHIFT: u32 = 2;
pub const CAUSE_EXCCODE_MASK: u32 = 0x1F;

/// `mfc0`/`mtc0` wrappers for one register/select pair, with an execution hazard barrier
/// after every write.
macro_rules! cp0_register {
    ($read:ident, $write:ident, $reg:literal, $sel:literal) => {
        #[inline(always)]
        #[allow(dead_code)]
        pub fn $read() -> u32 {
            let value: u32;
            // SAFETY: reading this CP0 register has no side effects.
            unsafe { asm!(".set push", ".set noat", concat!("mfc0 {0}, $", $reg, ", ", $sel), ".set pop", out(reg) value, options(nomem, nostack)) };
            value
        }
        #[inline(always)]
        #[allow(dead_code)]
        pub fn $write(value: u32) {
            // SAFETY: the kernel owns CP0; callers of this module change only the fields they
            // document, and `ehb` clears the execution hazard before the next instruction.
            unsafe { asm!(".set push", ".set noat", concat!("mtc0 {0}, $", $reg, ", ", $sel), "ehb", ".set pop", in(reg) value, options(nostack)) };
        }
    };
}

cp0_register!(read_index, write_index, "0", "0");
cp0_register!(read_entrylo0, write_entrylo0, "2", "0");
cp0_register!(read_entrylo1, write_entrylo1, "3", "0");
cp0_register!(read_pagemask, write_pagemask, "5", "0");
cp0_register!(read_wired, write_wired, "6", "0");
cp0_register!(read_badvaddr, write_badvaddr, "8", "0");
cp0_register!(read_count, write_count, "9", "0");
cp0_register!(read_entryhi, write_entryhi, "10", "0");
cp0_register!(read_compare, write_compare, "11", "0");
cp0_register!(read_status, write_status, "12", "0");
cp0_register!(read_cause, write_cause, "13", "0");
cp0_register!(read_epc, write_epc, "14", "0");
cp0_register!(read_prid, write_prid, "15", "0");
cp0_register!(read_ebase, write_ebase, "15", "1");
cp0_register!(read_config, write_config, "16", "0");
cp0_register!(read_config1, write_config1, "16", "1");

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
    // SAFETY: `ei` only sets Status.IE; the kernel's trap path is ready whenever it runs.
    unsafe { asm!("ei", "ehb", options(nostack)) };
}

/// Wait for an interrupt.
#[inline(always)]
pub fn wait() {
    // SAFETY: `wait` only stalls the pipeline until an interrupt is pending.
    unsafe { asm!("wait", options(nomem, nostack)) };
}
