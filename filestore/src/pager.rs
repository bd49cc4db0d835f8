//! The copy-on-write B+tree over the device: a cache of decoded nodes, path copying, splits and
//! merges, and the commit that writes the changed nodes bottom-up.
//!
//! A node the committed tree reaches is never modified: the first change in a transaction
//! copies it to a fresh block ([`Pager::cow`]) and its parent, copied too, points there. So
//! every change lives in fresh blocks until the superblock names the new root. Changed
//! ("dirty") nodes stay in the cache until the commit; clean ones are evicted beyond the
//! cache's capacity (least recently used first).

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use crate::crc::crc32c;
use crate::device::{BlockDevice, BLOCK_SIZE};
use crate::error::Error;
use crate::key::Key;
use crate::node::{child_index, Node, NodeError, Ptr, NODE_CAPACITY};
use crate::space::Space;

struct Cached {
    node: Node,
    last_use: u64,
}

/// Counters of device requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IoCounters {
    pub reads: u64,
    pub writes: u64,
    pub flushes: u64,
}

pub(crate) struct Pager<D> {
    pub dev: D,
    cache: BTreeMap<u32, Cached>,
    dirty: BTreeSet<u32>,
    capacity: usize,
    tick: u64,
    pub space: Space,
    pub io: IoCounters,
}

impl From<NodeError> for Error {
    fn from(_: NodeError) -> Error {
        Error::Corrupt
    }
}

impl<D: BlockDevice> Pager<D> {
    pub fn new(dev: D, space: Space, capacity: usize) -> Self {
        Pager {
            dev,
            cache: BTreeMap::new(),
            dirty: BTreeSet::new(),
            capacity: capacity.max(8),
            tick: 0,
            space,
            io: IoCounters::default(),
        }
    }

    pub fn read_block(&mut self, block: u32, buf: &mut [u8; BLOCK_SIZE]) -> Result<(), Error> {
        self.io.reads += 1;
        self.dev.read(u64::from(block), buf)?;
        Ok(())
    }

    pub fn write_block(&mut self, block: u32, buf: &[u8; BLOCK_SIZE]) -> Result<(), Error> {
        self.io.writes += 1;
        self.dev.write(u64::from(block), buf)?;
        Ok(())
    }

    pub fn flush(&mut self) -> Result<(), Error> {
        self.io.flushes += 1;
        self.dev.flush()?;
        Ok(())
    }

    /// Whether the transaction has changed any node.
    pub fn has_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// Bring the node at `ptr` into the cache (checking its CRC against `ptr`).
    pub fn load(&mut self, ptr: Ptr) -> Result<(), Error> {
        self.tick += 1;
        if let Some(c) = self.cache.get_mut(&ptr.block) {
            c.last_use = self.tick;
            return Ok(());
        }
        if ptr.block >= self.space.total() || ptr.block < crate::superblock::SUPERBLOCKS {
            return Err(Error::Corrupt);
        }
        let mut buf = [0u8; BLOCK_SIZE];
        self.read_block(ptr.block, &mut buf)?;
        let node = Node::decode(&buf, ptr.crc)?;
        self.cache.insert(
            ptr.block,
            Cached {
                node,
                last_use: self.tick,
            },
        );
        self.evict();
        Ok(())
    }

    fn evict(&mut self) {
        while self.cache.len() > self.capacity + self.dirty.len() {
            let victim = self
                .cache
                .iter()
                .filter(|(b, _)| !self.dirty.contains(b))
                .min_by_key(|(_, c)| c.last_use)
                .map(|(b, _)| *b);
            match victim {
                Some(b) => {
                    self.cache.remove(&b);
                }
                None => break,
            }
        }
    }

    /// The cached node at `ptr` (loaded first).
    pub fn node(&mut self, ptr: Ptr) -> Result<&Node, Error> {
        self.load(ptr)?;
        Ok(&self.cache.get(&ptr.block).ok_or(Error::Corrupt)?.node)
    }

    fn take(&mut self, block: u32) -> Node {
        self.cache
            .remove(&block)
            .map(|c| c.node)
            .unwrap_or(Node::Leaf(Vec::new()))
    }

    fn put_dirty(&mut self, block: u32, node: Node) {
        self.dirty.insert(block);
        self.cache.insert(
            block,
            Cached {
                node,
                last_use: self.tick,
            },
        );
    }

    /// A fresh block for a node or a data page.
    pub fn alloc(&mut self) -> Result<u32, Error> {
        self.space.alloc().ok_or(Error::NoSpace)
    }

    /// Make the node at `ptr` writable in this transaction: its block if it is already a
    /// fresh copy, else a copy in a fresh block (the old block is freed at the commit).
    fn cow(&mut self, ptr: Ptr) -> Result<u32, Error> {
        if self.dirty.contains(&ptr.block) {
            return Ok(ptr.block);
        }
        self.load(ptr)?;
        let node = self.take(ptr.block);
        let block = self.alloc()?;
        self.space.release(ptr.block);
        self.put_dirty(block, node);
        Ok(block)
    }

