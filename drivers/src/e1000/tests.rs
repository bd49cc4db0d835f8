//! The e1000 driver against [`E1000Model`] over the non-coherent [`DmaModel`].

extern crate std;

use std::vec;
use std::vec::Vec;

use super::model::E1000Model;
use super::regs::*;
use super::E1000;
use crate::nic::{EthernetPort, MacAddress, RingLayout, SetupError, Speed, TxError};
use crate::testing::dma_model::{DmaModel, BUF_BUS, DESC_BUS};
use crate::testing::{frame, CountingDelay, Rng};

const MAC: MacAddress = MacAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
const LAYOUT: RingLayout = RingLayout {
    rx_slots: 8,
    tx_slots: 8,
    buffer_size: 2048,
};

type Port<'a> = E1000<&'a E1000Model<'a>, &'a DmaModel>;

fn memory(layout: RingLayout) -> DmaModel {
    DmaModel::new(
        E1000::<&E1000Model, &DmaModel>::descriptor_bytes(layout),
        E1000::<&E1000Model, &DmaModel>::buffer_bytes(layout),
    )
}

/// A port as a bridge uses it: promiscuous (the test frames are not addressed to it).
fn port<'a>(dev: &'a E1000Model<'a>, mem: &'a DmaModel, layout: RingLayout) -> Port<'a> {
    let mut p = E1000::new(
        dev,
        mem,
        mem.ring_memory(),
        layout,
        &CountingDelay::default(),
    )
    .unwrap();
    p.set_promiscuous(true);
    p
}

fn poll_all(p: &mut Port) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    p.poll_rx(usize::MAX, &mut |f| got.push(f.to_vec()));
    got
}

#[test]
fn setup_programs_the_rings_and_reads_the_mac_from_receive_address_0() {
    let mem = memory(LAYOUT);
    let dev = E1000Model::new(&mem, MAC);
    let p = port(&dev, &mem, LAYOUT);
    assert_eq!(p.mac_address(), MAC);
    assert_eq!(u64::from(dev.get(RDBAL)), DESC_BUS);
    assert_eq!(dev.get(RDLEN), 8 * 16);
    assert_eq!(
        (dev.get(RDH), dev.get(RDT)),
        (0, 7),
        "one descriptor kept back"
    );
    assert_eq!(u64::from(dev.get(TDBAL)), DESC_BUS + 8 * 16);
    assert_eq!((dev.get(TDH), dev.get(TDT)), (0, 0));
    let rctl = dev.get(RCTL);
    assert_eq!(
        rctl & (RCTL_EN | RCTL_SECRC | RCTL_BAM),
        RCTL_EN | RCTL_SECRC | RCTL_BAM
    );
    assert_eq!(
        rctl & (3 << RCTL_BSIZE_SHIFT | RCTL_BSEX),
        0,
        "2048-byte buffers"
    );
    assert_ne!(dev.get(TCTL) & TCTL_EN, 0);
    assert_eq!(dev.get(IMS), 0, "interrupts stay masked until asked for");
    assert_ne!(dev.get(RAH0) & RAH_AV, 0);
    // Each receive descriptor points at its own buffer, in bus addresses.
    for i in 0..8u64 {
        assert_eq!(
            u64::from(mem.device_read_le32(DESC_BUS + 16 * i)),
            BUF_BUS + 2048 * i
        );
    }
}

#[test]
fn the_mac_comes_from_the_eeprom_when_receive_address_0_is_empty() {
    let mem = memory(LAYOUT);
    let dev = E1000Model::new(&mem, MAC);
    dev.ra_loaded_at_reset.set(false);
    let p = port(&dev, &mem, LAYOUT);
    assert_eq!(p.mac_address(), MAC);
    assert_eq!(dev.get(RAL0), u32::from_le_bytes([0x52, 0x54, 0x00, 0x12]));
}

#[test]
fn a_reset_that_never_finishes_is_reported() {
    let mem = memory(LAYOUT);
    let dev = E1000Model::new(&mem, MAC);
    dev.reset_stuck.set(true);
    let delay = CountingDelay::default();
    let r = E1000::new(&dev, &mem, mem.ring_memory(), LAYOUT, &delay);
    assert_eq!(r.err(), Some(SetupError::ResetTimeout));
    assert!(delay.total_us.get() >= 1000, "it waited before giving up");
}

