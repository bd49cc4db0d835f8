//! Entry point, the boot-time TLB1 map, and the idle instruction sequence.
//!
//! `_start` is the ELF entry. The boot loader enters as ePAPR describes: r3 = device tree,
//! r6 = ePAPR magic, r7 = size of the initial mapped area, MSR = 0 (address space 0), and at
//! least one TLB entry mapping the image with virtual = physical address. Nothing else about the
//! MMU is trusted (RouterBOOT's TLB state is unknown), so `_start` rebuilds TLB1 the way Linux's
//! `head_fsl_booke.S` does:
//!
//! 1. find the entry that maps the running code (`tlbsx` on the program counter);
//! 2. map the 16 MiB around the code (virtual = physical) in a spare TLB1 slot in address
//!    space 1 and `rfi` into AS1;
//! 3. from AS1, invalidate every other TLB1 entry and flash-invalidate TLB0, then write the
//!    hypervisor's own entries (see [`super::mmu`]) in AS0;
//! 4. `rfi` back to AS0 and drop the temporary entry.
//!
//! Before that it sets HID0 (time base on, doze as the power-saving state, MAS7 updates); after
//! it, it loads the stack, clears `.bss` and calls `__hv_start` with the boot loader's r3..r7.

use core::arch::global_asm;

use super::mmu;

