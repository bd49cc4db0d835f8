//! A TFTP client without I/O, for `/tool fetch mode=tftp`: RFC 1350 in octet mode, with the
//! option extension (RFC 2347) for the block size (RFC 2348) and the transfer size (RFC 2349).
//! Portable, `no_std`, no allocation, no unsafe.
//!
//! The caller owns the socket and the file: it hands every datagram from the server's address
//! to [`Client::receive`] with its source port, ticks [`Client::poll`] with the time, and does
//! what the client asks through [`Io`] (send a packet to a port, write or read file bytes).
//! The transfer is lock-step: one DATA or ACK outstanding, retransmitted on timeout a bounded
//! number of times. Modules: [`packet`] (parsing and building packets), `client` (the state
//! machine), `io` (the caller's side, options, status and errors), [`fuzzing`] (the fuzz target's body).
#![no_std]
#![forbid(unsafe_code)]

mod client;
pub mod fuzzing;
mod io;
pub mod packet;

pub use client::Client;
pub use io::{Error, Io, LocalError, Options, Status, RETRIES, TIMEOUT_US};

/// The well-known server port.
pub const DEFAULT_PORT: u16 = 69;
/// The block size without the `blksize` option.
pub const DEFAULT_BLKSIZE: u16 = 512;
/// The block size the client asks for: a DATA packet of it fills a 1500-byte Ethernet frame
/// over IPv6 (40 + 8 + 4 + 1428 = 1480 bytes), and an IPv4 one with room to spare.
pub const PREFERRED_BLKSIZE: u16 = 1428;
/// The largest block size the client takes (a server may only lower what was asked).
pub const MAX_BLKSIZE: u16 = PREFERRED_BLKSIZE;
/// The largest packet the client sends or takes: a DATA header and a block.
pub const MAX_PACKET: usize = 4 + MAX_BLKSIZE as usize;
/// The longest remote file name.
pub const MAX_NAME: usize = 255;

/// Time in microseconds, from a monotonic clock of the caller's.
pub type Micros = u64;
