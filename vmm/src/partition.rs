//! Guest RAM partitions.
//!
//! Each guest gets one physically contiguous partition, a whole number of MiB, aligned to at
//! least [`ALIGN`] and as its architecture needs
//! ([`PartitionAllocator::allocate_aligned`] with `guest_mem::GuestArch::partition_align`
//! and `phys_limit`). The allocator manages up to [`MAX_REGIONS`] RAM regions in 1 MiB granules
//! with a bitmap; it never hands out a granule twice and refuses what does not fit with
//! [`PartitionError::OutOfMemory`] (nothing is reserved on failure). The heap's borrowed
//! regions come from the same granules ([`PartitionAllocator::allocate_high`]).
//!
//! Alignment on MIPS: 1 MiB is larger than a way of the 24Kc's data cache (8 KiB for 32 KiB
//! 4-way), so guest-virtual window addresses (0xC000_0000 + x), the partition's physical
//! addresses (base + x) and the hypervisor's kseg0 view (0x8000_0000 + base + x) share their
//! cache colour: the hypervisor and a guest's kernel never see one line under two indexes. On
//! e500 a partition is aligned to the largest power-of-4 TLB1 page it holds.

pub use guest_mem::PhysRange;

/// Granule of partitions (1 MiB).
pub const GRANULE: u64 = guest_mem::PARTITION_GRANULE;
/// Partition alignment (equal to the granule).
pub const ALIGN: u64 = GRANULE;
/// RAM regions the allocator can manage.
pub const MAX_REGIONS: usize = 4;
/// Partitions that can exist at once.
pub const MAX_PARTITIONS: usize = 32;
/// Granules per region (a region holds at most 4 GiB).
const MAX_GRANULES: usize = 4096;
const WORDS: usize = MAX_GRANULES / 64;

/// Why a partition could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionError {
    /// No free contiguous range of that size (the request is too big for what is left).
    OutOfMemory,
    /// Size zero or not a multiple of the granule (the caller's mistake).
    BadSize,
    /// Freeing a range that is not exactly an allocated partition (the caller's bug).
    NotAllocated,
    /// More regions than [`MAX_REGIONS`], or a region larger than 4 GiB (configuration).
    TooManyRegions,
}

#[derive(Clone, Copy)]
struct Region {
    base: u64,
    granules: usize,
    used: [u64; WORDS],
}

impl Region {
    fn is_used(&self, g: usize) -> bool {
        self.used[g / 64] & (1 << (g % 64)) != 0
    }

    fn set(&mut self, g: usize, used: bool) {
        if used {
            self.used[g / 64] |= 1 << (g % 64);
        } else {
            self.used[g / 64] &= !(1 << (g % 64));
        }
    }

    fn find_free(&self, count: usize) -> Option<usize> {
        let mut run = 0;
        for g in 0..self.granules {
            if self.is_used(g) {
                run = 0;
            } else {
                run += 1;
                if run == count {
                    return Some(g + 1 - count);
                }
            }
        }
        None
    }

    /// The lowest run of `count` free granules whose first one starts `align`-aligned and
    /// whose end lies at or below `limit`.
    fn find_free_aligned(&self, count: usize, align: u64, limit: u64) -> Option<usize> {
        // The base is granule-aligned, so aligned starts are every `step` granules from the
        // first one.
        let step = usize::try_from(align / GRANULE).ok()?;
        let mut start =
            usize::try_from((self.base.div_ceil(align) * align - self.base) / GRANULE).ok()?;
        while start + count <= self.granules {
            if self.base + ((start + count) as u64) * GRANULE > limit {
                return None;
            }
            match (start..start + count).rev().find(|&g| self.is_used(g)) {
                None => return Some(start),
                Some(used) => start += (used + 1 - start).div_ceil(step) * step,
            }
        }
        None
    }

