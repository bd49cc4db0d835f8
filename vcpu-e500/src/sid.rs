//! Host PIDs ("shadow IDs"): one per (guest, translation context), handed out by generation.
//!
//! A guest runs in address space 1 (real MSR\[IS\] = MSR\[DS\] = 1) with real PID0 = the shadow ID
//! of its current [`Context`]: its virtual MSR\[PR\], MSR\[IS\], MSR\[DS\] and PID0..PID2. Every
//! host TLB entry made for it carries TS = 1 and TID = that shadow ID, so it matches only while the
//! guest runs in that very context: the guest's own TID/PID scheme, its two address spaces and
//! its supervisor/user permissions are all folded into one host TID, guests never share a
//! live one, and the hypervisor's own entries (address space 0) are never matched by guest
//! accesses. Shadow ID 0 is never given out (TID 0 matches every PID).
//!
//! IDs are taken in increasing order from one [`HostPidAllocator`] per physical CPU and never
//! reused within a generation. When the 255 IDs are used up a new generation starts: the host
//! flushes every guest entry (`Entry::flush_host_tlb`) and each guest's [`GuestSids`] map
//! (and refill cache) starts over on its next entry. A guest that discards many translations
//! at once (flash invalidation, `tlbivax` of all entries, large pages) simply *retires* the IDs
//! of the contexts concerned: their host entries can never match again, and no host TLB work
//! is needed.

/// The virtual state a translation depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Context {
    /// MSR\[IS\]: the address space of instruction fetches.
    pub is: bool,
    /// MSR\[DS\]: the address space of data accesses.
    pub ds: bool,
    /// MSR\[PR\]: guest user mode (permissions from the U bits).
    pub pr: bool,
    /// PID0, PID1, PID2.
    pub pids: [u8; 3],
}

impl Context {
    /// Whether the context is one of the common ones, kept in the direct table: IS = DS and
    /// PID1 = PID2 = 0 (every context a Linux guest uses after its entry code).
    pub const fn is_common(&self) -> bool {
        self.is == self.ds && self.pids[1] == 0 && self.pids[2] == 0
    }

    /// Index in the direct table of a common context: `AS << 9 | PR << 8 | PID0`.
    pub const fn table_index(&self) -> usize {
        (self.is as usize) << 9 | (self.pr as usize) << 8 | self.pids[0] as usize
    }

    const fn pack(&self) -> u32 {
        self.is as u32
            | (self.ds as u32) << 1
            | (self.pr as u32) << 2
            | (self.pids[0] as u32) << 8
            | (self.pids[1] as u32) << 16
            | (self.pids[2] as u32) << 24
    }

    const fn unpack(v: u32) -> Context {
        Context {
            is: v & 1 != 0,
            ds: v & 2 != 0,
            pr: v & 4 != 0,
            pids: [(v >> 8) as u8, (v >> 16) as u8, (v >> 24) as u8],
        }
    }

    /// Whether a guest TLB entry of address space `ts` and TID `tid` can translate in this
    /// context.
    pub const fn may_use(&self, ts: bool, tid: u8) -> bool {
        (self.is == ts || self.ds == ts)
            && (tid == 0 || tid == self.pids[0] || tid == self.pids[1] || tid == self.pids[2])
    }
}

/// The system-wide shadow-ID allocator (one per physical CPU).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPidAllocator {
    generation: u32,
    next: u16,
}

impl Default for HostPidAllocator {
    fn default() -> Self {
        Self::new()
    }
}

impl HostPidAllocator {
    /// Generation 1, IDs 1..=255 free. Start with no guest entry in the host TLB.
    pub const fn new() -> Self {
        HostPidAllocator {
            generation: 1,
            next: 1,
        }
    }

    /// Current generation (a 32-bit counter: it would need 2^32 x 255 allocations to wrap).
    pub const fn generation(&self) -> u32 {
        self.generation
    }

    /// Byte offset of the generation word (for an arch comparing it in assembly).
    pub const GENERATION_OFFSET: usize = core::mem::offset_of!(HostPidAllocator, generation);

