//! The client against scripted servers: byte-exact requests and answers, loss, duplication,
//! reordering, strangers, errors, malformed packets, local failures and aborts.

use tftp::{Client, Error, Io, LocalError, Options, Status, MAX_PACKET};

const SERVER: u16 = 69;
const TID: u16 = 40_000;
const SEC: u64 = 1_000_000;

#[derive(Default)]
struct Side {
    sent: Vec<(u16, Vec<u8>)>,
    file: Vec<u8>,
    /// The upload's source.
    source: Vec<u8>,
    /// Refuse writes beyond this many bytes.
    room: Option<usize>,
}

impl Io for Side {
    fn send(&mut self, port: u16, packet: &[u8]) {
        assert!(packet.len() <= MAX_PACKET);
        self.sent.push((port, packet.to_vec()));
    }
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), LocalError> {
        assert_eq!(offset as usize, self.file.len());
        if self.room.is_some_and(|r| self.file.len() + data.len() > r) {
            return Err(LocalError::NoSpace);
        }
        self.file.extend_from_slice(data);
        Ok(())
    }
    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, LocalError> {
        let rest = self.source.get(offset as usize..).unwrap_or(&[]);
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }
}

impl Side {
    fn take(&mut self) -> Vec<(u16, Vec<u8>)> {
        std::mem::take(&mut self.sent)
    }
}

fn data(block: u16, bytes: &[u8]) -> Vec<u8> {
    let mut p = vec![0, 3];
    p.extend_from_slice(&block.to_be_bytes());
    p.extend_from_slice(bytes);
    p
}

fn ack(block: u16) -> Vec<u8> {
    let mut p = vec![0, 4];
    p.extend_from_slice(&block.to_be_bytes());
    p
}

