//! The sending end (what `sb` is): waits for the receiver's `C`, sends block 0 with the file's
//! name and size, then, at the next `C`, the data in 1024-byte blocks (128-byte ones for the
//! last 896 bytes or less, as lrzsz does, so little padding goes), each sent again until it
//! is acknowledged; `EOT` until acknowledged, then an empty block 0 ends the batch.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use super::{encode_block, ACK, CAN, CRC_REQUEST, EOT, NAK, PAD, SENDER_RETRIES, SENDER_RETRY_MS};
use crate::{Failure, Source, Status, CANCEL};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for the first `C`.
    Start,
    /// Block 0 sent; waiting for its `ACK`.
    Name,
    /// Block 0 taken; waiting for the `C` that asks for data.
    DataRequest,
    /// A data block sent; waiting for its `ACK`. `end`: the file offset after it.
    Block {
        end: u64,
    },
    /// `EOT` sent; waiting for its `ACK`.
    Eot,
    /// The file taken; waiting for the `C` that asks for the next block 0.
    EndRequest,
    /// The empty block 0 sent; waiting for its `ACK`.
    End,
    Over(Status),
}

/// The sender of a one-file batch.
#[derive(Debug)]
pub struct Sender {
    state: State,
    out: Vec<u8>,
    /// What was sent last, sent again on `NAK` or silence.
    last: Vec<u8>,
    name: Vec<u8>,
    size: u64,
    modified: u64,
    /// Bytes the receiver has acknowledged.
    offset: u64,
    number: u8,
    heard_ms: u64,
    retries: u32,
    /// The last byte heard was a CAN.
    can: bool,
}

impl Sender {
    /// A sender of `name` (`size` bytes, modified at `modified`, seconds since 1970), waiting
    /// for the receiver.
    pub fn new(name: &[u8], size: u64, modified: u64, now_ms: u64) -> Sender {
        Sender {
            state: State::Start,
            out: Vec::new(),
            last: Vec::new(),
            name: name.to_vec(),
            size,
            modified,
            offset: 0,
            number: 0,
            heard_ms: now_ms,
            retries: 0,
            can: false,
        }
    }

    /// What to send to the peer now.
    pub fn take_output(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.out)
    }

    /// Bytes the receiver has acknowledged.
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
            self.heard_ms = now_ms;
            let can = core::mem::replace(&mut self.can, b == CAN);
            match b {
                CAN if can => self.state = State::Over(Status::Failed(Failure::Cancelled)),
                ACK | NAK | CRC_REQUEST => self.answer(b, source),
                _ => {}
            }
        }
        self.status()
    }

    /// Sends the last thing again when the receiver has been silent too long; gives up after
    /// [`SENDER_RETRIES`] (a file acknowledged whose batch end is not counts as sent).
    pub fn tick(&mut self, now_ms: u64, source: &mut dyn Source) -> Status {
        if self.status() != Status::Running
            || now_ms.saturating_sub(self.heard_ms) < SENDER_RETRY_MS
        {
            return self.status();
        }
        self.heard_ms = now_ms;
        self.retries += 1;
        if self.retries > SENDER_RETRIES {
            match self.state {
                State::EndRequest | State::End => self.state = State::Over(Status::Done),
                _ => self.fail(Failure::TimedOut),
            }
            return self.status();
        }
        match self.state {
            // The receiver took the name but its request for data was lost: start (as lrzsz).
            State::DataRequest => {
                let retries = self.retries;
                self.next_block(source);
                self.retries = retries;
            }
            State::Name | State::Block { .. } | State::Eot | State::End => {
                self.out.extend_from_slice(&self.last);
            }
            State::Start | State::EndRequest | State::Over(_) => {}
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

    fn send(&mut self, bytes: Vec<u8>) {
        self.out.extend_from_slice(&bytes);
        self.last = bytes;
        self.retries = 0;
    }

    fn answer(&mut self, b: u8, source: &mut dyn Source) {
        match (self.state, b) {
            (State::Start, CRC_REQUEST) => {
                self.state = State::Name;
                self.send(self.name_block());
            }
            (State::Name, ACK) => self.state = State::DataRequest,
            (State::DataRequest, CRC_REQUEST) => self.next_block(source),
            (State::Block { end }, ACK) => {
                self.offset = end;
                self.next_block(source);
            }
            (State::Eot, ACK) => self.state = State::EndRequest,
            (State::EndRequest, CRC_REQUEST) => {
                self.state = State::End;
                let mut block = Vec::new();
                encode_block(0, &[0; 128], &mut block);
                self.send(block);
            }
            (State::End, ACK) => self.state = State::Over(Status::Done),
            // A NAK (or a C, which lrzsz takes as one) asks for the last block again.
            (State::Name | State::Block { .. } | State::Eot | State::End, NAK | CRC_REQUEST) => {
                self.out.extend_from_slice(&self.last);
            }
            // ACKs of blocks sent twice, requests already answered.
            _ => {}
        }
    }

    /// Block 0: the name, NUL, "size mtime mode serial files-left bytes-left" (as lrzsz),
    /// padded with NULs to 128 bytes, or 1024 for a long name.
    fn name_block(&self) -> Vec<u8> {
        let mut info = self.name.clone();
        info.push(0);
        info.extend_from_slice(
            format!("{} {:o} 100644 0 1 {}", self.size, self.modified, self.size).as_bytes(),
        );
        let len = if info.len() < 128 { 128 } else { 1024 };
        info.truncate(len - 1);
        info.resize(len, 0);
        let mut block = Vec::new();
        encode_block(0, &info, &mut block);
        block
    }

    /// The data block after `offset`, or `EOT` at the end.
    fn next_block(&mut self, source: &mut dyn Source) {
        let left = self.size - self.offset;
        if left == 0 {
            self.state = State::Eot;
            self.send(vec![EOT]);
            return;
        }
        let len = if left > 896 { 1024 } else { 128 };
        let want = (len as u64).min(left) as usize;
        let mut data = vec![0u8; len];
        let mut got = 0;
        while got < want {
            match source.read(self.offset + got as u64, &mut data[got..want]) {
                Ok(0) | Err(_) => {
                    // The file shrank or could not be read.
                    self.fail(Failure::Storage);
                    return;
                }
                Ok(n) => got += n,
            }
        }
        data[want..].fill(PAD);
        self.number = self.number.wrapping_add(1);
        let mut block = Vec::new();
        encode_block(self.number, &data, &mut block);
        self.state = State::Block {
            end: self.offset + want as u64,
        };
        self.send(block);
    }
}
