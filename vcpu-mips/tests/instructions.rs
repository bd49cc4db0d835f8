//! Emulation of every trapping instruction, driven through `Vcpu::handle_trap` with real
//! instruction words; expected values from the MIPS32 PRA and the 24K manual.

mod common;
use common::*;
use vcpu_mips::exception::HaltReason;
use vcpu_mips::{HostCacheAction, Hypercall, Outcome, Reflection};

#[test]
fn hypercall_reads_v1_and_args_and_skips_the_instruction() {
    let mut g = Guest::new();
    g.regs.gpr[3] = 6;
    g.regs.gpr[2] = (-22i32) as u32;
    g.regs.gpr[4..8].copy_from_slice(&[1, 2, 3, 4]);
    let out = g.exec(0x4080_0800);
    assert_eq!(
        out,
        Outcome::Hypercall(Hypercall {
            nr: 6,
            args: [1, 2, 3, 4]
        })
    );
    assert_eq!(g.regs.pc, KERNEL_PC + 4);
    Hypercall::complete(&mut g.regs, 0);
    assert_eq!(g.regs.gpr[2], 0);
}

#[test]
fn hypercall_from_guest_user_mode_is_coprocessor_unusable() {
    let mut g = Guest::new();
    // Map the user page so the vcpu can fetch the instruction: 0x0040_0000 -> gpa 0x0020_0000.
    g.vcpu_map_user_page();
    g.write_cp0(12, 0, 0x10); // KSU = user
    g.regs.pc = 0x0040_0000;
    g.mem.0.insert(BASE + 0x0020_0000, 0x4080_0800);
    let out = g.trap(CPU, 0);
    assert_eq!(
        out,
        Outcome::Reflected {
            code: 11,
            why: Reflection::Privilege
        }
    );
    assert_eq!(g.regs.pc, 0xC000_0180);
    assert_eq!(g.vcpu.cp0().epc, 0x0040_0000);
    assert_eq!(g.vcpu.cp0().cause & 0x3000_007C, 11 << 2, "CE = 0");
}

trait MapUser {
    fn vcpu_map_user_page(&mut self);
}

impl MapUser for Guest {
    /// Install vTLB entry 0: 0x0040_0000 (ASID 0) -> gpa 0x0020_0000 / 0x0020_1000, D V.
    /// Must run in guest kernel mode.
    fn vcpu_map_user_page(&mut self) {
        let pc = self.regs.pc;
        self.regs.pc = KERNEL_PC + 0x100;
        self.tlbwi(0, 0x0040_0000, 0, (0x200 << 6) | 0x1E, (0x201 << 6) | 0x1E);
        self.regs.pc = pc;
    }
}

#[test]
fn random_write_with_nonzero_rt_is_ignored_not_a_hypercall() {
    let mut g = Guest::new();
    g.regs.gpr[2] = 5;
    assert_eq!(g.exec(mtc0(2, 1, 0)), Outcome::Resume);
    assert_eq!(g.read_cp0(1, 0), 15);
}

#[test]
fn tlbwi_tlbr_round_trip_with_global_and() {
    let mut g = Guest::new();
    g.tlbwi(
        5,
        0x1234_6000 | 0x42,
        0x0000_6000,
        (0x300 << 6) | 0x1F,
        (0x304 << 6) | 0x1E,
    );
    // Clobber the registers, read back.
    g.write_cp0(10, 0, 0);
    g.write_cp0(2, 0, 0);
    g.write_cp0(0, 0, 5);
    assert_eq!(g.exec(TLBR), Outcome::Resume);
    // VPN2 bits under the 16 KiB mask are cleared; G is the AND of both halves (0 here).
    assert_eq!(g.read_cp0(10, 0), 0x1234_0000 | 0x42);
    assert_eq!(g.read_cp0(5, 0), 0x6000);
    assert_eq!(g.read_cp0(2, 0), (0x300 << 6) | 0x1E);
    assert_eq!(g.read_cp0(3, 0), (0x304 << 6) | 0x1E);
    // Both G: tlbr returns G in both EntryLo registers.
    g.tlbwi(6, 0xD000_0000, 0, (0x10 << 6) | 0x7, (0x11 << 6) | 0x1);
    g.write_cp0(0, 0, 6);
    g.exec(TLBR);
    assert_eq!(g.read_cp0(2, 0) & 1, 1);
    assert_eq!(g.read_cp0(3, 0) & 1, 1);
}

