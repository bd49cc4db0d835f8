//! metafs (queue 2) of a guest without a disk: every request is refused with ENOSYS in the
//! guest's numbering (MIPS: 89), in protocol order, so the guest's mount fails instead of
//! waiting forever; READPAGE still completes both of its reply slots.

mod common;

use common::Guest;
use vdevices::abi::DONE;
use vdevices::{GuestDevices, QueueId, QueueStatus};

/// Guest side of `fs/metafs/inode.c`: 16 + 16 descriptors, RX initially `size = DONE`.
struct MetafsGuest {
    tx: common::Ring,
    rx: common::Ring,
    cur_tx: u32,
    cur_rx: u32,
}

impl MetafsGuest {
    fn setup(g: &mut Guest, dev: &mut GuestDevices) -> Self {
        let tx = g.ring(16, 0, 0);
        let rx = g.ring(16, 0, DONE);
        assert_eq!(g.create_queue(dev, 2, 0xFFFF_FFFF, tx.head, rx.head), 0);
        Self {
            tx,
            rx,
            cur_tx: 0,
            cur_rx: 0,
        }
    }

    /// `start_new_request` + `prepare_receive` for each reply slot + `post_request` for each
    /// request part; returns the reply slot descriptors.
    fn request(&mut self, g: &mut Guest, parts: &[Vec<u8>], replies: &[u32]) -> Vec<(u32, u32)> {
        let (tx0, rx0) = (self.cur_tx, self.cur_rx);
        self.cur_tx += parts.len() as u32;
        self.cur_rx += replies.len() as u32;
        let mut slots = Vec::new();
        for (i, &size) in replies.iter().enumerate() {
            let buf = g.alloc(size, 4);
            g.write(buf, &vec![0xEE; size as usize]);
            let d = self.rx.desc(rx0 + i as u32);
            g.w32(d, buf);
            g.w32(d + 4, size);
            slots.push((d, buf));
        }
        for (i, part) in parts.iter().enumerate() {
            let d = self.tx.desc(tx0 + i as u32);
            assert_eq!(g.d_size(d) & DONE, 0);
            let buf = g.alloc(part.len() as u32, 4);
            g.write(buf, part);
            g.w32(d, buf);
            g.w32(d + 4, part.len() as u32 | DONE);
        }
        slots
    }
}

fn req(cmd: u16, rest: usize) -> Vec<u8> {
    let mut r = vec![0, 0];
    r.extend_from_slice(&cmd.to_be_bytes());
    r.resize(4 + rest, 0);
    r
}

/// ENOSYS as a MIPS guest numbers it (`arch/mips/include/uapi/asm/errno.h`); the generic 38
/// would read as EL2NSYNC there.
const ENOSYS: [u8; 4] = (-89i32).to_be_bytes();

#[test]
fn getinode_is_refused() {
    let mut g = Guest::new(1 << 20);
    let mut dev = GuestDevices::new();
    let mut m = MetafsGuest::setup(&mut g, &mut dev);
    let slots = m.request(&mut g, &[req(0, 8)], &[80]);
    dev.service(&mut g.ram(), &mut |_| {});
    let (d, buf) = slots[0];
    assert_eq!(
        g.d_size(d),
        4 | DONE,
        "wait_for_reply sees 4 bytes < sizeof(inode_rep)"
    );
    assert_eq!(g.read(buf, 5), [&ENOSYS[..], &[0xEE]].concat());
    assert_eq!(g.d_size(m.tx.desc(0)) & DONE, 0);
    assert!(!dev.take_events().interrupt, "metafs has no virq");
    assert_eq!(dev.stats().metafs_refused, 1);
}

#[test]
fn readpage_completes_both_slots_and_writepage_takes_both_parts() {
    let mut g = Guest::new(1 << 20);
    let mut dev = GuestDevices::new();
    let mut m = MetafsGuest::setup(&mut g, &mut dev);
    let read = m.request(&mut g, &[req(3, 20)], &[4, 4096]);
    let write = m.request(&mut g, &[req(6, 20), vec![0x55; 100]], &[4]);
    let statfs = m.request(&mut g, &[req(12, 0)], &[12]);
    dev.service(&mut g.ram(), &mut |_| {});
    assert_eq!(g.d_size(read[0].0), 4 | DONE);
    assert_eq!(g.read(read[0].1, 4), ENOSYS);
    assert_eq!(
        g.d_size(read[1].0),
        DONE,
        "page slot handed back empty: the guest armed it and would otherwise meet it later"
    );
    assert_eq!(g.read(read[1].1, 4), [0xEE; 4]);
    assert_eq!(g.d_size(write[0].0), 4 | DONE);
    assert_eq!(g.read(write[0].1, 4), ENOSYS);
    assert_eq!(
        g.d_size(statfs[0].0),
        4 | DONE,
        "replies matched by position"
    );
    for i in 0..4 {
        assert_eq!(g.d_size(m.tx.desc(i)) & DONE, 0, "tx {i} handed back");
    }
    assert_eq!(dev.stats().metafs_refused, 3);
}

#[test]
fn requests_wait_for_their_reply_slot_and_data() {
    let mut g = Guest::new(1 << 20);
    let mut dev = GuestDevices::new();
    let mut m = MetafsGuest::setup(&mut g, &mut dev);
    // WRITEPAGE whose data descriptor is not handed over yet.
    let slots = m.request(&mut g, &[req(6, 20)], &[4]);
    m.cur_tx += 1;
    dev.service(&mut g.ram(), &mut |_| {});
    assert_eq!(
        g.d_size(slots[0].0),
        4,
        "not answered before the data arrives"
    );
    assert_eq!(g.d_size(m.tx.desc(0)) & DONE, DONE);
    let buf = g.alloc(8, 4);
    g.set_desc(m.tx.desc(1), buf, 8 | DONE, m.tx.desc(2));
    dev.service(&mut g.ram(), &mut |_| {});
    assert_eq!(g.d_size(slots[0].0), 4 | DONE);
    // A request whose reply slot is not posted waits.
    let d = m.tx.desc(2);
    let buf = g.alloc(12, 4);
    g.write(buf, &req(0, 8));
    g.w32(d, buf);
    g.w32(d + 4, 12 | DONE);
    dev.service(&mut g.ram(), &mut |_| {});
    assert_eq!(g.d_size(d) & DONE, DONE);
    assert_eq!(dev.stats().metafs_refused, 1);
    // A reply slot smaller than an int is handed back empty.
    let rx = m.rx.desc(1);
    g.w32(rx, buf);
    g.w32(rx + 4, 2);
    dev.service(&mut g.ram(), &mut |_| {});
    assert_eq!(g.d_size(rx), DONE);
    assert!(matches!(
        dev.queue_status(QueueId::Metafs),
        QueueStatus::Open(_)
    ));
}
