//! The metafs client (queue 2, no virq), as MikroTik's `fs/metafs/inode.c` talks to the host:
//! a request per TX slot (WRITEPAGE's data in the next one), reply slots armed before the
//! request is posted (READPAGE's page in the slot after its status), both slot counters moving
//! in lock step, the reply waited for by polling its slot and yielding. One request at a time.
//!
//! [`Metafs::root`] is the mount's `GETINODE(0)`; [`Metafs::walk`] resolves a `/`-separated path
//! with LOOKUPs. Errors are the host's errno values (positive).

use core::sync::atomic::{AtomicBool, Ordering};

use mr_proto::descriptor::{is_done, length, link_ring, DescriptorTable, DONE};

use crate::hypercall;
use crate::vdma::{Descriptor, DescriptorRing, DmaBuffer};

const QUEUE: u32 = 2;
const SLOTS: usize = 16;
const BUF: usize = 4096 + 64;
/// Bytes of a page.
pub const PAGE: usize = 4096;
/// `struct inode_rep`.
const INODE_REP: u32 = 76;

static TX: [Descriptor; SLOTS] = [const { Descriptor::new() }; SLOTS];
static RX: [Descriptor; SLOTS] = [const { Descriptor::new() }; SLOTS];
static TX_BUFFERS: [DmaBuffer<BUF>; SLOTS] = [const { DmaBuffer::new() }; SLOTS];
static RX_BUFFERS: [DmaBuffer<BUF>; SLOTS] = [const { DmaBuffer::new() }; SLOTS];
static TAKEN: AtomicBool = AtomicBool::new(false);

const GETINODE: u16 = 0;
const LOOKUP: u16 = 2;
const READPAGE: u16 = 3;
const READDIR: u16 = 5;
const WRITEPAGE: u16 = 6;
const CREATE: u16 = 7;

/// What the host said about an inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inode {
    pub ino: u64,
    pub size: u64,
    pub mode: u32,
}

/// The client.
pub struct Metafs {
    tx: u32,
    rx: u32,
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn be64(b: &[u8], at: usize) -> u64 {
    u64::from(be32(b, at)) << 32 | u64::from(be32(b, at + 4))
}

/// A request being built in a TX buffer.
struct Request<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl Request<'_> {
    fn put(&mut self, bytes: &[u8]) -> &mut Self {
        let end = (self.len + bytes.len()).min(self.buf.len());
        self.buf[self.len..end].copy_from_slice(&bytes[..end - self.len]);
        self.len = end;
        self
    }
}

impl Metafs {
    /// Create queue 2; `Err` with the host's result if it refuses (a guest without a disk).
    pub fn init() -> Result<Self, i32> {
        if TAKEN.swap(true, Ordering::Relaxed) {
            return Err(-16);
        }
        link_ring(&DescriptorRing(&TX));
        link_ring(&DescriptorRing(&RX));
        for i in 0..SLOTS {
            DescriptorRing(&RX).set_size(i, DONE);
        }
        let r = hypercall::vm_create_queue(QUEUE, None, &TX, &RX);
        if r < 0 {
            return Err(r);
        }
        Ok(Self { tx: 0, rx: 0 })
    }

    fn slot(n: u32) -> usize {
        n as usize % SLOTS
    }

    /// Arm the next reply slot with `capacity` bytes.
    fn arm(&mut self, capacity: u32) -> usize {
        let i = Self::slot(self.rx);
        self.rx = self.rx.wrapping_add(1);
        let ring = DescriptorRing(&RX);
        ring.set_addr(i, RX_BUFFERS[i].address());
        ring.set_size(i, capacity);
        i
    }

    /// The next TX slot, once the host has taken what it held.
    fn tx_slot(&mut self) -> usize {
        let i = Self::slot(self.tx);
        self.tx = self.tx.wrapping_add(1);
        while is_done(DescriptorRing(&TX).size(i)) {
            hypercall::vm_yield();
        }
        i
    }

    fn post(i: usize, len: usize) {
        let ring = DescriptorRing(&TX);
        ring.set_addr(i, TX_BUFFERS[i].address());
        ring.set_size(i, len as u32 | DONE);
    }

    /// Build a request `cmd` in TX slot `i` with `fill`; post it.
    fn request(&mut self, cmd: u16, fill: impl FnOnce(&mut Request<'_>)) {
        let i = self.tx_slot();
        // SAFETY: the slot's DONE is clear: the guest owns its buffer until it is posted.
        let buf = unsafe { TX_BUFFERS[i].bytes_mut() };
        let mut r = Request { buf, len: 0 };
        r.put(&0u16.to_be_bytes()).put(&cmd.to_be_bytes());
        fill(&mut r);
        Self::post(i, r.len);
    }

    /// Wait for reply slot `i`; its bytes.
    fn reply(i: usize) -> &'static [u8] {
        let ring = DescriptorRing(&RX);
        loop {
            let size = ring.size(i);
            if is_done(size) {
                // SAFETY: DONE: the host handed the buffer back and writes it no more until the
                // slot is armed again.
                let bytes = unsafe { RX_BUFFERS[i].bytes() };
                return &bytes[..(length(size) as usize & 0x1FFF).min(BUF)];
            }
            hypercall::vm_yield();
        }
    }

