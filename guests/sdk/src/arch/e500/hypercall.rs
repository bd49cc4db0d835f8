//! The MetaROUTER PowerPC hypercall (`arch/powerpc/include/asm/vm.h` of the guest): number in
//! r0, arguments in r3..r6, CR0\[SO\] set, then `mtspr 1023, r0` (0x7C1F_FBA6: a write to the
//! read-only SVR, which traps to the host). The host puts the result in r3 and clears
//! CR0\[SO\]; if SO is still set nothing served the call (bare metal) and the result is -22,
//! as the guest's stub returns.

use core::arch::asm;

/// Issue hypercall `nr` with four arguments.
///
/// # Safety
/// The host reads and writes guest memory named by the arguments (rings, the virq word): they
/// must point at memory the caller has handed over for that purpose.
#[inline(always)]
pub unsafe fn call(nr: u32, a0: u32, a1: u32, a2: u32, a3: u32) -> i32 {
    let result: i32;
    // SAFETY: the caller vouches for the memory the host may touch; the stub is a function in
    // the guest, so the registers it may change (r0, r3..r6, CR0) are declared clobbered.
    unsafe {
        asm!(
            "creqv 3, 3, 3",
            "mtspr 1023, 0",
            "bns+ 1f",
            "li 3, -22",
            "1:",
            inout("r0") nr => _,
            inout("r3") a0 => result,
            inout("r4") a1 => _,
            inout("r5") a2 => _,
            inout("r6") a3 => _,
            out("cr0") _,
            options(nostack),
        )
    };
    result
}
