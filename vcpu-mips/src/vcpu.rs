//! The virtual CPU: the state of one guest CPU and the two calls the arch layer makes.
//!
//! - [`Vcpu::handle_trap`] after every exception taken while the guest ran, with the guest's
//!   registers saved into [`GuestRegs`]; it returns an [`Outcome`] telling the arch what to do.
//! - [`Vcpu::prepare_entry`] before every return into the guest; it delivers a pending virtual
//!   interrupt if the guest's Status allows it and says which real mode and host ASID to run in.
//!
//! Plus the scheduler's calls: [`Vcpu::runnable`], [`Vcpu::wake`], [`Vcpu::timer_deadline`] and
//! the device side's [`Vcpu::raise_device_interrupt`].

use crate::addr::{Hpa, Partition};
use crate::asid::{GuestAsids, HostAsidAllocator, Space};
use crate::config::{ConfigError, VcpuConfig};
use crate::cp0::{Cp0, CAUSE_IP1, ST_ERL, ST_EXL, ST_IE, ST_IM, ST_KSU};
use crate::exception::{code, deliver, GuestException, HaltReason};
use crate::interface::{
    AuditError, Entry, GuestMemory, GuestRegs, HostInvalidation, HostTlbEntry, Outcome, RealMode,
    Reflection, Trap,
};
use crate::refill::RefillCache;
use crate::shadow::{translate, Access, GuestFault, HostMapping, Privilege, TranslateContext};
use crate::tlb::{Tlb, LO_G};

/// One guest CPU.
#[derive(Clone, Debug)]
pub struct Vcpu {
    pub(crate) config: VcpuConfig,
    pub(crate) cp0: Cp0,
    pub(crate) tlb: Tlb,
    pub(crate) asids: GuestAsids,
    pub(crate) refill: RefillCache,
    pub(crate) waiting: bool,
    /// The ranges of the last [`Outcome::InvalidateHost`].
    pub(crate) invalidation: HostInvalidation,
    /// Host EntryLo0 of the guest's commpage (`dyntrans`), 0 while it has none.
    pub(crate) commpage_lo: u32,
    /// The host ASIDs of the current guest ASID's kernel-mode and user-mode spaces (ERL
    /// clear), as the last [`Vcpu::prepare_entry`] obtained them: what a switch between the
    /// guest's modes sets (read by the arch's assembly; see [`Vcpu::mode_asids`]).
    pub(crate) kernel_asid: u8,
    pub(crate) user_asid: u8,
}

