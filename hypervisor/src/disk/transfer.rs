//! Files in and out over the console (`/file receive`, `/file send`): a received file is
//! written under a hidden directory of the host area (`.receiving/`, which `/file print`
//! does not list) and renamed into place only when it is whole, so a cancelled, broken or
//! power-cut transfer never leaves a half-written file under its name; what a power cut left
//! in the directory is removed at the next mount. Writes are gathered into 64 KiB pieces, each
//! one store operation.

use alloc::string::String;
use alloc::vec::Vec;

use filestore::{AreaId, Error, FileType, Ino, ROOT_INO, S_IFDIR, S_IFREG};

use super::HostDisk;

/// The hidden directory of files being received.
const RECEIVING: &[u8] = b".receiving";
/// Bytes gathered before a store write.
const PIECE: usize = 64 << 10;

/// A file being received.
pub struct Receiving {
    name: String,
    ino: Ino,
    /// Bytes in the store.
    written: u64,
    /// Bytes after them, not written yet.
    pending: Vec<u8>,
}

/// Why a transfer's store operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferError {
    NoSuchFile,
    /// Not enough free space in the store.
    NoSpace,
    /// Another transfer is under way (a shell bug).
    Busy,
    Store(Error),
}

impl From<Error> for TransferError {
    fn from(e: Error) -> TransferError {
        match e {
            Error::NoSpace | Error::QuotaExceeded => TransferError::NoSpace,
            Error::NotFound => TransferError::NoSuchFile,
            e => TransferError::Store(e),
        }
    }
}

impl HostDisk {
    /// The hidden directory, made when missing.
    fn receiving_dir(&mut self) -> Result<Ino, Error> {
        match self.store.lookup(AreaId::HOST, ROOT_INO, RECEIVING) {
            Ok(attr) => Ok(attr.ino),
            Err(Error::NotFound) => Ok(self
                .store
                .create(AreaId::HOST, ROOT_INO, RECEIVING, S_IFDIR | 0o700, 0)?
                .ino),
            Err(e) => Err(e),
        }
    }

    /// Removes what an interrupted transfer left (at mount).
    pub(super) fn clear_receiving(&mut self) {
        let Ok(dir) = self.store.lookup(AreaId::HOST, ROOT_INO, RECEIVING) else {
            return;
        };
        let mut names = Vec::new();
        let _ = self.store.readdir(AreaId::HOST, dir.ino, 2, &mut |e| {
            if e.file_type == FileType::Regular {
                names.push(e.name.clone());
            }
            true
        });
        for name in &names {
            let _ = self.store.unlink(AreaId::HOST, dir.ino, name);
        }
        if !names.is_empty() {
            crate::println!("disk: {} unfinished received files removed", names.len());
        }
    }

    /// Starts receiving `name` (`size` bytes when known): refused when it cannot fit.
    pub fn receive_begin(&mut self, name: &str, size: Option<u64>) -> Result<(), TransferError> {
        if self.receiving.is_some() {
            return Err(TransferError::Busy);
        }
        filestore::valid_name(name.as_bytes())?;
        if let (Some(size), Some((_, free))) = (size, self.space()) {
            // Pages and the tree's nodes: a file takes a little more than its bytes.
            if size + size / 64 + (64 << 10) > free {
                return Err(TransferError::NoSpace);
            }
        }
        let dir = self.receiving_dir()?;
        match self.store.unlink(AreaId::HOST, dir, name.as_bytes()) {
            Ok(()) | Err(Error::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        let ino = self
            .store
            .create(AreaId::HOST, dir, name.as_bytes(), S_IFREG | 0o644, 0)?
            .ino;
        self.receiving = Some(Receiving {
            name: String::from(name),
            ino,
            written: 0,
            pending: Vec::new(),
        });
        Ok(())
    }

    /// The name of the file being received.
    pub fn receiving_name(&self) -> Option<&str> {
        self.receiving.as_ref().map(|r| r.name.as_str())
    }

    /// The received file's bytes at `offset` (the end of what came before).
    pub fn receive_write(&mut self, offset: u64, data: &[u8]) -> Result<(), TransferError> {
        let r = self.receiving.as_mut().ok_or(TransferError::Busy)?;
        if offset != r.written + r.pending.len() as u64 {
            return Err(TransferError::Store(Error::Invalid));
        }
        r.pending.extend_from_slice(data);
        if r.pending.len() >= PIECE {
            self.write_pending()?;
        }
        Ok(())
    }

    fn write_pending(&mut self) -> Result<(), TransferError> {
        let Some(r) = self.receiving.as_mut() else {
            return Ok(());
        };
        if !r.pending.is_empty() {
            self.store
                .write(AreaId::HOST, r.ino, r.written, &r.pending)?;
            r.written += r.pending.len() as u64;
            r.pending.clear();
        }
        Ok(())
    }

    /// Keeps the received file under its name (replacing one there, in one operation) or
    /// drops it.
    pub fn receive_end(&mut self, keep: bool) -> Result<(), TransferError> {
        let result = if keep { self.write_pending() } else { Ok(()) };
        let Some(r) = self.receiving.take() else {
            return Err(TransferError::Busy);
        };
        let dir = self.receiving_dir()?;
        let name = r.name.as_bytes();
        let result = result.and_then(|()| {
            if keep {
                self.store
                    .rename(AreaId::HOST, dir, name, ROOT_INO, name)
                    .map_err(TransferError::from)
            } else {
                Ok(())
            }
        });
        if !keep || result.is_err() {
            let _ = self.store.unlink(AreaId::HOST, dir, name);
        }
        self.refresh();
        result
    }

    /// Reads host file `name` from `offset`.
    pub fn read(
        &mut self,
        name: &str,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, TransferError> {
        let attr = self.store.lookup(AreaId::HOST, ROOT_INO, name.as_bytes())?;
        if attr.file_type != FileType::Regular {
            return Err(TransferError::NoSuchFile);
        }
        Ok(self.store.read(AreaId::HOST, attr.ino, offset, buf)?)
    }
}
