//! The structural walk of the whole tree: every node read and checked against its parent
//! (CRC, level, key bounds), every block marked in the free-space bitmap (a block reached twice
//! is an error), every item handed to a visitor in key order. A node that fails is skipped
//! with its subtree and reported; the walk goes on with the rest.

use alloc::vec::Vec;

use crate::device::BlockDevice;
use crate::error::Error;
use crate::key::{Key, Kind};
use crate::node::{Node, Ptr};
use crate::pager::Pager;
use crate::records::PagePtr;

/// A subtree the walk had to skip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BadNode {
    pub block: u32,
    /// The keys it covered: `lower <= key < upper` (`upper` None: to the end).
    pub lower: Key,
    pub upper: Option<Key>,
    pub why: BadWhy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BadWhy {
    /// Unreadable, or its CRC is not what the parent recorded.
    Damaged,
    /// Read fine but its level or keys do not fit where it hangs.
    Misplaced,
    /// Its block is already used elsewhere in the tree.
    Shared,
    /// Its block number is outside the device or a superblock.
    OutOfRange,
}

/// What the walk found.
#[derive(Debug, Default)]
pub(crate) struct WalkResult {
    pub nodes: u64,
    pub items: u64,
    pub bad: Vec<BadNode>,
    /// Page pointers whose block is out of range or used twice: (key).
    pub bad_pages: Vec<Key>,
    /// The blocks of the good nodes.
    pub node_blocks: Vec<u32>,
}

/// Walk the tree from `root`, marking blocks in `pager.space` (which must start with only the
/// superblocks used). `visit` sees every item of every good leaf in key order; the
/// blocks of data pages are marked too (a page block reached twice is reported in `bad_pages`).
pub(crate) fn walk<D: BlockDevice>(
    pager: &mut Pager<D>,
    root: Ptr,
    visit: &mut dyn FnMut(&Key, &[u8]),
) -> Result<WalkResult, Error> {
    let mut result = WalkResult::default();
    let mut w = Walk {
        pager,
        skip: None,
        visit,
        out: &mut result,
    };
    w.node(root, None, Key::MIN, None)?;
    Ok(result)
}

/// Walk again without marking, skipping exactly the subtrees and pages the first walk found
/// bad (`first`): the items a rebuilt tree keeps.
pub(crate) fn rewalk<D: BlockDevice>(
    pager: &mut Pager<D>,
    root: Ptr,
    first: &WalkResult,
    visit: &mut dyn FnMut(&Key, &[u8]),
) -> Result<(), Error> {
    let mut scratch = WalkResult::default();
    let mut w = Walk {
        pager,
        skip: Some(first),
        visit,
        out: &mut scratch,
    };
    w.node(root, None, Key::MIN, None)
}

struct Walk<'a, D> {
    pager: &'a mut Pager<D>,
    /// Rewalk: the first walk's findings (no marking then).
    skip: Option<&'a WalkResult>,
    visit: &'a mut dyn FnMut(&Key, &[u8]),
    out: &'a mut WalkResult,
}

impl<D: BlockDevice> Walk<'_, D> {
    fn node(
        &mut self,
        ptr: Ptr,
        level: Option<u8>,
        lower: Key,
        upper: Option<Key>,
    ) -> Result<(), Error> {
        let bad = |why| BadNode {
            block: ptr.block,
            lower,
            upper,
            why,
        };
        if let Some(first) = self.skip {
            if first
                .bad
                .iter()
                .any(|b| b.block == ptr.block && b.lower == lower)
            {
                return Ok(());
            }
        }
        let pager = &mut *self.pager;
        let out = &mut *self.out;
        if ptr.block < crate::superblock::SUPERBLOCKS || ptr.block >= pager.space.total() {
            out.bad.push(bad(BadWhy::OutOfRange));
            return Ok(());
        }
        if self.skip.is_none() && pager.space.is_used(ptr.block) {
            out.bad.push(bad(BadWhy::Shared));
            return Ok(());
        }
        let node = match pager.node(ptr) {
            Ok(n) => n.clone(),
            Err(Error::Corrupt) | Err(Error::Io(_)) => {
                out.bad.push(bad(BadWhy::Damaged));
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let in_bounds = |k: &Key| *k >= lower && upper.is_none_or(|u| *k < u);
        let level_ok = level.is_none_or(|l| l == node.level());
        let keys_ok = match &node {
            Node::Leaf(e) => e.iter().all(|(k, _)| in_bounds(k)),
            // The first child's key is not a bound; the others must lie inside ours.
            Node::Internal { children, .. } => children[1..].iter().all(|(k, _)| in_bounds(k)),
        };
        if !level_ok || !keys_ok {
            out.bad.push(bad(BadWhy::Misplaced));
            return Ok(());
        }
        let marking = self.skip.is_none();
        if marking {
            pager.space.set(ptr.block);
            out.nodes += 1;
            out.node_blocks.push(ptr.block);
        }
        match node {
            Node::Leaf(entries) => {
                for (k, v) in &entries {
                    if k.kind == Kind::Page {
                        if let Some(p) = PagePtr::decode(v) {
                            let bad_page = match self.skip {
                                Some(first) => first.bad_pages.contains(k),
                                None => !self.pager.space.set(p.block),
                            };
                            if bad_page {
                                if marking {
                                    self.out.bad_pages.push(*k);
                                }
                                continue;
                            }
                        }
                    }
                    if marking {
                        self.out.items += 1;
                    }
                    (self.visit)(k, v);
                }
            }
            Node::Internal { level, children } => {
                for (i, (k, child)) in children.iter().enumerate() {
                    let child_lower = if i == 0 { lower } else { *k };
                    let child_upper = children.get(i + 1).map(|(k, _)| *k).or(upper);
                    self.node(*child, Some(level - 1), child_lower, child_upper)?;
                }
            }
        }
        Ok(())
    }
}
