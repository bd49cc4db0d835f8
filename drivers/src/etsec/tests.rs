//! The eTSEC driver against [`EtsecModel`] over the [`DmaModel`] (a non-coherent cache: the
//! e500 snoops, but the driver's cache calls must still be right where they are not no-ops).

extern crate std;

use std::vec;
use std::vec::Vec;

use super::model::EtsecModel;
use super::regs::*;
use super::{Etsec, PhyLink};
use crate::nic::{EthernetPort, Link, MacAddress, RingLayout, SetupError, Speed, TxError};
use crate::testing::dma_model::{DmaModel, BUF_BUS, DESC_BUS};
use crate::testing::{frame, CountingDelay, Rng};

const MAC: MacAddress = MacAddress([0x12, 0x34, 0x56, 0x78, 0xAB, 0xCD]);
const LAYOUT: RingLayout = RingLayout {
    rx_slots: 6,
    tx_slots: 5,
    buffer_size: 1536,
};
const PHY: PhyLink = PhyLink::Mdio { address: 1 };

type Port<'a> = Etsec<&'a EtsecModel<'a>, &'a DmaModel>;

fn memory(layout: RingLayout) -> DmaModel {
    DmaModel::new(
        Etsec::<&EtsecModel, &DmaModel>::descriptor_bytes(layout),
        Etsec::<&EtsecModel, &DmaModel>::buffer_bytes(layout),
    )
}

fn port<'a>(dev: &'a EtsecModel<'a>, mem: &'a DmaModel, layout: RingLayout) -> Port<'a> {
    let delay = CountingDelay::default();
    Etsec::new(dev, mem, mem.ring_memory(), layout, Some(MAC), PHY, &delay).unwrap()
}

fn poll_all(p: &mut Port) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    p.poll_rx(usize::MAX, &mut |f| got.push(f.to_vec()));
    got
}

#[test]
fn setup_programs_rings_snooping_and_the_station_address() {
    let mem = memory(LAYOUT);
    let dev = EtsecModel::new(&mem);
    let p = port(&dev, &mem, LAYOUT);
    assert_eq!(u64::from(dev.get(RBASE0)), DESC_BUS);
    assert_eq!(u64::from(dev.get(TBASE0)), DESC_BUS + 6 * 8);
    assert_eq!(dev.get(MRBLR), 1536);
    assert_eq!(dev.get(MACCFG1), MACCFG1_RX_EN | MACCFG1_TX_EN);
    let dmactrl = dev.get(DMACTRL);
    assert_eq!(
        dmactrl & (DMACTRL_GRS | DMACTRL_GTS),
        0,
        "graceful stop released"
    );
    assert_ne!(dmactrl & DMACTRL_WOP, 0, "transmit waits for the doorbell");
    assert_ne!(dmactrl & (DMACTRL_TDSEN | DMACTRL_TBDSEN), 0);
    assert_eq!(dev.get(ATTR), ATTR_RDSEN | ATTR_RBDSEN);
    // gianfar's example: 12:34:56:78:AB:CD is 0xCDAB7856 and 0x34120000.
    assert_eq!(
        (dev.get(MACSTNADDR1), dev.get(MACSTNADDR2)),
        (0xCDAB_7856, 0x3412_0000)
    );
    assert_eq!(p.mac_address(), MAC);
    // Every receive descriptor empty, interrupting, on its own buffer; the last one wraps.
    for i in 0..6u64 {
        let word = mem.device_read_be32(DESC_BUS + 8 * i);
        let wrap = if i == 5 { BD_WRAP } else { 0 };
        assert_eq!(word, (RXBD_EMPTY | BD_INTERRUPT | wrap) << 16);
        assert_eq!(
            u64::from(mem.device_read_be32(DESC_BUS + 8 * i + 4)),
            BUF_BUS + 1536 * i
        );
    }
    assert_eq!(mem.device_read_be32(DESC_BUS + 8 * 10) >> 16, BD_WRAP);
    assert_eq!(dev.get(IEVENT), 0);
}

#[test]
fn without_a_given_address_the_boot_loaders_is_kept() {
    let mem = memory(LAYOUT);
    let dev = EtsecModel::new(&mem);
    dev.set(MACSTNADDR1, 0xCDAB_7856);
    dev.set(MACSTNADDR2, 0x3412_0000);
    let delay = CountingDelay::default();
    let p = Etsec::new(&dev, &mem, mem.ring_memory(), LAYOUT, None, PHY, &delay).unwrap();
    assert_eq!(p.mac_address(), MAC);
}

