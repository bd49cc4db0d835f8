//! Shadow translation: from a guest effective address, in the guest's current context, to the
//! host TLB entry that maps it, or the exception the guest must see instead.
//!
//! 1. The guest's TLB is searched as the hardware would (address space MSR\[IS\] for fetches,
//!    MSR\[DS\] for data; PID0..PID2; TLB1 first). No match: a TLB miss for the guest. The
//!    permissions are the guest entry's supervisor bits in guest supervisor state, its user bits
//!    in guest user state: a denied access is a storage interrupt for the guest.
//! 2. The guest-physical address (RPN with MAS7) must lie in the guest's RAM; otherwise the
//!    access is what the same guest would get from memory that does not answer, a machine
//!    check. A mapping outside the partition is never produced.
//! 3. The host page: the largest power-of-4 block around the address, from the guest page's size
//!    down to the configured smallest host TLB1 page, that lies inside the guest page, whose
//!    guest-physical block lies in the partition, whose host-physical base is aligned to it,
//!    and that no guest entry taking precedence overlaps; else the 4 KiB page. A block size is
//!    thus a function of the address and the guest TLB (two addresses in one block get the
//!    same block), so two host entries of one shadow ID never overlap while the guest TLB is
//!    unchanged; every guest TLB change invalidates what it could make inconsistent.
//! 4. Global mappings: a page from a TID = 0 entry that no TID != 0 entry of its address space
//!    overlaps translates alike in every context of that address space and privilege; it is
//!    mapped under the guest's shadow ID for global pages (real PID1), shared by all its
//!    contexts (a Linux guest's kernel and vmalloc pages survive its context switches).
//!    Everything else is mapped under the context's own ID (real PID0).
//! 5. Contexts with MSR\[IS\] != MSR\[DS\] (a few instructions of a guest's entry code) map 4 KiB
//!    pages only, each with the permissions of the access that faulted (instruction or data),
//!    so that the other kind of access faults and is mapped from its own address space.
//!
//! Host entries are always in address space 1 with user permissions only (the guest runs in
//! problem state), cache attributes W = I = M = 0 (the hypervisor reads guest memory through its
//! cacheable mapping; a guest's cache-inhibited mapping of its own RAM would be incoherent
//! with it), G and E as the guest set them.

use crate::addr::Partition;
use crate::interface::HostTlbEntry;
use crate::sid::Context;
use crate::spr::mas::*;
use crate::tlb::{Tlb, TlbEntry, TlbIndex};

/// What kind of access faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Instruction fetch.
    Fetch,
    /// Load (and cache operations that do not modify).
    Load,
    /// Store (and `dcbz`, `dcbi`).
    Store,
}

impl Access {
    /// Whether it is an instruction fetch.
    pub const fn is_fetch(self) -> bool {
        matches!(self, Access::Fetch)
    }
}

/// An exception the guest must see instead of a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestFault {
    /// No guest TLB entry matches: instruction or data TLB error.
    TlbMiss { ea: u32, access: Access },
    /// The entry denies the access: instruction or data storage interrupt.
    Permission { ea: u32, access: Access },
    /// The entry's frame is not guest RAM: machine check.
    OutsidePartition { ea: u32, access: Access, gpa: u64 },
}

/// A host mapping, without its shadow ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostMapping {
    /// First effective address of the host page.
    pub epn: u32,
    /// Host TSIZE (1 = 4 KiB: host TLB0).
    pub tsize: u32,
    /// Host-physical base of the page.
    pub host_base: u64,
    /// MAS2 attribute bits (G, E).
    pub attrs: u32,
    /// MAS3 permission bits (UX, UW, UR).
    pub perms: u32,
    /// Mapped under the global shadow ID.
    pub global: bool,
    /// The guest entry it comes from.
    pub source: TlbIndex,
}

impl HostMapping {
    /// Page size in bytes.
    pub const fn size(&self) -> u64 {
        crate::tlb::tsize_bytes(self.tsize)
    }

    /// The host TLB entry for shadow ID `sid`.
    pub const fn entry(&self, sid: u8) -> HostTlbEntry {
        HostTlbEntry {
            mas1: MAS1_V | (sid as u32) << 16 | MAS1_TS | self.tsize << 8,
            mas2: self.epn | self.attrs,
            mas3: (self.host_base as u32 & MAS3_RPN) | self.perms,
            mas7: (self.host_base >> 32) as u32 & MAS7_MASK,
        }
    }

    /// Host-physical address of `ea` (which must lie in the page).
    pub const fn host_addr(&self, ea: u32) -> u64 {
        self.host_base + (ea - self.epn) as u64
    }

    /// Whether the mapping allows `access`.
    pub const fn allows(&self, access: Access) -> bool {
        let need = match access {
            Access::Fetch => MAS3_UX,
            Access::Load => MAS3_UR,
            Access::Store => MAS3_UW,
        };
        self.perms & need != 0
    }
}

