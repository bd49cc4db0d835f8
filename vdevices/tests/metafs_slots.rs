//! The slot rules and ordering of queue 2: READPAGE fills two reply slots, WRITEPAGE takes two
//! request slots, requests are answered strictly in ring order and wait (untouched) for their
//! slots; a hostile guest cannot make the host answer out of order or write an unarmed slot.

mod common;

use common::metafs::{req, Disk, Pending};
use common::Guest;
use vdevices::abi::DONE;
use vdevices::metafs::reference::ReferenceStore;
use vdevices::metafs::store::Timestamp;
use vdevices::{Export, GuestDevices, Volume};

const MIB: u64 = 1 << 20;

fn disk_with_file(data: &[u8]) -> (Disk, u64, u64) {
    let mut d = Disk::new(64 * MIB, None);
    let root = d.root();
    let f = d.mkfile(root, b"f", data);
    (d, root, f)
}

#[test]
fn readpage_waits_for_its_page_slot() {
    let (mut d, _, f) = disk_with_file(&[5; 100]);
    let (tx, rx) = d.drv.start(1, 2);
    d.drv.prepare_receive(&mut d.g, rx, 4);
    d.drv
        .post_request(&mut d.g, tx, &req::readpage(0, f, 0, 4096));
    assert_eq!(d.serve(), 0, "the page slot is not armed yet");
    assert_eq!(d.g.d_size(d.drv.tx.desc(tx)) & DONE, DONE);
    assert_eq!(d.g.d_size(d.drv.rx.desc(rx)), 4);
    d.drv.prepare_receive(&mut d.g, rx + 1, 4096);
    assert_eq!(d.serve(), 1);
    assert_eq!(d.drv.reply(&d.g, rx).unwrap().bytes, [0; 4]);
    assert_eq!(d.drv.reply(&d.g, rx + 1).unwrap().bytes, [5; 100]);
}

#[test]
fn writepage_waits_for_its_data_slot() {
    let (mut d, _, f) = disk_with_file(b"old");
    let (tx, rx) = d.drv.start(2, 1);
    d.drv.prepare_receive(&mut d.g, rx, 4);
    d.drv
        .post_request(&mut d.g, tx, &req::writepage(0, f, 0, 3));
    assert_eq!(d.serve(), 0);
    let content = |d: &Disk| {
        d.store.tree(common::metafs::VOLUME)[&b"/f".to_vec()]
            .content
            .clone()
    };
    assert_eq!(content(&d), b"old", "nothing written yet");
    d.drv.post_request(&mut d.g, tx + 1, b"new");
    assert_eq!(d.serve(), 1);
    assert_eq!(d.drv.reply(&d.g, rx).unwrap().status(), 3);
    assert_eq!(content(&d), b"new");
}

#[test]
fn requests_are_answered_in_ring_order_even_when_posted_out_of_order() {
    let (mut d, root, f) = disk_with_file(b"x");
    // Two kernel threads reserve in turn, the second posts first.
    let (tx_a, rx_a) = d.drv.start(1, 1);
    let (tx_b, rx_b) = d.drv.start(1, 1);
    d.drv.prepare_receive(&mut d.g, rx_a, 76);
    d.drv.prepare_receive(&mut d.g, rx_b, 76);
    d.drv.post_request(&mut d.g, tx_b, &req::getinode(0, f));
    assert_eq!(d.serve(), 0, "B waits behind A's unposted slot");
    assert_eq!(d.g.d_size(d.drv.rx.desc(rx_b)), 76);
    d.drv.post_request(&mut d.g, tx_a, &req::getinode(0, 0));
    assert_eq!(d.serve(), 2);
    assert_eq!(d.drv.reply(&d.g, rx_a).unwrap().inode().ino, root);
    assert_eq!(d.drv.reply(&d.g, rx_b).unwrap().inode().ino, f);
}

#[test]
fn a_failed_readpage_still_completes_its_page_slot_and_later_replies_stay_in_place() {
    let (mut d, root, f) = disk_with_file(b"data");
    let bad = d.post_readpage(&req::readpage(0, root, 0, 4096)); // a directory: EISDIR
    let next = d.post(&req::getinode(0, f), 76);
    assert_eq!(d.serve(), 2);
    assert_eq!(d.reply(bad).errno(), 21);
    assert_eq!(
        d.g.d_size(d.drv.rx.desc(bad.rx + 1)),
        DONE,
        "page slot: 0 | DONE"
    );
    assert_eq!(d.drv.written_past(&d.g, bad.rx + 1, 0), 0);
    assert_eq!(next.rx, bad.rx + 2);
    assert_eq!(d.reply(next).inode().ino, f);
}

