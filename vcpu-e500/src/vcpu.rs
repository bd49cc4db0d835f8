//! The virtual CPU: the state of one guest CPU and the two calls the arch layer makes.
//!
//! - [`Vcpu::handle_trap`] after every interrupt taken while the guest ran, with the guest's
//!   registers saved into [`GuestRegs`]; it returns an [`Outcome`] telling the arch what to do.
//! - [`Vcpu::prepare_entry`] before every return into the guest; it delivers a pending virtual
//!   interrupt if the guest's MSR allows it and says which shadow IDs to run under.
//!
//! Plus the scheduler's calls ([`Vcpu::runnable`], [`Vcpu::wake`], [`Vcpu::timer_deadline`],
//! [`Vcpu::wait_deadline`]) and the device side's [`Vcpu::set_external_input`].

use crate::config::{ConfigError, VcpuConfig};
use crate::exception::{deliver, mcsr, GuestException, HaltReason, Interrupt, TlbMiss};
use crate::interface::{
    AuditError, Entry, GuestMemory, GuestRegs, HostInvalidation, HostTlbEntry, Outcome, Reflection,
    Trap,
};
use crate::refill::RefillCache;
use crate::shadow::{Access, GuestFault, Shadow};
use crate::sid::{Context, GuestSids, HostPidAllocator, SidSet};
use crate::spr::{esr, msr};
use crate::sprs::{slot, SprFile};
use crate::timer::{TimerEvent, Timers};
use crate::tlb::Tlb;
use guest_mem::Hpa;

/// One guest CPU.
#[derive(Clone, Debug)]
pub struct Vcpu {
    pub(crate) config: VcpuConfig,
    pub(crate) sprs: SprFile,
    pub(crate) timers: Timers,
    pub(crate) tlb: Tlb,
    pub(crate) sids: GuestSids,
    pub(crate) refill: RefillCache,
    /// The External Input level the host asserts.
    pub(crate) external: bool,
    /// Dozing (MSR\[WE\]) or yielding until an interrupt.
    pub(crate) waiting: bool,
    /// A watchdog reset the timers asked for, reported at the next trap or entry.
    pub(crate) pending_halt: Option<HaltReason>,
    /// The host entries the last [`Outcome::InvalidateHost`] names.
    pub(crate) invalidation: HostInvalidation,
    /// Shadow IDs being retired by the TLB operation in progress.
    pub(crate) retiring: SidSet,
    /// Real PID0 and PID1 the guest was last entered with.
    pub(crate) entered: [u8; 2],
}

impl Vcpu {
    /// A CPU at guest boot (see [`Vcpu::reset`]) at host time `now`.
    pub fn new(config: VcpuConfig, now: u64) -> Result<Self, ConfigError> {
        config.validate()?;
        let mut v = Vcpu {
            config,
            sprs: SprFile::new(),
            timers: Timers::new(now),
            tlb: Tlb::new(),
            sids: GuestSids::new(),
            refill: RefillCache::new(),
            external: false,
            waiting: false,
            pending_halt: None,
            invalidation: HostInvalidation::EMPTY,
            retiring: SidSet::EMPTY,
            entered: [0; 2],
        };
        v.reset(now);
        Ok(v)
    }

    /// The configuration.
    pub fn config(&self) -> &VcpuConfig {
        &self.config
    }

    /// The virtual MSR and SPRs (read-only view).
    pub fn sprs(&self) -> &SprFile {
        &self.sprs
    }

    /// The virtual TLB (read-only view).
    pub fn tlb(&self) -> &Tlb {
        &self.tlb
    }

    /// The timers (read-only view).
    pub fn timers(&self) -> &Timers {
        &self.timers
    }

    /// The refill cache: the arch's TLB-miss handler probes this table while the guest runs.
    pub fn refill_cache(&self) -> &RefillCache {
        &self.refill
    }

    /// MAS7 of every host mapping of this guest (its partition's physical bits 35:32).
    pub fn host_mas7(&self) -> u32 {
        (self.config.partition.host_base().get() >> 32) as u32
    }

