//! The AG71xx driver against [`Ag71xxModel`] over the non-coherent [`DmaModel`] (the AR7161's
//! situation). These tests are all the verification the driver has: see the module docs.

extern crate std;

use std::vec;
use std::vec::Vec;

use super::ar71xx::{DdrChannel, DdrWriteBuffer};
use super::model::Ag71xxModel;
use super::regs::*;
use super::{Ag71xx, PhyLink};
use crate::nic::{EthernetPort, Link, MacAddress, RingLayout, SetupError, Speed, TxError};
use crate::testing::dma_model::{DmaModel, BUF_BUS, DESC_BUS};
use crate::testing::{frame, CountingDelay, Rng};

const MAC: MacAddress = MacAddress([0x00, 0x0C, 0x42, 0x01, 0x02, 0x03]);
const LAYOUT: RingLayout = RingLayout {
    rx_slots: 8,
    tx_slots: 12,
    buffer_size: 1536,
};
const PHY: PhyLink = PhyLink::Mdio { address: 0 };

type Port<'a> = Ag71xx<&'a Ag71xxModel<'a>, &'a DmaModel>;

fn memory(layout: RingLayout) -> DmaModel {
    DmaModel::new(
        Ag71xx::<&Ag71xxModel, &DmaModel>::descriptor_bytes(layout),
        Ag71xx::<&Ag71xxModel, &DmaModel>::buffer_bytes(layout),
    )
}

fn port<'a>(dev: &'a Ag71xxModel<'a>, mem: &'a DmaModel, layout: RingLayout) -> Port<'a> {
    let delay = CountingDelay::default();
    Ag71xx::new(dev, mem, mem.ring_memory(), layout, Some(MAC), PHY, &delay).unwrap()
}

fn poll_all(p: &mut Port) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    p.poll_rx(usize::MAX, &mut |f| got.push(f.to_vec()));
    got
}

#[test]
fn setup_chains_the_rings_and_programs_the_mac_as_openwrt_does() {
    let mem = memory(LAYOUT);
    let dev = Ag71xxModel::new(&mem);
    let p = port(&dev, &mem, LAYOUT);
    assert_eq!(u64::from(dev.get(RX_DESC)), DESC_BUS);
    assert_eq!(u64::from(dev.get(TX_DESC)), DESC_BUS + 8 * 32);
    assert_eq!(dev.get(RX_CTRL), RX_CTRL_RXE);
    assert_eq!(dev.get(MAC_CFG1), MAC_CFG1_INIT);
    assert_eq!(dev.get(MAC_MFL), 1536);
    assert_eq!(dev.get(FIFO_CFG3), 0x0180_01FF);
    assert_eq!(
        dev.get(FIFO_CFG5),
        FIFO_CFG5_INIT | FIFO_CFG5_BM,
        "gigabit: byte mode"
    );
    let cfg2 = dev.get(MAC_CFG2);
    assert_eq!(
        cfg2 & (MAC_CFG2_IF_1000 | MAC_CFG2_FDX),
        MAC_CFG2_IF_1000 | MAC_CFG2_FDX
    );
    assert_eq!(
        (dev.get(MAC_ADDR1), dev.get(MAC_ADDR2)),
        (0x0302_0142, 0x0C00_0000)
    );
    assert_eq!(p.mac_address(), MAC);
    assert_eq!(dev.get(MII_CFG), MII_CFG_CLK_DIV_28);
    // Receive descriptors: empty, on their buffers, chained round.
    for i in 0..8u64 {
        let d = DESC_BUS + 32 * i;
        assert_eq!(mem.device_read_be32(d + 4), DESC_EMPTY);
        assert_eq!(u64::from(mem.device_read_be32(d)), BUF_BUS + 1536 * i);
        assert_eq!(
            u64::from(mem.device_read_be32(d + 8)),
            DESC_BUS + 32 * ((i + 1) % 8)
        );
    }
    assert_eq!(
        u64::from(mem.device_read_be32(DESC_BUS + 32 * 19 + 8)),
        DESC_BUS + 32 * 8
    );
}

