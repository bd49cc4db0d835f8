//! Host-side harness for the hypervisor images.
//!
//! - [`boards`]: the boards `./x` knows, their targets and QEMU machines.
//! - [`toolchain`] and [`image`]: cross-build a board's image with the toolchain that has the
//!   standard library sources (`-Zbuild-std`).
//! - [`guests`]: build the sample guests and pack them as import archives.
//! - [`qemu`]: the QEMU command line for a board, shared by `./x run` and the tests.
//! - [`monitor`]: the QEMU monitor, for tests that read the machine's memory (and set links).
//! - [`netlab`]: network namespaces and tap devices as real peers of the Ethernet ports; the
//!   [`netpeer`] (the `netpeer` program) moves TCP data and UDP floods between them and floods
//!   broadcasts ([`broadcast`]), and [`vlanpeer`] speaks ARP and ping tagged with a VLAN id
//!   from user space; [`vlanlab`] is a test's VLAN peer (a Linux VLAN interface, or that
//!   user-space peer).
//! - [`session`]: boot an image and talk to its serial console: send, wait for text with a
//!   timeout, capture the transcript. A QEMU that hangs is killed at the deadline and the
//!   failure carries the transcript.
//! - [`golden`]: compare transcripts with files under `golden/`, masking what varies between
//!   runs (uptime, free memory); `UPDATE_GOLDEN=1` rewrites them.
//!
//! The integration tests under `tests/` use all of it; `./x test` runs them.

pub mod boards;
pub mod broadcast;
pub mod files;
pub mod golden;
pub mod guests;
pub mod image;
pub mod monitor;
pub mod netlab;
pub mod netpeer;
pub mod qemu;
pub mod session;
pub mod toolchain;
pub mod vlanlab;
pub mod vlanpeer;

use std::path::PathBuf;

/// The workspace root (this crate's parent directory).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("qemu-tests sits in the workspace")
        .to_path_buf()
}
