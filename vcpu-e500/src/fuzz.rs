//! The fuzz target's body, shared by `fuzz/fuzz_targets/trap_e500.rs` and `cargo test`.
//!
//! Input bytes drive a guest on a [`Testbed`]: a partition (low, or above 4 GiB), then a series
//! of steps: privileged instructions (SPR and MSR writes and reads, `tlbwe` with MAS values
//! near the partition's edges and the CCSR, `tlbsx`, `tlbivax`, `rfi`..., the hypercall),
//! guest memory accesses through the host TLB, other interrupts, time passing and the External
//! Input. After every step the isolation invariants are checked ([`Testbed::check`]); a
//! violation panics (a fuzzer finding).

use crate::addr::{Hpa, Partition};
use crate::config::{HostCpu, VcpuConfig};
use crate::exception::Interrupt;
use crate::interface::GuestMemory;
use crate::shadow::Access;
use crate::spr::{esr, num};
use crate::testbed::Testbed;

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[usize::from(self.u8()) % from.len()]
    }
}

/// Memory where every word reads as the current instruction; it checks that the model only
/// reads inside the partition.
struct OneWord {
    word: u32,
    base: u64,
    size: u64,
}

impl GuestMemory for OneWord {
    fn read_word(&self, addr: Hpa) -> u32 {
        let a = addr.get();
        assert!(
            a >= self.base && a + 4 <= self.base + self.size,
            "vcpu read outside the partition: {a:#x}"
        );
        assert_eq!(a & 3, 0, "unaligned instruction fetch");
        self.word
    }
}

/// SPRs the body writes and reads.
const SPRS: [u16; 40] = [
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
    num::IVPR,
    num::IVOR0 + 2,
    num::IVOR0 + 6,
    num::IVOR0 + 13,
    num::IVOR0 + 14,
    num::IVOR32,
    num::DEC,
    num::DECAR,
    num::TCR,
    num::TSR,
    num::MMUCSR0,
    num::BUCSR,
    num::HID0,
    num::L1CSR0,
    num::SPRG0,
    num::SPRG0 + 3,
    num::DBSR,
    num::MCSR,
    num::PVR,
    num::TLB1CFG,
    num::TBL_WRITE,
    num::ESR,
    num::DEAR,
    1000,
];

fn mtspr(spr: u16, rs: u32) -> u32 {
    let s = u32::from(spr);
    0x7C00_03A6 | rs << 21 | (s & 0x1F) << 16 | (s >> 5) << 11
}

fn mfspr(rt: u32, spr: u16) -> u32 {
    let s = u32::from(spr);
    0x7C00_02A6 | rt << 21 | (s & 0x1F) << 16 | (s >> 5) << 11
}

/// A value for an SPR write: MAS values near the interesting edges, or anything.
fn value_for(spr: u16, input: &mut Bytes<'_>, partition: &Partition) -> u32 {
    let raw = input.u32();
    let size = partition.size();
    match (spr, input.u8() % 4) {
        (num::MAS1, 0..=2) => 0x8000_0000 | (raw & 0x4003_1F00) | (raw & 0x0300_0000) >> 8,
        (num::MAS2, 0..=1) => 0x8000_0000 | (raw & 0x07FF_F07F),
        (num::MAS2, 2) => raw & 0x000F_F07F,
        (num::MAS3, 0..=2) => {
            let edge = input.pick(&[0, size - 0x1000, size, size + 0x10_0000, 0xE000_0000]);
            (edge.wrapping_add(raw & 0x3_F000)) | (raw & 0x3FF)
        }
        (num::MAS7, 0..=2) => u32::from(raw & 0x100 != 0) * 0xF,
        (num::MAS0, 0..=2) => raw & 0x100F_0003,
        (num::PID0 | num::PID1 | num::PID2, 0..=2) => raw & 3,
        (num::SRR1, 0..=1) => raw & 0x0006_F034,
        (num::DEC, 0..=2) => raw & 0xFFFF,
        (num::TCR, 0..=2) => raw & 0x0FC0_0000 | 0xF001_E000,
        _ => raw,
    }
}

