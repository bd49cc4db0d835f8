//! TCP transfers on a smoltcp socket: the socket settings every transfer uses (on the vif and on
//! the loopback alike, so their rates compare), a [`Sink`] that counts what a peer sends until
//! it closes, and a [`Source`] that sends a number of bytes and closes.
//!
//! Neither copies payload: the source queues bytes of its send buffer as they are (their value
//! is whatever the buffer held) and the sink takes what arrived without reading it, so the
//! guest's own work per segment is the stack's, the same on both paths.

use alloc::vec;

use mr_guest::proto::transfer::Transfer;
use smoltcp::socket::tcp::{self, State};
use smoltcp::wire::{IpAddress, IpEndpoint};

/// Receive buffer (the window offered: 22 segments of 1460 bytes, within the 32 RX slots of
/// the virtual interface).
pub const RX_BUFFER: usize = 32 * 1024;
/// Send buffer.
pub const TX_BUFFER: usize = 32 * 1024;
/// A transfer that makes no progress for this long (guest clock) is given up.
pub const STALL_US: u64 = 10_000_000;

/// A TCP socket with the transfer settings.
pub fn socket() -> tcp::Socket<'static> {
    tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; RX_BUFFER]),
        tcp::SocketBuffer::new(vec![0; TX_BUFFER]),
    )
}

/// A listener that counts bytes until the peer closes, then listens again.
pub struct Sink {
    port: u16,
    received: u64,
    first_byte_us: Option<u64>,
    peer: Option<IpEndpoint>,
}

/// One connection the sink served.
pub struct Served {
    /// Who sent.
    pub peer: Option<IpEndpoint>,
    /// Bytes, and the time from the first byte to the peer's close.
    pub transfer: Transfer,
}

impl Sink {
    /// A sink on `port` (it listens at its first [`Sink::step`]).
    pub fn new(port: u16) -> Self {
        Self {
            port,
            received: 0,
            first_byte_us: None,
            peer: None,
        }
    }

    /// Take what arrived; `Some` when the peer has closed a connection.
    pub fn step(&mut self, socket: &mut tcp::Socket<'_>, now_us: u64) -> Option<Served> {
        if !socket.is_open() {
            let _ = socket.listen(self.port);
            return None;
        }
        while socket.can_recv() {
            let Ok(n) = socket.recv(|buf| (buf.len(), buf.len())) else {
                break;
            };
            if n == 0 {
                break;
            }
            self.first_byte_us.get_or_insert(now_us);
            self.peer = socket.remote_endpoint();
            self.received += n as u64;
        }
        if socket.state() != State::CloseWait {
            return None;
        }
        socket.close();
        let started = self.first_byte_us.take().unwrap_or(now_us);
        let served = Served {
            peer: self.peer.take(),
            transfer: Transfer {
                bytes: core::mem::take(&mut self.received),
                micros: now_us.saturating_sub(started),
            },
        };
        Some(served)
    }
}

/// How a [`Source`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceEnd {
    /// Every byte sent and acknowledged, the connection closed: from connect to the
    /// acknowledgement of the FIN.
    Done(Transfer),
    /// The connection could not be opened or was reset, after this many bytes were queued.
    Failed(u64),
    /// No progress for [`STALL_US`], after this many bytes were queued.
    Stalled(u64),
}

/// Sends a number of bytes on a connection and closes it.
pub struct Source {
    bytes: u64,
    queued: u64,
    started_us: u64,
    progress_us: u64,
    acked_seen: usize,
}

impl Source {
    /// Connect `socket` (local port `local_port`) to `to` and start sending `bytes`.
    pub fn start(
        socket: &mut tcp::Socket<'_>,
        cx: &mut smoltcp::iface::Context,
        to: (IpAddress, u16),
        local_port: u16,
        bytes: u64,
        now_us: u64,
    ) -> Result<Self, tcp::ConnectError> {
        socket.connect(cx, to, local_port)?;
        Ok(Self {
            bytes,
            queued: 0,
            started_us: now_us,
            progress_us: now_us,
            acked_seen: 0,
        })
    }

    /// Queue more bytes; `Some` when finished.
    pub fn step(&mut self, socket: &mut tcp::Socket<'_>, now_us: u64) -> Option<SourceEnd> {
        let state = socket.state();
        if state == State::Closed || (state == State::CloseWait && self.queued < self.bytes) {
            socket.abort();
            return Some(SourceEnd::Failed(self.queued));
        }
        while self.queued < self.bytes && socket.can_send() {
            let want = (self.bytes - self.queued).min(TX_BUFFER as u64) as usize;
            let Ok(n) = socket.send(|buf| {
                let n = buf.len().min(want);
                (n, n)
            }) else {
                break;
            };
            if n == 0 {
                break;
            }
            self.queued += n as u64;
            self.progress_us = now_us;
        }
        let unacked = socket.send_queue();
        if unacked != self.acked_seen {
            self.acked_seen = unacked;
            self.progress_us = now_us;
        }
        if self.queued == self.bytes {
            match state {
                State::Established | State::CloseWait => socket.close(),
                State::FinWait2 | State::TimeWait if unacked == 0 => {
                    return Some(SourceEnd::Done(Transfer {
                        bytes: self.bytes,
                        micros: now_us.saturating_sub(self.started_us),
                    }));
                }
                _ => {}
            }
        }
        if now_us.saturating_sub(self.progress_us) > STALL_US {
            socket.abort();
            return Some(SourceEnd::Stalled(self.queued));
        }
        None
    }
}
