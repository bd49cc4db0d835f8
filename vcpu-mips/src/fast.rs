//! The fast path for the traps a guest kernel takes all the time: hypercalls and the privileged
//! instructions, with only part of the registers saved.
//!
//! The arch layer saves only the registers its calling convention does not preserve before it
//! calls [`Vcpu::fast_trap`] (a Coprocessor Unusable trap with CE = 0: hypercalls and the
//! privileged instructions), so the fast path may only read and write those registers (a mask
//! of usable GPRs). It declines, changing nothing, what needs more: an instruction in a branch
//! delay slot (evaluating the branch may read any register), an instruction using a register
//! outside the mask, `wait` (ends the guest's turn), `rdpgpr`/`wrpgpr`, `deret`, reserved
//! encodings and refused cache operations (reflected by the general path). The general path
//! ([`Vcpu::handle_trap`]) then handles them. The result is the same either way.
//!
//! Other exceptions (TLB faults, `syscall`, address errors...) use no general register
//! ([`trap_uses_gprs`]), so the arch may call [`Vcpu::handle_trap`] for them from its fast
//! entry too.
//!
//! Most fast traps return straight into the guest ([`Fast::Done`]); when the instruction changed
//! what [`Vcpu::prepare_entry`] decides (a Status, EntryHi or `ei` that changed the real mode, the
//! address space or made an interrupt deliverable; Cause, `eret`, `tlbr`) or may have changed the
//! guest's timer, [`Fast::Reenter`] says so, and the arch calls `prepare_entry` (and reprograms
//! its timer) before returning.

use core::ops::Deref;

use crate::asid::HostAsidAllocator;
use crate::asid::Space;
use crate::cache_op::HostCacheAction;
use crate::cp0::RegId;
use crate::decode::{decode, Instruction, HYPERCALL_WORD};
use crate::emulate::Exec;
use crate::exception::code;
use crate::interface::{GuestRegs, Hypercall, Outcome, RealMode};
use crate::vcpu::Vcpu;

/// What [`Vcpu::fast_trap`] did. (A few words: it is returned through every fast trap.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fast {
    /// Not handled: take the general path (nothing was changed).
    Declined,
    /// Handled; `regs.pc` is where the guest continues. Return straight into the guest.
    Done,
    /// A hypercall to serve; `regs.pc` is already past it. Store the result with
    /// [`Hypercall::complete`].
    Hypercall(Hypercall),
    /// Handled, but the guest's mode, address space, interrupt state or timer may have
    /// changed: call [`Vcpu::prepare_entry`] before returning into the guest, and if `timer`
    /// (Count, Compare or Cause.DC was written), program the host timer from
    /// [`Vcpu::timer_deadline`] again.
    Reenter { timer: bool },
    /// Handled; invalidate the host TLB entries [`Vcpu::host_invalidation`] covers, then
    /// return into the guest.
    InvalidateHost,
    /// Handled; execute these cache operations, then return into the guest.
    Cache(HostCacheAction),
}

/// Whether [`Vcpu::handle_trap`] may read or write general registers for an exception with
/// this Cause (a Coprocessor Unusable trap with CE = 0 or a Reserved Instruction trap: it
/// emulates the instruction). For every other exception it reads and writes only `regs.pc`
/// and `regs.branch_delay`, so an arch may call it having saved only part of the registers.
pub const fn trap_uses_gprs(cause: u32) -> bool {
    let exc_code = ((cause >> 2) & 0x1F) as u8;
    exc_code == code::RI || (exc_code == code::CPU && (cause >> 28) & 3 == 0)
}

impl Vcpu {
    /// The hypercall, on its own so that an arch can keep its path short: if `word` (the
    /// instruction at `regs.pc`, trapped with Coprocessor Unusable, CE = 0) is the hypercall
    /// and the guest may make it, advance the PC and return the call; otherwise change nothing.
    /// [`Vcpu::fast_trap`] recognises it too.
    #[inline]
    pub fn fast_hypercall(&mut self, regs: &mut GuestRegs, word: u32) -> Option<Hypercall> {
        if word != HYPERCALL_WORD || regs.branch_delay || !self.kernel_mode() {
            return None;
        }
        regs.pc = regs.pc.wrapping_add(4);
        Some(Hypercall {
            nr: regs.gpr[3],
            args: [regs.gpr[4], regs.gpr[5], regs.gpr[6], regs.gpr[7]],
        })
    }

