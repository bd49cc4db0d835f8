//! The fast path for the traps a guest kernel takes all the time: the hypercall and the
//! privileged instructions, with only part of the registers saved.
//!
//! The arch's trap entry saves only the registers its calling convention does not preserve,
//! fetches the trapping word ([`Vcpu::instruction_address`] finds it through the refill cache)
//! and calls [`Vcpu::fast_trap`], which may only read and write the registers in the mask it is
//! given. It declines, changing nothing, what needs more: guest user state (the exception is
//! reflected), a register outside the mask, an instruction that ends in an exception (unknown
//! SPR, `dcbi` that faults, anything not privileged on an e500v2), and MSR writes that make the
//! guest doze (MSR\[WE\]). The general path ([`Vcpu::handle_trap`]) then handles them; the result
//! is the same either way (`tests/fast_path.rs`).
//!
//! Most fast traps return straight into the guest ([`Fast::Done`]). When the instruction
//! changed what [`Vcpu::prepare_entry`] decides (the translation context: MSR[PR/IS/DS], a PID,
//! or a retired shadow ID; or an interrupt became deliverable), [`Fast::Reenter`] says so and the
//! arch calls `prepare_entry` before returning; after a timer write it also reprograms its
//! timer.

use crate::decode::{decode, Instruction, HYPERCALL_WORD};
use crate::emulate::Exec;
use crate::interface::{CacheAction, GuestRegs, Hypercall, Outcome};
use crate::shadow::Access;
use crate::sid::{Context, HostPidAllocator};
use crate::spr::{msr, num};
use crate::sprs::{spr_kind, SprKind};
use crate::vcpu::Vcpu;
use guest_mem::Hpa;

/// The registers the hypercall reads (number and arguments) and writes (result).
pub const HYPERCALL_GPRS: [u8; 5] = [0, 3, 4, 5, 6];

/// What [`Vcpu::fast_trap`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fast {
    /// Not handled: take the general path (nothing was changed).
    Declined,
    /// Handled; return straight into the guest at `regs.pc`.
    Done,
    /// A hypercall to serve; `regs.pc` is already past it. Store the result with
    /// [`Hypercall::complete`].
    Hypercall(Hypercall),
    /// Handled, but call [`Vcpu::prepare_entry`] before returning into the guest; with `timer`
    /// (DEC, TCR or TSR was written) also program the host timer from
    /// [`Vcpu::timer_deadline`] again.
    Reenter { timer: bool },
    /// Handled; invalidate the host entries [`Vcpu::host_invalidation`] names, then return
    /// (after [`Vcpu::prepare_entry`] if `reenter`: a shadow ID of the context was retired).
    InvalidateHost { reenter: bool },
    /// Handled; perform this cache operation, then return.
    Cache(CacheAction),
    /// Handled; flush the host's branch buffer, then return.
    FlushBranchBuffer,
}

impl Vcpu {
    /// Where the instruction at `pc` is in host memory, from the refill cache (the guest just
    /// executed it, so its page is usually there); `None`: let [`Vcpu::handle_trap`] fetch it.
    #[inline]
    pub fn instruction_address(&self, pc: u32) -> Option<Hpa> {
        let slot = self.refill.probe(pc, self.entered[0], self.entered[1])?;
        if slot.mas3 & crate::spr::mas::MAS3_UX == 0 {
            return None;
        }
        let entry = slot.entry(self.host_mas7());
        Some(Hpa::new(
            entry.host_base() + u64::from(pc.wrapping_sub(entry.epn())),
        ))
    }

    /// Where the instruction at `pc` is in host memory, for a trap the guest took there: from
    /// the refill cache, else translated as the general path fetches it (the guest's TLB in
    /// the current context, with its execute permission) and recorded in the refill cache as
    /// an instruction TLB miss at `pc` would record it, so that the next trap on that page
    /// finds it there (code the guest reaches through a large host page, mapped at entry, has
    /// no slot until then). `None`: the general path's fetch would fault; let
    /// [`Vcpu::handle_trap`] reflect it.
    pub fn fetch_address(&mut self, pc: u32, pids: &HostPidAllocator) -> Option<Hpa> {
        if let Some(hpa) = self.instruction_address(pc) {
            return Some(hpa);
        }
        let pc = pc & !3;
        let ctx = self.context();
        let m = self.translate(&ctx, pc, Access::Fetch).ok()?;
        self.record_mapping(&ctx, &m, pc, pids);
        Some(Hpa::new(m.host_addr(pc)))
    }

