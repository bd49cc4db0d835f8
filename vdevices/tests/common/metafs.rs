//! The guest side of metafs, transcribed from MikroTik's driver (`fs/metafs/inode.c`), and a
//! harness that serves it from the reference store.
//!
//! [`req`] builds every request byte for byte as the design note's tables (and the driver's
//! packed structs) lay it out. [`Driver`] is `start_new_request`, `prepare_receive`,
//! `post_request` and `wait_for_reply`: both slot counters in lock step, reply slots armed
//! before the request is posted, WRITEPAGE's data in the next TX slot, READPAGE's page in the
//! next RX slot. Buffers are per slot (the driver uses stack and kmalloc buffers; any guest
//! address works), filled with a canary so tests see every byte the host writes.

use super::Guest;
use guest_mem::Gva;
use vdevices::abi::DONE;
use vdevices::metafs::reference::ReferenceStore;
use vdevices::metafs::store::{Timestamp, Volume};
use vdevices::{ErrnoTable, Export, GuestDevices, MetafsStore};

/// Byte-exact requests (`u16 id, u16 cmd`, then the command's fields, big-endian, packed).
pub mod req {
    fn head(id: u16, cmd: u16) -> Vec<u8> {
        let mut r = id.to_be_bytes().to_vec();
        r.extend_from_slice(&cmd.to_be_bytes());
        r
    }
    fn u32(r: &mut Vec<u8>, v: u32) {
        r.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(r: &mut Vec<u8>, v: u64) {
        r.extend_from_slice(&v.to_be_bytes());
    }

    /// 0 GETINODE: `u64 ino` (12 bytes).
    pub fn getinode(id: u16, ino: u64) -> Vec<u8> {
        let mut r = head(id, 0);
        u64(&mut r, ino);
        r
    }
    /// 2 LOOKUP: `u64 parent_ino; char name[]` (12 + n).
    pub fn lookup(id: u16, parent: u64, name: &[u8]) -> Vec<u8> {
        let mut r = head(id, 2);
        u64(&mut r, parent);
        r.extend_from_slice(name);
        r
    }
    /// 3 READPAGE: `u64 ino; u64 offset; u32 size` (24).
    pub fn readpage(id: u16, ino: u64, offset: u64, size: u32) -> Vec<u8> {
        let mut r = head(id, 3);
        u64(&mut r, ino);
        u64(&mut r, offset);
        u32(&mut r, size);
        r
    }
    /// 4 READLINK: `u64 ino` (12).
    pub fn readlink(id: u16, ino: u64) -> Vec<u8> {
        let mut r = head(id, 4);
        u64(&mut r, ino);
        r
    }
    /// 5 READDIR: `u64 ino; u64 offset; u32 size` (24).
    pub fn readdir(id: u16, ino: u64, offset: u64, size: u32) -> Vec<u8> {
        let mut r = head(id, 5);
        u64(&mut r, ino);
        u64(&mut r, offset);
        u32(&mut r, size);
        r
    }
    /// 6 WRITEPAGE, first TX slot: `u64 ino; u64 offset; u32 size` (24); the data follows in
    /// the next TX slot.
    pub fn writepage(id: u16, ino: u64, offset: u64, size: u32) -> Vec<u8> {
        let mut r = head(id, 6);
        u64(&mut r, ino);
        u64(&mut r, offset);
        u32(&mut r, size);
        r
    }
    /// 7 CREATE: `u64 parent_ino; u32 mode; u32 dev; char name[]` (20 + n).
    pub fn create(id: u16, parent: u64, mode: u32, dev: u32, name: &[u8]) -> Vec<u8> {
        let mut r = head(id, 7);
        u64(&mut r, parent);
        u32(&mut r, mode);
        u32(&mut r, dev);
        r.extend_from_slice(name);
        r
    }
    /// 8 UNLINK: `u64 parent_ino; char name[]` (12 + n).
    pub fn unlink(id: u16, parent: u64, name: &[u8]) -> Vec<u8> {
        let mut r = head(id, 8);
        u64(&mut r, parent);
        r.extend_from_slice(name);
        r
    }
    /// 9 SYMLINK: `u64 parent_ino; u32 namelen; char name[namelen]; char target[]`.
    pub fn symlink(id: u16, parent: u64, name: &[u8], target: &[u8]) -> Vec<u8> {
        let mut r = head(id, 9);
        u64(&mut r, parent);
        u32(&mut r, name.len() as u32);
        r.extend_from_slice(name);
        r.extend_from_slice(target);
        r
    }
    /// 10 RENAME: `u64 old_parent; u64 new_parent; u32 old_namelen; char old[]; char new[]`.
    pub fn rename(id: u16, old_parent: u64, new_parent: u64, old: &[u8], new: &[u8]) -> Vec<u8> {
        let mut r = head(id, 10);
        u64(&mut r, old_parent);
        u64(&mut r, new_parent);
        u32(&mut r, old.len() as u32);
        r.extend_from_slice(old);
        r.extend_from_slice(new);
        r
    }
    /// 11 SETINODE: `u64 ino; u64 size; u32 mode; u32 uid; u32 gid; u32 rdev` (36).
    pub fn setinode(
        id: u16,
        ino: u64,
        size: u64,
        mode: u32,
        uid: u32,
        gid: u32,
        rdev: u32,
    ) -> Vec<u8> {
        let mut r = head(id, 11);
        u64(&mut r, ino);
        u64(&mut r, size);
        for v in [mode, uid, gid, rdev] {
            u32(&mut r, v);
        }
        r
    }
    /// 12 STATFS: nothing (4).
    pub fn statfs(id: u16) -> Vec<u8> {
        head(id, 12)
    }
    /// 13 HLINK: `u64 parent_ino; u64 ino; char name[]` (20 + n).
    pub fn hlink(id: u16, parent: u64, ino: u64, name: &[u8]) -> Vec<u8> {
        let mut r = head(id, 13);
        u64(&mut r, parent);
        u64(&mut r, ino);
        r.extend_from_slice(name);
        r
    }
    /// 14 FSYNC: `u64 ino` (12).
    pub fn fsync(id: u16, ino: u64) -> Vec<u8> {
        let mut r = head(id, 14);
        u64(&mut r, ino);
        r
    }
    /// Any command word with `rest` zero bytes after the header.
    pub fn raw(id: u16, cmd: u16, rest: usize) -> Vec<u8> {
        let mut r = head(id, cmd);
        r.resize(4 + rest, 0);
        r
    }
}

/// `struct inode_rep`, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InodeRep {
    pub status: i32,
    pub ino: u64,
    pub size: u64,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u32,
    pub times: [u32; 6],
    pub blksize: u32,
    pub blocks: u64,
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}
fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().unwrap())
}

