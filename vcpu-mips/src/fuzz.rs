//! The fuzz target's body, shared by `fuzz/fuzz_targets/trap.rs` and `cargo test`.
//!
//! Input bytes drive a guest: an initial virtual CP0 state (written through `mtc0` emulation,
//! so every write goes through the real masks), general registers, then a series of traps, each
//! with an instruction word placed at the guest PC, a trap cause and a BadVAddr. After every
//! step the isolation invariants are checked; a violation panics (a fuzzer finding).

use crate::addr::{Hpa, Partition};
use crate::asid::HostAsidAllocator;
use crate::config::{HostCpu, VcpuConfig};
use crate::cp0::RegId;
use crate::interface::{GuestMemory, GuestRegs, Outcome, Trap};
use crate::vcpu::Vcpu;

/// Partition used by the fuzz body: 16 MiB at host-physical 16 MiB.
pub const FUZZ_PARTITION_BASE: u32 = 0x0100_0000;

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
}

/// Memory where every word reads as one chosen instruction, except a second word at `pc`.
struct OneWordMemory {
    word: u32,
    branch: u32,
}

impl GuestMemory for OneWordMemory {
    fn read_word(&self, addr: Hpa) -> u32 {
        let addr = addr.get() as u32;
        let p = Partition::new(Hpa::new(FUZZ_PARTITION_BASE as u64), 16 << 20).unwrap();
        assert!(
            p.holds_host_range(addr, 4u32),
            "vcpu read outside the partition: {:#x}",
            addr
        );
        assert_eq!(addr & 3, 0, "unaligned instruction fetch");
        if addr & 4 == 0 {
            self.branch
        } else {
            self.word
        }
    }
}

const INTERESTING_REGS: [(u8, u8); 16] = [
    (0, 0),
    (2, 0),
    (3, 0),
    (5, 0),
    (6, 0),
    (10, 0),
    (12, 0),
    (13, 0),
    (14, 0),
    (15, 1),
    (11, 0),
    (9, 0),
    (4, 0),
    (7, 0),
    (30, 0),
    (16, 0),
];

/// Run one fuzz case. Panics only on an invariant violation.
pub fn run(data: &[u8]) {
    let mut input = Bytes(data);
    let partition = Partition::new(Hpa::new(FUZZ_PARTITION_BASE as u64), 16 << 20).unwrap();
    let tlb_entries = [16, 32, 64, 256][usize::from(input.u8() % 4)];
    let config = VcpuConfig {
        tlb_entries,
        ..VcpuConfig::new(partition, HostCpu::AR7161)
    };
    let mut now = input.u32();
    let mut vcpu = Vcpu::new(config, now).unwrap();
    let mut alloc = HostAsidAllocator::new();
    // Initial CP0 state through the write masks.
    for _ in 0..(input.u8() % 24) {
        let (rd, sel) = INTERESTING_REGS[usize::from(input.u8() % 16)];
        let value = input.u32();
        vcpu.cp0.write(RegId { rd, sel }, value, now, &mut vcpu.tlb);
    }
    let mut regs = GuestRegs::at_entry(0xC010_0000);
    for r in 1..32 {
        if input.u8() & 1 != 0 {
            regs.gpr[r] = input.u32();
        }
    }
    for _ in 0..(1 + input.u8() % 16) {
        let mem = OneWordMemory {
            word: input.u32(),
            branch: input.u32(),
        };
        let flags = input.u8();
        regs.pc = input.u32() & !3;
        if flags & 0x80 != 0 {
            regs.pc = 0xC000_0000 | (regs.pc & 0x00FF_FFFC);
        }
        regs.branch_delay = flags & 1 != 0;
        let exc = match flags >> 1 & 7 {
            0 => 11,
            1 => 10,
            2 => 2,
            3 => 3,
            4 => 1,
            _ => input.u8() & 0x1F,
        };
        let ce = if flags & 0x40 != 0 {
            u32::from(input.u8() & 3)
        } else {
            0
        };
        let cause = (u32::from(exc) << 2) | (ce << 28);
        now = now.wrapping_add(u32::from(input.u8()) << 8);
        let trap = Trap {
            cause,
            bad_vaddr: input.u32(),
            now,
        };
        let outcome = vcpu.handle_trap(&mut regs, &trap, &mem, &alloc);
        check_outcome(&vcpu, &outcome, &alloc);
        if matches!(outcome, Outcome::Halt(_)) {
            return;
        }
        if vcpu.prepare_entry(&mut regs, now, &mut alloc).is_err() {
            return;
        }
        vcpu.audit(&alloc).expect("refill cache invariant");
    }
}

fn check_outcome(vcpu: &Vcpu, outcome: &Outcome, alloc: &HostAsidAllocator) {
    let partition = vcpu.config().partition;
    match outcome {
        Outcome::MapHost(e) => {
            assert_ne!(e.entry_hi & 0xFF, 0, "host ASID 0 given to a guest");
            assert_eq!((e.entry_lo0 | e.entry_lo1) & 1, 0, "host G set");
            let page = crate::tlb::page_size_of(e.page_mask);
            for lo in [e.entry_lo0, e.entry_lo1] {
                if let Some((start, _)) = crate::shadow::lo_host_range(lo, page) {
                    assert!(
                        partition.holds_host_range(start, page),
                        "host mapping outside the partition"
                    );
                }
            }
            let space = vcpu.space();
            assert_eq!(Some(e.entry_hi as u8), vcpu.asids.current(space, alloc));
        }
        Outcome::Cache(a) => {
            assert!(a.count >= 1 && a.count <= 8);
            if a.op == crate::cache_op::host_op::HIT_WB_D
                || a.op == crate::cache_op::host_op::HIT_WB_INVALIDATE_D
            {
                assert_eq!(a.count, 1);
                assert!(
                    partition.holds_host_range(a.first, 32u32),
                    "hit op outside the partition"
                );
            } else {
                assert!(
                    a.first >= 0x8000_0000 && a.first < 0xA000_0000,
                    "index cache op outside kseg0"
                );
                let last = a.first + a.stride * (a.count - 1);
                assert!(last < 0xA000_0000);
            }
        }
        _ => {}
    }
}
