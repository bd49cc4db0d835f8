//! The data exchanged between the arch layer and the vcpu: saved registers and trap state in,
//! [`Outcome`] and [`Entry`] out, and the host-side actions they carry.

use crate::exception::{HaltReason, Interrupt};
use crate::sid::SidSet;
use crate::spr::CR0_SO;
use guest_mem::Hpa;

/// The guest's registers the model reads or writes, as the arch saved them at the trap.
///
/// `#[repr(C)]`: `gpr[n]` at byte offset `4 * n`, `pc` at 128, `cr` at 132. (LR, CTR, XER,
/// USPRG0 and SPEFSCR are the arch's to save and restore: nothing the model emulates uses them.)
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestRegs {
    /// r0..r31.
    pub gpr: [u32; 32],
    /// Where the guest resumes: SRR0 at the trap; updated by the vcpu.
    pub pc: u32,
    /// The condition register (the hypercall clears CR0\[SO\]).
    pub cr: u32,
}

impl GuestRegs {
    /// Registers for the guest's first instruction: PC and r3..r7 (ePAPR: device tree, 0, 0,
    /// magic, initial mapping size), everything else 0.
    pub const fn at_entry(pc: u32, args: [u32; 5]) -> Self {
        let mut gpr = [0; 32];
        let mut i = 0;
        while i < 5 {
            gpr[3 + i] = args[i];
            i += 1;
        }
        GuestRegs { gpr, pc, cr: 0 }
    }

    /// Register `r`.
    pub const fn get(&self, r: u8) -> u32 {
        self.gpr[(r & 31) as usize]
    }

    /// Register `r`, or 0 for `r` = 0 (the `(rA|0)` of indexed addressing).
    pub const fn get_or_zero(&self, r: u8) -> u32 {
        if r == 0 {
            0
        } else {
            self.get(r)
        }
    }

    /// Write register `r`.
    pub fn set(&mut self, r: u8, value: u32) {
        self.gpr[usize::from(r & 31)] = value;
    }
}

/// What the arch read at the trap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trap {
    /// The host interrupt taken (which IVOR's handler ran).
    pub vector: Interrupt,
    /// Real ESR (program, storage, alignment, TLB and SPE interrupts set it).
    pub esr: u32,
    /// Real DEAR (data storage, alignment and data TLB interrupts set it).
    pub dear: u32,
    /// Host time base.
    pub now: u64,
}

/// Word reads of guest memory by host-physical address.
pub trait GuestMemory {
    /// Read the aligned big-endian word at `addr` (always inside the guest's partition).
    fn read_word(&self, addr: Hpa) -> u32;
}

/// A host TLB entry to write: always address space 1, TID = one of the guest's shadow IDs,
/// only user permissions, W = I = M = 0. TSIZE 1 (4 KiB) goes to the host TLB0, larger sizes to
/// the host TLB1.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostTlbEntry {
    /// V | TID | TS | TSIZE (never IPROT).
    pub mas1: u32,
    /// EPN | G | E.
    pub mas2: u32,
    /// RPN (low bits) | UX | UW | UR.
    pub mas3: u32,
    /// RPN bits 35:32.
    pub mas7: u32,
}

impl HostTlbEntry {
    /// Whether it belongs in the host TLB1 (pages above 4 KiB).
    pub const fn is_tlb1(&self) -> bool {
        (self.mas1 >> 8) & 0xF > 1
    }

    /// The shadow ID (TID).
    pub const fn sid(&self) -> u8 {
        (self.mas1 >> 16) as u8
    }

    /// Page size in bytes.
    pub const fn size(&self) -> u64 {
        crate::tlb::tsize_bytes((self.mas1 >> 8) & 0xF)
    }

    /// First effective address.
    pub const fn epn(&self) -> u32 {
        self.mas2 & 0xFFFF_F000
    }

    /// First host-physical address.
    pub const fn host_base(&self) -> u64 {
        ((self.mas7 as u64 & 0xF) << 32) | (self.mas3 & 0xFFFF_F000) as u64
    }
}

/// Maximum host TLB probes (pages times shadow IDs) of one invalidation range; larger
/// invalidations retire the shadow IDs concerned instead (no host work).
pub const MAX_PROBES_PER_RANGE: u64 = 16;

