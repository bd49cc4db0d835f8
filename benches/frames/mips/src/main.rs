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

use core::arch::global_asm;
use core::fmt::Write;
use core::ptr::addr_of_mut;

use bench_baremetal::malta::{count, exit, ticks_per_instruction, Uart};

use frames_bench::RAM_LEN;

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

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let _ = writeln!(Uart, "panic: {info}");
    exit()
}

#[global_allocator]
static ALLOCATOR: bench_baremetal::Bump = bench_baremetal::Bump::new();

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
    let mut clock = bench_baremetal::Clock64::new(count);
    frames_bench::report(&mut out, "MIPS", ratio, mem_a, mem_b, BATCHES, &mut || {
        clock.now()
    });
    exit()
}
