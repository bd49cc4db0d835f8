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
//! in virtual kernel mode, which runs under a host ASID of its own (`asid`: each guest ASID
//! has a kernel-mode and a user-mode one), so the pair is a shadow entry of the kernel-mode
//! space like any other, refilled from the refill cache, and a mode switch writes no host TLB
//! entry: its user mode must never see it (a user NULL dereference must fault,
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
use crate::asid::HostAsidAllocator;
use crate::cache_op::{hit_action, HitKind, HostCacheAction};
use crate::cp0::ST_ERL;
use crate::decode::{decode, Instruction};
use crate::exception::GuestException;
use crate::interface::{GuestMemory, GuestRegs, HostTlbEntry, Outcome, Reflection};
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

    /// Give the guest a commpage at host-physical `page` (4 KiB aligned, below 4 GiB, outside
    /// its partition: hypervisor-owned memory the arch keeps filled). False (nothing changed)
    /// for any other address. From then on a TLB fault at guest address 0..0x2000 in virtual
    /// kernel mode maps the commpage ([`Vcpu::handle_trap`]), and the refill cache holds that
    /// pair under kernel-mode host ASIDs only.
    pub fn set_commpage(&mut self, page: Hpa) -> bool {
        let p = page.get();
        let size = u64::from(self.config.partition.size());
        let base = self.config.partition.host_base().get();
        if p & 0xFFF != 0 || p >= 1 << 32 || (p + 0x1000 > base && p < base + size) {
            return false;
        }
        self.commpage_lo = ((p >> 12) as u32) << 6 | HOST_CACHE_ATTR | LO_V;
        true
    }

    /// Whether guest address `va` lies in the commpage's host pair (0..0x2000) of a guest
    /// that has one.
    pub(crate) fn commpage_pair_va(&self, va: u32) -> bool {
        self.commpage_lo != 0 && va < 0x2000
    }

    /// Whether a host TLB fault at `va` is the commpage's business: a guest with a commpage,
    /// which it sees now, faulting in its pair.
    pub(crate) fn commpage_shadows(&self, va: u32) -> bool {
        self.commpage_pair_va(va) && self.commpage_visible()
    }

    /// A host TLB fault at `va` in the commpage's pair, from virtual kernel mode: the commpage
    /// as the even page (a store to it is refused with an address error: the page is
    /// read-only), the guest's own translation of 0x1000..0x2000 as the odd page (its faults
    /// reflected as usual when the access is there). A fault on the even page caches the pair
    /// in the refill cache under the kernel-mode host ASID (the only space that sees the page),
    /// which the guest's TLB writes over 0..0x2000 invalidate like any other slot.
    pub(crate) fn commpage_fault(
        &mut self,
        regs: &mut GuestRegs,
        access: Access,
        va: u32,
        alloc: &HostAsidAllocator,
    ) -> Outcome {
        let lo1 = if va < 0x1000 {
            if access == Access::Store {
                return self.reflect(
                    regs,
                    GuestException::address_error(va, true),
                    Reflection::Guest,
                );
            }
            self.translate(0x1000, Access::Load).map_or(0, |m| m.lo1)
        } else {
            match self.translate(va, access) {
                Ok(m) => m.lo1,
                Err(fault) => return self.reflect_fault(regs, fault),
            }
        };
        let Some(host_asid) = self.asids.current(self.space(), alloc) else {
            return Outcome::Resume;
        };
        if va < 0x1000 {
            // Under the kernel-mode host ASID alone (the guest sees its page now): the next
            // refill of the pair is served by the arch's assembly.
            self.refill.insert(
                COMMPAGE_GVA | u32::from(host_asid),
                self.commpage_lo,
                lo1,
                0,
            );
        }
        Outcome::MapHost(HostTlbEntry {
            entry_hi: COMMPAGE_GVA | u32::from(host_asid),
            page_mask: 0,
            entry_lo0: self.commpage_lo,
            entry_lo1: lo1,
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
        // The fields `plain_register_offsets` names, copied directly (the arch calls this on
        // every return into the guest); `fill_matches_the_plain_table` checks the two agree.
        let c = &self.cp0;
        let w = &mut page.words;
        w[0] = c.index;
        w[2 << 3] = c.entry_lo0;
        w[3 << 3] = c.entry_lo1;
        w[4 << 3] = c.context;
        w[5 << 3] = c.page_mask;
        w[7 << 3] = c.hwrena;
        w[8 << 3] = c.bad_vaddr;
        w[10 << 3] = c.entry_hi;
        w[12 << 3] = c.status;
        w[14 << 3] = c.epc;
        w[28 << 3] = c.tag_lo;
        w[28 << 3 | 1] = c.data_lo;
        w[30 << 3] = c.error_epc;
        w[31 << 3] = c.desave;
        w[CAUSE_SLOT] = self.cause_as_evaluated();
    }

    /// The host TLB pair that shows the commpage at [`COMMPAGE_GVA`] under `host_asid`, when
    /// the guest has one and is in virtual kernel mode with ERL clear (`None` otherwise: the
    /// arch must then make sure no entry for the pair is in the host TLB under that ASID, since
    /// one may be left from the other mode). Read-only, cacheable, never G; the odd page
    /// invalid (a fault there maps the guest's own page 1 with the commpage).
    pub fn commpage_pair(&self, host_asid: u8) -> Option<HostTlbEntry> {
        if self.commpage_lo == 0 || !self.commpage_visible() {
            return None;
        }
        Some(HostTlbEntry {
            entry_hi: COMMPAGE_GVA | u32::from(host_asid),
            page_mask: 0,
            entry_lo0: self.commpage_lo,
            entry_lo1: 0,
        })
    }

    /// The host EntryLo0 of the commpage (0: the guest has none), for an arch that installs
    /// the pair in assembly.
    pub fn commpage_entry_lo(&self) -> u32 {
        self.commpage_lo
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
        let with_page = |status| {
            let mut v = vcpu(status);
            assert!(v.set_commpage(Hpa::new(0x0080_3000)));
            v
        };
        assert_eq!(vcpu(0).commpage_pair(7), None, "no commpage");
        // Kernel (KSU 0), EXL from user mode: mapped, read-only, odd page invalid, never G.
        for status in [0, 0x12, 0x1_0013] {
            let e = with_page(status).commpage_pair(7).expect("kernel mode");
            assert_eq!(e.entry_hi, 7);
            assert_eq!(e.page_mask, 0);
            assert_eq!(e.entry_lo0, 0x803 << 6 | HOST_CACHE_ATTR | LO_V);
            assert_eq!(e.entry_lo0 & (crate::tlb::LO_D | crate::tlb::LO_G), 0);
            assert_eq!(e.entry_lo1, 0);
        }
        // User, supervisor, ERL (useg is guest-physical memory): not mapped.
        for status in [0x10, 0x08, 0x4, 0x14] {
            assert_eq!(with_page(status).commpage_pair(7), None, "{status:#x}");
        }
        // Not a page, above 4 GiB, or inside the partition (16 MiB at 16 MiB).
        let mut v = vcpu(0);
        for bad in [0x0080_3004, 1 << 32, 0x0100_0000, 0x01FF_F000, 0x00FF_F800] {
            assert!(!v.set_commpage(Hpa::new(bad)), "{bad:#x}");
        }
        assert!(v.set_commpage(Hpa::new(0x0200_0000)));
        assert!(v.set_commpage(Hpa::new(0x00FF_F000)));
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
    fn fill_matches_the_plain_table() {
        let mut v = vcpu(0x1000_FF13);
        let c = &mut v.cp0;
        (c.index, c.entry_lo0, c.entry_lo1, c.context) = (1, 2, 3, 4);
        (c.page_mask, c.hwrena, c.bad_vaddr, c.entry_hi) = (5, 7, 8, 10);
        (c.epc, c.tag_lo, c.data_lo, c.error_epc, c.desave) = (14, 28, 29, 30, 31);
        let mut page = CommPage::new();
        v.fill_commpage(&mut page);
        for (slot, &offset) in PLAIN_OFFSETS.iter().enumerate() {
            let expected = v.plain_register_at(offset).unwrap_or(0);
            let expected = if slot == CAUSE_SLOT {
                v.cause_as_evaluated()
            } else {
                expected
            };
            assert_eq!(page.words()[slot], expected, "slot {slot}");
        }
    }

    #[test]
    fn plain_writes_name_their_commpage_word() {
        // The assembly path stores a plain `mtc0`'s result at `page` too: that must be the
        // word a rewritten `mfc0` of the same register loads.
        for (slot, w) in Vcpu::plain_register_writes().iter().enumerate() {
            if w.offset != 0 {
                assert!(slot_is_rewritten(slot), "slot {slot}");
                assert_eq!(usize::from(w.page), 4 * slot, "slot {slot}");
            }
        }
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