fn oack(options: &[u8]) -> Vec<u8> {
    let mut p = vec![0, 6];
    p.extend_from_slice(options);
    p
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn download_with_options() {
    let mut io = Side::default();
    let mut c = Client::download(0, SERVER, "netguest.tgz", Options::default(), &mut io);
    assert_eq!(
        io.take(),
        vec![(
            SERVER,
            b"\x00\x01netguest.tgz\x00octet\x00blksize\x001428\x00tsize\x000\x00".to_vec()
        )]
    );
    c.receive(
        10,
        TID,
        &oack(b"blksize\x001428\x00tsize\x003000\x00"),
        &mut io,
    );
    assert_eq!(io.take(), vec![(TID, ack(0))]);
    assert_eq!((c.blksize(), c.total()), (1428, Some(3000)));
    let file = pattern(3000);
    for (i, chunk) in file.chunks(1428).enumerate() {
        let block = i as u16 + 1;
        c.receive(20, TID, &data(block, chunk), &mut io);
        assert_eq!(io.take(), vec![(TID, ack(block))]);
    }
    assert_eq!(c.status(), Status::Finished);
    assert_eq!(io.file, file);
    assert_eq!(c.transferred(), 3000);
}

#[test]
fn download_from_a_server_without_options() {
    let mut io = Side::default();
    let mut c = Client::download(0, SERVER, "f", Options::default(), &mut io);
    io.take();
    let file = pattern(1024);
    c.receive(1, TID, &data(1, &file[..512]), &mut io);
    c.receive(2, TID, &data(2, &file[512..]), &mut io);
    // A full last block needs an empty one after it.
    assert_eq!(c.status(), Status::Running);
    c.receive(3, TID, &data(3, &[]), &mut io);
    assert_eq!(c.status(), Status::Finished);
    assert_eq!(io.take(), vec![(TID, ack(1)), (TID, ack(2)), (TID, ack(3))]);
    assert_eq!(io.file, file);
}

#[test]
fn duplicate_data_is_acknowledged_again_and_written_once() {
    let mut io = Side::default();
    let mut c = Client::download(0, SERVER, "f", Options::default(), &mut io);
    c.receive(1, TID, &oack(b"blksize\x00100\x00"), &mut io);
    // The server did not hear ACK 0 and sends the OACK again.
    c.receive(2, TID, &oack(b"blksize\x00100\x00"), &mut io);
    c.receive(3, TID, &data(1, &[1; 100]), &mut io);
    c.receive(4, TID, &data(1, &[1; 100]), &mut io);
    // Out of order: a block from the future is ignored.
    c.receive(5, TID, &data(3, &[3; 100]), &mut io);
    c.receive(6, TID, &data(2, &[2; 10]), &mut io);
    let sent = io.take();
    assert_eq!(
        sent,
        vec![
            (
                SERVER,
                b"\x00\x01f\x00octet\x00blksize\x001428\x00tsize\x000\x00".to_vec()
            ),
            (TID, ack(0)),
            (TID, ack(0)),
            (TID, ack(1)),
            (TID, ack(1)),
            (TID, ack(2)),
        ]
    );
    assert_eq!(io.file.len(), 110);
    assert_eq!(c.status(), Status::Finished);
}

#[test]
fn a_lost_block_is_asked_for_again_then_the_transfer_times_out() {
    let mut io = Side::default();
    let mut c = Client::download(0, SERVER, "f", Options::default(), &mut io);
    c.receive(10, TID, &oack(b"blksize\x00512\x00"), &mut io);
    io.take();
    c.poll(10 + SEC - 1, &mut io);
    assert!(io.take().is_empty(), "nothing before the timeout");
    let mut now = 10;
    for _ in 0..tftp::RETRIES {
        now += SEC;
        c.poll(now, &mut io);
        assert_eq!(io.take(), vec![(TID, ack(0))]);
    }
    assert_eq!(c.status(), Status::Running);
    now += SEC;
    c.poll(now, &mut io);
    assert_eq!(c.status(), Status::Failed(Error::Timeout));
    assert!(io.take().is_empty());
}

#[test]
fn an_unanswered_request_is_sent_again() {
    let mut io = Side::default();
    let mut c = Client::download(0, SERVER, "f", Options::default(), &mut io);
    let request = io.take();
    c.poll(SEC, &mut io);
    assert_eq!(io.take(), request);
    // The server answers the second request; the transfer goes on from its port.
    c.receive(SEC + 5, TID, &data(1, b"short"), &mut io);
    assert_eq!(c.status(), Status::Finished);
}

#[test]
fn a_stranger_is_told_and_changes_nothing() {
    let mut io = Side::default();
    let mut c = Client::download(0, SERVER, "f", Options::default(), &mut io);
    c.receive(1, TID, &oack(b"blksize\x00512\x00"), &mut io);
    io.take();
    c.receive(2, TID + 1, &data(1, b"not yours"), &mut io);
    assert_eq!(
        io.take(),
        vec![(TID + 1, b"\x00\x05\x00\x05Unknown transfer ID\x00".to_vec())]
    );
    assert!(io.file.is_empty());
    c.receive(3, TID, &data(1, b"mine"), &mut io);
    assert_eq!(io.file, b"mine");
    assert_eq!(c.status(), Status::Finished);
}

#[test]
fn the_servers_error_ends_the_transfer_with_its_message() {
    let mut io = Side::default();
    let mut c = Client::download(0, SERVER, "missing", Options::default(), &mut io);
    io.take();
    c.receive(1, TID, b"\x00\x05\x00\x01File not found\x00", &mut io);
    assert_eq!(c.status(), Status::Failed(Error::Remote(1)));
    assert_eq!(c.remote_message().collect::<String>(), "File not found");
    assert!(io.take().is_empty(), "an error is not answered");
    // Later packets change nothing.
    c.receive(2, TID, &data(1, b"x"), &mut io);
    c.poll(10 * SEC, &mut io);
    assert_eq!(c.status(), Status::Failed(Error::Remote(1)));
    assert!(io.take().is_empty());
}

#[test]
fn malformed_or_unexpected_packets_end_it_with_an_illegal_operation() {
    let illegal = b"\x00\x05\x00\x04Illegal TFTP operation\x00".to_vec();
    for bad in [
        vec![0u8],
        vec![0, 9, 1, 2],
        ack(1),
        b"\x00\x06blksize\x00".to_vec(),
        b"\x00\x01f\x00octet\x00".to_vec(),
    ] {
        let mut io = Side::default();
        let mut c = Client::download(0, SERVER, "f", Options::default(), &mut io);
        io.take();
        c.receive(1, TID, &bad, &mut io);
        assert_eq!(c.status(), Status::Failed(Error::Protocol), "{bad:?}");
        assert_eq!(io.take(), vec![(TID, illegal.clone())], "{bad:?}");
    }
    // A block larger than negotiated.
    let mut io = Side::default();
    let mut c = Client::download(0, SERVER, "f", Options::default(), &mut io);
    c.receive(1, TID, &oack(b"blksize\x00100\x00"), &mut io);
    c.receive(2, TID, &data(1, &[0; 101]), &mut io);
    assert_eq!(c.status(), Status::Failed(Error::Protocol));
    assert!(io.file.is_empty());
}

#[test]
fn options_the_client_did_not_ask_for_are_refused() {
    for bad in [
        &b"blksize\x002000\x00"[..],
        b"blksize\x004\x00",
        b"timeout\x005\x00",
        b"tsize\x00lots\x00",
    ] {
        let mut io = Side::default();
        let mut c = Client::download(0, SERVER, "f", Options::default(), &mut io);
        io.take();
        c.receive(1, TID, &oack(bad), &mut io);
        assert_eq!(c.status(), Status::Failed(Error::Protocol));
        let sent = io.take();
        assert_eq!(&sent[0].1[..4], b"\x00\x05\x00\x08", "{bad:?}");
    }
}

#[test]
fn no_room_tells_the_server_disk_full() {
    let mut io = Side {
        room: Some(1000),
        ..Side::default()
    };
    let mut c = Client::download(0, SERVER, "f", Options::default(), &mut io);
    c.receive(1, TID, &oack(b"blksize\x00512\x00"), &mut io);
    c.receive(2, TID, &data(1, &[0; 512]), &mut io);
    c.receive(3, TID, &data(2, &[0; 512]), &mut io);
    assert_eq!(
        c.status(),
        Status::Failed(Error::Local(LocalError::NoSpace))
    );
    let sent = io.take();
    assert_eq!(&sent.last().unwrap().1[..4], b"\x00\x05\x00\x03");
    assert_eq!(io.file.len(), 512);
}

#[test]
fn abort_tells_the_server() {
    let mut io = Side::default();
    let mut c = Client::download(0, SERVER, "f", Options::default(), &mut io);
    // Before the server answered there is nobody to tell.
    c.clone().abort(&mut io);
    assert_eq!(io.take().len(), 1);
    c.receive(1, TID, &data(1, &[0; 512]), &mut io);
    io.take();
    c.abort(&mut io);
    assert_eq!(c.status(), Status::Failed(Error::Aborted));
    assert_eq!(
        io.take(),
        vec![(TID, b"\x00\x05\x00\x00transfer cancelled\x00".to_vec())]
    );
}

#[test]
fn bad_names_are_refused_before_sending() {
    for name in ["", "a\0b", &"x".repeat(300)] {
        let mut io = Side::default();
        let c = Client::download(0, SERVER, name, Options::default(), &mut io);
        assert_eq!(c.status(), Status::Failed(Error::BadName));
        assert!(io.sent.is_empty());
    }
}

#[test]
fn upload_with_options() {
    let file = pattern(2856);
    let mut io = Side {
        source: file.clone(),
        ..Side::default()
    };
    let mut c = Client::upload(0, SERVER, "back.bin", 2856, Options::default(), &mut io);
    assert_eq!(
        io.take(),
        vec![(
            SERVER,
            b"\x00\x02back.bin\x00octet\x00blksize\x001428\x00tsize\x002856\x00".to_vec()
        )]
    );
    c.receive(
        1,
        TID,
        &oack(b"blksize\x001428\x00tsize\x002856\x00"),
        &mut io,
    );
    assert_eq!(io.take(), vec![(TID, data(1, &file[..1428]))]);
    // A duplicate ACK is not answered (the sorcerer's apprentice).
    c.receive(2, TID, &ack(0), &mut io);
    assert!(io.take().is_empty());
    c.receive(3, TID, &ack(1), &mut io);
    assert_eq!(io.take(), vec![(TID, data(2, &file[1428..]))]);
    c.receive(4, TID, &ack(1), &mut io);
    assert!(io.take().is_empty());
    // The timeout resends the block in flight.
    c.poll(3 + SEC, &mut io);
    assert_eq!(io.take(), vec![(TID, data(2, &file[1428..]))]);
    c.receive(SEC + 5, TID, &ack(2), &mut io);
    // A whole last block: an empty one ends the file.
    assert_eq!(io.take(), vec![(TID, data(3, &[]))]);
    assert_eq!(c.status(), Status::Running);
    c.receive(SEC + 6, TID, &ack(3), &mut io);
    assert_eq!(c.status(), Status::Finished);
    assert_eq!(c.transferred(), 2856);
}

#[test]
fn upload_to_a_server_without_options() {
    let mut io = Side {
        source: pattern(700),
        ..Side::default()
    };
    let mut c = Client::upload(0, SERVER, "f", 700, Options::default(), &mut io);
    io.take();
    c.receive(1, TID, &ack(0), &mut io);
    assert_eq!(io.take(), vec![(TID, data(1, &pattern(700)[..512]))]);
    c.receive(2, TID, &ack(1), &mut io);
    c.receive(3, TID, &ack(2), &mut io);
    assert_eq!(c.status(), Status::Finished);
    assert_eq!(io.take(), vec![(TID, data(2, &pattern(700)[512..]))]);
}

#[test]
fn block_numbers_wrap_around() {
    let mut io = Side::default();
    let opts = Options {
        blksize: Some(8),
        tsize: false,
        ..Options::default()
    };
    let mut c = Client::download(0, SERVER, "f", opts, &mut io);
    c.receive(0, TID, &oack(b"blksize\x008\x00"), &mut io);
    for i in 1..=70_000u32 {
        c.receive(0, TID, &data(i as u16, &[i as u8; 8]), &mut io);
    }
    c.receive(0, TID, &data(70_001u32 as u16, &[]), &mut io);
    assert_eq!(c.status(), Status::Finished);
    assert_eq!(io.file.len(), 560_000);
    assert_eq!(io.file[8 * 65_536], 65_537u32 as u8);
}

#[test]
fn fuzz_body_over_generated_inputs() {
    let mut seed = 0x1234_5678_9abc_def0u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..3000 {
        let len = (next() % 300) as usize;
        let mut input: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // Plausible packets now and then: DATA, ACK, OACK with small block numbers.
        for i in (0..input.len().saturating_sub(6)).step_by(37) {
            if next() % 2 == 0 {
                input[i + 2] = 0;
                input[i + 3] = (next() % 7) as u8;
                input[i + 4] = 0;
                input[i + 5] = (next() % 3) as u8;
            }
        }
        tftp::fuzzing::run(&input);
    }
}
