//! Virtual ethernet (queue 3): NEWIFACE / DELIFACE as the guest driver parses them, frames both
//! ways, drops, capacity, guest-to-guest and hairpin delivery.

mod common;

use common::{frame, Guest, LinuxVeth};
use vdevices::abi::DONE;
use vdevices::{control_message, Delivery, DeviceError, GuestDevices, InterfaceError, VethTx};

const MAC1: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x01, 0x01];
const MAC2: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x01, 0x02];
const MAC3: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x01, 0x03];
const PEER: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x02, 0x01];

fn guest_with_veth(ifaces: &[(u16, [u8; 6])]) -> (Guest, GuestDevices, LinuxVeth) {
    let mut g = Guest::new(4 << 20);
    let mut dev = GuestDevices::new();
    g.setup_irqs(&mut dev);
    for &(id, mac) in ifaces {
        dev.set_veth_interface(&mut g.ram(), id, Some(mac)).unwrap();
    }
    let mut veth = LinuxVeth::setup(&mut g, &mut dev, 1024, 128, 1600);
    veth.interrupt(&mut g);
    (g, dev, veth)
}

#[test]
fn control_message_layout() {
    assert_eq!(
        control_message(0, 1, MAC1),
        [0, 0, 0, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0x01, 0x01],
        "u16 id 0, u32 cmd, u16 iface, mac"
    );
    assert_eq!(control_message(1, 7, MAC1)[2..8], [0, 0, 0, 1, 0, 7]);
}

#[test]
fn interfaces_are_announced_when_the_queue_is_created() {
    let (g, dev, veth) = guest_with_veth(&[(1, MAC1), (2, MAC2)]);
    assert_eq!(veth.devs[1], Some(MAC1));
    assert_eq!(veth.devs[2], Some(MAC2));
    assert_eq!(veth.devs.iter().flatten().count(), 2);
    // Exactly what sits in the guest's first two RX buffers.
    assert_eq!(g.read(veth.rx.bufs[0], 14), control_message(0, 1, MAC1));
    assert_eq!(g.read(veth.rx.bufs[1], 14), control_message(0, 2, MAC2));
    assert_eq!(dev.stats().veth.control_messages, 2);
    assert_eq!(dev.veth_announced(1), Some(MAC1));
}

#[test]
fn add_remove_and_change_interfaces() {
    let (mut g, mut dev, mut veth) = guest_with_veth(&[(1, MAC1)]);
    dev.set_veth_interface(&mut g.ram(), 3, Some(MAC3)).unwrap();
    assert!(dev.take_events().interrupt);
    veth.interrupt(&mut g);
    assert_eq!(veth.devs[3], Some(MAC3));
    dev.set_veth_interface(&mut g.ram(), 1, None).unwrap();
    let del = veth.rx.bufs[2];
    assert_eq!(
        g.read(del, 14),
        control_message(1, 1, MAC1),
        "DELIFACE carries the old MAC"
    );
    veth.interrupt(&mut g);
    assert_eq!(veth.devs[1], None);
    // A new MAC for 3: the guest only creates an interface that does not exist, so the host
    // removes it first.
    dev.set_veth_interface(&mut g.ram(), 3, Some(MAC2)).unwrap();
    veth.interrupt(&mut g);
    assert_eq!(veth.devs[3], Some(MAC2));
    assert_eq!(dev.stats().veth.control_messages, 5);
    for bad in [0u16, 8, 100] {
        assert_eq!(
            dev.set_veth_interface(&mut g.ram(), bad, Some(MAC1)),
            Err(InterfaceError::BadId(bad))
        );
    }
}

