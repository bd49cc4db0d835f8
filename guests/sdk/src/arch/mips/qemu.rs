//! Bare-metal QEMU malta test build (feature `qemu-malta`): no host, kernel mode.
//!
//! QEMU loads the image at physical 0x0010_0000 (kseg2 addresses are loaded at `addr &
//! 0x1FFF_FFFF`) and enters the kseg0 alias of `__mr_qemu_boot`, which maps 0xC000_0000..
//! 0xC200_0000 to physical 0..32 MiB with one wired 2 x 16 MiB TLB entry and jumps to `_start`
//! with no arguments. EBase stays 0x8000_0000, so the vectors the runtime writes at 0xC000_0000
//! are the CPU's real vectors. Hypercalls return -22 (nothing answers them); console output
//! also goes to COM1 (16550 at ISA port 0x3F8) and console input comes from it.

use core::arch::global_asm;

global_asm!(
    r#"
    .section .text.qemu_boot, "ax"
    .globl __mr_qemu_boot
    .set push
    .set mips32r2
    .set noreorder
    .set noat
__mr_qemu_boot:
    lui     $t0, 0x01FF             # PageMask: 16 MiB pages
    ori     $t0, $t0, 0xE000
    mtc0    $t0, $5
    lui     $t0, 0xC000             # EntryHi: VPN2 0xC000_0000, ASID 0
    mtc0    $t0, $10
    li      $t0, 0x1F               # EntryLo0: physical 0, cacheable, D V G
    mtc0    $t0, $2
    lui     $t0, 0x0040             # EntryLo1: physical 16 MiB, cacheable, D V G
    ori     $t0, $t0, 0x1F
    mtc0    $t0, $3
    mtc0    $zero, $0               # Index 0
    li      $t0, 1
    mtc0    $t0, $6                 # Wired 1
    ehb
    tlbwi
    ehb
    move    $a0, $zero
    move    $a1, $zero
    lui     $t9, %hi(_start)
    addiu   $t9, $t9, %lo(_start)
    jr      $t9
    nop
    .set pop
"#
);

const COM1: usize = 0xB800_03F8;
const LSR: usize = 5;
const LSR_DATA_READY: u8 = 1 << 0;
const LSR_THR_EMPTY: u8 = 1 << 5;

/// Write bytes to COM1 (newlines as they are).
pub fn uart_write(bytes: &[u8]) {
    for &b in bytes {
        // SAFETY: COM1's registers in kseg1 (kernel mode on bare metal); byte accesses.
        unsafe {
            while ((COM1 + LSR) as *const u8).read_volatile() & LSR_THR_EMPTY == 0 {}
            (COM1 as *mut u8).write_volatile(b);
        }
    }
}

/// One byte from COM1, if one is waiting.
pub fn uart_read() -> Option<u8> {
    // SAFETY: as `uart_write`.
    unsafe {
        (((COM1 + LSR) as *const u8).read_volatile() & LSR_DATA_READY != 0)
            .then(|| (COM1 as *const u8).read_volatile())
    }
}
