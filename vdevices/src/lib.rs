//! MetaROUTER virtual devices, portable: the vdma ring engine, the control, console, metafs and
//! virtual ethernet queues, the virq word and the hypercalls that set them up.
//!
//! Everything works on a guest's RAM through [`guest_mem::GuestRam`], so every guest pointer is
//! translated and bounds-checked there; a bad pointer or a looping ring faults only the queue it
//! is on ([`QueueFault`]), never the hypervisor. There is no allocation anywhere; a frame goes
//! from one guest's TX buffer into another guest's RX buffer with one copy.
//!
//! Entry point: [`GuestDevices`], one per guest. Module map: [`abi`] (numbers),
//! [`descriptor`] (one `vdma_descr`), [`ring`] (the engine), `queue` (queue slots and faults),
//! [`virq`], `control`, `console`, [`metafs`] (the file service and its store trait), `veth`, [`hypercall`], `devices`, and
//! [`fuzzing`] (the fuzz target's body, also run by `cargo test`).
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "reference-store")]
extern crate alloc;

pub mod abi;
mod console;
mod control;
pub mod descriptor;
mod devices;
mod fault;
pub mod fuzzing;
pub mod hypercall;
pub mod metafs;
mod queue;
pub mod ring;
mod veth;
pub mod virq;

pub use abi::QueueId;
pub use console::CONSOLE_MAX_TRANSFER;
pub use control::ControlWord;
pub use devices::{DeviceStats, Events, GuestDevices, SERVICE_BUDGET};
pub use fault::{DeviceError, QueueFault, RingError, Side};
pub use metafs::errno::{Errno, ErrnoTable};
pub use metafs::exports::{Export, ExportError, MAX_EXPORTS};
pub use metafs::store::{FsError, MetafsStore, Timestamp, Volume};
pub use metafs::{MetafsStats, CMD_READPAGE, CMD_WRITEPAGE};
pub use queue::{Channel, QueueStatus};
pub use veth::{
    control_message, Delivery, InterfaceError, Mac, TxToken, VethStats, VethTx, CMD_DELIFACE,
    CMD_NEWIFACE, DEFAULT_MAX_TRANSFER, ID_LEN, MAX_INTERFACES, MIN_TRANSFER,
};
