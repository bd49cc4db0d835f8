//! Every class of trapping instruction, as real instruction words through `handle_trap` and
//! `prepare_entry` on a simulated host: MSR instructions, returns from interrupt, the
//! supervisor SPRs, the hypercall, and what a guest user may not do.

mod common;

use common::*;
use vcpu_e500::exception::Interrupt;
use vcpu_e500::spr::{esr, msr, num, tcr, tsr};
use vcpu_e500::sprs::slot;
use vcpu_e500::{Hypercall, Outcome, Reflection};

#[test]
fn msr_instructions() {
    let mut g = Guest::standard();
    assert_eq!(g.msr(), 0, "boot: supervisor, interrupts off");
    g.write_msr(!msr::WE & !msr::PR & !msr::IS & !msr::DS);
    assert_eq!(
        g.msr(),
        msr::IMPLEMENTED & !(msr::WE | msr::PR | msr::IS | msr::DS)
    );
    g.run(mfmsr(9));
    assert_eq!(g.gpr(9), g.msr(), "mfmsr reads the virtual MSR");
    g.run(wrteei(false));
    assert_eq!(g.msr() & msr::EE, 0);
    g.run(wrteei(true));
    assert_ne!(g.msr() & msr::EE, 0);
    g.set_gpr(6, 0);
    g.run(wrtee(6));
    assert_eq!(g.msr() & msr::EE, 0);
    g.set_gpr(6, msr::EE | msr::PR);
    g.run(wrtee(6));
    assert_eq!(
        g.msr() & (msr::EE | msr::PR),
        msr::EE,
        "wrtee takes only EE"
    );
}

#[test]
fn mtmsr_we_dozes_until_an_interrupt() {
    let mut g = Guest::standard();
    g.install_vectors();
    g.write_spr(num::DEC, 1000);
    g.write_spr(num::TCR, tcr::DIE);
    let outcome = g.write_msr(msr::EE | msr::ME | msr::WE);
    assert_eq!(outcome, Outcome::Wait);
    assert!(g.tb.vcpu.is_waiting());
    assert!(!g.tb.vcpu.runnable(g.tb.now + 10));
    assert_eq!(g.tb.vcpu.timer_deadline(g.tb.now), Some(1000));
    g.tb.now += 1001;
    assert!(g.tb.vcpu.runnable(g.tb.now));
    let resume = g.pc();
    g.tb.enter();
    assert!(g.tb.entry.unwrap().interrupt_delivered);
    assert_eq!(g.pc(), Guest::vector(10));
    assert_eq!(g.srr(), (resume, msr::EE | msr::ME | msr::WE));
    assert_eq!(g.msr(), msr::ME, "WE and EE cleared by the interrupt");
}

#[test]
fn returns_from_interrupt_restore_the_saved_pair() {
    let mut g = Guest::standard();
    let cases = [
        (RFI, num::SRR0, num::SRR1),
        (RFCI, num::CSRR0, num::CSRR1),
        (RFMCI, num::MCSRR0, num::MCSRR1),
    ];
    for (word, save0, save1) in cases {
        g.jump(WINDOW + 0x2000);
        g.write_spr(save0, WINDOW + 0x3003);
        g.write_spr(save1, msr::ME | msr::CE | 0x0000_00C0);
        assert_eq!(g.exec(word), Outcome::Resume);
        assert_eq!(
            g.pc(),
            WINDOW + 0x3000,
            "{word:#x}: low bits of the target dropped"
        );
        assert_eq!(
            g.msr(),
            msr::ME | msr::CE,
            "{word:#x}: only implemented bits"
        );
    }
}

/// QEMU's e500v2 does not decode `rfmci` nor `rfdi`: it raises the illegal-instruction Program
/// interrupt (ESR\[PIL\]) where the core raises the privileged one. They are emulated all the
/// same; any other illegal instruction stays the guest's own.
#[test]
fn returns_from_interrupt_the_host_lacks_are_emulated() {
    let mut g = Guest::standard();
    g.install_vectors();
    for (word, save0, save1) in [
        (RFMCI, num::MCSRR0, num::MCSRR1),
        (RFDI, num::DSRR0, num::DSRR1),
    ] {
        g.jump(WINDOW + 0x2000);
        g.write_spr(save0, WINDOW + 0x3000);
        g.write_spr(save1, msr::ME);
        assert_eq!(
            g.exec_with_esr(word, esr::PIL),
            Outcome::Resume,
            "{word:#x}"
        );
        assert_eq!(g.pc(), WINDOW + 0x3000, "{word:#x}");
        assert_eq!(g.msr(), msr::ME, "{word:#x}");
    }
    g.jump(WINDOW + 0x2000);
    assert_eq!(
        g.exec_with_esr(0, esr::PIL),
        Outcome::Reflected {
            vector: Interrupt::Program,
            why: Reflection::Guest
        }
    );
    assert_eq!(g.spr(slot::ESR), esr::PIL);
}