/// Run one fuzz case. Panics only on an invariant violation.
pub fn run(data: &[u8]) {
    let mut input = Bytes(data);
    let (base, size) = input.pick(&[
        (0x0400_0000u64, 64u32 << 20),
        (0x8_0000_0000, 16 << 20),
        (0x0100_0000, 16 << 20),
        (0x0010_0000, 1 << 20),
    ]);
    let partition = Partition::new(Hpa::new(base), size).expect("partition");
    let host = HostCpu::from_registers(0x8021_0030, 0x8039_0010).expect("e500v2");
    let mut config = VcpuConfig::new(partition, host);
    if input.u8() & 1 != 0 {
        config.tlb1_min_page = 16 << 10;
    }
    let mem = OneWord {
        word: 0,
        base,
        size: u64::from(size),
    };
    let mut tb = Testbed::new(config, mem, 0x8000_0000, [0x8000_1000, 0, 0, 0, size]);
    for _ in 0..(1 + input.u8() % 48) {
        step(&mut tb, &mut input, &partition);
        if tb.halted.is_some() {
            return;
        }
        if let Err(v) = tb.check() {
            panic!("isolation invariant broken: {v:?}");
        }
    }
}

fn step(tb: &mut Testbed<OneWord>, input: &mut Bytes<'_>, partition: &Partition) {
    let kind = input.u8();
    match kind % 8 {
        0..=3 => {
            let r = 3 + u32::from(input.u8() % 8);
            let word = match kind / 8 % 16 {
                0..=5 => {
                    let spr = input.pick(&SPRS);
                    tb.regs.gpr[r as usize] = value_for(spr, input, partition);
                    mtspr(spr, r)
                }
                6 | 7 => mfspr(r, input.pick(&SPRS)),
                8 => 0x7C00_07A4, // tlbwe
                9 => 0x7C00_0764, // tlbre
                10 => {
                    tb.regs.gpr[r as usize] = input.u32();
                    0x7C00_0724 | r << 11 // tlbsx 0, r
                }
                11 => {
                    tb.regs.gpr[r as usize] =
                        input.pick(&[4, 0xC, 0x8000_0000, 0x8000_0008]) ^ input.u32() & 0x00FF_F000;
                    0x7C00_0624 | r << 11 // tlbivax 0, r
                }
                12 => input.pick(&[
                    0x4C00_0064,
                    0x4C00_0066,
                    0x4C00_004C,
                    0x4C00_004E,
                    0x7C1F_FBA6,
                ]),
                13 => {
                    tb.regs.gpr[r as usize] = input.u32();
                    input.pick(&[
                        0x7C00_0124 | r << 21,
                        0x7C00_0106 | r << 21,
                        0x7C00_8146,
                        0x7C00_0146,
                    ])
                }
                14 => {
                    tb.regs.gpr[r as usize] = 0x8000_0000 | input.u32() & 0x0FFF_FFFF;
                    0x7C00_03AC | r << 11 // dcbi 0, r
                }
                _ => input.u32(),
            };
            tb.mem.word = word;
            if input.u8() & 0x80 != 0 {
                tb.regs.pc = input.u32() & !3;
            }
            tb.trap(Interrupt::Program, esr::PPR, 0);
        }
        4 | 5 => {
            let ea = match input.u8() % 4 {
                0 => 0x8000_0000 | input.u32() & 0x07FF_FFFF,
                1 => input.u32() & 0x000F_FFFF,
                _ => input.u32(),
            };
            let access = input.pick(&[Access::Fetch, Access::Load, Access::Store]);
            let _ = tb.access(ea, access);
        }
        6 => {
            let vector = input.pick(&Interrupt::ALL);
            let esr = input.u32();
            let dear = input.u32();
            tb.trap(vector, esr, dear);
        }
        _ => {
            tb.now += u64::from(input.u32() >> (input.u8() % 32));
            tb.vcpu.set_external_input(input.u8() & 1 != 0);
            let _ = tb.vcpu.runnable(tb.now);
            tb.vcpu.wake();
            tb.enter();
        }
    }
}
