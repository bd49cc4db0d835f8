//! The hypervisor kernel.
//!
//! This crate is everything that runs on the bare machine and is not specific to one board: the
//! CPU architecture layer ([`arch`]: entry, exception vectors, timer, interrupt masking), the
//! [`board`] interface each board implements, the console ([`console`]), time keeping
//! ([`time`]), the heap ([`heap`]) and the RAM it shares with guests ([`ram`]), the stacks'
//! marks ([`stack`]), guest management on this machine ([`vm`]), the management plane's
//! platform ([`platform`]), the panic handler ([`panic`](mod@panic)) and the kernel's main loop
//! ([`kernel`]). Portable logic (CLI, routing, guest management, devices, switch, image parsing)
//! lives in the host-tested crates it depends on; this crate glues them to the hardware.
//!
//! A board is a binary crate: it defines its entry with [`board_entry!`], builds its devices and
//! hands them to [`kernel::run`].
#![no_std]
#![cfg_attr(target_arch = "mips", feature(asm_experimental_arch))]
#![deny(unsafe_op_in_unsafe_fn)]
// Physical addresses are 64-bit values (36 bits on e500): they narrow to a pointer or a
// register only where the arch shows they fit.
#![warn(clippy::cast_possible_truncation)]

extern crate alloc;

pub mod arch;
pub mod board;
pub mod bootmem;
pub mod console;
pub mod disk;
pub mod heap;
pub mod kernel;
pub mod nic_port;
pub mod panic;
pub mod platform;
pub mod ram;
pub mod stack;
pub mod sync;
pub mod time;
pub mod vm;

/// The product's version, shown in the banner and `/system resource print`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