#[test]
fn announcements_wait_for_posted_buffers() {
    let mut g = Guest::new(1 << 20);
    let mut dev = GuestDevices::new();
    dev.set_veth_interface(&mut g.ram(), 1, Some(MAC1)).unwrap();
    dev.set_veth_interface(&mut g.ram(), 2, Some(MAC2)).unwrap();
    // The guest posts only one RX buffer at first.
    let mut veth = LinuxVeth::layout(&mut g, 16, 4, 1600);
    for i in 1..4 {
        g.w32(veth.rx.desc(i) + 4, 0);
    }
    assert_eq!(
        g.create_queue(&mut dev, 3, 3, veth.tx.head, veth.rx.head),
        0
    );
    veth.interrupt(&mut g);
    assert_eq!((veth.devs[1], veth.devs[2]), (Some(MAC1), None));
    assert_eq!(
        dev.veth_deliver(&mut g.ram(), 2, &frame(MAC2, PEER, 60, 0)),
        Ok(Delivery::InterfaceDown)
    );
    for i in 1..4 {
        g.w32(veth.rx.desc(i) + 4, 1600);
    }
    dev.service(&mut g.ram(), &mut |_| {});
    veth.interrupt(&mut g);
    assert_eq!(veth.devs[2], Some(MAC2));
    assert_eq!(
        dev.veth_deliver(&mut g.ram(), 2, &frame(MAC2, PEER, 60, 0)),
        Ok(Delivery::Delivered)
    );
}

#[test]
fn tx_frames_carry_their_interface() {
    let (mut g, mut dev, mut veth) = guest_with_veth(&[(1, MAC1), (2, MAC2)]);
    let f1 = frame(PEER, MAC1, 42, 1);
    let f2 = frame(PEER, MAC2, 1514, 2);
    assert!(veth.xmit(&mut g, 1, &f1));
    assert!(veth.xmit(&mut g, 2, &f2));
    let mut ram = g.ram();
    let VethTx {
        iface,
        frame,
        token,
    } = dev.veth_next_tx(&mut ram).unwrap().unwrap();
    assert_eq!(iface, 1);
    let mut padded = f1.clone();
    padded.resize(60, 0);
    assert_eq!(frame, &padded[..], "padded to 60 by the guest, id stripped");
    dev.veth_complete_tx(&mut ram, token).unwrap();
    let VethTx {
        iface,
        frame,
        token,
    } = dev.veth_next_tx(&mut ram).unwrap().unwrap();
    assert_eq!((iface, frame), (2, &f2[..]));
    dev.veth_complete_tx(&mut ram, token).unwrap();
    assert!(dev.veth_next_tx(&mut ram).unwrap().is_none());
    assert_eq!(veth.reclaim(&g), 2);
    assert_eq!(dev.stats().veth.tx_frames, 2);
}

#[test]
fn bad_tx_transfers_are_dropped_and_handed_back() {
    let (mut g, mut dev, mut veth) = guest_with_veth(&[(1, MAC1)]);
    dev.set_veth_max_transfer(1600);
    // Transfers the real driver would not make, written straight into descriptors.
    let raw = |g: &mut Guest, i: u32, bytes: &[u8]| {
        let buf = g.alloc(bytes.len() as u32 + 1, 2);
        g.write(buf, bytes);
        g.set_desc(
            veth.tx.desc(i),
            buf,
            bytes.len() as u32 | DONE,
            veth.tx.desc(i + 1),
        );
    };
    raw(&mut g, 0, &[0, 1, 2, 3]); // runt
    raw(&mut g, 1, &[[0u8, 1].as_slice(), &[0; 1599]].concat()); // 1601 > 1600
    raw(
        &mut g,
        2,
        &[[0u8, 0].as_slice(), &frame(PEER, MAC1, 60, 0)].concat(),
    ); // id 0
    raw(
        &mut g,
        3,
        &[[0u8, 9].as_slice(), &frame(PEER, MAC1, 60, 0)].concat(),
    ); // id 9
    raw(
        &mut g,
        4,
        &[[0u8, 2].as_slice(), &frame(PEER, MAC1, 60, 0)].concat(),
    ); // not configured
    raw(
        &mut g,
        5,
        &[[0u8, 1].as_slice(), &frame(PEER, MAC1, 60, 7)].concat(),
    ); // good
    let mut ram = g.ram();
    let VethTx {
        iface,
        frame,
        token,
    } = dev.veth_next_tx(&mut ram).unwrap().unwrap();
    assert_eq!((iface, frame.len()), (1, 60));
    dev.veth_complete_tx(&mut ram, token).unwrap();
    let s = dev.stats().veth;
    assert_eq!(
        (s.tx_runts, s.tx_oversized, s.tx_bad_iface, s.tx_frames),
        (1, 1, 3, 1)
    );
    for i in 0..6 {
        assert_eq!(
            g.d_size(veth.tx.desc(i)) & DONE,
            0,
            "descriptor {i} handed back"
        );
    }
    veth.xmit(&mut g, 1, &[0; 20]); // keeps the model's cursor honest
}

