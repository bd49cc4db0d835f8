//! The guest's RAM partition as the MIPS vcpu needs it.
//!
//! Address types come from `guest-mem`: [`Gva`] (guest-virtual), [`Gpa`] (guest-physical,
//! `0..memory size`, as written into the guest's EntryLo PFNs and seen through the RAM window,
//! where `0xC000_0000 + x` is guest-physical `x`) and [`Hpa`] (host-physical). [`Partition`]
//! adds the MIPS rules (1 MiB alignment, at most 256 MiB, below 4 GiB) and the choice of large
//! host pages; it is where guest-physical addresses become host-physical ones. How the
//! hypervisor itself reaches a partition (kseg0 below 512 MiB, a mapped window above) is the
//! arch's business: the model only ever hands it host-physical addresses.

pub use guest_mem::{Gpa, Gva, Hpa};

/// Guest-virtual address of guest-physical 0: the start of the RAM window.
pub const RAM_WINDOW_BASE: u32 = 0xC000_0000;
/// Largest guest RAM: the RAM window covers at most 0xC000_0000..0xD000_0000.
pub const MAX_GUEST_RAM: u32 = 256 << 20;
/// Partition granule: base alignment and size unit (1 MiB).
pub const PARTITION_GRANULE: u32 = 1 << 20;
/// kseg0: the unmapped, cached view of the low 512 MiB of host-physical memory (used for
/// index cache operations, which select a line by index and way bits only).
pub const KSEG0_BASE: u32 = 0x8000_0000;

/// Why a partition description was refused (the caller's configuration is at fault).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionError {
    /// The host base is not aligned to 1 MiB.
    BaseNotAligned,
    /// The size is zero, not a multiple of 1 MiB, or above 256 MiB.
    BadSize,
    /// The partition does not end below 4 GiB (EntryLo holds 32-bit physical addresses).
    OutOfReach,
}

/// A guest's RAM: one host-physically contiguous block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    host_base: u32,
    size: u32,
}

impl Partition {
    /// Describe a partition of `size` bytes at host-physical `host_base`.
    ///
    /// The base must be 1 MiB aligned, the size a multiple of 1 MiB in 1..=256 MiB, and the whole
    /// block below 4 GiB.
    pub const fn new(host_base: Hpa, size: u32) -> Result<Self, PartitionError> {
        if host_base.get() & (PARTITION_GRANULE as u64 - 1) != 0 {
            return Err(PartitionError::BaseNotAligned);
        }
        if size == 0 || size & (PARTITION_GRANULE - 1) != 0 || size > MAX_GUEST_RAM {
            return Err(PartitionError::BadSize);
        }
        let base = host_base.get();
        if base > u32::MAX as u64 || u32::MAX - (base as u32) < size - 1 {
            return Err(PartitionError::OutOfReach);
        }
        Ok(Self {
            host_base: base as u32,
            size,
        })
    }

    /// Host-physical base.
    pub const fn host_base(&self) -> Hpa {
        Hpa::new(self.host_base as u64)
    }

    /// Host-physical base as a 32-bit address.
    pub const fn host_base_u32(&self) -> u32 {
        self.host_base
    }

    /// Size in bytes (also the guest's memory size).
    pub const fn size(&self) -> u32 {
        self.size
    }

    /// Whether guest-physical `gpa` is guest RAM.
    pub const fn contains(&self, gpa: Gpa) -> bool {
        gpa.get() < self.size
    }

    /// Translate a guest-physical address; `None` when it is not guest RAM.
    pub const fn to_host(&self, gpa: Gpa) -> Option<Hpa> {
        if gpa.get() < self.size {
            Some(Hpa::new((self.host_base + gpa.get()) as u64))
        } else {
            None
        }
    }

    /// Whether a host-physical range `[start, start + len)` lies inside this partition.
    pub const fn holds_host_range(&self, start: u32, len: u32) -> bool {
        start >= self.host_base && len <= self.size && start - self.host_base <= self.size - len
    }

    /// Guest-physical address of a RAM-window address, if `va` is in the window.
    pub const fn window_to_phys(&self, va: Gva) -> Option<Gpa> {
        let off = va.get().wrapping_sub(RAM_WINDOW_BASE);
        if off < self.size {
            Some(Gpa::new(off))
        } else {
            None
        }
    }

