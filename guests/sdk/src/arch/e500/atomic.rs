//! Read-modify-write of words the host also writes.
//!
//! The target is declared single-threaded, so the compiler lowers `AtomicU32::swap` to a plain
//! load and store; the host, however, writes guest memory whenever the guest traps (also
//! between those two instructions, when it is preempted). A `lwarx`/`stwcx.` pair is what the
//! MetaROUTER guest kernel uses for its virq word (`atomic_sub` in `mtvic.c`).

use core::arch::asm;
use core::sync::atomic::AtomicU32;

/// Store `new` into `word` and return the previous value, atomically with respect to the host.
#[inline(always)]
pub fn swap(word: &AtomicU32, new: u32) -> u32 {
    let old: u32;
    // SAFETY: `word` is a valid, aligned u32 for the whole call (a shared reference to an
    // atomic permits the write); the loop only touches `word`.
    unsafe {
        asm!(
            "msync",
            "2:",
            "lwarx {old}, 0, {p}",
            "stwcx. {new}, 0, {p}",
            "bne- 2b",
            "isync",
            p = in(reg_nonzero) word.as_ptr(),
            new = in(reg) new,
            old = out(reg) old,
            out("cr0") _,
            options(nostack),
        )
    };
    old
}
