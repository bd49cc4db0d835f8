//! The TLB instructions against the virtual TLB0/TLB1, the shadow TLB built from them, and
//! what a hostile guest gets when it maps outside its partition, the CCSR, or writes entries
//! with sizes the core does not have.

mod common;

use common::*;
use vcpu_e500::exception::{mcsr, HaltReason, Interrupt};
use vcpu_e500::shadow::Access;
use vcpu_e500::spr::{esr, mas::*, msr, num};
use vcpu_e500::sprs::slot;
use vcpu_e500::tlb::{TlbIndex, TLB0CFG};
use vcpu_e500::{CacheAction, HostPidAllocator, Hpa, Outcome, Reflection, Vcpu};

const TLB1: u32 = MAS0_TLBSEL1;

fn mas(g: &Guest) -> [u32; 5] {
    [
        g.spr(slot::MAS0),
        g.spr(slot::MAS1),
        g.spr(slot::MAS2),
        g.spr(slot::MAS3),
        g.spr(slot::MAS7),
    ]
}

#[test]
fn tlb1_write_read_and_search() {
    let mut g = Guest::standard();
    let mas1 = MAS1_V | MAS1_IPROT | 5 << 16 | MAS1_TS | 7 << 8;
    let mas2 = 0x3000_0000 | MAS2_G | MAS2_M;
    let mas3 = 0x0100_0000 | MAS3_SR | MAS3_SW | MAS3_U0_3;
    assert_eq!(
        g.tlbwe(TLB1 | 3 << 16, mas1, mas2, mas3, 0),
        Outcome::Resume
    );
    // tlbre of another entry, then of this one.
    g.write_spr(num::MAS0, TLB1 | 4 << 16);
    g.run(TLBRE);
    assert_eq!(g.spr(slot::MAS1) & MAS1_V, 0);
    g.write_spr(num::MAS0, TLB1 | 3 << 16);
    g.run(TLBRE);
    assert_eq!(&mas(&g)[1..], &[mas1, mas2, mas3, 0]);
    // tlbsx inside the page with the right PID and address space: found, MAS0 names it.
    g.write_spr(num::MAS6, 5 << 16 | MAS6_SAS);
    g.set_gpr(7, 0x3012_3456);
    g.run(tlbsx(0, 7));
    assert_eq!(mas(&g)[0] & !MAS0_NV, TLB1 | 3 << 16);
    assert_eq!(&mas(&g)[1..], &[mas1, mas2, mas3, 0]);
    // Wrong PID or address space: a miss loads the MAS4 defaults with V = 0.
    g.write_spr(num::MAS4, MAS4_TLBSELD1 | 1 << 8 | MAS2_M);
    for mas6 in [6 << 16 | MAS6_SAS, 5 << 16] {
        g.write_spr(num::MAS6, mas6);
        g.set_gpr(8, 0x1000);
        g.set_gpr(7, 0x3012_2456);
        g.run(tlbsx(8, 7));
        let [mas0, mas1, mas2, mas3, _] = mas(&g);
        assert_eq!(mas1 & MAS1_V, 0, "MAS6 {mas6:#x}");
        let ts = if mas6 & MAS6_SAS != 0 { MAS1_TS } else { 0 };
        assert_eq!(mas1 & (MAS1_TID | MAS1_TS), (mas6 & MAS6_SPID) | ts);
        assert_eq!(mas0 & TLB1, TLB1, "TLBSELD");
        assert_eq!((mas2, mas3), (0x3012_3000 | MAS2_M, 0), "EPN of rA + rB");
    }
}

