//! Host benchmark: ns per guest-to-guest frame through the device layer and the switch.
//!
//! Two model guests with Linux-like virtual ethernet rings (1024 TX descriptors in guest A,
//! 128 RX buffers of 1600 bytes in guest B). Per batch, guest A has 128 frames handed over;
//! the timed part is what the hypervisor does per frame: take it from A's TX ring, ask the
//! switch, copy it into B's posted RX buffer (one copy), raise B's virq, hand A's descriptor
//! back. The guests' own work (filling TX descriptors, re-posting RX buffers) is not timed.
//! The parts are also timed alone, next to a plain `copy_from_slice` of the frame.
//!
//! Run: `cargo run --release -p vswitch --example guest_to_guest`

use guest_mem::{GuestRam, MIPS_RAM_WINDOW};
use std::hint::black_box;
use std::time::Instant;
use vdevices::abi::DONE;
use vdevices::{Delivery, GuestDevices, VethTx};
use vswitch::{BridgeConfig, Forward, PortSettings, Seconds, Switch};

const BASE: u32 = 0xC000_0000;
const TX_COUNT: u32 = 1024;
const RX_COUNT: u32 = 128;
const RX_SIZE: u32 = 1600;
const BATCH: u32 = RX_COUNT;
const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0xA1];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0xB1];

struct Guest {
    mem: Vec<u8>,
    dev: GuestDevices,
    tx_head: u32,
    tx_bufs: u32,
    rx_head: u32,
    virq: u32,
    next_tx: u32,
}

impl Guest {
    fn ram(mem: &mut [u8]) -> GuestRam<'_> {
        GuestRam::new(mem, MIPS_RAM_WINDOW).unwrap()
    }

    fn w32(&mut self, gva: u32, v: u32) {
        let o = (gva - BASE) as usize;
        self.mem[o..o + 4].copy_from_slice(&v.to_be_bytes());
    }

    /// Lays out rings as `mtveth.c` does, registers the virq word, creates queue 3 and
    /// configures interface 1.
    fn new(mac: [u8; 6], frame_len: usize) -> Self {
        let mut g = Guest {
            mem: vec![0; 8 << 20],
            dev: GuestDevices::new(),
            tx_head: BASE + 0x10_0000,
            tx_bufs: BASE + 0x20_0000,
            rx_head: BASE + 0x12_0000,
            virq: BASE + 0x1000,
            next_tx: 0,
        };
        let rx_bufs = BASE + 0x40_0000;
        for i in 0..TX_COUNT {
            let d = g.tx_head + 16 * i;
            g.w32(d, g.tx_bufs + 2048 * i);
            g.w32(d + 8, if i + 1 == TX_COUNT { g.tx_head } else { d + 16 });
        }
        for i in 0..RX_COUNT {
            let d = g.rx_head + 16 * i;
            g.w32(d, rx_bufs + 2048 * i);
            g.w32(d + 4, RX_SIZE);
            g.w32(d + 8, if i + 1 == RX_COUNT { g.rx_head } else { d + 16 });
        }
        let mut ram = Self::ram(&mut g.mem);
        assert_eq!(g.dev.hypercall(&mut ram, 14, [g.virq, 32, 0, 0]), 0);
        g.dev.set_veth_interface(&mut ram, 1, Some(mac)).unwrap();
        assert_eq!(
            g.dev.hypercall(&mut ram, 4, [3, 3, g.tx_head, g.rx_head]),
            0
        );
        // The guest consumes the NEWIFACE message.
        g.repost_rx();
        // Pre-fill every TX buffer with id 1 and a frame from `mac` to the peer.
        let peer = if mac == MAC_A { MAC_B } else { MAC_A };
        let mut data = vec![0, 1];
        data.extend_from_slice(&peer);
        data.extend_from_slice(&mac);
        data.extend_from_slice(&[0x08, 0x00]);
        data.resize(2 + frame_len, 0x5A);
        for i in 0..TX_COUNT {
            let o = (g.tx_bufs + 2048 * i - BASE) as usize;
            g.mem[o..o + data.len()].copy_from_slice(&data);
        }
        g
    }

    /// The guest hands `n` TX descriptors over (`size = len | DONE`).
    fn post_tx(&mut self, n: u32, len: u32) {
        for _ in 0..n {
            let d = self.tx_head + 16 * (self.next_tx % TX_COUNT);
            self.w32(d + 4, len | DONE);
            self.next_tx += 1;
        }
    }

    /// The guest consumes all RX buffers and posts them again; clears its virq word.
    fn repost_rx(&mut self) {
        for i in 0..RX_COUNT {
            self.w32(self.rx_head + 16 * i + 4, RX_SIZE);
        }
        self.w32(self.virq, 0);
        let _ = self.dev.take_events();
    }
}