impl Vcpu {
    /// A CPU at guest boot: kernel mode, interrupts off, BEV = 0, EBase 0x8000_0000 (vectors at
    /// 0xC000_0000), Count 0 at host time `now`. Set the entry PC and $a0/$a1 in [`GuestRegs`].
    pub fn new(config: VcpuConfig, now: u32) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Vcpu {
            tlb: Tlb::new(config.tlb_entries),
            config,
            cp0: Cp0::at_boot(now),
            asids: GuestAsids::new(),
            refill: RefillCache::new(),
            waiting: false,
            invalidation: HostInvalidation::default_empty(),
            commpage_lo: 0,
            kernel_asid: 0,
            user_asid: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &VcpuConfig {
        &self.config
    }

    /// The virtual CP0 (read-only view).
    pub fn cp0(&self) -> &Cp0 {
        &self.cp0
    }

    /// What the last [`Outcome::InvalidateHost`] asks the arch to invalidate (valid until the
    /// next trap is handled).
    pub fn host_invalidation(&self) -> &HostInvalidation {
        &self.invalidation
    }

    /// The virtual TLB (read-only view).
    pub fn tlb(&self) -> &Tlb {
        &self.tlb
    }

    /// The refill cache: the arch's refill handler probes this table while this guest runs.
    pub fn refill_cache(&self) -> &RefillCache {
        &self.refill
    }

    /// The guest's virtual privilege.
    #[inline]
    pub fn privilege(&self) -> Privilege {
        let s = self.cp0.status;
        if s & (ST_EXL | ST_ERL) != 0 {
            return Privilege::Kernel;
        }
        match (s & ST_KSU) >> 3 {
            0 => Privilege::Kernel,
            1 => Privilege::Supervisor,
            _ => Privilege::User,
        }
    }

    /// The real mode the guest runs in now.
    pub fn real_mode(&self) -> RealMode {
        match self.privilege() {
            Privilege::User => RealMode::User,
            _ => RealMode::Supervisor,
        }
    }

    /// Whether the guest is in virtual kernel mode (EXL, ERL or KSU = 0).
    #[inline]
    pub(crate) fn kernel_mode(&self) -> bool {
        let s = self.cp0.status;
        s & (ST_EXL | ST_ERL) != 0 || s & ST_KSU == 0
    }

    #[inline]
    pub(crate) fn cp0_usable(&self) -> bool {
        // Kernel mode (EXL, ERL or KSU = 0), or CU0 set.
        let s = self.cp0.status;
        s & (ST_EXL | ST_ERL | crate::cp0::ST_CU0) != 0 || s & ST_KSU == 0
    }

    pub(crate) fn space(&self) -> Space {
        let erl = self.cp0.status & ST_ERL != 0;
        Space {
            guest_asid: self.cp0.asid(),
            erl,
            user: !erl && !self.kernel_mode(),
        }
    }

    pub(crate) fn translate(&self, va: u32, access: Access) -> Result<HostMapping, GuestFault> {
        let ctx = TranslateContext {
            partition: &self.config.partition,
            tlb: &self.tlb,
            asid: self.cp0.asid(),
            privilege: self.privilege(),
            erl: self.cp0.status & ST_ERL != 0,
        };
        translate(&ctx, va, access)
    }

    /// Read the instruction word at guest address `va` as the guest would fetch it.
    pub(crate) fn fetch(&self, va: u32, mem: &impl GuestMemory) -> Result<u32, GuestFault> {
        if va & 3 != 0 {
            return Err(GuestFault::AddressError {
                va,
                access: Access::Fetch,
            });
        }
        let mapping = self.translate(va, Access::Fetch)?;
        match mapping.host_addr(va) {
            Some(pa) => Ok(mem.read_word(Hpa::new(u64::from(pa)))),
            None => Err(GuestFault::TlbInvalid {
                va,
                access: Access::Fetch,
            }),
        }
    }

    /// Deliver `exc` for the instruction at `regs.pc` (a branch if `regs.branch_delay`).
    pub(crate) fn reflect(
        &mut self,
        regs: &mut GuestRegs,
        exc: GuestException,
        why: Reflection,
    ) -> Outcome {
        match deliver(
            &mut self.cp0,
            &self.config.partition,
            &exc,
            regs.pc,
            regs.branch_delay,
        ) {
            Ok(vector) => {
                regs.pc = vector;
                regs.branch_delay = false;
                Outcome::Reflected {
                    code: exc.code,
                    why,
                }
            }
            Err(reason) => Outcome::Halt(reason),
        }
    }

    pub(crate) fn fault_exception(fault: GuestFault) -> (GuestException, Reflection) {
        let store_code = |access: Access| {
            if access == Access::Store {
                code::TLBS
            } else {
                code::TLBL
            }
        };
        match fault {
            GuestFault::TlbRefill { va, access } => (
                GuestException::tlb(store_code(access), va, true),
                Reflection::GuestTlb,
            ),
            GuestFault::TlbInvalid { va, access } => (
                GuestException::tlb(store_code(access), va, false),
                Reflection::GuestTlb,
            ),
            GuestFault::TlbModified { va } => (
                GuestException::tlb(code::MOD, va, false),
                Reflection::GuestTlb,
            ),
            GuestFault::AddressError { va, access } => (
                GuestException::address_error(va, access == Access::Store),
                Reflection::Guest,
            ),
            GuestFault::BusError { access } => (
                GuestException::plain(if access == Access::Fetch {
                    code::IBE
                } else {
                    code::DBE
                }),
                Reflection::OutsidePartition,
            ),
        }
    }

    pub(crate) fn reflect_fault(&mut self, regs: &mut GuestRegs, fault: GuestFault) -> Outcome {
        let (exc, why) = Self::fault_exception(fault);
        self.reflect(regs, exc, why)
    }

    /// Handle an exception taken while the guest ran. `regs` holds the guest's registers, with
    /// `pc` = real EPC and `branch_delay` = real Cause.BD.
    pub fn handle_trap(
        &mut self,
        regs: &mut GuestRegs,
        trap: &Trap,
        mem: &impl GuestMemory,
        alloc: &HostAsidAllocator,
    ) -> Outcome {
        self.cp0.timer.update(trap.now);
        let exc_code = ((trap.cause >> 2) & 0x1F) as u8;
        match exc_code {
            code::MOD | code::TLBL | code::TLBS => {
                self.shadow_fault(regs, exc_code, trap.bad_vaddr, alloc)
            }
            code::ADEL | code::ADES => self.reflect(
                regs,
                GuestException::address_error(trap.bad_vaddr, exc_code == code::ADES),
                Reflection::Guest,
            ),
            code::CPU if (trap.cause >> 28) & 3 != 0 => {
                let ce = ((trap.cause >> 28) & 3) as u8;
                self.reflect(
                    regs,
                    GuestException::coprocessor_unusable(ce),
                    Reflection::Guest,
                )
            }
            code::CPU | code::RI => self.emulate(regs, exc_code, trap.now, mem, alloc),
            code::IBE
            | code::DBE
            | code::SYS
            | code::BP
            | code::OV
            | code::TR
            | code::FPE
            | code::C2E
            | code::MDMX
            | code::DSPDIS => {
                self.reflect(regs, GuestException::plain(exc_code), Reflection::Guest)
            }
            _ => Outcome::HostException { code: exc_code },
        }
    }

    fn shadow_fault(
        &mut self,
        regs: &mut GuestRegs,
        exc_code: u8,
        va: u32,
        alloc: &HostAsidAllocator,
    ) -> Outcome {
        let fetch_pc = if regs.branch_delay {
            regs.pc.wrapping_add(4)
        } else {
            regs.pc
        };
        let access = match exc_code {
            code::TLBL if va == fetch_pc => Access::Fetch,
            code::TLBL => Access::Load,
            _ => Access::Store,
        };
        if self.commpage_shadows(va) {
            return self.commpage_fault(regs, access, va, alloc);
        }
        match self.translate(va, access) {
            Ok(m) => {
                // The guest runs under this host ASID since prepare_entry; if it has none (no
                // prepare_entry yet in this generation), retry after prepare_entry assigns one.
                let Some(host_asid) = self.asids.current(self.space(), alloc) else {
                    return Outcome::Resume;
                };
                if !self.commpage_pair_va(va) {
                    self.refill.insert(
                        (va & 0xFFFF_E000) | u32::from(host_asid),
                        m.lo0,
                        m.lo1,
                        m.page_mask,
                    );
                }
                Outcome::MapHost(HostTlbEntry {
                    entry_hi: m.vpn2 | u32::from(host_asid),
                    page_mask: m.page_mask,
                    entry_lo0: m.lo0,
                    entry_lo1: m.lo1,
                })
            }
            Err(fault) => self.reflect_fault(regs, fault),
        }
    }

    /// Whether a virtual interrupt is pending and enabled by Status.IM (ignoring IE/EXL/ERL).
    pub fn interrupt_pending(&self) -> bool {
        u32::from(self.cp0.pending_lines()) & (self.cp0.status & ST_IM) >> 8 != 0
    }

    /// Whether the guest would take an interrupt now: pending under IM, IE = 1, EXL = ERL = 0.
    pub fn interrupt_deliverable(&self) -> bool {
        let s = self.cp0.status;
        s & ST_IE != 0 && s & (ST_EXL | ST_ERL) == 0 && self.interrupt_pending()
    }

    /// Prepare to return into the guest at host time `now`: update the timer, deliver a virtual
    /// interrupt if deliverable, and pick the host ASID.
    pub fn prepare_entry(
        &mut self,
        regs: &mut GuestRegs,
        now: u32,
        alloc: &mut HostAsidAllocator,
    ) -> Result<Entry, HaltReason> {
        self.cp0.timer.update(now);
        let mut interrupt_delivered = false;
        if self.interrupt_deliverable() {
            let vector = deliver(
                &mut self.cp0,
                &self.config.partition,
                &GuestException::interrupt(),
                regs.pc,
                regs.branch_delay,
            )?;
            regs.pc = vector;
            regs.branch_delay = false;
            interrupt_delivered = true;
        }
        let (grant, flush_host_tlb) = self.obtain_asids(alloc);
        Ok(Entry {
            mode: self.real_mode(),
            host_asid: grant,
            kernel_asid: self.kernel_asid,
            user_asid: self.user_asid,
            flush_host_tlb,
            hwrena: self.cp0.hwrena & 0b1011,
            interrupt_delivered,
        })
    }

    /// The host ASIDs of the current space and of the current guest ASID's kernel-mode and
    /// user-mode spaces, all of one generation (a new generation begun by the second or third
    /// allocation makes the first ones dead: they are obtained again, which cannot begin
    /// another). Whether the whole host TLB must be flushed.
    fn obtain_asids(&mut self, alloc: &mut HostAsidAllocator) -> (u8, bool) {
        let asid = self.cp0.asid();
        let spaces = [Space::kernel(asid), Space::user(asid), self.space()];
        let mut got = [0u8; 3];
        let (mut flush, mut reset) = (false, false);
        // At most two rounds: the second allocates at most three of a fresh generation's 255.
        for _ in 0..2 {
            let mut rolled_over = false;
            for (space, slot) in spaces.iter().zip(got.iter_mut()) {
                let grant = self.asids.obtain(*space, alloc);
                rolled_over |= grant.flush_host_tlb;
                reset |= grant.guest_map_reset;
                *slot = grant.asid;
            }
            flush |= rolled_over;
            if !rolled_over {
                break;
            }
        }
        if reset {
            self.refill.clear();
        }
        self.kernel_asid = got[0];
        self.user_asid = got[1];
        (got[2], flush)
    }

    /// The host ASIDs (kernel mode, user mode) of the current guest ASID with ERL clear, as
    /// the last [`Vcpu::prepare_entry`] obtained them: valid while the guest runs (only its
    /// own `prepare_entry` allocates then, and it renews both). An arch that switches the
    /// guest between its modes without `prepare_entry` (a reflected exception into kernel
    /// mode, an `eret` into user mode) sets the one of the new mode.
    pub fn mode_asids(&self) -> (u8, u8) {
        (self.kernel_asid, self.user_asid)
    }

    /// Byte offsets in `Vcpu` of the kernel-mode and user-mode host ASIDs (one byte each),
    /// for an arch's assembly.
    pub const KERNEL_ASID_OFFSET: usize = core::mem::offset_of!(Vcpu, kernel_asid);
    /// See [`Vcpu::KERNEL_ASID_OFFSET`].
    pub const USER_ASID_OFFSET: usize = core::mem::offset_of!(Vcpu, user_asid);

    /// Assert the device interrupt (Cause.IP1) after setting a bit in the guest's virq word.
    pub fn raise_device_interrupt(&mut self) {
        self.cp0.cause |= CAUSE_IP1;
    }

    /// Whether the guest is in `wait`.
    pub fn is_waiting(&self) -> bool {
        self.waiting
    }

    /// Whether the scheduler may run the guest: not waiting, or an interrupt enabled by IM is
    /// pending (like a 24K with Config7.WII, `wait` ends even when Status.IE masks it).
    pub fn runnable(&mut self, now: u32) -> bool {
        if self.waiting {
            self.cp0.timer.update(now);
            if self.interrupt_pending() {
                self.waiting = false;
            }
        }
        !self.waiting
    }

    /// End a `wait` for a host reason (rings drained, control message...).
    pub fn wake(&mut self) {
        self.waiting = false;
    }

    /// Host Count ticks until the guest's timer fires, if it can: program the host Compare for
    /// the earliest of these and the time slice. Call [`Vcpu::runnable`] (or enter the guest) at
    /// least once per 2^32 ticks.
    pub fn timer_deadline(&self, now: u32) -> Option<u32> {
        self.cp0.timer.cycles_until_fire(now)
    }

    /// Host Count ticks a guest that gave up the CPU (`wait`, or the yield hypercall) may be
    /// left waiting when nothing wakes it: until its timer fires ([`Vcpu::timer_deadline`]);
    /// but with its interrupts off (Status.IE = 0, or EXL/ERL set) it is only yielding, and
    /// runs again within `yield_ticks`. MetaROUTER guests rely on that: RouterOS's console
    /// driver yields with interrupts off while its ring is full, and small guests poll their
    /// virq word around `wait` without ever enabling interrupts or programming their timer
    /// (whose first expiry would be a whole Count wrap away).
    pub fn wait_deadline(&self, now: u32, yield_ticks: u32) -> Option<u32> {
        let timer = self.timer_deadline(now);
        let status = self.cp0.status;
        if status & ST_IE != 0 && status & (ST_EXL | ST_ERL) == 0 {
            return timer;
        }
        Some(timer.map_or(yield_ticks, |t| t.min(yield_ticks)))
    }

    /// Check the invariants the isolation relies on, as they must hold when the guest is about
    /// to run (after [`Vcpu::prepare_entry`]): every refill-cache slot maps only memory inside the
    /// partition, without G, under one of this guest's live host ASIDs, and equals what
    /// translating its address in its space gives now (no stale translation); the one
    /// exception is the commpage's pair, only under a kernel-mode host ASID, whose even page
    /// is the commpage and whose odd page is the guest's own page 1 now.
    pub fn audit(&self, alloc: &HostAsidAllocator) -> Result<(), AuditError> {
        audit_refill(&self.refill, &self.config.partition, self.commpage_lo)?;
        for (slot, s) in self.refill.slots().iter().enumerate() {
            if s.entry_hi == 0 {
                continue;
            }
            let stale = Err(AuditError::RefillStale { slot });
            let Some(space) = self.asids.space_of(s.entry_hi as u8, alloc) else {
                return stale;
            };
            let ctx = TranslateContext {
                partition: &self.config.partition,
                tlb: &self.tlb,
                asid: space.guest_asid,
                privilege: Privilege::Kernel,
                erl: space.erl,
            };
            let va = s.entry_hi & 0xFFFF_E000;
            if self.commpage_pair_va(va) {
                let lo1 = translate(&ctx, 0x1000, Access::Load).map_or(0, |m| m.lo1);
                if space.erl
                    || space.user
                    || (s.entry_lo0, s.entry_lo1, s.page_mask) != (self.commpage_lo, lo1, 0)
                {
                    return stale;
                }
                continue;
            }
            let fresh = translate(&ctx, va, Access::Load)
                .or_else(|_| translate(&ctx, va + 0x1000, Access::Load));
            match fresh {
                Ok(m) if (m.lo0, m.lo1, m.page_mask) == (s.entry_lo0, s.entry_lo1, s.page_mask) => {
                }
                _ => return stale,
            }
        }
        Ok(())
    }
}

/// The refill cache's slots map nothing outside `partition` but the commpage (host EntryLo0
/// `commpage_lo`, 0: none) as the even page of the pair at guest address 0, and nothing global
/// or under the hypervisor's ASID.
pub(crate) fn audit_refill(
    refill: &RefillCache,
    partition: &Partition,
    commpage_lo: u32,
) -> Result<(), AuditError> {
    for (slot, s) in refill.slots().iter().enumerate() {
        if s.entry_hi == 0 {
            continue;
        }
        let commpage = commpage_lo != 0
            && s.entry_hi & 0xFFFF_E000 == 0
            && s.page_mask == 0
            && s.entry_lo0 == commpage_lo;
        if s.entry_hi & 0xFF == 0 || (s.entry_lo0 | s.entry_lo1) & LO_G != 0 {
            return Err(AuditError::RefillGlobalOrHypervisorAsid { slot });
        }
        let page = crate::tlb::page_size_of(s.page_mask);
        let checked = if commpage { 1 } else { 0 };
        for &lo in &[s.entry_lo0, s.entry_lo1][checked..] {
            if let Some((start, _)) = crate::shadow::lo_host_range(lo, page) {
                if !partition.holds_host_range(start, page) {
                    return Err(AuditError::RefillOutsidePartition { slot });
                }
            }
        }
    }
    Ok(())
}
