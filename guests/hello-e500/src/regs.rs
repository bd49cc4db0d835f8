//! `regs`: an emulated `mtspr`, `mfspr` and `mfmsr` through every general register r0..r31.
//!
//! For each rN in turn: a pattern of its own into rN, `mtspr SPRG0, rN`, rN cleared, `mfspr
//! rN, SPRG0`, `mtspr SPRG1, rN`, then `mfmsr rN`, `mtspr SPRG2, rN`; SPRG1 and SPRG2 are then
//! read through r3 or r7 and kept. Every one of these traps (the guest runs in problem state),
//! so the hypervisor reads or writes the register the instruction names, whichever it is:
//! afterwards SPRG1 must hold rN's pattern and SPRG2 the MSR. r1, r2 and r13..r31 are saved
//! first and restored at the end (nothing uses the stack in between; interrupts are off in
//! the console loop).

use core::arch::global_asm;
use core::fmt::Write;

use crate::console::Console;

global_asm!(
    r#"
    .macro REG_CHECK n
    .if \n == 3
    REG_CHECK_WITH \n, 7, 4
    .elseif \n == 4
    REG_CHECK_WITH \n, 3, 8
    .else
    REG_CHECK_WITH \n, 3, 4
    .endif
    .endm

    # rN's check, with rX and rB (neither is rN) to keep the results.
    .macro REG_CHECK_WITH n, x, b
    lis     \n, 0x5A00 + \n
    ori     \n, \n, 0xA500 + \n
    mtspr   272, \n
    li      \n, 0
    mfspr   \n, 272
    mtspr   273, \n
    mfmsr   \n
    mtspr   274, \n
    lis     \b, hello_regs_out@ha
    addi    \b, \b, hello_regs_out@l
    mfspr   \x, 273
    stw     \x, 8 * \n(\b)
    mfspr   \x, 274
    stw     \x, 8 * \n + 4(\b)
    .endm

    .section .text.hello_regs_check, "ax"
    .globl hello_regs_check
    .type hello_regs_check, @function
hello_regs_check:
    lis     3, hello_regs_saved@ha
    addi    3, 3, hello_regs_saved@l
    stw     1, 4(3)
    stw     2, 8(3)
    stmw    13, 52(3)
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    REG_CHECK \n
    .endr
    lis     3, hello_regs_saved@ha
    addi    3, 3, hello_regs_saved@l
    lwz     1, 4(3)
    lwz     2, 8(3)
    lmw     13, 52(3)
    blr
    .size hello_regs_check, . - hello_regs_check

    .section .bss.hello_regs, "aw", @nobits
    .balign 8
    .globl hello_regs_out
hello_regs_out:
    .space 256
hello_regs_saved:
    .space 128
"#
);

extern "C" {
    fn hello_regs_check();
    static hello_regs_out: [u32; 64];
}

/// The pattern `REG_CHECK` puts in rN.
const fn pattern(n: u32) -> u32 {
    ((0x5A00 + n) << 16) | (0xA500 + n)
}

/// Run the check and print `regs: ok` or each register whose values came back wrong.
pub fn run(con: &mut Console) {
    // SAFETY: `hello_regs_check` is a C function: it restores every register the ABI
    // preserves (r1, r2, r13..r31; it does not touch LR, CR, CTR or XER) and writes only its
    // own statics and SPRG0..2, which nothing else in this guest uses.
    unsafe { hello_regs_check() };
    let msr: u32;
    // SAFETY: reads the guest's own MSR.
    unsafe { core::arch::asm!("mfmsr {0}", out(reg) msr, options(nomem, nostack)) };
    // SAFETY: written by `hello_regs_check` above, read only here.
    let out = unsafe { core::ptr::addr_of!(hello_regs_out).read_volatile() };
    let mut bad = 0;
    for n in 0..32u32 {
        let (value, via_msr) = (out[2 * n as usize], out[2 * n as usize + 1]);
        if value != pattern(n) || via_msr != msr {
            bad += 1;
            let _ = write!(
                con,
                "regs: r{n}: {value:#010x} (expected {:#010x}), MSR {via_msr:#010x} (expected {msr:#010x})\r\n",
                pattern(n)
            );
        }
    }
    if bad == 0 {
        let _ = write!(con, "regs: ok, r0..r31\r\n");
    }
}
