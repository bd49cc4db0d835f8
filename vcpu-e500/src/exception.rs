//! Delivering interrupts to the guest through its own IVPR/IVORs, with the register effects
//! the e500v2 has.
//!
//! - Base class (everything but the ones below): SRR0 = the return address, SRR1 = MSR, `rfi`.
//!   Critical class (critical input, watchdog, debug): CSRR0/CSRR1, `rfci`. Machine check:
//!   MCSRR0/MCSRR1, MCSR and MCAR, `rfmci`.
//! - The new MSR keeps only CE, ME and DE (base class), ME (critical) or nothing (machine
//!   check): supervisor state, address space 0, interrupts and WE off.
//! - ESR is written by the interrupts that define it (program, storage, alignment, data TLB,
//!   SPE); DEAR by the data ones. A TLB miss loads MAS0..MAS2, MAS3, MAS6 and MAS7 from the MAS4
//!   defaults and the next victim, as the hardware does for the guest's miss handler.
//! - The vector is `IVPR[0:15] | IVORn[16:27]`, a guest-virtual address fetched with the new MSR
//!   (address space 0).
//!
//! A machine check while MSR\[ME\] = 0 is a checkstop: the guest is stopped
//! ([`HaltReason::Checkstop`]).

use crate::spr::{mas::*, msr};
use crate::sprs::{slot, SprFile};
use crate::tlb::Tlb;

/// The e500v2 interrupts, by IVOR number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Interrupt {
    CriticalInput = 0,
    MachineCheck = 1,
    DataStorage = 2,
    InstructionStorage = 3,
    ExternalInput = 4,
    Alignment = 5,
    Program = 6,
    FpUnavailable = 7,
    SystemCall = 8,
    ApUnavailable = 9,
    Decrementer = 10,
    FixedInterval = 11,
    Watchdog = 12,
    DataTlbError = 13,
    InstructionTlbError = 14,
    Debug = 15,
    SpeUnavailable = 32,
    SpeFpData = 33,
    SpeFpRound = 34,
    PerformanceMonitor = 35,
}

impl Interrupt {
    /// Every interrupt, in IVOR order.
    pub const ALL: [Interrupt; 20] = [
        Interrupt::CriticalInput,
        Interrupt::MachineCheck,
        Interrupt::DataStorage,
        Interrupt::InstructionStorage,
        Interrupt::ExternalInput,
        Interrupt::Alignment,
        Interrupt::Program,
        Interrupt::FpUnavailable,
        Interrupt::SystemCall,
        Interrupt::ApUnavailable,
        Interrupt::Decrementer,
        Interrupt::FixedInterval,
        Interrupt::Watchdog,
        Interrupt::DataTlbError,
        Interrupt::InstructionTlbError,
        Interrupt::Debug,
        Interrupt::SpeUnavailable,
        Interrupt::SpeFpData,
        Interrupt::SpeFpRound,
        Interrupt::PerformanceMonitor,
    ];

    /// The IVOR number.
    pub const fn ivor(self) -> u8 {
        self as u8
    }

    /// The save/restore register pair the interrupt uses.
    pub const fn class(self) -> Class {
        match self {
            Interrupt::CriticalInput | Interrupt::Watchdog | Interrupt::Debug => Class::Critical,
            Interrupt::MachineCheck => Class::MachineCheck,
            _ => Class::Base,
        }
    }
}

/// Interrupt classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// SRR0/SRR1.
    Base,
    /// CSRR0/CSRR1.
    Critical,
    /// MCSRR0/MCSRR1.
    MachineCheck,
}

/// Machine check syndrome bits the model reports (e500v2 MCSR).
pub mod mcsr {
    /// Machine check summary.
    pub const MCP: u32 = 0x8000_0000;
    /// Bus instruction address error (a fetch from an address no memory answers).
    pub const BUS_IAERR: u32 = 0x0000_0080;
    /// Bus read address error.
    pub const BUS_RAERR: u32 = 0x0000_0040;
    /// Bus write address error.
    pub const BUS_WAERR: u32 = 0x0000_0020;
}

/// A TLB miss to describe in the MAS registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlbMiss {
    /// The effective address.
    pub ea: u32,
    /// The address space of the access (MSR\[IS\] or MSR\[DS\] at the time).
    pub address_space: bool,
}

