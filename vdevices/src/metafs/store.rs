//! The file store behind metafs: the [`MetafsStore`] trait and the values that cross it.
//!
//! The metafs server parses and checks every guest request, then calls one method of this trait
//! with values that are already valid ([`Name`]s, [`Ino`]s of the right range, permission bits
//! within `0o7777`, a [`Volume`] the guest is allowed to reach). The store owns the data, the
//! quotas and the durability; the server owns the wire, the guest's errno numbering and the
//! isolation of guests from each other's exports. The full contract, method by method, is in
//! the crate README ("metafs: the store contract").

use core::fmt;
use core::num::NonZeroU32;

/// One file tree of the store: a guest's disk area (or another tree the host exports). Chosen
/// by the host; the server only passes the volumes of the guest's own export table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Volume(pub u32);

/// An inode number inside a volume, as the guest sees it: `1..=u32::MAX` (the guest keeps the
/// low 32 bits; 0 on the wire is the guest's name for its export's root).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ino(NonZeroU32);

impl Ino {
    /// The inode number `n`, if it is not 0.
    pub const fn new(n: u32) -> Option<Self> {
        match NonZeroU32::new(n) {
            Some(n) => Some(Self(n)),
            None => None,
        }
    }

    /// The number.
    pub const fn get(self) -> u32 {
        self.0.get()
    }
}

impl fmt::Display for Ino {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "inode {}", self.0)
    }
}

/// Seconds and nanoseconds since the epoch (the wire's `struct hptime`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Seconds.
    pub sec: u32,
    /// Nanoseconds, below 1,000,000,000.
    pub nsec: u32,
}

/// The kind of a node (the `S_IFMT` bits of a Linux `st_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileType {
    /// `S_IFREG`.
    Regular,
    /// `S_IFDIR`.
    Directory,
    /// `S_IFLNK`.
    Symlink,
    /// `S_IFCHR`.
    CharDevice,
    /// `S_IFBLK`.
    BlockDevice,
    /// `S_IFIFO`.
    Fifo,
    /// `S_IFSOCK`.
    Socket,
}

/// `S_IFMT`: the type bits of a mode.
pub const S_IFMT: u32 = 0o170_000;
/// Permission bits a mode may carry (set-uid, set-gid, sticky, rwx for all three).
pub const PERM_MASK: u32 = 0o7777;

impl FileType {
    /// All kinds.
    pub const ALL: [FileType; 7] = [
        FileType::Regular,
        FileType::Directory,
        FileType::Symlink,
        FileType::CharDevice,
        FileType::BlockDevice,
        FileType::Fifo,
        FileType::Socket,
    ];

    /// The kind named by the type bits of `mode`, if they name one.
    pub const fn from_mode(mode: u32) -> Option<Self> {
        Some(match mode & S_IFMT {
            0o100_000 => FileType::Regular,
            0o040_000 => FileType::Directory,
            0o120_000 => FileType::Symlink,
            0o020_000 => FileType::CharDevice,
            0o060_000 => FileType::BlockDevice,
            0o010_000 => FileType::Fifo,
            0o140_000 => FileType::Socket,
            _ => return None,
        })
    }

    /// The `S_IFMT` bits.
    pub const fn mode_bits(self) -> u32 {
        match self {
            FileType::Regular => 0o100_000,
            FileType::Directory => 0o040_000,
            FileType::Symlink => 0o120_000,
            FileType::CharDevice => 0o020_000,
            FileType::BlockDevice => 0o060_000,
            FileType::Fifo => 0o010_000,
            FileType::Socket => 0o140_000,
        }
    }

    /// The `DT_*` value of a directory record.
    pub const fn dirent_type(self) -> u8 {
        match self {
            FileType::Fifo => 1,
            FileType::CharDevice => 2,
            FileType::Directory => 4,
            FileType::BlockDevice => 6,
            FileType::Regular => 8,
            FileType::Symlink => 10,
            FileType::Socket => 12,
        }
    }

    /// Whether a node of this kind carries a device number.
    pub const fn has_rdev(self) -> bool {
        matches!(self, FileType::CharDevice | FileType::BlockDevice)
    }
}

/// What the guest learns about an inode (the wire's `inode_rep` without its status; the server
/// adds `blksize`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attr {
    /// Its number.
    pub ino: Ino,
    /// Its kind.
    pub kind: FileType,
    /// Permission bits (within [`PERM_MASK`]).
    pub perm: u16,
    /// Names linking to it (directories: 2 + subdirectories).
    pub nlink: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device number for device nodes, as the guest kernel encodes it (`major << 20 | minor`);
    /// 0 for other kinds.
    pub rdev: u32,
    /// Bytes (regular files: the file's length; symlinks: the target's; directories: the
    /// store's choice).
    pub size: u64,
    /// Space taken, in 512-byte units (`st_blocks`).
    pub blocks: u64,
    /// Last access.
    pub atime: Timestamp,
    /// Last change of the contents.
    pub mtime: Timestamp,
    /// Last change of the inode.
    pub ctime: Timestamp,
}

