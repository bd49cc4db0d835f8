//! The guest-to-guest frame benchmark's scenario, shared by the host program (`src/main.rs`,
//! nanoseconds) and the bare-metal programs (`mips/` on QEMU malta, `e500/` on QEMU ppce500:
//! instructions counted under QEMU, printed by [`report`]): two guests
//! laid out like Linux `mtveth` (1024 TX descriptors over 128 buffers, 128 RX buffers of 1600
//! bytes, frames two bytes into word-aligned buffers) in one bridge, and what the hypervisor
//! does per frame timed through the product's own code: `vmm::net::switch_frames` over a
//! `vmm::net::Net` built from a `NetworkPlan` (take the frame from A's TX ring, switch
//! decision, one copy into B's posted RX buffer, B's virq, A's descriptor handed back). The
//! parts are also timed alone, next to a plain `copy_from_slice` of the frame. The guests' own
//! work (filling TX descriptors, re-posting RX buffers) is not timed.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod host_echo;

use alloc::vec;
use core::fmt::Write;

use guest_mem::{GuestRam, Gva, MIPS_RAM_WINDOW};
use vdevices::abi::DONE;
use vdevices::descriptor::Descriptor;
use vdevices::{Delivery, GuestDevices};
use vmm::net::{switch_frames, Net, SwitchedGuest, BRIDGES, MACS, PORTS};
use vmm::{BridgePortPlan, GuestId, NetworkPlan, VifPlan};
use vswitch::{BridgeConfig, Forward, PortSettings, Seconds, Switch};

const BASE: u32 = MIPS_RAM_WINDOW.get();
const TX_COUNT: u32 = 1024;
const RX_COUNT: u32 = 128;
const BUFFERS: u32 = 128;
const RX_SIZE: u32 = 1600;
const STRIDE: u32 = 2048;
const VIRQ: u32 = BASE + 0x100;
const TX_RING: u32 = BASE + 0x1000;
const RX_RING: u32 = BASE + 0x5000;
const TX_BUFS: u32 = BASE + 0x8000;
const RX_BUFS: u32 = TX_BUFS + BUFFERS * STRIDE;
/// Bytes of RAM each guest needs (page-aligned, as partitions are).
pub const RAM_LEN: usize = (RX_BUFS + BUFFERS * STRIDE - BASE) as usize;
/// Frames per batch: what guest A hands over between two looks of the host.
pub const BATCH: u32 = RX_COUNT;

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0xA1];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0xB1];

/// A guest of the benchmark: its RAM and its devices.
pub struct BenchGuest<'m> {
    mem: &'m mut [u8],
    devices: GuestDevices,
    next_tx: u32,
}

impl SwitchedGuest for BenchGuest<'_> {
    fn devices_and_ram(&mut self) -> Option<(&mut GuestDevices, GuestRam<'_>)> {
        Some((
            &mut self.devices,
            GuestRam::new(self.mem, MIPS_RAM_WINDOW).ok()?,
        ))
    }
    fn note_delivery(&mut self) {}
    fn ring_space_freed(&mut self) {}
}

fn descriptor(ram: &mut GuestRam<'_>, at: u32, addr: u32, size: u32, next: u32) {
    let d = Descriptor {
        addr: Gva::new(addr),
        size,
        next: Gva::new(next),
    };
    d.write(ram, Gva::new(at))
        .expect("the layout fits the guest's RAM");
}

impl<'m> BenchGuest<'m> {
    /// A guest with its rings laid out, its queue created and every TX buffer holding
    /// interface id 1 and a `frame_len`-byte frame from `mac` to `peer`.
    fn new(mem: &'m mut [u8], mac: [u8; 6], peer: [u8; 6], frame_len: usize) -> Self {
        mem.fill(0);
        let mut devices = GuestDevices::new();
        let mut ram = GuestRam::new(mem, MIPS_RAM_WINDOW).expect("a guest RAM window");
        for i in 0..TX_COUNT {
            let next = if i + 1 == TX_COUNT {
                TX_RING
            } else {
                TX_RING + 16 * (i + 1)
            };
            descriptor(
                &mut ram,
                TX_RING + 16 * i,
                TX_BUFS + STRIDE * (i % BUFFERS),
                0,
                next,
            );
        }
        for i in 0..RX_COUNT {
            let next = if i + 1 == RX_COUNT {
                RX_RING
            } else {
                RX_RING + 16 * (i + 1)
            };
            descriptor(
                &mut ram,
                RX_RING + 16 * i,
                RX_BUFS + STRIDE * i,
                RX_SIZE,
                next,
            );
        }
        assert_eq!(devices.hypercall(&mut ram, 14, [VIRQ, 32, 0, 0]), 0);
        assert_eq!(devices.hypercall(&mut ram, 4, [3, 3, TX_RING, RX_RING]), 0);
        let mut data = vec![0u8; 2 + frame_len];
        data[..2].copy_from_slice(&[0, 1]);
        data[2..8].copy_from_slice(&peer);
        data[8..14].copy_from_slice(&mac);
        data[14..16].copy_from_slice(&[0x08, 0x00]);
        data[16..].fill(0x5A);
        for k in 0..BUFFERS {
            ram.write_from(Gva::new(TX_BUFS + STRIDE * k), &data)
                .expect("in RAM");
        }
        BenchGuest {
            mem,
            devices,
            next_tx: 0,
        }
    }

