//! Exception vectors and the trap path.
//!
//! The vector page (EBase) has the TLB refill vector at +0x000, cache error at +0x100 and the
//! general vector at +0x180 (interrupts use it too: Cause.IV = 0). All of them enter
//! `__hv_trap_entry`, which saves the full register state in a [`TrapFrame`], runs
//! [`dispatch`] in kernel mode with interrupts off, and restores the (possibly changed) frame.
//!
//! Stack: a trap from kernel mode pushes its frame on the current stack; a trap from
//! supervisor or user mode (a guest) switches to the trap stack first, so a guest's stack
//! pointer is never trusted.

use core::arch::global_asm;

use super::cp0;
use crate::kernel;

/// The state of the interrupted context. Assembly below depends on this exact layout.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TrapFrame {
    /// General registers $0..$31 ($0, $k0, $k1 slots are not restored).
    pub gpr: [u32; 32],
    pub hi: u32,
    pub lo: u32,
    pub epc: u32,
    pub status: u32,
    pub cause: u32,
    pub badvaddr: u32,
}

const _: () = assert!(core::mem::size_of::<TrapFrame>() == 152);

global_asm!(
    r#"
    .equ FRAME, 16                  # o32 argument area below the frame
    .equ FRAME_SIZE, 16 + 152
    .equ F_HI, FRAME + 128
    .equ F_LO, FRAME + 132
    .equ F_EPC, FRAME + 136
    .equ F_STATUS, FRAME + 140
    .equ F_CAUSE, FRAME + 144
    .equ F_BADVADDR, FRAME + 148

    .section .vectors, "ax"
    .balign 4096
    .globl __hv_vectors
    .set push
    .set noreorder
    .set noat
__hv_vectors:
    j       __hv_trap_entry         # +0x000 TLB refill
    nop
    .org 0x100
    j       __hv_trap_entry         # +0x100 cache error
    nop
    .org 0x180
    j       __hv_trap_entry         # +0x180 general exception
    nop
    .org 0x200
    j       __hv_trap_entry         # +0x200 interrupt (only with Cause.IV = 1)
    nop

    .section .text.hv_trap, "ax"
    .globl __hv_trap_entry
    .type __hv_trap_entry, @function
__hv_trap_entry:
    mfc0    $k0, $12
    andi    $k0, $k0, 0x18          # Status.KSU of the interrupted context
    beqz    $k0, 1f
    move    $k1, $sp                # (delay slot) interrupted sp
    la      $sp, __hv_trap_stack_top
1:  addiu   $sp, $sp, -FRAME_SIZE
    sw      $k1, FRAME + 29*4($sp)
    sw      $zero, FRAME + 0*4($sp)
    sw      $1, FRAME + 1*4($sp)
    sw      $2, FRAME + 2*4($sp)
    sw      $3, FRAME + 3*4($sp)
    sw      $4, FRAME + 4*4($sp)
    sw      $5, FRAME + 5*4($sp)
    sw      $6, FRAME + 6*4($sp)
    sw      $7, FRAME + 7*4($sp)
    sw      $8, FRAME + 8*4($sp)
    sw      $9, FRAME + 9*4($sp)
    sw      $10, FRAME + 10*4($sp)
    sw      $11, FRAME + 11*4($sp)
    sw      $12, FRAME + 12*4($sp)
    sw      $13, FRAME + 13*4($sp)
    sw      $14, FRAME + 14*4($sp)
    sw      $15, FRAME + 15*4($sp)
    sw      $16, FRAME + 16*4($sp)
    sw      $17, FRAME + 17*4($sp)
    sw      $18, FRAME + 18*4($sp)
    sw      $19, FRAME + 19*4($sp)
    sw      $20, FRAME + 20*4($sp)
    sw      $21, FRAME + 21*4($sp)
    sw      $22, FRAME + 22*4($sp)
    sw      $23, FRAME + 23*4($sp)
    sw      $24, FRAME + 24*4($sp)
    sw      $25, FRAME + 25*4($sp)
    sw      $28, FRAME + 28*4($sp)
    sw      $30, FRAME + 30*4($sp)
    sw      $31, FRAME + 31*4($sp)
    mfhi    $t0
    sw      $t0, F_HI($sp)
    mflo    $t0
    sw      $t0, F_LO($sp)
    mfc0    $t0, $14
    sw      $t0, F_EPC($sp)
    mfc0    $t0, $13
    sw      $t0, F_CAUSE($sp)
    mfc0    $t0, $8
    sw      $t0, F_BADVADDR($sp)
    mfc0    $t0, $12
    sw      $t0, F_STATUS($sp)
    addiu   $t1, $zero, -32         # clear KSU, ERL, EXL, IE: kernel mode, interrupts off
    and     $t0, $t0, $t1
    mtc0    $t0, $12
    ehb
    la      $t9, __hv_trap
    jalr    $t9
    addiu   $a0, $sp, FRAME         # (delay slot) &mut TrapFrame

    lw      $t0, F_STATUS($sp)      # EXL = 1 again: restoring EPC and registers is safe
    mtc0    $t0, $12
    lw      $t0, F_EPC($sp)
    mtc0    $t0, $14
    lw      $t0, F_HI($sp)
    mthi    $t0
    lw      $t0, F_LO($sp)
    mtlo    $t0
    lw      $1, FRAME + 1*4($sp)
    lw      $2, FRAME + 2*4($sp)
    lw      $3, FRAME + 3*4($sp)
    lw      $4, FRAME + 4*4($sp)
    lw      $5, FRAME + 5*4($sp)
    lw      $6, FRAME + 6*4($sp)
    lw      $7, FRAME + 7*4($sp)
    lw      $8, FRAME + 8*4($sp)
    lw      $9, FRAME + 9*4($sp)
    lw      $10, FRAME + 10*4($sp)
    lw      $11, FRAME + 11*4($sp)
    lw      $12, FRAME + 12*4($sp)
    lw      $13, FRAME + 13*4($sp)
    lw      $14, FRAME + 14*4($sp)
    lw      $15, FRAME + 15*4($sp)
    lw      $16, FRAME + 16*4($sp)
    lw      $17, FRAME + 17*4($sp)
    lw      $18, FRAME + 18*4($sp)
    lw      $19, FRAME + 19*4($sp)
    lw      $20, FRAME + 20*4($sp)
    lw      $21, FRAME + 21*4($sp)
    lw      $22, FRAME + 22*4($sp)
    lw      $23, FRAME + 23*4($sp)
    lw      $24, FRAME + 24*4($sp)
    lw      $25, FRAME + 25*4($sp)
    lw      $28, FRAME + 28*4($sp)
    lw      $30, FRAME + 30*4($sp)
    lw      $31, FRAME + 31*4($sp)
    lw      $sp, FRAME + 29*4($sp)
    ehb
    eret
    .size __hv_trap_entry, . - __hv_trap_entry
    .set pop
"#
);

