//! The body of the `metafs_server` fuzz target: a hostile guest's metafs requests served from
//! the disk's real file store, through the real queue-2 engine and server.
//!
//! The guest has export 0 on an area with a 256 KiB quota; another guest's area and the host's
//! area each hold a file. Input: a list of records, each a request posted exactly as MikroTik's
//! driver posts it (slots by the command word's shape: WRITEPAGE's data in a second TX slot,
//! READPAGE's page in a second reply slot), with bytes taken from the input as they are (wild
//! lengths, sizes, offsets, inode numbers, names with `..`, `/`, NUL, unknown commands), padded
//! on demand to names of 4 KiB and more, and a reply slot of a chosen capacity. It panics only
//! when a property breaks:
//! - serving never faults the queue (the rings and buffers are well formed; only the requests
//!   are hostile) and every fully posted request is answered in that pass;
//! - a reply is never longer than its slot's capacity, and nothing past it is written;
//! - the other guest's area and the host's area are unchanged, byte for byte;
//! - the guest's area stays within its quota;
//! - the store, remounted from the device at the end, checks clean.

use alloc::vec;
use alloc::vec::Vec;

use filestore::sim::MemDevice;
use filestore::{AreaId, MountOptions, Store, Time, ROOT_INO, S_IFREG};
use guest_mem::{GuestRam, Gva};
use vdevices::metafs::wire::{Header, Shape};
use vdevices::{Export, GuestDevices, Timestamp};

use crate::{volume_of, DiskVolumes};

const BASE: u32 = 0x8000_0000;
const RAM: usize = 384 << 10;
const SLOTS: u32 = 16;
const TX_RING: u32 = 0x100;
const RX_RING: u32 = 0x200;
const TX_BUFS: u32 = 0x1000;
const TX_BUF: u32 = 12 << 10;
const RX_BUFS: u32 = TX_BUFS + SLOTS * TX_BUF;
/// Each reply buffer is a page and a canary tail.
const RX_BUF: u32 = 4096 + 64;
const CANARY: u8 = 0xEE;
const DONE: u32 = vdevices::abi::DONE;
const QUOTA: u64 = 256 << 10;

/// The model guest's RAM.
struct Ram(Vec<u8>);

impl Ram {
    fn ram(&mut self) -> GuestRam<'_> {
        GuestRam::new(&mut self.0, Gva::new(BASE)).expect("a valid window")
    }
    fn at(gva: u32) -> usize {
        (gva - BASE) as usize
    }
    fn w32(&mut self, gva: u32, v: u32) {
        self.0[Self::at(gva)..Self::at(gva) + 4].copy_from_slice(&v.to_be_bytes());
    }
    fn r32(&self, gva: u32) -> u32 {
        let o = Self::at(gva);
        u32::from_be_bytes([self.0[o], self.0[o + 1], self.0[o + 2], self.0[o + 3]])
    }
    fn desc(ring: u32, i: u32) -> u32 {
        BASE + ring + 16 * (i % SLOTS)
    }
}

/// A request posted and not yet checked.
struct Posted {
    rx: u32,
    capacities: Vec<u32>,
    tx: Vec<u32>,
}

/// The contents of a (non-guest) area: every root entry's name and file bytes.
fn contents(store: &mut Store<MemDevice>, area: AreaId) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut entries = Vec::new();
    store
        .readdir(area, ROOT_INO, 0, &mut |e| {
            entries.push((e.name.clone(), e.ino));
            true
        })
        .expect("the area's root");
    entries
        .into_iter()
        .map(|(name, ino)| {
            let mut data = vec![0u8; 8192];
            let n = store.read(area, ino, 0, &mut data).unwrap_or(0);
            data.truncate(n);
            (name, data)
        })
        .collect()
}

/// Runs the hostile guest of `data` against the store.
pub fn server(data: &[u8]) {
    session(data);
}

/// What a session did: requests answered, and of them those whose status said success.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub answered: u32,
    pub succeeded: u32,
}