type Sw = Switch<64, 8, 1024>;

fn switch() -> (Sw, vswitch::PortId, vswitch::PortId) {
    let mut sw = Sw::new();
    let br = sw.add_bridge(BridgeConfig::default()).unwrap();
    let pa = sw.add_port().unwrap();
    let pb = sw.add_port().unwrap();
    sw.attach(pa, br, PortSettings::default()).unwrap();
    sw.attach(pb, br, PortSettings::default()).unwrap();
    (sw, pa, pb)
}

struct Figures {
    full: f64,
    tx: f64,
    decision: f64,
    rx: f64,
    memcpy: f64,
}

fn measure(frame_len: usize, batches: u32) -> Figures {
    let transfer = frame_len as u32 + 2;
    let mut a = Guest::new(MAC_A, frame_len);
    let mut b = Guest::new(MAC_B, frame_len);
    let (mut sw, pa, pb) = switch();
    let now = Seconds(1);
    // B announces itself so that A's frames are known unicast.
    let mut hello = MAC_A.to_vec();
    hello.extend_from_slice(&MAC_B);
    hello.extend_from_slice(&[0x08, 0x00]);
    hello.resize(60, 0);
    sw.forward(now, pb, &hello);

    // Whole path.
    let mut full = 0u128;
    let mut delivered = 0u64;
    for _ in 0..batches {
        a.post_tx(BATCH, transfer);
        let mut ram_a = Guest::ram(&mut a.mem);
        let mut ram_b = Guest::ram(&mut b.mem);
        let t = Instant::now();
        while let Some(VethTx { frame, token, .. }) = a.dev.veth_next_tx(&mut ram_a).unwrap() {
            if let Forward::Unicast(out) = sw.forward(now, pa, frame) {
                debug_assert_eq!(out, pb);
                if b.dev.veth_deliver(&mut ram_b, 1, frame) == Ok(Delivery::Delivered) {
                    delivered += 1;
                }
            }
            a.dev.veth_complete_tx(&mut ram_a, token).unwrap();
        }
        full += t.elapsed().as_nanos();
        b.repost_rx();
    }
    assert_eq!(
        delivered,
        u64::from(batches * BATCH),
        "every frame must arrive"
    );

    // TX scan alone (take + hand back).
    let mut tx = 0u128;
    for _ in 0..batches {
        a.post_tx(BATCH, transfer);
        let mut ram_a = Guest::ram(&mut a.mem);
        let t = Instant::now();
        while let Some(VethTx { frame, token, .. }) = a.dev.veth_next_tx(&mut ram_a).unwrap() {
            black_box(frame);
            a.dev.veth_complete_tx(&mut ram_a, token).unwrap();
        }
        tx += t.elapsed().as_nanos();
    }

    // Switch decision alone (learning + lookup).
    let o = (a.tx_bufs - BASE) as usize + 2;
    let frame = a.mem[o..o + frame_len].to_vec();
    let t = Instant::now();
    for _ in 0..batches * BATCH {
        black_box(sw.forward(now, pa, black_box(&frame)));
    }
    let decision = t.elapsed().as_nanos();

    // RX delivery alone.
    let mut rx = 0u128;
    for _ in 0..batches {
        let mut ram_b = Guest::ram(&mut b.mem);
        let t = Instant::now();
        for _ in 0..BATCH {
            black_box(
                b.dev
                    .veth_deliver(&mut ram_b, 1, black_box(&frame))
                    .unwrap(),
            );
        }
        rx += t.elapsed().as_nanos();
        b.repost_rx();
    }

    // Peer: the copy alone.
    let mut dst = vec![0u8; frame_len];
    let t = Instant::now();
    for _ in 0..batches * BATCH {
        dst.copy_from_slice(black_box(&frame));
        black_box(&mut dst);
    }
    let memcpy = t.elapsed().as_nanos();

    let per = |ns: u128| ns as f64 / f64::from(batches * BATCH);
    Figures {
        full: per(full),
        tx: per(tx),
        decision: per(decision),
        rx: per(rx),
        memcpy: per(memcpy),
    }
}

fn main() {
    let batches = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(4000);
    println!(
        "guest-to-guest frame, ns per frame ({} frames per size, host CPU)",
        batches * BATCH
    );
    println!(
        "{:>6} {:>10} {:>9} {:>9} {:>9} {:>13}",
        "bytes", "full path", "tx scan", "switch", "rx copy", "memcpy alone"
    );
    for len in [64usize, 1514] {
        let f = measure(len, batches);
        println!(
            "{len:>6} {:>10.1} {:>9.1} {:>9.1} {:>9.1} {:>13.1}",
            f.full, f.tx, f.decision, f.rx, f.memcpy
        );
    }
}
