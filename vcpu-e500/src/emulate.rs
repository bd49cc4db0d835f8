//! Emulation of the privileged instructions on the virtual CPU.
//!
//! Flow for a privileged-instruction Program interrupt (ESR\[PPR\]): fetch the instruction at
//! SRR0 as the guest would, decode it, check the guest's virtual privilege (in guest user state
//! it is the guest's own privileged-instruction Program interrupt), execute it, and continue
//! after it or where it jumps (`rfi`...). A privileged instruction the e500v2 does not give a
//! supervisor either (`mfdcr`, an unknown SPR...) is the guest's illegal-instruction Program
//! interrupt. An instruction that ends in an exception changes nothing before it.

use crate::decode::{decode, Instruction};
use crate::exception::GuestException;
use crate::interface::{CacheAction, GuestMemory, GuestRegs, Hypercall, Outcome, Reflection};
use crate::shadow::Access;
use crate::sid::HostPidAllocator;
use crate::spr::{bucsr, esr, msr};
use crate::sprs::{slot, spr_kind, IdentitySpr, SprKind, TimerSpr, BUCSR_KEPT};
use crate::tlb::{MMUCFG, TLB0CFG, TLB1CFG};
use crate::vcpu::Vcpu;
use guest_mem::Hpa;

/// What executing an instruction did.
pub(crate) enum Exec {
    /// Completed: continue after the instruction.
    Done(Outcome),
    /// A return from interrupt: continue at this PC.
    Jump(u32),
    /// Deliver this exception for the instruction.
    Fault(GuestException, Reflection),
}

/// The data cache line size.
const LINE: u32 = 32;

impl Vcpu {
    /// Emulate the privileged instruction at `regs.pc`.
    pub(crate) fn emulate(
        &mut self,
        regs: &mut GuestRegs,
        now: u64,
        mem: &impl GuestMemory,
        pids: &HostPidAllocator,
    ) -> Outcome {
        let word = match self.fetch(regs.pc, mem) {
            Ok(w) => w,
            Err(fault) => return self.reflect_fault(regs, fault),
        };
        match self.execute(decode(word), regs, || now, || pids) {
            Exec::Done(outcome) => {
                regs.pc = regs.pc.wrapping_add(4);
                outcome
            }
            Exec::Jump(pc) => {
                regs.pc = pc;
                if self.waiting {
                    Outcome::Wait
                } else {
                    Outcome::Resume
                }
            }
            Exec::Fault(exc, why) => self.reflect(regs, exc, why),
        }
    }

