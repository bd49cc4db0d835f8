//! The forwarding table: longest-prefix match from an address to a [`NextHop`], with a fixed
//! memory budget chosen at construction, `&self` lookups that neither allocate nor lock, and
//! incremental updates.
//!
//! Layout (see `chunk` for the byte format):
//! - a direct table of 2^16 entries indexed by the top 16 bits of the address: each entry is a
//!   next-hop code (prefixes up to /16, expanded) or a pointer to a chunk;
//! - chunks of 8-bit stride (256 slots) below it, stored as runs of equal leaves, so a /17../24
//!   lookup reads the direct entry, one chunk header and one leaf (usually in the same line);
//! - all chunks live in one fixed byte arena (`arena`).
//!
//! Updates re-encode only the chunk that holds the prefix (prefixes up to /16 rewrite only the
//! direct-table range they cover), so the cost of an update does not depend on the table size.
//! Every chunk keeps its own prefixes in a cold area, so removals are exact without any
//! shadow table.

mod arena;
mod build;
mod chunk;
mod short;

use crate::addr::Address;
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use arena::{wr_u32, Arena};
use chunk::{Work, CHILD};
use core::marker::PhantomData;
use short::ShortLists;

/// A next-hop id installed in the FIB: `0..=NextHop::MAX`. Its meaning (an ECMP group, a
/// blackhole, ...) belongs to whoever fills the FIB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NextHop(u16);

impl NextHop {
    /// The largest next-hop id (15-bit leaves, code 0 meaning "no route").
    pub const MAX: u16 = 0x7ffe;

    /// `None` when `id > NextHop::MAX`.
    pub const fn new(id: u16) -> Option<NextHop> {
        if id <= Self::MAX {
            Some(NextHop(id))
        } else {
            None
        }
    }

    pub const fn get(self) -> u16 {
        self.0
    }

    const fn code(self) -> u16 {
        self.0 + 1
    }

    #[inline(always)]
    const fn from_code(code: u16) -> Option<NextHop> {
        if code == 0 {
            None
        } else {
            Some(NextHop(code - 1))
        }
    }
}

/// Why a FIB update was refused. The FIB is unchanged after an error (except after `build`,
/// which leaves it empty).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FibError {
    /// The memory fixed at construction is exhausted: the table's owner sized it too small.
    TableFull,
    /// The prefix length exceeds the address width, or host bits are set: a caller bug.
    InvalidPrefix,
}

/// Capacity of a FIB, fixed at construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FibConfig {
    /// Size of the chunk arena in bytes (the direct table and scratch space come on top).
    pub arena_bytes: usize,
}

impl FibConfig {
    /// An arena of exactly `arena_bytes`.
    pub const fn with_arena_bytes(arena_bytes: usize) -> FibConfig {
        FibConfig { arena_bytes }
    }

    /// Room for `prefixes` IPv4 prefixes of an Internet-like table (measured on the global
    /// table: about 3.2 arena bytes per prefix; this allows 4.5, plus 64 KiB).
    pub const fn ipv4_prefixes(prefixes: usize) -> FibConfig {
        FibConfig { arena_bytes: prefixes * 9 / 2 + (64 << 10) }
    }

    /// Room for `prefixes` IPv6 prefixes of an Internet-like table (measured on the global
    /// table: about 11 arena bytes per prefix; this allows 13.5, plus 64 KiB).
    pub const fn ipv6_prefixes(prefixes: usize) -> FibConfig {
        FibConfig { arena_bytes: prefixes * 27 / 2 + (64 << 10) }
    }
}

const TOP: usize = 1 << 16;
/// Direct-table flag: the entry points to a chunk.
const CHUNK: u32 = 0x8000_0000;

/// Where the pointer to a chunk is kept: a direct-table entry or a parent chunk's child table.
#[derive(Clone, Copy)]
enum Parent {
    Top(usize),
    /// Child `k` (at `slot`) of the chunk at `ptr`.
    Child { ptr: u32, k: usize, slot: u8 },
}

/// Chunk levels of the deepest address (IPv6) plus the level below the direct table.
const MAX_DEPTH: usize = 16;
type Path = [(Parent, u32); MAX_DEPTH];

