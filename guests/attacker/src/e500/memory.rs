//! Memory probes: addresses outside the RAM window, and TLB entries of the guest's own making
//! that name frames outside its partition.

use mr_guest::arch::spr::{self, MAS0_TLB1, MAS1_TSIZE_SHIFT, MAS1_V, MAS3_SUPERVISOR_RW};
use mr_guest::fault;
use mr_guest::proto::probe::Outcome;

use super::must_fault;
use crate::Probes;

/// Where the probes map their entries (below the RAM window, used for nothing else).
const PROBE_VA: u32 = 0x4000_0000;
/// The TLB1 entry the probes use (the host's boot entry is entry 0).
const PROBE_ESEL: u32 = 12;
/// The CCSR of qemu-ppce500 / the MPC8544 (36-bit): MAS7 and MAS3 parts.
const CCSR_HIGH: u32 = 0xF;
const CCSR_LOW: u32 = 0xE000_0000;

fn read(va: u32) -> Result<u32, mr_guest::proto::probe::Fault> {
    // SAFETY: a probe: the read must fault; if it does not, it reads memory, nothing else.
    unsafe { fault::read_u32(va) }
}

fn write(va: u32) -> Result<u32, mr_guest::proto::probe::Fault> {
    // SAFETY: a probe: the write must fault; where it would succeed it lands outside this
    // guest's RAM, which is what the probe reports.
    unsafe { fault::write_u32(va, 0xDEAD_BEEF) }.map(|()| 0)
}

fn exec(va: u32) -> Result<u32, mr_guest::proto::probe::Fault> {
    // SAFETY: a probe: the jump must fault at the fetch; the closure owns nothing.
    unsafe {
        fault::catch(|| {
            let f: extern "C" fn() -> u32 = core::mem::transmute(va as usize);
            f()
        })
    }
}

/// Reads, writes and a jump at addresses outside the RAM window.
pub fn window(p: &mut Probes) {
    let end = p.ram_end;
    for (name, result) in [
        ("low-read", read(0x0000_1000)),
        ("low-write", write(0x0000_1000)),
        ("low-exec", exec(0x0000_1000)),
        ("above-ram-read", read(end)),
        ("above-ram-write", write(end)),
        ("above-ram-exec", exec(end)),
        ("ccsr-va-read", read(0xFE00_0000)),
        ("top-read", read(0xFFFF_F000)),
    ] {
        p.report(name, must_fault(result, format_args!("access succeeded")));
    }
}

fn unmap(mas0: u32, va: u32) {
    // SAFETY: invalidates only the probe's own entry.
    unsafe { spr::tlbwe(mas0, 0, va, 0, 0) };
}

