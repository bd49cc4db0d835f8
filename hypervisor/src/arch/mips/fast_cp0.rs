//! The assembly path of a guest's traps: the hypercall recognised, and a guest kernel's commonest
//! CP0 traps served, before anything is saved, with `$k0`/`$k1` and two scratch words.
//!
//! The hypercall is decided first, with `$k0`/`$k1` alone: a Coprocessor Unusable trap with
//! CE = 0, not in a delay slot, whose word at EPC (read from the RAM window) is
//! `mtc0 $zero, $1` goes to `__hv_trap_hypercall_entry` (trap.rs) with that word, which saves
//! the caller-saved registers and calls `__hv_trap_hypercall` (vcpu.rs): no second fetch. The
//! model still checks the word, the delay slot and virtual kernel mode there, and what it
//! declines takes the general path.
//!
//! Then a guest kernel's read of a CP0 register whose value is a plain field of its `Vcpu`
//! (Status, EPC, BadVAddr, Context, EntryHi, EntryLo0/1, Index, PageMask, HWREna, TagLo,
//! DataLo, ErrorEPC, DESAVE; Cause composed), its write of one that only masks bits into a
//! field (EPC, EntryLo0/1, Context, PageMask, TagLo, DataLo, ErrorEPC, DESAVE; the tables are
//! `vcpu_mips::plain`), a Status write, `di`, `ei` or `eret` that changes neither the real mode
//! nor ERL and makes no interrupt deliverable, and a `syscall` (reflected to the guest's
//! vector) are served here: 65 (`syscall`) to 107 (`mtc0 Status`) instructions from the vector
//! to `eret` instead of 205 to 500 through the Rust fast path (counted in a QEMU trace).
//!
//! It takes a trap only when the Rust fast path would take it the same way
//! (`Vcpu::fast_mfc0`, `Vcpu::fast_trap`): Coprocessor Unusable with CE = 0, not in a delay
//! slot, the guest in virtual kernel mode, the word at EPC (read from the RAM window) one of
//! those instructions (a `syscall`: from any mode, not in a delay slot); and only for the
//! registers the tables name, whose access has no side effect (each rule checked against the
//! general path by `vcpu-mips/tests/assembly_rules.rs`). Everything else goes
//! back to the trap entry (`__hv_trap_guest`) with the guest's registers untouched, having cost
//! 13 instructions (not a Coprocessor Unusable trap) to 57 (an `mfc0` it does not serve).
//!
//! For a guest with a commpage (`commpage.rs`, `vcpu_mips::dyntrans`) it keeps the page in
//! step with what it changes (a plain `mtc0`'s result, Status; for a `syscall` also Cause as
//! evaluated and EPC) and declines every `mfc0` (the Rust path serves it and rewrites it into a
//! load from the page).
//!
//! A `syscall` from the guest's user (or supervisor) mode switches to the kernel-mode host
//! ASID of the guest's ASID, and an `eret` into user (or supervisor) mode to the user-mode one
//! (`vcpu_mips::Vcpu::mode_asids`, published in the `Vcpu` by every `prepare_entry`): one
//! `mtc0 EntryHi`, no host TLB write (the commpage is mapped under the kernel-mode one alone).

use core::arch::global_asm;
use core::sync::atomic::{AtomicU32, Ordering};

use vcpu_mips::{PlainWrite, Vcpu, PLAIN_REGISTER_SLOTS};

/// What the assembly reads: the running guest's `Vcpu` (0 while no guest runs: every trap
/// takes the normal path), the hypervisor's address of its partition and the partition's
/// size (0 too while no guest runs, so that the RAM window's bounds check alone says whether
/// one does), and four words: the guest's `$t0`/`$t1` parked, two more for itself.
#[repr(C)]
pub(super) struct FastState {
    vcpu: AtomicU32,
    ram_va: AtomicU32,
    size: AtomicU32,
    scratch: [AtomicU32; 4],
    /// The guest's commpage (kseg0): kept in step with what the assembly changes.
    commpage: AtomicU32,
    /// The commpage's host EntryLo0 (0: the guest has none; its `mfc0`s are served here
    /// then, else they go to Rust, which rewrites them).
    commpage_lo: AtomicU32,
}

