//! Management plane: a RouterOS-style CLI on the serial console, the configuration model, its
//! power-cut-safe store on flash, and guest console attach. Portable (`no_std` + `alloc`, no
//! unsafe code): the hypervisor and the host simulator run the same code, each implementing
//! [`Platform`] and [`Terminal`].
//!
//! ```text
//! let mut shell = Shell::new(&mut platform, ShellOptions::default());
//! shell.input(bytes_from_uart, &mut platform, &mut terminal);   // whenever input arrives
//! shell.poll(&mut platform, &mut terminal);                     // every few ms
//! ```
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod apply;
pub mod change;
pub mod cli;
pub mod config;
pub mod export;
pub mod identity;
pub mod item_map;
pub mod menus;
pub mod network;
pub mod network_derive;
pub mod platform;
pub mod references;
pub mod rib_limits;
pub mod rib_state;
pub mod route_view;
pub mod saved;
pub mod script_line;
pub mod shell;
pub mod store;
pub mod value;

/// The host's IP endpoint, for platforms that run it (the hypervisor, the simulator).
pub use hostip;
pub use network::NetworkConfig;
pub use platform::{
    CountedInterface, FileInfo, Flash, FlashError, GuestConfig, GuestId, GuestMemory, GuestState,
    GuestStatus, ImportProgress, InterfaceStats, Platform, PlatformError, PortInfo, SystemInfo,
    Terminal, MAX_GUESTS, MIB,
};
pub use shell::{Shell, ShellOptions};
pub use store::mem_flash::MemFlash;
