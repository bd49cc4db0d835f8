//! The guest's state at boot: what a Linux e500 kernel's entry code (`head_85xx.S`,
//! `85xx_entry_mapping.S`) expects to find, and what ePAPR promises.
//!
//! - MSR = 0: supervisor state, address space 0, interrupts off (the kernel sets its own MSR
//!   with `rfi`).
//! - TLB1 entry 0 maps the RAM window from effective address 0x8000_0000 (`PAGE_OFFSET`) to
//!   guest-physical 0 with the smallest power-of-4 page that covers all of RAM (at most 1 GiB),
//!   TID 0, TS 0, IPROT, supervisor read/write/execute. The kernel's `tlbsx` on its own PC finds
//!   it, reads its size and RPN to learn where it runs, protects it and later replaces it with
//!   its own 64 MiB entry. It covers the device tree, which the loader puts at the top of RAM.
//! - r3 = the device tree's effective address, r6 = the ePAPR magic, r7 = the size of the
//!   initial mapping (at most the mapped size), r4 = r5 = 0; every other register 0.
//! - Everything else zero: no other TLB entry, timers stopped, no interrupt pending.

use crate::interface::GuestRegs;
use crate::sid::SidSet;
use crate::spr::mas::*;
use crate::sprs::SprFile;
use crate::timer::Timers;
use crate::tlb::{Tlb, TlbEntry, TlbIndex};
use crate::vcpu::Vcpu;
use guest_mem::PPC_RAM_WINDOW;

/// The TLB1 entry the guest starts with.
pub const ENTRY_TLB1_INDEX: u8 = 0;

/// The TSIZE of the entry mapping for `ram` bytes: the smallest power of 4 (KiB) covering
/// them, at most 1 GiB (TSIZE 10).
pub const fn entry_tsize(ram: u32) -> u32 {
    let mut tsize = 1;
    while tsize < 10 && crate::tlb::tsize_bytes(tsize) < ram as u64 {
        tsize += 1;
    }
    tsize
}

impl Vcpu {
    /// Start over at guest boot at host time `now`, keeping the configuration. The guest's
    /// previous shadow IDs are retired (none of its old host entries can match again).
    pub fn reset(&mut self, now: u64) {
        self.sprs = SprFile::new();
        self.timers = Timers::new(now);
        self.tlb = Tlb::new();
        let tsize = entry_tsize(self.config.partition.size());
        self.tlb.write(
            TlbIndex::Tlb1(ENTRY_TLB1_INDEX),
            TlbEntry::from_mas(
                MAS1_V | MAS1_IPROT | tsize << 8,
                PPC_RAM_WINDOW.get(),
                MAS3_SX | MAS3_SW | MAS3_SR,
                0,
                true,
            ),
        );
        self.sids.retire_all();
        self.refill.clear();
        self.external = false;
        self.waiting = false;
        self.pending_halt = None;
        self.retiring = SidSet::EMPTY;
    }

    /// Bytes the boot mapping covers.
    pub fn entry_mapping_size(&self) -> u32 {
        crate::tlb::tsize_bytes(entry_tsize(self.config.partition.size())) as u32
    }

    /// The registers to start the guest with at `pc` with the loader's r3..r7 (`args`); r7 is
    /// limited to the size of the boot mapping.
    pub fn boot_registers(&self, pc: u32, args: [u32; 5]) -> GuestRegs {
        let mut args = args;
        args[4] = args[4].min(self.entry_mapping_size());
        GuestRegs::at_entry(pc, args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_mapping_covers_ram() {
        assert_eq!(entry_tsize(1 << 20), 5);
        assert_eq!(entry_tsize(16 << 20), 7);
        assert_eq!(entry_tsize(24 << 20), 8);
        assert_eq!(entry_tsize(64 << 20), 8);
        assert_eq!(entry_tsize(256 << 20), 9);
        assert_eq!(entry_tsize(0x8000_0000), 10);
    }
}
