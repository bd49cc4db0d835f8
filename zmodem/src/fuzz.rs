//! The fuzz bodies of the receivers (`fuzz/fuzz_targets/zmodem_receiver.rs`,
//! `ymodem_receiver.rs`): arbitrary bytes from a hostile or broken sender, in arbitrary chunks,
//! with the clock moving. Properties: no panic; the sink sees calls in order (begin, in-order
//! writes, then end or discard, never a write without an open file); a file is kept only with
//! exactly the bytes written to it (for YMODEM: never more than the announced size, and all of
//! it); a session that is over stays over; what the receiver sends is bounded per input byte.

use alloc::vec::Vec;

use crate::{ymodem, FileOffer, Receiver, Refused, Sink, Status, Stop, RETRY_MS};

#[derive(Default)]
struct CheckingSink {
    open: Option<u64>,
    /// The open file's announced size, when the protocol keeps exactly that (YMODEM).
    exact: Option<u64>,
    ymodem: bool,
    kept: u32,
    /// Refuse every third offer, fail every 17th write: the storage's own failures.
    offers: u32,
    writes: u32,
}

impl Sink for CheckingSink {
    fn begin(&mut self, offer: &FileOffer<'_>) -> Result<(), Refused> {
        assert!(self.open.is_none(), "begin with a file open");
        assert!(!offer.name.contains(&0));
        self.offers += 1;
        if self.offers % 3 == 0 {
            return Err(Refused);
        }
        self.open = Some(0);
        self.exact = offer.size.filter(|_| self.ymodem);
        Ok(())
    }

    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), Stop> {
        let written = self.open.as_mut().expect("write without a file");
        assert_eq!(offset, *written, "out of order");
        assert!(data.len() <= crate::frame::MAX_SUBPACKET);
        *written += data.len() as u64;
        if let Some(size) = self.exact {
            assert!(*written <= size, "more than the announced size written");
        }
        self.writes += 1;
        if self.writes % 17 == 0 {
            return Err(Stop);
        }
        Ok(())
    }

    fn end(&mut self, size: u64) -> Result<(), Stop> {
        let written = self.open.take().expect("end without a file");
        assert_eq!(size, written, "kept with other than the bytes written");
        if let Some(announced) = self.exact {
            assert_eq!(size, announced, "kept with other than the announced size");
        }
        self.kept += 1;
        Ok(())
    }

    fn discard(&mut self) {
        assert!(self.open.take().is_some(), "discard without a file");
    }
}

/// Feeds `data` to a receiver: the first byte of each chunk says its length and whether the
/// clock jumps by a retry period first.
pub fn receiver(data: &[u8]) {
    let mut receiver = Receiver::new(0);
    let mut sink = CheckingSink::default();
    let mut now = 0;
    let mut rest = data;
    let mut sent = 0usize;
    let mut over: Option<Status> = None;
    while let Some((&control, tail)) = rest.split_first() {
        let len = usize::from(control & 0x7F).min(tail.len());
        let (chunk, tail) = tail.split_at(len);
        rest = tail;
        if control & 0x80 != 0 {
            now += RETRY_MS;
            receiver.tick(now, &mut sink);
        }
        let status = receiver.feed(chunk, now, &mut sink);
        let out: Vec<u8> = receiver.take_output();
        sent += out.len();
        assert!(sent <= 64 * (data.len() + 1) + 1024, "output out of bounds");
        if let Some(before) = over {
            assert_eq!(status, before, "a session that is over changed");
        } else if status != Status::Running {
            over = Some(status);
            assert!(sink.open.is_none(), "a file left open after the session");
        }
    }
}

/// Feeds `data` to a YMODEM receiver (with Ctrl-C as its interrupt key): the first byte of each
/// chunk gives its length (low six bits) and how far the clock moves first (top two bits:
/// not, past a purge, past a block gap, past a retry).
pub fn ymodem_receiver(data: &[u8]) {
    let mut receiver = ymodem::Receiver::new(0).with_interrupt(0x03);
    let mut sink = CheckingSink {
        ymodem: true,
        ..CheckingSink::default()
    };
    let mut now = 0;
    let mut rest = data;
    let mut sent = 0usize;
    let mut over: Option<Status> = None;
    while let Some((&control, tail)) = rest.split_first() {
        let len = usize::from(control & 0x3F).min(tail.len());
        let (chunk, tail) = tail.split_at(len);
        rest = tail;
        now += [
            0,
            ymodem::PURGE_MS,
            ymodem::BLOCK_GAP_MS,
            ymodem::RECEIVER_RETRY_MS,
        ][usize::from(control >> 6)];
        receiver.tick(now, &mut sink);
        let status = receiver.feed(chunk, now, &mut sink);
        sent += receiver.take_output().len();
        assert!(sent <= 32 * (data.len() + 1) + 64, "output out of bounds");
        if let Some(before) = over {
            assert_eq!(status, before, "a session that is over changed");
        } else if status != Status::Running {
            over = Some(status);
            assert!(sink.open.is_none(), "a file left open after the session");
        }
    }
}
