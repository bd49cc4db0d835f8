//! Probes of what a plain CP0 write switches, and of the virtual TLB's lookup order.
//!
//! The hypervisor's fast path returns straight into the guest after a Status or EntryHi write
//! unless the write changed the real mode, the address space or interrupt delivery; these
//! probes check that the writes which do change them take effect at once:
//!
//! - `status-user-now`: Status written to user mode (KSU = 10, EXL = ERL = 0) from kernel mode:
//!   the very next fetch, from the kernel's RAM window, must fault (user mode cannot reach it).
//! - `eret-to-user-now`: Status set to user mode with EXL (still kernel mode), EPC at kernel
//!   code, `eret`: the fetch at EPC must fault (the `eret` entered user mode).
//! - `entryhi-asid-now`: two non-global entries map one address to two frames under ASIDs 1
//!   and 2; after each EntryHi write that changes only the ASID, a read must show the frame of
//!   the new ASID (a stale host mapping would show the other).
//! - `tlb-one-bucket`: every entry of the TLB maps a page whose VPN2 bits 20:13 are equal (one
//!   chain of the hypervisor's TLB index), half of them frames outside the guest's RAM: each
//!   read must show the guest's own frame or fault, and of two entries matching one address the
//!   lower index must win.

use core::arch::asm;

use mr_guest::arch::cp0;
use mr_guest::fault;
use mr_guest::proto::probe::{Fault, Outcome};

use crate::Probes;

/// Area of guest-virtual addresses (the guest's own vmalloc space) for these mappings.
const AREA: u32 = 0xD100_0000;
const KSU_USER: u32 = 2 << 3;
const LO_VALID_DIRTY_CACHED: u32 = (3 << 3) | 0b110;

/// Two page-aligned frames of the guest's own RAM, each starting with its own marker.
#[repr(C, align(8192))]
struct Frames([[u32; 1024]; 2]);

static mut FRAMES: Frames = Frames([[0; 1024]; 2]);

/// Guest-physical address of frame `k` and its marker.
fn frame(k: usize) -> (u32, u32) {
    // SAFETY: only this module touches FRAMES, from the single probe thread.
    let va = unsafe { core::ptr::addr_of_mut!(FRAMES.0[k]) } as u32;
    let marker = 0x4652_4D30 + k as u32; // "FRM0", "FRM1"
                                         // SAFETY: as above; a plain store to the guest's own RAM.
    unsafe { (va as *mut u32).write_volatile(marker) };
    (va - 0xC000_0000, marker)
}

/// EntryLo for guest-physical `phys`, not global.
pub(crate) fn lo(phys: u32) -> u32 {
    ((phys >> 12) << 6) | LO_VALID_DIRTY_CACHED
}

/// The TLB size as Linux reads it: Config1.MMUSize + 1, plus Config4.MMUSizeExt * 64.
fn tlb_entries() -> u32 {
    let mut entries = ((cp0::read_config1() >> 25) & 0x3F) + 1;
    if cp0::read_config3() & (1 << 31) != 0 && (cp0::read_config4() >> 14) & 3 == 1 {
        entries += (cp0::read_config4() & 0xFF) * 64;
    }
    entries
}

/// Write entry `index`: `hi` (VPN2 | ASID), 4 KiB pages.
pub(crate) fn write_entry(index: u32, hi: u32, lo0: u32, lo1: u32) {
    cp0::write_pagemask(0);
    cp0::write_entryhi(hi);
    cp0::write_entrylo0(lo0);
    cp0::write_entrylo1(lo1);
    cp0::write_index(index);
    cp0::tlbwi();
}

/// Invalidate entries `0..entries` with unique kseg0 VPN2s (Linux's `local_flush_tlb_all`).
fn flush(entries: u32) {
    for i in 0..entries {
        write_entry(i, 0x8000_0000 + (i << 13), 0, 0);
    }
}

/// EntryHi written from `$t0` (a register the hypervisor's fast path saves: the write takes
/// its fast path).
fn write_entryhi_t0(value: u32) {
    // SAFETY: changes only the guest's own (virtual) EntryHi.
    unsafe {
        asm!(".set push", ".set noat", "mtc0 $8, $10", "ehb", ".set pop", in("$8") value, options(nostack));
    }
}

fn read(addr: u32) -> Result<u32, Fault> {
    // SAFETY: a probe read through the guest's own mappings; a fault is caught.
    unsafe { fault::read_u32(addr) }
}

pub fn run(p: &mut Probes) {
    status_user_now(p);
    eret_to_user_now(p);
    let entries = tlb_entries();
    let entryhi = cp0::read_entryhi();
    flush(entries);
    entryhi_asid_now(p);
    tlb_one_bucket(p, entries);
    flush(entries);
    cp0::write_entryhi(entryhi);
}

