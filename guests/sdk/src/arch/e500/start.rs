//! The ELF entry and the idle sequence.
//!
//! `_start` is the first byte of the image (0x8010_0000, guest-physical 0x0010_0000). The host
//! enters it as ePAPR says, in (virtual) supervisor state with MSR\[EE\] = 0, a TLB1 entry
//! mapping the RAM at 0x8000_0000, and `r3` = the device tree's address (at the top of RAM).
//! It sets the stack, clears `.bss` and calls `crate::runtime::start_device_tree(r3)`.

use core::arch::global_asm;

global_asm!(
    r#"
    .section .text.start, "ax"
    .globl _start
    .type _start, @function
_start:
    lis     1, __stack_top@ha
    addi    1, 1, __stack_top@l
    li      0, 0
    stwu    0, -16(1)
    lis     8, __bss_start@ha
    addi    8, 8, __bss_start@l
    lis     9, __bss_end@ha
    addi    9, 9, __bss_end@l
1:  cmplw   8, 9
    bge     2f
    stw     0, 0(8)
    addi    8, 8, 4
    b       1b
2:  bl      __mr_start              # r3: the device tree, untouched so far
3:  b       3b
    .size _start, . - _start

    .section .text.mr_idle, "ax"
    .globl __mr_idle
    .globl __mr_idle_region_start
    .globl __mr_idle_region_end
    .type __mr_idle, @function
__mr_idle:
    li      0, 16                   # vm_yield
    wrteei  1
__mr_idle_region_start:
    creqv   3, 3, 3                 # CR0[SO] = 1: the host clears it when it serves the call
    mtspr   1023, 0
__mr_idle_region_end:
    blr
    .size __mr_idle, . - __mr_idle
"#
);

/// Rust side of the entry.
#[no_mangle]
extern "C" fn __mr_start(device_tree: u32) -> ! {
    crate::runtime::start_device_tree(device_tree)
}