/// The guest state a translation depends on.
#[derive(Clone, Copy, Debug)]
pub struct Shadow<'a> {
    /// The guest's TLB.
    pub tlb: &'a Tlb,
    /// The guest's RAM.
    pub partition: &'a Partition,
    /// The guest's context.
    pub ctx: &'a Context,
    /// Smallest host TLB1 page.
    pub tlb1_min_page: u32,
}

/// Largest host page the shadow MMU uses (1 GiB: guest RAM is at most 2 GiB).
const HOST_MAX_PAGE: u64 = 1 << 30;

/// The guest's effective permissions of `e` in privilege `pr`, as MAS3 user bits.
pub const fn guest_perms(e: &TlbEntry, pr: bool) -> u32 {
    let m = e.mas3();
    if pr {
        m & (MAS3_UX | MAS3_UW | MAS3_UR)
    } else {
        (m & (MAS3_SX | MAS3_SW | MAS3_SR)) << 1
    }
}

impl Shadow<'_> {
    /// The address space an access uses.
    pub const fn address_space(&self, access: Access) -> bool {
        if access.is_fetch() {
            self.ctx.is
        } else {
            self.ctx.ds
        }
    }

    /// Translate `ea` for `access`.
    #[inline]
    pub fn translate(&self, ea: u32, access: Access) -> Result<HostMapping, GuestFault> {
        let m = self.map(ea, access)?;
        // The mapping's permissions are the guest's for this privilege (in a mixed context
        // restricted to this kind of access, which does not change the answer for it).
        if !m.allows(access) {
            return Err(GuestFault::Permission { ea, access });
        }
        Ok(m)
    }

    /// The host mapping for `ea` for an access of `access`'s kind (fetch or data), whatever
    /// the guest permits: the guest TLB miss and outside-partition faults only.
    pub fn map(&self, ea: u32, access: Access) -> Result<HostMapping, GuestFault> {
        let ts = self.address_space(access);
        let Some((source, e)) = self.tlb.lookup(ea, ts, &self.ctx.pids) else {
            return Err(GuestFault::TlbMiss { ea, access });
        };
        let offset = u64::from(ea - e.epn());
        let gpa = e.rpn() + offset;
        let size = u64::from(self.partition.size());
        if gpa >= size {
            return Err(GuestFault::OutsidePartition { ea, access, gpa });
        }
        let host = self.partition.host_base().get();
        let mixed = self.ctx.is != self.ctx.ds;
        let mut perms = guest_perms(&e, self.ctx.pr);
        if mixed {
            perms &= if access.is_fetch() {
                MAS3_UX
            } else {
                MAS3_UW | MAS3_UR
            };
        }
        let global = !mixed && e.tid() == 0 && !self.tlb.nonglobal_overlaps(e.epn(), e.size(), ts);
        let mut page = if mixed {
            4096
        } else {
            e.size().min(HOST_MAX_PAGE)
        };
        while page > 4096 {
            if page < u64::from(self.tlb1_min_page) {
                page = 4096;
                break;
            }
            let region = u64::from(ea) & !(page - 1);
            let gpa_region = gpa & !(page - 1);
            if gpa_region + page <= size
                && (host + gpa_region).is_multiple_of(page)
                && !self
                    .tlb
                    .preceded_in(source, region as u32, page, ts, &self.ctx.pids)
            {
                break;
            }
            page /= 4;
        }
        let region = ea & !(page as u32 - 1);
        Ok(HostMapping {
            epn: region,
            tsize: (page.trailing_zeros() - 10) / 2,
            host_base: host + (gpa & !(page - 1)),
            attrs: e.mas2() & (MAS2_G | MAS2_E),
            perms,
            global,
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Hpa;

    fn part() -> Partition {
        Partition::new(Hpa::new(0x0400_0000), 64 << 20).unwrap()
    }

    fn kernel() -> Context {
        Context::default()
    }

    fn shadow<'a>(tlb: &'a Tlb, p: &'a Partition, ctx: &'a Context) -> Shadow<'a> {
        Shadow {
            tlb,
            partition: p,
            ctx,
            tlb1_min_page: 1 << 20,
        }
    }

    fn tlb1(tlb: &mut Tlb, i: u8, epn: u32, rpn: u32, tsize: u32, tid: u8, perms: u32) {
        tlb.write(
            TlbIndex::Tlb1(i),
            TlbEntry::from_mas(
                MAS1_V | u32::from(tid) << 16 | tsize << 8,
                epn | MAS2_M | MAS2_I,
                rpn | perms,
                0,
                true,
            ),
        );
    }

    #[test]
    fn large_guest_page_becomes_one_host_page() {
        let (mut tlb, p, c) = (Tlb::new(), part(), kernel());
        tlb1(
            &mut tlb,
            0,
            0x8000_0000,
            0,
            8,
            0,
            MAS3_SX | MAS3_SW | MAS3_SR,
        );
        let s = shadow(&tlb, &p, &c);
        let m = s.translate(0x8123_4567, Access::Store).unwrap();
        assert_eq!(
            (m.epn, m.size(), m.host_base),
            (0x8000_0000, 64 << 20, 0x0400_0000)
        );
        assert!(m.global);
        let e = m.entry(9);
        assert_eq!(e.mas1, MAS1_V | 9 << 16 | MAS1_TS | 8 << 8);
        assert_eq!(e.mas2, 0x8000_0000, "W, I, M dropped");
        assert_eq!(e.mas3, 0x0400_0000 | MAS3_UX | MAS3_UW | MAS3_UR);
        // Guest user state: no user permission, a storage interrupt.
        let user = Context { pr: true, ..c };
        assert_eq!(
            shadow(&tlb, &p, &user).translate(0x8000_0000, Access::Load),
            Err(GuestFault::Permission {
                ea: 0x8000_0000,
                access: Access::Load
            })
        );
    }

    #[test]
    fn pages_shrink_to_fit_the_partition_and_precedence() {
        let (mut tlb, p, c) = (Tlb::new(), part(), kernel());
        // 256 MiB guest page over a 64 MiB partition: 64 MiB host pages where RAM is.
        tlb1(&mut tlb, 1, 0x8000_0000, 0, 9, 0, MAS3_SR);
        let s = shadow(&tlb, &p, &c);
        assert_eq!(
            s.translate(0x8000_1000, Access::Load).unwrap().size(),
            64 << 20
        );
        assert!(matches!(
            s.translate(0x8400_0000, Access::Load),
            Err(GuestFault::OutsidePartition {
                gpa: 0x0400_0000,
                ..
            })
        ));
        // A preceding 4 KiB entry inside: the blocks around it shrink to 4 KiB, and 1 MiB
        // blocks elsewhere in its 4 MiB neighbourhood.
        tlb1(&mut tlb, 0, 0x8010_0000, 0x0300_0000, 1, 0, MAS3_SR);
        let s = shadow(&tlb, &p, &c);
        let near = s.translate(0x8010_1000, Access::Load).unwrap();
        assert_eq!((near.size(), near.source), (4096, TlbIndex::Tlb1(1)));
        assert_eq!(
            s.translate(0x8020_0000, Access::Load).unwrap().size(),
            1 << 20
        );
        assert_eq!(
            s.translate(0x8400_0000 - 4, Access::Load).unwrap().size(),
            16 << 20
        );
        let hit = s.translate(0x8010_0004, Access::Load).unwrap();
        assert_eq!((hit.size(), hit.host_base), (4096, 0x0700_0000));
    }

    #[test]
    fn foreign_frames_and_misses() {
        let (mut tlb, p, c) = (Tlb::new(), part(), kernel());
        // The CCSR of QEMU's ppce500, through MAS7.
        tlb.write(
            TlbIndex::Tlb1(0),
            TlbEntry::from_mas(
                MAS1_V | 5 << 8,
                0xE000_0000,
                0xE000_0000 | MAS3_SW,
                0xF,
                true,
            ),
        );
        let s = shadow(&tlb, &p, &c);
        assert_eq!(
            s.translate(0xE000_0010, Access::Store),
            Err(GuestFault::OutsidePartition {
                ea: 0xE000_0010,
                access: Access::Store,
                gpa: 0xF_E000_0010
            })
        );
        assert_eq!(
            s.translate(0x1000, Access::Fetch),
            Err(GuestFault::TlbMiss {
                ea: 0x1000,
                access: Access::Fetch
            })
        );
    }

    #[test]
    fn global_only_without_overlapping_process_entries() {
        let (mut tlb, p, c) = (Tlb::new(), part(), kernel());
        tlb1(&mut tlb, 0, 0x8000_0000, 0, 8, 0, MAS3_SR);
        let user_page =
            TlbEntry::from_mas(MAS1_V | 7 << 16, 0x8100_0000, 0x5000 | MAS3_SR, 0, false);
        tlb.write(Tlb::index_from_mas(0, 0x8100_0000), user_page);
        let s = shadow(&tlb, &p, &c);
        assert!(!s.translate(0x8000_0000, Access::Load).unwrap().global);
    }

    #[test]
    fn mixed_address_spaces_map_4k_with_the_faulting_kind_only() {
        let (mut tlb, p) = (Tlb::new(), part());
        tlb1(
            &mut tlb,
            0,
            0x8000_0000,
            0,
            8,
            0,
            MAS3_SX | MAS3_SR | MAS3_SW,
        );
        let c = Context {
            is: false,
            ds: true,
            ..kernel()
        };
        let s = shadow(&tlb, &p, &c);
        let m = s.translate(0x8000_0000, Access::Fetch).unwrap();
        assert_eq!((m.size(), m.perms, m.global), (4096, MAS3_UX, false));
        assert!(matches!(
            s.translate(0x8000_0000, Access::Load),
            Err(GuestFault::TlbMiss { .. })
        ));
    }
}