impl InodeRep {
    pub fn parse(b: &[u8]) -> Self {
        assert_eq!(b.len(), 76, "an inode_rep is 76 bytes");
        Self {
            status: be32(b, 0) as i32,
            ino: be64(b, 4),
            size: be64(b, 12),
            mode: be32(b, 20),
            nlink: be32(b, 24),
            uid: be32(b, 28),
            gid: be32(b, 32),
            rdev: be32(b, 36),
            times: core::array::from_fn(|i| be32(b, 40 + 4 * i)),
            blksize: be32(b, 64),
            blocks: be64(b, 68),
        }
    }
}

/// A reply as the guest sees it: `size & 0x1FFF` bytes of its buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub bytes: Vec<u8>,
}

impl Reply {
    /// The leading `int` (status, or WRITEPAGE's count).
    pub fn status(&self) -> i32 {
        assert!(
            self.bytes.len() >= 4,
            "reply of {} bytes has no status",
            self.bytes.len()
        );
        be32(&self.bytes, 0) as i32
    }
    /// A 4-byte error reply: its errno (positive).
    pub fn errno(&self) -> i32 {
        assert_eq!(
            self.bytes.len(),
            4,
            "an error reply is 4 bytes: {:?}",
            self.bytes
        );
        let s = self.status();
        assert!(s < 0, "status {s} is not an error");
        -s
    }
    /// A full `inode_rep` with status 0 (what LOOKUP and GETINODE accept).
    pub fn inode(&self) -> InodeRep {
        let rep = InodeRep::parse(&self.bytes);
        assert_eq!(rep.status, 0);
        rep
    }
}

/// Per-slot buffers: requests and data up to this many bytes.
pub const TX_BUF: u32 = 8192;
/// Per-slot reply buffers.
pub const RX_BUF: u32 = 4096;
/// What reply buffers hold before the host writes.
pub const CANARY: u8 = 0xEE;

