//! The exception paths of a small Unix-like kernel, written the way Linux 6.1 writes them for a
//! 32-bit 24Kc, so that a benchmark run under the hypervisor executes the same trapping CP0
//! instructions per TLB miss and per system call as a Linux guest does:
//!
//! - `ub_refill` (copied to the refill vector, +0x000): Linux's `build_r4000_tlb_refill_handler`
//!   for 4 KiB pages without RIXI: `pgd_current`, BadVAddr, Context, two PTE loads, `srl 6`,
//!   EntryLo0/1, `tlbwr`, `eret` (19 instructions, 6 of them CP0).
//! - `ub_general` (copied to +0x180): `except_vec3_generic`: Cause, the handler table, `jr`.
//! - `ub_sys`: `handle_sys` with `SAVE_SOME` (Status, Status, Cause, EPC read), `CLI`, the
//!   system call, `di`, `RESTORE_SOME` (Status read and two writes, EPC write) and `eret`.
//! - `ub_tlb_fault` (TLBL/TLBS from user mode): `SAVE_ALL`, `CLI`, `ub_page_fault` in Rust
//!   (which updates the TLB like `__update_tlb`), `RESTORE_ALL`, `eret`.
//! - Exceptions from kernel mode go to the SDK's handler (`__mr_exception`).
//!
//! `ub_enter_user` saves the kernel's callee-saved registers and enters user mode with `eret`;
//! the `exit` system call (or any other exception from user mode) comes back to its caller.
//! User mode runs with interrupts masked (IE = 0): the SDK's interrupt entry would use the
//! user's stack.

use core::arch::global_asm;

/// System call numbers (in `$v0`).
pub const SYS_NOP: u32 = 4020; // getpid's o32 number: the cheapest real system call
/// Leave user mode; `$a0` is the result of `ub_enter_user`.
pub const SYS_EXIT: u32 = 4001;
/// `ub_enter_user` result bit: user mode ended with an exception, ExcCode in bits 4:0.
pub const CRASHED: u32 = 0x8000_0000;