    fn ram(&mut self) -> GuestRam<'_> {
        GuestRam::new(self.mem, MIPS_RAM_WINDOW).expect("a guest RAM window")
    }

    /// The guest hands `n` TX descriptors over (`size = len | DONE`).
    fn post_tx(&mut self, n: u32, len: u32) {
        for _ in 0..n {
            let d = TX_RING + 16 * (self.next_tx % TX_COUNT) + 4;
            self.next_tx += 1;
            self.ram()
                .write_u32(Gva::new(d), len | DONE)
                .expect("in RAM");
        }
    }

    /// RX buffers the host filled since the last re-post.
    fn filled_rx(&mut self) -> u32 {
        let ram = self.ram();
        (0..RX_COUNT)
            .filter(|i| {
                ram.read_u32(Gva::new(RX_RING + 16 * i + 4))
                    .is_ok_and(|s| s & DONE != 0)
            })
            .count() as u32
    }

    /// The guest consumes every RX buffer and posts it again; clears its virq word.
    fn repost_rx(&mut self) {
        let mut ram = self.ram();
        for i in 0..RX_COUNT {
            ram.write_u32(Gva::new(RX_RING + 16 * i + 4), RX_SIZE)
                .expect("in RAM");
        }
        ram.write_u32(Gva::new(VIRQ), 0).expect("in RAM");
        let _ = self.devices.take_events();
    }
}

/// Totals of clock units over the frames measured (`frames` of each kind).
#[derive(Clone, Copy, Debug, Default)]
pub struct Figures {
    /// `switch_frames` over whole batches.
    pub full: u64,
    /// Taking frames from A's TX ring and handing the descriptors back.
    pub tx: u64,
    /// The switch's decision (learning and lookup).
    pub switch: u64,
    /// Delivering into B's RX ring (the copy included).
    pub rx: u64,
    /// `copy_from_slice` of the frame alone.
    pub copy: u64,
    /// Frames per kind.
    pub frames: u64,
}

