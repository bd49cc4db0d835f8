//! The three address spaces as distinct types, so one can never be passed for another.
//!
//! - [`Gva`]: guest-virtual, what a guest writes into descriptors and hypercall arguments.
//! - [`Gpa`]: guest-physical, an offset into the guest's own RAM partition.
//! - [`Hpa`]: host-physical, where the partition really lives (36 bits on e500, hence `u64`).
//!
//! [`PhysRange`] is a range of host-physical memory: a RAM bank, a partition, the hypervisor's
//! own image.

use core::fmt;

macro_rules! address_type {
    ($(#[$doc:meta])* $name:ident, $raw:ty, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        #[repr(transparent)]
        pub struct $name($raw);

        impl $name {
            /// Wraps a raw address.
            pub const fn new(raw: $raw) -> Self {
                Self(raw)
            }

            /// The raw address.
            pub const fn get(self) -> $raw {
                self.0
            }

            /// `self + offset`, or `None` if it wraps around the address space.
            pub const fn checked_add(self, offset: $raw) -> Option<Self> {
                match self.0.checked_add(offset) {
                    Some(raw) => Some(Self(raw)),
                    None => None,
                }
            }

            /// Whether the address is a multiple of `align` (a power of two).
            pub const fn is_aligned(self, align: $raw) -> bool {
                self.0 & (align.wrapping_sub(1)) == 0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, ":{:#x}"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
    };
}

address_type!(
    /// A guest-virtual address (what the guest puts in descriptors and hypercall arguments).
    Gva,
    u32,
    "gva"
);
address_type!(
    /// A guest-physical address: an offset into the guest's RAM partition.
    Gpa,
    u32,
    "gpa"
);
address_type!(
    /// A host-physical address (the partition's real location; up to 36 bits on e500).
    Hpa,
    u64,
    "hpa"
);

/// A range of host-physical memory: `size` bytes from `base`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhysRange {
    /// First byte.
    pub base: u64,
    /// Length in bytes.
    pub size: u64,
}

impl PhysRange {
    /// One past the last byte.
    pub const fn end(&self) -> u64 {
        self.base + self.size
    }

    /// Whether the two ranges share a byte.
    pub const fn overlaps(&self, other: &PhysRange) -> bool {
        self.base < other.end() && other.base < self.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_add_detects_wrap() {
        assert_eq!(Gva::new(0xFFFF_FFF0).checked_add(0x10), None);
        assert_eq!(
            Gva::new(0xFFFF_FFF0).checked_add(0xF),
            Some(Gva::new(0xFFFF_FFFF))
        );
        assert_eq!(
            Hpa::new(0xF_E000_0000).checked_add(0x1000),
            Some(Hpa::new(0xF_E000_1000))
        );
    }

    #[test]
    fn ranges_overlap_only_when_they_share_a_byte() {
        let a = PhysRange {
            base: 0x1000,
            size: 0x1000,
        };
        assert_eq!(a.end(), 0x2000);
        assert!(a.overlaps(&PhysRange {
            base: 0x1FFF,
            size: 1
        }));
        assert!(!a.overlaps(&PhysRange {
            base: 0x2000,
            size: 0x1000
        }));
        assert!(!a.overlaps(&PhysRange {
            base: 0,
            size: 0x1000
        }));
    }

    #[test]
    fn alignment() {
        assert!(Gva::new(0xC000_0010).is_aligned(16));
        assert!(!Gva::new(0xC000_0014).is_aligned(16));
        assert!(Gva::new(0xC000_0014).is_aligned(4));
        assert!(Gva::new(3).is_aligned(1));
    }

    #[test]
    fn formatting_names_the_space() {
        extern crate std;
        use std::format;
        assert_eq!(format!("{}", Gva::new(0xC000_1000)), "gva:0xc0001000");
        assert_eq!(format!("{:?}", Gpa::new(0x20)), "gpa:0x20");
        assert_eq!(format!("{}", Hpa::new(0x1_0000_0000)), "hpa:0x100000000");
    }
}