#[test]
fn layouts_and_memory_the_device_cannot_take_are_refused() {
    let mem = memory(LAYOUT);
    let dev = E1000Model::new(&mem, MAC);
    let delay = CountingDelay::default();
    let try_layout = |l: RingLayout| E1000::new(&dev, &mem, mem.ring_memory(), l, &delay).err();
    let bad = |f: fn(&mut RingLayout)| {
        let mut l = LAYOUT;
        f(&mut l);
        try_layout(l)
    };
    assert_eq!(bad(|l| l.rx_slots = 12), Some(SetupError::BadLayout));
    assert_eq!(bad(|l| l.tx_slots = 0), Some(SetupError::BadLayout));
    assert_eq!(bad(|l| l.buffer_size = 1536), Some(SetupError::BadLayout));
    assert!(matches!(
        bad(|l| l.rx_slots = 64),
        Some(SetupError::DescriptorMemoryTooSmall { .. })
    ));
    assert!(matches!(
        bad(|l| l.buffer_size = 4096),
        Some(SetupError::BufferMemoryTooSmall { .. })
    ));
    let mut m = mem.ring_memory();
    m.buffers = m.buffers.window(8, m.buffers.len() - 8).unwrap();
    let small = RingLayout {
        buffer_size: 1024,
        ..LAYOUT
    };
    let r = E1000::new(&dev, &mem, m, small, &delay);
    assert_eq!(
        r.err(),
        Some(SetupError::Misaligned),
        "buffers off their cache line"
    );
}

#[test]
fn received_frames_are_handed_up_in_order_and_the_slots_given_back() {
    let mem = memory(LAYOUT);
    let dev = E1000Model::new(&mem, MAC);
    let mut p = port(&dev, &mem, LAYOUT);
    let sent: Vec<_> = (0..3).map(|i| frame(60 + 100 * i, i as u8)).collect();
    for f in &sent {
        assert!(dev.receive(f));
    }
    assert_eq!(poll_all(&mut p), sent);
    assert_eq!(
        dev.get(RDT),
        2,
        "RDT follows: one behind the next descriptor to clean"
    );
    let c = p.counters();
    assert_eq!((c.rx_frames, c.rx_bytes), (3, 60 + 160 + 260));
    assert_eq!(poll_all(&mut p), Vec::<Vec<u8>>::new());
}

/// Buffer addresses are written once, at setup: giving a receive slot back only clears its
/// status, and every transmit slot already points at its own buffer before a frame is queued.
#[test]
fn descriptors_carry_their_buffer_addresses_from_setup_and_a_slot_given_back_only_loses_its_status()
{
    let mem = memory(LAYOUT);
    let dev = E1000Model::new(&mem, MAC);
    let mut p = port(&dev, &mem, LAYOUT);
    let tx_ring = DESC_BUS + 8 * 16;
    let tx_buffers = BUF_BUS + 8 * 2048;
    for i in 0..8u64 {
        assert_eq!(
            u64::from(mem.device_read_le32(tx_ring + 16 * i)),
            tx_buffers + 2048 * i,
            "transmit slot {i}"
        );
        assert_eq!(mem.device_read_le32(tx_ring + 16 * i + 4), 0);
    }
    assert!(dev.receive(&frame(100, 1)));
    assert_ne!(mem.device_read_le32(DESC_BUS + 12) & RXD_STAT_DD, 0);
    assert_eq!(poll_all(&mut p).len(), 1);
    assert_eq!(mem.device_read_le32(DESC_BUS + 12), 0, "status cleared");
    assert_eq!(
        u64::from(mem.device_read_le32(DESC_BUS)),
        BUF_BUS,
        "its buffer"
    );
    assert_eq!(mem.device_read_le32(DESC_BUS + 4), 0);
}

#[test]
fn the_ring_wraps_many_times_without_losing_or_reordering_a_frame() {
    let mem = memory(LAYOUT);
    let dev = E1000Model::new(&mem, MAC);
    let mut p = port(&dev, &mem, LAYOUT);
    let mut expected = Vec::new();
    let mut got = Vec::new();
    for round in 0..40u8 {
        for k in 0..5u8 {
            let f = frame(
                64 + usize::from(round) * 30 % 1400,
                round.wrapping_mul(5) + k,
            );
            assert!(dev.receive(&f));
            expected.push(f);
        }
        got.extend(poll_all(&mut p));
    }
    assert_eq!(got, expected);
}