#[test]
fn tlb0_geometry_sizes_and_iprot() {
    let mut g = Guest::standard();
    assert_eq!(TLB0CFG & 0xFFF, 512);
    // Four ways of one set (EA bits 19:12 equal), each its own entry; TSIZE and IPROT are not
    // TLB0's: they read back as 4 KiB and clear.
    for way in 0..4u32 {
        let epn = 0x1000_0000 + way * 0x8_0000;
        let mas1 = MAS1_V | MAS1_IPROT | 1 << 16 | 6 << 8;
        g.tlbwe(way << 16, mas1, epn, (way + 1) << 12 | MAS3_SR, 0);
    }
    for way in 0..4u32 {
        let epn = 0x1000_0000 + way * 0x8_0000;
        g.write_spr(num::MAS0, way << 16);
        // tlbre selects the set from MAS2's EPN; any EPN of the set reads the way.
        g.write_spr(num::MAS2, 0x1000_0000);
        g.run(TLBRE);
        let [_, mas1, mas2, mas3, _] = mas(&g);
        assert_eq!(mas1, MAS1_V | 1 << 16 | 1 << 8, "way {way}");
        assert_eq!((mas2, mas3), (epn, (way + 1) << 12 | MAS3_SR), "way {way}");
    }
    // A fifth page of the set in way 0 replaces the first.
    g.tlbwe(
        0,
        MAS1_V | 1 << 16 | 1 << 8,
        0x1020_0000,
        0x9000 | MAS3_SR,
        0,
    );
    assert!(g.tb.vcpu.tlb().search(0x1000_0000, false, 1).is_none());
    assert!(g.tb.vcpu.tlb().search(0x1020_0000, false, 1).is_some());
}

#[test]
fn tlb1_sizes_the_core_does_not_have_are_clamped() {
    let mut g = Guest::standard();
    g.write_msr(msr::ME);
    // TSIZE 0 (reserved): a 4 KiB page.
    g.tlbwe(
        TLB1 | 2 << 16,
        MAS1_V,
        0x2000_0FFF & !0xFFF,
        0x5000 | MAS3_SR,
        0,
    );
    g.write_spr(num::MAS0, TLB1 | 2 << 16);
    g.run(TLBRE);
    assert_eq!(g.spr(slot::MAS1), MAS1_V | 1 << 8);
    // TSIZE 15 (beyond the e500v2's 4 GiB): 4 GiB, EPN and RPN aligned to it.
    g.tlbwe(
        TLB1 | 3 << 16,
        MAS1_V | 15 << 8,
        0x1234_5000,
        0x0123_4000 | 0x3F,
        0,
    );
    g.write_spr(num::MAS0, TLB1 | 3 << 16);
    g.run(TLBRE);
    assert_eq!(g.spr(slot::MAS1), MAS1_V | 11 << 8);
    // The 4 GiB guest page maps guest-physical 0.. at effective 0..: RAM maps in host pages
    // inside the partition (the check after every step), beyond it is a machine check.
    let hpa = g.access(0x0010_0000, Access::Load).unwrap();
    assert_eq!(hpa, Hpa::new(0x0410_0000));
    let e = g.tb.host.entries().find(|e| e.epn() == 0).copied().unwrap();
    assert_eq!((e.host_base(), e.size()), (0x0400_0000, 64 << 20));
    let pc = g.pc();
    assert_eq!(
        g.access(0x0400_0000, Access::Load),
        Err(Outcome::Reflected {
            vector: Interrupt::MachineCheck,
            why: Reflection::OutsidePartition
        })
    );
    assert_eq!(g.spr(slot::MCAR), 0x0400_0000);
    assert_eq!(g.spr(slot::MCSRR0), pc);
}

#[test]
fn mapping_outside_the_partition_is_a_machine_check_never_a_mapping() {
    let mut g = Guest::standard();
    g.install_vectors();
    g.write_msr(msr::ME | msr::EE);
    let size = 64u32 << 20;
    // TLB0 page whose frame is the first page after RAM; its neighbour below is the last page.
    g.tlbwe(0, MAS1_V | 1 << 8, 0x2000_0000, size | 0x3F, 0);
    g.tlbwe(0, MAS1_V | 1 << 8, 0x2000_1000, (size - 0x1000) | 0x3F, 0);
    assert_eq!(
        g.access(0x2000_1FFC, Access::Store),
        Ok(Hpa::new(0x0800_0000 - 4))
    );
    for (access, bit) in [
        (Access::Load, mcsr::BUS_RAERR),
        (Access::Store, mcsr::BUS_WAERR),
        (Access::Fetch, mcsr::BUS_IAERR),
    ] {
        g.jump(WINDOW + 0x6000);
        g.write_msr(msr::ME | msr::EE);
        g.write_spr(num::MCSR, 0xFFFF_FFFF);
        let before = g.tb.host.entries().count();
        let r = g.access(0x2000_0008, access);
        assert_eq!(
            r,
            Err(Outcome::Reflected {
                vector: Interrupt::MachineCheck,
                why: Reflection::OutsidePartition
            }),
            "{access:?}"
        );
        assert_eq!(g.tb.host.entries().count(), before, "no host entry made");
        assert_eq!(g.pc(), Guest::vector(1));
        assert_eq!(g.spr(slot::MCSR), mcsr::MCP | bit, "{access:?}");
        assert_eq!(g.spr(slot::MCAR), size + 8);
        assert_eq!(g.msr(), 0, "machine check: nothing kept");
    }
    // With MSR[ME] = 0 the core would checkstop: the guest is stopped.
    g.jump(WINDOW + 0x6000);
    g.write_msr(0);
    assert_eq!(
        g.access(0x2000_0000, Access::Load),
        Err(Outcome::Halt(HaltReason::Checkstop))
    );
}

