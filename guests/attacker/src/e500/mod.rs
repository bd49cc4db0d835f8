//! The isolation probes on the PowerPC e500, adapted from the MIPS ones (and from
//! `hello-e500`'s): memory outside the RAM window, TLB entries naming foreign physical frames
//! with every TLB1 page size, TLB1 entries over the CCSR and past the partition, crafted SRR1
//! values through `rfi`, writes to IVPR/IVORs/TCR/HID0/L1CSR/MMUCSR0/PID, cache operations on
//! foreign frames, unknown hypercalls and bad virq words, storms, and a spin with MSR\[EE\] = 0.
//! The queue probes are the MIPS ones (`queues.rs`) with this window's foreign addresses.
//!
//! A fault's evidence is the interrupt's short name, with DEAR where the interrupt sets it:
//! `DTLB at 0x00001000`, `MCHK`, `ISI`.

mod machine;
mod memory;

pub use machine::{cache_ops, hypercalls, spin_with_interrupts_off, sprs, storms, switches};
pub use memory::{tlb, window};

pub use mr_guest::arch::vectors::ivor;
use mr_guest::proto::probe::{Fault, Outcome};

/// `NAME at DEAR` for data storage, alignment and data TLB interrupts, the bare name otherwise
/// (a machine check does not set DEAR).
pub struct Evidence(pub Fault);

impl core::fmt::Display for Evidence {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Fault {
            code, bad_vaddr, ..
        } = self.0;
        f.write_str(ivor::name(code))?;
        if matches!(code, ivor::DATA_STORAGE | ivor::ALIGNMENT | ivor::DATA_TLB) {
            write!(f, " at {bad_vaddr:#010x}")?;
        }
        Ok(())
    }
}

/// A fault is containment; success is an escape, described by `what`.
pub fn must_fault(result: Result<u32, Fault>, what: core::fmt::Arguments<'_>) -> Outcome {
    match result {
        Err(fault) => Outcome::contained(format_args!("{}", Evidence(fault))),
        Ok(value) => Outcome::not_contained(format_args!("{what} ({value:#010x})")),
    }
}