#[test]
fn a_budget_bounds_one_poll() {
    let mem = memory(LAYOUT);
    let dev = E1000Model::new(&mem, MAC);
    let mut p = port(&dev, &mem, LAYOUT);
    (0..5).for_each(|i| assert!(dev.receive(&frame(100, i))));
    let mut n = 0;
    assert_eq!(p.poll_rx(2, &mut |_| n += 1), 2);
    assert_eq!(
        p.poll_rx(10, &mut |_| n += 1),
        3,
        "less than the budget: drained"
    );
    assert_eq!(n, 5);
}

#[test]
fn a_full_ring_makes_the_device_miss_frames_until_polled() {
    let mem = memory(LAYOUT);
    let dev = E1000Model::new(&mem, MAC);
    let mut p = port(&dev, &mem, LAYOUT);
    let accepted = (0..10).filter(|&i| dev.receive(&frame(100, i))).count();
    assert_eq!(accepted, 7, "8 slots, one kept back");
    let events = p.take_events();
    assert!(events.rx && events.rx_overrun);
    assert_eq!(p.counters().rx_overruns, 1);
    assert_eq!(poll_all(&mut p).len(), 7);
    assert!(dev.receive(&frame(100, 99)), "room again");
    assert_eq!(p.update_statistics().missed, 3);
}

#[test]
fn a_frame_longer_than_a_buffer_is_dropped_whole() {
    let layout = RingLayout {
        buffer_size: 256,
        ..LAYOUT
    };
    let mem = memory(layout);
    let dev = E1000Model::new(&mem, MAC);
    let mut p = port(&dev, &mem, layout);
    assert!(dev.receive(&frame(700, 1)), "stored over three descriptors");
    assert!(dev.receive(&frame(200, 2)));
    let got = poll_all(&mut p);
    assert_eq!(got, vec![frame(200, 2)]);
    assert_eq!(p.counters().rx_too_long, 1);
    assert_eq!(p.counters().rx_dropped(), 1);
}

#[test]
fn runts_error_frames_and_impossible_lengths_are_dropped_and_counted() {
    let mem = memory(LAYOUT);
    let dev = E1000Model::new(&mem, MAC);
    let mut p = port(&dev, &mem, LAYOUT);
    let dd_eop = (RXD_STAT_DD | RXD_STAT_EOP) as u8;
    assert!(dev.complete_raw(&frame(10, 0), 10, dd_eop, 0));
    assert!(dev.complete_raw(&frame(100, 1), 100, dd_eop, 0x01)); // CRC error
    assert!(dev.complete_raw(&frame(100, 2), 100, dd_eop, 0x80)); // RX data error
    assert!(dev.complete_raw(&frame(100, 3), 0xFFFF, dd_eop, 0));
    assert!(dev.complete_raw(&frame(100, 4), 2049, dd_eop, 0));
    assert!(dev.complete_raw(&frame(100, 5), 100, dd_eop, 0x20)); // TCP checksum: not ours
    let got = poll_all(&mut p);
    assert_eq!(got, vec![frame(100, 5)]);
    let c = p.counters();
    assert_eq!((c.rx_runts, c.rx_errors, c.rx_bad_descriptors), (1, 2, 2));
}

#[test]
fn frames_to_send_reach_the_wire_intact_and_their_slots_come_back() {
    let mem = memory(LAYOUT);
    let dev = E1000Model::new(&mem, MAC);
    let mut p = port(&dev, &mem, LAYOUT);
    let frames: Vec<_> = (0..5).map(|i| frame(60 + 300 * i, i as u8)).collect();
    for f in &frames {
        p.transmit(f).unwrap();
    }
    assert!(
        dev.sent.borrow().is_empty(),
        "nothing leaves before the doorbell"
    );
    p.flush_tx();
    assert_eq!(*dev.sent.borrow(), frames);
    assert_eq!(dev.get(TDT), 5);
    assert_eq!(p.reclaim_tx(), 5);
    let c = p.counters();
    assert_eq!(
        (c.tx_frames, c.tx_bytes),
        (5, frames.iter().map(|f| f.len() as u64).sum())
    );
    // Written straight into the buffer.
    p.transmit_with(100, &mut |buf| buf.copy_from_slice(&frame(100, 42)))
        .unwrap();
    p.flush_tx();
    assert_eq!(dev.sent.borrow().last(), Some(&frame(100, 42)));
}

