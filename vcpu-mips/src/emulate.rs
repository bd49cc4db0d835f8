//! Emulation of the trapping privileged instructions on the virtual CPU.
//!
//! Flow for a Coprocessor Unusable (CE = 0) or Reserved Instruction trap: fetch the instruction
//! (at EPC, or EPC + 4 in a delay slot), decode it, check the guest's virtual privilege (CP0 is
//! usable in virtual kernel mode or with Status.CU0 = 1, exactly as on hardware; otherwise the
//! guest gets Coprocessor Unusable), evaluate the branch at EPC if in a delay slot (applying its
//! link before the slot instruction runs, as the hardware order is), execute, and continue at
//! the branch target or the next instruction. An instruction that ends in an exception leaves the
//! registers as they were (the link write is undone) and the exception is delivered with EPC at
//! the branch and Cause.BD set, as hardware reports it.

use core::ops::Deref;

use crate::asid::HostAsidAllocator;
use crate::asid::Space;
use crate::branch;
use crate::cache_op::{classify, hit_action, index_action, CachePlan};
use crate::cp0::{RegId, ST_ERL, ST_EXL, ST_IE};
use crate::decode::{decode, Instruction};
use crate::exception::{code, GuestException};
use crate::interface::{GuestMemory, GuestRegs, Hypercall, Outcome, Reflection};
use crate::shadow::Access;
use crate::tlb::{TlbEntry, LO_G, LO_V};
use crate::vcpu::Vcpu;

/// CCRes: the 24K's Count increments every second cycle.
const CC_RES: u32 = 2;

pub(crate) enum Exec {
    /// Completed: continue after the instruction (or at the branch target).
    Done(Outcome),
    /// `eret`: continue at this PC.
    Jump(u32),
    /// Deliver this exception for the instruction.
    Fault(GuestException, Reflection),
}

impl Vcpu {
    pub(crate) fn emulate(
        &mut self,
        regs: &mut GuestRegs,
        trap_code: u8,
        now: u32,
        mem: &impl GuestMemory,
        alloc: &HostAsidAllocator,
    ) -> Outcome {
        let in_slot = regs.branch_delay;
        let insn_pc = if in_slot {
            regs.pc.wrapping_add(4)
        } else {
            regs.pc
        };
        let word = match self.fetch(insn_pc, mem) {
            Ok(w) => w,
            Err(fault) => return self.reflect_fault(regs, fault),
        };
        let branch = if in_slot {
            let branch_word = match self.fetch(regs.pc, mem) {
                Ok(w) => w,
                Err(fault) => return self.reflect_fault(regs, fault),
            };
            match branch::evaluate(branch_word, regs.pc, &regs.gpr) {
                Some(b) => Some(b),
                // The word at EPC is no longer a branch (rewritten code): nothing sane to do.
                None => {
                    return self.reflect(regs, GuestException::plain(code::RI), Reflection::Guest)
                }
            }
        } else {
            None
        };
        let next_pc = branch.map_or(insn_pc.wrapping_add(4), |b| b.next_pc);
        let undo_link = branch.and_then(|b| b.link).map(|(r, value)| {
            let old = regs.get(r);
            regs.set(r, value);
            (r, old)
        });
        match self.execute(decode(word), trap_code, regs, || now, || alloc) {
            Exec::Done(outcome) => {
                regs.pc = next_pc;
                regs.branch_delay = false;
                outcome
            }
            Exec::Jump(pc) => {
                regs.pc = pc;
                regs.branch_delay = false;
                Outcome::Resume
            }
            Exec::Fault(exc, why) => {
                if let Some((r, old)) = undo_link {
                    regs.set(r, old);
                }
                self.reflect(regs, exc, why)
            }
        }
    }