#[test]
fn a_full_ring_of_mixed_requests_is_answered_in_one_pass() {
    let (mut d, root, f) = disk_with_file(&[0; 8192]);
    // 5 WRITEPAGE (10 TX, 5 RX), 5 READPAGE (5 TX, 10 RX) and a GETINODE (1 TX, 1 RX): all
    // 16 slots of both rings, with the two counters apart.
    let mut writes: Vec<Pending> = Vec::new();
    for i in 0..5u8 {
        let data = vec![i + 1; 10];
        let off = u64::from(i) * 1000;
        writes.push(d.post_writepage(&req::writepage(0, f, off, 10), &data));
    }
    let reads: Vec<Pending> = (0..5)
        .map(|i| d.post_readpage(&req::readpage(0, f, (i % 2) * 4096, 4096)))
        .collect();
    let last = d.post(&req::getinode(0, 0), 76);
    assert_eq!(d.drv.cur_tx - writes[0].tx, 16);
    assert_eq!(d.drv.cur_rx - writes[0].rx, 16);
    assert_eq!(d.serve(), 11);
    for w in writes {
        assert_eq!(d.reply(w).status(), 10);
    }
    for (i, r) in reads.iter().enumerate() {
        assert_eq!(d.reply(*r).status(), 0);
        let page = d.drv.reply(&d.g, r.rx + 1).unwrap().bytes;
        if i % 2 == 0 {
            assert_eq!(
                page[1000..1010],
                [2; 10],
                "reads see the writes before them"
            );
            assert_eq!(page[4000..4010], [5; 10]);
        } else {
            assert_eq!(page.len(), 4096);
        }
    }
    assert_eq!(d.reply(last).inode().ino, root);
}

#[test]
fn thousands_of_requests_over_many_laps() {
    let (mut d, _, f) = disk_with_file(&[]);
    let mut content: Vec<u8> = Vec::new();
    let mut seed = 0x1234_5678u32;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    for round in 0..600 {
        // Up to four requests in flight per pass; a read sees the writes posted before it.
        let mut pending = Vec::new();
        for _ in 0..1 + rand() % 4 {
            let off = rand() % 8100;
            let len = (1 + rand() % 64).min(4096 - off % 4096);
            if rand() % 2 == 0 {
                let byte = (rand() % 250) as u8 + 1;
                let end = (off + len) as usize;
                if content.len() < end {
                    content.resize(end, 0);
                }
                content[off as usize..end].fill(byte);
                let data = vec![byte; len as usize];
                let request = req::writepage(0, f, u64::from(off), len);
                pending.push((d.post_writepage(&request, &data), None));
            } else {
                let page = (off / 4096 * 4096) as usize;
                let seen =
                    content[page.min(content.len())..(page + 4096).min(content.len())].to_vec();
                let request = req::readpage(0, f, page as u64, 4096);
                pending.push((d.post_readpage(&request), Some(seen)));
            }
        }
        d.serve();
        for (p, read) in pending {
            let r = d.reply(p);
            match read {
                None => assert!(r.status() > 0, "round {round}"),
                Some(seen) => {
                    assert_eq!(r.status(), 0);
                    let page = d.drv.reply(&d.g, p.rx + 1).unwrap();
                    assert_eq!(page.bytes, seen, "round {round}");
                }
            }
        }
    }
    assert_eq!(d.getinode(f).inode().size, content.len() as u64);
    assert!(d.drv.cur_tx > 16 * 50, "{} laps", d.drv.cur_tx / 16);
}

