//! ZMODEM over a serial line, without I/O of its own: a [`Receiver`] that takes files from a
//! sender such as lrzsz's `sz`, and a [`Sender`] that gives one to a receiver such as `rz`;
//! and YMODEM ([`ymodem`]: `sb` and `rb`), with the same sinks, sources and results.
//!
//! Both are state machines fed with the peer's bytes ([`Receiver::feed`], [`Sender::feed`])
//! and the time ([`Receiver::tick`], [`Sender::tick`], for retries and giving up); what they
//! have to say to the peer waits in their output ([`Receiver::take_output`]). Files go to a
//! [`Sink`] and come from a [`Source`], which the caller implements over its storage. A
//! session ends [`Status::Done`] or [`Status::Failed`] with the reason; a failed receive has
//! called [`Sink::discard`] on the file it was writing, so nothing half-written is kept.
//!
//! The wire format (`frame`, `reader`) follows Forsberg's specification as lrzsz implements
//! it: hex and binary headers with 16- or 32-bit CRCs, ZDLE escaping, subpackets ended by
//! ZCRCE/G/Q/W, recovery by ZRPOS, cancel by five CANs. The receiver asks the sender to escape
//! control characters (ESCCTL), and the sender escapes them always, so the stream passes
//! terminals and consoles that act on control keys.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod crc;
pub mod frame;
pub mod fuzz;
pub mod reader;
mod receiver;
mod sender;
pub mod ymodem;

pub use receiver::{FileOffer, Receiver, WINDOW};
pub use sender::Sender;

/// Milliseconds without a word from the peer before a request is repeated.
pub const RETRY_MS: u64 = 10_000;
/// Repeats without an answer before the session is given up.
pub const MAX_RETRIES: u32 = 6;
/// Bad frames in a row before the session is given up.
pub const MAX_ERRORS: u32 = 32;

/// The bytes that cancel a session (as lrzsz's `canit`): ten CANs, then ten backspaces that
/// erase them from a terminal showing them.
pub const CANCEL: [u8; 20] = [
    0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
];

/// How a session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Running,
    Done,
    Failed(Failure),
}

/// Why a session failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The peer cancelled (five CANs) or aborted (ZABORT, ZFERR, ZCAN).
    Cancelled,
    /// This end cancelled ([`Receiver::cancel`], [`Sender::cancel`]).
    Interrupted,
    /// The peer fell silent.
    TimedOut,
    /// The storage failed ([`Sink`] or [`Source`] said stop).
    Storage,
    /// The receiver skipped the file.
    Skipped,
    /// The sender ended the session with a file unfinished.
    Truncated,
    /// Too many bad frames in a row.
    Garbled,
    /// This end refused the offered file (YMODEM cannot skip one: the session ends).
    Refused,
    /// The sender sent more than the size it announced.
    Oversized,
    /// A block came out of sequence (one was lost for good).
    OutOfSequence,
}

impl Failure {
    /// What to tell the user, after "transfer ".
    pub fn message(self) -> &'static str {
        match self {
            Failure::Cancelled => "cancelled by the other side",
            Failure::Interrupted => "interrupted",
            Failure::TimedOut => "timed out (the other side stopped answering)",
            Failure::Storage => "stopped by a storage error",
            Failure::Skipped => "refused by the other side",
            Failure::Truncated => "ended before the end of the file",
            Failure::Garbled => "failed: too many transmission errors",
            Failure::Refused => "refused by this side",
            Failure::Oversized => "failed: more data than the announced file size",
            Failure::OutOfSequence => "failed: a block came out of sequence",
        }
    }
}

/// The storage's refusal of an offered file; the receiver skips it (ZSKIP) and goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused;

/// A storage failure that ends the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stop;

/// Where received files go.
pub trait Sink {
    /// A file is offered. Refusing skips it; the session goes on.
    fn begin(&mut self, offer: &FileOffer<'_>) -> Result<(), Refused>;
    /// File bytes at `offset` (always the end of what was written: data arrives in order).
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), Stop>;
    /// The file is whole at `size` bytes: keep it.
    fn end(&mut self, size: u64) -> Result<(), Stop>;
    /// The file will not be finished: drop what was written.
    fn discard(&mut self);
}

/// Where a sent file comes from.
pub trait Source {
    /// Fills `buf` from `offset`; the bytes read (0 only at the end).
    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Stop>;
}

#[cfg(test)]
mod tests;
