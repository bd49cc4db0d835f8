//! The management console: formatted output to the board's UART and the input queue that
//! interrupt handlers fill and the kernel's main loop drains into the shell. Input is never
//! dropped here: when the queue is full the board leaves bytes in its UART (flow control,
//! ARCHITECTURE.md); if the UART itself overruns, the loss is counted and reported.

use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::sync::IrqMutex;

/// Bytes of console input buffered between interrupt and main loop: what arrives at 115200
/// baud in about 350 ms while the main loop is held up (a configuration save to flash), before
/// the board must leave further bytes in the UART.
const INPUT_CAPACITY: usize = 4096;

/// Times input was lost since the kernel last reported it (receiver overruns).
static LOST: AtomicU32 = AtomicU32::new(0);

struct InputQueue {
    bytes: [u8; INPUT_CAPACITY],
    head: usize,
    len: usize,
}

static INPUT: IrqMutex<InputQueue> = IrqMutex::new(InputQueue {
    bytes: [0; INPUT_CAPACITY],
    head: 0,
    len: 0,
});

/// Queue one received byte (called from interrupt context, interrupts off). Boards check
/// [`input_has_room`] first; a byte pushed onto a full queue is counted as lost.
pub fn push_input(byte: u8) {
    INPUT.with(|q| {
        if q.len == INPUT_CAPACITY {
            note_lost();
            return;
        }
        let tail = (q.head + q.len) % INPUT_CAPACITY;
        q.bytes[tail] = byte;
        q.len += 1;
    });
}

/// Input was lost before it reached the queue (the board's receiver overran).
pub fn note_lost() {
    LOST.fetch_add(1, Ordering::Relaxed);
}

/// How many times input was lost since the last call (the kernel reports it on the console).
pub fn take_lost() -> u32 {
    LOST.swap(0, Ordering::Relaxed)
}

/// Move queued input into `out`; returns how many bytes were moved.
pub fn take_input(out: &mut [u8]) -> usize {
    INPUT.with(|q| {
        let n = q.len.min(out.len());
        for slot in out.iter_mut().take(n) {
            *slot = q.bytes[q.head];
            q.head = (q.head + 1) % INPUT_CAPACITY;
        }
        q.len -= n;
        n
    })
}

/// Whether another input byte fits.
pub fn input_has_room() -> bool {
    INPUT.with(|q| q.len < INPUT_CAPACITY)
}

/// Whether input is waiting (call with interrupts off to decide whether to idle).
pub fn has_input() -> bool {
    INPUT.with(|q| q.len != 0)
}

/// Write raw bytes to the console.
pub fn write_bytes(bytes: &[u8]) {
    if let Some(board) = crate::board::installed() {
        board.console_write(bytes);
    }
}

/// `fmt::Write` to the console, turning `\n` into `\r\n`.
pub struct Console;

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s.as_bytes();
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            write_bytes(&rest[..i]);
            write_bytes(b"\r\n");
            rest = &rest[i + 1..];
        }
        write_bytes(rest);
        Ok(())
    }
}

/// Print to the console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = write!($crate::console::Console, $($arg)*);
    }};
}

/// Print a line to the console.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = writeln!($crate::console::Console, $($arg)*);
    }};
}
