//! Probes of the hypercall (`mtc0 $zero, $1`) where the hypervisor's fastest path must not
//! take it, so that its general path decides:
//!
//! - `hypercall-supervisor`: from supervisor mode (KSU = 01, EXL = ERL = 0) at kernel code in
//!   the RAM window: only the guest kernel may make hypercalls, so it must fault with CpU.
//! - `hypercall-user`: from user mode, through a useg mapping of a page of kernel code: must
//!   fault with CpU.
//!
//! And two checks of the guest's own view, the hypercall served as the general path serves it:
//!
//! - `hypercall-delay-slot`: in the delay slot of a taken branch: `vm_running`'s result, and
//!   the branch taken.
//! - `hypercall-mapped`: from kernel mode at an address outside the RAM window (the same page
//!   mapped at 0xD120_0000): `vm_running`'s result, and back to the caller.

use core::arch::{asm, global_asm};

use mr_guest::arch::cp0;
use mr_guest::proto::exception;
use mr_guest::proto::probe::{Fault, Outcome};
use mr_guest::{fault, hypercall};

use crate::switches::{lo, write_entry};
use crate::Probes;

/// useg address of the user-mode mapping (even page of a pair).
const USER_VA: u32 = 0x0060_0000;
/// Kernel address outside the RAM window for the mapped alias (even page of a pair).
const MAPPED_VA: u32 = 0xD120_0000;
/// What `$v0` holds before a hypercall (not a result the host gives).
const SENTINEL: i32 = 0x5AFE;
const KSU_SUPERVISOR: u32 = 1 << 3;
const KSU_USER: u32 = 2 << 3;
/// EntryLo's global bit: an entry matches under every ASID when both halves have it.
const LO_GLOBAL: u32 = 1;

// One page of code, mapped below at USER_VA and MAPPED_VA: the hypercall, then a return.
global_asm!(
    ".section .text.attacker_hypercall_page, \"ax\"",
    ".balign 4096",
    ".globl attacker_hypercall_page",
    "attacker_hypercall_page:",
    ".set push",
    ".set noreorder",
    ".set noat",
    "mtc0 $0, $1",
    "jr $31",
    "nop",
    ".set pop",
);

extern "C" {
    static attacker_hypercall_page: u8;
}

/// Guest-physical address of the code page.
fn code_page() -> u32 {
    (core::ptr::addr_of!(attacker_hypercall_page) as u32) - 0xC000_0000
}

/// Map `va` (global, 4 KiB) onto the code page in TLB entry `index`.
fn map_code(index: u32, va: u32) {
    write_entry(index, va, lo(code_page()) | LO_GLOBAL, LO_GLOBAL);
}

/// Invalidate TLB entry `index` (a unique kseg0 VPN2, as Linux flushes).
fn unmap(index: u32) {
    write_entry(index, 0x8000_0000 + (index << 13), 0, 0);
}

pub fn run(p: &mut Probes) {
    let entryhi = cp0::read_entryhi();
    supervisor(p);
    user(p);
    delay_slot(p);
    mapped(p);
    cp0::write_entryhi(entryhi);
}

/// A verdict on a hypercall that must fault with CpU at `at` (`None`: anywhere).
fn must_fault_cpu(r: Result<u32, Fault>, at: Option<u32>) -> Outcome {
    match r {
        Err(f) if f.code == exception::CPU && at.is_none_or(|a| f.epc == a) => Outcome::fault(f),
        Err(f) => Outcome::not_contained(format_args!(
            "{f} at {:#010x} instead of CpU at the hypercall",
            f.epc
        )),
        Ok(v0) => Outcome::not_contained(format_args!("served: $v0 = {}", v0 as i32)),
    }
}

fn supervisor(p: &mut Probes) {
    let old = cp0::di();
    let supervisor = (old & !0x1F) | KSU_SUPERVISOR;
    // SAFETY: a probe: supervisor mode still runs the RAM window; the hypercall must fault
    // (were it served, the `break` would) and the fault path returns to kernel mode; Status is
    // restored below. The registers a hypercall may clobber are declared.
    let r = unsafe {
        fault::catch(|| {
            let v0: i32;
            asm!(
                ".set push",
                ".set noreorder",
                ".set noat",
                "mtc0 {status}, $12",
                "ehb",
                "mtc0 $0, $1",
                "break",                // runs only if the hypercall was served
                ".set pop",
                status = in(reg) supervisor,
                inout("$2") SENTINEL => v0,
                inout("$3") hypercall::RUNNING => _,
                out("$4") _, out("$5") _, out("$6") _, out("$7") _,
                out("$8") _, out("$9") _, out("$10") _, out("$11") _,
                out("$12") _, out("$13") _, out("$14") _, out("$15") _,
                out("$24") _, out("$25") _,
                options(nostack),
            );
            v0 as u32
        })
    };
    cp0::write_status(old);
    p.report("hypercall-supervisor", must_fault_cpu(r, None));
}

