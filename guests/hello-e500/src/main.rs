//! `hello-e500`: a MetaROUTER PowerPC (e500v2) guest with no runtime, for checking the
//! hypervisor's e500 guest support end to end.
//!
//! It starts as a MetaROUTER Linux kernel does (virtual supervisor state, interrupts off, the
//! boot TLB1 entry mapping its RAM at 0x8000_0000, r3 = its device tree), registers its virq
//! word and its console (queue 1) with the hypercall `mtspr 1023, r0` (number in r0, arguments
//! in r3..r6, result in r3), and prints what it checks on the console:
//!
//! 1. the device tree at r3 (its magic and size);
//! 2. a TLB0 entry of its own (`tlbwe`): a 4 KiB page at 0x1000_0000 onto one of its pages,
//!    written through one mapping and read back through the other;
//! 3. its decrementer: IVPR/IVOR10 pointing at its handler, DEC with auto-reload, `wrteei 1`,
//!    five interrupts taken while it yields (`vm_yield`), then the timer off.
//!
//! Then it echoes its console input and answers each line with `hello-e500 heard: <line>`,
//! yielding with interrupts off between polls; the lines `probe` and `spin` run the isolation
//! probes of `probes.rs`, `bench` times its traps (`bench.rs`), `regs` checks the emulated
//! SPR moves through every general register (`regs.rs`).
#![no_std]
#![no_main]

mod bench;
mod console;
mod hypercall;
mod probes;
mod regs;

use core::arch::{asm, global_asm};
use core::fmt::Write;
use core::sync::atomic::{AtomicU32, Ordering};

use console::Console;

global_asm!(
    r#"
    .section .text.start, "ax"
    .globl _start
    .type _start, @function
_start:
    lis     1, __stack_top@ha
    addi    1, 1, __stack_top@l
    li      0, 0
    stwu    0, -16(1)
    lis     8, __bss_start@ha
    addi    8, 8, __bss_start@l
    lis     9, __bss_end@ha
    addi    9, 9, __bss_end@l
1:  cmplw   8, 9
    bge     2f
    stw     0, 0(8)
    addi    8, 8, 4
    b       1b
2:  bl      hello_main           # r3 = the device tree, r7 = the RAM mapped at entry
3:  b       3b
    .size _start, . - _start

    # The decrementer handler: count, clear TSR[DIS], return. SPRG0/1 hold r3/r4.
    .section .text.vectors, "ax"
    .balign 16
    .globl hello_decrementer
hello_decrementer:
    mtspr   272, 3
    mtspr   273, 4
    lis     3, DECREMENTER_INTERRUPTS@ha
    lwz     4, DECREMENTER_INTERRUPTS@l(3)
    addi    4, 4, 1
    stw     4, DECREMENTER_INTERRUPTS@l(3)
    lis     4, 0x0800                # TSR[DIS], write one to clear
    mtspr   336, 4
    mfspr   4, 273
    mfspr   3, 272
    rfi

    # External Input (the virq word has a bit set): take the word, for the main loop to look
    # at, which also lowers the line.
    .balign 16
    .globl hello_external
hello_external:
    mtspr   272, 3
    mtspr   273, 4
    mtspr   274, 5
    lis     3, VIRQS@ha
    li      4, 0
    lwz     5, VIRQS@l(3)
    stw     4, VIRQS@l(3)
    lis     3, VIRQS_TAKEN@ha
    lwz     4, VIRQS_TAKEN@l(3)
    or      4, 4, 5
    stw     4, VIRQS_TAKEN@l(3)
    mfspr   5, 274
    mfspr   4, 273
    mfspr   3, 272
    rfi

    # The probes' exceptions (`probes.rs`): note the IVOR, skip the faulting instruction.
    .macro SKIP n, srr0, ret
    .balign 16
    .globl hello_skip\n
hello_skip\n:
    mtspr   272, 3
    mtspr   273, 4
    li      4, \n
    lis     3, PROBE_VECTOR@ha
    stw     4, PROBE_VECTOR@l(3)
    mfspr   3, \srr0
    addi    3, 3, 4
    mtspr   \srr0, 3
    mfspr   4, 273
    mfspr   3, 272
    .long   \ret
    .endm
    SKIP 1, 570, 0x4C00004C          # machine check: MCSRR0, rfmci
    SKIP 2, 26, 0x4C000064           # data storage: SRR0, rfi
    SKIP 5, 26, 0x4C000064           # alignment
    SKIP 6, 26, 0x4C000064           # program
    SKIP 13, 26, 0x4C000064          # data TLB error

    # Any other interrupt: not expected; stay here (the host still schedules around it).
    .balign 16
    .globl hello_unexpected
hello_unexpected:
    b       hello_unexpected
"#
);