    /// Free a node's block (it left the tree).
    fn drop_node(&mut self, block: u32) {
        self.cache.remove(&block);
        self.dirty.remove(&block);
        self.space.release(block);
    }

    /// A new, empty leaf (a fresh tree).
    pub fn new_root(&mut self) -> Result<Ptr, Error> {
        let block = self.alloc()?;
        self.put_dirty(block, Node::Leaf(Vec::new()));
        Ok(Ptr { block, crc: 0 })
    }

    /// The value stored at `key`.
    pub fn get(&mut self, root: Ptr, key: &Key) -> Result<Option<Vec<u8>>, Error> {
        let mut ptr = root;
        loop {
            match self.node(ptr)? {
                Node::Leaf(e) => {
                    return Ok(e
                        .binary_search_by(|(k, _)| k.cmp(key))
                        .ok()
                        .map(|i| e[i].1.clone()))
                }
                Node::Internal { children, .. } => ptr = children[child_index(children, key)].1,
            }
        }
    }

    /// Visit the items with `from <= key < to` in order until `f` returns false. Returns false
    /// if `f` stopped the walk.
    pub fn scan(
        &mut self,
        ptr: Ptr,
        from: &Key,
        to: &Key,
        f: &mut dyn FnMut(&Key, &[u8]) -> bool,
    ) -> Result<bool, Error> {
        let children = match self.node(ptr)? {
            Node::Leaf(e) => {
                let start = e.partition_point(|(k, _)| k < from);
                for (k, v) in &e[start..] {
                    if k >= to || !f(k, v) {
                        return Ok(k >= to);
                    }
                }
                return Ok(true);
            }
            Node::Internal { children, .. } => children.clone(),
        };
        let first = child_index(&children, from);
        for (i, (k, child)) in children.iter().enumerate().skip(first) {
            if i > first && k >= to {
                return Ok(false);
            }
            if !self.scan(*child, from, to, f)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Items with `from <= key < to`, at most `limit` of them.
    pub fn collect(
        &mut self,
        root: Ptr,
        from: &Key,
        to: &Key,
        limit: usize,
    ) -> Result<Vec<(Key, Vec<u8>)>, Error> {
        let mut out = Vec::new();
        self.scan(root, from, to, &mut |k, v| {
            out.push((*k, v.to_vec()));
            out.len() < limit
        })?;
        Ok(out)
    }

    /// Insert or replace the item at `key`; returns the new root.
    pub fn insert(&mut self, root: Ptr, key: Key, value: &[u8]) -> Result<Ptr, Error> {
        let (block, split) = self.insert_rec(root, key, value)?;
        let mut root = Ptr { block, crc: 0 };
        if let Some((right_key, right)) = split {
            let level = self.node(root)?.level() + 1;
            let new_root = self.alloc()?;
            self.put_dirty(
                new_root,
                Node::Internal {
                    level,
                    children: alloc::vec![
                        (Key::MIN, root),
                        (
                            right_key,
                            Ptr {
                                block: right,
                                crc: 0
                            }
                        )
                    ],
                },
            );
            root = Ptr {
                block: new_root,
                crc: 0,
            };
        }
        Ok(root)
    }

    fn insert_rec(
        &mut self,
        ptr: Ptr,
        key: Key,
        value: &[u8],
    ) -> Result<(u32, Option<(Key, u32)>), Error> {
        let block = self.cow(ptr)?;
        let mut node = self.take(block);
        let result = self.insert_into(&mut node, key, value);
        let split = match result {
            Ok(()) if !node.fits() => {
                let right = node.split();
                match self.alloc() {
                    Ok(rb) => {
                        let rk = right.first_key().unwrap_or(key);
                        self.put_dirty(rb, right);
                        Ok(Some((rk, rb)))
                    }
                    Err(e) => Err(e),
                }
            }
            Ok(()) => Ok(None),
            Err(e) => Err(e),
        };
        self.put_dirty(block, node);
        Ok((block, split?))
    }

    fn insert_into(&mut self, node: &mut Node, key: Key, value: &[u8]) -> Result<(), Error> {
        match node {
            Node::Leaf(e) => match e.binary_search_by(|(k, _)| k.cmp(&key)) {
                Ok(i) => e[i].1 = value.to_vec(),
                Err(i) => e.insert(i, (key, value.to_vec())),
            },
            Node::Internal { children, .. } => {
                let i = child_index(children, &key);
                let (nb, split) = self.insert_rec(children[i].1, key, value)?;
                children[i].1 = Ptr { block: nb, crc: 0 };
                if let Some((k, rb)) = split {
                    children.insert(i + 1, (k, Ptr { block: rb, crc: 0 }));
                }
            }
        }
        Ok(())
    }

    /// Remove the item at `key` if there is one; returns the new root and whether it was there.
    pub fn remove(&mut self, root: Ptr, key: &Key) -> Result<(Ptr, bool), Error> {
        if self.get(root, key)?.is_none() {
            return Ok((root, false));
        }
        let block = self.remove_rec(root, key)?;
        let mut root = Ptr { block, crc: 0 };
        // A root with one child gives way to it; an emptied internal root becomes a leaf.
        loop {
            let next = match self.node(root)? {
                Node::Internal { children, .. } if children.len() == 1 => children[0].1,
                Node::Internal { children, .. } if children.is_empty() => {
                    let block = root.block;
                    self.put_dirty(block, Node::Leaf(Vec::new()));
                    break;
                }
                _ => break,
            };
            self.drop_node(root.block);
            root = next;
        }
        Ok((root, true))
    }

    fn remove_rec(&mut self, ptr: Ptr, key: &Key) -> Result<u32, Error> {
        let block = self.cow(ptr)?;
        let mut node = self.take(block);
        let result = self.remove_from(&mut node, key);
        self.put_dirty(block, node);
        result.map(|()| block)
    }

    fn remove_from(&mut self, node: &mut Node, key: &Key) -> Result<(), Error> {
        match node {
            Node::Leaf(e) => {
                if let Ok(i) = e.binary_search_by(|(k, _)| k.cmp(key)) {
                    e.remove(i);
                }
                Ok(())
            }
            Node::Internal { children, .. } => {
                let i = child_index(children, key);
                let nb = self.remove_rec(children[i].1, key)?;
                children[i].1 = Ptr { block: nb, crc: 0 };
                let (len, bytes) = {
                    let child = self.node(children[i].1)?;
                    (child.len(), child.encoded_len())
                };
                if len == 0 {
                    self.drop_node(nb);
                    children.remove(i);
                } else if bytes < NODE_CAPACITY / 4 && children.len() > 1 {
                    let (left, right) = if i + 1 < children.len() {
                        (i, i + 1)
                    } else {
                        (i - 1, i)
                    };
                    self.merge(children, left, right)?;
                }
                Ok(())
            }
        }
    }

    /// Merge child `right` into child `left` if both fit in one node.
    fn merge(
        &mut self,
        children: &mut Vec<(Key, Ptr)>,
        left: usize,
        right: usize,
    ) -> Result<(), Error> {
        let total = self.node(children[left].1)?.encoded_len()
            + self.node(children[right].1)?.encoded_len();
        if total > NODE_CAPACITY * 3 / 4 {
            return Ok(());
        }
        let lb = self.cow(children[left].1)?;
        children[left].1 = Ptr { block: lb, crc: 0 };
        self.load(children[right].1)?;
        let right_node = self.take(children[right].1.block);
        let right_block = children[right].1.block;
        let mut left_node = self.take(lb);
        match (&mut left_node, right_node) {
            (Node::Leaf(a), Node::Leaf(b)) => a.extend(b),
            (
                Node::Internal { children: a, .. },
                Node::Internal {
                    children: mut b, ..
                },
            ) => {
                // The right node's first key was its lower bound in our list: keep it.
                b[0].0 = children[right].0;
                a.extend(b)
            }
            _ => {
                self.put_dirty(lb, left_node);
                return Err(Error::Corrupt);
            }
        }
        self.put_dirty(lb, left_node);
        self.drop_node(right_block);
        children.remove(right);
        Ok(())
    }

    /// Write every dirty node reachable from `ptr` (children first) with `generation`; returns
    /// the pointer with its CRC.
    pub fn write_tree(&mut self, ptr: Ptr, generation: u64) -> Result<Ptr, Error> {
        if !self.dirty.contains(&ptr.block) {
            return Ok(ptr);
        }
        let mut node = self.take(ptr.block);
        let mut result = Ok(());
        if let Node::Internal { children, .. } = &mut node {
            for child in children.iter_mut() {
                match self.write_tree(child.1, generation) {
                    Ok(p) => child.1 = p,
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
        }
        let mut buf = [0u8; BLOCK_SIZE];
        node.encode(generation, &mut buf);
        self.put_dirty(ptr.block, node);
        result?;
        self.write_block(ptr.block, &buf)?;
        self.dirty.remove(&ptr.block);
        Ok(Ptr {
            block: ptr.block,
            crc: crc32c(&buf),
        })
    }

    /// Drop the transaction's nodes and blocks (after an error).
    pub fn abort(&mut self) {
        let fresh: Vec<u32> = self.space.fresh_blocks().collect();
        for b in fresh {
            self.cache.remove(&b);
        }
        for b in core::mem::take(&mut self.dirty) {
            self.cache.remove(&b);
        }
        self.space.aborted();
    }

    /// Bytes of RAM the cache holds now (decoded nodes; an estimate from their sizes).
    pub fn cache_bytes(&self) -> usize {
        self.cache
            .values()
            .map(|c| match &c.node {
                Node::Leaf(e) => e.iter().map(|(_, v)| 24 + 15 + v.len() + 16).sum::<usize>() + 48,
                Node::Internal { children, .. } => children.len() * 32 + 48,
            })
            .sum()
    }
}
