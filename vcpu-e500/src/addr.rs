//! The guest's RAM partition as the e500 model needs it.
//!
//! Address types come from `guest-mem`: [`Gva`] (guest-virtual, an effective address),
//! [`Gpa`] (guest-physical, `0..memory size`, what the guest writes into MAS3/MAS7), [`Hpa`]
//! (host-physical, 36 bits on e500) and [`Partition`]. The e500 rules for a partition are
//! [`GuestArch::E500`]'s (1 MiB granule, aligned to the largest power-of-4 page that fits it,
//! anywhere in the 36-bit physical space) plus one of the model's own: the partition does not
//! cross a 4 GiB boundary, so every host mapping of a guest has the same MAS7 (the assembly
//! refill handler writes it from [`crate::Vcpu::host_mas7`]).

pub use guest_mem::{Gpa, GuestArch, Gva, Hpa, Partition, PlacementError};

/// Why a partition cannot hold an e500 guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionError {
    /// It breaks [`GuestArch::E500`]'s placement rules.
    Placement(PlacementError),
    /// It crosses a 4 GiB boundary of the physical address space.
    CrossesFourGiB,
}

impl core::fmt::Display for PartitionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PartitionError::Placement(e) => e.fmt(f),
            PartitionError::CrossesFourGiB => {
                f.write_str("the partition crosses a 4 GiB boundary of physical memory")
            }
        }
    }
}

/// Check `partition` against the e500 rules.
pub const fn check_e500_partition(partition: &Partition) -> Result<(), PartitionError> {
    if let Err(e) = GuestArch::E500.check_partition(partition) {
        return Err(PartitionError::Placement(e));
    }
    let base = partition.host_base().get();
    if base >> 32 != (base + partition.size() as u64 - 1) >> 32 {
        return Err(PartitionError::CrossesFourGiB);
    }
    Ok(())
}

/// A partition of `size` bytes at host-physical `host_base` that an e500 guest can use.
pub const fn e500_partition(host_base: Hpa, size: u32) -> Result<Partition, PartitionError> {
    let Ok(partition) = Partition::new(host_base, size) else {
        return Err(PartitionError::Placement(PlacementError::OutOfReach));
    };
    match check_e500_partition(&partition) {
        Ok(()) => Ok(partition),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u32 = 1 << 20;

    #[test]
    fn partition_rules() {
        assert!(e500_partition(Hpa::new(0x0400_0000), 64 * MIB).is_ok());
        assert!(e500_partition(Hpa::new(0x8_0000_0000), 64 * MIB).is_ok());
        assert_eq!(
            e500_partition(Hpa::new(0x0100_0000), 64 * MIB),
            Err(PartitionError::Placement(PlacementError::BaseNotAligned))
        );
        assert_eq!(
            e500_partition(Hpa::new(0xFF00_0000), 48 * MIB),
            Err(PartitionError::CrossesFourGiB)
        );
        assert_eq!(
            e500_partition(Hpa::new(0xFF00_0000), 16 * MIB).map(|p| p.size()),
            Ok(16 * MIB)
        );
        assert_eq!(
            e500_partition(Hpa::new(u64::MAX - 10), 16 * MIB),
            Err(PartitionError::Placement(PlacementError::OutOfReach))
        );
    }
}