    /// Execute `insn` (trapped with `trap_code`) for a guest not in a branch delay slot, or with
    /// the branch already evaluated. `now` reads the host time and `alloc` gives the host ASID
    /// allocator, each only for the instructions that need them. An [`Exec::Fault`] has changed
    /// nothing.
    pub(crate) fn execute<A: Deref<Target = HostAsidAllocator>>(
        &mut self,
        insn: Instruction,
        trap_code: u8,
        regs: &mut GuestRegs,
        now: impl FnOnce() -> u32,
        alloc: impl FnOnce() -> A,
    ) -> Exec {
        let unusable = Exec::Fault(
            GuestException::coprocessor_unusable(0),
            Reflection::Privilege,
        );
        let reserved = Exec::Fault(GuestException::plain(code::RI), Reflection::Guest);
        if trap_code == code::RI {
            // Only rdhwr is emulated on a Reserved Instruction trap.
            return match insn {
                Instruction::Rdhwr { rt, rd } => self.rdhwr(regs, rt, rd, now()),
                _ => reserved,
            };
        }
        let needs_cp0 = !matches!(insn, Instruction::Rdhwr { .. } | Instruction::Other);
        if needs_cp0 && !self.cp0_usable() {
            return unusable;
        }
        let done = Exec::Done(Outcome::Resume);
        match insn {
            Instruction::Mfc0 { rt, rd, sel } => {
                let value = self
                    .cp0
                    .read(RegId { rd, sel }, now(), &self.tlb, &self.config);
                regs.set(rt, value);
                done
            }
            Instruction::Mtc0 { rt, rd, sel } => {
                self.cp0
                    .write(RegId { rd, sel }, regs.get(rt), now(), &mut self.tlb);
                done
            }
            Instruction::Hypercall => Exec::Done(Outcome::Hypercall(Hypercall {
                nr: regs.get(3),
                args: [regs.get(4), regs.get(5), regs.get(6), regs.get(7)],
            })),
            Instruction::Rdpgpr { rd, rt } | Instruction::Wrpgpr { rd, rt } => {
                // No shadow register sets: the previous set is the current one.
                let value = regs.get(rt);
                regs.set(rd, value);
                done
            }
            Instruction::Di { rt } => {
                self.di_ei(regs, rt, false);
                done
            }
            Instruction::Ei { rt } => {
                self.di_ei(regs, rt, true);
                done
            }
            Instruction::Tlbr => {
                self.tlbr();
                done
            }
            Instruction::Tlbwi | Instruction::Tlbwr => {
                let index = self.tlb_index(insn == Instruction::Tlbwr);
                Exec::Done(self.tlb_write(index, &alloc()))
            }
            Instruction::Tlbp => {
                self.tlbp();
                done
            }
            // ERET in a delay slot is UNPREDICTABLE in the architecture: refuse it loudly.
            Instruction::Eret if regs.branch_delay => reserved,
            Instruction::Eret => Exec::Jump(self.eret()),
            // The guest is never in debug mode.
            Instruction::Deret | Instruction::Reserved => reserved,
            Instruction::Wait => {
                self.waiting = true;
                Exec::Done(Outcome::Wait)
            }
            Instruction::Cache { op, base, offset } => {
                let ea = regs.get(base).wrapping_add(offset as i32 as u32);
                self.cache(op, ea)
            }
            Instruction::Rdhwr { .. } | Instruction::Other => {
                // A CpU trap on something that is not ours to emulate: report it unchanged.
                unusable
            }
        }
    }

    /// `di`/`ei`: the old Status to `rt`, then IE cleared or set.
    pub(crate) fn di_ei(&mut self, regs: &mut GuestRegs, rt: u8, enable: bool) {
        let old = self.cp0.status;
        regs.set(rt, old);
        self.cp0.status = if enable { old | ST_IE } else { old & !ST_IE };
    }

    /// `tlbr`: the entry at Index into EntryHi, PageMask, EntryLo0/1.
    pub(crate) fn tlbr(&mut self) {
        let e = *self.tlb.entry(self.cp0.index);
        let g = if e.global { LO_G } else { 0 };
        self.cp0.entry_hi = e.entry_hi;
        self.cp0.page_mask = e.page_mask;
        self.cp0.entry_lo0 = e.lo0 | g;
        self.cp0.entry_lo1 = e.lo1 | g;
    }

    /// `tlbp`: Index = the entry matching EntryHi, or P set.
    pub(crate) fn tlbp(&mut self) {
        self.cp0.index = match self.tlb.probe(self.cp0.entry_hi) {
            Some(i) => i as u32,
            None => self.cp0.index | 0x8000_0000,
        };
    }

    /// The entry `tlbwr` (`random`) or `tlbwi` writes.
    pub(crate) fn tlb_index(&mut self, random: bool) -> u32 {
        if random {
            self.tlb.take_random()
        } else {
            self.cp0.index & self.tlb.index_mask()
        }
    }

    /// `eret` (not in a delay slot): leave the exception or error level; returns where the guest
    /// continues.
    pub(crate) fn eret(&mut self) -> u32 {
        let s = self.cp0.status;
        if s & ST_ERL != 0 {
            self.cp0.status = s & !ST_ERL;
            self.cp0.error_epc
        } else {
            self.cp0.status = s & !ST_EXL;
            self.cp0.epc
        }
    }

