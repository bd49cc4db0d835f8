//! Hostile metafs requests: wild lengths, sizes, offsets and names, unknown commands, reply
//! slots too small, bad pointers. Each gets a clear error (or faults only queue 2) and changes
//! nothing in the store.

mod common;

use common::metafs::{req, Disk, Pending, VOLUME};
use common::LinuxConsole;
use vdevices::abi::DONE;
use vdevices::{QueueId, QueueStatus};

const MIB: u64 = 1 << 20;
const EINVAL: i32 = 22;
const ENAMETOOLONG: i32 = 78;
const ENOSYS: i32 = 89;
const ESTALE: i32 = 151;

/// A disk with a small tree: `/dir/file` (5000 bytes).
fn disk() -> (Disk, u64, u64, u64) {
    let mut d = Disk::new(64 * MIB, None);
    let root = d.root();
    let dir = d.mkdir(root, b"dir");
    let file = d.mkfile(dir, b"file", &[0x42; 5000]);
    (d, root, dir, file)
}

#[test]
fn wild_lengths_are_einval_and_keep_the_rings_in_step() {
    let (mut d, root, _, file) = disk();
    let before = d.store.tree(VOLUME);
    for len in 0..4 {
        assert_eq!(
            d.call(&req::getinode(0, root)[..len], 76).errno(),
            EINVAL,
            "len {len}"
        );
    }
    let fixed: [Vec<u8>; 7] = [
        req::getinode(0, root),
        req::readlink(0, root),
        req::fsync(0, file),
        req::statfs(0),
        req::readdir(0, root, 0, 4096),
        req::setinode(0, file, 0, 0o644, 0, 0, 0),
        req::readpage(0, file, 0, 4096),
    ];
    for r in fixed {
        for delta in [-1i32, 1] {
            let mut bad = r.clone();
            if delta < 0 {
                bad.pop();
            } else {
                bad.push(0);
            }
            let p = if r[3] == 3 {
                d.post_readpage(&bad)
            } else {
                d.post(&bad, 4096)
            };
            d.serve();
            assert_eq!(
                d.reply(p).errno(),
                EINVAL,
                "command {} length {}",
                r[3],
                bad.len()
            );
        }
    }
    // Variable-length commands shorter than their fixed part.
    for r in [
        req::lookup(0, root, b""),
        req::create(0, root, 0o100_644, 0, b"")[..19].to_vec(),
        req::symlink(0, root, b"", b"")[..15].to_vec(),
        req::rename(0, root, root, b"", b"")[..23].to_vec(),
        req::hlink(0, root, file, b"")[..19].to_vec(),
    ] {
        assert_eq!(d.call(&r, 76).errno(), EINVAL, "{r:?}");
    }
    // The rings are still in step: a good request gets its own answer.
    assert_eq!(d.getinode(file).inode().size, 5000);
    assert_eq!(d.store.tree(VOLUME), before);
    assert_eq!(d.dev.metafs_stats().malformed, 4 + 7 * 2 + 5);
}

#[test]
fn bad_names_never_reach_the_store() {
    let (mut d, root, dir, file) = disk();
    let before = d.store.tree(VOLUME);
    let long = vec![b'a'; 256];
    let huge = vec![b'a'; 4096];
    let cases: [(&[u8], i32); 8] = [
        (b".", EINVAL),
        (b"..", EINVAL),
        (b"a/b", EINVAL),
        (b"/", EINVAL),
        (b"../../etc", EINVAL),
        (b"a\0b", EINVAL),
        (&long, ENAMETOOLONG),
        (&huge, ENAMETOOLONG),
    ];
    for (name, errno) in cases {
        let shown = String::from_utf8_lossy(&name[..name.len().min(12)]).into_owned();
        assert_eq!(d.lookup(dir, name).errno(), errno, "lookup {shown}");
        assert_eq!(
            d.create(dir, 0o100_644, name).errno(),
            errno,
            "create {shown}"
        );
        assert_eq!(
            d.create(dir, 0o040_755, name).errno(),
            errno,
            "mkdir {shown}"
        );
        assert_eq!(d.unlink(dir, name).errno(), errno, "unlink {shown}");
        assert_eq!(d.symlink(dir, name, b"t").errno(), errno, "symlink {shown}");
        assert_eq!(d.hlink(dir, file, name).errno(), errno, "hlink {shown}");
        assert_eq!(
            d.rename(dir, b"file", root, name).errno(),
            errno,
            "rename to {shown}"
        );
        assert_eq!(
            d.rename(dir, name, root, b"x").errno(),
            errno,
            "rename from {shown}"
        );
    }
    // 255 bytes is the longest name.
    let longest = vec![b'n'; 255];
    assert_eq!(d.lookup(dir, &longest).errno(), 2);
    assert_eq!(d.store.tree(VOLUME), before);
    assert_eq!(d.create(dir, 0o100_644, &longest).inode().nlink, 1);
}

