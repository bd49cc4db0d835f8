//! The fast path of a guest's Program interrupt: the hypercall and the privileged instructions
//! a guest kernel executes all the time, served with part of the registers saved.
//!
//! The Program-interrupt entry (`__hv_trap_program` in `trap.rs`) saves only what the Rust
//! calling convention does not preserve ([`FAST_GPRS`], CR, LR, CTR, XER, SRR0, SRR1, ESR), and
//! the assembly path (`fast_spr.rs`) finds the trapping word of a privileged-instruction
//! interrupt through the refill cache and serves the plain `mfspr`/`mtspr`/`mfmsr` itself. It
//! hands the hypercall to [`__hv_trap_hypercall`] (served through guest management) and
//! everything else to [`__hv_trap_fast`] with the word (or 0 when the refill cache did not have
//! it: then it is read where the guest fetched it, [`vcpu_e500::Vcpu::fetch_address`]: the
//! guest's TLB, then recorded in the cache), which serves, in this order:
//!
//! - the hypercall ([`vcpu_e500::Vcpu::fast_hypercall`]), served through guest management;
//! - the plain instructions, by the rules of the model's assembly path (`vcpu_e500::plain`,
//!   checked against the general path by `vcpu-e500/tests/assembly_rules.rs`): `mfspr` of an
//!   SPR whose value is a field, `mtspr` that stores masked bits, `mfmsr`, `mtmsr`/`wrtee`/
//!   `wrteei` that change neither the context nor make an interrupt deliverable, and `rfi`
//!   whose new context's shadow IDs are in the table; each in the guest's supervisor state;
//! - what the rules refuse, by the model's own fast path ([`Vcpu::fast_trap`]: the timer
//!   SPRs, `tlbwe`/`tlbre`/`tlbsx`/`tlbivax`/`tlbsync`, `dcbi`, `mtpmr`, the other returns from
//!   interrupt), checked against the general path by `vcpu-e500/tests/fast_path.rs`; when it
//!   asks for `prepare_entry` (a context change, a retired shadow ID, an interrupt now
//!   deliverable, a timer write) the general return path runs.
//!
//! What names a register outside [`FAST_GPRS`] is tried again once every register is saved
//! ([`FAST_NEEDS_ALL`]); everything else (what the model declines: guest user state, an
//! instruction that ends in an exception, an MSR write that dozes) takes the general path
//! ([`super::trap`]), nothing changed.

use core::sync::atomic::Ordering;

use vcpu_e500::plain::{PlainWrite, SPR_NUMBERS};
use vcpu_e500::spr::msr;
use vcpu_e500::sprs::slot;
use vcpu_e500::{Fast, GuestMemory, Hypercall, Vcpu};

use super::super::tlb;
use super::super::trap::TrapFrame;
use super::{context_of, finish, guest_regs, HostView, RunContext, CURRENT, PIDS};

/// GPRs the Program-interrupt entry saves (and restores) before the fast path: r0, r1 and
/// r3..r12; r2 and r13..r31 stay the guest's, which Rust code preserves or never touches.
const FAST_GPRS: u32 = 0x1FFB;

/// What [`__hv_trap_fast`] tells the Program-interrupt entry (`trap.rs`).
pub(in super::super) const FAST_DONE: u32 = 0;
const FAST_DONE_LOOK: u32 = 1;
const FAST_DECLINED: u32 = 2;
const FAST_NEEDS_ALL: u32 = 3;

