//! A MetaROUTER Linux kernel's entry code (`85xx_entry_mapping.S`, `head_85xx.S`), its
//! privileged instructions in order, on the boot state the model gives: the contract of
//! `../shared/design/powerpc-guest.md` section 2. Then the kernel's own software TLB miss
//! (`finish_tlb_load`) for a user page.

mod common;

use common::*;
use vcpu_e500::exception::Interrupt;
use vcpu_e500::shadow::Access;
use vcpu_e500::spr::{mas::*, msr, num};
use vcpu_e500::tlb::TlbIndex;
use vcpu_e500::{Hpa, Outcome, Reflection};

const MSR_KERNEL: u32 = msr::ME | msr::CE;

/// `mfspr`, as the kernel reads an SPR.
fn mf(g: &mut Guest, spr: u16) -> u32 {
    g.read_spr(spr)
}

#[test]
fn entry_mapping_sequence() {
    let mut g = Guest::standard();
    let dtb = g.gpr(3);
    assert_eq!((g.pc(), g.msr()), (WINDOW, 0));
    assert_eq!(g.gpr(7), 64 << 20, "r7: the size of the entry mapping");

    // 1. Find the entry we execute in: tlbsx on the PC with SPID = PID0, SAS = MSR[IS].
    let pid0 = mf(&mut g, num::PID0);
    g.write_spr(num::MAS6, pid0 << 16);
    g.set_gpr(6, g.pc());
    g.run(tlbsx(0, 6));
    let mas1 = mf(&mut g, num::MAS1);
    assert_ne!(mas1 & MAS1_V, 0, "tlbsx must hit at entry");
    let mas0 = mf(&mut g, num::MAS0);
    assert_ne!(mas0 & MAS0_TLBSEL1, 0, "a TLB1 entry");
    let esel = (mas0 >> 16) & 0xF;
    g.write_spr(num::MAS1, mas1 | MAS1_IPROT);
    g.run(TLBWE);

    // 2. Invalidate every other TLB1 entry, then TLB0 and TLB1 with tlbivax.
    let entries = mf(&mut g, num::TLB1CFG) & 0xFFF;
    assert_eq!(entries, 16);
    for i in 0..entries {
        g.write_spr(num::MAS0, MAS0_TLBSEL1 | i << 16);
        g.run(TLBRE);
        let m = mf(&mut g, num::MAS1) & !(MAS1_V | MAS1_IPROT);
        if i != esel {
            g.write_spr(num::MAS1, m);
            g.run(TLBWE);
        }
    }
    for ea in [0x04, 0x0C] {
        g.set_gpr(6, ea);
        g.run(tlbivax(0, 6));
        g.run(TLBSYNC);
    }
    assert!(
        g.tb.vcpu.tlb().entry(TlbIndex::Tlb1(esel as u8)).valid(),
        "IPROT kept it"
    );

    // 3. A 4 KiB temp mapping in the other address space at EPN 0, and rfi into it.
    let temp = (esel & 1) + 1;
    g.write_spr(num::MAS0, MAS0_TLBSEL1 | esel << 16);
    g.run(TLBRE);
    let tsize = (mf(&mut g, num::MAS1) >> 8) & 0xF;
    let page_mask = !((1u32 << (2 * tsize + 10)) - 1);
    let mas3 = mf(&mut g, num::MAS3);
    let pc = g.pc();
    let rpn = (mas3 & page_mask) | (pc & !page_mask & !0xFFF);
    let mas2 = mf(&mut g, num::MAS2);
    g.write_spr(num::MAS0, MAS0_TLBSEL1 | temp << 16);
    g.write_spr(num::MAS1, MAS1_V | MAS1_IPROT | MAS1_TS | 1 << 8);
    g.write_spr(num::MAS2, mas2 & 0xFFF);
    g.write_spr(num::MAS3, (rpn & !0xFFF) | (mas3 & 0xFFF));
    g.run(TLBWE);
    let target = (g.pc() & 0xFFF) + 0x40;
    g.write_spr(num::SRR0, target);
    g.write_spr(num::SRR1, msr::IS | msr::DS);
    assert_eq!(g.exec(RFI), Outcome::Resume);
    assert_eq!((g.pc(), g.msr()), (target, msr::IS | msr::DS));

    // 4. Clear the PIDs and MAS6 (executing from the temp mapping, address space 1).
    for spr in [num::MAS6, num::PID0, num::PID1, num::PID2] {
        g.write_spr(spr, 0);
    }
    let ran_at = g.access(g.pc(), Access::Fetch).unwrap();
    assert_eq!(ran_at.get() & !0xFFF, 0x0400_0000 + u64::from(rpn & !0xFFF));

    // 5. Invalidate the entry it started in.
    g.write_spr(num::MAS0, MAS0_TLBSEL1 | esel << 16);
    g.run(TLBRE);
    let m = mf(&mut g, num::MAS1);
    g.write_spr(num::MAS1, m & !MAS1_IPROT);
    g.run(TLBWE);
    g.set_gpr(9, 0x0C);
    g.run(tlbivax(0, 9));
    g.run(TLBSYNC);
    assert!(!g.tb.vcpu.tlb().entry(TlbIndex::Tlb1(esel as u8)).valid());

    // 6. TLB1[0] = 0x8000_0000 -> guest-physical 0, 64 MiB, IPROT, M.
    g.write_spr(num::MAS0, MAS0_TLBSEL1);
    g.write_spr(num::MAS1, MAS1_V | MAS1_IPROT | 8 << 8);
    g.write_spr(num::MAS2, WINDOW | MAS2_M);
    g.write_spr(num::MAS3, MAS3_SX | MAS3_SW | MAS3_SR);
    g.run(TLBWE);

    // 7. rfi into it with MSR_KERNEL.
    let kernel_pc = WINDOW + (pc & 0xFFF) + 0x80;
    g.write_spr(num::SRR0, kernel_pc);
    g.write_spr(num::SRR1, MSR_KERNEL);
    assert_eq!(g.exec(RFI), Outcome::Resume);
    assert_eq!((g.pc(), g.msr()), (kernel_pc, MSR_KERNEL));

    // 8. Clear the temp mapping.
    g.write_spr(num::MAS0, MAS0_TLBSEL1 | temp << 16);
    g.run(TLBRE);
    let m = mf(&mut g, num::MAS1);
    g.write_spr(num::MAS1, m & !MAS1_IPROT);
    g.run(TLBWE);
    g.set_gpr(9, 0x0C);
    g.run(tlbivax(0, 9));
    g.run(TLBSYNC);
    let valid: Vec<_> = g.tb.vcpu.tlb().valid_entries().map(|(i, _)| i).collect();
    assert_eq!(valid, vec![TlbIndex::Tlb1(0)]);

    // The kernel runs from its own mapping; the device tree r3 named is readable through it.
    assert_eq!(
        g.access(dtb, Access::Load),
        Ok(Hpa::new(0x0400_0000 + u64::from(dtb - WINDOW)))
    );
    assert_eq!(
        g.access(WINDOW + 0x10_0000, Access::Fetch),
        Ok(Hpa::new(0x0410_0000))
    );
    // One 64 MiB host page for all of it.
    let e = *g.tb.host.entries().find(|e| e.epn() == WINDOW).unwrap();
    assert_eq!((e.size(), e.host_base()), (64 << 20, 0x0400_0000));
}