/// Host TLB entries that became stale because the guest changed its TLB: for each range, every
/// host entry of one of the shadow IDs whose page contains one of the range's 4 KiB pages.
/// Equality and `Debug` look at the ranges in use only.
#[derive(Clone, Copy)]
pub struct HostInvalidation {
    ranges: [(u32, u64, SidSet); 4],
    len: usize,
}

impl HostInvalidation {
    /// Nothing to invalidate.
    pub const EMPTY: HostInvalidation = HostInvalidation {
        ranges: [(0, 0, SidSet::EMPTY); 4],
        len: 0,
    };

    /// Whether nothing needs invalidating.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forget every range (what lies past the ranges in use is never read).
    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    /// The (first address, length, shadow IDs) ranges.
    pub fn ranges(&self) -> &[(u32, u64, SidSet)] {
        &self.ranges[..self.len]
    }

    /// Add a range of page-aligned `start` if it needs at most [`MAX_PROBES_PER_RANGE`] probes
    /// and there is room; false otherwise (the caller retires the IDs instead).
    pub(crate) fn try_push(&mut self, start: u32, len: u64, sids: SidSet) -> bool {
        if sids.is_empty() || len == 0 {
            return true;
        }
        let probes = len.div_ceil(4096) * u64::from(sids.len());
        if probes > MAX_PROBES_PER_RANGE || self.len == self.ranges.len() {
            return false;
        }
        self.ranges[self.len] = (start & !0xFFF, len, sids);
        self.len += 1;
        true
    }

    /// Remove the IDs of `retired` from every range (their entries can never match again).
    pub(crate) fn drop_sids(&mut self, retired: &SidSet) {
        for r in &mut self.ranges[..self.len] {
            r.2.remove_all(retired);
        }
    }

    /// The number of probes [`HostInvalidation::for_each_probe`] makes.
    pub fn probe_count(&self) -> u64 {
        self.ranges()
            .iter()
            .map(|(_, len, sids)| len.div_ceil(4096) * u64::from(sids.len()))
            .sum()
    }

    /// The (effective address, shadow ID) pairs to probe: for each, `tlbsx` with MAS6 = ID << 16
    /// | SAS (address space 1); on a hit that is not IPROT, write the entry back with V = 0.
    /// Every stale entry contains one of these addresses under its ID, and the host TLB holds
    /// at most one entry for an (address, ID), so this removes all of them.
    pub fn for_each_probe(&self, mut f: impl FnMut(u32, u8)) {
        for (start, len, sids) in self.ranges() {
            // At most MAX_PROBES_PER_RANGE pages: the count fits 32 bits.
            let pages = len.div_ceil(4096) as u32;
            for sid in sids.iter() {
                for page in 0..pages {
                    f(start.wrapping_add(page << 12), sid);
                }
            }
        }
    }

    /// Whether [`HostInvalidation::for_each_probe`] makes any probe.
    pub fn has_probes(&self) -> bool {
        self.ranges().iter().any(|(_, _, sids)| !sids.is_empty())
    }

    /// Whether the host entry with `mas1` and `mas2` is stale (for an arch that scans its TLB
    /// instead of probing).
    pub fn covers(&self, mas1: u32, mas2: u32) -> bool {
        let size = crate::tlb::tsize_bytes((mas1 >> 8) & 0xF);
        let epn = u64::from(mas2 & 0xFFFF_F000) & !(size - 1);
        let sid = (mas1 >> 16) as u8;
        mas1 & 0x8000_1000 == 0x8000_1000
            && self.ranges().iter().any(|(start, len, sids)| {
                let start = u64::from(*start);
                sids.contains(sid) && epn < start + len && start < epn + size
            })
    }
}

impl PartialEq for HostInvalidation {
    fn eq(&self, other: &Self) -> bool {
        self.ranges() == other.ranges()
    }
}

impl Eq for HostInvalidation {}

impl core::fmt::Debug for HostInvalidation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.ranges()).finish()
    }
}

/// A hypercall: `nr` from r0, arguments from r3..r6. The guest PC is already past it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hypercall {
    /// Call number.
    pub nr: u32,
    /// Arguments.
    pub args: [u32; 4],
}

