//! A guest's commpage on the real machine: where it lives, keeping it filled, its host TLB
//! pair, and carrying out the rewrites of the guest's `mfc0` instructions (the rules are
//! `vcpu_mips::dyntrans`).
//!
//! The page is hypervisor heap memory (one per guest CPU, never inside a partition), 8 KiB
//! aligned so that its kseg0 address and the guest's address 0 have the same cache colour on
//! a 24Kc whose D-cache ways are 8 KiB (the guest reads it through a cacheable mapping while
//! the hypervisor writes it through kseg0). The hypervisor only ever writes it; the guest sees
//! it read-only. Its host pair is in the host TLB only while the guest is in virtual kernel
//! mode: installed on every return into kernel mode from user mode (here for the Rust paths,
//! in `fast_cp0.rs` for the assembly `syscall` path), dropped on every return into user mode
//! (here, and in `fast_cp0.rs` for `eret`). Both modes share the guest's host ASID, so the
//! pair is the one place where the host TLB's contents depend on the mode.

use alloc::boxed::Box;
use core::arch::asm;

use vcpu_mips::{CommPage, Rewrite, Vcpu, COMMPAGE_GVA};

use super::tlb;

/// The page, aligned to the D-cache's way size (8 KiB on the 24Kc).
#[repr(C, align(8192))]
pub(super) struct GuestPage(CommPage);

/// A zeroed page on the heap, and its host-physical address when it is in kseg0 (the guest
/// gets no commpage otherwise).
pub(super) fn allocate() -> (Box<GuestPage>, Option<u64>) {
    let page = Box::<GuestPage>::new_zeroed();
    // SAFETY: `GuestPage` is plain `u32` words, for which all zeroes is a valid value.
    let page = unsafe { page.assume_init() };
    let va = &*page as *const GuestPage as usize;
    let pa = (0x8000_0000..0xA000_0000)
        .contains(&va)
        .then(|| (va - 0x8000_0000) as u64);
    (page, pa)
}

impl GuestPage {
    /// The kseg0 address the assembly path stores to.
    pub(super) fn kseg0(&self) -> u32 {
        // A kernel address: 32 bits on MIPS32.
        #[allow(clippy::cast_possible_truncation)]
        let va = self as *const GuestPage as u32;
        va
    }

    /// What every rewritten `mfc0` must read now.
    pub(super) fn fill(&mut self, vcpu: &Vcpu) {
        vcpu.fill_commpage(&mut self.0);
    }
}

/// Make the host TLB agree with the guest's mode under `host_asid`: the commpage pair while
/// the guest is in virtual kernel mode, no entry for the pair otherwise (one may be left from
/// the other mode).
pub(super) fn set_host_pair(vcpu: &Vcpu, host_asid: u8) {
    if vcpu.commpage_entry_lo() == 0 {
        return;
    }
    // The slot the pair was last dropped from is written again when nothing took it since
    // (shared with the assembly path): installing the pair on every entry into kernel mode
    // then evicts nothing.
    match vcpu.commpage_pair(host_asid) {
        Some(e) => tlb::write_reusing(
            &tlb::Entry {
                entry_hi: e.entry_hi,
                entry_lo0: e.entry_lo0,
                entry_lo1: e.entry_lo1,
                page_mask: e.page_mask,
            },
            super::fast_cp0::commpage_free_slot(),
        ),
        None => {
            if let Some(i) = tlb::drop_pair(COMMPAGE_GVA | u32::from(host_asid)) {
                super::fast_cp0::set_commpage_free_slot(i);
            }
        }
    }
}

/// Replace the guest's `mfc0` by its `lw` ([`Rewrite`]): the store through the hypervisor's
/// view of the partition, the D-cache line written back, the I-cache lines of the guest
/// address invalidated.
pub(super) fn rewrite(r: &Rewrite) {
    let va = super::highmem::kernel_va(r.at.get(), 4) as *mut u32;
    // SAFETY: `r.at` is an aligned word inside the running guest's partition (the model
    // translated the guest's instruction address to it), which the hypervisor's view maps.
    unsafe { va.write_volatile(r.word) };
    super::vcpu::cache_ops(&r.dcache);
    // SAFETY: `sync` orders the write-back before the I-cache invalidation; no operands.
    unsafe { asm!("sync", options(nostack)) };
    super::vcpu::cache_ops(&r.icache);
}
