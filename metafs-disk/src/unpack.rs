//! `/metarouter import-image`: an import archive's file tree unpacked into a guest's area, as
//! the archive decoder streams it ([`ImportSink`]). The kernel is not part of the tree (the
//! guest boots from the archive's `./kernel`).
//!
//! Paths are made from the area's root: missing parent directories are created (0o755, as tar
//! does when the archive lists a file before its directory); an entry that exists is replaced
//! (a later entry of the same path wins), a directory that exists keeps its contents and takes
//! the entry's mode and owner. File data is written a whole page at a time. Owners, modes and
//! modification times are the archive's.
//!
//! All or nothing: the caller runs the import with the store's durability
//! [`filestore::Durability::Deferred`], then `sync`s when the import succeeded and `discard`s
//! otherwise. A store limit (the area's `disk-size` quota, a full device) stops the import with
//! [`SinkError::NoSpace`].

use alloc::vec::Vec;

use filestore::{
    AreaId, BlockDevice, Error, Ino, SetAttr, Store, Time, PAGE_SIZE, ROOT_INO, S_IFDIR, S_IFREG,
};
use guest_loader::archive::{EntryKind, ImportSink, SinkError, TreeEntry};

/// Where an unpack stands between two pieces of the archive (an import is decoded a step at a
/// time, each step with a sink of its own over the store).
#[derive(Clone, Debug, Default)]
pub struct UnpackState {
    /// The regular file being written: its inode, the offset of `pending`, its mtime.
    file: Option<(Ino, u64, u64)>,
    pending: Vec<u8>,
    entries: u64,
}

impl UnpackState {
    /// Entries unpacked so far.
    pub fn entries(&self) -> u64 {
        self.entries
    }
}

/// The sink that writes a tree into one area.
pub struct TreeIntoArea<'s, D: BlockDevice> {
    store: &'s mut Store<D>,
    area: AreaId,
    state: &'s mut UnpackState,
}

fn sink_error(e: Error) -> SinkError {
    match e {
        Error::QuotaExceeded | Error::NoSpace => SinkError::NoSpace,
        Error::Exists
        | Error::NotDir
        | Error::IsDir
        | Error::NotEmpty
        | Error::BadName
        | Error::NameTooLong
        | Error::TargetTooLong
        | Error::NotPermitted
        | Error::NotFound
        | Error::Stale
        | Error::Invalid => SinkError::NameRefused,
        Error::TooManyLinks | Error::FileTooLarge => SinkError::TooManyEntries,
        _ => SinkError::WriteFailed,
    }
}

fn time(secs: u64) -> Time {
    Time { secs, nanos: 0 }
}

impl<'s, D: BlockDevice> TreeIntoArea<'s, D> {
    /// Unpack into `area` of `store`, going on from `state` (a new [`UnpackState`] for a new
    /// import).
    pub fn new(store: &'s mut Store<D>, area: AreaId, state: &'s mut UnpackState) -> Self {
        Self { store, area, state }
    }

