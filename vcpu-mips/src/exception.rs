//! Delivering exceptions to the guest with the CP0 effects the hardware has.
//!
//! - Status.EXL already set: EPC and Cause.BD are left alone and the vector is always the
//!   general one (offset 0x180). Otherwise EPC gets the faulting PC (the branch when the fault is
//!   in a delay slot) and Cause.BD says which.
//! - Vector offsets: TLB Refill 0x000, interrupts 0x200 when Cause.IV = 1, everything else 0x180.
//! - Cause.ExcCode is set; Cause.CE carries the coprocessor number for Coprocessor Unusable and
//!   is 0 otherwise. BadVAddr is set for address errors and TLB exceptions; TLB exceptions also
//!   set Context.BadVPN2 and EntryHi.VPN2 (the ASID is kept).
//! - Status.EXL is set, which puts the guest in (virtual) kernel mode.
//!
//! The guest's vector base is guest-virtual `0xC000_0000 + (EBase & 0x3FFF_F000)`: the guest's
//! kernel (`CAC_BASE` = 0xC000_0000) computes `ebase = CAC_BASE + (read_c0_ebase() & 0x3ffff000)`
//! and installs its handlers there. A guest exception with Status.BEV = 1 (boot ROM vectors,
//! which a guest does not have) or with a vector outside its RAM cannot be delivered: the guest
//! is stopped rather than looping through faults on its own vector.

use crate::addr::{Gva, MipsPartition, Partition, RAM_WINDOW_BASE};
use crate::cp0::{Cp0, CAUSE_BD, CONTEXT_PTEBASE, EBASE_WRITABLE, ST_BEV, ST_EXL};

/// Exception codes (Cause.ExcCode).
pub mod code {
    /// Interrupt.
    pub const INT: u8 = 0;
    /// TLB Modified.
    pub const MOD: u8 = 1;
    /// TLB exception on load or fetch.
    pub const TLBL: u8 = 2;
    /// TLB exception on store.
    pub const TLBS: u8 = 3;
    /// Address error on load or fetch.
    pub const ADEL: u8 = 4;
    /// Address error on store.
    pub const ADES: u8 = 5;
    /// Bus error on fetch.
    pub const IBE: u8 = 6;
    /// Bus error on data.
    pub const DBE: u8 = 7;
    /// Syscall.
    pub const SYS: u8 = 8;
    /// Breakpoint.
    pub const BP: u8 = 9;
    /// Reserved Instruction.
    pub const RI: u8 = 10;
    /// Coprocessor Unusable.
    pub const CPU: u8 = 11;
    /// Arithmetic overflow.
    pub const OV: u8 = 12;
    /// Trap.
    pub const TR: u8 = 13;
    /// Floating point.
    pub const FPE: u8 = 15;
    /// COP2.
    pub const C2E: u8 = 18;
    /// MDMX unusable.
    pub const MDMX: u8 = 22;
    /// Watch.
    pub const WATCH: u8 = 23;
    /// Machine check.
    pub const MCHECK: u8 = 24;
    /// Thread.
    pub const THREAD: u8 = 25;
    /// DSP disabled.
    pub const DSPDIS: u8 = 26;
    /// Cache error.
    pub const CACHEERR: u8 = 30;
}

/// Which vector offset the exception uses when EXL was clear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VectorKind {
    /// 0x180.
    General,
    /// 0x000 (TLB Refill with EXL = 0).
    TlbRefill,
    /// 0x200 with Cause.IV = 1, else 0x180.
    Interrupt,
}

/// An exception to deliver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestException {
    /// Cause.ExcCode.
    pub code: u8,
    /// Cause.CE (Coprocessor Unusable only).
    pub ce: u8,
    /// BadVAddr, for address errors and TLB exceptions.
    pub bad_vaddr: Option<u32>,
    /// Also set Context.BadVPN2 and EntryHi.VPN2 (TLB exceptions).
    pub sets_vpn2: bool,
    /// Vector selection.
    pub vector: VectorKind,
}

impl GuestException {
    /// An exception with just a code (Syscall, Breakpoint, RI, bus errors...).
    pub const fn plain(code: u8) -> Self {
        GuestException {
            code,
            ce: 0,
            bad_vaddr: None,
            sets_vpn2: false,
            vector: VectorKind::General,
        }
    }

    /// Coprocessor Unusable for coprocessor `ce`.
    pub const fn coprocessor_unusable(ce: u8) -> Self {
        GuestException {
            ce: ce & 3,
            ..Self::plain(code::CPU)
        }
    }

    /// Address error at `va`.
    pub const fn address_error(va: u32, store: bool) -> Self {
        GuestException {
            bad_vaddr: Some(va),
            ..Self::plain(if store { code::ADES } else { code::ADEL })
        }
    }

    /// A TLB exception (`code` is MOD, TLBL or TLBS) at `va`.
    pub const fn tlb(code: u8, va: u32, refill: bool) -> Self {
        GuestException {
            code,
            ce: 0,
            bad_vaddr: Some(va),
            sets_vpn2: true,
            vector: if refill {
                VectorKind::TlbRefill
            } else {
                VectorKind::General
            },
        }
    }

    /// An interrupt.
    pub const fn interrupt() -> Self {
        GuestException {
            vector: VectorKind::Interrupt,
            ..Self::plain(code::INT)
        }
    }
}

/// Why a guest cannot go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HaltReason {
    /// An exception was raised with Status.BEV = 1: its vectors would be in a boot ROM.
    ExceptionWithBev { code: u8 },
    /// The exception vector is outside the guest's RAM window.
    VectorOutsideRam { vector: u32 },
}

