//! A guest on the simulated host ([`Testbed`]) with sparse RAM, the encodings of the
//! instructions the model emulates, and helpers that run one trapping instruction the way the
//! real core would deliver it: fetched through the host TLB (mapping it on a miss), then the
//! privileged-instruction Program interrupt. Every step checks the isolation invariants.
#![allow(dead_code)]

pub mod shape;

use std::collections::BTreeMap;
use vcpu_e500::exception::Interrupt;
use vcpu_e500::shadow::Access;
use vcpu_e500::spr::esr;
use vcpu_e500::sprs::slot;
use vcpu_e500::testbed::Testbed;
use vcpu_e500::{e500_partition, GuestMemory, HostCpu, Hpa, Outcome, VcpuConfig};

/// The guest's RAM window (TLB1 entry 0 at boot maps it to guest-physical 0).
pub const WINDOW: u32 = 0x8000_0000;

/// Sparse guest RAM (words not written read 0); reads outside the partition fail the test.
pub struct Ram {
    pub words: BTreeMap<u64, u32>,
    pub base: u64,
    pub size: u64,
}

impl GuestMemory for Ram {
    fn read_word(&self, addr: Hpa) -> u32 {
        let a = addr.get();
        assert!(
            a >= self.base && a + 4 <= self.base + self.size && a.is_multiple_of(4),
            "the model read {a:#x}, outside the partition or unaligned"
        );
        self.words.get(&a).copied().unwrap_or(0)
    }
}

/// One guest.
pub struct Guest {
    pub tb: Testbed<Ram>,
}

impl Guest {
    /// A guest of `size` bytes at host-physical `base`, at boot (PC = the window's start).
    pub fn new(base: u64, size: u32) -> Self {
        let partition = e500_partition(Hpa::new(base), size).expect("partition");
        let host = HostCpu::from_registers(0x8021_0030, 0x8039_0010).expect("e500v2");
        let ram = Ram {
            words: BTreeMap::new(),
            base,
            size: u64::from(size),
        };
        let tb = Testbed::new(
            VcpuConfig::new(partition, host),
            ram,
            WINDOW,
            [WINDOW + size - 0x1_0000, 0, 0, 0x4550_4150, size],
        );
        let g = Guest { tb };
        g.check();
        g
    }

    /// 64 MiB at 64 MiB.
    pub fn standard() -> Self {
        Guest::new(0x0400_0000, 64 << 20)
    }

    pub fn check(&self) {
        if let Err(v) = self.tb.check() {
            panic!("isolation invariant broken: {v:?}");
        }
    }

    pub fn pc(&self) -> u32 {
        self.tb.regs.pc
    }

    pub fn gpr(&self, r: usize) -> u32 {
        self.tb.regs.gpr[r]
    }

    pub fn set_gpr(&mut self, r: usize, value: u32) {
        self.tb.regs.gpr[r] = value;
    }

    pub fn spr(&self, slot: usize) -> u32 {
        self.tb.vcpu.sprs().get(slot)
    }

    pub fn msr(&self) -> u32 {
        self.tb.vcpu.sprs().msr()
    }

    /// Run `word` at the current PC as a trapping instruction: the fetch goes through the host
    /// TLB (a miss is served first, as on the core); then the Program interrupt with ESR\[PPR\].
    /// Returns the outcome of the Program interrupt, or of the fetch fault if it faulted.
    pub fn exec(&mut self, word: u32) -> Outcome {
        self.exec_with_esr(word, esr::PPR)
    }

    /// `exec` with the Program interrupt's ESR as `esr` (an emulator that lacks an
    /// instruction raises ESR\[PIL\] instead).
    pub fn exec_with_esr(&mut self, word: u32, esr: u32) -> Outcome {
        let pc = self.pc();
        let outcome = match self.tb.access(pc, Access::Fetch) {
            Ok(hpa) => {
                self.tb.mem.words.insert(hpa.get(), word);
                self.tb.trap(Interrupt::Program, esr, 0)
            }
            Err(outcome) => outcome,
        };
        self.check();
        outcome
    }

    /// `exec`, expecting the instruction to complete and the PC to move past it.
    pub fn run(&mut self, word: u32) -> Outcome {
        let pc = self.pc();
        let outcome = self.exec(word);
        assert_eq!(self.pc(), pc.wrapping_add(4), "{word:#010x}: {outcome:?}");
        outcome
    }