#[test]
fn a_hostile_guest_cannot_force_replies_out_of_order() {
    let (mut d, root, f) = disk_with_file(b"x");
    // The reply slot of the first request is not armed; the second one's is.
    let (tx0, rx0) = d.drv.start(1, 1);
    let (tx1, rx1) = d.drv.start(1, 1);
    d.drv.prepare_receive(&mut d.g, rx1, 76);
    d.drv.post_request(&mut d.g, tx0, &req::getinode(0, root));
    d.drv.post_request(&mut d.g, tx1, &req::getinode(0, f));
    assert_eq!(d.serve(), 0);
    assert_eq!(
        d.drv.written_past(&d.g, rx1, 0),
        0,
        "the armed later slot is not used"
    );
    // A DONE far ahead of the cursor is not looked at either.
    d.g.w32(d.drv.tx.desc(9) + 4, 12 | DONE);
    assert_eq!(d.serve(), 0);
    d.g.w32(d.drv.tx.desc(9) + 4, 0);
    d.drv.prepare_receive(&mut d.g, rx0, 76);
    assert_eq!(d.serve(), 2);
    assert_eq!(d.drv.reply(&d.g, rx0).unwrap().inode().ino, root);
    assert_eq!(d.drv.reply(&d.g, rx1).unwrap().inode().ino, f);
    // Re-arming a slot the host already answered does not bring the host back to it.
    d.drv.prepare_receive(&mut d.g, rx0, 76);
    let p = d.post(&req::getinode(0, f), 76);
    assert_eq!(d.serve(), 1);
    assert_eq!(d.g.d_size(d.drv.rx.desc(rx0)), 76, "untouched");
    assert_eq!(d.reply(p).inode().ino, f);
    // A guest whose counters slip (WRITEPAGE sent as one slot, its data missing) only
    // confuses itself: the next request is taken as the data, both answered EINVAL.
    let (tx, rx) = d.drv.start(1, 1);
    d.drv.prepare_receive(&mut d.g, rx, 4);
    d.drv
        .post_request(&mut d.g, tx, &req::writepage(0, f, 0, 4));
    let p = d.post(&req::getinode(0, f), 76);
    assert_eq!(d.serve(), 1);
    assert_eq!(d.drv.reply(&d.g, rx).unwrap().errno(), 22);
    assert!(
        d.drv.reply(&d.g, p.rx).is_none(),
        "its reply slot waits for a request"
    );
    // The host's reply cursor is one slot behind the guest's now: the next READPAGE's status
    // goes into the slot the guest armed for the GETINODE, its page slot (the guest's
    // status slot, 4 bytes) is too small for a page: EINVAL there, and the guest reads a
    // 0-byte status as -EINVAL. Nothing is written past a posted capacity; the queue works.
    let r = d.post_readpage(&req::readpage(0, f, 0, 4096));
    assert_eq!(d.serve(), 1);
    assert_eq!(d.drv.reply(&d.g, p.rx).unwrap().errno(), 22);
    assert_eq!(d.g.d_size(d.drv.rx.desc(r.rx)), DONE);
    assert_eq!(d.drv.written_past(&d.g, r.rx, 0), 0);
    assert!(matches!(
        d.dev.queue_status(vdevices::QueueId::Metafs),
        vdevices::QueueStatus::Open(_)
    ));
}

#[test]
fn one_descriptor_rings_never_pair_a_slot_with_itself() {
    let mut g = Guest::new(1 << 20);
    let mut dev = GuestDevices::new();
    let now = Timestamp::default();
    let mut store = ReferenceStore::new(MIB);
    store.add_volume(Volume(1), None, now).unwrap();
    dev.set_metafs_export(0, Some(Export::read_write(Volume(1))))
        .unwrap();
    let (tx, rx) = (g.alloc(16, 16), g.alloc(16, 16));
    let (req_buf, rep_buf) = (g.alloc(64, 4), g.alloc(4096, 4));
    g.set_desc(tx, 0, 0, tx);
    g.set_desc(rx, 0, DONE, rx);
    assert_eq!(g.create_queue(&mut dev, 2, 0xFFFF_FFFF, tx, rx), 0);
    for request in [req::readpage(0, 1, 0, 4096), req::writepage(0, 1, 0, 24)] {
        g.write(req_buf, &request);
        g.set_desc(rx, rep_buf, 4096, rx);
        g.set_desc(tx, req_buf, 24 | DONE, tx);
        let served = dev.serve_metafs(&mut g.ram(), &mut store, now).unwrap();
        assert_eq!(served, 0, "waits: there is no second slot");
        assert_eq!(g.d_size(rx), 4096);
    }
    // Another command (the guest replaced the waiting request) goes through.
    g.write(req_buf, &req::getinode(0, 0));
    g.set_desc(tx, req_buf, 12 | DONE, tx);
    assert_eq!(dev.serve_metafs(&mut g.ram(), &mut store, now), Ok(1));
    assert_eq!(g.d_size(rx), 76 | DONE);
}
