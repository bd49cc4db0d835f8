//! Shadow translation: from a guest address to the host TLB entry that maps it.
//!
//! Guest address map, by the guest's virtual privilege:
//!
//! | range | guest kernel | guest supervisor | guest user |
//! |---|---|---|---|
//! | useg `0..0x8000_0000` | vTLB (identity when ERL = 1) | vTLB | vTLB |
//! | kseg0/kseg1 `0x8000_0000..0xC000_0000` | address error | address error | address error |
//! | RAM window `0xC000_0000 + [0, memory size)` | direct: guest-physical = va - 0xC000_0000 | direct | address error |
//! | rest of `0xC000_0000..0xE000_0000` (vmalloc) | vTLB | vTLB | address error |
//! | kseg3 `0xE000_0000..` | address error | address error | address error |
//!
//! The guest runs in real Supervisor/User mode, so the hardware itself raises these address
//! errors (kseg0/1/3 are not accessible in Supervisor mode); the MetaROUTER guest kernel knows it
//! (its `do_ade` turns a kseg3 address error into a page fault). The RAM window takes precedence
//! over guest TLB entries covering it, like an unmapped segment.
//!
//! Host entries: the RAM window and ERL-mode useg use the largest page pair that fits
//! ([`MipsPartition::large_pair`]), vTLB-derived mappings always use 4 KiB pairs. Sizes are a
//! function of the address alone and the two kinds never overlap, so the host TLB never gets two
//! entries for one address. The cache attribute is forced to 3 (cacheable, non-coherent,
//! write-back): the hypervisor accesses guest memory through cached kseg0, and a guest's
//! uncached mapping of its own RAM (MetaROUTER kernels `ioremap` their DMA buffers) would be
//! incoherent with it. D follows the guest's D; host G is never set.
//!
//! A guest entry whose frame lies outside the guest's RAM never yields a host mapping: the access
//! becomes a bus error (IBE for a fetch, DBE otherwise), which is what the same guest would get
//! from nonexistent memory on real hardware. It cannot loop (the guest's TLB state is valid, so
//! a TLB exception would send a Linux guest back to the same `tlbwr` forever).

use crate::addr::{Gpa, Gva, MipsPartition, Partition, RAM_WINDOW_BASE};
use crate::tlb::{Tlb, LO_D, LO_V};

/// Host cache attribute for every guest mapping: cacheable, non-coherent, write-back.
pub const HOST_CACHE_ATTR: u32 = 3 << 3;

/// What kind of access faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Instruction fetch.
    Fetch,
    /// Load (and cache operations, which translate as loads).
    Load,
    /// Store.
    Store,
}

/// The guest's privilege as its virtual Status defines it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Privilege {
    /// KSU = 00, or EXL or ERL set.
    Kernel,
    /// KSU = 01 with EXL = ERL = 0.
    Supervisor,
    /// KSU = 10 (or the reserved 11) with EXL = ERL = 0.
    User,
}

/// An exception the guest must see instead of a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestFault {
    /// No vTLB entry matches: TLB Refill.
    TlbRefill { va: u32, access: Access },
    /// The matching entry's page is invalid: TLB Invalid.
    TlbInvalid { va: u32, access: Access },
    /// Store to a page whose D bit is clear: TLB Modified.
    TlbModified { va: u32 },
    /// Segment not accessible: AdEL/AdES.
    AddressError { va: u32, access: Access },
    /// The frame is not guest RAM: IBE/DBE.
    BusError { access: Access },
}

/// Where a host mapping came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The RAM window.
    Window,
    /// useg with ERL set.
    ErlIdentity,
    /// The guest's vTLB entry at this index.
    Tlb(usize),
}

/// A host page pair, without its ASID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostMapping {
    /// First address of the pair (aligned to its span).
    pub vpn2: u32,
    /// Host PageMask.
    pub page_mask: u32,
    /// Host EntryLo0 (PFN, C = 3, D, V; never G).
    pub lo0: u32,
    /// Host EntryLo1.
    pub lo1: u32,
    /// Origin.
    pub source: Source,
}

impl HostMapping {
    /// Size of one page of the pair.
    pub const fn page_size(&self) -> u32 {
        crate::tlb::page_size_of(self.page_mask)
    }

    /// Host-physical address of `va` (which must lie in the pair), if its page is valid.
    pub const fn host_addr(&self, va: u32) -> Option<u32> {
        let page = self.page_size();
        let off = va.wrapping_sub(self.vpn2);
        let lo = if off >= page { self.lo1 } else { self.lo0 };
        if lo & LO_V == 0 || off >= 2 * page {
            return None;
        }
        Some(((lo >> 6) << 12) + off % page)
    }
}