/// A change to one chunk.
#[derive(Clone, Copy)]
enum Edit {
    Insert { key: u16, code: u16 },
    Remove { key: u16 },
    AddChild { slot: u8, ptr: u32 },
    RemoveChild { slot: u8 },
}

struct Rebuilt {
    /// The chunk's pointer after the edit (unchanged if it was rewritten in place).
    ptr: u32,
    /// Previous next-hop code of the edited prefix, if any.
    old: Option<u16>,
    /// The chunk became empty and was freed; its parent must forget it.
    emptied: bool,
    default: u16,
}

/// A longest-prefix-match table over addresses `A` (`u32` for IPv4, `u128` for IPv6).
pub struct Fib<A: Address> {
    top: Box<[u32; TOP]>,
    /// For each direct entry, 1 + the length of the prefix (up to /16) whose hop it carries.
    origin: Box<[u8; TOP]>,
    short: ShortLists,
    arena: Arena,
    work: Box<Work>,
    prefixes: usize,
    _addr: PhantomData<A>,
}

/// IPv4 FIB.
pub type Fib4 = Fib<u32>;
/// IPv6 FIB.
pub type Fib6 = Fib<u128>;

impl<A: Address> Fib<A> {
    /// An empty FIB; allocates all of its memory now.
    pub fn new(config: FibConfig) -> Self {
        let top: Box<[u32]> = vec![0u32; TOP].into_boxed_slice();
        let origin: Box<[u8]> = vec![0u8; TOP].into_boxed_slice();
        Fib {
            top: top.try_into().unwrap_or_else(|_| unreachable!()),
            origin: origin.try_into().unwrap_or_else(|_| unreachable!()),
            short: ShortLists::default(),
            arena: Arena::new(config.arena_bytes),
            work: Box::new(Work::new()),
            prefixes: 0,
            _addr: PhantomData,
        }
    }

    /// The next hop of the longest prefix containing `addr`.
    #[inline]
    pub fn lookup(&self, addr: A) -> Option<NextHop> {
        let entry = self.top[addr.top16()];
        if entry & CHUNK == 0 {
            return NextHop::from_code(entry as u16);
        }
        let b = &self.arena.bytes[..];
        let mut ptr = entry & !CHUNK;
        let mut depth = 0;
        loop {
            let v = chunk::leaf(b, ptr, addr.chunk_byte(depth));
            if v & CHILD == 0 {
                return NextHop::from_code(v);
            }
            ptr = chunk::child(b, ptr, v);
            depth += 1;
        }
    }

    /// Number of prefixes installed.
    pub fn len(&self) -> usize {
        self.prefixes
    }

    pub fn is_empty(&self) -> bool {
        self.prefixes == 0
    }

    /// Every byte this FIB owns, all of it allocated at construction.
    pub fn memory_bytes(&self) -> usize {
        core::mem::size_of::<Self>()
            + TOP * core::mem::size_of::<u32>()
            + TOP
            + self.arena.capacity()
            + core::mem::size_of::<Work>()
    }

    /// Arena bytes in use (at block size); the rest of the arena is headroom.
    pub fn arena_used_bytes(&self) -> usize {
        self.arena.live_bytes()
    }

    pub fn arena_capacity_bytes(&self) -> usize {
        self.arena.capacity()
    }

    /// Removes every prefix (no memory is released: the capacity stays reserved).
    pub fn clear(&mut self) {
        self.top.fill(0);
        self.origin.fill(0);
        self.short = ShortLists::default();
        self.arena.clear();
        self.prefixes = 0;
    }

    /// Installs `addr/len -> hop`, returning the hop it replaces.
    pub fn insert(&mut self, addr: A, len: u8, hop: NextHop) -> Result<Option<NextHop>, FibError> {
        check(addr, len)?;
        let old = if len <= 16 {
            self.short_insert(addr.top16() as u16, len, hop.code())?
        } else {
            self.long_insert(addr, len, hop.code())?
        };
        if old.is_none() {
            self.prefixes += 1;
        }
        Ok(old.and_then(NextHop::from_code))
    }