    fn rdhwr(&mut self, regs: &mut GuestRegs, rt: u8, rd: u8, now: u32) -> Exec {
        let allowed = self.cp0_usable() || (rd < 4 && self.cp0.hwrena & (1 << rd) != 0);
        let value = match rd {
            0 => 0,
            1 => self.config.synci_step(),
            2 => {
                self.cp0.timer.update(now);
                self.cp0.timer.count(now)
            }
            3 => CC_RES,
            // UserLocal ($29) does not exist on a 24Kc: Linux emulates it in its RI handler.
            _ => return Exec::Fault(GuestException::plain(code::RI), Reflection::Guest),
        };
        if !allowed {
            return Exec::Fault(GuestException::plain(code::RI), Reflection::Guest);
        }
        regs.set(rt, value);
        Exec::Done(Outcome::Resume)
    }

    pub(crate) fn cache(&mut self, op: u8, ea: u32) -> Exec {
        let host = self.config.host;
        let translate = |vcpu: &Self| vcpu.translate(ea, Access::Load);
        match classify(op) {
            CachePlan::IndexLine { op } => Exec::Done(Outcome::Cache(index_action(&host, op, ea))),
            CachePlan::LoadTagAsZero => {
                self.cp0.tag_lo = 0;
                self.cp0.data_lo = 0;
                Exec::Done(Outcome::Resume)
            }
            CachePlan::Hit(kind) => match translate(self) {
                Ok(m) => match m.host_addr(ea) {
                    Some(pa) => Exec::Done(Outcome::Cache(hit_action(&host, kind, ea, pa))),
                    None => Exec::Done(Outcome::Resume),
                },
                Err(fault) => {
                    let (exc, why) = Self::fault_exception(fault);
                    Exec::Fault(exc, why)
                }
            },
            CachePlan::TranslateOnly => match translate(self) {
                Ok(_) => Exec::Done(Outcome::Resume),
                Err(fault) => {
                    let (exc, why) = Self::fault_exception(fault);
                    Exec::Fault(exc, why)
                }
            },
            CachePlan::Nothing => Exec::Done(Outcome::Resume),
            CachePlan::Refuse => {
                Exec::Fault(GuestException::plain(code::RI), Reflection::RefusedCacheOp)
            }
        }
    }

    /// `tlbwi`/`tlbwr` at `index`: write the entry, drop every shadow that may now be stale (the
    /// old entry's pages, and the new entry's pages when another entry overlaps them), and
    /// pre-fill the refill cache for a 4 KiB pair under the current ASID.
    pub(crate) fn tlb_write(&mut self, index: u32, alloc: &HostAsidAllocator) -> Outcome {
        let new = TlbEntry::from_registers(
            self.cp0.entry_hi,
            self.cp0.page_mask,
            self.cp0.entry_lo0,
            self.cp0.entry_lo1,
        );
        let old = self.tlb.write(index, new);
        // Built in place: the ranges carry 32-byte ASID sets.
        let inval = &mut self.invalidation;
        inval.clear();
        if old != new && (old.lo0 | old.lo1) & LO_V != 0 {
            let asids = self
                .asids
                .live_set(if old.global { None } else { Some(old.asid()) }, alloc);
            inval.push_range(old.base(), u64::from(old.span()), asids);
        }
        if self.tlb.overlaps_other(&new, index as usize) {
            let asids = self
                .asids
                .live_set(if new.global { None } else { Some(new.asid()) }, alloc);
            inval.push_range(new.base(), u64::from(new.span()), asids);
        }
        for (start, len, asids) in inval.ranges() {
            self.refill.invalidate(*start, *len, asids);
        }
        self.prefill(&new, index as usize, alloc);
        if self.invalidation.is_empty() {
            Outcome::Resume
        } else {
            Outcome::InvalidateHost
        }
    }

    /// Pre-fill the refill cache for a 4 KiB pair the guest just wrote, under the host ASID of
    /// the space that will use it: a useg pair written in virtual kernel mode (ERL clear) under
    /// the user-mode one (a guest kernel's refill and page-fault handlers write the entries
    /// its user code uses; the kernel's own first access to such a page takes a refill), any
    /// other under the current space's.
    fn prefill(&mut self, entry: &TlbEntry, index: usize, alloc: &HostAsidAllocator) {
        if entry.page_mask != 0
            || !(entry.global || entry.asid() == self.cp0.asid())
            || self.commpage_pair_va(entry.base())
        {
            return;
        }
        let mut space = self.space();
        if !space.erl && entry.base() < 0x8000_0000 {
            space = Space::user(space.guest_asid);
        }
        let Some(host_asid) = self.asids.current(space, alloc) else {
            return;
        };
        for va in [entry.base(), entry.base() + 0x1000] {
            if let Ok(m) = self.translate(va, Access::Load) {
                if m.source == crate::shadow::Source::Tlb(index) {
                    self.refill.insert(
                        (va & 0xFFFF_E000) | u32::from(host_asid),
                        m.lo0,
                        m.lo1,
                        m.page_mask,
                    );
                }
                return;
            }
        }
    }
}
