//! The tables, as the host program wrote them (`benches/forward/src/mips.rs`) and QEMU's
//! `-device loader` placed them at physical [`BLOB_PHYS`]: a header `FWD1`, the IPv4 count and
//! the IPv6 count (big-endian `u32`s, then 4 reserved bytes), then the IPv4 records (address
//! `u32`, length, 0, next hop `u16`: 8 bytes) and the IPv6 records (address as 16 bytes,
//! length, 0, next hop: 20 bytes). Also the pseudo-random numbers every part uses.

use alloc::vec::Vec;
use routing::NextHop;

/// Where the host program asks QEMU to load the blob (the top 16 MiB of malta's 256 MiB).
pub const BLOB_PHYS: usize = 0x0f00_0000;
/// The blob through kseg0.
pub const BLOB: usize = 0x8000_0000 | BLOB_PHYS;

pub struct Tables {
    pub v4: Vec<(u32, u8, NextHop)>,
    pub v6: Vec<(u128, u8, NextHop)>,
    /// Addresses and the next hop the host's FIB gave them.
    pub probes4: Vec<(u32, Option<u16>)>,
    pub probes6: Vec<(u128, Option<u16>)>,
}

fn word(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// What the blob asks for.
pub enum Blob {
    /// The tables: count everything.
    Tables(Tables),
    /// `FWDT` then a packet count: only forward that many packets with a fixed decision, for
    /// QEMU's trace of where the path's instructions go (`--trace`).
    Trace(usize),
}

/// The blob's header: `None` when it is not there (QEMU started without it).
fn header() -> Option<(&'static [u8; 4], [usize; 3])> {
    // SAFETY: the header is in RAM (the top 16 MiB of malta's 256 MiB, which the program
    // never writes: the heap ends below it), and stays unchanged for the program's life.
    let head = unsafe { &*(BLOB as *const [u8; 16]) };
    let magic = head[..4].try_into().ok()?;
    Some((
        magic,
        [word(head, 4), word(head, 8), word(head, 12)].map(|w| w as usize),
    ))
}

/// Reads the blob.
pub fn read() -> Option<Blob> {
    match header()? {
        (b"FWDT", [packets, ..]) => Some(Blob::Trace(packets)),
        (b"FWD1", _) => load().map(Blob::Tables),
        _ => None,
    }
}

fn load() -> Option<Tables> {
    let (_, [n4, n6, np]) = header()?;
    let len = 16 + (n4 + np) * 8 + (n6 + np) * 20;
    if len > 16 << 20 {
        return None;
    }
    // SAFETY: as above; the host program checked that the blob fits the 16 MiB.
    let b = unsafe { core::slice::from_raw_parts(BLOB as *const u8, len) };
    let half = |at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
    let hop = |at: usize| NextHop::new(half(at));
    let expected = |at: usize| Some(half(at)).filter(|&h| h != 0xffff);
    let v6_at = |at: usize| {
        let mut a = [0u8; 16];
        a.copy_from_slice(&b[at..at + 16]);
        u128::from_be_bytes(a)
    };
    let mut v4 = Vec::with_capacity(n4);
    for r in b[16..16 + n4 * 8].chunks_exact(8) {
        v4.push((
            word(r, 0),
            r[4],
            NextHop::new(u16::from_be_bytes([r[6], r[7]]))?,
        ));
    }
    let mut v6 = Vec::with_capacity(n6);
    let base = 16 + n4 * 8;
    for i in 0..n6 {
        let at = base + i * 20;
        v6.push((v6_at(at), b[at + 16], hop(at + 18)?));
    }
    let base = base + n6 * 20;
    let probes4 = (0..np)
        .map(|i| (word(b, base + i * 8), expected(base + i * 8 + 4)))
        .collect();
    let base = base + np * 8;
    let probes6 = (0..np)
        .map(|i| (v6_at(base + i * 20), expected(base + i * 20 + 16)))
        .collect();
    Some(Tables {
        v4,
        v6,
        probes4,
        probes6,
    })
}

/// xorshift64* (the host benchmark's generator).
pub struct Random(pub u64);

impl Random {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// An address inside a prefix drawn uniformly from `entries` (host bits random).
    pub fn v4_in(&mut self, entries: &[(u32, u8, NextHop)]) -> u32 {
        let e = &entries[(self.next() % entries.len() as u64) as usize];
        let host = u32::MAX.checked_shr(e.1.into()).unwrap_or(0);
        e.0 | (self.next() as u32 & host)
    }

    pub fn v6_in(&mut self, entries: &[(u128, u8, NextHop)]) -> u128 {
        let e = &entries[(self.next() % entries.len() as u64) as usize];
        let host = if e.1 == 0 {
            u128::MAX
        } else {
            u128::MAX >> e.1
        };
        e.0 | (self.v6() & host)
    }

    pub fn v6(&mut self) -> u128 {
        u128::from(self.next()) << 64 | u128::from(self.next())
    }
}
