//! Synthetic but well-formed inputs: small ELF32 big-endian kernels. Tests start from them and
//! break one rule at a time; the fuzz targets use them as seeds.

use alloc::vec::Vec;

/// One segment of a synthetic image.
#[derive(Clone, Debug)]
pub struct SampleSegment {
    /// `p_vaddr`.
    pub vaddr: u32,
    /// `p_paddr`.
    pub paddr: u32,
    /// `p_flags` (1 X, 2 W, 4 R).
    pub flags: u32,
    /// File bytes.
    pub data: Vec<u8>,
    /// `p_memsz` (at least `data.len()` for a valid image).
    pub mem_size: u32,
}

/// Builds an ELF32 big-endian `ET_EXEC` image: header, program headers right after it, then
/// each segment's data at a 16-byte aligned offset. `e_flags` is MIPS32r2/o32 for MIPS.
pub fn elf_image(machine: u16, entry: u32, segments: &[SampleSegment]) -> Vec<u8> {
    let phoff = 52u32;
    let mut data_at = phoff + 32 * segments.len() as u32;
    let mut offsets = Vec::new();
    for s in segments {
        data_at = (data_at + 15) & !15;
        offsets.push(data_at);
        data_at += s.data.len() as u32;
    }
    let mut out = Vec::with_capacity(data_at as usize);
    out.extend_from_slice(b"\x7FELF\x01\x02\x01\x00");
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&2u16.to_be_bytes()); // ET_EXEC
    out.extend_from_slice(&machine.to_be_bytes());
    out.extend_from_slice(&1u32.to_be_bytes());
    out.extend_from_slice(&entry.to_be_bytes());
    out.extend_from_slice(&phoff.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes()); // e_shoff
    let flags: u32 = if machine == 8 { 0x7000_1005 } else { 0 };
    out.extend_from_slice(&flags.to_be_bytes());
    for half in [52u16, 32, segments.len() as u16, 40, 0, 0] {
        out.extend_from_slice(&half.to_be_bytes());
    }
    for (s, off) in segments.iter().zip(&offsets) {
        for word in [
            1,
            *off,
            s.vaddr,
            s.paddr,
            s.data.len() as u32,
            s.mem_size,
            s.flags,
            16,
        ] {
            out.extend_from_slice(&word.to_be_bytes());
        }
    }
    for (s, off) in segments.iter().zip(&offsets) {
        out.resize(*off as usize, 0);
        out.extend_from_slice(&s.data);
    }
    out
}

/// A MIPS guest kernel linked at 0xC010_0000: `text_len` bytes of text (entry at its start),
/// `data_len` bytes of data and `bss_len` bytes of bss right after.
pub fn mips_kernel(text_len: u32, data_len: u32, bss_len: u32) -> Vec<u8> {
    mips_kernel_at(0xC010_0000, text_len, data_len, bss_len)
}

/// Like [`mips_kernel`], with the text at `text_at`.
pub fn mips_kernel_at(text_at: u32, text_len: u32, data_len: u32, bss_len: u32) -> Vec<u8> {
    let text: Vec<u8> = (0..text_len).map(|i| (i as u8) ^ 0x5A).collect();
    let data: Vec<u8> = (0..data_len).map(|i| (i as u8).wrapping_mul(3)).collect();
    let data_at = (text_at + text_len + 0xFFF) & !0xFFF;
    elf_image(
        8,
        text_at,
        &[
            SampleSegment {
                vaddr: text_at,
                paddr: text_at,
                flags: 5,
                data: text,
                mem_size: text_len,
            },
            SampleSegment {
                vaddr: data_at,
                paddr: data_at,
                flags: 6,
                data,
                mem_size: data_len + bss_len,
            },
        ],
    )
}

/// A PowerPC RouterOS-style kernel: linked at 0x8000_0000 + offset, `p_paddr` = offset.
pub fn powerpc_kernel(text_len: u32, bss_len: u32) -> Vec<u8> {
    let text: Vec<u8> = (0..text_len).map(|i| (i as u8) ^ 0xA5).collect();
    elf_image(
        20,
        0x8000_0000,
        &[SampleSegment {
            vaddr: 0x8000_0000,
            paddr: 0,
            flags: 7,
            data: text,
            mem_size: text_len + bss_len,
        }],
    )
}

/// A POSIX ustar stream (names up to 100 bytes, mode 0644/0755, mtime 0) with the two
/// end-of-archive blocks. Each entry is `(name, typeflag, link target, data)`.
pub fn ustar_image(entries: &[(&str, u8, &str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, typeflag, link, data) in entries {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        let mode: &[u8] = if *typeflag == b'5' {
            b"0000755\0"
        } else {
            b"0000644\0"
        };
        h[100..108].copy_from_slice(mode);
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        let size = alloc::format!("{:011o}\0", data.len());
        h[124..136].copy_from_slice(size.as_bytes());
        h[136..148].copy_from_slice(b"00000000000\0");
        h[156] = *typeflag;
        h[157..157 + link.len()].copy_from_slice(link.as_bytes());
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(alloc::format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// Seed inputs for the fuzz target `target` (`elf`, `archive`, `tar_stream` or `store`).
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let kernel = mips_kernel(0x200, 0x40, 0x100);
    let tar = ustar_image(&[
        ("./", b'5', "", b""),
        ("./kernel", b'0', "", &kernel),
        ("./bin/", b'5', "", b""),
        ("./bin/busybox", b'0', "", b"binary"),
        ("./bin/sh", b'2', "busybox", b""),
        ("./bin/ash", b'1', "bin/busybox", b""),
    ]);
    match target {
        "elf" => {
            let with = |selector: u8, image: Vec<u8>| {
                let mut v = alloc::vec![selector, 17];
                v.extend_from_slice(&image);
                v
            };
            alloc::vec![
                with(0x0C, mips_kernel_at(0xC000_4000, 0x200, 0x40, 0x100)),
                with(0x09, powerpc_kernel(0x100, 0x40)),
            ]
        }
        "archive" => alloc::vec![super::gzip_stored(&tar)],
        "tar_stream" => alloc::vec![tar],
        "store" => {
            let mut b = crate::store::StoreBuilder::new();
            let _ = b.add("guest.tgz", 1_700_000_000, &super::gzip_stored(&tar));
            let _ = b.add("notes.txt", 0, b"hello");
            alloc::vec![b.build()]
        }
        _ => Vec::new(),
    }
}
