//! metafs error numbers, in the guest architecture's numbering.
//!
//! A metafs error reply is the negated Linux errno of the *guest's* architecture
//! (`asm/errno.h`). Numbers 1 to 34 (`asm-generic/errno-base.h`) are the same everywhere; above
//! that MIPS has its own table (`arch/mips/include/uapi/asm/errno.h`: ENAMETOOLONG 78, ENOSYS 89,
//! ELOOP 90, ENOTEMPTY 93, EOPNOTSUPP 122, ESTALE 151, EDQUOT 1133), while PowerPC uses the
//! generic one (`asm-generic/errno.h`: 36, 38, 40, 39, 95, 116, 122). A generic -38 reads as
//! EL2NSYNC to a MIPS guest, so the server always answers in the guest's numbering.

use super::store::FsError;
use guest_mem::ElfMachine;

/// Which `asm/errno.h` the guest kernel was built with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrnoTable {
    /// MIPS: its own numbers above 34.
    Mips,
    /// `asm-generic/errno.h`: PowerPC (and most other architectures).
    Generic,
}

impl ErrnoTable {
    /// The table of the guests a hypervisor built for this CPU runs until told otherwise
    /// (`GuestDevices::set_errno_table`): a hypervisor runs guests of its own CPU family only
    /// (MIPS guests on the MIPS boards, e500 guests on the PowerPC ones), so a PowerPC build
    /// answers in the generic numbering; every other build (MIPS, and the host's tests and
    /// simulator, whose guests are MIPS) in the MIPS one.
    pub const NATIVE: ErrnoTable = if cfg!(target_arch = "powerpc") {
        ErrnoTable::Generic
    } else {
        ErrnoTable::Mips
    };

    /// The table of guests built for `machine`.
    pub const fn for_machine(machine: ElfMachine) -> Self {
        match machine {
            ElfMachine::Mips => ErrnoTable::Mips,
            ElfMachine::PowerPc => ErrnoTable::Generic,
        }
    }
}

/// The errors a metafs reply can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Errno {
    /// EPERM.
    Perm,
    /// ENOENT.
    NoEnt,
    /// EIO.
    Io,
    /// ENOMEM.
    NoMem,
    /// EEXIST.
    Exist,
    /// ENODEV: no such export.
    NoDev,
    /// ENOTDIR.
    NotDir,
    /// EISDIR.
    IsDir,
    /// EINVAL: a malformed request, or one that makes no sense.
    Inval,
    /// EFBIG.
    FBig,
    /// ENOSPC: the disk-size quota or the store is full.
    NoSpc,
    /// EROFS: a read-only export.
    RoFs,
    /// EMLINK.
    MLink,
    /// ENAMETOOLONG.
    NameTooLong,
    /// ENOSYS: an unknown command (or no disk at all).
    NoSys,
    /// ENOTEMPTY.
    NotEmpty,
    /// ELOOP.
    Loop,
    /// EOPNOTSUPP.
    OpNotSupp,
    /// EDQUOT.
    DQuot,
    /// ESTALE: an inode number that is not a live inode of the export.
    Stale,
}

impl Errno {
    /// Every error, for tables and tests.
    pub const ALL: [Errno; 20] = [
        Errno::Perm,
        Errno::NoEnt,
        Errno::Io,
        Errno::NoMem,
        Errno::Exist,
        Errno::NoDev,
        Errno::NotDir,
        Errno::IsDir,
        Errno::Inval,
        Errno::FBig,
        Errno::NoSpc,
        Errno::RoFs,
        Errno::MLink,
        Errno::NameTooLong,
        Errno::NoSys,
        Errno::NotEmpty,
        Errno::Loop,
        Errno::OpNotSupp,
        Errno::DQuot,
        Errno::Stale,
    ];