global_asm!(
    r#"
    .equ SPR_SRR0, {srr0}
    .equ SPR_SRR1, {srr1}
    .equ SPR_MAS0, 624
    .equ SPR_MAS1, 625
    .equ SPR_MAS2, 626
    .equ SPR_MAS3, 627
    .equ SPR_MAS6, 630
    .equ SPR_MAS7, 944
    .equ SPR_TLB1CFG, 689
    .equ SPR_MMUCSR0, 1012
    .equ SPR_HID0, {hid0}
    .equ MSR_ME, {msr_me}
    .equ MSR_IS_DS, 0x0030
    .equ MAS0_TLB1, 0x1000          # MAS0[TLBSEL] = 1, upper half
    .equ MAS1_TS, 0x1000
    .equ MMUCSR0_TLB0_FI, 4

    .section .text.start, "ax"
    .globl _start
    .type _start, @function
_start:
    mr      14, 3                   # keep the boot loader's r3..r7 for __hv_start
    mr      15, 4
    mr      16, 5
    mr      17, 6
    mr      18, 7

    # HID0: time base on, doze as the MSR[WE] state, MAS7 filled by tlbre/tlbsx; no nap/sleep.
    mfspr   19, SPR_HID0
    lis     20, {hid0_clear_hi}
    andc    19, 19, 20
    oris    19, 19, {hid0_set_hi}
    ori     19, 19, {hid0_set_lo}
    msync
    isync
    mtspr   SPR_HID0, 19
    isync

    # 1. The entry that maps this code.
    bl      1f
1:  mflr    19
    li      20, 0
    mtspr   SPR_MAS6, 20            # search PID 0, address space 0
    isync
    tlbsx   0, 19
    mfspr   20, SPR_MAS1
    andis.  20, 20, 0x8000          # MAS1[V]: found?
    beq     .Lno_boot_mapping

    # 2. Temporary slot 15, or 14 when the boot entry is TLB1[15] itself. It maps the 16 MiB
    #    around this code one to one (ePAPR: the image runs at virtual = physical), in AS1.
    mfspr   21, SPR_MAS0
    li      22, 15
    rlwinm  23, 21, 16, 20, 31      # ESEL
    rlwinm  24, 21, 4, 30, 31       # TLBSEL
    cmpwi   24, 1
    bne     2f
    cmpwi   23, 15
    bne     2f
    li      22, 14
2:  slwi    25, 22, 16
    oris    25, 25, MAS0_TLB1
    mtspr   SPR_MAS0, 25
    lis     20, {temp_mas1_hi}
    ori     20, 20, {temp_mas1_lo}
    mtspr   SPR_MAS1, 20
    rlwinm  20, 19, 0, 0, 7         # EPN: the 16 MiB page holding this code
    mtspr   SPR_MAS2, 20
    ori     20, 20, {temp_mas3_lo}
    mtspr   SPR_MAS3, 20
    li      20, 0
    mtspr   SPR_MAS7, 20
    isync
    tlbwe
    isync
    lis     20, .Lin_as1@ha
    addi    20, 20, .Lin_as1@l
    mtspr   SPR_SRR0, 20
    li      20, MSR_ME | MSR_IS_DS
    mtspr   SPR_SRR1, 20
    rfi

.Lin_as1:
    # 3. Invalidate every TLB1 entry but the temporary one, and all of TLB0.
    mfspr   27, SPR_TLB1CFG
    andi.   27, 27, 0xfff           # number of TLB1 entries
    li      28, 0
3:  cmpw    28, 22
    beq     4f
    slwi    25, 28, 16
    oris    25, 25, MAS0_TLB1
    mtspr   SPR_MAS0, 25
    li      20, 0
    mtspr   SPR_MAS1, 20
    isync
    tlbwe
4:  addi    28, 28, 1
    cmpw    28, 27
    blt     3b
    isync
    li      20, MMUCSR0_TLB0_FI
    mtspr   SPR_MMUCSR0, 20
5:  mfspr   20, SPR_MMUCSR0
    andi.   20, 20, MMUCSR0_TLB0_FI
    bne     5b
    isync

    # The hypervisor's entries (AS0): low RAM, then the CCSR window.
    lis     20, MAS0_TLB1 | {ram_esel}
    mtspr   SPR_MAS0, 20
    lis     20, {ram_mas1_hi}
    ori     20, 20, {ram_mas1_lo}
    mtspr   SPR_MAS1, 20
    li      20, {ram_mas2}
    mtspr   SPR_MAS2, 20
    li      20, {ram_mas3}
    mtspr   SPR_MAS3, 20
    li      20, 0
    mtspr   SPR_MAS7, 20
    isync
    tlbwe
    isync
    lis     20, MAS0_TLB1 | {ccsr_esel}
    mtspr   SPR_MAS0, 20
    lis     20, {ccsr_mas1_hi}
    ori     20, 20, {ccsr_mas1_lo}
    mtspr   SPR_MAS1, 20
    lis     20, {ccsr_virt_hi}
    ori     20, 20, {ccsr_mas2_lo}
    mtspr   SPR_MAS2, 20
    lis     20, __ccsr_phys_low@h
    ori     20, 20, {ccsr_mas3_lo}
    mtspr   SPR_MAS3, 20
    li      20, __ccsr_phys_high@l
    mtspr   SPR_MAS7, 20
    isync
    tlbwe
    isync

    # 4. Back to address space 0, through the new RAM entry; drop the temporary one.
    lis     20, .Lin_as0@ha
    addi    20, 20, .Lin_as0@l
    mtspr   SPR_SRR0, 20
    li      20, MSR_ME
    mtspr   SPR_SRR1, 20
    rfi
.Lin_as0:
    slwi    25, 22, 16
    oris    25, 25, MAS0_TLB1
    mtspr   SPR_MAS0, 25
    li      20, 0
    mtspr   SPR_MAS1, 20
    isync
    tlbwe
    isync

    # Stack (16-byte aligned, null back chain) and .bss.
    lis     1, __stack_top@ha
    addi    1, 1, __stack_top@l
    li      0, 0
    stwu    0, -16(1)
    lis     3, __bss_start@ha
    addi    3, 3, __bss_start@l
    lis     4, __bss_end@ha
    addi    4, 4, __bss_end@l
6:  cmplw   3, 4
    bge     7f
    stw     0, 0(3)
    addi    3, 3, 4
    b       6b
7:  mr      3, 14
    mr      4, 15
    mr      5, 16
    mr      6, 17
    mr      7, 18
    bl      __hv_start
8:  b       8b

.Lno_boot_mapping:                  # the boot loader broke ePAPR: nothing maps our code
    b       .Lno_boot_mapping
    .size _start, . - _start

    .section .text.hv_idle, "ax"
    .globl __hv_idle
    .globl __hv_idle_region_start
    .globl __hv_idle_region_end
    .type __hv_idle, @function
__hv_idle:
    mfmsr   3
    oris    3, 3, {msr_we_hi}
    ori     3, 3, {msr_ee}
    msync
__hv_idle_region_start:
    mtmsr   3                       # EE and WE together: a pending interrupt is taken right here
    isync
    b       __hv_idle_region_start  # never reached without an interrupt; doze again if it is
__hv_idle_region_end:
    blr
    .size __hv_idle, . - __hv_idle
"#,
    srr0 = const super::spr::SRR0,
    srr1 = const super::spr::SRR1,
    hid0 = const super::spr::HID0,
    msr_me = const super::spr::MSR_ME,
    hid0_clear_hi = const (super::spr::HID0_NAP | super::spr::HID0_SLEEP) >> 16,
    hid0_set_hi = const super::spr::HID0_DOZE >> 16,
    hid0_set_lo = const super::spr::HID0_TBEN | super::spr::HID0_EN_MAS7_UPDATE,
    temp_mas1_hi = const mmu::temp_mas1() >> 16,
    temp_mas1_lo = const mmu::temp_mas1() & 0xFFFF,
    temp_mas3_lo = const mmu::RAM_MAS3,
    ram_esel = const mmu::RAM_ENTRY,
    ram_mas1_hi = const mmu::ram_mas1() >> 16,
    ram_mas1_lo = const mmu::ram_mas1() & 0xFFFF,
    ram_mas2 = const mmu::RAM_MAS2,
    ram_mas3 = const mmu::RAM_MAS3,
    ccsr_esel = const mmu::CCSR_ENTRY,
    ccsr_mas1_hi = const mmu::ccsr_mas1() >> 16,
    ccsr_mas1_lo = const mmu::ccsr_mas1() & 0xFFFF,
    ccsr_virt_hi = const mmu::CCSR_VIRT >> 16,
    ccsr_mas2_lo = const mmu::CCSR_MAS2_ATTRIBUTES,
    ccsr_mas3_lo = const mmu::CCSR_MAS3_PERMISSIONS,
    msr_we_hi = const super::spr::MSR_WE >> 16,
    msr_ee = const super::spr::MSR_EE,
);

/// Rust side of the entry: hand the boot registers to the board's entry function.
#[no_mangle]
extern "C" fn __hv_start(r3: u32, r4: u32, r5: u32, r6: u32, r7: u32) -> ! {
    extern "Rust" {
        fn __hv_board_main(regs: super::BootRegs) -> !;
    }
    // SAFETY: `__hv_board_main` is defined exactly once, by the board binary through
    // `hypervisor::board_entry!`, with this signature.
    unsafe { __hv_board_main(super::BootRegs { r3, r4, r5, r6, r7 }) }
}
