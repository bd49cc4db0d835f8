//! What an arch may do in assembly, from the `Vcpu`'s fields, before it saves anything: the
//! traps whose effect is a load or a masked store of a field, and the MSR changes and
//! reflections that need nothing of [`Vcpu::prepare_entry`] but a table lookup of the new
//! context's shadow IDs. Each rule is stated on the fields (byte offsets given here), and
//! checked against the general path by `tests/assembly_rules.rs`. The assembly must still check
//! what [`Vcpu::fast_trap`] checks: guest supervisor state (MSR\[PR\] = 0), and a word read where
//! the guest fetched it ([`Vcpu::instruction_address`]).
//!
//! The timers are not brought up to date on these traps (the general path evaluates them on
//! every timer access and entry): the rules are stated on the pending state as last evaluated,
//! and an interrupt a timer raised since then is delivered at the next trap or at the host
//! timer interrupt programmed for that moment ([`Vcpu::timer_deadline`]), a few instructions
//! later.

use crate::exception::{Class, Interrupt};
use crate::sid::{GuestSids, HostPidAllocator};
use crate::spr::msr;
use crate::sprs::{slot, spr_kind, SprFile, SprKind};
use crate::timer::Timers;
use crate::vcpu::Vcpu;

/// Number of SPR numbers (the tables' length).
pub const SPR_NUMBERS: usize = 1024;

/// How `mtspr` writes an SPR in assembly: `field = value & mask` at byte `offset` of the
/// `Vcpu`; `real_sprg` also writes the real SPR (SPRG3..7, which the guest reads natively
/// through their user-level numbers). Offset 0: not plain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlainWrite {
    /// Byte offset of the field in `Vcpu` (0: not plain).
    pub offset: u16,
    /// Bits stored.
    pub mask: u32,
    /// Also write the real register.
    pub real_sprg: bool,
}

const NO_WRITE: PlainWrite = PlainWrite {
    offset: 0,
    mask: 0,
    real_sprg: false,
};

/// The result of a plain MSR change or reflection: where the guest continues and with which
/// real PIDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlainEntry {
    /// The new PC.
    pub pc: u32,
    /// The new virtual MSR.
    pub msr: u32,
    /// Real PID0 and PID1 to set (also stored in the `Vcpu` at [`Vcpu::ENTERED_OFFSET`]).
    pub pids: [u8; 2],
}

const fn slot_offset(slot: usize) -> u16 {
    (core::mem::offset_of!(Vcpu, sprs) + SprFile::SLOTS_OFFSET + 4 * slot) as u16
}

impl Vcpu {
    /// Byte offset of the virtual MSR.
    pub const MSR_OFFSET: usize = slot_offset(slot::MSR) as usize;
    /// Byte offset of the register file (slot n at `SPR_FILE_OFFSET + 4 * n`, see
    /// [`crate::sprs::slot`]).
    pub const SPR_FILE_OFFSET: usize = slot_offset(0) as usize;
    /// Byte offset of TCR (word).
    pub const TCR_OFFSET: usize = core::mem::offset_of!(Vcpu, timers) + Timers::TCR_OFFSET;
    /// Byte offset of TSR as last evaluated (word).
    pub const TSR_OFFSET: usize = core::mem::offset_of!(Vcpu, timers) + Timers::TSR_OFFSET;
    /// Byte offset of the External Input level (one byte, 0 or 1).
    pub const EXTERNAL_OFFSET: usize = core::mem::offset_of!(Vcpu, external);
    /// Byte offset of the real PID0 and PID1 the guest runs with (two bytes).
    pub const ENTERED_OFFSET: usize = core::mem::offset_of!(Vcpu, entered);
    /// Byte offset of the shadow-ID generation of the guest's map (word; compare with
    /// [`HostPidAllocator::GENERATION_OFFSET`] of the allocator).
    pub const SID_GENERATION_OFFSET: usize =
        core::mem::offset_of!(Vcpu, sids) + GuestSids::GENERATION_OFFSET;
    /// Byte offset of the common contexts' shadow IDs (bytes, by `AS << 9 | PR << 8 | PID0`).
    pub const SID_TABLE_OFFSET: usize = core::mem::offset_of!(Vcpu, sids) + GuestSids::TABLE_OFFSET;
    /// Byte offset of the global pages' shadow IDs (bytes, by `AS << 1 | PR`).
    pub const SID_GLOBALS_OFFSET: usize =
        core::mem::offset_of!(Vcpu, sids) + GuestSids::GLOBALS_OFFSET;
    /// Byte offset of the refill cache.
    pub const REFILL_OFFSET: usize = core::mem::offset_of!(Vcpu, refill);