impl Hypercall {
    /// Store the result in r3 and clear CR0\[SO\] ("served": the guest stub's `bnslr` returns).
    pub fn complete(regs: &mut GuestRegs, result: i32) {
        regs.gpr[3] = result as u32;
        regs.cr &= !CR0_SO;
    }
}

/// A cache operation for the arch to perform on the guest's behalf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheAction {
    /// `dcbf` of the 32-byte line at this host-physical address (the guest's `dcbi`, done as
    /// a flush so that no data is ever discarded).
    FlushDataLine(Hpa),
}

/// Why an exception was reflected, for the host's log and counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reflection {
    /// The guest's own exception (system call, program, alignment, unavailable...).
    Guest,
    /// A TLB miss or storage exception from the guest's own TLB state.
    GuestTlb,
    /// A privileged instruction from the guest's user mode.
    Privilege,
    /// A guest TLB entry names memory outside the guest's RAM (machine check).
    OutsidePartition,
    /// Cache locking (refused: the guest sees the exception a user would).
    RefusedCacheLock,
}

/// What the arch must do after [`Vcpu::handle_trap`](crate::Vcpu::handle_trap). Unless stated
/// otherwise: then call [`Vcpu::prepare_entry`](crate::Vcpu::prepare_entry) and return into
/// the guest at `regs.pc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to do.
    Resume,
    /// An exception was delivered to the guest (regs.pc is its vector). Informational.
    Reflected { vector: Interrupt, why: Reflection },
    /// Write this entry into the host TLB: `tlbsx` its EPN under its TID in address space 1;
    /// on a hit in the same TLB overwrite that entry, on a hit in the other TLB invalidate it
    /// and write this one anew, on a miss write it anew (TLB0: the way MAS0\[NV\] names; TLB1:
    /// one of the arch's guest entries). The faulting access is retried.
    MapHost(HostTlbEntry),
    /// Invalidate the host entries [`Vcpu::host_invalidation`](crate::Vcpu::host_invalidation)
    /// names, then resume.
    InvalidateHost,
    /// Perform this cache operation, then resume.
    Cache(CacheAction),
    /// The guest asked for a branch-buffer flush (BUCSR\[BBFI\]): flush the host's, then resume.
    FlushBranchBuffer,
    /// Serve the hypercall, store the result with [`Hypercall::complete`], then resume.
    Hypercall(Hypercall),
    /// The guest dozes (MSR\[WE\]): do not run it until [`Vcpu::runnable`](crate::Vcpu::runnable)
    /// or the host calls [`Vcpu::wake`](crate::Vcpu::wake).
    Wait,
    /// Not caused by the guest (external input, decrementer, machine check...): the host's own.
    HostException { vector: Interrupt },
    /// The guest cannot continue; stop it and log the reason.
    Halt(HaltReason),
}

/// What [`Vcpu::prepare_entry`](crate::Vcpu::prepare_entry) tells the arch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Real PID0: the shadow ID of the guest's context.
    pub pid0: u8,
    /// Real PID1: the shadow ID of the guest's global entries in this address space and
    /// privilege, or 0 (set real PID2 to 0).
    pub pid1: u8,
    /// Flush every guest entry from the host TLB first (a new shadow-ID generation began):
    /// MMUCSR0 = TLB0_FI | TLB1_FI (the hypervisor's IPROT entries stay).
    pub flush_host_tlb: bool,
    /// A virtual interrupt was just delivered (regs.pc is the guest's vector).
    pub interrupt_delivered: bool,
}

/// A violated invariant found by [`Vcpu::audit`](crate::Vcpu::audit) (a hypervisor bug).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditError {
    /// A refill-cache slot maps memory outside the partition.
    RefillOutsidePartition { slot: usize },
    /// A refill-cache slot's entry is malformed (TID not its tag's, not address space 1,
    /// supervisor permissions, IPROT, cache-inhibited).
    RefillMalformed { slot: usize },
    /// A refill-cache slot differs from what translating its address now gives, or its shadow
    /// ID is not one of this guest's live ones.
    RefillStale { slot: usize },
}