#[test]
fn tlbp_finds_and_misses() {
    let mut g = Guest::new();
    g.tlbwi(3, 0x0040_0000 | 7, 0, (0x200 << 6) | 2, 0);
    g.write_cp0(10, 0, 0x0040_0000 | 7);
    g.exec(TLBP);
    assert_eq!(g.read_cp0(0, 0), 3);
    g.write_cp0(10, 0, 0x0040_0000 | 8);
    g.exec(TLBP);
    assert_eq!(g.read_cp0(0, 0), 0x8000_0003, "P set, index bits kept");
    // A write to Index cannot set P but keeps it... and a later hit clears it.
    g.write_cp0(10, 0, 0x0040_1000 | 7);
    g.exec(TLBP);
    assert_eq!(g.read_cp0(0, 0), 3);
}

#[test]
fn tlbwr_uses_random_between_wired_and_top() {
    let mut g = Guest::new();
    g.write_cp0(6, 0, 14);
    for expect in [15, 14, 15, 14] {
        assert_eq!(g.read_cp0(1, 0), expect);
        g.write_cp0(10, 0, 0x0010_0000 + (expect << 13));
        g.exec(TLBWR);
        g.write_cp0(0, 0, expect);
        g.exec(TLBR);
        assert_eq!(g.read_cp0(10, 0), 0x0010_0000 + (expect << 13));
    }
}

#[test]
fn eret_uses_epc_or_errorepc() {
    let mut g = Guest::new();
    g.write_cp0(14, 0, 0x0040_0100);
    g.write_cp0(12, 0, 0x0000_FF13); // IM, KSU = user, EXL, IE
    assert_eq!(g.exec(ERET), Outcome::Resume);
    assert_eq!(g.regs.pc, 0x0040_0100);
    assert_eq!(g.vcpu.cp0().status, 0x0000_FF11);
    assert_eq!(g.vcpu.real_mode(), vcpu_mips::RealMode::User);
    let mut g = Guest::new();
    g.write_cp0(30, 0, 0xC020_0000);
    g.write_cp0(14, 0, 0xC030_0000);
    g.write_cp0(12, 0, 0x6); // ERL + EXL
    g.exec(ERET);
    assert_eq!(g.regs.pc, 0xC020_0000);
    assert_eq!(g.vcpu.cp0().status, 0x2, "only ERL cleared");
}

#[test]
fn di_ei_return_old_status() {
    let mut g = Guest::new();
    g.write_cp0(12, 0, 0x0000_8001);
    assert_eq!(g.exec(0x4168_6000), Outcome::Resume); // di $t0
    assert_eq!(g.regs.gpr[8], 0x0000_8001);
    assert_eq!(g.vcpu.cp0().status, 0x0000_8000);
    g.exec(0x4169_6020); // ei $t1
    assert_eq!(g.regs.gpr[9], 0x0000_8000);
    assert_eq!(g.vcpu.cp0().status, 0x0000_8001);
}

#[test]
fn deret_and_nonexistent_cop0_ops_are_reserved_instructions() {
    for word in [DERET, 0x4200_0058, 0x4030_0000, 0x4168_6800] {
        let mut g = Guest::new();
        assert_eq!(
            g.exec(word),
            Outcome::Reflected {
                code: 10,
                why: Reflection::Guest
            },
            "{word:#x}"
        );
        assert_eq!(g.vcpu.cp0().epc, KERNEL_PC);
    }
}

#[test]
fn coprocessor_1_is_reflected_with_its_ce() {
    let mut g = Guest::new();
    g.poke(KERNEL_PC, 0xC480_0000); // lwc1
    let out = g.trap(CPU | 1 << 28, 0);
    assert_eq!(
        out,
        Outcome::Reflected {
            code: 11,
            why: Reflection::Guest
        }
    );
    assert_eq!(g.vcpu.cp0().cause & 0x3000_0000, 1 << 28);
}

#[test]
fn wait_advances_and_blocks_until_woken() {
    let mut g = Guest::new();
    assert_eq!(g.exec(WAIT), Outcome::Wait);
    assert_eq!(g.regs.pc, KERNEL_PC + 4);
    assert!(!g.vcpu.runnable(0));
    g.vcpu.wake();
    assert!(g.vcpu.runnable(0));
}