#[test]
fn rfi_with_crafted_srr1_only_changes_the_virtual_msr() {
    let mut g = Guest::standard();
    // Map a user page so that the guest can run in user state.
    g.tlbwe(
        0x1000_0000 | 1 << 16,
        0x8000_0000 | 5 << 8,
        0x1000_0000,
        0x0010_0000 | 0x3F,
        0,
    );
    g.write_spr(num::SRR0, 0x1000_0000);
    g.write_spr(num::SRR1, !msr::WE & !msr::IS & !msr::DS);
    assert_eq!(g.exec(RFI), Outcome::Resume);
    assert_ne!(g.msr() & msr::PR, 0);
    let entry = g.tb.entry.unwrap();
    // The host entries the guest runs under are still user-only, address space 1, with the
    // guest's own shadow ID (checked by every step); its code runs from its own RAM.
    let hpa = g
        .access(0x1000_0000, vcpu_e500::shadow::Access::Fetch)
        .unwrap();
    assert_eq!(hpa.get(), 0x0400_0000 + 0x0010_0000);
    let host =
        g.tb.host
            .lookup(0x1000_0000, entry.pid0, entry.pid1)
            .unwrap()
            .unwrap();
    assert_eq!(host.mas1 & 0x1000, 0x1000, "address space 1");
    assert_eq!(host.mas3 & 0x15, 0, "no supervisor permission");
}

#[test]
fn supervisor_sprs_read_back_with_their_masks() {
    let mut g = Guest::standard();
    let v = 0xA5A5_5A5F;
    let plain = [
        num::SRR0,
        num::SRR1,
        num::CSRR0,
        num::CSRR1,
        num::DSRR0,
        num::DSRR1,
        num::MCSRR0,
        num::MCSRR1,
        num::DEAR,
        num::ESR,
        num::SPRG0,
        num::SPRG0 + 1,
        num::SPRG0 + 2,
        num::SPRG0 + 3,
        num::SPRG0 + 4,
        num::SPRG0 + 5,
        num::SPRG0 + 6,
        num::SPRG7,
        num::HID0,
        num::HID1,
        num::DBCR0,
        num::DBCR1,
        num::DBCR2,
        num::DAC1,
        num::DAC2,
        num::DECAR,
    ];
    for spr in plain {
        g.write_spr(spr, v);
        assert_eq!(g.read_spr(spr), v, "SPR {spr}");
    }
    let masked = [
        (num::IVPR, 0xA5A5_0000),
        (num::IVOR0, 0x5A50),
        (num::IVOR15, 0x5A50),
        (num::IVOR32, 0x5A50),
        (num::IVOR35, 0x5A50),
        (num::PID0, 0x5F),
        (num::PID1, 0x5F),
        (num::PID2, 0x5F),
        (num::IAC1, 0xA5A5_5A5C),
        (num::L1CSR0, v & 0x0001_8001),
        (num::L1CSR1, v & 0x0001_8001),
        (num::MAS4, v & 0x1003_0F7F),
        (num::MAS6, v & 0x00FF_0001),
        (num::MAS7, 0xF),
    ];
    for (spr, expect) in masked {
        g.write_spr(spr, v);
        assert_eq!(g.read_spr(spr), expect, "SPR {spr}");
    }
    // SPRG3..7 are what the arch copies into the real registers the guest reads natively.
    assert_eq!(g.tb.vcpu.user_readable_sprgs(), [v; 5]);
}

#[test]
fn identity_and_configuration_sprs_are_constants() {
    let mut g = Guest::standard();
    for spr in [
        num::PVR,
        num::SVR,
        num::PIR,
        num::TLB0CFG,
        num::TLB1CFG,
        num::MMUCFG,
    ] {
        let before = g.read_spr(spr);
        g.write_spr(spr, 0x1234_5678);
        assert_eq!(g.read_spr(spr), before, "SPR {spr} ignores writes");
    }
    assert_eq!(g.read_spr(num::PVR), 0x8021_0030, "the host's PVR");
    assert_eq!(g.read_spr(num::SVR), 0x8039_0010, "the host's SVR");
    assert_eq!(g.read_spr(num::PIR), 0);
    // TLB0: 512 entries, 4 ways; TLB1: 16 entries, IPROT, 4 KiB..4 GiB.
    let tlb0cfg = g.read_spr(num::TLB0CFG);
    assert_eq!((tlb0cfg & 0xFFF, tlb0cfg >> 24), (512, 4));
    let tlb1cfg = g.read_spr(num::TLB1CFG);
    assert_eq!(tlb1cfg & 0xFFF, 16);
    assert_ne!(tlb1cfg & 0x8000, 0, "IPROT");
    assert_eq!(
        ((tlb1cfg >> 20) & 0xF, (tlb1cfg >> 16) & 0xF),
        (1, 11),
        "MINSIZE, MAXSIZE"
    );
}

