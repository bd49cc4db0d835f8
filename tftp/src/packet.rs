//! TFTP packets (RFC 1350, with the option acknowledgment of RFC 2347): parsing a received
//! packet into a [`Packet`] that borrows from it, and building the ones a client sends into a
//! caller's buffer. Every way a packet can be wrong is [`Malformed`]; nothing panics.

/// Read request.
pub const RRQ: u16 = 1;
/// Write request.
pub const WRQ: u16 = 2;
/// A block of data.
pub const DATA: u16 = 3;
/// Acknowledgment of a block.
pub const ACK: u16 = 4;
/// An error; ends the transfer.
pub const ERROR: u16 = 5;
/// Option acknowledgment (RFC 2347).
pub const OACK: u16 = 6;

/// Error codes (RFC 1350 and RFC 2347).
pub mod code {
    /// Not defined, see the message.
    pub const NOT_DEFINED: u16 = 0;
    /// File not found.
    pub const FILE_NOT_FOUND: u16 = 1;
    /// Access violation.
    pub const ACCESS_VIOLATION: u16 = 2;
    /// Disk full or allocation exceeded.
    pub const DISK_FULL: u16 = 3;
    /// Illegal TFTP operation.
    pub const ILLEGAL_OPERATION: u16 = 4;
    /// Unknown transfer ID.
    pub const UNKNOWN_TID: u16 = 5;
    /// File already exists.
    pub const FILE_EXISTS: u16 = 6;
    /// No such user.
    pub const NO_SUCH_USER: u16 = 7;
    /// Option negotiation refused (RFC 2347).
    pub const OPTION_REFUSED: u16 = 8;
}

/// A received packet that is not TFTP: too short, an unknown opcode, a string without its
/// terminating zero, an option without a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

/// A packet a client receives, borrowing from the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    Data {
        block: u16,
        data: &'a [u8],
    },
    Ack {
        block: u16,
    },
    Error {
        code: u16,
        message: &'a [u8],
    },
    /// The options' bytes (`name\0value\0...`), checked to pair up; see [`options`].
    OptionAck {
        options: &'a [u8],
    },
    /// A request (a client never takes one).
    Request {
        opcode: u16,
    },
}

fn u16_at(bytes: &[u8], at: usize) -> Result<u16, Malformed> {
    match bytes.get(at..at + 2) {
        Some(&[hi, lo]) => Ok(u16::from_be_bytes([hi, lo])),
        _ => Err(Malformed),
    }
}

/// Parses `bytes` (one UDP payload).
pub fn parse(bytes: &[u8]) -> Result<Packet<'_>, Malformed> {
    let opcode = u16_at(bytes, 0)?;
    let body = &bytes[2..];
    match opcode {
        DATA => Ok(Packet::Data {
            block: u16_at(bytes, 2)?,
            data: &body[2..],
        }),
        ACK if body.len() == 2 => Ok(Packet::Ack {
            block: u16_at(bytes, 2)?,
        }),
        ERROR => {
            let code = u16_at(bytes, 2)?;
            // The message should end with a zero; servers that leave it out are forgiven.
            let text = &body[2..];
            let message = text.split(|&b| b == 0).next().unwrap_or(&[]);
            Ok(Packet::Error { code, message })
        }
        OACK => {
            if options(body).any(|o| o.is_err()) || body.last() != Some(&0) {
                return Err(Malformed);
            }
            Ok(Packet::OptionAck { options: body })
        }
        RRQ | WRQ => Ok(Packet::Request { opcode }),
        _ => Err(Malformed),
    }
}

/// The `(name, value)` pairs of an option list (`name\0value\0...`).
pub fn options(bytes: &[u8]) -> impl Iterator<Item = Result<(&[u8], &[u8]), Malformed>> {
    let mut rest = bytes;
    core::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut take = || {
            let end = rest.iter().position(|&b| b == 0)?;
            let field = &rest[..end];
            rest = &rest[end + 1..];
            Some(field)
        };
        let pair = match (take(), take()) {
            (Some(name), Some(value)) => Ok((name, value)),
            _ => {
                rest = &[];
                Err(Malformed)
            }
        };
        Some(pair)
    })
}

/// A decimal number of an option value (at most 20 digits, no sign).
pub fn number(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 20 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    value.iter().try_fold(0u64, |n, d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// Writes packets into a buffer, failing (rather than panicking) when it is full.
pub struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
}

/// The buffer is too small for the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLong;

impl<'a> Writer<'a> {
    /// An empty packet in `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, len: 0 }
    }

    /// Appends `bytes`.
    pub fn bytes(&mut self, bytes: &[u8]) -> Result<&mut Self, TooLong> {
        let end = self.len + bytes.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(TooLong)?
            .copy_from_slice(bytes);
        self.len = end;
        Ok(self)
    }

    /// Appends a big-endian 16-bit number.
    pub fn u16(&mut self, n: u16) -> Result<&mut Self, TooLong> {
        self.bytes(&n.to_be_bytes())
    }

    /// Appends `text` and its terminating zero.
    pub fn string(&mut self, text: &[u8]) -> Result<&mut Self, TooLong> {
        self.bytes(text)?.bytes(&[0])
    }

    /// Appends the decimal digits of `n` and a zero.
    pub fn decimal(&mut self, n: u64) -> Result<&mut Self, TooLong> {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut rest = n;
        loop {
            at -= 1;
            digits[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        self.string(&digits[at..])
    }

    /// The packet's length so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind() {
        assert_eq!(
            parse(&[0, 3, 0, 7, 1, 2]),
            Ok(Packet::Data {
                block: 7,
                data: &[1, 2]
            })
        );
        assert_eq!(parse(&[0, 4, 1, 0]), Ok(Packet::Ack { block: 256 }));
        assert_eq!(
            parse(b"\x00\x05\x00\x01File not found\x00"),
            Ok(Packet::Error {
                code: 1,
                message: b"File not found"
            })
        );
        assert_eq!(
            parse(b"\x00\x06blksize\x001428\x00"),
            Ok(Packet::OptionAck {
                options: b"blksize\x001428\x00"
            })
        );
    }

    #[test]
    fn refuses_what_is_not_tftp() {
        for bad in [
            &b""[..],
            b"\x00",
            b"\x00\x03\x00",
            b"\x00\x04\x00\x01\x00",
            b"\x00\x05\x00",
            b"\x00\x06blksize\x00",
            b"\x00\x06blksize\x001428",
            b"\x00\x09",
        ] {
            assert_eq!(parse(bad), Err(Malformed), "{bad:?}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(number(b"1428"), Some(1428));
        assert_eq!(number(b""), None);
        assert_eq!(number(b"-1"), None);
        assert_eq!(number(b"99999999999999999999"), None);
    }

    #[test]
    fn writer_refuses_to_overflow() {
        let mut buf = [0u8; 6];
        let mut w = Writer::new(&mut buf);
        assert!(w.u16(1).unwrap().string(b"ab").is_ok());
        assert_eq!(w.decimal(12).err(), Some(TooLong));
        let mut buf = [0u8; 8];
        let mut w = Writer::new(&mut buf);
        w.decimal(0).unwrap().decimal(4096).unwrap();
        assert_eq!(&buf[..7], b"0\x004096\x00");
    }
}