#[test]
fn the_ccsr_through_mas7_is_out_of_reach() {
    let mut g = Guest::standard();
    g.install_vectors();
    g.write_msr(msr::ME);
    // The CCSR of QEMU's ppce500 at 0xF_E000_0000: a 1 MiB cache-inhibited guarded TLB1 entry,
    // as a bare-metal kernel would map it.
    g.tlbwe(
        TLB1 | 5 << 16,
        MAS1_V | MAS1_IPROT | 5 << 8,
        0xFE00_0000 | MAS2_I | MAS2_G,
        0xE000_0000 | MAS3_SR | MAS3_SW,
        0xF,
    );
    for access in [Access::Load, Access::Store] {
        g.jump(WINDOW + 0x6000);
        g.write_msr(msr::ME);
        assert!(matches!(
            g.access(0xFE00_0040, access),
            Err(Outcome::Reflected {
                vector: Interrupt::MachineCheck,
                why: Reflection::OutsidePartition
            })
        ));
        assert_eq!(g.spr(slot::MCAR), 0xE000_0040);
    }
    assert!(g.tb.host.entries().all(|e| e.mas7 == 0));
    // dcbi on it: the same machine check, no cache operation.
    g.jump(WINDOW + 0x6000);
    g.write_msr(msr::ME);
    g.set_gpr(5, 0xFE00_0000);
    assert!(matches!(
        g.exec(dcbi(0, 5)),
        Outcome::Reflected {
            vector: Interrupt::MachineCheck,
            ..
        }
    ));
}

#[test]
fn large_guest_pages_become_host_pages_inside_the_partition() {
    // 48 MiB at 48 MiB: 16 MiB aligned, not 64 MiB aligned.
    let mut g = Guest::new(0x0300_0000, 48 << 20);
    g.write_msr(msr::ME);
    g.install_vectors();
    // One 256 MiB kernel entry over all of it (and beyond).
    g.tlbwe(TLB1 | 1 << 16, MAS1_V | 9 << 8, 0xC000_0000, 0x3F, 0);
    for (ea, host, size) in [
        (0xC000_0004u32, 0x0300_0004u64, 16u64 << 20),
        (0xC100_0000, 0x0400_0000, 16 << 20),
        (0xC2FF_FFFC, 0x05FF_FFFC, 16 << 20),
    ] {
        assert_eq!(g.access(ea, Access::Store), Ok(Hpa::new(host)));
        let e = *g
            .tb
            .host
            .entries()
            .find(|e| e.epn() == ea & !0xFF_FFFF)
            .unwrap();
        assert_eq!(e.size(), size, "{ea:#x}");
        assert!(e.is_tlb1());
    }
    g.jump(WINDOW + 0x6000);
    assert!(matches!(
        g.access(0xC300_0000, Access::Load),
        Err(Outcome::Reflected {
            vector: Interrupt::MachineCheck,
            ..
        })
    ));
    // A 4 KiB TLB1 entry before it inside its range splits the blocks around it.
    g.jump(WINDOW + 0x6000);
    g.tlbwe(TLB1, MAS1_V | 1 << 8, 0xC100_0000, 0x0200_0000 | 0x3F, 0);
    assert_eq!(
        g.access(0xC100_0010, Access::Load),
        Ok(Hpa::new(0x0500_0010))
    );
    assert_eq!(
        g.access(0xC100_1000, Access::Load),
        Ok(Hpa::new(0x0400_1000))
    );
    let e = *g
        .tb
        .host
        .entries()
        .find(|e| e.epn() <= 0xC100_1000 && 0xC100_1000 < e.epn() + e.size() as u32)
        .unwrap();
    assert!(
        e.size() < 16 << 20,
        "the block around the small page shrank"
    );
}