    /// The top `count` granules of the smallest free run that holds them (the highest such run
    /// when several are as small): `(first granule, length of that run)`.
    fn find_smallest_run_top(&self, count: usize) -> Option<(usize, usize)> {
        let mut best: Option<(usize, usize)> = None;
        let mut g = 0;
        while g < self.granules {
            if self.is_used(g) {
                g += 1;
                continue;
            }
            let start = g;
            while g < self.granules && !self.is_used(g) {
                g += 1;
            }
            let len = g - start;
            if len >= count && best.is_none_or(|(_, best_len)| len <= best_len) {
                best = Some((g - count, len));
            }
        }
        best
    }

    fn free_granules(&self) -> usize {
        (0..self.granules).filter(|&g| !self.is_used(g)).count()
    }
}

/// Allocator of guest partitions over the machine's guest RAM.
pub struct PartitionAllocator {
    regions: [Option<Region>; MAX_REGIONS],
    /// Granules withheld at construction (the hypervisor's memory).
    reserved_granules: usize,
    /// The partitions handed out, so only exactly those can be freed.
    live: [Option<PhysRange>; MAX_PARTITIONS],
}

impl PartitionAllocator {
    /// Manage `ram` minus `reserved` (the hypervisor's own memory). Regions are trimmed inward
    /// to the granule.
    pub fn new(ram: &[PhysRange], reserved: &[PhysRange]) -> Result<Self, PartitionError> {
        let mut regions = [None; MAX_REGIONS];
        let mut n = 0;
        let mut reserved_granules = 0;
        for r in ram {
            let base = r.base.div_ceil(GRANULE) * GRANULE;
            let end = (r.end() / GRANULE) * GRANULE;
            if end <= base {
                continue;
            }
            let granules = usize::try_from((end - base) / GRANULE)
                .map_err(|_| PartitionError::TooManyRegions)?;
            if granules > MAX_GRANULES || n == MAX_REGIONS {
                return Err(PartitionError::TooManyRegions);
            }
            let mut region = Region {
                base,
                granules,
                used: [0; WORDS],
            };
            for g in 0..granules {
                let granule = PhysRange {
                    base: base + g as u64 * GRANULE,
                    size: GRANULE,
                };
                if reserved.iter().any(|res| res.overlaps(&granule)) {
                    region.set(g, true);
                    reserved_granules += 1;
                }
            }
            regions[n] = Some(region);
            n += 1;
        }
        Ok(Self {
            regions,
            reserved_granules,
            live: [None; MAX_PARTITIONS],
        })
    }

    /// Allocate a partition of `size` bytes (a multiple of the granule), at the lowest free
    /// place (guests).
    pub fn allocate(&mut self, size: u64) -> Result<PhysRange, PartitionError> {
        self.allocate_at(size, false)
    }

    /// Allocate a partition of `size` bytes (a multiple of the granule) at the lowest free place
    /// whose base is a multiple of `align` (a power of two, at least the granule) and whose end
    /// lies at or below `limit`: a guest partition placed as its CPU needs
    /// (`guest_mem::GuestArch::partition_align`, `phys_limit`).
    pub fn allocate_aligned(
        &mut self,
        size: u64,
        align: u64,
        limit: u64,
    ) -> Result<PhysRange, PartitionError> {
        if size == 0 || !size.is_multiple_of(GRANULE) || !align.is_power_of_two() || align < GRANULE
        {
            return Err(PartitionError::BadSize);
        }
        let count = usize::try_from(size / GRANULE).map_err(|_| PartitionError::OutOfMemory)?;
        let slot = self
            .live
            .iter()
            .position(Option::is_none)
            .ok_or(PartitionError::OutOfMemory)?;
        for region in self.regions.iter_mut().flatten() {
            if let Some(first) = region.find_free_aligned(count, align, limit) {
                for g in first..first + count {
                    region.set(g, true);
                }
                let part = PhysRange {
                    base: region.base + first as u64 * GRANULE,
                    size,
                };
                self.live[slot] = Some(part);
                return Ok(part);
            }
        }
        Err(PartitionError::OutOfMemory)
    }

