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
