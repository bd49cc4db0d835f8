//! Frames delivered as a batch (`veth_deliver_unraised`, then `veth_raise_delivered` once)
//! leave the guest exactly what one `veth_deliver` per frame leaves: the same RAM (buffers,
//! descriptors, virq word), counters, events and queue state, batch after batch, through
//! frames that are delivered, dropped for want of a buffer, too big, for an interface that is
//! down, and rings the guest damaged (the queue faults in the middle of a batch).

use guest_mem::{GuestRam, MIPS_RAM_WINDOW};
use proptest::prelude::*;
use vdevices::{Delivery, GuestDevices, QueueId};

const BASE: u32 = 0xC000_0000;
const RAM: usize = 0x4000;
const VIRQ: u32 = BASE;
const TX: u32 = BASE + 0x100;
const RX: u32 = BASE + 0x200;
const RX_COUNT: u32 = 8;
const BUFS: u32 = BASE + 0x1000;
const STRIDE: u32 = 0x200;
const MAC1: [u8; 6] = [0x02, 0, 0, 0, 1, 1];
const MAC2: [u8; 6] = [0x02, 0, 0, 0, 1, 2];

fn put(mem: &mut [u8], at: u32, value: u32) {
    let at = (at - BASE) as usize;
    mem[at..at + 4].copy_from_slice(&value.to_be_bytes());
}

/// The RX buffers posted again (capacities by `sizes`), as the guest does after reading them.
fn repost(mem: &mut [u8], sizes: &[u32]) {
    for i in 0..RX_COUNT {
        let d = RX + 16 * i;
        put(mem, d, BUFS + STRIDE * i);
        put(mem, d + 4, sizes[i as usize % sizes.len()]);
        put(mem, d + 8, RX + 16 * ((i + 1) % RX_COUNT));
    }
}

/// A guest with its virq word, queue 3 on irq 3 and interfaces 1 and 2 announced.
fn guest(sizes: &[u32]) -> (Vec<u8>, GuestDevices) {
    let mut mem = vec![0u8; RAM];
    for i in 0..4 {
        put(&mut mem, TX + 16 * i + 8, TX + 16 * ((i + 1) % 4));
    }
    repost(&mut mem, sizes);
    let mut dev = GuestDevices::new();
    let mut ram = GuestRam::new(&mut mem, MIPS_RAM_WINDOW).unwrap();
    assert_eq!(dev.hypercall(&mut ram, 14, [VIRQ, 32, 0, 0]), 0);
    dev.set_veth_interface(&mut ram, 1, Some(MAC1)).unwrap();
    dev.set_veth_interface(&mut ram, 2, Some(MAC2)).unwrap();
    assert_eq!(dev.hypercall(&mut ram, 4, [3, 3, TX, RX]), 0);
    // The guest reads the announcements and clears its virq word.
    put(&mut mem, VIRQ, 0);
    repost(&mut mem, sizes);
    dev.take_events();
    (mem, dev)
}

/// What the guest would find, and what the host would act on.
fn state(mem: &[u8], dev: &mut GuestDevices) -> impl PartialEq + std::fmt::Debug {
    (
        mem.to_vec(),
        dev.stats(),
        dev.take_events(),
        dev.queue_status(QueueId::Veth),
    )
}

#[derive(Clone, Debug)]
enum Step {
    /// A frame of `len` bytes for interface `iface`.
    Frame { iface: u16, len: usize },
    /// The batch ends; the guest then reads its buffers, posts them again and clears its virq
    /// word, maybe damaging descriptor `damage` (a link out of its RAM).
    End { damage: Option<u8> },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0u16..4, prop_oneof![Just(60usize), 14usize..600]).prop_map(|(iface, len)| Step::Frame { iface, len }),
        1 => proptest::option::weighted(0.2, any::<u8>()).prop_map(|damage| Step::End { damage }),
    ]
}

proptest! {
    #[test]
    fn a_batch_raised_once_leaves_what_one_raise_per_frame_leaves(
        steps in proptest::collection::vec(step(), 1..80),
        sizes in proptest::collection::vec(prop_oneof![Just(0x200u32), 0u32..0x200], 1..4),
    ) {
        let (mut each_mem, mut each) = guest(&sizes);
        let (mut batch_mem, mut batch) = guest(&sizes);
        let mut delivered = 0;
        for (n, step) in steps.iter().chain([Step::End { damage: None }].iter()).enumerate() {
            match *step {
                Step::Frame { iface, len } => {
                    let frame: Vec<u8> = (0..len).map(|i| (i + n) as u8).collect();
                    let one = {
                        let mut ram = GuestRam::new(&mut each_mem, MIPS_RAM_WINDOW).unwrap();
                        each.veth_deliver(&mut ram, iface, &frame)
                    };
                    let in_batch = {
                        let mut ram = GuestRam::new(&mut batch_mem, MIPS_RAM_WINDOW).unwrap();
                        batch.veth_deliver_unraised(&mut ram, iface, &frame)
                    };
                    prop_assert_eq!(in_batch, one == Ok(Delivery::Delivered));
                    delivered += usize::from(in_batch);
                }
                Step::End { damage } => {
                    {
                        let mut ram = GuestRam::new(&mut batch_mem, MIPS_RAM_WINDOW).unwrap();
                        batch.veth_raise_delivered(&mut ram);
                    }
                    prop_assert_eq!(state(&each_mem, &mut each), state(&batch_mem, &mut batch));
                    for mem in [&mut each_mem, &mut batch_mem] {
                        put(mem, VIRQ, 0);
                        repost(mem, &sizes);
                        if let Some(d) = damage {
                            put(mem, RX + 16 * (u32::from(d) % RX_COUNT) + 8, BASE - 16);
                        }
                    }
                }
            }
        }
        // Not a vacuous comparison: frames were delivered in most runs.
        prop_assume!(delivered > 0);
    }
}

#[test]
fn a_batch_sets_virq_3_once_it_is_raised_and_not_before() {
    let (mut mem, mut dev) = guest(&[0x200]);
    let bit = 1u32 << 3;
    let virq = |mem: &[u8]| u32::from_be_bytes(mem[0..4].try_into().unwrap());
    {
        let mut ram = GuestRam::new(&mut mem, MIPS_RAM_WINDOW).unwrap();
        for i in 0..3 {
            assert!(dev.veth_deliver_unraised(&mut ram, 1, &[i; 60]));
        }
    }
    assert_eq!(virq(&mem), 0, "not raised yet");
    assert!(!dev.take_events().interrupt);
    {
        let mut ram = GuestRam::new(&mut mem, MIPS_RAM_WINDOW).unwrap();
        dev.veth_raise_delivered(&mut ram);
    }
    assert_eq!(virq(&mem), bit);
    assert!(dev.take_events().interrupt);
    // Nothing delivered since: raising again sets nothing.
    put(&mut mem, VIRQ, 0);
    {
        let mut ram = GuestRam::new(&mut mem, MIPS_RAM_WINDOW).unwrap();
        dev.veth_raise_delivered(&mut ram);
    }
    assert_eq!(virq(&mem), 0);
    assert!(!dev.take_events().interrupt);
    // A dropped frame (interface 3 is down) raises nothing either.
    {
        let mut ram = GuestRam::new(&mut mem, MIPS_RAM_WINDOW).unwrap();
        assert!(!dev.veth_deliver_unraised(&mut ram, 3, &[0; 60]));
        dev.veth_raise_delivered(&mut ram);
    }
    assert_eq!(virq(&mem), 0);
}