#[test]
fn write_one_to_clear_and_side_effect_sprs() {
    let mut g = Guest::standard();
    // Time-base writes are ignored (the guest shares the host's time base); reading the
    // write-only numbers is illegal.
    assert_eq!(g.write_spr(num::TBL_WRITE, 5), Outcome::Resume);
    assert_eq!(g.write_spr(num::TBU_WRITE, 5), Outcome::Resume);
    g.install_vectors();
    let pc = g.pc();
    g.set_gpr(4, 7);
    assert!(matches!(
        g.exec(mfspr(4, num::TBL_WRITE)),
        Outcome::Reflected {
            vector: Interrupt::Program,
            why: Reflection::Guest
        }
    ));
    assert_eq!(g.gpr(4), 7);
    assert_eq!(
        (g.pc(), g.spr(slot::SRR0), g.spr(slot::ESR)),
        (Guest::vector(6), pc, esr::PIL)
    );
    g.jump(WINDOW + 0x8000);
    // BUCSR[BBFI] asks the host to flush its branch buffer and reads back 0.
    assert_eq!(
        g.write_spr(num::BUCSR, 0x0000_0201),
        Outcome::FlushBranchBuffer
    );
    assert_eq!(g.read_spr(num::BUCSR), 0x0000_0001);
    // MMUCSR0 reads 0 (flash invalidation completes at once).
    g.write_spr(num::MMUCSR0, 0x6);
    assert_eq!(g.read_spr(num::MMUCSR0), 0);
    // TSR: write one to clear.
    g.write_spr(num::DEC, 1);
    g.write_spr(num::TCR, 0);
    g.tb.now += 10;
    assert_ne!(g.read_spr(num::TSR) & tsr::DIS, 0);
    g.write_spr(num::TSR, tsr::FIS);
    assert_ne!(
        g.read_spr(num::TSR) & tsr::DIS,
        0,
        "writing 0 to DIS keeps it"
    );
    g.write_spr(num::TSR, tsr::DIS);
    assert_eq!(g.read_spr(num::TSR) & tsr::DIS, 0);
    // MCSR and DBSR: stored by the model, cleared by writing ones.
    g.write_spr(num::DBSR, 0xFFFF_FFFF);
    assert_eq!(g.read_spr(num::DBSR), 0);
    // MCAR is read-only.
    g.write_spr(num::MCAR, 0x1234);
    assert_eq!(g.read_spr(num::MCAR), 0);
}

#[test]
fn unknown_supervisor_spr_is_the_guests_illegal_instruction() {
    let mut g = Guest::standard();
    g.install_vectors();
    for spr in [1000u16, 1014, 1017, 416] {
        g.jump(WINDOW + 0x8000);
        let pc = g.pc();
        let outcome = g.exec(mtspr(spr, 3));
        assert!(
            matches!(
                outcome,
                Outcome::Reflected {
                    vector: Interrupt::Program,
                    ..
                }
            ),
            "SPR {spr}: {outcome:?}"
        );
        assert_eq!(
            (g.pc(), g.srr().0, g.spr(slot::ESR)),
            (Guest::vector(6), pc, esr::PIL)
        );
    }
    // Words the e500v2 never raises PPR for (isync, msync, icbi, dcbz, mfdcr): if one comes
    // with PPR anyway, it is illegal, not executed.
    for word in [
        0x4C00_012C,
        0x7C00_04AC,
        0x7C00_1FAC,
        0x7C00_1FEC,
        0x7C60_0286,
    ] {
        g.jump(WINDOW + 0x8000);
        assert!(matches!(
            g.exec(word),
            Outcome::Reflected {
                vector: Interrupt::Program,
                ..
            }
        ));
        assert_eq!(g.spr(slot::ESR), esr::PIL, "{word:#x}");
    }
}

