//! What can be wrong with a guest pointer, and with a RAM layout given by the hypervisor.
//!
//! [`MemError`] is a guest's fault (a bad pointer it handed over): the caller reflects it, faults
//! the queue or stops the guest. [`LayoutError`] is the hypervisor's own mistake when it builds a
//! window that cannot exist.

use crate::{Gva, Hex};
use core::fmt;

/// A guest-supplied address range that cannot be accessed. Always the guest's fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemError {
    /// `[addr, addr + len)` is not entirely inside the guest's RAM window.
    OutOfWindow {
        /// First byte of the offending range.
        addr: Gva,
        /// Its length in bytes.
        len: u32,
    },
    /// `addr` is not a multiple of `align`, which the ABI requires for this object.
    Misaligned {
        /// The offending address.
        addr: Gva,
        /// The alignment the ABI demands (a power of two).
        align: u32,
    },
    /// `addr + len` runs past the end of the 32-bit guest address space.
    Overflow {
        /// First byte of the offending range.
        addr: Gva,
        /// Its length in bytes.
        len: u32,
    },
}

impl fmt::Display for MemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MemError::OutOfWindow { addr, len } => {
                write!(
                    f,
                    "{len} bytes at {addr} are outside the guest's RAM window"
                )
            }
            MemError::Misaligned { addr, align } => {
                write!(f, "{addr} is not {align}-byte aligned")
            }
            MemError::Overflow { addr, len } => {
                write!(f, "{len} bytes at {addr} wrap around the address space")
            }
        }
    }
}

/// A RAM window or partition the hypervisor asked for that cannot exist. Always the caller's
/// fault (the hypervisor's, or a configuration's memory size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutError {
    /// The window `base .. base + size` does not fit below 4 GiB.
    WindowPastAddressSpace {
        /// Requested window base.
        base: Gva,
        /// Requested size in bytes.
        size: u64,
    },
    /// The partition `host_base .. host_base + size` wraps around the host address space.
    PartitionPastAddressSpace,
    /// A guest RAM size of zero bytes or not a multiple of 4 KiB.
    BadWindowSize {
        /// The requested size.
        size: u32,
    },
    /// A guest RAM size larger than the guest architecture's window can hold.
    WindowTooLarge {
        /// The requested size.
        size: u32,
        /// The largest size the architecture allows.
        max: u32,
    },
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LayoutError::WindowPastAddressSpace { base, size } => {
                write!(f, "a RAM window of {size} bytes at {base} runs past 4 GiB")
            }
            LayoutError::PartitionPastAddressSpace => {
                write!(f, "the partition wraps around the host address space")
            }
            LayoutError::BadWindowSize { size } => write!(
                f,
                "guest window size {} is not a non-zero multiple of 4 KiB",
                Hex(size.into())
            ),
            LayoutError::WindowTooLarge { size, max } => write!(
                f,
                "guest window size {} exceeds the {} this guest kind can address",
                Hex(size.into()),
                Hex(max.into())
            ),
        }
    }
}