/// A user page the kernel maps on a data TLB error, as `finish_tlb_load` does: the guest's
/// handler runs in supervisor state at IVOR13 with MAS0..MAS2 and MAS6 loaded from MAS4; it
/// writes MAS2/MAS3, `tlbwe`s, `rfi`s; the retried access maps and the user runs on.
#[test]
fn guest_tlb_miss_handled_by_the_guest() {
    let mut g = Guest::standard();
    g.install_vectors();
    // MAS4 as Linux sets it: TLBSELD 0, TIDSELD PID0, TSIZED 4 KiB, M.
    g.write_spr(num::MAS4, 1 << 8 | MAS2_M);
    g.write_spr(num::PID0, 7);
    // A user code page (TLB0, TID 7) and a return into user state.
    g.tlbwe(
        0,
        MAS1_V | 7 << 16 | 1 << 8,
        0x1000_0000,
        0x0050_0000 | MAS3_UX | MAS3_UR,
        0,
    );
    g.write_spr(num::SRR0, 0x1000_0000);
    g.write_spr(num::SRR1, msr::PR | msr::EE | MSR_KERNEL);
    g.exec(RFI);
    assert_eq!(g.pc(), 0x1000_0000);
    // The user stores to a page the guest TLB does not hold.
    let miss = g.access(0x2000_0ABC, Access::Store);
    assert_eq!(
        miss,
        Err(Outcome::Reflected {
            vector: Interrupt::DataTlbError,
            why: Reflection::GuestTlb
        })
    );
    assert_eq!(g.pc(), Guest::vector(13));
    assert_eq!(
        g.msr(),
        MSR_KERNEL,
        "the handler runs in supervisor state, EE off"
    );
    assert_eq!(mf(&mut g, num::DEAR), 0x2000_0ABC);
    assert_eq!(mf(&mut g, num::MAS1), MAS1_V | 7 << 16 | 1 << 8);
    assert_eq!(mf(&mut g, num::MAS2), 0x2000_0000 | MAS2_M);
    assert_eq!(mf(&mut g, num::MAS0) & MAS0_TLBSEL1, 0);
    // finish_tlb_load: MAS2 (EPN | WIMGE), MAS3 (RPN | permissions), MAS7, tlbwe, rfi.
    let mas2 = mf(&mut g, num::MAS2);
    g.write_spr(num::MAS2, mas2);
    g.write_spr(
        num::MAS3,
        0x0060_0000 | MAS3_UR | MAS3_UW | MAS3_SR | MAS3_SW,
    );
    g.write_spr(num::MAS7, 0);
    g.run(TLBWE);
    let (srr0, srr1) = g.srr();
    assert_eq!((srr0, srr1 & msr::PR), (0x1000_0000, msr::PR));
    assert_eq!(g.exec(RFI), Outcome::Resume);
    assert_eq!(
        (g.pc(), g.msr()),
        (0x1000_0000, msr::PR | msr::EE | MSR_KERNEL)
    );
    // The retried store finds the page the guest just wrote (pre-filled in the refill cache:
    // no trap to the model's slow path).
    let entry = g.tb.entry.unwrap();
    assert!(g
        .tb
        .vcpu
        .refill_cache()
        .probe(0x2000_0ABC, entry.pid0, entry.pid1)
        .is_some());
    assert_eq!(
        g.access(0x2000_0ABC, Access::Store),
        Ok(Hpa::new(0x0460_0ABC))
    );
}
