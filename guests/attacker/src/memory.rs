//! Probes of memory: every MIPS segment, and TLB entries mapping frames outside the guest's RAM.

use mr_guest::arch::cp0;
use mr_guest::fault;
use mr_guest::proto::probe::Outcome;

use crate::Probes;

/// A value written by write probes ("MRAT").
const MARKER: u32 = 0x4D52_4154;
/// Unmapped guest-virtual area (the guest's own vmalloc space) used for probe mappings.
const MAP_BASE: u32 = 0xD000_0000;

/// Read `addr`; a fault is the expected outcome.
pub fn read_must_fault(addr: u32) -> Outcome {
    // SAFETY: a probe: reading outside the guest's RAM must fault; a value read is reported.
    match unsafe { fault::read_u32(addr) } {
        Err(f) => Outcome::fault(f),
        Ok(v) => Outcome::not_contained(format_args!("read {v:#010x} at {addr:#010x}")),
    }
}

/// Write [`MARKER`] at `addr`; a fault is the expected outcome.
pub fn write_must_fault(addr: u32) -> Outcome {
    // SAFETY: a probe: the address is outside the guest's RAM, where a write must fault.
    match unsafe { fault::write_u32(addr, MARKER) } {
        Err(f) => Outcome::fault(f),
        Ok(()) => Outcome::not_contained(format_args!("write to {addr:#010x} completed")),
    }
}

/// Jump to `addr`; a fault is the expected outcome.
pub fn exec_must_fault(addr: u32) -> Outcome {
    // SAFETY: a probe: fetching outside the guest's RAM must fault before anything runs.
    let r = unsafe {
        fault::catch(|| {
            let f: extern "C" fn() -> u32 = core::mem::transmute(addr as usize);
            f()
        })
    };
    match r {
        Err(f) => Outcome::fault(f),
        Ok(v) => Outcome::not_contained(format_args!(
            "code at {addr:#010x} ran and returned {v:#010x}"
        )),
    }
}

/// Reads, writes and fetches through useg, kseg0, kseg1, kseg2 above the RAM, kseg3.
pub fn segments(p: &mut Probes) {
    let end = p.ram_end;
    p.report("useg-read", read_must_fault(0x0000_1000));
    p.report("useg-write", write_must_fault(0x0000_1000));
    p.report("useg-top-read", read_must_fault(0x7FFF_F000));
    p.report("kseg0-read", read_must_fault(0x8000_0000));
    p.report("kseg0-write", write_must_fault(0x8000_0000));
    p.report("kseg0-exec", exec_must_fault(0x8000_0180));
    p.report("kseg0-16m-read", read_must_fault(0x8100_0000));
    p.report("kseg0-16m-write", write_must_fault(0x8100_0000));
    p.report("kseg1-read", read_must_fault(0xA000_0000));
    p.report("kseg1-write", write_must_fault(0xA000_0000));
    p.report("kseg1-bootrom-read", read_must_fault(0xBFC0_0000));
    p.report("kseg2-above-ram-read", read_must_fault(end));
    p.report("kseg2-above-ram-write", write_must_fault(end));
    p.report("kseg2-above-ram-exec", exec_must_fault(end));
    p.report("kseg2-window-top-read", read_must_fault(0xCFFF_F000));
    p.report("kseg2-vmalloc-read", read_must_fault(MAP_BASE));
    p.report("kseg3-read", read_must_fault(0xE000_0000));
    p.report("kseg3-write", write_must_fault(0xE000_0000));
    p.report("kseg3-top-read", read_must_fault(0xFFFF_F000));
}

/// EntryLo for guest-physical `phys`: cacheable (3), dirty, valid, global.
fn entry_lo(phys: u32) -> u32 {
    ((phys >> 12) << 6) | (3 << 3) | 0b111
}

/// Write one TLB entry (at `index`, or at Random when `None`) inside a fault catcher.
fn map(
    index: Option<u32>,
    vaddr: u32,
    lo0: u32,
    lo1: u32,
    page_mask: u32,
) -> Result<(), mr_guest::proto::probe::Fault> {
    // SAFETY: only the guest's own (virtual) TLB changes; the closure owns nothing.
    unsafe {
        fault::catch(|| {
            cp0::write_pagemask(page_mask);
            cp0::write_entryhi(vaddr & !0x1FFF);
            cp0::write_entrylo0(lo0);
            cp0::write_entrylo1(lo1);
            match index {
                Some(i) => {
                    cp0::write_index(i);
                    cp0::tlbwi();
                }
                None => cp0::tlbwr(),
            }
            0
        })
    }
    .map(|_| ())
}

/// TLB entries of the (virtual) TLB, from Config1.MMUSize.
fn tlb_entries() -> u32 {
    ((cp0::read_config1() >> 25) & 0x3F) + 1
}

/// Invalidate every entry with unique VPNs (as Linux's `local_flush_tlb_all`).
fn flush(entries: u32) {
    for i in 0..entries {
        let _ = map(Some(i), MAP_BASE + 0x0800_0000 + (i << 13), 0, 0, 0);
    }
    cp0::write_pagemask(0);
}

/// Map a frame then read through the mapping: the read must fault.
fn mapped_read(
    index: Option<u32>,
    vaddr: u32,
    lo0: u32,
    lo1: u32,
    mask: u32,
    read_at: u32,
) -> Outcome {
    if let Err(f) = map(index, vaddr, lo0, lo1, mask) {
        return Outcome::fault(f);
    }
    read_must_fault(read_at)
}

