//! The guest's TLB miss handler rewrites a TLB0 entry on every miss: what a changed `tlbwe`
//! costs the model, on the shape `hello-e500`'s `bench` measures on qemu-ppce500 (a TID = 0
//! TLB0 entry of the kernel context pointed alternately at two pages, each followed by a load
//! through it). Every round must be served by probing the host TLB for the one page, without
//! retiring a shadow ID (which would drop every host entry and refill slot of the context) and
//! without asking for `prepare_entry`.

mod common;

use common::*;
use vcpu_e500::shadow::Access;
use vcpu_e500::spr::mas::*;
use vcpu_e500::spr::num;
use vcpu_e500::Fast;

const ALIAS: u32 = 0x1000_0000;
/// The registers `hypervisor/src/arch/powerpc/vcpu/fast.rs` saves for the fast path.
const FAST_GPRS: u32 = 0x1FFB;

/// A standard guest with the alias entry written and used once; returns its MAS3.
fn guest_with_alias() -> (Guest, u32) {
    let mut g = Guest::standard();
    let mas3 = 0x0010_0000 | MAS3_SR | MAS3_SW;
    g.tlbwe(0, MAS1_V | 1 << 8, ALIAS, mas3, 0);
    g.access(ALIAS, Access::Load).expect("alias mapped");
    (g, mas3)
}

/// One round of the bench: `mtspr MAS3` (general path here), `tlbwe` through the fast path,
/// and its host work; the load through the alias when `load`.
fn remap(g: &mut Guest, mas3: u32, load: bool) -> Fast {
    g.write_spr(num::MAS3, mas3);
    let pc = g.pc();
    let hpa = g.tb.access(pc, Access::Fetch).expect("code mapped");
    g.tb.mem.words.insert(hpa.get(), TLBWE);
    let fast =
        g.tb.vcpu
            .fast_trap(&mut g.tb.regs, TLBWE, g.tb.now, FAST_GPRS, &g.tb.pids);
    if let Fast::InvalidateHost { .. } = fast {
        let inval = *g.tb.vcpu.host_invalidation();
        g.tb.host.invalidate(&inval);
    }
    if load {
        g.access(ALIAS, Access::Load).expect("alias mapped");
    }
    g.check();
    fast
}

#[test]
fn a_changed_tlb0_entry_is_probed_away_without_retiring_ids() {
    let (mut g, mas3) = guest_with_alias();
    let sids_before = (g.tb.entry.unwrap().pid0, g.tb.entry.unwrap().pid1);
    for round in 0..64u32 {
        let page = mas3 + ((round + 1) & 1) * 0x1000;
        let fast = remap(&mut g, page, round % 3 != 0);
        assert_eq!(
            fast,
            Fast::InvalidateHost { reenter: false },
            "round {round}"
        );
        assert!(
            g.tb.vcpu.host_invalidation().probe_count() <= 2,
            "round {round}: {} probes",
            g.tb.vcpu.host_invalidation().probe_count()
        );
    }
    g.tb.enter();
    let e = g.tb.entry.unwrap();
    assert_eq!((e.pid0, e.pid1), sids_before, "no shadow ID retired");
}

/// Many rounds, for a profiler (`valgrind --tool=callgrind` on this test binary).
#[test]
#[ignore]
fn remap_rounds_for_profiling() {
    let (mut g, mas3) = guest_with_alias();
    for round in 0..20_000u32 {
        remap(&mut g, mas3 + ((round + 1) & 1) * 0x1000, true);
    }
}
