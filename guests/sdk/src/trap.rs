//! What happens on an exception.
//!
//! On MIPS:
//! - Interrupts: IP7 is the tick ([`crate::timer`]), IP1 the host's virqs
//!   ([`crate::event`]); IP0 is acknowledged and ignored; an interrupt taken inside the idle
//!   sequence resumes after its `wait`.
//! - Any other exception while a recovery point is armed ([`crate::fault::catch`]) is
//!   recorded and execution resumes at the recovery point, with Status.KSU/ERL cleared (a probe
//!   may have set them).
//! - Anything else is a bug in the guest: panic with the registers (prints, sends "halt").
//!
//! On the e500 the same, by IVOR: External Input (4) is the virq word, the Decrementer (10)
//! the tick; any other interrupt while a recovery point is armed is recorded (the IVOR number
//! as the code, DEAR, SRR0) and execution resumes at the recovery point with MSR\[PR\], \[IS\]
//! and \[DS\] cleared (a probe may have set them with a crafted SRR1).

use core::cell::Cell;

use crate::arch::catch;
use crate::arch::irq;
use crate::arch::vectors::{self, TrapFrame};
use mr_proto::probe::Fault;
#[cfg(target_arch = "mips")]
use {crate::arch::cp0, mr_proto::exception};
#[cfg(target_arch = "powerpc")]
use {crate::arch::spr, crate::arch::vectors::ivor};

struct LastFault(Cell<Option<Fault>>);

// SAFETY: single CPU; written only by the trap handler with interrupts off, read by the code
// that armed the recovery after it resumed.
unsafe impl Sync for LastFault {}

static LAST_FAULT: LastFault = LastFault(Cell::new(None));

/// Take the fault recorded by the last recovery (if any).
pub fn take_fault() -> Option<Fault> {
    irq::without(|| LAST_FAULT.0.take())
}

/// Entry from the exception vectors, with EXL set (interrupts off).
#[cfg(target_arch = "mips")]
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

#[cfg(target_arch = "mips")]
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

/// Entry from the exception vectors, with MSR\[EE\] clear (interrupts off).
#[cfg(target_arch = "powerpc")]
pub fn dispatch(frame: &mut TrapFrame) {
    match frame.vector {
        ivor::EXTERNAL => {
            vectors::leave_idle_region(frame);
            crate::event::on_virq();
        }
        ivor::DECREMENTER => {
            vectors::leave_idle_region(frame);
            crate::arch::timer::acknowledge();
            crate::timer::on_tick();
        }
        _ if catch::armed() => {
            LAST_FAULT.0.set(Some(Fault {
                code: frame.vector,
                bad_vaddr: frame.dear,
                epc: frame.srr0,
            }));
            frame.srr0 = catch::take_recovery();
            frame.srr1 &= !(spr::MSR_PR | spr::MSR_IS | spr::MSR_DS);
        }
        _ => panic!(
            "unhandled interrupt {} (IVOR{}) at srr0={:#010x} srr1={:#010x} esr={:#010x} \
             dear={:#010x} lr={:#010x} r1={:#010x}",
            ivor::name(frame.vector),
            frame.vector,
            frame.srr0,
            frame.srr1,
            frame.esr,
            frame.dear,
            frame.lr,
            frame.gpr[1],
        ),
    }
}
