//! Probes of the commpage: the page the hypervisor may show a guest kernel at address 0, from
//! which its rewritten `mfc0` instructions load its CP0 registers. It must be read-only, show
//! nothing but this guest's own registers (always what `mfc0` reads), stay what it is whatever
//! the guest's TLB says about address 0, be seen by the guest kernel alone (not by its
//! supervisor mode, which runs in the same real mode), and a guest that writes over its own
//! (possibly rewritten) code must run what it wrote.

use core::arch::asm;

use mr_guest::arch::{cp0, vectors};
use mr_guest::fault;
use mr_guest::proto::exception;
use mr_guest::proto::probe::Outcome;

use crate::memory::write_must_fault;
use crate::Probes;

/// Code the probes write and run: four words.
#[repr(C, align(16))]
struct Code([u32; 4]);

static mut CODE: Code = Code([0; 4]);

/// Two pages the probes map at address 0 with the guest's own TLB.
#[repr(C, align(8192))]
struct Pages([u32; 2048]);

static mut PAGES: Pages = Pages([0; 2048]);

const JR_RA: u32 = 0x03E0_0008;
const NOP: u32 = 0;
/// `mfc0 $v0, Status` / `mfc0 $v0, EPC`.
const MFC0_V0_STATUS: u32 = 0x4002_6000;
const MFC0_V0_EPC: u32 = 0x4002_7000;
/// `addiu $v0, $zero, 0x1234`.
const LI_V0_1234: u32 = 0x2402_1234;
/// `sw $v0, 0x180($zero)`: a store to where a rewritten `mfc0 Status` loads from.
const SW_V0_STATUS_WORD: u32 = 0xAC02_0180;

/// Write `words` as the code buffer, make them visible to fetch (`synci`, as any guest that
/// writes code does) and call it; a fault is returned as an error.
fn run(words: [u32; 4]) -> Result<u32, mr_guest::proto::probe::Fault> {
    install(words);
    call()
}

/// Write `words` as the code buffer and make them visible to fetch.
fn install(words: [u32; 4]) {
    let code = core::ptr::addr_of_mut!(CODE) as *mut u32;
    for (k, w) in words.iter().enumerate() {
        // SAFETY: the probe's own buffer; nothing else uses it.
        unsafe { code.add(k).write_volatile(*w) };
    }
    vectors::sync_icache(code as u32, 16);
}

/// Call the code buffer as it is now (possibly rewritten by the hypervisor).
fn call() -> Result<u32, mr_guest::proto::probe::Fault> {
    let code = core::ptr::addr_of_mut!(CODE) as *mut u32;
    // SAFETY: the buffer holds a complete leaf function ending in `jr $ra` (its delay slot
    // included); it touches only $v0 (and memory a probe names, under the catcher).
    unsafe {
        fault::catch(|| {
            let f: extern "C" fn() -> u32 = core::mem::transmute(code as usize);
            f()
        })
    }
}

/// The word at `k` of the code buffer as the guest reads it back.
fn code_word(k: usize) -> u32 {
    // SAFETY: the probe's own buffer.
    unsafe {
        (core::ptr::addr_of!(CODE) as *const u32)
            .add(k)
            .read_volatile()
    }
}

/// Commpage probes.
pub fn run_all(p: &mut Probes) {
    rewritten_code(p);
    page_0(p);
    supervisor_page_0(p);
}

