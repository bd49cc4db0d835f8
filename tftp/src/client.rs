//! The client's state machine. A download sends a read request (RRQ), takes an option
//! acknowledgment (OACK, then ACK 0) or DATA 1 at once, writes each next block and
//! acknowledges it; a block shorter than the block size ends it. An upload sends a write
//! request (WRQ), takes OACK or ACK 0, and sends each block when the one before is
//! acknowledged; a short (possibly empty) block ends it when acknowledged.
//!
//! Rules (RFC 1350, RFC 1123 4.2.3.1):
//! - The first answer's source port is the server's transfer ID; a packet from another port
//!   is answered with ERROR 5 (unknown transfer ID) and changes nothing.
//! - A duplicate DATA (the block just acknowledged: our ACK was lost) is acknowledged again;
//!   a duplicate ACK is ignored, never answered with a resend (the "sorcerer's apprentice"
//!   rule): only a timeout resends. Other blocks are ignored.
//! - Timeout: the last packet is sent again, [`RETRIES`](crate::RETRIES) times, [`TIMEOUT_US`](crate::TIMEOUT_US) apart; then
//!   the transfer fails with [`Error::Timeout`].
//! - An ERROR from the server ends the transfer ([`Error::Remote`], its message kept); a
//!   malformed or unexpected packet from the server ends it with ERROR 4 sent back
//!   ([`Error::Protocol`]); a local failure to write or read sends ERROR 3 (disk full) or 0
//!   ([`Error::Local`]); [`Client::abort`] sends ERROR 0 "transfer cancelled".

use crate::io::{Error, Io, LocalError, Options, Status};
use crate::packet::{self, code, Packet, TooLong, Writer};
use crate::{Micros, DEFAULT_BLKSIZE, MAX_NAME, MAX_PACKET};

/// The longest error message kept from the server.
const MESSAGE_MAX: usize = 100;
/// The smallest block size RFC 2348 allows.
const MIN_BLKSIZE: u64 = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Download,
    Upload,
}

/// A transfer in progress.
#[derive(Clone, Debug)]
pub struct Client {
    direction: Direction,
    options: Options,
    server_port: u16,
    /// The server's transfer ID (source port), from its first answer.
    peer: Option<u16>,
    status: Status,
    /// Whether the request is still unanswered.
    requesting: bool,
    blksize: u16,
    /// Download: the last block written and acknowledged. Upload: the block in flight.
    block: u16,
    /// Bytes written (download) or acknowledged (upload).
    done: u64,
    /// Upload: the length of the block in flight (the transfer ends when a short one is
    /// acknowledged).
    in_flight: usize,
    total: Option<u64>,
    /// The last packet sent, for resending.
    last: [u8; MAX_PACKET],
    last_len: usize,
    deadline: Micros,
    retries_left: u8,
    message: [u8; MESSAGE_MAX],
    message_len: usize,
}

impl Client {
    /// Starts a download of `remote` from the server at `port`: the read request goes out.
    pub fn download(
        now: Micros,
        port: u16,
        remote: &str,
        options: Options,
        io: &mut dyn Io,
    ) -> Self {
        Self::start(Direction::Download, now, port, remote, None, options, io)
    }

    /// Starts an upload of `size` bytes (read through [`Io::read`]) to `remote` on the server
    /// at `port`: the write request goes out.
    pub fn upload(
        now: Micros,
        port: u16,
        remote: &str,
        size: u64,
        options: Options,
        io: &mut dyn Io,
    ) -> Self {
        Self::start(
            Direction::Upload,
            now,
            port,
            remote,
            Some(size),
            options,
            io,
        )
    }

    fn start(
        direction: Direction,
        now: Micros,
        port: u16,
        remote: &str,
        size: Option<u64>,
        options: Options,
        io: &mut dyn Io,
    ) -> Self {
        let mut client = Client {
            direction,
            options,
            server_port: port,
            peer: None,
            status: Status::Running,
            requesting: true,
            blksize: DEFAULT_BLKSIZE,
            block: 0,
            done: 0,
            in_flight: 0,
            total: size,
            last: [0; MAX_PACKET],
            last_len: 0,
            deadline: now + options.timeout_us,
            retries_left: options.retries,
            message: [0; MESSAGE_MAX],
            message_len: 0,
        };
        let name = remote.as_bytes();
        if name.is_empty() || name.len() > MAX_NAME || name.contains(&0) {
            client.status = Status::Failed(Error::BadName);
            return client;
        }
        let opcode = match direction {
            Direction::Download => packet::RRQ,
            Direction::Upload => packet::WRQ,
        };
        let built = client.build(|w| {
            w.u16(opcode)?.string(name)?.string(b"octet")?;
            if let Some(blksize) = options.blksize {
                w.string(b"blksize")?.decimal(u64::from(blksize))?;
            }
            if options.tsize {
                w.string(b"tsize")?.decimal(size.unwrap_or(0))?;
            }
            Ok(())
        });
        match built {
            Ok(()) => client.send_last(port, io),
            Err(TooLong) => client.status = Status::Failed(Error::BadName),
        }
        client
    }

