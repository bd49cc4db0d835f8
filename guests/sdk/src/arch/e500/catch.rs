//! Running a function that may fault: the exception handler resumes at a recovery point
//! instead of treating the fault as fatal (like `setjmp`/`longjmp`, with the jump done by
//! the interrupt return).
//!
//! `__mr_catch(f, data)` saves the non-volatile registers (r14..r31, r1, r2, LR, CR), arms
//! the recovery, calls `f(data)`, disarms and returns `f`'s value. If `f` takes an exception
//! other than an interrupt while armed, `crate::trap` records it, disarms, and sets SRR0 to
//! `__mr_catch_recover`, which restores the saved registers and returns 0 from `__mr_catch`.

use core::arch::global_asm;
use core::sync::atomic::{AtomicU32, Ordering};

/// Saved context: r14..r31, r1, r2, LR, CR.
#[no_mangle]
static mut __mr_catch_context: [u32; 22] = [0; 22];

/// 1 while a recovery point is armed.
pub static ARMED: AtomicU32 = AtomicU32::new(0);

global_asm!(
    r#"
    .section .text.mr_catch, "ax"
    .globl __mr_catch
    .globl __mr_catch_recover
__mr_catch:
    lis     5, __mr_catch_context@ha
    addi    5, 5, __mr_catch_context@l
    stmw    14, 0(5)
    stw     1, 72(5)
    stw     2, 76(5)
    mflr    0
    stw     0, 80(5)
    mfcr    0
    stw     0, 84(5)
    lis     6, {armed}@ha
    li      0, 1
    stw     0, {armed}@l(6)
    stwu    1, -16(1)
    mtctr   3
    mr      3, 4
    bctrl
    addi    1, 1, 16
    lis     6, {armed}@ha
    li      0, 0
    stw     0, {armed}@l(6)
    lis     5, __mr_catch_context@ha
    addi    5, 5, __mr_catch_context@l
    lwz     0, 80(5)
    mtlr    0
    blr
__mr_catch_recover:
    lis     5, __mr_catch_context@ha
    addi    5, 5, __mr_catch_context@l
    lmw     14, 0(5)
    lwz     1, 72(5)
    lwz     2, 76(5)
    lwz     0, 80(5)
    mtlr    0
    lwz     0, 84(5)
    mtcr    0
    li      3, 0
    blr
"#,
    armed = sym ARMED,
);

/// Call `f(data)` with recovery armed; returns `f`'s value, or 0 after a recovered fault
/// (the caller learns which from `crate::trap`'s record of the fault).
///
/// # Safety
/// `f` must be a valid SysV function. If it faults, the frames between this call and the fault
/// are abandoned without running destructors.
pub unsafe fn call(f: extern "C" fn(*mut u8) -> u32, data: *mut u8) -> u32 {
    extern "C" {
        fn __mr_catch(f: extern "C" fn(*mut u8) -> u32, data: *mut u8) -> u32;
    }
    // SAFETY: forwarded from the caller; `__mr_catch` follows the SysV ABI on both return paths.
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
