//! The guest's TLB instructions (`tlbwe`, `tlbre`, `tlbsx`, `tlbivax`, MMUCSR0's flash
//! invalidation) with the e500v2 MAS semantics, and what each change of the guest TLB
//! invalidates of the shadow.
//!
//! When the entry at some index changes from `old` to `new`, host pages can become wrong in
//! these ways, and these host pages are dropped (by probing the host TLB for each page under
//! each shadow ID concerned, or, past [`MAX_PROBES_PER_RANGE`], by retiring those shadow IDs):
//!
//! - `old`'s pages, under the IDs that can hold them ([`entry_users`]);
//! - for every other entry E overlapping `new` that `new` takes precedence over: E's pages in
//!   `new`'s range (`new` wins there now);
//! - for every other entry E overlapping `old` or `new` whose host pages depended on it: all of
//!   E's pages. That is, E's host page sizes (a TLB1 entry that precedes a TLB1 entry E bounds
//!   E's blocks) and whether E is mapped globally (a TID = 0 entry is global only while no
//!   TID != 0 entry overlaps it).
//!
//! Bulk invalidation (flash, `tlbivax` of a whole TLB) retires the IDs of every entry it
//! invalidates instead of probing.
//!
//! [`MAX_PROBES_PER_RANGE`]: crate::interface::MAX_PROBES_PER_RANGE

use crate::exception::{load_mas_for_miss, TlbMiss};
use crate::interface::{GuestRegs, HostInvalidation};
use crate::shadow::Access;
use crate::sid::{Context, GuestSids, HostPidAllocator, SidSet};
use crate::spr::mas::*;
use crate::spr::{mmucsr0, msr};
use crate::sprs::slot;
use crate::tlb::{Tlb, TlbEntry, TlbIndex, TLB0_ENTRIES, TLB1_ENTRIES};
use crate::vcpu::Vcpu;

/// The shadow IDs under which host pages of guest entry `e` can exist: the contexts that can
/// use it (for a TID = 0 entry only if it was ever mapped outside the global ID) and, for a
/// TID = 0 entry, the global IDs of its address space.
pub fn entry_users(sids: &GuestSids, e: &TlbEntry, pids: &HostPidAllocator) -> SidSet {
    let mut users = SidSet::EMPTY;
    if e.tid() != 0 || e.context_mapped() {
        users = sids.users_of(e.ts(), e.tid(), pids);
    }
    if e.tid() == 0 {
        users.insert_all(&sids.global_users(e.ts(), pids));
    }
    users
}

/// Whether the host pages of `e` (at `e_index`) depend on `x` (at `x_index`): their sizes (a
/// preceding TLB1 entry) or their global mapping (a TID != 0 entry over a TID = 0 one).
fn depends_on(x_index: TlbIndex, x: &TlbEntry, e_index: TlbIndex, e: &TlbEntry) -> bool {
    let sizing = matches!((x_index, e_index), (TlbIndex::Tlb1(_), TlbIndex::Tlb1(_)))
        && x_index.precedes(e_index);
    sizing || (x.tid() != 0 && e.tid() == 0)
}

/// Invalidation being collected, into the `Vcpu`'s own fields (no copy of them per change).
struct Collector<'a> {
    inval: &'a mut HostInvalidation,
    retiring: &'a mut SidSet,
    /// TID = 0 entries all of whose context-mapped pages are being dropped.
    unmark: [Option<TlbIndex>; 8],
}

impl Collector<'_> {
    fn range(&mut self, start: u32, len: u64, sids: SidSet) {
        if !self.inval.try_push(start, len, sids) {
            self.retiring.insert_all(&sids);
        }
    }

    fn unmark(&mut self, index: TlbIndex) {
        if let Some(slot) = self.unmark.iter_mut().find(|s| s.is_none()) {
            *slot = Some(index);
        }
    }
}

impl Vcpu {
    pub(crate) fn begin_invalidation(&mut self) {
        self.invalidation.clear();
        self.retiring = SidSet::EMPTY;
    }

