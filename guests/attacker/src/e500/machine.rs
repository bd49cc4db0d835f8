//! Probes of the machine state: `rfi` with crafted SRR1 values, supervisor SPR writes, cache
//! operations on foreign frames, hypercalls with bad arguments, storms, and a spin with
//! interrupts off.

use core::arch::{asm, global_asm};

use mr_guest::arch::spr::{self, MAS1_TSIZE_SHIFT, MAS1_V, MAS3_SUPERVISOR_RW};
use mr_guest::arch::{irq, timer as dec};
use mr_guest::proto::probe::{Fault, Outcome};
use mr_guest::{event, fault, hypercall, println, timer};

use super::{must_fault, Evidence};
use crate::Probes;

/// `rfi` to the next instruction with SRR1 = MSR | `set`, then `mfmsr` there (privileged):
/// returns the MSR it read if it did not fault.
fn rfi_with(set: u32) -> Result<u32, Fault> {
    // SAFETY: a probe: the `rfi` lands on the next instruction in the state SRR1 names; the
    // `mfmsr` there must fault (problem state) or the fetch itself must (address space 1),
    // and the handler resumes at the recovery point with PR/IS/DS cleared. The closure owns
    // nothing.
    unsafe {
        fault::catch(|| {
            let msr: u32;
            asm!(
                "mfmsr {m}",
                "or {m}, {m}, {set}",
                "mtspr 27, {m}",
                "bl 1f",
                "1: mflr {t}",
                "addi {t}, {t}, 16",
                "mtspr 26, {t}",
                "rfi",
                "mfmsr {m}",
                set = in(reg) set,
                m = out(reg) msr,
                t = out(reg) _,
                out("lr") _,
                options(nostack),
            );
            msr
        })
    }
}

global_asm!(
    r#"
    .section .text.attacker_user_hypercall, "ax"
    .balign 16
    .globl attacker_user_hypercall
attacker_user_hypercall:
    mtspr   1023, 0                 # the hypercall, reached in problem state
    mfmsr   3                       # privileged: faults if the hypercall was served
    sc                              # a last trap if neither faulted
"#
);

/// Where `hypercall-problem-state` maps its user-executable alias of the stub's page.
const USER_ALIAS: u32 = 0x7000_0000;

/// The hypercall from problem state: an alias of the stub's page with user execute
/// permission (a TLB0 entry of the guest's own), entered with `rfi` and SRR1\[PR\] set, r0 =
/// `vm_running`. The host must reflect it to the guest as a Program interrupt, not serve it.
fn hypercall_from_problem_state(p: &mut Probes) {
    extern "C" {
        fn attacker_user_hypercall();
    }
    let stub = attacker_user_hypercall as *const () as u32;
    let offset = stub & 0xFFF;
    let frame = (stub & !0xFFF) - mr_guest::boot::WINDOW_START;
    // MAS3: UX | SX | UR | SR.
    let permissions = 0x20 | 0x10 | 0x02 | 0x01;
    // SAFETY: a second, user-executable mapping of one of the guest's own code pages at an
    // address it does not otherwise use.
    unsafe {
        spr::tlbwe(
            3 << 16,
            MAS1_V | 1 << MAS1_TSIZE_SHIFT,
            USER_ALIAS,
            frame | permissions,
            0,
        )
    };
    let at = USER_ALIAS + offset;
    // SAFETY: a probe: the `rfi` enters the alias in problem state; whatever runs there ends
    // in an interrupt (the hypercall's, the `mfmsr`'s or the `sc`'s) that the catcher turns
    // into a recorded fault. The closure owns nothing.
    let r = unsafe {
        fault::catch(|| {
            asm!(
                "mfmsr {m}",
                "ori {m}, {m}, 0x4000",
                "mtspr 27, {m}",
                "mtspr 26, {at}",
                "li 0, 6",
                "li 3, 0x1234",
                "creqv 3, 3, 3",
                "rfi",
                m = out(reg) _,
                at = in(reg) at,
                out("r0") _,
                out("r3") _,
                out("cr0") _,
                options(nostack),
            );
            0
        })
    };
    // SAFETY: removes the alias.
    unsafe { spr::tlbwe(3 << 16, 0, USER_ALIAS, 0, 0) };
    p.report(
        "hypercall-problem-state",
        match r {
            Err(f) if f.epc == at && f.code == super::ivor::PROGRAM => {
                Outcome::contained(format_args!("PROG at the hypercall"))
            }
            Err(f) if f.epc == at + 4 || f.epc == at + 8 => Outcome::not_contained(format_args!(
                "the hypercall was served in problem state ({} after it)",
                Evidence(f)
            )),
            Err(f) => Outcome::contained(format_args!("{} at srr0 {:#010x}", Evidence(f), f.epc)),
            Ok(_) => Outcome::not_contained(format_args!("returned without an interrupt")),
        },
    );
}

