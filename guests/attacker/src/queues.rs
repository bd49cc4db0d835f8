//! Probes of the vdma queues: ring and buffer pointers outside the guest's RAM, a `next` loop,
//! oversized and runt frames, a buffer capacity the host must respect. All on queue 3 (virtual
//! ethernet), which this guest does not otherwise use; the queue is released after each probe.

use core::sync::atomic::Ordering;

use mr_guest::hypercall::{self, CREATE_QUEUE};
use mr_guest::proto::descriptor::{done, is_done, length, DONE};
use mr_guest::proto::probe::Outcome;
use mr_guest::proto::veth::{VETH_QUEUE, VETH_VIRQ};
use mr_guest::timer;
use mr_guest::vdma::{Descriptor, DmaBuffer};

use crate::Probes;

const N: usize = 4;
static TX: [Descriptor; N] = [const { Descriptor::new() }; N];
static RX: [Descriptor; N] = [const { Descriptor::new() }; N];
static RX_BUFFERS: [DmaBuffer<1600>; N] = [const { DmaBuffer::new() }; N];
static TX_BUFFER: DmaBuffer<16384> = DmaBuffer::new();
/// A 4-byte RX buffer followed by canary bytes.
static SMALL: DmaBuffer<64> = DmaBuffer::new();
const SMALL_CAPACITY: u32 = 4;
const CANARY: u8 = 0xA5;
/// Rings and buffers outside the RAM window: MIPS kseg0 and kseg1 (the host's unmapped
/// segments); on the e500 below the window and the CCSR's usual virtual address.
#[cfg(target_arch = "mips")]
const FOREIGN_RINGS: [(&str, u32); 2] = [
    ("queue-ring-kseg0", 0x8000_0000),
    ("queue-ring-kseg1", 0xA000_0000),
];
#[cfg(target_arch = "powerpc")]
const FOREIGN_RINGS: [(&str, u32); 2] = [
    ("queue-ring-low", 0x0000_1000),
    ("queue-ring-ccsr-va", 0xFE00_0000),
];
#[cfg(target_arch = "mips")]
const FOREIGN_TX_BUFFER: (&str, u32) = ("tx-buffer-kseg0", 0x8000_0000);
#[cfg(target_arch = "powerpc")]
const FOREIGN_TX_BUFFER: (&str, u32) = ("tx-buffer-low", 0x0000_1000);
/// How long the host gets to look at a queue.
const SETTLE_MS: u64 = 300;

fn create(tx: u32, rx: u32) -> i32 {
    // SAFETY: a probe: the host must check every address it is given; the guest's own rings
    // and buffers used here are statics of this module, used for nothing else.
    unsafe { hypercall::raw(CREATE_QUEUE, VETH_QUEUE, VETH_VIRQ, tx, rx) }
}

fn release() {
    hypercall::vm_release_queue(VETH_QUEUE);
}

/// Descriptors `0..count` of `ring` linked in a circle, everything cleared.
fn reset(ring: &[Descriptor], count: usize) {
    for (i, d) in ring.iter().enumerate() {
        d.addr.store(0, Ordering::Relaxed);
        d.size.store(0, Ordering::Relaxed);
        d.next
            .store(ring[(i + 1) % count.max(1)].address(), Ordering::Release);
    }
}

/// RX ring with every buffer posted.
fn posted_rx() -> u32 {
    reset(&RX, N);
    for (d, b) in RX.iter().zip(&RX_BUFFERS) {
        d.addr.store(b.address(), Ordering::Relaxed);
        d.size.store(1600, Ordering::Release);
    }
    RX[0].address()
}

/// A broadcast frame of `len` bytes (prefix included) for interface 1 in the TX buffer.
fn frame(len: usize) -> u32 {
    // SAFETY: the TX buffer belongs to this module; the host does not own it now (no queue).
    let b = unsafe { TX_BUFFER.bytes_mut() };
    let len = len.min(b.len());
    b[..len].fill(0);
    b[..2].copy_from_slice(&1u16.to_be_bytes());
    b[2..8].fill(0xFF);
    b[8..14].copy_from_slice(&[0x02, 0, 0, 0, 0xA7, 0x7C]);
    b[14..16].copy_from_slice(&0x88B5u16.to_be_bytes());
    TX_BUFFER.address()
}

/// Create a queue from (tx, rx); an error is containment, acceptance is for the host to judge.
fn bad_ring(p: &mut Probes, name: &str, tx: u32, rx: u32) {
    release();
    let r = create(tx, rx);
    if r < 0 {
        p.report(name, Outcome::error(r));
    } else {
        timer::sleep_ms(SETTLE_MS);
        p.report(
            name,
            Outcome::host_checked(format_args!("vm_create_queue returned {r}")),
        );
    }
    release();
}

/// Send the TX ring as prepared, then report what the host did with descriptor 0..count.
fn send_and_observe(p: &mut Probes, name: &str, count: usize) {
    release();
    let r = create(TX[0].address(), posted_rx());
    if r < 0 {
        p.report(
            name,
            Outcome::host_checked(format_args!("vm_create_queue returned {r}")),
        );
        return;
    }
    timer::sleep_ms(SETTLE_MS);
    let mut owned = 0;
    for d in &TX[..count] {
        if is_done(d.size.load(Ordering::Acquire)) {
            owned += 1;
        }
    }
    p.report(
        name,
        Outcome::host_checked(format_args!("{owned} of {count} descriptors still DONE")),
    );
    release();
}

