//! MIPS32 guest CPU model for a hypervisor on a MIPS32r2 24Kc without VZ: privileged-instruction
//! decode, virtual CP0, virtual TLB, shadow translation into the guest's partition, host ASIDs,
//! the refill cache the arch's refill handler probes, exception reflection, delay-slot branch
//! completion and virtual time.
//!
//! Pure logic over plain data (`no_std`, no allocation, no unsafe): the arch layer saves the
//! guest's registers, calls [`Vcpu::handle_trap`] and [`Vcpu::prepare_entry`], and performs the
//! few real-hardware actions an [`Outcome`] asks for. See the crate's README.md for the API, the
//! refill-cache layout and every design decision.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod addr;
pub mod asid;
pub mod branch;
pub mod cache_op;
pub mod config;
pub mod cp0;
pub mod decode;
pub mod dyntrans;
mod emulate;
pub mod exception;
mod fast;
pub mod fuzz;
pub mod interface;
pub mod plain;
pub mod refill;
pub mod shadow;
pub mod timer;
pub mod tlb;
pub mod vcpu;

pub use addr::{mips_partition, Gpa, Gva, Hpa, MipsPartition, Partition, PartitionError};
pub use asid::{HostAsidAllocator, HYPERVISOR_ASID};
pub use cache_op::HostCacheAction;
pub use config::{ConfigError, HostCpu, VcpuConfig, GUEST_TLB_ENTRIES};
pub use dyntrans::{CommPage, Rewrite, COMMPAGE_GVA};
pub use exception::HaltReason;
pub use fast::{trap_uses_gprs, Fast};
pub use interface::{
    AuditError, Entry, GuestMemory, GuestRegs, HostInvalidation, HostTlbEntry, Hypercall, Outcome,
    RealMode, Reflection, Trap,
};
pub use plain::{PlainWrite, PLAIN_REGISTER_SLOTS};
pub use refill::{RefillCache, RefillSlot, REFILL_SLOTS};
pub use vcpu::Vcpu;