/// TLB entries onto foreign frames: TLB0 past RAM and on the CCSR, TLB1 with every page size
/// from 4 KiB to 1 GiB past the partition, TLB1 over the CCSR, and a 1 GiB entry from
/// guest-physical 0 read past the RAM's end.
pub fn tlb(p: &mut Probes) {
    let ram = p.ram_bytes;
    // TLB0 (4 KiB): just past RAM, and the CCSR through MAS7.
    let tlb0 = 1 << 16;
    // SAFETY: an entry of the guest's own at an address it does not otherwise use.
    unsafe {
        spr::tlbwe(
            tlb0,
            MAS1_V | 1 << MAS1_TSIZE_SHIFT,
            PROBE_VA,
            ram | MAS3_SUPERVISOR_RW,
            0,
        )
    };
    p.report(
        "tlb0-past-ram-read",
        must_fault(read(PROBE_VA), format_args!("read past RAM")),
    );
    p.report(
        "tlb0-past-ram-write",
        must_fault(write(PROBE_VA), format_args!("wrote past RAM")),
    );
    unmap(tlb0, PROBE_VA);
    // SAFETY: as above.
    unsafe {
        spr::tlbwe(
            tlb0,
            MAS1_V | 1 << MAS1_TSIZE_SHIFT,
            PROBE_VA,
            CCSR_LOW | MAS3_SUPERVISOR_RW,
            CCSR_HIGH,
        )
    };
    p.report(
        "tlb0-ccsr-read",
        must_fault(read(PROBE_VA), format_args!("read the CCSR")),
    );
    unmap(tlb0, PROBE_VA);

    // TLB1 with every page size up to 1 GiB: the frame just past RAM (rounded up to the
    // page size), or for pages larger than RAM the page from 0, read past RAM's end.
    let tlb1 = MAS0_TLB1 | PROBE_ESEL << 16;
    let mut escaped = None;
    let mut evidence = None;
    for tsize in 1..=10u32 {
        let page = 1024u64 << (2 * tsize);
        let (rpn, offset) = if page <= u64::from(ram) {
            (ram.next_multiple_of(page as u32), 0)
        } else {
            (0, ram)
        };
        // SAFETY: as above; PROBE_VA is aligned to every size up to 1 GiB.
        unsafe {
            spr::tlbwe(
                tlb1,
                MAS1_V | tsize << MAS1_TSIZE_SHIFT,
                PROBE_VA,
                rpn | MAS3_SUPERVISOR_RW,
                0,
            )
        };
        match read(PROBE_VA + offset) {
            Ok(v) => {
                escaped.get_or_insert((tsize, v));
            }
            Err(f) => {
                evidence.get_or_insert(f);
            }
        }
        unmap(tlb1, PROBE_VA);
    }
    p.report(
        "tlb1-every-size-past-ram",
        match (escaped, evidence) {
            (Some((tsize, v)), _) => Outcome::not_contained(format_args!(
                "read past RAM through a {} KiB page ({v:#010x})",
                1u64 << (2 * tsize)
            )),
            (None, Some(f)) => {
                Outcome::contained(format_args!("10 page sizes, first: {}", super::Evidence(f)))
            }
            (None, None) => Outcome::contained(format_args!("no page size tried")),
        },
    );
    // TLB1 over the CCSR (1 MiB) and over the high physical space (256 MiB at 0xF_0000_0000).
    for (name, tsize, low, high) in [
        ("tlb1-ccsr-read", 5, CCSR_LOW, CCSR_HIGH),
        ("tlb1-high-physical-read", 9, 0, CCSR_HIGH),
        ("tlb1-4g-physical-read", 9, 0xF000_0000, 0),
    ] {
        // SAFETY: as above.
        unsafe {
            spr::tlbwe(
                tlb1,
                MAS1_V | tsize << MAS1_TSIZE_SHIFT,
                PROBE_VA,
                low | MAS3_SUPERVISOR_RW,
                high,
            )
        };
        p.report(
            name,
            must_fault(read(PROBE_VA), format_args!("read a foreign frame")),
        );
        unmap(tlb1, PROBE_VA);
    }
    // A protected (IPROT) 1 GiB entry from guest-physical 0 over the probe window, read and
    // written past RAM: the partition ends where RAM does, whatever the page says.
    // SAFETY: as above.
    unsafe {
        spr::tlbwe(
            tlb1,
            MAS1_V | spr::MAS1_IPROT | 10 << MAS1_TSIZE_SHIFT,
            PROBE_VA,
            MAS3_SUPERVISOR_RW,
            0,
        )
    };
    let own = read(PROBE_VA + 0x10_0000);
    p.check(
        "tlb1-own-ram",
        own.is_ok(),
        format_args!("the image's first word through the 1 GiB page: {own:x?}"),
    );
    p.report(
        "tlb1-1g-past-ram-read",
        must_fault(read(PROBE_VA + ram), format_args!("read past RAM")),
    );
    p.report(
        "tlb1-1g-top-write",
        must_fault(
            write(PROBE_VA + 0x3FFF_F000),
            format_args!("wrote 1 GiB in"),
        ),
    );
    // SAFETY: clears the protected probe entry (IPROT off first: tlbwe replaces it whole).
    unsafe { spr::tlbwe(tlb1, 0, PROBE_VA, 0, 0) };
}