    /// What the last [`Outcome::InvalidateHost`] asks the arch to invalidate (valid until the
    /// next trap is handled).
    pub fn host_invalidation(&self) -> &HostInvalidation {
        &self.invalidation
    }

    /// SPRG3..SPRG7: the arch keeps the real registers equal to these while the guest runs
    /// (the guest reads them natively through the user-level numbers 259..263).
    pub fn user_readable_sprgs(&self) -> [u32; 5] {
        let g = |n: usize| self.sprs.get(slot::SPRG0 + n);
        [g(3), g(4), g(5), g(6), g(7)]
    }

    /// The guest's translation context.
    #[inline]
    pub fn context(&self) -> Context {
        let m = self.sprs.msr();
        Context {
            is: m & msr::IS != 0,
            ds: m & msr::DS != 0,
            pr: m & msr::PR != 0,
            pids: self.sprs.pids(),
        }
    }

    /// Whether the guest is in virtual supervisor state.
    #[inline]
    pub fn supervisor(&self) -> bool {
        self.sprs.msr() & msr::PR == 0
    }

    pub(crate) fn translate(
        &self,
        ctx: &Context,
        ea: u32,
        access: Access,
    ) -> Result<crate::shadow::HostMapping, GuestFault> {
        Shadow {
            tlb: &self.tlb,
            partition: &self.config.partition,
            ctx,
            tlb1_min_page: self.config.tlb1_min_page,
        }
        .translate(ea, access)
    }

    pub(crate) fn shadow_map(
        &self,
        ctx: &Context,
        ea: u32,
        access: Access,
    ) -> Result<crate::shadow::HostMapping, GuestFault> {
        Shadow {
            tlb: &self.tlb,
            partition: &self.config.partition,
            ctx,
            tlb1_min_page: self.config.tlb1_min_page,
        }
        .map(ea, access)
    }

    /// Read the instruction word at `pc` as the guest would fetch it.
    pub(crate) fn fetch(&self, pc: u32, mem: &impl GuestMemory) -> Result<u32, GuestFault> {
        let m = self.translate(&self.context(), pc, Access::Fetch)?;
        Ok(mem.read_word(Hpa::new(m.host_addr(pc & !3))))
    }

    /// Whether a Program interrupt with ESR\[PIL\] is a privileged instruction the host core
    /// (as emulated: QEMU's e500v2 decodes neither `rfmci` nor `rfdi`) took for an illegal one,
    /// where an e500v2 raises the privileged-instruction interrupt: emulated all the same.
    fn host_lacks_instruction(&self, regs: &GuestRegs, esr: u32, mem: &impl GuestMemory) -> bool {
        esr & esr::PIL != 0
            && matches!(
                self.fetch(regs.pc, mem).map(crate::decode::decode),
                Ok(crate::decode::Instruction::Rfmci | crate::decode::Instruction::Rfdi)
            )
    }

    /// Deliver `exc`; regs.pc becomes the vector.
    pub(crate) fn reflect(
        &mut self,
        regs: &mut GuestRegs,
        exc: GuestException,
        why: Reflection,
    ) -> Outcome {
        match deliver(&mut self.sprs, &mut self.tlb, &exc) {
            Ok(vector) => {
                regs.pc = vector;
                Outcome::Reflected {
                    vector: exc.interrupt,
                    why,
                }
            }
            Err(reason) => Outcome::Halt(reason),
        }
    }

