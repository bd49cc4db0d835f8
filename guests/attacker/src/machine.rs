//! Probes of the (virtual) CPU: Status/EBase/Config writes, cache operations, unknown
//! hypercalls and bad hypercall arguments, interrupt and exception storms, and spinning with
//! interrupts off.

use core::arch::asm;

use mr_guest::arch::{cp0, vectors};
use mr_guest::proto::probe::Outcome;
use mr_guest::{event, fault, hypercall, println, timer};

use crate::Probes;

/// Status with `set` bits set and interrupts off, then read `addr`; Status restored afterwards.
fn with_status_read(set: u32, clear: u32, addr: u32) -> Result<u32, mr_guest::proto::probe::Fault> {
    let old = cp0::di();
    // SAFETY: a probe; the closure owns nothing and Status is restored below (the fault path
    // restores KSU/ERL itself, `eret` clears EXL).
    let r = unsafe {
        fault::catch(|| {
            cp0::write_status((old & !cp0::STATUS_IE & !clear) | set);
            let v = (addr as *const u32).read_volatile();
            cp0::write_status(old & !cp0::STATUS_IE);
            v
        })
    };
    cp0::write_status(old);
    r
}

/// Status, EBase and Config writes.
pub fn cp0_writes(p: &mut Probes) {
    let outcome = |r: Result<u32, _>, addr: u32| match r {
        Err(f) => Outcome::fault(f),
        Ok(v) => Outcome::not_contained(format_args!("read {v:#010x} at {addr:#010x}")),
    };
    p.report(
        "status-ksu-kernel",
        outcome(
            with_status_read(0, cp0::STATUS_KSU_MASK, 0x8000_0000),
            0x8000_0000,
        ),
    );
    p.report(
        "status-exl",
        outcome(
            with_status_read(cp0::STATUS_EXL, 0, 0x8000_0000),
            0x8000_0000,
        ),
    );
    // With ERL set, useg is unmapped on a real CPU: 0x0010_0000 would be physical memory. It
    // may only ever show the guest's own RAM (its image is at guest-physical 0x0010_0000).
    {
        // SAFETY: read of the guest's own image.
        let own = unsafe { fault::read_u32(0xC010_0000) };
        let r = with_status_read(cp0::STATUS_ERL, 0, 0x0010_0000);
        p.report(
            "status-erl",
            match (r, own) {
                (Err(f), _) => Outcome::fault(f),
                (Ok(v), Ok(o)) if v == o => {
                    Outcome::contained(format_args!("useg showed the guest's own RAM"))
                }
                (Ok(v), _) => Outcome::not_contained(format_args!(
                    "read {v:#010x} at 0x00100000, own RAM has {:#010x}",
                    own.unwrap_or(0)
                )),
            },
        );
    }
    {
        let old = cp0::di();
        cp0::write_status(old & !cp0::STATUS_IE | cp0::STATUS_BEV);
        let read = cp0::read_status();
        cp0::write_status(old);
        p.report(
            "status-bev",
            Outcome::host_checked(format_args!(
                "Status read back {read:#010x} with BEV written"
            )),
        );
    }
    // EBase: move the guest's vectors (stubs copied to 0xC000_2000 too), take an exception.
    {
        let old = cp0::read_ebase();
        // SAFETY: 0xC000_2000.. is in the guest's first pages, unused after start-up.
        unsafe { vectors::install_at(0xC000_2000) };
        cp0::write_ebase(0x8000_2000);
        let read = cp0::read_ebase();
        // SAFETY: a `break` inside the catcher; the closure owns nothing.
        let r = unsafe {
            fault::catch(|| {
                asm!("break", options(nostack));
                0
            })
        };
        cp0::write_ebase(old);
        p.report(
            "ebase-write",
            match r {
                Err(f) => Outcome::contained(format_args!(
                    "EBase read back {read:#010x}, {f} still reached the guest"
                )),
                Ok(_) => Outcome::host_checked(format_args!(
                    "EBase read back {read:#010x}, break did not trap"
                )),
            },
        );
    }
    {
        let old = cp0::read_config();
        cp0::write_config(old ^ 0x7 ^ (1 << 15));
        let read = cp0::read_config();
        cp0::write_config(old);
        p.report(
            "config-write",
            Outcome::host_checked(format_args!(
                "Config {old:#010x} read back {read:#010x} after writing K0/BE"
            )),
        );
        let old1 = cp0::read_config1();
        cp0::write_config1(!old1);
        let read1 = cp0::read_config1();
        p.report(
            "config1-write",
            Outcome::host_checked(format_args!(
                "Config1 {old1:#010x} read back {read1:#010x} after writing ~"
            )),
        );
    }
}