/// The guest driver: 16 + 16 descriptors, RX initially `size = DONE, addr = 0`.
pub struct Driver {
    pub tx: super::Ring,
    pub rx: super::Ring,
    pub tx_bufs: Vec<u32>,
    pub rx_bufs: Vec<u32>,
    pub cur_tx: u32,
    pub cur_rx: u32,
    pub id: u16,
}

impl Driver {
    /// `init_mfs_fs`: the rings, then `vm_create_queue(2, -1, tx, rx)`.
    pub fn setup(g: &mut Guest, dev: &mut GuestDevices) -> Self {
        let tx = g.ring(16, 0, 0);
        let rx = g.ring(16, 0, DONE);
        let tx_bufs = (0..16).map(|_| g.alloc(TX_BUF, 4)).collect();
        let rx_bufs = (0..16).map(|_| g.alloc(RX_BUF, 4)).collect();
        assert_eq!(g.create_queue(dev, 2, 0xFFFF_FFFF, tx.head, rx.head), 0);
        Self {
            tx,
            rx,
            tx_bufs,
            rx_bufs,
            cur_tx: 0,
            cur_rx: 0,
            id: 0,
        }
    }

    /// `start_new_request`: reserves `tx` request and `rx` reply slots.
    pub fn start(&mut self, tx: u32, rx: u32) -> (u32, u32) {
        let at = (self.cur_tx, self.cur_rx);
        self.cur_tx += tx;
        self.cur_rx += rx;
        at
    }

    /// `prepare_receive`: arms reply slot `idx` with `capacity` bytes of its buffer (the rest of
    /// the buffer gets the canary too, so writes past the capacity show).
    pub fn prepare_receive(&self, g: &mut Guest, idx: u32, capacity: u32) {
        let buf = self.rx_bufs[(idx % 16) as usize];
        g.write(buf, &vec![CANARY; RX_BUF as usize]);
        let d = self.rx.desc(idx);
        g.w32(d, buf);
        g.w32(d + 4, capacity);
    }

    /// `post_request`: the slot must be free (the guest would yield until it is).
    pub fn post_request(&self, g: &mut Guest, idx: u32, bytes: &[u8]) {
        let d = self.tx.desc(idx);
        assert_eq!(
            g.d_size(d) & DONE,
            0,
            "tx slot {idx} still owned by the host"
        );
        let buf = self.tx_bufs[(idx % 16) as usize];
        g.write(buf, bytes);
        g.w32(d, buf);
        g.w32(d + 4, bytes.len() as u32 | DONE);
    }

    /// `wait_for_reply` without the wait: the reply if the host has handed the slot back.
    pub fn reply(&self, g: &Guest, idx: u32) -> Option<Reply> {
        let d = self.rx.desc(idx);
        let size = g.d_size(d);
        if size & DONE == 0 {
            return None;
        }
        let len = size & 0x1FFF;
        let buf = g.d_addr(d);
        // Nothing past the posted capacity (the canary) may change: this driver always posts
        // less than its buffer or the whole buffer.
        Some(Reply {
            bytes: g.read(buf, len),
        })
    }

    /// Bytes of reply slot `idx`'s buffer that are not the canary any more, past `from`.
    pub fn written_past(&self, g: &Guest, idx: u32, from: u32) -> usize {
        let buf = self.rx_bufs[(idx % 16) as usize];
        g.read(buf + from, RX_BUF - from)
            .iter()
            .filter(|&&b| b != CANARY)
            .count()
    }
}

/// A posted request waiting for its reply.
#[derive(Clone, Copy, Debug)]
pub struct Pending {
    pub tx: u32,
    pub rx: u32,
    pub capacity: u32,
    pub pages: bool,
}

/// A MIPS guest with a metafs disk served from a store (the reference store unless another is
/// given to [`Disk::with_store`]).
pub struct Disk<S: MetafsStore = ReferenceStore> {
    pub g: Guest,
    pub dev: GuestDevices,
    pub store: S,
    pub drv: Driver,
    pub volume: Volume,
    pub now: Timestamp,
}

/// The guest's volume in [`Disk::new`].
pub const VOLUME: Volume = Volume(7);

impl Disk {
    /// A guest whose export 0 is a fresh volume with `quota` bytes, in a store of `capacity`.
    pub fn new(capacity: u64, quota: Option<u64>) -> Self {
        Self::with_table(capacity, quota, ErrnoTable::Mips)
    }

