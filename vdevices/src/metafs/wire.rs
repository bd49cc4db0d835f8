//! The metafs wire format: commands, how many ring slots each takes, and the request parser.
//!
//! Every request starts with `u16 id` (the export) and `u16 cmd`; integers are big-endian and
//! structs packed, exactly as MikroTik's guest driver (`fs/metafs/inode.c`) lays them out. Names
//! carry no NUL: their length comes from the request length. The parser checks every field
//! (lengths, sizes, offsets, names, symlink targets) and returns the [`Errno`] the guest gets for
//! a bad one; it never looks at the store. Slot shapes come from the command number alone, so
//! a malformed request never desynchronises the rings: WRITEPAGE takes two request slots,
//! READPAGE two reply slots, everything else (unknown commands included) one of each.

use super::errno::Errno;
use super::store::{FileType, Name, NameError, NewNode, SetAttr, PERM_MASK, SYMLINK_MAX};

/// The guest's page size: READPAGE reads one page, WRITEPAGE writes within one.
pub const PAGE_SIZE: u32 = 4096;
/// `sizeof(struct inode_rep)`.
pub const INODE_REP_LEN: u32 = 76;
/// `sizeof(struct statfs_rep)`.
pub const STATFS_REP_LEN: u32 = 12;
/// `sizeof(struct readdir_rep)`: status and next offset, before the records.
pub const READDIR_HEADER_LEN: u32 = 12;
/// `sizeof(struct dirnode)`: the header of one directory record.
pub const DIRNODE_HEADER_LEN: u32 = 19;
/// The reply buffer the guest posts for READLINK.
pub const READLINK_REPLY_LEN: u32 = 255;
/// A status word.
pub const STATUS_LEN: u32 = 4;

/// The commands, by number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum Command {
    /// 0: an inode's attributes (ino 0: the export's root).
    GetInode = 0,
    /// 1: defined by the guest driver, never sent; answered ENOSYS.
    ReleaseInode = 1,
    /// 2: a name in a directory.
    Lookup = 2,
    /// 3: one page of a file (two reply slots).
    ReadPage = 3,
    /// 4: a symlink's target.
    ReadLink = 4,
    /// 5: directory records.
    ReadDir = 5,
    /// 6: bytes within one page of a file (two request slots).
    WritePage = 6,
    /// 7: a file, directory or special node.
    Create = 7,
    /// 8: remove a name (also rmdir).
    Unlink = 8,
    /// 9: a symlink.
    Symlink = 9,
    /// 10: POSIX rename.
    Rename = 10,
    /// 11: mode, owner, group, size.
    SetInode = 11,
    /// 12: blocks and free blocks.
    Statfs = 12,
    /// 13: a hard link.
    Hlink = 13,
    /// 14: make an inode durable.
    Fsync = 14,
}

impl Command {
    /// Every command, by number.
    pub const ALL: [Command; 15] = [
        Command::GetInode,
        Command::ReleaseInode,
        Command::Lookup,
        Command::ReadPage,
        Command::ReadLink,
        Command::ReadDir,
        Command::WritePage,
        Command::Create,
        Command::Unlink,
        Command::Symlink,
        Command::Rename,
        Command::SetInode,
        Command::Statfs,
        Command::Hlink,
        Command::Fsync,
    ];

    /// The command numbered `cmd`.
    pub fn from_wire(cmd: u16) -> Option<Self> {
        Self::ALL.get(usize::from(cmd)).copied()
    }

    /// Its number.
    pub const fn number(self) -> u16 {
        self as u16
    }

    /// The smallest reply slot its success reply fits in (READPAGE: the status slot).
    pub const fn reply_len(self) -> u32 {
        match self {
            Command::GetInode
            | Command::Lookup
            | Command::Create
            | Command::Symlink
            | Command::SetInode
            | Command::Hlink => INODE_REP_LEN,
            Command::Statfs => STATFS_REP_LEN,
            Command::ReadDir => READDIR_HEADER_LEN,
            // A status and at least one byte of target.
            Command::ReadLink => STATUS_LEN + 1,
            Command::ReleaseInode
            | Command::ReadPage
            | Command::WritePage
            | Command::Unlink
            | Command::Rename
            | Command::Fsync => STATUS_LEN,
        }
    }

    /// Whether it changes the export (refused on a read-only export).
    pub const fn mutates(self) -> bool {
        matches!(
            self,
            Command::WritePage
                | Command::Create
                | Command::Unlink
                | Command::Symlink
                | Command::Rename
                | Command::SetInode
                | Command::Hlink
        )
    }
}

/// How many TX (request) and RX (reply) descriptors a request takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Request slots: 2 for WRITEPAGE (the request, then the data).
    pub tx: u8,
    /// Reply slots: 2 for READPAGE (the status, then the page).
    pub rx: u8,
}

