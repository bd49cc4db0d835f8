//! The guest's decrementer, fixed-interval timer, watchdog and External Input, delivered
//! through its IVORs when its MSR allows, and what the scheduler is told.

mod common;

use common::*;
use vcpu_e500::exception::HaltReason;
use vcpu_e500::spr::{msr, num, tcr, tsr};
use vcpu_e500::sprs::slot;
use vcpu_e500::Outcome;

fn guest() -> Guest {
    let mut g = Guest::standard();
    g.install_vectors();
    g.jump(WINDOW + 0x8000);
    g
}

/// Advance host time and return into the guest; whether an interrupt was delivered.
fn pass(g: &mut Guest, ticks: u64) -> bool {
    g.tb.now += ticks;
    g.tb.enter();
    g.check();
    g.tb.entry.unwrap().interrupt_delivered
}

#[test]
fn decrementer_fires_once_then_auto_reloads() {
    let mut g = guest();
    g.write_spr(num::DEC, 1000);
    g.write_spr(num::TCR, tcr::DIE);
    g.write_msr(msr::EE | msr::ME);
    assert_eq!(g.tb.vcpu.timer_deadline(g.tb.now), Some(1000));
    assert!(!pass(&mut g, 999));
    let resume = g.pc();
    assert!(pass(&mut g, 1));
    assert_eq!(g.pc(), Guest::vector(10));
    assert_eq!(g.srr(), (resume, msr::EE | msr::ME));
    assert_ne!(g.read_spr(num::TSR) & tsr::DIS, 0);
    assert_eq!(g.read_spr(num::DEC), 0, "stopped at 0 without ARE");
    // The handler acknowledges and returns: nothing more is pending.
    g.write_spr(num::TSR, tsr::DIS);
    assert_eq!(g.exec(RFI), Outcome::Resume);
    assert_eq!(g.pc(), resume);
    assert!(!pass(&mut g, 100_000));
    assert_eq!(g.tb.vcpu.timer_deadline(g.tb.now), None);
    // Auto-reload from DECAR every 500 ticks.
    g.write_spr(num::DECAR, 500);
    g.write_spr(num::TCR, tcr::DIE | tcr::ARE);
    g.write_spr(num::DEC, 500);
    for _ in 0..3 {
        assert!(!pass(&mut g, 499));
        assert!(pass(&mut g, 1));
        g.write_spr(num::TSR, tsr::DIS);
        g.exec(RFI);
    }
}

#[test]
fn a_pending_interrupt_waits_for_msr_ee() {
    let mut g = guest();
    g.write_spr(num::DEC, 10);
    g.write_spr(num::TCR, tcr::DIE);
    assert!(!pass(&mut g, 50), "MSR[EE] = 0");
    assert_ne!(g.read_spr(num::TSR) & tsr::DIS, 0);
    let after = g.pc() + 4;
    g.exec(wrteei(true));
    assert!(
        g.tb.entry.unwrap().interrupt_delivered,
        "delivered as wrteei 1 returns"
    );
    assert_eq!((g.pc(), g.srr().0), (Guest::vector(10), after));
}

#[test]
fn fixed_interval_timer() {
    let mut g = guest();
    // Time-base bit 10 (period 2048): FPEXT || FP = 63 - 10 = 53 = 0b1101_01.
    g.write_spr(num::TCR, tcr::FIE | 1 << 24 | 13 << 13);
    g.write_msr(msr::EE);
    let now = g.tb.now;
    let first = g.tb.vcpu.timer_deadline(now).unwrap();
    assert!(first <= 2048);
    assert!(!pass(&mut g, first - 1));
    assert!(pass(&mut g, 1));
    assert_eq!(g.pc(), Guest::vector(11));
    assert_ne!(g.read_spr(num::TSR) & tsr::FIS, 0);
}

#[test]
fn external_input_and_priorities() {
    let mut g = guest();
    g.tb.vcpu.set_external_input(true);
    assert!(!g.tb.vcpu.external_input_deliverable());
    assert!(!pass(&mut g, 1), "MSR[EE] = 0");
    // A decrementer event pending too: the External Input comes first.
    g.write_spr(num::DEC, 1);
    g.write_spr(num::TCR, tcr::DIE);
    g.tb.now += 10;
    g.set_gpr(3, msr::EE);
    g.exec(mtmsr(3));
    assert_eq!(g.pc(), Guest::vector(4));
    g.tb.vcpu.set_external_input(false);
    g.exec(RFI);
    assert_eq!(g.pc(), Guest::vector(10), "then the decrementer");
}

#[test]
fn watchdog_interrupt_then_reset() {
    let mut g = guest();
    // Time-base bit 8 (period 512): WPEXT || WP = 55 = 0b1101_11.
    g.write_spr(num::TCR, tcr::WIE | 3 << 30 | 13 << 17 | 2 << 28);
    g.write_msr(msr::CE | msr::ME);
    assert!(!pass(&mut g, 512), "first time-out: ENW");
    assert_ne!(g.read_spr(num::TSR) & tsr::ENW, 0);
    let resume = g.pc();
    assert!(pass(&mut g, 512), "second: WIS, a critical interrupt");
    assert_eq!(g.pc(), Guest::vector(12));
    assert_eq!(
        (g.spr(slot::CSRR0), g.spr(slot::CSRR1)),
        (resume, msr::CE | msr::ME)
    );
    assert_eq!(g.msr(), msr::ME, "critical class keeps only ME");
    // TCR[WRC] is set once: clearing it (same period, no WIE) does not disarm the reset.
    g.write_spr(num::TCR, 3 << 30 | 13 << 17);
    assert_eq!(g.read_spr(num::TCR) & tcr::WRC, 2 << 28);
    g.tb.now += 1024;
    g.tb.enter();
    assert_eq!(g.tb.halted, Some(HaltReason::WatchdogReset));
}

#[test]
fn scheduler_deadlines() {
    let mut g = guest();
    assert_eq!(g.tb.vcpu.timer_deadline(g.tb.now), None);
    // Interrupts off, no timer: a yield lasts at most the host's slice.
    assert_eq!(g.tb.vcpu.wait_deadline(g.tb.now, 5000), Some(5000));
    g.write_msr(msr::EE);
    assert_eq!(
        g.tb.vcpu.wait_deadline(g.tb.now, 5000),
        None,
        "sleeps until woken"
    );
    g.write_spr(num::DEC, 300);
    g.write_spr(num::TCR, tcr::DIE);
    assert_eq!(g.tb.vcpu.wait_deadline(g.tb.now, 5000), Some(300));
    // A yield (the hypercall's) ends at the timer, or when the host wakes the guest.
    g.tb.vcpu.start_wait();
    assert!(!g.tb.vcpu.runnable(g.tb.now + 299));
    assert!(g.tb.vcpu.runnable(g.tb.now + 300));
    g.tb.vcpu.start_wait();
    g.tb.vcpu.wake();
    assert!(g.tb.vcpu.runnable(g.tb.now));
}