fn status_user_now(p: &mut Probes) {
    let old = cp0::di();
    let user = (old & !0x1F) | KSU_USER;
    // SAFETY: a probe: after the Status write the guest is in user mode and its next fetch
    // (kernel code in the RAM window) must fault; the fault path returns to kernel mode, and
    // Status is restored below.
    let r = unsafe {
        fault::catch(|| {
            let ran: u32;
            asm!(
                ".set push",
                ".set noat",
                ".set noreorder",
                "mtc0 $8, $12",
                "ehb",
                "li $9, 1",
                ".set pop",
                in("$8") user,
                out("$9") ran,
                options(nostack),
            );
            ran
        })
    };
    cp0::write_status(old);
    p.report(
        "status-user-now",
        match r {
            Err(f) => Outcome::fault(f),
            Ok(_) => Outcome::not_contained(format_args!(
                "kernel code kept running after Status was set to user mode"
            )),
        },
    );
}

fn eret_to_user_now(p: &mut Probes) {
    let old = cp0::di();
    let user_exl = (old & !0x1F) | KSU_USER | 2;
    // SAFETY: a probe: `eret` into user mode at kernel code, whose fetch must fault; the fault
    // path returns to kernel mode, and Status is restored below. $ra is saved and restored
    // around the `bal` that finds the code's address.
    let r = unsafe {
        fault::catch(|| {
            let ran: u32;
            asm!(
                ".set push",
                ".set noat",
                ".set noreorder",
                "move $10, $31",
                "bal 1f",
                "nop",
                "1: addiu $8, $31, 24",  // the `li` below
                "mtc0 $8, $14",         // EPC
                "mtc0 $9, $12",         // Status: user mode with EXL
                "ehb",
                "eret",
                "nop",
                "li $11, 1",            // runs only if the eret did not enter user mode
                "move $31, $10",
                ".set pop",
                in("$9") user_exl,
                out("$8") _,
                out("$10") _,
                out("$11") ran,
                options(nostack),
            );
            ran
        })
    };
    cp0::write_status(old);
    p.report(
        "eret-to-user-now",
        match r {
            Err(f) => Outcome::fault(f),
            Ok(_) => {
                Outcome::not_contained(format_args!("kernel code ran after an eret into user mode"))
            }
        },
    );
}

fn entryhi_asid_now(p: &mut Probes) {
    let (a, marker_a) = frame(0);
    let (b, marker_b) = frame(1);
    write_entry(1, AREA | 1, lo(a), 0);
    write_entry(2, AREA | 2, lo(b), 0);
    let mut seen = [0u32; 4];
    for (k, asid) in [1u32, 2, 1, 2].into_iter().enumerate() {
        write_entryhi_t0(asid);
        seen[k] = read(AREA).unwrap_or(0);
    }
    write_entryhi_t0(0);
    let expected = [marker_a, marker_b, marker_a, marker_b];
    p.report(
        "entryhi-asid-now",
        if seen == expected {
            Outcome::contained(format_args!(
                "each ASID saw its own frame after each switch"
            ))
        } else {
            Outcome::not_contained(format_args!(
                "read {seen:08x?} under ASIDs 1, 2, 1, 2; expected {expected:08x?}"
            ))
        },
    );
}

fn tlb_one_bucket(p: &mut Probes, entries: u32) {
    let (own, marker) = frame(0);
    let outside = p.ram_bytes + 0x0010_0000;
    flush(entries);
    // Entry i maps AREA + i * 2 MiB (VPN2 bits 20:13 all equal): even i the guest's frame,
    // odd i a frame outside its RAM. ASID 0, which EntryHi holds while these reads run.
    let at = |i: u32| AREA + (i << 21);
    let usable = entries.min(119); // AREA + 119 * 2 MiB stays below 0xE000_0000
    for i in 0..usable {
        let frame = if i % 2 == 0 { own } else { outside };
        write_entry(i, at(i), lo(frame), 0);
    }
    let mut escaped = None;
    let mut wrong = None;
    for i in 0..usable {
        match (i % 2, read(at(i))) {
            (1, Ok(v)) => escaped = escaped.or(Some((i, v))),
            (0, Ok(v)) if v != marker => wrong = wrong.or(Some(i)),
            (0, Err(_)) => wrong = wrong.or(Some(i)),
            _ => {}
        }
    }
    // Duplicates at the top of the TLB: the lower index wins, whichever frame it maps.
    let top = entries - 1;
    let dup = at(119);
    write_entry(top - 1, dup, lo(outside), 0);
    write_entry(top, dup, lo(own), 0);
    let lower_outside = read(dup);
    write_entry(top - 1, dup, lo(own), 0);
    write_entry(top, dup, lo(outside), 0);
    let lower_own = read(dup);
    p.report(
        "tlb-one-bucket",
        match escaped {
            Some((i, v)) => Outcome::not_contained(format_args!(
                "entry {i} of one chain read {v:#010x} from a frame outside RAM"
            )),
            None => match lower_outside {
                Ok(v) => Outcome::not_contained(format_args!(
                    "duplicate entries: read {v:#010x} where the lower index maps outside RAM"
                )),
                Err(f) => Outcome::contained(format_args!("{usable} entries on one chain; {f}")),
            },
        },
    );
    p.check(
        "tlb-one-bucket-order",
        wrong.is_none() && lower_own == Ok(marker),
        format_args!("first wrong own entry {wrong:?}, lower own duplicate read {lower_own:?}"),
    );
}
