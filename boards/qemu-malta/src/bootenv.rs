//! The environment QEMU's malta boot stub passes (YAMON style): `a2` points at a
//! NULL-terminated array of string pointers, alternating name and value (`memsize`,
//! `ememsize`, `modetty0`, ...), all in the first page of RAM.

use hypervisor::arch::BootRegs;
use hypervisor::bootmem::BootMemory;

const KSEG0: usize = 0x8000_0000;
const MAX_ENTRIES: usize = 64;

/// The value of environment variable `name`, as a decimal number.
fn lookup(mem: &BootMemory, envp: usize, name: &[u8]) -> Option<u64> {
    let mut buf = [0u8; 64];
    for i in 0..MAX_ENTRIES {
        let name_ptr = mem.word(envp + 8 * i)? as usize;
        if name_ptr == 0 {
            return None;
        }
        if mem.c_string(name_ptr, &mut buf)? == name {
            let value_ptr = mem.word(envp + 8 * i + 4)? as usize;
            let value = core::str::from_utf8(mem.c_string(value_ptr, &mut buf)?).ok()?;
            return value.parse().ok();
        }
    }
    None
}

/// RAM size in bytes: `ememsize` (all RAM), else `memsize` (low RAM), else `a3`.
pub fn ram_size(regs: &BootRegs) -> u64 {
    let mem = BootMemory::below_image(KSEG0);
    let envp = regs.a2 as usize;
    lookup(&mem, envp, b"ememsize")
        .or_else(|| lookup(&mem, envp, b"memsize"))
        .unwrap_or(u64::from(regs.a3))
}
