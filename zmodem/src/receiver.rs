//! The receiving end (what `rz` is): announces itself with ZRINIT, takes each offered file
//! (ZFILE and its information subpacket) into the [`Sink`], asks for data from where it has it
//! (ZRPOS) after anything bad, and keeps a file only when ZEOF says it is whole.

use alloc::vec::Vec;

use crate::frame::{
    hex_header, Frame, Header, CANFC32, CANFDX, CANOVIO, ESCCTL, ZCRCE, ZCRCG, ZCRCQ, ZCRCW,
};
use crate::reader::{Item, Reader};
use crate::{Failure, Sink, Status, CANCEL, MAX_ERRORS, MAX_RETRIES, RETRY_MS};

/// Bytes the sender may send before it waits for an answer.
pub const WINDOW: usize = 8192;

/// A file as the sender describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileOffer<'a> {
    /// The name as sent (lrzsz sends the last path component unless told otherwise).
    pub name: &'a [u8],
    pub size: Option<u64>,
    /// Modification time, seconds since 1970.
    pub modified: Option<u64>,
}

impl<'a> FileOffer<'a> {
    /// Parses ZFILE's subpacket: the name, NUL, then "size mtime mode ..." (size decimal, the
    /// time and mode octal), each optional.
    pub fn parse(data: &'a [u8]) -> Option<FileOffer<'a>> {
        let nul = data.iter().position(|&b| b == 0)?;
        let name = &data[..nul];
        let info = &data[nul + 1..];
        let info = &info[..info.iter().position(|&b| b == 0).unwrap_or(info.len())];
        let mut fields = info
            .split(|&b| b == b' ')
            .filter(|f| !f.is_empty())
            .map(core::str::from_utf8);
        let size = fields.next().and_then(|f| f.ok()?.parse::<u64>().ok());
        let modified = fields
            .next()
            .and_then(|f| u64::from_str_radix(f.ok()?, 8).ok());
        Some(FileOffer {
            name,
            size,
            modified,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for a header.
    Header,
    /// Reading ZSINIT's subpacket.
    SinitData,
    /// Reading ZFILE's subpacket.
    FileInfo,
    /// Reading ZDATA's subpackets.
    Data,
    Over(Status),
}

/// The receiver of a session.
#[derive(Debug)]
pub struct Receiver {
    reader: Reader,
    state: State,
    out: Vec<u8>,
    /// A file is open in the sink.
    file_open: bool,
    /// Its name.
    name: Vec<u8>,
    /// Bytes of the open file received in order.
    offset: u64,
    files: u32,
    heard_ms: u64,
    retries: u32,
    /// Bad frames in a row.
    errors_in_row: u32,
    /// Bad frames over the whole session.
    errors_total: u32,
}

impl Receiver {
    /// A receiver that has announced itself (its ZRINIT waits in the output).
    pub fn new(now_ms: u64) -> Receiver {
        let mut r = Receiver {
            reader: Reader::new(),
            state: State::Header,
            out: Vec::new(),
            file_open: false,
            name: Vec::new(),
            offset: 0,
            files: 0,
            heard_ms: now_ms,
            retries: 0,
            errors_in_row: 0,
            errors_total: 0,
        };
        r.send_rinit();
        r
    }

    /// What to send to the peer now.
    pub fn take_output(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.out)
    }

    /// Files received whole so far.
    pub fn files(&self) -> u32 {
        self.files
    }

    /// Bad frames (CRC or escape errors, lost bytes) the session recovered from or died of.
    pub fn errors(&self) -> u32 {
        self.errors_total
    }

    /// Bytes of the file being received.
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
    pub fn feed(&mut self, bytes: &[u8], now_ms: u64, sink: &mut dyn Sink) -> Status {
        for &b in bytes {
            if self.status() != Status::Running {
                break;
            }
            if let Some(item) = self.reader.push(b) {
                self.item(item, now_ms, sink);
            }
        }
        self.status()
    }

    /// Repeats the last request when the peer has been silent too long; gives up after
    /// [`MAX_RETRIES`].
    pub fn tick(&mut self, now_ms: u64, sink: &mut dyn Sink) -> Status {
        if self.status() == Status::Running && now_ms.saturating_sub(self.heard_ms) >= RETRY_MS {
            self.heard_ms = now_ms;
            self.retries += 1;
            if self.retries > MAX_RETRIES {
                self.fail(Failure::TimedOut, sink);
            } else if self.file_open {
                self.send_rpos();
            } else {
                self.send_rinit();
            }
        }
        self.status()
    }

    /// This end gives up: the peer is told (CANs) and the open file is dropped.
    pub fn cancel(&mut self, sink: &mut dyn Sink) {
        if self.status() == Status::Running {
            self.fail(Failure::Interrupted, sink);
        }
    }

    fn fail(&mut self, why: Failure, sink: &mut dyn Sink) {
        if self.file_open {
            self.file_open = false;
            sink.discard();
        }
        if why != Failure::Cancelled {
            self.out.clear();
            self.out.extend_from_slice(&CANCEL);
        }
        self.state = State::Over(Status::Failed(why));
    }

    /// ZRINIT: full duplex, overlapped I/O, 32-bit CRCs, control characters escaped, and a
    /// window of [`WINDOW`] bytes: the sender waits for a ZACK after each, so no more than that
    /// is ever in flight on a console slower than the sender, and a cancel or an error
    /// is not queued behind megabytes of streamed data.
    fn send_rinit(&mut self) {
        let window = (WINDOW as u16).to_le_bytes();
        hex_header(
            Header {
                frame: Frame::RInit,
                bytes: [window[0], window[1], 0, CANFDX | CANOVIO | CANFC32 | ESCCTL],
            },
            &mut self.out,
        );
    }

    fn send_rpos(&mut self) {
        hex_header(Header::at(Frame::RPos, self.offset as u32), &mut self.out);
    }

    /// A bad frame: ask again from where we are, or give up after too many.
    fn error(&mut self, sink: &mut dyn Sink) {
        self.errors_in_row += 1;
        self.errors_total += 1;
        if self.errors_in_row > MAX_ERRORS {
            self.fail(Failure::Garbled, sink);
            return;
        }
        match self.state {
            State::FileInfo => hex_header(Header::at(Frame::Nak, 0), &mut self.out),
            State::Data => self.send_rpos(),
            _ => {}
        }
        self.state = State::Header;
    }

    fn item(&mut self, item: Item, now_ms: u64, sink: &mut dyn Sink) {
        match item {
            Item::Cancel => self.fail(Failure::Cancelled, sink),
            Item::BadHeader | Item::BadSubpacket => self.error(sink),
            Item::Header(h) => {
                self.heard_ms = now_ms;
                self.retries = 0;
                self.header(h, sink);
            }
            Item::Subpacket { end } => {
                self.heard_ms = now_ms;
                self.retries = 0;
                self.errors_in_row = 0;
                self.subpacket(end, sink);
            }
        }
    }

    fn header(&mut self, h: Header, sink: &mut dyn Sink) {
        // A header ends whatever data was being read.
        self.state = State::Header;
        match h.frame {
            Frame::RqInit => self.send_rinit(),
            Frame::SInit => {
                self.reader.expect_data();
                self.state = State::SinitData;
            }
            Frame::File => {
                self.reader.expect_data();
                self.state = State::FileInfo;
            }
            Frame::Data if self.file_open => {
                if u64::from(h.position()) == self.offset {
                    self.reader.expect_data();
                    self.state = State::Data;
                } else {
                    self.send_rpos();
                }
            }
            Frame::Eof if self.file_open && u64::from(h.position()) == self.offset => {
                self.file_open = false;
                if sink.end(self.offset).is_err() {
                    self.fail(Failure::Storage, sink);
                    return;
                }
                self.files += 1;
                self.send_rinit();
            }
            Frame::Fin => {
                hex_header(Header::at(Frame::Fin, 0), &mut self.out);
                let status = if self.file_open {
                    self.file_open = false;
                    sink.discard();
                    Status::Failed(Failure::Truncated)
                } else {
                    Status::Done
                };
                self.state = State::Over(status);
            }
            Frame::Abort | Frame::FErr | Frame::Can => self.fail(Failure::Cancelled, sink),
            // A ZEOF at another offset went out before our ZRPOS: the sender comes back
            // from where we asked. Commands are never run; the rest is not ours to answer.
            _ => {}
        }
    }

    fn subpacket(&mut self, end: u8, sink: &mut dyn Sink) {
        match self.state {
            State::SinitData => {
                hex_header(Header::at(Frame::Ack, 1), &mut self.out);
                self.state = State::Header;
            }
            State::FileInfo => {
                self.state = State::Header;
                let offer = FileOffer::parse(self.reader.data());
                if self.file_open {
                    if offer.is_some_and(|o| o.name == self.name.as_slice()) {
                        // The offer again (our ZRPOS was lost): go on from where we are.
                        self.send_rpos();
                        return;
                    }
                    self.file_open = false;
                    sink.discard();
                }
                let accepted = offer.is_some_and(|o| sink.begin(&o).is_ok());
                if accepted {
                    self.name = offer.map(|o| o.name.to_vec()).unwrap_or_default();
                    self.file_open = true;
                    self.offset = 0;
                    self.send_rpos();
                } else {
                    hex_header(Header::at(Frame::Skip, 0), &mut self.out);
                }
            }
            State::Data => {
                let data = self.reader.data();
                if sink.write(self.offset, data).is_err() {
                    self.fail(Failure::Storage, sink);
                    return;
                }
                self.offset += data.len() as u64;
                match end {
                    ZCRCG => self.reader.expect_data(),
                    ZCRCQ => {
                        hex_header(Header::at(Frame::Ack, self.offset as u32), &mut self.out);
                        self.reader.expect_data();
                    }
                    ZCRCW => {
                        hex_header(Header::at(Frame::Ack, self.offset as u32), &mut self.out);
                        self.state = State::Header;
                    }
                    ZCRCE => self.state = State::Header,
                    _ => self.state = State::Header,
                }
            }
            State::Header | State::Over(_) => {}
        }
    }
}
