//! What a guest finds at its entry point.
//!
//! - MIPS ([`mips_argv`]): `$a0 = argc`, `$a1 = argv`, a RouterBOOT-style `char **` laid out in
//!   guest memory by [`build_mips_argv`].
//! - PowerPC ([`device_tree`]): `r3` = a flattened device tree built by
//!   [`build_powerpc_device_tree`].

pub mod device_tree;
pub mod mips_argv;

pub use device_tree::{build_powerpc_device_tree, DeviceTreeError, PowerPcBootInfo};
pub use mips_argv::{build_mips_argv, ArgvError, ArgvLayout, MipsBootArgs, COMMAND_LINE_SIZE};