#[test]
fn name_lengths_inside_requests_are_checked() {
    let (mut d, root, dir, _) = disk();
    let before = d.store.tree(VOLUME);
    // SYMLINK's namelen and RENAME's old_namelen past the request's end (or wrapping).
    for namelen in [3u32, 100, u32::MAX, 0x8000_0000] {
        let mut r = req::symlink(0, dir, b"ab", b"");
        r[12..16].copy_from_slice(&namelen.to_be_bytes());
        assert_eq!(d.call(&r, 76).errno(), EINVAL, "symlink namelen {namelen}");
        let mut r = req::rename(0, dir, root, b"fi", b"");
        r[20..24].copy_from_slice(&namelen.to_be_bytes());
        assert_eq!(
            d.call(&r, 4).errno(),
            EINVAL,
            "rename old_namelen {namelen}"
        );
    }
    // namelen 0: an empty link name; all of it the target.
    assert_eq!(
        d.call(&req::symlink(0, dir, b"", b"target"), 76).errno(),
        EINVAL
    );
    // RENAME whose new name is empty.
    assert_eq!(d.rename(dir, b"file", root, b"").errno(), EINVAL);
    assert_eq!(d.store.tree(VOLUME), before);
}

#[test]
fn wild_sizes_and_offsets() {
    let (mut d, root, _, file) = disk();
    let before = d.store.tree(VOLUME);
    // READPAGE: size 0, over a page, an offset not on a page: EINVAL, page slot handed back.
    for (offset, size) in [
        (0u64, 0u32),
        (0, 4097),
        (0, u32::MAX),
        (100, 4096),
        (u64::MAX, 4096),
    ] {
        let p = d.post_readpage(&req::readpage(0, file, offset, size));
        d.serve();
        assert_eq!(d.reply(p).errno(), EINVAL, "offset {offset} size {size}");
        assert_eq!(d.g.d_size(d.drv.rx.desc(p.rx + 1)), DONE, "page slot empty");
        assert_eq!(d.drv.written_past(&d.g, p.rx + 1, 0), 0, "page untouched");
    }
    // The largest page-aligned offset reads nothing.
    let (status, page) = d.readpage(file, !4095u64);
    assert_eq!((status.status(), page.bytes.len()), (0, 0));
    // WRITEPAGE: over a page, across a page, data length not the size, past 2^64.
    let cases: [(u64, u32, usize, i32); 6] = [
        (0, 4097, 4097, EINVAL),
        (4000, 200, 200, EINVAL),
        (0, 100, 99, EINVAL),
        (0, 100, 101, EINVAL),
        (u64::MAX - 99, 100, 100, 27),
        (!4095u64, 4096, 4096, 27),
    ];
    for (offset, size, len, errno) in cases {
        let p = d.post_writepage(&req::writepage(0, file, offset, size), &vec![9; len]);
        d.serve();
        assert_eq!(
            d.reply(p).errno(),
            errno,
            "offset {offset} size {size} data {len}"
        );
    }
    // Past the store's largest file: EFBIG.
    assert_eq!(d.writepage(file, 1 << 32, b"x").errno(), 27);
    // READDIR with a size below its header.
    assert_eq!(d.call(&req::readdir(0, root, 0, 11), 4096).errno(), EINVAL);
    assert_eq!(d.store.tree(VOLUME), before);
    // A write of zero bytes is a no-op that succeeds.
    assert_eq!(d.writepage(file, 9999, b"").status(), 0);
    assert_eq!(d.getinode(file).inode().size, 5000);
}