#[test]
fn layouts_it_cannot_take_are_refused() {
    let mem = memory(LAYOUT);
    let dev = Ag71xxModel::new(&mem);
    let delay = CountingDelay::default();
    let try_layout = |l| Ag71xx::new(&dev, &mem, mem.ring_memory(), l, None, PHY, &delay).err();
    let bad = |f: fn(&mut RingLayout)| {
        let mut l = LAYOUT;
        f(&mut l);
        try_layout(l)
    };
    assert_eq!(bad(|l| l.tx_slots = 4), Some(SetupError::BadLayout));
    assert_eq!(bad(|l| l.buffer_size = 1500), Some(SetupError::BadLayout));
    assert!(matches!(
        bad(|l| l.rx_slots = 64),
        Some(SetupError::DescriptorMemoryTooSmall { .. })
    ));
}

#[test]
fn received_frames_lose_their_fcs_and_come_in_order_round_the_ring() {
    let mem = memory(LAYOUT);
    let dev = Ag71xxModel::new(&mem);
    let mut p = port(&dev, &mem, LAYOUT);
    let mut expected = Vec::new();
    let mut got = Vec::new();
    for round in 0..25u8 {
        for k in 0..5 {
            let f = frame(60 + usize::from(round) * 53 % 1400, round ^ k);
            assert!(dev.receive(&f));
            expected.push(f);
        }
        got.extend(poll_all(&mut p));
    }
    assert_eq!(got, expected);
    assert_eq!(
        dev.status() & INT_RX_PR,
        0,
        "every frame taken off the count"
    );
}

#[test]
fn a_full_ring_stops_the_receiver_and_the_poll_restarts_it() {
    let mem = memory(LAYOUT);
    let dev = Ag71xxModel::new(&mem);
    let mut p = port(&dev, &mem, LAYOUT);
    let stored = (0..10).filter(|&i| dev.receive(&frame(100, i))).count();
    assert_eq!(stored, 8);
    assert!(p.take_events().rx_overrun);
    assert_eq!(poll_all(&mut p).len(), 8);
    assert_eq!(p.counters().rx_overruns, 1);
    assert_eq!(dev.get(RX_CTRL), RX_CTRL_RXE, "restarted");
    assert!(dev.receive(&frame(100, 42)));
    assert_eq!(poll_all(&mut p), vec![frame(100, 42)]);
}

#[test]
fn impossible_lengths_runts_and_multi_descriptor_frames_are_dropped() {
    let mem = memory(LAYOUT);
    let dev = Ag71xxModel::new(&mem);
    let mut p = port(&dev, &mem, LAYOUT);
    assert!(dev.complete_raw(&frame(100, 1), 0xFFF));
    assert!(dev.complete_raw(&frame(10, 2), 14));
    assert!(dev.complete_raw(&frame(600, 3), DESC_MORE | 600));
    assert!(dev.complete_raw(&frame(600, 3), 200));
    assert!(dev.complete_raw(&frame(100, 4), 104));
    assert_eq!(poll_all(&mut p), vec![frame(100, 4)]);
    let c = p.counters();
    assert_eq!((c.rx_bad_descriptors, c.rx_runts, c.rx_too_long), (1, 1, 1));
}

#[test]
fn frames_are_sent_intact_in_pieces_the_ar7100_takes() {
    let mem = memory(LAYOUT);
    let dev = Ag71xxModel::new(&mem);
    let mut p = port(&dev, &mem, LAYOUT);
    // 516 and 1028 bytes would leave a 4-byte last piece without the split rule; 1540 is the
    // longest frame.
    let mut expected = Vec::new();
    for round in 0..10usize {
        for len in [60, 516, 1028, 1540, 513 + round] {
            let f = frame(len, round as u8);
            p.transmit(&f).unwrap();
            expected.push(f);
            p.flush_tx();
            p.reclaim_tx();
        }
    }
    assert_eq!(*dev.sent.borrow(), expected);
    assert_eq!(dev.status() & INT_TX_PS, 0, "every piece taken off");
    assert_eq!(p.transmit(&frame(1541, 0)), Err(TxError::TooLong));
    assert_eq!(p.transmit(&frame(4, 0)), Err(TxError::TooShort));
}