global_asm!(
    r#"
    .equ PT_R0, 16
    .equ PT_HI, 16 + 128
    .equ PT_LO, 16 + 132
    .equ PT_STATUS, 16 + 136
    .equ PT_CAUSE, 16 + 140
    .equ PT_EPC, 16 + 144
    .equ PT_BADVADDR, 16 + 148
    .equ PT_SIZE, 16 + 152
    .equ STATMASK, 0x1f

    .set push
    .set mips32r2
    .set noreorder
    .set noat

    .section .text.ub_vectors, "ax"
    .globl ub_refill
    .globl ub_refill_end
    .globl ub_general
    .globl ub_general_end
ub_refill:
    lui     $k1, %hi(ub_pgd_current)
    mfc0    $k0, $8                 # BadVAddr
    lw      $k1, %lo(ub_pgd_current)($k1)
    srl     $k0, $k0, 22
    sll     $k0, $k0, 2
    addu    $k1, $k1, $k0
    mfc0    $k0, $4                 # Context
    lw      $k1, 0($k1)
    srl     $k0, $k0, 1
    andi    $k0, $k0, 0xff8
    addu    $k1, $k1, $k0
    lw      $k0, 0($k1)
    lw      $k1, 4($k1)
    srl     $k0, $k0, 6
    mtc0    $k0, $2                 # EntryLo0
    srl     $k1, $k1, 6
    mtc0    $k1, $3                 # EntryLo1
    ehb
    tlbwr
    eret
ub_refill_end:

ub_general:
    mfc0    $k1, $13                # Cause
    andi    $k1, $k1, 0x7c
    lui     $k0, %hi(ub_handlers)
    addu    $k0, $k0, $k1
    lw      $k0, %lo(ub_handlers)($k0)
    jr      $k0
    nop
ub_general_end:

    .section .text.ub_handlers, "ax"
    # From kernel mode: the SDK's exception entry.
ub_to_sdk:
    lui     $k0, %hi(__mr_exception)
    addiu   $k0, $k0, %lo(__mr_exception)
    jr      $k0
    nop

    # SAVE_SOME onto the kernel stack: $0, v0, v1, a0-a3, t0-t2, t9, gp, sp, ra, Status,
    # Cause, EPC. Falls through with $sp = the frame.
    .macro SAVE_SOME
    mfc0    $k0, $12                # Status: from user mode?
    andi    $k0, $k0, 0x18
    beqz    $k0, ub_to_sdk
    nop
    lui     $k1, %hi(ub_kernelsp)
    lw      $k1, %lo(ub_kernelsp)($k1)
    move    $k0, $sp
    addiu   $sp, $k1, -PT_SIZE
    sw      $k0, PT_R0 + 29*4($sp)
    sw      $3, PT_R0 + 3*4($sp)
    sw      $0, PT_R0 + 0*4($sp)
    mfc0    $3, $12                 # Status
    sw      $2, PT_R0 + 2*4($sp)
    sw      $3, PT_STATUS($sp)
    sw      $4, PT_R0 + 4*4($sp)
    mfc0    $3, $13                 # Cause
    sw      $5, PT_R0 + 5*4($sp)
    sw      $3, PT_CAUSE($sp)
    sw      $6, PT_R0 + 6*4($sp)
    mfc0    $3, $14                 # EPC
    sw      $7, PT_R0 + 7*4($sp)
    sw      $3, PT_EPC($sp)
    sw      $8, PT_R0 + 8*4($sp)
    sw      $9, PT_R0 + 9*4($sp)
    sw      $10, PT_R0 + 10*4($sp)
    sw      $25, PT_R0 + 25*4($sp)
    sw      $28, PT_R0 + 28*4($sp)
    sw      $31, PT_R0 + 31*4($sp)
    lui     $28, %hi(_gp)
    addiu   $28, $28, %lo(_gp)
    .endm

    # CLI: kernel mode, EXL and IE clear.
    .macro CLI
    mfc0    $t0, $12
    ori     $t0, $t0, STATMASK
    xori    $t0, $t0, STATMASK
    mtc0    $t0, $12
    ehb
    .endm

    # RESTORE_SOME + eret: the interrupted Status (with EXL), EPC and the saved registers.
    .macro RESTORE_SOME_ERET
    di
    ehb
    mfc0    $a0, $12
    ori     $a0, $a0, STATMASK
    xori    $a0, $a0, STATMASK
    mtc0    $a0, $12
    li      $v1, 0xff00
    and     $a0, $a0, $v1
    lw      $v0, PT_STATUS($sp)
    nor     $v1, $0, $v1
    and     $v0, $v0, $v1
    or      $v0, $v0, $a0
    mtc0    $v0, $12
    lw      $v1, PT_EPC($sp)
    mtc0    $v1, $14
    lw      $31, PT_R0 + 31*4($sp)
    lw      $28, PT_R0 + 28*4($sp)
    lw      $25, PT_R0 + 25*4($sp)
    lw      $10, PT_R0 + 10*4($sp)
    lw      $9, PT_R0 + 9*4($sp)
    lw      $8, PT_R0 + 8*4($sp)
    lw      $7, PT_R0 + 7*4($sp)
    lw      $6, PT_R0 + 6*4($sp)
    lw      $5, PT_R0 + 5*4($sp)
    lw      $4, PT_R0 + 4*4($sp)
    lw      $3, PT_R0 + 3*4($sp)
    lw      $2, PT_R0 + 2*4($sp)
    lw      $sp, PT_R0 + 29*4($sp)
    ehb
    eret
    .endm

    .globl ub_sys
ub_sys:
    SAVE_SOME
    lw      $t1, PT_EPC($sp)        # past the syscall
    addiu   $t1, $t1, 4
    sw      $t1, PT_EPC($sp)
    CLI
    li      $t1, {sys_exit}
    beq     $v0, $t1, ub_exit
    lui     $t1, %hi(ub_syscalls)
    lw      $t0, %lo(ub_syscalls)($t1)
    addiu   $t0, $t0, 1
    sw      $t0, %lo(ub_syscalls)($t1)
    sw      $zero, PT_R0 + 2*4($sp) # result 0
    RESTORE_SOME_ERET

    # exit(a0): back to ub_enter_user's caller with a0 (kernel mode, EXL and IE clear).
ub_exit:
    move    $v0, $a0
ub_to_kernel:
    lui     $k0, %hi(ub_kctx)
    addiu   $k0, $k0, %lo(ub_kctx)
    lw      $s0, 0($k0)
    lw      $s1, 4($k0)
    lw      $s2, 8($k0)
    lw      $s3, 12($k0)
    lw      $s4, 16($k0)
    lw      $s5, 20($k0)
    lw      $s6, 24($k0)
    lw      $s7, 28($k0)
    lw      $fp, 32($k0)
    lw      $gp, 36($k0)
    lw      $sp, 40($k0)
    lw      $ra, 44($k0)
    jr      $ra
    nop

    .globl ub_tlb_fault
ub_tlb_fault:
    SAVE_SOME
    sw      $1, PT_R0 + 1*4($sp)    # SAVE_ALL: the rest of the caller-saved registers
    sw      $11, PT_R0 + 11*4($sp)
    sw      $12, PT_R0 + 12*4($sp)
    sw      $13, PT_R0 + 13*4($sp)
    sw      $14, PT_R0 + 14*4($sp)
    sw      $15, PT_R0 + 15*4($sp)
    sw      $24, PT_R0 + 24*4($sp)
    mfhi    $t0
    sw      $t0, PT_HI($sp)
    mflo    $t0
    sw      $t0, PT_LO($sp)
    mfc0    $a0, $8                 # BadVAddr
    CLI
    lw      $a1, PT_CAUSE($sp)
    lui     $t9, %hi(ub_page_fault)
    addiu   $t9, $t9, %lo(ub_page_fault)
    jalr    $t9
    nop
    bnez    $v0, ub_crashed
    lw      $t0, PT_HI($sp)
    mthi    $t0
    lw      $t0, PT_LO($sp)
    mtlo    $t0
    lw      $1, PT_R0 + 1*4($sp)
    lw      $11, PT_R0 + 11*4($sp)
    lw      $12, PT_R0 + 12*4($sp)
    lw      $13, PT_R0 + 13*4($sp)
    lw      $14, PT_R0 + 14*4($sp)
    lw      $15, PT_R0 + 15*4($sp)
    lw      $24, PT_R0 + 24*4($sp)
    RESTORE_SOME_ERET

    # Any other exception: from kernel mode the SDK's, from user mode the end of the run.
    .globl ub_other
ub_other:
    mfc0    $k0, $12
    andi    $k0, $k0, 0x18
    beqz    $k0, ub_to_sdk
    nop
    SAVE_SOME
    CLI
    lw      $v0, PT_CAUSE($sp)
ub_crashed:
    lw      $t0, PT_EPC($sp)
    lui     $t1, %hi(ub_crash_epc)
    sw      $t0, %lo(ub_crash_epc)($t1)
    mfc0    $t0, $8
    lui     $t1, %hi(ub_crash_badvaddr)
    sw      $t0, %lo(ub_crash_badvaddr)($t1)
    lw      $v0, PT_CAUSE($sp)
    srl     $v0, $v0, 2
    andi    $v0, $v0, 0x1f
    lui     $t0, 0x8000
    b       ub_to_kernel
    or      $v0, $v0, $t0

    # ub_enter_user(regs: &UserRegs) -> u32: a0..a3, sp, pc of the user context.
    .globl ub_enter_user
ub_enter_user:
    lui     $t0, %hi(ub_kctx)
    addiu   $t0, $t0, %lo(ub_kctx)
    sw      $s0, 0($t0)
    sw      $s1, 4($t0)
    sw      $s2, 8($t0)
    sw      $s3, 12($t0)
    sw      $s4, 16($t0)
    sw      $s5, 20($t0)
    sw      $s6, 24($t0)
    sw      $s7, 28($t0)
    sw      $fp, 32($t0)
    sw      $gp, 36($t0)
    sw      $sp, 40($t0)
    sw      $ra, 44($t0)
    addiu   $t1, $sp, -64           # the kernel stack of user exceptions
    lui     $t2, %hi(ub_kernelsp)
    sw      $t1, %lo(ub_kernelsp)($t2)
    lw      $t1, 20($a0)
    mtc0    $t1, $14                # EPC
    mfc0    $t1, $12
    ori     $t1, $t1, STATMASK
    xori    $t1, $t1, STATMASK
    ori     $t1, $t1, 0x12          # KSU = user, EXL
    mtc0    $t1, $12
    lw      $sp, 16($a0)
    lw      $a1, 4($a0)
    lw      $a2, 8($a0)
    lw      $a3, 12($a0)
    lw      $a0, 0($a0)
    ehb
    eret

    .section .data.ub_handlers, "aw"
    .balign 4
ub_handlers:
    .word ub_other, ub_other, ub_tlb_fault, ub_tlb_fault
    .word ub_other, ub_other, ub_other, ub_other
    .word ub_sys, ub_other, ub_other, ub_other
    .word ub_other, ub_other, ub_other, ub_other
    .word ub_other, ub_other, ub_other, ub_other
    .word ub_other, ub_other, ub_other, ub_other
    .word ub_other, ub_other, ub_other, ub_other
    .word ub_other, ub_other, ub_other, ub_other
    .set pop
"#,
    sys_exit = const SYS_EXIT,
);

