//! PowerPC e500v2 guest CPU model for a hypervisor on an e500v2 (no hypervisor mode): guests run
//! in problem state, and every privileged instruction, TLB miss and interrupt they cause comes
//! here. Privileged-instruction decode, virtual MSR and supervisor SPRs, virtual TLB0/TLB1 with
//! the real geometry and MAS semantics, the shadow MMU into the guest's partition (host
//! shadow IDs, large pages, the refill cache the arch's miss handler probes), exception
//! reflection through the guest's IVPR/IVORs, the decrementer, fixed-interval timer and
//! watchdog, and the boot state a Linux kernel expects.
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
mod audit;
pub mod config;
pub mod decode;
mod emulate;
pub mod entry;
pub mod exception;
mod fast;
pub mod fuzz;
pub mod host_model;
pub mod interface;
mod mmu;
pub mod plain;
pub mod refill;
pub mod shadow;
pub mod sid;
pub mod spr;
pub mod sprs;
pub mod testbed;
pub mod timer;
pub mod tlb;
pub mod vcpu;

pub use addr::{e500_partition, Gpa, Gva, Hpa, Partition, PartitionError};
pub use config::{ConfigError, HostCpu, VcpuConfig};
pub use exception::{HaltReason, Interrupt};
pub use fast::{Fast, HYPERCALL_GPRS};
pub use interface::{
    AuditError, CacheAction, Entry, GuestMemory, GuestRegs, HostInvalidation, HostTlbEntry,
    Hypercall, Outcome, Reflection, Trap,
};
pub use mmu::entry_users;
pub use refill::{RefillCache, RefillSlot, REFILL_SLOTS};
pub use sid::{Context, HostPidAllocator};
pub use vcpu::Vcpu;