    /// The hypercall on its own, so that an arch can keep its path short: if `word` (the
    /// instruction at `regs.pc`) is the hypercall and the guest is in supervisor state, advance
    /// the PC and return the call; otherwise change nothing. It reads r0 and r3..r6
    /// ([`crate::HYPERCALL_GPRS`]), and the result goes to r3.
    #[inline]
    pub fn fast_hypercall(&mut self, regs: &mut GuestRegs, word: u32) -> Option<Hypercall> {
        if word != HYPERCALL_WORD || !self.supervisor() {
            return None;
        }
        regs.pc = regs.pc.wrapping_add(4);
        Some(Hypercall {
            nr: regs.gpr[0],
            args: [regs.gpr[3], regs.gpr[4], regs.gpr[5], regs.gpr[6]],
        })
    }

    /// Try to handle the privileged-instruction trap on `word`, the instruction at `regs.pc`.
    /// `now` is the host time base; `usable_gprs` has bit n set when rn may be read and
    /// written.
    pub fn fast_trap(
        &mut self,
        regs: &mut GuestRegs,
        word: u32,
        now: u64,
        usable_gprs: u32,
        pids: &HostPidAllocator,
    ) -> Fast {
        if !self.supervisor() {
            return Fast::Declined;
        }
        let usable = |r: u8| usable_gprs & (1 << (r & 31)) != 0;
        // The call reads r0 and r3..r6; its result goes to r3.
        if word == HYPERCALL_WORD && !HYPERCALL_GPRS.iter().all(|&r| usable(r)) {
            return Fast::Declined;
        }
        if let Some(call) = self.fast_hypercall(regs, word) {
            return Fast::Hypercall(call);
        }
        let known = |spr: u16| !matches!(spr_kind(spr), SprKind::Unknown | SprKind::TimeBaseWrite);
        let insn = decode(word);
        let take = match insn {
            Instruction::Mfmsr { rt } | Instruction::Mfpmr { rt } => usable(rt),
            Instruction::Mtmsr { rs } => usable(rs) && regs.get(rs) & msr::WE == 0,
            Instruction::Wrtee { rs } => usable(rs),
            Instruction::Wrteei { .. }
            | Instruction::Tlbwe
            | Instruction::Tlbre
            | Instruction::Tlbsync
            | Instruction::Mtpmr => true,
            Instruction::Rfi => self.sprs.get(crate::sprs::slot::SRR1) & msr::WE == 0,
            Instruction::Rfci => self.sprs.get(crate::sprs::slot::CSRR1) & msr::WE == 0,
            Instruction::Rfmci => self.sprs.get(crate::sprs::slot::MCSRR1) & msr::WE == 0,
            Instruction::Rfdi => self.sprs.get(crate::sprs::slot::DSRR1) & msr::WE == 0,
            Instruction::Mfspr { rt, spr } => usable(rt) && known(spr),
            Instruction::Mtspr { rs, spr } => usable(rs) && known(spr),
            Instruction::Tlbsx { ra, rb }
            | Instruction::Tlbivax { ra, rb }
            | Instruction::Dcbi { ra, rb } => usable(ra) && usable(rb),
            Instruction::Hypercall | Instruction::Other => false,
        };
        if !take {
            return Fast::Declined;
        }
        let before = self.context();
        let timer = matches!(insn, Instruction::Mtspr { spr, .. }
            if spr == num::DEC || spr == num::TCR || spr == num::TSR);
        let outcome = match self.execute(insn, regs, || now, || pids) {
            Exec::Done(outcome) => {
                regs.pc = regs.pc.wrapping_add(4);
                outcome
            }
            Exec::Jump(pc) => {
                regs.pc = pc;
                Outcome::Resume
            }
            // Nothing changed: the general path reflects it.
            Exec::Fault(..) => return Fast::Declined,
        };
        let reenter = timer || self.entry_changed_since(&before, pids);
        match outcome {
            Outcome::InvalidateHost => Fast::InvalidateHost { reenter },
            Outcome::Cache(action) => Fast::Cache(action),
            Outcome::FlushBranchBuffer => Fast::FlushBranchBuffer,
            _ if reenter => Fast::Reenter { timer },
            _ => Fast::Done,
        }
    }

    /// Whether what [`Vcpu::prepare_entry`] decides may have changed since the guest was
    /// entered in context `before`: another context, a shadow ID of it retired, or an
    /// interrupt now deliverable (the timers as last evaluated).
    #[inline]
    fn entry_changed_since(&self, before: &Context, pids: &HostPidAllocator) -> bool {
        let ctx = self.context();
        ctx != *before
            || self.sids.current(&ctx, pids) != Some(self.entered[0])
            || self.sids.current_global(&ctx, pids).unwrap_or(0) != self.entered[1]
            || self.interrupt_deliverable()
    }
}
