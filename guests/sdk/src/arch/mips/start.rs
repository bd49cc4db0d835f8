//! The ELF entry and the idle sequence.
//!
//! `_start` is the first byte of the image (0xC010_0000). The host enters it with `$a0 = argc`,
//! `$a1 = argv` and interrupts off. It sets `$gp` and the stack, clears `.bss` (the host must
//! not put argv inside the image: the RouterOS kernel's `head.S` clears its bss first too) and
//! calls `crate::runtime::start(argc, argv)`.

use core::arch::global_asm;

global_asm!(
    r#"
    .section .text.start, "ax"
    .globl _start
    .type _start, @function
    .set push
    .set mips32r2
    .set noreorder
    .set noat
_start:
    lui     $gp, %hi(_gp)
    addiu   $gp, $gp, %lo(_gp)
    lui     $sp, %hi(__stack_top)
    addiu   $sp, $sp, %lo(__stack_top)
    move    $s0, $a0
    move    $s1, $a1
    lui     $t0, %hi(__bss_start)
    addiu   $t0, $t0, %lo(__bss_start)
    lui     $t1, %hi(__bss_end)
    addiu   $t1, $t1, %lo(__bss_end)
1:  beq     $t0, $t1, 2f
    nop
    sw      $zero, 0($t0)
    b       1b
    addiu   $t0, $t0, 4
2:  move    $a0, $s0
    move    $a1, $s1
    lui     $t9, %hi(__mr_start)
    addiu   $t9, $t9, %lo(__mr_start)
    jalr    $t9
    addiu   $sp, $sp, -16           # o32 argument save area
3:  wait
    b       3b
    nop
    .size _start, . - _start

    .section .text.mr_idle, "ax"
    .globl __mr_idle
    .globl __mr_idle_region_start
    .globl __mr_idle_region_end
    .type __mr_idle, @function
__mr_idle:
    ei
__mr_idle_region_start:
    ehb
    wait
__mr_idle_region_end:
    jr      $ra
    nop
    .size __mr_idle, . - __mr_idle
    .set pop
"#
);

/// Rust side of the entry.
#[no_mangle]
extern "C" fn __mr_start(argc: u32, argv: u32) -> ! {
    crate::runtime::start(argc, argv)
}
