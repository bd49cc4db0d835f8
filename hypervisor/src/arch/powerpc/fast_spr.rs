//! The assembly path of a guest's Program interrupt: a guest kernel's `mfspr` of an SPR whose
//! value is a field of its `Vcpu`, its `mtspr` that only masks bits into such a field, `mfmsr`,
//! and `mtmsr`/`wrtee`/`wrteei` that only store the MSR, served in assembly; the hypercall
//! recognised and handed to Rust with nothing fetched again (`__hv_trap_hypercall`,
//! `vcpu/fast.rs`); the trapping word handed to the Rust fast path (`__hv_trap_fast`) for
//! everything else.
//!
//! It runs after `__hv_trap_program` (`trap.rs`) saved what the Rust calling convention does
//! not preserve (r0, r1, r3..r12, CR, LR, CTR, XER, SRR0, SRR1, ESR) in the frame at r1 + 8,
//! so r0, r3..r12 and CTR are free. It takes a trap only when the Rust fast path would take it
//! the same way (its `plain` rules and `Vcpu::fast_hypercall`): a privileged-instruction
//! interrupt (ESR\[PPR\]) while a guest runs whose partition lies below 4 GiB ([`set_vcpu`]),
//! the guest in its supervisor state (virtual MSR\[PR\] = 0), the trapping word found through
//! the guest's refill cache (the slot of SRR0 tagged with the real PID0 or PID1,
//! user-executable: `Vcpu::instruction_address`), and one of these instructions by the
//! model's rules (`vcpu_e500::plain`, each checked against the general path by
//! `vcpu-e500/tests/assembly_rules.rs`): for `mfspr`/`mtspr` the SPRs its tables name (an
//! `mtspr` of SPRG3..7, which must also reach the real registers, is left to Rust); for an MSR
//! write `Vcpu::msr_write_is_plain` (implemented bits; PR, IS, DS unchanged; WE clear; with CE
//! no watchdog interrupt pending, with EE no External Input, decrementer or fixed-interval
//! interrupt pending, as the timers were last evaluated), anything else going to Rust with
//! nothing changed. The instruction's register may be any of r0..r31: it is read or written
//! through a table of one instruction per register (in the frame for r0, r1, r3..r12, in place
//! for r2, r13..r31, which Rust code has not touched).
//!
//! The return is the Program interrupt's short restore (`__hv_trap_program_return`).

use core::arch::global_asm;
use core::mem::offset_of;
use core::sync::atomic::{AtomicU32, Ordering};

use vcpu_e500::spr::{msr, tcr, tsr};
use vcpu_e500::Vcpu;

use super::spr;
use super::trap::TrapFrame;

/// The running guest's `Vcpu` while the assembly path may serve its traps: 0 while no guest
/// runs, and for a guest whose partition is above 4 GiB (its words are not mapped one to one).
#[no_mangle]
static __hv_fast_vcpu: AtomicU32 = AtomicU32::new(0);

/// Point the assembly path at `vcpu` (the guest about to run, which stays where it is until
/// the next call) or at nothing.
pub(super) fn set_vcpu(vcpu: Option<&Vcpu>) {
    let addr = vcpu
        .filter(|v| v.host_mas7() == 0)
        .map_or(0, |v| v as *const Vcpu as usize);
    // Addresses are 32 bits on this core.
    #[allow(clippy::cast_possible_truncation)]
    __hv_fast_vcpu.store(addr as u32, Ordering::Relaxed);
}

/// Where the frame starts above r1 (the ABI frame header), as `trap.rs` lays it out.
const F: usize = 8;

