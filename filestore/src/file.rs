//! File data: reading and writing at any offset, truncating and extending. A file is its
//! `Page` items: page `n` holds bytes `n * 4096 ..`, in a block of its own with its CRC-32C in
//! the item; a missing page is a hole (zeros). A write never overwrites a page in place: the
//! new content goes to a fresh block and the item is replaced, so until the commit the old
//! page is what the committed tree has. A page that would become all zeros becomes a hole.
//! The bytes of the last page beyond the file's size are always zero (truncation clears
//! them), so extending a file shows zeros.

use crate::crc::crc32c;
use crate::device::{BlockDevice, BLOCK_SIZE};
use crate::error::Error;
use crate::key::{Key, Kind};
use crate::records::{FileType, PagePtr};
use crate::store::Store;
use crate::{AreaId, Ino, MAX_FILE_SIZE, PAGE_SIZE};

const PAGE: u64 = PAGE_SIZE as u64;

impl<D: BlockDevice> Store<D> {
    fn page_key(area: AreaId, ino: Ino, page: u64) -> Key {
        Key::new(area.0, ino, Kind::Page, page)
    }

    fn page_ptr(&mut self, area: AreaId, ino: Ino, page: u64) -> Result<Option<PagePtr>, Error> {
        match self.get(&Self::page_key(area, ino, page))? {
            None => Ok(None),
            Some(v) => PagePtr::decode(&v).map(Some).ok_or(Error::Corrupt),
        }
    }

    /// Read a page's block and check it against its pointer.
    pub(crate) fn read_page(
        &mut self,
        p: PagePtr,
        buf: &mut [u8; BLOCK_SIZE],
    ) -> Result<(), Error> {
        if p.block >= self.pager.space.total() || p.block < crate::superblock::SUPERBLOCKS {
            return Err(Error::Corrupt);
        }
        self.pager.read_block(p.block, buf)?;
        if crc32c(buf) != p.crc {
            return Err(Error::Corrupt);
        }
        Ok(())
    }