/// MSR\[PR\] and address-space escapes through `rfi`.
pub fn switches(p: &mut Probes) {
    p.report(
        "rfi-to-problem-state",
        must_fault(
            rfi_with(spr::MSR_PR),
            format_args!("mfmsr ran in problem state"),
        ),
    );
    p.report(
        "rfi-to-address-space-1",
        must_fault(
            rfi_with(spr::MSR_IS | spr::MSR_DS),
            format_args!("ran in address space 1 with no entry of its own there"),
        ),
    );
    // MSR[GS] (bit 28 on cores with the embedded hypervisor; reserved on the e500v2) and
    // MSR[UCLE]/[SPE] (cache locking from user mode, SPE): the guest's next MSR must not carry
    // a bit the host does not let it have, and the guest must keep running.
    let gs = 1 << 28;
    let seen = rfi_with(gs);
    p.report(
        "rfi-msr-gs",
        match seen {
            Ok(msr) if msr & gs != 0 => {
                Outcome::host_checked(format_args!("MSR[GS] reads back set ({msr:#010x})"))
            }
            Ok(msr) => Outcome::contained(format_args!("MSR[GS] dropped ({msr:#010x})")),
            Err(f) => Outcome::contained(format_args!("{}", Evidence(f))),
        },
    );
    hypercall_from_problem_state(p);
    // Leave no crafted bit behind.
    // SAFETY: the guest's own MSR, back to supervisor state in address space 0, EE as it was.
    unsafe {
        spr::write_msr(
            spr::read_msr() & !(gs | spr::MSR_PR | spr::MSR_IS | spr::MSR_DS) | spr::MSR_ME,
        )
    };
}

/// Writes to supervisor SPRs that would reach the host if they were not virtual: the vectors
/// (IVPR, IVOR2), HID0 (doze, nap, sleep), L1CSR0/1
/// (flash invalidation of the caches the host shares), MMUCSR0 (flash invalidation of TLB0),
/// BUCSR, PID0. Each is read back and restored; containment is the host and the bystander
/// running on (`host-checked`), and for the vectors that the guest's own next fault still
/// reaches its own handler.
pub fn sprs(p: &mut Probes) {
    let ivpr = spr::read::<{ spr::IVPR }>();
    let ivor2 = spr::read::<402>();
    // SAFETY: the guest's own (virtual) IVPR and IVOR2, restored right after.
    unsafe {
        spr::write::<{ spr::IVPR }>(0xFE00_0000);
        spr::write::<402>(0x100);
    }
    let seen = (spr::read::<{ spr::IVPR }>(), spr::read::<402>());
    // SAFETY: restores them.
    unsafe {
        spr::write::<{ spr::IVPR }>(ivpr);
        spr::write::<402>(ivor2);
    }
    // SAFETY: a probe: a read that must fault (nothing is mapped there).
    let after = unsafe { fault::read_u32(0x0000_1000) };
    p.report(
        "ivpr-ivor-write",
        Outcome::host_checked(format_args!(
            "read back {:#010x}/{:#06x}, restored; next fault reached its own handler: {}",
            seen.0,
            seen.1,
            after.is_err()
        )),
    );
    for (name, value, read_back) in [
        (
            "hid0-doze-nap-sleep",
            0x00E0_0000u32,
            write_spr::<{ spr::HID0 }> as fn(u32) -> u32,
        ),
        ("l1csr0-flash-invalidate", 0x2, write_spr::<{ spr::L1CSR0 }>),
        ("l1csr1-flash-invalidate", 0x2, write_spr::<{ spr::L1CSR1 }>),
        ("l1csr0-disable", 0x0, write_spr::<{ spr::L1CSR0 }>),
        (
            "mmucsr0-tlb-flash-invalidate",
            0x6,
            write_spr::<{ spr::MMUCSR0 }>,
        ),
        ("bucsr-write", 0x0000_0200, write_spr::<1013>),
        ("pid0-write", 0xFF, write_spr::<48>),
    ] {
        let seen = read_back(value);
        // The guest's own RAM is still there after each.
        // SAFETY: reads the image's first word.
        let own = unsafe { fault::read_u32(mr_guest::boot::WINDOW_START + 0x10_0000) };
        p.report(
            name,
            Outcome::host_checked(format_args!(
                "wrote {value:#010x}, read back {seen:#010x}, own RAM {}",
                if own.is_ok() { "readable" } else { "LOST" }
            )),
        );
    }
}

/// Write SPR `N`, read it back, restore the old value; returns what was read back.
fn write_spr<const N: u32>(value: u32) -> u32 {
    let old = spr::read::<N>();
    // SAFETY: a probe of the guest's own (virtual) SPR, restored at once.
    unsafe { spr::write::<N>(value) };
    let seen = spr::read::<N>();
    // SAFETY: restores it.
    unsafe { spr::write::<N>(old) };
    seen
}