    /// `mfc0`, on its own like [`Vcpu::fast_hypercall`]: if `word` is an `mfc0` the guest may
    /// execute into a usable register, do it and return true; otherwise change nothing.
    #[inline]
    pub fn fast_mfc0(
        &mut self,
        regs: &mut GuestRegs,
        word: u32,
        now: impl FnOnce() -> u32,
        usable_gprs: u32,
    ) -> bool {
        let rt = (word >> 16) as u8 & 31;
        if word & 0xFFE0_07F8 != 0x4000_0000
            || usable_gprs & (1 << rt) == 0
            || regs.branch_delay
            || !self.kernel_mode()
        {
            return false;
        }
        let id = RegId {
            rd: (word >> 11) as u8 & 31,
            sel: word as u8 & 7,
        };
        let value = self.cp0.read(id, now(), &self.tlb, &self.config);
        regs.set(rt, value);
        regs.pc = regs.pc.wrapping_add(4);
        true
    }

    /// Try to handle the Coprocessor Unusable trap (CE = 0) on `word`, the instruction at
    /// `regs.pc` (fetched by the caller). `now` reads the host time and `alloc` gives the host
    /// ASID allocator, each only when the instruction needs it. `usable_gprs` has bit n set when
    /// GPR n may be read and written (was saved by the arch's fast entry).
    #[inline]
    pub fn fast_trap<A: Deref<Target = HostAsidAllocator>>(
        &mut self,
        regs: &mut GuestRegs,
        word: u32,
        now: impl FnOnce() -> u32,
        usable_gprs: u32,
        alloc: impl FnOnce() -> A,
    ) -> Fast {
        // Only from virtual kernel mode: the caller fetched the word from the RAM window, which
        // only kernel mode may fetch from (a supervisor or user guest with CU0 set goes through
        // the general path, which fetches as the guest would).
        if regs.branch_delay || !self.kernel_mode() {
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
        // `mfc0` and `mtc0` recognised in line (opcode COP0, rs 0 or 4, bits 10:3 zero), as
        // `decode` would name them.
        let rt = (word >> 16) as u8 & 31;
        let rd = (word >> 11) as u8 & 31;
        let sel = word as u8 & 7;
        let insn = match word & 0xFFE0_07F8 {
            0x4000_0000 => {
                if usable_gprs & (1 << rt) == 0 {
                    return Fast::Declined;
                }
                let value = self
                    .cp0
                    .read(RegId { rd, sel }, now(), &self.tlb, &self.config);
                regs.set(rt, value);
                regs.pc = regs.pc.wrapping_add(4);
                return Fast::Done;
            }
            0x4080_0000 => Instruction::Mtc0 { rt, rd, sel },
            _ => decode(word),
        };
        self.fast_instruction(regs, insn, now, usable_gprs, alloc)
    }

    /// What [`Vcpu::prepare_entry`] decides from, apart from interrupts: the real mode and the
    /// guest address space (ASID, ERL, kernel or user mode).
    #[inline]
    fn entry_state(&self) -> (RealMode, Space) {
        (self.real_mode(), self.space())
    }

    /// [`Fast::Done`] when the instruction left what [`Vcpu::prepare_entry`] decides as it was
    /// (`before`, and no interrupt the guest would take now; the timer was brought up to date by
    /// the instruction), else [`Fast::Reenter`]. Guest kernels write Status and EntryHi all
    /// the time without changing either (Linux's exception entry and return, `__update_tlb`).
    #[inline]
    fn done_unless_entry_changed(&self, before: (RealMode, Space)) -> Fast {
        if self.entry_state() == before && !self.interrupt_deliverable() {
            Fast::Done
        } else {
            Fast::Reenter { timer: false }
        }
    }

    /// The privileged instructions other than `mfc0` and the hypercall, with the general path's
    /// semantics (the same helpers as [`Vcpu::execute`]).
    #[inline(never)]
    fn fast_instruction<A: Deref<Target = HostAsidAllocator>>(
        &mut self,
        regs: &mut GuestRegs,
        insn: Instruction,
        now: impl FnOnce() -> u32,
        usable_gprs: u32,
        alloc: impl FnOnce() -> A,
    ) -> Fast {
        let usable = |r: u8| usable_gprs & (1 << (r & 31)) != 0;
        let next = regs.pc.wrapping_add(4);
        let fast = match insn {
            Instruction::Mtc0 { rt, rd, sel } if usable(rt) => {
                let before = self.entry_state();
                self.cp0
                    .write(RegId { rd, sel }, regs.get(rt), now(), &mut self.tlb);
                match (rd, sel) {
                    // Count, Compare, Cause (IP0/IP1 and DC).
                    (9, 0) | (11, 0) | (13, 0) => Fast::Reenter { timer: true },
                    // EntryHi (the ASID), Status (mode, ERL, interrupt enables).
                    (10, 0) | (12, 0) => self.done_unless_entry_changed(before),
                    _ => Fast::Done,
                }
            }
            Instruction::Di { rt } if usable(rt) => {
                self.di_ei(regs, rt, false);
                Fast::Done
            }
            Instruction::Ei { rt } if usable(rt) => {
                let before = self.entry_state();
                // Whether an interrupt is deliverable now depends on the timer.
                self.cp0.timer.update(now());
                self.di_ei(regs, rt, true);
                self.done_unless_entry_changed(before)
            }
            Instruction::Eret => {
                regs.pc = self.eret();
                return Fast::Reenter { timer: false };
            }
            Instruction::Tlbr => {
                // EntryHi (the ASID) is loaded from the entry.
                self.tlbr();
                Fast::Reenter { timer: false }
            }
            Instruction::Tlbp => {
                self.tlbp();
                Fast::Done
            }
            Instruction::Tlbwi | Instruction::Tlbwr => {
                let index = self.tlb_index(insn == Instruction::Tlbwr);
                match self.tlb_write(index, &alloc()) {
                    Outcome::InvalidateHost => Fast::InvalidateHost,
                    _ => Fast::Done,
                }
            }
            Instruction::Cache { op, base, offset } if usable(base) => {
                let ea = regs.get(base).wrapping_add(offset as i32 as u32);
                match self.cache(op, ea) {
                    Exec::Done(Outcome::Cache(action)) => Fast::Cache(action),
                    Exec::Done(_) => Fast::Done,
                    // Nothing changed: the general path reflects it.
                    _ => return Fast::Declined,
                }
            }
            _ => return Fast::Declined,
        };
        regs.pc = next;
        fast
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HostCpu, Hpa, Partition, VcpuConfig};

    fn vcpu() -> Vcpu {
        let p = Partition::new(Hpa::new(16 << 20), 16 << 20).unwrap();
        Vcpu::new(VcpuConfig::new(p, HostCpu::AR7161), 1000).unwrap()
    }

    const ALL: u32 = u32::MAX;

    fn alloc() -> &'static HostAsidAllocator {
        static ALLOC: HostAsidAllocator = HostAsidAllocator::new();
        &ALLOC
    }

