//! `bench [TOUCHES]`: the workloads, each timed with CP0 Count (the guest's Count runs at the
//! host's rate, so bare-metal and guest figures compare directly).
//!
//! - `spin`: a user-mode register loop.
//! - `touch pages=P` for P in [`PAGES`]: one process, its data pages mapped beforehand, loads
//!   from P consecutive pages per round, `TOUCHES` loads in all: once the pages' pairs pass the
//!   TLB's reach, each load is a TLB refill through the kernel's refill handler. The sets that
//!   fit a 256-entry TLB (up to 192 pages) run first, on a warm TLB; 512 and 1024 pages (256
//!   and 512 pairs) run last: there every load misses even a 256-entry TLB.
//! - `syscall`: `getpid`-like system calls in a user loop.
//! - `spawn`: processes made, run and ended (a new ASID and page table, the program copied in,
//!   text, four data pages and the stack mapped on demand by the fault handler, `exit`): the
//!   TLB and exception work of fork+exec+exit.
//! - `mix`: rounds of loads from 32 pages and one system call.
//!
//! Output, one line each: `userbench: <name> <params> cycles=<Count cycles>`.

use mr_guest::arch::cp0;
use mr_guest::{println, timer};

use crate::entry::{run_user, UserRegs, CRASHED};
use crate::mm::{self, Process, DATA_VA, STACK_TOP, TEXT_VA};
use crate::user::{OP_MIX, OP_NULL_LOAD, OP_SPIN, OP_SYSCALL, OP_TOUCH};

/// Pages touched per round in the `touch` runs.
pub const PAGES: [u32; 12] = [4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 512, 1024];
const MAX_PAGES: u32 = 1024;
/// The largest set whose pairs fit a 256-entry TLB among [`PAGES`].
const WARM_PAGES: u32 = 192;

/// Run `op` in `p`; returns Count cycles, or None (printed) if the process crashed.
fn timed(p: &Process, op: u32, pages: u32, rounds: u32) -> Option<u32> {
    mm::switch_to(p);
    let regs = UserRegs {
        a: [op, DATA_VA, pages, rounds],
        sp: STACK_TOP,
        pc: TEXT_VA,
    };
    let t0 = cp0::read_count();
    let result = run_user(&regs);
    let cycles = cp0::read_count().wrapping_sub(t0);
    if result & CRASHED != 0 {
        // SAFETY: written by the exception path before it returned.
        let (epc, bad) = unsafe {
            (
                *core::ptr::addr_of!(crate::entry::ub_crash_epc),
                *core::ptr::addr_of!(crate::entry::ub_crash_badvaddr),
            )
        };
        println!(
            "userbench: error: user exception {} at epc={epc:#010x} badvaddr={bad:#010x}",
            result & 0x1F
        );
        return None;
    }
    Some(cycles)
}

/// A load from user address 0x180 right after a system call must fault like any unmapped user
/// address (under a hypervisor whose guest kernel reads its rewritten CP0 registers there, the
/// kernel's page must be gone when user mode runs).
fn null_load(p: &Process) {
    mm::switch_to(p);
    let regs = UserRegs {
        a: [OP_NULL_LOAD, 0, 0, 0],
        sp: STACK_TOP,
        pc: TEXT_VA,
    };
    let result = run_user(&regs);
    // SAFETY: written by the exception path before it returned.
    let bad = unsafe { *core::ptr::addr_of!(crate::entry::ub_crash_badvaddr) };
    if result == CRASHED | 2 && bad == 0x180 {
        println!("userbench: user-null-load faulted (TLBL at {bad:#010x})");
    } else {
        println!(
            "userbench: error: user-null-load: user mode read address 0x180 (result {result:#x}, badvaddr {bad:#010x})"
        );
    }
}

/// Time `touches` loads over `pages` pages of `p`.
fn touch(p: &Process, pages: u32, touches: u32) {
    let rounds = (touches / pages).max(1);
    if let Some(c) = timed(p, OP_TOUCH, pages, rounds) {
        println!(
            "userbench: touch pages={pages} loads={} cycles={c}",
            rounds * pages
        );
    }
}

pub fn run(touches: u32) {
    let was = cp0::di();
    cp0::write_pagemask(0);
    mm::init();
    println!(
        "userbench: tlb-entries={} count-frequency={}Hz touches={touches}",
        mm::tlb_entries(),
        timer::count_hz()
    );
    if let Some(p) = mm::spawn(MAX_PAGES) {
        // Map every data page once (demand faults), then load the pages of the sets that fit
        // a 256-entry TLB once more (what a process that just ran them has), then time each
        // working set.
        let _ = timed(&p, OP_TOUCH, MAX_PAGES, 1);
        let _ = timed(&p, OP_TOUCH, WARM_PAGES, 1);
        if let Some(c) = timed(&p, OP_SPIN, 0, touches) {
            println!("userbench: spin iterations={touches} cycles={c}");
        }
        for pages in PAGES.iter().copied().filter(|&p| p <= WARM_PAGES) {
            touch(&p, pages, touches);
        }
        let calls = (touches / 100).max(1);
        if let Some(c) = timed(&p, OP_SYSCALL, 0, calls) {
            println!("userbench: syscall calls={calls} cycles={c}");
        }
        let rounds = (touches / 400).max(1);
        if let Some(c) = timed(&p, OP_MIX, 32, rounds) {
            println!("userbench: mix pages=32 rounds={rounds} cycles={c}");
        }
        null_load(&p);
        // Last: the sets past a 256-entry TLB's reach (every load a TLB miss).
        for pages in PAGES.iter().copied().filter(|&p| p > WARM_PAGES) {
            touch(&p, pages, touches);
        }
        mm::exit(p);
    }
    let processes = (touches / 2000).max(1);
    let t0 = cp0::read_count();
    let mut ok = true;
    for _ in 0..processes {
        let Some(p) = mm::spawn(4) else {
            println!("userbench: error: out of memory");
            ok = false;
            break;
        };
        ok &= timed(&p, OP_TOUCH, 4, 1).is_some();
        mm::exit(p);
        if !ok {
            break;
        }
    }
    let cycles = cp0::read_count().wrapping_sub(t0);
    if ok {
        println!("userbench: spawn processes={processes} cycles={cycles}");
    }
    // Back to the kernel's own address space state.
    cp0::write_entryhi(0);
    if was & cp0::STATUS_IE != 0 {
        cp0::ei();
    }
    println!("userbench: done");
}
