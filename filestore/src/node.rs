//! Tree nodes and their on-disk form: one 4 KiB block each.
//!
//! ```text
//! offset  size  field (big-endian)
//!      0     4  magic "MRN1"
//!      4     1  level: 0 = leaf, n = internal n levels above the leaves
//!      5     1  reserved, 0
//!      6     2  entry count
//!      8     8  generation of the commit that wrote the node
//!     16     4  CRC-32C of bytes 20..4096
//!     20        entries, then zeros to the end of the block
//! leaf entry:      key (15) | value length u16 | value
//! internal entry:  key (15) | child block u32 | CRC-32C of the child's whole block u32
//! ```
//!
//! A parent holds the CRC of each child's whole block and the superblock that of the root, so
//! the tree is checked like a Merkle tree: a torn, stale or misdirected block never passes for
//! the one its parent meant. The key of an internal node's first entry is not used for
//! searching (the first child takes every key below the second's).

use alloc::vec::Vec;

use crate::crc::crc32c;
use crate::device::{Block, BLOCK_SIZE};
use crate::key::{Key, KEY_LEN};

pub(crate) const NODE_MAGIC: [u8; 4] = *b"MRN1";
pub(crate) const NODE_HEADER: usize = 20;
/// Bytes available for entries.
pub(crate) const NODE_CAPACITY: usize = BLOCK_SIZE - NODE_HEADER;
/// The largest value an item may have: a quarter of a node, so that splitting a full leaf in
/// the middle always gives two halves that fit.
pub const MAX_VALUE: usize = 1000;
pub(crate) const INTERNAL_ENTRY: usize = KEY_LEN + 8;
/// Deepest tree accepted (a 4 KiB-block tree of 2^32 blocks is at most 6 levels).
pub(crate) const MAX_LEVEL: u8 = 8;

/// Where a child lives and what it must hash to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ptr {
    pub block: u32,
    pub crc: u32,
}

/// A decoded node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Node {
    Leaf(Vec<(Key, Vec<u8>)>),
    Internal {
        level: u8,
        children: Vec<(Key, Ptr)>,
    },
}

/// Why a block is not a good node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NodeError {
    /// The CRC over the block differs from what its parent recorded.
    Checksum,
    /// The block's own layout is wrong (magic, counts, lengths, key order).
    Malformed,
}

impl Node {
    pub fn level(&self) -> u8 {
        match self {
            Node::Leaf(_) => 0,
            Node::Internal { level, .. } => *level,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Node::Leaf(e) => e.len(),
            Node::Internal { children, .. } => children.len(),
        }
    }

    /// Bytes the entries take when encoded.
    pub fn encoded_len(&self) -> usize {
        match self {
            Node::Leaf(e) => e.iter().map(|(_, v)| KEY_LEN + 2 + v.len()).sum(),
            Node::Internal { children, .. } => children.len() * INTERNAL_ENTRY,
        }
    }

    pub fn fits(&self) -> bool {
        self.encoded_len() <= NODE_CAPACITY
    }

    /// The block image, stamped with `generation`.
    pub fn encode(&self, generation: u64, out: &mut Block) {
        out.fill(0);
        out[0..4].copy_from_slice(&NODE_MAGIC);
        out[4] = self.level();
        out[6..8].copy_from_slice(&(self.len() as u16).to_be_bytes());
        out[8..16].copy_from_slice(&generation.to_be_bytes());
        let mut at = NODE_HEADER;
        match self {
            Node::Leaf(entries) => {
                for (k, v) in entries {
                    k.encode(&mut out[at..]);
                    out[at + KEY_LEN..at + KEY_LEN + 2]
                        .copy_from_slice(&(v.len() as u16).to_be_bytes());
                    out[at + KEY_LEN + 2..at + KEY_LEN + 2 + v.len()].copy_from_slice(v);
                    at += KEY_LEN + 2 + v.len();
                }
            }
            Node::Internal { children, .. } => {
                for (k, p) in children {
                    k.encode(&mut out[at..]);
                    out[at + KEY_LEN..at + KEY_LEN + 4].copy_from_slice(&p.block.to_be_bytes());
                    out[at + KEY_LEN + 4..at + INTERNAL_ENTRY]
                        .copy_from_slice(&p.crc.to_be_bytes());
                    at += INTERNAL_ENTRY;
                }
            }
        }
        let crc = crc32c(&out[NODE_HEADER..]);
        out[16..20].copy_from_slice(&crc.to_be_bytes());
    }

    /// Decode a block whose whole-block CRC must be `expected_crc`. Never panics.
    pub fn decode(block: &Block, expected_crc: u32) -> Result<Node, NodeError> {
        if crc32c(block) != expected_crc {
            return Err(NodeError::Checksum);
        }
        Self::decode_unchecked(block)
    }

