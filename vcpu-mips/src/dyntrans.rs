//! Rewriting a guest kernel's CP0 reads into loads from its commpage.
//!
//! On a 24Kc without VZ every CP0 instruction of a guest kernel traps. Most of those a Linux
//! kernel executes on its hot paths are reads (`mfc0` of Status, Cause, EPC, BadVAddr, Context,
//! EntryHi, Index: seven of the fourteen traps of a system call, two of the seven of a TLB
//! refill). Their value changes only while the hypervisor runs (at a trap, a host interrupt or
//! an entry), so it can be kept in a page the guest kernel loads from: after the first trap on
//! an `mfc0`, its word in guest memory becomes `lw rt, offset($zero)`, which reads the word the
//! hypervisor keeps for that register. This is KVM's MIPS trap-and-emulate "dyntrans" and
//! "commpage" (`arch/mips/kvm/dyntrans.c`, `commpage.c`), restricted to what stays exact.
//!
//! **What is rewritten** ([`rewritten_word`]): `mfc0` of the registers whose value is a field
//! read as it is ([`Vcpu::plain_register_offsets`]: Index, EntryLo0/1, Context, PageMask,
//! HWREna, BadVAddr, EntryHi, Status, EPC, TagLo, DataLo, ErrorEPC, DESAVE) and of Cause, from
//! virtual kernel mode, in MIPS32 mode, delay slots included (a load is as good a delay-slot
//! instruction as `mfc0`). Never Count or Random (they move with time), nor Compare, Config*,
//! PRId, EBase or Wired (not read on hot paths; kept trapping to keep the set small), and no
//! `mtc0`: a store cannot mask bits the way `mtc0` does, and a page the guest writes would be a
//! page the hypervisor must read and distrust. The hypervisor never reads the commpage.
//!
//! **The page** ([`CommPage`]): 4 KiB, word `rd << 3 | sel` for register (rd, sel), the rest 0.
//! It lives in hypervisor-owned memory (one per guest, outside every partition) and holds
//! nothing but copies of the guest's own registers. The arch refreshes it
//! ([`Vcpu::fill_commpage`]) before every return into the guest, so that while the guest
//! runs each word is what `mfc0` reads: these registers change only in the hypervisor, except
//! Cause.TI, which rises when Count passes Compare while the guest runs; the host timer
//! interrupt is programmed for that moment ([`Vcpu::timer_deadline`]) and its return refreshes
//! the page, so a load sees TI from the instruction the interrupt is taken at, as a `mfc0`
//! evaluated on the trap path (the assembly path) does.
//!
//! **Where the guest sees it** ([`Vcpu::commpage_pair`]): at guest virtual [`COMMPAGE_GVA`]
//! (0), the only page `lw rt, offset($zero)` reaches from real Supervisor mode (negative
//! offsets are kseg3: address errors there). Read-only (host D = 0) and only while the guest is
//! in virtual kernel mode: its user mode must never see it (a user NULL dereference must fault,
//! and the kernel's registers are not the user's business). The odd page of the pair is
//! invalid. It shadows user page 0 for the guest kernel only: a kernel load from user address
//! 0..0xFFF reads the commpage instead of the user's page (Linux keeps that page unmapped:
//! `mmap_min_addr` ≥ 4096), a kernel store there takes TLB Modified.
//!
//! **The rewrite** ([`Vcpu::rewrite_site`]): the word at the trapping instruction's address,
//! checked to be the trapping word, replaced through the hypervisor's view of RAM, then the
//! D-cache line written back and the I-cache set of the guest address invalidated (both in
//! [`Rewrite`]). The trap itself is still served by the normal paths. A guest that writes over a
//! rewritten word simply replaces it (its own cache maintenance makes that visible as usual); a
//! guest that reads its own code sees the `lw`, as under KVM (a 24Kc has no execute-only
//! pages to hide it).