    /// Allocate a partition of `size` bytes at the top of the smallest free run that holds it
    /// (the highest of equally small ones): memory the hypervisor borrows from guest RAM (its
    /// heap as the configuration grows) fills gaps guests could not use and otherwise stays at
    /// the top, out of the way of the large contiguous partitions guests need.
    pub fn allocate_high(&mut self, size: u64) -> Result<PhysRange, PartitionError> {
        self.allocate_at(size, true)
    }

    fn allocate_at(&mut self, size: u64, high: bool) -> Result<PhysRange, PartitionError> {
        if size == 0 || !size.is_multiple_of(GRANULE) {
            return Err(PartitionError::BadSize);
        }
        let count = usize::try_from(size / GRANULE).map_err(|_| PartitionError::OutOfMemory)?;
        let slot = self
            .live
            .iter()
            .position(Option::is_none)
            .ok_or(PartitionError::OutOfMemory)?;
        // Low: the first region with room, at its lowest place. High: the smallest free run
        // that holds it in any region (the highest of equals), at its top.
        let mut pick: Option<(usize, usize, usize)> = None;
        for (r, region) in self.regions.iter().enumerate() {
            let Some(region) = region else { continue };
            if !high {
                if let Some(first) = region.find_free(count) {
                    pick = Some((r, first, 0));
                    break;
                }
            } else if let Some((first, len)) = region.find_smallest_run_top(count) {
                if pick.is_none_or(|(_, _, best)| len <= best) {
                    pick = Some((r, first, len));
                }
            }
        }
        let (r, first, _) = pick.ok_or(PartitionError::OutOfMemory)?;
        let region = self.regions[r].as_mut().expect("a region just searched");
        for g in first..first + count {
            region.set(g, true);
        }
        let part = PhysRange {
            base: region.base + first as u64 * GRANULE,
            size,
        };
        self.live[slot] = Some(part);
        Ok(part)
    }

    /// Return a partition [`Self::allocate`] gave out.
    pub fn free(&mut self, part: PhysRange) -> Result<(), PartitionError> {
        let slot = self
            .live
            .iter()
            .position(|p| *p == Some(part))
            .ok_or(PartitionError::NotAllocated)?;
        self.live[slot] = None;
        let region = self
            .regions
            .iter_mut()
            .flatten()
            .find(|r| part.base >= r.base && part.end() <= r.base + r.granules as u64 * GRANULE)
            .ok_or(PartitionError::NotAllocated)?;
        let first = ((part.base - region.base) / GRANULE) as usize;
        for g in first..first + (part.size / GRANULE) as usize {
            region.set(g, false);
        }
        Ok(())
    }

    /// Bytes of guest RAM managed (the reserved granules excluded).
    pub fn total(&self) -> u64 {
        let granules: usize = self.regions.iter().flatten().map(|r| r.granules).sum();
        (granules - self.reserved_granules) as u64 * GRANULE
    }

    /// Bytes free right now.
    pub fn free_bytes(&self) -> u64 {
        self.regions
            .iter()
            .flatten()
            .map(|r| r.free_granules() as u64 * GRANULE)
            .sum()
    }

