//! RouterBOOT's kernel arguments: `a0 = argc`, `a1 = argv`, words like `console=ttyS0,115200`,
//! `mem=64M`, `kmac=..`, `board=433`, `HZ=..`. Only `mem=` is used here.

use hypervisor::arch::BootRegs;
use hypervisor::bootmem::BootMemory;

/// Where RouterBOOT leaves argv is not documented: accept anything in the first 32 MiB of RAM
/// (every RB400 has at least that much).
const BOOT_AREA: (usize, usize) = (0x8000_0000, 0x8000_0000 + (32 << 20));
const MAX_ARGS: u32 = 32;

/// Parse a `mem=` value: a decimal number with an optional K/M/G suffix.
fn parse_size(text: &[u8]) -> Option<u64> {
    let (digits, shift) = match text.last()? {
        b'k' | b'K' => (&text[..text.len() - 1], 10),
        b'm' | b'M' => (&text[..text.len() - 1], 20),
        b'g' | b'G' => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    let n: u64 = core::str::from_utf8(digits).ok()?.parse().ok()?;
    n.checked_shl(shift)
}

/// RAM size from `mem=`, if RouterBOOT passed it.
pub fn mem_size(regs: &BootRegs) -> Option<u64> {
    let mem = BootMemory::new(BOOT_AREA.0, BOOT_AREA.1);
    let mut buf = [0u8; 128];
    for i in 0..regs.a0.min(MAX_ARGS) as usize {
        let ptr = mem.word(regs.a1 as usize + 4 * i)? as usize;
        if let Some(value) = mem
            .c_string(ptr, &mut buf)
            .and_then(|w| w.strip_prefix(b"mem="))
        {
            return parse_size(value);
        }
    }
    None
}