#[test]
fn hypercall() {
    let mut g = Guest::standard();
    g.set_gpr(0, 16);
    for (r, v) in [(3, 11), (4, 22), (5, 33), (6, 44)] {
        g.set_gpr(r, v);
    }
    g.tb.regs.cr = 0x1000_0000;
    let pc = g.pc();
    let trap = vcpu_e500::Trap {
        vector: Interrupt::Program,
        esr: esr::PPR,
        dear: 0,
        now: g.tb.now,
    };
    let hpa = g.access(pc, vcpu_e500::shadow::Access::Fetch).unwrap();
    g.tb.mem.words.insert(hpa.get(), HYPERCALL);
    let outcome =
        g.tb.vcpu
            .handle_trap(&mut g.tb.regs, &trap, &g.tb.mem, &g.tb.pids);
    assert_eq!(
        outcome,
        Outcome::Hypercall(Hypercall {
            nr: 16,
            args: [11, 22, 33, 44]
        })
    );
    assert_eq!(g.pc(), pc + 4);
    Hypercall::complete(&mut g.tb.regs, -22);
    assert_eq!(
        (g.gpr(3), g.tb.regs.cr),
        (-22i32 as u32, 0),
        "result in r3, CR0[SO] cleared"
    );
    // `mtspr 1023, r3` is an SVR write (ignored), not the hypercall.
    assert_eq!(g.run(mtspr(num::SVR, 3)), Outcome::Resume);
}

/// A guest in its own user state (virtual MSR\[PR\] = 1) executing privileged instructions:
/// each is the guest's privileged-instruction Program interrupt (ESR\[PPR\]), reported as a
/// privilege probe, and changes nothing.
#[test]
fn privileged_instructions_in_guest_user_state_reflect_a_program_interrupt() {
    let mut g = Guest::standard();
    g.install_vectors();
    // A user page at 0x1000_0000 (TLB1 entry 1, 1 MiB, user read/write/execute).
    g.tlbwe(0x1001_0000, 0x8000_0500, 0x1000_0000, 0x0010_003F, 0);
    let words = [
        mfmsr(3),
        mtmsr(3),
        wrtee(3),
        wrteei(true),
        RFI,
        RFCI,
        RFMCI,
        mfspr(3, num::SRR0),
        mtspr(num::IVPR, 3),
        mtspr(num::IVOR0 + 6, 3),
        mtspr(num::TCR, 3),
        mtspr(num::HID0, 3),
        mtspr(num::L1CSR0, 3),
        mtspr(num::PID0, 3),
        mtspr(num::MMUCSR0, 3),
        TLBWE,
        TLBRE,
        tlbsx(0, 3),
        tlbivax(0, 3),
        TLBSYNC,
        dcbi(0, 3),
        HYPERCALL,
    ];
    for word in words {
        g.write_spr(num::SRR0, 0x1000_0100);
        g.write_spr(num::SRR1, msr::PR | msr::EE | msr::ME);
        assert_eq!(g.exec(RFI), Outcome::Resume);
        assert_eq!(
            (g.pc(), g.msr()),
            (0x1000_0100, msr::PR | msr::EE | msr::ME)
        );
        let sprs = *g.tb.vcpu.sprs();
        let tlb_entries: Vec<_> = g.tb.vcpu.tlb().valid_entries().collect();
        g.set_gpr(3, 4); // tlbivax of all TLB0 entries, IVPR 4...
        let outcome = g.exec(word);
        assert_eq!(
            outcome,
            Outcome::Reflected {
                vector: Interrupt::Program,
                why: Reflection::Privilege
            },
            "{word:#010x}"
        );
        assert_eq!(g.pc(), Guest::vector(6));
        assert_eq!(g.srr(), (0x1000_0100, msr::PR | msr::EE | msr::ME));
        assert_eq!(g.spr(slot::ESR), esr::PPR);
        assert_eq!(g.msr(), msr::ME, "the handler runs in supervisor state");
        // Nothing else changed: SPRs (but the interrupt's own) and the TLB.
        for s in 0..slot::COUNT {
            if ![slot::MSR, slot::SRR0, slot::SRR1, slot::ESR].contains(&s) {
                assert_eq!(g.spr(s), sprs.get(s), "{word:#010x}: slot {s}");
            }
        }
        let after: Vec<_> = g.tb.vcpu.tlb().valid_entries().collect();
        assert_eq!(after, tlb_entries, "{word:#010x}");
        g.jump(WINDOW + 0x9000);
    }
}

