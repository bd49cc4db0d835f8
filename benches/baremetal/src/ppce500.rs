//! QEMU ppce500, bare metal in supervisor mode, once the program's entry has mapped CCSR
//! (physical 0xF_E000_0000) at virtual [`CCSR`]: the console (DUART channel 0), the exit (a
//! hard reset request, which `-no-reboot` turns into QEMU's exit) and the time base, which
//! under `-icount shift=0` counts instructions at a fixed ratio ([`ticks_per_instruction`]).

use core::arch::asm;
use core::fmt::Write;

/// Where the program's entry maps CCSR.
pub const CCSR: usize = 0xE000_0000;
/// DUART channel 0 (a 16550).
const UART_THR: usize = CCSR + 0x4500;
const UART_LSR: usize = UART_THR + 5;
/// The global utilities' reset control register.
const RSTCR: usize = CCSR + 0xE_00B0;

/// The console.
pub struct Uart;

impl Write for Uart {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            // SAFETY: the DUART's registers in the CCSR window the entry mapped; the program
            // is the only thing running; reading LSR and writing THR has no other effect.
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
    // SAFETY: asking the global utilities for a hard reset (HRESET_REQ); with -no-reboot QEMU
    // exits.
    unsafe { core::ptr::write_volatile(RSTCR as *mut u32, 2) };
    loop {
        core::hint::spin_loop();
    }
}

/// The time base's lower word.
#[inline(always)]
pub fn time_base() -> u32 {
    let t: u32;
    // SAFETY: reading TBL (SPR 268) has no side effects.
    unsafe { asm!("mfspr {0}, 268", out(reg) t, options(nomem, nostack)) };
    t
}

/// Time-base ticks per instruction, from a loop of exactly one instruction per iteration.
pub fn ticks_per_instruction() -> f32 {
    let iterations: u32 = 10_000_000;
    let start = time_base();
    // SAFETY: a countdown loop on CTR alone.
    unsafe {
        asm!(
            "mtctr {0}",
            "1: bdnz 1b",
            in(reg) iterations,
            out("ctr") _,
            options(nomem, nostack),
        );
    }
    time_base().wrapping_sub(start) as f32 / iterations as f32
}