/// One `cache` operation on `addr`.
macro_rules! cache_op {
    ($op:literal, $addr:expr) => {{
        let addr: u32 = $addr;
        // SAFETY: a probe: the host must refuse or emulate the operation safely.
        unsafe {
            fault::catch(|| {
                asm!(".set push", ".set noat", concat!("cache ", $op, ", 0({0})"), ".set pop", in(reg) addr, options(nostack));
                0
            })
        }
    }};
}

/// Cache operations: index ops (which on a real CPU affect every partition's lines) and hit ops
/// on addresses outside the guest's RAM.
pub fn cache_ops(p: &mut Probes) {
    let end = p.ram_end;
    let judge = |r: Result<u32, _>| match r {
        Err(f) => Outcome::fault(f),
        Ok(_) => Outcome::host_checked(format_args!("completed")),
    };
    p.report(
        "cache-index-invalidate-i",
        judge(cache_op!("0x00", 0x8000_0000)),
    );
    p.report(
        "cache-index-writeback-invalidate-d",
        judge(cache_op!("0x01", 0x8000_0000)),
    );
    cp0::write_taglo(0);
    p.report(
        "cache-index-store-tag-d",
        judge(cache_op!("0x09", 0x8000_0000)),
    );
    p.report(
        "cache-hit-invalidate-d-kseg0",
        judge(cache_op!("0x11", 0x8000_0000)),
    );
    p.report(
        "cache-hit-invalidate-d-above-ram",
        judge(cache_op!("0x11", end)),
    );
    p.report(
        "cache-hit-writeback-invalidate-d-kseg0",
        judge(cache_op!("0x15", 0x8010_0000)),
    );
    cp0::write_taglo(0);
    let r = cache_op!("0x05", 0x8000_0000);
    let tag = cp0::read_taglo();
    p.report(
        "cache-index-load-tag-d",
        match r {
            Err(f) => Outcome::fault(f),
            Ok(_) if tag == 0 => Outcome::contained(format_args!("TagLo reads 0")),
            Ok(_) => {
                Outcome::not_contained(format_args!("TagLo {tag:#010x}: a physical tag leaked"))
            }
        },
    );
    // The guest's own lines: allowed, and the guest must keep running.
    let own = cache_op!("0x15", 0xC010_0000);
    p.check(
        "cache-own-line",
        own.is_ok(),
        format_args!(
            "hit writeback invalidate on own RAM: {:?}",
            own.map_err(|f| f.code)
        ),
    );
}

/// Unknown hypercalls and bad hypercall arguments.
pub fn hypercalls(p: &mut Probes) {
    let end = p.ram_end;
    let mut first_error = None;
    let mut accepted = None;
    let numbers = [
        0u32,
        1,
        2,
        3,
        7,
        8,
        9,
        10,
        11,
        12,
        13,
        15,
        17,
        31,
        100,
        0xFFFF,
        0xFFFF_FFFF,
    ];
    for nr in numbers {
        // SAFETY: a probe: unknown numbers with argument words pointing outside the guest's RAM.
        let r = unsafe { hypercall::raw(nr, 0x8000_0000, end, 0xFFFF_FFFF, 0) };
        if r < 0 {
            first_error.get_or_insert(r);
        } else if accepted.is_none() {
            accepted = Some((nr, r));
        }
    }
    p.report(
        "hypercall-unknown",
        match (accepted, first_error) {
            (Some((nr, r)), _) => {
                Outcome::not_contained(format_args!("hypercall {nr} returned {r}"))
            }
            (None, Some(e)) => Outcome::contained(format_args!(
                "error {e} from all {} unknown numbers",
                numbers.len()
            )),
            (None, None) => Outcome::contained(format_args!("no numbers tried")),
        },
    );
    for (name, addr) in [
        ("setup-irqs-above-ram", end),
        ("setup-irqs-kseg0", 0x8000_0000),
        ("setup-irqs-misaligned", 0xC010_0001),
    ] {
        // SAFETY: a probe: the host must refuse a virq word outside the guest's RAM.
        let r = unsafe { hypercall::raw(hypercall::SETUP_IRQS, addr, 32, 0, 0) };
        let again = event::reregister();
        p.report(
            name,
            if r < 0 {
                Outcome::error(r)
            } else {
                Outcome::host_checked(format_args!(
                    "vm_setup_irqs returned {r}, own word registered again: {again}"
                ))
            },
        );
    }
    // SAFETY: a probe: a huge virq count with the guest's own (static) word elsewhere.
    let r = unsafe { hypercall::raw(hypercall::SETUP_IRQS, 0xC010_0000, 0xFFFF_FFFF, 0, 0) };
    let again = event::reregister();
    p.report(
        "setup-irqs-huge-count",
        if r < 0 {
            Outcome::error(r)
        } else {
            Outcome::host_checked(format_args!(
                "returned {r}, own word registered again: {again}"
            ))
        },
    );
}