    pub fn with_table(capacity: u64, quota: Option<u64>, table: ErrnoTable) -> Self {
        let now = Timestamp {
            sec: 1_700_000_000,
            nsec: 0,
        };
        let mut store = ReferenceStore::new(capacity);
        store.add_volume(VOLUME, quota, now).unwrap();
        Disk::with_store(store, VOLUME, table, now)
    }
}

impl<S: MetafsStore> Disk<S> {
    /// A guest whose export 0 is `volume` of `store`.
    pub fn with_store(store: S, volume: Volume, table: ErrnoTable, now: Timestamp) -> Self {
        let mut g = Guest::new(1 << 20);
        let mut dev = GuestDevices::new();
        dev.set_errno_table(table);
        dev.set_metafs_export(0, Some(Export::read_write(volume)))
            .unwrap();
        let drv = Driver::setup(&mut g, &mut dev);
        Self {
            g,
            dev,
            store,
            drv,
            volume,
            now,
        }
    }

    /// One service pass; returns the requests answered.
    pub fn serve(&mut self) -> u32 {
        self.now.sec += 1;
        self.dev
            .serve_metafs(&mut self.g.ram(), &mut self.store, self.now)
            .unwrap()
    }

    /// Posts a one-slot request with a reply slot of `capacity`.
    pub fn post(&mut self, request: &[u8], capacity: u32) -> Pending {
        let (tx, rx) = self.drv.start(1, 1);
        self.drv.prepare_receive(&mut self.g, rx, capacity);
        self.drv.post_request(&mut self.g, tx, request);
        Pending {
            tx,
            rx,
            capacity,
            pages: false,
        }
    }

    /// Posts READPAGE as `mfs_readpage` does (status slot, page slot, then the request).
    pub fn post_readpage(&mut self, request: &[u8]) -> Pending {
        let (tx, rx) = self.drv.start(1, 2);
        self.drv.prepare_receive(&mut self.g, rx, 4);
        self.drv.prepare_receive(&mut self.g, rx + 1, 4096);
        self.drv.post_request(&mut self.g, tx, request);
        Pending {
            tx,
            rx,
            capacity: 4,
            pages: true,
        }
    }

    /// Posts WRITEPAGE as `mfs_write_end` does (reply slot, request, data).
    pub fn post_writepage(&mut self, request: &[u8], data: &[u8]) -> Pending {
        let (tx, rx) = self.drv.start(2, 1);
        self.drv.prepare_receive(&mut self.g, rx, 4);
        self.drv.post_request(&mut self.g, tx, request);
        self.drv.post_request(&mut self.g, tx + 1, data);
        Pending {
            tx,
            rx,
            capacity: 4,
            pages: false,
        }
    }

    /// The reply of `p` (panics if it has none yet).
    pub fn reply(&self, p: Pending) -> Reply {
        let reply = self
            .drv
            .reply(&self.g, p.rx)
            .expect("reply slot handed back");
        assert_eq!(
            self.drv.written_past(&self.g, p.rx, p.capacity),
            0,
            "bytes written past the posted capacity"
        );
        reply
    }

    /// Posts `request`, serves, returns the reply.
    pub fn call(&mut self, request: &[u8], capacity: u32) -> Reply {
        let p = self.post(request, capacity);
        self.serve();
        self.reply(p)
    }

    /// READPAGE: the status slot and the page slot (both must be handed back).
    pub fn readpage(&mut self, ino: u64, offset: u64) -> (Reply, Reply) {
        let p = self.post_readpage(&req::readpage(self.drv.id, ino, offset, 4096));
        self.serve();
        let status = self.reply(p);
        let page = self
            .drv
            .reply(&self.g, p.rx + 1)
            .expect("READPAGE completes its page slot too");
        (status, page)
    }

    /// WRITEPAGE of `data` at `offset`; returns the reply.
    pub fn writepage(&mut self, ino: u64, offset: u64, data: &[u8]) -> Reply {
        let p = self.post_writepage(
            &req::writepage(self.drv.id, ino, offset, data.len() as u32),
            data,
        );
        self.serve();
        self.reply(p)
    }

