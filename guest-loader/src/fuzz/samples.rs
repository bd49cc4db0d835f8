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
        for word in [1, *off, s.vaddr, s.paddr, s.data.len() as u32, s.mem_size, s.flags, 16] {
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
    let text: Vec<u8> = (0..text_len).map(|i| (i as u8) ^ 0x5A).collect();
    let data: Vec<u8> = (0..data_len).map(|i| (i as u8).wrapping_mul(3)).collect();
    let text_at = 0xC010_0000u32;
    let data_at = (text_at + text_len + 0xFFF) & !0xFFF;
    elf_image(
        8,
        text_at,
        &[
            SampleSegment { vaddr: text_at, paddr: text_at, flags: 5, data: text, mem_size: text_len },
            SampleSegment { vaddr: data_at, paddr: data_at, flags: 6, data, mem_size: data_len + bss_len },
        ],
    )
}

/// A PowerPC RouterOS-style kernel: linked at 0x8000_0000 + offset, `p_paddr` = offset.
pub fn powerpc_kernel(text_len: u32, bss_len: u32) -> Vec<u8> {
    let text: Vec<u8> = (0..text_len).map(|i| (i as u8) ^ 0xA5).collect();
    elf_image(
        20,
        0x8000_0000,
        &[SampleSegment { vaddr: 0x8000_0000, paddr: 0, flags: 7, data: text, mem_size: text_len + bss_len }],
    )
}
