//! The data exchanged between the arch layer and the vcpu: saved registers and trap state in,
//! [`Outcome`] and [`Entry`] out, and the host-side actions they carry.

use crate::asid::AsidSet;
use crate::cache_op::HostCacheAction;
use crate::exception::HaltReason;
use guest_mem::Hpa;

/// The guest's general registers and PC, as the arch saved them at the trap.
///
/// `#[repr(C)]`: `gpr` at byte offset 0 (`gpr[n]` at `4 * n`), `pc` at 128, `branch_delay` at
/// 132 (one byte).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestRegs {
    /// $0..$31 (`gpr[0]` is read as 0 and never written).
    pub gpr: [u32; 32],
    /// Where the guest resumes: EPC at the trap; updated by the vcpu.
    pub pc: u32,
    /// Real Cause.BD at the trap: `pc` is a branch whose delay slot was interrupted. Set it
    /// from Rust (`cause & (1 << 31) != 0`); assembly must store only 0 or 1 here.
    pub branch_delay: bool,
}

impl GuestRegs {
    /// Registers for the guest's first instruction.
    pub const fn at_entry(pc: u32) -> Self {
        GuestRegs {
            gpr: [0; 32],
            pc,
            branch_delay: false,
        }
    }

    /// Read a register ($0 reads 0).
    pub const fn get(&self, r: u8) -> u32 {
        if r == 0 {
            0
        } else {
            self.gpr[(r & 31) as usize]
        }
    }

    /// Write a register (writes to $0 are dropped).
    pub fn set(&mut self, r: u8, value: u32) {
        if r & 31 != 0 {
            self.gpr[(r & 31) as usize] = value;
        }
    }
}

/// What the arch read from the real CP0 at the trap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trap {
    /// Real Cause (ExcCode, CE, BD).
    pub cause: u32,
    /// Real BadVAddr.
    pub bad_vaddr: u32,
    /// Real Count.
    pub now: u32,
}

/// Word reads of guest memory by host-physical address (the arch reads through kseg0).
pub trait GuestMemory {
    /// Read the aligned big-endian word at `addr` (always inside the guest's partition).
    fn read_word(&self, addr: Hpa) -> u32;
}

/// A host TLB entry to write.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostTlbEntry {
    /// VPN2 (aligned to the pair) | host ASID.
    pub entry_hi: u32,
    /// PageMask.
    pub page_mask: u32,
    /// EntryLo0 (never G).
    pub entry_lo0: u32,
    /// EntryLo1 (never G).
    pub entry_lo1: u32,
}

/// Host TLB entries that became stale because the guest rewrote one of its TLB entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostInvalidation {
    ranges: [(u32, u64, AsidSet); 2],
    len: usize,
}

impl HostInvalidation {
    pub(crate) const fn default_empty() -> Self {
        HostInvalidation {
            ranges: [(0, 0, AsidSet::EMPTY); 2],
            len: 0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    pub(crate) fn push_range(&mut self, start: u32, len: u64, asids: AsidSet) {
        if !asids.is_empty() && len != 0 && self.len < 2 {
            self.ranges[self.len] = (start, len, asids);
            self.len += 1;
        }
    }

    /// Whether nothing needs invalidating.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The (start, length, host ASIDs) ranges.
    pub fn ranges(&self) -> &[(u32, u64, AsidSet)] {
        &self.ranges[..self.len]
    }

    /// Whether the host TLB entry read back as (`entry_hi`, `page_mask`) must be invalidated.
    /// The arch scans its whole TLB (`tlbr` each index) and overwrites matches with a unique
    /// invalid entry.
    pub fn covers(&self, entry_hi: u32, page_mask: u32) -> bool {
        let span = u64::from(page_mask | 0x1FFF) + 1;
        let base = u64::from(entry_hi & 0xFFFF_E000 & !page_mask);
        self.ranges().iter().any(|(start, len, asids)| {
            let start = u64::from(*start);
            asids.contains(entry_hi as u8) && base < start + len && start < base + span
        })
    }
}

impl HostInvalidation {
    /// The number of probes [`HostInvalidation::for_each_probe`] makes: one per 8 KiB pair of
    /// each range per ASID.
    pub fn probe_count(&self) -> u64 {
        self.ranges()
            .iter()
            .map(|(_, len, asids)| len.div_ceil(0x2000) * u64::from(asids.len()))
            .sum()
    }

    /// The EntryHi values (VPN2 | ASID) to probe the host TLB with instead of scanning it: every
    /// host entry that [`HostInvalidation::covers`] is the match of one of these probes (the
    /// host TLB never holds two matching entries; the ranges start at pair boundaries). A probe
    /// can also match a global entry, which no guest owns: the arch skips its wired entries.
    /// When [`HostInvalidation::probe_count`] is small, this is much cheaper than reading back
    /// every entry.
    pub fn for_each_probe(&self, mut f: impl FnMut(u32)) {
        for (start, len, asids) in self.ranges() {
            let end = u64::from(*start) + len;
            for (i, &word) in asids.words().iter().enumerate() {
                let mut rest = word;
                while rest != 0 {
                    let asid = i as u32 * 32 + rest.trailing_zeros();
                    rest &= rest - 1;
                    let mut va = u64::from(start & 0xFFFF_E000);
                    while va < end {
                        f(va as u32 | asid);
                        va += 0x2000;
                    }
                }
            }
        }
    }
}

/// A hypercall: `nr` from $v1, arguments from $a0..$a3. The guest PC is already past it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hypercall {
    /// Call number.
    pub nr: u32,
    /// Arguments.
    pub args: [u32; 4],
}

impl Hypercall {
    /// Store the result in $v0.
    pub fn complete(regs: &mut GuestRegs, result: i32) {
        regs.gpr[2] = result as u32;
    }
}

/// Why an exception was reflected, for the host's log and counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reflection {
    /// The guest's own exception (syscall, break, overflow, RI, address error...).
    Guest,
    /// A TLB exception from the guest's own TLB state.
    GuestTlb,
    /// A privileged instruction the guest's virtual privilege does not allow.
    Privilege,
    /// A guest TLB entry points outside the guest's RAM (bus error).
    OutsidePartition,
    /// A refused cache operation (Index Store Data).
    RefusedCacheOp,
}

