//! MIPS instructions per guest-to-guest frame, counted under QEMU malta with `-icount shift=0`.
//!
//! The same work as `vswitch/examples/guest_to_guest.rs`, compiled for the real target with the
//! hypervisor's optimisation settings: two guest RAMs with Linux-like virtual ethernet rings,
//! and per frame the hypervisor's part (take the frame from A's TX ring, switch decision, one
//! copy into B's posted RX buffer, virq, hand A's descriptor back). With `-icount shift=0`
//! QEMU executes one instruction per nanosecond of virtual time, so CP0 Count (which runs at a
//! fixed rate of virtual time) counts instructions; a loop of known length calibrates the
//! ratio. Trap entry and exit are not included (they belong to the hypervisor's trap path).
#![no_std]
#![no_main]
#![feature(asm_experimental_arch)]

use core::arch::{asm, global_asm};
use core::fmt::Write;
use guest_mem::{GuestRam, Gva, MIPS_RAM_WINDOW};
use vdevices::abi::DONE;
use vdevices::descriptor::Descriptor;
use vdevices::{Delivery, GuestDevices, VethTx};
use vswitch::{BridgeConfig, Forward, PortSettings, Seconds, Switch};

global_asm!(
    ".section .text.start, \"ax\"",
    ".globl _start",
    "_start:",
    "la $sp, __stack_top",
    "jal bench_main",
    "nop",
    "1: b 1b",
    "nop",
);

const BASE: u32 = 0xC000_0000;
const TX_COUNT: u32 = 1024;
const RX_COUNT: u32 = 128;
const RX_SIZE: u32 = 1600;
const BUFFERS: u32 = 128;
const RING: u32 = BASE + 0x1000;
const BUFS: u32 = BASE + 0x8000;
const VIRQ: u32 = BASE + 0x100;
const RAM_LEN: usize = 0x8000 + (BUFFERS as usize) * 2048;
const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0xA1];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0xB1];
const BATCHES: u32 = 40;

/// The 16550 UART of malta (COM1), through kseg1.
struct Uart;

const UART_THR: usize = 0xB800_03F8;
const UART_LSR: usize = UART_THR + 5;

impl Write for Uart {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            // SAFETY: malta's COM1 registers are at these kseg1 (uncached) addresses and this
            // program is the only thing running; reading LSR and writing THR has no other effect.
            unsafe {
                while core::ptr::read_volatile(UART_LSR as *const u8) & 0x20 == 0 {}
                core::ptr::write_volatile(UART_THR as *mut u8, b);
            }
        }
        Ok(())
    }
}

fn exit() -> ! {
    // SAFETY: writing 0x42 to malta's SOFTRES register resets the board; with -no-reboot QEMU
    // exits. Nothing else is affected.
    unsafe { core::ptr::write_volatile(0xBF00_0500 as *mut u32, 0x42) };
    loop {}
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let _ = writeln!(Uart, "panic: {info}");
    exit()
}

/// CP0 Count.
#[inline(always)]
fn count() -> u32 {
    let c: u32;
    // SAFETY: reading CP0 Count (register 9) in kernel mode has no side effects.
    unsafe { asm!("mfc0 $8, $9", out("$8") c, options(nomem, nostack)) };
    c
}

/// Count ticks per instruction, from a loop of exactly 3 instructions per iteration.
fn ticks_per_instruction() -> f32 {
    let iterations: u32 = 1_000_000;
    let start = count();
    // SAFETY: a register-only countdown loop.
    unsafe {
        asm!(
            ".set noreorder",
            "1: addiu $9, $9, -1",
            "bnez $9, 1b",
            "nop",
            ".set reorder",
            inout("$9") iterations => _,
            options(nomem, nostack),
        );
    }
    (count().wrapping_sub(start)) as f32 / (3 * iterations) as f32
}

fn ram(mem: &mut [u8]) -> GuestRam<'_> {
    GuestRam::new(mem, MIPS_RAM_WINDOW).unwrap()
}

fn put(mem: &mut [u8], at: u32, bytes: &[u8]) {
    let o = (at - BASE) as usize;
    mem[o..o + bytes.len()].copy_from_slice(bytes);
}