/// [`server`], telling what happened.
pub fn session(data: &[u8]) -> Summary {
    let mut summary = Summary::default();
    let mut store = Store::format(MemDevice::new(1024), Time::ZERO).expect("format");
    let area = store.create_area(b"mr1", Some(QUOTA)).expect("area");
    let other = store.create_area(b"mr2", None).expect("area");
    for (a, name) in [(other, &b"secret"[..]), (AreaId::HOST, b"host.tgz")] {
        let ino = store
            .create(a, ROOT_INO, name, S_IFREG | 0o600, 0)
            .expect("file")
            .ino;
        store.write(a, ino, 0, &[0x5A; 5000]).expect("write");
    }
    let before = (
        contents(&mut store, other),
        contents(&mut store, AreaId::HOST),
    );

    let mut ram = Ram(vec![0; RAM]);
    for i in 0..SLOTS {
        let (t, r) = (Ram::desc(TX_RING, i), Ram::desc(RX_RING, i));
        ram.w32(t, TX_BUFS + BASE + i * TX_BUF);
        ram.w32(t + 4, 0);
        ram.w32(t + 8, Ram::desc(TX_RING, i + 1));
        ram.w32(r, 0);
        ram.w32(r + 4, DONE);
        ram.w32(r + 8, Ram::desc(RX_RING, i + 1));
    }
    let mut dev = GuestDevices::new();
    dev.set_metafs_export(
        0,
        Some(Export::read_write(volume_of(area).expect("a guest area"))),
    )
    .expect("export");
    let created = dev.hypercall(
        &mut ram.ram(),
        4,
        [2, 0xFFFF_FFFF, BASE + TX_RING, BASE + RX_RING],
    );
    assert_eq!(created, 0, "queue 2 created");

    let (mut cur_tx, mut cur_rx) = (0u32, 0u32);
    let mut posted: Vec<Posted> = Vec::new();
    let mut now = Timestamp {
        sec: 1_700_000_000,
        nsec: 0,
    };
    let mut rest = data;
    let mut serve = |ram: &mut Ram,
                     posted: &mut Vec<Posted>,
                     store: &mut Store<MemDevice>,
                     summary: &mut Summary| {
        now.sec += 1;
        let mut volumes = DiskVolumes::new(store);
        for _ in 0..4 {
            dev.serve_metafs(&mut ram.ram(), &mut volumes, now)
                .expect("serving a well-formed queue never faults");
        }
        for p in posted.drain(..) {
            for t in p.tx {
                assert_eq!(
                    ram.r32(Ram::desc(TX_RING, t) + 4) & DONE,
                    0,
                    "request handed back"
                );
            }
            for (k, &capacity) in p.capacities.iter().enumerate() {
                let d = Ram::desc(RX_RING, p.rx + k as u32);
                let size = ram.r32(d + 4);
                assert!(size & DONE != 0, "request answered");
                let len = size & !DONE;
                assert!(
                    len <= capacity,
                    "reply {len} longer than its slot {capacity}"
                );
                let buf = Ram::at(ram.r32(d));
                let tail = &ram.0[buf + capacity as usize..buf + RX_BUF as usize];
                assert!(tail.iter().all(|&b| b == CANARY), "written past the slot");
                if k == 0 {
                    summary.answered += 1;
                    let status = &ram.0[buf..buf + 4];
                    if len >= 4 && status[0] & 0x80 == 0 {
                        summary.succeeded += 1;
                    }
                }
            }
        }
    };
    while let [kind, l0, l1, cap, tail @ ..] = rest {
        let len = usize::from(u16::from_le_bytes([*l0, *l1]) % 4096).min(tail.len());
        let (body, tail) = tail.split_at(len);
        rest = tail;
        let mut request = body.to_vec();
        if kind & 0x04 != 0 {
            // A long name: the body, then `cap * 17` bytes of it.
            request.extend(core::iter::repeat_n(b'a', usize::from(*cap) * 17));
        }
        request.truncate((TX_BUF - 16) as usize);
        let shape = Shape::of(Header::of(&request).map(|h| h.cmd));
        let out_tx: usize = posted.iter().map(|p| p.tx.len()).sum();
        let out_rx: usize = posted.iter().map(|p| p.capacities.len()).sum();
        if out_tx + 2 > SLOTS as usize || out_rx + 2 > SLOTS as usize {
            serve(&mut ram, &mut posted, &mut store, &mut summary);
        }
        let capacity = match kind & 0x03 {
            // A slot of size 0 is not armed (the ring's rule): the smallest is 1.
            1 => 1 + u32::from(*cap % 64),
            2 => 4,
            _ => 4096,
        };
        let mut capacities = vec![capacity];
        if shape.rx == 2 {
            capacities.push(4096);
        }
        for (k, &c) in capacities.iter().enumerate() {
            let d = Ram::desc(RX_RING, cur_rx + k as u32);
            let buf = RX_BUFS + BASE + ((cur_rx + k as u32) % SLOTS) * RX_BUF;
            let b = Ram::at(buf);
            ram.0[b..b + RX_BUF as usize].fill(CANARY);
            ram.w32(d, buf);
            ram.w32(d + 4, c);
        }
        let mut txs = vec![cur_tx];
        let post = |ram: &mut Ram, slot: u32, bytes: &[u8]| {
            let d = Ram::desc(TX_RING, slot);
            let buf = Ram::at(ram.r32(d));
            ram.0[buf..buf + bytes.len()].copy_from_slice(bytes);
            ram.w32(d + 4, bytes.len() as u32 | DONE);
        };
        post(&mut ram, cur_tx, &request);
        if shape.tx == 2 {
            // WRITEPAGE's data: up to a page and a half of a pattern.
            let n = usize::from(*cap) * 24;
            let page: Vec<u8> = (0..n).map(|i| (i as u8) ^ kind).collect();
            post(&mut ram, cur_tx + 1, &page);
            txs.push(cur_tx + 1);
        }
        posted.push(Posted {
            rx: cur_rx,
            capacities,
            tx: txs,
        });
        cur_tx += u32::from(shape.tx);
        cur_rx += u32::from(shape.rx);
        if kind & 0x08 != 0 {
            serve(&mut ram, &mut posted, &mut store, &mut summary);
        }
    }
    serve(&mut ram, &mut posted, &mut store, &mut summary);

    let after = (
        contents(&mut store, other),
        contents(&mut store, AreaId::HOST),
    );
    assert!(before == after, "another area changed");
    let used = store.area_info(area).expect("the guest's area").used;
    assert!(used <= QUOTA, "the quota was passed: {used}");
    let dev = store.into_device().map_err(|(e, _)| e).expect("unmount");
    let (_, report) = Store::mount(
        dev,
        MountOptions {
            repair: false,
            verify_data: true,
            ..MountOptions::default()
        },
    )
    .expect("remount");
    assert!(report.is_clean(), "the store is damaged: {report:?}");
    summary
}
