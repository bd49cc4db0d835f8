//! The fast path for the traps a guest kernel takes all the time: hypercalls and `mfc0`.
//!
//! The arch layer saves only the registers its calling convention does not preserve before it
//! calls [`Vcpu::fast_trap`], so the fast path may only touch those (a mask of usable GPRs),
//! must not be in a delay slot, and handles only what has no effect on the guest's mode,
//! address space, timer or interrupts. Anything else is declined and goes through
//! [`Vcpu::handle_trap`] as usual; the outcome is the same either way.

use crate::cp0::RegId;
use crate::decode::{decode, Instruction, HYPERCALL_WORD};
use crate::interface::{GuestRegs, Hypercall};
use crate::vcpu::Vcpu;

/// What [`Vcpu::fast_trap`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fast {
    /// Not handled: take the general path (nothing was changed).
    Declined,
    /// Handled; `regs.pc` is past the instruction. Return straight into the guest.
    Done,
    /// A hypercall to serve; `regs.pc` is already past it. Store the result with
    /// [`Hypercall::complete`].
    Hypercall(Hypercall),
}

impl Vcpu {
    /// Try to handle the Coprocessor Unusable trap on `word`, the instruction at `regs.pc`
    /// (fetched by the caller); `now` reads the host time (only when a register needs it).
    /// `usable_gprs` has bit n set when GPR n may be written (was saved by the arch's fast
    /// entry).
    #[inline]
    pub fn fast_trap(&mut self, regs: &mut GuestRegs, word: u32, now: impl FnOnce() -> u32, usable_gprs: u32) -> Fast {
        if regs.branch_delay || !self.cp0_usable() {
            return Fast::Declined;
        }
        // The hypercall is one exact word: no need to decode it.
        if word == HYPERCALL_WORD {
            regs.pc = regs.pc.wrapping_add(4);
            return Fast::Hypercall(Hypercall {
                nr: regs.gpr[3],
                args: [regs.gpr[4], regs.gpr[5], regs.gpr[6], regs.gpr[7]],
            });
        }
        match decode(word) {
            Instruction::Mfc0 { rt, rd, sel } if usable_gprs & (1 << rt) != 0 => {
                let value = self.cp0.read(RegId { rd, sel }, now(), &self.tlb, &self.config);
                regs.set(rt, value);
                regs.pc = regs.pc.wrapping_add(4);
                Fast::Done
            }
            _ => Fast::Declined,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Hpa, HostCpu, Partition, VcpuConfig};

    fn vcpu() -> Vcpu {
        let p = Partition::new(Hpa::new(16 << 20), 16 << 20).unwrap();
        Vcpu::new(VcpuConfig::new(p, HostCpu::AR7161), 1000).unwrap()
    }

    const ALL: u32 = u32::MAX;

    #[test]
    fn hypercall_takes_registers_and_advances() {
        let mut v = vcpu();
        let mut regs = GuestRegs::at_entry(0xC010_0000);
        regs.gpr[3] = 6;
        regs.gpr[4] = 1;
        match v.fast_trap(&mut regs, HYPERCALL_WORD, || 2000, ALL) {
            Fast::Hypercall(h) => assert_eq!((h.nr, h.args[0]), (6, 1)),
            other => panic!("{other:?}"),
        }
        assert_eq!(regs.pc, 0xC010_0004);
    }

    #[test]
    fn mfc0_matches_the_general_path() {
        for (rd, sel) in [(12, 0), (13, 0), (9, 0), (15, 0), (16, 1), (14, 0)] {
            let word = 0x4000_0000 | (8 << 16) | (rd << 11) | sel;
            let (mut a, mut b) = (vcpu(), vcpu());
            let mut ra = GuestRegs::at_entry(0xC010_0000);
            let mut rb = ra;
            assert_eq!(a.fast_trap(&mut ra, word, || 5000, ALL), Fast::Done);
            let value = b.cp0.read(RegId { rd: rd as u8, sel: sel as u8 }, 5000, &b.tlb, &b.config);
            rb.set(8, value);
            rb.pc += 4;
            assert_eq!(ra, rb, "mfc0 $8, ${rd}, {sel}");
        }
    }

    #[test]
    fn declines_what_it_must_not_do() {
        let mut v = vcpu();
        let mut regs = GuestRegs::at_entry(0xC010_0000);
        let mtc0_status = 0x4088_6000;
        assert_eq!(v.fast_trap(&mut regs, mtc0_status, || 0, ALL), Fast::Declined);
        let mfc0_s0 = 0x4010_6000; // mfc0 $16, $12: $16 not usable
        assert_eq!(v.fast_trap(&mut regs, mfc0_s0, || 0, 0xFFFF), Fast::Declined);
        regs.branch_delay = true;
        assert_eq!(v.fast_trap(&mut regs, HYPERCALL_WORD, || 0, ALL), Fast::Declined);
        assert_eq!(regs.pc, 0xC010_0000);
    }

    #[test]
    fn guest_user_mode_is_declined() {
        let mut v = vcpu();
        // Guest user mode: KSU = 10, EXL = ERL = 0, CU0 clear.
        v.cp0.status = 2 << 3;
        let mut regs = GuestRegs::at_entry(0x0040_0000);
        assert_eq!(v.fast_trap(&mut regs, HYPERCALL_WORD, || 0, ALL), Fast::Declined);
    }
}
