//! What a store operation can fail with. Every failure but [`Error::Io`], [`Error::Corrupt`]
//! and [`Error::Failed`] is found before anything changes; those three drop the operation's
//! uncommitted changes (see the crate docs).

use crate::device::DeviceError;

/// Why an operation failed. `README.md` has the errno each maps to for metafs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// No such name in the directory, or no such inode (ENOENT).
    NotFound,
    /// The inode number names nothing any more (an unlinked file): ESTALE.
    Stale,
    /// The name exists already (EEXIST).
    Exists,
    /// A directory was expected (ENOTDIR).
    NotDir,
    /// The operation does not apply to a directory (EISDIR).
    IsDir,
    /// The directory is not empty (ENOTEMPTY).
    NotEmpty,
    /// A name longer than [`crate::MAX_NAME`] (ENAMETOOLONG).
    NameTooLong,
    /// An empty name, ".", "..", or one holding '/' or NUL (EINVAL).
    BadName,
    /// A bad argument: a rename of a directory into itself, a mode of the wrong type (EINVAL).
    Invalid,
    /// Not allowed on this kind of inode: a hard link to a directory (EPERM).
    NotPermitted,
    /// A symlink target longer than [`crate::MAX_SYMLINK`] (ENAMETOOLONG).
    TargetTooLong,
    /// A file would grow past [`crate::MAX_FILE_SIZE`] (EFBIG).
    FileTooLarge,
    /// An inode would get more than [`crate::MAX_LINKS`] links (EMLINK).
    TooManyLinks,
    /// The area's quota (`disk-size`) is reached (ENOSPC, or EDQUOT).
    QuotaExceeded,
    /// The device is full (ENOSPC).
    NoSpace,
    /// No area with that id or name.
    NoArea,
    /// An area with that name exists.
    AreaExists,
    /// All area ids are taken.
    TooManyAreas,
    /// The device failed (EIO); the operation's changes were dropped.
    Io(DeviceError),
    /// A checksum or structure check failed on what was read (EIO); the operation's changes
    /// were dropped. The boot check says more.
    Corrupt,
    /// An earlier commit failed part-way: nothing more is written until the store is mounted
    /// again (EIO).
    Failed,
}

impl From<DeviceError> for Error {
    fn from(e: DeviceError) -> Error {
        Error::Io(e)
    }
}

impl Error {
    /// Whether the failure dropped the uncommitted changes (as opposed to being refused
    /// before any change).
    pub fn dropped_changes(self) -> bool {
        matches!(self, Error::Io(_) | Error::Corrupt | Error::Failed)
    }
}