impl Shape {
    /// The shape of a request whose command word is `cmd` (`None`: shorter than a header).
    pub const fn of(cmd: Option<u16>) -> Self {
        match cmd {
            Some(6) => Shape { tx: 2, rx: 1 },
            Some(3) => Shape { tx: 1, rx: 2 },
            _ => Shape { tx: 1, rx: 1 },
        }
    }
}

/// `u16 id, u16 cmd`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The export id.
    pub export: u16,
    /// The command number (maybe unknown).
    pub cmd: u16,
}

impl Header {
    /// The header of `request`, if it has one.
    pub fn of(request: &[u8]) -> Option<Self> {
        match *request {
            [a, b, c, d, ..] => Some(Header {
                export: u16::from_be_bytes([a, b]),
                cmd: u16::from_be_bytes([c, d]),
            }),
            _ => None,
        }
    }
}

/// A parsed, checked request (the header aside). Inode numbers are as the guest sent them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    /// GETINODE.
    GetInode {
        /// 0: the root.
        ino: u64,
    },
    /// LOOKUP.
    Lookup {
        /// The directory.
        parent: u64,
        /// The name.
        name: Name<'a>,
    },
    /// READPAGE.
    ReadPage {
        /// The file.
        ino: u64,
        /// Page-aligned.
        offset: u64,
        /// 1 to 4096.
        size: u32,
    },
    /// READLINK.
    ReadLink {
        /// The symlink.
        ino: u64,
    },
    /// READDIR.
    ReadDir {
        /// The directory.
        ino: u64,
        /// Cookie: 0 at the start, else a record's offset.
        offset: u64,
        /// Bytes the reply may take (at least the 12-byte header).
        size: u32,
    },
    /// WRITEPAGE (the data is the second request slot).
    WritePage {
        /// The file.
        ino: u64,
        /// Byte position (any alignment).
        offset: u64,
        /// 0 to 4096 bytes, within one page.
        size: u32,
    },
    /// CREATE.
    Create {
        /// The directory.
        parent: u64,
        /// Kind, permissions, device number.
        node: NewNode,
        /// The name.
        name: Name<'a>,
    },
    /// UNLINK.
    Unlink {
        /// The directory.
        parent: u64,
        /// The name.
        name: Name<'a>,
    },
    /// SYMLINK.
    Symlink {
        /// The directory.
        parent: u64,
        /// The link's name.
        name: Name<'a>,
        /// 1 to 251 bytes, no NUL.
        target: &'a [u8],
    },
    /// RENAME.
    Rename {
        /// Directory of the source.
        old_parent: u64,
        /// Directory of the destination.
        new_parent: u64,
        /// The source name.
        old_name: Name<'a>,
        /// The destination name.
        new_name: Name<'a>,
    },
    /// SETINODE.
    SetInode {
        /// The inode.
        ino: u64,
        /// What to set.
        attr: SetAttr,
    },
    /// STATFS.
    Statfs,
    /// HLINK.
    Hlink {
        /// The directory of the new name.
        parent: u64,
        /// The inode to link.
        ino: u64,
        /// The new name.
        name: Name<'a>,
    },
    /// FSYNC.
    Fsync {
        /// The inode.
        ino: u64,
    },
}

/// Big-endian reads from a request that is already known to be long enough.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn u32(&self, at: usize) -> u32 {
        let mut w = [0; 4];
        w.copy_from_slice(&self.0[at..at + 4]);
        u32::from_be_bytes(w)
    }
    fn u64(&self, at: usize) -> u64 {
        let mut w = [0; 8];
        w.copy_from_slice(&self.0[at..at + 8]);
        u64::from_be_bytes(w)
    }
    fn rest(&self, at: usize) -> &'a [u8] {
        &self.0[at..]
    }
}

fn name(bytes: &[u8]) -> Result<Name<'_>, Errno> {
    Name::new(bytes).map_err(|e| match e {
        NameError::TooLong => Errno::NameTooLong,
        NameError::Empty | NameError::BadByte | NameError::Dots => Errno::Inval,
    })
}

fn exactly(request: &[u8], len: usize) -> Result<Fields<'_>, Errno> {
    if request.len() == len {
        Ok(Fields(request))
    } else {
        Err(Errno::Inval)
    }
}

fn at_least(request: &[u8], len: usize) -> Result<Fields<'_>, Errno> {
    if request.len() >= len {
        Ok(Fields(request))
    } else {
        Err(Errno::Inval)
    }
}

fn symlink_target(target: &[u8]) -> Result<&[u8], Errno> {
    match target.len() {
        0 => Err(Errno::NoEnt),
        n if n > SYMLINK_MAX => Err(Errno::NameTooLong),
        _ if target.contains(&0) => Err(Errno::Inval),
        _ => Ok(target),
    }
}

