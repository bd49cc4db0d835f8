//! Entry point and the idle instruction sequence.
//!
//! `_start` is the ELF entry. It runs from kseg0 with whatever Status the boot loader left,
//! so it first forces kernel mode with interrupts off and bootstrap vectors (a clean state for
//! both QEMU's boot stub and RouterBOOT), then sets up the stack, clears `.bss` and calls
//! `__hv_start` with the boot loader's a0..a3.

use core::arch::global_asm;

global_asm!(
    r#"
    .section .text.start, "ax"
    .globl _start
    .type _start, @function
    .set push
    .set noreorder
    .set noat
_start:
    lui     $t0, 0x0040             # Status = BEV only: kernel mode, EXL/ERL/IE clear
    mtc0    $t0, $12
    ehb
    la      $sp, __stack_top
    la      $t0, __bss_start
    la      $t1, __bss_end
1:  beq     $t0, $t1, 2f
    nop
    sw      $zero, 0($t0)
    b       1b
    addiu   $t0, $t0, 4
2:  la      $t9, __hv_start
    jalr    $t9
    addiu   $sp, $sp, -16           # o32 argument save area
3:  b       3b
    nop
    .size _start, . - _start

    .section .text.hv_idle, "ax"
    .globl __hv_idle
    .globl __hv_idle_region_start
    .globl __hv_idle_region_end
    .type __hv_idle, @function
__hv_idle:
    mfc0    $t0, $12
    ori     $t0, $t0, 1
__hv_idle_region_start:
    mtc0    $t0, $12                # Status.IE = 1: a pending interrupt is taken right here
    ehb
    wait
__hv_idle_region_end:
    jr      $ra
    nop
    .size __hv_idle, . - __hv_idle
    .set pop
"#
);

/// Rust side of the entry: hand the boot registers to the board's entry function.
#[no_mangle]
extern "C" fn __hv_start(a0: u32, a1: u32, a2: u32, a3: u32) -> ! {
    extern "Rust" {
        fn __hv_board_main(regs: super::BootRegs) -> !;
    }
    // SAFETY: `__hv_board_main` is defined exactly once, by the board binary through
    // `hypervisor::board_entry!`, with this signature.
    unsafe { __hv_board_main(super::BootRegs { a0, a1, a2, a3 }) }
}
