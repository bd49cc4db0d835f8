//! metafs errors in the guest architecture's numbering: MIPS guests get `arch/mips`'s numbers,
//! PowerPC guests the generic ones; numbers 1..=34 are the same for both.

mod common;

use common::metafs::{req, Disk};
use common::Guest;
use vdevices::abi::DONE;
use vdevices::{Errno, ErrnoTable, FsError, GuestDevices};

const MIB: u64 = 1 << 20;

/// The design note's table (`metafs.md`, section 2, rule 8), transcribed.
#[test]
fn the_tables_match_the_guests_errno_h() {
    let table: [(Errno, i32, i32); 20] = [
        (Errno::Perm, 1, 1),
        (Errno::NoEnt, 2, 2),
        (Errno::Io, 5, 5),
        (Errno::NoMem, 12, 12),
        (Errno::Exist, 17, 17),
        (Errno::NoDev, 19, 19),
        (Errno::NotDir, 20, 20),
        (Errno::IsDir, 21, 21),
        (Errno::Inval, 22, 22),
        (Errno::FBig, 27, 27),
        (Errno::NoSpc, 28, 28),
        (Errno::RoFs, 30, 30),
        (Errno::MLink, 31, 31),
        (Errno::NameTooLong, 78, 36),
        (Errno::NoSys, 89, 38),
        (Errno::NotEmpty, 93, 39),
        (Errno::Loop, 90, 40),
        (Errno::OpNotSupp, 122, 95),
        (Errno::DQuot, 1133, 122),
        (Errno::Stale, 151, 116),
    ];
    for (errno, mips, generic) in table {
        assert_eq!(errno.number(ErrnoTable::Mips), mips, "{}", errno.name());
        assert_eq!(
            errno.number(ErrnoTable::Generic),
            generic,
            "{}",
            errno.name()
        );
    }
    assert_eq!(
        ErrnoTable::for_machine(guest_mem::ElfMachine::Mips),
        ErrnoTable::Mips
    );
    assert_eq!(
        ErrnoTable::for_machine(guest_mem::ElfMachine::PowerPc),
        ErrnoTable::Generic
    );
}

/// The same failures, answered to a MIPS guest and to a PowerPC guest.
fn failures(table: ErrnoTable) -> Vec<i32> {
    let mut d = Disk::with_table(64 * MIB, Some(64 * 1024), table);
    let root = d.root();
    let dir = d.mkdir(root, b"dir");
    d.mkfile(dir, b"f", b"x");
    let f = d.lookup(dir, b"f").inode().ino;
    let mut out = vec![
        d.call(&req::raw(0, 1, 8), 76).errno(), // RELEASE_INODE: ENOSYS
        d.call(&req::raw(0, 99, 8), 76).errno(), // unknown: ENOSYS
        d.unlink(root, b"dir").errno(),         // ENOTEMPTY
        d.lookup(root, &[b'n'; 256]).errno(),   // ENAMETOOLONG
        d.getinode(1 << 32).errno(),            // ESTALE
        d.lookup(root, b"missing").errno(),     // ENOENT
        d.create(root, 0o040_755, b"dir").errno(), // EEXIST
        d.lookup(f, b"x").errno(),              // ENOTDIR
        d.rename(dir, b"f", root, b"dir").errno(), // EISDIR
        d.hlink(root, dir, b"x").errno(),       // EPERM
        d.setinode(f, 1 << 40, 0o644, 0, 0).errno(), // EFBIG
        d.call(&req::raw(5, 0, 8), 76).errno(), // ENODEV
        d.call(&req::raw(0, 0, 4), 76).errno(), // EINVAL (short GETINODE)
    ];
    // ENOSPC: the 64 KiB quota.
    let big = d.create(root, 0o100_644, b"big").inode().ino;
    let mut enospc = 0;
    for page in 0..32u64 {
        let r = d.writepage(big, page * 4096, &[1; 4096]);
        if r.status() < 0 {
            enospc = r.errno();
            break;
        }
    }
    out.push(enospc);
    // EIO from the medium.
    d.store.fail_after(0, FsError::Io);
    out.push(d.getinode(root).errno());
    out
}

#[test]
fn mips_and_powerpc_guests_get_their_own_numbers() {
    let mips = failures(ErrnoTable::Mips);
    let ppc = failures(ErrnoTable::Generic);
    assert_eq!(
        mips,
        [89, 89, 93, 78, 151, 2, 17, 20, 21, 1, 27, 19, 22, 28, 5]
    );
    assert_eq!(
        ppc,
        [38, 38, 39, 36, 116, 2, 17, 20, 21, 1, 27, 19, 22, 28, 5]
    );
}

#[test]
fn a_powerpc_guest_without_a_disk_gets_the_generic_enosys() {
    let mut g = Guest::with_base(1 << 20, 0x8000_0000);
    let mut dev = GuestDevices::new();
    dev.set_errno_table(ErrnoTable::Generic);
    let tx = g.ring(16, 0, 0);
    let rx = g.ring(16, 0, DONE);
    assert_eq!(
        g.create_queue(&mut dev, 2, 0xFFFF_FFFF, tx.head, rx.head),
        0
    );
    let (req_buf, rep_buf) = (g.alloc(12, 4), g.alloc(76, 4));
    g.write(req_buf, &req::getinode(0, 0));
    g.set_desc(rx.desc(0), rep_buf, 76, rx.desc(1));
    g.set_desc(tx.desc(0), req_buf, 12 | DONE, tx.desc(1));
    dev.service(&mut g.ram(), &mut |_| {});
    assert_eq!(g.d_size(rx.desc(0)), 4 | DONE);
    assert_eq!(g.read(rep_buf, 4), (-38i32).to_be_bytes());
}