    /// The exception a translation fault raises for the instruction at `pc`.
    pub(crate) fn fault_exception(
        &self,
        fault: GuestFault,
        pc: u32,
    ) -> (GuestException, Reflection) {
        let store = |access: Access| {
            if access == Access::Store {
                esr::ST
            } else {
                0
            }
        };
        match fault {
            GuestFault::TlbMiss { ea, access } => {
                let address_space = if access.is_fetch() {
                    self.sprs.msr() & msr::IS != 0
                } else {
                    self.sprs.msr() & msr::DS != 0
                };
                let tlb_miss = Some(TlbMiss { ea, address_space });
                let exc = if access.is_fetch() {
                    GuestException {
                        tlb_miss,
                        ..GuestException::plain(Interrupt::InstructionTlbError, pc)
                    }
                } else {
                    GuestException {
                        tlb_miss,
                        esr: Some(store(access)),
                        dear: Some(ea),
                        ..GuestException::plain(Interrupt::DataTlbError, pc)
                    }
                };
                (exc, Reflection::GuestTlb)
            }
            GuestFault::Permission { ea, access } => {
                let exc = if access.is_fetch() {
                    GuestException {
                        esr: Some(0),
                        ..GuestException::plain(Interrupt::InstructionStorage, pc)
                    }
                } else {
                    GuestException {
                        esr: Some(store(access)),
                        dear: Some(ea),
                        ..GuestException::plain(Interrupt::DataStorage, pc)
                    }
                };
                (exc, Reflection::GuestTlb)
            }
            GuestFault::OutsidePartition { access, gpa, .. } => {
                let bits = match access {
                    Access::Fetch => mcsr::BUS_IAERR,
                    Access::Load => mcsr::BUS_RAERR,
                    Access::Store => mcsr::BUS_WAERR,
                };
                let exc = GuestException {
                    machine_check: Some((bits, gpa as u32)),
                    ..GuestException::plain(Interrupt::MachineCheck, pc)
                };
                (exc, Reflection::OutsidePartition)
            }
        }
    }

    pub(crate) fn reflect_fault(&mut self, regs: &mut GuestRegs, fault: GuestFault) -> Outcome {
        let (exc, why) = self.fault_exception(fault, regs.pc);
        // An instruction fetch that fails at the very vector it would be reported to can only
        // fault there again: stop the guest instead of spinning.
        if let GuestFault::TlbMiss {
            ea,
            access: Access::Fetch,
        }
        | GuestFault::Permission {
            ea,
            access: Access::Fetch,
        }
        | GuestFault::OutsidePartition {
            ea,
            access: Access::Fetch,
            ..
        } = fault
        {
            let target = crate::exception::vector(&self.sprs, exc.interrupt);
            // The handler runs in supervisor state, address space 0, with the same PIDs.
            let same_context = self.sprs.msr() & (msr::IS | msr::PR) == 0;
            if target == ea && same_context {
                return Outcome::Halt(HaltReason::VectorUnmapped { vector: ea });
            }
        }
        self.reflect(regs, exc, why)
    }

    /// Bring the timers to host time `now`; a watchdog reset is kept for the next report.
    pub(crate) fn update_timers(&mut self, now: u64) {
        if self.timers.update(now, self.sprs.get(slot::DECAR)) == TimerEvent::WatchdogReset {
            self.pending_halt = Some(HaltReason::WatchdogReset);
        }
    }

    /// Handle an interrupt taken while the guest ran. `regs` holds the guest's registers, with
    /// `pc` = real SRR0.
    pub fn handle_trap(
        &mut self,
        regs: &mut GuestRegs,
        trap: &Trap,
        mem: &impl GuestMemory,
        pids: &HostPidAllocator,
    ) -> Outcome {
        self.update_timers(trap.now);
        if let Some(reason) = self.pending_halt {
            return Outcome::Halt(reason);
        }
        let store = trap.esr & esr::ST != 0;
        let data_access = if store { Access::Store } else { Access::Load };
        match trap.vector {
            Interrupt::DataTlbError => self.shadow_fault(regs, trap.dear, data_access, pids),
            Interrupt::InstructionTlbError => self.shadow_fault(regs, regs.pc, Access::Fetch, pids),
            Interrupt::DataStorage if trap.esr & (esr::DLK | esr::ILK) != 0 => {
                // Cache locking: refused to guests, in any privilege.
                let exc = GuestException {
                    esr: Some(trap.esr & (esr::DLK | esr::ILK | esr::ST)),
                    dear: Some(trap.dear),
                    ..GuestException::plain(Interrupt::DataStorage, regs.pc)
                };
                self.reflect(regs, exc, Reflection::RefusedCacheLock)
            }
            Interrupt::DataStorage if trap.esr & esr::BO == 0 => {
                self.shadow_fault(regs, trap.dear, data_access, pids)
            }
            Interrupt::InstructionStorage if trap.esr & esr::BO == 0 => {
                self.shadow_fault(regs, regs.pc, Access::Fetch, pids)
            }
            Interrupt::DataStorage | Interrupt::Alignment => {
                let exc = GuestException {
                    esr: Some(trap.esr),
                    dear: Some(trap.dear),
                    ..GuestException::plain(trap.vector, regs.pc)
                };
                self.reflect(regs, exc, Reflection::Guest)
            }
            Interrupt::Program
                if trap.esr & esr::PPR != 0 || self.host_lacks_instruction(regs, trap.esr, mem) =>
            {
                self.emulate(regs, trap.now, mem, pids)
            }
            Interrupt::Program
            | Interrupt::InstructionStorage
            | Interrupt::SpeUnavailable
            | Interrupt::SpeFpData
            | Interrupt::SpeFpRound => {
                let exc = GuestException {
                    esr: Some(trap.esr),
                    ..GuestException::plain(trap.vector, regs.pc)
                };
                self.reflect(regs, exc, Reflection::Guest)
            }
            Interrupt::SystemCall | Interrupt::FpUnavailable | Interrupt::ApUnavailable => self
                .reflect(
                    regs,
                    GuestException::plain(trap.vector, regs.pc),
                    Reflection::Guest,
                ),
            Interrupt::CriticalInput
            | Interrupt::MachineCheck
            | Interrupt::ExternalInput
            | Interrupt::Decrementer
            | Interrupt::FixedInterval
            | Interrupt::Watchdog
            | Interrupt::Debug
            | Interrupt::PerformanceMonitor => Outcome::HostException {
                vector: trap.vector,
            },
        }
    }

