//! Property tests: no input panics the vcpu, every host mapping stays inside the partition, host
//! ASIDs are never shared between guests, and the refill cache never holds a stale translation.

mod common;
use common::*;
use proptest::prelude::*;
use vcpu_mips::asid::{GuestAsids, Space};
use vcpu_mips::shadow::{translate, Access, Privilege, TranslateContext};
use vcpu_mips::tlb::{Tlb, TlbEntry};
use vcpu_mips::{HostAsidAllocator, Hpa, Outcome};

fn access() -> impl Strategy<Value = Access> {
    prop_oneof![Just(Access::Fetch), Just(Access::Load), Just(Access::Store)]
}

fn privilege() -> impl Strategy<Value = Privilege> {
    prop_oneof![
        Just(Privilege::Kernel),
        Just(Privilege::Supervisor),
        Just(Privilege::User)
    ]
}

/// Frames near the partition so that in- and out-of-partition entries both occur.
fn entry_lo() -> impl Strategy<Value = u32> {
    (0u32..0x3000, any::<u8>()).prop_map(|(pfn, flags)| (pfn << 6) | u32::from(flags & 0x3F))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn host_mappings_stay_inside_the_partition(
        base_mib in 0u32..256,
        size_mib in 1u32..=256,
        entries in proptest::collection::vec((any::<u32>(), any::<u32>(), entry_lo(), entry_lo()), 0..16),
        va in any::<u32>(),
        asid in any::<u8>(),
        access in access(),
        privilege in privilege(),
        erl in any::<bool>(),
    ) {
        let Ok(p) = vcpu_mips::mips_partition(Hpa::new(u64::from(base_mib << 20)), size_mib << 20) else { return Ok(()) };
        let mut tlb = Tlb::new(16);
        for (i, &(hi, mask, lo0, lo1)) in entries.iter().enumerate() {
            tlb.write(i as u32, TlbEntry::from_registers(hi, mask, lo0, lo1));
        }
        let ctx = TranslateContext { partition: &p, tlb: &tlb, asid, privilege, erl };
        if let Ok(m) = translate(&ctx, va, access) {
            prop_assert_eq!((m.lo0 | m.lo1) & 1, 0, "G never set");
            prop_assert!(m.vpn2 <= va && va - m.vpn2 < 2 * m.page_size());
            prop_assert_eq!(m.vpn2 % (2 * m.page_size()), 0);
            let pa = m.host_addr(va).expect("the faulting page is valid");
            prop_assert!(p.holds_host_range(pa & !3, 4u32));
            for lo in [m.lo0, m.lo1] {
                if let Some((start, _)) = vcpu_mips::shadow::lo_host_range(lo, m.page_size()) {
                    prop_assert!(p.holds_host_range(start, m.page_size()));
                    prop_assert_eq!(lo & 0x38, 0x18, "cache attribute forced to 3");
                }
            }
            prop_assert!(privilege != Privilege::User || va < 0x8000_0000);
        }
    }

    #[test]
    fn guests_never_share_a_live_host_asid(
        guests in 2usize..9,
        ops in proptest::collection::vec((any::<u8>(), any::<u8>(), 0u8..3), 1..700),
    ) {
        let mut alloc = HostAsidAllocator::new();
        let mut maps: Vec<GuestAsids> = (0..guests).map(|_| GuestAsids::new()).collect();
        for (g, asid, kind) in ops {
            let g = usize::from(g) % guests;
            let space = Space { guest_asid: asid, erl: kind == 1, user: kind == 2 };
            let grant = maps[g].obtain(space, &mut alloc);
            prop_assert_ne!(grant.asid, 0);
            let mut owner = [usize::MAX; 256];
            for (i, m) in maps.iter().enumerate() {
                for slot in 0..768usize {
                    let space = Space { guest_asid: slot as u8, erl: slot >> 8 == 1, user: slot >> 8 == 2 };
                    if let Some(h) = m.current(space, &alloc) {
                        prop_assert!(owner[usize::from(h)] == usize::MAX, "host ASID {} live twice", h);
                        owner[usize::from(h)] = i;
                    }
                }
            }
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn refill_cache_is_never_stale(ops in proptest::collection::vec(op(), 1..60)) {
        let mut g = Guest::new();
        for op in ops {
            let resume_pc = g.regs.pc;
            match op {
                Op::Write { random, index, hi, mask, lo0, lo1 } => {
                    g.write_cp0(0, 0, index);
                    g.write_cp0(5, 0, mask);
                    g.write_cp0(2, 0, lo0);
                    g.write_cp0(3, 0, lo1);
                    g.write_cp0(10, 0, hi);
                    g.exec(if random { TLBWR } else { TLBWI });
                }
                Op::Asid(a) => g.write_cp0(10, 0, u32::from(a)),
                Op::Fault { va, store } => {
                    let out = g.trap(if store { TLBS } else { TLBL }, va);
                    if let Outcome::Reflected { .. } = out {
                        // Leave the guest's handler: back to kernel code with EXL clear.
                        g.regs.pc = KERNEL_PC + 0x1000;
                        g.write_cp0(12, 0, 0);
                    }
                }
                Op::Erl(on) => g.write_cp0(12, 0, if on { 4 } else { 0 }),
            }
            if g.regs.pc != resume_pc + 4 && !matches!(g.regs.pc, 0xC010_0000..=0xC0FF_FFFF) {
                g.regs.pc = KERNEL_PC + 0x2000;
            }
            g.enter();
            prop_assert_eq!(g.vcpu.audit(&g.alloc), Ok(()));
        }
    }

    #[test]
    fn fuzz_body_never_panics(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        vcpu_mips::fuzz::run(&data);
    }
}

#[derive(Clone, Debug)]
enum Op {
    Write {
        random: bool,
        index: u32,
        hi: u32,
        mask: u32,
        lo0: u32,
        lo1: u32,
    },
    Asid(u8),
    Fault {
        va: u32,
        store: bool,
    },
    Erl(bool),
}

/// Addresses from a few pages so that writes and faults collide often.
fn hot_va() -> impl Strategy<Value = u32> {
    (
        prop_oneof![
            Just(0x0040_0000u32),
            Just(0xD000_0000),
            Just(0x0000_0000),
            Just(0xC000_0000)
        ],
        0u32..16,
    )
        .prop_map(|(base, page)| base + page * 0x1000)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<bool>(), 0u32..16, hot_va(), 0u8..4, prop_oneof![Just(0u32), Just(0x6000), Just(0x1E000)], entry_lo(), entry_lo())
            .prop_map(|(random, index, va, asid, mask, lo0, lo1)| Op::Write { random, index, hi: va | u32::from(asid), mask, lo0, lo1 }),
        1 => (0u8..4).prop_map(Op::Asid),
        4 => (hot_va(), any::<bool>()).prop_map(|(va, store)| Op::Fault { va, store }),
        1 => any::<bool>().prop_map(Op::Erl),
    ]
}

