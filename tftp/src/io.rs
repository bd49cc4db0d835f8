//! What a transfer is told and tells: the caller's side ([`Io`]), the request's [`Options`],
//! where a transfer is ([`Status`]) and why it failed ([`Error`], [`LocalError`]).

use crate::{Micros, PREFERRED_BLKSIZE};

/// How long a packet waits for its answer before it is sent again.
pub const TIMEOUT_US: Micros = 1_000_000;
/// How many times a packet is sent again before the transfer fails.
pub const RETRIES: u8 = 5;

/// What the client does through its caller.
pub trait Io {
    /// Send `packet` to the server's address, port `port`.
    fn send(&mut self, port: u16, packet: &[u8]);
    /// Download: the file's bytes at `offset` (always the end of what came before).
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), LocalError>;
    /// Upload: the file's bytes at `offset` into `buf`; fewer than `buf.len()` only at its end.
    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, LocalError>;
}

/// Why the local side could not write or read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalError {
    /// No room for the file (the server is sent ERROR 3, disk full).
    NoSpace,
    /// Anything else (the server is sent ERROR 0).
    Failed,
}

/// Why a transfer failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The server sent ERROR with this code; [`crate::Client::remote_message`] is its text.
    Remote(u16),
    /// No answer after [`RETRIES`] resends.
    Timeout,
    /// The server sent something TFTP does not allow here.
    Protocol,
    /// The local side could not write or read.
    Local(LocalError),
    /// Stopped by the caller.
    Aborted,
    /// The remote file name is empty, too long or holds a zero byte.
    BadName,
}

/// Where the transfer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Running,
    Finished,
    Failed(Error),
}

/// What the request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// The block size to ask for (`None`: no `blksize` option, 512-byte blocks).
    pub blksize: Option<u16>,
    /// Send the `tsize` option (the upload's size; 0 on a download, asking the server's).
    pub tsize: bool,
    /// How long a packet waits for its answer.
    pub timeout_us: Micros,
    /// How many resends before the transfer fails.
    pub retries: u8,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            blksize: Some(PREFERRED_BLKSIZE),
            tsize: true,
            timeout_us: TIMEOUT_US,
            retries: RETRIES,
        }
    }
}