    /// Withdraws `addr/len`, returning its hop (`Ok(None)` if it was not installed).
    /// A removal can need a little more room than before (runs that no longer merge), so it
    /// can fail with `TableFull` when the arena is exhausted.
    pub fn remove(&mut self, addr: A, len: u8) -> Result<Option<NextHop>, FibError> {
        check(addr, len)?;
        let old = if len <= 16 {
            self.short_remove(addr.top16() as u16, len)
        } else {
            self.long_remove(addr, len)?
        };
        if old.is_some() {
            self.prefixes -= 1;
        }
        Ok(old.and_then(NextHop::from_code))
    }

    /// The hop installed for exactly `addr/len`.
    pub fn get(&self, addr: A, len: u8) -> Option<NextHop> {
        check(addr, len).ok()?;
        if len <= 16 {
            return self.short.get(&self.arena.bytes, len, addr.top16() as u16).and_then(NextHop::from_code);
        }
        let (depth, key) = position(addr, len);
        let ptr = self.find_chunk(addr, depth)?;
        let mut w = Box::new(Work::new());
        w.decode(&self.arena.bytes, ptr);
        let i = w.find(key).ok()?;
        NextHop::from_code(w.hops[i])
    }

    /// Every installed prefix (for tests and diagnostics; allocates).
    pub fn prefixes(&self) -> Vec<(A, u8, NextHop)> {
        let mut out = Vec::with_capacity(self.prefixes);
        self.short.for_each(&self.arena.bytes, |len, v16, code| {
            let addr = A::from_u128(u128::from(v16) << (A::BITS - 16));
            out.extend(NextHop::from_code(code).map(|h| (addr, len, h)));
        });
        let mut w = Box::new(Work::new());
        for t in 0..TOP {
            if self.top[t] & CHUNK != 0 {
                let base = A::from_u128((t as u128) << (A::BITS - 16));
                self.collect(&mut w, self.top[t] & !CHUNK, base, 0, &mut out);
            }
        }
        out
    }

    fn collect(&self, w: &mut Work, ptr: u32, base: A, depth: usize, out: &mut Vec<(A, u8, NextHop)>) {
        w.decode(&self.arena.bytes, ptr);
        let shift = u32::from(A::BITS) - 24 - 8 * depth as u32;
        for i in 0..w.prefixes {
            let (rel, off) = (w.keys[i] >> 8, w.keys[i] & 0xff);
            let addr = A::from_u128(base.to_u128() | (u128::from(off << (8 - rel)) << shift));
            out.extend(NextHop::from_code(w.hops[i]).map(|h| (addr, 16 + 8 * depth as u8 + rel as u8, h)));
        }
        let children: Vec<(u8, u32)> = (0..w.children).map(|k| (w.child_slot[k], w.child_ptr[k])).collect();
        for (slot, child) in children {
            let addr = A::from_u128(base.to_u128() | (u128::from(slot) << shift));
            self.collect(w, child, addr, depth + 1, out);
        }
    }

    fn find_chunk(&self, addr: A, depth: usize) -> Option<u32> {
        let entry = self.top[addr.top16()];
        if entry & CHUNK == 0 {
            return None;
        }
        let mut ptr = entry & !CHUNK;
        for d in 0..depth {
            let v = chunk::leaf(&self.arena.bytes, ptr, addr.chunk_byte(d));
            if v & CHILD == 0 {
                return None;
            }
            ptr = chunk::child(&self.arena.bytes, ptr, v);
        }
        Some(ptr)
    }

    fn long_insert(&mut self, addr: A, len: u8, code: u16) -> Result<Option<u16>, FibError> {
        let (depth, key) = position(addr, len);
        let t = addr.top16();
        let mut created = false;
        if self.top[t] & CHUNK == 0 {
            let ptr = self.new_chunk(self.top[t] as u16)?;
            self.top[t] = CHUNK | ptr;
            created = true;
        }
        let mut parent = Parent::Top(t);
        let mut ptr = self.top[t] & !CHUNK;
        for d in 0..depth {
            let slot = addr.chunk_byte(d);
            let mut v = chunk::leaf(&self.arena.bytes, ptr, slot);
            if v & CHILD == 0 {
                // `v` is the value the new child inherits.
                let child = match self.new_chunk(v) {
                    Ok(c) => c,
                    Err(e) => return Err(self.abandon(addr, depth, created, e)),
                };
                match self.rebuild(parent, ptr, Edit::AddChild { slot, ptr: child }) {
                    Ok(r) => ptr = r.ptr,
                    Err(e) => {
                        let len = chunk::content_len(&self.arena.bytes, child);
                        self.arena.free((child & !7) as usize, len);
                        return Err(self.abandon(addr, depth, created, e));
                    }
                }
                created = true;
                v = chunk::leaf(&self.arena.bytes, ptr, slot);
            }
            parent = Parent::Child { ptr, k: usize::from(v & 0xff), slot };
            ptr = chunk::child(&self.arena.bytes, ptr, v);
        }
        match self.rebuild(parent, ptr, Edit::Insert { key, code }) {
            Ok(r) => Ok(r.old),
            Err(e) => Err(self.abandon(addr, depth, created, e)),
        }
    }