    /// The largest partition that could be allocated right now.
    pub fn largest_free(&self) -> u64 {
        let mut best = 0;
        for region in self.regions.iter().flatten() {
            let mut run = 0u64;
            for g in 0..region.granules {
                if region.is_used(g) {
                    run = 0;
                } else {
                    run += GRANULE;
                    best = best.max(run);
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    const MIB: u64 = 1 << 20;

    fn malta() -> PartitionAllocator {
        let ram = [PhysRange {
            base: 0,
            size: 256 * MIB,
        }];
        let hv = [PhysRange {
            base: 0,
            size: 16 * MIB,
        }];
        PartitionAllocator::new(&ram, &hv).unwrap()
    }

    #[test]
    fn reserved_memory_is_never_handed_out() {
        let mut a = malta();
        assert_eq!(a.total(), 240 * MIB);
        let p = a.allocate(16 * MIB).unwrap();
        assert_eq!(p.base, 16 * MIB);
        assert_eq!(a.free_bytes(), 224 * MIB);
    }

    #[test]
    fn refuses_what_does_not_fit_and_reserves_nothing() {
        let mut a = malta();
        let _big = a.allocate(200 * MIB).unwrap();
        assert_eq!(a.allocate(41 * MIB), Err(PartitionError::OutOfMemory));
        assert_eq!(a.free_bytes(), 40 * MIB);
        assert!(a.allocate(40 * MIB).is_ok());
    }

    #[test]
    fn fragmentation_is_reported_by_largest_free() {
        let mut a = malta();
        let parts: Vec<_> = (0..15).map(|_| a.allocate(16 * MIB).unwrap()).collect();
        a.free(parts[3]).unwrap();
        a.free(parts[5]).unwrap();
        assert_eq!(a.free_bytes(), 32 * MIB);
        assert_eq!(a.largest_free(), 16 * MIB);
        assert_eq!(a.allocate(32 * MIB), Err(PartitionError::OutOfMemory));
    }

    #[test]
    fn bad_sizes_and_double_free_are_refused() {
        let mut a = malta();
        assert_eq!(a.allocate(0), Err(PartitionError::BadSize));
        assert_eq!(a.allocate(MIB + 1), Err(PartitionError::BadSize));
        let p = a.allocate(16 * MIB).unwrap();
        a.free(p).unwrap();
        assert_eq!(a.free(p), Err(PartitionError::NotAllocated));
        assert_eq!(
            a.free(PhysRange { base: 0, size: MIB }),
            Err(PartitionError::NotAllocated)
        );
    }

    #[test]
    fn high_allocations_come_from_the_top_and_leave_the_bottom_in_one_piece() {
        let mut a = malta();
        let heap = a.allocate_high(2 * MIB).unwrap();
        assert_eq!(heap.end(), 256 * MIB);
        let guest = a.allocate(200 * MIB).unwrap();
        assert_eq!(guest.base, 16 * MIB);
        let more = a.allocate_high(MIB).unwrap();
        assert_eq!(more.end(), heap.base);
        a.free(heap).unwrap();
        // 216..253 MiB is free in one piece, 254..256 MiB beside the one still borrowed.
        assert_eq!(a.largest_free(), 37 * MIB);
    }

    #[test]
    fn aligned_allocations_start_on_their_alignment_and_stay_below_the_limit() {
        let mut a = malta();
        let first = a.allocate(MIB).unwrap();
        assert_eq!(first.base, 16 * MIB);
        // 16 MiB alignment skips 17..32 MiB; the partition comes from 32 MiB.
        let p = a.allocate_aligned(16 * MIB, 16 * MIB, 1 << 32).unwrap();
        assert_eq!(p.base, 32 * MIB);
        // Granule alignment fills the gap below.
        assert_eq!(
            a.allocate_aligned(MIB, MIB, 1 << 32).unwrap().base,
            17 * MIB
        );
        // Nothing of 64 MiB 64 MiB-aligned ends at or below 128 MiB any more (64..128 is free,
        // but the limit forbids the next place).
        assert_eq!(
            a.allocate_aligned(64 * MIB, 64 * MIB, 100 * MIB),
            Err(PartitionError::OutOfMemory)
        );
        assert_eq!(
            a.allocate_aligned(64 * MIB, 64 * MIB, 128 * MIB)
                .unwrap()
                .base,
            64 * MIB
        );
        assert_eq!(
            a.allocate_aligned(3 * MIB, 3 * MIB, 1 << 32),
            Err(PartitionError::BadSize)
        );
        assert_eq!(
            a.allocate_aligned(MIB, 4096, 1 << 32),
            Err(PartitionError::BadSize)
        );
    }

    #[test]
    fn high_allocations_fill_the_smallest_gap_first() {
        // A preloaded file store at 20..24 MiB leaves a 4 MiB gap above the hypervisor.
        let ram = [PhysRange {
            base: 0,
            size: 256 * MIB,
        }];
        let reserved = [
            PhysRange {
                base: 0,
                size: 16 * MIB,
            },
            PhysRange {
                base: 20 * MIB,
                size: 4 * MIB,
            },
        ];
        let mut a = PartitionAllocator::new(&ram, &reserved).unwrap();
        assert_eq!(
            a.allocate_high(MIB).unwrap(),
            PhysRange {
                base: 19 * MIB,
                size: MIB
            }
        );
        assert_eq!(
            a.allocate_high(2 * MIB).unwrap(),
            PhysRange {
                base: 17 * MIB,
                size: 2 * MIB
            }
        );
        // The gap has one granule left: a 2 MiB borrow goes to the top of RAM.
        assert_eq!(a.allocate_high(2 * MIB).unwrap().end(), 256 * MIB);
        // Guests get the rest above the store in one piece.
        assert_eq!(a.largest_free(), 230 * MIB);
        assert_eq!(a.allocate(230 * MIB).unwrap().base, 24 * MIB);
    }

    #[test]
    fn several_regions() {
        let ram = [
            PhysRange {
                base: 0,
                size: 256 * MIB,
            },
            PhysRange {
                base: 0x9000_0000,
                size: 768 * MIB,
            },
        ];
        let hv = [PhysRange {
            base: 0,
            size: 16 * MIB,
        }];
        let mut a = PartitionAllocator::new(&ram, &hv).unwrap();
        assert_eq!(a.total(), 1008 * MIB);
        let parts: Vec<_> = (0..16).map(|_| a.allocate(32 * MIB).unwrap()).collect();
        assert!(parts.iter().any(|p| p.base >= 0x9000_0000));
    }

    proptest! {
        #[test]
        fn aligned_partitions_are_aligned_and_never_overlap(ops in proptest::collection::vec((1u64..40, 0u32..7), 1..60)) {
            let mut a = malta();
            let mut live: Vec<PhysRange> = Vec::new();
            for (mib, align_log) in ops {
                let align = MIB << align_log;
                match a.allocate_aligned(mib * MIB, align, 200 * MIB) {
                    Ok(p) => {
                        prop_assert_eq!(p.base % align, 0);
                        prop_assert!(p.end() <= 200 * MIB && p.base >= 16 * MIB);
                        for q in &live { prop_assert!(!p.overlaps(q)); }
                        live.push(p);
                    }
                    Err(e) => {
                        prop_assert_eq!(e, PartitionError::OutOfMemory);
                        // No aligned free run below the limit really exists.
                        let mut base = (16 * MIB).div_ceil(align) * align;
                        while base + mib * MIB <= 200 * MIB {
                            let candidate = PhysRange { base, size: mib * MIB };
                            prop_assert!(live.iter().any(|q| q.overlaps(&candidate)) || live.len() == MAX_PARTITIONS);
                            base += align;
                        }
                    }
                }
            }
        }

        #[test]
        fn partitions_never_overlap_each_other_or_the_hypervisor(ops in proptest::collection::vec((any::<bool>(), 1u64..64, any::<prop::sample::Index>()), 1..200)) {
            let mut a = malta();
            let hv = PhysRange { base: 0, size: 16 * MIB };
            let mut live: Vec<PhysRange> = Vec::new();
            for (alloc, mib, idx) in ops {
                if alloc || live.is_empty() {
                    let p = if mib % 3 == 0 { a.allocate_high(mib * MIB) } else { a.allocate(mib * MIB) };
                    if let Ok(p) = p {
                        prop_assert!(!p.overlaps(&hv));
                        prop_assert!(p.end() <= 256 * MIB);
                        prop_assert_eq!(p.base % ALIGN, 0);
                        for q in &live { prop_assert!(!p.overlaps(q)); }
                        live.push(p);
                    }
                } else {
                    let p = live.swap_remove(idx.index(live.len()));
                    prop_assert!(a.free(p).is_ok());
                }
                let used: u64 = live.iter().map(|p| p.size).sum();
                prop_assert_eq!(a.free_bytes(), a.total() - used);
            }
        }
    }
}
