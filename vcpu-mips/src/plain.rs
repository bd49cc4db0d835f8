//! CP0 registers an arch may read and write straight from the `Vcpu`'s fields, in assembly,
//! before it saves anything: those whose `mfc0` returns a field as it is, and those whose
//! `mtc0` only stores masked bits into a field, with no other effect (nothing the next
//! [`Vcpu::prepare_entry`] or the timer decides from, no TLB, no time). Executing them on the
//! fields is exactly what the general path does (checked against it by
//! `tests/assembly_rules.rs`); the assembly must still check everything [`Vcpu::fast_mfc0`] checks
//! (CE = 0, not in a delay slot, virtual kernel mode, the word read from the RAM window).
//!
//! The timer is not brought up to date on these accesses (the general path does it on every
//! CP0 access): nothing they read or write depends on it, and it is evaluated at the next trap
//! or host timer interrupt, which loses no expiry.

use crate::cp0::{
    Cp0, CAUSE_DC, CAUSE_IP7, CAUSE_STORED, CAUSE_TI, CONTEXT_PTEBASE, EBASE_WRITABLE, ST_BEV,
    ST_ERL, ST_EXL,
};
use crate::tlb::{ENTRYLO_MASK, PAGEMASK_MASK};
use crate::vcpu::Vcpu;

/// The guest's mode for Status `s`, which decides the real mode and the host ASID's space:
/// 0 (kernel) when EXL or ERL is set, else KSU (0 kernel, 8 supervisor, 0x10 user, 0x18 the
/// reserved value, which runs as user).
const fn mode_class(s: u32) -> u32 {
    if s & (ST_EXL | ST_ERL) != 0 {
        0
    } else {
        s & 0x18
    }
}

/// Entries of the tables: one per (rd, sel), indexed `rd << 3 | sel`.
pub const PLAIN_REGISTER_SLOTS: usize = 256;

/// How `mtc0` writes a plain register: `field = (field & keep) | (value & mask)` at byte
/// `offset` of the `Vcpu` (0: not a plain register), the result also stored at byte `page`
/// of the commpage (`dyntrans`). 12 bytes, laid out for assembly.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlainWrite {
    /// Byte offset of the field in `Vcpu`; 0 for a register that is not written this way.
    pub offset: u16,
    /// Byte offset of the register's word in the commpage (`4 * (rd << 3 | sel)`).
    pub page: u16,
    /// The field's bits the write keeps.
    pub keep: u32,
    /// The value's bits the write stores.
    pub mask: u32,
}

const NO_WRITE: PlainWrite = PlainWrite {
    offset: 0,
    page: 0,
    keep: 0,
    mask: 0,
};

/// (rd, sel, offset in `Cp0`) of the registers `mfc0` reads straight from a field.
const PLAIN_READS: [(u32, u32, usize); 14] = [
    (0, 0, core::mem::offset_of!(Cp0, index)),
    (2, 0, core::mem::offset_of!(Cp0, entry_lo0)),
    (3, 0, core::mem::offset_of!(Cp0, entry_lo1)),
    (4, 0, core::mem::offset_of!(Cp0, context)),
    (5, 0, core::mem::offset_of!(Cp0, page_mask)),
    (7, 0, core::mem::offset_of!(Cp0, hwrena)),
    (8, 0, core::mem::offset_of!(Cp0, bad_vaddr)),
    (10, 0, core::mem::offset_of!(Cp0, entry_hi)),
    (12, 0, core::mem::offset_of!(Cp0, status)),
    (14, 0, core::mem::offset_of!(Cp0, epc)),
    (28, 0, core::mem::offset_of!(Cp0, tag_lo)),
    (28, 1, core::mem::offset_of!(Cp0, data_lo)),
    (30, 0, core::mem::offset_of!(Cp0, error_epc)),
    (31, 0, core::mem::offset_of!(Cp0, desave)),
];

/// (rd, sel, offset in `Cp0`, keep, mask) of the registers `mtc0` writes by masking alone.
/// (Not Index, whose mask depends on the TLB size, nor HWREna, which `prepare_entry` copies
/// to the real register, nor anything with an effect.)
const PLAIN_WRITES: [(u32, u32, usize, u32, u32); 9] = [
    (2, 0, core::mem::offset_of!(Cp0, entry_lo0), 0, ENTRYLO_MASK),
    (3, 0, core::mem::offset_of!(Cp0, entry_lo1), 0, ENTRYLO_MASK),
    (
        4,
        0,
        core::mem::offset_of!(Cp0, context),
        !CONTEXT_PTEBASE,
        CONTEXT_PTEBASE,
    ),
    (
        5,
        0,
        core::mem::offset_of!(Cp0, page_mask),
        0,
        PAGEMASK_MASK,
    ),
    (14, 0, core::mem::offset_of!(Cp0, epc), 0, u32::MAX),
    (28, 0, core::mem::offset_of!(Cp0, tag_lo), 0, u32::MAX),
    (28, 1, core::mem::offset_of!(Cp0, data_lo), 0, u32::MAX),
    (30, 0, core::mem::offset_of!(Cp0, error_epc), 0, u32::MAX),
    (31, 0, core::mem::offset_of!(Cp0, desave), 0, u32::MAX),
];

