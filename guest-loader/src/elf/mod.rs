//! ELF32 big-endian guest kernels: validation against the guest window and loading into it.
//!
//! Rules (each refusal is an [`ElfError`] naming the rule):
//! - header: `\x7FELF`, ELFCLASS32, big-endian, version 1, `ET_EXEC`, the machine the caller
//!   expects (MIPS = 8, PowerPC = 20), header sizes 52/32; for MIPS, an o32 MIPS I/II/32/32r2
//!   image without microMIPS (what a 24Kc runs);
//! - program headers: 1..=64, all within the file's first 4 KiB; no PT_INTERP / PT_DYNAMIC;
//!   section header table (if any) within the file;
//! - PT_LOAD segments (at most 16 with a non-zero memory size): `p_filesz <= p_memsz`, file bytes
//!   within the file, memory range entirely inside the guest window (placed by `p_vaddr` or
//!   `p_paddr`, see [`AddressField`]), no two overlapping;
//! - entry: 4-byte aligned, inside the file-backed bytes of an executable (PF_X) segment.
//!
//! Loading copies each segment's file bytes to its window offset and zeroes the rest of its
//! memory size (bss). Nothing else in the window is touched: the caller zeroes guest RAM before
//! loading so that nothing of a previous guest can leak. [`load_elf`] validates the whole image
//! before writing a byte; [`ElfStream`] loads while bytes arrive (after the headers are checked).

mod error;
mod header;
mod stream;

pub use error::ElfError;
pub use header::{
    ElfLayout, Segment, EHDR_SIZE, HEADER_LIMIT, MAX_LOAD_SEGMENTS, MAX_PROGRAM_HEADERS,
};
pub use stream::ElfStream;

use guest_mem::{AddressField, GuestArch, GuestWindow, LayoutError};

/// The CPU a guest kernel is built for (`e_machine`).
pub use guest_mem::ElfMachine as Machine;

/// What the caller expects of an image: the machine, the guest window, the placing address field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElfSpec {
    /// Required `e_machine`.
    pub machine: Machine,
    /// The guest RAM window every segment must lie in.
    pub window: GuestWindow,
    /// Which program header field places segments.
    pub address: AddressField,
}

impl ElfSpec {
    /// What a kernel for a guest of architecture `arch` with `memory` bytes of RAM must be: its
    /// machine, placed in its window by its address field.
    pub const fn for_guest(arch: &GuestArch, memory: u32) -> Result<Self, LayoutError> {
        match arch.window(memory) {
            Ok(window) => Ok(Self {
                machine: arch.elf_machine,
                window,
                address: arch.elf_address,
            }),
            Err(e) => Err(e),
        }
    }
}

/// Where a loaded kernel sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadedImage {
    /// `e_entry`: the guest-virtual address to start at.
    pub entry: u32,
    /// The entry's window offset (guest-physical address).
    pub entry_offset: u32,
    /// Lowest window offset written.
    pub start_offset: u32,
    /// One past the highest window offset written (bss included): the kernel's `_end`, physical.
    pub end_offset: u32,
    /// `end_offset` as a guest-virtual address through the window.
    pub end: u64,
    /// Bytes of the file that belong to the ELF image (see [`ElfLayout::file_extent`]).
    pub file_extent: u64,
}

impl LoadedImage {
    pub(crate) fn from_layout(layout: &ElfLayout, window: &GuestWindow) -> Self {
        Self {
            entry: layout.entry(),
            entry_offset: layout.entry_offset(),
            start_offset: layout.start_offset(),
            end_offset: layout.end_offset(),
            end: window.address_of(layout.end_offset()),
            file_extent: layout.file_extent(),
        }
    }
}

/// Validates a complete ELF file against `spec` without loading it.
pub fn parse_elf(file: &[u8], spec: &ElfSpec) -> Result<ElfLayout, ElfError> {
    let file_len = file.len() as u64;
    let header = header::parse_file_header(file, file_len, spec)?;
    header::parse_program_headers(&header, file, file_len, spec)
}

/// Validates `file` and, only if it is entirely valid, loads it into `guest_ram` (the whole
/// window: its length must equal `spec.window.size()`).
pub fn load_elf(
    file: &[u8],
    spec: &ElfSpec,
    guest_ram: &mut [u8],
) -> Result<LoadedImage, ElfError> {
    check_window_buffer(spec, guest_ram)?;
    let layout = parse_elf(file, spec)?;
    for s in layout.segments() {
        write_segment(s, file, guest_ram);
    }
    Ok(LoadedImage::from_layout(&layout, &spec.window))
}

pub(crate) fn check_window_buffer(spec: &ElfSpec, guest_ram: &[u8]) -> Result<(), ElfError> {
    if guest_ram.len() as u64 != u64::from(spec.window.size()) {
        return Err(ElfError::WindowBufferMismatch {
            buffer_len: guest_ram.len() as u64,
            window_size: spec.window.size(),
        });
    }
    Ok(())
}

/// Copies a validated segment's bytes and zeroes its bss.
fn write_segment(s: &Segment, file: &[u8], guest_ram: &mut [u8]) {
    let (off, fsz, msz) = (
        s.file_offset as usize,
        s.file_size as usize,
        s.mem_size as usize,
    );
    let at = s.window_offset as usize;
    guest_ram[at..at + fsz].copy_from_slice(&file[off..off + fsz]);
    guest_ram[at + fsz..at + msz].fill(0);
}

#[cfg(test)]
mod tests;