/// `dcbi`, `dcbz`, `dcbf`, `dcbst` and `icbi` on a foreign frame (a TLB0 entry just past RAM)
/// and `dcbz` on an unmapped address.
pub fn cache_ops(p: &mut Probes) {
    const VA: u32 = 0x5000_0000;
    let tlb0 = 2 << 16;
    // SAFETY: an entry of the guest's own at an address it does not otherwise use.
    unsafe {
        spr::tlbwe(
            tlb0,
            MAS1_V | 1 << MAS1_TSIZE_SHIFT,
            VA,
            p.ram_bytes | MAS3_SUPERVISOR_RW,
            0,
        )
    };
    macro_rules! cache_probe {
        ($name:literal, $insn:literal, $va:expr) => {{
            // SAFETY: a probe: the operation must fault or change nothing outside the guest's
            // RAM (which the host checks); the closure owns nothing.
            let r = unsafe {
                fault::catch(|| {
                    asm!(concat!($insn, " 0, {0}"), in(reg) $va, options(nostack));
                    0
                })
            };
            p.report(
                $name,
                match r {
                    Err(f) => Outcome::contained(format_args!("{}", Evidence(f))),
                    Ok(_) => Outcome::host_checked(format_args!("no fault")),
                },
            );
        }};
    }
    cache_probe!("dcbi-past-ram", "dcbi", VA);
    cache_probe!("dcbz-past-ram", "dcbz", VA);
    cache_probe!("dcbf-past-ram", "dcbf", VA);
    cache_probe!("dcbst-past-ram", "dcbst", VA);
    cache_probe!("icbi-past-ram", "icbi", VA);
    cache_probe!("dcbz-unmapped", "dcbz", 0x6000_0000u32);
    // SAFETY: removes the probe's entry.
    unsafe { spr::tlbwe(tlb0, 0, VA, 0, 0) };
    // Its own line: `dcbz` zeroes it.
    static LINE: mr_guest::vdma::DmaBuffer<64> = mr_guest::vdma::DmaBuffer::new();
    let at = LINE.address().next_multiple_of(32);
    // SAFETY: the line lies in this module's buffer, used for nothing else.
    let zeroed = unsafe {
        (at as *mut u32).write_volatile(0x5A5A_5A5A);
        asm!("dcbz 0, {0}", in(reg) at, options(nostack));
        (at as *const u32).read_volatile()
    };
    p.check(
        "dcbz-own-line",
        zeroed == 0,
        format_args!("reads {zeroed:#x} after dcbz"),
    );
}

/// Unknown hypercalls and bad virq words.
pub fn hypercalls(p: &mut Probes) {
    let end = p.ram_end;
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
        999,
        0xFFFF,
        0xFFFF_FFFF,
    ];
    let mut accepted = None;
    let mut first_error = None;
    for nr in numbers {
        // SAFETY: a probe: unknown numbers with argument words outside the guest's RAM.
        let r = unsafe { hypercall::raw(nr, 0, end, 0xFFFF_FFFF, 0) };
        if r < 0 {
            first_error.get_or_insert(r);
        } else {
            accepted.get_or_insert((nr, r));
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
        ("setup-irqs-low", 0x0000_1000),
        (
            "setup-irqs-misaligned",
            mr_guest::boot::WINDOW_START + 0x10_0001,
        ),
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
}

/// Storms of hypercalls, reflected system calls and decrementer interrupts.
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
    let n = 20_000;
    let mut caught = 0;
    for _ in 0..n {
        // SAFETY: an `sc` inside the catcher; the closure owns nothing.
        let r = unsafe {
            fault::catch(|| {
                asm!("sc", options(nostack));
                0
            })
        };
        caught += u32::from(r.is_err());
    }
    p.report(
        "exception-storm",
        Outcome::host_checked(format_args!(
            "{caught} of {n} system calls reflected in {} ms",
            ms(start)
        )),
    );
    // The decrementer re-armed 50 ticks ahead as fast as the guest can, for a second (as the
    // MIPS probe rewrites Compare): an interrupt at almost every turn.
    let ticks = timer::ticks();
    let until = timer::deadline_ms(1000);
    while !timer::expired(until) {
        dec::one_shot(50);
    }
    dec::start((timer::count_hz() / timer::TICK_HZ).max(1));
    p.report(
        "decrementer-storm",
        Outcome::host_checked(format_args!(
            "{} decrementer interrupts in 1000 ms",
            timer::ticks().wrapping_sub(ticks)
        )),
    );
}

/// Spin without interrupts and without trapping for `SPIN_MS`.
pub fn spin_with_interrupts_off(p: &mut Probes) {
    const SPIN_MS: u64 = 5000;
    println!("spinning with interrupts off for {SPIN_MS} ms");
    let until = timer::deadline_ms(SPIN_MS);
    let was = irq::disable();
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
    if was {
        irq::enable();
    }
    println!("spinning done");
    p.report(
        "spin-irqs-off",
        Outcome::host_checked(format_args!(
            "spun {SPIN_MS} ms with interrupts off ({rounds} rounds)"
        )),
    );
}
