//! The shadow-translation slow path, the refill cache and host ASIDs, through `handle_trap`.

mod common;
use common::*;
use vcpu_mips::refill::slot_index;
use vcpu_mips::{HostTlbEntry, Outcome, Reflection};

#[test]
fn window_refill_maps_large_pages_and_fills_the_cache() {
    let mut g = Guest::new();
    let asid = g.enter().host_asid;
    let out = g.trap(TLBL, 0xC012_3458);
    // 16 MiB at a 16 MiB aligned base: 4 MiB pages, pair at 0xC000_0000.
    let expect = HostTlbEntry {
        entry_hi: 0xC000_0000 | u32::from(asid),
        page_mask: 0x007F_E000,
        entry_lo0: (BASE >> 12) << 6 | 0x1F & !1,
        entry_lo1: ((BASE + (4 << 20)) >> 12) << 6 | 0x1E,
    };
    assert_eq!(out, Outcome::MapHost(expect));
    assert_eq!(g.regs.pc, KERNEL_PC, "the access is retried");
    let slot = g
        .vcpu
        .refill_cache()
        .probe(0xC012_2000 | u32::from(asid))
        .expect("cached");
    assert_eq!(
        (slot.entry_lo0, slot.entry_lo1, slot.page_mask),
        (expect.entry_lo0, expect.entry_lo1, expect.page_mask)
    );
    g.vcpu.audit(&g.alloc).unwrap();
}

#[test]
fn guest_tlb_refill_is_reflected_like_hardware() {
    let mut g = Guest::new();
    g.write_cp0(10, 0, 0x0000_0023); // ASID 0x23
    g.write_cp0(4, 0, 0xC080_0000); // PTEBase
    let pc = g.regs.pc;
    assert_eq!(
        g.trap(TLBS, 0x7FFF_1234),
        Outcome::Reflected {
            code: 3,
            why: Reflection::GuestTlb
        }
    );
    assert_eq!(g.regs.pc, 0xC000_0000, "refill vector");
    let c = g.vcpu.cp0();
    assert_eq!(c.epc, pc);
    assert_eq!(c.bad_vaddr, 0x7FFF_1234);
    assert_eq!(c.entry_hi, 0x7FFF_0023);
    assert_eq!(c.context, 0xC080_0000 | (0x7FFF_0000 >> 9));
    // A second miss inside the handler (EXL set): general vector, EPC kept.
    g.regs.pc = 0xC000_0010;
    assert_eq!(
        g.trap(TLBL, 0x0010_0000),
        Outcome::Reflected {
            code: 2,
            why: Reflection::GuestTlb
        }
    );
    assert_eq!(g.regs.pc, 0xC000_0180);
    assert_eq!(g.vcpu.cp0().epc, pc);
}

#[test]
fn guest_entries_map_4k_pairs_with_guest_d_and_v() {
    let mut g = Guest::new();
    // vmalloc 0xD000_4000: even page gpa 0x0030_0000 writable, odd invalid.
    g.tlbwi(2, 0xD000_4000, 0, (0x300 << 6) | 0x16 | 1, 1);
    let asid = g.enter().host_asid;
    let out = g.trap(TLBS, 0xD000_4010);
    let Outcome::MapHost(e) = out else {
        panic!("{out:?}")
    };
    assert_eq!(e.entry_hi, 0xD000_4000 | u32::from(asid));
    assert_eq!(e.page_mask, 0);
    assert_eq!(
        e.entry_lo0,
        ((BASE + 0x0030_0000) >> 12) << 6 | 0x1E,
        "C forced to 3, no G"
    );
    assert_eq!(e.entry_lo1, 0);
    // The invalid odd page: TLB Invalid at the general vector.
    assert_eq!(
        g.trap(TLBL, 0xD000_5000),
        Outcome::Reflected {
            code: 2,
            why: Reflection::GuestTlb
        }
    );
    assert_eq!(g.regs.pc, 0xC000_0180);
}

#[test]
fn read_only_page_store_is_tlb_modified() {
    let mut g = Guest::new();
    g.tlbwi(2, 0xD000_0000, 0, (0x300 << 6) | 0x1A | 1, 1);
    g.enter();
    assert!(matches!(g.trap(TLBL, 0xD000_0000), Outcome::MapHost(e) if e.entry_lo0 & 4 == 0));
    assert_eq!(
        g.trap(MOD, 0xD000_0008),
        Outcome::Reflected {
            code: 1,
            why: Reflection::GuestTlb
        }
    );
    assert_eq!(g.vcpu.cp0().bad_vaddr, 0xD000_0008);
}

#[test]
fn foreign_frames_never_reach_the_host() {
    let mut g = Guest::new();
    // Guest tries to map host-physical 0 (the hypervisor) and frames past its 16 MiB.
    g.tlbwi(
        1,
        0x0040_0000,
        0,
        (0x1000 << 6) | 0x1E,
        (0xFFFFF << 6) | 0x1E,
    );
    g.enter();
    assert_eq!(
        g.trap(TLBL, 0x0040_0000),
        Outcome::Reflected {
            code: 7,
            why: Reflection::OutsidePartition
        }
    );
    g.regs.pc = 0x0040_1000;
    g.write_cp0_kernel_free();
    assert_eq!(
        g.trap(TLBL, 0x0040_1000),
        Outcome::Reflected {
            code: 6,
            why: Reflection::OutsidePartition
        }
    );
    g.vcpu.audit(&g.alloc).unwrap();
}

trait Reset {
    fn write_cp0_kernel_free(&mut self);
}

