//! The guest's RAM partition as the MIPS vcpu needs it.
//!
//! Address types come from `guest-mem`: [`Gva`] (guest-virtual), [`Gpa`] (guest-physical,
//! `0..memory size`, as written into the guest's EntryLo PFNs and seen through the RAM window,
//! where `0xC000_0000 + x` is guest-physical `x`), [`Hpa`] (host-physical) and [`Partition`]
//! (where guest-physical addresses become host-physical ones). The MIPS rules for a partition
//! (1 MiB alignment, at most 256 MiB, below 4 GiB: [`GuestArch::MIPS32`]) are checked when a
//! [`Vcpu`](crate::Vcpu) is made ([`mips_partition`] checks them up front);
//! [`MipsPartition`] adds what only the MIPS model asks of a partition: its 32-bit base, the
//! RAM window and the choice of large host pages. How the hypervisor itself reaches a partition
//! (kseg0 below 512 MiB, a mapped window above) is the arch's business: the model only ever
//! hands it host-physical addresses.

pub use guest_mem::{Gpa, GuestArch, Gva, Hpa, Partition, PlacementError as PartitionError};

/// Guest-virtual address of guest-physical 0: the start of the RAM window.
pub const RAM_WINDOW_BASE: u32 = guest_mem::MIPS_RAM_WINDOW.get();
/// Largest guest RAM: the RAM window covers at most 0xC000_0000..0xD000_0000.
pub const MAX_GUEST_RAM: u32 = GuestArch::MIPS32.max_ram;
/// Partition granule: base alignment and size unit (1 MiB).
pub const PARTITION_GRANULE: u32 = guest_mem::PARTITION_GRANULE as u32;
/// kseg0: the unmapped, cached view of the low 512 MiB of host-physical memory (used for
/// index cache operations, which select a line by index and way bits only).
pub const KSEG0_BASE: u32 = 0x8000_0000;

/// A partition of `size` bytes at host-physical `host_base` that a MIPS guest can use: base
/// 1 MiB aligned, size a multiple of 1 MiB in 1..=256 MiB, the whole block below 4 GiB.
pub const fn mips_partition(host_base: Hpa, size: u32) -> Result<Partition, PartitionError> {
    let Ok(partition) = Partition::new(host_base, size) else {
        return Err(PartitionError::OutOfReach);
    };
    match GuestArch::MIPS32.check_partition(&partition) {
        Ok(()) => Ok(partition),
        Err(e) => Err(e),
    }
}

/// What the MIPS model asks of a partition (one that passed [`mips_partition`]'s rules).
pub trait MipsPartition {
    /// Host-physical base as a 32-bit address (EntryLo PFNs are 32-bit physical addresses).
    fn host_base_u32(&self) -> u32;
    /// Guest-physical address of a RAM-window address, if `va` is in the window.
    fn window_to_phys(&self, va: Gva) -> Option<Gpa>;
    /// Largest host page size usable for a pair of pages mapping `offset` of a region that
    /// starts `pair`-aligned in guest-virtual space, covers `[0, size)` of this partition, and
    /// is mapped to the partition base. Returns `(pair_start_offset, page_size)`.
    ///
    /// The size depends only on `offset`, so two faults in one region always pick the same
    /// entry: the host TLB never receives two overlapping entries (a 24Kc machine-checks on
    /// them). Both pages of the pair always lie inside the partition.
    fn large_pair(&self, offset: u32) -> (u32, u32);
}

impl MipsPartition for Partition {
    fn host_base_u32(&self) -> u32 {
        self.host_base().get() as u32
    }

    fn window_to_phys(&self, va: Gva) -> Option<Gpa> {
        let off = va.get().wrapping_sub(RAM_WINDOW_BASE);
        if off < self.size() {
            Some(Gpa::new(off))
        } else {
            None
        }
    }

    fn large_pair(&self, offset: u32) -> (u32, u32) {
        let (base, size) = (self.host_base_u32(), self.size());
        let mut page: u32 = 256 << 20;
        loop {
            let pair = page.wrapping_mul(2);
            if page == 4096 {
                break;
            }
            let start = offset & !(pair - 1);
            if base & (page - 1) == 0 && pair <= size && start <= size - pair {
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
        assert!(mips_partition(Hpa::new(0x0100_0000), 16 << 20).is_ok());
        assert_eq!(
            mips_partition(Hpa::new(0x0108_0000), 16 << 20),
            Err(PartitionError::BaseNotAligned)
        );
        assert_eq!(
            mips_partition(Hpa::new(0), 512 << 20),
            Err(PartitionError::BadSize)
        );
        assert_eq!(
            mips_partition(Hpa::new(0xFF10_0000), 16 << 20),
            Err(PartitionError::OutOfReach)
        );
        assert_eq!(
            mips_partition(Hpa::new(u64::MAX - 10), 16 << 20),
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
