//! Guest-side protocol logic of the MetaROUTER guest ABI, free of assembly and `unsafe`.
//!
//! Everything here is plain `no_std` Rust that compiles and is unit-tested on the host; the
//! runtime (`mr-guest`) supplies the memory (descriptors in guest RAM, read and written with the
//! right ordering) and the instructions (hypercalls, CP0). See `guests/README.md` for the ABI
//! points this crate follows and which of them are verified against the published guest sources.
//!
//! - [`descriptor`]: vdma descriptor words, the DONE bit, TX and RX ring cursors.
//! - [`console`]: the console queue's append-to-a-busy-buffer rule and its input cursor.
//! - [`control`]: "restart" / "halt" messages of the control queue.
//! - [`veth`]: the interface-id prefix, NEWIFACE/DELIFACE and the interface table.
//! - [`fdt`]: the device-tree facts a PowerPC guest reads (bootargs, memory size, timebase).
//! - [`bootargs`]: the RouterBOOT-style argument words (`HZ=`, `board=`, `mem=`, `kmac=`, ...).
//! - [`line`](mod@line), [`command`]: a console line editor and command splitting for small shells.
//! - [`ipv4`], [`ping`], [`uptime`]: parsing and RouterOS-like formatting.
//! - [`transfer`]: the TCP transfer commands' arguments and result line.
//! - [`probe`], [`exception`], [`text`]: isolation-probe outcomes and their exact wording.
#![no_std]
#![forbid(unsafe_code)]

pub mod bootargs;
pub mod command;
pub mod console;
pub mod control;
pub mod descriptor;
pub mod exception;
pub mod fdt;
pub mod ipv4;
pub mod line;
pub mod ping;
pub mod probe;
pub mod text;
pub mod transfer;
pub mod uptime;
pub mod veth;
