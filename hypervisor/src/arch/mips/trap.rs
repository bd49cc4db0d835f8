//! Exception vectors and the trap path.
//!
//! The vector page (EBase) has the TLB refill vector at +0x000, cache error at +0x100 and the
//! general vector at +0x180 (interrupts use it too: Cause.IV = 0). All of them enter
//! `__hv_trap_entry`. A trap from a guest first tries the assembly path (`fast_cp0.rs`: the
//! guest kernel's commonest CP0 traps and its `syscall`, served with `$k0/$k1` and two parked
//! registers); else the entry saves the caller-saved registers in a [`TrapFrame`] and tries
//! the Rust fast path (`vcpu.rs`), and else saves the rest and runs `__hv_trap` in kernel mode
//! with interrupts off, then restores the (possibly changed) frame. The hypercall is decided
//! first of all, with the word the assembly path read: it saves the same registers at
//! `__hv_trap_hypercall_entry` and calls the Rust hypercall entry directly.
//!
//! Stack: a trap from kernel mode pushes its frame on the current stack; a trap from
//! supervisor or user mode (a guest) switches to the trap stack first, so a guest's stack
//! pointer is never trusted.

use core::arch::global_asm;

use super::cp0;
use crate::kernel;

/// The state of the interrupted context. Assembly below depends on this exact layout, and its
/// first 133 bytes are laid out like `vcpu_mips::GuestRegs` (registers, PC, branch-delay flag),
/// so a guest's frame can be handed to the guest CPU model in place.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TrapFrame {
    /// General registers $0..$31 ($0 is not restored; $k0/$k1 are the interrupted context's,
    /// parked in ErrorEPC/DataLo on the way in, because a guest's exception handler keeps
    /// live values there).
    pub gpr: [u32; 32],
    /// Where the context resumes (EPC).
    pub epc: u32,
    /// Cause.BD at the trap: `epc` is a branch whose delay slot was interrupted.
    pub branch_delay: bool,
    _pad: [u8; 3],
    pub hi: u32,
    pub lo: u32,
    pub status: u32,
    pub cause: u32,
    pub badvaddr: u32,
}

impl TrapFrame {
    /// A frame that starts executing at `pc` with `status` (all registers zero).
    pub fn at(pc: u32, status: u32) -> Self {
        TrapFrame {
            epc: pc,
            status,
            ..Default::default()
        }
    }
}

const _: () = assert!(core::mem::size_of::<TrapFrame>() == 156);
const _: () = assert!(core::mem::offset_of!(TrapFrame, epc) == 128);
const _: () = assert!(core::mem::offset_of!(TrapFrame, branch_delay) == 132);
const _: () = assert!(core::mem::offset_of!(TrapFrame, hi) == 136);
const _: () = assert!(core::mem::offset_of!(TrapFrame, badvaddr) == 152);