impl Vcpu {
    /// For each CP0 register (index `rd << 3 | sel`) whose `mfc0` value is a field read as it
    /// is, the field's byte offset in `Vcpu`; 0 for every other register.
    pub const fn plain_register_offsets() -> [u16; PLAIN_REGISTER_SLOTS] {
        let mut t = [0u16; PLAIN_REGISTER_SLOTS];
        let cp0 = core::mem::offset_of!(Vcpu, cp0);
        let mut k = 0;
        while k < PLAIN_READS.len() {
            let (rd, sel, field) = PLAIN_READS[k];
            t[(rd << 3 | sel) as usize] = (cp0 + field) as u16;
            k += 1;
        }
        t
    }

    /// For each CP0 register (index `rd << 3 | sel`), how `mtc0` writes it if it only masks
    /// bits into a field ([`PlainWrite`]; offset 0 for every other register).
    pub const fn plain_register_writes() -> [PlainWrite; PLAIN_REGISTER_SLOTS] {
        let mut t = [NO_WRITE; PLAIN_REGISTER_SLOTS];
        let cp0 = core::mem::offset_of!(Vcpu, cp0);
        let mut k = 0;
        while k < PLAIN_WRITES.len() {
            let (rd, sel, field, keep, mask) = PLAIN_WRITES[k];
            t[(rd << 3 | sel) as usize] = PlainWrite {
                offset: (cp0 + field) as u16,
                page: (4 * (rd << 3 | sel)) as u16,
                keep,
                mask,
            };
            k += 1;
        }
        t
    }

    /// The word at byte `offset` of the `Vcpu`, for an offset the tables give (what the
    /// assembly loads); `None` for any other offset.
    pub fn plain_register_at(&self, offset: u16) -> Option<u32> {
        let field = usize::from(offset).checked_sub(core::mem::offset_of!(Vcpu, cp0))?;
        let c = &self.cp0;
        PLAIN_READS
            .iter()
            .find(|r| r.2 == field)
            .map(|&(rd, sel, _)| match (rd, sel) {
                (0, 0) => c.index,
                (2, 0) => c.entry_lo0,
                (3, 0) => c.entry_lo1,
                (4, 0) => c.context,
                (5, 0) => c.page_mask,
                (7, 0) => c.hwrena,
                (8, 0) => c.bad_vaddr,
                (10, 0) => c.entry_hi,
                (12, 0) => c.status,
                (14, 0) => c.epc,
                (28, 0) => c.tag_lo,
                (28, 1) => c.data_lo,
                (30, 0) => c.error_epc,
                _ => c.desave,
            })
    }

    /// Store `value` at byte `offset` of the `Vcpu`, for an offset [`Vcpu::plain_register_writes`]
    /// gives (what the assembly stores); false for any other offset.
    pub fn set_plain_register_at(&mut self, offset: u16, value: u32) -> bool {
        let Some(field) = usize::from(offset).checked_sub(core::mem::offset_of!(Vcpu, cp0)) else {
            return false;
        };
        let c = &mut self.cp0;
        let Some(&(rd, sel, ..)) = PLAIN_WRITES.iter().find(|w| w.2 == field) else {
            return false;
        };
        let slot = match (rd, sel) {
            (2, 0) => &mut c.entry_lo0,
            (3, 0) => &mut c.entry_lo1,
            (4, 0) => &mut c.context,
            (5, 0) => &mut c.page_mask,
            (14, 0) => &mut c.epc,
            (28, 0) => &mut c.tag_lo,
            (28, 1) => &mut c.data_lo,
            (30, 0) => &mut c.error_epc,
            _ => &mut c.desave,
        };
        *slot = value;
        true
    }

    /// Byte offset in `Vcpu` of the virtual Status (the assembly checks virtual kernel mode).
    pub const STATUS_OFFSET: usize =
        core::mem::offset_of!(Vcpu, cp0) + core::mem::offset_of!(Cp0, status);

    /// Byte offset in `Vcpu` of the virtual EPC (where an `eret` goes).
    pub const EPC_OFFSET: usize =
        core::mem::offset_of!(Vcpu, cp0) + core::mem::offset_of!(Cp0, epc);

    /// Byte offset in `Vcpu` of EBase (where the exception vectors are).
    pub const EBASE_OFFSET: usize =
        core::mem::offset_of!(Vcpu, cp0) + core::mem::offset_of!(Cp0, ebase);

    /// Byte offset in `Vcpu` of the stored Cause bits (IP1/IP0 among them).
    pub const CAUSE_OFFSET: usize =
        core::mem::offset_of!(Vcpu, cp0) + core::mem::offset_of!(Cp0, cause);