    /// Undoes the empty chunks a failed insertion created on its way down.
    fn abandon(&mut self, addr: A, depth: usize, created: bool, e: FibError) -> FibError {
        if created {
            let (path, n) = self.path(addr, depth);
            for d in (0..n).rev() {
                let (parent, ptr) = path[d];
                self.work.decode(&self.arena.bytes, ptr);
                if !self.work.is_empty() {
                    break;
                }
                let default = self.work.default;
                let len = chunk::content_len(&self.arena.bytes, ptr);
                self.arena.free((ptr & !7) as usize, len);
                self.detach(&path, d, parent, default);
            }
        }
        e
    }

    /// The chunks on `addr`'s way down to `depth` (fewer if the way stops early): for each,
    /// where its pointer is kept and the chunk's own pointer.
    fn path(&self, addr: A, depth: usize) -> (Path, usize) {
        let mut path = [(Parent::Top(0), 0u32); MAX_DEPTH];
        let t = addr.top16();
        if self.top[t] & CHUNK == 0 {
            return (path, 0);
        }
        path[0] = (Parent::Top(t), self.top[t] & !CHUNK);
        let mut n = 1;
        for d in 0..depth {
            let ptr = path[d].1;
            let slot = addr.chunk_byte(d);
            let v = chunk::leaf(&self.arena.bytes, ptr, slot);
            if v & CHILD == 0 {
                break;
            }
            let child = chunk::child(&self.arena.bytes, ptr, v);
            path[n] = (Parent::Child { ptr, k: usize::from(v & 0xff), slot }, child);
            n += 1;
        }
        (path, n)
    }

    fn long_remove(&mut self, addr: A, len: u8) -> Result<Option<u16>, FibError> {
        let (depth, key) = position(addr, len);
        let (path, n) = self.path(addr, depth);
        if n != depth + 1 {
            return Ok(None);
        }
        let (parent, ptr) = path[depth];
        let r = self.rebuild(parent, ptr, Edit::Remove { key })?;
        if r.emptied {
            self.detach(&path, depth, parent, r.default);
        }
        Ok(r.old)
    }

    /// The chunk at `path[d]` was freed: drop it from its parent (which may empty in turn).
    fn detach(&mut self, path: &Path, d: usize, parent: Parent, default: u16) {
        match parent {
            Parent::Top(t) => self.top[t] = u32::from(default),
            Parent::Child { ptr, slot, .. } => {
                let (grand, _) = path[d - 1];
                // Removing a child never grows a chunk, so this cannot run out of room.
                if let Ok(r) = self.rebuild(grand, ptr, Edit::RemoveChild { slot }) {
                    if r.emptied {
                        self.detach(path, d - 1, grand, r.default);
                    }
                }
            }
        }
    }

    /// An empty chunk inheriting `default`.
    fn new_chunk(&mut self, default: u16) -> Result<u32, FibError> {
        self.work.reset(default);
        let enc = self.work.layout();
        let off = self.arena.alloc(enc.len).ok_or(FibError::TableFull)?;
        Ok(self.work.write(&mut self.arena.bytes, off, &enc))
    }