global_asm!(
    r#"
    .equ FRAME, 16                  # o32 argument area below the frame
    .equ FRAME_SIZE, 16 + 160       # frame (156) rounded up to 8
    .equ F_EPC, FRAME + 128
    .equ F_BD, FRAME + 132
    .equ F_HI, FRAME + 136
    .equ F_LO, FRAME + 140
    .equ F_STATUS, FRAME + 144
    .equ F_CAUSE, FRAME + 148
    .equ F_BADVADDR, FRAME + 152

    # The first part of a frame: $sp = the frame, $k1 = the interrupted $sp, the interrupted
    # $k0/$k1 parked in ErrorEPC/DataLo. Saves those, $0, the registers the o32 calling
    # convention lets a callee clobber (phase 1), HI/LO and EPC. Uses $k1 and $t0 (saved).
    .macro SAVE_CALLER_SAVED
    sw      $k1, FRAME + 29*4($sp)
    mfc0    $k1, $30
    sw      $k1, FRAME + 26*4($sp)
    mfc0    $k1, $28, 1
    sw      $k1, FRAME + 27*4($sp)
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
    sw      $24, FRAME + 24*4($sp)
    sw      $25, FRAME + 25*4($sp)
    sw      $28, FRAME + 28*4($sp)
    sw      $31, FRAME + 31*4($sp)
    mfhi    $t0
    sw      $t0, F_HI($sp)
    mflo    $t0
    sw      $t0, F_LO($sp)
    mfc0    $t0, $14
    sw      $t0, F_EPC($sp)
    .endm

    .section .vectors, "ax"
    .balign 4096
    .globl __hv_vectors
    .set push
    .set noreorder
    .set noat
__hv_vectors:
    # +0x000 TLB refill. A refill taken by a guest is first looked up in the running guest's
    # refill cache (vcpu_mips::RefillCache: 256 slots of (entry_hi, lo0, lo1, page_mask),
    # slot = ((EntryHi >> 13) ^ EntryHi) & 255, the cache 16-byte aligned); on a hit the
    # entry is written with tlbwr and the guest resumes. Everything else takes the general path. The guest's $k0/$k1 (live in its own
    # exception handlers) are parked in ErrorEPC and DataLo meanwhile.
    mtc0    $k0, $30                # ErrorEPC <- guest $k0
    mtc0    $k1, $28, 1             # DataLo <- guest $k1
    mfc0    $k0, $12
    andi    $k0, $k0, 0x18          # Status.KSU: zero for the hypervisor itself
    beqz    $k0, 8f
    lui     $k1, %hi(__hv_refill_cache)
    lw      $k1, %lo(__hv_refill_cache)($k1)
    beqz    $k1, 8f
    mfc0    $k0, $10                # EntryHi = faulting VPN2 | current ASID
    srl     $k1, $k0, 13
    xor     $k0, $k0, $k1           # low 8 bits: VPN2 ^ ASID, the slot
    andi    $k0, $k0, 0xFF
    sll     $k0, $k0, 4
    lui     $k1, %hi(__hv_refill_cache)
    lw      $k1, %lo(__hv_refill_cache)($k1)
    addu    $k1, $k1, $k0           # &slot
    lw      $k0, 0($k1)             # slot tag
    mfc0    $k1, $10
    bne     $k0, $k1, 8f
    srl     $k0, $k1, 13            # (slot) &slot again, from EntryHi
    xor     $k0, $k0, $k1
    andi    $k0, $k0, 0xFF
    sll     $k0, $k0, 4
    lui     $k1, %hi(__hv_refill_cache)
    lw      $k1, %lo(__hv_refill_cache)($k1)
    addu    $k1, $k1, $k0
    lw      $k0, 4($k1)
    mtc0    $k0, $2                 # EntryLo0
    lw      $k0, 8($k1)
    mtc0    $k0, $3                 # EntryLo1
    lw      $k0, 12($k1)
    mtc0    $k0, $5                 # PageMask
    ehb
    tlbwr
    mtc0    $zero, $5
    mfc0    $k0, $30
    mfc0    $k1, $28, 1
    ehb
    eret
8:  mfc0    $k0, $30                # miss: give the guest its $k0/$k1 back, take the slow path
    j       __hv_trap_entry
    mfc0    $k1, $28, 1
    .org 0x100
    j       __hv_trap_entry         # +0x100 cache error
    nop
    # +0x180 general exception (interrupts too: Cause.IV = 0, so +0x200 is not a vector and
    # the entry runs on through it).
    .org 0x180
    .globl __hv_trap_entry
    .type __hv_trap_entry, @function
__hv_trap_entry:
    mtc0    $k0, $30                # park the interrupted $k0/$k1 (ErrorEPC, DataLo)
    mtc0    $k1, $28, 1
    mfc0    $k0, $12
    andi    $k0, $k0, 0x18          # Status.KSU of the interrupted context
    beqz    $k0, 1f
    move    $k1, $sp                # (delay slot) interrupted sp
    j       __hv_fast_cp0           # a guest: first the assembly path (fast_cp0.rs), which
    mfc0    $k0, $13                # (slot: $k0 = Cause) returns to the guest, comes back
                                    # below ($k1 = sp) or goes to __hv_trap_hypercall_entry
    .globl __hv_trap_guest
__hv_trap_guest:
    la      $sp, __hv_trap_stack_top
1:  addiu   $sp, $sp, -FRAME_SIZE
    SAVE_CALLER_SAVED
    mfc0    $t2, $13
    sw      $t2, F_CAUSE($sp)
    srl     $t1, $t2, 31            # Cause.BD
    sb      $t1, F_BD($sp)
    mfc0    $t0, $12
    sw      $t0, F_STATUS($sp)
    addiu   $t1, $zero, -32         # clear KSU, ERL, EXL, IE: kernel mode, interrupts off
    and     $t1, $t0, $t1
    mtc0    $t1, $12
    ehb
    # An exception from a guest other than an interrupt (hypercall, CP0 and TLB instructions,
    # shadow refills, exceptions to reflect) first tries the fast path, which needs only the
    # phase 1 registers (Rust preserves the others); BadVAddr goes in $a1.
    andi    $t0, $t0, 0x18
    beqz    $t0, 2f
    andi    $t2, $t2, 0x7C          # (delay slot) Cause.ExcCode << 2
    beqz    $t2, 2f                 # interrupts: the general path
    mfc0    $a1, $8                 # (delay slot) BadVAddr
    jal     __hv_trap_fast          # (static code: jal reaches all of kseg0)
    addiu   $a0, $sp, FRAME         # (delay slot) &mut TrapFrame
    beqz    $v0, .Lhv_trap_return_status    # FAST_DONE: straight back
    lw      $t0, F_STATUS($sp)      # (delay slot) the return's first load
    addiu   $t0, $zero, 1
.Lhv_trap_fast_other:                   # $t0 = 1
    bne     $v0, $t0, 2f            # FAST_DECLINED: nothing changed, the general path
    nop
    la      $t9, __hv_after_fast    # FAST_DONE_LOOK: the guest needs the general return path
    b       3f
    nop
    # Phase 2 and the general path.
2:  mfc0    $t0, $8
    sw      $t0, F_BADVADDR($sp)
    la      $t9, __hv_trap
3:  sw      $16, FRAME + 16*4($sp)  # (both: the rest of the registers, then the call in $t9)
    sw      $17, FRAME + 17*4($sp)
    sw      $18, FRAME + 18*4($sp)
    sw      $19, FRAME + 19*4($sp)
    sw      $20, FRAME + 20*4($sp)
    sw      $21, FRAME + 21*4($sp)
    sw      $22, FRAME + 22*4($sp)
    sw      $23, FRAME + 23*4($sp)
    sw      $30, FRAME + 30*4($sp)
    jalr    $t9
    addiu   $a0, $sp, FRAME         # (delay slot) &mut TrapFrame
8:  lw      $16, FRAME + 16*4($sp)
    lw      $17, FRAME + 17*4($sp)
    lw      $18, FRAME + 18*4($sp)
    lw      $19, FRAME + 19*4($sp)
    lw      $20, FRAME + 20*4($sp)
    lw      $21, FRAME + 21*4($sp)
    lw      $22, FRAME + 22*4($sp)
    lw      $23, FRAME + 23*4($sp)
    lw      $30, FRAME + 30*4($sp)
    lw      $t0, F_STATUS($sp)      # EXL = 1 again: restoring EPC and registers is safe
.Lhv_trap_return_status:
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
    lw      $24, FRAME + 24*4($sp)
    lw      $25, FRAME + 25*4($sp)
    lw      $26, FRAME + 26*4($sp)
    lw      $27, FRAME + 27*4($sp)
    lw      $28, FRAME + 28*4($sp)
    lw      $31, FRAME + 31*4($sp)
    lw      $sp, FRAME + 29*4($sp)
    ehb
    eret
    # The hypercall (mtc0 $0, $1), found by the assembly path at the guest's EPC in its RAM
    # window with Cause.BD and CE clear: $k0 = that word, $k1 = the guest's $sp. The same
    # frame as above, then __hv_trap_hypercall (vcpu.rs) instead of __hv_trap_fast: no second
    # fetch, no dispatch on the exception. What it declines takes the general path.
    .globl __hv_trap_hypercall_entry
__hv_trap_hypercall_entry:
    la      $sp, __hv_trap_stack_top - FRAME_SIZE
    SAVE_CALLER_SAVED
    mfc0    $t2, $13
    sw      $t2, F_CAUSE($sp)
    sb      $zero, F_BD($sp)        # (checked clear)
    mfc0    $t0, $12
    sw      $t0, F_STATUS($sp)
    addiu   $t1, $zero, -32         # kernel mode, interrupts off
    and     $t1, $t0, $t1
    mtc0    $t1, $12
    move    $a1, $k0                # the word
    ehb
    jal     __hv_trap_hypercall
    addiu   $a0, $sp, FRAME         # (delay slot) &mut TrapFrame
    beqz    $v0, .Lhv_trap_return_status    # FAST_DONE: straight back
    lw      $t0, F_STATUS($sp)      # (delay slot)
    b       .Lhv_trap_fast_other    # FAST_DONE_LOOK or FAST_DECLINED: as above
    addiu   $t0, $zero, 1           # (delay slot)
    .size __hv_trap_entry, . - __hv_trap_entry
    .set pop
"#
);

