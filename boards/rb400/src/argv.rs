//! RouterBOOT's kernel arguments: `a0 = argc`, `a1 = argv`, words like `console=ttyS0,115200`,
//! `mem=64M`, `kmac=..`, `board=433`, `HZ=..`. `mem=` (the RAM size) and `kmac=` (the first Ethernet port's address) are used.

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

/// Parse a `kmac=` value: six hexadecimal bytes separated by colons.
fn parse_mac(text: &[u8]) -> Option<[u8; 6]> {
    let text = core::str::from_utf8(text).ok()?;
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in mac.iter_mut() {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// The value of the first argument starting with `key`, handed to `parse`.
fn argument<T>(regs: &BootRegs, key: &[u8], parse: fn(&[u8]) -> Option<T>) -> Option<T> {
    let mem = BootMemory::new(BOOT_AREA.0, BOOT_AREA.1);
    let mut buf = [0u8; 128];
    for i in 0..regs.a0.min(MAX_ARGS) as usize {
        let ptr = mem.word(regs.a1 as usize + 4 * i)? as usize;
        if let Some(value) = mem
            .c_string(ptr, &mut buf)
            .and_then(|w| w.strip_prefix(key))
        {
            return parse(value);
        }
    }
    None
}

/// RAM size from `mem=`, if RouterBOOT passed it.
pub fn mem_size(regs: &BootRegs) -> Option<u64> {
    argument(regs, b"mem=", parse_size)
}

/// The board's first MAC address from `kmac=`, if RouterBOOT passed one.
pub fn kmac(regs: &BootRegs) -> Option<[u8; 6]> {
    argument(regs, b"kmac=", parse_mac)
}