#[no_mangle]
static __hv_fast_state: FastState = FastState {
    vcpu: AtomicU32::new(0),
    ram_va: AtomicU32::new(0),
    size: AtomicU32::new(0),
    scratch: [
        AtomicU32::new(0),
        AtomicU32::new(0),
        AtomicU32::new(0),
        AtomicU32::new(0),
    ],
    commpage: AtomicU32::new(0),
    commpage_lo: AtomicU32::new(0),
};

/// Byte offset in `Vcpu` of each plain register (index `rd << 3 | sel`), 0 for the others.
#[no_mangle]
static __hv_fast_offsets: [u16; PLAIN_REGISTER_SLOTS] = Vcpu::plain_register_offsets();

/// How `mtc0` writes each plain register (index `rd << 3 | sel`; offset 0 for the others).
#[no_mangle]
static __hv_fast_writes: [PlainWrite; PLAIN_REGISTER_SLOTS] = Vcpu::plain_register_writes();

/// Let the assembly serve `vcpu`'s guest (about to be entered), whose partition the hypervisor
/// reaches at `ram_va`, `size` bytes, and whose commpage is at kseg0 `commpage`.
pub(super) fn publish(vcpu: &Vcpu, ram_va: usize, size: u32, commpage: u32) {
    // A kernel address: 32 bits on MIPS32.
    #[allow(clippy::cast_possible_truncation)]
    let ram_va = ram_va as u32;
    __hv_fast_state.commpage.store(commpage, Ordering::Relaxed);
    __hv_fast_state
        .commpage_lo
        .store(vcpu.commpage_entry_lo(), Ordering::Relaxed);
    __hv_fast_state.ram_va.store(ram_va, Ordering::Relaxed);
    __hv_fast_state.size.store(size, Ordering::Relaxed);
    __hv_fast_state
        .vcpu
        .store(vcpu as *const Vcpu as u32, Ordering::Relaxed);
}

/// No guest runs (its `Vcpu` may move or go away).
pub(super) fn withdraw() {
    __hv_fast_state.vcpu.store(0, Ordering::Relaxed);
    __hv_fast_state.size.store(0, Ordering::Relaxed);
}