/// An interrupt to deliver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestException {
    /// Which.
    pub interrupt: Interrupt,
    /// The address `rfi` returns to (the faulting instruction, or the next one).
    pub return_pc: u32,
    /// ESR value to set, if the interrupt sets ESR.
    pub esr: Option<u32>,
    /// DEAR value to set, if any.
    pub dear: Option<u32>,
    /// MAS loading for a TLB miss.
    pub tlb_miss: Option<TlbMiss>,
    /// MCSR bits and MCAR for a machine check.
    pub machine_check: Option<(u32, u32)>,
}

impl GuestException {
    /// An interrupt that sets nothing but the save/restore pair.
    pub const fn plain(interrupt: Interrupt, return_pc: u32) -> Self {
        GuestException {
            interrupt,
            return_pc,
            esr: None,
            dear: None,
            tlb_miss: None,
            machine_check: None,
        }
    }

    /// A Program interrupt with these ESR bits.
    pub const fn program(pc: u32, esr: u32) -> Self {
        GuestException {
            esr: Some(esr),
            ..Self::plain(Interrupt::Program, pc)
        }
    }
}

/// Why a guest cannot go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HaltReason {
    /// A machine check while MSR\[ME\] = 0 (the core would checkstop).
    Checkstop,
    /// The guest's instruction TLB error vector is itself unmapped: delivering the miss would
    /// only fault on the vector again, forever.
    VectorUnmapped { vector: u32 },
    /// The watchdog timed out with a reset requested (TCR\[WRC\]).
    WatchdogReset,
}

/// The guest-virtual address of `interrupt`'s handler.
pub const fn vector(sprs: &SprFile, interrupt: Interrupt) -> u32 {
    (sprs.get(slot::IVPR) & 0xFFFF_0000) | (sprs.ivor(interrupt.ivor()) & 0x0000_FFF0)
}

/// Deliver `exc`: save state, set the registers it defines, enter the handler. Returns the
/// guest PC of the handler.
pub fn deliver(sprs: &mut SprFile, tlb: &mut Tlb, exc: &GuestException) -> Result<u32, HaltReason> {
    let old = sprs.msr();
    let (save, keep) = match exc.interrupt.class() {
        Class::Base => (slot::SRR0, msr::CE | msr::ME | msr::DE),
        Class::Critical => (slot::CSRR0, msr::ME),
        Class::MachineCheck => {
            if old & msr::ME == 0 {
                return Err(HaltReason::Checkstop);
            }
            (slot::MCSRR0, 0)
        }
    };
    sprs.set(save, exc.return_pc);
    sprs.set(save + 1, old);
    sprs.set_msr(old & keep);
    if let Some(esr) = exc.esr {
        sprs.set(slot::ESR, esr);
    }
    if let Some(dear) = exc.dear {
        sprs.set(slot::DEAR, dear);
    }
    if let Some((bits, addr)) = exc.machine_check {
        sprs.set(slot::MCSR, sprs.get(slot::MCSR) | bits | mcsr::MCP);
        sprs.set(slot::MCAR, addr);
    }
    if let Some(miss) = exc.tlb_miss {
        load_mas_for_miss(sprs, tlb, miss);
    }
    Ok(vector(sprs, exc.interrupt))
}

