//! Incremental updates: walking to the chunk that holds a prefix (creating chunks on the way
//! down for an insertion, freeing emptied ones on the way up after a removal), re-encoding that
//! one chunk, and expanding prefixes up to /16 into the direct table.

use super::arena::{self, wr_u32};
use super::chunk::{self, CHILD};
use super::{position, top_mask, top_range, Fib, FibError, CHUNK};
use crate::addr::Address;

/// Where the pointer to a chunk is kept: a direct-table entry or a parent chunk's child table.
#[derive(Clone, Copy)]
pub(super) enum Parent {
    Top(usize),
    /// Child `k` (at `slot`) of the chunk at `ptr`.
    Child {
        ptr: u32,
        k: usize,
        slot: u8,
    },
}

/// Chunk levels of the deepest address (IPv6) plus the level below the direct table.
const MAX_DEPTH: usize = 16;
type Path = [(Parent, u32); MAX_DEPTH];

/// A change to one chunk.
#[derive(Clone, Copy)]
pub(super) enum Edit {
    Insert { key: u16, code: u16 },
    Remove { key: u16 },
    AddChild { slot: u8, ptr: u32 },
    RemoveChild { slot: u8 },
}

pub(super) struct Rebuilt {
    /// The chunk's pointer after the edit (unchanged if it was rewritten in place).
    ptr: u32,
    /// Previous next-hop code of the edited prefix, if any.
    old: Option<u16>,
    /// The chunk became empty and was freed; its parent must forget it.
    emptied: bool,
    default: u16,
}

impl<A: Address> Fib<A> {
    pub(super) fn long_insert(
        &mut self,
        addr: A,
        len: u8,
        code: u16,
    ) -> Result<Option<u16>, FibError> {
        let (depth, key) = position(addr, len);
        let t = addr.top16();
        let mut created = false;
        if self.top[t] & CHUNK == 0 {
            let ptr = self.new_chunk(self.top[t] as u16)?;
            self.top[t] = CHUNK | ptr;
            created = true;
        }
        let mut parent = Parent::Top(t);
        let mut ptr = self.top[t] & !CHUNK;
        for d in 0..depth {
            let slot = addr.chunk_byte(d);
            let mut v = chunk::leaf(&self.arena.bytes, ptr, slot);
            if v & CHILD == 0 {
                // `v` is the value the new child inherits.
                let child = match self.new_chunk(v) {
                    Ok(c) => c,
                    Err(e) => return Err(self.abandon(addr, depth, created, e)),
                };
                match self.rebuild(parent, ptr, Edit::AddChild { slot, ptr: child }) {
                    Ok(r) => ptr = r.ptr,
                    Err(e) => {
                        let len = chunk::content_len(&self.arena.bytes, child);
                        self.arena.free((child & !7) as usize, len);
                        return Err(self.abandon(addr, depth, created, e));
                    }
                }
                created = true;
                v = chunk::leaf(&self.arena.bytes, ptr, slot);
            }
            parent = Parent::Child {
                ptr,
                k: usize::from(v & 0xff),
                slot,
            };
            ptr = chunk::child(&self.arena.bytes, ptr, v);
        }
        match self.rebuild(parent, ptr, Edit::Insert { key, code }) {
            Ok(r) => Ok(r.old),
            Err(e) => Err(self.abandon(addr, depth, created, e)),
        }
    }

    /// Undoes the empty chunks a failed insertion created on its way down: the deepest chunk
    /// on the way is the only one that can be empty, and detaching it frees the ones above it
    /// that become empty in turn.
    fn abandon(&mut self, addr: A, depth: usize, created: bool, e: FibError) -> FibError {
        if created {
            let (path, n) = self.path(addr, depth);
            if n > 0 {
                let (parent, ptr) = path[n - 1];
                self.work.decode(&self.arena.bytes, ptr);
                if self.work.is_empty() {
                    let default = self.work.default;
                    self.detach(&path, n - 1, parent, default);
                }
            }
        }
        e
    }

    /// The chunks on `addr`'s way down to `depth` (fewer if the way stops early): for each,
    /// where its pointer is kept and the chunk's own pointer.
    fn path(&self, addr: A, depth: usize) -> (Path, usize) {
        let mut path = [(Parent::Top(0), 0u32); MAX_DEPTH];
        let t = addr.top16();
        if self.top[t] & CHUNK == 0 {
            return (path, 0);
        }
        path[0] = (Parent::Top(t), self.top[t] & !CHUNK);
        let mut n = 1;
        for d in 0..depth {
            let ptr = path[d].1;
            let slot = addr.chunk_byte(d);
            let v = chunk::leaf(&self.arena.bytes, ptr, slot);
            if v & CHILD == 0 {
                break;
            }
            let child = chunk::child(&self.arena.bytes, ptr, v);
            path[n] = (
                Parent::Child {
                    ptr,
                    k: usize::from(v & 0xff),
                    slot,
                },
                child,
            );
            n += 1;
        }
        (path, n)
    }

    pub(super) fn long_remove(&mut self, addr: A, len: u8) -> Result<Option<u16>, FibError> {
        let (depth, key) = position(addr, len);
        let (path, n) = self.path(addr, depth);
        if n != depth + 1 {
            return Ok(None);
        }
        let (parent, ptr) = path[depth];
        let r = self.rebuild(parent, ptr, Edit::Remove { key })?;
        if r.emptied {
            self.detach(&path, depth, parent, r.default);
        }
        Ok(r.old)
    }

    /// The chunk at `path[d]` is empty: drop it from its parent (which may empty in turn),
    /// then free it.
    fn detach(&mut self, path: &Path, d: usize, parent: Parent, default: u16) {
        let ptr = path[d].1;
        self.detach_from_parent(path, d, parent, default);
        let len = chunk::content_len(&self.arena.bytes, ptr);
        self.arena.free((ptr & !7) as usize, len);
    }

