//! Guests reach only their own exports: another guest's inode numbers are ESTALE, there is
//! nothing above an export's root, unknown export ids are ENODEV and read-only exports refuse
//! every change with EROFS.

mod common;

use common::metafs::{req, Driver, Reply};
use common::Guest;
use vdevices::metafs::reference::ReferenceStore;
use vdevices::metafs::store::Timestamp;
use vdevices::{Export, ExportError, GuestDevices, Volume, MAX_EXPORTS};

const MIB: u64 = 1 << 20;
const A: Volume = Volume(1);
const B: Volume = Volume(2);
const SHARED: Volume = Volume(3);
const ESTALE: i32 = 151;

/// Two guests on one store.
struct Host {
    store: ReferenceStore,
    guests: [(Guest, GuestDevices, Driver); 2],
    now: Timestamp,
}

impl Host {
    fn new() -> Self {
        let now = Timestamp::default();
        let mut store = ReferenceStore::new(64 * MIB);
        for v in [A, B, SHARED] {
            store.add_volume(v, None, now).unwrap();
        }
        let guests = [A, B].map(|v| {
            let mut g = Guest::new(1 << 20);
            let mut dev = GuestDevices::new();
            dev.set_metafs_export(0, Some(Export::read_write(v)))
                .unwrap();
            let drv = Driver::setup(&mut g, &mut dev);
            (g, dev, drv)
        });
        Self { store, guests, now }
    }

    /// Guest `i` sends `request` (reply slot of `capacity`) on export `id`.
    fn call(&mut self, i: usize, id: u16, mut request: Vec<u8>, capacity: u32) -> Reply {
        request[..2].copy_from_slice(&id.to_be_bytes());
        let (g, dev, drv) = &mut self.guests[i];
        let (tx, rx) = drv.start(1, 1);
        drv.prepare_receive(g, rx, capacity);
        drv.post_request(g, tx, &request);
        self.now.sec += 1;
        assert_eq!(
            dev.serve_metafs(&mut g.ram(), &mut self.store, self.now),
            Ok(1)
        );
        drv.reply(g, rx).unwrap()
    }

    fn writepage(&mut self, i: usize, id: u16, ino: u64, data: &[u8]) -> Reply {
        let (g, dev, drv) = &mut self.guests[i];
        let (tx, rx) = drv.start(2, 1);
        drv.prepare_receive(g, rx, 4);
        drv.post_request(g, tx, &req::writepage(id, ino, 0, data.len() as u32));
        drv.post_request(g, tx + 1, data);
        assert_eq!(
            dev.serve_metafs(&mut g.ram(), &mut self.store, self.now),
            Ok(1)
        );
        drv.reply(g, rx).unwrap()
    }

    fn readpage(&mut self, i: usize, id: u16, ino: u64) -> (Reply, Reply) {
        let (g, dev, drv) = &mut self.guests[i];
        let (tx, rx) = drv.start(1, 2);
        drv.prepare_receive(g, rx, 4);
        drv.prepare_receive(g, rx + 1, 4096);
        drv.post_request(g, tx, &req::readpage(id, ino, 0, 4096));
        assert_eq!(
            dev.serve_metafs(&mut g.ram(), &mut self.store, self.now),
            Ok(1)
        );
        (drv.reply(g, rx).unwrap(), drv.reply(g, rx + 1).unwrap())
    }
}

#[test]
fn another_guests_inode_numbers_are_estale_for_every_command() {
    let mut h = Host::new();
    // Guest A builds a small tree.
    let a_root = h.call(0, 0, req::getinode(0, 0), 76).inode().ino;
    let a_dir = h
        .call(0, 0, req::create(0, a_root, 0o040_755, 0, b"secret"), 76)
        .inode()
        .ino;
    let a_file = h
        .call(0, 0, req::create(0, a_dir, 0o100_600, 0, b"key"), 76)
        .inode()
        .ino;
    assert_eq!(h.writepage(0, 0, a_file, b"private").status(), 7);
    let a_link = h
        .call(0, 0, req::symlink(0, a_dir, b"l", b"key"), 76)
        .inode()
        .ino;
    let a_tree = h.store.tree(A);
    // Guest B knows (or guesses) those numbers.
    let b_root = h.call(1, 0, req::getinode(0, 0), 76).inode().ino;
    assert_ne!(b_root, a_root);
    let b_file = h
        .call(1, 0, req::create(0, b_root, 0o100_644, 0, b"mine"), 76)
        .inode()
        .ino;
    for ino in [a_root, a_dir, a_file, a_link] {
        let attempts: [(Vec<u8>, u32); 10] = [
            (req::getinode(0, ino), 76),
            (req::lookup(0, ino, b"key"), 76),
            (req::readlink(0, ino), 255),
            (req::readdir(0, ino, 0, 4096), 4096),
            (req::create(0, ino, 0o100_644, 0, b"planted"), 76),
            (req::unlink(0, ino, b"key"), 4),
            (req::rename(0, ino, b_root, b"key", b"stolen"), 4),
            (req::setinode(0, ino, 0, 0o777, 1000, 1000, 0), 76),
            (req::hlink(0, b_root, ino, b"stolen"), 76),
            (req::fsync(0, ino), 4),
        ];
        for (request, capacity) in attempts {
            let cmd = request[3];
            assert_eq!(
                h.call(1, 0, request, capacity).errno(),
                ESTALE,
                "cmd {cmd} ino {ino}"
            );
        }
        // Moving one of B's own files into A's directory.
        let r = h.call(1, 0, req::rename(0, b_root, ino, b"mine", b"planted"), 4);
        assert_eq!(r.errno(), ESTALE);
        assert_eq!(h.writepage(1, 0, ino, b"overwrite").errno(), ESTALE);
        let (status, page) = h.readpage(1, 0, ino);
        assert_eq!((status.errno(), page.bytes.len()), (ESTALE, 0));
    }
    assert_eq!(h.store.tree(A), a_tree, "A's tree is untouched");
    assert_eq!(
        h.call(1, 0, req::getinode(0, b_file), 76).inode().ino,
        b_file
    );
    h.store.check().unwrap();
}