    fn allocate(&mut self) -> (u8, bool) {
        let mut flushed = false;
        if self.next > 255 {
            self.generation = self.generation.wrapping_add(1);
            self.next = 1;
            flushed = true;
        }
        let sid = self.next as u8;
        self.next += 1;
        (sid, flushed)
    }
}

/// A 256-bit set of shadow IDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SidSet([u32; 8]);

impl SidSet {
    /// The empty set.
    pub const EMPTY: SidSet = SidSet([0; 8]);

    /// Add `sid`.
    pub fn insert(&mut self, sid: u8) {
        self.0[(sid >> 5) as usize] |= 1 << (sid & 31);
    }

    /// Remove `sid`.
    pub fn remove(&mut self, sid: u8) {
        self.0[(sid >> 5) as usize] &= !(1 << (sid & 31));
    }

    /// Remove every member of `other`.
    pub fn remove_all(&mut self, other: &SidSet) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a &= !b;
        }
    }

    /// Add every member of `other`.
    pub fn insert_all(&mut self, other: &SidSet) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a |= b;
        }
    }

    /// Whether `sid` is a member.
    pub const fn contains(&self, sid: u8) -> bool {
        self.0[(sid >> 5) as usize] & (1 << (sid & 31)) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    /// How many IDs the set holds (the words that hold none cost a test each: a core
    /// without a population count instruction counts the others bit by bit).
    pub fn len(&self) -> u32 {
        self.0
            .iter()
            .filter(|&&w| w != 0)
            .map(|w| w.count_ones())
            .sum()
    }

    /// The members, in increasing order.
    pub fn iter(&self) -> SidIter {
        SidIter {
            words: self.0,
            word: 0,
        }
    }
}

/// The members of a [`SidSet`], in increasing order.
#[derive(Clone, Debug)]
pub struct SidIter {
    words: [u32; 8],
    word: usize,
}

impl Iterator for SidIter {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        while self.word < self.words.len() {
            let w = self.words[self.word];
            if w != 0 {
                let bit = w.trailing_zeros();
                self.words[self.word] = w & (w - 1);
                return Some((self.word as u32 * 32 + bit) as u8);
            }
            self.word += 1;
        }
        None
    }
}

/// Result of [`GuestSids::obtain`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The shadow ID to run the guest under (real PID0).
    pub sid: u8,
    /// The shadow ID of its global pages (real PID1); 0 for a context with IS != DS.
    pub global_sid: u8,
    /// A new generation began: flush every guest entry from the host TLB.
    pub flush_host_tlb: bool,
    /// This guest's previous IDs are dead: its refill cache must be cleared.
    pub guest_map_reset: bool,
    /// An uncommon context was pushed out and this ID of the guest retired (0: none): drop
    /// what the refill cache holds for it.
    pub retired: u8,
}

/// Slots for the uncommon contexts (IS != DS, or PID1/PID2 in use).
const ODD_SLOTS: usize = 4;

/// One guest's map from [`Context`] to shadow ID, valid for one allocator generation.
#[derive(Clone, Debug)]
pub struct GuestSids {
    generation: u32,
    /// Common contexts by [`Context::table_index`]; 0 = none.
    table: [u8; 1024],
    /// Uncommon contexts: (packed context, ID); ID 0 = free.
    odd: [(u32, u8); ODD_SLOTS],
    odd_next: u8,
    /// IDs of the global pages of each address space and privilege (`AS << 1 | PR`); 0 = none.
    globals: [u8; 4],
    /// Every ID this guest holds.
    all: SidSet,
}

/// Whose a shadow ID is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// A context's own pages.
    Context(Context),
    /// The global pages of an address space and privilege.
    Global { address_space: bool, pr: bool },
}

impl Default for GuestSids {
    fn default() -> Self {
        Self::new()
    }
}

impl GuestSids {
    /// A map with nothing assigned.
    pub const fn new() -> Self {
        GuestSids {
            generation: 0,
            table: [0; 1024],
            odd: [(0, 0); ODD_SLOTS],
            odd_next: 0,
            globals: [0; 4],
            all: SidSet::EMPTY,
        }
    }

