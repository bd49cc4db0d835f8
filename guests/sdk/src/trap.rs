//! What happens on an exception.
//!
//! - Interrupts: IP7 is the tick ([`crate::timer`]), IP1 the host's virqs
//!   ([`crate::event`]); IP0 is acknowledged and ignored; an interrupt taken inside the idle
//!   sequence resumes after its `wait`.
//! - Any other exception while a recovery point is armed ([`crate::fault::catch`]) is
//!   recorded and execution resumes at the recovery point, with Status.KSU/ERL cleared (a probe
//!   may have set them).
//! - Anything else is a bug in the guest: panic with the registers (prints, sends "halt").

use core::cell::Cell;

use crate::arch::catch;
use crate::arch::cp0;
use crate::arch::vectors::{self, TrapFrame};
use mr_proto::exception;
use mr_proto::probe::Fault;

struct LastFault(Cell<Option<Fault>>);

// SAFETY: single CPU; written only by the trap handler with interrupts off, read by the code
// that armed the recovery after it resumed.
unsafe impl Sync for LastFault {}

static LAST_FAULT: LastFault = LastFault(Cell::new(None));

/// Take the fault recorded by the last recovery (if any).
pub fn take_fault() -> Option<Fault> {
    cp0::without_interrupts(|| LAST_FAULT.0.take())
}

/// Entry from the exception vectors, with EXL set (interrupts off).
pub fn dispatch(frame: &mut TrapFrame) {
    let code = (frame.cause >> cp0::CAUSE_EXCCODE_SHIFT) & cp0::CAUSE_EXCCODE_MASK;
    if code == exception::INT {
        interrupt(frame);
    } else if catch::armed() {
        LAST_FAULT.0.set(Some(Fault {
            code,
            bad_vaddr: frame.badvaddr,
            epc: frame.epc,
        }));
        frame.epc = catch::take_recovery();
        frame.status &= !(cp0::STATUS_KSU_MASK | cp0::STATUS_ERL);
    } else {
        panic!(
            "unhandled exception {} at epc={:#010x} badvaddr={:#010x} status={:#010x} cause={:#010x} \
             ra={:#010x} sp={:#010x}",
            exception::name(code),
            frame.epc,
            frame.badvaddr,
            frame.status,
            frame.cause,
            frame.gpr[31],
            frame.gpr[29],
        );
    }
}

fn interrupt(frame: &mut TrapFrame) {
    vectors::leave_idle_region(frame);
    let pending = (frame.cause & frame.status) >> cp0::CAUSE_IP_SHIFT & 0xFF;
    if pending & (1 << cp0::IRQ_TIMER) != 0 {
        crate::timer::on_tick();
    }
    if pending & (1 << cp0::IRQ_VIRQ) != 0 {
        crate::event::on_virq();
    }
    if pending & 1 != 0 {
        cp0::write_cause(cp0::read_cause() & !(1 << cp0::CAUSE_IP_SHIFT));
    }
}