/// Guest A: 1024 TX descriptors over 128 buffers, each holding id 1 and a frame to B.
fn guest_a(mem: &mut [u8], dev: &mut GuestDevices, frame_len: usize) {
    let mut r = ram(mem);
    for i in 0..TX_COUNT {
        let next = if i + 1 == TX_COUNT { RING } else { RING + 16 * (i + 1) };
        let d = Descriptor { addr: Gva::new(BUFS + 2048 * (i % BUFFERS)), size: 0, next: Gva::new(next) };
        d.write(&mut r, Gva::new(RING + 16 * i)).unwrap();
    }
    // Its RX ring: one descriptor, which the NEWIFACE message will fill.
    let rx = RING + 16 * TX_COUNT;
    let buf = Gva::new(BASE + 0x800);
    Descriptor { addr: buf, size: 64, next: Gva::new(rx) }.write(&mut r, Gva::new(rx)).unwrap();
    assert_eq!(dev.hypercall(&mut r, 14, [VIRQ, 32, 0, 0]), 0);
    dev.set_veth_interface(&mut r, 1, Some(MAC_A)).unwrap();
    assert_eq!(dev.hypercall(&mut r, 4, [3, 3, RING, rx]), 0);
    let mut data = [0x5Au8; 1516];
    data[..2].copy_from_slice(&[0, 1]);
    data[2..8].copy_from_slice(&MAC_B);
    data[8..14].copy_from_slice(&MAC_A);
    data[14..16].copy_from_slice(&[0x08, 0x00]);
    for k in 0..BUFFERS {
        put(mem, BUFS + 2048 * k, &data[..2 + frame_len]);
    }
}

/// Guest B: 128 RX descriptors with 1600-byte buffers.
fn guest_b(mem: &mut [u8], dev: &mut GuestDevices) {
    let mut r = ram(mem);
    for i in 0..RX_COUNT {
        let next = if i + 1 == RX_COUNT { RING } else { RING + 16 * (i + 1) };
        let d = Descriptor { addr: Gva::new(BUFS + 2048 * i), size: RX_SIZE, next: Gva::new(next) };
        d.write(&mut r, Gva::new(RING + 16 * i)).unwrap();
    }
    // Its TX ring: one idle descriptor.
    let tx = BASE + 0x800;
    Descriptor { addr: Gva::new(0), size: 0, next: Gva::new(tx) }.write(&mut r, Gva::new(tx)).unwrap();
    assert_eq!(dev.hypercall(&mut r, 14, [VIRQ, 32, 0, 0]), 0);
    dev.set_veth_interface(&mut r, 1, Some(MAC_B)).unwrap();
    assert_eq!(dev.hypercall(&mut r, 4, [3, 3, tx, RING]), 0);
    repost_rx(mem, dev);
}

fn post_tx(mem: &mut [u8], next: &mut u32, n: u32, len: u32) {
    for _ in 0..n {
        put(mem, RING + 16 * (*next % TX_COUNT) + 4, &(len | DONE).to_be_bytes());
        *next += 1;
    }
}

fn repost_rx(mem: &mut [u8], dev: &mut GuestDevices) {
    for i in 0..RX_COUNT {
        put(mem, RING + 16 * i + 4, &RX_SIZE.to_be_bytes());
    }
    put(mem, VIRQ, &[0; 4]);
    let _ = dev.take_events();
}

type Sw = Switch<64, 8, 1024>;

#[repr(align(4096))]
struct Partition([u8; RAM_LEN]);

struct Ticks {
    full: u32,
    tx: u32,
    switch: u32,
    rx: u32,
    copy: u32,
}