#[test]
fn nothing_is_above_an_exports_root() {
    let mut h = Host::new();
    let root = h.call(1, 0, req::getinode(0, 0), 76).inode().ino;
    let listing = h.call(1, 0, req::readdir(0, root, 0, 4096), 4096);
    let recs = common::metafs::records(&listing.bytes);
    assert_eq!((recs[1].0, recs[1].3.as_slice()), (root, &b".."[..]));
    assert_eq!(h.call(1, 0, req::lookup(0, root, b".."), 76).errno(), 22);
}

#[test]
fn exports_other_than_zero_are_what_the_host_configures() {
    let mut h = Host::new();
    // Nothing at export 1 yet: ENODEV for every command (MIPS and generic 19).
    for request in [
        req::getinode(0, 0),
        req::statfs(0),
        req::create(0, 0, 0o100_644, 0, b"x"),
    ] {
        assert_eq!(h.call(1, 1, request, 76).errno(), 19);
    }
    // A shared read-only tree at export 1 (the host fills it).
    let shared_root = {
        use vdevices::metafs::store::{MetafsStore, Name, NewNode};
        let root = h.store.root(SHARED).unwrap();
        let node = NewNode {
            kind: vdevices::metafs::store::FileType::Regular,
            perm: 0o644,
            rdev: 0,
        };
        let f = h
            .store
            .create(SHARED, root, Name::new(b"readme").unwrap(), node, h.now)
            .unwrap();
        h.store.write(SHARED, f.ino, 0, b"shared", h.now).unwrap();
        root
    };
    h.guests[1]
        .1
        .set_metafs_export(1, Some(Export::read_only(SHARED)))
        .unwrap();
    let root = h.call(1, 1, req::getinode(0, 0), 76).inode();
    assert_eq!(root.ino, u64::from(shared_root.get()));
    let readme = h.call(1, 1, req::lookup(0, 0, b"readme"), 76).inode().ino;
    let (status, page) = h.readpage(1, 1, readme);
    assert_eq!(
        (status.status(), page.bytes.as_slice()),
        (0, &b"shared"[..])
    );
    assert_eq!(h.call(1, 1, req::statfs(0), 12).bytes.len(), 12);
    assert_eq!(h.call(1, 1, req::fsync(0, readme), 4).status(), 0);
    let before = h.store.tree(SHARED);
    let changes: [(Vec<u8>, u32); 6] = [
        (req::create(0, 0, 0o100_644, 0, b"x"), 76),
        (req::unlink(0, 0, b"readme"), 4),
        (req::symlink(0, 0, b"l", b"t"), 76),
        (req::rename(0, 0, 0, b"readme", b"r"), 4),
        (req::setinode(0, readme, 0, 0o777, 0, 0, 0), 76),
        (req::hlink(0, 0, readme, b"h"), 76),
    ];
    for (request, capacity) in changes {
        let cmd = request[3];
        assert_eq!(
            h.call(1, 1, request, capacity).errno(),
            30,
            "EROFS for cmd {cmd}"
        );
    }
    assert_eq!(h.writepage(1, 1, readme, b"x").errno(), 30);
    assert_eq!(h.store.tree(SHARED), before);
    // Guest A does not have export 1; its own export 0 is not B's.
    assert_eq!(h.call(0, 1, req::getinode(0, 0), 76).errno(), 19);
    assert_eq!(h.call(0, 0, req::lookup(0, 0, b"readme"), 76).errno(), 2);
    // The numbers of export 1 are not valid on export 0 either.
    assert_eq!(h.call(1, 0, req::getinode(0, readme), 76).errno(), ESTALE);
    // Removed: ENODEV again.
    h.guests[1].1.set_metafs_export(1, None).unwrap();
    assert_eq!(h.call(1, 1, req::getinode(0, 0), 76).errno(), 19);
    assert_eq!(
        h.guests[1]
            .1
            .set_metafs_export(MAX_EXPORTS as u16, Some(Export::read_only(SHARED))),
        Err(ExportError::BadId(MAX_EXPORTS as u16))
    );
}

#[test]
fn a_guest_whose_exports_are_all_removed_is_refused_with_enosys() {
    let mut h = Host::new();
    h.guests[1].1.set_metafs_export(0, None).unwrap();
    let (g, dev, drv) = &mut h.guests[1];
    let (tx, rx) = drv.start(1, 1);
    drv.prepare_receive(g, rx, 76);
    drv.post_request(g, tx, &req::getinode(0, 0));
    // The file service leaves nothing to answer for a guest without a disk...
    assert_eq!(dev.serve_metafs(&mut g.ram(), &mut h.store, h.now), Ok(1));
    assert_eq!(drv.reply(g, rx).unwrap().errno(), 19);
    // ... and the device service refuses with ENOSYS when nothing serves it.
    let (tx, rx) = drv.start(1, 1);
    drv.prepare_receive(g, rx, 76);
    drv.post_request(g, tx, &req::getinode(0, 0));
    dev.service(&mut g.ram(), &mut |_| {});
    assert_eq!(drv.reply(g, rx).unwrap().errno(), 89);
    assert_eq!(dev.stats().metafs_refused, 1);
}