impl Attr {
    /// The full Linux `st_mode`: type bits and permission bits.
    pub const fn mode(&self) -> u32 {
        self.kind.mode_bits() | (self.perm as u32 & PERM_MASK)
    }
}

/// Longest name in a directory (`NAME_MAX`; the guest reports 255 in `statfs`).
pub const NAME_MAX: usize = 255;

/// A directory entry's name, checked: 1 to [`NAME_MAX`] bytes, no `/`, no NUL, and neither `.`
/// nor `..`. A store never sees any other name from the server.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Name<'a>(&'a [u8]);

/// Why bytes are not a [`Name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
    /// No bytes at all.
    Empty,
    /// More than [`NAME_MAX`] bytes.
    TooLong,
    /// A `/` or a NUL byte.
    BadByte,
    /// `.` or `..`: the guest resolves those itself, and they never name an entry.
    Dots,
}

impl<'a> Name<'a> {
    /// Checks `bytes`.
    pub fn new(bytes: &'a [u8]) -> Result<Self, NameError> {
        if bytes.is_empty() {
            return Err(NameError::Empty);
        }
        if bytes.len() > NAME_MAX {
            return Err(NameError::TooLong);
        }
        if bytes.iter().any(|&b| b == b'/' || b == 0) {
            return Err(NameError::BadByte);
        }
        if bytes == b"." || bytes == b".." {
            return Err(NameError::Dots);
        }
        Ok(Self(bytes))
    }

    /// The bytes.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}

impl fmt::Debug for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for &b in self.0 {
            for c in core::ascii::escape_default(b) {
                write!(f, "{}", c as char)?;
            }
        }
        f.write_str("\"")
    }
}

/// Longest symlink target the server accepts: the guest reads a target into a 255-byte reply
/// that starts with a 4-byte status, so 251 bytes is the most a guest can ever read back.
pub const SYMLINK_MAX: usize = 251;

/// A node to create: a regular file, a directory, a device node, a FIFO or a socket (symlinks
/// have their own call).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewNode {
    /// Its kind (never [`FileType::Symlink`]).
    pub kind: FileType,
    /// Permission bits (within [`PERM_MASK`]).
    pub perm: u16,
    /// Device number for device nodes, else 0.
    pub rdev: u32,
}

/// What SETINODE asks for: all four fields, the unchanged ones at their current value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetAttr {
    /// Permission bits (within [`PERM_MASK`]).
    pub perm: u16,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Length (regular files: truncate or extend with zeroes).
    pub size: u64,
}

/// One entry of a directory listing, lent to the server's sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirEntry<'a> {
    /// The inode it names.
    pub ino: Ino,
    /// That inode's kind.
    pub kind: FileType,
    /// The name (a store should only hold valid [`Name`]s; the server skips any other).
    pub name: &'a [u8],
    /// Where a listing resumes after this entry: `1..=`[`MAX_COOKIE`].
    pub cookie: u64,
}

/// Largest directory cookie a store may give: the server adds 2 to it on the wire (cookies 1
/// and 2 are its own `.` and `..`).
pub const MAX_COOKIE: u64 = (1 << 62) - 1;

/// Space of a volume, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Space {
    /// What the volume may hold in all: its quota, or (no quota) what it uses plus what the
    /// store has free.
    pub total: u64,
    /// What it may still take (`total - used`, and never more than the store has free).
    pub free: u64,
    /// What it takes now (`used-disk`).
    pub used: u64,
}

/// Why a store operation failed. The server turns each into the guest's errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FsError {
    /// No such name in the directory (ENOENT).
    NotFound,
    /// The name exists already (EEXIST).
    Exists,
    /// A directory was needed (ENOTDIR).
    NotDir,
    /// Not allowed on a directory (EISDIR).
    IsDir,
    /// The directory still has entries (ENOTEMPTY).
    NotEmpty,
    /// The volume's quota or the store is full (ENOSPC): nothing was changed.
    NoSpace,
    /// A name or target the store cannot hold (ENAMETOOLONG).
    NameTooLong,
    /// The request makes no sense for this node: a directory moved into itself, a size on a
    /// special file (EINVAL).
    Invalid,
    /// The inode number is not a live inode of this volume (ESTALE).
    Stale,
    /// Not allowed, whoever asks: a hard link to a directory (EPERM).
    NotPermitted,
    /// Beyond the largest file the store keeps (EFBIG).
    FileTooBig,
    /// Too many links to one inode (EMLINK).
    TooManyLinks,
    /// The volume is read-only (EROFS).
    ReadOnly,
    /// The medium failed (EIO).
    Io,
    /// The store ran out of memory for its own tables (ENOMEM).
    NoMemory,
    /// The store does not keep this kind of node (EOPNOTSUPP).
    NotSupported,
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FsError::NotFound => "no such file or directory",
            FsError::Exists => "file exists",
            FsError::NotDir => "not a directory",
            FsError::IsDir => "is a directory",
            FsError::NotEmpty => "directory not empty",
            FsError::NoSpace => "no space left on disk",
            FsError::NameTooLong => "name too long",
            FsError::Invalid => "invalid argument",
            FsError::Stale => "stale inode number",
            FsError::NotPermitted => "operation not permitted",
            FsError::FileTooBig => "file too large",
            FsError::TooManyLinks => "too many links",
            FsError::ReadOnly => "read-only disk",
            FsError::Io => "disk I/O error",
            FsError::NoMemory => "out of memory",
            FsError::NotSupported => "operation not supported",
        })
    }
}