/// Decrementer interrupts taken (the handler above increments it).
#[no_mangle]
pub static DECREMENTER_INTERRUPTS: AtomicU32 = AtomicU32::new(0);

/// The guest's pending-virq word (`vm_setup_irqs`); the External Input handler moves its bits
/// to [`VIRQS_TAKEN`].
#[no_mangle]
static VIRQS: AtomicU32 = AtomicU32::new(0);
#[no_mangle]
static VIRQS_TAKEN: AtomicU32 = AtomicU32::new(0);

/// A page the TLB0 check maps a second time.
#[repr(C, align(4096))]
struct Page([u32; 1024]);
static mut ALIAS_TARGET: Page = Page([0; 1024]);

/// The guest-virtual page the TLB0 check maps.
pub(crate) const ALIAS_VA: u32 = 0x1000_0000;
/// The RAM window: guest-virtual 0x8000_0000 is guest-physical 0.
const RAM_WINDOW: u32 = 0x8000_0000;

#[no_mangle]
extern "C" fn hello_main(device_tree: u32, _r4: u32, _r5: u32, _r6: u32, ram: u32) -> ! {
    let mut con = Console::init(&VIRQS);
    let _ = write!(con, "\r\nhello-e500: MetaROUTER PowerPC guest\r\n");
    check_device_tree(&mut con, device_tree);
    check_tlb0(&mut con);
    check_decrementer(&mut con);
    let _ = write!(con, "hello-e500: ready, echoing the console\r\n");
    let mut line = console::Line::new();
    loop {
        if VIRQS_TAKEN.swap(0, Ordering::AcqRel) != 0 || con.has_input() {
            match con.echo_input(&mut line) {
                Some(b"probe") => probes::run(&mut con, ram),
                Some(b"spin") => probes::spin(&mut con),
                Some(b"storm") => probes::storm(&mut con),
                Some(b"checkstop") => probes::checkstop(&mut con, ram),
                Some(b"bench") => bench::run(&mut con),
                Some(b"regs") => regs::run(&mut con),
                _ => {}
            }
        }
        hypercall::vm_yield();
    }
}

fn check_device_tree(con: &mut Console, device_tree: u32) {
    let word = |offset: u32| {
        // SAFETY: the device tree lies in the guest's RAM, mapped at entry; reads only.
        unsafe { ((device_tree + offset) as *const u32).read_volatile() }
    };
    if device_tree < RAM_WINDOW || word(0) != 0xD00D_FEED {
        let _ = write!(con, "hello-e500: no device tree at {device_tree:#010x}\r\n");
        return;
    }
    let _ = write!(
        con,
        "hello-e500: device tree at {device_tree:#010x}, {} bytes\r\n",
        word(4)
    );
}

fn check_tlb0(con: &mut Console) {
    let target = core::ptr::addr_of_mut!(ALIAS_TARGET) as u32;
    let rpn = target - RAM_WINDOW;
    const MAS1_V: u32 = 1 << 31;
    const TSIZE_4K: u32 = 1 << 8;
    const SUPERVISOR_RW: u32 = 0x5; // MAS3[SW] | MAS3[SR]
                                    // SAFETY: a new translation for an address this guest does not otherwise use, onto one
                                    // of its own pages; `tlbwe` changes nothing else.
    unsafe {
        asm!(
            "mtspr 624, {mas0}",
            "mtspr 625, {mas1}",
            "mtspr 626, {mas2}",
            "mtspr 627, {mas3}",
            "mtspr 944, {zero}",
            "isync",
            "tlbwe",
            "isync",
            mas0 = in(reg) 0u32,
            mas1 = in(reg) MAS1_V | TSIZE_4K,
            mas2 = in(reg) ALIAS_VA,
            mas3 = in(reg) rpn | SUPERVISOR_RW,
            zero = in(reg) 0u32,
            options(nostack, preserves_flags),
        )
    };
    let alias = ALIAS_VA as *mut u32;
    // SAFETY: `alias` maps `ALIAS_TARGET` (just written), which nothing else uses.
    let seen = unsafe {
        alias.add(7).write_volatile(0x600D_CAFE);
        (core::ptr::addr_of!(ALIAS_TARGET.0[7])).read_volatile()
    };
    if seen == 0x600D_CAFE {
        let _ = write!(
            con,
            "hello-e500: TLB0 alias {ALIAS_VA:#010x} -> {rpn:#010x} ok\r\n"
        );
    } else {
        let _ = write!(con, "hello-e500: TLB0 alias read back {seen:#010x}\r\n");
    }
}