#[test]
fn tokens_complete_once() {
    let (mut g, mut dev, mut veth) = guest_with_veth(&[(1, MAC1)]);
    veth.xmit(&mut g, 1, &frame(PEER, MAC1, 60, 0));
    veth.xmit(&mut g, 1, &frame(PEER, MAC1, 60, 1));
    let mut ram = g.ram();
    let first = dev.veth_next_tx(&mut ram).unwrap().unwrap().token;
    let again = dev.veth_next_tx(&mut ram).unwrap().unwrap().token;
    dev.veth_complete_tx(&mut ram, first).unwrap();
    assert_eq!(
        dev.veth_complete_tx(&mut ram, again),
        Err(DeviceError::StaleToken)
    );
    assert_eq!(veth.reclaim(&g), 1, "the second frame is still the host's");
}

#[test]
fn rx_delivery_capacity_and_backpressure() {
    let (mut g, mut dev, mut veth) = guest_with_veth(&[(1, MAC1)]);
    let f = frame(MAC1, PEER, 1514, 3);
    assert_eq!(
        dev.veth_deliver(&mut g.ram(), 1, &f),
        Ok(Delivery::Delivered)
    );
    assert!(dev.take_events().interrupt);
    assert_eq!(
        dev.veth_deliver(&mut g.ram(), 1, &frame(MAC1, PEER, 1599, 0)),
        Ok(Delivery::TooBig)
    );
    assert_eq!(
        dev.veth_deliver(&mut g.ram(), 2, &f),
        Ok(Delivery::InterfaceDown)
    );
    veth.interrupt(&mut g);
    assert_eq!(veth.received, vec![(1, f.clone())]);
    // 128 buffers: the 128th frame after the guest's last look still fits (one was consumed
    // by the NEWIFACE and one by the frame above, both re-posted), the 129th does not.
    for i in 0..128 {
        assert_eq!(
            dev.veth_deliver(&mut g.ram(), 1, &frame(MAC1, PEER, 64, i as u8)),
            Ok(Delivery::Delivered),
            "{i}"
        );
    }
    assert_eq!(
        dev.veth_deliver(&mut g.ram(), 1, &f),
        Ok(Delivery::NoBuffer)
    );
    veth.interrupt(&mut g);
    assert_eq!(veth.received.len(), 129);
    let s = dev.stats().veth;
    assert_eq!((s.rx_frames, s.rx_too_big, s.rx_no_buffer), (129, 1, 1));
}

#[test]
fn guest_to_guest_through_many_ring_laps() {
    let (mut a, mut dev_a, mut veth_a) = guest_with_veth(&[(1, MAC1)]);
    let (mut b, mut dev_b, mut veth_b) = guest_with_veth(&[(1, PEER)]);
    let mut sent = Vec::new();
    for round in 0..30u32 {
        for k in 0..100u32 {
            let f = frame(
                PEER,
                MAC1,
                60 + ((round * 100 + k) % 1455) as usize,
                k as u8,
            );
            assert!(veth_a.xmit(&mut a, 1, &f));
            sent.push(f);
        }
        let mut ram_a = a.ram();
        let mut ram_b = b.ram();
        while let Some(VethTx { frame, token, .. }) = dev_a.veth_next_tx(&mut ram_a).unwrap() {
            assert_eq!(
                dev_b.veth_deliver(&mut ram_b, 1, frame),
                Ok(Delivery::Delivered)
            );
            dev_a.veth_complete_tx(&mut ram_a, token).unwrap();
        }
        assert_eq!(veth_a.reclaim(&a), 100);
        veth_b.interrupt(&mut b);
    }
    assert_eq!(veth_b.received.len(), 3000);
    for (got, want) in veth_b.received.iter().zip(&sent) {
        let mut want = want.clone();
        want.resize(want.len().max(60), 0);
        assert_eq!(got, &(1, want));
    }
}

