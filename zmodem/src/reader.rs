//! The wire decoder both ends share: it takes the peer's bytes one at a time and yields
//! headers, data subpackets, bad ones (CRC or escape errors, which the caller answers by asking
//! for the data again) and the peer's cancel (five CANs in a row). Between frames everything is
//! skipped, so garbage, a terminal's echo or lrzsz's trailing CR LF XON do no harm.

use alloc::vec::Vec;

use crate::frame::{
    check_header, check_subpacket, hex_value, unescape, Escaped, Header, MAX_SUBPACKET, ZBIN,
    ZBIN32, ZDLE, ZHEX, ZPAD,
};

/// CANs in a row that cancel a session.
const CANCEL_RUN: u8 = 5;

/// What the decoder recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    Header(Header),
    /// Something that started as a header and failed its CRC or type.
    BadHeader,
    /// A whole subpacket ended by `end`; its data is [`Reader::data`].
    Subpacket {
        end: u8,
    },
    /// A subpacket with a bad CRC, a bad escape or too long.
    BadSubpacket,
    /// The peer cancelled.
    Cancel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Hunt,
    Pad,
    PadDle,
    BinHeader { crc32: bool },
    HexHeader,
    Data,
    DataCrc { end: u8 },
}

/// The decoder.
#[derive(Debug)]
pub struct Reader {
    state: State,
    /// CANs (ZDLE) seen in a row.
    cans: u8,
    /// After a ZDLE inside an escaped field.
    escape: bool,
    /// Header bytes (type, four bytes, CRC) or hex digits decoded so far.
    body: [u8; 9],
    body_len: usize,
    half: Option<u8>,
    /// Whether the last header had a 32-bit CRC (its data subpackets have one too).
    crc32: bool,
    data: Vec<u8>,
    crc: [u8; 4],
    crc_len: usize,
}

impl Default for Reader {
    fn default() -> Reader {
        Reader::new()
    }
}

impl Reader {
    pub fn new() -> Reader {
        Reader {
            state: State::Hunt,
            cans: 0,
            escape: false,
            body: [0; 9],
            body_len: 0,
            half: None,
            crc32: false,
            data: Vec::new(),
            crc: [0; 4],
            crc_len: 0,
        }
    }

    /// Data subpackets follow the header just read.
    pub fn expect_data(&mut self) {
        self.state = State::Data;
        self.data.clear();
        self.escape = false;
    }

    /// Back to looking for a header (after a subpacket that ends the frame).
    pub fn hunt(&mut self) {
        self.state = State::Hunt;
    }

    /// The data of the last [`Item::Subpacket`].
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Whether the last header carried a 32-bit CRC.
    pub fn last_crc32(&self) -> bool {
        self.crc32
    }

    /// Takes one byte from the peer.
    pub fn push(&mut self, byte: u8) -> Option<Item> {
        if byte == ZDLE {
            self.cans += 1;
            if self.cans >= CANCEL_RUN {
                self.cans = 0;
                self.state = State::Hunt;
                return Some(Item::Cancel);
            }
        } else {
            self.cans = 0;
        }
        match self.state {
            State::Hunt => {
                if byte == ZPAD {
                    self.state = State::Pad;
                }
                None
            }
            State::Pad => {
                self.state = match byte {
                    ZPAD => State::Pad,
                    ZDLE => State::PadDle,
                    _ => State::Hunt,
                };
                None
            }
            State::PadDle => {
                self.body_len = 0;
                self.escape = false;
                self.half = None;
                self.state = match byte {
                    ZBIN => State::BinHeader { crc32: false },
                    ZBIN32 => State::BinHeader { crc32: true },
                    ZHEX => State::HexHeader,
                    _ => State::Hunt,
                };
                None
            }
            State::BinHeader { crc32 } => {
                let byte = match self.escaped(byte)? {
                    Escaped::Byte(b) => b,
                    _ => return self.bad_header(),
                };
                self.body[self.body_len] = byte;
                self.body_len += 1;
                let need = if crc32 { 9 } else { 7 };
                if self.body_len < need {
                    return None;
                }
                self.state = State::Hunt;
                self.crc32 = crc32;
                match check_header(&self.body[..need], crc32) {
                    Some(h) => Some(Item::Header(h)),
                    None => Some(Item::BadHeader),
                }
            }
            State::HexHeader => {
                let Some(v) = hex_value(byte) else {
                    return self.bad_header();
                };
                let Some(high) = self.half.take() else {
                    self.half = Some(v);
                    return None;
                };
                self.body[self.body_len] = high << 4 | v;
                self.body_len += 1;
                if self.body_len < 7 {
                    return None;
                }
                self.state = State::Hunt;
                self.crc32 = false;
                match check_header(&self.body[..7], false) {
                    Some(h) => Some(Item::Header(h)),
                    None => Some(Item::BadHeader),
                }
            }
            State::Data => match self.escaped(byte)? {
                Escaped::Byte(b) if self.data.len() < MAX_SUBPACKET => {
                    self.data.push(b);
                    None
                }
                Escaped::End(end) => {
                    self.crc_len = 0;
                    self.state = State::DataCrc { end };
                    None
                }
                _ => self.bad_subpacket(),
            },
            State::DataCrc { end } => {
                let Escaped::Byte(b) = self.escaped(byte)? else {
                    return self.bad_subpacket();
                };
                self.crc[self.crc_len] = b;
                self.crc_len += 1;
                let need = if self.crc32 { 4 } else { 2 };
                if self.crc_len < need {
                    return None;
                }
                if check_subpacket(&self.data, end, &self.crc[..need], self.crc32) {
                    // The caller decides what follows (more data or a header).
                    self.state = State::Hunt;
                    Some(Item::Subpacket { end })
                } else {
                    self.bad_subpacket()
                }
            }
        }
    }

    /// Undoes ZDLE escaping inside binary fields; `None` while a byte is incomplete or was
    /// flow control (XON/XOFF are dropped, as lrzsz does).
    fn escaped(&mut self, byte: u8) -> Option<Escaped> {
        if self.escape {
            self.escape = false;
            return Some(unescape(byte));
        }
        match byte {
            ZDLE => {
                self.escape = true;
                None
            }
            0x11 | 0x13 | 0x91 | 0x93 => None,
            _ => Some(Escaped::Byte(byte)),
        }
    }

    fn bad_header(&mut self) -> Option<Item> {
        self.state = State::Hunt;
        Some(Item::BadHeader)
    }

    fn bad_subpacket(&mut self) -> Option<Item> {
        self.state = State::Hunt;
        self.data.clear();
        Some(Item::BadSubpacket)
    }
}
