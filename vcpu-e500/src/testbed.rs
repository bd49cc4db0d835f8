//! A simulated machine for the fuzz body and the tests: one [`Vcpu`], the host TLB
//! ([`HostTlbModel`]) and guest memory, with every [`Outcome`] applied the way the README tells
//! the arch to apply it, and guest memory accesses that go through the host TLB, the refill
//! cache and the model's slow path as they would on the real core.

use crate::config::VcpuConfig;
use crate::exception::{HaltReason, Interrupt};
use crate::host_model::HostTlbModel;
use crate::interface::{Entry, GuestMemory, GuestRegs, Outcome, Trap};
use crate::shadow::Access;
use crate::sid::{Context, HostPidAllocator, Owner};
use crate::spr::{esr, mas::*};
use crate::vcpu::Vcpu;
use guest_mem::Hpa;

/// What went wrong in a check (a hypervisor bug).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Violation {
    /// [`Vcpu::audit`] failed.
    Audit(crate::interface::AuditError),
    /// A host entry maps memory outside the partition.
    HostOutsidePartition(crate::interface::HostTlbEntry),
    /// A host entry is not address space 1, user-only, cacheable.
    HostMalformed(crate::interface::HostTlbEntry),
    /// A live host entry differs from what translating its page gives now.
    HostStale(crate::interface::HostTlbEntry),
    /// Two host entries can match one access.
    HostMultiHit(
        crate::interface::HostTlbEntry,
        crate::interface::HostTlbEntry,
    ),
}

/// One guest on a simulated host.
pub struct Testbed<M: GuestMemory> {
    /// The guest CPU.
    pub vcpu: Vcpu,
    /// Its registers.
    pub regs: GuestRegs,
    /// The host TLB.
    pub host: HostTlbModel,
    /// The shadow-ID allocator.
    pub pids: HostPidAllocator,
    /// Guest memory.
    pub mem: M,
    /// Host time base.
    pub now: u64,
    /// The last entry.
    pub entry: Option<Entry>,
    /// Why the guest stopped, once it did.
    pub halted: Option<HaltReason>,
}

impl<M: GuestMemory> Testbed<M> {
    /// A guest at boot, entered at `pc` with r3..r7 = `args`.
    pub fn new(config: VcpuConfig, mem: M, pc: u32, args: [u32; 5]) -> Self {
        let vcpu = Vcpu::new(config, 0).expect("valid configuration");
        let regs = vcpu.boot_registers(pc, args);
        let mut tb = Testbed {
            vcpu,
            regs,
            host: HostTlbModel::new(),
            pids: HostPidAllocator::new(),
            mem,
            now: 0,
            entry: None,
            halted: None,
        };
        tb.enter();
        tb
    }

    /// `prepare_entry`, applying a flush.
    pub fn enter(&mut self) {
        if self.halted.is_some() {
            return;
        }
        match self
            .vcpu
            .prepare_entry(&mut self.regs, self.now, &mut self.pids)
        {
            Ok(e) => {
                if e.flush_host_tlb {
                    self.host.flush();
                }
                self.entry = Some(e);
            }
            Err(reason) => self.halted = Some(reason),
        }
    }