#[test]
fn unknown_commands_are_enosys_and_take_one_slot_each() {
    let (mut d, root, _, _) = disk();
    let mut pending: Vec<Pending> = Vec::new();
    for cmd in [1u16, 15, 16, 0x7FFF, 0xFFFF] {
        pending.push(d.post(&req::raw(0, cmd, 20), 76));
    }
    let ok = d.post(&req::getinode(0, 0), 76);
    d.serve();
    for p in pending {
        assert_eq!(d.reply(p).errno(), ENOSYS);
    }
    assert_eq!(d.reply(ok).inode().ino, root);
}

#[test]
fn inode_numbers_beyond_32_bits_and_dead_ones_are_estale() {
    let (mut d, root, dir, file) = disk();
    for ino in [1u64 << 32, u64::MAX, (1 << 32) | root] {
        assert_eq!(d.getinode(ino).errno(), ESTALE);
        assert_eq!(d.lookup(ino, b"dir").errno(), ESTALE);
        assert_eq!(d.create(ino, 0o100_644, b"x").errno(), ESTALE);
        assert_eq!(d.hlink(dir, ino, b"x").errno(), ESTALE);
        assert_eq!(d.writepage(ino, 0, b"x").errno(), ESTALE);
        let (status, page) = d.readpage(ino, 0);
        assert_eq!((status.errno(), page.bytes.len()), (ESTALE, 0));
    }
    // Never handed out yet.
    assert_eq!(d.getinode(0xFFFF_FFFF).errno(), ESTALE);
    assert_eq!(d.readdir_once(12345, 0).errno(), ESTALE);
    // 0 is the root wherever an inode is expected.
    assert_eq!(d.lookup(0, b"dir").inode().ino, dir);
    // Freed after the guest restarted.
    assert_eq!(d.unlink(dir, b"file").status(), 0);
    vdevices::MetafsStore::release_unlinked(&mut d.store, VOLUME).unwrap();
    assert_eq!(d.writepage(file, 0, b"x").errno(), ESTALE);
    assert_eq!(d.fsync(file).errno(), ESTALE);
}

#[test]
fn a_reply_slot_too_small_changes_nothing() {
    let (mut d, root, dir, _) = disk();
    let before = d.store.tree(VOLUME);
    // CREATE needs 76 bytes for its inode_rep: with 4 the guest learns EINVAL, nothing made.
    assert_eq!(
        d.call(&req::create(0, dir, 0o100_644, 0, b"new"), 4)
            .errno(),
        EINVAL
    );
    assert_eq!(
        d.call(&req::create(0, dir, 0o100_644, 0, b"new"), 75)
            .errno(),
        EINVAL
    );
    assert_eq!(
        d.call(&req::rename(0, dir, root, b"file", b"moved"), 4)
            .status(),
        0
    );
    assert_eq!(
        d.call(&req::rename(0, root, dir, b"moved", b"file"), 4)
            .status(),
        0
    );
    // Smaller than a status: handed back empty.
    let r = d.call(&req::create(0, dir, 0o100_644, 0, b"new"), 3);
    assert!(r.bytes.is_empty());
    let r = d.call(&req::unlink(0, dir, b"file"), 2);
    assert!(r.bytes.is_empty());
    assert_eq!(d.store.tree(VOLUME), before);
    // READDIR into a buffer that holds no record: EINVAL rather than a false end. (".", ".."
    // fit in 100 bytes; the 200-byte name after them does not.)
    let only = d.mkdir(root, b"only");
    d.create(only, 0o100_644, &[b'z'; 200]).inode();
    let r = d.call(&req::readdir(0, only, 0, 4096), 100);
    assert_eq!(r.bytes.len(), 12 + 20 + 21, "what fits comes, resumable");
    let r = d.call(&req::readdir(0, only, 2, 4096), 100);
    assert_eq!(r.errno(), EINVAL);
    // STATFS and READLINK with short slots.
    assert_eq!(d.call(&req::statfs(0), 11).errno(), EINVAL);
    let l = d.symlink(root, b"l", b"/a/long/enough/target").inode().ino;
    assert_eq!(d.call(&req::readlink(0, l), 10).errno(), ENAMETOOLONG);
    assert_eq!(d.call(&req::readlink(0, l), 4).errno(), EINVAL);
}

