//! Exception vectors (IVPR/IVORn) and the trap path.
//!
//! Book E has no fixed vector table: IVPR gives the upper 16 bits of every vector and IVORn the
//! lower 16 of vector n. All stubs live in `.vectors` (first in the image, 64 KiB aligned).
//!
//! Base-class interrupts (SRR0/SRR1: storage, external input, alignment, program, system call,
//! decrementer, TLB errors, SPE, ...) enter `__hv_trap_common`, which saves the full register
//! state in a [`TrapFrame`], calls `__hv_trap` with interrupts off, restores the (possibly
//! changed) frame and returns with `rfi`. Three scratch SPRs carry r1, r3 and CR across the first
//! instructions: SPRG0..SPRG2, which only supervisor state can read (SPRG4..7 are user-readable).
//! The Program interrupt has its own entry, `__hv_trap_program`: from problem state it saves
//! only what Rust code does not preserve and tries the fast path (`vcpu/fast.rs`) first,
//! completing the same frame for the general path when that declines.
//!
//! Stack: a trap from supervisor state pushes its frame on the current stack; a trap from problem
//! state (`MSR[PR]` = 1, a guest) switches to the trap stack (`__hv_trap_stack_top`) first, so a
//! guest's r1 is never trusted. Every interrupt clears MSR\[PR\], \[IS\] and \[DS\]: the handlers run
//! in address space 0, through the hypervisor's TLB1 entries (TID 0, matching whatever shadow
//! ID a guest left in PID0), never through a guest's (address space 1).
//!
//! `__hv_trap` hands traps from problem state to the guest CPU layer (`vcpu.rs`), and the `sc`
//! with which the host enters a guest to the world switch (`guest.rs`).
//!
//! Critical-class (critical input, watchdog, debug: CSRR0/CSRR1) and machine-check
//! (MCSRR0/MCSRR1) interrupts are fatal: they switch to a stack of their own and panic with the
//! saved state.

use core::arch::global_asm;

use super::spr::{self, mfspr};
use crate::kernel;

/// The state of the interrupted context. The assembly below depends on this exact layout, and
/// its first 136 bytes are laid out like `vcpu_e500::GuestRegs` (r0..r31, the resume address,
/// CR), so a guest's frame is handed to the guest CPU model in place.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TrapFrame {
    /// General registers r0..r31.
    pub gpr: [u32; 32],
    /// Where the interrupted context resumes (SRR0).
    pub srr0: u32,
    pub cr: u32,
    pub lr: u32,
    pub ctr: u32,
    pub xer: u32,
    /// The interrupted context's MSR (SRR1).
    pub srr1: u32,
    /// Exception syndrome and data exception address at the time of the trap.
    pub esr: u32,
    pub dear: u32,
    /// The IVOR number of the interrupt.
    pub vector: u32,
}

const _: () = assert!(core::mem::size_of::<TrapFrame>() == 164);
const _: () = assert!(core::mem::offset_of!(TrapFrame, srr0) == 128);
const _: () = assert!(core::mem::offset_of!(TrapFrame, cr) == 132);
const _: () = assert!(core::mem::offset_of!(TrapFrame, vector) == 160);

/// IVOR numbers the kernel tells apart.
pub const IVOR_CRITICAL_INPUT: u32 = 0;
pub const IVOR_MACHINE_CHECK: u32 = 1;
pub const IVOR_EXTERNAL_INPUT: u32 = 4;
pub const IVOR_SYSTEM_CALL: u32 = 8;
pub const IVOR_DECREMENTER: u32 = 10;
pub const IVOR_WATCHDOG: u32 = 12;
pub const IVOR_DEBUG: u32 = 15;