/// Point IVPR and every IVOR at this guest's handlers (the decrementer's, External Input's,
/// and a stop for anything else).
fn install_vectors() -> u32 {
    extern "C" {
        fn hello_decrementer();
        fn hello_external();
        fn hello_unexpected();
        fn hello_skip1();
        fn hello_skip2();
        fn hello_skip5();
        fn hello_skip6();
        fn hello_skip13();
    }
    let handler = hello_decrementer as *const () as u32;
    let external = hello_external as *const () as u32;
    let unexpected = hello_unexpected as *const () as u32;
    macro_rules! ivor {
        ($($spr:literal),*) => {$(
            // SAFETY: IVORs only say where this guest's interrupts go.
            unsafe { asm!(concat!("mtspr ", $spr, ", {0}"), in(reg) unexpected & 0xFFF0, options(nostack, preserves_flags)) };
        )*};
    }
    ivor!(400, 403, 407, 408, 409, 411, 412, 414, 415, 528, 529, 530, 531);
    for (spr_handler, handler) in [
        (1, hello_skip1 as *const ()),
        (2, hello_skip2 as *const ()),
        (5, hello_skip5 as *const ()),
        (6, hello_skip6 as *const ()),
        (13, hello_skip13 as *const ()),
    ] {
        let offset = handler as u32 & 0xFFF0;
        // SAFETY: IVORs only say where this guest's interrupts go.
        unsafe {
            match spr_handler {
                1 => asm!("mtspr 401, {0}", in(reg) offset, options(nostack, preserves_flags)),
                2 => asm!("mtspr 402, {0}", in(reg) offset, options(nostack, preserves_flags)),
                5 => asm!("mtspr 405, {0}", in(reg) offset, options(nostack, preserves_flags)),
                6 => asm!("mtspr 406, {0}", in(reg) offset, options(nostack, preserves_flags)),
                _ => asm!("mtspr 413, {0}", in(reg) offset, options(nostack, preserves_flags)),
            }
        }
    }
    // SAFETY: as above; the handlers share IVPR's 64 KiB page (`.text.vectors`, small).
    unsafe {
        asm!(
            "mtspr 63, {ivpr}",
            "mtspr 404, {ext}",
            "mtspr 410, {dec}",
            ivpr = in(reg) handler & 0xFFFF_0000,
            ext = in(reg) external & 0xFFF0,
            dec = in(reg) handler & 0xFFF0,
            options(nostack, preserves_flags),
        )
    };
    handler
}

fn check_decrementer(con: &mut Console) {
    let _ = install_vectors();
    const PERIOD: u32 = 1_000_000;
    const TCR_DIE: u32 = 1 << 26;
    const TCR_ARE: u32 = 1 << 22;
    // DECAR and TCR[ARE] before DEC starts counting: a guest can be descheduled between any
    // two of these trapping writes for longer than PERIOD, and a decrementer that reaches 0
    // while TCR[ARE] is still clear stops there (as on hardware), after one interrupt.
    // SAFETY: IVPR/IVOR10 point at the handler above (16-byte aligned); the decrementer
    // then interrupts every PERIOD ticks, which the handler acknowledges.
    unsafe {
        asm!(
            "mtspr 54, {period}",
            "mtspr 340, {tcr}",
            "mtspr 22, {period}",
            "wrteei 1",
            period = in(reg) PERIOD,
            tcr = in(reg) TCR_DIE | TCR_ARE,
            options(nostack, preserves_flags),
        )
    };
    let mut yields = 0u32;
    while DECREMENTER_INTERRUPTS.load(Ordering::Acquire) < 5 && yields < 100_000 {
        hypercall::vm_yield();
        yields += 1;
    }
    // SAFETY: interrupts off, then the decrementer off and its status cleared.
    unsafe {
        asm!(
            "wrteei 0",
            "mtspr 340, {zero}",
            "mtspr 336, {dis}",
            zero = in(reg) 0u32,
            dis = in(reg) 1u32 << 27,
            options(nostack, preserves_flags),
        )
    };
    let _ = write!(
        con,
        "hello-e500: {} decrementer interrupts\r\n",
        DECREMENTER_INTERRUPTS.load(Ordering::Acquire)
    );
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        hypercall::vm_yield();
    }
}