/// A model of the real TLB: what the arch does with `MapHost`, `InvalidateHost`, a refill-cache
/// hit (`tlbwr` with the CPU's EntryHi) and a generation flush.
#[derive(Default)]
struct HostTlb {
    entries: Vec<(u32, u32, u32, u32)>,
    next: usize,
}

impl HostTlb {
    const SIZE: usize = 16;

    fn matching(&self, va: u32, asid: u8) -> Option<usize> {
        self.entries.iter().position(|&(hi, mask, _, _)| {
            let ignore = mask | 0x1FFF;
            (va & !ignore) == (hi & !ignore) && hi as u8 == asid
        })
    }

    fn write(&mut self, hi: u32, mask: u32, lo0: u32, lo1: u32) {
        let e = (hi, mask, lo0, lo1);
        match self.matching(hi & 0xFFFF_E000, hi as u8) {
            Some(i) => self.entries[i] = e,
            None if self.entries.len() < Self::SIZE => self.entries.push(e),
            None => {
                self.entries[self.next % Self::SIZE] = e;
                self.next += 1;
            }
        }
    }

    fn check(&self) -> Result<(), TestCaseError> {
        for (i, a) in self.entries.iter().enumerate() {
            prop_assert_eq!((a.2 | a.3) & 1, 0, "host G");
            prop_assert_ne!(a.0 & 0xFF, 0, "hypervisor ASID");
            let page = (a.1 >> 1) + 0x1000;
            for lo in [a.2, a.3] {
                if let Some((start, _)) = vcpu_mips::shadow::lo_host_range(lo, page) {
                    prop_assert!(
                        partition().holds_host_range(start, page),
                        "outside the partition"
                    );
                }
            }
            for b in &self.entries[i + 1..] {
                let ignore = a.1 | b.1 | 0x1FFF;
                let overlap = (a.0 & !ignore) == (b.0 & !ignore) && a.0 as u8 == b.0 as u8;
                prop_assert!(
                    !overlap,
                    "two host entries match one address: {:x?} {:x?}",
                    a,
                    b
                );
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// End to end with a host TLB model: the host TLB never holds two entries for one address
    /// (a 24Kc would machine-check), never G, never outside the partition.
    #[test]
    fn host_tlb_never_gets_overlapping_entries(ops in proptest::collection::vec(op(), 1..80)) {
        let mut g = Guest::new();
        let mut host = HostTlb::default();
        for op in ops {
            let mut outcome = Outcome::Resume;
            match op {
                Op::Write { random, index, hi, mask, lo0, lo1 } => {
                    g.write_cp0(0, 0, index);
                    g.write_cp0(5, 0, mask);
                    g.write_cp0(2, 0, lo0);
                    g.write_cp0(3, 0, lo1);
                    g.write_cp0(10, 0, hi);
                    outcome = g.exec(if random { TLBWR } else { TLBWI });
                }
                Op::Asid(a) => g.write_cp0(10, 0, u32::from(a)),
                Op::Erl(on) => g.write_cp0(12, 0, if on { 4 } else { 0 }),
                Op::Fault { va, store } => {
                    let entry = g.enter();
                    if entry.flush_host_tlb {
                        host.entries.clear();
                    }
                    let asid = entry.host_asid;
                    match host.matching(va, asid) {
                        Some(i) => {
                            let (_, mask, lo0, lo1) = host.entries[i];
                            let lo = if va & ((mask >> 1) + 0x1000) != 0 { lo1 } else { lo0 };
                            let code = if lo & 2 == 0 { if store { TLBS } else { TLBL } } else if store && lo & 4 == 0 { MOD } else { 0 };
                            if code != 0 {
                                outcome = g.trap(code, va);
                            }
                        }
                        None => {
                            let hw_entry_hi = (va & 0xFFFF_E000) | u32::from(asid);
                            match g.vcpu.refill_cache().probe(hw_entry_hi).copied() {
                                Some(slot) => host.write(hw_entry_hi, slot.page_mask, slot.entry_lo0, slot.entry_lo1),
                                None => outcome = g.trap(if store { TLBS } else { TLBL }, va),
                            }
                        }
                    }
                }
            }
            match outcome {
                Outcome::MapHost(e) => host.write(e.entry_hi, e.page_mask, e.entry_lo0, e.entry_lo1),
                Outcome::InvalidateHost => {
                    let inv = g.vcpu.host_invalidation();
                    // The arch may probe instead of scanning: both must drop the same entries.
                    let mut probed = host.entries.clone();
                    inv.for_each_probe(|hi| {
                        let probe = HostTlb { entries: probed.clone(), next: 0 };
                        if let Some(i) = probe.matching(hi & 0xFFFF_E000, hi as u8) {
                            probed.remove(i);
                        }
                    });
                    host.entries.retain(|&(hi, mask, _, _)| !inv.covers(hi, mask));
                    prop_assert_eq!(&probed, &host.entries, "probing and scanning disagree");
                }
                Outcome::Reflected { .. } => {
                    g.regs.pc = KERNEL_PC + 0x1000;
                    g.write_cp0(12, 0, 0);
                }
                _ => {}
            }
            let entry = g.enter();
            if entry.flush_host_tlb {
                host.entries.clear();
            }
            host.check()?;
        }
    }
}
