//! YMODEM batch (what lrzsz's `sb` and `rb` speak), without I/O of its own: a [`Receiver`] that
//! takes files from a sender such as `sb`, and a [`Sender`] that gives one to a receiver such
//! as `rb`. Same shape as the ZMODEM ends: fed the peer's bytes and the time, they answer bytes;
//! files go to a [`crate::Sink`] and come from a [`crate::Source`].
//!
//! The wire (Forsberg's YMODEM, as lrzsz implements it): blocks of 128 (`SOH`) or 1024 (`STX`)
//! bytes, each with its number and the number's complement before and a CRC-16/XMODEM after
//! (big-endian); block 0 carries the file's name, NUL, then "size mtime mode ..." (size
//! decimal, the rest octal), a block 0 with an empty name ends the batch. The receiver asks for
//! CRC blocks with `C`, acknowledges each block (`ACK`) or asks for it again (`NAK`), and takes
//! the end of a file (`EOT`) only when it comes twice (the first is answered `NAK`, so a damaged
//! byte that reads as `EOT` cannot end a file). Data is padded to the block with `^Z`; the
//! receiver keeps the announced size. Two `CAN`s where a block would start cancel.
//!
//! Unlike ZMODEM nothing is escaped: every byte value passes raw, so the line must be
//! transparent, and a receiver can tell an interrupt key from data only between blocks
//! ([`Receiver::with_interrupt`]). There is no way to skip a file: a refused offer cancels the
//! session.

mod receiver;
mod sender;

pub use receiver::Receiver;
pub use sender::Sender;

use alloc::vec::Vec;

use crate::crc::Crc16;

/// Starts a 128-byte block.
pub const SOH: u8 = 0x01;
/// Starts a 1024-byte block.
pub const STX: u8 = 0x02;
/// Ends a file.
pub const EOT: u8 = 0x04;
/// A block (or `EOT`) is taken.
pub const ACK: u8 = 0x06;
/// Send it again.
pub const NAK: u8 = 0x15;
/// Two in a row cancel.
pub const CAN: u8 = 0x18;
/// The receiver's request for CRC-16 blocks (and for block 0, and the first data block).
pub const CRC_REQUEST: u8 = b'C';
/// Padding after a file's last byte (CP/M's end of file).
pub const PAD: u8 = 0x1A;

/// Milliseconds of silence before the receiver asks again (`C` or `NAK`).
pub const RECEIVER_RETRY_MS: u64 = 5_000;
/// Milliseconds of silence before the sender sends its last block again.
pub const SENDER_RETRY_MS: u64 = 10_000;
/// Repeats without an answer before the session is given up (a minute, either end).
pub const RECEIVER_RETRIES: u32 = 12;
pub const SENDER_RETRIES: u32 = 6;
/// Silence inside a block after which it is taken as broken (bytes were lost).
pub const BLOCK_GAP_MS: u64 = 1_000;
/// Silence that ends the skipping of a bad block's rest before it is asked for again.
pub const PURGE_MS: u64 = 200;
/// Bad blocks in a row before the session is given up (XMODEM's ten tries).
pub const MAX_BAD_BLOCKS: u32 = 10;

/// A block's bytes on the wire: start byte, number, its complement, `data` (128 or 1024
/// bytes), CRC-16 big-endian.
pub fn encode_block(number: u8, data: &[u8], out: &mut Vec<u8>) {
    debug_assert!(data.len() == 128 || data.len() == 1024);
    out.push(if data.len() == 1024 { STX } else { SOH });
    out.push(number);
    out.push(!number);
    out.extend_from_slice(data);
    let mut crc = Crc16::default();
    crc.update(data);
    out.extend_from_slice(&crc.value().to_be_bytes());
}

/// The data of a whole block (`bytes` from its start byte on), if its number's complement and
/// CRC are right: its number and data.
pub fn decode_block(bytes: &[u8]) -> Option<(u8, &[u8])> {
    let len = match *bytes.first()? {
        SOH => 128,
        STX => 1024,
        _ => return None,
    };
    if bytes.len() != 3 + len + 2 || bytes[1] != !bytes[2] {
        return None;
    }
    let data = &bytes[3..3 + len];
    let mut crc = Crc16::default();
    crc.update(data);
    let sent = u16::from_be_bytes([bytes[3 + len], bytes[4 + len]]);
    (crc.value() == sent).then_some((bytes[1], data))
}

#[cfg(test)]
mod tests;