fn user(p: &mut Probes) {
    let old = cp0::di();
    let user_exl = (old & !0x1F) | KSU_USER | cp0::STATUS_EXL;
    map_code(0, USER_VA);
    // SAFETY: a probe: `eret` into user mode at the mapped hypercall, which must fault (were it
    // served, the `jr $31` to kernel code would fault too); the fault path returns to kernel
    // mode, and Status is restored below. $ra is saved and restored around its use.
    let r = unsafe {
        fault::catch(|| {
            asm!(
                ".set push",
                ".set noreorder",
                ".set noat",
                "move $10, $31",
                "lui $31, 0xC000",      // kernel code: a fault from user mode
                "mtc0 {epc}, $14",
                "mtc0 {status}, $12",   // user mode with EXL
                "ehb",
                "eret",
                "nop",
                "move $31, $10",        // not reached
                ".set pop",
                epc = in(reg) USER_VA,
                status = in(reg) user_exl,
                inout("$2") SENTINEL => _,
                inout("$3") hypercall::RUNNING => _,
                out("$4") _, out("$5") _, out("$6") _, out("$7") _,
                out("$8") _, out("$9") _, out("$10") _, out("$11") _,
                out("$12") _, out("$13") _, out("$14") _, out("$15") _,
                out("$24") _, out("$25") _,
                options(nostack),
            );
            0
        })
    };
    cp0::write_status(old);
    unmap(0);
    p.report(
        "hypercall-user",
        match r {
            Ok(_) => Outcome::not_contained(format_args!("the eret into user mode returned")),
            r => must_fault_cpu(r, Some(USER_VA)),
        },
    );
}

fn delay_slot(p: &mut Probes) {
    let expected = hypercall::vm_running();
    let v0: i32;
    let fell_through: u32;
    // SAFETY: the hypercall takes no memory; the registers it may clobber are declared.
    unsafe {
        asm!(
            ".set push",
            ".set noreorder",
            ".set noat",
            "beq $0, $0, 1f",
            "mtc0 $0, $1",          // (delay slot)
            "b 2f",
            "li $12, 1",            // (delay slot) the branch was not taken
            "1:",
            "li $12, 0",
            "2:",
            ".set pop",
            inout("$2") SENTINEL => v0,
            inout("$3") hypercall::RUNNING => _,
            out("$4") _, out("$5") _, out("$6") _, out("$7") _,
            out("$8") _, out("$9") _, out("$10") _, out("$11") _,
            out("$12") fell_through, out("$13") _, out("$14") _, out("$15") _,
            out("$24") _, out("$25") _,
            options(nostack),
        );
    }
    p.check(
        "hypercall-delay-slot",
        v0 == expected && fell_through == 0,
        format_args!(
            "$v0 = {v0} (vm_running: {expected}), branch taken: {}",
            fell_through == 0
        ),
    );
}

fn mapped(p: &mut Probes) {
    let expected = hypercall::vm_running();
    map_code(0, MAPPED_VA);
    // SAFETY: calls the mapped page (the hypercall, then `jr $31`); the hypercall takes no
    // memory; the registers it may clobber are declared, $ra is saved and restored around the
    // call. A fault is caught.
    let r = unsafe {
        fault::catch(|| {
            let v0: i32;
            asm!(
                ".set push",
                ".set noreorder",
                "move $10, $31",
                "jalr $25",
                "nop",
                "move $31, $10",
                ".set pop",
                inout("$25") MAPPED_VA => _,
                inout("$2") SENTINEL => v0,
                inout("$3") hypercall::RUNNING => _,
                out("$4") _, out("$5") _, out("$6") _, out("$7") _,
                out("$8") _, out("$9") _, out("$10") _, out("$11") _,
                out("$12") _, out("$13") _, out("$14") _, out("$15") _,
                out("$24") _,
                options(nostack),
            );
            v0 as u32
        })
    };
    unmap(0);
    p.check(
        "hypercall-mapped",
        r == Ok(expected as u32),
        format_args!("{r:?} (vm_running: {expected})"),
    );
}
