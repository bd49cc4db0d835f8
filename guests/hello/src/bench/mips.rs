//! `bench`: measures, from inside the guest, what the hypervisor costs it. Counts are in CP0
//! Count cycles per operation (the guest's Count runs at the host's rate; under QEMU with
//! `-icount shift=0` one instruction takes 1 ns, so instructions = cycles * 1e9 / Count Hz).
//!
//! - `hypercall`: `vm_running` in a loop (a trap, the hypercall, the return).
//! - `cp0-read`: `mfc0 Status` in a loop (a trap and one emulated register read).
//! - `cp0-write`: `mtc0 EntryLo0` in a loop (a trap through the hypervisor's general path: the
//!   emulated write has no side effect but is not on the fast path).
//! - `syscall`: a `syscall` caught by the SDK's exception handler, which returns with `eret`
//!   (the exception reflected to the guest's vector, the guest's handler with its own trapped
//!   CP0 reads and writes, the emulated `eret`): what a guest kernel's system call costs.
//! - `tlb-pages`: a round of loads from 32 pages the guest maps itself (useg, 4 KiB pairs in
//!   all 16 of its TLB entries), which with the guest's own code and stack pages need more
//!   entries than the host TLB has, so some loads are refilled from the hypervisor's refill
//!   cache.
//! - `tlb-rewrite`: rewrite one of the guest's TLB entries (`mtc0 EntryLo0`, `tlbwi`, alternating
//!   between two frames, so the hypervisor drops the old shadow) and load from the page (a host
//!   TLB miss that the refill cache cannot serve: the shadow is made again from the guest's TLB).
//! - `loop`: the same loop with nothing in it, to subtract.

use core::arch::asm;

use mr_guest::arch::cp0;
use mr_guest::{fault, hypercall, println, timer};

const ROUNDS: u32 = 2000;
/// useg addresses the refill benchmark maps (page pairs from here).
const BENCH_VA: u32 = 0x0040_0000;
/// Guest-physical frames it maps them to (8 MiB into the guest's RAM).
const BENCH_PA: u32 = 0x0080_0000;
const PAGES: u32 = 32;

fn cycles(f: impl Fn()) -> u32 {
    let t0 = timer::counter();
    for _ in 0..ROUNDS {
        f();
    }
    ((timer::counter() - t0) / u64::from(ROUNDS)) as u32
}

fn map_pages() {
    for pair in 0..PAGES / 2 {
        let va = BENCH_VA + pair * 0x2000;
        let pa = BENCH_PA + pair * 0x2000;
        let lo = |pa: u32| ((pa >> 12) << 6) | (3 << 3) | 0b110; // C=3, D, V
        cp0::write_pagemask(0);
        cp0::write_entryhi(va);
        cp0::write_entrylo0(lo(pa));
        cp0::write_entrylo1(lo(pa + 0x1000));
        cp0::write_index(pair);
        cp0::tlbwi();
    }
}

fn touch_pages() {
    for page in 0..PAGES {
        let va = BENCH_VA + page * 0x1000;
        // SAFETY: `va` was mapped by `map_pages` onto this guest's own RAM.
        unsafe { core::ptr::read_volatile(va as *const u32) };
    }
}

pub fn run() {
    let hz = timer::count_hz().max(1);
    let empty = cycles(|| core::hint::black_box(()));
    let hc = cycles(|| {
        core::hint::black_box(hypercall::vm_running());
    });
    let cp0_read = cycles(|| {
        core::hint::black_box(cp0::read_status());
    });
    let cp0_write = cycles(|| cp0::write_entrylo0(core::hint::black_box(0)));
    let syscall = cycles(|| {
        // SAFETY: a `syscall` inside the catcher, which resumes after it; the closure owns
        // nothing.
        let caught = unsafe {
            fault::catch(|| {
                asm!("syscall", options(nostack));
                0
            })
        };
        core::hint::black_box(caught.is_err());
    });
    map_pages();
    touch_pages();
    let refill_round = cycles(touch_pages);
    let flip = core::cell::Cell::new(0u32);
    let rewrite = cycles(|| {
        let lo = |pa: u32| ((pa >> 12) << 6) | (3 << 3) | 0b110; // C=3, D, V
        flip.set(flip.get() ^ 0x2000);
        cp0::write_entryhi(BENCH_VA);
        cp0::write_index(0);
        cp0::write_entrylo0(lo(BENCH_PA + flip.get()));
        cp0::tlbwi();
        // SAFETY: BENCH_VA stays mapped onto this guest's own RAM (one of two frames).
        unsafe { core::ptr::read_volatile(BENCH_VA as *const u32) };
    });
    println!("bench: count-frequency={hz}Hz rounds={ROUNDS}");
    println!("bench: loop={empty} cycles");
    println!("bench: hypercall={hc} cycles");
    println!("bench: cp0-read={cp0_read} cycles");
    println!("bench: cp0-write={cp0_write} cycles");
    println!("bench: syscall={syscall} cycles");
    println!("bench: tlb-pages={refill_round} cycles (per round of {PAGES} loads from self-mapped pages)");
    println!("bench: tlb-rewrite={rewrite} cycles (3 mtc0, tlbwi, a load that misses)");
}