#[test]
fn rdhwr_access_rules() {
    let mut g = Guest::new();
    // Kernel mode: everything that exists.
    g.now = 1000;
    assert_eq!(g.exec_as(RI, 0x7C03_083B), Outcome::Resume); // rdhwr $v1, $1
    assert_eq!(g.regs.gpr[3], 32);
    g.exec_as(RI, 0x7C03_183B); // $3 CCRes
    assert_eq!(g.regs.gpr[3], 2);
    g.exec_as(RI, 0x7C03_103B); // $2 CC
    assert_eq!(g.regs.gpr[3], 1000);
    // UserLocal does not exist on a 24Kc.
    assert_eq!(
        g.exec_as(RI, 0x7C03_E83B),
        Outcome::Reflected {
            code: 10,
            why: Reflection::Guest
        }
    );
    // User mode needs HWREna.
    let mut g = Guest::new();
    g.write_cp0(7, 0, 0b0100);
    g.vcpu_map_user_page();
    g.write_cp0(12, 0, 0x10);
    g.regs.pc = 0x0040_0000;
    g.mem.0.insert(BASE + 0x0020_0000, 0x7C03_103B);
    assert_eq!(g.trap(RI, 0), Outcome::Resume);
    g.regs.pc = 0x0040_0000;
    g.mem.0.insert(BASE + 0x0020_0000, 0x7C03_083B);
    assert_eq!(
        g.trap(RI, 0),
        Outcome::Reflected {
            code: 10,
            why: Reflection::Guest
        }
    );
    let entry = g.enter();
    assert_eq!(entry.hwrena, 0, "CC always traps");
}

#[test]
fn a_real_reserved_instruction_is_reflected() {
    let mut g = Guest::new();
    assert_eq!(
        g.exec_as(RI, 0xFC00_0000),
        Outcome::Reflected {
            code: 10,
            why: Reflection::Guest
        }
    );
    assert_eq!(g.regs.pc, 0xC000_0180);
}

#[test]
fn cache_operations() {
    let mut g = Guest::new();
    g.regs.gpr[4] = 0xC012_3440;
    // cache Hit_Writeback_Inv_D, 4($a0): window address -> host-physical line.
    assert_eq!(
        g.exec(0xBC95_0004),
        Outcome::Cache(HostCacheAction {
            op: 0x15,
            first: BASE + 0x0012_3440,
            stride: 0,
            count: 1
        })
    );
    // Hit_Invalidate_D becomes writeback-invalidate.
    assert!(matches!(
        g.exec(0xBC91_0004),
        Outcome::Cache(HostCacheAction { op: 0x15, .. })
    ));
    // Index_Load_Tag_D zeroes TagLo/DataLo.
    g.write_cp0(28, 0, 0xFFFF);
    assert_eq!(g.exec(0xBC85_0000), Outcome::Resume);
    assert_eq!(g.read_cp0(28, 0), 0);
    // Index_Store_Data is refused.
    assert_eq!(
        g.exec(0xBC8D_0000),
        Outcome::Reflected {
            code: 10,
            why: Reflection::RefusedCacheOp
        }
    );
    // Hit op on an unmapped useg address: TLB refill exception as a load.
    let mut g = Guest::new();
    g.regs.gpr[4] = 0x0050_0000;
    assert_eq!(
        g.exec(0xBC95_0000),
        Outcome::Reflected {
            code: 2,
            why: Reflection::GuestTlb
        }
    );
    assert_eq!(g.regs.pc, 0xC000_0000);
    assert_eq!(g.vcpu.cp0().bad_vaddr, 0x0050_0000);
    // Hit op on kseg0: address error (the guest has no kseg0).
    let mut g = Guest::new();
    g.regs.gpr[4] = 0x8000_1000;
    assert_eq!(
        g.exec(0xBC95_0000),
        Outcome::Reflected {
            code: 4,
            why: Reflection::Guest
        }
    );
    // From guest user mode without CU0: Coprocessor Unusable.
    let mut g = Guest::new();
    g.vcpu_map_user_page();
    g.write_cp0(12, 0, 0x10);
    g.regs.pc = 0x0040_0000;
    g.mem.0.insert(BASE + 0x0020_0000, 0xBC95_0000);
    assert_eq!(
        g.trap(CPU, 0),
        Outcome::Reflected {
            code: 11,
            why: Reflection::Privilege
        }
    );
}

#[test]
fn cu0_lets_user_mode_use_cp0_as_on_hardware() {
    let mut g = Guest::new();
    g.vcpu_map_user_page();
    g.write_cp0(12, 0, 0x1000_0010); // CU0, user
    g.regs.pc = 0x0040_0000;
    g.mem.0.insert(BASE + 0x0020_0000, mfc0(9, 15, 0));
    assert_eq!(g.trap(CPU, 0), Outcome::Resume);
    assert_eq!(g.regs.gpr[9], 0x0001_9374);
}

