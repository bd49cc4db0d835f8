//! MIPS instructions per FIB lookup and per forwarded 64-byte packet with the full IPv4 and
//! IPv6 tables, counted under QEMU malta with `-icount shift=0` (`./x bench forward --mips`).
//!
//! The host program (`benches/forward/src/mips.rs`) loads the tables as the host benchmarks
//! do (`bench_common::table`, next hop = `hash(origin AS) mod 64`), writes them as a blob that
//! QEMU places at the top of RAM ([`table`]), builds this program with the image's
//! optimisation settings and runs it. With `-icount shift=0` QEMU executes one instruction per
//! nanosecond of virtual time, so CP0 Count (which runs at a fixed rate of virtual time)
//! counts instructions; a loop of known length calibrates the ratio. QEMU models no caches:
//! these are instruction counts, not cycles.
#![no_std]
#![no_main]
#![feature(asm_experimental_arch)]

extern crate alloc;

mod heap;
mod lookup;
mod path;
mod rib;
mod table;

use core::arch::{asm, global_asm};
use core::fmt::Write;

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

/// The 16550 UART of malta (COM1), through kseg1.
pub struct Uart;

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
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let _ = writeln!(
        Uart,
        "panic: {info} (heap: {} bytes live, {} never used)",
        heap::HEAP.live(),
        heap::HEAP.untouched()
    );
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

/// CP0 Count extended to 64 bits, and its ratio to executed instructions.
pub struct Clock {
    ticks_per_instruction: f32,
    last: u32,
    high: u64,
}

impl Clock {
    /// Calibrates with a loop of exactly 3 instructions per iteration.
    fn new() -> Clock {
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
        let ratio = count().wrapping_sub(start) as f32 / (3 * iterations) as f32;
        Clock {
            ticks_per_instruction: ratio,
            last: count(),
            high: 0,
        }
    }

    /// Ticks so far (read at least once per wrap of Count: every interval measured is read
    /// far more often).
    pub fn now(&mut self) -> u64 {
        let c = count();
        if c < self.last {
            self.high += 1 << 32;
        }
        self.last = c;
        self.high | u64::from(c)
    }

    /// Instructions in `ticks`.
    pub fn instructions(&self, ticks: u64) -> f32 {
        ticks as f32 / self.ticks_per_instruction
    }

    /// Instructions since `start` (a `now()`).
    pub fn since(&mut self, start: u64) -> f32 {
        let t = self.now() - start;
        self.instructions(t)
    }

    /// Instructions since `start`, divided by `n`.
    pub fn per(&mut self, start: u64, n: usize) -> f32 {
        self.since(start) / n as f32
    }
}

extern "C" {
    static __heap_start: u8;
}

#[no_mangle]
extern "C" fn bench_main() -> ! {
    let mut out = Uart;
    let start = core::ptr::addr_of!(__heap_start) as usize;
    heap::HEAP.init(start, table::BLOB);
    let heap_mib = heap::HEAP.untouched() >> 20;
    let blob = table::read();
    if let Some(table::Blob::Trace(packets)) = blob {
        path::trace(packets);
        exit()
    }
    let mut clock = Clock::new();
    let _ = writeln!(
        out,
        "# forward-bench-mips: Count ticks per instruction {:.4} (icount shift=0); heap {} MiB",
        clock.ticks_per_instruction, heap_mib
    );
    let Some(table::Blob::Tables(tables)) = blob else {
        let _ = writeln!(
            out,
            "no tables at {:#x} (QEMU -device loader)",
            table::BLOB_PHYS
        );
        exit()
    };
    let fibs = lookup::run(&tables, &mut clock);
    path::run(&tables, &fibs, &mut clock);
    drop(fibs);
    rib::run(tables, &mut clock);
    exit()
}