/// For each SPR number, 1 + the SPR-file slot a plain `mfspr` returns (0: not plain): the
/// model's `plain_read_offsets`, a byte each.
#[export_name = "__hv_plain_reads"]
static PLAIN_READS: [u8; SPR_NUMBERS] = read_slots();
/// For each SPR number, 1 + the slot a plain `mtspr` stores (0: not plain), with
/// [`REAL_SPRG`] when it also writes a real SPRG: the model's `plain_writes`, a byte each.
#[export_name = "__hv_plain_writes"]
static PLAIN_WRITES: [u8; SPR_NUMBERS] = write_slots().0;
/// The bits a plain `mtspr` stores, by slot.
#[export_name = "__hv_plain_write_masks"]
static PLAIN_WRITE_MASKS: [u32; slot::COUNT] = write_slots().1;
/// In [`PLAIN_WRITES`]: the SPR is one of SPRG3..7.
pub(in super::super) const REAL_SPRG: u8 = 0x80;

/// The slot of the model's byte `offset` into its SPR file.
const fn slot_of(offset: u16) -> usize {
    (offset as usize - Vcpu::SPR_FILE_OFFSET) / 4
}

/// The byte offset of SPR-file slot `slot` (what the model's accessors take).
#[allow(clippy::cast_possible_truncation)]
const fn offset_of_slot(slot: usize) -> u16 {
    (Vcpu::SPR_FILE_OFFSET + 4 * slot) as u16
}

#[allow(clippy::cast_possible_truncation)]
const fn read_slots() -> [u8; SPR_NUMBERS] {
    let offsets = Vcpu::plain_read_offsets();
    let mut t = [0u8; SPR_NUMBERS];
    let mut n = 0;
    while n < SPR_NUMBERS {
        if offsets[n] != 0 {
            t[n] = slot_of(offsets[n]) as u8 + 1;
        }
        n += 1;
    }
    t
}

#[allow(clippy::cast_possible_truncation)]
const fn write_slots() -> ([u8; SPR_NUMBERS], [u32; slot::COUNT]) {
    let writes: [PlainWrite; SPR_NUMBERS] = Vcpu::plain_writes();
    let mut t = [0u8; SPR_NUMBERS];
    let mut masks = [0u32; slot::COUNT];
    let mut n = 0;
    while n < SPR_NUMBERS {
        let w = writes[n];
        if w.offset != 0 {
            let s = slot_of(w.offset);
            assert!(s < 0x7F, "slot numbers fit 7 bits");
            assert!(masks[s] == 0 || masks[s] == w.mask, "one mask per slot");
            masks[s] = w.mask;
            t[n] = (s as u8 + 1) | if w.real_sprg { REAL_SPRG } else { 0 };
        }
        n += 1;
    }
    (t, masks)
}

/// Fast path for a Program interrupt the running guest took, called by its entry with only
/// [`FAST_GPRS`], CR, LR, CTR, XER, SRR0, SRR1 and ESR saved, and `word`, the trapping word the
/// assembly path (`fast_spr.rs`) found through the refill cache (0: not found there). Returns
/// `FAST_DONE` (return straight into the guest), `FAST_DONE_LOOK` (done, but the general return
/// path must run: SPRG3..7 changed, a hypercall wants attention), `FAST_NEEDS_ALL` (the
/// instruction names a register outside `FAST_GPRS`: try again with all saved) or
/// `FAST_DECLINED` (nothing changed: take the general path).
#[no_mangle]
extern "C" fn __hv_trap_fast(frame: &mut TrapFrame, word: u32) -> u32 {
    fast(frame, FAST_GPRS, (word != 0).then_some(word))
}

/// The hypercall, which the assembly path (`fast_spr.rs`) found at SRR0 in the guest's
/// supervisor state (the model's `Vcpu::fast_hypercall` rule), with the same registers saved
/// as for [`__hv_trap_fast`]: served through guest management, past the instruction. Returns
/// `FAST_DONE` or `FAST_DONE_LOOK` (`FAST_DECLINED` if no guest runs, which cannot happen).
#[no_mangle]
extern "C" fn __hv_trap_hypercall(frame: &mut TrapFrame) -> u32 {
    let raw = CURRENT.load(Ordering::Relaxed);
    if raw == 0 {
        // The assembly path runs only while a guest does; the general path says otherwise.
        return FAST_DECLINED;
    }
    frame.srr0 = frame.srr0.wrapping_add(4);
    fast_hypercall(context_of(raw), frame, frame.gpr[0])
}