/// Parses `request` (header included) into a [`Request`], or the error to answer.
pub fn parse(request: &[u8]) -> Result<Request<'_>, Errno> {
    let header = Header::of(request).ok_or(Errno::Inval)?;
    let command = Command::from_wire(header.cmd).ok_or(Errno::NoSys)?;
    Ok(match command {
        Command::ReleaseInode => return Err(Errno::NoSys),
        Command::GetInode => Request::GetInode {
            ino: exactly(request, 12)?.u64(4),
        },
        Command::ReadLink => Request::ReadLink {
            ino: exactly(request, 12)?.u64(4),
        },
        Command::Fsync => Request::Fsync {
            ino: exactly(request, 12)?.u64(4),
        },
        Command::Statfs => {
            exactly(request, 4)?;
            Request::Statfs
        }
        Command::Lookup => {
            let f = at_least(request, 12)?;
            Request::Lookup {
                parent: f.u64(4),
                name: name(f.rest(12))?,
            }
        }
        Command::Unlink => {
            let f = at_least(request, 12)?;
            Request::Unlink {
                parent: f.u64(4),
                name: name(f.rest(12))?,
            }
        }
        Command::ReadPage => {
            let f = exactly(request, 24)?;
            let (offset, size) = (f.u64(12), f.u32(20));
            if size == 0 || size > PAGE_SIZE || offset % u64::from(PAGE_SIZE) != 0 {
                return Err(Errno::Inval);
            }
            Request::ReadPage {
                ino: f.u64(4),
                offset,
                size,
            }
        }
        Command::ReadDir => {
            let f = exactly(request, 24)?;
            let size = f.u32(20);
            if size < READDIR_HEADER_LEN {
                return Err(Errno::Inval);
            }
            Request::ReadDir {
                ino: f.u64(4),
                offset: f.u64(12),
                size,
            }
        }
        Command::WritePage => {
            let f = exactly(request, 24)?;
            let (offset, size) = (f.u64(12), f.u32(20));
            let in_page = offset % u64::from(PAGE_SIZE);
            if size > PAGE_SIZE || in_page + u64::from(size) > u64::from(PAGE_SIZE) {
                return Err(Errno::Inval);
            }
            if offset.checked_add(u64::from(size)).is_none() {
                return Err(Errno::FBig);
            }
            Request::WritePage {
                ino: f.u64(4),
                offset,
                size,
            }
        }
        Command::Create => {
            let f = at_least(request, 20)?;
            let mode = f.u32(12);
            let kind = match FileType::from_mode(mode) {
                Some(FileType::Symlink) | None => return Err(Errno::Inval),
                Some(kind) => kind,
            };
            let rdev = if kind.has_rdev() { f.u32(16) } else { 0 };
            Request::Create {
                parent: f.u64(4),
                node: NewNode {
                    kind,
                    perm: (mode & PERM_MASK) as u16,
                    rdev,
                },
                name: name(f.rest(20))?,
            }
        }
        Command::Symlink => {
            let f = at_least(request, 16)?;
            let names = f.rest(16);
            let name_len = f.u32(12) as usize;
            if name_len > names.len() {
                return Err(Errno::Inval);
            }
            let (link, target) = names.split_at(name_len);
            Request::Symlink {
                parent: f.u64(4),
                name: name(link)?,
                target: symlink_target(target)?,
            }
        }
        Command::Rename => {
            let f = at_least(request, 24)?;
            let names = f.rest(24);
            let old_len = f.u32(20) as usize;
            if old_len > names.len() {
                return Err(Errno::Inval);
            }
            let (old, new) = names.split_at(old_len);
            Request::Rename {
                old_parent: f.u64(4),
                new_parent: f.u64(12),
                old_name: name(old)?,
                new_name: name(new)?,
            }
        }
        Command::SetInode => {
            let f = exactly(request, 36)?;
            Request::SetInode {
                ino: f.u64(4),
                attr: SetAttr {
                    size: f.u64(12),
                    perm: (f.u32(20) & PERM_MASK) as u16,
                    uid: f.u32(24),
                    gid: f.u32(28),
                },
            }
        }
        Command::Hlink => {
            let f = at_least(request, 20)?;
            Request::Hlink {
                parent: f.u64(4),
                ino: f.u64(12),
                name: name(f.rest(20))?,
            }
        }
    })
}

impl Request<'_> {
    /// Its command.
    pub const fn command(&self) -> Command {
        match self {
            Request::GetInode { .. } => Command::GetInode,
            Request::Lookup { .. } => Command::Lookup,
            Request::ReadPage { .. } => Command::ReadPage,
            Request::ReadLink { .. } => Command::ReadLink,
            Request::ReadDir { .. } => Command::ReadDir,
            Request::WritePage { .. } => Command::WritePage,
            Request::Create { .. } => Command::Create,
            Request::Unlink { .. } => Command::Unlink,
            Request::Symlink { .. } => Command::Symlink,
            Request::Rename { .. } => Command::Rename,
            Request::SetInode { .. } => Command::SetInode,
            Request::Statfs => Command::Statfs,
            Request::Hlink { .. } => Command::Hlink,
            Request::Fsync { .. } => Command::Fsync,
        }
    }
}
