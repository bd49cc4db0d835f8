//! The assembly `mfc0`: a guest kernel's read of a CP0 register whose value is a plain field of
//! its `Vcpu` (Status, EPC, BadVAddr, Context, EntryHi, EntryLo0/1, Index, PageMask, HWREna,
//! TagLo, DataLo, ErrorEPC, DESAVE: `vcpu_mips::Vcpu::plain_register_offsets`) is served
//! before anything is saved, with `$k0`/`$k1` and two scratch words: 40-odd instructions from
//! the vector to `eret` instead of some 200 through the Rust fast path.
//!
//! It takes a trap only when the Rust fast path would take it the same way
//! (`Vcpu::fast_mfc0`): Coprocessor Unusable with CE = 0, not in a delay slot, the guest in
//! virtual kernel mode, the word at EPC (read from the RAM window) an `mfc0`; and only for the
//! registers the table names, whose read has no side effect and depends on nothing but the
//! field (checked against the general path by `vcpu-mips/tests/fast_path.rs`). Everything else
//! goes back to the trap entry (`__hv_trap_guest`) with the guest's registers untouched.

use core::arch::global_asm;
use core::sync::atomic::{AtomicU32, Ordering};

use vcpu_mips::{Vcpu, PLAIN_REGISTER_SLOTS};

/// What the assembly reads: the running guest's `Vcpu` (0 while no guest runs: every trap
/// takes the normal path), the hypervisor's address of its partition and the partition's
/// size, and two words where it parks the guest's `$t0`/`$t1`.
#[repr(C)]
pub(super) struct FastState {
    vcpu: AtomicU32,
    ram_va: AtomicU32,
    size: AtomicU32,
    scratch: [AtomicU32; 2],
}

#[no_mangle]
static __hv_fast_state: FastState = FastState {
    vcpu: AtomicU32::new(0),
    ram_va: AtomicU32::new(0),
    size: AtomicU32::new(0),
    scratch: [AtomicU32::new(0), AtomicU32::new(0)],
};

/// Byte offset in `Vcpu` of each plain register (index `rd << 3 | sel`), 0 for the others.
#[no_mangle]
static __hv_fast_offsets: [u16; PLAIN_REGISTER_SLOTS] = Vcpu::plain_register_offsets();

/// Let the assembly serve `vcpu`'s guest (about to be entered), whose partition the hypervisor
/// reaches at `ram_va`, `size` bytes.
pub(super) fn publish(vcpu: &Vcpu, ram_va: usize, size: u32) {
    __hv_fast_state.ram_va.store(ram_va as u32, Ordering::Relaxed);
    __hv_fast_state.size.store(size, Ordering::Relaxed);
    __hv_fast_state.vcpu.store(vcpu as *const Vcpu as u32, Ordering::Relaxed);
}

/// No guest runs (its `Vcpu` may move or go away).
pub(super) fn withdraw() {
    __hv_fast_state.vcpu.store(0, Ordering::Relaxed);
}