    /// Byte offset in `Vcpu` of the timer's DC flag (one byte, 0 or 1): Count stopped.
    pub const TIMER_STOPPED_OFFSET: usize = core::mem::offset_of!(Vcpu, cp0)
        + core::mem::offset_of!(Cp0, timer)
        + crate::timer::VirtualTimer::STOPPED_OFFSET;

    /// `mfc0 Cause` as the assembly composes it from the fields, without evaluating the timer:
    /// the stored bits (`CAUSE_STORED`), TI and IP7 when the timer's TI flag is set, DC when
    /// Count is stopped. Equal to what the general path reads when the timer was evaluated at
    /// the time of the read; a TI raised since the last evaluation shows at the next trap or
    /// host timer interrupt (programmed for that moment), a few instructions later.
    pub fn cause_as_evaluated(&self) -> u32 {
        let c = &self.cp0;
        let mut v = c.cause & CAUSE_STORED;
        if c.timer.pending() {
            v |= CAUSE_TI | CAUSE_IP7;
        }
        if c.timer.frozen() {
            v |= CAUSE_DC;
        }
        v
    }

    /// Byte offset in `Vcpu` of the timer's TI flag (one byte, 0 or 1): Cause.IP7 as the timer
    /// last evaluated it.
    pub const TIMER_PENDING_OFFSET: usize = core::mem::offset_of!(Vcpu, cp0)
        + core::mem::offset_of!(Cp0, timer)
        + crate::timer::VirtualTimer::PENDING_OFFSET;

    /// Whether a Status write from `old` to `new` (virtual kernel mode, `new` already masked
    /// as `mtc0` masks it), or a `di`/`ei`, needs nothing of [`Vcpu::prepare_entry`]: the
    /// virtual mode (kernel when EXL or ERL is set, else KSU), and with it the real mode and
    /// the host ASID, and ERL stay as they were, and with `new` no interrupt is deliverable from the stored Cause lines (IP0, IP1)
    /// and the timer's TI as last evaluated. An interrupt the timer raised since then is
    /// delivered by the host timer interrupt programmed for that moment. The assembly path
    /// computes exactly this; [`Vcpu::fast_trap`] decides the same after bringing the timer up
    /// to date (checked against `prepare_entry` by `tests/assembly_rules.rs`).
    pub fn status_write_is_plain(&self, old: u32, new: u32) -> bool {
        mode_class(old) == mode_class(new)
            && (old ^ new) & ST_ERL == 0
            && !self.deliverable_with(new)
    }

    /// Whether an `eret` now (virtual kernel mode, not in a delay slot) needs nothing of
    /// [`Vcpu::prepare_entry`] but the real mode and the host ASID, which the assembly sets
    /// itself (user mode exactly when the new Status has KSU's high bit set and EXL = ERL = 0;
    /// the kernel-mode host ASID of [`Vcpu::mode_asids`] when the new KSU is 0, else the
    /// user-mode one): ERL is clear (so the `eret` clears only EXL and the guest ASID stays)
    /// and with EXL cleared no interrupt is deliverable from the stored Cause lines and the
    /// timer's TI as last evaluated.
    pub fn eret_is_plain(&self) -> bool {
        let s = self.cp0.status;
        s & ST_ERL == 0 && !self.deliverable_with(s & !ST_EXL)
    }

    /// Where a `syscall` the guest executed (not in a delay slot) is reflected, if reflecting
    /// it needs nothing but the fields and the real mode: Status.BEV clear and the general
    /// vector (0xC000_0000 + EBase's base + 0x180) inside the RAM window. Reflecting it then
    /// sets EXL, and when EXL was clear EPC (the `syscall`) and Cause.BD = 0, and Cause.ExcCode 8
    /// with CE 0; with EXL set no interrupt is deliverable, the host ASID becomes the
    /// kernel-mode one of [`Vcpu::mode_asids`] (unless ERL is set: then it stays) and the real
    /// mode supervisor (what `prepare_entry` decides; checked against the
    /// general path by `tests/assembly_rules.rs`). `None`: the general path (which halts the guest).
    pub fn syscall_vector(&self) -> Option<u32> {
        if self.cp0.status & ST_BEV != 0 {
            return None;
        }
        let offset = (self.cp0.ebase & EBASE_WRITABLE) + 0x180;
        (offset < self.config.partition.size()).then_some(0xC000_0000 + offset)
    }

    /// Whether, with Status `s`, an interrupt would be taken from the stored Cause lines (IP0,
    /// IP1) and the timer's TI as last evaluated: IE = 1, EXL = ERL = 0, a line enabled in IM.
    fn deliverable_with(&self, s: u32) -> bool {
        let lines = (self.cp0.cause >> 8) & 3 | if self.cp0.timer.pending() { 0x80 } else { 0 };
        s & 7 == 1 && lines & (s >> 8) & 0xFF != 0
    }
}