/// A guest kernel rewriting and racing its own CP0 code.
fn rewritten_code(p: &mut Probes) {
    let status =
        cp0::without_interrupts(|| (run([MFC0_V0_STATUS, JR_RA, NOP, NOP]), cp0::read_status()));
    let again =
        cp0::without_interrupts(|| (run([MFC0_V0_STATUS, JR_RA, NOP, NOP]), cp0::read_status()));
    let first = code_word(0);
    p.check(
        "mfc0-status-twice",
        matches!((status, again), ((Ok(a), s1), (Ok(b), s2)) if a == s1 && b == s2),
        format_args!("{status:x?} {again:x?}; the word now reads {first:#010x}"),
    );
    // The same word overwritten with an ordinary instruction must run as written.
    let mut outcome = match run([LI_V0_1234, JR_RA, NOP, NOP]) {
        Ok(0x1234) => None,
        other => Some(Outcome::not_contained(format_args!(
            "wrote li $v0, 0x1234 over the mfc0 and ran {other:x?}"
        ))),
    };
    // EPC written (the assembly path), then read through the same site, written once (trapped
    // the first time, then possibly rewritten): each read must show the last write.
    // (Interrupts off: an interrupt would set EPC itself.)
    cp0::without_interrupts(|| {
        install([MFC0_V0_EPC, JR_RA, NOP, NOP]);
        for value in [0xC012_3400, 0xC056_7800, 0xC09A_BC00] {
            if outcome.is_some() {
                break;
            }
            cp0::write_epc(value);
            for _ in 0..2 {
                match call() {
                    Ok(v) if v == value => {}
                    other => {
                        outcome = Some(Outcome::not_contained(format_args!(
                            "mfc0 EPC read {other:x?} after mtc0 EPC {value:#010x}"
                        )))
                    }
                }
            }
        }
        // The same in a delay slot.
        if outcome.is_none() {
            install([JR_RA, MFC0_V0_EPC, NOP, NOP]);
            for value in [0xC0DE_0000, 0xC0DE_1000] {
                cp0::write_epc(value);
                match call() {
                    Ok(v) if v == value => {}
                    other => {
                        outcome = Some(Outcome::not_contained(format_args!(
                            "mfc0 EPC in a delay slot read {other:x?}"
                        )))
                    }
                }
            }
        }
    });
    p.report(
        "rewritten-code-race",
        outcome.unwrap_or_else(|| {
            Outcome::contained(format_args!(
                "ran what it wrote; mfc0 read back as {first:#010x}, EPC reads followed writes"
            ))
        }),
    );
    // A store where the rewritten load reads Status.
    p.report(
        "commpage-store",
        match run([SW_V0_STATUS_WORD, JR_RA, NOP, NOP]) {
            Err(f) => Outcome::fault(f),
            Ok(_) => Outcome::not_contained(format_args!("sw to 0x180 completed")),
        },
    );
    p.report("commpage-write", write_must_fault(0x0000_0000));
}