    fn detach_from_parent(&mut self, path: &Path, d: usize, parent: Parent, default: u16) {
        match parent {
            Parent::Top(t) => self.top[t] = u32::from(default),
            Parent::Child { ptr, slot, .. } => {
                let (grand, _) = path[d - 1];
                // Removing a child never grows a chunk, so this cannot run out of room.
                if let Ok(r) = self.rebuild(grand, ptr, Edit::RemoveChild { slot }) {
                    if r.emptied {
                        self.detach(path, d - 1, grand, r.default);
                    }
                }
            }
        }
    }

    /// An empty chunk inheriting `default`.
    fn new_chunk(&mut self, default: u16) -> Result<u32, FibError> {
        self.work.reset(default);
        let enc = self.work.layout();
        let off = self.arena.alloc(enc.len).ok_or(FibError::TableFull)?;
        Ok(self.work.write(&mut self.arena.bytes, off, &enc))
    }

    /// Applies `edit` to the chunk at `ptr` and re-encodes it (in place when it still fits its
    /// block), then repoints its parent and pushes changed defaults to its children.
    fn rebuild(&mut self, parent: Parent, ptr: u32, edit: Edit) -> Result<Rebuilt, FibError> {
        let w = &mut self.work;
        w.decode(&self.arena.bytes, ptr);
        // A full-stride prefix away from any child only changes its own slot: edit the runs.
        let shortcut = match edit {
            Edit::Insert { key, code } if key >> 8 == 8 => w.set_full_stride(key, Some(code)),
            Edit::Remove { key } if key >> 8 == 8 => w.set_full_stride(key, None),
            _ => None,
        };
        let repaint = shortcut.is_none();
        if repaint {
            w.recover_full_stride_hops(&self.arena.bytes);
        }
        let old = match (shortcut, edit) {
            (Some(old), _) => old,
            (None, Edit::Insert { key, code }) => w.insert_prefix(key, code),
            (None, Edit::Remove { key }) => w.remove_prefix(key),
            (None, Edit::AddChild { slot, ptr }) => {
                w.add_child(slot, ptr);
                None
            }
            (None, Edit::RemoveChild { slot }) => {
                w.remove_child(slot);
                None
            }
        };
        if matches!(edit, Edit::Remove { .. }) && old.is_none() {
            return Ok(Rebuilt {
                ptr,
                old: None,
                emptied: false,
                default: w.default,
            });
        }
        let old_off = (ptr & !7) as usize;
        let old_len = chunk::content_len(&self.arena.bytes, ptr);
        if w.is_empty() {
            // Freed by `detach`, once the parent no longer reads it (a full-stride prefix of
            // the parent over this slot takes its hop from this chunk's default).
            return Ok(Rebuilt {
                ptr,
                old,
                emptied: true,
                default: w.default,
            });
        }
        let enc = if repaint { w.layout() } else { w.encoding() };
        let same_block = arena::block_bytes(enc.len) == arena::block_bytes(old_len);
        let off = if same_block {
            old_off
        } else if let Some(off) = self.arena.alloc(enc.len) {
            self.arena.free(old_off, old_len);
            off
        } else if enc.len <= old_len {
            old_off
        } else {
            return Err(FibError::TableFull);
        };
        // Freeing first is fine: the old block is not reused before this write.
        let new = w.write(&mut self.arena.bytes, off, &enc);
        match parent {
            Parent::Top(t) => self.top[t] = CHUNK | new,
            Parent::Child { ptr: p, k, .. } => {
                let at = chunk::child_ref_offset(&self.arena.bytes, p, k);
                wr_u32(&mut self.arena.bytes, at, new);
            }
        }
        // The shortcut touches no child; after a repaint, children may inherit a new value.
        for k in (0..w.children).filter(|_| repaint) {
            let want = w.inherited(k);
            chunk::cascade_default(&mut self.arena.bytes, w.child_ptr[k], want);
        }
        Ok(Rebuilt {
            ptr: new,
            old,
            emptied: false,
            default: w.default,
        })
    }

    /// Points direct entry `t` at hop `code` (a chunk there inherits it instead).
    fn set_top(&mut self, t: usize, code: u16) {
        let e = self.top[t];
        if e & CHUNK != 0 {
            chunk::cascade_default(&mut self.arena.bytes, e & !CHUNK, code);
        } else {
            self.top[t] = u32::from(code);
        }
    }

    pub(super) fn short_insert(
        &mut self,
        v16: u16,
        len: u8,
        code: u16,
    ) -> Result<Option<u16>, FibError> {
        let old = self.short.insert(&mut self.arena, len, v16, code)?;
        let (lo, hi) = top_range(v16, len);
        for t in lo..hi {
            if self.origin[t] <= len + 1 {
                self.origin[t] = len + 1;
                self.set_top(t, code);
            }
        }
        Ok(old)
    }

    pub(super) fn short_remove(&mut self, v16: u16, len: u8) -> Option<u16> {
        let old = self.short.remove(&mut self.arena.bytes, len, v16)?;
        let (cover_len, cover_code) = (0..len)
            .rev()
            .find_map(|l| {
                let c = self.short.get(&self.arena.bytes, l, v16 & top_mask(l))?;
                Some((l + 1, c))
            })
            .unwrap_or((0, 0));
        let (lo, hi) = top_range(v16, len);
        for t in lo..hi {
            if self.origin[t] == len + 1 {
                self.origin[t] = cover_len;
                self.set_top(t, cover_code);
            }
        }
        Some(old)
    }
}