/// All queue probes.
pub fn run(p: &mut Probes) {
    let end = p.ram_end;
    bad_ring(p, "queue-ring-above-ram", end, end + 16);
    for (name, at) in FOREIGN_RINGS {
        bad_ring(p, name, at, at + 0x10);
    }
    reset(&TX, N);
    bad_ring(
        p,
        "queue-ring-misaligned",
        TX[0].address() + 4,
        posted_rx() + 4,
    );
    bad_ring(p, "queue-ring-last-bytes", end - 8, end - 8);
    {
        reset(&TX, N);
        let r = {
            // SAFETY: as `create`, with an out-of-range queue id and virq.
            unsafe { hypercall::raw(CREATE_QUEUE, 99, 40, TX[0].address(), posted_rx()) }
        };
        p.report(
            "queue-id-out-of-range",
            if r < 0 {
                Outcome::error(r)
            } else {
                Outcome::not_contained(format_args!("queue 99 with virq 40 created: {r}"))
            },
        );
    }

    // TX buffers outside RAM.
    for (name, addr) in [
        ("tx-buffer-above-ram", end),
        FOREIGN_TX_BUFFER,
        ("tx-buffer-straddles-end", end - 32),
    ] {
        reset(&TX, N);
        TX[0].addr.store(addr, Ordering::Relaxed);
        TX[0].size.store(done(64), Ordering::Release);
        send_and_observe(p, name, 1);
    }

    // An RX buffer outside RAM: the host's next message (NEWIFACE for an interface of this
    // guest) must not be written there.
    {
        release();
        reset(&RX, 1);
        RX[0].addr.store(end, Ordering::Relaxed);
        RX[0].size.store(1600, Ordering::Release);
        reset(&TX, N);
        let r = create(TX[0].address(), RX[0].address());
        timer::sleep_ms(SETTLE_MS);
        let size = RX[0].size.load(Ordering::Acquire);
        p.report(
            "rx-buffer-above-ram",
            Outcome::host_checked(format_args!(
                "vm_create_queue returned {r}, size word now {size:#010x}"
            )),
        );
        release();
    }

    // A 4-byte RX buffer: the host must not write more (NEWIFACE is 14 bytes).
    {
        release();
        // SAFETY: the buffer belongs to this module and no queue uses it now.
        unsafe { SMALL.bytes_mut().fill(CANARY) };
        reset(&RX, 1);
        RX[0].addr.store(SMALL.address(), Ordering::Relaxed);
        RX[0].size.store(SMALL_CAPACITY, Ordering::Release);
        reset(&TX, N);
        let r = create(TX[0].address(), RX[0].address());
        timer::sleep_ms(SETTLE_MS * 2);
        let size = RX[0].size.load(Ordering::Acquire);
        // SAFETY: read after the settle time; a host that still writes here is what we look for.
        let canary_ok = unsafe {
            SMALL.bytes()[SMALL_CAPACITY as usize..]
                .iter()
                .all(|&b| b == CANARY)
        };
        let outcome = if !canary_ok {
            Outcome::not_contained(format_args!(
                "host wrote past the {SMALL_CAPACITY}-byte capacity"
            ))
        } else if is_done(size) && length(size) > SMALL_CAPACITY {
            Outcome::not_contained(format_args!(
                "host reported {} bytes in a {SMALL_CAPACITY}-byte buffer",
                length(size)
            ))
        } else if is_done(size) {
            Outcome::contained(format_args!(
                "host wrote {} bytes, canary intact",
                length(size)
            ))
        } else {
            Outcome::host_checked(format_args!(
                "vm_create_queue returned {r}, nothing written, canary intact"
            ))
        };
        p.report("rx-capacity-overrun", outcome);
        release();
    }

    // A `next` loop that never returns to the head: 0 -> 1 -> 2 -> 1 ...
    {
        reset(&TX, N);
        let f = frame(64);
        for d in &TX[..3] {
            d.addr.store(f, Ordering::Relaxed);
            d.size.store(done(64), Ordering::Release);
        }
        TX[2].next.store(TX[1].address(), Ordering::Release);
        send_and_observe(p, "ring-next-loop", 3);
    }
    // A descriptor whose `next` points at itself but is not the head.
    {
        reset(&TX, N);
        let f = frame(64);
        TX[0].addr.store(f, Ordering::Relaxed);
        TX[0].size.store(done(64), Ordering::Release);
        TX[1].addr.store(f, Ordering::Relaxed);
        TX[1].size.store(done(64), Ordering::Release);
        TX[1].next.store(TX[1].address(), Ordering::Release);
        send_and_observe(p, "ring-next-self-loop", 2);
    }
    // `next` outside RAM.
    {
        reset(&TX, N);
        let f = frame(64);
        TX[0].addr.store(f, Ordering::Relaxed);
        TX[0].size.store(done(64), Ordering::Release);
        TX[0].next.store(end, Ordering::Release);
        send_and_observe(p, "ring-next-above-ram", 1);
    }
    // Oversized, overflowing and runt frames.
    for (name, len) in [
        ("veth-oversized-frame", 10_000u32),
        ("veth-size-overflow", !DONE),
        ("veth-runt-frame", 1),
    ] {
        reset(&TX, N);
        TX[0]
            .addr
            .store(frame(len.min(16_384) as usize), Ordering::Relaxed);
        TX[0].size.store(done(len), Ordering::Release);
        send_and_observe(p, name, 1);
    }
}