/// Deliver `exc`, raised by the instruction at `epc` (the branch if `in_delay_slot`). Returns the
/// guest PC of the vector.
pub fn deliver(
    cp0: &mut Cp0,
    partition: &Partition,
    exc: &GuestException,
    epc: u32,
    in_delay_slot: bool,
) -> Result<u32, HaltReason> {
    let exl_was_set = cp0.status & ST_EXL != 0;
    let offset = if exl_was_set {
        0x180
    } else {
        cp0.epc = epc;
        cp0.cause = (cp0.cause & !CAUSE_BD) | if in_delay_slot { CAUSE_BD } else { 0 };
        match exc.vector {
            VectorKind::General => 0x180,
            VectorKind::TlbRefill => 0x000,
            VectorKind::Interrupt if cp0.cause & crate::cp0::CAUSE_IV != 0 => 0x200,
            VectorKind::Interrupt => 0x180,
        }
    };
    cp0.status |= ST_EXL;
    cp0.cause = (cp0.cause & !(3 << 28) & !(0x1F << 2))
        | (u32::from(exc.ce & 3) << 28)
        | (u32::from(exc.code & 0x1F) << 2);
    if let Some(va) = exc.bad_vaddr {
        cp0.bad_vaddr = va;
        if exc.sets_vpn2 {
            cp0.context = (cp0.context & CONTEXT_PTEBASE) | ((va >> 9) & 0x007F_FFF0);
            cp0.entry_hi = (va & 0xFFFF_E000) | (cp0.entry_hi & 0xFF);
        }
    }
    if cp0.status & ST_BEV != 0 {
        return Err(HaltReason::ExceptionWithBev { code: exc.code });
    }
    let vector = RAM_WINDOW_BASE
        .wrapping_add(cp0.ebase & EBASE_WRITABLE)
        .wrapping_add(offset);
    match partition.window_to_phys(Gva::new(vector)) {
        Some(_) => Ok(vector),
        None => Err(HaltReason::VectorOutsideRam { vector }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Hpa;
    use crate::cp0::{CAUSE_IV, ST_ERL};

    fn part() -> Partition {
        Partition::new(Hpa::new(0x0100_0000), 16 << 20).unwrap()
    }

    #[test]
    fn tlb_refill_sets_everything() {
        let mut c = Cp0::at_boot(0);
        c.entry_hi = 0x0000_0042;
        c.context = 0xC080_0000 | 0x1230;
        let pc = deliver(
            &mut c,
            &part(),
            &GuestException::tlb(code::TLBS, 0x7FFF_3ABC, true),
            0x0040_1000,
            true,
        )
        .unwrap();
        assert_eq!(pc, 0xC000_0000);
        assert_eq!(c.epc, 0x0040_1000);
        assert_eq!(c.cause, CAUSE_BD | (3 << 2));
        assert_eq!(c.bad_vaddr, 0x7FFF_3ABC);
        assert_eq!(c.context, 0xC080_0000 | (0x7FFF_2000 >> 9));
        assert_eq!(c.entry_hi, 0x7FFF_2042);
        assert_ne!(c.status & ST_EXL, 0);
    }

    #[test]
    fn nested_exception_keeps_epc_and_uses_general_vector() {
        let mut c = Cp0::at_boot(0);
        c.status = ST_EXL;
        c.epc = 0xC010_0000;
        c.cause = CAUSE_BD;
        let pc = deliver(
            &mut c,
            &part(),
            &GuestException::tlb(code::TLBL, 0x10, true),
            0x0040_0000,
            false,
        )
        .unwrap();
        assert_eq!(pc, 0xC000_0180);
        assert_eq!(c.epc, 0xC010_0000);
        assert_ne!(c.cause & CAUSE_BD, 0, "BD untouched");
        assert_eq!((c.cause >> 2) & 0x1F, 2);
    }

    #[test]
    fn coprocessor_unusable_and_interrupt_vectors() {
        let mut c = Cp0::at_boot(0);
        let pc = deliver(
            &mut c,
            &part(),
            &GuestException::coprocessor_unusable(1),
            0x0040_0000,
            false,
        )
        .unwrap();
        assert_eq!(pc, 0xC000_0180);
        assert_eq!(c.cause, (1 << 28) | (11 << 2));
        let mut c = Cp0::at_boot(0);
        c.cause = CAUSE_IV;
        c.ebase = 0x8000_1000;
        let pc = deliver(
            &mut c,
            &part(),
            &GuestException::interrupt(),
            0xC010_0000,
            false,
        )
        .unwrap();
        assert_eq!(pc, 0xC000_1200);
        assert_eq!(c.cause & (0x1F << 2), 0);
        // ERL does not stop EPC from being written (only EXL does).
        let mut c = Cp0::at_boot(0);
        c.status = ST_ERL;
        deliver(
            &mut c,
            &part(),
            &GuestException::plain(code::SYS),
            0xC010_0040,
            false,
        )
        .unwrap();
        assert_eq!(c.epc, 0xC010_0040);
    }

    #[test]
    fn undeliverable() {
        let mut c = Cp0::at_boot(0);
        c.status = ST_BEV;
        assert_eq!(
            deliver(&mut c, &part(), &GuestException::plain(code::SYS), 0, false),
            Err(HaltReason::ExceptionWithBev { code: code::SYS })
        );
        let mut c = Cp0::at_boot(0);
        c.ebase = 0x8100_0000; // 0xC100_0000: past 16 MiB of RAM
        assert_eq!(
            deliver(&mut c, &part(), &GuestException::plain(code::SYS), 0, false),
            Err(HaltReason::VectorOutsideRam {
                vector: 0xC100_0180
            })
        );
    }
}
