//! The guest's virtual MSR and supervisor SPRs, and what each `mfspr`/`mtspr` number means.
//!
//! The registers live in one array of words ([`SprFile`]), so that an arch can read and write
//! the plain ones in assembly by offset (see `plain`). [`spr_kind`] classifies every SPR number
//! a guest kernel can trap on: a stored register with its write mask, write-one-to-clear, a
//! constant, a timer register, or a register with an effect (the context, flash invalidation,
//! the branch buffer). Numbers it does not know are not e500v2 supervisor SPRs: the guest gets
//! the illegal-instruction Program interrupt a bare e500v2 gives.

use crate::spr::{mas, msr, num};

/// Slots of the register file (word index).
pub mod slot {
    pub const MSR: usize = 0;
    pub const SRR0: usize = 1;
    pub const SRR1: usize = 2;
    pub const CSRR0: usize = 3;
    pub const CSRR1: usize = 4;
    pub const DSRR0: usize = 5;
    pub const DSRR1: usize = 6;
    pub const MCSRR0: usize = 7;
    pub const MCSRR1: usize = 8;
    pub const MCSR: usize = 9;
    pub const MCAR: usize = 10;
    pub const DEAR: usize = 11;
    pub const ESR: usize = 12;
    pub const IVPR: usize = 13;
    /// IVOR0..IVOR15.
    pub const IVOR0: usize = 14;
    /// IVOR32..IVOR35.
    pub const IVOR32: usize = 30;
    /// SPRG0..SPRG7.
    pub const SPRG0: usize = 34;
    /// PID0..PID2.
    pub const PID0: usize = 42;
    pub const MAS0: usize = 45;
    pub const MAS1: usize = 46;
    pub const MAS2: usize = 47;
    pub const MAS3: usize = 48;
    pub const MAS4: usize = 49;
    pub const MAS6: usize = 50;
    pub const MAS7: usize = 51;
    pub const HID0: usize = 52;
    pub const HID1: usize = 53;
    pub const L1CSR0: usize = 54;
    pub const L1CSR1: usize = 55;
    pub const BUCSR: usize = 56;
    pub const DBCR0: usize = 57;
    pub const DBCR1: usize = 58;
    pub const DBCR2: usize = 59;
    pub const DBSR: usize = 60;
    pub const IAC1: usize = 61;
    pub const IAC2: usize = 62;
    pub const DAC1: usize = 63;
    pub const DAC2: usize = 64;
    pub const DECAR: usize = 65;
    /// Number of slots.
    pub const COUNT: usize = 66;
}

/// L1CSR0/L1CSR1 bits that are stored: parity enable, parity injection, cache enable (flash
/// invalidation and lock flash clear complete at once and read 0; lock status reads 0).
const L1CSR_KEPT: u32 = 0x0001_8001;

/// What an SPR number is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SprKind {
    /// A stored register: `mfspr` reads the slot, `mtspr` stores the bits in `mask`.
    Plain { slot: usize, mask: u32 },
    /// SPRG3..SPRG7, stored, whose user-level aliases (259..263) the guest reads natively: the
    /// arch keeps the real registers equal to these while the guest runs.
    UserReadableSprg { slot: usize },
    /// Stored, write one to clear (DBSR, MCSR).
    WriteOneToClear { slot: usize },
    /// Stored, read-only (MCAR: the machine check sets it).
    ReadOnly { slot: usize },
    /// A PID: stored, and it changes the translation context.
    Pid { slot: usize },
    /// BUCSR: stored; BBFI asks for a branch-buffer flush.
    Bucsr,
    /// MMUCSR0: flash invalidation; reads 0.
    Mmucsr0,
    /// DEC, TCR, TSR: the timers.
    Timer(TimerSpr),
    /// PVR, SVR, PIR, TLB0CFG, TLB1CFG, MMUCFG: constants; writes are ignored.
    Identity(IdentitySpr),
    /// TBL/TBU writes: ignored (the guest shares the host's time base); reads are illegal.
    TimeBaseWrite,
    /// Not an e500v2 supervisor SPR.
    Unknown,
}

/// The timer SPRs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerSpr {
    Dec,
    Tcr,
    Tsr,
}

/// The constant SPRs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentitySpr {
    Pvr,
    Svr,
    Pir,
    Tlb0Cfg,
    Tlb1Cfg,
    MmuCfg,
}

