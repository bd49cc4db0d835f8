//! Processes' memory, Linux style: a two-level page table per process (`pgd` of 1024 words
//! holding the kernel addresses of PTE pages; PTEs are the EntryLo value shifted left by 6 with
//! a software present bit below), `pgd_current` for the refill handler, one ASID per process,
//! pages mapped on demand by the TLBL/TLBS handler, and the TLB updated like Linux's
//! `__update_tlb` (EntryHi, `tlbp`, Index, EntryLo0/1, `tlbwi` or `tlbwr`).
//!
//! Frames come from a bump pool in guest RAM; a process's frames are all returned when it ends.

use mr_guest::arch::cp0;

/// Guest RAM window: guest-physical `pa` is at `WINDOW + pa`.
const WINDOW: u32 = 0xC000_0000;
/// The frame pool (guest-physical): 8 MiB .. 24 MiB (the bare-metal build maps 32 MiB).
const POOL_START: u32 = 0x0080_0000;
const POOL_END: u32 = 0x0180_0000;
const PAGE: u32 = 4096;

/// User text (one page, 8 KiB aligned: the same cache colour as its frame).
pub const TEXT_VA: u32 = 0x0040_0000;
/// First user data page.
pub const DATA_VA: u32 = 0x1000_0000;
/// Top of the user stack; the stack may grow down to `STACK_LIMIT`.
pub const STACK_TOP: u32 = 0x7FFF_F000;
const STACK_LIMIT: u32 = 0x7FF0_0000;

/// PTE software bit: the page exists (shifted out by the refill handler's `srl 6`).
const PTE_PRESENT: u32 = 1;
const LO_V: u32 = 1 << 1;
const LO_D: u32 = 1 << 2;
const LO_CACHED: u32 = 3 << 3;

struct Pool {
    next: u32,
    invalid_table: u32,
}

/// The current process, as the fault handler sees it.
struct Current {
    data_pages: u32,
}

struct Kernel {
    pool: Pool,
    current: Current,
    next_asid: u32,
    tlb_entries: u32,
}

static mut KERNEL: Kernel = Kernel {
    pool: Pool {
        next: POOL_START,
        invalid_table: 0,
    },
    current: Current { data_pages: 0 },
    next_asid: 1,
    tlb_entries: 16,
};

fn kernel() -> &'static mut Kernel {
    // SAFETY: single CPU; used by the benchmark driver and the page-fault handler, which runs
    // only while user code runs (the driver is suspended in `run_user` then).
    unsafe { &mut *core::ptr::addr_of_mut!(KERNEL) }
}

/// A process: its page table and ASID.
#[derive(Clone, Copy)]
pub struct Process {
    pgd: u32,
    asid: u32,
    data_pages: u32,
    /// Pool position before the process was made (its frames are returned to here).
    mark: u32,
}

/// The TLB size the CPU reports, read as Linux's `decode_config1`/`decode_config4` do:
/// Config1.MMUSize + 1, plus Config4.MMUSizeExt * 64 when Config3.M says Config4 exists and
/// its MMUExtDef is 1.
pub fn tlb_entries() -> u32 {
    let mut entries = ((cp0::read_config1() >> 25) & 0x3F) + 1;
    if cp0::read_config3() & (1 << 31) != 0 {
        let config4 = cp0::read_config4();
        if (config4 >> 14) & 3 == 1 {
            entries += (config4 & 0xFF) * 64;
        }
    }
    entries
}

/// Prepare the pool and the shared all-invalid PTE page.
pub fn init() {
    let k = kernel();
    k.tlb_entries = tlb_entries();
    k.pool.next = POOL_START;
    k.pool.invalid_table = alloc_zeroed(k).expect("pool");
}

fn alloc_zeroed(k: &mut Kernel) -> Option<u32> {
    let pa = k.pool.next;
    if pa + PAGE > POOL_END {
        return None;
    }
    k.pool.next = pa + PAGE;
    let va = WINDOW + pa;
    // SAFETY: a pool page in the guest's RAM window that nothing else uses.
    unsafe { core::ptr::write_bytes(va as *mut u8, 0, PAGE as usize) };
    Some(va)
}

const fn pte_of(va_in_window: u32) -> u32 {
    let pa = va_in_window - WINDOW;
    ((((pa >> 12) << 6) | LO_CACHED | LO_D | LO_V) << 6) | PTE_PRESENT
}

/// Address of the PTE of `va` in the page table `pgd`, making the PTE page if `make`.
fn pte_slot(k: &mut Kernel, pgd: u32, va: u32, make: bool) -> Option<*mut u32> {
    let dir = (pgd + (va >> 22) * 4) as *mut u32;
    // SAFETY: `pgd` is a page-table page in the window; the index is below 1024.
    let mut table = unsafe { dir.read_volatile() };
    if table == k.pool.invalid_table {
        if !make {
            return None;
        }
        table = alloc_zeroed(k)?;
        // SAFETY: as above.
        unsafe { dir.write_volatile(table) };
    }
    Some((table + ((va >> 12) & 1023) * 4) as *mut u32)
}