/// Storms of hypercalls, queue creation, reflected exceptions, timer and software interrupts.
pub fn storms(p: &mut Probes) {
    let ms = |start: u64| (timer::counter() - start) * 1000 / u64::from(timer::count_hz());
    let start = timer::counter();
    let n = 100_000;
    for _ in 0..n {
        hypercall::vm_running();
    }
    p.report(
        "hypercall-storm",
        Outcome::host_checked(format_args!("{n} hypercalls in {} ms", ms(start))),
    );

    let start = timer::counter();
    let n = 2000;
    let mut last = 0;
    for _ in 0..n {
        // SAFETY: a probe with null ring addresses, which the host must refuse.
        last = unsafe { hypercall::raw(hypercall::CREATE_QUEUE, 3, 3, 0, 0) };
        hypercall::vm_release_queue(3);
    }
    p.report(
        "queue-create-storm",
        Outcome::host_checked(format_args!(
            "{n} creates in {} ms, last returned {last}",
            ms(start)
        )),
    );

    let start = timer::counter();
    let n = 20_000;
    let mut caught = 0;
    for _ in 0..n {
        // SAFETY: a `syscall` inside the catcher; the closure owns nothing.
        let r = unsafe {
            fault::catch(|| {
                asm!("syscall", options(nostack));
                0
            })
        };
        caught += u32::from(r.is_err());
    }
    p.report(
        "exception-storm",
        Outcome::host_checked(format_args!(
            "{caught} of {n} syscalls reflected in {} ms",
            ms(start)
        )),
    );

    let ticks = timer::ticks();
    let until = timer::deadline_ms(1000);
    while !timer::expired(until) {
        cp0::write_compare(cp0::read_count().wrapping_add(50));
    }
    p.report(
        "timer-storm",
        Outcome::host_checked(format_args!(
            "{} timer interrupts in 1000 ms",
            timer::ticks().wrapping_sub(ticks)
        )),
    );

    let start = timer::counter();
    let n = 10_000;
    for _ in 0..n {
        cp0::write_cause(cp0::read_cause() | (1 << (cp0::CAUSE_IP_SHIFT + cp0::IRQ_VIRQ)));
    }
    p.report(
        "soft-interrupt-storm",
        Outcome::host_checked(format_args!(
            "{n} software interrupts raised in {} ms",
            ms(start)
        )),
    );
}

/// Spin without interrupts and without trapping for `SPIN_MS`.
pub fn spin_with_interrupts_off(p: &mut Probes) {
    const SPIN_MS: u64 = 5000;
    println!("spinning with interrupts off for {SPIN_MS} ms");
    let until = timer::deadline_ms(SPIN_MS);
    let was = cp0::di();
    let mut rounds = 0u32;
    loop {
        let mut x = 0u32;
        for i in 0..1_000_000u32 {
            x = core::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        rounds += 1;
        if timer::expired(until) {
            break;
        }
    }
    if was & cp0::STATUS_IE != 0 {
        cp0::ei();
    }
    println!("spinning done");
    p.report(
        "spin-irqs-off",
        Outcome::host_checked(format_args!(
            "spun {SPIN_MS} ms with interrupts off ({rounds} rounds)"
        )),
    );
}