global_asm!(
    r#"
    .section .text.hv_fast_cp0, "ax"
    .set push
    .set noreorder
    .set noat
    .set mips32r2
    .globl __hv_fast_cp0
    .type __hv_fast_cp0, @function
    # Entered from __hv_trap_entry for a trap from a guest: the guest's $k0/$k1 parked in
    # ErrorEPC/DataLo, EXL set, $k0 = Cause. The hypercall is decided first, with $k0/$k1
    # alone: a Coprocessor Unusable trap (CE 0, not in a delay slot) on the hypercall word goes
    # to __hv_trap_hypercall_entry (trap.rs) with the word it read. Then $k1 holds
    # &__hv_fast_state and $t0/$t1 are parked in its scratch words.
__hv_fast_cp0:
    lui     $k1, 0xB000             # Cause.BD, CE and ExcCode: CpU, CE 0, BD clear?
    ori     $k1, $k1, 0x7C
    and     $k1, $k0, $k1
    xori    $k1, $k1, 11 << 2
    bnez    $k1, .Lhv_fast_not_cpu
    mfc0    $k0, $14                # (slot) the word at EPC, from the RAM window
    andi    $k1, $k0, 3
    bnez    $k1, 9f
    lui     $k1, 0x4000             # (slot) EPC - 0xC000_0000
    addu    $k0, $k0, $k1
    lui     $k1, %hi(__hv_fast_state + 8)
    lw      $k1, %lo(__hv_fast_state + 8)($k1)  # inside the partition? (none: size 0)
    sltu    $k1, $k0, $k1
    beqz    $k1, 9f
    lui     $k1, %hi(__hv_fast_state + 4)   # (slot)
    lw      $k1, %lo(__hv_fast_state + 4)($k1)
    addu    $k0, $k0, $k1
    lw      $k0, 0($k0)
    lui     $k1, 0x4080             # the hypercall (mtc0 $0, $1)?
    ori     $k1, $k1, 0x0800
    bne     $k0, $k1, 1f
    lui     $k1, %hi(__hv_fast_state)   # (slot)
    j       __hv_trap_hypercall_entry
    move    $k1, $sp                # (slot) the guest's $sp
1:  addiu   $k1, $k1, %lo(__hv_fast_state)
    sw      $t0, 12($k1)            # park $t0/$t1
    sw      $t1, 16($k1)
    lw      $t1, 0($k1)             # virtual kernel mode: EXL or ERL, or KSU = 0
    lw      $t1, {status}($t1)
    andi    $t0, $t1, 0x6
    bnez    $t0, 2f
    andi    $t0, $t1, 0x18          # (slot)
    bnez    $t0, 8f
    nop
2:  lui     $t0, 0xFFE0             # mfc0 / mtc0: (word & 0xFFE0_07F8) == 0x4000_0000 / 0x4080_0000
    ori     $t0, $t0, 0x07F8
    and     $t0, $k0, $t0
    andi    $t1, $t0, 0xFFFF        # bits 10:3 zero
    bnez    $t1, .Lhv_fast_other
    srl     $t0, $t0, 16            # (slot) 0x4000: mfc0, 0x4080: mtc0
    ext     $t1, $k0, 11, 5         # rd
    sll     $t1, $t1, 3
    ins     $t1, $k0, 0, 3          # rd << 3 | sel
    xori    $t0, $t0, 0x4080
    beqz    $t0, .Lhv_fast_mtc0
    xori    $t0, $t0, 0x4080 ^ 0x4000   # (slot) zero for mfc0
    bnez    $t0, .Lhv_fast_other
    sll     $t1, $t1, 1             # (slot) u16 entries
    lw      $t0, 32($k1)            # a commpage: mfc0 goes to Rust, which rewrites it
    bnez    $t0, 8f
    xori    $t0, $t1, (13 << 3) << 1    # (slot)
    beqz    $t0, .Lhv_fast_cause    # Cause: composed below
    lui     $t0, %hi(__hv_fast_offsets)   # (slot)
    addu    $t0, $t0, $t1
    lhu     $t0, %lo(__hv_fast_offsets)($t0)
    beqz    $t0, 8f                 # not a plain register
    lw      $t1, 0($k1)             # (slot) the Vcpu
    addu    $t0, $t0, $t1
    lw      $t0, 0($t0)             # the value
    ext     $k0, $k0, 16, 5         # rt: 16 bytes of code each below
    sll     $k0, $k0, 4
.Lhv_fast_set_rt:                   # $t0 = the value, $k0 = rt * 16
    lui     $t1, %hi(.Lhv_fast_set)
    addiu   $t1, $t1, %lo(.Lhv_fast_set)
    addu    $k0, $k0, $t1
    jr      $k0
    nop
    .balign 16
.Lhv_fast_set:
    b .Lhv_fast_exit; nop; nop; nop             # $0
    b .Lhv_fast_exit; move $1, $t0; nop; nop
    b .Lhv_fast_exit; move $2, $t0; nop; nop
    b .Lhv_fast_exit; move $3, $t0; nop; nop
    b .Lhv_fast_exit; move $4, $t0; nop; nop
    b .Lhv_fast_exit; move $5, $t0; nop; nop
    b .Lhv_fast_exit; move $6, $t0; nop; nop
    b .Lhv_fast_exit; move $7, $t0; nop; nop
    b .Lhv_fast_exit; sw $t0, 12($k1); nop; nop # $t0: its parked copy
    b .Lhv_fast_exit; sw $t0, 16($k1); nop; nop # $t1: its parked copy
    b .Lhv_fast_exit; move $10, $t0; nop; nop
    b .Lhv_fast_exit; move $11, $t0; nop; nop
    b .Lhv_fast_exit; move $12, $t0; nop; nop
    b .Lhv_fast_exit; move $13, $t0; nop; nop
    b .Lhv_fast_exit; move $14, $t0; nop; nop
    b .Lhv_fast_exit; move $15, $t0; nop; nop
    b .Lhv_fast_exit; move $16, $t0; nop; nop
    b .Lhv_fast_exit; move $17, $t0; nop; nop
    b .Lhv_fast_exit; move $18, $t0; nop; nop
    b .Lhv_fast_exit; move $19, $t0; nop; nop
    b .Lhv_fast_exit; move $20, $t0; nop; nop
    b .Lhv_fast_exit; move $21, $t0; nop; nop
    b .Lhv_fast_exit; move $22, $t0; nop; nop
    b .Lhv_fast_exit; move $23, $t0; nop; nop
    b .Lhv_fast_exit; move $24, $t0; nop; nop
    b .Lhv_fast_exit; move $25, $t0; nop; nop
    b .Lhv_fast_exit; mtc0 $t0, $30; nop; nop   # $k0: its parked copy (ErrorEPC)
    b .Lhv_fast_exit; mtc0 $t0, $28, 1; nop; nop # $k1: its parked copy (DataLo)
    b .Lhv_fast_exit; move $28, $t0; nop; nop
    b .Lhv_fast_exit; move $29, $t0; nop; nop
    b .Lhv_fast_exit; move $30, $t0; nop; nop
    b .Lhv_fast_exit; move $31, $t0; nop; nop
.Lhv_fast_mtc0:                     # $t1 = rd << 3 | sel, $k0 = the word
    xori    $t0, $t1, 12 << 3       # Status: its own checks
    beqz    $t0, .Lhv_fast_get_rt
    move    $t1, $zero              # (slot) no table entry: .Lhv_fast_store goes to Status
    xori    $t1, $t0, 12 << 3       # rd << 3 | sel again
    sll     $t0, $t1, 3             # 12-byte entries
    sll     $t1, $t1, 2
    addu    $t1, $t1, $t0
    lui     $t0, %hi(__hv_fast_writes)
    addiu   $t0, $t0, %lo(__hv_fast_writes)
    addu    $t1, $t1, $t0           # &entry
    lhu     $t0, 0($t1)             # offset
    beqz    $t0, 8f                 # not a plain register
    nop
.Lhv_fast_get_rt:                   # $k0 = the word: $t0 = its rt's value
    ext     $k0, $k0, 16, 5         # rt: 16 bytes of code each below
    sll     $k0, $k0, 4
    lui     $t0, %hi(.Lhv_fast_get)
    addiu   $t0, $t0, %lo(.Lhv_fast_get)
    addu    $k0, $k0, $t0
    jr      $k0
    nop
    .balign 16
.Lhv_fast_get:
    b .Lhv_fast_store; move $t0, $zero; nop; nop
    b .Lhv_fast_store; move $t0, $1; nop; nop
    b .Lhv_fast_store; move $t0, $2; nop; nop
    b .Lhv_fast_store; move $t0, $3; nop; nop
    b .Lhv_fast_store; move $t0, $4; nop; nop
    b .Lhv_fast_store; move $t0, $5; nop; nop
    b .Lhv_fast_store; move $t0, $6; nop; nop
    b .Lhv_fast_store; move $t0, $7; nop; nop
    b .Lhv_fast_store; lw $t0, 12($k1); nop; nop # $t0: its parked copy
    b .Lhv_fast_store; lw $t0, 16($k1); nop; nop # $t1: its parked copy
    b .Lhv_fast_store; move $t0, $10; nop; nop
    b .Lhv_fast_store; move $t0, $11; nop; nop
    b .Lhv_fast_store; move $t0, $12; nop; nop
    b .Lhv_fast_store; move $t0, $13; nop; nop
    b .Lhv_fast_store; move $t0, $14; nop; nop
    b .Lhv_fast_store; move $t0, $15; nop; nop
    b .Lhv_fast_store; move $t0, $16; nop; nop
    b .Lhv_fast_store; move $t0, $17; nop; nop
    b .Lhv_fast_store; move $t0, $18; nop; nop
    b .Lhv_fast_store; move $t0, $19; nop; nop
    b .Lhv_fast_store; move $t0, $20; nop; nop
    b .Lhv_fast_store; move $t0, $21; nop; nop
    b .Lhv_fast_store; move $t0, $22; nop; nop
    b .Lhv_fast_store; move $t0, $23; nop; nop
    b .Lhv_fast_store; move $t0, $24; nop; nop
    b .Lhv_fast_store; move $t0, $25; nop; nop
    b .Lhv_fast_store; mfc0 $t0, $30; nop; nop   # $k0: its parked copy (ErrorEPC)
    b .Lhv_fast_store; mfc0 $t0, $28, 1; nop; nop # $k1: its parked copy (DataLo)
    b .Lhv_fast_store; move $t0, $28; nop; nop
    b .Lhv_fast_store; move $t0, $29; nop; nop
    b .Lhv_fast_store; move $t0, $30; nop; nop
    b .Lhv_fast_store; move $t0, $31; nop; nop
.Lhv_fast_store:                    # $t0 = the value, $t1 = &entry (0: Status)
    beqz    $t1, .Lhv_fast_status
    nop
    lw      $k0, 8($t1)             # mask
    and     $t0, $t0, $k0
    lhu     $k0, 2($t1)             # the register's word in the commpage
    sw      $k0, 20($k1)
    lhu     $k0, 0($t1)             # offset
    lw      $t1, 4($t1)             # keep
    lw      $k1, 0($k1)             # the Vcpu
    addu    $k0, $k0, $k1           # &field
    lw      $k1, 0($k0)
    and     $k1, $k1, $t1
    or      $k1, $k1, $t0
    sw      $k1, 0($k0)
    move    $t0, $k1
    lui     $k1, %hi(__hv_fast_state)
    addiu   $k1, $k1, %lo(__hv_fast_state)
    lw      $t1, 28($k1)            # the commpage, kept in step
    lw      $k0, 20($k1)
    addu    $t1, $t1, $k0
    b       .Lhv_fast_exit
    sw      $t0, 0($t1)             # (slot)
    # mtc0 rt, Status ($t0 = the value): new = (old & ~W) | (value & W), kept here only when
    # the guest's mode (kernel, supervisor, user) and ERL stay and no interrupt becomes
    # deliverable
    # (vcpu_mips::Vcpu::status_write_is_plain); else the Rust path, nothing changed.
.Lhv_fast_status:
    lw      $t1, 0($k1)
    lw      $k0, {status}($t1)      # old
    sw      $k0, 20($k1)
    lui     $t1, {writable} >> 16
    ori     $t1, $t1, {writable} & 0xFFFF
    and     $t0, $t0, $t1
    nor     $t1, $t1, $zero
    and     $k0, $k0, $t1
    or      $t0, $t0, $k0           # new
    lw      $k0, 20($k1)
    xor     $t1, $k0, $t0
    andi    $t1, $t1, 4             # ERL changes
    bnez    $t1, 8f
    andi    $t1, $k0, 6             # (slot) the old mode: 0 (kernel) with EXL or ERL, else KSU
    andi    $k0, $k0, 0x18
    movn    $k0, $zero, $t1
    sw      $k0, 24($k1)
    andi    $t1, $t0, 6             # the new mode
    andi    $k0, $t0, 0x18
    movn    $k0, $zero, $t1
    lw      $t1, 24($k1)
    bne     $k0, $t1, 8f            # the mode changes (the real mode or the host ASID)
    nop
    b       .Lhv_fast_deliverable
    sw      $zero, 24($k1)          # (slot) then the exit, no rt to set
    # di / ei ($k0 = the word): rt <- Status, then IE cleared / set.
.Lhv_fast_diei:
    andi    $t0, $k0, 0x20          # sc: ei
    ext     $k0, $k0, 16, 5
    sll     $k0, $k0, 4             # rt * 16, for .Lhv_fast_set_rt
    lw      $t1, 0($k1)
    lw      $t1, {status}($t1)      # old
    bnez    $t0, .Lhv_fast_ei
    sw      $t1, 20($k1)            # (slot)
    ins     $t1, $zero, 0, 1        # di: delivers nothing, changes neither mode nor ERL
    lw      $t0, 0($k1)
    sw      $t1, {status}($t0)
    lw      $t0, 28($k1)
    sw      $t1, {page_status}($t0)
    b       .Lhv_fast_set_rt
    lw      $t0, 20($k1)            # (slot) rt <- old
.Lhv_fast_ei:
    ori     $t0, $t1, 1             # new
    addiu   $k0, $k0, 1             # rt * 16 + 1: set rt after (nonzero)
    sw      $k0, 24($k1)
    # Store $t0 as Status unless an interrupt becomes deliverable: IE = 1, EXL = ERL = 0 and
    # (IP1:IP0 | TI << 7) & IM. Then set rt to the old Status if 24($k1) says so (rt * 16 + 1).
.Lhv_fast_deliverable:
    andi    $t1, $t0, 7
    xori    $t1, $t1, 1
    bnez    $t1, 6f                 # IE clear, or EXL/ERL: nothing deliverable
    lw      $t1, 0($k1)             # (slot)
    lw      $k0, {cause}($t1)
    ext     $k0, $k0, 8, 2
    lbu     $t1, {pending}($t1)
    sll     $t1, $t1, 7
    or      $k0, $k0, $t1
    ext     $t1, $t0, 8, 8          # IM
    and     $k0, $k0, $t1
    bnez    $k0, 8f                 # an interrupt to deliver: the Rust path
    nop
6:  lw      $t1, 0($k1)
    sw      $t0, {status}($t1)
    lw      $t1, 28($k1)
    sw      $t0, {page_status}($t1)
    lw      $k0, 24($k1)
    beqz    $k0, .Lhv_fast_exit
    lw      $t0, 20($k1)            # (slot) rt <- old
    b       .Lhv_fast_set_rt
    addiu   $k0, $k0, -1            # (slot)
    # Neither mfc0 nor mtc0: eret, di, ei, or the Rust path.
.Lhv_fast_other:
    lui     $t0, 0x4200             # eret
    ori     $t0, $t0, 0x0018
    beq     $k0, $t0, .Lhv_fast_eret
    lui     $t0, 0xFFE0             # (slot) di / ei: (word & 0xFFE0_FFDF) == 0x4160_6000
    ori     $t0, $t0, 0xFFDF
    and     $t0, $k0, $t0
    lui     $t1, 0x4160
    ori     $t1, $t1, 0x6000
    beq     $t0, $t1, .Lhv_fast_diei
    nop
    b       8f
    nop
    # mfc0 rt, Cause: the stored bits, TI and IP7 when the timer's TI flag is set, DC when
    # Count is stopped (vcpu_mips::Vcpu::cause_as_evaluated: the timer is not evaluated here).
.Lhv_fast_cause:
    ext     $k0, $k0, 16, 5
    sll     $k0, $k0, 4
    sw      $k0, 24($k1)            # rt * 16
    lw      $t1, 0($k1)
    lw      $t0, {cause}($t1)
    lui     $k0, {stored} >> 16
    ori     $k0, $k0, {stored} & 0xFFFF
    and     $t0, $t0, $k0
    lbu     $k0, {pending}($t1)
    beqz    $k0, 1f
    lbu     $t1, {stopped}($t1)     # (slot)
    lui     $k0, 0x4000             # TI
    ori     $k0, $k0, 0x8000        # IP7
    or      $t0, $t0, $k0
1:  beqz    $t1, 3f
    lui     $k0, 0x0800             # (slot) DC
    or      $t0, $t0, $k0
3:  b       .Lhv_fast_set_rt
    lw      $k0, 24($k1)            # (slot) rt * 16
.Lhv_fast_not_cpu:                  # $k1 = (Cause & (BD | CE | ExcCode)) ^ CpU
    xori    $k1, $k1, (11 << 2) ^ (8 << 2)
    bnez    $k1, 9f                 # not a syscall (CE 0, not in a delay slot)
    nop
    # A syscall (not in a delay slot: checked above), reflected here when Status.BEV is
    # clear and the general vector lies in the RAM window (vcpu_mips::Vcpu::syscall_vector):
    # EXL set, EPC and Cause.BD = 0 when EXL was clear, ExcCode 8, CE 0; the guest resumes at
    # the vector in supervisor mode (EXL: nothing deliverable, the address space stays).
.Lhv_fast_sys:
    lui     $k1, %hi(__hv_fast_state)
    addiu   $k1, $k1, %lo(__hv_fast_state)
    lw      $k0, 0($k1)             # the Vcpu, or 0
    beqz    $k0, 9f
    nop
    sw      $t0, 12($k1)
    sw      $t1, 16($k1)
    lw      $t0, {status}($k0)
    ext     $t1, $t0, 22, 1         # BEV: the Rust path (which halts the guest)
    bnez    $t1, 8f
    lw      $t1, {ebase}($k0)       # (slot) the vector's offset in the window
    lui     $k0, 0x3FFF
    ori     $k0, $k0, 0xF000
    and     $t1, $t1, $k0
    addiu   $t1, $t1, 0x180
    lw      $k0, 8($k1)             # inside the partition?
    sltu    $k0, $t1, $k0
    beqz    $k0, 8f
    lui     $k0, 0xC000             # (slot)
    addu    $t1, $t1, $k0
    sw      $t1, 20($k1)            # the vector
    lw      $t1, 0($k1)
    andi    $k0, $t0, 6             # from user or supervisor mode (EXL, ERL clear, KSU not 0):
    bnez    $k0, 41f                # the kernel-mode host ASID into 24($k1), else 0
    move    $k0, $zero              # (slot)
    andi    $k0, $t0, 0x18
    beqz    $k0, 41f
    nop
    lbu     $k0, {kernel_asid}($t1)
    beqz    $k0, 8f                 # none published: the Rust path (nothing changed yet)
    nop
41: sw      $k0, 24($k1)
    andi    $k0, $t0, 2             # EXL was set: EPC and BD stay
    bnez    $k0, 4f
    ori     $t0, $t0, 2             # (slot) EXL
    mfc0    $k0, $14                # the syscall's address
    sw      $k0, {epc}($t1)
    lw      $k0, {cause}($t1)
    ins     $k0, $zero, 31, 1       # BD = 0
    sw      $k0, {cause}($t1)
4:  sw      $t0, {status}($t1)
    lw      $k0, {cause}($t1)
    ins     $k0, $zero, 28, 2       # CE 0
    ins     $k0, $zero, 2, 5
    ori     $k0, $k0, 8 << 2        # ExcCode: Sys
    sw      $k0, {cause}($t1)
    # The commpage: Cause as evaluated (stored bits, TI and IP7, DC), Status, EPC.
    lui     $t0, {stored} >> 16
    ori     $t0, $t0, {stored} & 0xFFFF
    and     $t0, $t0, $k0
    lbu     $k0, {pending}($t1)
    beqz    $k0, 21f
    lui     $k0, 0x4000             # (slot) TI
    ori     $k0, $k0, 0x8000        # IP7
    or      $t0, $t0, $k0
21: lbu     $k0, {stopped}($t1)
    beqz    $k0, 22f
    lui     $k0, 0x0800             # (slot) DC
    or      $t0, $t0, $k0
22: lw      $k0, 28($k1)
    sw      $t0, {page_cause}($k0)
    lw      $t0, {status}($t1)
    sw      $t0, {page_status}($k0)
    lw      $t0, {epc}($t1)
    sw      $t0, {page_epc}($k0)
    # Into kernel mode: its host ASID (Vcpu::mode_asids), under which alone the commpage is
    # mapped; a mode switch writes no TLB entry.
    lw      $t0, 24($k1)
    beqz    $t0, 25f
    nop
    mtc0    $t0, $10                # EntryHi: VPN2 0, the kernel-mode host ASID
25: lw      $k0, 20($k1)
    mtc0    $k0, $14                # the guest resumes at the vector
    mfc0    $t0, $12                # in supervisor mode (EXL)
    addiu   $k0, $zero, 1
    ins     $t0, $k0, 3, 2
    mtc0    $t0, $12
    lw      $t0, 12($k1)
    lw      $t1, 16($k1)
    mfc0    $k0, $30
    mfc0    $k1, $28, 1
    ehb
    eret
    # eret: kept here when ERL is clear (only EXL is cleared: the address space stays) and no
    # interrupt becomes deliverable (vcpu_mips::Vcpu::eret_is_plain); the real mode is set
    # here, the rest of prepare_entry would change nothing.
.Lhv_fast_eret:
    lw      $t1, 0($k1)
    lw      $t0, {status}($t1)
    andi    $k0, $t0, 4             # ERL
    bnez    $k0, 8f
    ins     $t0, $zero, 1, 1        # (slot) new: EXL cleared
    andi    $k0, $t0, 7             # deliverable: IE = 1, EXL = ERL = 0, a pending line in IM
    xori    $k0, $k0, 1
    bnez    $k0, 5f
    sw      $t0, 20($k1)            # (slot)
    lw      $k0, {cause}($t1)
    ext     $k0, $k0, 8, 2
    lbu     $t0, {pending}($t1)
    sll     $t0, $t0, 7
    or      $k0, $k0, $t0
    lw      $t0, 20($k1)
    ext     $t1, $t0, 8, 8
    and     $k0, $k0, $t1
    bnez    $k0, 8f                 # an interrupt to deliver: the Rust path
    lw      $t1, 0($k1)             # (slot)
5:  andi    $k0, $t0, 0x18          # into user or supervisor mode (KSU not 0; EXL, ERL now
    beqz    $k0, 51f                # clear): the user-mode host ASID; into kernel mode the
    nop                             # kernel-mode one stays
    lbu     $k0, {user_asid}($t1)
    beqz    $k0, 8f                 # none published: the Rust path (nothing changed yet)
    nop
    mtc0    $k0, $10                # EntryHi: VPN2 0, the user-mode host ASID
51: sw      $t0, {status}($t1)      # commit the virtual Status
    lw      $k0, 28($k1)
    sw      $t0, {page_status}($k0)
    lw      $k0, {epc}($t1)         # resume at the virtual EPC
    mtc0    $k0, $14
    andi    $k0, $t0, 0x16          # real mode: user iff (Status & 0x16) == 0x10, else supervisor
    xori    $k0, $k0, 0x10
    sltiu   $k0, $k0, 1
    addiu   $k0, $k0, 1             # KSU 01 or 10
    mfc0    $t0, $12
    ins     $t0, $k0, 3, 2
    mtc0    $t0, $12
    lw      $t0, 12($k1)
    lw      $t1, 16($k1)
    mfc0    $k0, $30
    mfc0    $k1, $28, 1
    ehb
    eret
.Lhv_fast_exit:                     # done: past the instruction, registers back, eret
    mfc0    $t1, $14
    addiu   $t1, $t1, 4
    mtc0    $t1, $14
    lw      $t0, 12($k1)
    lw      $t1, 16($k1)
    mfc0    $k0, $30
    mfc0    $k1, $28, 1
    ehb
    eret
8:  lw      $t0, 12($k1)            # declined after parking $t0/$t1
    lw      $t1, 16($k1)
9:  j       __hv_trap_guest         # declined: the normal path, $k1 = the guest's $sp
    move    $k1, $sp                # (slot)
    .size __hv_fast_cp0, . - __hv_fast_cp0
    .set pop
"#,
    status = const Vcpu::STATUS_OFFSET,
    cause = const Vcpu::CAUSE_OFFSET,
    epc = const Vcpu::EPC_OFFSET,
    ebase = const Vcpu::EBASE_OFFSET,
    pending = const Vcpu::TIMER_PENDING_OFFSET,
    stopped = const Vcpu::TIMER_STOPPED_OFFSET,
    stored = const vcpu_mips::cp0::CAUSE_STORED,
    page_status = const 4 * (12 << 3),
    page_cause = const 4 * (13 << 3),
    page_epc = const 4 * (14 << 3),
    kernel_asid = const Vcpu::KERNEL_ASID_OFFSET,
    user_asid = const Vcpu::USER_ASID_OFFSET,
    writable = const vcpu_mips::cp0::STATUS_WRITABLE,
);