    /// Where the transfer is.
    pub fn status(&self) -> Status {
        self.status
    }

    /// Bytes moved so far (written, or sent and acknowledged).
    pub fn transferred(&self) -> u64 {
        self.done
    }

    /// The file's size, when known (the upload's, or the server's `tsize`).
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// Whether the server has answered (its transfer ID is known).
    pub fn connected(&self) -> bool {
        self.peer.is_some()
    }

    /// The block size in use.
    pub fn blksize(&self) -> u16 {
        self.blksize
    }

    /// The text of the server's ERROR (lossy: bytes that are not printable ASCII are `?`).
    pub fn remote_message(&self) -> impl Iterator<Item = char> + '_ {
        self.message[..self.message_len].iter().map(|&b| {
            if (0x20..0x7F).contains(&b) {
                b as char
            } else {
                '?'
            }
        })
    }

    /// When [`Client::poll`] has something to do.
    pub fn deadline(&self) -> Micros {
        if self.status == Status::Running {
            self.deadline
        } else {
            Micros::MAX
        }
    }

    /// Time passed: resend the last packet when its answer is overdue, or fail.
    pub fn poll(&mut self, now: Micros, io: &mut dyn Io) {
        if self.status != Status::Running || now < self.deadline {
            return;
        }
        if self.retries_left == 0 {
            self.status = Status::Failed(Error::Timeout);
            return;
        }
        self.retries_left -= 1;
        self.deadline = now + self.options.timeout_us;
        let port = self.peer.unwrap_or(self.server_port);
        io.send(port, &self.last[..self.last_len]);
    }

    /// Stops the transfer: the server is told (ERROR 0) when it has answered.
    pub fn abort(&mut self, io: &mut dyn Io) {
        if self.status == Status::Running {
            self.fail(Error::Aborted, code::NOT_DEFINED, b"transfer cancelled", io);
        }
    }

    /// The local side cannot take the file (it learnt the size from the server's `tsize`, say,
    /// and it does not fit): the transfer fails with `e` and the server is told (ERROR 3 for
    /// [`LocalError::NoSpace`]).
    pub fn refuse(&mut self, e: LocalError, io: &mut dyn Io) {
        if self.status == Status::Running {
            self.local_error(e, io);
        }
    }

    /// A datagram from the server's address, source port `port`.
    pub fn receive(&mut self, now: Micros, port: u16, bytes: &[u8], io: &mut dyn Io) {
        if self.status != Status::Running {
            return;
        }
        if self.peer.is_some_and(|p| p != port) {
            // Another transfer's packet, or a stray: told, and nothing changes.
            let mut buf = [0u8; 40];
            let mut w = Writer::new(&mut buf);
            if error_packet(&mut w, code::UNKNOWN_TID, b"Unknown transfer ID").is_ok() {
                let len = w.len();
                io.send(port, &buf[..len]);
            }
            return;
        }
        let packet = match packet::parse(bytes) {
            Ok(p) => p,
            Err(_) => {
                self.peer.get_or_insert(port);
                return self.protocol_error(io);
            }
        };
        if let Packet::Error { code, message } = packet {
            // The server gives up (also before it chose its port).
            let len = message.len().min(MESSAGE_MAX);
            self.message[..len].copy_from_slice(&message[..len]);
            self.message_len = len;
            self.status = Status::Failed(Error::Remote(code));
            return;
        }
        self.peer.get_or_insert(port);
        match (self.direction, packet) {
            (_, Packet::OptionAck { options }) if self.requesting => {
                if self.take_options(options).is_err() {
                    return self.fail(Error::Protocol, code::OPTION_REFUSED, b"bad option", io);
                }
                self.requesting = false;
                match self.direction {
                    Direction::Download => self.send_ack(now, 0, io),
                    Direction::Upload => self.send_block(now, 1, io),
                }
            }
            (direction, Packet::OptionAck { .. }) if self.done == 0 && self.block <= 1 => {
                // Our answer to it was lost: ACK 0 again; an upload's DATA 1 is resent on
                // timeout.
                if direction == Direction::Download {
                    self.send_ack(now, 0, io);
                }
            }
            (Direction::Download, Packet::Data { block, data }) => self.data(now, block, data, io),
            (Direction::Upload, Packet::Ack { block }) => self.ack(now, block, io),
            _ => self.protocol_error(io),
        }
    }

    fn data(&mut self, now: Micros, block: u16, data: &[u8], io: &mut dyn Io) {
        if !self.requesting && block == self.block {
            // Our acknowledgment was lost: the server sent the block again.
            return self.send_ack(now, block, io);
        }
        if block != self.block.wrapping_add(1) {
            return;
        }
        if data.len() > usize::from(self.blksize) {
            return self.protocol_error(io);
        }
        self.requesting = false;
        if let Err(e) = io.write(self.done, data) {
            return self.local_error(e, io);
        }
        self.done += data.len() as u64;
        self.block = block;
        self.send_ack(now, block, io);
        if data.len() < usize::from(self.blksize) {
            self.status = Status::Finished;
        }
    }

    fn ack(&mut self, now: Micros, block: u16, io: &mut dyn Io) {
        if self.requesting {
            // The answer to the request without options: ACK 0.
            if block != 0 {
                return self.protocol_error(io);
            }
            self.requesting = false;
            return self.send_block(now, 1, io);
        }
        if block != self.block {
            // A duplicate (or an older) ACK: never answered with a resend.
            return;
        }
        self.done += self.in_flight as u64;
        if self.in_flight < usize::from(self.blksize) {
            self.status = Status::Finished;
            return;
        }
        self.send_block(now, block.wrapping_add(1), io);
    }

    fn take_options(&mut self, options: &[u8]) -> Result<(), packet::Malformed> {
        for pair in packet::options(options) {
            let (name, value) = pair?;
            let value = packet::number(value).ok_or(packet::Malformed)?;
            if name.eq_ignore_ascii_case(b"blksize") {
                // A server may only lower the size asked for.
                let asked = self.options.blksize.ok_or(packet::Malformed)?;
                if value < MIN_BLKSIZE || value > u64::from(asked) {
                    return Err(packet::Malformed);
                }
                self.blksize = value as u16;
            } else if name.eq_ignore_ascii_case(b"tsize") && self.options.tsize {
                if self.direction == Direction::Download {
                    self.total = Some(value);
                }
            } else {
                return Err(packet::Malformed);
            }
        }
        Ok(())
    }

    fn send_ack(&mut self, now: Micros, block: u16, io: &mut dyn Io) {
        if self
            .build(|w| w.u16(packet::ACK)?.u16(block).map(drop))
            .is_ok()
        {
            self.sent(now, io);
        }
    }

    fn send_block(&mut self, now: Micros, block: u16, io: &mut dyn Io) {
        let size = usize::from(self.blksize);
        self.last[..2].copy_from_slice(&packet::DATA.to_be_bytes());
        self.last[2..4].copy_from_slice(&block.to_be_bytes());
        let read = io.read(self.done, &mut self.last[4..4 + size]);
        let len = match read {
            Ok(len) => len.min(size),
            Err(e) => return self.local_error(e, io),
        };
        self.last_len = 4 + len;
        self.block = block;
        self.in_flight = len;
        self.sent(now, io);
    }

    /// The packet in `last` went out now: a fresh timeout and retry budget.
    fn sent(&mut self, now: Micros, io: &mut dyn Io) {
        self.deadline = now + self.options.timeout_us;
        self.retries_left = self.options.retries;
        let port = self.peer.unwrap_or(self.server_port);
        self.send_last(port, io);
    }

    fn send_last(&mut self, port: u16, io: &mut dyn Io) {
        io.send(port, &self.last[..self.last_len]);
    }

    fn build(
        &mut self,
        f: impl FnOnce(&mut Writer<'_>) -> Result<(), TooLong>,
    ) -> Result<(), TooLong> {
        let mut w = Writer::new(&mut self.last);
        f(&mut w)?;
        self.last_len = w.len();
        Ok(())
    }

    fn protocol_error(&mut self, io: &mut dyn Io) {
        self.fail(
            Error::Protocol,
            code::ILLEGAL_OPERATION,
            b"Illegal TFTP operation",
            io,
        );
    }

    fn local_error(&mut self, e: LocalError, io: &mut dyn Io) {
        let (code, text): (u16, &[u8]) = match e {
            LocalError::NoSpace => (code::DISK_FULL, b"Disk full or allocation exceeded"),
            LocalError::Failed => (code::NOT_DEFINED, b"local file error"),
        };
        self.fail(Error::Local(e), code, text, io);
    }

    /// Ends the transfer with `error`, telling the server (when it has answered) with an ERROR
    /// packet of `code` and `text`.
    fn fail(&mut self, error: Error, code: u16, text: &[u8], io: &mut dyn Io) {
        self.status = Status::Failed(error);
        let Some(port) = self.peer else { return };
        let mut w = Writer::new(&mut self.last);
        if error_packet(&mut w, code, text).is_ok() {
            self.last_len = w.len();
            io.send(port, &self.last[..self.last_len]);
        }
    }
}

fn error_packet(w: &mut Writer<'_>, code: u16, text: &[u8]) -> Result<(), TooLong> {
    w.u16(packet::ERROR)?.u16(code)?.string(text).map(drop)
}