#[test]
fn hairpin_between_interfaces_of_one_guest() {
    let (mut g, mut dev, mut veth) = guest_with_veth(&[(1, MAC1), (2, MAC2)]);
    let f = frame(MAC2, MAC1, 100, 9);
    veth.xmit(&mut g, 1, &f);
    let mut ram = g.ram();
    let tx = dev.veth_next_tx(&mut ram).unwrap().unwrap();
    let location = tx.token.frame_location();
    let token = tx.token;
    assert_eq!(
        dev.veth_deliver_own(&mut ram, 2, location),
        Ok(Delivery::Delivered)
    );
    dev.veth_complete_tx(&mut ram, token).unwrap();
    veth.interrupt(&mut g);
    assert_eq!(veth.received, vec![(2, f)]);
}

#[test]
fn jumbo_buffers() {
    let mut g = Guest::new(4 << 20);
    let mut dev = GuestDevices::new();
    dev.set_veth_interface(&mut g.ram(), 1, Some(MAC1)).unwrap();
    let mut veth = LinuxVeth::setup(&mut g, &mut dev, 64, 8, 10300);
    veth.interrupt(&mut g);
    let f = frame(MAC1, PEER, 10298, 1);
    assert_eq!(
        dev.veth_deliver(&mut g.ram(), 1, &f),
        Ok(Delivery::Delivered)
    );
    assert_eq!(
        dev.veth_deliver(&mut g.ram(), 1, &frame(MAC1, PEER, 10299, 1)),
        Ok(Delivery::TooBig)
    );
    veth.interrupt(&mut g);
    assert_eq!(veth.received, vec![(1, f)]);
}

#[test]
fn vlan_tag_insertion_while_copying() {
    let (mut g, mut dev, mut veth) = guest_with_veth(&[(1, MAC1)]);
    let f = frame(MAC1, PEER, 64, 0);
    let tag = [0x81, 0x00, 0x00, 0x0A];
    assert_eq!(
        dev.veth_deliver_parts(&mut g.ram(), 1, &[&f[..12], &tag, &f[12..]]),
        Ok(Delivery::Delivered)
    );
    veth.interrupt(&mut g);
    assert_eq!(veth.received[0].1, [&f[..12], &tag[..], &f[12..]].concat());
}

/// The Linux driver reclaims TX buffers only in its interrupt handler (and stops an interface
/// after 128 unreclaimed frames), so consuming TX frames must raise virq 3: once per scan.
#[test]
fn consuming_tx_raises_the_virq_once_per_scan() {
    let mut g = Guest::new(4 << 20);
    let mut dev = GuestDevices::new();
    let word = g.setup_irqs(&mut dev);
    dev.set_veth_interface(&mut g.ram(), 1, Some(MAC1)).unwrap();
    let mut veth = LinuxVeth::setup(&mut g, &mut dev, 1024, 128, 1600);
    veth.interrupt(&mut g);
    g.w32(word, 0);
    let _ = dev.take_events();
    for i in 0..300 {
        assert!(veth.xmit(&mut g, 1, &frame(PEER, MAC1, 60, i as u8)));
    }
    let mut ram = g.ram();
    let mut taken = 0;
    while let Some(VethTx { token, .. }) = dev.veth_next_tx(&mut ram).unwrap() {
        dev.veth_complete_tx(&mut ram, token).unwrap();
        taken += 1;
        assert_eq!(
            ram.read_u32(guest_mem::Gva::new(word)),
            Ok(0),
            "not per frame"
        );
    }
    assert_eq!(taken, 300);
    assert_eq!(g.r32(word), 1 << 3, "raised when the scan ended");
    assert!(dev.take_events().interrupt);
    assert_eq!(veth.reclaim(&g), 300);
    // An empty scan raises nothing.
    g.w32(word, 0);
    assert!(dev.veth_next_tx(&mut g.ram()).unwrap().is_none());
    assert_eq!(g.r32(word), 0);
}

#[test]
fn consuming_console_output_raises_virq_1() {
    let mut g = Guest::new(1 << 20);
    let mut dev = GuestDevices::new();
    let word = g.setup_irqs(&mut dev);
    let mut con = common::LinuxConsole::setup(&mut g, &mut dev);
    con.put_chars(&mut g, b"x");
    dev.service(&mut g.ram(), &mut |_| {});
    assert_eq!(g.r32(word), 1 << 1);
}
