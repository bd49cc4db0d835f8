//! The hypercall instruction sequence of the MetaROUTER guest (`hypercall()` in the guest's
//! `asm/vm.h`): number in `$v1`, arguments in `$a0..$a3`, `$v0 = -22` preloaded, then
//! `mtc0 $zero, $1` (a write to the read-only Random register, 0x4080_0800) traps to the host,
//! which puts the result in `$v0`. On bare metal the write is ignored and the call returns -22.
//! The guest's stub is an ordinary function, so the host may clobber every register the o32
//! ABI lets a callee clobber.

use core::arch::asm;

/// Issue hypercall `nr` with four arguments.
///
/// # Safety
/// The host reads and writes guest memory named by the arguments (rings, the virq word): they
/// must point at memory the caller has handed over for that purpose.
#[inline(always)]
pub unsafe fn call(nr: u32, a0: u32, a1: u32, a2: u32, a3: u32) -> i32 {
    let result: i32;
    // SAFETY: the caller vouches for the memory the host may touch; the registers a function call may
    // clobber are declared clobbered.
    unsafe {
        asm!(
            "mtc0 $0, $1",
            inout("$2") -22i32 => result,
            inout("$3") nr => _,
            inout("$4") a0 => _,
            inout("$5") a1 => _,
            inout("$6") a2 => _,
            inout("$7") a3 => _,
            out("$8") _, out("$9") _, out("$10") _, out("$11") _,
            out("$12") _, out("$13") _, out("$14") _, out("$15") _,
            out("$24") _, out("$25") _,
            options(nostack),
        )
    };
    result
}
