//! The two ends against each other over a simulated line: whole files of many sizes, a line
//! that corrupts or drops bytes, cancels from either side, a peer that falls silent.

use alloc::vec;
use alloc::vec::Vec;

use crate::frame::{hex_header, Frame, Header};
use crate::{Failure, FileOffer, Receiver, Refused, Sender, Sink, Source, Status, Stop, RETRY_MS};

/// A sink keeping files in memory; `limit` refuses bigger offers.
#[derive(Default)]
pub(crate) struct MemSink {
    pub(crate) open: Option<(Vec<u8>, Vec<u8>)>,
    pub(crate) kept: Vec<(Vec<u8>, Vec<u8>)>,
    pub(crate) discarded: u32,
    pub(crate) limit: Option<u64>,
}

impl Sink for MemSink {
    fn begin(&mut self, offer: &FileOffer<'_>) -> Result<(), Refused> {
        if let (Some(limit), Some(size)) = (self.limit, offer.size) {
            if size > limit {
                return Err(Refused);
            }
        }
        self.open = Some((offer.name.to_vec(), Vec::new()));
        Ok(())
    }
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), Stop> {
        let (_, file) = self.open.as_mut().ok_or(Stop)?;
        assert_eq!(offset, file.len() as u64, "data arrives in order");
        file.extend_from_slice(data);
        Ok(())
    }
    fn end(&mut self, size: u64) -> Result<(), Stop> {
        let (name, file) = self.open.take().ok_or(Stop)?;
        assert_eq!(size, file.len() as u64);
        self.kept.push((name, file));
        Ok(())
    }
    fn discard(&mut self) {
        assert!(self.open.take().is_some(), "discard without a file");
        self.discarded += 1;
    }
}

pub(crate) struct MemSource(pub(crate) Vec<u8>);

impl Source for MemSource {
    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Stop> {
        let data = self.0.get(offset as usize..).ok_or(Stop)?;
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok(n)
    }
}

pub(crate) fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// Runs a session; `line` may change what each side sends. Returns both statuses.
fn run(
    sender: &mut Sender,
    source: &mut MemSource,
    receiver: &mut Receiver,
    sink: &mut MemSink,
    line: &mut dyn FnMut(bool, Vec<u8>) -> Vec<u8>,
) -> (Status, Status) {
    let mut now = 0;
    for _ in 0..100_000 {
        let to_receiver = line(true, sender.take_output());
        receiver.feed(&to_receiver, now, sink);
        let to_sender = line(false, receiver.take_output());
        sender.feed(&to_sender, now, source);
        if sender.status() != Status::Running && receiver.status() != Status::Running {
            let last = receiver.take_output();
            sender.feed(&last, now, source);
            let last = sender.take_output();
            receiver.feed(&last, now, sink);
            return (sender.status(), receiver.status());
        }
        if to_receiver.is_empty() && to_sender.is_empty() {
            now += RETRY_MS;
            receiver.tick(now, sink);
            sender.tick(now, source);
        }
    }
    panic!("the session never ended");
}

fn transfer(data: &[u8], line: &mut dyn FnMut(bool, Vec<u8>) -> Vec<u8>) -> (Status, MemSink) {
    let mut sender = Sender::new(b"file.bin", data.len() as u64, 0o1234, 0);
    let mut source = MemSource(data.to_vec());
    let mut receiver = Receiver::new(0);
    let mut sink = MemSink::default();
    let (s, r) = run(&mut sender, &mut source, &mut receiver, &mut sink, line);
    assert_eq!(s, Status::Done, "sender");
    (r, sink)
}

#[test]
fn files_of_many_sizes_arrive_whole() {
    for len in [0, 1, 1023, 1024, 1025, 8192, 8193, 65_536 + 7, 300_000] {
        let data = pattern(len, len as u32 + 1);
        let (status, sink) = transfer(&data, &mut |_, b| b);
        assert_eq!(status, Status::Done, "{len}");
        assert_eq!(sink.kept, vec![(b"file.bin".to_vec(), data)], "{len}");
    }
}

#[test]
fn every_byte_value_passes_escaped() {
    let data: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let mut sender = Sender::new(b"all", data.len() as u64, 0, 0);
    let wire = {
        let mut receiver = Receiver::new(0);
        sender.feed(&receiver.take_output(), 0, &mut MemSource(data.clone()));
        sender.take_output()
    };
    // No bare control character but the frames' own ZDLE and XON: terminals cannot eat any.
    for &b in &wire {
        assert!(
            b & 0x60 != 0 || b == 0x18 || b == 0x11 || b == b'\r' || b == 0x8A,
            "{b:#x}"
        );
    }
    let (status, sink) = transfer(&data, &mut |_, b| b);
    assert_eq!(status, Status::Done);
    assert_eq!(sink.kept[0].1, data);
}