/// Measure with `clock` (any monotonic unit) `batches` batches of `frame_len`-byte frames, in
/// the two guests' RAM (`RAM_LEN` bytes each, word-aligned).
pub fn measure(
    mem_a: &mut [u8],
    mem_b: &mut [u8],
    frame_len: usize,
    batches: u32,
    clock: &mut dyn FnMut() -> u64,
) -> Figures {
    let transfer = frame_len as u32 + 2;
    let now = Seconds(1);
    let a = BenchGuest::new(mem_a, MAC_A, MAC_B, frame_len);
    let b = BenchGuest::new(mem_b, MAC_B, MAC_A, frame_len);
    let mut guests = [Some(a), Some(b)];
    let plan = NetworkPlan {
        bridges: vec![BridgeConfig::default()],
        vifs: vec![
            VifPlan {
                guest: GuestId(0),
                interface: 1,
                mac: MAC_A,
            },
            VifPlan {
                guest: GuestId(1),
                interface: 1,
                mac: MAC_B,
            },
        ],
        ports: vec![
            BridgePortPlan {
                vif: 0,
                bridge: 0,
                horizon: None,
            },
            BridgePortPlan {
                vif: 1,
                bridge: 0,
                horizon: None,
            },
        ],
        ethers: vec![],
        host: Default::default(),
        vlan_ports: alloc::vec::Vec::new(),
    };
    let mut net = Net::new();
    net.apply(&plan, &mut guests);
    let [Some(a), Some(b)] = &mut guests else {
        unreachable!()
    };
    // The guests consume the interface announcements; B says hello so that A's frames to it
    // are known unicast.
    a.repost_rx();
    b.repost_rx();
    b.post_tx(1, transfer);
    switch_frames(&mut net, &mut guests, now);
    let [Some(a), Some(_)] = &mut guests else {
        unreachable!()
    };
    assert_eq!(a.filled_rx(), 1, "the hello arrived");
    a.repost_rx();

    let mut f = Figures {
        frames: u64::from(batches * BATCH),
        ..Figures::default()
    };
    for _ in 0..batches {
        let [Some(a), Some(_)] = &mut guests else {
            unreachable!()
        };
        a.post_tx(BATCH, transfer);
        let start = clock();
        for _ in 0..BATCH.div_ceil(vmm::net::TX_BUDGET as u32) {
            switch_frames(&mut net, &mut guests, now);
        }
        f.full += clock() - start;
        let [Some(_), Some(b)] = &mut guests else {
            unreachable!()
        };
        assert_eq!(b.filled_rx(), BATCH, "every frame arrived");
        b.repost_rx();
    }

    let [Some(a), Some(b)] = &mut guests else {
        unreachable!()
    };
    for _ in 0..batches {
        a.post_tx(BATCH, transfer);
        let (devices, mut ram) = a.devices_and_ram().expect("RAM");
        let start = clock();
        while let Ok(Some(tx)) = devices.veth_next_tx(&mut ram) {
            core::hint::black_box(tx.frame);
            let token = tx.token;
            devices
                .veth_complete_tx(&mut ram, token)
                .expect("a taken descriptor");
        }
        f.tx += clock() - start;
    }

    // The switch alone, as the product builds it: two ports in a bridge, B learned.
    let mut sw: alloc::boxed::Box<Switch<PORTS, BRIDGES, MACS>> =
        alloc::boxed::Box::new(Switch::new());
    let br = sw.add_bridge(BridgeConfig::default()).expect("a bridge");
    let (pa, pb) = (
        sw.add_port().expect("a port"),
        sw.add_port().expect("a port"),
    );
    sw.attach(pa, br, PortSettings::default())
        .expect("attached");
    sw.attach(pb, br, PortSettings::default())
        .expect("attached");
    let mut hello = [0u8; 60];
    hello[..6].copy_from_slice(&MAC_A);
    hello[6..12].copy_from_slice(&MAC_B);
    sw.forward(now, pb, &hello);
    // The frame where guest A has it (two bytes into a word-aligned buffer).
    let at = (TX_BUFS - BASE) as usize + 2;
    let frame = &a.mem[at..at + frame_len];
    assert!(matches!(sw.forward(now, pa, frame), Forward::Unicast(p) if p == pb));
    let start = clock();
    for _ in 0..f.frames {
        core::hint::black_box(sw.forward(now, pa, core::hint::black_box(frame)));
    }
    f.switch = clock() - start;

    for _ in 0..batches {
        let (devices, mut ram) = b.devices_and_ram().expect("RAM");
        let start = clock();
        for _ in 0..BATCH {
            let delivered = devices.veth_deliver(&mut ram, 1, core::hint::black_box(frame));
            core::hint::black_box(delivered == Ok(Delivery::Delivered));
        }
        f.rx += clock() - start;
        b.repost_rx();
    }

    // Peer: the copy alone, between the same kind of buffers (frame at offset 2 in both).
    let start = clock();
    for k in 0..f.frames {
        let o = (TX_BUFS - BASE + STRIDE * (k as u32 % BUFFERS)) as usize + 2;
        b.mem[o..o + frame_len].copy_from_slice(core::hint::black_box(&a.mem[o..o + frame_len]));
    }
    f.copy = clock() - start;
    f
}

/// The bare-metal programs' report (`mips/`, `e500/`): instructions per guest-to-guest frame
/// of 64 and 1514 bytes over `batches` batches, its parts, and the host IP's echo reply, on
/// `cpu` whose counter (read by `clock`) runs `ratio` ticks per instruction.
pub fn report(
    out: &mut dyn Write,
    cpu: &str,
    ratio: f32,
    mem_a: &mut [u8],
    mem_b: &mut [u8],
    batches: u32,
    clock: &mut dyn FnMut() -> u64,
) {
    let frames = batches * BATCH;
    let _ = writeln!(
        out,
        "{cpu} instructions per guest-to-guest frame ({frames} frames per size)"
    );
    let _ = writeln!(
        out,
        "{:>6} {:>10} {:>8} {:>8} {:>8} {:>12}",
        "bytes", "full path", "tx scan", "switch", "rx copy", "memcpy alone"
    );
    for len in [64usize, 1514] {
        let f = measure(mem_a, mem_b, len, batches, clock);
        let per = |ticks: u64| ticks as f32 / ratio / f.frames as f32;
        let _ = writeln!(
            out,
            "{len:>6} {:>10.0} {:>8.0} {:>8.0} {:>8.0} {:>12.0}",
            per(f.full),
            per(f.tx),
            per(f.switch),
            per(f.rx),
            per(f.copy)
        );
    }
    let rounds = 20_000;
    let (ticks, _) = host_echo::measure_echo(rounds, clock);
    let _ = writeln!(
        out,
        "{cpu} instructions per echo reply from the host's IP endpoint (receive to reply built, {rounds} requests): {:.0}",
        ticks as f32 / ratio / rounds as f32
    );
}