/// Address 0 read from kernel mode, and the guest's own TLB mapping over it.
fn page_0(p: &mut Probes) {
    // Address 0 shows the guest's own Status, or faults (no commpage).
    let (read, status) = cp0::without_interrupts(|| {
        // SAFETY: a probe: a read at 0x180 may fault.
        (unsafe { fault::read_u32(0x180) }, cp0::read_status())
    });
    p.report(
        "commpage-read",
        match read {
            Err(f) => Outcome::fault(f),
            Ok(v) if v == status => {
                Outcome::contained(format_args!("0x180 shows the guest's own Status {v:#010x}"))
            }
            Ok(v) => Outcome::not_contained(format_args!(
                "read {v:#010x} at 0x180, own Status {status:#010x}"
            )),
        },
    );
    // The guest's TLB maps pair 0 onto its own two pages (marked): address 0 still shows the
    // commpage or the guest's own page 0, the odd page the guest's own page 1, a store never
    // reaches anything else.
    let pages = core::ptr::addr_of_mut!(PAGES) as *mut u32;
    // SAFETY: the probe's own pages.
    unsafe {
        pages.add(0x200).write_volatile(0x5041_4730); // "PAG0" at 0x800
        pages.add(1024 + 4).write_volatile(0x5041_4731); // "PAG1" at 0x1010
    }
    let phys = pages as u32 - 0xC000_0000;
    let lo = |pa: u32| ((pa >> 12) << 6) | (3 << 3) | 0b111; // C 3, D, V, G
    let index = ((cp0::read_config1() >> 25) & 0x3F) as u32; // the last entry
    let outcome = cp0::without_interrupts(|| {
        cp0::write_pagemask(0);
        cp0::write_entryhi(0);
        cp0::write_entrylo0(lo(phys));
        cp0::write_entrylo1(lo(phys + 0x1000));
        cp0::write_index(index);
        cp0::tlbwi();
        // SAFETY: probes of address 0..0x2000, now the guest's own mapping (or its commpage):
        // reads of memory, under the catcher.
        let even = unsafe { fault::read_u32(0x800) };
        // SAFETY: as above.
        let odd = unsafe { fault::read_u32(0x1010) };
        // SAFETY: a store to the guest's own page (through its mapping) or to its read-only
        // commpage, which must fault; under the catcher.
        let store = unsafe { fault::write_u32(0x804, 0x5354_4F52) };
        let status = cp0::read_status();
        // SAFETY: as the first read.
        let at_status = unsafe { fault::read_u32(0x180) };
        // Unmapped again (a unique kseg0 VPN2, as Linux flushes).
        cp0::write_entryhi(0x8000_0000 + (index << 13));
        cp0::write_entrylo0(0);
        cp0::write_entrylo1(0);
        cp0::tlbwi();
        // SAFETY: the probe's own page.
        let stored = unsafe { pages.add(0x201).read_volatile() };
        let even_ok = matches!(even, Ok(0) | Ok(0x5041_4730) | Err(_));
        let odd_ok = odd == Ok(0x5041_4731);
        let store_ok = store.is_err() || stored == 0x5354_4F52;
        let status_ok = matches!(at_status, Ok(v) if v == status || v == 0);
        if even_ok && odd_ok && store_ok && status_ok {
            Outcome::contained(format_args!(
                "0x800 read {even:x?}, 0x1010 the guest's own page, store {}",
                if store.is_err() {
                    "faulted"
                } else {
                    "reached its own page"
                }
            ))
        } else {
            Outcome::not_contained(format_args!(
                "0x800 {even:x?}, 0x1010 {odd:x?}, store {store:?} (own page {stored:#x}), \
                 0x180 {at_status:x?} with Status {status:#x}"
            ))
        }
    });
    p.report("commpage-tlb-alias", outcome);
}

/// Address 0 from the guest's supervisor mode (KSU = 01, EXL = ERL = 0), entered by a Status
/// write right after the guest kernel read the commpage there: supervisor mode is not kernel
/// mode, so the load must take the guest's own TLB refill (its TLB maps nothing at 0), not
/// read the kernel's registers.
fn supervisor_page_0(p: &mut Probes) {
    let old = cp0::di();
    let supervisor = (old & !0x1F) | (1 << 3);
    // SAFETY: a probe: a kernel-mode read at 0x180 (the commpage, or a fault), then in
    // supervisor mode a load there, which must fault; were it served, the `break` returns to
    // kernel mode through the catcher. Status is restored below.
    let r = unsafe {
        let _ = fault::read_u32(0x180);
        fault::catch(|| {
            let v: u32;
            asm!(
                ".set push",
                ".set noreorder",
                "mtc0 {status}, $12",
                "ehb",
                "lw {v}, 0x180($0)",
                "break",                // runs only if the load completed
                ".set pop",
                status = in(reg) supervisor,
                v = out(reg) v,
                options(nostack),
            );
            v
        })
    };
    cp0::write_status(old);
    p.report(
        "commpage-supervisor",
        match r {
            Err(f) if f.code == exception::TLBL && f.bad_vaddr == 0x180 => Outcome::fault(f),
            Err(f) if f.code == exception::BP => Outcome::not_contained(format_args!(
                "supervisor mode loaded from 0x180 (the guest kernel's commpage)"
            )),
            Err(f) => Outcome::not_contained(format_args!("{f} instead of TLBL at 0x180")),
            Ok(v) => Outcome::not_contained(format_args!("read {v:#010x} at 0x180")),
        },
    );
}
