//! The guest's `cache` instruction: what is safe to replay on the real caches.
//!
//! `op` bits 1:0 select the cache (0 I, 1 D, 2 tertiary, 3 secondary), bits 4:2 the operation.
//! The virtual CPU reports the host's own L1 geometry, so a guest's index operations name real
//! cache lines. Classification:
//!
//! | guest op | what happens |
//! |---|---|
//! | Index Invalidate I (0x00), Index Writeback Invalidate D (0x01) | performed on that line |
//! | Index Store Tag I/D (0x08/0x09) | performed as Index Invalidate / Writeback Invalidate of that line: tags cannot be forged |
//! | Index Load Tag I/D (0x04/0x05) | TagLo = DataLo = 0 (tags would leak other owners' addresses) |
//! | Index Store Data I/D (0x0C/0x0D) | refused: Reserved Instruction (it would write other owners' data) |
//! | Hit Invalidate I (0x10) | translated (TLB exceptions as a load); every way of the set the guest address indexes is invalidated |
//! | Hit Invalidate D (0x11) | performed as Hit Writeback Invalidate (never discards data, possibly someone else's) |
//! | Hit Writeback Invalidate D (0x15), Hit Writeback D (0x19) | translated; performed on the host-physical line when the D-cache has no aliases, else as Index Writeback Invalidate of every way of the set the guest address indexes |
//! | Fill I (0x14), Fetch and Lock I/D (0x1C/0x1D) | translated, then nothing (a hint; locking host lines is refused silently) |
//! | 0x18 and anything on the secondary/tertiary caches | nothing (no such cache) |
//!
//! Every host operation is a superset of what the guest asked (writing back and invalidating
//! more lines never loses data), and only Index and Hit operations of the L1 caches reach the
//! host.

use crate::addr::KSEG0_BASE;
use crate::config::{CacheGeometry, HostCpu};

/// Host `cache` operation codes used in [`HostCacheAction`].
pub mod host_op {
    /// Index Invalidate, I-cache.
    pub const INDEX_INVALIDATE_I: u8 = 0x00;
    /// Index Writeback Invalidate, D-cache.
    pub const INDEX_WB_INVALIDATE_D: u8 = 0x01;
    /// Hit Writeback Invalidate, D-cache.
    pub const HIT_WB_INVALIDATE_D: u8 = 0x15;
    /// Hit Writeback, D-cache.
    pub const HIT_WB_D: u8 = 0x19;
}

/// Cache operations for the arch to execute: `cache op, first + k * stride` for `k` in
/// `0..count`.
///
/// Index operations ([`host_op::INDEX_INVALIDATE_I`], [`host_op::INDEX_WB_INVALIDATE_D`]) carry
/// kseg0 addresses: only their index and way bits matter and kseg0 is unmapped, so they cannot
/// fault. Hit operations ([`host_op::HIT_WB_INVALIDATE_D`], [`host_op::HIT_WB_D`]) carry the
/// host-physical address of one line inside the guest's partition (`count` 1); the arch issues
/// them through its own view of that RAM (kseg0, or the window it maps for RAM above 512 MiB).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostCacheAction {
    /// One of [`host_op`].
    pub op: u8,
    /// First address: kseg0 for index operations, host-physical for hit operations.
    pub first: u32,
    /// Distance between addresses.
    pub stride: u32,
    /// Number of operations (1..=ways).
    pub count: u32,
}

/// How one guest `cache` instruction is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CachePlan {
    /// An index operation on the line the guest address selects (index and way bits).
    IndexLine { op: u8 },
    /// Index Load Tag: zero TagLo and DataLo.
    LoadTagAsZero,
    /// Translate (for exceptions), then a hit-type operation.
    Hit(HitKind),
    /// Translate (for exceptions), then nothing.
    TranslateOnly,
    /// Nothing at all.
    Nothing,
    /// Reserved Instruction.
    Refuse,
}

/// Hit-type operations that reach the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HitKind {
    /// Invalidate the I-cache line.
    InvalidateI,
    /// Write back and invalidate the D-cache line.
    WritebackInvalidateD,
    /// Write back the D-cache line.
    WritebackD,
}

/// Classify guest `cache` operation `op` (bits 20:16 of the instruction).
pub const fn classify(op: u8) -> CachePlan {
    let cache = op & 3;
    let kind = (op >> 2) & 7;
    match (cache, kind) {
        (0, 0) | (0, 2) => CachePlan::IndexLine {
            op: host_op::INDEX_INVALIDATE_I,
        },
        (1, 0) | (1, 2) => CachePlan::IndexLine {
            op: host_op::INDEX_WB_INVALIDATE_D,
        },
        (0 | 1, 1) => CachePlan::LoadTagAsZero,
        (0 | 1, 3) => CachePlan::Refuse,
        (0, 4) => CachePlan::Hit(HitKind::InvalidateI),
        (1, 4) | (1, 5) => CachePlan::Hit(HitKind::WritebackInvalidateD),
        (1, 6) => CachePlan::Hit(HitKind::WritebackD),
        (0, 5) | (0 | 1, 7) => CachePlan::TranslateOnly,
        _ => CachePlan::Nothing,
    }
}

const fn line_in_set(geometry: &CacheGeometry, va: u32) -> u32 {
    KSEG0_BASE | (va & (geometry.way_bytes() - 1) & !(geometry.line_bytes - 1))
}