    /// Retire what must be retired, drop the refill slots concerned; whether the host has
    /// probes to make ([`crate::Outcome::InvalidateHost`]).
    pub(crate) fn end_invalidation(&mut self) -> bool {
        if !self.retiring.is_empty() {
            let retiring = self.retiring;
            self.sids.retire(&retiring);
            self.refill.retire(&retiring);
            self.invalidation.drop_sids(&retiring);
        }
        for (start, len, sids) in self.invalidation.ranges() {
            self.refill.invalidate(*start, *len, sids);
        }
        self.invalidation.has_probes()
    }

    /// Collect what the change of the entry at `index` from `old` to `new` (already written)
    /// invalidates.
    fn entry_changed(
        &mut self,
        index: TlbIndex,
        old: &TlbEntry,
        new: &TlbEntry,
        pids: &HostPidAllocator,
    ) {
        let mut c = Collector {
            inval: &mut self.invalidation,
            retiring: &mut self.retiring,
            unmark: [None; 8],
        };
        if old.valid() {
            c.range(old.epn(), old.size(), entry_users(&self.sids, old, pids));
        }
        for (x, is_new) in [(old, false), (new, true)] {
            if !x.valid() {
                continue;
            }
            let sids = &self.sids;
            self.tlb
                .for_each_overlapping(x.epn(), x.size(), x.ts(), Some(index), |e_index, e| {
                    let precedes = is_new && index.precedes(e_index);
                    let depends = depends_on(index, x, e_index, e);
                    if !precedes && !depends {
                        return;
                    }
                    let users = entry_users(sids, e, pids);
                    if precedes {
                        c.range(x.epn(), x.size(), users);
                    }
                    if depends {
                        c.range(e.epn(), e.size(), users);
                        if e.context_mapped() {
                            c.unmark(e_index);
                        }
                    }
                });
        }
        let unmark = c.unmark;
        for index in unmark.into_iter().flatten() {
            self.tlb.clear_context_mapped(index);
        }
    }

    /// `tlbwe`: write the entry MAS0 (and MAS2 for TLB0) selects from MAS1..MAS3 and MAS7;
    /// TLB0 takes its next victim from MAS0\[NV\]. Returns whether host entries must be
    /// invalidated. Pre-fills the refill cache for a TLB0 page of the current context.
    pub(crate) fn tlbwe(&mut self, pids: &HostPidAllocator) -> bool {
        let s = &self.sprs;
        let (mas0, mas2) = (s.get(slot::MAS0), s.get(slot::MAS2));
        let index = Tlb::index_from_mas(mas0, mas2);
        let tlb1 = matches!(index, TlbIndex::Tlb1(_));
        let new = TlbEntry::from_mas(
            s.get(slot::MAS1),
            mas2,
            s.get(slot::MAS3),
            s.get(slot::MAS7),
            tlb1,
        );
        if !tlb1 {
            self.tlb.set_next_victim((mas0 & MAS0_NV) as u8);
        }
        self.begin_invalidation();
        let old = self.tlb.entry(index);
        if old.same_as(&new) {
            return false;
        }
        self.tlb.write(index, new);
        self.entry_changed(index, &old, &new, pids);
        let work = self.end_invalidation();
        if !tlb1 {
            self.prefill(index, &new, pids);
        }
        work
    }

    /// The guest is about to retry an access to the page it just wrote: fill its refill slot
    /// for the context that will retry it, if the page is what translating it there gives. A
    /// guest's TLB miss handler writes the entry in supervisor state and returns with `rfi` to
    /// the context SRR1 describes (a user process, usually): that context first, then the
    /// current one.
    fn prefill(&mut self, index: TlbIndex, e: &TlbEntry, pids: &HostPidAllocator) {
        if !e.valid() {
            return;
        }
        let current = self.context();
        let srr1 = self.sprs.get(slot::SRR1);
        let returning = Context {
            is: srr1 & msr::IS != 0,
            ds: srr1 & msr::DS != 0,
            pr: srr1 & msr::PR != 0,
            ..current
        };
        for ctx in [returning, current] {
            if self.prefill_in(&ctx, index, e, pids) {
                return;
            }
        }
    }