    /// Execute `insn` at `regs.pc`. `now` reads the host time base and `pids` gives the
    /// shadow-ID allocator, each only for the instructions that need them. An
    /// [`Exec::Fault`] has changed nothing.
    pub(crate) fn execute<'p>(
        &mut self,
        insn: Instruction,
        regs: &mut GuestRegs,
        now: impl FnOnce() -> u64,
        pids: impl FnOnce() -> &'p HostPidAllocator,
    ) -> Exec {
        let pc = regs.pc;
        if !self.supervisor() {
            return Exec::Fault(GuestException::program(pc, esr::PPR), Reflection::Privilege);
        }
        let illegal = Exec::Fault(GuestException::program(pc, esr::PIL), Reflection::Guest);
        let done = Exec::Done(Outcome::Resume);
        match insn {
            Instruction::Mfmsr { rt } => {
                regs.set(rt, self.sprs.msr());
                done
            }
            Instruction::Mtmsr { rs } => Exec::Done(self.write_msr(regs.get(rs))),
            Instruction::Wrtee { rs } => {
                self.set_ee(regs.get(rs) & msr::EE != 0);
                done
            }
            Instruction::Wrteei { enable } => {
                self.set_ee(enable);
                done
            }
            Instruction::Rfi => Exec::Jump(self.return_from(slot::SRR0)),
            Instruction::Rfci => Exec::Jump(self.return_from(slot::CSRR0)),
            Instruction::Rfmci => Exec::Jump(self.return_from(slot::MCSRR0)),
            Instruction::Rfdi => Exec::Jump(self.return_from(slot::DSRR0)),
            Instruction::Mfspr { rt, spr } => match self.read_spr(spr, now) {
                Some(value) => {
                    regs.set(rt, value);
                    done
                }
                None => illegal,
            },
            Instruction::Mtspr { rs, spr } => match self.write_spr(spr, regs.get(rs), now, pids) {
                Some(outcome) => Exec::Done(outcome),
                None => illegal,
            },
            Instruction::Hypercall => Exec::Done(Outcome::Hypercall(Hypercall {
                nr: regs.get(0),
                args: [regs.get(3), regs.get(4), regs.get(5), regs.get(6)],
            })),
            Instruction::Tlbwe => Exec::Done(if self.tlbwe(pids()) {
                Outcome::InvalidateHost
            } else {
                Outcome::Resume
            }),
            Instruction::Tlbre => {
                self.tlbre();
                done
            }
            Instruction::Tlbsx { ra, rb } => {
                self.tlbsx(Self::indexed_ea(regs, ra, rb));
                done
            }
            Instruction::Tlbivax { ra, rb } => {
                let ea = Self::indexed_ea(regs, ra, rb);
                Exec::Done(if self.tlbivax(ea, pids()) {
                    Outcome::InvalidateHost
                } else {
                    Outcome::Resume
                })
            }
            // Uniprocessor: nothing to wait for.
            Instruction::Tlbsync => done,
            Instruction::Dcbi { ra, rb } => self.dcbi(Self::indexed_ea(regs, ra, rb), pc),
            Instruction::Mfpmr { rt } => {
                regs.set(rt, 0);
                done
            }
            Instruction::Mtpmr => done,
            Instruction::Other => illegal,
        }
    }

    /// `mtmsr`: the new MSR; MSR\[WE\] makes the guest doze.
    pub(crate) fn write_msr(&mut self, value: u32) -> Outcome {
        self.sprs.set_msr(value);
        if self.sprs.msr() & msr::WE != 0 {
            self.waiting = true;
            Outcome::Wait
        } else {
            Outcome::Resume
        }
    }

    /// `wrtee`/`wrteei`.
    #[inline]
    pub(crate) fn set_ee(&mut self, enable: bool) {
        let m = self.sprs.msr() & !msr::EE;
        self.sprs.set_msr(if enable { m | msr::EE } else { m });
    }

    /// `rfi`/`rfci`/`rfmci`/`rfdi` with the save/restore pair at `save`: MSR from the second
    /// register, the return address from the first.
    pub(crate) fn return_from(&mut self, save: usize) -> u32 {
        let target = self.sprs.get(save) & !3;
        self.write_msr(self.sprs.get(save + 1));
        target
    }

    /// `mfspr`: `None` when the SPR is not an e500v2 supervisor SPR.
    pub(crate) fn read_spr(&mut self, spr: u16, now: impl FnOnce() -> u64) -> Option<u32> {
        Some(match spr_kind(spr) {
            SprKind::Plain { slot, .. }
            | SprKind::UserReadableSprg { slot }
            | SprKind::WriteOneToClear { slot }
            | SprKind::ReadOnly { slot }
            | SprKind::Pid { slot } => self.sprs.get(slot),
            SprKind::Bucsr => self.sprs.get(slot::BUCSR),
            SprKind::Mmucsr0 => 0,
            SprKind::Timer(which) => {
                let now = now();
                self.update_timers(now);
                match which {
                    TimerSpr::Dec => self.timers.dec(now),
                    TimerSpr::Tcr => self.timers.tcr(),
                    TimerSpr::Tsr => self.timers.tsr(),
                }
            }
            SprKind::Identity(id) => self.identity(id),
            SprKind::TimeBaseWrite | SprKind::Unknown => return None,
        })
    }

    /// The constant SPRs.
    pub(crate) const fn identity(&self, id: IdentitySpr) -> u32 {
        match id {
            IdentitySpr::Pvr => self.config.host.pvr,
            IdentitySpr::Svr => self.config.host.svr,
            IdentitySpr::Pir => 0,
            IdentitySpr::Tlb0Cfg => TLB0CFG,
            IdentitySpr::Tlb1Cfg => TLB1CFG,
            IdentitySpr::MmuCfg => MMUCFG,
        }
    }

    /// `mtspr`: `None` when the SPR is not an e500v2 supervisor SPR.
    pub(crate) fn write_spr<'p>(
        &mut self,
        spr: u16,
        value: u32,
        now: impl FnOnce() -> u64,
        pids: impl FnOnce() -> &'p HostPidAllocator,
    ) -> Option<Outcome> {
        let s = &mut self.sprs;
        match spr_kind(spr) {
            SprKind::Plain { slot, mask } => s.set(slot, value & mask),
            SprKind::UserReadableSprg { slot } => s.set(slot, value),
            SprKind::WriteOneToClear { slot } => s.set(slot, s.get(slot) & !value),
            SprKind::Pid { slot } => s.set(slot, value & 0xFF),
            SprKind::Bucsr => {
                s.set(slot::BUCSR, value & BUCSR_KEPT);
                if value & bucsr::BBFI != 0 {
                    return Some(Outcome::FlushBranchBuffer);
                }
            }
            SprKind::Mmucsr0 => {
                if self.write_mmucsr0(value, pids()) {
                    return Some(Outcome::InvalidateHost);
                }
            }
            SprKind::Timer(which) => {
                let now = now();
                self.update_timers(now);
                match which {
                    TimerSpr::Dec => self.timers.write_dec(now, value),
                    TimerSpr::Tcr => self.timers.write_tcr(value),
                    TimerSpr::Tsr => self.timers.write_tsr(value),
                }
            }
            SprKind::ReadOnly { .. } | SprKind::Identity(_) | SprKind::TimeBaseWrite => {}
            SprKind::Unknown => return None,
        }
        Some(Outcome::Resume)
    }

    /// `dcbi`: done as a flush of the guest's own line (never discards data); translated as a
    /// store, so a line the guest may not write, or outside its RAM, is the exception a store
    /// would raise.
    fn dcbi(&mut self, ea: u32, pc: u32) -> Exec {
        let ctx = self.context();
        match self.translate(&ctx, ea, Access::Store) {
            Ok(m) => Exec::Done(Outcome::Cache(CacheAction::FlushDataLine(Hpa::new(
                m.host_addr(ea & !(LINE - 1)),
            )))),
            Err(fault) => {
                let (exc, why) = self.fault_exception(fault, pc);
                Exec::Fault(exc, why)
            }
        }
    }
}