    #[test]
    fn hypercall_takes_registers_and_advances() {
        let mut v = vcpu();
        let mut regs = GuestRegs::at_entry(0xC010_0000);
        regs.gpr[3] = 6;
        regs.gpr[4] = 1;
        match v.fast_trap(&mut regs, HYPERCALL_WORD, || 2000, ALL, alloc) {
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
            assert_eq!(a.fast_trap(&mut ra, word, || 5000, ALL, alloc), Fast::Done);
            let value = b.cp0.read(
                RegId {
                    rd: rd as u8,
                    sel: sel as u8,
                },
                5000,
                &b.tlb,
                &b.config,
            );
            rb.set(8, value);
            rb.pc += 4;
            assert_eq!(ra, rb, "mfc0 $8, ${rd}, {sel}");
        }
    }

    #[test]
    fn declines_what_it_must_not_do() {
        let mut v = vcpu();
        let mut regs = GuestRegs::at_entry(0xC010_0000);
        let mtc0_status_s0 = 0x4090_6000; // mtc0 $16, $12: $16 not usable
        assert_eq!(
            v.fast_trap(&mut regs, mtc0_status_s0, || 0, 0xFFFF, alloc),
            Fast::Declined
        );
        let wait = 0x4200_0020;
        assert_eq!(
            v.fast_trap(&mut regs, wait, || 0, ALL, alloc),
            Fast::Declined
        );
        let mfc0_s0 = 0x4010_6000; // mfc0 $16, $12: $16 not usable
        assert_eq!(
            v.fast_trap(&mut regs, mfc0_s0, || 0, 0xFFFF, alloc),
            Fast::Declined
        );
        regs.branch_delay = true;
        assert_eq!(
            v.fast_trap(&mut regs, HYPERCALL_WORD, || 0, ALL, alloc),
            Fast::Declined
        );
        assert_eq!(regs.pc, 0xC010_0000);
    }

    #[test]
    fn guest_user_mode_is_declined() {
        let mut v = vcpu();
        // Guest user mode: KSU = 10, EXL = ERL = 0, CU0 clear.
        v.cp0.status = 2 << 3;
        let mut regs = GuestRegs::at_entry(0x0040_0000);
        assert_eq!(
            v.fast_trap(&mut regs, HYPERCALL_WORD, || 0, ALL, alloc),
            Fast::Declined
        );
    }
}