use crate::addr::Hpa;
use crate::cache_op::{hit_action, HitKind, HostCacheAction};
use crate::cp0::ST_ERL;
use crate::decode::{decode, Instruction};
use crate::interface::{GuestMemory, GuestRegs, HostTlbEntry};
use crate::plain::PLAIN_REGISTER_SLOTS;
use crate::shadow::{Access, HOST_CACHE_ATTR};
use crate::tlb::LO_V;
use crate::vcpu::Vcpu;

/// Guest virtual address of the commpage in the guest kernel's address space.
pub const COMMPAGE_GVA: u32 = 0;

/// Bytes of the commpage (one 4 KiB page).
pub const COMMPAGE_BYTES: usize = 4096;

/// Cause's slot (rd 13, sel 0).
const CAUSE_SLOT: usize = 13 << 3;

/// The words a rewritten guest kernel loads: word `rd << 3 | sel` holds what `mfc0` of (rd,
/// sel) reads for the registers [`rewritten_word`] rewrites, every other word is 0.
#[repr(C, align(4096))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommPage {
    words: [u32; COMMPAGE_BYTES / 4],
}

impl Default for CommPage {
    fn default() -> Self {
        Self::new()
    }
}

impl CommPage {
    /// A page of zeros.
    pub const fn new() -> Self {
        CommPage {
            words: [0; COMMPAGE_BYTES / 4],
        }
    }

    /// What a guest load of the word at byte `offset` reads (`None`: not an aligned offset in
    /// the page).
    pub fn load(&self, offset: u32) -> Option<u32> {
        if !offset.is_multiple_of(4) {
            return None;
        }
        self.words.get(offset as usize / 4).copied()
    }

    /// All words, for an arch that copies the page rather than filling it in place.
    pub fn words(&self) -> &[u32; COMMPAGE_BYTES / 4] {
        &self.words
    }
}

/// The plain registers' fields (`Vcpu::plain_register_offsets`).
const PLAIN_OFFSETS: [u16; PLAIN_REGISTER_SLOTS] = Vcpu::plain_register_offsets();

/// Whether `mfc0` of register slot `slot` (`rd << 3 | sel`) is rewritten.
fn slot_is_rewritten(slot: usize) -> bool {
    slot == CAUSE_SLOT || PLAIN_OFFSETS.get(slot).is_some_and(|&o| o != 0)
}

/// The load `original` becomes, if it is an `mfc0` this module rewrites: `lw rt, 4 * (rd << 3
/// | sel)($zero)`. Pure decoding: whether the guest's state allows it is
/// [`Vcpu::rewrite_site`]'s business.
pub fn rewritten_word(original: u32) -> Option<u32> {
    let Instruction::Mfc0 { rt, rd, sel } = decode(original) else {
        return None;
    };
    let slot = usize::from(rd) << 3 | usize::from(sel);
    if !slot_is_rewritten(slot) {
        return None;
    }
    // lw (opcode 0x23), base $zero.
    Some(0x8C00_0000 | u32::from(rt) << 16 | (COMMPAGE_GVA + 4 * slot as u32))
}

/// A rewrite for the arch to carry out: store `word` at host-physical `at` (through its view
/// of RAM), then `dcache` (the line written back), then `icache` (the guest address's I-cache
/// set invalidated), so that the guest's next fetch of `va` executes `word`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rewrite {
    /// Guest virtual address of the rewritten instruction.
    pub va: u32,
    /// Host-physical address of its word (inside the guest's partition).
    pub at: Hpa,
    /// The `mfc0` that was there.
    pub original: u32,
    /// The `lw` that replaces it.
    pub word: u32,
    /// Write the D-cache line back.
    pub dcache: HostCacheAction,
    /// Invalidate the I-cache lines the guest address may be fetched from.
    pub icache: HostCacheAction,
}