    fn status(reply: &[u8]) -> Result<i32, i32> {
        if reply.len() < 4 {
            return Err(5);
        }
        match be32(reply, 0) as i32 {
            s if s < 0 => Err(-s),
            s => Ok(s),
        }
    }

    fn inode(reply: &[u8]) -> Result<Inode, i32> {
        Self::status(reply)?;
        if reply.len() != INODE_REP as usize {
            return Err(5);
        }
        Ok(Inode {
            ino: be64(reply, 4),
            size: be64(reply, 12),
            mode: be32(reply, 20),
        })
    }

    /// The root directory (export 0).
    pub fn root(&mut self) -> Result<Inode, i32> {
        let r = self.arm(INODE_REP);
        self.request(GETINODE, |q| {
            q.put(&0u64.to_be_bytes());
        });
        Self::inode(Self::reply(r))
    }

    /// `name` in directory `dir`.
    pub fn lookup(&mut self, dir: u64, name: &[u8]) -> Result<Inode, i32> {
        let r = self.arm(INODE_REP);
        self.request(LOOKUP, |q| {
            q.put(&dir.to_be_bytes()).put(name);
        });
        Self::inode(Self::reply(r))
    }

    /// The inode a `/`-separated path from the root names.
    pub fn walk(&mut self, path: &[u8]) -> Result<Inode, i32> {
        let mut at = self.root()?;
        for part in path.split(|&b| b == b'/').filter(|p| !p.is_empty()) {
            at = self.lookup(at.ino, part)?;
        }
        Ok(at)
    }

    /// Create a regular file `name` in `dir` with permissions `perm`.
    pub fn create(&mut self, dir: u64, name: &[u8], perm: u32) -> Result<Inode, i32> {
        let r = self.arm(INODE_REP);
        self.request(CREATE, |q| {
            q.put(&dir.to_be_bytes())
                .put(&(0o100_000 | perm).to_be_bytes())
                .put(&0u32.to_be_bytes())
                .put(name);
        });
        Self::inode(Self::reply(r))
    }

    /// Read the page at `offset` (a multiple of 4096) into `page`; the bytes read.
    pub fn read_page(
        &mut self,
        ino: u64,
        offset: u64,
        page: &mut [u8; PAGE],
    ) -> Result<usize, i32> {
        let status = self.arm(4);
        let data = self.arm(PAGE as u32);
        self.request(READPAGE, |q| {
            q.put(&ino.to_be_bytes())
                .put(&offset.to_be_bytes())
                .put(&(PAGE as u32).to_be_bytes());
        });
        Self::status(Self::reply(status))?;
        let bytes = Self::reply(data);
        page[..bytes.len()].copy_from_slice(bytes);
        Ok(bytes.len())
    }

    /// Write `data` (at most to the end of its page) at `offset`; the bytes written.
    pub fn write_page(&mut self, ino: u64, offset: u64, data: &[u8]) -> Result<usize, i32> {
        let r = self.arm(4);
        self.request(WRITEPAGE, |q| {
            q.put(&ino.to_be_bytes())
                .put(&offset.to_be_bytes())
                .put(&(data.len() as u32).to_be_bytes());
        });
        let i = self.tx_slot();
        // SAFETY: as in `request`.
        let buf = unsafe { TX_BUFFERS[i].bytes_mut() };
        let len = data.len().min(PAGE);
        buf[..len].copy_from_slice(&data[..len]);
        Self::post(i, len);
        Self::status(Self::reply(r)).map(|n| n as usize)
    }

    /// List directory `dir`: `each(ino, type, name)` for every entry, `.` and `..` included.
    pub fn list(&mut self, dir: u64, each: &mut dyn FnMut(u64, u8, &[u8])) -> Result<(), i32> {
        let mut offset = 0u64;
        loop {
            let r = self.arm(PAGE as u32);
            self.request(READDIR, |q| {
                q.put(&dir.to_be_bytes())
                    .put(&offset.to_be_bytes())
                    .put(&(PAGE as u32).to_be_bytes());
            });
            let reply = Self::reply(r);
            Self::status(reply)?;
            if reply.len() <= 12 {
                return Ok(());
            }
            offset = be64(reply, 4);
            let mut at = 12;
            while at + 19 < reply.len() {
                let len = usize::from(u16::from_be_bytes([reply[at + 17], reply[at + 18]]));
                if len < 19 || at + len > reply.len() {
                    return Err(5);
                }
                each(be64(reply, at), reply[at + 16], &reply[at + 19..at + len]);
                at += len;
            }
        }
    }
}
