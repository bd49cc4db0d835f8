//! The metafs file service: one checked request, answered from a [`MetafsStore`].
//!
//! Order of the checks, each answered with the guest's errno and nothing changed: the request
//! parses ([`wire::parse`]: lengths, sizes, offsets, names, targets; EINVAL, ENOSYS,
//! ENAMETOOLONG, ENOENT, EFBIG); the reply slot can hold the success reply (EINVAL); the export
//! exists (ENODEV); a change on a read-only export (EROFS); every inode number is 0 (the root)
//! or below 2^32 (ESTALE), and the store then refuses numbers that are not live inodes of the
//! export's volume (ESTALE). Every guest range the answer touches is checked before the store
//! is called, so a bad pointer (a queue fault) never leaves a change half done.
//!
//! Pages go straight between guest RAM and the store: READPAGE reads into the page slot,
//! WRITEPAGE writes from the data slot, through [`GuestRam`] (no copy, no allocation).

use super::errno::{Errno, ErrnoTable};
use super::exports::Exports;
use super::reply;
use super::store::{Attr, FileType, FsError, Ino, MetafsStore, Space, Timestamp, Volume};
use super::wire::{self, Command, Header, Request, PAGE_SIZE, READDIR_HEADER_LEN, STATUS_LEN};
use super::{put, put_error, Answer, Backend, Slots};
use crate::fault::{RingError, Side};
use crate::queue::SideError;
use crate::ring::RxBuffer;
use guest_mem::{GuestRam, MemError};

/// What the server did, for `/metarouter print` and for diagnosis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MetafsStats {
    /// Requests answered by the file service (successes and errors).
    pub requests: u64,
    /// Of those, answered with an error.
    pub errors: u64,
    /// Of those, refused before reaching the store: malformed, unknown command, a reply slot
    /// too small, an unknown export.
    pub malformed: u64,
    /// `disk-reads`: READPAGE, READDIR and READLINK requests served.
    pub disk_reads: u64,
    /// `disk-writes`: WRITEPAGE, CREATE, UNLINK, SYMLINK, RENAME, SETINODE and HLINK requests
    /// served.
    pub disk_writes: u64,
    /// File bytes sent by READPAGE.
    pub bytes_read: u64,
    /// File bytes taken by WRITEPAGE.
    pub bytes_written: u64,
    /// Requests refused with ENOSYS because the guest has no disk.
    pub refused: u64,
    /// Directory entries left out of listings because the guest cannot take their names.
    pub skipped_entries: u64,
}

impl MetafsStats {
    pub(crate) const fn new() -> Self {
        Self {
            requests: 0,
            errors: 0,
            malformed: 0,
            disk_reads: 0,
            disk_writes: 0,
            bytes_read: 0,
            bytes_written: 0,
            refused: 0,
            skipped_entries: 0,
        }
    }
}

/// How a request failed: an error for the guest, or a fault of its queue.
enum Fail {
    Errno(Errno),
    Fault(SideError),
}

impl From<Errno> for Fail {
    fn from(e: Errno) -> Self {
        Fail::Errno(e)
    }
}

impl From<FsError> for Fail {
    fn from(e: FsError) -> Self {
        Fail::Errno(e.into())
    }
}

/// A successful answer, before it is written.
enum Done {
    /// A status or count word (`s32`, not negative).
    Word(u32),
    /// An `inode_rep`.
    Inode(Attr),
    /// A `statfs_rep`.
    Statfs(Space),
    /// Bytes already written into the reply slot.
    InPlace(u32),
    /// READPAGE: status 0, and this many bytes already in the page slot.
    Page(u32),
}

fn rx_fault(slot: &RxBuffer) -> impl FnOnce(MemError) -> Fail + '_ {
    move |error| {
        Fail::Fault((
            Side::Rx,
            RingError::Buffer {
                descriptor: slot.descriptor,
                error,
            },
        ))
    }
}

/// The file service backend: one guest's exports, answered from `store`.
pub(crate) struct Serve<'s, S: ?Sized> {
    pub(crate) exports: &'s Exports,
    pub(crate) table: ErrnoTable,
    pub(crate) stats: &'s mut MetafsStats,
    pub(crate) store: &'s mut S,
    pub(crate) now: Timestamp,
}