    /// Applies `edit` to the chunk at `ptr` and re-encodes it (in place when it still fits its
    /// block), then repoints its parent and pushes changed defaults to its children.
    fn rebuild(&mut self, parent: Parent, ptr: u32, edit: Edit) -> Result<Rebuilt, FibError> {
        let w = &mut self.work;
        w.decode(&self.arena.bytes, ptr);
        let old = match edit {
            Edit::Insert { key, code } => w.insert_prefix(key, code),
            Edit::Remove { key } => match w.remove_prefix(key) {
                Some(h) => Some(h),
                None => return Ok(Rebuilt { ptr, old: None, emptied: false, default: w.default }),
            },
            Edit::AddChild { slot, ptr } => {
                w.add_child(slot, ptr);
                None
            }
            Edit::RemoveChild { slot } => {
                w.remove_child(slot);
                None
            }
        };
        let old_off = (ptr & !7) as usize;
        let old_len = chunk::content_len(&self.arena.bytes, ptr);
        if w.is_empty() {
            self.arena.free(old_off, old_len);
            return Ok(Rebuilt { ptr, old, emptied: true, default: w.default });
        }
        let enc = w.layout();
        let same_block = arena::block_bytes(enc.len) == arena::block_bytes(old_len);
        let off = if same_block {
            old_off
        } else if let Some(off) = self.arena.alloc(enc.len) {
            self.arena.free(old_off, old_len);
            off
        } else if enc.len <= old_len {
            old_off
        } else {
            return Err(FibError::TableFull);
        };
        // Freeing first is fine: the old block is not reused before this write.
        let new = w.write(&mut self.arena.bytes, off, &enc);
        match parent {
            Parent::Top(t) => self.top[t] = CHUNK | new,
            Parent::Child { ptr: p, k, .. } => {
                let at = chunk::child_ref_offset(&self.arena.bytes, p, k);
                wr_u32(&mut self.arena.bytes, at, new);
            }
        }
        for k in 0..w.children {
            let want = w.inherited(w.child_slot[k]);
            chunk::cascade_default(&mut self.arena.bytes, w.child_ptr[k], want);
        }
        Ok(Rebuilt { ptr: new, old, emptied: false, default: w.default })
    }

    /// Points direct entry `t` at hop `code` (a chunk there inherits it instead).
    fn set_top(&mut self, t: usize, code: u16) {
        let e = self.top[t];
        if e & CHUNK != 0 {
            chunk::cascade_default(&mut self.arena.bytes, e & !CHUNK, code);
        } else {
            self.top[t] = u32::from(code);
        }
    }

    fn short_insert(&mut self, v16: u16, len: u8, code: u16) -> Result<Option<u16>, FibError> {
        let old = self.short.insert(&mut self.arena, len, v16, code)?;
        let (lo, hi) = top_range(v16, len);
        for t in lo..hi {
            if self.origin[t] <= len + 1 {
                self.origin[t] = len + 1;
                self.set_top(t, code);
            }
        }
        Ok(old)
    }

    fn short_remove(&mut self, v16: u16, len: u8) -> Option<u16> {
        let old = self.short.remove(&mut self.arena.bytes, len, v16)?;
        let (cover_len, cover_code) = (0..len)
            .rev()
            .find_map(|l| {
                let c = self.short.get(&self.arena.bytes, l, v16 & top_mask(l))?;
                Some((l + 1, c))
            })
            .unwrap_or((0, 0));
        let (lo, hi) = top_range(v16, len);
        for t in lo..hi {
            if self.origin[t] == len + 1 {
                self.origin[t] = cover_len;
                self.set_top(t, cover_code);
            }
        }
        Some(old)
    }
}

/// Chunk depth and `(relative length << 8) | offset` key of a prefix longer than /16.
fn position<A: Address>(addr: A, len: u8) -> (usize, u16) {
    let depth = usize::from(len - 17) / 8;
    let rel = len - 16 - 8 * depth as u8;
    let off = addr.chunk_byte(depth) >> (8 - rel);
    (depth, (u16::from(rel) << 8) | u16::from(off))
}

fn top_mask(len: u8) -> u16 {
    if len == 0 {
        0
    } else {
        u16::MAX << (16 - len)
    }
}

fn top_range(v16: u16, len: u8) -> (usize, usize) {
    let lo = usize::from(v16 & top_mask(len));
    (lo, lo + (1 << (16 - len)))
}

fn check<A: Address>(addr: A, len: u8) -> Result<(), FibError> {
    if len > A::BITS || addr.masked(len) != addr {
        return Err(FibError::InvalidPrefix);
    }
    Ok(())
}

#[cfg(test)]
mod tests;

