//! `attacker`: runs the isolation probes one after another and reports each on the console as
//! `probe <name>: <outcome>` (see `mr_proto::probe` for the exact wording), then
//! `probes host-checked: K` and `probes done: N contained, M not contained`.
//!
//! The guest survives its own faults: every access that must fail runs under
//! `mr_guest::fault::catch`, so a reflected exception is recorded and execution resumes at the
//! probe's recovery point. Probes whose containment only the host can see (a faulted queue, a
//! log line, the other guests still running) print what the guest observed and `host-checked`.
//! Lines starting with `check ` are checks of the guest's own view (not counted; the host test
//! fails on a FAILED one).
//!
//! Meant to run under the hypervisor: on bare metal (kernel mode) most probes succeed.
#![no_std]
#![no_main]
#![cfg_attr(target_arch = "mips", feature(asm_experimental_arch))]

#[cfg(target_arch = "mips")]
mod commpage;
#[cfg(target_arch = "powerpc")]
mod e500;
#[cfg(target_arch = "mips")]
mod hypercall_paths;
#[cfg(target_arch = "mips")]
mod machine;
#[cfg(target_arch = "mips")]
mod memory;
mod queues;
#[cfg(target_arch = "mips")]
mod switches;

use mr_guest::proto::probe::{Outcome, Report, Tally};
use mr_guest::{control, event, println, Boot};

mr_guest::entry!(main);

/// Where the probes report.
pub struct Probes {
    tally: Tally,
    /// End of the guest's RAM (guest-virtual).
    pub ram_end: u32,
    /// RAM size in bytes.
    pub ram_bytes: u32,
}

impl Probes {
    /// Print and count one probe's outcome.
    pub fn report(&mut self, name: &str, outcome: Outcome) {
        self.tally.add(&outcome);
        println!(
            "{}",
            Report {
                name,
                outcome: &outcome
            }
        );
    }

    /// Print a sanity check of the guest's own view.
    pub fn check(&self, name: &str, ok: bool, detail: core::fmt::Arguments<'_>) {
        if ok {
            println!("check {name}: ok ({detail})");
        } else {
            println!("check {name}: FAILED ({detail})");
        }
    }
}

/// The MIPS probes, in their documented order.
#[cfg(target_arch = "mips")]
fn run_probes(p: &mut Probes) {
    memory::segments(p);
    memory::tlb(p);
    switches::run(p);
    queues::run(p);
    machine::cp0_writes(p);
    machine::cache_ops(p);
    commpage::run_all(p);
    machine::hypercalls(p);
    hypercall_paths::run(p);
    machine::storms(p);
    machine::spin_with_interrupts_off(p);
}

/// The e500 probes (`e500/`).
#[cfg(target_arch = "powerpc")]
fn run_probes(p: &mut Probes) {
    e500::window(p);
    e500::tlb(p);
    e500::switches(p);
    queues::run(p);
    e500::sprs(p);
    e500::cache_ops(p);
    e500::hypercalls(p);
    e500::storms(p);
    e500::spin_with_interrupts_off(p);
}

/// RAM assumed when `mem=` is missing.
const DEFAULT_RAM: u32 = 16 << 20;

fn main(boot: &'static Boot) -> ! {
    println!();
    println!(
        "attacker: MetaROUTER isolation probes (mr-guest {})",
        env!("CARGO_PKG_VERSION")
    );
    let ram_bytes = if boot.ram_bytes != 0 {
        boot.ram_bytes
    } else {
        DEFAULT_RAM
    };
    println!(
        "memory-size: {}MiB{}",
        ram_bytes >> 20,
        if boot.ram_bytes == 0 {
            " (assumed: no mem= word)"
        } else {
            ""
        }
    );
    println!(
        "virtualized: {}",
        if boot.virtualized { "yes" } else { "no" }
    );
    let mut p = Probes {
        tally: Tally::default(),
        ram_end: mr_guest::boot::WINDOW_START + ram_bytes,
        ram_bytes,
    };
    run_probes(&mut p);
    println!("{}", p.tally.closing());
    println!("attacker: idle");
    loop {
        if event::wait() & event::CONTROL != 0 {
            match control::poll() {
                Some(mr_guest::proto::control::ControlMessage::Halt) => control::halt(),
                Some(mr_guest::proto::control::ControlMessage::Restart) => control::reboot(),
                None => {}
            }
        }
    }
}