/// The user context `ub_enter_user` starts.
#[repr(C)]
pub struct UserRegs {
    pub a: [u32; 4],
    pub sp: u32,
    pub pc: u32,
}

/// Kernel words the assembly uses.
#[no_mangle]
pub static mut ub_pgd_current: u32 = 0;
#[no_mangle]
static mut ub_kernelsp: u32 = 0;
#[no_mangle]
static mut ub_kctx: [u32; 12] = [0; 12];
/// `SYS_NOP` calls served.
#[no_mangle]
pub static mut ub_syscalls: u32 = 0;
/// EPC and BadVAddr of the exception that ended the last run, when it crashed.
#[no_mangle]
pub static mut ub_crash_epc: u32 = 0;
#[no_mangle]
pub static mut ub_crash_badvaddr: u32 = 0;

extern "C" {
    fn ub_enter_user(regs: &UserRegs) -> u32;
    static ub_refill: [u32; 0];
    static ub_refill_end: [u32; 0];
    static ub_general: [u32; 0];
    static ub_general_end: [u32; 0];
}

/// Run user code until it calls `exit` (its `$a0`) or takes an exception the kernel does not
/// serve (`CRASHED | ExcCode`). Interrupts must be off; the address space is `ub_pgd_current`
/// under the ASID in EntryHi.
pub fn run_user(regs: &UserRegs) -> u32 {
    // SAFETY: `ub_enter_user` saves and restores every callee-saved register, `$gp`, `$sp` and
    // `$ra`, and returns here through `ub_to_kernel`; the user code cannot reach kernel memory
    // (user mode).
    unsafe { ub_enter_user(regs) }
}

/// Copy the refill and general exception handlers to their vectors at `base`.
pub fn install_vectors(base: u32) {
    // SAFETY: the symbols delimit code in the image; the vector area is the first page of RAM,
    // which the SDK reserved for vectors (its stubs at +0x000 and +0x180 are replaced).
    unsafe {
        copy_code(
            core::ptr::addr_of!(ub_refill) as u32,
            core::ptr::addr_of!(ub_refill_end) as u32,
            base,
        );
        copy_code(
            core::ptr::addr_of!(ub_general) as u32,
            core::ptr::addr_of!(ub_general_end) as u32,
            base + 0x180,
        );
    }
}

/// # Safety
/// `from..to` is code in the image; `at` is writable guest RAM with room for it.
unsafe fn copy_code(from: u32, to: u32, at: u32) {
    let mut offset = 0;
    while from + offset < to {
        // SAFETY: as the caller promised.
        unsafe {
            let word = ((from + offset) as *const u32).read_volatile();
            ((at + offset) as *mut u32).write_volatile(word);
        }
        offset += 4;
    }
    mr_guest::arch::vectors::sync_icache(at, to - from);
}
