//! The console (queue 1, virq 1; Linux `hvc0` in the RouterOS guest, `hvc_meta.c`): one
//! self-linked 4096-byte descriptor each way.
//!
//! Output never loses the guest's state: the TX descriptor's `size` word is the whole state
//! (taken with an atomic swap, appended to as [`mr_proto::console::plan_append`] says, put
//! back with DONE). While the buffer is full the guest yields (`wait`); after
//! [`FULL_WAITS`] yields it drops the oldest quarter, as the Linux guest does after one.
//! Input: [`read`] consumes the RX buffer in order and posts it again when empty.

use core::fmt;
use core::sync::atomic::Ordering;

use mr_proto::console::{
    plan_append, AppendPlan, InputCursor, CONSOLE_BUFFER_SIZE, CONSOLE_QUEUE, CONSOLE_VIRQ,
};

use crate::arch::{self, atomic, irq};
use crate::cell::IrqCell;
use crate::hypercall;
use crate::vdma::{Descriptor, DmaBuffer};

const SIZE: usize = CONSOLE_BUFFER_SIZE as usize;
/// Yields to wait for the host to drain a full buffer before dropping old output.
pub const FULL_WAITS: u32 = 200;

static TX: [Descriptor; 1] = [Descriptor::new()];
static RX: [Descriptor; 1] = [Descriptor::new()];
static TX_BUFFER: DmaBuffer<SIZE> = DmaBuffer::new();
static RX_BUFFER: DmaBuffer<SIZE> = DmaBuffer::new();
static INPUT: IrqCell<InputCursor> = IrqCell::new(InputCursor::new());
static CREATED: IrqCell<i32> = IrqCell::new(0);

/// Set up both descriptors and create queue 1.
pub(crate) fn init() {
    RX[0].addr.store(RX_BUFFER.address(), Ordering::Relaxed);
    RX[0].next.store(RX[0].address(), Ordering::Relaxed);
    RX[0].size.store(CONSOLE_BUFFER_SIZE, Ordering::Release);
    TX[0].addr.store(TX_BUFFER.address(), Ordering::Relaxed);
    TX[0].next.store(TX[0].address(), Ordering::Relaxed);
    TX[0].size.store(0, Ordering::Release);
    let r = hypercall::vm_create_queue(CONSOLE_QUEUE, Some(CONSOLE_VIRQ), &TX, &RX);
    CREATED.with(|c| *c = r);
}

/// What `vm_create_queue` returned for the console.
pub fn create_result() -> i32 {
    CREATED.with(|c| *c)
}

/// Write bytes to the console.
pub fn write_bytes(bytes: &[u8]) {
    #[cfg(feature = "qemu-malta")]
    crate::arch::qemu::uart_write(bytes);
    #[cfg(not(feature = "qemu-malta"))]
    write_ring(bytes);
}

/// Append bytes to the TX descriptor's buffer.
#[cfg_attr(feature = "qemu-malta", allow(dead_code))]
fn write_ring(mut bytes: &[u8]) {
    let mut waits = 0;
    while !bytes.is_empty() {
        let was = irq::disable();
        let taken = atomic::swap(&TX[0].size, 0);
        match plan_append(taken, CONSOLE_BUFFER_SIZE, bytes.len(), waits >= FULL_WAITS) {
            AppendPlan::Wait => {
                TX[0].size.store(taken, Ordering::Release);
                waits += 1;
                if was {
                    arch::idle();
                    continue;
                }
                arch::yield_now();
            }
            AppendPlan::Write {
                shift,
                offset,
                count,
                new_size,
            } => {
                let buf = TX_BUFFER.as_ptr();
                // SAFETY: the size word is 0 (taken): the host does not read the buffer now, and
                // interrupts are off, so nothing else in the guest touches it. All ranges are
                // within the 4096 bytes (`plan_append` keeps offset + count <= capacity).
                unsafe {
                    if shift != 0 {
                        core::ptr::copy(buf.add(shift as usize), buf, offset as usize);
                    }
                    core::ptr::copy_nonoverlapping(
                        bytes.as_ptr(),
                        buf.add(offset as usize),
                        count as usize,
                    );
                }
                TX[0].size.store(new_size, Ordering::Release);
                bytes = &bytes[count as usize..];
            }
        }
        if was {
            irq::enable();
        }
    }
}

/// Bytes of the TX buffer the host has not drained yet.
pub fn unsent() -> u32 {
    let size = TX[0].size.load(Ordering::Acquire);
    if mr_proto::descriptor::is_done(size) {
        mr_proto::descriptor::length(size)
    } else {
        0
    }
}

/// Read up to `buf.len()` input bytes; 0 if none are waiting.
pub fn read(buf: &mut [u8]) -> usize {
    #[cfg(feature = "qemu-malta")]
    {
        let mut n = 0;
        while n < buf.len() {
            match crate::arch::qemu::uart_read() {
                Some(b) => buf[n] = b,
                None => break,
            }
            n += 1;
        }
        if n > 0 {
            return n;
        }
    }
    INPUT.with(|cursor| {
        let size = RX[0].size.load(Ordering::Acquire);
        let Some(take) = cursor.take(size, CONSOLE_BUFFER_SIZE, buf.len()) else {
            return 0;
        };
        // SAFETY: DONE is set, so the guest owns the RX buffer; `take` stays within it.
        let src = unsafe { RX_BUFFER.bytes() };
        let n = take.count as usize;
        buf[..n].copy_from_slice(&src[take.start as usize..take.start as usize + n]);
        if take.repost {
            RX[0].size.store(CONSOLE_BUFFER_SIZE, Ordering::Release);
        }
        n
    })
}

/// A `fmt::Write` sink for the console.
pub struct ConsoleWriter;

impl fmt::Write for ConsoleWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_bytes(s.as_bytes());
        Ok(())
    }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments<'_>) {
    let _ = fmt::write(&mut ConsoleWriter, args);
}

/// Print to the guest console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::_print(format_args!($($arg)*)) };
}

/// Print a line (ending in `\r\n`) to the guest console.
#[macro_export]
macro_rules! println {
    () => { $crate::console::write_bytes(b"\r\n") };
    ($($arg:tt)*) => {{
        $crate::console::_print(format_args!($($arg)*));
        $crate::console::write_bytes(b"\r\n");
    }};
}
