//! MIPS instructions per guest-to-guest frame through the product's frame loop, counted under
//! QEMU malta with `-icount shift=0` (`./x bench frames --mips`).
//!
//! The scenario is `frames-bench`'s (`benches/frames/src/lib.rs`), compiled for the hypervisor's
//! target with its optimisation settings. With `-icount shift=0` QEMU executes one instruction
//! per nanosecond of virtual time, so CP0 Count (which runs at a fixed rate of virtual time)
//! counts instructions; a loop of known length calibrates the ratio. Trap entry and exit are
//! not included (they belong to the hypervisor's trap path).
#![no_std]
#![no_main]
#![feature(asm_experimental_arch)]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::arch::{asm, global_asm};
use core::cell::Cell;
use core::fmt::Write;
use core::ptr::addr_of_mut;

use frames_bench::host_echo::measure_echo;
use frames_bench::{measure, BATCH, RAM_LEN};

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

/// A bump allocator over a static arena (the scenario allocates a few boxes and vectors once).
struct Bump {
    next: Cell<usize>,
}

// SAFETY: the program is single-threaded and takes no interrupts.
unsafe impl Sync for Bump {}

const ARENA: usize = 1 << 20;
static mut HEAP: [u8; ARENA] = [0; ARENA];

// SAFETY: blocks are carved from `HEAP` in increasing order, never overlap, and are never
// reused (dealloc does nothing); out of space is a null pointer.
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = addr_of_mut!(HEAP) as usize;
        let start = (base + self.next.get()).next_multiple_of(layout.align());
        let end = start + layout.size();
        if end > base + ARENA {
            return core::ptr::null_mut();
        }
        self.next.set(end - base);
        start as *mut u8
    }
    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static ALLOCATOR: Bump = Bump { next: Cell::new(0) };

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

/// Guest RAM, page-aligned as partitions are.
#[repr(align(4096))]
struct Partition([u8; RAM_LEN]);

static mut RAM_A: Partition = Partition([0; RAM_LEN]);
static mut RAM_B: Partition = Partition([0; RAM_LEN]);

#[no_mangle]
extern "C" fn bench_main() -> ! {
    let mut out = Uart;
    let ratio = ticks_per_instruction();
    let _ = writeln!(
        out,
        "frames-bench-mips: Count ticks per instruction {ratio:.4} (icount shift=0)"
    );
    // SAFETY: taken once, here, by the only code that runs; nothing else refers to them.
    let (mem_a, mem_b) = unsafe { (&mut (*addr_of_mut!(RAM_A)).0, &mut (*addr_of_mut!(RAM_B)).0) };
    // Count extended to 64 bits (every interval measured is far below a wrap).
    let (mut last, mut high) = (count(), 0u64);
    let mut clock = move || {
        let now = count();
        if now < last {
            high += 1 << 32;
        }
        last = now;
        high | u64::from(now)
    };
    let frames = BATCHES * BATCH;
    let _ = writeln!(
        out,
        "MIPS instructions per guest-to-guest frame ({frames} frames per size)"
    );
    let _ = writeln!(
        out,
        "{:>6} {:>10} {:>8} {:>8} {:>8} {:>12}",
        "bytes", "full path", "tx scan", "switch", "rx copy", "memcpy alone"
    );
    for len in [64usize, 1514] {
        let f = measure(mem_a, mem_b, len, BATCHES, &mut clock);
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
    let (ticks, _) = measure_echo(rounds, &mut clock);
    let _ = writeln!(
        out,
        "MIPS instructions per echo reply from the host's IP endpoint (receive to reply built, {rounds} requests): {:.0}",
        ticks as f32 / ratio / rounds as f32
    );
    exit()
}
