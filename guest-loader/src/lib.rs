//! Guest images for the MetaROUTER-compatible hypervisor: everything between a file the user
//! handed over and the first guest instruction, as portable `no_std` code with no `unsafe`.
//!
//! - [`elf`]: ELF32 big-endian kernels (MIPS or PowerPC), validated against the guest's RAM
//!   window and loaded into it, from a complete slice or streamed in pieces.
//! - [`archive`]: the `/metarouter import-image` archive (gzip'd tar with `kernel` and the guest's
//!   root file tree), decoded in a streaming way in about 60 KiB of fixed memory.
//! - [`initrd`]: the `INRD` initial ramdisk block that follows a loaded kernel.
//! - [`bootargs`]: what a guest finds at entry: the MIPS RouterBOOT-style `argc`/`argv`, and a
//!   flattened device tree for PowerPC guests.
//! - [`store`]: the preloaded file store (`/file print`), its binary format, a builder and a
//!   validating parser.
//! - [`fuzz`]: the bodies of the fuzz targets, also run by `cargo test`.
//!
//! Every error is a small `Copy` enum whose `Display` names the rule that was broken and who
//! supplied the bad input (the image, the store, or the caller).
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Addresses and lengths narrow only where they are shown to fit (guest physical addresses are
// 36 bits wide on e500). Test fixtures narrow known-small values; the library is linted without
// them.
#![warn(clippy::cast_possible_truncation)]
#![cfg_attr(test, allow(clippy::cast_possible_truncation))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod archive;
pub mod bootargs;
mod bytes;
pub mod crc32;
pub mod elf;
pub mod fuzz;
pub mod initrd;
pub mod store;

pub use guest_mem::{AddressField, GuestArch, GuestWindow, Hex, LayoutError};