    /// For each SPR number, the byte offset of the word `mfspr` returns as it is, or 0.
    pub const fn plain_read_offsets() -> [u16; SPR_NUMBERS] {
        let mut t = [0u16; SPR_NUMBERS];
        let mut n = 0;
        while n < SPR_NUMBERS {
            t[n] = match spr_kind(n as u16) {
                SprKind::Plain { slot, .. }
                | SprKind::UserReadableSprg { slot }
                | SprKind::WriteOneToClear { slot }
                | SprKind::ReadOnly { slot }
                | SprKind::Pid { slot } => slot_offset(slot),
                SprKind::Bucsr => slot_offset(slot::BUCSR),
                _ => 0,
            };
            n += 1;
        }
        t
    }

    /// For each SPR number, how `mtspr` writes it when it only stores masked bits.
    pub const fn plain_writes() -> [PlainWrite; SPR_NUMBERS] {
        let mut t = [NO_WRITE; SPR_NUMBERS];
        let mut n = 0;
        while n < SPR_NUMBERS {
            t[n] = match spr_kind(n as u16) {
                SprKind::Plain { slot, mask } => PlainWrite {
                    offset: slot_offset(slot),
                    mask,
                    real_sprg: false,
                },
                SprKind::UserReadableSprg { slot } => PlainWrite {
                    offset: slot_offset(slot),
                    mask: u32::MAX,
                    real_sprg: true,
                },
                _ => NO_WRITE,
            };
            n += 1;
        }
        t
    }

    /// The word at byte `offset` of the `Vcpu` for an offset the tables give (what the
    /// assembly loads); `None` for any other offset.
    pub fn plain_word_at(&self, offset: u16) -> Option<u32> {
        let slot = Self::slot_at(offset)?;
        Some(self.sprs.get(slot))
    }

    /// Store `value` at byte `offset` for an offset [`Vcpu::plain_writes`] gives (what the
    /// assembly stores); false for any other offset.
    pub fn set_plain_word_at(&mut self, offset: u16, value: u32) -> bool {
        match Self::slot_at(offset) {
            Some(slot) if slot != slot::MSR => {
                self.sprs.set(slot, value);
                true
            }
            _ => false,
        }
    }

    fn slot_at(offset: u16) -> Option<usize> {
        let rel = usize::from(offset).checked_sub(Self::SPR_FILE_OFFSET)?;
        (rel % 4 == 0 && rel / 4 < slot::COUNT).then_some(rel / 4)
    }

    /// Whether, with virtual MSR `m`, an interrupt would be taken from the pending state as
    /// last evaluated: the watchdog (TSR\[WIS\], TCR\[WIE\], MSR\[CE\]), or with MSR\[EE\] the
    /// External Input level, the fixed-interval timer (FIS, FIE) or the decrementer (DIS, DIE).
    pub fn deliverable_with(&self, m: u32) -> bool {
        (m & msr::CE != 0 && self.timers.watchdog_pending())
            || (m & msr::EE != 0 && (self.external || self.timers.base_pending()))
    }

    /// Whether setting the MSR to `new` (`mtmsr`, `wrtee`, `wrteei`; `new` as written) needs
    /// nothing but the store: the context bits (PR, IS, DS) unchanged, WE clear, and no
    /// interrupt deliverable with it.
    pub fn msr_write_is_plain(&self, new: u32) -> bool {
        let new = new & msr::IMPLEMENTED;
        (self.sprs.msr() ^ new) & msr::CONTEXT == 0
            && new & msr::WE == 0
            && !self.deliverable_with(new)
    }

    /// The virtual MSR (what `mfmsr` returns).
    pub fn msr(&self) -> u32 {
        self.sprs.msr()
    }