#[test]
fn layouts_the_controller_cannot_take_are_refused() {
    let mem = memory(LAYOUT);
    let dev = EtsecModel::new(&mem);
    let delay = CountingDelay::default();
    let try_layout = |l| Etsec::new(&dev, &mem, mem.ring_memory(), l, Some(MAC), PHY, &delay).err();
    let bad = |f: fn(&mut RingLayout)| {
        let mut l = LAYOUT;
        f(&mut l);
        try_layout(l)
    };
    assert_eq!(bad(|l| l.buffer_size = 1500), Some(SetupError::BadLayout));
    assert_eq!(bad(|l| l.rx_slots = 1), Some(SetupError::BadLayout));
    assert!(matches!(
        bad(|l| l.tx_slots = 50),
        Some(SetupError::DescriptorMemoryTooSmall { .. })
    ));
}

#[test]
fn received_frames_lose_their_fcs_and_come_in_order_round_the_ring() {
    let mem = memory(LAYOUT);
    let dev = EtsecModel::new(&mem);
    let mut p = port(&dev, &mem, LAYOUT);
    let mut expected = Vec::new();
    let mut got = Vec::new();
    for round in 0..30u8 {
        for k in 0..4 {
            let f = frame(60 + usize::from(round) * 47 % 1400, round ^ k);
            assert!(dev.receive(&f));
            expected.push(f);
        }
        got.extend(poll_all(&mut p));
    }
    assert_eq!(got, expected);
    assert_eq!(p.counters().rx_frames, 120);
}

#[test]
fn short_frames_flagged_sh_are_handed_up_runts_are_not() {
    let mem = memory(LAYOUT);
    let dev = EtsecModel::new(&mem);
    let mut p = port(&dev, &mem, LAYOUT);
    let arp = frame(42, 7);
    assert!(dev.receive(&arp));
    let word = mem.device_read_be32(DESC_BUS);
    assert_ne!(
        word >> 16 & (1 << 3),
        0,
        "the model flags it SH, as QEMU does"
    );
    assert!(dev.receive(&frame(10, 1)));
    assert_eq!(poll_all(&mut p), vec![arp]);
    assert_eq!(p.counters().rx_runts, 1);
}

#[test]
fn a_full_ring_holds_the_frame_and_giving_slots_back_resumes_it() {
    let mem = memory(LAYOUT);
    let dev = EtsecModel::new(&mem);
    let mut p = port(&dev, &mem, LAYOUT);
    let frames: Vec<_> = (0..9).map(|i| frame(100 + i, i as u8)).collect();
    frames.iter().for_each(|f| assert!(dev.receive(f)));
    assert!(
        dev.holding(),
        "six slots: the seventh frame is held, two more wait"
    );
    assert_ne!(dev.get(RSTAT) & RSTAT_QHLT0, 0);
    let mut got = poll_all(&mut p);
    assert_eq!(got.len(), 6);
    assert!(!dev.holding(), "the driver restarted the halted queue");
    got.extend(poll_all(&mut p));
    assert_eq!(got, frames);
}

/// QEMU 10 steps past the full descriptor that halted its ring and fills the ring from the
/// next one after the restart: the driver follows it instead of waiting for the descriptor it
/// passed by, and every frame arrives, in order.
#[test]
fn a_descriptor_the_device_passed_by_after_a_full_ring_is_stepped_over() {
    let mem = memory(LAYOUT);
    let dev = EtsecModel::new(&mem);
    dev.skips_full_descriptor.set(true);
    let mut p = port(&dev, &mem, LAYOUT);
    let frames: Vec<_> = (0..9).map(|i| frame(100 + i, i as u8)).collect();
    frames.iter().for_each(|f| assert!(dev.receive(f)));
    assert!(dev.holding());
    let mut got = poll_all(&mut p);
    got.extend(poll_all(&mut p));
    assert_eq!(got, frames);
    assert_eq!(p.counters().rx_skipped_descriptors, 1);
    // And on from there, around the ring again.
    let more: Vec<_> = (9..20).map(|i| frame(80 + i, i as u8)).collect();
    let mut got = Vec::new();
    for f in &more {
        assert!(dev.receive(f));
        got.extend(poll_all(&mut p));
    }
    assert_eq!(got, more);
}