/// After [`__hv_trap_fast`] returned `status` other than `FAST_DONE`, with all registers
/// saved now: the fast path again with every register, the general return path, or the
/// general path.
#[no_mangle]
extern "C" fn __hv_after_fast(frame: &mut TrapFrame, status: u32) {
    let status = match status {
        FAST_NEEDS_ALL => fast(frame, u32::MAX, None),
        other => other,
    };
    match status {
        FAST_DONE => {}
        FAST_DONE_LOOK => finish(frame, CURRENT.load(Ordering::Relaxed)),
        _ => super::trap(frame),
    }
}

/// The fast path with the registers in `usable_gprs` in the frame, and the trapping word if it
/// is known.
#[inline(always)]
fn fast(frame: &mut TrapFrame, usable_gprs: u32, word: Option<u32>) -> u32 {
    let raw = CURRENT.load(Ordering::Relaxed);
    if raw == 0 || frame.esr & vcpu_e500::spr::esr::PPR == 0 {
        return FAST_DECLINED;
    }
    let ctx = context_of(raw);
    let vcpu = &mut ctx.cpu.vcpu;
    let word = match word {
        Some(word) => word,
        None => match vcpu.instruction_address(frame.srr0) {
            Some(addr) => HostView.read_word(addr),
            None => match vcpu.fetch_address(frame.srr0, &PIDS.lock()) {
                Some(addr) => HostView.read_word(addr),
                None => return FAST_DECLINED,
            },
        },
    };
    if let Some(Hypercall { nr, .. }) = vcpu.fast_hypercall(guest_regs(frame), word) {
        return fast_hypercall(ctx, frame, nr);
    }
    // The RT/RS field (r0 for the instructions without one): the fast path would decline
    // what uses a register it was not given.
    if usable_gprs & 1 << (word >> 21 & 31) == 0 {
        return FAST_NEEDS_ALL;
    }
    if !vcpu.supervisor() {
        return FAST_DECLINED;
    }
    if let Some(status) = plain(ctx, frame, word) {
        return status;
    }
    model(ctx, frame, word, usable_gprs)
}

/// The rest of the privileged instructions the model's fast path serves (timer SPRs, the TLB
/// instructions, `dcbi`, `mtpmr`...), carried out as the general path would; what it declines
/// with a register outside `usable_gprs` in the instruction is tried again with all saved.
#[inline(always)]
fn model(ctx: &mut RunContext, frame: &mut TrapFrame, word: u32, usable_gprs: u32) -> u32 {
    let vcpu = &mut ctx.cpu.vcpu;
    let now = super::super::counter();
    let fast = {
        let pids = PIDS.lock();
        vcpu.fast_trap(guest_regs(frame), word, now, usable_gprs, &pids)
    };
    match fast {
        Fast::Done => FAST_DONE,
        // `resume` (through the general return path) calls `prepare_entry` and programs the
        // timer from the guest's next event.
        Fast::Reenter { .. } => FAST_DONE_LOOK,
        Fast::InvalidateHost { reenter } => {
            vcpu.host_invalidation().for_each_probe(tlb::invalidate);
            if reenter {
                FAST_DONE_LOOK
            } else {
                FAST_DONE
            }
        }
        Fast::Cache(action) => {
            super::cache_action(action);
            FAST_DONE
        }
        Fast::FlushBranchBuffer => {
            super::flush_branch_buffer();
            FAST_DONE
        }
        // Served above, before the plain instructions.
        Fast::Hypercall(_) => FAST_DECLINED,
        Fast::Declined if usable_gprs != u32::MAX && names_unsaved(word, usable_gprs) => {
            FAST_NEEDS_ALL
        }
        Fast::Declined => FAST_DECLINED,
    }
}