global_asm!(
    r#"
    # Guest rN into r3.
    .macro GET_REG n
    .if (\n == 2) || (\n >= 13)
    mr      3, \n
    .else
    lwz     3, {f_gpr} + 4 * \n(1)
    .endif
    b       __hv_fast_spr_got
    .endm

    # r3 into guest rN.
    .macro SET_REG n
    .if (\n == 2) || (\n >= 13)
    mr      \n, 3
    .else
    stw     3, {f_gpr} + 4 * \n(1)
    .endif
    b       __hv_fast_spr_done
    .endm

    .section .text.hv_fast_spr, "ax"
    .globl __hv_fast_spr
    .type __hv_fast_spr, @function
__hv_fast_spr:
    li      4, 0                        # the word, not known yet
    lwz     5, {f_esr}(1)
    andis.  5, 5, {esr_ppr_hi}
    beq     90f                         # not a privileged instruction
    lis     5, __hv_fast_vcpu@ha
    lwz     5, __hv_fast_vcpu@l(5)
    cmpwi   5, 0
    beq     90f                         # no guest, or one above 4 GiB
    lwz     6, {msr_offset}(5)
    andi.   6, 6, {msr_pr}
    bne     90f                         # the guest's user state: a reflection
    # The trapping word through the refill cache (`Vcpu::instruction_address`).
    lwz     7, {f_srr0}(1)
    rlwinm  6, 7, 24, 20, 27            # (EA >> 8) & 0xFF0: the slot's offset
    add     6, 6, 5
    addi    6, 6, {refill_offset}
    lwz     8, 0(6)                     # tag
    rlwinm  9, 7, 0, 0, 19
    xor     8, 8, 9                     # the tag's ID when the page matches
    mfspr   9, {pid0}
    cmpw    8, 9
    beq     1f
    mfspr   9, {pid1}
    cmpwi   9, 0
    beq     90f
    cmpw    8, 9
    bne     90f
1:  lwz     8, 12(6)                    # MAS3
    andi.   9, 8, {mas3_ux}
    beq     90f                         # not executable by the guest (an empty slot too)
    lwz     6, 8(6)                     # MAS2: the host page
    rlwinm  8, 8, 0, 0, 19
    rlwinm  6, 6, 0, 0, 19
    subf    6, 6, 7
    lwzx    4, 8, 6                     # the word (partitions are mapped one to one)
    lis     6, {hypercall}@h
    ori     6, 6, {hypercall}@l
    cmpw    4, 6
    beq     80f
    rlwinm  6, 4, 6, 26, 31
    cmpwi   6, 31
    bne     90f
    rlwinm  6, 4, 31, 22, 31            # extended opcode
    rlwinm  7, 4, 16, 27, 31
    rlwimi  7, 4, 26, 22, 26            # the SPR number (mfspr, mtspr)
    cmpwi   6, {xo_mfspr}
    beq     3f
    cmpwi   6, {xo_mfmsr}
    beq     4f
    cmpwi   6, {xo_wrteei}
    beq     70f
    li      9, 1                        # r9: what RS is for (1: wrtee, 2: mtmsr, 0: mtspr)
    cmpwi   6, {xo_wrtee}
    beq     71f
    li      9, 2
    cmpwi   6, {xo_mtmsr}
    beq     71f
    cmpwi   6, {xo_mtspr}
    bne     90f
    # mtspr: 1 + the slot (0: not plain; REAL_SPRG: left to Rust).
    lis     6, __hv_plain_writes@ha
    addi    6, 6, __hv_plain_writes@l
    lbzx    6, 6, 7
    addi    6, 6, -1
    cmplwi  6, {real_sprg} - 1
    bge     90f
    li      9, 0
71: rlwinm  7, 4, 14, 24, 28            # RS * 8: its GET_REG entry
    lis     8, __hv_fast_spr_get@ha
    addi    8, 8, __hv_fast_spr_get@l
    add     8, 8, 7
    mtctr   8
    bctr
__hv_fast_spr_got:                      # r3 = RS, r5 = the Vcpu, r6 = the slot (mtspr)
    cmpwi   9, 0
    bne     72f
    slwi    6, 6, 2
    lis     8, __hv_plain_write_masks@ha
    addi    8, 8, __hv_plain_write_masks@l
    lwzx    8, 8, 6
    and     3, 3, 8
    addi    6, 6, {spr_file_offset}
    stwx    3, 5, 6
    b       __hv_fast_spr_done
    # The MSR writes (`Vcpu::msr_write_is_plain`): r3 = the new MSR as written.
72: cmpwi   9, 1
    bne     __hv_fast_spr_msr           # mtmsr: RS
    lwz     6, {msr_offset}(5)          # wrtee: EE from RS
    rlwimi  6, 3, 0, 16, 16
    mr      3, 6
    b       __hv_fast_spr_msr
70: lwz     3, {msr_offset}(5)          # wrteei: EE from the word
    rlwimi  3, 4, 0, 16, 16
__hv_fast_spr_msr:
    lis     8, {msr_implemented}@h
    ori     8, 8, {msr_implemented}@l
    and     3, 3, 8
    lwz     6, {msr_offset}(5)
    xor     6, 6, 3
    andi.   6, 6, {msr_context}
    bne     90f                         # a new context: `prepare_entry`
    andis.  6, 3, {msr_we_hi}
    bne     90f                         # dozing
    andis.  6, 3, {msr_ce_hi}
    beq     61f
    lwz     9, {tsr_offset}(5)          # the watchdog, deliverable with CE
    lwz     10, {tcr_offset}(5)
    andis.  6, 9, {tsr_wis_hi}
    beq     61f
    andis.  6, 10, {tcr_wie_hi}
    bne     90f
61: andi.   6, 3, {msr_ee}
    beq     63f
    lbz     6, {external_offset}(5)     # with EE: External Input, the decrementer, the FIT
    cmpwi   6, 0
    bne     90f
    lwz     9, {tsr_offset}(5)
    lwz     10, {tcr_offset}(5)
    andis.  6, 9, {tsr_dis_hi}
    beq     62f
    andis.  6, 10, {tcr_die_hi}
    bne     90f
62: andis.  6, 9, {tsr_fis_hi}
    beq     63f
    andis.  6, 10, {tcr_fie_hi}
    bne     90f
63: stw     3, {msr_offset}(5)          # nothing deliverable: only the store
    b       __hv_fast_spr_done
    # mfspr: 1 + the slot (0: not plain).
3:  lis     6, __hv_plain_reads@ha
    addi    6, 6, __hv_plain_reads@l
    lbzx    6, 6, 7
    cmpwi   6, 0
    beq     90f
    slwi    6, 6, 2
    addi    6, 6, {spr_file_offset} - 4
    lwzx    3, 5, 6
    b       5f
4:  lwz     3, {msr_offset}(5)          # mfmsr
5:  rlwinm  7, 4, 14, 24, 28            # RT * 8: its SET_REG entry
    lis     8, __hv_fast_spr_set@ha
    addi    8, 8, __hv_fast_spr_set@l
    add     8, 8, 7
    mtctr   8
    bctr
__hv_fast_spr_done:                     # served: past the instruction
    lwz     3, {f_srr0}(1)
    addi    3, 3, 4
    stw     3, {f_srr0}(1)
    b       __hv_trap_program_return
80: addi    3, 1, {f}                   # the hypercall
    bl      __hv_trap_hypercall
    b       __hv_trap_program_status
90: b       __hv_trap_program_fast      # the rest, with the word (r4; 0: not found)

    .balign 8
__hv_fast_spr_get:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    GET_REG \n
    .endr
__hv_fast_spr_set:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    SET_REG \n
    .endr
    .size __hv_fast_spr, . - __hv_fast_spr
"#,
    f = const F,
    f_gpr = const F + offset_of!(TrapFrame, gpr),
    f_srr0 = const F + offset_of!(TrapFrame, srr0),
    f_esr = const F + offset_of!(TrapFrame, esr),
    pid0 = const spr::PID0,
    pid1 = const spr::PID1,
    esr_ppr_hi = const vcpu_e500::spr::esr::PPR >> 16,
    msr_pr = const msr::PR,
    msr_offset = const Vcpu::MSR_OFFSET,
    spr_file_offset = const Vcpu::SPR_FILE_OFFSET,
    refill_offset = const Vcpu::REFILL_OFFSET,
    mas3_ux = const vcpu_e500::spr::mas::MAS3_UX,
    hypercall = const vcpu_e500::decode::HYPERCALL_WORD,
    xo_mfspr = const 339,
    xo_mtspr = const 467,
    xo_mfmsr = const 83,
    xo_mtmsr = const 146,
    xo_wrtee = const 131,
    xo_wrteei = const 163,
    msr_implemented = const msr::IMPLEMENTED,
    msr_context = const msr::CONTEXT,
    msr_we_hi = const msr::WE >> 16,
    msr_ce_hi = const msr::CE >> 16,
    msr_ee = const msr::EE,
    tsr_wis_hi = const tsr::WIS >> 16,
    tsr_dis_hi = const tsr::DIS >> 16,
    tsr_fis_hi = const tsr::FIS >> 16,
    tcr_wie_hi = const tcr::WIE >> 16,
    tcr_die_hi = const tcr::DIE >> 16,
    tcr_fie_hi = const tcr::FIE >> 16,
    tsr_offset = const Vcpu::TSR_OFFSET,
    tcr_offset = const Vcpu::TCR_OFFSET,
    external_offset = const Vcpu::EXTERNAL_OFFSET,
    real_sprg = const super::vcpu::REAL_SPRG,
);