/// A halted queue is restarted only once the descriptor the controller points at is EMPTY
/// (QEMU 10's model, restarted onto a full one, corrupts its held frame's bookkeeping).
#[test]
fn a_halted_queue_is_not_restarted_onto_a_full_descriptor() {
    let mem = memory(LAYOUT);
    let dev = EtsecModel::new(&mem);
    dev.skips_full_descriptor.set(true);
    let mut p = port(&dev, &mem, LAYOUT);
    (0..7).for_each(|i| assert!(dev.receive(&frame(100, i))));
    assert!(dev.holding());
    // The controller points past slot 0 at slot 1, still full: one frame taken (slot 0) is not
    // enough to restart.
    assert_eq!(p.poll_rx(1, &mut |_| {}), 1);
    assert_ne!(dev.get(RSTAT) & RSTAT_QHLT0, 0, "still halted");
    assert!(dev.holding());
    assert_eq!(p.poll_rx(1, &mut |_| {}), 1);
    assert!(!dev.holding(), "restarted once slot 1 was given back");
}

#[test]
fn frames_that_span_buffers_and_flagged_frames_are_dropped() {
    let layout = RingLayout {
        buffer_size: 256,
        ..LAYOUT
    };
    let mem = memory(layout);
    let dev = EtsecModel::new(&mem);
    let mut p = port(&dev, &mem, layout);
    assert!(dev.receive(&frame(600, 1)), "three descriptors");
    assert!(dev.receive(&frame(100, 2)));
    assert_eq!(poll_all(&mut p), vec![frame(100, 2)]);
    assert_eq!(p.counters().rx_too_long, 1);
    let last = (BD_LAST | BD_INTERRUPT) << 16;
    assert!(dev.complete_raw(&frame(100, 3), last | 1 << 2 << 16 | 104)); // CRC error
    assert!(dev.complete_raw(&frame(100, 4), last | 0xFFFF)); // impossible length
    assert!(dev.complete_raw(&frame(100, 5), last | 104));
    assert_eq!(poll_all(&mut p), vec![frame(100, 5)]);
    let c = p.counters();
    assert_eq!((c.rx_errors, c.rx_bad_descriptors), (1, 1));
}

#[test]
fn frames_to_send_leave_intact_in_order_even_across_the_ring_end() {
    let mem = memory(LAYOUT);
    let dev = EtsecModel::new(&mem);
    let mut p = port(&dev, &mem, LAYOUT);
    let mut expected = Vec::new();
    for round in 0..12u8 {
        // Batches of three across a five-slot ring: every other batch wraps.
        for k in 0..3 {
            let f = frame(64 + usize::from(round) * 100, round * 3 + k);
            p.transmit(&f).unwrap();
            expected.push(f);
        }
        p.flush_tx();
        p.reclaim_tx();
    }
    assert_eq!(*dev.sent.borrow(), expected);
    let padded = frame(20, 9);
    p.transmit(&padded).unwrap();
    p.flush_tx();
    let sent = dev.sent.borrow().last().cloned().unwrap();
    assert_eq!(
        (&sent[..20], sent.len()),
        (&padded[..], 64),
        "the controller pads"
    );
}

#[test]
fn a_frame_gathered_from_two_pieces_leaves_as_one() {
    let mem = memory(LAYOUT);
    let dev = EtsecModel::new(&mem);
    let mut p = port(&dev, &mem, LAYOUT);
    let frames: Vec<_> = [64usize, 100, 1514]
        .iter()
        .map(|&n| frame(n, n as u8))
        .collect();
    for f in &frames {
        p.transmit_parts(&f[..34], &f[34..]).unwrap();
        p.flush_tx();
        p.reclaim_tx();
    }
    assert_eq!(*dev.sent.borrow(), frames);
}

#[test]
fn a_full_transmit_ring_refuses_until_reclaimed_and_errors_are_counted() {
    let mem = memory(LAYOUT);
    let dev = EtsecModel::new(&mem);
    let mut p = port(&dev, &mem, LAYOUT);
    (0..5).for_each(|i| p.transmit(&frame(100, i)).unwrap());
    assert_eq!(p.transmit(&frame(100, 5)), Err(TxError::RingFull));
    dev.tx_error_next.set(true);
    p.flush_tx();
    p.transmit(&frame(100, 5)).unwrap();
    assert_eq!(p.counters().tx_errors, 1);
    assert_eq!(p.transmit(&frame(1537, 0)), Err(TxError::TooLong));
    assert_eq!(p.counters().tx_rejected, 1);
}