    /// The host entry for mapping `m` of `ea` in context `ctx`, recorded in the refill cache;
    /// `None` when the context has no shadow ID in this generation yet.
    pub(crate) fn record_mapping(
        &mut self,
        ctx: &Context,
        m: &crate::shadow::HostMapping,
        ea: u32,
        pids: &HostPidAllocator,
    ) -> Option<HostTlbEntry> {
        let sid = if m.global {
            self.sids.current_global(ctx, pids)
        } else {
            self.sids.current(ctx, pids)
        }?;
        if !m.global && self.tlb.entry(m.source).tid() == 0 {
            self.tlb.mark_context_mapped(m.source);
        }
        let entry = m.entry(sid);
        self.refill.insert(ea, &entry);
        Some(entry)
    }

    /// A host TLB miss or storage interrupt at `ea`: map it if the guest's TLB allows the
    /// access, else give the guest its own exception.
    fn shadow_fault(
        &mut self,
        regs: &mut GuestRegs,
        ea: u32,
        access: Access,
        pids: &HostPidAllocator,
    ) -> Outcome {
        let ctx = self.context();
        match self.translate(&ctx, ea, access) {
            // No ID in this generation yet (no prepare_entry since a rollover): retry after
            // prepare_entry assigns one.
            Ok(m) => match self.record_mapping(&ctx, &m, ea, pids) {
                Some(entry) => Outcome::MapHost(entry),
                None => Outcome::Resume,
            },
            Err(fault) => self.reflect_fault(regs, fault),
        }
    }

    /// Set the External Input level (MetaROUTER: asserted while the guest's virq word has a
    /// bit set; its interrupt handler takes one virq per interrupt).
    pub fn set_external_input(&mut self, asserted: bool) {
        self.external = asserted;
    }

    /// Whether the External Input is asserted.
    pub fn external_input(&self) -> bool {
        self.external
    }

    /// Whether the guest would take the External Input now if it were asserted (MSR\[EE\] set,
    /// no critical interrupt first): an arch whose level comes from guest memory checks that
    /// memory only then.
    pub fn external_input_deliverable(&self) -> bool {
        self.sprs.msr() & msr::EE != 0
    }