/// The guest state a translation depends on.
#[derive(Clone, Copy, Debug)]
pub struct TranslateContext<'a> {
    /// The guest's RAM.
    pub partition: &'a Partition,
    /// The guest's TLB.
    pub tlb: &'a Tlb,
    /// Current guest ASID (EntryHi bits 7:0).
    pub asid: u8,
    /// Virtual privilege.
    pub privilege: Privilege,
    /// Virtual Status.ERL.
    pub erl: bool,
}

const fn host_lo(partition: &Partition, gpa: u32, dirty: bool) -> u32 {
    // The partition lies below 4 GiB (checked when the vcpu was made).
    let host = partition.host_base().get() as u32 + gpa;
    ((host >> 12) << 6) | HOST_CACHE_ATTR | if dirty { LO_D } else { 0 } | LO_V
}

/// Map a whole region `[region_va, region_va + partition size)` onto the partition with large
/// pages (RAM window, ERL useg).
fn region_mapping(partition: &Partition, region_va: u32, va: u32, source: Source) -> HostMapping {
    let offset = va - region_va;
    let (start, page) = partition.large_pair(offset);
    HostMapping {
        vpn2: region_va + start,
        page_mask: ((page << 1) - 1) & !0x1FFF,
        lo0: host_lo(partition, start, true),
        lo1: host_lo(partition, start + page, true),
        source,
    }
}

/// Translate `va` for `access`, or say which exception the guest must see.
pub fn translate(
    ctx: &TranslateContext<'_>,
    va: u32,
    access: Access,
) -> Result<HostMapping, GuestFault> {
    let address_error = Err(GuestFault::AddressError { va, access });
    let in_useg = va < 0x8000_0000;
    let in_sseg = (0xC000_0000..0xE000_0000).contains(&va);
    if !in_useg && (!in_sseg || ctx.privilege == Privilege::User) {
        return address_error;
    }
    if ctx.partition.window_to_phys(Gva::new(va)).is_some() {
        return Ok(region_mapping(
            ctx.partition,
            RAM_WINDOW_BASE,
            va,
            Source::Window,
        ));
    }
    if in_useg && ctx.erl && ctx.privilege == Privilege::Kernel {
        if !ctx.partition.contains(Gpa::new(va)) {
            return Err(GuestFault::BusError { access });
        }
        return Ok(region_mapping(ctx.partition, 0, va, Source::ErlIdentity));
    }
    let Some((index, entry)) = ctx.tlb.lookup(va, ctx.asid) else {
        return Err(GuestFault::TlbRefill { va, access });
    };
    let lo = entry.lo_for(va);
    if lo & LO_V == 0 {
        return Err(GuestFault::TlbInvalid { va, access });
    }
    if access == Access::Store && lo & LO_D == 0 {
        return Err(GuestFault::TlbModified { va });
    }
    if !ctx.partition.contains(Gpa::new(entry.phys_of(lo, va))) {
        return Err(GuestFault::BusError { access });
    }
    // A 4 KiB host pair inside the guest entry (guest pairs are at least 8 KiB, aligned).
    let pair = va & !0x1FFF;
    let page_lo = |page_va: u32| {
        let lo = entry.lo_for(page_va);
        let gpa = entry.phys_of(lo, page_va) & !0xFFF;
        if lo & LO_V != 0 && ctx.partition.contains(Gpa::new(gpa)) {
            host_lo(ctx.partition, gpa, lo & LO_D != 0)
        } else {
            0
        }
    };
    Ok(HostMapping {
        vpn2: pair,
        page_mask: 0,
        lo0: page_lo(pair),
        lo1: page_lo(pair + 0x1000),
        source: Source::Tlb(index),
    })
}

