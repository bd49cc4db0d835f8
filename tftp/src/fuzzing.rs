//! The fuzz target's body (`fuzz/fuzz_targets/tftp.rs`; `cargo test -p tftp` runs it over
//! generated inputs): a download or an upload fed arbitrary datagrams, from the server's port
//! or another, with time steps and an abort. It checks that nothing panics, that every packet
//! sent fits [`MAX_PACKET`](crate::MAX_PACKET), that file bytes are written and read in order
//! without gaps, and that a transfer that ended stays ended.

use crate::{Client, Io, LocalError, Options, Status};

struct Checked {
    written: u64,
    sends: u32,
}

impl Io for Checked {
    fn send(&mut self, _port: u16, packet: &[u8]) {
        assert!(packet.len() <= crate::MAX_PACKET);
        self.sends += 1;
    }

    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), LocalError> {
        assert_eq!(offset, self.written, "writes follow each other");
        self.written += data.len() as u64;
        if self.written > 1 << 20 {
            return Err(LocalError::NoSpace);
        }
        Ok(())
    }

    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, LocalError> {
        let size = 3000u64;
        let n = (size.saturating_sub(offset) as usize).min(buf.len());
        buf[..n].fill(offset as u8);
        Ok(n)
    }
}

/// Runs one input: its first byte picks the direction; then each record is a kind byte, a
/// length byte and that many bytes of datagram.
pub fn run(data: &[u8]) {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    let mut io = Checked {
        written: 0,
        sends: 0,
    };
    let mut now = 0u64;
    let options = Options {
        blksize: (first & 2 != 0).then_some(16 + u16::from(first >> 4)),
        tsize: first & 4 != 0,
        ..Options::default()
    };
    let mut client = if first & 1 == 0 {
        Client::download(now, 69, "file", options, &mut io)
    } else {
        Client::upload(now, 69, "file", 3000, options, &mut io)
    };
    while let [kind, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (datagram, next) = tail.split_at(len);
        rest = next;
        let before = client.status();
        match kind % 8 {
            0..=4 => client.receive(now, 1000, datagram, &mut io),
            5 => client.receive(now, 1001, datagram, &mut io),
            6 => {
                now += u64::from(*kind) * 20_000;
                client.poll(now, &mut io);
            }
            _ => client.abort(&mut io),
        }
        if before != Status::Running {
            assert_eq!(client.status(), before, "an ended transfer stays ended");
        }
        assert!(client.transferred() <= 1 << 21);
    }
}