fn measure(frame_len: usize, mem_a: &mut [u8], mem_b: &mut [u8]) -> Ticks {
    mem_a.fill(0);
    mem_b.fill(0);
    let (mut a, mut b) = (GuestDevices::new(), GuestDevices::new());
    guest_a(mem_a, &mut a, frame_len);
    guest_b(mem_b, &mut b);
    let mut sw = Sw::new();
    let br = sw.add_bridge(BridgeConfig::default()).unwrap();
    let (pa, pb) = (sw.add_port().unwrap(), sw.add_port().unwrap());
    sw.attach(pa, br, PortSettings::default()).unwrap();
    sw.attach(pb, br, PortSettings::default()).unwrap();
    let now = Seconds(1);
    let mut hello = [0u8; 60];
    hello[..6].copy_from_slice(&MAC_A);
    hello[6..12].copy_from_slice(&MAC_B);
    sw.forward(now, pb, &hello);
    let transfer = frame_len as u32 + 2;
    let mut next_tx = 0;
    let mut t = Ticks { full: 0, tx: 0, switch: 0, rx: 0, copy: 0 };

    for _ in 0..BATCHES {
        post_tx(mem_a, &mut next_tx, RX_COUNT, transfer);
        let (mut ra, mut rb) = (ram(mem_a), ram(mem_b));
        let start = count();
        while let Some(VethTx { frame, token, .. }) = a.veth_next_tx(&mut ra).unwrap() {
            if let Forward::Unicast(out) = sw.forward(now, pa, frame) {
                if out == pb {
                    let delivered = b.veth_deliver(&mut rb, 1, frame);
                    assert_eq!(delivered, Ok(Delivery::Delivered));
                }
            }
            a.veth_complete_tx(&mut ra, token).unwrap();
        }
        t.full += count().wrapping_sub(start);
        repost_rx(mem_b, &mut b);
    }

    for _ in 0..BATCHES {
        post_tx(mem_a, &mut next_tx, RX_COUNT, transfer);
        let mut ra = ram(mem_a);
        let start = count();
        while let Some(VethTx { frame, token, .. }) = a.veth_next_tx(&mut ra).unwrap() {
            core::hint::black_box(frame);
            a.veth_complete_tx(&mut ra, token).unwrap();
        }
        t.tx += count().wrapping_sub(start);
    }

    // The frame where guest A has it (two bytes into a word-aligned buffer).
    let frame = &mem_a[0x8002..0x8002 + frame_len];
    let start = count();
    for _ in 0..BATCHES * RX_COUNT {
        core::hint::black_box(sw.forward(now, pa, core::hint::black_box(frame)));
    }
    t.switch = count().wrapping_sub(start);

    for _ in 0..BATCHES {
        let mut rb = ram(mem_b);
        let start = count();
        for _ in 0..RX_COUNT {
            core::hint::black_box(b.veth_deliver(&mut rb, 1, core::hint::black_box(frame)).unwrap());
        }
        t.rx += count().wrapping_sub(start);
        repost_rx(mem_b, &mut b);
    }

    // Peer: the copy alone, between the same kind of buffers (frame at offset 2 in both).
    let start = count();
    for k in 0..BATCHES * RX_COUNT {
        let o = 0x8000 + 2048 * (k % BUFFERS) as usize + 2;
        mem_b[o..o + frame_len].copy_from_slice(core::hint::black_box(&mem_a[o..o + frame_len]));
    }
    t.copy = count().wrapping_sub(start);
    t
}

#[no_mangle]
extern "C" fn bench_main() -> ! {
    let mut out = Uart;
    let ratio = ticks_per_instruction();
    let _ = writeln!(out, "bench-mips: Count ticks per instruction {ratio:.4} (icount shift=0)");
    // Page-aligned, as guest partitions are.
    let mut mem_a = Partition([0u8; RAM_LEN]);
    let mut mem_b = Partition([0u8; RAM_LEN]);
    let frames = (BATCHES * RX_COUNT) as f32;
    let _ = writeln!(out, "MIPS instructions per guest-to-guest frame ({} frames per size)", BATCHES * RX_COUNT);
    let _ = writeln!(out, "{:>6} {:>10} {:>8} {:>8} {:>8} {:>12}", "bytes", "full path", "tx scan", "switch", "rx copy", "memcpy alone");
    for len in [64usize, 1514] {
        let t = measure(len, &mut mem_a.0, &mut mem_b.0);
        let per = |ticks: u32| ticks as f32 / ratio / frames;
        let _ = writeln!(
            out,
            "{len:>6} {:>10.0} {:>8.0} {:>8.0} {:>8.0} {:>12.0}",
            per(t.full),
            per(t.tx),
            per(t.switch),
            per(t.rx),
            per(t.copy)
        );
    }
    exit()
}
