//! The receiving end (what `rb` is): asks for block 0 with `C`, takes the offered file into the
//! [`Sink`], acknowledges the data blocks in order (a repeated block is acknowledged again and
//! not written twice), asks again after a bad block once the line is quiet, and keeps a file
//! only when the second `EOT` comes with every announced byte written.

use alloc::vec::Vec;

use super::{
    decode_block, ACK, BLOCK_GAP_MS, CAN, CRC_REQUEST, EOT, MAX_BAD_BLOCKS, NAK, PURGE_MS,
    RECEIVER_RETRIES, RECEIVER_RETRY_MS, SOH, STX,
};
use crate::{Failure, FileOffer, Sink, Status, CANCEL};

/// Backspace: lrzsz's cancel ends with ten, to erase its CANs from a terminal.
const BS: u8 = 0x08;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for block 0: a file's name, or the end of the batch.
    Name,
    /// A file is open: data blocks, then `EOT`.
    Data,
    Over(Status),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Line {
    /// Between blocks; `can`: the last byte was a CAN.
    Idle { can: bool },
    /// Inside a block of this many bytes (start byte to CRC).
    Block(usize),
    /// After a bad block or a stray byte: waiting for the line to be quiet.
    Purging,
}

/// The receiver of a YMODEM batch.
#[derive(Debug)]
pub struct Receiver {
    phase: Phase,
    line: Line,
    block: Vec<u8>,
    out: Vec<u8>,
    /// The open file's announced size.
    size: Option<u64>,
    /// Bytes of the open file written.
    offset: u64,
    /// Data blocks of the open file taken.
    blocks: u32,
    /// The first `EOT` was answered and nothing came since.
    eot: bool,
    files: u32,
    /// What a silence is answered with: `C` or `NAK`.
    request: u8,
    heard_ms: u64,
    asked_ms: u64,
    retries: u32,
    bad_in_row: u32,
    bad_total: u32,
    /// CANs at the end of what was heard, backspaces after them allowed (a peer's cancel).
    trailing_cans: u32,
    interrupt: Option<u8>,
}

impl Receiver {
    /// A receiver that has asked for the first file (its `C` waits in the output).
    pub fn new(now_ms: u64) -> Receiver {
        let mut r = Receiver {
            phase: Phase::Name,
            line: Line::Idle { can: false },
            block: Vec::with_capacity(1029),
            out: Vec::new(),
            size: None,
            offset: 0,
            blocks: 0,
            eot: false,
            files: 0,
            request: CRC_REQUEST,
            heard_ms: now_ms,
            asked_ms: now_ms,
            retries: 0,
            bad_in_row: 0,
            bad_total: 0,
            trailing_cans: 0,
            interrupt: None,
        };
        r.out.push(CRC_REQUEST);
        r
    }

    /// `key` (Ctrl-C on a console) where a block would start interrupts the session. Inside a
    /// block every byte is data.
    pub fn with_interrupt(mut self, key: u8) -> Receiver {
        self.interrupt = Some(key);
        self
    }