impl<S: MetafsStore + ?Sized> Backend for Serve<'_, S> {
    fn answer(&mut self, ram: &mut GuestRam<'_>, slots: &Slots) -> Result<Answer, SideError> {
        self.stats.requests += 1;
        let outcome = self.dispatch(ram, slots);
        let (reply, page) = match outcome {
            Ok(Done::Word(word)) => (put(ram, &slots.reply, &[&word.to_be_bytes()])?, 0),
            Ok(Done::Inode(attr)) => (put(ram, &slots.reply, &[&reply::inode_rep(&attr)])?, 0),
            Ok(Done::Statfs(space)) => (put(ram, &slots.reply, &[&reply::statfs_rep(&space)])?, 0),
            Ok(Done::InPlace(len)) => (len, 0),
            Ok(Done::Page(len)) => (put(ram, &slots.reply, &[&0u32.to_be_bytes()])?, len),
            Err(Fail::Errno(error)) => {
                self.stats.errors += 1;
                (put_error(ram, &slots.reply, error, self.table)?, 0)
            }
            Err(Fail::Fault(fault)) => return Err(fault),
        };
        Ok(Answer { reply, page })
    }
}

impl<S: MetafsStore + ?Sized> Serve<'_, S> {
    /// Checks the request and the reply slot, then runs it.
    fn dispatch(&mut self, ram: &mut GuestRam<'_>, slots: &Slots) -> Result<Done, Fail> {
        let bytes = ram
            .bytes(slots.request.addr, slots.request.len)
            .map_err(|error| {
                Fail::Fault((
                    Side::Tx,
                    RingError::Buffer {
                        descriptor: slots.request.descriptor,
                        error,
                    },
                ))
            })?;
        let request = wire::parse(bytes).inspect_err(|_| self.stats.malformed += 1)?;
        let command = request.command();
        // The reply slot must hold the success reply before anything is done; its range (and
        // so that of any error status) is checked here too.
        let reply = &slots.reply;
        if reply.capacity < command.reply_len() {
            self.stats.malformed += 1;
            return Err(Errno::Inval.into());
        }
        let checked = match command {
            Command::ReadDir | Command::ReadLink => reply.capacity.min(PAGE_SIZE),
            _ => command.reply_len(),
        };
        ram.range(reply.addr, checked).map_err(rx_fault(reply))?;
        let header = Header::of(bytes).ok_or(Errno::Inval)?;
        let Some(export) = self.exports.get(header.export) else {
            self.stats.malformed += 1;
            return Err(Errno::NoDev.into());
        };
        if command.mutates() && export.read_only {
            return Err(Errno::RoFs.into());
        }
        let vol = export.volume;
        // Requests that touch guest RAM beyond their reply carry no names, so the request's
        // borrow of RAM ends here for them.
        let done = match request {
            Request::ReadPage { ino, offset, size } => {
                let ino = self.ino(vol, ino)?;
                self.read_page(ram, slots, vol, ino, offset, size)?
            }
            Request::ReadLink { ino } => {
                let ino = self.ino(vol, ino)?;
                self.read_link(ram, &slots.reply, vol, ino)?
            }
            Request::ReadDir { ino, offset, size } => {
                let dir = self.ino(vol, ino)?;
                self.read_dir(ram, &slots.reply, vol, dir, offset, size)?
            }
            Request::WritePage { ino, offset, size } => {
                let ino = self.ino(vol, ino)?;
                self.write_page(ram, slots, vol, ino, offset, size)?
            }
            other => self.run(vol, other)?,
        };
        match command {
            Command::ReadPage | Command::ReadDir | Command::ReadLink => self.stats.disk_reads += 1,
            c if c.mutates() => self.stats.disk_writes += 1,
            _ => {}
        }
        Ok(done)
    }

    /// The store's inode for a number the guest sent: 0 is the export's root.
    fn ino(&mut self, volume: Volume, wire: u64) -> Result<Ino, Fail> {
        if wire == 0 {
            return Ok(self.store.root(volume)?);
        }
        let n = u32::try_from(wire).map_err(|_| Errno::Stale)?;
        Ok(Ino::new(n).ok_or(Errno::Stale)?)
    }

    /// The requests answered from the store alone.
    fn run(&mut self, vol: Volume, request: Request<'_>) -> Result<Done, Fail> {
        let now = self.now;
        Ok(match request {
            Request::GetInode { ino } => {
                let ino = self.ino(vol, ino)?;
                Done::Inode(self.store.getattr(vol, ino)?)
            }
            Request::Lookup { parent, name } => {
                let dir = self.ino(vol, parent)?;
                Done::Inode(self.store.lookup(vol, dir, name)?)
            }
            Request::ReadPage { .. }
            | Request::ReadLink { .. }
            | Request::ReadDir { .. }
            | Request::WritePage { .. } => return Err(Errno::Inval.into()),
            Request::Create { parent, node, name } => {
                let dir = self.ino(vol, parent)?;
                Done::Inode(self.store.create(vol, dir, name, node, now)?)
            }
            Request::Unlink { parent, name } => {
                let dir = self.ino(vol, parent)?;
                self.store.unlink(vol, dir, name, now)?;
                Done::Word(0)
            }
            Request::Symlink {
                parent,
                name,
                target,
            } => {
                let dir = self.ino(vol, parent)?;
                Done::Inode(self.store.symlink(vol, dir, name, target, now)?)
            }
            Request::Rename {
                old_parent,
                new_parent,
                old_name,
                new_name,
            } => {
                let from = self.ino(vol, old_parent)?;
                let to = self.ino(vol, new_parent)?;
                self.store.rename(vol, from, old_name, to, new_name, now)?;
                Done::Word(0)
            }
            Request::SetInode { ino, attr } => {
                let ino = self.ino(vol, ino)?;
                Done::Inode(self.store.setattr(vol, ino, attr, now)?)
            }
            Request::Statfs => Done::Statfs(self.store.statfs(vol)?),
            Request::Hlink { parent, ino, name } => {
                let dir = self.ino(vol, parent)?;
                let ino = self.ino(vol, ino)?;
                Done::Inode(self.store.link(vol, dir, name, ino, now)?)
            }
            Request::Fsync { ino } => {
                let ino = self.ino(vol, ino)?;
                self.store.fsync(vol, ino)?;
                Done::Word(0)
            }
        })
    }

    /// WRITEPAGE: the data slot's bytes go straight to the store.
    fn write_page(
        &mut self,
        ram: &GuestRam<'_>,
        slots: &Slots,
        vol: Volume,
        ino: Ino,
        offset: u64,
        size: u32,
    ) -> Result<Done, Fail> {
        let Some(data) = &slots.data else {
            return Err(Errno::Inval.into());
        };
        if data.len != size {
            return Err(Errno::Inval.into());
        }
        let bytes = ram.bytes(data.addr, data.len).map_err(|error| {
            Fail::Fault((
                Side::Tx,
                RingError::Buffer {
                    descriptor: data.descriptor,
                    error,
                },
            ))
        })?;
        self.store.write(vol, ino, offset, bytes, self.now)?;
        self.stats.bytes_written += u64::from(size);
        Ok(Done::Word(size))
    }

    /// READPAGE: the file's bytes go straight into the page slot.
    fn read_page(
        &mut self,
        ram: &mut GuestRam<'_>,
        slots: &Slots,
        vol: Volume,
        ino: Ino,
        offset: u64,
        size: u32,
    ) -> Result<Done, Fail> {
        let Some(page) = &slots.page else {
            return Err(Errno::Inval.into());
        };
        if page.capacity < size {
            return Err(Errno::Inval.into());
        }
        let buf = ram.bytes_mut(page.addr, size).map_err(rx_fault(page))?;
        let n = self.store.read(vol, ino, offset, buf)?;
        // A store that claims more than it was given broke its contract.
        let n = u32::try_from(n)
            .ok()
            .filter(|&n| n <= size)
            .ok_or(Errno::Io)?;
        self.stats.bytes_read += u64::from(n);
        Ok(Done::Page(n))
    }

    /// READLINK: status 0 and the target, without NUL, within the reply slot.
    fn read_link(
        &mut self,
        ram: &mut GuestRam<'_>,
        reply: &RxBuffer,
        vol: Volume,
        ino: Ino,
    ) -> Result<Done, Fail> {
        let mut target = [0u8; super::store::SYMLINK_MAX];
        let room = (reply.capacity.min(wire::READLINK_REPLY_LEN) - STATUS_LEN) as usize;
        let len = self.store.readlink(vol, ino, &mut target)?;
        if len == 0 {
            return Err(Errno::Io.into());
        }
        if len > room.min(target.len()) {
            return Err(Errno::NameTooLong.into());
        }
        let written =
            put(ram, reply, &[&0u32.to_be_bytes(), &target[..len]]).map_err(Fail::Fault)?;
        Ok(Done::InPlace(written))
    }

    /// READDIR: `.` and `..` first (cookies 1 and 2), then the store's entries (cookie + 2),
    /// written straight into the reply slot.
    fn read_dir(
        &mut self,
        ram: &mut GuestRam<'_>,
        reply: &RxBuffer,
        vol: Volume,
        dir: Ino,
        offset: u64,
        size: u32,
    ) -> Result<Done, Fail> {
        if self.store.getattr(vol, dir)?.kind != FileType::Directory {
            return Err(Errno::NotDir.into());
        }
        let parent = self.store.parent(vol, dir)?;
        let limit = reply.capacity.min(size).min(PAGE_SIZE);
        let buf = ram.bytes_mut(reply.addr, limit).map_err(rx_fault(reply))?;
        let mut records = Records::new(buf);
        if offset == 0 {
            records.push(dir, 1, FileType::Directory, b".");
        }
        if offset <= 1 {
            records.push(parent, 2, FileType::Directory, b"..");
        }
        let after = offset.saturating_sub(2);
        let mut skipped = 0u64;
        let listed = if records.full {
            Ok(())
        } else {
            self.store.readdir(vol, dir, after, &mut |entry| {
                if entry.name.is_empty()
                    || entry.name.len() > super::store::NAME_MAX
                    || entry.cookie == 0
                    || entry.cookie > super::store::MAX_COOKIE
                {
                    skipped += 1;
                    return true;
                }
                records.push(entry.ino, entry.cookie + 2, entry.kind, entry.name)
            })
        };
        self.stats.skipped_entries += skipped;
        match listed {
            // Records so far stand; the guest asks again from the last one and meets the error.
            Err(error) if records.count == 0 => return Err(error.into()),
            _ => {}
        }
        if records.count == 0 && records.full {
            // Not even one record fits the guest's buffer: saying "end of directory" would
            // hide the rest.
            return Err(Errno::Inval.into());
        }
        let next = records.next.unwrap_or(offset);
        let len = records.finish(next);
        Ok(Done::InPlace(len))
    }
}

