//! The fuzz body of the receiver (`fuzz/fuzz_targets/zmodem_receiver.rs`): arbitrary bytes
//! from a hostile or broken sender, in arbitrary chunks, with the clock moving. Properties:
//! no panic; the sink sees calls in order (begin, in-order writes, then end or discard, never
//! a write without an open file); a file is kept only with exactly the bytes written to it;
//! a session that is over stays over; what the receiver sends is bounded per input byte.

use alloc::vec::Vec;

use crate::{FileOffer, Receiver, Refused, Sink, Status, Stop, RETRY_MS};

#[derive(Default)]
struct CheckingSink {
    open: Option<u64>,
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
        Ok(())
    }

    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), Stop> {
        let written = self.open.as_mut().expect("write without a file");
        assert_eq!(offset, *written, "out of order");
        assert!(data.len() <= crate::frame::MAX_SUBPACKET);
        *written += data.len() as u64;
        self.writes += 1;
        if self.writes % 17 == 0 {
            return Err(Stop);
        }
        Ok(())
    }

    fn end(&mut self, size: u64) -> Result<(), Stop> {
        let written = self.open.take().expect("end without a file");
        assert_eq!(size, written, "kept with other than the bytes written");
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