/// Host action for an index operation at guest effective address `ea` (index and way bits only).
pub const fn index_action(host: &HostCpu, op: u8, ea: u32) -> HostCacheAction {
    let g = if op == host_op::INDEX_INVALIDATE_I {
        &host.icache
    } else {
        &host.dcache
    };
    let span = g.way_bytes() * g.ways;
    let first = KSEG0_BASE | (ea & (span - 1) & !(g.line_bytes - 1));
    HostCacheAction {
        op,
        first,
        stride: 0,
        count: 1,
    }
}

/// Host action for a hit operation at guest address `va`, which translates to host-physical
/// `host_pa` (inside the guest's partition).
pub const fn hit_action(host: &HostCpu, kind: HitKind, va: u32, host_pa: u32) -> HostCacheAction {
    match kind {
        HitKind::InvalidateI => HostCacheAction {
            op: host_op::INDEX_INVALIDATE_I,
            first: line_in_set(&host.icache, va),
            stride: host.icache.way_bytes(),
            count: host.icache.ways,
        },
        HitKind::WritebackInvalidateD | HitKind::WritebackD if host.dcache_aliases => {
            HostCacheAction {
                op: host_op::INDEX_WB_INVALIDATE_D,
                first: line_in_set(&host.dcache, va),
                stride: host.dcache.way_bytes(),
                count: host.dcache.ways,
            }
        }
        HitKind::WritebackInvalidateD => HostCacheAction {
            op: host_op::HIT_WB_INVALIDATE_D,
            first: host_pa & !(host.dcache.line_bytes - 1),
            stride: 0,
            count: 1,
        },
        HitKind::WritebackD => HostCacheAction {
            op: host_op::HIT_WB_D,
            first: host_pa & !(host.dcache.line_bytes - 1),
            stride: 0,
            count: 1,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        assert_eq!(
            classify(0x00),
            CachePlan::IndexLine {
                op: host_op::INDEX_INVALIDATE_I
            }
        );
        assert_eq!(
            classify(0x01),
            CachePlan::IndexLine {
                op: host_op::INDEX_WB_INVALIDATE_D
            }
        );
        assert_eq!(classify(0x04), CachePlan::LoadTagAsZero);
        assert_eq!(classify(0x05), CachePlan::LoadTagAsZero);
        assert_eq!(
            classify(0x08),
            CachePlan::IndexLine {
                op: host_op::INDEX_INVALIDATE_I
            }
        );
        assert_eq!(
            classify(0x09),
            CachePlan::IndexLine {
                op: host_op::INDEX_WB_INVALIDATE_D
            }
        );
        assert_eq!(classify(0x0C), CachePlan::Refuse);
        assert_eq!(classify(0x0D), CachePlan::Refuse);
        assert_eq!(classify(0x10), CachePlan::Hit(HitKind::InvalidateI));
        assert_eq!(
            classify(0x11),
            CachePlan::Hit(HitKind::WritebackInvalidateD)
        );
        assert_eq!(classify(0x14), CachePlan::TranslateOnly);
        assert_eq!(
            classify(0x15),
            CachePlan::Hit(HitKind::WritebackInvalidateD)
        );
        assert_eq!(classify(0x18), CachePlan::Nothing);
        assert_eq!(classify(0x19), CachePlan::Hit(HitKind::WritebackD));
        assert_eq!(classify(0x1C), CachePlan::TranslateOnly);
        assert_eq!(classify(0x1D), CachePlan::TranslateOnly);
        for op in [0x02, 0x03, 0x0B, 0x13, 0x17, 0x1B, 0x1F] {
            assert_eq!(classify(op), CachePlan::Nothing, "{op:#x}");
        }
    }

    #[test]
    fn index_actions_stay_in_kseg0_and_hit_actions_name_the_host_line() {
        let host = HostCpu::AR7161;
        // Linux's blast: INDEX_BASE (0x80000000) + index + way * waysize.
        let a = index_action(
            &host,
            host_op::INDEX_WB_INVALIDATE_D,
            0x8000_0000 + 3 * 8192 + 0x1FE4,
        );
        assert_eq!(
            a,
            HostCacheAction {
                op: 0x01,
                first: 0x8000_7FE0,
                stride: 0,
                count: 1
            }
        );
        // Any guest address works: only index and way bits survive.
        let a = index_action(&host, host_op::INDEX_INVALIDATE_I, 0xFFFF_FFFF);
        assert_eq!(a.first, 0x8000_FFE0);
        // I-cache hit invalidate: every way of the set the guest address indexes.
        let a = hit_action(&host, HitKind::InvalidateI, 0x0040_3024, 0x0120_0024);
        assert_eq!(
            a,
            HostCacheAction {
                op: 0x00,
                first: 0x8000_3020,
                stride: 16384,
                count: 4
            }
        );
        // No D aliases: exact hit on the host-physical line.
        let a = hit_action(&host, HitKind::WritebackD, 0x0040_3024, 0x0120_0024);
        assert_eq!(
            a,
            HostCacheAction {
                op: 0x19,
                first: 0x0120_0020,
                stride: 0,
                count: 1
            }
        );
        let aliasing = HostCpu {
            dcache_aliases: true,
            ..host
        };
        let a = hit_action(
            &aliasing,
            HitKind::WritebackInvalidateD,
            0x0040_3024,
            0x0120_0024,
        );
        assert_eq!(
            a,
            HostCacheAction {
                op: 0x01,
                first: 0x8000_1020,
                stride: 8192,
                count: 4
            }
        );
    }
}
