//! Replays the kept fuzz inputs of the `zmodem_receiver` target (`fuzz/corpus/`,
//! `fuzz/regressions/`) through its body, and runs it over generated sessions: whole and
//! damaged transfers from the crate's own sender.

#[path = "../../fuzz/replay.rs"]
mod replay;

#[test]
fn zmodem_receiver() {
    replay::replay("zmodem_receiver", zmodem::fuzz::receiver);
}

#[test]
fn the_body_holds_on_damaged_real_sessions() {
    use zmodem::{Sender, Source, Stop};
    struct Data(Vec<u8>);
    impl Source for Data {
        fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Stop> {
            let d = &self.0[offset as usize..];
            let n = d.len().min(buf.len());
            buf[..n].copy_from_slice(&d[..n]);
            Ok(n)
        }
    }
    // A sender's opening (its offer and the first block) as the wire carries it, cut into
    // chunks, then damaged at every 97th position in turn.
    let mut sender = Sender::new(b"f.bin", 20_000, 0, 0);
    let mut rinit = Vec::new();
    zmodem::frame::hex_header(
        zmodem::frame::Header::flags(zmodem::frame::Frame::RInit, 0x23),
        &mut rinit,
    );
    let mut source = Data((0..20_000).map(|i| (i * 7) as u8).collect());
    sender.take_output();
    sender.feed(&rinit, 0, &mut source);
    let mut wire = sender.take_output();
    let mut rpos = Vec::new();
    zmodem::frame::hex_header(
        zmodem::frame::Header::at(zmodem::frame::Frame::RPos, 0),
        &mut rpos,
    );
    sender.feed(&rpos, 0, &mut source);
    wire.extend(sender.take_output());
    let framed: Vec<u8> = wire
        .chunks(100)
        .flat_map(|c| [&[c.len() as u8][..], c].concat())
        .collect();
    zmodem::fuzz::receiver(&framed);
    for at in (0..framed.len()).step_by(97) {
        let mut damaged = framed.clone();
        damaged[at] ^= 0x55;
        zmodem::fuzz::receiver(&damaged);
    }
}

#[test]
fn ymodem_receiver() {
    replay::replay("ymodem_receiver", zmodem::fuzz::ymodem_receiver);
}

/// A YMODEM session of the crate's own sender (a file of `len` bytes, then the batch end),
/// as the wire carried it to a receiver, in the body's input format: chunks of at most 63
/// bytes; `damage_at` flips the bits of one byte.
pub fn ymodem_session(len: usize, damage_at: Option<usize>) -> Vec<u8> {
    use zmodem::ymodem::{Receiver, Sender};
    use zmodem::{FileOffer, Refused, Sink, Source, Status, Stop};
    struct Data(Vec<u8>);
    impl Source for Data {
        fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Stop> {
            let d = &self.0[offset as usize..];
            let n = d.len().min(buf.len());
            buf[..n].copy_from_slice(&d[..n]);
            Ok(n)
        }
    }
    struct Nowhere;
    impl Sink for Nowhere {
        fn begin(&mut self, _: &FileOffer<'_>) -> Result<(), Refused> {
            Ok(())
        }
        fn write(&mut self, _: u64, _: &[u8]) -> Result<(), Stop> {
            Ok(())
        }
        fn end(&mut self, _: u64) -> Result<(), Stop> {
            Ok(())
        }
        fn discard(&mut self) {}
    }
    let mut sender = Sender::new(b"f.bin", len as u64, 0, 0);
    let mut source = Data((0..len).map(|i| (i * 7) as u8).collect());
    let mut receiver = Receiver::new(0);
    let mut wire = Vec::new();
    while receiver.status() == Status::Running {
        sender.feed(&receiver.take_output(), 0, &mut source);
        let bytes = sender.take_output();
        receiver.feed(&bytes, 0, &mut Nowhere);
        wire.extend(bytes);
    }
    assert_eq!(receiver.status(), Status::Done);
    if let Some(at) = damage_at.filter(|&at| at < wire.len()) {
        wire[at] ^= 0x55;
    }
    wire.chunks(63)
        .flat_map(|c| [&[c.len() as u8][..], c].concat())
        .collect()
}

#[test]
fn the_ymodem_body_holds_on_whole_and_damaged_sessions() {
    for len in [0, 100, 3000] {
        zmodem::fuzz::ymodem_receiver(&ymodem_session(len, None));
        for at in (0..4000).step_by(89) {
            zmodem::fuzz::ymodem_receiver(&ymodem_session(len, Some(at)));
        }
    }
    // The seeds of the fuzz corpus.
    if let Ok(dir) = std::env::var("YMODEM_FUZZ_SEEDS") {
        for len in [0, 100, 3000] {
            let path = std::path::Path::new(&dir).join(format!("session-{len}"));
            std::fs::write(path, ymodem_session(len, None)).unwrap();
        }
    }
}
