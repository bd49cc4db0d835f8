//! Exception vectors (IVPR/IVORs) and the exception entry.
//!
//! Every interrupt of the e500 (IVOR0..15, IVOR32..35) has a 16-byte stub in
//! `.text.mr_vectors`, which the linker script keeps in the image's first 64 KiB (IVPR is the
//! high half of the stubs' address, each IVOR the low half of its stub). A stub saves r3 in
//! SPRG0, loads its IVOR number and branches to the entry of its class: standard (SRR0/SRR1,
//! `rfi`), critical (IVOR0 critical input, IVOR12 watchdog, IVOR15 debug: CSRR0/CSRR1, `rfci`)
//! or machine check (IVOR1: MCSRR0/MCSRR1, `rfmci`). The entry pushes a [`TrapFrame`] on the
//! current stack (the guest has one privilege level), calls `crate::trap::dispatch` and
//! returns to the (possibly changed) SRR0 with the (possibly changed) SRR1.
//!
//! All classes share SPRG0/SPRG1 as scratch: a critical interrupt or machine check taken
//! inside another entry's first instructions would lose the interrupted r3/r1. The runtime
//! enables neither critical input nor the watchdog, and its machine checks come only from
//! code run under `fault::catch`, never from an entry.

use core::arch::global_asm;

use super::spr;

/// The interrupted context. The assembly below depends on this exact layout.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TrapFrame {
    /// General registers r0..r31.
    pub gpr: [u32; 32],
    /// CR.
    pub cr: u32,
    /// LR.
    pub lr: u32,
    /// CTR.
    pub ctr: u32,
    /// XER.
    pub xer: u32,
    /// Where the return resumes (SRR0, CSRR0 or MCSRR0).
    pub srr0: u32,
    /// The MSR the return restores (SRR1, CSRR1 or MCSRR1).
    pub srr1: u32,
    /// ESR at entry.
    pub esr: u32,
    /// DEAR at entry.
    pub dear: u32,
    /// The IVOR number of the interrupt.
    pub vector: u32,
    _pad: u32,
}

const _: () = assert!(core::mem::size_of::<TrapFrame>() == 168);

/// IVOR numbers (the interrupt each one names).
pub mod ivor {
    /// Machine check.
    pub const MACHINE_CHECK: u32 = 1;
    /// Data storage.
    pub const DATA_STORAGE: u32 = 2;
    /// Instruction storage.
    pub const INSTRUCTION_STORAGE: u32 = 3;
    /// External input (the virq word).
    pub const EXTERNAL: u32 = 4;
    /// Alignment.
    pub const ALIGNMENT: u32 = 5;
    /// Program (illegal or privileged instruction, trap).
    pub const PROGRAM: u32 = 6;
    /// System call.
    pub const SYSCALL: u32 = 8;
    /// Decrementer.
    pub const DECREMENTER: u32 = 10;
    /// Data TLB error.
    pub const DATA_TLB: u32 = 13;
    /// Instruction TLB error.
    pub const INSTRUCTION_TLB: u32 = 14;

    /// A short name for messages (`DSI`, `MCHK`, ...).
    pub fn name(n: u32) -> &'static str {
        match n {
            0 => "CRIT",
            1 => "MCHK",
            2 => "DSI",
            3 => "ISI",
            4 => "EXT",
            5 => "ALIGN",
            6 => "PROG",
            7 => "FPU",
            8 => "SC",
            9 => "APU",
            10 => "DEC",
            11 => "FIT",
            12 => "WDT",
            13 => "DTLB",
            14 => "ITLB",
            15 => "DEBUG",
            32 => "SPE",
            33 => "FPDATA",
            34 => "FPROUND",
            35 => "PERF",
            _ => "?",
        }
    }
}

global_asm!(
    r#"
    .equ FRAME, 16                  # back chain and LR save word of the callee, padded
    .equ FRAME_SIZE, 16 + 168
    .equ F_CR, FRAME + 128
    .equ F_LR, FRAME + 132
    .equ F_CTR, FRAME + 136
    .equ F_XER, FRAME + 140
    .equ F_SRR0, FRAME + 144
    .equ F_SRR1, FRAME + 148
    .equ F_ESR, FRAME + 152
    .equ F_DEAR, FRAME + 156
    .equ F_VECTOR, FRAME + 160

    .macro MR_VECTOR n, class
    .balign 16
    .globl __mr_vector\n
__mr_vector\n:
    mtspr   272, 3
    li      3, \n
    b       __mr_entry_\class
    .endm

    .macro MR_ENTRY class, srr0, srr1, ret
    .balign 16
__mr_entry_\class:
    mtspr   273, 1
    stwu    1, -FRAME_SIZE(1)
    stw     0, FRAME + 0*4(1)
    stw     2, FRAME + 2*4(1)
    stmw    4, FRAME + 4*4(1)
    stw     3, F_VECTOR(1)
    mfspr   0, 272
    stw     0, FRAME + 3*4(1)
    mfspr   0, 273
    stw     0, FRAME + 1*4(1)
    mfcr    0
    stw     0, F_CR(1)
    mflr    0
    stw     0, F_LR(1)
    mfctr   0
    stw     0, F_CTR(1)
    mfxer   0
    stw     0, F_XER(1)
    mfspr   0, \srr0
    stw     0, F_SRR0(1)
    mfspr   0, \srr1
    stw     0, F_SRR1(1)
    mfspr   0, 62
    stw     0, F_ESR(1)
    mfspr   0, 61
    stw     0, F_DEAR(1)
    addi    3, 1, FRAME
    bl      __mr_trap
    lwz     0, F_SRR0(1)
    mtspr   \srr0, 0
    lwz     0, F_SRR1(1)
    mtspr   \srr1, 0
    lwz     0, F_CR(1)
    mtcr    0
    lwz     0, F_LR(1)
    mtlr    0
    lwz     0, F_CTR(1)
    mtctr   0
    lwz     0, F_XER(1)
    mtxer   0
    lwz     0, FRAME + 0*4(1)
    lwz     2, FRAME + 2*4(1)
    lwz     3, FRAME + 3*4(1)
    lmw     4, FRAME + 4*4(1)
    lwz     1, FRAME + 1*4(1)
    .long   \ret
    .endm

    .section .text.mr_vectors, "ax"
    MR_VECTOR 0, critical
    MR_VECTOR 1, machine_check
    MR_VECTOR 2, standard
    MR_VECTOR 3, standard
    MR_VECTOR 4, standard
    MR_VECTOR 5, standard
    MR_VECTOR 6, standard
    MR_VECTOR 7, standard
    MR_VECTOR 8, standard
    MR_VECTOR 9, standard
    MR_VECTOR 10, standard
    MR_VECTOR 11, standard
    MR_VECTOR 12, critical
    MR_VECTOR 13, standard
    MR_VECTOR 14, standard
    MR_VECTOR 15, critical
    MR_VECTOR 32, standard
    MR_VECTOR 33, standard
    MR_VECTOR 34, standard
    MR_VECTOR 35, standard
    MR_ENTRY standard, 26, 27, 0x4C000064        # SRR0/SRR1, rfi
    MR_ENTRY critical, 58, 59, 0x4C000066        # CSRR0/CSRR1, rfci
    MR_ENTRY machine_check, 570, 571, 0x4C00004C # MCSRR0/MCSRR1, rfmci
"#
);