    /// What to send to the peer now.
    pub fn take_output(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.out)
    }

    /// Files received whole so far.
    pub fn files(&self) -> u32 {
        self.files
    }

    /// Bad blocks the session asked for again (or died of).
    pub fn errors(&self) -> u32 {
        self.bad_total
    }

    /// Bytes of the file being received.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn status(&self) -> Status {
        match self.phase {
            Phase::Over(s) => s,
            _ => Status::Running,
        }
    }

    /// Takes the peer's bytes.
    pub fn feed(&mut self, bytes: &[u8], now_ms: u64, sink: &mut dyn Sink) -> Status {
        for &b in bytes {
            if self.status() != Status::Running {
                break;
            }
            self.heard_ms = now_ms;
            self.trailing_cans = match b {
                CAN => self.trailing_cans + 1,
                BS if self.trailing_cans >= 2 => self.trailing_cans,
                _ => 0,
            };
            self.byte(b, now_ms, sink);
        }
        self.status()
    }

    /// Acts on silence: a block cut short or a purge ends with a new request, a peer silent
    /// too long is asked again, and given up after [`RECEIVER_RETRIES`].
    pub fn tick(&mut self, now_ms: u64, sink: &mut dyn Sink) -> Status {
        if self.status() != Status::Running {
            return self.status();
        }
        let quiet = now_ms.saturating_sub(self.heard_ms);
        match self.line {
            Line::Block(_) if quiet >= BLOCK_GAP_MS => self.bad(now_ms, sink),
            Line::Purging if quiet >= PURGE_MS => self.bad(now_ms, sink),
            Line::Idle { .. }
                if now_ms.saturating_sub(self.asked_ms.max(self.heard_ms)) >= RECEIVER_RETRY_MS =>
            {
                self.retries += 1;
                if self.retries > RECEIVER_RETRIES {
                    self.fail(Failure::TimedOut, sink);
                } else {
                    self.ask(self.request, now_ms);
                }
            }
            _ => {}
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
        if self.phase == Phase::Data {
            sink.discard();
        }
        if why != Failure::Cancelled {
            self.out.clear();
            self.out.extend_from_slice(&CANCEL);
        }
        self.phase = Phase::Over(Status::Failed(why));
    }

    fn ask(&mut self, request: u8, now_ms: u64) {
        self.out.push(request);
        self.asked_ms = now_ms;
    }

    fn byte(&mut self, b: u8, now_ms: u64, sink: &mut dyn Sink) {
        match self.line {
            Line::Idle { can } => match b {
                SOH | STX => {
                    self.block.clear();
                    self.block.push(b);
                    self.line = Line::Block(if b == SOH { 133 } else { 1029 });
                }
                EOT => self.end_of_file(now_ms, sink),
                CAN if can => self.fail(Failure::Cancelled, sink),
                CAN => self.line = Line::Idle { can: true },
                _ if Some(b) == self.interrupt => self.fail(Failure::Interrupted, sink),
                _ => self.line = Line::Purging,
            },
            Line::Block(len) => {
                self.block.push(b);
                if self.block.len() == len {
                    self.line = Line::Idle { can: false };
                    match decode_block(&self.block) {
                        Some((number, _)) => self.good_block(number, now_ms, sink),
                        None => self.line = Line::Purging,
                    }
                }
            }
            Line::Purging => {}
        }
    }

    /// A bad block (or a stray byte, or a block cut short) ended by silence: the peer's
    /// cancel, or ask for the block again.
    fn bad(&mut self, now_ms: u64, sink: &mut dyn Sink) {
        self.line = Line::Idle { can: false };
        if self.trailing_cans >= 2 {
            self.fail(Failure::Cancelled, sink);
            return;
        }
        self.bad_in_row += 1;
        self.bad_total += 1;
        if self.bad_in_row > MAX_BAD_BLOCKS {
            self.fail(Failure::Garbled, sink);
        } else {
            self.ask(self.request, now_ms);
        }
    }

    fn good_block(&mut self, number: u8, now_ms: u64, sink: &mut dyn Sink) {
        self.bad_in_row = 0;
        self.retries = 0;
        match self.phase {
            Phase::Name if number == 0 => self.name_block(now_ms, sink),
            Phase::Data if number == (self.blocks + 1) as u8 => self.data_block(now_ms, sink),
            // Our ACK was lost and the block came again: acknowledge, keep nothing.
            Phase::Data if number == self.blocks as u8 => self.ask(ACK, now_ms),
            Phase::Data => self.fail(Failure::OutOfSequence, sink),
            // A data block where a name should be: treat it as noise, ask for block 0.
            _ => self.line = Line::Purging,
        }
    }

    fn name_block(&mut self, now_ms: u64, sink: &mut dyn Sink) {
        let data = &self.block[3..self.block.len() - 2];
        if data[0] == 0 {
            // An empty name: the batch is over.
            self.out.push(ACK);
            self.phase = Phase::Over(Status::Done);
            return;
        }
        let Some(offer) = FileOffer::parse(data) else {
            self.fail(Failure::Refused, sink);
            return;
        };
        if sink.begin(&offer).is_err() {
            self.fail(Failure::Refused, sink);
            return;
        }
        self.size = offer.size;
        self.offset = 0;
        self.blocks = 0;
        self.eot = false;
        self.phase = Phase::Data;
        self.out.push(ACK);
        self.ask(CRC_REQUEST, now_ms);
        self.request = CRC_REQUEST;
    }

    fn data_block(&mut self, now_ms: u64, sink: &mut dyn Sink) {
        let data = &self.block[3..self.block.len() - 2];
        let take = match self.size {
            Some(size) if self.offset >= size => {
                self.fail(Failure::Oversized, sink);
                return;
            }
            Some(size) => (size - self.offset).min(data.len() as u64) as usize,
            None => data.len(),
        };
        if sink.write(self.offset, &data[..take]).is_err() {
            self.fail(Failure::Storage, sink);
            return;
        }
        self.offset += take as u64;
        self.blocks += 1;
        self.eot = false;
        self.request = NAK;
        self.ask(ACK, now_ms);
    }

    /// `EOT`: the first is answered `NAK`, the second ends the file (or, between files, our
    /// last `ACK` was lost: acknowledge it again).
    fn end_of_file(&mut self, now_ms: u64, sink: &mut dyn Sink) {
        match self.phase {
            Phase::Data if !self.eot => {
                self.eot = true;
                self.ask(NAK, now_ms);
            }
            Phase::Data => {
                if self.size.is_some_and(|size| self.offset < size) {
                    self.fail(Failure::Truncated, sink);
                    return;
                }
                if sink.end(self.offset).is_err() {
                    // The sink has dropped the file.
                    self.phase = Phase::Name;
                    self.fail(Failure::Storage, sink);
                    return;
                }
                self.files += 1;
                self.phase = Phase::Name;
                self.request = CRC_REQUEST;
                self.out.push(ACK);
                self.ask(CRC_REQUEST, now_ms);
            }
            Phase::Name => {
                self.out.push(ACK);
                self.ask(CRC_REQUEST, now_ms);
            }
            Phase::Over(_) => {}
        }
    }
}
