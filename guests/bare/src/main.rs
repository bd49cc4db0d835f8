//! `bare`: a MetaROUTER guest in the style of the small hand-written C guests (such as
//! `metaDIE`), with no runtime at all.
//!
//! It never enables interrupts, installs no exception vectors and never programs its timer.
//! Its entry is laid out like metaDIE's `start.S` (`jal main` followed by the idle loop's
//! `wait`), so its first privileged instructions are `di` and a `wait` in a branch delay slot,
//! with interrupts off, before any hypercall: the guest relies on a `wait` with interrupts off
//! being a yield. Then, at once, the hypercalls `vm_setup_irqs` and `vm_create_queue` (the
//! console, queue 1), served by the hypervisor's fast trap path; it prints a banner and polls
//! its console and virq word around `wait` forever, echoing what it is sent.
#![no_std]
#![no_main]
#![feature(asm_experimental_arch)]

use core::arch::{asm, global_asm};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, Ordering};

global_asm!(
    r#"
    .section .text.start, "ax"
    .globl _start
    .type _start, @function
    .set push
    .set mips32r2
    .set noreorder
_start:
    di
    ehb
    lui     $gp, %hi(_gp)
    addiu   $gp, $gp, %lo(_gp)
    lui     $sp, %hi(__stack_top)
    addiu   $sp, $sp, %lo(__stack_top)
    lui     $t0, %hi(__bss_start)
    addiu   $t0, $t0, %lo(__bss_start)
    lui     $t1, %hi(__bss_end)
    addiu   $t1, $t1, %lo(__bss_end)
1:  beq     $t0, $t1, 2f
    nop
    sw      $zero, 0($t0)
    b       1b
    addiu   $t0, $t0, 4
2:  lui     $t9, %hi(bare_main)
    addiu   $t9, $t9, %lo(bare_main)
    addiu   $sp, $sp, -16           # o32 argument save area
    jalr    $t9
3:  wait                            # (delay slot: also runs once, before bare_main)
    b       3b
    nop
    .size _start, . - _start
    .set pop
"#
);

/// `vm_create_queue`, `vm_setup_irqs` (the guest's `asm/vm.h` numbers).
const CREATE_QUEUE: u32 = 4;
const SETUP_IRQS: u32 = 14;
/// The console: queue 1, virq 1.
const CONSOLE: u32 = 1;
/// Descriptor `size` bit: the buffer is filled (TX) or was written by the host (RX).
const DONE: u32 = 1 << 31;
const BUFFER: usize = 4096;

/// `struct vdma_descr { addr; size; next; }`, 16-byte aligned.
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

/// A console buffer the host reads or writes through a descriptor.
#[repr(C, align(16))]
struct Buffer(UnsafeCell<[u8; BUFFER]>);

// SAFETY: one thread, no interrupts; the host touches a buffer only while its descriptor says
// so (DONE set on TX, clear on RX), and this guest then leaves it alone.
unsafe impl Sync for Buffer {}

impl Buffer {
    const fn new() -> Self {
        Buffer(UnsafeCell::new([0; BUFFER]))
    }

    fn address(&self) -> u32 {
        self.0.get() as u32
    }
}

static VIRQS: AtomicU32 = AtomicU32::new(0);
static TX: Descriptor = Descriptor::new();
static RX: Descriptor = Descriptor::new();
static TX_BUFFER: Buffer = Buffer::new();
static RX_BUFFER: Buffer = Buffer::new();

/// The MetaROUTER hypercall: number in `$v1`, arguments in `$a0..$a3`, `$v0 = -22` preloaded,
/// `mtc0 $zero, $1`.
fn hypercall(nr: u32, a0: u32, a1: u32, a2: u32, a3: u32) -> i32 {
    let result: i32;
    // SAFETY: the arguments name only this guest's own statics, handed to the host for good;
    // the registers a function call may clobber are declared clobbered.
    unsafe {
        asm!(
            "mtc0 $0, $1",
            inout("$2") -22i32 => result,
            inout("$3") nr => _,
            inout("$4") a0 => _,
            inout("$5") a1 => _,
            inout("$6") a2 => _,
            inout("$7") a3 => _,
            out("$8") _, out("$9") _, out("$10") _, out("$11") _,
            out("$12") _, out("$13") _, out("$14") _, out("$15") _,
            out("$24") _, out("$25") _,
            options(nostack),
        )
    };
    result
}

/// Append `bytes` to the console's TX buffer (from its start once the host took the last
/// batch, i.e. cleared DONE) and hand it over.
fn write(bytes: &[u8]) {
    let size = TX.size.load(Ordering::Acquire);
    let mut used = if size & DONE != 0 {
        (size & !DONE) as usize
    } else {
        0
    };
    let buffer = TX_BUFFER.0.get() as *mut u8;
    for &b in bytes {
        if used >= BUFFER {
            break;
        }
        // SAFETY: `used` < BUFFER; the host reads this buffer only after the release store.
        unsafe { buffer.add(used).write_volatile(b) };
        used += 1;
    }
    TX.size.store(DONE | used as u32, Ordering::Release);
}

/// Echo what the host wrote into the RX buffer, then give the buffer back.
fn echo_input() {
    let size = RX.size.load(Ordering::Acquire);
    if size & DONE == 0 {
        return;
    }
    let n = ((size & !DONE) as usize).min(BUFFER);
    let mut copy = [0u8; 64];
    let mut done = 0;
    while done < n {
        let k = (n - done).min(copy.len());
        for (i, c) in copy[..k].iter_mut().enumerate() {
            // SAFETY: inside the buffer; the host filled it and set DONE (acquired above).
            *c = unsafe {
                (RX_BUFFER.0.get() as *const u8)
                    .add(done + i)
                    .read_volatile()
            };
        }
        write(&copy[..k]);
        done += k;
    }
    RX.size.store(BUFFER as u32, Ordering::Release);
}

#[no_mangle]
extern "C" fn bare_main() -> ! {
    TX.addr.store(TX_BUFFER.address(), Ordering::Relaxed);
    TX.next.store(TX.address(), Ordering::Relaxed);
    RX.addr.store(RX_BUFFER.address(), Ordering::Relaxed);
    RX.next.store(RX.address(), Ordering::Relaxed);
    RX.size.store(BUFFER as u32, Ordering::Release);
    hypercall(SETUP_IRQS, VIRQS.as_ptr() as u32, 32, 0, 0);
    hypercall(CREATE_QUEUE, CONSOLE, CONSOLE, TX.address(), RX.address());
    write(
        b"\r\nbare: MetaROUTER guest without a runtime (interrupts off, polling around wait)\r\n",
    );
    loop {
        if VIRQS.swap(0, Ordering::AcqRel) != 0 || RX.size.load(Ordering::Acquire) & DONE != 0 {
            echo_input();
        }
        // SAFETY: `wait` only idles the CPU (under a host: gives up the time slice).
        unsafe { asm!("wait", options(nomem, nostack)) };
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        // SAFETY: as above.
        unsafe { asm!("wait", options(nomem, nostack)) };
    }
}
