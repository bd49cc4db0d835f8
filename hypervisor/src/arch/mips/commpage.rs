//! A guest's commpage on the real machine: where it lives, keeping it filled, its host TLB
//! pair, and carrying out the rewrites of the guest's `mfc0` instructions (the rules are
//! `vcpu_mips::dyntrans`).
//!
//! The page is hypervisor heap memory (one per guest CPU, never inside a partition), 8 KiB
//! aligned so that its kseg0 address and the guest's address 0 have the same cache colour on
//! a 24Kc whose D-cache ways are 8 KiB (the guest reads it through a cacheable mapping while
//! the hypervisor writes it through kseg0). The hypervisor only ever writes it; the guest sees
//! it read-only. Its host pair exists only under the host ASID of the guest's virtual kernel
//! mode (`vcpu_mips::Vcpu::mode_asids`; user mode runs under another), put there by the host
//! TLB refill of a kernel access to it like any other shadow entry: switching between the
//! guest's modes changes the host ASID and writes no TLB entry.

use alloc::boxed::Box;
use core::arch::asm;

use vcpu_mips::{CommPage, Rewrite, Vcpu};

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
