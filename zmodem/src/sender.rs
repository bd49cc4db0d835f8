//! The sending end (what `sz` is): offers one file (ZFILE), sends it from where the receiver
//! asks (ZRPOS) in blocks of subpackets each acknowledged (ZCRCW, then ZACK), so a slow
//! receiver is never overrun and a lost block is sent again; ZEOF, then ZFIN ends it.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use crate::frame::{bin_header, hex_header, subpacket, Frame, Header, CANFC32, ZCRCG, ZCRCW};
use crate::reader::{Item, Reader};
use crate::{Failure, Source, Status, CANCEL, MAX_ERRORS, MAX_RETRIES, RETRY_MS};

/// Bytes per subpacket.
const SUBPACKET: usize = 1024;
/// Subpackets per acknowledged block.
const BLOCK_SUBPACKETS: usize = 8;
/// ZFILE's conversion option: binary.
const ZCBIN: u8 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// ZRQINIT sent; waiting for ZRINIT.
    Init,
    /// ZFILE sent; waiting for ZRPOS (or ZSKIP).
    Offered,
    /// A block sent; waiting for its ZACK.
    Block {
        end: u64,
    },
    /// ZEOF sent; waiting for ZRINIT.
    Eof,
    /// ZFIN sent; waiting for ZFIN. The session's result: done, or the file was skipped.
    Fin {
        skipped: bool,
    },
    Over(Status),
}

/// The sender of a one-file session.
#[derive(Debug)]
pub struct Sender {
    reader: Reader,
    state: State,
    out: Vec<u8>,
    name: Vec<u8>,
    size: u64,
    modified: u64,
    offset: u64,
    crc32: bool,
    /// Most bytes the receiver takes before answering (its ZRINIT buffer length; 0: no limit).
    window: usize,
    heard_ms: u64,
    retries: u32,
    errors: u32,
}

impl Sender {
    /// A sender of `name` (`size` bytes, modified at `modified`, seconds since 1970); its
    /// greeting (`rz\r` for terminals that start a receiver on it, then ZRQINIT) waits in the
    /// output.
    pub fn new(name: &[u8], size: u64, modified: u64, now_ms: u64) -> Sender {
        let mut s = Sender {
            reader: Reader::new(),
            state: State::Init,
            out: Vec::new(),
            name: name.to_vec(),
            size,
            modified,
            offset: 0,
            crc32: false,
            window: 0,
            heard_ms: now_ms,
            retries: 0,
            errors: 0,
        };
        s.out.extend_from_slice(b"rz\r");
        hex_header(Header::at(Frame::RqInit, 0), &mut s.out);
        s
    }

