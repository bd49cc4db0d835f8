//! The console (queue 1, virq 1): one TX and one RX descriptor, each its own ring, with a
//! 4 KiB buffer (`struct vdma_descr { addr; size; next; }`, DONE = bit 31 of `size`).

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::hypercall;

const CONSOLE: u32 = 1;
const DONE: u32 = 1 << 31;
const BUFFER: usize = 4096;

#[repr(C, align(16))]
struct Descriptor {
    addr: AtomicU32,
    size: AtomicU32,
    next: AtomicU32,
}

impl Descriptor {
    const fn new() -> Self {
        Descriptor {
            addr: AtomicU32::new(0),
            size: AtomicU32::new(0),
            next: AtomicU32::new(0),
        }
    }

    fn address(&self) -> u32 {
        self as *const Self as u32
    }
}

#[repr(C, align(16))]
struct Buffer(UnsafeCell<[u8; BUFFER]>);

// SAFETY: one thread; the host touches a buffer only while its descriptor says so (DONE set on
// TX, clear on RX), and the guest then leaves it alone.
unsafe impl Sync for Buffer {}

static TX: Descriptor = Descriptor::new();
static RX: Descriptor = Descriptor::new();
static TX_BUFFER: Buffer = Buffer(UnsafeCell::new([0; BUFFER]));
static RX_BUFFER: Buffer = Buffer(UnsafeCell::new([0; BUFFER]));

/// The console, once registered.
pub struct Console;

impl Console {
    /// Register the virq word and the console queue.
    pub fn init(virqs: &'static AtomicU32) -> Console {
        TX.addr.store(TX_BUFFER.0.get() as u32, Ordering::Relaxed);
        TX.next.store(TX.address(), Ordering::Relaxed);
        RX.addr.store(RX_BUFFER.0.get() as u32, Ordering::Relaxed);
        RX.next.store(RX.address(), Ordering::Relaxed);
        RX.size.store(BUFFER as u32, Ordering::Release);
        hypercall::call(hypercall::SETUP_IRQS, virqs.as_ptr() as u32, 32, 0, 0);
        hypercall::call(
            hypercall::CREATE_QUEUE,
            CONSOLE,
            CONSOLE,
            TX.address(),
            RX.address(),
        );
        Console
    }

    /// Append `bytes` to the TX buffer (from its start once the host took the last batch,
    /// i.e. cleared DONE) and hand it over; waits (yielding) while the buffer is full.
    pub fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(256) {
            loop {
                let size = TX.size.load(Ordering::Acquire);
                let used = if size & DONE != 0 {
                    (size & !DONE) as usize
                } else {
                    0
                };
                if used + chunk.len() <= BUFFER {
                    let buffer = TX_BUFFER.0.get() as *mut u8;
                    for (i, &b) in chunk.iter().enumerate() {
                        // SAFETY: inside the buffer; the host reads it only after the release
                        // store below.
                        unsafe { buffer.add(used + i).write_volatile(b) };
                    }
                    TX.size
                        .store(DONE | (used + chunk.len()) as u32, Ordering::Release);
                    break;
                }
                hypercall::vm_yield();
            }
        }
    }

    /// Wait (yielding) until the host has taken everything written.
    pub fn flush(&mut self) {
        while TX.size.load(Ordering::Acquire) & DONE != 0 {
            hypercall::vm_yield();
        }
    }

    /// Whether the host wrote input.
    pub fn has_input(&self) -> bool {
        RX.size.load(Ordering::Acquire) & DONE != 0
    }

    /// Echo what the host wrote into the RX buffer, then give the buffer back; each whole
    /// line is then answered with `hello-e500 heard: <line>`.
    /// Returns the last line completed, if any.
    pub fn echo_input<'l>(&mut self, line: &'l mut Line) -> Option<&'l [u8]> {
        let size = RX.size.load(Ordering::Acquire);
        if size & DONE == 0 {
            return None;
        }
        let mut completed = None;
        let n = ((size & !DONE) as usize).min(BUFFER);
        let mut copy = [0u8; 64];
        let mut done = 0;
        while done < n {
            let k = (n - done).min(copy.len());
            for (i, c) in copy[..k].iter_mut().enumerate() {
                // SAFETY: inside the buffer, which the host filled before setting DONE.
                *c = unsafe {
                    (RX_BUFFER.0.get() as *const u8)
                        .add(done + i)
                        .read_volatile()
                };
            }
            self.write(&copy[..k]);
            for &b in &copy[..k] {
                if b == b'\r' || b == b'\n' {
                    if line.len > 0 {
                        self.write(b"\r\nhello-e500 heard: ");
                        self.write(&line.bytes[..line.len]);
                        self.write(b"\r\n");
                        line.last = line.bytes;
                        completed = Some(line.len);
                        line.len = 0;
                    }
                } else if line.len < line.bytes.len() {
                    line.bytes[line.len] = b;
                    line.len += 1;
                }
            }
            done += k;
        }
        RX.size.store(BUFFER as u32, Ordering::Release);
        completed.map(|len| &line.last[..len])
    }
}

/// The console line being typed.
pub struct Line {
    bytes: [u8; 128],
    len: usize,
    last: [u8; 128],
}

impl Line {
    pub const fn new() -> Line {
        Line {
            bytes: [0; 128],
            len: 0,
            last: [0; 128],
        }
    }
}

impl core::fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write(s.as_bytes());
        Ok(())
    }
}