impl Reset for Guest {
    /// Clear EXL without an instruction (the previous reflection set it), by an `eret` to `pc`.
    fn write_cp0_kernel_free(&mut self) {
        let pc = self.regs.pc;
        self.regs.pc = KERNEL_PC + 0x200;
        self.write_cp0(14, 0, pc);
        self.exec(ERET);
        assert_eq!(self.regs.pc, pc);
    }
}

#[test]
fn user_mode_cannot_reach_the_window_or_kseg0() {
    let mut g = Guest::new();
    assert_eq!(
        g.trap(4 << 2, 0xC000_1000),
        Outcome::Reflected {
            code: 4,
            why: Reflection::Guest
        }
    );
    assert_eq!(g.vcpu.cp0().bad_vaddr, 0xC000_1000);
}

#[test]
fn asid_change_switches_host_asid_and_keeps_the_cache() {
    let mut g = Guest::new();
    let a = g.enter().host_asid;
    g.write_cp0(10, 0, 5);
    let b = g.enter().host_asid;
    assert_ne!(a, b);
    g.write_cp0(10, 0, 0);
    assert_eq!(g.enter().host_asid, a);
    // ERL mode is its own space.
    g.write_cp0(12, 0, 0x4);
    let erl = g.enter().host_asid;
    assert!(erl != a && erl != b);
}

#[test]
fn tlbwi_invalidates_old_shadows_precisely() {
    let mut g = Guest::new();
    g.tlbwi(4, 0x0040_0000, 0, (0x200 << 6) | 0x1E, (0x201 << 6) | 0x1E);
    let asid = g.enter().host_asid;
    assert!(matches!(g.trap(TLBL, 0x0040_0000), Outcome::MapHost(_)));
    let tag = 0x0040_0000 | u32::from(asid);
    assert!(g.vcpu.refill_cache().probe(tag).is_some());
    // Rewrite entry 4 elsewhere: the old pair's host entries and cache slot go.
    let out = g.tlbwi(4, 0x0080_0000, 0, (0x300 << 6) | 0x1E, 0);
    let Outcome::InvalidateHost = out else {
        panic!("{out:?}")
    };
    let inv = *g.vcpu.host_invalidation();
    assert!(inv.covers(tag, 0));
    assert!(!inv.covers(0x0040_2000 | u32::from(asid), 0));
    let (kernel, user) = g.vcpu.mode_asids();
    assert_eq!(kernel, asid);
    assert!(
        inv.covers(0x0040_0000 | u32::from(user), 0),
        "the user-mode space of the same guest ASID too"
    );
    assert!(
        !inv.covers(0x0040_0000 | u32::from(asid.wrapping_add(100)), 0),
        "other ASIDs untouched"
    );
    assert!(
        inv.covers(0x0010_0000 | u32::from(asid), 0x1FFF_E000),
        "large entries overlapping are covered"
    );
    assert!(g.vcpu.refill_cache().probe(tag).is_none());
    // The new 4 KiB useg entry, written in kernel mode, is pre-filled for the user-mode
    // host ASID (the space its user code runs in), not for the kernel-mode one.
    assert!(g
        .vcpu
        .refill_cache()
        .probe(0x0080_0000 | u32::from(asid))
        .is_none());
    let slot = g
        .vcpu
        .refill_cache()
        .probe(0x0080_0000 | u32::from(user))
        .expect("prefilled");
    assert_eq!(slot.entry_lo0, ((BASE + 0x0030_0000) >> 12) << 6 | 0x1E);
    assert_eq!(
        slot_index(0x0080_0000 | u32::from(user)),
        ((0x0080_0000 >> 13) ^ usize::from(user)) & 255
    );
    g.vcpu.audit(&g.alloc).unwrap();
}

#[test]
fn overlapping_lower_entry_invalidates_shadows_of_the_higher_one() {
    let mut g = Guest::new();
    g.tlbwi(9, 0x0040_0000, 0, (0x200 << 6) | 0x1E, 0);
    let asid = g.enter().host_asid;
    g.trap(TLBL, 0x0040_0000);
    // A duplicate at a lower index now wins: the shadow from entry 9 must go.
    let out = g.tlbwi(3, 0x0040_0000, 0, (0x280 << 6) | 0x1E, 0);
    assert!(
        out == Outcome::InvalidateHost
            && g.vcpu
                .host_invalidation()
                .covers(0x0040_0000 | u32::from(asid), 0)
    );
    let Outcome::MapHost(e) = g.trap(TLBL, 0x0040_0000) else {
        panic!()
    };
    assert_eq!(e.entry_lo0 >> 6, (BASE + 0x0028_0000) >> 12);
    g.vcpu.audit(&g.alloc).unwrap();
}

#[test]
fn generation_rollover_flushes_and_clears_the_cache() {
    let mut g = Guest::new();
    g.trap(TLBL, 0xC000_0000);
    assert!(g
        .vcpu
        .refill_cache()
        .slots()
        .iter()
        .any(|s| s.entry_hi != 0));
    let mut flushes = 0;
    for asid in 1..=255u32 {
        g.write_cp0(10, 0, asid);
        if g.enter().flush_host_tlb {
            flushes += 1;
        }
    }
    // Two host ASIDs (kernel and user mode) per guest ASID: 511 taken, two generations begun.
    assert_eq!(flushes, 2);
    g.vcpu.audit(&g.alloc).unwrap();
    assert!(g
        .vcpu
        .refill_cache()
        .slots()
        .iter()
        .all(|s| s.entry_hi == 0));
}