#[test]
fn partitions_above_4_gib_use_mas7() {
    let mut g = Guest::new(0x8_0000_0000, 16 << 20);
    g.tlbwe(TLB1 | 1 << 16, MAS1_V | 7 << 8, 0xC000_0000, 0x3F, 0);
    assert_eq!(
        g.access(0xC000_1234, Access::Load),
        Ok(Hpa::new(0x8_0000_1234))
    );
    assert!(g.tb.host.entries().all(|e| e.mas7 == 8));
    assert_eq!(g.tb.vcpu.host_mas7(), 8);
    // A guest MAS7 is guest-physical: any non-zero value is outside 16 MiB of RAM.
    g.write_msr(msr::ME);
    g.install_vectors();
    g.tlbwe(TLB1 | 2 << 16, MAS1_V | 1 << 8, 0xD000_0000, 0x3F, 8);
    g.jump(WINDOW + 0x6000);
    assert!(matches!(
        g.access(0xD000_0000, Access::Load),
        Err(Outcome::Reflected {
            vector: Interrupt::MachineCheck,
            ..
        })
    ));
}

#[test]
fn tids_and_pids_are_virtualized() {
    let mut g = Guest::standard();
    // Two processes' pages at one address: TID 1 and TID 2.
    for tid in [1u32, 2] {
        g.tlbwe(
            (tid - 1) << 16,
            MAS1_V | tid << 16 | 1 << 8,
            0x1000_0000,
            tid << 20 | 0x3F,
            0,
        );
    }
    let mut sids = Vec::new();
    for tid in [1u32, 2, 1] {
        g.write_spr(num::PID0, tid);
        assert_eq!(
            g.access(0x1000_0008, Access::Load),
            Ok(Hpa::new(0x0400_0008 + (u64::from(tid) << 20)))
        );
        sids.push(g.tb.entry.unwrap().pid0);
    }
    assert_ne!(sids[0], sids[1], "each context its own shadow ID");
    assert_eq!(sids[0], sids[2], "and the same one again");
    // PID 3 has no entry: the guest's own TLB miss, with its MAS registers loaded.
    g.install_vectors();
    g.write_spr(num::PID0, 3);
    g.write_spr(num::MAS4, 1 << 8);
    g.jump(WINDOW + 0x6000);
    assert_eq!(
        g.access(0x1000_0008, Access::Store),
        Err(Outcome::Reflected {
            vector: Interrupt::DataTlbError,
            why: Reflection::GuestTlb
        })
    );
    assert_eq!(
        (g.spr(slot::DEAR), g.spr(slot::ESR)),
        (0x1000_0008, esr::ST)
    );
    assert_eq!(
        g.spr(slot::MAS1),
        MAS1_V | 3 << 16 | 1 << 8,
        "TID from PID0 (TIDSELD 0)"
    );
    assert_eq!(g.spr(slot::MAS2) & MAS2_EPN, 0x1000_0000);
}

#[test]
fn two_guests_never_share_a_shadow_id() {
    let host = vcpu_e500::HostCpu::from_registers(0x8021_0030, 0).unwrap();
    let mut pids = HostPidAllocator::new();
    let mut guests: Vec<(Vcpu, vcpu_e500::GuestRegs)> = (0..8u64)
        .map(|i| {
            let p = vcpu_e500::e500_partition(Hpa::new((i + 1) << 26), 64 << 20).unwrap();
            let v = Vcpu::new(vcpu_e500::VcpuConfig::new(p, host), 0).unwrap();
            let r = v.boot_registers(WINDOW, [0; 5]);
            (v, r)
        })
        .collect();
    let mut seen = std::collections::BTreeMap::new();
    for (i, (v, r)) in guests.iter_mut().enumerate() {
        let e = v.prepare_entry(r, 0, &mut pids).unwrap();
        for sid in [e.pid0, e.pid1] {
            assert_ne!(sid, 0);
            assert_eq!(seen.insert(sid, i), None, "shadow ID {sid} given twice");
        }
    }
}