    /// The interrupt the guest would take now, if any (watchdog, then External Input,
    /// fixed-interval timer, decrementer), as the timers were last evaluated.
    pub fn deliverable_interrupt(&self) -> Option<Interrupt> {
        let m = self.sprs.msr();
        if m & msr::CE != 0 && self.timers.watchdog_pending() {
            return Some(Interrupt::Watchdog);
        }
        if m & msr::EE == 0 {
            return None;
        }
        if self.external {
            return Some(Interrupt::ExternalInput);
        }
        let tsr = self.timers.tsr();
        let tcr = self.timers.tcr();
        if tsr & crate::spr::tsr::FIS != 0 && tcr & crate::spr::tcr::FIE != 0 {
            return Some(Interrupt::FixedInterval);
        }
        if tsr & crate::spr::tsr::DIS != 0 && tcr & crate::spr::tcr::DIE != 0 {
            return Some(Interrupt::Decrementer);
        }
        None
    }

    /// Whether an interrupt is deliverable now.
    pub fn interrupt_deliverable(&self) -> bool {
        self.deliverable_interrupt().is_some()
    }

    /// Prepare to return into the guest at host time `now`: update the timers, deliver the
    /// highest-priority deliverable interrupt, and pick the shadow IDs.
    pub fn prepare_entry(
        &mut self,
        regs: &mut GuestRegs,
        now: u64,
        pids: &mut HostPidAllocator,
    ) -> Result<Entry, HaltReason> {
        self.update_timers(now);
        if let Some(reason) = self.pending_halt {
            return Err(reason);
        }
        let mut interrupt_delivered = false;
        if let Some(interrupt) = self.deliverable_interrupt() {
            let exc = GuestException::plain(interrupt, regs.pc);
            regs.pc = deliver(&mut self.sprs, &mut self.tlb, &exc)?;
            self.waiting = false;
            interrupt_delivered = true;
        }
        let grant = self.sids.obtain(&self.context(), pids);
        if grant.guest_map_reset {
            self.refill.clear();
        } else if grant.retired != 0 {
            let mut gone = SidSet::EMPTY;
            gone.insert(grant.retired);
            self.refill.retire(&gone);
        }
        self.entered = [grant.sid, grant.global_sid];
        Ok(Entry {
            pid0: grant.sid,
            pid1: grant.global_sid,
            flush_host_tlb: grant.flush_host_tlb,
            interrupt_delivered,
        })
    }

    /// Whether the guest dozes or yields.
    pub fn is_waiting(&self) -> bool {
        self.waiting
    }

    /// Start waiting for an interrupt (the arch's yield hypercall).
    pub fn start_wait(&mut self) {
        self.waiting = true;
    }

    /// Whether the scheduler may run the guest: not waiting, or an interrupt it can take is
    /// pending (or it must be stopped, which its next entry reports).
    pub fn runnable(&mut self, now: u64) -> bool {
        if self.waiting {
            self.update_timers(now);
            if self.interrupt_deliverable() || self.pending_halt.is_some() {
                self.waiting = false;
            }
        }
        !self.waiting
    }

    /// End a wait for a host reason (rings drained, control message...).
    pub fn wake(&mut self) {
        self.waiting = false;
    }

    /// Host time-base ticks from `now` until the guest's timers next raise an interrupt (or
    /// reset it), if they will: program the host decrementer for the earliest of these and the
    /// time slice.
    pub fn timer_deadline(&self, now: u64) -> Option<u64> {
        self.timers
            .next_event(now)
            .map(|t| t.saturating_sub(now).max(1))
    }

    /// Ticks a guest that gave up the CPU may be left waiting when nothing wakes it: until its
    /// timers fire; with MSR\[EE\] = 0 it only yields and runs again within `yield_ticks`
    /// (MetaROUTER's console driver yields with interrupts off while its ring is full).
    pub fn wait_deadline(&self, now: u64, yield_ticks: u64) -> Option<u64> {
        let timer = self.timer_deadline(now);
        if self.sprs.msr() & msr::EE != 0 {
            return timer;
        }
        Some(timer.map_or(yield_ticks, |t| t.min(yield_ticks)))
    }

    /// Check the invariants the isolation relies on, as they must hold when the guest is about
    /// to run (after [`Vcpu::prepare_entry`]): every refill-cache slot maps only memory inside
    /// the partition, is well-formed, belongs to a live shadow ID of this guest, and equals what
    /// translating its address in that ID's context gives now.
    pub fn audit(&self, pids: &HostPidAllocator) -> Result<(), AuditError> {
        crate::audit::audit(self, pids)
    }
}
