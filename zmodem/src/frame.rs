//! ZMODEM's wire vocabulary: frame types, headers (hex, 16-bit and 32-bit binary), ZDLE
//! escaping and data subpackets, as Chuck Forsberg's 1988 specification and lrzsz send them.
//!
//! A header is a frame type and four bytes, which are either a file position (ZP0, the low
//! byte, first) or flags (ZF0 last). Data follows some headers (ZFILE, ZSINIT, ZDATA) as
//! subpackets: escaped bytes ended by ZDLE and one of four end codes, then the CRC of the data
//! and the end code.

use alloc::vec::Vec;

use crate::crc::{Crc16, Crc32};

/// Header start.
pub const ZPAD: u8 = b'*';
/// The escape byte (CAN); five in a row cancel a session.
pub const ZDLE: u8 = 0x18;
/// Header encodings after `ZPAD ZDLE`.
pub const ZBIN: u8 = b'A';
pub const ZHEX: u8 = b'B';
pub const ZBIN32: u8 = b'C';
/// Subpacket ends: end of frame, go on without an answer, answer with ZACK and go on, answer
/// with ZACK and wait.
pub const ZCRCE: u8 = b'h';
pub const ZCRCG: u8 = b'i';
pub const ZCRCQ: u8 = b'j';
pub const ZCRCW: u8 = b'k';
/// Escaped 0x7F and 0xFF.
const ZRUB0: u8 = b'l';
const ZRUB1: u8 = b'm';
const XON: u8 = 0x11;

/// ZRINIT flags (ZF0): full duplex, overlapped I/O, 32-bit CRC, control characters escaped.
pub const CANFDX: u8 = 0x01;
pub const CANOVIO: u8 = 0x02;
pub const CANFC32: u8 = 0x20;
pub const ESCCTL: u8 = 0x40;

/// The largest subpacket accepted (lrzsz sends at most 1,024 bytes, 8,192 with `--8k`).
pub const MAX_SUBPACKET: usize = 8192;

/// Frame types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Frame {
    RqInit = 0,
    RInit = 1,
    SInit = 2,
    Ack = 3,
    File = 4,
    Skip = 5,
    Nak = 6,
    Abort = 7,
    Fin = 8,
    RPos = 9,
    Data = 10,
    Eof = 11,
    FErr = 12,
    Crc = 13,
    Challenge = 14,
    Compl = 15,
    Can = 16,
    FreeCnt = 17,
    Command = 18,
}

impl Frame {
    fn from_u8(v: u8) -> Option<Frame> {
        use Frame::*;
        const ALL: [Frame; 19] = [
            RqInit, RInit, SInit, Ack, File, Skip, Nak, Abort, Fin, RPos, Data, Eof, FErr, Crc,
            Challenge, Compl, Can, FreeCnt, Command,
        ];
        ALL.get(usize::from(v)).copied()
    }
}

/// A header: its type and four bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub frame: Frame,
    pub bytes: [u8; 4],
}

impl Header {
    /// A header carrying a file position.
    pub fn at(frame: Frame, position: u32) -> Header {
        Header {
            frame,
            bytes: position.to_le_bytes(),
        }
    }

    /// A header carrying flags; `zf0` is the last byte.
    pub fn flags(frame: Frame, zf0: u8) -> Header {
        Header {
            frame,
            bytes: [0, 0, 0, zf0],
        }
    }

    pub fn position(&self) -> u32 {
        u32::from_le_bytes(self.bytes)
    }

