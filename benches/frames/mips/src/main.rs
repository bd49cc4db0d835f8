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

use core::arch::{asm, global_asm};
use core::fmt::Write;
use core::ptr::addr_of_mut;

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

#[global_allocator]
static ALLOCATOR: bench_baremetal::Bump = bench_baremetal::Bump::new();

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
    let mut clock = bench_baremetal::Clock64::new(count);
    frames_bench::report(&mut out, "MIPS", ratio, mem_a, mem_b, BATCHES, &mut || {
        clock.now()
    });
    exit()
}
