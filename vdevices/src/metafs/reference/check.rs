//! The reference store's invariants ([`ReferenceStore::check`]) and a dump of a volume's tree
//! ([`ReferenceStore::tree`]) for comparisons.

use super::{entry_cost, Body, ReferenceStore, INODE_COST, PAGE};
use crate::metafs::store::{FileType, Volume};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// One node of a dumped tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpNode {
    /// Its kind.
    pub kind: FileType,
    /// Permission bits.
    pub perm: u16,
    /// Owner and group.
    pub owner: (u32, u32),
    /// Names it has.
    pub nlink: u32,
    /// File bytes (regular files), or the target (symlinks).
    pub content: Vec<u8>,
    /// Its inode number (so hard links show as one).
    pub ino: u32,
}

/// A volume's tree by path (`b"/"` is the root; children are `b"/a/b"`).
pub type Tree = BTreeMap<Vec<u8>, DumpNode>;

impl ReferenceStore {
    /// Checks every invariant; returns the first broken one.
    pub fn check(&self) -> Result<(), String> {
        let mut refs: BTreeMap<u32, u32> = BTreeMap::new();
        let mut subdirs: BTreeMap<u32, u32> = BTreeMap::new();
        let mut used: BTreeMap<Volume, u64> = BTreeMap::new();
        for (&n, node) in &self.nodes {
            let mut cost = INODE_COST;
            match &node.body {
                Body::File { size, pages } => {
                    cost += pages.len() as u64 * PAGE;
                    if let Some((&last, _)) = pages.last_key_value() {
                        if last >= size.div_ceil(PAGE) {
                            return Err(format!("inode {n}: page {last} past its size {size}"));
                        }
                    }
                }
                Body::Dir {
                    parent,
                    entries,
                    order,
                    next_cookie,
                } => {
                    if entries.len() != order.len() {
                        return Err(format!("inode {n}: entries and cookies differ"));
                    }
                    for (name, entry) in entries {
                        cost += entry_cost(name);
                        if order.get(&entry.cookie) != Some(name) || entry.cookie >= *next_cookie {
                            return Err(format!("inode {n}: bad cookie for {name:?}"));
                        }
                        let Some(child) = self.nodes.get(&entry.ino) else {
                            return Err(format!("inode {n}: {name:?} names a missing inode"));
                        };
                        if child.volume != node.volume {
                            return Err(format!("inode {n}: {name:?} crosses volumes"));
                        }
                        *refs.entry(entry.ino).or_default() += 1;
                        if let Body::Dir { parent: p, .. } = child.body {
                            *subdirs.entry(n).or_default() += 1;
                            if p != n {
                                return Err(format!(
                                    "directory {} has parent {p}, not {n}",
                                    entry.ino
                                ));
                            }
                        }
                    }
                    if !self.nodes.contains_key(parent) {
                        return Err(format!("inode {n}: missing parent {parent}"));
                    }
                }
                Body::Symlink(target) => {
                    if target.is_empty() {
                        return Err(format!("inode {n}: empty symlink"));
                    }
                }
                Body::Special => {}
            }
            *used.entry(node.volume).or_default() += cost;
        }
        for (&n, node) in &self.nodes {
            let names = refs.get(&n).copied().unwrap_or(0);
            let is_root = self.volumes.get(&node.volume).is_some_and(|v| v.root == n);
            let expected = match node.body {
                Body::Dir { .. } if is_root || names > 0 => {
                    if names > 1 || (is_root && names > 0) {
                        return Err(format!("directory {n} has {names} names"));
                    }
                    2 + subdirs.get(&n).copied().unwrap_or(0)
                }
                Body::Dir { .. } => 0,
                _ => names,
            };
            if node.nlink != expected {
                return Err(format!(
                    "inode {n}: nlink {} but {expected} expected",
                    node.nlink
                ));
            }
            if matches!(node.body, Body::Dir { .. }) && expected > 0 && !self.reaches_root(n) {
                return Err(format!("directory {n} does not reach its root"));
            }
        }
        let mut total = 0;
        for (volume, info) in &self.volumes {
            let counted = used.get(volume).copied().unwrap_or(0);
            if counted != info.used {
                return Err(format!(
                    "{volume:?}: {} bytes used, {counted} counted",
                    info.used
                ));
            }
            total += counted;
        }
        if total != self.used || self.used > self.capacity {
            return Err(format!(
                "store: {} used, {total} counted, capacity {}",
                self.used, self.capacity
            ));
        }
        Ok(())
    }

    fn reaches_root(&self, n: u32) -> bool {
        let mut at = n;
        for _ in 0..=self.nodes.len() {
            let node = &self.nodes[&at];
            if self.volumes.get(&node.volume).is_some_and(|v| v.root == at) {
                return true;
            }
            match node.body {
                Body::Dir { parent, .. } if parent != at => at = parent,
                _ => return false,
            }
        }
        false
    }

    /// The tree of `volume` as reached from its root (inodes without names left out).
    pub fn tree(&self, volume: Volume) -> Tree {
        let mut tree = Tree::new();
        if let Some(info) = self.volumes.get(&volume) {
            self.dump(info.root, b"/".to_vec(), &mut tree);
        }
        tree
    }

    fn dump(&self, n: u32, path: Vec<u8>, tree: &mut Tree) {
        let node = &self.nodes[&n];
        let content = match &node.body {
            Body::File { size, pages } => (0..*size)
                .map(|at| {
                    pages
                        .get(&(at / PAGE))
                        .map_or(0, |p| p[(at % PAGE) as usize])
                })
                .collect(),
            Body::Symlink(target) => target.clone(),
            _ => Vec::new(),
        };
        tree.insert(
            path.clone(),
            DumpNode {
                kind: node.kind,
                perm: node.perm,
                owner: (node.uid, node.gid),
                nlink: node.nlink,
                content,
                ino: n,
            },
        );
        if let Body::Dir { entries, .. } = &node.body {
            for (name, entry) in entries {
                let mut child = path.clone();
                if child.len() > 1 {
                    child.push(b'/');
                }
                child.extend_from_slice(name);
                self.dump(entry.ino, child, tree);
            }
        }
    }
}