    /// Largest host page size usable for a pair of pages mapping `offset` of a region that starts
    /// `pair`-aligned in guest-virtual space, covers `[0, size)` of this partition, and is mapped
    /// to the partition base. Returns `(pair_start_offset, page_size)`.
    ///
    /// The size depends only on `offset`, so two faults in one region always pick the same
    /// entry: the host TLB never receives two overlapping entries (a 24Kc machine-checks on
    /// them). Both pages of the pair always lie inside the partition.
    pub const fn large_pair(&self, offset: u32) -> (u32, u32) {
        let mut page: u32 = 256 << 20;
        loop {
            let pair = page.wrapping_mul(2);
            if page == 4096 {
                break;
            }
            let start = offset & !(pair - 1);
            if self.host_base & (page - 1) == 0 && pair <= self.size && start <= self.size - pair {
                return (start, page);
            }
            page /= 4;
        }
        (offset & !0x1FFF, 4096)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_rules() {
        assert!(Partition::new(Hpa::new(0x0100_0000), 16 << 20).is_ok());
        assert_eq!(
            Partition::new(Hpa::new(0x0108_0000), 16 << 20),
            Err(PartitionError::BaseNotAligned)
        );
        assert_eq!(
            Partition::new(Hpa::new(0x0100_0000), 0),
            Err(PartitionError::BadSize)
        );
        assert_eq!(
            Partition::new(Hpa::new(0x0100_0000), (16 << 20) + 4096),
            Err(PartitionError::BadSize)
        );
        assert_eq!(
            Partition::new(Hpa::new(0), 512 << 20),
            Err(PartitionError::BadSize)
        );
        // Anywhere below 4 GiB: RAM above 512 MiB (malta's high RAM at 0x9000_0000) too.
        assert!(Partition::new(Hpa::new(0x1FF0_0000), 2 << 20).is_ok());
        assert!(Partition::new(Hpa::new(0x9000_0000), 256 << 20).is_ok());
        assert!(Partition::new(Hpa::new(0xFF00_0000), 16 << 20).is_ok());
        assert_eq!(
            Partition::new(Hpa::new(0xFF10_0000), 16 << 20),
            Err(PartitionError::OutOfReach)
        );
        assert_eq!(
            Partition::new(Hpa::new(0x1_0000_0000), 16 << 20),
            Err(PartitionError::OutOfReach)
        );
    }

    #[test]
    fn window_translation() {
        let p = Partition::new(Hpa::new(0x0200_0000), 32 << 20).unwrap();
        assert_eq!(p.window_to_phys(Gva::new(0xC000_0000)), Some(Gpa::new(0)));
        assert_eq!(
            p.window_to_phys(Gva::new(0xC1FF_FFFF)),
            Some(Gpa::new(0x01FF_FFFF))
        );
        assert_eq!(p.window_to_phys(Gva::new(0xC200_0000)), None);
        assert_eq!(p.window_to_phys(Gva::new(0xBFFF_FFFF)), None);
        assert_eq!(p.to_host(Gpa::new(0x10)), Some(Hpa::new(0x0200_0010)));
        assert_eq!(p.to_host(Gpa::new(32 << 20)), None);
    }

    #[test]
    fn large_pairs_fit_and_are_aligned() {
        // 1 MiB aligned base, 17 MiB: 1 MiB pages up to 16 MiB, then smaller ones.
        let p = Partition::new(Hpa::new(0x0010_0000), 17 << 20).unwrap();
        assert_eq!(p.large_pair(0x0012_3456), (0, 1 << 20));
        assert_eq!(p.large_pair(0x0100_0000), (0x0100_0000, 256 << 10));
        // 16 MiB aligned base of 64 MiB: 16 MiB pages.
        let q = Partition::new(Hpa::new(0x0400_0000), 64 << 20).unwrap();
        assert_eq!(q.large_pair(0x0234_5678), (0x0200_0000, 16 << 20));
        for p in [p, q] {
            let mut off = 0;
            while off < p.size() {
                let (start, page) = p.large_pair(off);
                assert!(start <= off && off < start + 2 * page);
                assert!(start + 2 * page <= p.size());
                assert_eq!((p.host_base_u32() + start) % page, 0);
                off += 4096 * 7;
            }
        }
    }
}
