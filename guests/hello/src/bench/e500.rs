//! `bench` on the e500: time-base ticks per operation (two decimals), averaged over 2000
//! rounds, the loop included; the empty loop (`loop`) is printed to subtract:
//!
//! - `hypercall`: `vm_running` (a Program interrupt, the hypercall, the return);
//! - `spr-read`: `mfspr` of SPRG0 (a trap and one emulated register read);
//! - `spr-write`: `mtspr` of SPRG0;
//! - `msr-read`: `mfmsr`; `wrteei`: `wrteei 0` (the pair a kernel's interrupt disable is);
//! - `syscall`: an `sc` caught by the SDK's exception handler, which returns with `rfi` (the
//!   interrupt reflected to the guest's IVOR8, the handler's own trapped SPR accesses, the
//!   emulated `rfi`): what a guest kernel's system call costs;
//! - `tlb-pages`: a round of loads from 32 pages the guest maps itself in TLB0 (4 KiB each, at
//!   0x1000_0000): with the guest's own entries and the host's, some loads miss the host TLB
//!   and are refilled from the shadow;
//! - `tlb-wide`: a round of loads from 1024 pages (4 KiB apart) of one 4 MiB TLB1 entry of the
//!   guest's (at 0x2000_0000 onto guest-physical 12 MiB), per load: more pages than the host's
//!   TLB0 holds, so loads miss the host TLB and are served from the shadow (how the host maps a
//!   large guest entry decides how many);
//! - `tlb-rewrite`: rewrite one of those TLB0 entries (MAS0..3, MAS7, `tlbwe`, alternating
//!   between two frames) and load from the page (a miss the shadow must be rebuilt for).
//!
//! Under QEMU with `-icount shift=0` one instruction takes 1 ns, so instructions = ticks * 1e9
//! / time-base Hz.

use core::arch::asm;

use mr_guest::arch::spr;
use mr_guest::{fault, hypercall, println, timer};

const ROUNDS: u32 = 2000;
/// Where the refill benchmark maps its pages.
const BENCH_VA: u32 = 0x1000_0000;
/// Guest-physical frames it maps them to (8 MiB into the guest's RAM).
const BENCH_PA: u32 = 0x0080_0000;
const PAGES: u32 = 32;
/// The wide benchmark's 4 MiB TLB1 entry: where, onto what, and how many pages it touches.
const WIDE_VA: u32 = 0x2000_0000;
const WIDE_PA: u32 = 0x00C0_0000;
const WIDE_PAGES: u32 = 1024;
/// The TLB1 entry it uses (the host's boot entry is entry 0).
const WIDE_ESEL: u32 = 12;

/// Ticks per round of `f`, in hundredths.
fn ticks(f: impl Fn()) -> PerRound {
    let t0 = timer::counter();
    for _ in 0..ROUNDS {
        f();
    }
    PerRound((timer::counter() - t0) * 100 / u64::from(ROUNDS))
}

/// Hundredths of a tick, printed with two decimals.
struct PerRound(u64);

impl core::fmt::Display for PerRound {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

fn map(index: u32, va: u32, pa: u32) {
    // SAFETY: a 4 KiB TLB0 entry at an address the guest does not otherwise use, onto its own
    // RAM (8 MiB in, past the image); way `index % 4` of its set.
    unsafe {
        spr::tlbwe(
            (index % 4) << 16,
            spr::MAS1_V | 1 << spr::MAS1_TSIZE_SHIFT,
            va,
            pa | spr::MAS3_SUPERVISOR_RW,
            0,
        )
    };
}

fn touch_pages() {
    for page in 0..PAGES {
        // SAFETY: mapped by `map` onto this guest's own RAM.
        unsafe { core::ptr::read_volatile((BENCH_VA + page * 0x1000) as *const u32) };
    }
}

pub fn run() {
    let hz = timer::count_hz().max(1);
    let empty = ticks(|| core::hint::black_box(()));
    let hc = ticks(|| {
        core::hint::black_box(hypercall::vm_running());
    });
    let spr_read = ticks(|| {
        core::hint::black_box(spr::read::<{ spr::SPRG0 }>());
    });
    // SAFETY: SPRG0 is the exception entry's scratch, rewritten at every entry.
    let spr_write = ticks(|| unsafe { spr::write::<{ spr::SPRG0 }>(core::hint::black_box(0)) });
    let msr_read = ticks(|| {
        core::hint::black_box(spr::read_msr());
    });
    let wrteei = ticks(|| {
        // SAFETY: MSR[EE] off for a moment; the bench runs from the main loop.
        unsafe { asm!("wrteei 0", "wrteei 1", options(nostack)) };
    });
    let syscall = ticks(|| {
        // SAFETY: an `sc` inside the catcher, which resumes after it; the closure owns nothing.
        let caught = unsafe {
            fault::catch(|| {
                asm!("sc", options(nostack));
                0
            })
        };
        core::hint::black_box(caught.is_err());
    });
    for page in 0..PAGES {
        map(page, BENCH_VA + page * 0x1000, BENCH_PA + page * 0x1000);
    }
    touch_pages();
    let refill_round = ticks(touch_pages);
    // SAFETY: a 4 MiB TLB1 entry of the guest's own at an address it does not otherwise use,
    // onto its own RAM at 12..16 MiB (the bench needs 16 MiB of RAM; past the image).
    unsafe {
        spr::tlbwe(
            spr::MAS0_TLB1 | WIDE_ESEL << 16,
            spr::MAS1_V | 6 << spr::MAS1_TSIZE_SHIFT,
            WIDE_VA,
            WIDE_PA | spr::MAS3_SUPERVISOR_RW,
            0,
        )
    };
    let wide_round = || {
        for page in 0..WIDE_PAGES {
            // SAFETY: inside the 4 MiB entry just written, onto this guest's own RAM.
            unsafe { core::ptr::read_volatile((WIDE_VA + page * 0x1000) as *const u32) };
        }
    };
    wide_round();
    let wide = ticks(wide_round);
    let wide = PerRound(wide.0 / u64::from(WIDE_PAGES));
    // SAFETY: removes the entry.
    unsafe { spr::tlbwe(spr::MAS0_TLB1 | WIDE_ESEL << 16, 0, WIDE_VA, 0, 0) };
    let flip = core::cell::Cell::new(0u32);
    let rewrite = ticks(|| {
        flip.set(flip.get() ^ 0x1000);
        map(0, BENCH_VA, BENCH_PA + 0x40_0000 + flip.get());
        // SAFETY: BENCH_VA stays mapped onto this guest's own RAM (one of two frames).
        unsafe { core::ptr::read_volatile(BENCH_VA as *const u32) };
    });
    println!("bench: timebase-frequency={hz}Hz rounds={ROUNDS}");
    println!("bench: loop={empty} ticks");
    println!("bench: hypercall={hc} ticks");
    println!("bench: spr-read={spr_read} ticks");
    println!("bench: spr-write={spr_write} ticks");
    println!("bench: msr-read={msr_read} ticks");
    println!("bench: wrteei-pair={wrteei} ticks (wrteei 0, wrteei 1)");
    println!("bench: syscall={syscall} ticks");
    println!(
        "bench: tlb-pages={refill_round} ticks (per round of {PAGES} loads from self-mapped pages)"
    );
    println!("bench: tlb-wide={wide} ticks (per load, {WIDE_PAGES} pages of a 4 MiB TLB1 entry)");
    println!("bench: tlb-rewrite={rewrite} ticks (MAS writes, tlbwe, a load that misses)");
}