/// TLB probes.
pub fn tlb(p: &mut Probes) {
    let entries = tlb_entries();
    // What the guest finds in its TLB before writing anything.
    let mut outside = None;
    let mut valid = 0;
    for i in 0..entries {
        // SAFETY: `tlbr` only loads the guest's own (virtual) TLB entry into CP0 registers.
        let r = unsafe {
            fault::catch(|| {
                cp0::write_index(i);
                cp0::tlbr();
                0
            })
        };
        if r.is_err() {
            continue;
        }
        for lo in [cp0::read_entrylo0(), cp0::read_entrylo1()] {
            if lo & 2 != 0 {
                valid += 1;
                let phys = (lo >> 6) << 12;
                if phys >= p.ram_bytes && outside.is_none() {
                    outside = Some((i, cp0::read_entryhi(), lo));
                }
            }
        }
    }
    p.report(
        "tlbr-initial",
        match outside {
            Some((i, hi, lo)) => Outcome::not_contained(format_args!(
                "entry {i} hi {hi:#010x} maps frame {lo:#010x} outside RAM"
            )),
            None => Outcome::contained(format_args!(
                "{valid} valid halves of {entries} entries, none outside RAM"
            )),
        },
    );
    flush(entries);
    // The guest's own frames must be reachable through its TLB (else the probes below prove
    // nothing).
    let own = map(
        Some(1),
        MAP_BASE,
        entry_lo(0x0010_0000),
        entry_lo(0x0010_1000),
        0,
    );
    // SAFETY: reads of the guest's own image through two mappings of it.
    let (through_tlb, direct) =
        unsafe { (fault::read_u32(MAP_BASE), fault::read_u32(0xC010_0000)) };
    p.check(
        "tlb-own-frame",
        own.is_ok() && through_tlb.is_ok() && through_tlb == direct,
        format_args!(
            "{:?} via {MAP_BASE:#010x}, {:?} direct",
            through_tlb.map_err(|f| f.code),
            direct.map_err(|f| f.code)
        ),
    );
    let above = p.ram_bytes;
    p.report(
        "tlbwi-frame-above-ram-read",
        mapped_read(
            Some(2),
            MAP_BASE + 0x2000,
            entry_lo(above),
            0,
            0,
            MAP_BASE + 0x2000,
        ),
    );
    p.report(
        "tlbwi-frame-above-ram-write",
        write_must_fault(MAP_BASE + 0x2000),
    );
    p.report(
        "tlbwi-frame-bootrom-read",
        mapped_read(
            Some(3),
            MAP_BASE + 0x4000,
            0,
            entry_lo(0x1FC0_0000),
            0,
            MAP_BASE + 0x5000,
        ),
    );
    p.report(
        "tlbwi-frame-io-read",
        mapped_read(
            Some(4),
            MAP_BASE + 0x6000,
            entry_lo(0x1F00_0000),
            0,
            0,
            MAP_BASE + 0x6000,
        ),
    );
    p.report(
        "tlbwr-frame-high-read",
        mapped_read(
            None,
            MAP_BASE + 0x8000,
            entry_lo(0x0800_0000.max(above + 0x0010_0000)),
            0,
            0,
            MAP_BASE + 0x8000,
        ),
    );
    // A 64 MiB page pair starting at guest-physical 0 reaches past a smaller RAM.
    if above < (128 << 20) {
        let mask_64m = 0x07FF_E000;
        let base = 0xD800_0000;
        p.report(
            "tlbwi-large-page-read",
            mapped_read(
                Some(5),
                base,
                entry_lo(0),
                entry_lo(64 << 20),
                mask_64m,
                base + above,
            ),
        );
        flush(entries);
    }
    p.report(
        "tlbwi-kseg0-vpn-read",
        mapped_read(
            Some(6),
            0x8000_0000,
            entry_lo(0x0010_0000),
            0,
            0,
            0x8000_0000,
        ),
    );
    // SAFETY: a probe of the TLB index range; only the guest's own TLB is involved.
    let bad_index = unsafe {
        fault::catch(|| {
            cp0::write_pagemask(0);
            cp0::write_entryhi(MAP_BASE + 0xA000);
            cp0::write_entrylo0(entry_lo(0x0010_0000));
            cp0::write_entrylo1(0);
            cp0::write_index(0x3F);
            cp0::tlbwi();
            0
        })
    };
    p.report(
        "tlbwi-bad-index",
        match bad_index {
            Err(f) => Outcome::fault(f),
            Ok(_) => {
                Outcome::host_checked(format_args!("tlbwi at index 63 of {entries} completed"))
            }
        },
    );
    // Wired: pin everything, then let tlbwr run over the TLB.
    let wired_before = cp0::read_wired();
    cp0::write_wired(entries - 1);
    let wired_read = cp0::read_wired();
    let mut writes = 0;
    for i in 0..64u32 {
        if map(
            None,
            MAP_BASE + 0x0100_0000 + (i << 13),
            entry_lo(0x0010_0000),
            0,
            0,
        )
        .is_ok()
        {
            writes += 1;
        }
    }
    cp0::write_wired(wired_before);
    p.report(
        "wired-write",
        Outcome::host_checked(format_args!(
            "Wired read back {wired_read} of {entries}, {writes} tlbwr done"
        )),
    );
    flush(entries);
}
