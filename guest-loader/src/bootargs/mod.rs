//! What a guest finds at its entry point.
//!
//! - MIPS ([`mips_argv`]): `$a0 = argc`, `$a1 = argv`, a RouterBOOT-style `char **` laid out in
//!   guest memory by [`build_mips_argv`].
//! - PowerPC ([`device_tree`]): `r3` = a flattened device tree built by
//!   [`build_powerpc_device_tree`].
//!
//! [`write_boot_args`] picks the form a guest's architecture uses and returns the registers it
//! starts with ([`EntryState`]).

pub mod device_tree;
mod entry;
pub mod mips_argv;

pub use device_tree::{build_powerpc_device_tree, DeviceTreeError, PowerPcBootInfo};
pub use entry::{write_boot_args, BootError, BootInfo, EntryState, EPAPR_MAGIC, MIPS_ARGS_AREA};
pub use mips_argv::{build_mips_argv, ArgvError, ArgvLayout, MipsBootArgs, COMMAND_LINE_SIZE};