#[test]
fn tlbivax_tlbsync_and_flash_invalidation() {
    let mut g = Guest::standard();
    g.install_vectors();
    g.tlbwe(0, MAS1_V | 1 << 8, 0x1000_0000, 0x0010_0000 | 0x3F, 0);
    g.tlbwe(
        TLB1 | 2 << 16,
        MAS1_V | 5 << 8,
        0x2000_0000,
        0x0020_0000 | 0x3F,
        0,
    );
    g.access(0x1000_0000, Access::Load).unwrap();
    g.access(0x2000_0000, Access::Load).unwrap();
    let hosted = |g: &Guest, ea: u32| {
        let e = g.tb.entry.unwrap();
        g.tb.host.lookup(ea, e.pid0, e.pid1).unwrap().is_some()
    };
    assert!(hosted(&g, 0x1000_0000) && hosted(&g, 0x2000_0000));
    // tlbivax of the TLB0 page: the guest entry and its host entry go.
    g.set_gpr(5, 0x1000_0000);
    let outcome = g.run(tlbivax(0, 5));
    if outcome == Outcome::InvalidateHost {
        let inval = *g.tb.vcpu.host_invalidation();
        g.tb.host.invalidate(&inval);
    }
    g.check();
    assert!(g.tb.vcpu.tlb().search(0x1000_0000, false, 0).is_none());
    assert!(
        !hosted(&g, 0x1000_0000),
        "no host entry matches it any more"
    );
    g.jump(WINDOW + 0x6000);
    assert!(matches!(
        g.access(0x1000_0000, Access::Load),
        Err(Outcome::Reflected {
            vector: Interrupt::DataTlbError,
            ..
        })
    ));
    g.jump(WINDOW + 0x6000);
    assert_eq!(g.run(TLBSYNC), Outcome::Resume);
    // tlbivax of all of TLB1 (EA 0xC): the IPROT boot entry stays, entry 2 goes.
    g.set_gpr(5, 0xC);
    g.run(tlbivax(0, 5));
    g.check();
    assert!(g.tb.vcpu.tlb().entry(TlbIndex::Tlb1(0)).valid());
    assert!(!g.tb.vcpu.tlb().entry(TlbIndex::Tlb1(2)).valid());
    assert!(matches!(
        g.access(0x2000_0000, Access::Load),
        Err(Outcome::Reflected {
            vector: Interrupt::DataTlbError,
            ..
        })
    ));
    // Flash invalidation of TLB0 through MMUCSR0.
    g.jump(WINDOW + 0x6000);
    for i in 0..8u32 {
        g.tlbwe(
            0,
            MAS1_V | 1 << 8,
            0x3000_0000 + (i << 12),
            (i << 12) | 0x3F,
            0,
        );
        g.access(0x3000_0000 + (i << 12), Access::Load).unwrap();
    }
    g.write_spr(num::MMUCSR0, 0x4);
    g.check();
    assert_eq!(
        g.tb.vcpu.tlb().valid_entries().count(),
        1,
        "only the IPROT entry"
    );
}

#[test]
fn dcbi_flushes_the_guests_own_line() {
    let mut g = Guest::standard();
    g.install_vectors();
    g.write_msr(msr::ME);
    g.set_gpr(5, 0x8000_1234);
    assert_eq!(
        g.run(dcbi(0, 5)),
        Outcome::Cache(CacheAction::FlushDataLine(Hpa::new(0x0400_1220)))
    );
    // Unmapped: the data TLB error a store would raise.
    g.set_gpr(5, 0x5000_0000);
    let pc = g.pc();
    assert!(matches!(
        g.exec(dcbi(0, 5)),
        Outcome::Reflected {
            vector: Interrupt::DataTlbError,
            ..
        }
    ));
    assert_eq!(
        (g.srr().0, g.spr(slot::DEAR), g.spr(slot::ESR)),
        (pc, 0x5000_0000, esr::ST)
    );
    // Read-only page: the data storage interrupt a store would raise.
    g.jump(WINDOW + 0x6000);
    g.tlbwe(0, MAS1_V | 1 << 8, 0x5000_0000, 0x3000 | MAS3_SR, 0);
    assert!(matches!(
        g.exec(dcbi(0, 5)),
        Outcome::Reflected {
            vector: Interrupt::DataStorage,
            ..
        }
    ));
}

#[test]
fn cache_locking_is_refused() {
    let mut g = Guest::standard();
    g.install_vectors();
    let outcome = g.tb.trap(Interrupt::DataStorage, esr::DLK, 0x8000_0000);
    assert_eq!(
        outcome,
        Outcome::Reflected {
            vector: Interrupt::DataStorage,
            why: Reflection::RefusedCacheLock
        }
    );
    assert_eq!(g.spr(slot::ESR), esr::DLK);
}
