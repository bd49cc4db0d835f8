//! Random guest states for the fast-path and assembly-rule tests: a deterministic generator of
//! trapping instructions (with the registers they read) that drives a [`Guest`] through the
//! general path into varied states (both privileges, both address spaces, PIDs, TLB contents,
//! pending timers and External Input, shadow-ID retirements).

use super::*;
use vcpu_e500::spr::{msr, num};

/// xorshift64*.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn u32(&mut self) -> u32 {
        (self.next() >> 32) as u32
    }

    pub fn below(&mut self, n: u32) -> u32 {
        self.u32() % n
    }

    pub fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len() as u32) as usize]
    }
}

/// SPRs the generator writes and reads (IVPR and the IVORs are left pointing at the window, so
/// that every reflection lands on fetchable code).
pub const SPRS: [u16; 34] = [
    num::MAS0,
    num::MAS1,
    num::MAS2,
    num::MAS3,
    num::MAS4,
    num::MAS6,
    num::MAS7,
    num::PID0,
    num::PID1,
    num::PID2,
    num::SRR0,
    num::SRR1,
    num::CSRR0,
    num::CSRR1,
    num::MCSRR1,
    num::DSRR1,
    num::DEC,
    num::DECAR,
    num::TCR,
    num::TSR,
    num::MMUCSR0,
    num::BUCSR,
    num::HID0,
    num::L1CSR0,
    num::SPRG0,
    num::SPRG0 + 4,
    num::DBSR,
    num::MCSR,
    num::PVR,
    num::TLB0CFG,
    num::TBL_WRITE,
    num::ESR,
    num::DEAR,
    1000,
];

/// An MSR value a guest kernel might write (mostly supervisor, address space 0).
pub fn msr_value(rng: &mut Rng) -> u32 {
    let mut m = rng.u32() & (msr::EE | msr::CE | msr::ME | msr::DE | msr::SPE);
    match rng.below(8) {
        0 => m |= msr::PR,
        1 => m |= msr::IS | msr::DS,
        2 => m |= msr::DS,
        _ => {}
    }
    m
}

/// A value for writing `spr`.
pub fn value_for(rng: &mut Rng, spr: u16) -> u32 {
    let raw = rng.u32();
    match spr {
        num::MAS0 => raw & 0x100F_0003,
        num::MAS1 => 0x8000_0000 | (raw & 0x4003_1700) | (rng.below(3) << 16),
        num::MAS2 => rng.pick(&[0x8000_0000, 0x1000_0000, 0xC000_0000]) | (raw & 0x00FF_F07F),
        num::MAS3 => (raw & 0x03FF_F000) | (raw & 0x3F),
        num::MAS7 => u32::from(raw & 0x100 != 0),
        num::PID0 | num::PID1 | num::PID2 => raw & 3,
        num::SRR0 | num::CSRR0 => WINDOW + (raw & 0xFFFC),
        num::SRR1 | num::CSRR1 | num::MCSRR1 | num::DSRR1 => msr_value(rng),
        num::DEC => raw & 0x3FF,
        num::TCR => raw & (0x0FC0_0000 | 0x0001_E000) & !0x3000_0000,
        _ => raw,
    }
}

/// A trapping instruction word; sets the registers it reads.
pub fn instruction(rng: &mut Rng, g: &mut Guest) -> u32 {
    let r = 3 + rng.below(8);
    match rng.below(20) {
        0..=5 => {
            let spr = rng.pick(&SPRS);
            let v = value_for(rng, spr);
            g.set_gpr(r as usize, v);
            mtspr(spr, r)
        }
        6 | 7 => mfspr(r, rng.pick(&SPRS)),
        8 => mfmsr(r),
        9 => {
            let v = msr_value(rng);
            g.set_gpr(r as usize, v);
            mtmsr(r)
        }
        10 => {
            let v = rng.u32();
            g.set_gpr(r as usize, v);
            wrtee(r)
        }
        11 => wrteei(rng.below(2) == 1),
        12 => rng.pick(&[RFI, RFI, RFCI, RFMCI, 0x4C00_004E]),
        13 => rng.pick(&[TLBWE, TLBWE, TLBRE, TLBSYNC]),
        14 => {
            let v = rng.pick(&[0x8000_0000, 0x1000_0000, 0xC000_0000]) | rng.u32() & 0xF_F000;
            g.set_gpr(r as usize, v);
            tlbsx(0, r)
        }
        15 => {
            let v = rng.pick(&[4, 0xC, 0x8000_0000, 0x1000_0008]) | rng.u32() & 0xF_F000;
            g.set_gpr(r as usize, v);
            tlbivax(0, r)
        }
        16 => {
            let v = rng.pick(&[0x8000_0000, 0x1000_0000]) | rng.u32() & 0xF_FFFF;
            g.set_gpr(r as usize, v);
            dcbi(0, r)
        }
        17 => {
            g.set_gpr(0, rng.below(20));
            HYPERCALL
        }
        _ => rng.u32(),
    }
}

/// Make the guest's next instruction fetchable (the guest's own faults move it to a vector;
/// a halted guest is booted again); returns where the word at the PC lives.
pub fn fetchable(rng: &mut Rng, g: &mut Guest) -> Option<Hpa> {
    for _ in 0..6 {
        if g.tb.halted.is_some() {
            let now = g.tb.now;
            g.tb.vcpu.reset(now);
            g.tb.regs = g.tb.vcpu.boot_registers(WINDOW, [0; 5]);
            g.tb.halted = None;
            g.tb.enter();
            g.install_vectors();
        }
        if rng.below(16) == 0 {
            g.tb.vcpu.set_external_input(rng.below(2) == 1);
        }
        let pc = g.pc();
        if let Ok(hpa) = g.tb.access(pc, vcpu_e500::shadow::Access::Fetch) {
            return Some(hpa);
        }
    }
    None
}