/// Whether one of the register fields of `word` (RT/RS, RA, RB) names a register outside
/// `usable_gprs` (for instructions without some of them the field is another operand, which
/// at worst costs a second round).
fn names_unsaved(word: u32, usable_gprs: u32) -> bool {
    [word >> 21, word >> 16, word >> 11]
        .iter()
        .any(|field| usable_gprs & 1 << (field & 31) == 0)
}

/// Primary opcode 31 and 19 extended opcodes of the plain instructions.
const OP_X: u32 = 31;
const OP_XL: u32 = 19;
const XO_MFSPR: u32 = 339;
const XO_MTSPR: u32 = 467;
const XO_MFMSR: u32 = 83;
const XO_MTMSR: u32 = 146;
const XO_WRTEE: u32 = 131;
const XO_WRTEEI: u32 = 163;
const XO_RFI: u32 = 50;

/// The instructions the model's assembly-path rules allow, in the guest's supervisor state
/// (the caller checked it, and that rt/rs is saved); `None` when `word` is not one or the rule
/// does not hold (nothing changed).
#[inline(always)]
fn plain(ctx: &mut RunContext, frame: &mut TrapFrame, word: u32) -> Option<u32> {
    let vcpu = &mut ctx.cpu.vcpu;
    let r = (word >> 21 & 31) as usize;
    let xo = word >> 1 & 0x3FF;
    match (word >> 26, xo) {
        (OP_X, XO_MFSPR) => {
            let slot = usize::from(PLAIN_READS[spr_number(word) as usize]).checked_sub(1)?;
            frame.gpr[r] = vcpu.plain_word_at(offset_of_slot(slot))?;
        }
        (OP_X, XO_MTSPR) => {
            let w = PLAIN_WRITES[spr_number(word) as usize];
            let slot = usize::from(w & !REAL_SPRG).checked_sub(1)?;
            let value = frame.gpr[r] & PLAIN_WRITE_MASKS[slot];
            if !vcpu.set_plain_word_at(offset_of_slot(slot), value) {
                return None;
            }
            if w & REAL_SPRG != 0 {
                // SPRG3..7: `resume` writes the real registers the guest reads natively.
                frame.srr0 = frame.srr0.wrapping_add(4);
                return Some(FAST_DONE_LOOK);
            }
        }
        (OP_X, XO_MFMSR) => frame.gpr[r] = vcpu.msr(),
        (OP_X, XO_MTMSR) => {
            if !vcpu.write_msr_plain(frame.gpr[r]) {
                return None;
            }
        }
        (OP_X, XO_WRTEE | XO_WRTEEI) => {
            let ee = if xo == XO_WRTEE { frame.gpr[r] } else { word } & msr::EE;
            if !vcpu.write_msr_plain(vcpu.msr() & !msr::EE | ee) {
                return None;
            }
        }
        (OP_XL, XO_RFI) => {
            let entry = vcpu.rfi_plain(&PIDS.lock())?;
            vcpu.enter_plain(guest_regs(frame), &entry);
            let [pid0, pid1] = entry.pids;
            tlb::set_pids(pid0, pid1);
            return Some(FAST_DONE);
        }
        _ => return None,
    }
    frame.srr0 = frame.srr0.wrapping_add(4);
    Some(FAST_DONE)
}

/// The SPR number of an `mfspr`/`mtspr` (its two 5-bit halves swapped in the word).
fn spr_number(word: u32) -> u32 {
    (word >> 16 & 0x1F) | (word >> 6 & 0x3E0)
}

/// Serve hypercall `nr`, which the fast path recognised (the PC is already past it).
fn fast_hypercall(ctx: &mut RunContext, frame: &mut TrapFrame, nr: u32) -> u32 {
    let attention = super::serve_hypercall(ctx, frame, nr);
    if attention {
        FAST_DONE_LOOK
    } else {
        FAST_DONE
    }
}
