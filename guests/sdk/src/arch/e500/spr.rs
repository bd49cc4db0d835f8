//! MSR and special-purpose registers as an e500 kernel uses them. Under MetaROUTER every
//! supervisor SPR access traps to the host, which emulates a virtual CPU for the guest; the
//! time base (SPR 268/269) is user-readable and does not trap.

use core::arch::asm;

/// MSR\[EE\]: external input and decrementer interrupts enabled.
pub const MSR_EE: u32 = 1 << 15;
/// MSR\[PR\]: problem state.
pub const MSR_PR: u32 = 1 << 14;
/// MSR\[ME\]: machine checks enabled.
pub const MSR_ME: u32 = 1 << 12;
/// MSR\[IS\]: instruction address space 1.
pub const MSR_IS: u32 = 1 << 5;
/// MSR\[DS\]: data address space 1.
pub const MSR_DS: u32 = 1 << 4;

/// SRR0, SRR1.
pub const SRR0: u32 = 26;
/// SRR1.
pub const SRR1: u32 = 27;
/// DEC: the decrementer.
pub const DEC: u32 = 22;
/// DECAR: the decrementer's auto-reload value.
pub const DECAR: u32 = 54;
/// DEAR: the data exception address.
pub const DEAR: u32 = 61;
/// ESR: the exception syndrome.
pub const ESR: u32 = 62;
/// IVPR: the vectors' high half.
pub const IVPR: u32 = 63;
/// SPRG0 (the exception entry's scratch for r3).
pub const SPRG0: u32 = 272;
/// SPRG1 (the exception entry's scratch for r1).
pub const SPRG1: u32 = 273;
/// TSR: timer status (write one to clear).
pub const TSR: u32 = 336;
/// TCR: timer control.
pub const TCR: u32 = 340;
/// MAS0..MAS3, MAS6, MAS7.
pub const MAS0: u32 = 624;
/// MAS1.
pub const MAS1: u32 = 625;
/// MAS2.
pub const MAS2: u32 = 626;
/// MAS3.
pub const MAS3: u32 = 627;
/// MAS6.
pub const MAS6: u32 = 630;
/// MAS7.
pub const MAS7: u32 = 944;
/// HID0.
pub const HID0: u32 = 1008;
/// L1CSR0.
pub const L1CSR0: u32 = 1010;
/// L1CSR1.
pub const L1CSR1: u32 = 1011;
/// MMUCSR0.
pub const MMUCSR0: u32 = 1012;

/// TSR\[DIS\]: decrementer interrupt status.
pub const TSR_DIS: u32 = 1 << 27;
/// TCR\[DIE\]: decrementer interrupt enable.
pub const TCR_DIE: u32 = 1 << 26;
/// TCR\[ARE\]: decrementer auto-reload enable.
pub const TCR_ARE: u32 = 1 << 22;

/// MAS0\[TLBSEL\] = 1: TLB1.
pub const MAS0_TLB1: u32 = 1 << 28;
/// MAS1\[V\]: valid.
pub const MAS1_V: u32 = 1 << 31;
/// MAS1\[IPROT\]: protected from invalidation.
pub const MAS1_IPROT: u32 = 1 << 30;
/// MAS1\[TSIZE\] shift (page size 4^TSIZE KiB).
pub const MAS1_TSIZE_SHIFT: u32 = 8;
/// MAS3 supervisor read and write (SR | SW).
pub const MAS3_SUPERVISOR_RW: u32 = 0x5;
/// MAS3 supervisor execute (SX).
pub const MAS3_SUPERVISOR_X: u32 = 0x10;

/// `mfspr` of SPR `N`.
#[inline(always)]
pub fn read<const N: u32>() -> u32 {
    let value: u32;
    // SAFETY: reading an SPR changes no memory; under MetaROUTER the host emulates it.
    unsafe {
        asm!("mfspr {0}, {n}", out(reg) value, n = const N, options(nomem, nostack, preserves_flags))
    };
    value
}

/// `mtspr` of SPR `N`.
///
/// # Safety
/// The write must be one the guest means: IVPR/IVORs move its vectors, TCR/DEC start its
/// timer, MAS registers prepare its TLB writes.
#[inline(always)]
pub unsafe fn write<const N: u32>(value: u32) {
    // SAFETY: as the caller promises.
    unsafe {
        asm!("mtspr {n}, {0}", "isync", in(reg) value, n = const N, options(nostack, preserves_flags))
    };
}

/// The MSR.
#[inline(always)]
pub fn read_msr() -> u32 {
    let value: u32;
    // SAFETY: reads the (virtual) MSR.
    unsafe { asm!("mfmsr {0}", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value
}

/// Write the MSR.
///
/// # Safety
/// The new MSR must leave the guest able to run its code (PR, IS and DS as it runs, EE only
/// once the vectors are installed).
#[inline(always)]
pub unsafe fn write_msr(value: u32) {
    // SAFETY: as the caller promises.
    unsafe { asm!("mtmsr {0}", "isync", in(reg) value, options(nostack, preserves_flags)) };
}

/// The 64-bit time base (user-readable: no trap).
#[inline]
pub fn timebase() -> u64 {
    loop {
        let (hi, lo, hi2): (u32, u32, u32);
        // SAFETY: reads TBU, TBL, TBU.
        unsafe {
            asm!("mfspr {0}, 269", "mfspr {1}, 268", "mfspr {2}, 269",
                 out(reg) hi, out(reg) lo, out(reg) hi2, options(nomem, nostack, preserves_flags))
        };
        if hi == hi2 {
            return (u64::from(hi) << 32) | u64::from(lo);
        }
    }
}

/// Write a TLB entry from MAS0..MAS3 and MAS7 (`tlbwe`).
///
/// # Safety
/// The entry changes the guest's translations: it must not unmap or remap what the guest's
/// code, stack and data use.
#[inline]
pub unsafe fn tlbwe(mas0: u32, mas1: u32, mas2: u32, mas3: u32, mas7: u32) {
    // SAFETY: as the caller promises.
    unsafe {
        asm!(
            "mtspr 624, {0}", "mtspr 625, {1}", "mtspr 626, {2}", "mtspr 627, {3}",
            "mtspr 944, {4}", "isync", "tlbwe", "isync",
            in(reg) mas0, in(reg) mas1, in(reg) mas2, in(reg) mas3, in(reg) mas7,
            options(nostack, preserves_flags),
        )
    };
}

/// Read TLB entry MAS0 selects (`tlbre`); returns MAS1, MAS2, MAS3.
#[inline]
pub fn tlbre(mas0: u32) -> (u32, u32, u32) {
    let (m1, m2, m3): (u32, u32, u32);
    // SAFETY: `tlbre` only loads MAS registers.
    unsafe {
        asm!(
            "mtspr 624, {m0}", "isync", "tlbre", "isync",
            "mfspr {m1}, 625", "mfspr {m2}, 626", "mfspr {m3}, 627",
            m0 = in(reg) mas0, m1 = out(reg) m1, m2 = out(reg) m2, m3 = out(reg) m3,
            options(nostack, preserves_flags),
        )
    };
    (m1, m2, m3)
}
