//! The commpage's host mapping (`dyntrans`), through `handle_trap`: guest address 0..0x1000 is
//! the commpage only in virtual kernel mode, read-only; the odd page of its pair is the guest's
//! own; user mode sees its own page 0; the refill cache holds the pair under the kernel-mode
//! host ASID only.

mod common;
use common::*;
use vcpu_mips::refill::slot_index;
use vcpu_mips::{HostTlbEntry, Hpa, Outcome, Reflection};

const PAGE: u32 = 0x0080_3000;
const PAGE_LO: u32 = (PAGE >> 12) << 6 | 0x1A; // C = 3, V, not D, not G

fn guest() -> Guest {
    let mut g = Guest::new();
    assert!(g.vcpu.set_commpage(Hpa::new(u64::from(PAGE))));
    g
}

/// A guest whose TLB maps useg pair 0 (ASID 0) onto guest-physical 0x20_0000/0x20_1000, dirty.
fn guest_with_user_page_0() -> Guest {
    let mut g = guest();
    let lo = |gpa: u32| (gpa >> 12) << 6 | 0x1E; // C 3, D, V
    assert_eq!(
        g.tlbwi(3, 0, 0, lo(0x20_0000), lo(0x20_1000)),
        Outcome::Resume
    );
    g
}

#[test]
fn kernel_loads_from_page_0_map_the_commpage_read_only() {
    let mut g = guest_with_user_page_0();
    let asid = g.enter().host_asid;
    let out = g.trap(TLBL, 0x0000_0034);
    let Outcome::MapHost(e) = out else {
        panic!("{out:?}")
    };
    assert_eq!(
        e,
        HostTlbEntry {
            entry_hi: u32::from(asid),
            page_mask: 0,
            entry_lo0: PAGE_LO,
            entry_lo1: ((BASE + 0x20_1000) >> 12) << 6 | 0x1E,
        },
        "the commpage, then the guest's own page 1"
    );
    assert_eq!(g.vcpu.commpage_pair(asid).unwrap().entry_lo0, PAGE_LO);
    // Cached under the kernel-mode host ASID (the one it runs under), never the user-mode one.
    let (kernel, user) = g.vcpu.mode_asids();
    assert_eq!(kernel, asid);
    let slot = g
        .vcpu
        .refill_cache()
        .probe(u32::from(asid))
        .expect("cached");
    assert_eq!((slot.entry_lo0, slot.entry_lo1), (e.entry_lo0, e.entry_lo1));
    assert!(g.vcpu.refill_cache().probe(u32::from(user)).is_none());
    g.vcpu.audit(&g.alloc).unwrap();
    // A fault on page 1 maps the same pair.
    assert_eq!(g.trap(TLBS, 0x0000_1008), Outcome::MapHost(e));
    g.vcpu.audit(&g.alloc).unwrap();
    // The guest remaps its page 1: the cached pair goes with it.
    let lo = |gpa: u32| (gpa >> 12) << 6 | 0x1E;
    g.tlbwi(3, 0, 0, lo(0x20_0000), lo(0x20_5000));
    assert!(g.vcpu.refill_cache().probe(u32::from(asid)).is_none());
    g.vcpu.audit(&g.alloc).unwrap();
}

#[test]
fn kernel_stores_to_the_commpage_are_address_errors() {
    let mut g = guest_with_user_page_0();
    g.enter();
    let pc = g.regs.pc;
    for code in [TLBS, MOD] {
        g.regs.pc = pc;
        assert_eq!(
            g.trap(code, 0x0000_0180),
            Outcome::Reflected {
                code: 5,
                why: Reflection::Guest
            }
        );
        assert_eq!(g.vcpu.cp0().bad_vaddr, 0x180);
        // Back to kernel mode at the store (the handler's eret is the guest's business).
        g.write_cp0(12, 0, 0);
    }
}

#[test]
fn user_mode_sees_its_own_page_0_uncached_in_the_refill_cache() {
    let mut g = guest_with_user_page_0();
    g.write_cp0(12, 0, 0x10); // KSU = user, EXL = ERL = 0
    g.regs.pc = 0x0040_0000;
    let asid = g.enter().host_asid;
    assert_eq!(g.vcpu.commpage_pair(asid), None);
    let out = g.trap(TLBS, 0x0000_0034);
    assert_eq!(
        out,
        Outcome::MapHost(HostTlbEntry {
            entry_hi: u32::from(asid),
            page_mask: 0,
            entry_lo0: ((BASE + 0x20_0000) >> 12) << 6 | 0x1E,
            entry_lo1: ((BASE + 0x20_1000) >> 12) << 6 | 0x1E,
        })
    );
    assert!(
        g.vcpu.refill_cache().slots()[slot_index(u32::from(asid))].entry_hi == 0,
        "never cached"
    );
    // Without a guest mapping: the guest's own refill, as on hardware.
    let mut h = guest();
    h.write_cp0(12, 0, 0x10);
    h.regs.pc = 0x0040_0000;
    h.enter();
    assert_eq!(
        h.trap(TLBL, 0x0000_0000),
        Outcome::Reflected {
            code: 2,
            why: Reflection::GuestTlb
        }
    );
}

#[test]
fn without_a_commpage_page_0_is_the_guests() {
    let mut g = Guest::new();
    let lo = |gpa: u32| (gpa >> 12) << 6 | 0x1E;
    assert_eq!(
        g.tlbwi(3, 0, 0, lo(0x20_0000), lo(0x20_1000)),
        Outcome::Resume
    );
    let asid = g.enter().host_asid;
    let Outcome::MapHost(e) = g.trap(TLBL, 0x34) else {
        panic!()
    };
    assert_eq!(e.entry_lo0, ((BASE + 0x20_0000) >> 12) << 6 | 0x1E);
    assert_eq!(g.vcpu.commpage_pair(asid), None);
}

#[test]
fn guest_tlb_writes_never_prefill_the_commpage_pair() {
    let mut g = guest();
    let entry = g.enter();
    let (asid, user) = (entry.host_asid, entry.user_asid);
    assert_eq!(asid, entry.kernel_asid);
    assert_ne!(asid, user);
    let lo = |gpa: u32| (gpa >> 12) << 6 | 0x1E;
    // The pair at 0 (prefill skipped) and one at 0x4000 (prefilled under the user-mode host
    // ASID: the guest's user code uses what its kernel writes).
    g.tlbwi(3, 0, 0, lo(0x20_0000), lo(0x20_1000));
    g.tlbwi(4, 0x4000, 0, lo(0x20_2000), lo(0x20_3000));
    let slots = g.vcpu.refill_cache().slots();
    for a in [asid, user] {
        assert_eq!(slots[slot_index(u32::from(a))].entry_hi, 0);
    }
    let tag = 0x4000 | u32::from(user);
    assert_eq!(slots[slot_index(tag)].entry_hi, tag);
}