    /// Fill the slot of `e`'s page for context `ctx` if `ctx` has a shadow ID and translating
    /// the page there gives `e`; whether it did.
    fn prefill_in(
        &mut self,
        ctx: &Context,
        index: TlbIndex,
        e: &TlbEntry,
        pids: &HostPidAllocator,
    ) -> bool {
        if !ctx.may_use(e.ts(), e.tid()) {
            return false;
        }
        let access = if e.ts() == ctx.ds {
            Access::Load
        } else {
            Access::Fetch
        };
        let Ok(m) = self.shadow_map(ctx, e.epn(), access) else {
            return false;
        };
        if m.source != index {
            return false;
        }
        let sid = if m.global {
            self.sids.current_global(ctx, pids)
        } else {
            self.sids.current(ctx, pids)
        };
        let Some(sid) = sid else {
            return false;
        };
        if !m.global && e.tid() == 0 {
            self.tlb.mark_context_mapped(index);
        }
        self.refill.insert(e.epn(), &m.entry(sid));
        true
    }

    /// `tlbre`: MAS1..MAS3 and MAS7 from the entry MAS0 (and MAS2) select; MAS0\[NV\] = the next
    /// victim.
    pub(crate) fn tlbre(&mut self) {
        let (mas0, mas2) = (self.sprs.get(slot::MAS0), self.sprs.get(slot::MAS2));
        let e = self.tlb.entry(Tlb::index_from_mas(mas0, mas2));
        let s = &mut self.sprs;
        s.set(
            slot::MAS0,
            (mas0 & !MAS0_NV) | u32::from(self.tlb.next_victim()),
        );
        s.set(slot::MAS1, e.mas1());
        s.set(slot::MAS2, e.mas2());
        s.set(slot::MAS3, e.mas3());
        s.set(slot::MAS7, e.mas7());
    }

    /// `tlbsx` at `ea`: search with MAS6's PID and address space; on a hit load the entry and
    /// its position into the MAS registers, on a miss load the MAS4 defaults with V = 0.
    pub(crate) fn tlbsx(&mut self, ea: u32) {
        let mas6 = self.sprs.get(slot::MAS6);
        let spid = (mas6 >> 16) as u8;
        let sas = mas6 & MAS6_SAS != 0;
        let nv = u32::from(self.tlb.next_victim());
        match self.tlb.search(ea, sas, spid) {
            Some((index, e)) => {
                let mas0 = match index {
                    TlbIndex::Tlb1(i) => MAS0_TLBSEL1 | u32::from(i) << 16 | nv,
                    TlbIndex::Tlb0(i) => (u32::from(i) % 4) << 16 | nv,
                };
                let s = &mut self.sprs;
                s.set(slot::MAS0, mas0);
                s.set(slot::MAS1, e.mas1());
                s.set(slot::MAS2, e.mas2());
                s.set(slot::MAS3, e.mas3());
                s.set(slot::MAS7, e.mas7());
            }
            None => {
                load_mas_for_miss(
                    &mut self.sprs,
                    &mut self.tlb,
                    TlbMiss {
                        ea,
                        address_space: sas,
                    },
                );
                let s = &mut self.sprs;
                let mas4 = s.get(slot::MAS4);
                s.set(
                    slot::MAS1,
                    u32::from(spid) << 16 | if sas { MAS1_TS } else { 0 } | (mas4 & MAS4_TSIZED),
                );
                s.set(slot::MAS6, mas6);
            }
        }
    }

    /// `tlbivax` with effective address `ea` (0x8: TLB1, else TLB0; 0x4: every entry of that
    /// TLB, else those whose page contains `ea`), never IPROT entries. Returns whether host
    /// entries must be invalidated.
    pub(crate) fn tlbivax(&mut self, ea: u32, pids: &HostPidAllocator) -> bool {
        self.begin_invalidation();
        self.collect_invalidated(ea & 8 != 0, ea & 4 != 0, ea, pids);
        self.end_invalidation()
    }

    /// An MMUCSR0 write: flash-invalidate TLB0 and/or TLB1 (entries without IPROT). Returns
    /// whether host entries must be invalidated.
    pub(crate) fn write_mmucsr0(&mut self, value: u32, pids: &HostPidAllocator) -> bool {
        self.begin_invalidation();
        if value & mmucsr0::TLB0_FI != 0 {
            self.collect_invalidated(false, true, 0, pids);
        }
        if value & mmucsr0::TLB1_FI != 0 {
            self.collect_invalidated(true, true, 0, pids);
        }
        self.end_invalidation()
    }