/// Exception codes (Cause.ExcCode) the kernel tells apart.
const EXC_INTERRUPT: u32 = 0;

const EXC_SYSCALL: u32 = 8;

/// The exception code of a trap.
pub(super) fn exc_code(frame: &TrapFrame) -> u32 {
    (frame.cause >> cp0::CAUSE_EXCCODE_SHIFT) & cp0::CAUSE_EXCCODE_MASK
}

/// Every exception comes here, with interrupts off.
#[no_mangle]
extern "C" fn __hv_trap(frame: &mut TrapFrame) {
    if frame.status & cp0::STATUS_KSU_MASK != 0 {
        super::vcpu::trap(frame);
        return;
    }
    match exc_code(frame) {
        EXC_INTERRUPT => interrupt(frame),
        EXC_SYSCALL if frame.gpr[2] == super::guest::ENTER_GUEST => super::vcpu::enter(frame),
        code => unexpected(frame, code),
    }
}

/// Dispatch the pending hardware interrupts of `frame`.
pub(super) fn interrupt(frame: &mut TrapFrame) {
    leave_idle_region(frame);
    let pending = (frame.cause & frame.status) >> cp0::CAUSE_IP_SHIFT & 0xFF;
    if pending & (1 << 7) != 0 && super::timer_interrupt() {
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