impl Vcpu {
    /// Whether the instruction `word` the guest trapped on (Coprocessor Unusable, at
    /// `regs.pc`, or in the delay slot after it when `regs.branch_delay`) may be rewritten, and
    /// how: an `mfc0` [`rewritten_word`] rewrites, the guest in virtual kernel mode and MIPS32
    /// mode, the word still in memory at that address (read through `mem`). Call it with the
    /// state at the trap, before the trap is handled; it changes nothing.
    pub fn rewrite_site(
        &self,
        regs: &GuestRegs,
        word: u32,
        mem: &impl GuestMemory,
    ) -> Option<Rewrite> {
        if !self.commpage_visible() || regs.pc & 1 != 0 {
            return None;
        }
        let new = rewritten_word(word)?;
        let va = if regs.branch_delay {
            regs.pc.wrapping_add(4)
        } else {
            regs.pc
        };
        if self.fetch(va, mem).ok()? != word {
            return None;
        }
        let pa = self.translate(va, Access::Fetch).ok()?.host_addr(va)?;
        let host = &self.config.host;
        Some(Rewrite {
            va,
            at: Hpa::new(u64::from(pa)),
            original: word,
            word: new,
            dcache: hit_action(host, HitKind::WritebackD, va, pa),
            icache: hit_action(host, HitKind::InvalidateI, va, pa),
        })
    }

    /// Whether the guest sees its commpage now: virtual kernel mode with ERL clear (with ERL
    /// set, useg is guest-physical memory from address 0, mapped by large host pairs the
    /// commpage's pair would overlap).
    pub fn commpage_visible(&self) -> bool {
        self.kernel_mode() && self.cp0.status & ST_ERL == 0
    }

    /// Write into `page` what each rewritten `mfc0` reads now: the plain fields as they are,
    /// Cause as the timer last evaluated it ([`Vcpu::cause_as_evaluated`]). Call before every
    /// return into the guest (after `prepare_entry`, which brings the timer up to date).
    pub fn fill_commpage(&self, page: &mut CommPage) {
        for (slot, &offset) in PLAIN_OFFSETS.iter().enumerate() {
            if let Some(value) = self.plain_register_at(offset) {
                page.words[slot] = value;
            }
        }
        page.words[CAUSE_SLOT] = self.cause_as_evaluated();
    }

