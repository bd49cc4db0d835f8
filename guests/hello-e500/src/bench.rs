//! `bench`: time-base ticks for 1,000 of each trapping operation, loop included, and for
//! 1,000 turns of the same loop around a `nop`: the `vm_running` hypercall round trip, an
//! emulated `mfspr` and `mtspr` (SPRG0), an `mfmsr`, a `wrteei 0`, a timer SPR write (`mtspr
//! TSR` of 0, which clears nothing), and the TLB instructions a guest kernel's TLB-miss handler
//! and its mapping code execute: `tlbsx` of the TLB0 alias `check_tlb0` made and a `tlbwe`
//! writing that entry again, and that `tlbwe` followed by a load through the entry: the
//! difference is one host TLB miss on a page the guest mapped, served from its refill cache. Under QEMU's
//! `-icount shift=0` (one instruction per nanosecond of virtual time) the difference divided
//! by the loop count and multiplied by 1e9 / (time-base Hz) is instructions per operation.

use core::arch::asm;
use core::fmt::Write;

use crate::console::Console;
use crate::hypercall;

const ROUNDS: u32 = 1000;
/// `vm_running()`.
const RUNNING: u32 = 6;

fn timebase() -> u32 {
    let tb: u32;
    // SAFETY: reads the time base (user-readable).
    unsafe { asm!("mfspr {0}, 268", out(reg) tb, options(nomem, nostack, preserves_flags)) };
    tb
}

fn time(op: impl Fn()) -> u32 {
    let start = timebase();
    for _ in 0..ROUNDS {
        op();
    }
    timebase().wrapping_sub(start)
}

/// Print the ticks of each operation for 1,000 rounds.
pub fn run(con: &mut Console) {
    let empty = time(|| {
        // SAFETY: a `nop`.
        unsafe { asm!("nop", options(nomem, nostack)) }
    });
    let hypercall = time(|| {
        hypercall::call(RUNNING, 0, 0, 0, 0);
    });
    let mfspr = time(|| {
        // SAFETY: reads the guest's own (virtual) SPRG0.
        unsafe { asm!("mfspr {0}, 272", out(reg) _, options(nomem, nostack)) }
    });
    let mtspr = time(|| {
        // SAFETY: writes the guest's own SPRG0, which only the bench uses.
        unsafe { asm!("mtspr 272, {0}", in(reg) 0u32, options(nomem, nostack)) }
    });
    let mfmsr = time(|| {
        // SAFETY: reads the guest's own MSR.
        unsafe { asm!("mfmsr {0}", out(reg) _, options(nomem, nostack)) }
    });
    let wrteei = time(|| {
        // SAFETY: MSR[EE] = 0, as it already is in the console loop.
        unsafe { asm!("wrteei 0", options(nomem, nostack)) }
    });
    let tsr = time(|| {
        // SAFETY: writes no status bit to clear.
        unsafe { asm!("mtspr 336, {0}", in(reg) 0u32, options(nomem, nostack)) }
    });
    // MAS6: search PID 0, address space 0 (where the alias is).
    // SAFETY: MAS6 only says what `tlbsx` searches for.
    unsafe { asm!("mtspr 630, {0}", in(reg) 0u32, options(nomem, nostack)) };
    let alias = crate::ALIAS_VA;
    let tlbsx = time(|| {
        // SAFETY: loads the MAS registers with the alias entry; changes no translation.
        unsafe { asm!("tlbsx 0, {0}", in(reg) alias, options(nomem, nostack)) }
    });
    let tlbwe = time(|| {
        // SAFETY: the MAS registers hold the alias entry (the `tlbsx` above): written again
        // as it is.
        unsafe { asm!("tlbwe", "isync", options(nostack)) }
    });
    // The alias entry pointed alternately at two of this guest's pages (MAS3 from the
    // `tlbsx` above, and the page after), rewritten each round, without and with a load
    // through it: a changed entry leaves the host TLB, so the load misses there once and is
    // served from the guest's refill cache.
    let mas3: u32;
    // SAFETY: reads the MAS3 the `tlbsx` loaded.
    unsafe { asm!("mfspr {0}, 627", out(reg) mas3, options(nomem, nostack)) };
    let pages = [mas3, mas3.wrapping_add(0x1000)];
    let remap = |load: bool| {
        let start = timebase();
        for round in 0..ROUNDS {
            let page = pages[(round & 1) as usize];
            // SAFETY: the alias maps one of two pages of this guest's own image, which the
            // bench only reads.
            unsafe {
                asm!("mtspr 627, {0}", "tlbwe", "isync", in(reg) page, options(nostack));
                if load {
                    asm!("lwz {0}, 0({1})", out(reg) _, in(reg) alias, options(nostack));
                }
            }
        }
        timebase().wrapping_sub(start)
    };
    let remap_only = remap(false);
    let remap_load = remap(true);
    // SAFETY: the alias back on its own page.
    unsafe { asm!("mtspr 627, {0}", "tlbwe", "isync", in(reg) mas3, options(nostack)) };
    let _ = write!(
        con,
        "bench: ticks per {ROUNDS}: loop {empty} vm_running {hypercall} mfspr {mfspr} \
         mtspr {mtspr} mfmsr {mfmsr} mtspr-tsr {tsr} tlbsx {tlbsx} tlbwe {tlbwe} \
         remap {remap_only} remap+miss {remap_load} wrteei {wrteei}\r\n"
    );
}