    /// Store an MSR write [`Vcpu::msr_write_is_plain`] allows (implemented bits); false, and
    /// nothing changed, for any other.
    pub fn write_msr_plain(&mut self, new: u32) -> bool {
        if !self.msr_write_is_plain(new) {
            return false;
        }
        self.sprs.set(slot::MSR, new & msr::IMPLEMENTED);
        true
    }

    /// Carry out a plain entry ([`Vcpu::rfi_plain`], [`Vcpu::reflection_plain`]): the new MSR,
    /// the real PIDs as entered, the PC. The arch puts `e.pids` in the real PID0/PID1.
    pub fn enter_plain(&mut self, regs: &mut crate::interface::GuestRegs, e: &PlainEntry) {
        self.sprs.set(slot::MSR, e.msr);
        self.entered = e.pids;
        regs.pc = e.pc;
    }

    /// The real PIDs of the context the guest would be in with virtual MSR `m` (its PIDs
    /// unchanged), by table lookup: a common context (IS = DS, PID1 = PID2 = 0) whose own and
    /// global shadow IDs are assigned in the allocator's current generation.
    pub fn table_pids(&self, m: u32, pids: &HostPidAllocator) -> Option<[u8; 2]> {
        let p = self.sprs.pids();
        let is = m & msr::IS != 0;
        if is != (m & msr::DS != 0) || p[1] != 0 || p[2] != 0 {
            return None;
        }
        let pr = m & msr::PR != 0;
        let ctx = crate::sid::Context {
            is,
            ds: is,
            pr,
            pids: p,
        };
        let own = self.sids.current(&ctx, pids)?;
        let global = self.sids.current_global(&ctx, pids)?;
        Some([own, global])
    }

    /// `rfi` in assembly: MSR = SRR1 (implemented bits), PC = SRR0 & !3, when WE is clear, no
    /// interrupt is deliverable with the new MSR, and the new context's PIDs come from the
    /// table ([`Vcpu::table_pids`]). The assembly stores the MSR and the PIDs.
    pub fn rfi_plain(&self, pids: &HostPidAllocator) -> Option<PlainEntry> {
        let new = self.sprs.get(slot::SRR1) & msr::IMPLEMENTED;
        if new & msr::WE != 0 || self.deliverable_with(new) {
            return None;
        }
        Some(PlainEntry {
            pc: self.sprs.get(slot::SRR0) & !3,
            msr: new,
            pids: self.table_pids(new, pids)?,
        })
    }

    /// Reflecting `interrupt` (base class, taken by the host at the guest's `pc`) in assembly:
    /// SRR0 = `pc`, SRR1 = MSR, ESR = the real ESR for those that set it (program, SPE), MSR &=
    /// CE | ME | DE, PC = IVPR | IVORn, when no interrupt is deliverable with the new MSR and
    /// the new context's PIDs come from the table. For the system call, the program interrupt
    /// (a user's floating-point instruction, a trap), and the unavailable interrupts: the
    /// others set DEAR or MAS registers and take the Rust path.
    pub fn reflection_plain(
        &self,
        interrupt: Interrupt,
        pids: &HostPidAllocator,
    ) -> Option<PlainEntry> {
        let plain_kind = matches!(
            interrupt,
            Interrupt::SystemCall
                | Interrupt::Program
                | Interrupt::FpUnavailable
                | Interrupt::ApUnavailable
                | Interrupt::SpeUnavailable
        );
        if !plain_kind || interrupt.class() != Class::Base {
            return None;
        }
        let new = self.sprs.msr() & (msr::CE | msr::ME | msr::DE);
        if self.deliverable_with(new) {
            return None;
        }
        Some(PlainEntry {
            pc: crate::exception::vector(&self.sprs, interrupt),
            msr: new,
            pids: self.table_pids(new, pids)?,
        })
    }

    /// Whether [`Vcpu::reflection_plain`]'s interrupt sets ESR (to the real ESR).
    pub const fn reflection_sets_esr(interrupt: Interrupt) -> bool {
        matches!(interrupt, Interrupt::Program | Interrupt::SpeUnavailable)
    }

    /// Store a plain entry's PIDs as entered (what the assembly does with
    /// [`Vcpu::ENTERED_OFFSET`]).
    pub fn set_entered(&mut self, pids: [u8; 2]) {
        self.entered = pids;
    }
}