    /// `mtspr spr, r3` with r3 = `value`.
    pub fn write_spr(&mut self, spr: u16, value: u32) -> Outcome {
        self.set_gpr(3, value);
        self.run(mtspr(spr, 3))
    }

    /// `mfspr r4, spr`.
    pub fn read_spr(&mut self, spr: u16) -> u32 {
        self.set_gpr(4, 0xDEAD_BEEF);
        self.run(mfspr(4, spr));
        self.gpr(4)
    }

    /// `mtmsr r3` with r3 = `value`.
    pub fn write_msr(&mut self, value: u32) -> Outcome {
        self.set_gpr(3, value);
        self.run(mtmsr(3))
    }

    /// Write TLB entry (MAS0..MAS3, MAS7) with `tlbwe`.
    pub fn tlbwe(&mut self, mas0: u32, mas1: u32, mas2: u32, mas3: u32, mas7: u32) -> Outcome {
        use vcpu_e500::spr::num;
        self.write_spr(num::MAS0, mas0);
        self.write_spr(num::MAS1, mas1);
        self.write_spr(num::MAS2, mas2);
        self.write_spr(num::MAS3, mas3);
        self.write_spr(num::MAS7, mas7);
        let outcome = self.run(TLBWE);
        if outcome == Outcome::InvalidateHost {
            let inval = *self.tb.vcpu.host_invalidation();
            self.tb.host.invalidate(&inval);
            self.check();
        }
        outcome
    }

    /// A data access as the core makes it.
    pub fn access(&mut self, ea: u32, access: Access) -> Result<Hpa, Outcome> {
        let r = self.tb.access(ea, access);
        self.check();
        r
    }

    /// Point IVPR at the window and IVORn at n * 0x100 (so the vector says which interrupt).
    pub fn install_vectors(&mut self) {
        use vcpu_e500::spr::num;
        self.write_spr(num::IVPR, WINDOW);
        for n in 0..16 {
            self.write_spr(num::IVOR0 + n, u32::from(n) * 0x100);
        }
        for n in 0..4 {
            self.write_spr(num::IVOR32 + n, 0x1000 + u32::from(n) * 0x100);
        }
    }

    /// The vector of IVOR `n` after [`Guest::install_vectors`].
    pub fn vector(n: u32) -> u32 {
        if n >= 32 {
            WINDOW + 0x1000 + (n - 32) * 0x100
        } else {
            WINDOW + n * 0x100
        }
    }

    /// Move the PC somewhere harmless in the window (after a reflection moved it to a vector).
    pub fn jump(&mut self, pc: u32) {
        self.tb.regs.pc = pc;
    }

    /// SRR0/SRR1 of the last base-class interrupt.
    pub fn srr(&self) -> (u32, u32) {
        (self.spr(slot::SRR0), self.spr(slot::SRR1))
    }
}

pub fn mtspr(spr: u16, rs: u32) -> u32 {
    let s = u32::from(spr);
    0x7C00_03A6 | rs << 21 | (s & 0x1F) << 16 | (s >> 5) << 11
}

pub fn mfspr(rt: u32, spr: u16) -> u32 {
    let s = u32::from(spr);
    0x7C00_02A6 | rt << 21 | (s & 0x1F) << 16 | (s >> 5) << 11
}

pub fn mfmsr(rt: u32) -> u32 {
    0x7C00_00A6 | rt << 21
}

pub fn mtmsr(rs: u32) -> u32 {
    0x7C00_0124 | rs << 21
}

pub fn wrtee(rs: u32) -> u32 {
    0x7C00_0106 | rs << 21
}

pub fn wrteei(enable: bool) -> u32 {
    0x7C00_0146 | u32::from(enable) << 15
}

pub fn tlbsx(ra: u32, rb: u32) -> u32 {
    0x7C00_0724 | ra << 16 | rb << 11
}

pub fn tlbivax(ra: u32, rb: u32) -> u32 {
    0x7C00_0624 | ra << 16 | rb << 11
}

pub fn dcbi(ra: u32, rb: u32) -> u32 {
    0x7C00_03AC | ra << 16 | rb << 11
}

pub const RFI: u32 = 0x4C00_0064;
pub const RFCI: u32 = 0x4C00_0066;
pub const RFMCI: u32 = 0x4C00_004C;
pub const RFDI: u32 = 0x4C00_004E;
pub const TLBWE: u32 = 0x7C00_07A4;
pub const TLBRE: u32 = 0x7C00_0764;
pub const TLBSYNC: u32 = 0x7C00_046C;
pub const HYPERCALL: u32 = 0x7C1F_FBA6;