/// Host-physical range `[start, end)` a host EntryLo maps for a page of `page_size`, if valid.
pub const fn lo_host_range(lo: u32, page_size: u32) -> Option<(u32, u32)> {
    if lo & LO_V == 0 {
        return None;
    }
    let start = (lo >> 6) << 12;
    Some((start, start.wrapping_add(page_size)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Hpa;
    use crate::tlb::{TlbEntry, LO_G};

    fn ctx<'a>(p: &'a Partition, t: &'a Tlb, privilege: Privilege) -> TranslateContext<'a> {
        TranslateContext {
            partition: p,
            tlb: t,
            asid: 4,
            privilege,
            erl: false,
        }
    }

    fn setup() -> (Partition, Tlb) {
        let p = Partition::new(Hpa::new(0x0100_0000), 16 << 20).unwrap();
        let mut t = Tlb::new(16);
        // useg 0x0040_0000 pair: even -> gpa 0x0020_0000 (D), odd -> gpa 0x0020_5000 read-only.
        t.write(
            1,
            TlbEntry::from_registers(0x0040_0004, 0, (0x200 << 6) | 0x1E, (0x205 << 6) | 0x1A),
        );
        // vmalloc 0xD000_0000, global, even page outside the partition (gpa 0x0100_0000).
        t.write(
            2,
            TlbEntry::from_registers(
                0xD000_0000,
                0,
                (0x1000 << 6) | 0x1F,
                (0x10 << 6) | 0x1E | LO_G,
            ),
        );
        (p, t)
    }

    #[test]
    fn window_is_direct_and_kernel_only() {
        let (p, t) = setup();
        let m = translate(&ctx(&p, &t, Privilege::Kernel), 0xC012_3456, Access::Store).unwrap();
        assert_eq!(m.source, Source::Window);
        assert_eq!(m.vpn2, 0xC000_0000);
        // 16 MiB at a 16 MiB aligned base: 4 MiB pages (the largest pair that fits is 8 MiB).
        assert_eq!(m.page_mask, 0x007F_E000);
        assert_eq!(
            lo_host_range(m.lo0, 4 << 20),
            Some((0x0100_0000, 0x0140_0000))
        );
        assert_eq!(
            lo_host_range(m.lo1, 4 << 20),
            Some((0x0140_0000, 0x0180_0000))
        );
        assert_eq!(m.lo0 & 0x3F, HOST_CACHE_ATTR | LO_D | LO_V);
        assert_eq!(
            translate(&ctx(&p, &t, Privilege::User), 0xC012_3456, Access::Load),
            Err(GuestFault::AddressError {
                va: 0xC012_3456,
                access: Access::Load
            })
        );
    }

    #[test]
    fn unsupported_segments() {
        let (p, t) = setup();
        for va in [0x8000_0000, 0xA000_1000, 0xE000_0000, 0xFFFF_F000] {
            assert_eq!(
                translate(&ctx(&p, &t, Privilege::Kernel), va, Access::Fetch),
                Err(GuestFault::AddressError {
                    va,
                    access: Access::Fetch
                })
            );
        }
    }

    #[test]
    fn guest_tlb_mappings() {
        let (p, t) = setup();
        let k = ctx(&p, &t, Privilege::User);
        let m = translate(&k, 0x0040_0010, Access::Store).unwrap();
        assert_eq!(m.source, Source::Tlb(1));
        assert_eq!((m.vpn2, m.page_mask), (0x0040_0000, 0));
        assert_eq!(lo_host_range(m.lo0, 4096), Some((0x0120_0000, 0x0120_1000)));
        assert_eq!(m.lo1 & LO_D, 0, "odd page is read-only");
        assert_eq!(
            translate(&k, 0x0040_1000, Access::Store),
            Err(GuestFault::TlbModified { va: 0x0040_1000 })
        );
        assert_eq!(
            translate(&k, 0x0040_2000, Access::Load),
            Err(GuestFault::TlbRefill {
                va: 0x0040_2000,
                access: Access::Load
            })
        );
        let other_asid = TranslateContext { asid: 5, ..k };
        assert!(matches!(
            translate(&other_asid, 0x0040_0000, Access::Load),
            Err(GuestFault::TlbRefill { .. })
        ));
    }

    #[test]
    fn frames_outside_the_partition_are_bus_errors() {
        let (p, t) = setup();
        let k = ctx(&p, &t, Privilege::Kernel);
        assert_eq!(
            translate(&k, 0xD000_0000, Access::Fetch),
            Err(GuestFault::BusError {
                access: Access::Fetch
            })
        );
        // The odd page is fine and its host pair leaves the even half invalid.
        let m = translate(&k, 0xD000_1000, Access::Load).unwrap();
        assert_eq!(m.lo0, 0);
        assert_eq!(lo_host_range(m.lo1, 4096), Some((0x0101_0000, 0x0101_1000)));
    }

    #[test]
    fn erl_maps_useg_identity() {
        let (p, t) = setup();
        let k = TranslateContext {
            erl: true,
            ..ctx(&p, &t, Privilege::Kernel)
        };
        let m = translate(&k, 0x0040_0010, Access::Load).unwrap();
        assert_eq!(m.source, Source::ErlIdentity);
        assert_eq!((m.vpn2, m.page_size()), (0, 4 << 20));
        assert_eq!(m.host_addr(0x0040_0010), Some(0x0140_0010));
        assert_eq!(m.host_addr(0x0000_0010), Some(0x0100_0010));
        assert_eq!(
            translate(&k, 0x0100_0000, Access::Load),
            Err(GuestFault::BusError {
                access: Access::Load
            })
        );
    }
}