const fn plain(slot: usize, mask: u32) -> SprKind {
    SprKind::Plain { slot, mask }
}

/// Classify SPR number `n` (any value; only privileged numbers trap).
pub const fn spr_kind(n: u16) -> SprKind {
    use slot as s;
    match n {
        num::SRR0 => plain(s::SRR0, u32::MAX),
        num::SRR1 => plain(s::SRR1, u32::MAX),
        num::CSRR0 => plain(s::CSRR0, u32::MAX),
        num::CSRR1 => plain(s::CSRR1, u32::MAX),
        num::DSRR0 => plain(s::DSRR0, u32::MAX),
        num::DSRR1 => plain(s::DSRR1, u32::MAX),
        num::MCSRR0 => plain(s::MCSRR0, u32::MAX),
        num::MCSRR1 => plain(s::MCSRR1, u32::MAX),
        num::MCSR => SprKind::WriteOneToClear { slot: s::MCSR },
        num::MCAR => SprKind::ReadOnly { slot: s::MCAR },
        num::DEAR => plain(s::DEAR, u32::MAX),
        num::ESR => plain(s::ESR, u32::MAX),
        num::IVPR => plain(s::IVPR, 0xFFFF_0000),
        num::IVOR0..=num::IVOR15 => plain(s::IVOR0 + (n - num::IVOR0) as usize, 0x0000_FFF0),
        num::IVOR32..=num::IVOR35 => plain(s::IVOR32 + (n - num::IVOR32) as usize, 0x0000_FFF0),
        num::SPRG0..=num::SPRG7 => {
            let slot = s::SPRG0 + (n - num::SPRG0) as usize;
            if n - num::SPRG0 >= 3 {
                SprKind::UserReadableSprg { slot }
            } else {
                plain(slot, u32::MAX)
            }
        }
        num::PID0 => SprKind::Pid { slot: s::PID0 },
        num::PID1 => SprKind::Pid { slot: s::PID0 + 1 },
        num::PID2 => SprKind::Pid { slot: s::PID0 + 2 },
        num::MAS0 => plain(s::MAS0, mas::MAS0_MASK),
        num::MAS1 => plain(s::MAS1, mas::MAS1_MASK),
        num::MAS2 => plain(s::MAS2, mas::MAS2_MASK),
        num::MAS3 => plain(s::MAS3, mas::MAS3_MASK),
        num::MAS4 => plain(s::MAS4, mas::MAS4_MASK),
        num::MAS6 => plain(s::MAS6, mas::MAS6_MASK),
        num::MAS7 => plain(s::MAS7, mas::MAS7_MASK),
        num::HID0 => plain(s::HID0, u32::MAX),
        num::HID1 => plain(s::HID1, u32::MAX),
        num::L1CSR0 => plain(s::L1CSR0, L1CSR_KEPT),
        num::L1CSR1 => plain(s::L1CSR1, L1CSR_KEPT),
        num::BUCSR => SprKind::Bucsr,
        num::DBCR0 => plain(s::DBCR0, u32::MAX),
        num::DBCR1 => plain(s::DBCR1, u32::MAX),
        num::DBCR2 => plain(s::DBCR2, u32::MAX),
        num::DBSR => SprKind::WriteOneToClear { slot: s::DBSR },
        num::IAC1 => plain(s::IAC1, 0xFFFF_FFFC),
        num::IAC2 => plain(s::IAC2, 0xFFFF_FFFC),
        num::DAC1 => plain(s::DAC1, u32::MAX),
        num::DAC2 => plain(s::DAC2, u32::MAX),
        num::DECAR => plain(s::DECAR, u32::MAX),
        num::DEC => SprKind::Timer(TimerSpr::Dec),
        num::TCR => SprKind::Timer(TimerSpr::Tcr),
        num::TSR => SprKind::Timer(TimerSpr::Tsr),
        num::MMUCSR0 => SprKind::Mmucsr0,
        num::PVR => SprKind::Identity(IdentitySpr::Pvr),
        num::SVR => SprKind::Identity(IdentitySpr::Svr),
        num::PIR => SprKind::Identity(IdentitySpr::Pir),
        num::TLB0CFG => SprKind::Identity(IdentitySpr::Tlb0Cfg),
        num::TLB1CFG => SprKind::Identity(IdentitySpr::Tlb1Cfg),
        num::MMUCFG => SprKind::Identity(IdentitySpr::MmuCfg),
        num::TBL_WRITE | num::TBU_WRITE => SprKind::TimeBaseWrite,
        _ => SprKind::Unknown,
    }
}