    /// The ID of the global pages `ctx` uses if it has one in the current generation (never
    /// for a context with IS != DS, which maps everything under its own ID).
    #[inline]
    pub fn current_global(&self, ctx: &Context, alloc: &HostPidAllocator) -> Option<u8> {
        if self.generation != alloc.generation || ctx.is != ctx.ds {
            return None;
        }
        let sid = self.globals[Self::global_index(ctx)];
        (sid != 0).then_some(sid)
    }

    const fn global_index(ctx: &Context) -> usize {
        (ctx.is as usize) << 1 | ctx.pr as usize
    }

    /// Byte offset of the global IDs (`[u8; 4]` by `AS << 1 | PR`), for an arch in assembly.
    pub const GLOBALS_OFFSET: usize = core::mem::offset_of!(GuestSids, globals);

    /// The live global IDs of address space `ts` (both privileges).
    pub fn global_users(&self, ts: bool, alloc: &HostPidAllocator) -> SidSet {
        let mut set = SidSet::EMPTY;
        if self.generation == alloc.generation {
            for pr in 0..2 {
                let sid = self.globals[(ts as usize) << 1 | pr];
                if sid != 0 {
                    set.insert(sid);
                }
            }
        }
        set
    }

    /// Byte offsets of the generation word and the direct table, for an arch that looks up a
    /// common context's ID in assembly ([`GuestSids::current`] in a few loads).
    pub const GENERATION_OFFSET: usize = core::mem::offset_of!(GuestSids, generation);
    /// See [`GuestSids::GENERATION_OFFSET`].
    pub const TABLE_OFFSET: usize = core::mem::offset_of!(GuestSids, table);

    /// The ID of `ctx` if it has one in the current generation.
    #[inline]
    pub fn current(&self, ctx: &Context, alloc: &HostPidAllocator) -> Option<u8> {
        if self.generation != alloc.generation {
            return None;
        }
        let sid = if ctx.is_common() {
            self.table[ctx.table_index()]
        } else {
            let key = ctx.pack();
            self.odd
                .iter()
                .find(|&&(k, s)| s != 0 && k == key)
                .map_or(0, |&(_, s)| s)
        };
        (sid != 0).then_some(sid)
    }

    /// The IDs of `ctx` and of its global pages, allocating them if needed (both from the
    /// current generation).
    pub fn obtain(&mut self, ctx: &Context, alloc: &mut HostPidAllocator) -> Grant {
        let mut grant = Grant {
            sid: 0,
            global_sid: 0,
            flush_host_tlb: false,
            guest_map_reset: false,
            retired: 0,
        };
        if self.generation != alloc.generation {
            self.reset(alloc.generation);
            grant.guest_map_reset = true;
        }
        grant.sid = match self.current(ctx, alloc) {
            Some(sid) => sid,
            None => self.assign(ctx, alloc, &mut grant),
        };
        if ctx.is == ctx.ds {
            grant.global_sid = match self.current_global(ctx, alloc) {
                Some(sid) => sid,
                None => {
                    let (sid, flushed) = alloc.allocate();
                    if flushed {
                        // The context's ID belonged to the generation that just ended.
                        self.reset(alloc.generation);
                        grant.flush_host_tlb = true;
                        grant.guest_map_reset = true;
                        grant.retired = 0;
                        grant.sid = self.assign(ctx, alloc, &mut grant);
                    }
                    self.globals[Self::global_index(ctx)] = sid;
                    self.all.insert(sid);
                    sid
                }
            };
        }
        grant
    }

    /// Give `ctx` a new ID.
    fn assign(&mut self, ctx: &Context, alloc: &mut HostPidAllocator, grant: &mut Grant) -> u8 {
        let (sid, flushed) = alloc.allocate();
        if flushed {
            self.reset(alloc.generation);
            grant.flush_host_tlb = true;
            grant.guest_map_reset = true;
        }
        if ctx.is_common() {
            self.table[ctx.table_index()] = sid;
        } else {
            // Replacing an uncommon context retires its ID (its entries never match again).
            let slot = &mut self.odd[usize::from(self.odd_next) % ODD_SLOTS];
            self.odd_next = self.odd_next.wrapping_add(1);
            if slot.1 != 0 {
                grant.retired = slot.1;
                let mut gone = SidSet::EMPTY;
                gone.insert(slot.1);
                self.all.remove_all(&gone);
            }
            *slot = (ctx.pack(), sid);
        }
        self.all.insert(sid);
        sid
    }