global_asm!(
    r#"
    .equ SPR_SRR0, {srr0}
    .equ SPR_SRR1, {srr1}
    .equ SPR_DEAR, {dear}
    .equ SPR_ESR, {esr}
    .equ SPR_SPRG0, {sprg0}
    .equ SPR_SPRG1, {sprg1}
    .equ SPR_SPRG2, {sprg2}
    .equ MSR_PR, {msr_pr}
    .equ SPR_PID0, {pid0}
    .equ SPR_PID1, {pid1}
    .equ SPR_MAS0, {mas0}
    .equ SPR_MAS1, {mas1}
    .equ SPR_MAS2, {mas2}
    .equ SPR_MAS3, {mas3}
    .equ SPR_MAS7, {mas7}
    .equ F, 8                       # back chain and LR save word of the ABI frame header
    .equ FRAME_SIZE, 176            # header + TrapFrame (164), 16-byte multiple
    .equ F_SRR0, F + 128
    .equ F_CR, F + 132
    .equ F_LR, F + 136
    .equ F_CTR, F + 140
    .equ F_XER, F + 144
    .equ F_SRR1, F + 148
    .equ F_ESR, F + 152
    .equ F_DEAR, F + 156
    .equ F_VECTOR, F + 160

    .macro BASE_STUB n
    .balign 16
    .globl __hv_ivor\n
__hv_ivor\n:
    mtspr   SPR_SPRG0, 1
    mtspr   SPR_SPRG1, 3
    li      3, \n
    b       __hv_trap_common
    .endm

    .macro TLB_MISS_STUB n
    .balign 16
    .globl __hv_ivor\n
__hv_ivor\n:
    mtspr   SPR_SPRG0, 1
    mtspr   SPR_SPRG1, 3
    li      3, \n
    b       __hv_tlb_miss
    .endm

    .macro FATAL_STUB n
    .balign 16
    .globl __hv_ivor\n
__hv_ivor\n:
    lis     1, __hv_fatal_stack_top@ha
    addi    1, 1, __hv_fatal_stack_top@l
    li      3, \n
    b       __hv_fatal_common
    .endm

    .section .vectors, "ax"
    .balign 65536
    .globl __hv_vectors
__hv_vectors:
    FATAL_STUB 0                    # critical input (CSRR)
    FATAL_STUB 1                    # machine check (MCSRR)
    BASE_STUB 2                     # data storage
    BASE_STUB 3                     # instruction storage
    BASE_STUB 4                     # external input
    BASE_STUB 5                     # alignment
    .balign 16                      # program: the fast path first (guests' privileged
    .globl __hv_ivor6               # instructions and the hypercall)
__hv_ivor6:
    mtspr   SPR_SPRG0, 1
    mtspr   SPR_SPRG1, 3
    li      3, 6
    b       __hv_trap_program
    BASE_STUB 7                     # floating-point unavailable
    BASE_STUB 8                     # system call
    BASE_STUB 9                     # auxiliary processor unavailable
    BASE_STUB 10                    # decrementer
    BASE_STUB 11                    # fixed-interval timer
    FATAL_STUB 12                   # watchdog (CSRR)
    TLB_MISS_STUB 13                # data TLB error: the refill cache first
    TLB_MISS_STUB 14                # instruction TLB error: the refill cache first
    FATAL_STUB 15                   # debug (CSRR)
    BASE_STUB 32                    # SPE unavailable
    BASE_STUB 33                    # SPE floating-point data
    BASE_STUB 34                    # SPE floating-point round
    BASE_STUB 35                    # performance monitor

    .section .text.hv_trap, "ax"
    .globl __hv_trap_common
    .type __hv_trap_common, @function
__hv_trap_common:
    # r1, r3 are in SPRG0, SPRG1; r3 = IVOR number. Save CR before testing MSR[PR].
    mfcr    1
    mtspr   SPR_SPRG2, 1
__hv_trap_common_cr:                    # entered here with CR already in SPRG2
    mfspr   1, SPR_SRR1
    andi.   1, 1, MSR_PR
    beq     1f
    lis     1, __hv_trap_stack_top@ha   # from problem state: the hypervisor's trap stack
    addi    1, 1, __hv_trap_stack_top@l
    b       2f
1:  mfspr   1, SPR_SPRG0                # from supervisor state: the interrupted stack
2:  addi    1, 1, -FRAME_SIZE
    stw     0, F + 0(1)
    stw     3, F_VECTOR(1)
    mfspr   0, SPR_SPRG0
    stw     0, F + 4(1)
    stw     2, F + 8(1)
    mfspr   0, SPR_SPRG1
    stw     0, F + 12(1)
    .irp n, 4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    stw     \n, F + 4*\n(1)
    .endr
    mfspr   0, SPR_SPRG2
    stw     0, F_CR(1)
    mflr    0
    stw     0, F_LR(1)
    mfctr   0
    stw     0, F_CTR(1)
    mfxer   0
    stw     0, F_XER(1)
    mfspr   0, SPR_SRR0
    stw     0, F_SRR0(1)
    mfspr   0, SPR_SRR1
    stw     0, F_SRR1(1)
    mfspr   0, SPR_ESR
    stw     0, F_ESR(1)
    mfspr   0, SPR_DEAR
    stw     0, F_DEAR(1)
    li      0, 0
    stw     0, 0(1)                     # null back chain: unwinding stops at a trap
    addi    3, 1, F
    bl      __hv_trap

__hv_trap_restore:
    # MSR[EE] is still 0: nothing can overwrite SRR0/SRR1 between here and rfi. The `stwcx.`
    # (to the frame's back-chain word, dropped with the frame) clears a reservation the
    # interrupted context's `lwarx` may hold: a host store in between (a virq bit, a ring
    # index) must make its `stwcx.` fail on every core, not only where an interrupt already
    # clears it.
    stwcx.  0, 0, 1
    lwz     0, F_SRR0(1)
    mtspr   SPR_SRR0, 0
    lwz     0, F_SRR1(1)
    mtspr   SPR_SRR1, 0
    lwz     0, F_CR(1)
    mtcr    0
    lwz     0, F_LR(1)
    mtlr    0
    lwz     0, F_CTR(1)
    mtctr   0
    lwz     0, F_XER(1)
    mtxer   0
    lwz     0, F + 0(1)
    lwz     2, F + 8(1)
    .irp n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    lwz     \n, F + 4*\n(1)
    .endr
    lwz     1, F + 4(1)
    rfi
    .size __hv_trap_common, . - __hv_trap_common

    # A Program interrupt. From supervisor state: the common path. From a guest: save only
    # what the Rust calling convention does not preserve (r0, r1, r3..r12, CR, LR, CTR, XER,
    # SRR0, SRR1, ESR) in a TrapFrame on the trap stack, then the assembly path
    # (`__hv_fast_spr`), which serves the plain SPR reads and writes itself, the hypercall
    # through `__hv_trap_hypercall`, and calls `__hv_trap_fast` with the trapping word for the
    # rest; when that served the trap (FAST_DONE), restore those and return. Otherwise r2, r13..r31 (still
    # the guest's) and DEAR complete the frame, and `__hv_after_fast` finishes the trap (the
    # fast path with every register, the general return path or the general path), returning
    # through the common restore.
    .globl __hv_trap_program
    .type __hv_trap_program, @function
__hv_trap_program:
    mfcr    1
    mtspr   SPR_SPRG2, 1
    mfspr   1, SPR_SRR1
    andi.   1, 1, MSR_PR
    bne     1f
    mfspr   1, SPR_SPRG2                # supervisor state: CR back, the common path
    mtcr    1
    b       __hv_trap_common
1:  lis     1, __hv_trap_stack_top@ha
    addi    1, 1, __hv_trap_stack_top@l
    addi    1, 1, -FRAME_SIZE
    stw     0, F + 0(1)
    stw     3, F_VECTOR(1)
    mfspr   0, SPR_SPRG0
    stw     0, F + 4(1)
    mfspr   0, SPR_SPRG1
    stw     0, F + 12(1)
    .irp n, 4,5,6,7,8,9,10,11,12
    stw     \n, F + 4*\n(1)
    .endr
    mfspr   0, SPR_SPRG2
    stw     0, F_CR(1)
    mflr    0
    stw     0, F_LR(1)
    mfctr   0
    stw     0, F_CTR(1)
    mfxer   0
    stw     0, F_XER(1)
    mfspr   0, SPR_SRR0
    stw     0, F_SRR0(1)
    mfspr   0, SPR_SRR1
    stw     0, F_SRR1(1)
    mfspr   0, SPR_ESR
    stw     0, F_ESR(1)
    li      0, 0
    stw     0, 0(1)                     # null back chain
    b       __hv_fast_spr               # the assembly path first (`fast_spr.rs`)
    .globl __hv_trap_program_fast
__hv_trap_program_fast:                 # r4 = the trapping word (0: not found)
    addi    3, 1, F
    bl      __hv_trap_fast
    .globl __hv_trap_program_status
__hv_trap_program_status:               # r3 = what the fast path did
    cmpwi   3, {fast_done}
    bne     2f
    .globl __hv_trap_program_return
__hv_trap_program_return:
    stwcx.  0, 0, 1                     # the guest's reservation, as in the common restore
    lwz     0, F_SRR0(1)
    mtspr   SPR_SRR0, 0
    lwz     0, F_SRR1(1)
    mtspr   SPR_SRR1, 0
    lwz     0, F_CR(1)
    mtcr    0
    lwz     0, F_LR(1)
    mtlr    0
    lwz     0, F_CTR(1)
    mtctr   0
    lwz     0, F_XER(1)
    mtxer   0
    lwz     0, F + 0(1)
    .irp n, 3,4,5,6,7,8,9,10,11,12
    lwz     \n, F + 4*\n(1)
    .endr
    lwz     1, F + 4(1)
    rfi
2:  stw     2, F + 8(1)
    .irp n, 13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    stw     \n, F + 4*\n(1)
    .endr
    mfspr   0, SPR_DEAR
    stw     0, F_DEAR(1)
    mr      4, 3
    addi    3, 1, F
    bl      __hv_after_fast
    b       __hv_trap_restore
    .size __hv_trap_program, . - __hv_trap_program

    # A data or instruction TLB error (r1, r3 in SPRG0, SPRG1; r3 = the IVOR number). From a
    # guest, the running guest's refill cache (`vcpu_e500::refill`: the slot of the missing
    # address, a hit when its tag is the page | real PID0, or | real PID1 when PID1 != 0) is
    # probed with r4..r6 spilled to `__hv_tlb_miss_save`; a hit is written into the host TLB
    # (MAS1..MAS3 from the slot, MAS7 the guest's; TSIZE 1 into TLB0 at the way the miss
    # loaded into MAS0, a larger page into the next of the guests' TLB1 entries, round robin
    # with `tlb::map`) and the access retried. Everything else takes the common path with the
    # registers as its entry left them (CR in SPRG2).
    .globl __hv_tlb_miss
    .type __hv_tlb_miss, @function
__hv_tlb_miss:
    mfcr    1
    mtspr   SPR_SPRG2, 1
    mfspr   1, SPR_SRR1
    andi.   1, 1, MSR_PR
    beq     __hv_trap_common_cr         # the hypervisor's own: the common path
    lis     1, __hv_tlb_miss_save@ha
    addi    1, 1, __hv_tlb_miss_save@l
    stw     4, 0(1)
    stw     5, 4(1)
    stw     6, 8(1)
    lis     5, __hv_refill_table@ha
    lwz     5, __hv_refill_table@l(5)
    cmpwi   5, 0
    beq     9f                          # no guest table
    cmpwi   3, 13
    mfspr   4, SPR_DEAR                 # data: the address in DEAR
    beq     1f
    mfspr   4, SPR_SRR0                 # instruction: the fetch address
1:  rlwinm  6, 4, 24, 20, 27            # (EA >> 8) & 0xFF0: the slot's offset
    add     5, 5, 6
    lwz     6, 0(5)                     # tag
    rlwinm  4, 4, 0, 0, 19              # EA & !0xFFF
    xor     6, 6, 4                     # the tag's ID when the page matches
    mfspr   4, SPR_PID0
    cmpw    6, 4
    beq     2f
    mfspr   4, SPR_PID1
    cmpwi   4, 0
    beq     9f
    cmpw    6, 4
    bne     9f
2:  lwz     4, 4(5)
    mtspr   SPR_MAS1, 4
    lwz     6, 8(5)
    mtspr   SPR_MAS2, 6
    lwz     6, 12(5)
    mtspr   SPR_MAS3, 6
    lis     6, __hv_refill_mas7@ha
    lwz     6, __hv_refill_mas7@l(6)
    mtspr   SPR_MAS7, 6
    rlwinm  4, 4, 24, 28, 31            # TSIZE
    cmpwi   4, 1
    bne     3f
    mfspr   4, SPR_MAS0
    rlwinm  4, 4, 0, 14, 31             # TLB0: the way and next victim the miss loaded
    b       4f
3:  lis     5, __hv_tlb1_next@ha        # TLB1: the next guest entry
    lwz     4, __hv_tlb1_next@l(5)
    addi    6, 4, 1
    cmpwi   6, {tlb1_count}
    blt     5f
    li      6, 0
5:  stw     6, __hv_tlb1_next@l(5)
    addi    4, 4, {tlb1_first}
    rlwinm  4, 4, 16, 12, 15            # ESEL
    oris    4, 4, 0x1000                # TLBSEL 1
4:  mtspr   SPR_MAS0, 4
    tlbwe
    lwz     4, 0(1)
    lwz     5, 4(1)
    lwz     6, 8(1)
    mfspr   1, SPR_SPRG2
    mtcr    1
    mfspr   1, SPR_SPRG0
    mfspr   3, SPR_SPRG1
    rfi
9:  lwz     4, 0(1)
    lwz     5, 4(1)
    lwz     6, 8(1)
    b       __hv_trap_common_cr
    .size __hv_tlb_miss, . - __hv_tlb_miss

    .globl __hv_fatal_common
    .type __hv_fatal_common, @function
__hv_fatal_common:
    li      0, 0
    stwu    0, -16(1)
    bl      __hv_fatal_trap
3:  b       3b
    .size __hv_fatal_common, . - __hv_fatal_common

    # Point IVPR and every IVOR at the stubs above.
    .globl __hv_set_ivors
    .type __hv_set_ivors, @function
__hv_set_ivors:
    lis     3, __hv_vectors@h
    mtspr   {ivpr}, 3
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    li      3, __hv_ivor\n - __hv_vectors
    mtspr   400 + \n, 3
    .endr
    .irp n, 32,33,34,35
    li      3, __hv_ivor\n - __hv_vectors
    mtspr   528 - 32 + \n, 3
    .endr
    isync
    blr
    .size __hv_set_ivors, . - __hv_set_ivors

    .section .bss.hv_tlb_miss_save, "aw", @nobits
    .balign 16
__hv_tlb_miss_save:
    .space 16

    .section .bss.hv_fatal_stack, "aw", @nobits
    .balign 16
    .space 4096
__hv_fatal_stack_top:
"#,
    srr0 = const spr::SRR0,
    srr1 = const spr::SRR1,
    dear = const spr::DEAR,
    esr = const spr::ESR,
    sprg0 = const spr::SPRG0,
    sprg1 = const spr::SPRG1,
    sprg2 = const spr::SPRG2,
    msr_pr = const spr::MSR_PR,
    pid0 = const spr::PID0,
    pid1 = const spr::PID1,
    mas0 = const spr::MAS0,
    mas1 = const spr::MAS1,
    mas2 = const spr::MAS2,
    mas3 = const spr::MAS3,
    mas7 = const spr::MAS7,
    tlb1_first = const super::tlb::GUEST_TLB1_FIRST,
    tlb1_count = const super::tlb::GUEST_TLB1_COUNT,
    ivpr = const spr::IVPR,
    fast_done = const super::vcpu::FAST_DONE,
);

