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
mod update;
mod work;

use crate::addr::Address;
use alloc::boxed::Box;
use alloc::vec::Vec;
use arena::Arena;
use chunk::CHILD;
use core::marker::PhantomData;
use core::num::NonZeroU16;
use short::ShortLists;
use work::Work;

/// A next-hop id installed in the FIB: `0..=NextHop::MAX`. Its meaning (an ECMP group, a
/// blackhole, ...) belongs to whoever fills the FIB.
///
/// Held as its leaf code (`id + 1`, never 0), so `Option<NextHop>` is one `u16` and a lookup
/// returns the leaf it read as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NextHop(NonZeroU16);

impl NextHop {
    /// The largest next-hop id (15-bit leaves, code 0 meaning "no route").
    pub const MAX: u16 = 0x7ffe;

    /// `None` when `id > NextHop::MAX`.
    pub const fn new(id: u16) -> Option<NextHop> {
        if id <= Self::MAX {
            NextHop::from_code(id + 1)
        } else {
            None
        }
    }

    pub const fn get(self) -> u16 {
        self.0.get() - 1
    }

    const fn code(self) -> u16 {
        self.0.get()
    }

    #[inline(always)]
    const fn from_code(code: u16) -> Option<NextHop> {
        match NonZeroU16::new(code) {
            Some(c) => Some(NextHop(c)),
            None => None,
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
    /// The most the chunk arena may take, in bytes (the direct table and scratch space come on
    /// top).
    pub arena_bytes: usize,
    /// Arena bytes allocated at construction; a growing arena ([`FibConfig::growing`]) doubles
    /// from there up to `arena_bytes` as prefixes come.
    pub initial_arena_bytes: usize,
}

/// Where a growing arena starts.
const GROWING_START: usize = 16 << 10;

impl FibConfig {
    /// An arena of exactly `arena_bytes`, all allocated at construction.
    pub const fn with_arena_bytes(arena_bytes: usize) -> FibConfig {
        FibConfig {
            arena_bytes,
            initial_arena_bytes: arena_bytes,
        }
    }

    /// Room for `prefixes` IPv4 prefixes of an Internet-like table, with headroom: the global
    /// table uses about 4.3 arena bytes per prefix (an ISP's table with its own /25../32s
    /// about 5.0); this reserves 5.5, plus 64 KiB.
    ///
    /// Scattered prefixes cost more: a /17../24 alone under its /16 takes a 32-byte chunk, a
    /// /25../32 alone about 56 bytes. Size the arena with [`FibConfig::with_arena_bytes`] for
    /// such tables; [`FibError::TableFull`] says when it is too small.
    pub const fn ipv4_prefixes(prefixes: usize) -> FibConfig {
        FibConfig::with_arena_bytes(prefixes * 11 / 2 + (64 << 10))
    }

    /// Room for `prefixes` IPv6 prefixes of an Internet-like table: the global table uses about
    /// 11.8 arena bytes per prefix; this reserves 13.5, plus 64 KiB. A prefix alone under its
    /// /16 costs one chunk of 24..32 bytes per 8 bits beyond /16 (a lone /48: about 120 bytes).
    pub const fn ipv6_prefixes(prefixes: usize) -> FibConfig {
        FibConfig::with_arena_bytes(prefixes * 27 / 2 + (64 << 10))
    }

    /// The same limit, but only 16 KiB of arena allocated at construction: the arena doubles
    /// as prefixes come (a copy of what it holds each time), so memory follows the table and
    /// a large limit costs nothing until it is used.
    pub const fn growing(self) -> FibConfig {
        FibConfig {
            arena_bytes: self.arena_bytes,
            initial_arena_bytes: if self.arena_bytes < GROWING_START {
                self.arena_bytes
            } else {
                GROWING_START
            },
        }
    }
}

const TOP: usize = 1 << 16;
/// Direct-table flag: the entry points to a chunk.
const CHUNK: u32 = 0x8000_0000;

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
    /// An empty FIB; allocates its memory now (all of it, or a growing arena's start).
    pub fn new(config: FibConfig) -> Self {
        Fib::try_new(config).expect("memory for a FIB")
    }

    /// [`Fib::new`], or `None` when the heap has no room for it.
    pub fn try_new(config: FibConfig) -> Option<Self> {
        let top: Box<[u32]> = arena::zeroed::<u32>(TOP)?.into_boxed_slice();
        let origin: Box<[u8]> = arena::zeroed::<u8>(TOP)?.into_boxed_slice();
        Some(Fib {
            top: top.try_into().ok()?,
            origin: origin.try_into().ok()?,
            short: ShortLists::default(),
            arena: Arena::try_new(config.arena_bytes, config.initial_arena_bytes)?,
            work: Box::new(Work::new()),
            prefixes: 0,
            _addr: PhantomData,
        })
    }

    /// The next hop of the longest prefix containing `addr`: the direct entry, then one chunk
    /// per 8 bits beyond /16 that the table needs there (one for /17../24).
    #[inline]
    pub fn lookup(&self, addr: A) -> Option<NextHop> {
        let entry = self.top[addr.top16()];
        if entry & CHUNK == 0 {
            return NextHop::from_code(entry as u16);
        }
        // The first chunk step ends most lookups (a /17../24 in IPv4); the steps below it are
        // apart, so nothing they need is prepared for the lookups that do not take them.
        let b = &self.arena.bytes[..];
        let v = chunk::leaf(b, entry, addr.chunk_byte(0));
        if v & CHILD == 0 {
            return NextHop::from_code(v);
        }
        deeper(b, entry, v, addr)
    }

    /// Number of prefixes installed.
    pub fn len(&self) -> usize {
        self.prefixes
    }

    pub fn is_empty(&self) -> bool {
        self.prefixes == 0
    }

    /// Every byte this FIB owns now (a growing arena adds to it as it grows).
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

    /// Arena bytes allocated now.
    pub fn arena_capacity_bytes(&self) -> usize {
        self.arena.capacity()
    }

    /// The most the arena may grow to (its size, unless it is growing).
    pub fn arena_limit_bytes(&self) -> usize {
        self.arena.limit()
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
            return self
                .short
                .get(&self.arena.bytes, len, addr.top16() as u16)
                .and_then(NextHop::from_code);
        }
        let (depth, key) = position(addr, len);
        let ptr = self.find_chunk(addr, depth)?;
        let mut w = Box::new(Work::new());
        w.decode(&self.arena.bytes, ptr);
        w.recover_full_stride_hops(&self.arena.bytes);
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

    fn collect(
        &self,
        w: &mut Work,
        ptr: u32,
        base: A,
        depth: usize,
        out: &mut Vec<(A, u8, NextHop)>,
    ) {
        w.decode(&self.arena.bytes, ptr);
        w.recover_full_stride_hops(&self.arena.bytes);
        let shift = u32::from(A::BITS) - 24 - 8 * depth as u32;
        for i in 0..w.prefixes {
            let (rel, off) = (w.keys[i] >> 8, w.keys[i] & 0xff);
            let addr = A::from_u128(base.to_u128() | (u128::from(off << (8 - rel)) << shift));
            out.extend(
                NextHop::from_code(w.hops[i]).map(|h| (addr, 16 + 8 * depth as u8 + rel as u8, h)),
            );
        }
        let children: Vec<(u8, u32)> = (0..w.children)
            .map(|k| (w.child_slot[k], w.child_ptr[k]))
            .collect();
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
}

/// The rest of a lookup from the first chunk's leaf `v`, a child: one chunk step per 8 bits.
#[inline(never)]
fn deeper<A: Address>(b: &[u8], mut ptr: u32, mut v: u16, addr: A) -> Option<NextHop> {
    // Bytes, not shifts: a `u128` shifted by a variable amount is long on a 32-bit CPU.
    let bytes = addr.bytes();
    let mut at = 2;
    while v & CHILD != 0 {
        ptr = chunk::child(b, ptr, v);
        at += 1;
        v = chunk::leaf(b, ptr, bytes[at & 15]);
    }
    NextHop::from_code(v)
}

/// Chunk depth and `(relative length << 8) | offset` key of a prefix longer than /16.
pub(crate) fn position<A: Address>(addr: A, len: u8) -> (usize, u16) {
    let depth = usize::from(len - 17) / 8;
    let rel = len - 16 - 8 * depth as u8;
    let off = addr.chunk_byte(depth) >> (8 - rel);
    (depth, (u16::from(rel) << 8) | u16::from(off))
}

pub(crate) fn top_mask(len: u8) -> u16 {
    if len == 0 {
        0
    } else {
        u16::MAX << (16 - len)
    }
}

pub(crate) fn top_range(v16: u16, len: u8) -> (usize, usize) {
    let lo = usize::from(v16 & top_mask(len));
    (lo, lo + (1 << (16 - len)))
}

pub(crate) fn check<A: Address>(addr: A, len: u8) -> Result<(), FibError> {
    if len > A::BITS || addr.masked(len) != addr {
        return Err(FibError::InvalidPrefix);
    }
    Ok(())
}

#[cfg(test)]
mod random_tests;
#[cfg(test)]
mod tests;