/// Rust side of the exception entry.
#[no_mangle]
extern "C" fn __mr_trap(frame: &mut TrapFrame) {
    crate::trap::dispatch(frame);
}

/// Point IVPR and every IVOR at the stubs.
pub fn install() {
    extern "C" {
        static __mr_vector0: u8;
        static __mr_vector1: u8;
        static __mr_vector2: u8;
        static __mr_vector3: u8;
        static __mr_vector4: u8;
        static __mr_vector5: u8;
        static __mr_vector6: u8;
        static __mr_vector7: u8;
        static __mr_vector8: u8;
        static __mr_vector9: u8;
        static __mr_vector10: u8;
        static __mr_vector11: u8;
        static __mr_vector12: u8;
        static __mr_vector13: u8;
        static __mr_vector14: u8;
        static __mr_vector15: u8;
        static __mr_vector32: u8;
        static __mr_vector33: u8;
        static __mr_vector34: u8;
        static __mr_vector35: u8;
    }
    let at = |p: *const u8| p as u32;
    let base = at(core::ptr::addr_of!(__mr_vector0));
    // SAFETY: IVPR and the IVORs only say where this guest's own interrupts go: every stub
    // lies in the 64 KiB above IVPR (the linker script keeps them at the image's start).
    unsafe {
        spr::write::<{ spr::IVPR }>(base & 0xFFFF_0000);
        spr::write::<400>(at(core::ptr::addr_of!(__mr_vector0)) & 0xFFF0);
        spr::write::<401>(at(core::ptr::addr_of!(__mr_vector1)) & 0xFFF0);
        spr::write::<402>(at(core::ptr::addr_of!(__mr_vector2)) & 0xFFF0);
        spr::write::<403>(at(core::ptr::addr_of!(__mr_vector3)) & 0xFFF0);
        spr::write::<404>(at(core::ptr::addr_of!(__mr_vector4)) & 0xFFF0);
        spr::write::<405>(at(core::ptr::addr_of!(__mr_vector5)) & 0xFFF0);
        spr::write::<406>(at(core::ptr::addr_of!(__mr_vector6)) & 0xFFF0);
        spr::write::<407>(at(core::ptr::addr_of!(__mr_vector7)) & 0xFFF0);
        spr::write::<408>(at(core::ptr::addr_of!(__mr_vector8)) & 0xFFF0);
        spr::write::<409>(at(core::ptr::addr_of!(__mr_vector9)) & 0xFFF0);
        spr::write::<410>(at(core::ptr::addr_of!(__mr_vector10)) & 0xFFF0);
        spr::write::<411>(at(core::ptr::addr_of!(__mr_vector11)) & 0xFFF0);
        spr::write::<412>(at(core::ptr::addr_of!(__mr_vector12)) & 0xFFF0);
        spr::write::<413>(at(core::ptr::addr_of!(__mr_vector13)) & 0xFFF0);
        spr::write::<414>(at(core::ptr::addr_of!(__mr_vector14)) & 0xFFF0);
        spr::write::<415>(at(core::ptr::addr_of!(__mr_vector15)) & 0xFFF0);
        spr::write::<528>(at(core::ptr::addr_of!(__mr_vector32)) & 0xFFF0);
        spr::write::<529>(at(core::ptr::addr_of!(__mr_vector33)) & 0xFFF0);
        spr::write::<530>(at(core::ptr::addr_of!(__mr_vector34)) & 0xFFF0);
        spr::write::<531>(at(core::ptr::addr_of!(__mr_vector35)) & 0xFFF0);
    }
}

/// If the interrupt was taken inside the idle sequence (after `wrteei 1`, before `vm_yield`
/// returned), resume after it instead of sleeping on work the guest already has.
pub fn leave_idle_region(frame: &mut TrapFrame) {
    extern "C" {
        static __mr_idle_region_start: u8;
        static __mr_idle_region_end: u8;
    }
    let start = core::ptr::addr_of!(__mr_idle_region_start) as u32;
    let end = core::ptr::addr_of!(__mr_idle_region_end) as u32;
    if (start..end).contains(&frame.srr0) {
        frame.srr0 = end;
    }
}
