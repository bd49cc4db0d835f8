//! One test per rule: start from a valid image, break one thing, expect exactly that error.

use super::*;
use crate::fuzz::samples::{elf_image, mips_kernel, powerpc_kernel, SampleSegment};
use alloc::format;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use guest_mem::GuestArch;

const MIB: u32 = 1 << 20;

fn mips_spec(size: u32) -> ElfSpec {
    ElfSpec::for_guest(&GuestArch::MIPS32, size).unwrap()
}

fn seg(vaddr: u32, flags: u32, len: u32, mem: u32) -> SampleSegment {
    SampleSegment {
        vaddr,
        paddr: vaddr,
        flags,
        data: vec![0xAB; len as usize],
        mem_size: mem,
    }
}

fn patch16(img: &mut [u8], at: usize, v: u16) {
    img[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

fn patch32(img: &mut [u8], at: usize, v: u32) {
    img[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// Offset of field `word` (0 = p_type .. 7 = p_align) of program header `index`.
fn ph(index: usize, word: usize) -> usize {
    52 + 32 * index + 4 * word
}

fn err(img: &[u8], spec: &ElfSpec) -> ElfError {
    parse_elf(img, spec).unwrap_err()
}

#[test]
fn loads_segments_zeroes_bss_and_leaves_the_rest() {
    let img = mips_kernel(0x300, 0x80, 0x200);
    let spec = mips_spec(2 * MIB);
    let mut ram = vec![0xEEu8; 2 * MIB as usize];
    let loaded = load_elf(&img, &spec, &mut ram).unwrap();
    assert_eq!(loaded.entry, 0xC010_0000);
    assert_eq!(loaded.entry_offset, 0x10_0000);
    assert_eq!(loaded.start_offset, 0x10_0000);
    assert_eq!(loaded.end_offset, 0x10_1000 + 0x80 + 0x200);
    assert_eq!(loaded.end, 0xC010_1280);
    let text: Vec<u8> = (0..0x300u32).map(|i| (i as u8) ^ 0x5A).collect();
    assert_eq!(&ram[0x10_0000..0x10_0300], &text[..]);
    assert_eq!(ram[0x10_0300], 0xEE, "gap between segments untouched");
    assert_eq!(ram[0x10_1001], 3);
    assert!(
        ram[0x10_1080..0x10_1280].iter().all(|&b| b == 0),
        "bss zeroed"
    );
    assert_eq!(ram[0x10_1280], 0xEE);
    assert_eq!(ram[0xFFFFF], 0xEE);
}

#[test]
fn powerpc_kernel_is_placed_by_physical_address() {
    let img = powerpc_kernel(0x100, 0x40);
    let spec = ElfSpec::for_guest(&GuestArch::E500, MIB).unwrap();
    let mut ram = vec![0xEEu8; MIB as usize];
    let loaded = load_elf(&img, &spec, &mut ram).unwrap();
    assert_eq!(
        (loaded.entry, loaded.entry_offset, loaded.end_offset),
        (0x8000_0000, 0, 0x140)
    );
    assert_eq!(ram[0], 0xA5);
    assert!(ram[0x100..0x140].iter().all(|&b| b == 0));
    // The same kernel on a MIPS spec: wrong machine.
    assert_eq!(
        err(&img, &mips_spec(MIB)),
        ElfError::WrongMachine {
            found: 20,
            expected: Machine::Mips
        }
    );
}

#[test]
fn header_identity_rules() {
    let good = mips_kernel(0x40, 0, 0);
    let spec = mips_spec(2 * MIB);
    assert_eq!(err(&good[..51], &spec), ElfError::TooShort { len: 51 });
    let cases: [(usize, u8, ElfError); 4] = [
        (0, 0x7E, ElfError::NotElf),
        (4, 2, ElfError::NotElf32 { class: 2 }),
        (5, 1, ElfError::NotBigEndian { data: 1 }),
        (6, 0, ElfError::BadVersion { version: 0 }),
    ];
    for (at, value, expected) in cases {
        let mut img = good.clone();
        img[at] = value;
        assert_eq!(err(&img, &spec), expected, "byte {at}");
    }
    let mut img = good.clone();
    patch16(&mut img, 16, 3);
    assert_eq!(err(&img, &spec), ElfError::NotExecutable { e_type: 3 });
    let mut img = good.clone();
    patch32(&mut img, 20, 2);
    assert_eq!(err(&img, &spec), ElfError::BadVersion { version: 2 });
}

#[test]
fn mips_flags_must_name_a_32_bit_o32_isa() {
    let spec = mips_spec(2 * MIB);
    for (flags, ok) in [
        (0x7000_1005, true),
        (0x5000_1005, true),
        (0x1000_0000, true),
        (0x6000_0000, false), // MIPS64
        (0x9000_1005, false), // MIPS32r6
        (0x7000_1025, false), // n32 ABI
        (0x7200_1005, false), // microMIPS
    ] {
        let mut img = mips_kernel(0x40, 0, 0);
        patch32(&mut img, 36, flags);
        let r = parse_elf(&img, &spec);
        assert_eq!(r.is_ok(), ok, "flags {flags:#x}");
        if !ok {
            assert_eq!(r.unwrap_err(), ElfError::UnsupportedMipsFlags { flags });
        }
    }
}

#[test]
fn header_size_and_table_rules() {
    let spec = mips_spec(2 * MIB);
    let good = mips_kernel(0x40, 0x10, 0);
    let mut img = good.clone();
    patch16(&mut img, 42, 56);
    assert_eq!(
        err(&img, &spec),
        ElfError::BadHeaderSizes {
            ehsize: 52,
            phentsize: 56
        }
    );
    let mut img = good.clone();
    patch16(&mut img, 44, 0);
    assert_eq!(
        err(&img, &spec),
        ElfError::BadProgramHeaderCount { phnum: 0 }
    );
    let mut img = good.clone();
    patch16(&mut img, 44, 65);
    assert_eq!(
        err(&img, &spec),
        ElfError::BadProgramHeaderCount { phnum: 65 }
    );
    let mut img = good.clone();
    img.resize(0x2000, 0);
    patch32(&mut img, 28, 0x1000 - 32);
    assert_eq!(
        err(&img, &spec),
        ElfError::ProgramHeadersOutOfBounds {
            start: 0xFE0,
            end: 0x1020,
            limit: 4096
        }
    );
    let mut img = good.clone();
    patch32(&mut img, 28, 20);
    assert!(matches!(
        err(&img, &spec),
        ElfError::ProgramHeadersOutOfBounds { start: 20, .. }
    ));
    let mut img = good.clone();
    let len = img.len() as u64;
    patch32(&mut img, 32, 0x100);
    patch16(&mut img, 48, 10);
    assert_eq!(
        err(&img, &spec),
        ElfError::SectionHeadersOutOfBounds {
            start: 0x100,
            end: 0x100 + 400,
            file_len: len
        }
    );
}

#[test]
fn dynamic_images_are_refused() {
    let mut img = mips_kernel(0x40, 0x10, 0);
    patch32(&mut img, ph(1, 0), 3);
    assert_eq!(
        err(&img, &mips_spec(2 * MIB)),
        ElfError::DynamicallyLinked { index: 1 }
    );
}

#[test]
fn segment_count_rules() {
    let spec = mips_spec(2 * MIB);
    let many: Vec<SampleSegment> = (0..17)
        .map(|i| seg(0xC010_0000 + i * 0x1000, 5, 4, 4))
        .collect();
    let img = elf_image(8, 0xC010_0000, &many);
    assert_eq!(err(&img, &spec), ElfError::TooManyLoadSegments { max: 16 });
    assert!(parse_elf(&elf_image(8, 0xC010_0000, &many[..16]), &spec).is_ok());
    let mut img = mips_kernel(0x40, 0x10, 0);
    for i in 0..2 {
        patch32(&mut img, ph(i, 4), 0);
        patch32(&mut img, ph(i, 5), 0);
    }
    assert_eq!(err(&img, &spec), ElfError::NoLoadSegments);
}

#[test]
fn segment_size_and_file_rules() {
    let spec = mips_spec(2 * MIB);
    let mut img = mips_kernel(0x40, 0x10, 0);
    patch32(&mut img, ph(1, 4), 0x11);
    assert_eq!(
        err(&img, &spec),
        ElfError::FileSizeExceedsMemSize {
            index: 1,
            file_size: 0x11,
            mem_size: 0x10
        }
    );
    let mut img = mips_kernel(0x40, 0x10, 0x100);
    let len = img.len() as u64;
    patch32(&mut img, ph(1, 1), 0xFFFF_FFF0);
    assert_eq!(
        err(&img, &spec),
        ElfError::SegmentDataOutsideFile {
            index: 1,
            offset: 0xFFFF_FFF0,
            end: 0x1_0000_0000,
            file_len: len
        }
    );
}

#[test]
fn segments_must_lie_in_the_window() {
    let spec = mips_spec(128 * MIB);
    let segs = [
        seg(0xC010_0000, 5, 0x10, 0x10),
        seg(0xC020_0000, 6, 0x10, 0x10),
        seg(0xC7F0_0000, 6, 0x10, 0x120_0000),
    ];
    let e = err(&elf_image(8, 0xC010_0000, &segs), &spec);
    assert_eq!(
        e.to_string(),
        "segment 2 at 0xC7F0_0000..0xC910_0000 lies outside the guest window 0xC000_0000..0xC800_0000"
    );
    // Ending exactly at the window's end is fine; one byte more is not.
    let edge = [
        seg(0xC010_0000, 5, 0x10, 0x10),
        seg(0xC7FF_F000, 6, 0, 0x1000),
    ];
    assert!(parse_elf(&elf_image(8, 0xC010_0000, &edge), &spec).is_ok());
    let over = [
        seg(0xC010_0000, 5, 0x10, 0x10),
        seg(0xC7FF_F000, 6, 0, 0x1001),
    ];
    assert!(matches!(
        err(&elf_image(8, 0xC010_0000, &over), &spec),
        ElfError::SegmentOutsideWindow {
            index: 1,
            end: 0xC800_0001,
            ..
        }
    ));
    // Below the window (kseg0) and wrapping past 4 GiB.
    let low = [seg(0x8010_0000, 5, 0x10, 0x10)];
    assert!(matches!(
        err(&elf_image(8, 0x8010_0000, &low), &spec),
        ElfError::SegmentOutsideWindow { .. }
    ));
    let wrap = [
        seg(0xC010_0000, 5, 0x10, 0x10),
        seg(0xFFFF_F000, 6, 0, 0x2000),
    ];
    assert!(matches!(
        err(&elf_image(8, 0xC010_0000, &wrap), &spec),
        ElfError::SegmentOutsideWindow {
            end: 0x1_0000_1000,
            ..
        }
    ));
}

#[test]
fn physical_placement_rules() {
    let spec = ElfSpec::for_guest(&GuestArch::E500, MIB).unwrap();
    let mut img = powerpc_kernel(0x100, 0);
    patch32(&mut img, ph(0, 3), 0x1000); // p_paddr no longer matches p_vaddr - base
    assert_eq!(
        err(&img, &spec),
        ElfError::AddressFieldsDisagree {
            index: 0,
            vaddr: 0x8000_0000,
            paddr: 0x1000,
            expected_vaddr: 0x8000_1000
        }
    );
    let mut img = powerpc_kernel(0x100, 0);
    patch32(&mut img, ph(0, 3), MIB - 0x80);
    let e = err(&img, &spec);
    assert_eq!(
        e.to_string(),
        "segment 0 at physical 0x000F_FF80..0x0010_0080 lies outside the guest RAM 0x0000_0000..0x0010_0000"
    );
}

#[test]
fn overlapping_segments_are_refused() {
    let segs = [
        seg(0xC010_0000, 5, 0x10, 0x2000),
        seg(0xC010_1000, 6, 0x10, 0x10),
    ];
    assert_eq!(
        err(&elf_image(8, 0xC010_0000, &segs), &mips_spec(2 * MIB)),
        ElfError::SegmentsOverlap {
            first: 0,
            second: 1
        }
    );
}

#[test]
fn entry_rules() {
    let spec = mips_spec(2 * MIB);
    let mut img = mips_kernel(0x40, 0x10, 0x10);
    patch32(&mut img, 24, 0xC010_0002);
    assert_eq!(
        err(&img, &spec),
        ElfError::EntryMisaligned { entry: 0xC010_0002 }
    );
    patch32(&mut img, 24, 0xC010_1000); // the data segment: not executable
    assert_eq!(
        err(&img, &spec),
        ElfError::EntryNotInExecutableSegment { entry: 0xC010_1000 }
    );
    patch32(&mut img, 24, 0xC010_0040); // just past the text's file bytes
    assert_eq!(
        err(&img, &spec),
        ElfError::EntryNotInExecutableSegment { entry: 0xC010_0040 }
    );
    patch32(&mut img, 24, 0xC010_003C);
    assert_eq!(parse_elf(&img, &spec).unwrap().entry_offset(), 0x10_003C);
}

#[test]
fn caller_errors_are_marked() {
    let img = mips_kernel(0x40, 0, 0);
    let spec = mips_spec(2 * MIB);
    let mut small = vec![0u8; MIB as usize];
    let e = load_elf(&img, &spec, &mut small).unwrap_err();
    assert_eq!(
        e,
        ElfError::WindowBufferMismatch {
            buffer_len: MIB as u64,
            window_size: 2 * MIB
        }
    );
    assert!(e.is_caller_error());
    let mut s = ElfStream::new(spec, 10);
    assert_eq!(
        s.push(&img[..11], None),
        Err(ElfError::ExcessInput { expected: 10 })
    );
    assert!(!ElfError::NotElf.is_caller_error());
}

#[test]
fn stream_matches_one_shot_for_any_chunking() {
    // First segment at file offset 0 (covers the headers), like many linkers emit.
    let mut img = elf_image(8, 0xC010_0040, &[seg(0xC010_0000, 5, 0x200, 0x200)]);
    patch32(&mut img, ph(0, 1), 0); // p_offset = 0
    let len = img.len() as u32;
    patch32(&mut img, ph(0, 4), len);
    patch32(&mut img, ph(0, 5), 0x1000);
    let spec = mips_spec(2 * MIB);
    let mut expected = vec![0x11u8; 2 * MIB as usize];
    let want = load_elf(&img, &spec, &mut expected).unwrap();
    for chunk in [1usize, 7, 52, 53, 100, 4096] {
        let mut ram = vec![0x11u8; 2 * MIB as usize];
        let mut s = ElfStream::new(spec, img.len() as u64);
        for piece in img.chunks(chunk) {
            s.push(piece, Some(&mut ram)).unwrap();
        }
        assert_eq!(s.finish(Some(&mut ram)).unwrap(), want, "chunk {chunk}");
        assert!(ram == expected, "chunk {chunk}");
    }
}

#[test]
fn stream_reports_truncation_and_errors_early() {
    let img = mips_kernel(0x400, 0x10, 0);
    let spec = mips_spec(2 * MIB);
    let mut s = ElfStream::new(spec, img.len() as u64);
    s.push(&img[..img.len() - 1], None).unwrap();
    assert!(s.layout().is_some());
    assert_eq!(
        s.finish(None),
        Err(ElfError::Truncated {
            received: img.len() as u64 - 1,
            expected: img.len() as u64
        })
    );
    let mut bad = img.clone();
    bad[0] = 0;
    let mut s = ElfStream::new(spec, bad.len() as u64);
    assert_eq!(s.push(&bad[..60], None), Err(ElfError::NotElf));
    assert_eq!(
        ElfStream::new(spec, 3).finish(None),
        Err(ElfError::TooShort { len: 3 })
    );
}

#[test]
fn messages_name_the_reason() {
    let e = ElfError::WrongMachine {
        found: 3,
        expected: Machine::PowerPc,
    };
    assert_eq!(format!("{e}"), "ELF machine 3 is not PowerPC (20)");
    let e = ElfError::EntryNotInExecutableSegment { entry: 0xC010_1000 };
    assert_eq!(
        format!("{e}"),
        "entry point 0xC010_1000 is not inside the loaded bytes of an executable segment"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any set of non-overlapping segments inside the window loads byte for byte, with the
        /// bss zeroed, one-shot and streamed alike.
        #[test]
        fn valid_layouts_load_exactly(
            slots in proptest::collection::btree_set(0u32..16, 1..5),
            sizes in proptest::collection::vec((1u32..0x2000, 0u32..0x2000, any::<u8>()), 5),
            chunk in 1usize..5000,
        ) {
            let segs: Vec<SampleSegment> = slots.iter().zip(&sizes).enumerate().map(|(i, (&slot, &(file, bss, fill)))| {
                let flags = if i == 0 { 5 } else { 6 };
                let data = (0..file).map(|b| (b as u8) ^ fill).collect();
                SampleSegment { vaddr: 0xC000_0000 + slot * 0x1_0000, paddr: 0, flags, data, mem_size: file + bss }
            }).collect();
            let img = elf_image(8, segs[0].vaddr, &segs);
            let spec = mips_spec(MIB);
            let mut ram = vec![0xCCu8; MIB as usize];
            let loaded = load_elf(&img, &spec, &mut ram).unwrap();
            for s in &segs {
                let at = (s.vaddr - 0xC000_0000) as usize;
                prop_assert_eq!(&ram[at..at + s.data.len()], &s.data[..]);
                prop_assert!(ram[at + s.data.len()..at + s.mem_size as usize].iter().all(|&b| b == 0));
            }
            let mut streamed = vec![0xCCu8; MIB as usize];
            let mut st = ElfStream::new(spec, img.len() as u64);
            for piece in img.chunks(chunk) {
                st.push(piece, Some(&mut streamed)).unwrap();
            }
            prop_assert_eq!(st.finish(Some(&mut streamed)).unwrap(), loaded);
            prop_assert!(streamed == ram);
        }
    }
}