/// Room a reply's records may take in the guest's `getdents` buffer, counted as
/// `linux_dirent64` records (8-byte aligned, name plus NUL): musl's `readdir` buffer is 2048
/// bytes, and MikroTik's driver skips what its caller's buffer did not take.
pub const DIRENT_BUDGET: usize = 2048;

/// Directory records being written into a READDIR reply.
struct Records<'b> {
    buf: &'b mut [u8],
    at: usize,
    budget: usize,
    count: u32,
    next: Option<u64>,
    full: bool,
}

impl<'b> Records<'b> {
    fn new(buf: &'b mut [u8]) -> Self {
        Self {
            buf,
            at: READDIR_HEADER_LEN as usize,
            budget: DIRENT_BUDGET,
            count: 0,
            next: None,
            full: false,
        }
    }

    /// Adds a record if it fits; `false` (and nothing written) when it does not.
    fn push(&mut self, ino: Ino, cookie: u64, kind: FileType, name: &[u8]) -> bool {
        let len = reply::dirnode_len(name);
        let dirent = (19 + name.len() + 1).div_ceil(8) * 8;
        if self.full || self.at + len > self.buf.len() || dirent > self.budget {
            self.full = true;
            return false;
        }
        reply::dirnode(
            &mut self.buf[self.at..],
            u64::from(ino.get()),
            cookie,
            kind.dirent_type(),
            name,
        );
        self.at += len;
        self.budget -= dirent;
        self.count += 1;
        self.next = Some(cookie);
        true
    }

    /// Writes the header; returns the reply's length.
    fn finish(self, next: u64) -> u32 {
        self.buf[..READDIR_HEADER_LEN as usize].copy_from_slice(&reply::readdir_header(next));
        self.at as u32
    }
}
