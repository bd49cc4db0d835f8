//! Prefixes up to /16: one sorted list per length (entries `(top 16 bits << 16) | code`) in
//! arena blocks. The direct table carries their expansion; these lists only answer "which
//! shorter prefix covers this one" when a prefix is withdrawn.

use super::arena::{self, rd_u32, wr_u32, Arena};
use super::FibError;

#[derive(Clone, Copy, Default)]
struct List {
    off: u32,
    len: u32,
    cap: u32,
}

#[derive(Default)]
pub(crate) struct ShortLists {
    lists: [List; 17],
}

impl ShortLists {
    fn find(&self, b: &[u8], len: u8, v16: u16) -> Result<usize, usize> {
        let list = self.lists[usize::from(len)];
        let (mut lo, mut hi) = (0usize, list.len as usize);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let key = (rd_u32(b, list.off as usize + 4 * mid) >> 16) as u16;
            match key.cmp(&v16) {
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
                core::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub(crate) fn get(&self, b: &[u8], len: u8, v16: u16) -> Option<u16> {
        let i = self.find(b, len, v16).ok()?;
        Some(rd_u32(b, self.lists[usize::from(len)].off as usize + 4 * i) as u16)
    }

    /// Adds or replaces `v16/len`, returning the replaced code.
    pub(crate) fn insert(
        &mut self,
        a: &mut Arena,
        len: u8,
        v16: u16,
        code: u16,
    ) -> Result<Option<u16>, FibError> {
        let entry = (u32::from(v16) << 16) | u32::from(code);
        let i = match self.find(&a.bytes, len, v16) {
            Ok(i) => {
                let at = self.lists[usize::from(len)].off as usize + 4 * i;
                let old = rd_u32(&a.bytes, at) as u16;
                wr_u32(&mut a.bytes, at, entry);
                return Ok(Some(old));
            }
            Err(i) => i,
        };
        let list = &mut self.lists[usize::from(len)];
        if list.len == list.cap {
            let want = 4 * (list.len as usize + 1);
            let off = a.alloc(want).ok_or(FibError::TableFull)?;
            let n = 4 * list.len as usize;
            if list.cap > 0 {
                a.bytes
                    .copy_within(list.off as usize..list.off as usize + n, off);
                a.free(list.off as usize, 4 * list.cap as usize);
            }
            list.off = off as u32;
            list.cap = (arena::block_bytes(want) / 4) as u32;
        }
        let start = list.off as usize + 4 * i;
        let end = list.off as usize + 4 * list.len as usize;
        a.bytes.copy_within(start..end, start + 4);
        wr_u32(&mut a.bytes, start, entry);
        list.len += 1;
        Ok(None)
    }

    /// Removes `v16/len`, returning its code. The list keeps its block.
    pub(crate) fn remove(&mut self, b: &mut [u8], len: u8, v16: u16) -> Option<u16> {
        let i = self.find(b, len, v16).ok()?;
        let list = &mut self.lists[usize::from(len)];
        let start = list.off as usize + 4 * i;
        let old = rd_u32(b, start) as u16;
        let end = list.off as usize + 4 * list.len as usize;
        b.copy_within(start + 4..end, start);
        list.len -= 1;
        Some(old)
    }

    /// Installs a whole sorted list for `len` (bulk build; the list must be empty).
    pub(crate) fn fill(
        &mut self,
        a: &mut Arena,
        len: u8,
        entries: impl ExactSizeIterator<Item = (u16, u16)>,
    ) -> Result<(), FibError> {
        let n = entries.len();
        if n == 0 {
            return Ok(());
        }
        let off = a.alloc(4 * n).ok_or(FibError::TableFull)?;
        for (i, (v16, code)) in entries.enumerate() {
            wr_u32(
                &mut a.bytes,
                off + 4 * i,
                (u32::from(v16) << 16) | u32::from(code),
            );
        }
        self.lists[usize::from(len)] = List {
            off: off as u32,
            len: n as u32,
            cap: (arena::block_bytes(4 * n) / 4) as u32,
        };
        Ok(())
    }

    pub(crate) fn for_each(&self, b: &[u8], mut f: impl FnMut(u8, u16, u16)) {
        for (len, list) in self.lists.iter().enumerate() {
            for i in 0..list.len as usize {
                let e = rd_u32(b, list.off as usize + 4 * i);
                f(len as u8, (e >> 16) as u16, e as u16);
            }
        }
    }
}