#[test]
fn delay_slot_completes_the_branch_and_links() {
    let mut g = Guest::new();
    // jal 0xC0200000 ; mtc0 $ra, $14  (the slot sees the new $ra)
    g.poke(KERNEL_PC, 0x0C00_0000 | (0x0020_0000 >> 2));
    g.poke(KERNEL_PC + 4, mtc0(31, 14, 0));
    g.regs.branch_delay = true;
    assert_eq!(g.trap(CPU | 1 << 31, 0), Outcome::Resume);
    assert_eq!(g.regs.pc, 0xC020_0000);
    assert_eq!(g.regs.gpr[31], KERNEL_PC + 8);
    assert_eq!(g.vcpu.cp0().epc, KERNEL_PC + 8);
    // beq $t0, $t1 not taken with mfc0 $t0 in the slot: condition uses the old $t0.
    let mut g = Guest::new();
    g.regs.gpr[8] = 1;
    g.regs.gpr[9] = 1;
    g.poke(KERNEL_PC, 0x1109_0010);
    g.poke(KERNEL_PC + 4, mfc0(8, 15, 0));
    g.regs.branch_delay = true;
    g.trap(CPU | 1 << 31, 0);
    assert_eq!(g.regs.pc, KERNEL_PC + 4 + 0x40, "taken with the old value");
    assert_eq!(g.regs.gpr[8], 0x0001_9374);
}

#[test]
fn fault_in_a_delay_slot_reports_the_branch_and_undoes_the_link() {
    let mut g = Guest::new();
    g.vcpu_map_user_page();
    g.write_cp0(12, 0, 0x10); // user
    g.regs.gpr[31] = 0x1111;
    g.regs.gpr[25] = 0x0040_0800;
    // jalr $t9 ; mtc0 $zero, $12 (privileged in user mode)
    g.regs.pc = 0x0040_0000;
    g.mem.0.insert(BASE + 0x0020_0000, 0x0320_F809);
    g.mem.0.insert(BASE + 0x0020_0004, mtc0(0, 12, 0));
    g.regs.branch_delay = true;
    assert_eq!(
        g.trap(CPU | 1 << 31, 0),
        Outcome::Reflected {
            code: 11,
            why: Reflection::Privilege
        }
    );
    assert_eq!(g.regs.gpr[31], 0x1111, "link undone");
    assert_eq!(g.vcpu.cp0().epc, 0x0040_0000);
    assert_ne!(g.vcpu.cp0().cause & (1 << 31), 0, "BD");
}

#[test]
fn eret_in_a_delay_slot_is_refused() {
    let mut g = Guest::new();
    g.poke(KERNEL_PC, 0x1000_0004);
    g.poke(KERNEL_PC + 4, ERET);
    g.regs.branch_delay = true;
    assert_eq!(
        g.trap(CPU | 1 << 31, 0),
        Outcome::Reflected {
            code: 10,
            why: Reflection::Guest
        }
    );
}

#[test]
fn exception_with_bev_or_vector_outside_ram_halts() {
    let mut g = Guest::new();
    g.write_cp0(12, 0, 1 << 22);
    assert_eq!(
        g.exec(DERET),
        Outcome::Halt(HaltReason::ExceptionWithBev { code: 10 })
    );
    let mut g = Guest::new();
    g.write_cp0(15, 1, 0x8100_0000);
    assert_eq!(
        g.exec(DERET),
        Outcome::Halt(HaltReason::VectorOutsideRam {
            vector: 0xC100_0180
        })
    );
}

#[test]
fn host_exceptions_are_not_the_guests() {
    let mut g = Guest::new();
    for code in [0u32, 23, 24, 30, 14, 31] {
        assert_eq!(
            g.trap(code << 2, 0),
            Outcome::HostException { code: code as u8 }
        );
    }
}

#[test]
fn guest_exceptions_are_reflected_verbatim() {
    for (code, badv) in [
        (8u32, None),
        (9, None),
        (12, None),
        (13, None),
        (4, Some(0x8000_0000u32)),
        (5, Some(3)),
    ] {
        let mut g = Guest::new();
        let out = g.trap(code << 2, badv.unwrap_or(0));
        assert!(matches!(out, Outcome::Reflected { code: c, .. } if u32::from(c) == code));
        assert_eq!(g.vcpu.cp0().epc, KERNEL_PC);
        assert_eq!((g.vcpu.cp0().cause >> 2) & 0x1F, code);
        if let Some(v) = badv {
            assert_eq!(g.vcpu.cp0().bad_vaddr, v);
        }
    }
}