    /// Read up to `buf.len()` bytes at `offset`; returns how many (0 at or past the end).
    pub fn read(
        &mut self,
        area: AreaId,
        ino: Ino,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, Error> {
        let r = self.get_inode(area, ino)?;
        match r.file_type() {
            Some(FileType::Regular) => {}
            Some(FileType::Directory) => return Err(Error::IsDir),
            _ => return Err(Error::Invalid),
        }
        if offset >= r.size {
            return Ok(0);
        }
        let len = (buf.len() as u64).min(r.size - offset) as usize;
        let mut done = 0;
        let mut page_buf = [0u8; BLOCK_SIZE];
        let mut pages = 0;
        while done < len {
            let at = offset + done as u64;
            let page = at / PAGE;
            let in_page = (at % PAGE) as usize;
            let n = (PAGE_SIZE - in_page).min(len - done);
            match self.page_ptr(area, ino, page)? {
                None => buf[done..done + n].fill(0),
                Some(p) => {
                    self.read_page(p, &mut page_buf)?;
                    buf[done..done + n].copy_from_slice(&page_buf[in_page..in_page + n]);
                }
            }
            pages += 1;
            done += n;
        }
        self.area_mut(area)?.reads += pages;
        Ok(len)
    }

    /// Write `data` at `offset` (extending the file if it ends past the size); returns
    /// `data.len()`. Refused whole (nothing written) past the quota, the device's free space or
    /// [`MAX_FILE_SIZE`].
    pub fn write(
        &mut self,
        area: AreaId,
        ino: Ino,
        offset: u64,
        data: &[u8],
    ) -> Result<usize, Error> {
        self.mutate(|s| s.write_inner(area, ino, offset, data))
    }

    fn write_inner(
        &mut self,
        area: AreaId,
        ino: Ino,
        offset: u64,
        data: &[u8],
    ) -> Result<usize, Error> {
        let mut r = self.get_inode(area, ino)?;
        match r.file_type() {
            Some(FileType::Regular) => {}
            Some(FileType::Directory) => return Err(Error::IsDir),
            _ => return Err(Error::Invalid),
        }
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or(Error::FileTooLarge)?;
        if end > MAX_FILE_SIZE {
            return Err(Error::FileTooLarge);
        }
        if data.is_empty() {
            return Ok(0);
        }
        let first = offset / PAGE;
        let last = (end - 1) / PAGE;
        let touched = last - first + 1;
        let mut new_pages = 0;
        for page in first..=last {
            if self.page_ptr(area, ino, page)?.is_none() {
                new_pages += 1;
            }
        }
        self.ensure_quota(area, new_pages * PAGE)?;
        let need = self
            .tree_need(touched + 1)
            .saturating_add(touched.min(u64::from(u32::MAX)) as u32);
        self.ensure_space(need, true)?;
        let mut buf = [0u8; BLOCK_SIZE];
        let mut done = 0usize;
        for page in first..=last {
            let at = offset + done as u64;
            let in_page = (at % PAGE) as usize;
            let n = (PAGE_SIZE - in_page).min(data.len() - done);
            let old = self.page_ptr(area, ino, page)?;
            match old {
                Some(p) if n < PAGE_SIZE => self.read_page(p, &mut buf)?,
                _ => buf.fill(0),
            }
            buf[in_page..in_page + n].copy_from_slice(&data[done..done + n]);
            self.store_page(area, ino, page, &buf, old, &mut r)?;
            done += n;
        }
        r.size = r.size.max(end);
        r.mtime = self.now;
        r.ctime = self.now;
        self.put_inode(area, ino, &r)?;
        self.area_mut(area)?.writes += touched;
        Ok(data.len())
    }

    /// Put `content` as page `page` of the file (a hole if it is all zeros), releasing the old
    /// block; keeps the inode's and the area's page counts.
    fn store_page(
        &mut self,
        area: AreaId,
        ino: Ino,
        page: u64,
        content: &[u8; BLOCK_SIZE],
        old: Option<PagePtr>,
        r: &mut crate::records::InodeRecord,
    ) -> Result<(), Error> {
        let key = Self::page_key(area, ino, page);
        if let Some(p) = old {
            self.pager.space.release(p.block);
        }
        if content.iter().all(|&b| b == 0) {
            if old.is_some() {
                self.del(&key)?;
                r.pages -= 1;
                self.area_mut(area)?.pages -= 1;
            }
            return Ok(());
        }
        let block = self.pager.alloc()?;
        self.touched = true;
        self.pager.write_block(block, content)?;
        let p = PagePtr {
            block,
            crc: crc32c(content),
        };
        self.put(key, &p.encode())?;
        if old.is_none() {
            r.pages += 1;
            self.area_mut(area)?.pages += 1;
        }
        Ok(())
    }

    /// Set a regular file's size: pages past it go, the rest of its last page is cleared.
    pub(crate) fn truncate(&mut self, area: AreaId, ino: Ino, size: u64) -> Result<(), Error> {
        if size > MAX_FILE_SIZE {
            return Err(Error::FileTooLarge);
        }
        let mut r = self.get_inode(area, ino)?;
        if size < r.size {
            let keep = size.div_ceil(PAGE);
            let from = Self::page_key(area, ino, keep);
            let to = Key::new(area.0, ino, Kind::Symlink, 0);
            let need = self.tree_need(4).saturating_add(1);
            self.ensure_space(need, false)?;
            let removed = self.remove_range(&from, &to, true)?;
            r.pages -= removed.min(r.pages);
            let a = self.area_mut(area)?;
            a.pages -= removed.min(a.pages);
            let tail = (size % PAGE) as usize;
            if tail != 0 {
                if let Some(p) = self.page_ptr(area, ino, size / PAGE)? {
                    let mut buf = [0u8; BLOCK_SIZE];
                    self.read_page(p, &mut buf)?;
                    buf[tail..].fill(0);
                    self.store_page(area, ino, size / PAGE, &buf, Some(p), &mut r)?;
                }
            }
        }
        r.size = size;
        r.mtime = self.now;
        r.ctime = self.now;
        self.put_inode(area, ino, &r)
    }
}
