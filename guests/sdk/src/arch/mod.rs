//! The CPU layer: everything that is an instruction or a CP0 register.
//!
//! Surface every arch provides (only MIPS exists so far):
//! - `_start` (the ELF entry) calling `crate::runtime::start(argc, argv)` with a stack and a
//!   zeroed bss;
//! - `vectors::install()` and the exception entry calling `crate::trap::dispatch(&mut TrapFrame)`;
//! - `cp0`: the CP0 registers the runtime uses, `di`/`ei`/`wait`;
//! - `hypercall::call(nr, a0..a3)`;
//! - `atomic::swap` (atomic with respect to the host, which writes while the guest is trapped);
//! - `idle()` (sleep until an interrupt without losing one that arrives just before);
//! - `catch::call` (run a function, turning an exception into an error).

#[cfg(target_arch = "mips")]
mod mips;
#[cfg(target_arch = "mips")]
pub use mips::*;

#[cfg(not(target_arch = "mips"))]
compile_error!(
    "mr-guest supports MIPS MetaROUTER guests only (build with --target mips-mti-none-elf)"
);
