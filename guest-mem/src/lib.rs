//! Guest addresses and the one place where guest pointers are translated and bounds-checked.
//!
//! A MetaROUTER guest hands the hypervisor guest-virtual addresses (descriptor rings, buffers, the
//! virq word). Its RAM is one physically contiguous partition that appears to the guest as a
//! linear window: on MIPS guest-virtual `0xC000_0000 + x` is guest-physical `x`, on PowerPC the
//! window starts at `PAGE_OFFSET` `0x8000_0000`. This crate gives the three address spaces distinct
//! types ([`Gva`], [`Gpa`], [`Hpa`], and [`PhysRange`] for host memory), the window arithmetic
//! ([`GuestWindow`], [`Partition`]), the description of each guest CPU family ([`GuestArch`]:
//! window, ELF placement, boot arguments, partition placement) and a checked view of a guest's
//! RAM ([`GuestRam`]) through which every device access goes.
//!
//! Nothing here panics on guest-controlled input: every access returns a [`MemError`] that says
//! what was wrong (outside the window, misaligned, or an address range that wraps around).
#![no_std]
#![forbid(unsafe_code)]
// Addresses and lengths narrow only where they are shown to fit (guest physical addresses are
// 36 bits wide on e500). Test fixtures narrow known-small values; the library is linted without
// them.
#![warn(clippy::cast_possible_truncation)]
#![cfg_attr(test, allow(clippy::cast_possible_truncation))]

mod addr;
pub mod arch;
mod copy;
mod error;
mod hex;
mod ram;
mod window;

pub use addr::{Gpa, Gva, Hpa, PhysRange};
pub use arch::{
    AddressField, BootArgs, ElfMachine, GuestArch, PartitionAlign, PlacementError, MIPS_RAM_WINDOW,
    PARTITION_GRANULE, PPC_RAM_WINDOW, WINDOW_GRANULE,
};
pub use copy::copy;
pub use error::{LayoutError, MemError};
pub use hex::Hex;
pub use ram::GuestRam;
pub use window::{GuestWindow, Partition};