#[test]
fn a_frame_gathered_from_two_pieces_leaves_as_one() {
    let mem = memory(LAYOUT);
    let dev = Ag71xxModel::new(&mem);
    let mut p = port(&dev, &mem, LAYOUT);
    let frames: Vec<_> = [60usize, 516, 1514]
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
fn a_full_transmit_ring_refuses_until_reclaimed() {
    let mem = memory(LAYOUT);
    let dev = Ag71xxModel::new(&mem);
    let mut p = port(&dev, &mem, LAYOUT);
    // 12 descriptors: three 1540-byte frames take 12.
    (0..3).for_each(|i| p.transmit(&frame(1540, i)).unwrap());
    assert_eq!(p.transmit(&frame(60, 3)), Err(TxError::RingFull));
    p.flush_tx();
    p.transmit(&frame(60, 3)).unwrap();
    p.flush_tx();
    assert_eq!(dev.sent.borrow().len(), 4);
}

#[test]
fn interrupts_follow_the_counts_and_masking_loses_nothing() {
    let mem = memory(LAYOUT);
    let dev = Ag71xxModel::new(&mem);
    let mut p = port(&dev, &mem, LAYOUT);
    p.set_interrupts(true);
    assert!(dev.receive(&frame(100, 0)));
    assert!(dev.irq());
    assert!(p.take_events().rx);
    p.set_interrupts(false);
    assert!(!dev.irq());
    assert!(dev.receive(&frame(100, 1)));
    p.transmit(&frame(100, 2)).unwrap();
    p.flush_tx();
    p.set_interrupts(true);
    assert!(dev.irq(), "uncounted work keeps the line up");
    assert_eq!(poll_all(&mut p).len(), 2);
    p.reclaim_tx();
    assert!(!dev.irq());
    dev.set_status_bits(TX_STATUS, TX_STATUS_BE);
    let e = p.take_events();
    assert!(e.error);
    assert_eq!(dev.get(TX_STATUS) & TX_STATUS_BE, 0, "acknowledged");
}

#[test]
fn the_link_comes_from_the_phy_and_sets_the_mac() {
    let mem = memory(LAYOUT);
    let dev = Ag71xxModel::new(&mem);
    let mut p = port(&dev, &mem, LAYOUT);
    let link = p.link();
    assert_eq!(
        link,
        Link {
            up: true,
            speed: Some(Speed::Mbps1000),
            full_duplex: true
        }
    );
    dev.set_link(false);
    assert!(!p.link().up);
    p.configure_for(Link {
        up: true,
        speed: Some(Speed::Mbps100),
        full_duplex: false,
    });
    let cfg2 = dev.get(MAC_CFG2);
    assert_eq!(
        cfg2 & (MAC_CFG2_IF_1000 | MAC_CFG2_IF_10_100 | MAC_CFG2_FDX),
        MAC_CFG2_IF_10_100
    );
    assert_ne!(dev.get(MAC_IFCTL) & MAC_IFCTL_SPEED, 0);
    assert_eq!(dev.get(FIFO_CFG5) & FIFO_CFG5_BM, 0);
}

#[test]
fn the_ddr_write_buffer_flush_writes_and_waits_twice() {
    use core::cell::RefCell;
    struct Ddr(RefCell<Vec<(bool, usize)>>);
    impl crate::mmio::Registers for Ddr {
        fn read8(&self, _: usize) -> u8 {
            unreachable!()
        }
        fn write8(&self, _: usize, _: u8) {
            unreachable!()
        }
        fn read_le32(&self, _: usize) -> u32 {
            unreachable!()
        }
        fn write_le32(&self, _: usize, _: u32) {
            unreachable!()
        }
        fn read_be32(&self, offset: usize) -> u32 {
            self.0.borrow_mut().push((false, offset));
            0
        }
        fn write_be32(&self, offset: usize, v: u32) {
            assert_eq!(v, 1);
            self.0.borrow_mut().push((true, offset));
        }
    }
    let ddr = Ddr(RefCell::new(Vec::new()));
    assert!(DdrWriteBuffer::new(&ddr).flush(DdrChannel::Ge1));
    assert_eq!(
        *ddr.0.borrow(),
        vec![(true, 0xA0), (false, 0xA0), (true, 0xA0), (false, 0xA0)]
    );
}

#[test]
fn garbage_written_by_the_device_never_escapes_the_buffers() {
    for seed in 0..40 {
        let mut rng = Rng::new(seed);
        let layout = RingLayout {
            buffer_size: [128, 512, 1536][rng.below(3)],
            ..LAYOUT
        };
        let mem = memory(layout);
        let dev = Ag71xxModel::new(&mem);
        let mut p = port(&dev, &mem, layout);
        let mut delivered = 0;
        for _ in 0..300 {
            match rng.below(5) {
                0 => {
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
