//! Isolation probes (the console command `probe`, and `spin`): what a guest kernel could try
//! against the host from its virtual supervisor state, each of which must end in an exception
//! of the guest's own (recorded by the handlers in `main.rs`) or change nothing outside it.
//!
//! - TLB entries naming memory outside the guest's RAM: a 4 KiB TLB0 page just past its RAM,
//!   a 1 MiB TLB1 page on the CCSR (0xF_E000_0000, MAS7 = 0xF), a 1 GiB TLB1 page from
//!   guest-physical 0 read past the RAM's end: each access a machine check (IVOR1);
//! - `dcbi` (data cache invalidate, which would drop the host's dirty lines) on the page past
//!   RAM: a machine check too; `dcbz` on an address no entry maps (0xC000_0000, above the
//!   RAM window's boot entry): a data TLB error (IVOR13);
//! - L1CSR0/L1CSR1 flash invalidation, HID0 (doze, nap, sleep) and MMUCSR0 writes, which stay
//!   virtual (the host keeps running: the test asks it and a bystander);
//! - an unknown hypercall (refused with a negative result);
//! - `checkstop`: a machine check with MSR\[ME\] = 0, which stops the guest;
//! - `storm`: the decrementer at its fastest (every tick, auto-reload) for about 2^29 ticks;
//!   the guest starves itself (an interrupt is pending at every return from its handler, as
//!   on the core) and may never get back to its loop, while the host and others carry on;
//! - `spin`: about 2^30 time-base ticks with interrupts off (MSR\[EE\] = 0), while the host
//!   keeps scheduling other guests.

use core::arch::asm;
use core::fmt::Write;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::console::Console;
use crate::hypercall;

/// The IVOR of the last exception a probe took (`NONE` if none); the handlers write it.
#[no_mangle]
pub static PROBE_VECTOR: AtomicU32 = AtomicU32::new(NONE);
const NONE: u32 = 0xFF;

const MAS1_V: u32 = 1 << 31;
const MAS0_TLB1: u32 = 1 << 28;
const SUPERVISOR_RW: u32 = 0x5;

fn tlb_write(mas0: u32, mas1: u32, mas2: u32, mas3: u32, mas7: u32) {
    // SAFETY: a translation of this guest's own (its TLB is virtual); the probes then use
    // only the addresses it maps.
    unsafe {
        asm!(
            "mtspr 624, {0}", "mtspr 625, {1}", "mtspr 626, {2}", "mtspr 627, {3}",
            "mtspr 944, {4}", "isync", "tlbwe", "isync",
            in(reg) mas0, in(reg) mas1, in(reg) mas2, in(reg) mas3, in(reg) mas7,
            options(nostack, preserves_flags),
        )
    };
}

/// Run `access` and report which exception it took; `expect` is the contained outcome.
fn probe(con: &mut Console, name: &str, expect: u32, access: impl FnOnce()) {
    let _ = write!(con, "probe {name}: ");
    PROBE_VECTOR.store(NONE, Ordering::SeqCst);
    access();
    let got = PROBE_VECTOR.load(Ordering::SeqCst);
    if got == expect {
        let _ = write!(con, "contained (IVOR{got})\r\n");
    } else {
        let _ = write!(con, "ESCAPED (IVOR{got:#x}, expected {expect})\r\n");
    }
}

fn load(va: u32) {
    // SAFETY: a load the probe expects to fault; the handler skips it.
    let _ = unsafe { (va as *const u32).read_volatile() };
}