    /// The positive errno in `table`.
    pub const fn number(self, table: ErrnoTable) -> i32 {
        let mips = matches!(table, ErrnoTable::Mips);
        match self {
            Errno::Perm => 1,
            Errno::NoEnt => 2,
            Errno::Io => 5,
            Errno::NoMem => 12,
            Errno::Exist => 17,
            Errno::NoDev => 19,
            Errno::NotDir => 20,
            Errno::IsDir => 21,
            Errno::Inval => 22,
            Errno::FBig => 27,
            Errno::NoSpc => 28,
            Errno::RoFs => 30,
            Errno::MLink => 31,
            Errno::NameTooLong => pick(mips, 78, 36),
            Errno::NoSys => pick(mips, 89, 38),
            Errno::NotEmpty => pick(mips, 93, 39),
            Errno::Loop => pick(mips, 90, 40),
            Errno::OpNotSupp => pick(mips, 122, 95),
            Errno::DQuot => pick(mips, 1133, 122),
            Errno::Stale => pick(mips, 151, 116),
        }
    }

    /// The status word of an error reply: the negated number.
    pub const fn status(self, table: ErrnoTable) -> i32 {
        -self.number(table)
    }

    /// The error with positive number `n` in `table`, if it is one of these.
    pub fn from_number(n: i32, table: ErrnoTable) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.number(table) == n)
    }

    /// The symbolic name (`"ENOENT"`).
    pub const fn name(self) -> &'static str {
        match self {
            Errno::Perm => "EPERM",
            Errno::NoEnt => "ENOENT",
            Errno::Io => "EIO",
            Errno::NoMem => "ENOMEM",
            Errno::Exist => "EEXIST",
            Errno::NoDev => "ENODEV",
            Errno::NotDir => "ENOTDIR",
            Errno::IsDir => "EISDIR",
            Errno::Inval => "EINVAL",
            Errno::FBig => "EFBIG",
            Errno::NoSpc => "ENOSPC",
            Errno::RoFs => "EROFS",
            Errno::MLink => "EMLINK",
            Errno::NameTooLong => "ENAMETOOLONG",
            Errno::NoSys => "ENOSYS",
            Errno::NotEmpty => "ENOTEMPTY",
            Errno::Loop => "ELOOP",
            Errno::OpNotSupp => "EOPNOTSUPP",
            Errno::DQuot => "EDQUOT",
            Errno::Stale => "ESTALE",
        }
    }
}

const fn pick(mips: bool, on_mips: i32, generic: i32) -> i32 {
    if mips {
        on_mips
    } else {
        generic
    }
}

impl From<FsError> for Errno {
    fn from(e: FsError) -> Self {
        match e {
            FsError::NotFound => Errno::NoEnt,
            FsError::Exists => Errno::Exist,
            FsError::NotDir => Errno::NotDir,
            FsError::IsDir => Errno::IsDir,
            FsError::NotEmpty => Errno::NotEmpty,
            // The disk-size quota shows as a full disk, as a MetaROUTER guest expects.
            FsError::NoSpace => Errno::NoSpc,
            FsError::NameTooLong => Errno::NameTooLong,
            FsError::Invalid => Errno::Inval,
            FsError::Stale => Errno::Stale,
            FsError::NotPermitted => Errno::Perm,
            FsError::FileTooBig => Errno::FBig,
            FsError::TooManyLinks => Errno::MLink,
            FsError::ReadOnly => Errno::RoFs,
            FsError::Io => Errno::Io,
            FsError::NoMemory => Errno::NoMem,
            FsError::NotSupported => Errno::OpNotSupp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_differ_only_above_34() {
        for e in Errno::ALL {
            let (m, g) = (e.number(ErrnoTable::Mips), e.number(ErrnoTable::Generic));
            if g <= 34 {
                assert_eq!(m, g, "{}", e.name());
            } else {
                assert_ne!(m, g, "{}", e.name());
            }
        }
    }

    #[test]
    fn numbers_are_distinct_and_round_trip() {
        for table in [ErrnoTable::Mips, ErrnoTable::Generic] {
            for e in Errno::ALL {
                assert_eq!(Errno::from_number(e.number(table), table), Some(e));
            }
        }
    }
}