/// Exception codes (Cause.ExcCode) the kernel tells apart.
const EXC_INTERRUPT: u32 = 0;

/// Every exception comes here, with interrupts off.
#[no_mangle]
extern "C" fn __hv_trap(frame: &mut TrapFrame) {
    let code = (frame.cause >> cp0::CAUSE_EXCCODE_SHIFT) & cp0::CAUSE_EXCCODE_MASK;
    if code == EXC_INTERRUPT {
        interrupt(frame);
    } else {
        unexpected(frame, code);
    }
}

fn interrupt(frame: &mut TrapFrame) {
    leave_idle_region(frame);
    let pending = (frame.cause & frame.status) >> cp0::CAUSE_IP_SHIFT & 0xFF;
    if pending & (1 << 7) != 0 {
        super::timer_rearm();
        kernel::on_tick();
    }
    for line in 2..7 {
        if pending & (1 << line) != 0 {
            kernel::on_external_interrupt(line);
        }
    }
}

/// An interrupt taken between the idle loop's last look for work and its `wait` must not
/// put it to sleep: resume after the `wait` instead.
fn leave_idle_region(frame: &mut TrapFrame) {
    extern "C" {
        static __hv_idle_region_start: u8;
        static __hv_idle_region_end: u8;
    }
    let start = core::ptr::addr_of!(__hv_idle_region_start) as u32;
    let end = core::ptr::addr_of!(__hv_idle_region_end) as u32;
    if (start..end).contains(&frame.epc) {
        frame.epc = end;
    }
}

fn unexpected(frame: &TrapFrame, code: u32) -> ! {
    panic!(
        "unexpected exception {} ({}) at epc={:#010x} badvaddr={:#010x} status={:#010x} \
         cause={:#010x} ra={:#010x} sp={:#010x}",
        code,
        exception_name(code),
        frame.epc,
        frame.badvaddr,
        frame.status,
        frame.cause,
        frame.gpr[31],
        frame.gpr[29],
    )
}

fn exception_name(code: u32) -> &'static str {
    match code {
        0 => "interrupt",
        1 => "TLB modified",
        2 => "TLB load miss",
        3 => "TLB store miss",
        4 => "address error on load",
        5 => "address error on store",
        6 => "bus error on fetch",
        7 => "bus error on data",
        8 => "syscall",
        9 => "breakpoint",
        10 => "reserved instruction",
        11 => "coprocessor unusable",
        12 => "overflow",
        13 => "trap",
        23 => "watch",
        24 => "machine check",
        _ => "other",
    }
}