/// The MAS registers after a TLB miss (or a `tlbsx` that found nothing, with `spid` from MAS6):
/// MAS0 = TLBSELD, ESEL = next victim, NV = the one after; MAS1 = V, TID from MAS4\[TIDSELD\],
/// TS, TSIZED; MAS2 = EPN | MAS4 defaults; MAS3 = MAS7 = 0; MAS6 = PID0 | address space.
pub fn load_mas_for_miss(sprs: &mut SprFile, tlb: &mut Tlb, miss: TlbMiss) {
    let mas4 = sprs.get(slot::MAS4);
    let nv = u32::from(tlb.next_victim());
    let pids = sprs.pids();
    let tid = match (mas4 & MAS4_TIDSELD) >> 16 {
        0 => pids[0],
        1 => pids[1],
        2 => pids[2],
        _ => 0,
    };
    let ts = if miss.address_space { MAS1_TS } else { 0 };
    sprs.set(
        slot::MAS0,
        (mas4 & MAS4_TLBSELD1) | (nv << 16) | ((nv + 1) & MAS0_NV),
    );
    sprs.set(
        slot::MAS1,
        MAS1_V | (u32::from(tid) << 16) | ts | (mas4 & MAS4_TSIZED),
    );
    sprs.set(slot::MAS2, (miss.ea & MAS2_EPN) | (mas4 & MAS4_DEFAULTS));
    sprs.set(slot::MAS3, 0);
    sprs.set(slot::MAS7, 0);
    sprs.set(
        slot::MAS6,
        (u32::from(pids[0]) << 16) | u32::from(miss.address_space),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spr::esr;

    fn file() -> SprFile {
        let mut f = SprFile::new();
        f.set(slot::IVPR, 0x8000_0000);
        for n in 0..16 {
            f.set(slot::IVOR0 + n, 0x100 * n as u32);
        }
        f.set(slot::IVOR32 + 3, 0x1800);
        f
    }

    #[test]
    fn base_class_saves_and_masks_msr() {
        let mut f = file();
        let mut tlb = Tlb::new();
        f.set_msr(msr::EE | msr::PR | msr::CE | msr::ME | msr::IS | msr::DS | msr::WE);
        let pc = deliver(
            &mut f,
            &mut tlb,
            &GuestException::program(0x1000_0000, esr::PIL),
        )
        .unwrap();
        assert_eq!(pc, 0x8000_0600);
        assert_eq!(f.get(slot::SRR0), 0x1000_0000);
        assert_eq!(
            f.get(slot::SRR1),
            msr::EE | msr::PR | msr::CE | msr::ME | msr::IS | msr::DS | msr::WE
        );
        assert_eq!(f.msr(), msr::CE | msr::ME);
        assert_eq!(f.get(slot::ESR), esr::PIL);
        let pc = deliver(
            &mut f,
            &mut tlb,
            &GuestException::plain(Interrupt::PerformanceMonitor, 4),
        )
        .unwrap();
        assert_eq!(pc, 0x8000_1800);
    }

    #[test]
    fn critical_and_machine_check() {
        let mut f = file();
        let mut tlb = Tlb::new();
        f.set_msr(msr::CE | msr::ME | msr::EE);
        let pc = deliver(
            &mut f,
            &mut tlb,
            &GuestException::plain(Interrupt::Watchdog, 0x40),
        )
        .unwrap();
        assert_eq!((pc, f.get(slot::CSRR0)), (0x8000_0C00, 0x40));
        assert_eq!(f.msr(), msr::ME);
        let mc = GuestException {
            machine_check: Some((mcsr::BUS_RAERR, 0x0100_0000)),
            ..GuestException::plain(Interrupt::MachineCheck, 0x44)
        };
        assert_eq!(deliver(&mut f, &mut tlb, &mc), Ok(0x8000_0100));
        assert_eq!(f.get(slot::MCSR), mcsr::MCP | mcsr::BUS_RAERR);
        assert_eq!(
            (f.get(slot::MCAR), f.get(slot::MCSRR0)),
            (0x0100_0000, 0x44)
        );
        assert_eq!(f.msr(), 0);
        assert_eq!(deliver(&mut f, &mut tlb, &mc), Err(HaltReason::Checkstop));
    }

    #[test]
    fn tlb_miss_loads_mas_from_defaults() {
        let mut f = file();
        let mut tlb = Tlb::new();
        tlb.set_next_victim(3);
        f.set(slot::PID0, 0x42);
        // Linux: MAS4 = TSIZED 4 KiB, TIDSELD PID0, TLBSELD 0, WIMGE defaults M.
        f.set(slot::MAS4, (1 << 8) | MAS2_M);
        let exc = GuestException {
            dear: Some(0x1234_5678),
            esr: Some(esr::ST),
            tlb_miss: Some(TlbMiss {
                ea: 0x1234_5678,
                address_space: true,
            }),
            ..GuestException::plain(Interrupt::DataTlbError, 0x100)
        };
        assert_eq!(deliver(&mut f, &mut tlb, &exc), Ok(0x8000_0D00));
        assert_eq!(f.get(slot::MAS0), 3 << 16);
        assert_eq!(
            f.get(slot::MAS1),
            MAS1_V | (0x42 << 16) | MAS1_TS | (1 << 8)
        );
        assert_eq!(f.get(slot::MAS2), 0x1234_5000 | MAS2_M);
        assert_eq!(f.get(slot::MAS6), (0x42 << 16) | 1);
        assert_eq!(
            (f.get(slot::DEAR), f.get(slot::ESR)),
            (0x1234_5678, esr::ST)
        );
    }
}