/// A new process with `data_pages` of demand-mapped data at [`DATA_VA`], the user program in
/// its text page, and a new ASID (a full TLB flush when the ASIDs wrap, like Linux).
pub fn spawn(data_pages: u32) -> Option<Process> {
    let k = kernel();
    let mark = k.pool.next;
    let pgd = alloc_zeroed(k)?;
    for i in 0..1024 {
        // SAFETY: the new pgd page.
        unsafe { ((pgd + i * 4) as *mut u32).write_volatile(k.pool.invalid_table) };
    }
    if k.pool.next & PAGE != 0 {
        k.pool.next += PAGE; // text frame 8 KiB aligned, like TEXT_VA
    }
    let text = alloc_zeroed(k)?;
    let (code, len) = crate::user::code();
    // SAFETY: `code..code+len` is the program in the image; `text` is a fresh page.
    unsafe { core::ptr::copy_nonoverlapping(code as *const u8, text as *mut u8, len as usize) };
    mr_guest::arch::vectors::sync_icache(text, len);
    let slot = pte_slot(k, pgd, TEXT_VA, true)?;
    // SAFETY: the PTE slot in this process's table.
    unsafe { slot.write_volatile(pte_of(text)) };
    if k.next_asid > 255 {
        flush_tlb(k.tlb_entries);
        k.next_asid = 1;
    }
    let asid = k.next_asid;
    k.next_asid += 1;
    Some(Process {
        pgd,
        asid,
        data_pages,
        mark,
    })
}

/// Return every frame of `p` (and of anything made after it) to the pool.
pub fn exit(p: Process) {
    kernel().pool.next = p.mark;
}

/// Make `p` the current address space (pgd_current and the ASID in EntryHi).
pub fn switch_to(p: &Process) {
    let k = kernel();
    k.current.data_pages = p.data_pages;
    // SAFETY: read by the refill handler only while user code runs.
    unsafe { *core::ptr::addr_of_mut!(crate::entry::ub_pgd_current) = p.pgd };
    cp0::write_entryhi(p.asid);
}

/// Invalidate every TLB entry from Wired up (`local_flush_tlb_all`).
fn flush_tlb(entries: u32) {
    let old = cp0::read_entryhi();
    cp0::write_entrylo0(0);
    cp0::write_entrylo1(0);
    for i in cp0::read_wired()..entries {
        cp0::write_entryhi(0x8000_0000 + (i << 13));
        cp0::write_index(i);
        cp0::tlbwi();
    }
    cp0::write_entryhi(old);
}

/// TLBL/TLBS from user mode (called by `ub_tlb_fault`): map the page if the process may use it
/// and update the TLB; nonzero = the process dies.
#[no_mangle]
extern "C" fn ub_page_fault(va: u32, _cause: u32) -> u32 {
    let k = kernel();
    let in_data = va >= DATA_VA && va < DATA_VA + k.current.data_pages * PAGE;
    let in_stack = (STACK_LIMIT..STACK_TOP).contains(&va);
    let in_text = va & !(PAGE - 1) == TEXT_VA;
    if !(in_data || in_stack || in_text) {
        return 1;
    }
    // SAFETY: read-only here; the current process's pgd.
    let pgd = unsafe { *core::ptr::addr_of!(crate::entry::ub_pgd_current) };
    let Some(slot) = pte_slot(k, pgd, va, true) else {
        return 1;
    };
    // SAFETY: the PTE slot in the current table.
    if unsafe { slot.read_volatile() } & PTE_PRESENT == 0 {
        let Some(frame) = alloc_zeroed(k) else {
            return 1;
        };
        // SAFETY: as above.
        unsafe { slot.write_volatile(pte_of(frame)) };
    }
    // __update_tlb: probe for the pair under the current ASID, rewrite it (or a random one).
    let even = ((slot as u32) & !7) as *const u32;
    let asid = cp0::read_entryhi() & 0xFF;
    cp0::write_entryhi((va & !0x1FFF) | asid);
    cp0::tlbp();
    let index = cp0::read_index();
    // SAFETY: the two PTEs of the pair, in the current table.
    let (lo0, lo1) = unsafe { (even.read_volatile() >> 6, even.add(1).read_volatile() >> 6) };
    cp0::write_entrylo0(lo0);
    cp0::write_entrylo1(lo1);
    if index & 0x8000_0000 != 0 {
        cp0::tlbwr();
    } else {
        cp0::tlbwi();
    }
    0
}
