//! The environment QEMU's malta boot stub passes (YAMON style): `a2` points at a
//! NULL-terminated array of string pointers, alternating name and value (`memsize`,
//! `ememsize`, `modetty0`, ...), all in the first page of RAM.

use hypervisor::arch::BootRegs;

/// Where the boot stub keeps its strings and arrays (kseg0, below the hypervisor image).
const BOOT_AREA: core::ops::Range<u32> = 0x8000_0000..0x8010_0000;
const MAX_ENTRIES: u32 = 64;
const MAX_STRING: u32 = 128;

fn read_word(addr: u32) -> Option<u32> {
    if !BOOT_AREA.contains(&addr) || !BOOT_AREA.contains(&(addr + 3)) || addr % 4 != 0 {
        return None;
    }
    // SAFETY: `addr` is an aligned word in the boot stub's area of kseg0 RAM, which nothing
    // else uses during boot.
    Some(unsafe { (addr as *const u32).read_volatile() })
}

fn read_byte(addr: u32) -> Option<u8> {
    if !BOOT_AREA.contains(&addr) {
        return None;
    }
    // SAFETY: as in `read_word`, for one byte.
    Some(unsafe { (addr as *const u8).read_volatile() })
}

/// Compare the NUL-terminated string at `addr` with `want`.
fn string_is(addr: u32, want: &[u8]) -> bool {
    (0..=want.len() as u32).all(|i| {
        let expected = want.get(i as usize).copied().unwrap_or(0);
        read_byte(addr + i) == Some(expected)
    })
}

/// Parse the decimal NUL-terminated string at `addr`.
fn parse_decimal(addr: u32) -> Option<u64> {
    let mut value: u64 = 0;
    for i in 0..MAX_STRING {
        match read_byte(addr + i)? {
            0 if i > 0 => return Some(value),
            d @ b'0'..=b'9' => value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?,
            _ => return None,
        }
    }
    None
}

/// The value of environment variable `name`, as a number.
fn lookup(envp: u32, name: &[u8]) -> Option<u64> {
    for i in 0..MAX_ENTRIES {
        let name_ptr = read_word(envp + 8 * i)?;
        if name_ptr == 0 {
            return None;
        }
        let value_ptr = read_word(envp + 8 * i + 4)?;
        if string_is(name_ptr, name) {
            return parse_decimal(value_ptr);
        }
    }
    None
}

/// RAM size in bytes: `ememsize` (all RAM), else `memsize` (low RAM), else `a3`.
pub fn ram_size(regs: &BootRegs) -> u64 {
    lookup(regs.a2, b"ememsize")
        .or_else(|| lookup(regs.a2, b"memsize"))
        .unwrap_or(u64::from(regs.a3))
}