    /// Decode a block by its own header CRC only (for a look at a block no parent vouches for).
    pub fn decode_unchecked(block: &Block) -> Result<Node, NodeError> {
        let bad = NodeError::Malformed;
        if block[0..4] != NODE_MAGIC || block[5] != 0 {
            return Err(bad);
        }
        let own = u32::from_be_bytes([block[16], block[17], block[18], block[19]]);
        if crc32c(&block[NODE_HEADER..]) != own {
            return Err(NodeError::Checksum);
        }
        let level = block[4];
        let count = usize::from(u16::from_be_bytes([block[6], block[7]]));
        if level > MAX_LEVEL {
            return Err(bad);
        }
        let mut at = NODE_HEADER;
        let node = if level == 0 {
            let mut entries = Vec::with_capacity(count);
            for _ in 0..count {
                let key = Key::decode(block.get(at..).ok_or(bad)?).ok_or(bad)?;
                let len_at = at + KEY_LEN;
                let len = block.get(len_at..len_at + 2).ok_or(bad)?;
                let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
                if len > MAX_VALUE {
                    return Err(bad);
                }
                let value = block.get(len_at + 2..len_at + 2 + len).ok_or(bad)?;
                entries.push((key, value.to_vec()));
                at = len_at + 2 + len;
            }
            Node::Leaf(entries)
        } else {
            let mut children = Vec::with_capacity(count);
            for _ in 0..count {
                let e = block.get(at..at + INTERNAL_ENTRY).ok_or(bad)?;
                let key = Key::decode(e).ok_or(bad)?;
                let block_no = u32::from_be_bytes([e[15], e[16], e[17], e[18]]);
                let crc = u32::from_be_bytes([e[19], e[20], e[21], e[22]]);
                children.push((
                    key,
                    Ptr {
                        block: block_no,
                        crc,
                    },
                ));
                at += INTERNAL_ENTRY;
            }
            if children.is_empty() {
                return Err(bad);
            }
            Node::Internal { level, children }
        };
        if block[at..].iter().any(|&b| b != 0) || !node.keys_ascending() {
            return Err(bad);
        }
        Ok(node)
    }

    fn keys_ascending(&self) -> bool {
        match self {
            Node::Leaf(e) => e.windows(2).all(|w| w[0].0 < w[1].0),
            Node::Internal { children, .. } => children.windows(2).all(|w| w[0].0 < w[1].0),
        }
    }

    /// The first key (the node's lower bound as its parent should record it).
    pub fn first_key(&self) -> Option<Key> {
        match self {
            Node::Leaf(e) => e.first().map(|(k, _)| *k),
            Node::Internal { children, .. } => children.first().map(|(k, _)| *k),
        }
    }

    /// Split an over-full node in two by encoded bytes; `self` keeps the first half.
    pub fn split(&mut self) -> Node {
        let half = self.encoded_len() / 2;
        match self {
            Node::Leaf(entries) => {
                let mut acc = 0;
                let mut at = 0;
                while at < entries.len() - 1 && acc < half {
                    acc += KEY_LEN + 2 + entries[at].1.len();
                    at += 1;
                }
                Node::Leaf(entries.split_off(at.max(1)))
            }
            Node::Internal { level, children } => {
                let at = (children.len() / 2).max(1);
                Node::Internal {
                    level: *level,
                    children: children.split_off(at),
                }
            }
        }
    }
}

/// Index of the child of an internal node that covers `key`.
pub(crate) fn child_index(children: &[(Key, Ptr)], key: &Key) -> usize {
    // The first entry's key is not a bound: the first child covers everything below the second.
    match children[1..].binary_search_by(|(k, _)| k.cmp(key)) {
        Ok(i) => i + 1,
        Err(i) => i,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Kind;
    use alloc::vec;

    #[test]
    fn round_trip_and_damage() {
        let leaf = Node::Leaf(vec![
            (Key::new(1, 2, Kind::Inode, 0), vec![1, 2, 3]),
            (Key::new(1, 2, Kind::Page, 7), vec![9; 8]),
        ]);
        let mut b = [0u8; BLOCK_SIZE];
        leaf.encode(5, &mut b);
        let crc = crc32c(&b);
        assert_eq!(Node::decode(&b, crc), Ok(leaf.clone()));
        b[100] ^= 1;
        assert_eq!(Node::decode(&b, crc), Err(NodeError::Checksum));
        assert_eq!(Node::decode_unchecked(&b), Err(NodeError::Checksum));
    }

    #[test]
    fn child_index_takes_the_first_child_below_the_second_key() {
        let k = |i| Key::new(0, i, Kind::Inode, 0);
        let p = Ptr { block: 0, crc: 0 };
        let c = [(k(5), p), (k(10), p), (k(20), p)];
        assert_eq!(child_index(&c[..], &k(1)), 0);
        assert_eq!(child_index(&c[..], &k(10)), 1);
        assert_eq!(child_index(&c[..], &k(15)), 1);
        assert_eq!(child_index(&c[..], &k(99)), 2);
    }
}