    /// What to send to the peer now.
    pub fn take_output(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.out)
    }

    /// Bytes the receiver has confirmed or asked for.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn status(&self) -> Status {
        match self.state {
            State::Over(s) => s,
            _ => Status::Running,
        }
    }

    /// Takes the peer's bytes.
    pub fn feed(&mut self, bytes: &[u8], now_ms: u64, source: &mut dyn Source) -> Status {
        for &b in bytes {
            if self.status() != Status::Running {
                break;
            }
            match self.reader.push(b) {
                Some(Item::Header(h)) => {
                    self.heard_ms = now_ms;
                    self.retries = 0;
                    self.header(h, source);
                }
                Some(Item::Cancel) => self.state = State::Over(Status::Failed(Failure::Cancelled)),
                Some(_) => {
                    self.errors += 1;
                    if self.errors > MAX_ERRORS {
                        self.fail(Failure::Garbled);
                    }
                }
                None => {}
            }
        }
        self.status()
    }

    /// Repeats the last step when the receiver has been silent too long.
    pub fn tick(&mut self, now_ms: u64, source: &mut dyn Source) -> Status {
        if self.status() != Status::Running || now_ms.saturating_sub(self.heard_ms) < RETRY_MS {
            return self.status();
        }
        self.heard_ms = now_ms;
        self.retries += 1;
        if self.retries > MAX_RETRIES {
            if let State::Fin { skipped } = self.state {
                // The receiver answered for the file (ZRINIT after ZEOF, or ZSKIP); only its
                // goodbye is lost.
                self.state = State::Over(Self::result(skipped));
            } else {
                self.fail(Failure::TimedOut);
            }
            return self.status();
        }
        match self.state {
            State::Init => hex_header(Header::at(Frame::RqInit, 0), &mut self.out),
            State::Offered => self.offer(),
            State::Block { .. } | State::Eof => self.send_block(source),
            State::Fin { .. } => hex_header(Header::at(Frame::Fin, 0), &mut self.out),
            State::Over(_) => {}
        }
        self.status()
    }

    /// This end gives up; the receiver is told (CANs).
    pub fn cancel(&mut self) {
        if self.status() == Status::Running {
            self.fail(Failure::Interrupted);
        }
    }

    fn fail(&mut self, why: Failure) {
        self.out.clear();
        self.out.extend_from_slice(&CANCEL);
        self.state = State::Over(Status::Failed(why));
    }

    fn header(&mut self, h: Header, source: &mut dyn Source) {
        match (h.frame, self.state) {
            // rz sends ZRINIT more than once (on start and for our ZRQINIT): only the first
            // is answered, a lost offer is repeated by the timeout.
            (Frame::RInit, State::Init) => {
                self.crc32 = h.zf0() & CANFC32 != 0;
                self.window = usize::from(u16::from_le_bytes([h.bytes[0], h.bytes[1]]));
                self.state = State::Offered;
                self.offer();
            }
            (Frame::RInit, State::Eof) => {
                self.state = State::Fin { skipped: false };
                hex_header(Header::at(Frame::Fin, 0), &mut self.out);
            }
            (Frame::RPos, State::Offered | State::Block { .. } | State::Eof) => {
                self.offset = u64::from(h.position()).min(self.size);
                self.send_block(source);
            }
            (Frame::Ack, State::Block { end }) if u64::from(h.position()) == end => {
                self.offset = end;
                self.errors = 0;
                self.send_block(source);
            }
            (Frame::Nak, State::Offered) => self.offer(),
            (Frame::Skip, State::Offered | State::Block { .. } | State::Eof) => {
                // The only file is refused: end the session as after it.
                self.state = State::Fin { skipped: true };
                hex_header(Header::at(Frame::Fin, 0), &mut self.out);
            }
            (Frame::Fin, State::Fin { skipped }) => {
                self.out.extend_from_slice(b"OO");
                self.state = State::Over(Self::result(skipped));
            }
            (Frame::Abort | Frame::FErr | Frame::Can, _) => {
                self.state = State::Over(Status::Failed(Failure::Cancelled));
            }
            (Frame::Challenge, _) => hex_header(
                Header {
                    frame: Frame::Ack,
                    ..h
                },
                &mut self.out,
            ),
            _ => {}
        }
    }

    fn result(skipped: bool) -> Status {
        if skipped {
            Status::Failed(Failure::Skipped)
        } else {
            Status::Done
        }
    }

    fn offer(&mut self) {
        bin_header(Header::flags(Frame::File, ZCBIN), self.crc32, &mut self.out);
        let mut info = self.name.clone();
        info.push(0);
        info.extend_from_slice(
            format!("{} {:o} 100644 0 1 {}", self.size, self.modified, self.size).as_bytes(),
        );
        info.push(0);
        subpacket(&info, ZCRCW, self.crc32, &mut self.out);
    }

    /// Sends the block at `offset` (ZDATA and subpackets, the last one waiting for ZACK), or
    /// ZEOF at the end.
    fn send_block(&mut self, source: &mut dyn Source) {
        if self.offset >= self.size {
            bin_header(
                Header::at(Frame::Eof, self.size as u32),
                self.crc32,
                &mut self.out,
            );
            self.state = State::Eof;
            return;
        }
        let mut room = SUBPACKET * BLOCK_SUBPACKETS;
        if self.window > 0 {
            room = room.min(self.window);
        }
        let room = (room as u64).min(self.size - self.offset) as usize;
        let mut buf = vec![0u8; room];
        let mut got = 0;
        while got < room {
            match source.read(self.offset + got as u64, &mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(_) => {
                    self.fail(Failure::Storage);
                    return;
                }
            }
        }
        if got == 0 {
            // The file shrank under us.
            self.fail(Failure::Storage);
            return;
        }
        bin_header(
            Header::at(Frame::Data, self.offset as u32),
            self.crc32,
            &mut self.out,
        );
        let chunks = buf[..got].chunks(SUBPACKET.min(got));
        let count = chunks.len();
        for (i, chunk) in chunks.enumerate() {
            let end = if i + 1 == count { ZCRCW } else { ZCRCG };
            subpacket(chunk, end, self.crc32, &mut self.out);
        }
        self.state = State::Block {
            end: self.offset + got as u64,
        };
    }
}
