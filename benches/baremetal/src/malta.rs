//! QEMU malta, bare metal in kernel mode: the console (COM1 through kseg1), the exit (a board
//! reset, which `-no-reboot` turns into QEMU's exit) and CP0 Count, which under `-icount
//! shift=0` counts instructions at a fixed ratio ([`ticks_per_instruction`]).

use core::arch::asm;
use core::fmt::Write;

/// The 16550 UART of malta (COM1), through kseg1.
pub struct Uart;

const UART_THR: usize = 0xB800_03F8;
const UART_LSR: usize = UART_THR + 5;

impl Write for Uart {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            // SAFETY: malta's COM1 registers are at these kseg1 (uncached) addresses and the
            // program is the only thing running; reading LSR and writing THR has no other effect.
            unsafe {
                while core::ptr::read_volatile(UART_LSR as *const u8) & 0x20 == 0 {}
                core::ptr::write_volatile(UART_THR as *mut u8, b);
            }
        }
        Ok(())
    }
}

/// Ends the program: QEMU exits (with `-no-reboot`).
pub fn exit() -> ! {
    // SAFETY: writing 0x42 to malta's SOFTRES register resets the board; with -no-reboot QEMU
    // exits. Nothing else is affected.
    unsafe { core::ptr::write_volatile(0xBF00_0500 as *mut u32, 0x42) };
    loop {
        core::hint::spin_loop();
    }
}

/// CP0 Count.
#[inline(always)]
pub fn count() -> u32 {
    let c: u32;
    // SAFETY: reading CP0 Count (register 9) in kernel mode has no side effects.
    unsafe { asm!("mfc0 $8, $9", out("$8") c, options(nomem, nostack)) };
    c
}

/// Count ticks per instruction, from a loop of exactly 3 instructions per iteration.
pub fn ticks_per_instruction() -> f32 {
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
    count().wrapping_sub(start) as f32 / (3 * iterations) as f32
}