#[test]
fn a_frame_gathered_from_two_pieces_leaves_as_one() {
    let mem = memory(LAYOUT);
    let dev = E1000Model::new(&mem, MAC);
    let mut p = port(&dev, &mem, LAYOUT);
    let frames: Vec<_> = [60usize, 64, 1514]
        .iter()
        .map(|&n| frame(n, n as u8))
        .collect();
    for f in &frames {
        p.transmit_parts(&f[..34], &f[34..]).unwrap();
    }
    p.flush_tx();
    assert_eq!(*dev.sent.borrow(), frames);
    assert_eq!(p.counters().tx_frames, 3);
    assert_eq!(
        p.transmit_parts(&frame(34, 1), &frame(1 << 16, 1)),
        Err(TxError::TooLong)
    );
}

#[test]
fn a_full_transmit_ring_refuses_frames_until_the_device_is_done() {
    let mem = memory(LAYOUT);
    let dev = E1000Model::new(&mem, MAC);
    let mut p = port(&dev, &mem, LAYOUT);
    for i in 0..7 {
        p.transmit(&frame(100, i)).unwrap();
    }
    assert_eq!(p.transmit(&frame(100, 7)), Err(TxError::RingFull));
    assert_eq!(p.counters().tx_ring_full, 1);
    p.flush_tx();
    p.transmit(&frame(100, 7)).unwrap(); // reclaims first
    p.flush_tx();
    assert_eq!(dev.sent.borrow().len(), 8);
    for round in 0..30u8 {
        (0..3).for_each(|i| p.transmit(&frame(64, round + i)).unwrap());
        p.flush_tx();
    }
    assert_eq!(dev.sent.borrow().len(), 8 + 90);
}

#[test]
fn frames_that_cannot_be_sent_are_refused_and_device_errors_counted() {
    let mem = memory(LAYOUT);
    let dev = E1000Model::new(&mem, MAC);
    let mut p = port(&dev, &mem, LAYOUT);
    assert_eq!(p.transmit(&frame(2049, 0)), Err(TxError::TooLong));
    assert_eq!(p.transmit(&[]), Err(TxError::TooShort));
    assert_eq!(p.counters().tx_rejected, 2);
    dev.tx_error_next.set(true);
    p.transmit(&frame(100, 0)).unwrap();
    p.flush_tx();
    p.reclaim_tx();
    assert_eq!(p.counters().tx_errors, 1);
}

#[test]
fn interrupts_are_read_acknowledged_masked_and_never_lost_while_masked() {
    let mem = memory(LAYOUT);
    let dev = E1000Model::new(&mem, MAC);
    let mut p = port(&dev, &mem, LAYOUT);
    p.set_interrupts(true);
    assert!(dev.receive(&frame(100, 0)));
    assert!(dev.irq());
    let e = p.take_events();
    assert!(e.rx && !e.tx && !e.link);
    assert!(!dev.irq(), "reading ICR deasserts the line");
    // Polling mode: interrupts off, a frame arrives, the line stays quiet...
    p.set_interrupts(false);
    assert!(dev.receive(&frame(100, 1)));
    assert!(!dev.irq());
    // ...and the cause latched meanwhile raises it again when they come back on.
    p.set_interrupts(true);
    assert!(dev.irq());
    assert!(p.take_events().rx);
    p.transmit(&frame(100, 2)).unwrap();
    p.flush_tx();
    assert!(p.take_events().tx);
}

#[test]
fn the_link_state_follows_the_device() {
    let mem = memory(LAYOUT);
    let dev = E1000Model::new(&mem, MAC);
    let mut p = port(&dev, &mem, LAYOUT);
    let l = p.link();
    assert!(l.up && l.full_duplex);
    assert_eq!(l.speed, Some(Speed::Mbps1000));
    dev.set_link(false);
    assert!(!p.link().up);
    assert!(p.take_events().link);
    assert!(
        !dev.receive(&frame(100, 0)),
        "no frames while the link is down"
    );
    dev.set_link(true);
    assert!(p.link().up);
}