    pub fn zf0(&self) -> u8 {
        self.bytes[3]
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `header` in hex form (what receivers send; lrzsz's `zshhdr`).
pub fn hex_header(header: Header, out: &mut Vec<u8>) {
    out.extend_from_slice(&[ZPAD, ZPAD, ZDLE, ZHEX]);
    let mut crc = Crc16::default();
    let mut body = [0u8; 7];
    body[0] = header.frame as u8;
    body[1..5].copy_from_slice(&header.bytes);
    crc.update(&body[..5]);
    body[5..].copy_from_slice(&crc.value().to_be_bytes());
    for b in body {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
    out.extend_from_slice(b"\r\x8a");
    if !matches!(header.frame, Frame::Ack | Frame::Fin) {
        out.push(XON);
    }
}

/// Appends `header` in binary form with a 32- or 16-bit CRC.
pub fn bin_header(header: Header, crc32: bool, out: &mut Vec<u8>) {
    let mut body = [0u8; 5];
    body[0] = header.frame as u8;
    body[1..].copy_from_slice(&header.bytes);
    out.extend_from_slice(&[ZPAD, ZDLE, if crc32 { ZBIN32 } else { ZBIN }]);
    escape_into(&body, out);
    append_crc(&body, None, crc32, out);
}

/// Appends a data subpacket: `data` escaped, ZDLE and `end`, the CRC.
pub fn subpacket(data: &[u8], end: u8, crc32: bool, out: &mut Vec<u8>) {
    escape_into(data, out);
    out.extend_from_slice(&[ZDLE, end]);
    append_crc(data, Some(end), crc32, out);
}

fn append_crc(data: &[u8], end: Option<u8>, crc32: bool, out: &mut Vec<u8>) {
    let end = end.as_slice();
    if crc32 {
        let mut c = Crc32::default();
        c.update(data);
        c.update(end);
        escape_into(&c.value().to_le_bytes(), out);
    } else {
        let mut c = Crc16::default();
        c.update(data);
        c.update(end);
        escape_into(&c.value().to_be_bytes(), out);
    }
}

/// Escapes what a line or a terminal could eat: ZDLE, every control character (as with the
/// receiver's ESCCTL: XON/XOFF, CR, a terminal program's escape keys) and DEL, high bit or not.
pub fn escape_into(data: &[u8], out: &mut Vec<u8>) {
    for &b in data {
        match b {
            0x7F => out.extend_from_slice(&[ZDLE, ZRUB0]),
            0xFF => out.extend_from_slice(&[ZDLE, ZRUB1]),
            _ if b & 0x60 == 0 => out.extend_from_slice(&[ZDLE, b ^ 0x40]),
            _ => out.push(b),
        }
    }
}

/// What an escaped byte after ZDLE means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escaped {
    Byte(u8),
    /// A subpacket end code.
    End(u8),
    Invalid,
}

/// Decodes the byte after a ZDLE.
pub fn unescape(c: u8) -> Escaped {
    match c {
        ZCRCE | ZCRCG | ZCRCQ | ZCRCW => Escaped::End(c),
        ZRUB0 => Escaped::Byte(0x7F),
        ZRUB1 => Escaped::Byte(0xFF),
        _ if c & 0x60 == 0x40 => Escaped::Byte(c ^ 0x40),
        _ => Escaped::Invalid,
    }
}

/// Checks a header's body (type and four bytes) against its CRC; the header if it holds.
pub fn check_header(body: &[u8], crc32: bool) -> Option<Header> {
    let (data, crc) = body.split_at(5);
    let good = if crc32 {
        let mut c = Crc32::default();
        c.update(data);
        crc == c.value().to_le_bytes()
    } else {
        let mut c = Crc16::default();
        c.update(data);
        crc == c.value().to_be_bytes()
    };
    if !good {
        return None;
    }
    Some(Header {
        frame: Frame::from_u8(data[0])?,
        bytes: [data[1], data[2], data[3], data[4]],
    })
}

/// Checks a subpacket's data and end code against its CRC.
pub fn check_subpacket(data: &[u8], end: u8, crc: &[u8], crc32: bool) -> bool {
    if crc32 {
        let mut c = Crc32::default();
        c.update(data);
        c.update(&[end]);
        crc == c.value().to_le_bytes()
    } else {
        let mut c = Crc16::default();
        c.update(data);
        c.update(&[end]);
        crc == c.value().to_be_bytes()
    }
}

/// The value of a lowercase or uppercase hex digit.
pub fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}
