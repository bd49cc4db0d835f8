//! Guest states for the property tests: CP0 and TLB writes through the general path from
//! virtual kernel mode, a timer about to fire, a final Status.

use super::*;
use proptest::prelude::*;
use vcpu_mips::shadow::Privilege;
use vcpu_mips::Outcome;

/// CP0 writes that set up a varied guest state: (rd, sel, value).
pub fn setup_write() -> impl Strategy<Value = (u32, u32, u32)> {
    prop_oneof![
        // Status: kernel/supervisor/user, EXL/ERL, IE, IM, CU0, BEV kept clear mostly.
        3 => any::<u32>().prop_map(|v| (12, 0, v & !(1 << 22))),
        2 => any::<u32>().prop_map(|v| (10, 0, v)),
        1 => any::<u32>().prop_map(|v| (13, 0, v)),
        // Software interrupts pending.
        1 => (1u32..4).prop_map(|ip| (13, 0, ip << 8)),
        1 => any::<u32>().prop_map(|v| (11, 0, v)),
        1 => any::<u32>().prop_map(|v| (9, 0, v)),
        1 => any::<u32>().prop_map(|v| (14, 0, v)),
        1 => any::<u32>().prop_map(|v| (30, 0, v)),
        1 => (0u32..16).prop_map(|v| (0, 0, v)),
        1 => (0u32..16).prop_map(|v| (6, 0, v)),
        1 => (0u32..0x3000, any::<u8>()).prop_map(|(pfn, f)| (2, 0, pfn << 6 | u32::from(f & 0x3F))),
        1 => (0u32..0x3000, any::<u8>()).prop_map(|(pfn, f)| (3, 0, pfn << 6 | u32::from(f & 0x3F))),
        1 => prop::sample::select(vec![0u32, 0x6000, 0x1E000, 0x7E000]).prop_map(|m| (5, 0, m)),
    ]
}

/// The Status the guest is left with: as the setup made it (kernel mode), or kernel mode with
/// every interrupt line enabled but IE, EXL and ERL chosen, or supervisor/user mode.
pub fn final_status() -> impl Strategy<Value = Option<u32>> {
    prop_oneof![
        2 => Just(None),
        1 => (0u32..8).prop_map(|bits| Some(0xFF00 | (bits & 1) | (bits & 6))),
        1 => (1u32..3, any::<bool>(), any::<bool>()).prop_map(|(ksu, ie, cu0)| {
            Some(0xFF00 | ksu << 3 | u32::from(ie) | u32::from(cu0) << 28)
        }),
    ]
}

/// A guest whose state was shaped by `setup` (CP0 writes and TLB writes, through the general
/// path, each from virtual kernel mode), then given a timer that fires `timer` ticks from now
/// (Count 0, Compare = `timer`) if asked and `status`, then entered. `None` if it cannot run.
pub fn shaped_guest(
    setup: &[((u32, u32, u32), bool)],
    timer: Option<u32>,
    status: Option<u32>,
    now: u32,
) -> Option<Guest> {
    let mut g = Guest::new();
    g.now = now;
    for &((rd, sel, value), write_tlb) in setup {
        to_kernel(&mut g)?;
        g.write_cp0(rd, sel, value);
        if write_tlb {
            to_kernel(&mut g)?;
            let pc = g.regs.pc;
            g.poke(pc, TLBWR);
            let _ = g.trap(CPU, 0);
        }
    }
    to_kernel(&mut g)?;
    if let Some(ticks) = timer {
        g.write_cp0(9, 0, 0);
        g.write_cp0(11, 0, ticks);
    }
    if let Some(status) = status {
        g.write_cp0(12, 0, status);
    }
    g.vcpu
        .prepare_entry(&mut g.regs, g.now, &mut g.alloc)
        .ok()?;
    Some(g)
}

/// Put the guest in virtual kernel mode (a reflected `syscall` sets EXL), at a fixed PC.
pub fn to_kernel(g: &mut Guest) -> Option<()> {
    g.regs.pc = KERNEL_PC + 0x1000;
    g.regs.branch_delay = false;
    if g.vcpu.privilege() != Privilege::Kernel {
        let Outcome::Reflected { .. } = g.trap(8 << 2, 0) else {
            return None;
        };
        g.regs.pc = KERNEL_PC + 0x1000;
    }
    Some(())
}

pub fn state(g: &Guest) -> String {
    format!("{:?} {:?} {:?}", g.vcpu, g.regs, g.alloc)
}

pub trait CloneGuest {
    fn clone_guest(&self) -> Guest;
}

impl CloneGuest for Guest {
    fn clone_guest(&self) -> Guest {
        Guest {
            vcpu: self.vcpu.clone(),
            regs: self.regs,
            mem: Mem(self.mem.0.clone()),
            alloc: self.alloc.clone(),
            now: self.now,
        }
    }
}
