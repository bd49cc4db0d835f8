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

mod cache;
mod heap;
mod lookup;
mod path;
mod rib;
mod table;

use core::arch::global_asm;
use core::fmt::Write;

pub(crate) use bench_baremetal::malta::Uart;
use bench_baremetal::malta::{count, exit, ticks_per_instruction};
use bench_baremetal::Clock64;

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

/// CP0 Count extended to 64 bits, and its ratio to executed instructions.
pub struct Clock {
    ticks_per_instruction: f32,
    ticks: Clock64<fn() -> u32>,
}

impl Clock {
    /// Calibrates the ratio (`malta::ticks_per_instruction`).
    fn new() -> Clock {
        Clock {
            ticks_per_instruction: ticks_per_instruction(),
            ticks: Clock64::new(count),
        }
    }

    /// Ticks so far.
    pub fn now(&mut self) -> u64 {
        self.ticks.now()
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
    cache::run(&tables, &fibs, &mut clock);
    drop(fibs);
    rib::run(tables, &mut clock);
    exit()
}
