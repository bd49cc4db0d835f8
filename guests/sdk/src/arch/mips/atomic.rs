//! Read-modify-write of words the host also writes.
//!
//! The target is declared single-threaded, so the compiler lowers `AtomicU32::swap` to a plain
//! load and store; the host, however, writes guest memory whenever the guest traps (also
//! between those two instructions, when it is preempted). An `ll`/`sc` pair is atomic against
//! that: any trap between them clears the link and the `sc` fails and retries.

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
            ".set push",
            ".set noreorder",
            ".set noat",
            "2:",
            "ll {old}, 0({p})",
            "move {tmp}, {new}",
            "sc {tmp}, 0({p})",
            "beqz {tmp}, 2b",
            "nop",
            "sync",
            ".set pop",
            p = in(reg) word.as_ptr(),
            new = in(reg) new,
            old = out(reg) old,
            tmp = out(reg) _,
            options(nostack),
        )
    };
    old
}