/// Every probe, for a guest with `ram` bytes of RAM.
pub fn run(con: &mut Console, ram: u32) {
    // Machine checks need MSR[ME] (else the guest checkstops, as the core would).
    // SAFETY: sets only the guest's own (virtual) MSR[ME].
    unsafe { asm!("mfmsr {0}", "ori {0}, {0}, 0x1000", "mtmsr {0}", out(reg) _, options(nostack)) };
    tlb_write(
        1 << 16,
        MAS1_V | 1 << 8,
        0x2000_0000,
        ram | SUPERVISOR_RW,
        0,
    );
    probe(con, "tlb0-past-ram", 1, || load(0x2000_0000));
    tlb_write(
        MAS0_TLB1 | 1 << 16,
        MAS1_V | 5 << 8,
        0x3000_0000,
        0xE000_0000 | SUPERVISOR_RW,
        0xF,
    );
    probe(con, "tlb1-ccsr", 1, || load(0x3000_0000));
    tlb_write(
        MAS0_TLB1 | 2 << 16,
        MAS1_V | 10 << 8,
        0x4000_0000,
        SUPERVISOR_RW,
        0,
    );
    probe(con, "tlb1-1gib-past-ram", 1, || load(0x4000_0000 + ram));
    probe(con, "dcbi-past-ram", 1, || {
        // SAFETY: a cache operation the probe expects to fault.
        unsafe { asm!("dcbi 0, {0}", in(reg) 0x2000_0000u32, options(nostack)) };
    });
    probe(con, "dcbz-unmapped", 13, || {
        // SAFETY: as above.
        unsafe { asm!("dcbz 0, {0}", in(reg) 0xC000_0000u32, options(nostack)) };
    });
    probe(con, "l1csr-hid0-mmucsr0", NONE, || {
        // SAFETY: writes to the guest's virtual L1CSR0/1 (flash invalidate), HID0 (doze, nap,
        // sleep) and MMUCSR0 (flash-invalidate TLB0): none reaches the real core.
        unsafe {
            asm!(
                "mtspr 1010, {l1}", "mtspr 1011, {l1}", "mtspr 1008, {hid0}",
                "mtspr 1012, {fi}", "isync",
                l1 = in(reg) 0x3u32, hid0 = in(reg) 0x00E0_0000u32, fi = in(reg) 0x4u32,
                options(nostack),
            )
        };
    });
    let result = hypercall::call(999, 0, 0, 0, 0);
    if result < 0 {
        let _ = write!(
            con,
            "probe unknown-hypercall: contained (result {result})\r\n"
        );
    } else {
        let _ = write!(
            con,
            "probe unknown-hypercall: ESCAPED (result {result})\r\n"
        );
    }
    let _ = write!(con, "probes: done\r\n");
}

/// A machine check with MSR\[ME\] = 0 (a load past its RAM): the core would checkstop, so the
/// guest is stopped.
pub fn checkstop(con: &mut Console, ram: u32) {
    let _ = write!(con, "checkstop: machine checks off, loading past RAM\r\n");
    con.flush();
    // SAFETY: clears only the guest's own (virtual) MSR[ME].
    unsafe {
        asm!("mfmsr {0}", "rlwinm {0}, {0}, 0, 20, 18", "mtmsr {0}", out(reg) _, options(nostack))
    };
    tlb_write(
        1 << 16,
        MAS1_V | 1 << 8,
        0x2000_0000,
        ram | SUPERVISOR_RW,
        0,
    );
    load(0x2000_0000);
    let _ = write!(con, "checkstop: ESCAPED, still running\r\n");
}

/// A decrementer storm: DEC and DECAR = 1 with auto-reload and interrupts on, for about 2^29
/// time-base ticks (the handler in `main.rs` counts), then the timer off.
pub fn storm(con: &mut Console) {
    let _ = write!(con, "storm: decrementer every tick\r\n");
    con.flush();
    let before = crate::DECREMENTER_INTERRUPTS.load(Ordering::Acquire);
    // Auto-reload before the first 1 -> 0 transition, or the decrementer stops at 0.
    // SAFETY: the guest's own (virtual) decrementer, its handler installed at boot.
    unsafe {
        asm!(
            "mtspr 340, {tcr}", "mtspr 54, {one}", "mtspr 22, {one}", "wrteei 1",
            one = in(reg) 1u32, tcr = in(reg) (1u32 << 26) | (1 << 22),
            options(nostack),
        )
    };
    let start = timebase();
    while timebase().wrapping_sub(start) < 1 << 29 {}
    // SAFETY: interrupts off, then the decrementer off and its status cleared.
    unsafe {
        asm!(
            "wrteei 0", "mtspr 340, {zero}", "mtspr 336, {dis}",
            zero = in(reg) 0u32, dis = in(reg) 1u32 << 27,
            options(nostack),
        )
    };
    let taken = crate::DECREMENTER_INTERRUPTS
        .load(Ordering::Acquire)
        .wrapping_sub(before);
    let _ = write!(con, "storm: done, {taken} decrementer interrupts\r\n");
}

/// Spin about 2^30 time-base ticks with interrupts off.
pub fn spin(con: &mut Console) {
    let _ = write!(con, "spin: interrupts off\r\n");
    // SAFETY: only the guest's own MSR[EE].
    unsafe { asm!("wrteei 0", options(nostack)) };
    let start = timebase();
    while timebase().wrapping_sub(start) < 1 << 30 {}
    let _ = write!(con, "spin: done\r\n");
}

fn timebase() -> u32 {
    let tb: u32;
    // SAFETY: reads the time base (user-readable).
    unsafe { asm!("mfspr {0}, 268", out(reg) tb, options(nomem, nostack, preserves_flags)) };
    tb
}