    pub fn getinode(&mut self, ino: u64) -> Reply {
        self.call(&req::getinode(self.drv.id, ino), 76)
    }
    pub fn lookup(&mut self, parent: u64, name: &[u8]) -> Reply {
        self.call(&req::lookup(self.drv.id, parent, name), 76)
    }
    pub fn create(&mut self, parent: u64, mode: u32, name: &[u8]) -> Reply {
        self.call(&req::create(self.drv.id, parent, mode, 0, name), 76)
    }
    pub fn mkdir(&mut self, parent: u64, name: &[u8]) -> u64 {
        self.create(parent, 0o040_755, name).inode().ino
    }
    pub fn mkfile(&mut self, parent: u64, name: &[u8], data: &[u8]) -> u64 {
        let ino = self.create(parent, 0o100_644, name).inode().ino;
        for (i, chunk) in data.chunks(4096).enumerate() {
            let r = self.writepage(ino, i as u64 * 4096, chunk);
            assert_eq!(r.status(), chunk.len() as i32);
        }
        ino
    }
    pub fn unlink(&mut self, parent: u64, name: &[u8]) -> Reply {
        self.call(&req::unlink(self.drv.id, parent, name), 4)
    }
    pub fn symlink(&mut self, parent: u64, name: &[u8], target: &[u8]) -> Reply {
        self.call(&req::symlink(self.drv.id, parent, name, target), 76)
    }
    pub fn readlink(&mut self, ino: u64) -> Reply {
        self.call(&req::readlink(self.drv.id, ino), 255)
    }
    pub fn rename(&mut self, from: u64, old: &[u8], to: u64, new: &[u8]) -> Reply {
        self.call(&req::rename(self.drv.id, from, to, old, new), 4)
    }
    pub fn setinode(&mut self, ino: u64, size: u64, mode: u32, uid: u32, gid: u32) -> Reply {
        self.call(
            &req::setinode(self.drv.id, ino, size, mode, uid, gid, 0xDEAD_BEEF),
            76,
        )
    }
    pub fn statfs(&mut self) -> Reply {
        self.call(&req::statfs(self.drv.id), 12)
    }
    pub fn hlink(&mut self, parent: u64, ino: u64, name: &[u8]) -> Reply {
        self.call(&req::hlink(self.drv.id, parent, ino, name), 76)
    }
    pub fn fsync(&mut self, ino: u64) -> Reply {
        self.call(&req::fsync(self.drv.id, ino), 4)
    }
    pub fn readdir_once(&mut self, ino: u64, offset: u64) -> Reply {
        self.call(&req::readdir(self.drv.id, ino, offset, 4096), 4096)
    }

    /// The whole listing of directory `ino` as `mfs_readdir` walks it (records while
    /// `dn + 19 < end` and `dn + len <= end`, then `f_pos = next_offset`), until a reply of 12
    /// bytes or fewer; `(ino, cookie, type, name)` per record.
    pub fn readdir_all(&mut self, ino: u64) -> Vec<(u64, u64, u8, Vec<u8>)> {
        let mut pos = 0;
        let mut out = Vec::new();
        for _ in 0..10_000 {
            let r = self.readdir_once(ino, pos);
            if r.bytes.len() <= 12 {
                assert!(
                    r.bytes.len() < 4 || r.status() == 0,
                    "readdir error {:?}",
                    r.bytes
                );
                return out;
            }
            out.extend(records(&r.bytes));
            pos = be64(&r.bytes, 4);
        }
        panic!("directory listing does not end");
    }

    /// The root's inode number (the mount's `GETINODE(0)`).
    pub fn root(&mut self) -> u64 {
        self.getinode(0).inode().ino
    }

    /// The guest RAM address of a descriptor's buffer, for tests that damage it.
    pub fn gva(&self, at: u32) -> Gva {
        Gva::new(at)
    }
}

/// The records of a READDIR reply, as the driver's loop reads them.
pub fn records(reply: &[u8]) -> Vec<(u64, u64, u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 12;
    while at + 19 < reply.len() {
        let len = u16::from_be_bytes([reply[at + 17], reply[at + 18]]) as usize;
        if at + len > reply.len() || len < 19 {
            break;
        }
        out.push((
            be64(reply, at),
            be64(reply, at + 8),
            reply[at + 16],
            reply[at + 19..at + len].to_vec(),
        ));
        at += len;
    }
    assert_eq!(at, reply.len(), "records fill the reply exactly");
    out
}