/// Point IVPR/IVORn at the hypervisor's vectors.
pub fn install() {
    extern "C" {
        static __hv_vectors: u8;
        fn __hv_set_ivors();
    }
    // Only the symbol's address is used.
    let base = core::ptr::addr_of!(__hv_vectors) as usize;
    assert!(
        base & 0xFFFF == 0,
        "exception vectors must be 64 KiB aligned (IVPR)"
    );
    // SAFETY: `__hv_set_ivors` (above) writes IVPR and IVOR0..15, 32..35 with the addresses of
    // the stubs, clobbering only r3; the stubs are ready to run from this point on.
    unsafe { __hv_set_ivors() }
}

/// Every base-class interrupt comes here, with interrupts off: those taken while a guest ran
/// (problem state) go to the guest CPU layer, the `sc` that enters a guest to the world switch.
#[no_mangle]
extern "C" fn __hv_trap(frame: &mut TrapFrame) {
    if frame.srr1 & spr::MSR_PR != 0 {
        return super::vcpu::trap(frame);
    }
    match frame.vector {
        IVOR_EXTERNAL_INPUT => {
            leave_idle_region(frame);
            super::external_input();
        }
        IVOR_DECREMENTER => {
            leave_idle_region(frame);
            if super::timer_interrupt() {
                kernel::on_tick();
            }
        }
        IVOR_SYSTEM_CALL if frame.gpr[0] == super::guest::ENTER_GUEST => super::vcpu::enter(frame),
        _ => unexpected(frame),
    }
}