    fn reset(&mut self, generation: u32) {
        self.table = [0; 1024];
        self.odd = [(0, 0); ODD_SLOTS];
        self.globals = [0; 4];
        self.all = SidSet::EMPTY;
        self.generation = generation;
    }

    /// Every live ID of this guest.
    pub fn all(&self, alloc: &HostPidAllocator) -> SidSet {
        if self.generation == alloc.generation {
            self.all
        } else {
            SidSet::EMPTY
        }
    }

    /// The live IDs of the contexts in which a guest entry of address space `ts` and TID `tid`
    /// may translate.
    pub fn users_of(&self, ts: bool, tid: u8, alloc: &HostPidAllocator) -> SidSet {
        let mut set = SidSet::EMPTY;
        if self.generation != alloc.generation {
            return set;
        }
        let base = (ts as usize) << 9;
        let mut add = |index: usize| {
            if self.table[index] != 0 {
                set.insert(self.table[index]);
            }
        };
        if tid == 0 {
            (base..base + 512).for_each(&mut add);
        } else {
            add(base | usize::from(tid));
            add(base | 256 | usize::from(tid));
        }
        for &(key, sid) in &self.odd {
            if sid != 0 && Context::unpack(key).may_use(ts, tid) {
                set.insert(sid);
            }
        }
        set
    }

    /// Forget every context of the guest (a restart): its IDs are never used again in this
    /// generation, so none of its old host entries can match again.
    pub fn retire_all(&mut self) {
        let generation = self.generation;
        *self = GuestSids::new();
        self.generation = generation;
    }

    /// Forget the contexts of the IDs in `set` (their host entries can never match again).
    pub fn retire(&mut self, set: &SidSet) {
        if set.is_empty() {
            return;
        }
        for s in self.table.iter_mut() {
            if *s != 0 && set.contains(*s) {
                *s = 0;
            }
        }
        for slot in self.odd.iter_mut() {
            if slot.1 != 0 && set.contains(slot.1) {
                *slot = (0, 0);
            }
        }
        for g in self.globals.iter_mut() {
            if *g != 0 && set.contains(*g) {
                *g = 0;
            }
        }
        self.all.remove_all(set);
    }