    /// The host TLB pair that shows the commpage at [`COMMPAGE_GVA`] under `host_asid`, when
    /// the guest is in virtual kernel mode (`None` otherwise: the arch must then make sure no
    /// such entry is in the host TLB). Read-only, cacheable, the odd page invalid; `commpage`
    /// is its host-physical address (4 KiB aligned, hypervisor-owned).
    pub fn commpage_pair(&self, commpage: Hpa, host_asid: u8) -> Option<HostTlbEntry> {
        if !self.commpage_visible() || commpage.get() & 0xFFF != 0 || commpage.get() >= 1 << 32 {
            return None;
        }
        let pfn = (commpage.get() >> 12) as u32;
        Some(HostTlbEntry {
            entry_hi: COMMPAGE_GVA | u32::from(host_asid),
            page_mask: 0,
            entry_lo0: pfn << 6 | HOST_CACHE_ATTR | LO_V,
            entry_lo1: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mfc0(rt: u32, rd: u32, sel: u32) -> u32 {
        0x4000_0000 | rt << 16 | rd << 11 | sel
    }

    #[test]
    fn rewritten_registers() {
        let mut rewritten = std::vec::Vec::new();
        for rd in 0..32 {
            for sel in 0..8 {
                if let Some(w) = rewritten_word(mfc0(5, rd, sel)) {
                    assert_eq!(w, 0x8C05_0000 | ((rd << 3 | sel) * 4), "lw $5, slot($zero)");
                    rewritten.push((rd, sel));
                }
            }
        }
        assert_eq!(
            rewritten,
            [
                (0, 0),
                (2, 0),
                (3, 0),
                (4, 0),
                (5, 0),
                (7, 0),
                (8, 0),
                (10, 0),
                (12, 0),
                (13, 0),
                (14, 0),
                (28, 0),
                (28, 1),
                (30, 0),
                (31, 0)
            ]
        );
    }

    #[test]
    fn never_count_random_writes_or_other_instructions() {
        assert_eq!(rewritten_word(mfc0(2, 9, 0)), None, "Count");
        assert_eq!(rewritten_word(mfc0(2, 1, 0)), None, "Random");
        assert_eq!(rewritten_word(mfc0(2, 11, 0)), None, "Compare");
        assert_eq!(rewritten_word(0x4082_6000), None, "mtc0 $2, Status");
        assert_eq!(rewritten_word(0x4200_0018), None, "eret");
        assert_eq!(rewritten_word(0x4000_6001), None, "reserved bits");
        assert_eq!(rewritten_word(0x4002_6000 | 1 << 4), None, "bits 10:3 set");
    }

    fn vcpu(status: u32) -> Vcpu {
        let p = crate::Partition::new(Hpa::new(0x0100_0000), 16 << 20).unwrap();
        let mut v = Vcpu::new(crate::VcpuConfig::new(p, crate::HostCpu::AR7161), 0).unwrap();
        v.cp0.status = status;
        v
    }

    #[test]
    fn commpage_only_in_kernel_mode_read_only_at_zero() {
        let page = Hpa::new(0x0080_3000);
        // Kernel (KSU 0), EXL from user mode: mapped, read-only, odd page invalid, never G.
        for status in [0, 0x12, 0x1_0013] {
            let e = vcpu(status).commpage_pair(page, 7).expect("kernel mode");
            assert_eq!(e.entry_hi, 7);
            assert_eq!(e.page_mask, 0);
            assert_eq!(e.entry_lo0, 0x803 << 6 | HOST_CACHE_ATTR | LO_V);
            assert_eq!(e.entry_lo0 & (crate::tlb::LO_D | crate::tlb::LO_G), 0);
            assert_eq!(e.entry_lo1, 0);
        }
        // User, supervisor, ERL (useg is guest-physical memory): not mapped.
        for status in [0x10, 0x08, 0x4, 0x14] {
            assert_eq!(vcpu(status).commpage_pair(page, 7), None, "{status:#x}");
        }
        // Not a page.
        assert_eq!(vcpu(0).commpage_pair(Hpa::new(0x0080_3004), 7), None);
    }

    #[test]
    fn fill_writes_only_the_rewritten_words() {
        let mut v = vcpu(0x1000_FF03);
        v.cp0.epc = 0xC010_0000;
        v.cp0.cause = 8 << 2;
        let mut page = CommPage::new();
        v.fill_commpage(&mut page);
        assert_eq!(page.load(12 << 5), Some(0x1000_FF03), "Status");
        assert_eq!(page.load(14 << 5), Some(0xC010_0000), "EPC");
        assert_eq!(page.load(13 << 5), Some(8 << 2), "Cause");
        for (i, &w) in page.words().iter().enumerate() {
            if w != 0 {
                assert!(slot_is_rewritten(i), "word {i}");
            }
        }
        assert_eq!(page.load(9 << 5), Some(0), "Count is never in the page");
    }

    #[test]
    fn every_offset_is_in_the_page_and_reachable_from_zero() {
        for rd in 0..32 {
            for sel in 0..8 {
                if let Some(w) = rewritten_word(mfc0(1, rd, sel)) {
                    let offset = w & 0xFFFF;
                    // Positive 16-bit offset: guest address 0 + offset, inside the page.
                    assert!(offset < 0x8000 && (offset as usize) < COMMPAGE_BYTES);
                    assert_eq!(w >> 21 & 31, 0, "base $zero");
                    assert!(CommPage::new().load(offset).is_some());
                }
            }
        }
    }
}