#[test]
fn events_are_acknowledged_and_masking_loses_nothing() {
    let mem = memory(LAYOUT);
    let dev = EtsecModel::new(&mem);
    let mut p = port(&dev, &mem, LAYOUT);
    p.set_interrupts(true);
    assert!(dev.receive(&frame(100, 0)));
    assert!(dev.irq_rx());
    let e = p.take_events();
    assert!(e.rx && !e.tx);
    assert!(!dev.irq_rx());
    p.set_interrupts(false);
    assert!(dev.receive(&frame(100, 1)));
    p.transmit(&frame(100, 2)).unwrap();
    p.flush_tx();
    assert!(!dev.irq_rx() && !dev.irq_tx());
    p.set_interrupts(true);
    assert!(dev.irq_rx() && dev.irq_tx());
    let e = p.take_events();
    assert!(e.rx && e.tx);
}

#[test]
fn the_link_comes_from_the_phy_or_is_fixed() {
    let mem = memory(LAYOUT);
    let dev = EtsecModel::new(&mem);
    let mut p = port(&dev, &mem, LAYOUT);
    let l = p.link();
    assert!(l.up);
    assert_eq!(
        l.speed, None,
        "QEMU's PHY advertises no ability both ends share"
    );
    dev.set_link(false);
    assert!(!p.link().up);
    dev.set_link(true);
    assert!(p.link().up);
    let fixed = Link {
        up: true,
        speed: Some(Speed::Mbps1000),
        full_duplex: true,
    };
    let delay = CountingDelay::default();
    let q = Etsec::new(
        &dev,
        &mem,
        mem.ring_memory(),
        LAYOUT,
        None,
        PhyLink::Fixed(fixed),
        &delay,
    );
    assert_eq!(q.unwrap().link(), fixed);
    p.configure_for(Link {
        up: true,
        speed: Some(Speed::Mbps100),
        full_duplex: false,
    });
    assert_eq!(
        dev.get(MACCFG2) & (MACCFG2_IF_MASK | MACCFG2_FULL_DUPLEX),
        MACCFG2_IF_NIBBLE
    );
}

#[test]
fn statistics_accumulate_and_promiscuous_mode_is_a_register_bit() {
    let mem = memory(LAYOUT);
    let dev = EtsecModel::new(&mem);
    let mut p = port(&dev, &mem, LAYOUT);
    assert!(dev.receive(&frame(100, 0)));
    p.transmit(&frame(200, 0)).unwrap();
    p.flush_tx();
    let s = p.update_statistics();
    assert_eq!(
        (s.rx_frames, s.rx_bytes, s.tx_frames, s.tx_bytes),
        (1, 104, 1, 200)
    );
    assert_eq!(
        p.update_statistics(),
        s,
        "read-to-clear: nothing counted twice"
    );
    p.set_promiscuous(true);
    assert_ne!(dev.get(RCTRL) & RCTRL_PROM, 0);
    p.set_promiscuous(false);
    assert_eq!(dev.get(RCTRL) & RCTRL_PROM, 0);
}

#[test]
fn garbage_written_by_the_controller_never_escapes_the_buffers() {
    for seed in 0..40 {
        let mut rng = Rng::new(seed);
        let layout = RingLayout {
            buffer_size: [128, 256, 1536][rng.below(3)],
            ..LAYOUT
        };
        let mem = memory(layout);
        let dev = EtsecModel::new(&mem);
        let mut p = port(&dev, &mem, layout);
        let mut delivered = 0;
        for _ in 0..300 {
            match rng.below(5) {
                0 => {
                    // Any flags (EMPTY and WRAP included) and any length.
                    let data = frame(rng.below(2000), rng.next_u32() as u8);
                    dev.complete_raw(&data, rng.next_u32());
                }
                1 => {
                    dev.receive(&frame(14 + rng.below(1600), rng.next_u32() as u8));
                }
                2 => {
                    let _ = p.transmit(&frame(1 + rng.below(1600), 0));
                    p.flush_tx();
                    p.reclaim_tx();
                }
                _ => {
                    p.poll_rx(1 + rng.below(8), &mut |f| {
                        assert!(mem.contains(f), "a slice outside the receive buffers");
                        assert!(f.len() <= layout.buffer_size - 4 && f.len() >= 14);
                        delivered += 1;
                    });
                }
            }
        }
        assert_eq!(p.counters().rx_frames, delivered);
    }
}