#[test]
fn promiscuous_mode_receives_frames_for_other_addresses() {
    let mem = memory(LAYOUT);
    let dev = E1000Model::new(&mem, MAC);
    let mut p = port(&dev, &mem, LAYOUT);
    let mut other = frame(100, 0);
    other[..6].copy_from_slice(&[0x02, 9, 9, 9, 9, 9]);
    let mut mine = frame(100, 1);
    mine[..6].copy_from_slice(&MAC.0);
    let mut broadcast = frame(100, 2);
    broadcast[..6].copy_from_slice(&[0xFF; 6]);
    p.set_promiscuous(false);
    assert!(!dev.receive(&other));
    assert!(dev.receive(&mine) && dev.receive(&broadcast));
    p.set_promiscuous(true);
    assert!(dev.receive(&other));
    p.set_promiscuous(false);
    assert!(!dev.receive(&other));
    let new_mac = MacAddress([0x02, 9, 9, 9, 9, 9]);
    p.set_mac_address(new_mac);
    assert!(dev.receive(&other), "now it is ours");
    assert_eq!(poll_all(&mut p).len(), 4);
}

#[test]
fn device_statistics_accumulate_from_clear_on_read_registers() {
    let mem = memory(LAYOUT);
    let dev = E1000Model::new(&mem, MAC);
    let mut p = port(&dev, &mem, LAYOUT);
    (0..3).for_each(|i| assert!(dev.receive(&frame(100, i))));
    p.transmit(&frame(200, 0)).unwrap();
    p.flush_tx();
    let s = p.update_statistics();
    assert_eq!((s.good_rx_frames, s.good_rx_bytes), (3, 300));
    assert_eq!((s.good_tx_frames, s.good_tx_bytes), (1, 200));
    let again = p.update_statistics();
    assert_eq!(again, s, "nothing new: nothing added");
}

#[test]
fn buffers_left_dirty_before_setup_cannot_be_evicted_over_received_frames() {
    let mem = memory(LAYOUT);
    mem.dirty_buffers(0xEE);
    let dev = E1000Model::new(&mem, MAC);
    let mut p = port(&dev, &mem, LAYOUT);
    let f = frame(1500, 3);
    assert!(dev.receive(&f));
    assert_eq!(poll_all(&mut p), vec![f]);
    assert!(
        mem.drains.get() > 0,
        "device writes are drained before descriptors are read"
    );
}

/// The fuzz-style property: whatever a device writes into the descriptors, the driver hands up
/// only slices inside its receive buffers, never longer than a buffer, and keeps working.
#[test]
fn garbage_written_by_the_device_never_escapes_the_buffers() {
    for seed in 0..40 {
        let mut rng = Rng::new(seed);
        let layout = RingLayout {
            buffer_size: [256, 512, 2048][rng.below(3)],
            ..LAYOUT
        };
        let mem = memory(layout);
        let dev = E1000Model::new(&mem, MAC);
        let mut p = port(&dev, &mem, layout);
        let mut delivered = 0u64;
        for _ in 0..300 {
            match rng.below(6) {
                0 => {
                    let data = frame(rng.below(3000), rng.next_u32() as u8);
                    let length = rng.next_u32() as u16;
                    dev.complete_raw(&data, length, rng.next_u32() as u8, rng.next_u32() as u8);
                }
                1 => {
                    // Scribble on the length and status of any receive descriptor (owned by
                    // the driver or not), or the status of a transmit descriptor.
                    let rx = rng.below(8) as u64 * 16 + [8, 12][rng.below(2)];
                    let tx = (8 + rng.below(8) as u64) * 16 + 12;
                    let at = DESC_BUS + if rng.chance(2) { rx } else { tx };
                    mem.device_write_le32(at, rng.next_u32());
                }
                2 => {
                    dev.receive(&frame(14 + rng.below(1500), rng.next_u32() as u8));
                }
                3 => {
                    let _ = p.transmit(&frame(rng.below(2100), 0));
                    p.flush_tx();
                }
                _ => {
                    let budget = 1 + rng.below(10);
                    p.poll_rx(budget, &mut |f| {
                        assert!(mem.contains(f), "a slice outside the receive buffers");
                        assert!(f.len() <= layout.buffer_size && f.len() >= 14);
                        delivered += 1;
                    });
                }
            }
        }
        assert_eq!(p.counters().rx_frames, delivered);
    }
}