#[test]
fn corrupted_and_lost_bytes_are_sent_again() {
    let data = pattern(100_000, 7);
    let mut count = 0u32;
    let (status, sink) = transfer(&data, &mut |to_receiver, mut bytes| {
        if to_receiver {
            for b in bytes.iter_mut() {
                count += 1;
                if count % 9_973 == 0 {
                    *b ^= 0x21;
                }
            }
            count += 1;
            if count % 7 == 0 && bytes.len() > 100 {
                bytes.drain(40..60);
            }
        }
        bytes
    });
    assert_eq!(status, Status::Done);
    assert_eq!(sink.kept[0].1, data);
}

#[test]
fn a_refused_file_is_skipped_and_nothing_kept() {
    let data = pattern(5000, 3);
    let mut sender = Sender::new(b"big", data.len() as u64, 0, 0);
    let mut receiver = Receiver::new(0);
    let mut sink = MemSink {
        limit: Some(4999),
        ..MemSink::default()
    };
    let (s, r) = run(
        &mut sender,
        &mut MemSource(data),
        &mut receiver,
        &mut sink,
        &mut |_, b| b,
    );
    assert_eq!(s, Status::Failed(Failure::Skipped));
    // The sender, told to skip its only file, ends the session.
    assert_eq!(r, Status::Done);
    assert!(sink.kept.is_empty());
}

#[test]
fn sender_cancel_mid_file_discards_it() {
    let data = pattern(200_000, 5);
    let mut sender = Sender::new(b"f", data.len() as u64, 0, 0);
    let mut source = MemSource(data);
    let mut receiver = Receiver::new(0);
    let mut sink = MemSink::default();
    for _ in 0..6 {
        receiver.feed(&sender.take_output(), 0, &mut sink);
        sender.feed(&receiver.take_output(), 0, &mut source);
    }
    assert!(receiver.offset() > 0 && receiver.status() == Status::Running);
    sender.cancel();
    receiver.feed(&sender.take_output(), 0, &mut sink);
    assert_eq!(receiver.status(), Status::Failed(Failure::Cancelled));
    assert_eq!((sink.discarded, sink.kept.len()), (1, 0));
}

#[test]
fn receiver_cancel_stops_the_sender() {
    let data = pattern(200_000, 5);
    let mut sender = Sender::new(b"f", data.len() as u64, 0, 0);
    let mut source = MemSource(data);
    let mut receiver = Receiver::new(0);
    let mut sink = MemSink::default();
    for _ in 0..4 {
        receiver.feed(&sender.take_output(), 0, &mut sink);
        sender.feed(&receiver.take_output(), 0, &mut source);
    }
    receiver.cancel(&mut sink);
    assert_eq!(receiver.status(), Status::Failed(Failure::Interrupted));
    sender.feed(&receiver.take_output(), 0, &mut source);
    assert_eq!(sender.status(), Status::Failed(Failure::Cancelled));
    assert_eq!((sink.discarded, sink.kept.len()), (1, 0));
}

#[test]
fn a_silent_sender_times_out_and_the_file_goes() {
    let data = pattern(50_000, 9);
    let mut sender = Sender::new(b"f", data.len() as u64, 0, 0);
    let mut source = MemSource(data);
    let mut receiver = Receiver::new(0);
    let mut sink = MemSink::default();
    for _ in 0..4 {
        receiver.feed(&sender.take_output(), 0, &mut sink);
        sender.feed(&receiver.take_output(), 0, &mut source);
    }
    let mut now = 0;
    while receiver.status() == Status::Running {
        now += RETRY_MS;
        receiver.tick(now, &mut sink);
        assert!(now < 100 * RETRY_MS);
    }
    assert_eq!(receiver.status(), Status::Failed(Failure::TimedOut));
    assert_eq!((sink.discarded, sink.kept.len()), (1, 0));
}

#[test]
fn zfin_with_a_file_open_is_a_truncated_transfer() {
    let mut receiver = Receiver::new(0);
    let mut sink = MemSink::default();
    let mut sender = Sender::new(b"f", 10_000, 0, 0);
    let mut source = MemSource(pattern(10_000, 1));
    for _ in 0..2 {
        receiver.feed(&sender.take_output(), 0, &mut sink);
        sender.feed(&receiver.take_output(), 0, &mut source);
    }
    assert!(sink.open.is_some());
    let mut fin = Vec::new();
    hex_header(Header::at(Frame::Fin, 0), &mut fin);
    receiver.feed(&fin, 0, &mut sink);
    assert_eq!(receiver.status(), Status::Failed(Failure::Truncated));
    assert_eq!((sink.discarded, sink.kept.len()), (1, 0));
}

#[test]
fn file_offers_parse() {
    let o = FileOffer::parse(b"a.tgz\x0012345 14567701234 100644 0 1 12345\0").unwrap();
    assert_eq!(o.name, b"a.tgz");
    assert_eq!(o.size, Some(12345));
    assert_eq!(o.modified, Some(0o14567701234));
    let o = FileOffer::parse(b"x\0").unwrap();
    assert_eq!((o.size, o.modified), (None, None));
    assert_eq!(FileOffer::parse(b"no nul"), None);
}