#[test]
fn bad_pointers_fault_only_queue_2_and_change_nothing() {
    for case in 0..4 {
        let (mut d, _, dir, file) = disk();
        let mut console = LinuxConsole::setup(&mut d.g, &mut d.dev);
        let before = d.store.tree(VOLUME);
        let outside = d.g.end() + 0x100;
        match case {
            0 => {
                // The request itself.
                let p = d.post(&req::create(0, dir, 0o100_644, 0, b"new"), 76);
                d.g.w32(d.drv.tx.desc(p.tx), outside);
            }
            1 => {
                // CREATE's reply slot: checked before the store is called.
                let p = d.post(&req::create(0, dir, 0o100_644, 0, b"new"), 76);
                d.g.w32(d.drv.rx.desc(p.rx), outside);
            }
            2 => {
                // WRITEPAGE's data.
                let p = d.post_writepage(&req::writepage(0, file, 0, 8), b"xxxxxxxx");
                d.g.w32(d.drv.tx.desc(p.tx + 1), outside);
            }
            _ => {
                // READPAGE's page.
                let p = d.post_readpage(&req::readpage(0, file, 0, 4096));
                d.g.w32(d.drv.rx.desc(p.rx + 1), d.g.end() - 100);
            }
        }
        let served = d.dev.serve_metafs(&mut d.g.ram(), &mut d.store, d.now);
        assert!(served.is_err(), "case {case}");
        assert_eq!(d.dev.take_events().faulted, 1 << 2, "case {case}");
        assert!(matches!(
            d.dev.queue_status(QueueId::Metafs),
            QueueStatus::Faulted(_)
        ));
        assert_eq!(d.store.tree(VOLUME), before, "case {case}");
        // The console still works.
        console.put_chars(&mut d.g, b"still here");
        let mut out = Vec::new();
        d.dev
            .service(&mut d.g.ram(), &mut |b| out.extend_from_slice(b));
        assert_eq!(out, b"still here");
        d.store.check().unwrap();
    }
}

#[test]
fn a_failing_store_gives_eio_and_the_next_requests_work() {
    let (mut d, root, dir, file) = disk();
    d.store.fail_after(0, vdevices::FsError::Io);
    assert_eq!(d.create(dir, 0o100_644, b"new").errno(), 5);
    d.store.check().unwrap();
    // READDIR calls the store three times (attributes, parent, entries): each may fail.
    for calls in 0..2 {
        d.store.fail_after(calls, vdevices::FsError::Io);
        assert_eq!(d.readdir_once(dir, 0).errno(), 5, "failing call {calls}");
    }
    // Records already in the reply stand (the guest resumes after them and meets the error).
    d.store.fail_after(2, vdevices::FsError::Io);
    let partial = d.readdir_once(dir, 0);
    assert_eq!(common::metafs::records(&partial.bytes).len(), 2);
    d.store.fail_after(2, vdevices::FsError::Io);
    assert_eq!(d.readdir_once(dir, 2).errno(), 5);
    assert_eq!(d.lookup(root, b"dir").inode().ino, dir);
    d.store.fail_after(0, vdevices::FsError::Io);
    let (status, page) = d.readpage(file, 0);
    assert_eq!((status.errno(), page.bytes.len()), (5, 0));
    assert_eq!(d.readpage(file, 0).1.bytes, vec![0x42; 4096]);
}
