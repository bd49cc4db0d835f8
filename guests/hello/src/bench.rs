//! `bench`: measures, from inside the guest, what the hypervisor costs it (`bench/mips.rs`,
//! `bench/e500.rs`).

#[cfg(target_arch = "powerpc")]
#[path = "bench/e500.rs"]
mod arch;
#[cfg(target_arch = "mips")]
#[path = "bench/mips.rs"]
mod arch;

pub use arch::run;