    /// The directory that holds `path` (made as needed) and the last component.
    fn parent_of<'p>(&mut self, path: &'p [u8]) -> Result<(Ino, &'p [u8]), Error> {
        let mut dir = ROOT_INO;
        let mut parts = path.split(|&b| b == b'/').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                return Ok((dir, part));
            }
            dir = match self.store.lookup(self.area, dir, part) {
                Ok(attr) => attr.ino,
                Err(Error::NotFound) => {
                    self.store
                        .create(self.area, dir, part, S_IFDIR | 0o755, 0)?
                        .ino
                }
                Err(e) => return Err(e),
            };
        }
        Err(Error::BadName)
    }

    /// The inode `path` names.
    fn resolve(&mut self, path: &[u8]) -> Result<Ino, Error> {
        let (dir, name) = self.parent_of(path)?;
        Ok(self.store.lookup(self.area, dir, name)?.ino)
    }

    /// Remove what `name` names in `dir` unless it is a directory; whether a directory is there.
    fn clear(&mut self, dir: Ino, name: &[u8]) -> Result<Option<Ino>, Error> {
        match self.store.lookup(self.area, dir, name) {
            Ok(attr) if attr.file_type == filestore::FileType::Directory => Ok(Some(attr.ino)),
            Ok(_) => self.store.unlink(self.area, dir, name).map(|()| None),
            Err(Error::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn owner(&mut self, ino: Ino, e: &TreeEntry<'_>, mode: bool) -> Result<(), Error> {
        self.store.setattr(
            self.area,
            ino,
            SetAttr {
                mode: mode.then_some(u32::from(e.mode)),
                uid: Some(e.uid),
                gid: Some(e.gid),
                mtime: Some(time(e.mtime)),
                ..SetAttr::default()
            },
        )?;
        Ok(())
    }

    fn start(&mut self, e: &TreeEntry<'_>) -> Result<(), Error> {
        let (dir, name) = self.parent_of(e.path)?;
        let existing_dir = self.clear(dir, name)?;
        match e.kind {
            EntryKind::Directory => {
                let ino = match existing_dir {
                    Some(ino) => ino,
                    None => {
                        let mode = S_IFDIR | u32::from(e.mode);
                        self.store.create(self.area, dir, name, mode, 0)?.ino
                    }
                };
                self.owner(ino, e, true)?;
            }
            _ if existing_dir.is_some() => return Err(Error::IsDir),
            EntryKind::File => {
                let mode = S_IFREG | u32::from(e.mode);
                let ino = self.store.create(self.area, dir, name, mode, 0)?.ino;
                self.owner(ino, e, true)?;
                self.state.file = Some((ino, 0, e.mtime));
                self.state.pending.clear();
            }
            EntryKind::Symlink { target } => {
                let ino = self.store.symlink(self.area, dir, name, target)?.ino;
                self.owner(ino, e, false)?;
            }
            EntryKind::HardLink { target } => {
                let ino = self.resolve(target)?;
                self.store.link(self.area, ino, dir, name)?;
            }
        }
        self.state.entries += 1;
        Ok(())
    }

    /// Write the pending bytes of the current file.
    fn write_pending(&mut self) -> Result<(), Error> {
        let st = &mut *self.state;
        let Some((ino, offset, _)) = st.file.as_mut() else {
            return Ok(());
        };
        if !st.pending.is_empty() {
            self.store.write(self.area, *ino, *offset, &st.pending)?;
            *offset += st.pending.len() as u64;
            st.pending.clear();
        }
        Ok(())
    }

    fn data(&mut self, mut data: &[u8]) -> Result<(), Error> {
        if self.state.file.is_none() {
            // Data outside a regular file: the decoder never sends it.
            return Err(Error::Invalid);
        }
        while !data.is_empty() {
            let pending = &mut self.state.pending;
            let take = (PAGE_SIZE - pending.len()).min(data.len());
            pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if pending.len() == PAGE_SIZE {
                self.write_pending()?;
            }
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), Error> {
        self.write_pending()?;
        if let Some((ino, _, mtime)) = self.state.file.take() {
            // Writing set the modification time to now: the archive's again.
            let set = SetAttr {
                mtime: Some(time(mtime)),
                ..SetAttr::default()
            };
            self.store.setattr(self.area, ino, set)?;
        }
        Ok(())
    }
}

impl<D: BlockDevice> ImportSink for TreeIntoArea<'_, D> {
    fn kernel_start(&mut self, _size: u64) -> Result<(), SinkError> {
        Ok(())
    }
    fn kernel_data(&mut self, _data: &[u8]) -> Result<(), SinkError> {
        Ok(())
    }
    fn entry_start(&mut self, entry: &TreeEntry<'_>) -> Result<(), SinkError> {
        self.start(entry).map_err(sink_error)
    }
    fn file_data(&mut self, data: &[u8]) -> Result<(), SinkError> {
        self.data(data).map_err(sink_error)
    }
    fn entry_end(&mut self) -> Result<(), SinkError> {
        self.end().map_err(sink_error)
    }
}