    /// The indices `tlbivax` (or flash invalidation, `all`) may hit.
    fn invalidation_candidates(tlb1: bool, all: bool, ea: u32) -> core::ops::Range<usize> {
        if tlb1 {
            0..TLB1_ENTRIES
        } else if all {
            0..TLB0_ENTRIES
        } else {
            let set = crate::tlb::tlb0_set(ea) * crate::tlb::TLB0_WAYS;
            set..set + crate::tlb::TLB0_WAYS
        }
    }

    fn collect_invalidated(&mut self, tlb1: bool, all: bool, ea: u32, pids: &HostPidAllocator) {
        let index_of = |i: usize| {
            if tlb1 {
                TlbIndex::Tlb1(i as u8)
            } else {
                TlbIndex::Tlb0(i as u16)
            }
        };
        let hit = |e: &TlbEntry| e.valid() && !e.iprot() && (all || e.covers(ea));
        let candidates = Self::invalidation_candidates(tlb1, all, ea);
        let count = candidates
            .clone()
            .filter(|&i| hit(&self.tlb.entry(index_of(i))))
            .count();
        if count <= 4 {
            for i in candidates {
                let index = index_of(i);
                if hit(&self.tlb.entry(index)) {
                    let old = self.tlb.invalidate(index);
                    let new = self.tlb.entry(index);
                    self.entry_changed(index, &old, &new, pids);
                }
            }
            return;
        }
        // Many entries at once: retire the IDs of all of them.
        let mut pairs = [SidSet::EMPTY; 2];
        let mut global = [false; 2];
        let mut context_mapped = [false; 2];
        let mut first_tlb1: Option<u8> = None;
        for i in candidates {
            let index = index_of(i);
            if !hit(&self.tlb.entry(index)) {
                continue;
            }
            let e = self.tlb.invalidate(index);
            let ts = usize::from(e.ts());
            if e.tid() == 0 {
                global[ts] = true;
                context_mapped[ts] |= e.context_mapped();
            } else {
                pairs[ts].insert(e.tid());
            }
            if tlb1 {
                first_tlb1 = Some(first_tlb1.map_or(i as u8, |p| p.min(i as u8)));
            }
        }
        let mut retiring = self.retiring;
        for ts in [false, true] {
            for tid in pairs[usize::from(ts)].iter() {
                retiring.insert_all(&self.sids.users_of(ts, tid, pids));
            }
            if global[usize::from(ts)] {
                retiring.insert_all(&self.sids.global_users(ts, pids));
                if context_mapped[usize::from(ts)] {
                    retiring.insert_all(&self.sids.users_of(ts, 0, pids));
                }
            }
        }
        // Survivors whose pages depended on removed entries: a TID = 0 entry mapped under
        // contexts (it may be global now), a TLB1 entry after a removed TLB1 entry (its blocks
        // may grow). All their pages go.
        for (index, e) in self.tlb.valid_entries() {
            let promoted = e.tid() == 0 && e.context_mapped();
            let resized = matches!(index, TlbIndex::Tlb1(i) if first_tlb1.is_some_and(|p| p < i));
            if promoted || resized {
                retiring.insert_all(&entry_users(&self.sids, &e, pids));
            }
        }
        for i in 0..TLB1_ENTRIES + TLB0_ENTRIES {
            let index = if i < TLB1_ENTRIES {
                TlbIndex::Tlb1(i as u8)
            } else {
                TlbIndex::Tlb0((i - TLB1_ENTRIES) as u16)
            };
            if self.tlb.entry(index).context_mapped() && self.tlb.entry(index).valid() {
                self.tlb.clear_context_mapped(index);
            }
        }
        self.retiring = retiring;
    }

    /// `tlbsx rA, rB` / `tlbivax rA, rB` effective address.
    pub(crate) fn indexed_ea(regs: &GuestRegs, ra: u8, rb: u8) -> u32 {
        regs.get_or_zero(ra).wrapping_add(regs.get(rb))
    }
}
