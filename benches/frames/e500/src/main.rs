//! e500v2 instructions per guest-to-guest frame through the product's frame loop, counted under
//! QEMU ppce500 with `-icount shift=0` (`./x bench frames --e500`).
//!
//! The scenario is `frames-bench`'s (`benches/frames/src/lib.rs`), compiled for the
//! hypervisor's e500 target with its optimisation settings (its guests' descriptors sit in the
//! MIPS guest window: the address arithmetic is the same for the e500's). With `-icount
//! shift=0` QEMU executes one instruction per nanosecond of virtual time, so the time base
//! (which runs at a fixed rate of virtual time, 400 MHz on ppce500) counts instructions; a loop
//! of known length calibrates the ratio (2.5 instructions per tick: the figures are good to a
//! few instructions per frame over thousands of frames).
//!
//! Start-up: QEMU enters in supervisor mode with TLB1 entry 0 mapping low RAM one to one; the
//! entry adds TLB1 entry 1 for CCSR (physical 0xF_E000_0000, 1 MiB, cache-inhibited and
//! guarded) at virtual 0xE000_0000, for the DUART and the reset register.
#![no_std]
#![no_main]

extern crate alloc;

use core::arch::global_asm;
use core::fmt::Write;
use core::ptr::addr_of_mut;

use bench_baremetal::ppce500::{exit, ticks_per_instruction, time_base, Uart};

use frames_bench::RAM_LEN;

global_asm!(
    ".section .text.start, \"ax\"",
    ".globl _start",
    "_start:",
    // MAS0: TLB1, entry 1.
    "lis 3, 0x1001",
    "mtspr 624, 3",
    // MAS1: valid, protected, 1 MiB.
    "lis 3, 0xC000",
    "ori 3, 3, 0x0500",
    "mtspr 625, 3",
    // MAS2: virtual 0xE000_0000, cache-inhibited, guarded.
    "lis 3, 0xE000",
    "ori 3, 3, 0x000A",
    "mtspr 626, 3",
    // MAS3 and MAS7: physical 0xF_E000_0000, supervisor read and write.
    "lis 3, 0xE000",
    "ori 3, 3, 0x0005",
    "mtspr 627, 3",
    "li 3, 0xF",
    "mtspr 944, 3",
    "isync",
    "tlbwe",
    "isync",
    "lis 1, __stack_top@ha",
    "addi 1, 1, __stack_top@l",
    "li 0, 0",
    "stwu 0, -16(1)",
    "bl bench_main",
    "1: b 1b",
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
        "frames-bench-e500: time-base ticks per instruction {ratio:.4} (icount shift=0)"
    );
    // SAFETY: taken once, here, by the only code that runs; nothing else refers to them.
    let (mem_a, mem_b) = unsafe { (&mut (*addr_of_mut!(RAM_A)).0, &mut (*addr_of_mut!(RAM_B)).0) };
    let mut clock = bench_baremetal::Clock64::new(time_base);
    frames_bench::report(
        &mut out,
        "e500v2",
        ratio,
        mem_a,
        mem_b,
        BATCHES,
        &mut || clock.now(),
    );
    exit()
}