    /// Whose `sid` is in the current generation, if it is this guest's.
    pub fn owner_of(&self, sid: u8, alloc: &HostPidAllocator) -> Option<Owner> {
        if self.generation != alloc.generation || sid == 0 {
            return None;
        }
        if let Some(i) = self.table.iter().position(|&s| s == sid) {
            return Some(Owner::Context(Context {
                is: i >> 9 != 0,
                ds: i >> 9 != 0,
                pr: (i >> 8) & 1 != 0,
                pids: [i as u8, 0, 0],
            }));
        }
        if let Some(g) = self.globals.iter().position(|&s| s == sid) {
            return Some(Owner::Global {
                address_space: g >> 1 != 0,
                pr: g & 1 != 0,
            });
        }
        self.odd
            .iter()
            .find(|&&(_, s)| s == sid)
            .map(|&(k, _)| Owner::Context(Context::unpack(k)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pr: bool, pid: u8) -> Context {
        Context {
            pr,
            pids: [pid, 0, 0],
            ..Context::default()
        }
    }

    #[test]
    fn distinct_stable_and_retired() {
        let mut alloc = HostPidAllocator::new();
        let (mut a, mut b) = (GuestSids::new(), GuestSids::new());
        let ka = a.obtain(&ctx(false, 0), &mut alloc);
        let kb = b.obtain(&ctx(false, 0), &mut alloc);
        assert!(ka.guest_map_reset && !ka.flush_host_tlb);
        assert_ne!(ka.sid, kb.sid);
        assert_ne!(ka.sid, 0);
        assert_eq!(a.obtain(&ctx(false, 0), &mut alloc).sid, ka.sid);
        let user = a.obtain(&ctx(true, 5), &mut alloc).sid;
        assert!(a.users_of(false, 5, &alloc).contains(user));
        assert!(!a.users_of(false, 6, &alloc).contains(user));
        assert!(a.users_of(false, 0, &alloc).contains(ka.sid));
        assert!(!a.users_of(true, 0, &alloc).contains(ka.sid), "other space");
        assert_eq!(a.owner_of(user, &alloc), Some(Owner::Context(ctx(true, 5))));
        assert_eq!(
            a.owner_of(ka.global_sid, &alloc),
            Some(Owner::Global {
                address_space: false,
                pr: false
            })
        );
        assert_ne!(ka.global_sid, kb.global_sid);
        let mut gone = SidSet::EMPTY;
        gone.insert(user);
        a.retire(&gone);
        assert_eq!(a.current(&ctx(true, 5), &alloc), None);
        let again = a.obtain(&ctx(true, 5), &mut alloc);
        assert!(again.sid != user && again.sid != ka.sid && again.sid != kb.sid);
        assert_eq!(
            again.global_sid,
            a.current_global(&ctx(true, 9), &alloc).unwrap()
        );
    }

    #[test]
    fn uncommon_contexts() {
        let mut alloc = HostPidAllocator::new();
        let mut g = GuestSids::new();
        let mixed = Context {
            is: true,
            ds: false,
            pr: false,
            pids: [0, 0, 0],
        };
        let s = g.obtain(&mixed, &mut alloc).sid;
        assert_eq!(g.current(&mixed, &alloc), Some(s));
        assert!(g.users_of(true, 0, &alloc).contains(s));
        assert!(g.users_of(false, 0, &alloc).contains(s));
        assert_eq!(g.owner_of(s, &alloc), Some(Owner::Context(mixed)));
        assert_eq!(g.current_global(&mixed, &alloc), None);
        // Four more uncommon contexts push the first one out and retire its ID.
        for pid in 1..=4 {
            let c = Context {
                pids: [0, pid, 0],
                ..Context::default()
            };
            g.obtain(&c, &mut alloc);
        }
        assert_eq!(g.current(&mixed, &alloc), None);
        assert!(!g.all(&alloc).contains(s));
    }

    #[test]
    fn rollover_flushes_and_resets() {
        let mut alloc = HostPidAllocator::new();
        let mut g = GuestSids::new();
        // Global IDs for (AS 0, PR 0): the first obtain takes 2 IDs, then one per context.
        for pid in 0..=253u8 {
            assert!(!g.obtain(&ctx(false, pid), &mut alloc).flush_host_tlb);
        }
        let grant = g.obtain(&ctx(false, 254), &mut alloc);
        assert!(grant.flush_host_tlb && grant.guest_map_reset);
        assert_eq!(alloc.generation(), 2);
        assert_eq!(g.current(&ctx(false, 0), &alloc), None);
        // Both IDs from the new generation.
        assert_eq!(g.all(&alloc).len(), 2);
        assert!(g.all(&alloc).contains(grant.sid) && g.all(&alloc).contains(grant.global_sid));
    }

    #[test]
    fn rollover_between_the_two_ids() {
        let mut alloc = HostPidAllocator::new();
        let mut other = GuestSids::new();
        // Leave exactly one ID in the generation.
        let user = Context {
            pr: true,
            ..Context::default()
        };
        for pid in 0..=252u8 {
            other.obtain(
                &Context {
                    pids: [pid, 0, 0],
                    ..user
                },
                &mut alloc,
            );
        }
        let mut g = GuestSids::new();
        let grant = g.obtain(&ctx(false, 1), &mut alloc);
        assert!(grant.flush_host_tlb);
        assert_eq!(alloc.generation(), 2);
        assert_eq!(g.current(&ctx(false, 1), &alloc), Some(grant.sid));
        assert_eq!(
            g.current_global(&ctx(false, 1), &alloc),
            Some(grant.global_sid)
        );
        assert_ne!(grant.sid, grant.global_sid);
    }
}
