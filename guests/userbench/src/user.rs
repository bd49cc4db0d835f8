//! The user program: position-independent code copied into each process's text page.
//!
//! Entered with `$a0` = operation, `$a1` = first data page, `$a2` = pages per round, `$a3` =
//! rounds, `$sp` = top of the user stack:
//!
//! | op | what |
//! |---|---|
//! | [`OP_TOUCH`] | per round, one load from each of `$a2` consecutive 4 KiB pages |
//! | [`OP_SYSCALL`] | `$a3` system calls (`getpid`'s number) |
//! | [`OP_MIX`] | per round, the page loads and one system call |
//! | [`OP_SPIN`] | a register loop of `$a3` iterations |
//! | [`OP_NULL_LOAD`] | a system call, then a load from address 0x180 (must fault: no user page there) |
//!
//! Every run ends with a store to the stack (a page the kernel maps on demand) and `exit(0)`.

use core::arch::global_asm;

use crate::entry::{SYS_EXIT, SYS_NOP};

pub const OP_TOUCH: u32 = 0;
pub const OP_SYSCALL: u32 = 1;
pub const OP_MIX: u32 = 2;
pub const OP_SPIN: u32 = 3;
pub const OP_NULL_LOAD: u32 = 4;

global_asm!(
    r#"
    .section .text.ub_user, "ax"
    .globl ub_user_start
    .globl ub_user_end
    .set push
    .set mips32r2
    .set noreorder
    .set noat
    .balign 16
ub_user_start:
    li      $t3, {op_syscall}
    beq     $a0, $t3, 3f
    li      $t3, {op_mix}
    beq     $a0, $t3, 4f
    li      $t3, {op_spin}
    beq     $a0, $t3, 6f
    li      $t3, {op_null_load}
    beq     $a0, $t3, 9f
    nop
1:  move    $t0, $a1                # OP_TOUCH
    move    $t1, $a2
2:  lw      $t2, 0($t0)
    addiu   $t1, $t1, -1
    bnez    $t1, 2b
    addiu   $t0, $t0, 4096
    addiu   $a3, $a3, -1
    bnez    $a3, 1b
    nop
    b       7f
    nop
3:  li      $v0, {sys_nop}          # OP_SYSCALL
    syscall
    addiu   $a3, $a3, -1
    bnez    $a3, 3b
    nop
    b       7f
    nop
4:  move    $t0, $a1                # OP_MIX
    move    $t1, $a2
5:  lw      $t2, 0($t0)
    addiu   $t1, $t1, -1
    bnez    $t1, 5b
    addiu   $t0, $t0, 4096
    li      $v0, {sys_nop}
    syscall
    addiu   $a3, $a3, -1
    bnez    $a3, 4b
    nop
    b       7f
    nop
6:  addiu   $a3, $a3, -1            # OP_SPIN
    bnez    $a3, 6b
    nop
7:  sw      $zero, -4($sp)
    move    $a0, $zero
    li      $v0, {sys_exit}
    syscall
8:  b       8b
    nop
9:  li      $v0, {sys_nop}          # OP_NULL_LOAD: the kernel ran (its commpage, under a
    syscall                         # hypervisor), then user mode loads where a rewritten
    lw      $t2, 0x180($zero)       # mfc0 Status loads from: it must fault
    li      $a0, 1                  # it did not: exit(1)
    li      $v0, {sys_exit}
    syscall
ub_user_end:
    .set pop
"#,
    op_syscall = const OP_SYSCALL,
    op_mix = const OP_MIX,
    op_spin = const OP_SPIN,
    op_null_load = const OP_NULL_LOAD,
    sys_nop = const SYS_NOP,
    sys_exit = const SYS_EXIT,
);

/// The program's code: `(first byte, length)` in the image.
pub fn code() -> (u32, u32) {
    extern "C" {
        static ub_user_start: [u32; 0];
        static ub_user_end: [u32; 0];
    }
    let start = core::ptr::addr_of!(ub_user_start) as u32;
    let end = core::ptr::addr_of!(ub_user_end) as u32;
    (start, end - start)
}
