//! Encoding metafs replies: `inode_rep`, `statfs_rep` and directory records (`dirnode`), packed
//! and big-endian as the guest driver declares them.

use super::store::{Attr, Space, Timestamp};
use super::wire::{DIRNODE_HEADER_LEN, INODE_REP_LEN, STATFS_REP_LEN};

/// `blksize` of every inode: the guests' page. (MikroTik's guest takes `ffs(blksize)` as
/// `i_blkbits`, so its `st_blksize` shows 8192; a guest that takes log2 shows 4096.)
pub const BLKSIZE: u32 = 4096;

/// `struct inode_rep` with status 0:
/// `s32 status; u64 ino; u64 size; u32 mode, nlink, uid, gid, rdev; {u32 sec, nsec} atime,
/// mtime, ctime; u32 blksize; u64 blocks`.
pub fn inode_rep(attr: &Attr) -> [u8; INODE_REP_LEN as usize] {
    let mut out = [0u8; INODE_REP_LEN as usize];
    let mut w = Writer {
        out: &mut out,
        at: 0,
    };
    w.u32(0);
    w.u64(u64::from(attr.ino.get()));
    w.u64(attr.size);
    w.u32(attr.mode());
    w.u32(attr.nlink);
    w.u32(attr.uid);
    w.u32(attr.gid);
    w.u32(attr.rdev);
    for t in [attr.atime, attr.mtime, attr.ctime] {
        w.time(t);
    }
    w.u32(BLKSIZE);
    w.u64(attr.blocks);
    debug_assert_eq!(w.at, INODE_REP_LEN as usize);
    out
}

/// 512-byte units, as a `u32` (saturating: a volume of 2 TiB or more shows as 2 TiB).
fn sectors(bytes: u64) -> u32 {
    u32::try_from(bytes / 512).unwrap_or(u32::MAX)
}

/// `struct statfs_rep` with status 0: `s32 status; u32 blocks; u32 bfree` (512-byte units).
pub fn statfs_rep(space: &Space) -> [u8; STATFS_REP_LEN as usize] {
    let mut out = [0u8; STATFS_REP_LEN as usize];
    let mut w = Writer {
        out: &mut out,
        at: 0,
    };
    w.u32(0);
    w.u32(sectors(space.total));
    w.u32(sectors(space.free.min(space.total)));
    out
}

/// Bytes `name` takes as a `dirnode` record.
pub const fn dirnode_len(name: &[u8]) -> usize {
    DIRNODE_HEADER_LEN as usize + name.len()
}

/// Writes a `dirnode` record (`u64 ino; u64 offset; u8 type; u16 len; name`, `len` = the whole
/// record) at the start of `out`, which must hold [`dirnode_len`] bytes.
pub fn dirnode(out: &mut [u8], ino: u64, cookie: u64, dirent_type: u8, name: &[u8]) {
    let len = dirnode_len(name);
    let mut w = Writer {
        out: &mut out[..len],
        at: 0,
    };
    w.u64(ino);
    w.u64(cookie);
    w.bytes(&[dirent_type]);
    w.bytes(&(len as u16).to_be_bytes());
    w.bytes(name);
}

/// The header of a `readdir_rep` with status 0: `s32 status; u64 next_offset`.
pub fn readdir_header(next: u64) -> [u8; 12] {
    let mut out = [0u8; 12];
    out[4..].copy_from_slice(&next.to_be_bytes());
    out
}

struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn bytes(&mut self, b: &[u8]) {
        self.out[self.at..self.at + b.len()].copy_from_slice(b);
        self.at += b.len();
    }
    fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_be_bytes());
    }
    fn time(&mut self, t: Timestamp) {
        self.u32(t.sec);
        self.u32(t.nsec);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metafs::store::{FileType, Ino};

    #[test]
    fn inode_rep_layout() {
        let attr = Attr {
            ino: Ino::new(0x0102_0304).unwrap(),
            kind: FileType::Regular,
            perm: 0o644,
            nlink: 2,
            uid: 5,
            gid: 6,
            rdev: 7,
            size: 0x1_0000_0001,
            blocks: 9,
            atime: Timestamp { sec: 10, nsec: 11 },
            mtime: Timestamp { sec: 12, nsec: 13 },
            ctime: Timestamp { sec: 14, nsec: 15 },
        };
        let rep = inode_rep(&attr);
        assert_eq!(&rep[0..4], &[0; 4]);
        assert_eq!(&rep[4..12], &[0, 0, 0, 0, 1, 2, 3, 4]);
        assert_eq!(&rep[12..20], &[0, 0, 0, 1, 0, 0, 0, 1]);
        assert_eq!(&rep[20..24], &0o100_644u32.to_be_bytes());
        let words: [u32; 11] = core::array::from_fn(|i| {
            u32::from_be_bytes(rep[24 + 4 * i..28 + 4 * i].try_into().unwrap())
        });
        assert_eq!(words, [2, 5, 6, 7, 10, 11, 12, 13, 14, 15, 4096]);
        assert_eq!(&rep[68..76], &9u64.to_be_bytes());
    }

    #[test]
    fn dirnode_layout() {
        let mut out = [0xEE; 32];
        dirnode(&mut out, 3, 0x10, 4, b"etc");
        assert_eq!(
            &out[..23],
            &[0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0x10, 4, 0, 22, b'e', b't', b'c', 0xEE]
                [..]
        );
    }

    #[test]
    fn statfs_saturates() {
        let rep = statfs_rep(&Space {
            total: u64::MAX,
            free: 1024,
            used: 0,
        });
        assert_eq!(&rep[4..8], &u32::MAX.to_be_bytes());
        assert_eq!(&rep[8..12], &2u32.to_be_bytes());
    }
}