/// An interrupt taken in the idle sequence (after `mtmsr` set EE and WE together, whether or
/// not the core got to doze) resumes after it, with WE clear: the saved MSR has WE = 1, and
/// returning to it would doze again on work the handler just queued.
fn leave_idle_region(frame: &mut TrapFrame) {
    extern "C" {
        static __hv_idle_region_start: u8;
        static __hv_idle_region_end: u8;
    }
    let start = core::ptr::addr_of!(__hv_idle_region_start) as u32;
    let end = core::ptr::addr_of!(__hv_idle_region_end) as u32;
    if (start..end).contains(&frame.srr0) {
        frame.srr0 = end;
        frame.srr1 &= !spr::MSR_WE;
    }
}

fn unexpected(frame: &TrapFrame) -> ! {
    panic!(
        "unexpected exception IVOR{} ({}) at srr0={:#010x} srr1={:#010x} esr={:#010x} \
         dear={:#010x} lr={:#010x} r1={:#010x}",
        frame.vector,
        exception_name(frame.vector),
        frame.srr0,
        frame.srr1,
        frame.esr,
        frame.dear,
        frame.lr,
        frame.gpr[1],
    )
}

/// Critical-class and machine-check interrupts: report and stop.
#[no_mangle]
extern "C" fn __hv_fatal_trap(vector: u32) -> ! {
    if vector == IVOR_MACHINE_CHECK {
        panic!(
            "machine check at mcsrr0={:#010x} mcsrr1={:#010x} mcsr={:#010x} mcar={:#010x}",
            mfspr!(spr::MCSRR0),
            mfspr!(spr::MCSRR1),
            mfspr!(spr::MCSR),
            mfspr!(spr::MCAR),
        )
    }
    panic!(
        "critical interrupt IVOR{} ({}) at csrr0={:#010x} csrr1={:#010x} esr={:#010x}",
        vector,
        exception_name(vector),
        mfspr!(spr::CSRR0),
        mfspr!(spr::CSRR1),
        mfspr!(spr::ESR),
    )
}

fn exception_name(vector: u32) -> &'static str {
    match vector {
        IVOR_CRITICAL_INPUT => "critical input",
        IVOR_MACHINE_CHECK => "machine check",
        2 => "data storage",
        3 => "instruction storage",
        IVOR_EXTERNAL_INPUT => "external input",
        5 => "alignment",
        6 => "program",
        7 => "floating-point unavailable",
        IVOR_SYSTEM_CALL => "system call",
        9 => "auxiliary processor unavailable",
        IVOR_DECREMENTER => "decrementer",
        11 => "fixed-interval timer",
        IVOR_WATCHDOG => "watchdog",
        13 => "data TLB error",
        14 => "instruction TLB error",
        IVOR_DEBUG => "debug",
        32 => "SPE unavailable",
        33 => "SPE floating-point data",
        34 => "SPE floating-point round",
        35 => "performance monitor",
        _ => "other",
    }
}