/// Exceptions the hardware raises in the guest are reflected through the guest's own IVPR and
/// IVORs with SRR0/SRR1/ESR/DEAR as an e500v2 sets them.
#[test]
fn guest_exceptions_are_reflected_through_its_ivors() {
    let mut g = Guest::standard();
    g.install_vectors();
    g.write_msr(msr::EE | msr::ME | msr::CE);
    let cases = [
        (Interrupt::SystemCall, 0, 0),
        (Interrupt::Program, esr::PUO, 0),
        (Interrupt::Program, esr::PTR, 0),
        (Interrupt::Alignment, esr::ST, 0x8000_1235),
        (Interrupt::SpeUnavailable, esr::SPV, 0),
        (Interrupt::FpUnavailable, 0, 0),
        (Interrupt::DataStorage, esr::BO, 0x8000_2000),
    ];
    for (vector, e, dear) in cases {
        g.jump(WINDOW + 0x4000);
        let old_esr = g.spr(slot::ESR);
        let outcome = g.tb.trap(vector, e, dear);
        g.check();
        assert_eq!(
            outcome,
            Outcome::Reflected {
                vector,
                why: Reflection::Guest
            }
        );
        assert_eq!(
            g.pc(),
            Guest::vector(u32::from(vector.ivor())),
            "{vector:?}"
        );
        assert_eq!(g.srr(), (WINDOW + 0x4000, msr::EE | msr::ME | msr::CE));
        assert_eq!(g.msr(), msr::ME | msr::CE, "EE cleared");
        let sets_esr = !matches!(vector, Interrupt::SystemCall | Interrupt::FpUnavailable);
        assert_eq!(
            g.spr(slot::ESR),
            if sets_esr { e } else { old_esr },
            "{vector:?}"
        );
        if dear != 0 {
            assert_eq!(g.spr(slot::DEAR), dear);
        }
        g.jump(WINDOW + 0x5000);
        g.write_msr(msr::EE | msr::ME | msr::CE);
    }
    // The host's own interrupts are not the guest's.
    for vector in [
        Interrupt::ExternalInput,
        Interrupt::Decrementer,
        Interrupt::MachineCheck,
    ] {
        assert_eq!(g.tb.trap(vector, 0, 0), Outcome::HostException { vector });
    }
}

/// What a hostile guest kernel writes to the registers that would take the real core away from
/// the hypervisor (its vectors, timers, power management, caches, debug): each write lands in
/// the guest's virtual copy and asks the host for nothing, and the guest's interrupts still go
/// through its own vectors only.
#[test]
fn supervisor_writes_to_host_registers_stay_virtual() {
    let mut g = Guest::standard();
    g.install_vectors();
    let host_before: Vec<_> = g.tb.host.entries().copied().collect();
    let writes = [
        (num::IVPR, 0x0000_0000),
        (num::IVOR0 + 4, 0xFFF0),
        (num::IVOR0 + 10, 0x0),
        (num::TCR, tcr::WIE | tcr::DIE | tcr::FIE | 0x3000_0000),
        (num::HID0, 0x00E0_4000), // DOZE, NAP, SLEEP, TBEN
        (num::HID1, 0xFFFF_FFFF),
        (num::L1CSR0, 0x0000_0102 | 0x1), // flash invalidate, lock flash clear, enable
        (num::L1CSR1, 0x0000_0002),
        (num::DBCR0, 0xFFFF_FFFF),
        (num::TBL_WRITE, 0),
        (num::TBU_WRITE, 0),
        (num::PVR, 0),
    ];
    for (spr, value) in writes {
        assert_eq!(g.write_spr(spr, value), Outcome::Resume, "SPR {spr}");
    }
    let host_after: Vec<_> = g.tb.host.entries().copied().collect();
    assert_eq!(host_before, host_after, "no host TLB work");
    // The guest's own vectors moved; its next interrupt goes there, inside its RAM window
    // (IVPR 0: the vector is a guest effective address, translated through its own TLB).
    g.write_msr(msr::EE | msr::ME);
    g.tb.vcpu.set_external_input(true);
    g.tb.enter();
    assert_eq!(g.pc(), 0xFFF0, "IVPR 0 | IVOR4");
    g.check();
    // Fetching there misses in the guest TLB: its own instruction TLB error, whose vector
    // (IVPR 0 | IVOR14 = 0xE00) is unmapped as well: the guest is stopped, not looped.
    let r = g.access(0xFFF0, vcpu_e500::shadow::Access::Fetch);
    assert!(matches!(
        r,
        Err(Outcome::Reflected {
            vector: Interrupt::InstructionTlbError,
            ..
        })
    ));
    let r = g.access(g.pc(), vcpu_e500::shadow::Access::Fetch);
    assert_eq!(
        r,
        Err(Outcome::Halt(vcpu_e500::HaltReason::VectorUnmapped {
            vector: 0xE00
        }))
    );
}