/// The receiver of a directory listing: takes one entry, returns `false` to stop (the reply is
/// full; that entry was NOT taken and is where the next listing resumes).
pub type DirSink<'s> = dyn FnMut(DirEntry<'_>) -> bool + 's;

/// A file store the metafs server can serve guests from. Every method names the [`Volume`]; a
/// store must answer [`FsError::Stale`] for any inode number that is not a live inode of that
/// volume (this, with the server's export table, is what keeps guests apart). Mutating methods
/// get the host's time for mtime/ctime. See the crate README for the whole contract.
pub trait MetafsStore {
    /// The volume's root directory.
    fn root(&mut self, volume: Volume) -> Result<Ino, FsError>;

    /// An inode's attributes.
    fn getattr(&mut self, volume: Volume, ino: Ino) -> Result<Attr, FsError>;

    /// The inode `name` names in directory `dir`.
    fn lookup(&mut self, volume: Volume, dir: Ino, name: Name<'_>) -> Result<Attr, FsError>;

    /// The directory that holds directory `dir` (the root's parent is the root).
    fn parent(&mut self, volume: Volume, dir: Ino) -> Result<Ino, FsError>;

    /// Reads a regular file from `offset` into `buf`; returns the bytes read, fewer than
    /// `buf.len()` only at the end of the file (0 at or past it). Holes read as zeroes.
    fn read(
        &mut self,
        volume: Volume,
        ino: Ino,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, FsError>;

    /// Writes all of `data` to a regular file at `offset`, extending it if it ends past the
    /// file's length, or nothing (an error). At most one page; never crossing a 4 KiB boundary.
    fn write(
        &mut self,
        volume: Volume,
        ino: Ino,
        offset: u64,
        data: &[u8],
        now: Timestamp,
    ) -> Result<(), FsError>;

    /// Lists directory `dir` in a stable order, from the entry after the one whose cookie is
    /// `after` (0: from the start), into `sink` until it returns `false` or the directory ends.
    /// Never lists `.` or `..` (the server adds them).
    fn readdir(
        &mut self,
        volume: Volume,
        dir: Ino,
        after: u64,
        sink: &mut DirSink<'_>,
    ) -> Result<(), FsError>;

    /// Copies a symlink's target into `buf` (as much as fits); returns the target's length.
    fn readlink(&mut self, volume: Volume, ino: Ino, buf: &mut [u8]) -> Result<usize, FsError>;

    /// Creates `name` in `dir`, owned by uid 0 and gid 0.
    fn create(
        &mut self,
        volume: Volume,
        dir: Ino,
        name: Name<'_>,
        node: NewNode,
        now: Timestamp,
    ) -> Result<Attr, FsError>;

    /// Creates symlink `name` in `dir` pointing at `target` (1 to [`SYMLINK_MAX`] bytes, no
    /// NUL), permissions 0o777, owned by uid 0 and gid 0.
    fn symlink(
        &mut self,
        volume: Volume,
        dir: Ino,
        name: Name<'_>,
        target: &[u8],
        now: Timestamp,
    ) -> Result<Attr, FsError>;

    /// Adds the name `name` in `dir` for the existing non-directory `ino`; returns its new
    /// attributes.
    fn link(
        &mut self,
        volume: Volume,
        dir: Ino,
        name: Name<'_>,
        ino: Ino,
        now: Timestamp,
    ) -> Result<Attr, FsError>;

    /// Removes `name` from `dir`: a non-directory, or an empty directory. An inode left without
    /// names stays readable and writable by number until [`MetafsStore::release_unlinked`].
    fn unlink(
        &mut self,
        volume: Volume,
        dir: Ino,
        name: Name<'_>,
        now: Timestamp,
    ) -> Result<(), FsError>;

    /// Moves `from_dir/from` to `to_dir/to`, replacing what `to` names (POSIX `rename`).
    fn rename(
        &mut self,
        volume: Volume,
        from_dir: Ino,
        from: Name<'_>,
        to_dir: Ino,
        to: Name<'_>,
        now: Timestamp,
    ) -> Result<(), FsError>;

    /// Sets permissions, owner, group and (regular files) length; returns the new attributes.
    fn setattr(
        &mut self,
        volume: Volume,
        ino: Ino,
        attr: SetAttr,
        now: Timestamp,
    ) -> Result<Attr, FsError>;

    /// The volume's space (`statfs`, and `used-disk`).
    fn statfs(&mut self, volume: Volume) -> Result<Space, FsError>;

    /// Makes everything written to `ino` so far durable.
    fn fsync(&mut self, volume: Volume, ino: Ino) -> Result<(), FsError>;

    /// Frees the inodes of `volume` that have no name left (the guest restarted, so nothing holds
    /// them open any more). The host calls it when the guest starts.
    fn release_unlinked(&mut self, volume: Volume) -> Result<(), FsError>;
}
