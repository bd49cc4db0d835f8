//! Exception vectors and the exception entry.
//!
//! A MetaROUTER guest's vectors live in its first page: 0xC000_0000 + {0x000 TLB refill,
//! 0x180 general, 0x200 interrupt (Cause.IV = 1)}. Like the RouterOS kernel (`trap_init`), the
//! guest computes the base as `0xC000_0000 + (EBase & 0x3FFF_F000)`, copies a 16-byte stub to
//! each vector at run time and makes the copies visible to instruction fetch (`synci`). Each
//! stub jumps to `__mr_exception`, which pushes a [`TrapFrame`] on the current stack (the
//! guest has a single privilege level), calls `crate::trap::dispatch`, and returns with `eret`
//! to the (possibly changed) EPC.
//!
//! The stub uses `$k0`, the entry `$k1`: the host must preserve both across anything it
//! handles on the guest's behalf (emulated instructions, its own TLB refills, preemption), as
//! every MIPS guest kernel's exception path relies on it.

use core::arch::{asm, global_asm};

use super::cp0;

/// The interrupted context. The assembly below depends on this exact layout.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TrapFrame {
    /// General registers $0..$31 (the $0, $k0 and $k1 slots are not restored).
    pub gpr: [u32; 32],
    /// HI.
    pub hi: u32,
    /// LO.
    pub lo: u32,
    /// EPC: where `eret` resumes.
    pub epc: u32,
    /// Status at entry (EXL set). Written back before `eret`, EXL forced.
    pub status: u32,
    /// Cause at entry.
    pub cause: u32,
    /// BadVAddr at entry.
    pub badvaddr: u32,
}

const _: () = assert!(core::mem::size_of::<TrapFrame>() == 152);

/// Offsets of the vectors from the exception base.
pub const VECTOR_OFFSETS: [u32; 3] = [0x000, 0x180, 0x200];
/// Base of the guest RAM window (guest "physical" 0).
pub const WINDOW_BASE: u32 = 0xC000_0000;

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

    .section .text.mr_vector_stub, "ax"
    .globl __mr_vector_stub
    .globl __mr_vector_stub_end
    .set push
    .set mips32r2
    .set noreorder
    .set noat
    .balign 16
__mr_vector_stub:
    lui     $k0, %hi(__mr_exception)
    addiu   $k0, $k0, %lo(__mr_exception)
    jr      $k0
    nop
__mr_vector_stub_end:

    .section .text.mr_exception, "ax"
    .globl __mr_exception
    .type __mr_exception, @function
__mr_exception:
    move    $k1, $sp
    addiu   $sp, $sp, -FRAME_SIZE
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
    mfc0    $t0, $12
    sw      $t0, F_STATUS($sp)
    mfc0    $t0, $13
    sw      $t0, F_CAUSE($sp)
    mfc0    $t0, $8
    sw      $t0, F_BADVADDR($sp)
    lui     $gp, %hi(_gp)
    addiu   $gp, $gp, %lo(_gp)
    lui     $t9, %hi(__mr_trap)
    addiu   $t9, $t9, %lo(__mr_trap)
    jalr    $t9
    addiu   $a0, $sp, FRAME         # (delay slot) &mut TrapFrame

    lw      $t0, F_STATUS($sp)
    ori     $t0, $t0, 2             # EXL stays set until eret
    mtc0    $t0, $12
    ehb
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
    .size __mr_exception, . - __mr_exception
    .set pop
"#
);

/// Rust side of the exception entry.
#[no_mangle]
extern "C" fn __mr_trap(frame: &mut TrapFrame) {
    crate::trap::dispatch(frame);
}

/// The exception base the guest uses: `0xC000_0000 + (EBase & 0x3FFF_F000)`.
pub fn exception_base() -> u32 {
    WINDOW_BASE + (cp0::read_ebase() & 0x3FFF_F000)
}

/// Copy the vector stub to every vector of the exception base `base`, make the copies visible
/// to instruction fetch, and route interrupts to +0x200 (Cause.IV).
///
/// # Safety
/// `base + 0x000 .. base + 0x210` must be guest RAM that nothing else uses.
pub unsafe fn install_at(base: u32) {
    extern "C" {
        static __mr_vector_stub: [u32; 4];
    }
    // SAFETY: the stub is 16 bytes of code in the image, read as words.
    let stub: [u32; 4] = unsafe { core::ptr::addr_of!(__mr_vector_stub).read() };
    for offset in VECTOR_OFFSETS {
        let at = (base + offset) as *mut u32;
        for (i, word) in stub.iter().enumerate() {
            // SAFETY: the caller gave us this vector area.
            unsafe { at.add(i).write_volatile(*word) };
        }
        sync_icache(base + offset, 16);
    }
    cp0::write_cause(cp0::read_cause() | cp0::CAUSE_IV);
}

/// Make `len` bytes of freshly written code at `addr` visible to instruction fetch (MIPS32r2
/// `synci`, usable at every privilege level, 16-byte steps: at most the line size).
pub fn sync_icache(addr: u32, len: u32) {
    let mut a = addr & !15;
    while a < addr + len {
        // SAFETY: `synci` only writes back/invalidates cache lines of a mapped address.
        unsafe {
            asm!(".set push", ".set noat", "synci 0({0})", ".set pop", in(reg) a, options(nostack))
        };
        a += 16;
    }
    // SAFETY: `sync` orders memory; `ehb`... the jump hazard is cleared by the next `eret`/`jr.hb`.
    unsafe { asm!("sync", options(nostack)) };
}

/// Install the vectors at [`exception_base`].
pub fn install() {
    // SAFETY: the first page of the window holds only the vectors (the image starts at
    // 0xC010_0000 and argv, if the host put it low, has been copied out already).
    unsafe { install_at(exception_base()) }
}

/// If the interrupt was taken inside the idle sequence (after `ei`, before `wait` finished),
/// resume after it instead of sleeping on work the guest already has.
pub fn leave_idle_region(frame: &mut TrapFrame) {
    extern "C" {
        static __mr_idle_region_start: u8;
        static __mr_idle_region_end: u8;
    }
    let start = core::ptr::addr_of!(__mr_idle_region_start) as u32;
    let end = core::ptr::addr_of!(__mr_idle_region_end) as u32;
    if (start..end).contains(&frame.epc) {
        frame.epc = end;
    }
}