global_asm!(
    r#"
    .section .text.hv_fast_mfc0, "ax"
    .set push
    .set noreorder
    .set noat
    .set mips32r2
    .globl __hv_fast_mfc0
    .type __hv_fast_mfc0, @function
    # Entered from __hv_trap_entry for a trap from a guest: the guest's $k0/$k1 parked in
    # ErrorEPC/DataLo, $k1 = the guest's $sp, EXL set.
__hv_fast_mfc0:
    mfc0    $k0, $13                # Cause: BD clear, CE 0, ExcCode CpU
    bltz    $k0, 9f
    ext     $k0, $k0, 28, 2         # (slot)
    bnez    $k0, 9f
    mfc0    $k0, $13                # (slot)
    andi    $k0, $k0, 0x7C
    xori    $k0, $k0, 11 << 2
    bnez    $k0, 9f
    lui     $k1, %hi(__hv_fast_state)   # (slot)
    addiu   $k1, $k1, %lo(__hv_fast_state)
    lw      $k0, 0($k1)             # the Vcpu, or 0
    beqz    $k0, 9f
    nop
    sw      $t0, 12($k1)            # park $t0/$t1
    sw      $t1, 16($k1)
    lw      $t1, {status}($k0)      # virtual kernel mode: EXL or ERL, or KSU = 0
    andi    $t0, $t1, 0x6
    bnez    $t0, 2f
    andi    $t0, $t1, 0x18          # (slot)
    bnez    $t0, 8f
    nop
2:  mfc0    $k0, $14                # the word at EPC, from the RAM window
    andi    $t0, $k0, 3
    bnez    $t0, 8f
    lui     $t0, 0x4000             # (slot) EPC - 0xC000_0000
    addu    $k0, $k0, $t0
    lw      $t1, 8($k1)
    sltu    $t1, $k0, $t1
    beqz    $t1, 8f
    lw      $t1, 4($k1)             # (slot)
    addu    $k0, $k0, $t1
    lw      $k0, 0($k0)
    lui     $t0, 0xFFE0             # mfc0: (word & 0xFFE0_07F8) == 0x4000_0000
    ori     $t0, $t0, 0x07F8
    and     $t0, $k0, $t0
    lui     $t1, 0x4000
    bne     $t0, $t1, 8f
    ext     $t0, $k0, 0, 3          # (slot) sel
    ext     $t1, $k0, 11, 5         # rd
    sll     $t1, $t1, 3
    or      $t0, $t0, $t1
    sll     $t0, $t0, 1             # u16 entries
    lui     $t1, %hi(__hv_fast_offsets)
    addu    $t1, $t1, $t0
    lhu     $t0, %lo(__hv_fast_offsets)($t1)
    beqz    $t0, 8f                 # not a plain register
    lw      $t1, 0($k1)             # (slot) the Vcpu
    addu    $t0, $t0, $t1
    lw      $t0, 0($t0)             # the value
    mfc0    $t1, $14                # past the mfc0
    addiu   $t1, $t1, 4
    mtc0    $t1, $14
    ext     $k0, $k0, 16, 5         # rt: 16 bytes of code each below
    sll     $k0, $k0, 4
    lui     $t1, %hi(.Lhv_fast_mfc0_set)
    addiu   $t1, $t1, %lo(.Lhv_fast_mfc0_set)
    addu    $k0, $k0, $t1
    jr      $k0
    nop
    .balign 16
.Lhv_fast_mfc0_set:
    b 4f; nop; nop; nop             # $0
    b 4f; move $1, $t0; nop; nop
    b 4f; move $2, $t0; nop; nop
    b 4f; move $3, $t0; nop; nop
    b 4f; move $4, $t0; nop; nop
    b 4f; move $5, $t0; nop; nop
    b 4f; move $6, $t0; nop; nop
    b 4f; move $7, $t0; nop; nop
    b 4f; sw $t0, 12($k1); nop; nop # $t0: its parked copy
    b 4f; sw $t0, 16($k1); nop; nop # $t1: its parked copy
    b 4f; move $10, $t0; nop; nop
    b 4f; move $11, $t0; nop; nop
    b 4f; move $12, $t0; nop; nop
    b 4f; move $13, $t0; nop; nop
    b 4f; move $14, $t0; nop; nop
    b 4f; move $15, $t0; nop; nop
    b 4f; move $16, $t0; nop; nop
    b 4f; move $17, $t0; nop; nop
    b 4f; move $18, $t0; nop; nop
    b 4f; move $19, $t0; nop; nop
    b 4f; move $20, $t0; nop; nop
    b 4f; move $21, $t0; nop; nop
    b 4f; move $22, $t0; nop; nop
    b 4f; move $23, $t0; nop; nop
    b 4f; move $24, $t0; nop; nop
    b 4f; move $25, $t0; nop; nop
    b 4f; mtc0 $t0, $30; nop; nop   # $k0: its parked copy (ErrorEPC)
    b 4f; mtc0 $t0, $28, 1; nop; nop # $k1: its parked copy (DataLo)
    b 4f; move $28, $t0; nop; nop
    b 4f; move $29, $t0; nop; nop
    b 4f; move $30, $t0; nop; nop
    b 4f; move $31, $t0; nop; nop
4:  lw      $t0, 12($k1)
    lw      $t1, 16($k1)
    mfc0    $k0, $30
    mfc0    $k1, $28, 1
    ehb
    eret
8:  lw      $t0, 12($k1)            # declined after parking $t0/$t1
    lw      $t1, 16($k1)
9:  mfc0    $k0, $30                # declined: the normal path, $k1 = the guest's $sp
    j       __hv_trap_guest
    move    $k1, $sp                # (slot)
    .size __hv_fast_mfc0, . - __hv_fast_mfc0
    .set pop
"#,
    status = const Vcpu::STATUS_OFFSET,
);