/// What the arch must do after [`Vcpu::handle_trap`](crate::Vcpu::handle_trap). Unless stated otherwise: then call
/// [`Vcpu::prepare_entry`](crate::Vcpu::prepare_entry) and return into the guest at `regs.pc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to do.
    Resume,
    /// An exception was delivered to the guest (regs.pc is its vector). Informational.
    Reflected { code: u8, why: Reflection },
    /// Write this entry into the host TLB (`tlbp`; `tlbwi` if found, else `tlbwr`), then resume:
    /// the faulting instruction is retried.
    MapHost(HostTlbEntry),
    /// Invalidate every host TLB entry that [`Vcpu::host_invalidation`](crate::Vcpu::host_invalidation)
    /// [`covers`](HostInvalidation::covers), then resume. (The ranges stay in the vcpu, so that
    /// outcomes are a few words to move around.)
    InvalidateHost,
    /// Execute these cache operations, then resume.
    Cache(HostCacheAction),
    /// Serve the hypercall, store the result with [`Hypercall::complete`], then resume.
    Hypercall(Hypercall),
    /// The guest executed `wait`: do not run it until [`Vcpu::runnable`](crate::Vcpu::runnable) is true or the host
    /// calls [`Vcpu::wake`](crate::Vcpu::wake) (for example after draining its TX rings).
    Wait,
    /// Not caused by the guest (interrupt, machine check, cache error, watch): the host's own.
    HostException { code: u8 },
    /// The guest cannot continue; stop it and log the reason.
    Halt(HaltReason),
}

/// Real mode to run the guest in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RealMode {
    /// Status.KSU = 01: guest kernel (or supervisor) code.
    Supervisor,
    /// Status.KSU = 10: guest user code.
    User,
}

/// What [`Vcpu::prepare_entry`](crate::Vcpu::prepare_entry) tells the arch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Real Status.KSU to set.
    pub mode: RealMode,
    /// Real EntryHi.ASID to set.
    pub host_asid: u8,
    /// The host ASIDs of the guest ASID's kernel-mode and user-mode spaces (ERL clear): what
    /// a mode switch without `prepare_entry` sets ([`Vcpu::mode_asids`](crate::Vcpu::mode_asids)).
    pub kernel_asid: u8,
    /// See `kernel_asid`.
    pub user_asid: u8,
    /// Flush the whole host TLB first (a new ASID generation began).
    pub flush_host_tlb: bool,
    /// Real HWREna: the guest's HWREna bits whose value is the same natively (CPUNum,
    /// SYNCI_Step, CCRes); `rdhwr $2` (Count) always traps.
    pub hwrena: u32,
    /// A virtual interrupt was just delivered (regs.pc is the guest's vector).
    pub interrupt_delivered: bool,
}

/// A violated invariant found by [`Vcpu::audit`](crate::Vcpu::audit) (a hypervisor bug, never a guest's fault).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditError {
    /// A refill-cache slot maps memory outside the partition.
    RefillOutsidePartition { slot: usize },
    /// A refill-cache slot has the G bit or host ASID 0.
    RefillGlobalOrHypervisorAsid { slot: usize },
    /// A refill-cache slot differs from what translating its address now gives (or its host
    /// ASID is not one of this guest's live ones).
    RefillStale { slot: usize },
}
