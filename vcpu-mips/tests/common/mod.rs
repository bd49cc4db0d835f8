//! Test harness: one guest with a 16 MiB partition at host-physical 16 MiB, a word-addressed
//! fake memory, and helpers that make the vcpu execute real instruction words.
#![allow(dead_code)]

pub mod shape;

use std::collections::BTreeMap;
use vcpu_mips::{
    Entry, GuestMemory, GuestRegs, HostAsidAllocator, HostCpu, Hpa, Outcome, Partition, Trap, Vcpu,
    VcpuConfig,
};

pub const BASE: u32 = 0x0100_0000;
pub const SIZE: u32 = 16 << 20;
pub const KERNEL_PC: u32 = 0xC010_0000;

pub const CPU: u32 = 11 << 2;
pub const RI: u32 = 10 << 2;
pub const TLBL: u32 = 2 << 2;
pub const TLBS: u32 = 3 << 2;
pub const MOD: u32 = 1 << 2;

#[derive(Default)]
pub struct Mem(pub BTreeMap<u32, u32>);

impl GuestMemory for Mem {
    fn read_word(&self, addr: Hpa) -> u32 {
        let addr = addr.get() as u32;
        assert!(
            (BASE..BASE + SIZE).contains(&addr),
            "read outside the partition: {:#x}",
            addr
        );
        *self.0.get(&addr).unwrap_or(&0)
    }
}

pub fn mtc0(rt: u32, rd: u32, sel: u32) -> u32 {
    0x4080_0000 | rt << 16 | rd << 11 | sel
}

pub fn mfc0(rt: u32, rd: u32, sel: u32) -> u32 {
    0x4000_0000 | rt << 16 | rd << 11 | sel
}

pub const TLBR: u32 = 0x4200_0001;
pub const TLBWI: u32 = 0x4200_0002;
pub const TLBWR: u32 = 0x4200_0006;
pub const TLBP: u32 = 0x4200_0008;
pub const ERET: u32 = 0x4200_0018;
pub const DERET: u32 = 0x4200_001F;
pub const WAIT: u32 = 0x4200_0020;
pub const NOP: u32 = 0;

pub fn partition() -> Partition {
    Partition::new(Hpa::new(BASE as u64), SIZE).unwrap()
}

pub struct Guest {
    pub vcpu: Vcpu,
    pub regs: GuestRegs,
    pub mem: Mem,
    pub alloc: HostAsidAllocator,
    pub now: u32,
}

impl Guest {
    pub fn new() -> Self {
        Self::with_config(VcpuConfig::new(partition(), HostCpu::AR7161))
    }

    pub fn with_config(config: VcpuConfig) -> Self {
        let mut g = Guest {
            vcpu: Vcpu::new(config, 0).unwrap(),
            regs: GuestRegs::at_entry(KERNEL_PC),
            mem: Mem::default(),
            alloc: HostAsidAllocator::new(),
            now: 0,
        };
        g.enter();
        g
    }

    /// Store a word at a guest RAM-window address.
    pub fn poke(&mut self, va: u32, word: u32) {
        assert!((0xC000_0000..0xC000_0000 + SIZE).contains(&va));
        self.mem.0.insert(va - 0xC000_0000 + BASE, word);
    }

    pub fn enter(&mut self) -> Entry {
        self.vcpu
            .prepare_entry(&mut self.regs, self.now, &mut self.alloc)
            .expect("entry")
    }

    pub fn trap(&mut self, cause: u32, bad_vaddr: u32) -> Outcome {
        let trap = Trap {
            cause,
            bad_vaddr,
            now: self.now,
        };
        self.vcpu
            .handle_trap(&mut self.regs, &trap, &self.mem, &self.alloc)
    }

    /// Execute `word` at the current PC (a window address) as a CpU (CE = 0) trap.
    pub fn exec(&mut self, word: u32) -> Outcome {
        self.exec_as(CPU, word)
    }

    pub fn exec_as(&mut self, cause: u32, word: u32) -> Outcome {
        let pc = self.regs.pc;
        self.poke(pc, word);
        self.trap(cause, 0)
    }

    /// Write a CP0 register through a real `mtc0` (kernel mode required).
    pub fn write_cp0(&mut self, rd: u32, sel: u32, value: u32) {
        self.regs.gpr[8] = value;
        let pc = self.regs.pc;
        assert_eq!(self.exec(mtc0(8, rd, sel)), Outcome::Resume);
        assert_eq!(self.regs.pc, pc + 4);
    }

    /// Read a CP0 register through a real `mfc0`.
    pub fn read_cp0(&mut self, rd: u32, sel: u32) -> u32 {
        assert_eq!(self.exec(mfc0(9, rd, sel)), Outcome::Resume);
        self.regs.gpr[9]
    }

    /// Write a TLB entry through the CP0 registers and `tlbwi`.
    pub fn tlbwi(&mut self, index: u32, hi: u32, mask: u32, lo0: u32, lo1: u32) -> Outcome {
        self.write_cp0(0, 0, index);
        self.write_cp0(5, 0, mask);
        self.write_cp0(3, 0, lo1);
        self.write_cp0(2, 0, lo0);
        self.write_cp0(10, 0, hi);
        self.exec(TLBWI)
    }
}
