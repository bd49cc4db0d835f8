//! The two superblocks (blocks 0 and 1): the commit record. Generation `g` is written to block
//! `g % 2`, so the previous generation's superblock is never overwritten by the next commit.
//!
//! ```text
//! offset  size  field (big-endian)
//!      0     8  magic "MRFSSUP1"
//!      8     2  version = 1
//!     10     2  reserved, 0
//!     12     4  block size = 4096
//!     16     8  block count the store was formatted for
//!     24     8  generation (the commit's number, from 1)
//!     32     4  root node's block
//!     36     4  CRC-32C of the root node's whole block
//!     40  4052  zeros
//!   4092     4  CRC-32C of bytes 0..4092
//! ```
//!
//! A superblock counts only if its CRC holds; the newest one whose root node also checks is
//! the store's state. A torn superblock write fails its CRC, so the older one still rules.

use crate::crc::crc32c;
use crate::device::{Block, BLOCK_SIZE};
use crate::node::Ptr;

pub(crate) const SUPER_MAGIC: [u8; 8] = *b"MRFSSUP1";
pub(crate) const VERSION: u16 = 1;
/// Blocks 0 and 1.
pub(crate) const SUPERBLOCKS: u32 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Superblock {
    pub block_count: u64,
    pub generation: u64,
    pub root: Ptr,
}

impl Superblock {
    pub fn slot(&self) -> u32 {
        (self.generation % 2) as u32
    }

    pub fn encode(&self, out: &mut Block) {
        out.fill(0);
        out[0..8].copy_from_slice(&SUPER_MAGIC);
        out[8..10].copy_from_slice(&VERSION.to_be_bytes());
        out[12..16].copy_from_slice(&(BLOCK_SIZE as u32).to_be_bytes());
        out[16..24].copy_from_slice(&self.block_count.to_be_bytes());
        out[24..32].copy_from_slice(&self.generation.to_be_bytes());
        out[32..36].copy_from_slice(&self.root.block.to_be_bytes());
        out[36..40].copy_from_slice(&self.root.crc.to_be_bytes());
        let crc = crc32c(&out[..BLOCK_SIZE - 4]);
        out[BLOCK_SIZE - 4..].copy_from_slice(&crc.to_be_bytes());
    }

    /// The superblock in `b`, if it is one (never panics).
    pub fn decode(b: &Block) -> Option<Superblock> {
        let crc = u32::from_be_bytes([
            b[BLOCK_SIZE - 4],
            b[BLOCK_SIZE - 3],
            b[BLOCK_SIZE - 2],
            b[BLOCK_SIZE - 1],
        ]);
        if b[0..8] != SUPER_MAGIC || crc32c(&b[..BLOCK_SIZE - 4]) != crc {
            return None;
        }
        let be32 = |at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let be64 = |at: usize| (u64::from(be32(at)) << 32) | u64::from(be32(at + 4));
        if u16::from_be_bytes([b[8], b[9]]) != VERSION || be32(12) != BLOCK_SIZE as u32 {
            return None;
        }
        let sb = Superblock {
            block_count: be64(16),
            generation: be64(24),
            root: Ptr {
                block: be32(32),
                crc: be32(36),
            },
        };
        (sb.generation != 0).then_some(sb)
    }
}
