//! Running a function that may fault: the exception handler resumes at a recovery point
//! instead of treating the fault as fatal (like `setjmp`/`longjmp`, with the jump done by
//! `eret`).
//!
//! `__mr_catch(f, data)` saves the callee-saved registers, `$sp`, `$gp` and `$ra`, arms the
//! recovery, calls `f(data)`, disarms and returns `f`'s value. If `f` takes an exception other
//! than an interrupt while armed, `crate::trap` records it, disarms, and sets EPC to
//! `__mr_catch_recover`, which restores the saved registers and returns 0 from `__mr_catch`.

use core::arch::global_asm;
use core::sync::atomic::{AtomicU32, Ordering};

/// Saved context: s0..s7, fp, sp, ra, gp.
#[no_mangle]
static mut __mr_catch_context: [u32; 12] = [0; 12];

/// 1 while a recovery point is armed.
pub static ARMED: AtomicU32 = AtomicU32::new(0);

global_asm!(
    r#"
    .section .text.mr_catch, "ax"
    .globl __mr_catch
    .globl __mr_catch_recover
    .set push
    .set mips32r2
    .set noreorder
    .set noat
__mr_catch:
    lui     $t0, %hi(__mr_catch_context)
    addiu   $t0, $t0, %lo(__mr_catch_context)
    sw      $s0, 0($t0)
    sw      $s1, 4($t0)
    sw      $s2, 8($t0)
    sw      $s3, 12($t0)
    sw      $s4, 16($t0)
    sw      $s5, 20($t0)
    sw      $s6, 24($t0)
    sw      $s7, 28($t0)
    sw      $fp, 32($t0)
    sw      $sp, 36($t0)
    sw      $ra, 40($t0)
    sw      $gp, 44($t0)
    lui     $t1, %hi({armed})
    addiu   $t1, $t1, %lo({armed})
    li      $t2, 1
    sw      $t2, 0($t1)
    move    $t9, $a0
    addiu   $sp, $sp, -16
    jalr    $t9
    move    $a0, $a1                # (delay slot) f(data)
    addiu   $sp, $sp, 16
    lui     $t1, %hi({armed})
    addiu   $t1, $t1, %lo({armed})
    sw      $zero, 0($t1)
    lui     $t0, %hi(__mr_catch_context)
    addiu   $t0, $t0, %lo(__mr_catch_context)
    lw      $ra, 40($t0)
    jr      $ra
    nop
__mr_catch_recover:
    lui     $t0, %hi(__mr_catch_context)
    addiu   $t0, $t0, %lo(__mr_catch_context)
    lw      $s0, 0($t0)
    lw      $s1, 4($t0)
    lw      $s2, 8($t0)
    lw      $s3, 12($t0)
    lw      $s4, 16($t0)
    lw      $s5, 20($t0)
    lw      $s6, 24($t0)
    lw      $s7, 28($t0)
    lw      $fp, 32($t0)
    lw      $sp, 36($t0)
    lw      $ra, 40($t0)
    lw      $gp, 44($t0)
    jr      $ra
    move    $v0, $zero
    .set pop
"#,
    armed = sym ARMED,
);

/// Call `f(data)` with recovery armed; returns `f`'s value, or 0 after a recovered fault
/// (the caller learns which from `crate::trap`'s record of the fault).
///
/// # Safety
/// `f` must be a valid o32 function. If it faults, the frames between this call and the fault
/// are abandoned without running destructors.
pub unsafe fn call(f: extern "C" fn(*mut u8) -> u32, data: *mut u8) -> u32 {
    extern "C" {
        fn __mr_catch(f: extern "C" fn(*mut u8) -> u32, data: *mut u8) -> u32;
    }
    // SAFETY: forwarded from the caller; `__mr_catch` follows the o32 ABI on both return paths.
    unsafe { __mr_catch(f, data) }
}

/// Whether a recovery point is armed.
pub fn armed() -> bool {
    ARMED.load(Ordering::Relaxed) != 0
}

/// Disarm and return the address to resume at.
pub fn take_recovery() -> u32 {
    extern "C" {
        fn __mr_catch_recover();
    }
    ARMED.store(0, Ordering::Relaxed);
    __mr_catch_recover as *const () as u32
}