    /// Apply the host side of `outcome` (a hypercall is answered with `-38`).
    pub fn apply(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::MapHost(e) => self.host.map(*e),
            Outcome::InvalidateHost => {
                let inval = *self.vcpu.host_invalidation();
                self.host.invalidate(&inval);
            }
            Outcome::Hypercall(_) => crate::Hypercall::complete(&mut self.regs, -38),
            Outcome::Halt(reason) => self.halted = Some(*reason),
            _ => {}
        }
    }

    /// A trap: `handle_trap`, its host work, `prepare_entry`.
    pub fn trap(&mut self, vector: Interrupt, esr: u32, dear: u32) -> Outcome {
        let trap = Trap {
            vector,
            esr,
            dear,
            now: self.now,
        };
        let outcome = self
            .vcpu
            .handle_trap(&mut self.regs, &trap, &self.mem, &self.pids);
        self.apply(&outcome);
        self.enter();
        outcome
    }

    /// A guest access at `ea` as the real core makes it: through the host TLB; a host miss
    /// probes the refill cache (the arch's assembly), then takes the model's slow path; a host
    /// permission fault takes the storage interrupt path. Returns the host address, or the
    /// outcome that ended the access (the guest's own exception, a halt).
    pub fn access(&mut self, ea: u32, access: Access) -> Result<Hpa, Outcome> {
        for _ in 0..4 {
            let Some(entry) = self.entry else {
                return Err(Outcome::Resume);
            };
            if self.halted.is_some() {
                return Err(Outcome::Resume);
            }
            let hit = self
                .host
                .lookup(ea, entry.pid0, entry.pid1)
                .expect("no host multi-hit");
            let pc = self.regs.pc;
            let (vector, esr, dear) = match hit {
                Some(e) => {
                    let need = match access {
                        Access::Fetch => MAS3_UX,
                        Access::Load => MAS3_UR,
                        Access::Store => MAS3_UW,
                    };
                    if e.mas3 & need != 0 {
                        let offset = u64::from(ea) - (u64::from(e.epn()) & !(e.size() - 1));
                        return Ok(Hpa::new(e.host_base() + offset));
                    }
                    if access.is_fetch() {
                        (Interrupt::InstructionStorage, 0, 0)
                    } else {
                        (Interrupt::DataStorage, store_esr(access), ea)
                    }
                }
                None => {
                    if let Some(slot) = self.vcpu.refill_cache().probe(ea, entry.pid0, entry.pid1) {
                        let e = slot.entry(self.vcpu.host_mas7());
                        self.host.map(e);
                        continue;
                    }
                    if access.is_fetch() {
                        (Interrupt::InstructionTlbError, 0, 0)
                    } else {
                        (Interrupt::DataTlbError, store_esr(access), ea)
                    }
                }
            };
            if access.is_fetch() {
                self.regs.pc = ea;
            }
            let outcome = self.trap(vector, esr, dear);
            match outcome {
                Outcome::MapHost(_) | Outcome::Resume => {
                    if access.is_fetch() {
                        self.regs.pc = pc;
                    }
                }
                other => return Err(other),
            }
        }
        Err(Outcome::Resume)
    }

    /// Whether shadow IDs `a` and `b` can be the real PID0 and PID1 together.
    fn together(&self, a: u8, b: u8) -> bool {
        let sids = &self.vcpu.sids;
        let global_of = |x: u8| match sids.owner_of(x, &self.pids) {
            Some(Owner::Context(ctx)) => sids.current_global(&ctx, &self.pids),
            _ => None,
        };
        global_of(a) == Some(b) || global_of(b) == Some(a)
    }

    /// Check the isolation invariants: the refill cache ([`Vcpu::audit`]), every host entry
    /// inside the partition and well-formed, every live host entry equal to what translating
    /// its page gives now, and no two host entries that can match one access.
    pub fn check(&self) -> Result<(), Violation> {
        self.vcpu.audit(&self.pids).map_err(Violation::Audit)?;
        let p = &self.vcpu.config.partition;
        let (base, end) = (
            p.host_base().get(),
            p.host_base().get() + u64::from(p.size()),
        );
        for e in self.host.entries() {
            if e.host_base() < base || e.host_base() + e.size() > end {
                return Err(Violation::HostOutsidePartition(*e));
            }
            let malformed = e.mas1 & (MAS1_V | MAS1_TS | MAS1_IPROT) != MAS1_V | MAS1_TS
                || e.mas3 & (MAS3_SX | MAS3_SW | MAS3_SR) != 0
                || e.mas2 & (MAS2_W | MAS2_I | MAS2_M) != 0
                || e.sid() == 0;
            if malformed {
                return Err(Violation::HostMalformed(*e));
            }
            let (ctx, global) = match self.vcpu.sids.owner_of(e.sid(), &self.pids) {
                Some(Owner::Context(ctx)) => (ctx, false),
                Some(Owner::Global { address_space, pr }) => (
                    Context {
                        is: address_space,
                        ds: address_space,
                        pr,
                        pids: [0; 3],
                    },
                    true,
                ),
                // A retired ID: never the real PID0/PID1 again in this generation.
                None => continue,
            };
            let fresh = [Access::Fetch, Access::Load].into_iter().any(|access| {
                matches!(self.vcpu.shadow_map(&ctx, e.epn(), access),
                    Ok(m) if m.global == global && m.entry(e.sid()) == *e)
            });
            if !fresh {
                return Err(Violation::HostStale(*e));
            }
        }
        self.host
            .check(|a, b| self.together(a, b))
            .map_err(|(a, b)| Violation::HostMultiHit(a, b))
    }
}

const fn store_esr(access: Access) -> u32 {
    if matches!(access, Access::Store) {
        esr::ST
    } else {
        0
    }
}