/// BUCSR bits that are stored (BBFI completes at once and reads 0).
pub const BUCSR_KEPT: u32 = !crate::spr::bucsr::BBFI;

/// The virtual MSR and supervisor SPRs of one guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SprFile {
    regs: [u32; slot::COUNT],
}

impl SprFile {
    /// Byte offset of the register array (slot n at `4 * n` from it).
    pub const SLOTS_OFFSET: usize = core::mem::offset_of!(SprFile, regs);

    /// Every register 0 (MSR 0: supervisor, interrupts off, address space 0).
    pub const fn new() -> Self {
        SprFile {
            regs: [0; slot::COUNT],
        }
    }

    /// The word in `slot`.
    #[inline]
    pub const fn get(&self, slot: usize) -> u32 {
        self.regs[slot]
    }

    /// Store `value` in `slot`.
    #[inline]
    pub fn set(&mut self, slot: usize, value: u32) {
        self.regs[slot] = value;
    }

    /// MSR.
    #[inline]
    pub const fn msr(&self) -> u32 {
        self.regs[slot::MSR]
    }

    /// Set MSR (only the implemented bits are kept).
    #[inline]
    pub fn set_msr(&mut self, value: u32) {
        self.regs[slot::MSR] = value & msr::IMPLEMENTED;
    }

    /// PID0..PID2.
    #[inline]
    pub const fn pids(&self) -> [u8; 3] {
        [
            self.regs[slot::PID0] as u8,
            self.regs[slot::PID0 + 1] as u8,
            self.regs[slot::PID0 + 2] as u8,
        ]
    }

    /// IVORn (n in 0..=15 or 32..=35).
    pub const fn ivor(&self, n: u8) -> u32 {
        if n >= 32 {
            self.regs[slot::IVOR32 + (n as usize - 32) % 4]
        } else {
            self.regs[slot::IVOR0 + n as usize % 16]
        }
    }
}

impl Default for SprFile {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spr::is_privileged;

    #[test]
    fn every_known_spr_is_privileged_and_has_its_own_slot() {
        let mut seen = [false; slot::COUNT];
        for n in 0..1024u16 {
            let slot = match spr_kind(n) {
                SprKind::Unknown => continue,
                SprKind::Plain { slot, .. }
                | SprKind::UserReadableSprg { slot }
                | SprKind::WriteOneToClear { slot }
                | SprKind::ReadOnly { slot }
                | SprKind::Pid { slot } => Some(slot),
                SprKind::Bucsr => Some(slot::BUCSR),
                _ => None,
            };
            assert!(is_privileged(n), "SPR {n} is user-level: it never traps");
            if let Some(s) = slot {
                assert!(!seen[s], "slot {s} used twice (SPR {n})");
                seen[s] = true;
            }
        }
        assert!(!seen[slot::MSR]);
        assert_eq!(seen.iter().filter(|&&x| x).count(), slot::COUNT - 1);
        // The user-level numbers stay native.
        for n in [1u16, 8, 9, 256, 259, 260, 268, 269, 512, 515, 516] {
            assert!(!is_privileged(n), "{n}");
            assert_eq!(spr_kind(n), SprKind::Unknown);
        }
    }

    #[test]
    fn masks() {
        assert_eq!(
            spr_kind(num::IVPR),
            SprKind::Plain {
                slot: slot::IVPR,
                mask: 0xFFFF_0000
            }
        );
        assert_eq!(
            spr_kind(num::IVOR0 + 13),
            SprKind::Plain {
                slot: slot::IVOR0 + 13,
                mask: 0xFFF0
            }
        );
        assert_eq!(
            spr_kind(num::SPRG0 + 3),
            SprKind::UserReadableSprg {
                slot: slot::SPRG0 + 3
            }
        );
        let mut f = SprFile::new();
        f.set_msr(u32::MAX);
        assert_eq!(f.msr(), msr::IMPLEMENTED);
        f.set(slot::IVOR32 + 1, 0x120);
        assert_eq!(f.ivor(33), 0x120);
    }
}
