//! RouterBOOT-style boot arguments for MIPS MetaROUTER guests.
//!
//! What the guest kernel does with them (`prom_init` and `setup_kmac` in `arch/mips/rb/prom.c`
//! of the RouterOS kernel, Linux 3.3.5 and 5.6; the OpenWrt `mr-mips` port is the same):
//! - it reads `argc = $a0` and `argv = $a1` (`char **`, guest-virtual, big-endian pointers) and
//!   walks `argv[i]` for `i < argc` while `argv[i] != NULL`;
//! - `HZ=<n>`: decimal (`simple_strtoul`, base 10) CP0 Count frequency in Hz, stored as
//!   `mips_hpt_frequency`; this word is consumed and not copied to the command line. Without it
//!   the frequency stays 0 and the guest's `sched_clock` divides by zero;
//! - `board=<name>`: copied into a 16-byte buffer and compared with `strncmp(.., 16)`, so it must
//!   be exactly `board=vm` to select the VM machine group (`rbvm_setup`: queue 0, virq word).
//!   Other names select real boards, whose setup touches hardware a guest does not have.
//!   `Board=` is rewritten to `board=` in place (so argv strings must be writable);
//! - every other word (and `board=`) is appended to `arcs_cmdline` as `"%s "` with `snprintf`
//!   into a 4096-byte buffer ([`COMMAND_LINE_SIZE`]): longer command lines are cut silently;
//! - `kmac=xx:xx:xx:xx:xx:xx` (early `__setup`): six two-digit hex bytes (either case) separated
//!   by `:`, the guest's MAC address (`mips_mac_address`);
//! - `mem=<N>M` is the generic MIPS `early_param("mem")`: `memparse` size (K/M/G suffixes),
//!   which replaces the (empty) firmware memory map with one region at physical 0. The VM
//!   setup adds no memory region of its own, so without `mem=` the guest has no RAM. A second
//!   `mem=` would add another region, so users may not pass one.
//!
//! Where argv must live: inside the guest RAM window, outside the kernel image and its bss
//! (`head.S` clears the bss before `prom_init` runs), outside an initrd, and not in the first
//! page (exception vectors). The pages between 0x1000 and the kernel's load address (RouterOS
//! kernels load at 0xC010_1000) are a good place: the guest keeps them reserved until
//! `prom_free_prom_memory` after boot. The top of RAM also works: the strings are copied to
//! `arcs_cmdline` in `prom_init`, before the guest allocates anything. `$a2` and `$a3` carry
//! nothing (set them to 0).

use core::fmt;
use guest_mem::Hex;

/// The guest's `arcs_cmdline` size (`COMMAND_LINE_SIZE` on MIPS), terminating NUL included.
pub const COMMAND_LINE_SIZE: usize = 4096;

/// Words the hypervisor provides; user words may not set them.
const RESERVED_PREFIXES: [&str; 5] = ["HZ=", "board=", "Board=", "mem=", "kmac="];

/// What to tell a MIPS guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MipsBootArgs<'a> {
    /// CP0 Count frequency in Hz as the guest will see it (`HZ=`).
    pub count_hz: u32,
    /// Guest RAM in MiB (`mem=<N>M`).
    pub mem_mib: u32,
    /// The guest's MAC address (`kmac=`).
    pub kmac: [u8; 6],
    /// Extra command line, split into words at ASCII whitespace.
    pub command_line: &'a str,
}

/// Where `build_mips_argv` put things.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgvLayout {
    /// Value for `$a0`.
    pub argc: u32,
    /// Value for `$a1`: guest-virtual address of `argv[0]` (the area's base).
    pub argv: u32,
    /// Bytes of the area used (pointer array, then the strings).
    pub used: u32,
}

/// Why the arguments could not be laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgvError {
    /// Caller error: the area's base is not 4-byte aligned, or the area runs past 4 GiB.
    BadArea {
        /// The base given.
        base: u32,
    },
    /// Caller error: `count_hz` or `mem_mib` is zero.
    ZeroValue,
    /// A user word contains a NUL byte.
    NulInWord {
        /// Index of the user word.
        index: u16,
    },
    /// A user word sets `HZ=`, `board=`, `Board=`, `mem=` or `kmac=`, which the hypervisor sets.
    ReservedWord {
        /// Index of the user word.
        index: u16,
    },
    /// The guest's command line would exceed [`COMMAND_LINE_SIZE`] and be cut.
    CommandLineTooLong {
        /// Its length with the terminating NUL.
        len: usize,
    },
    /// The area is too small.
    DoesNotFit {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
}

impl fmt::Display for ArgvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::BadArea { base } => {
                write!(f, "argument area at {} is misaligned or too large", Hex(base.into()))
            }
            Self::ZeroValue => f.write_str("Count frequency and memory size must be non-zero"),
            Self::NulInWord { index } => write!(f, "command line word {index} contains NUL"),
            Self::ReservedWord { index } => write!(
                f,
                "command line word {index} sets HZ=, board=, mem= or kmac=, which the hypervisor sets"
            ),
            Self::CommandLineTooLong { len } => write!(
                f,
                "guest command line of {len} bytes exceeds the guest's {COMMAND_LINE_SIZE}"
            ),
            Self::DoesNotFit { needed, available } => {
                write!(f, "boot arguments need {needed} bytes, the area has {available}")
            }
        }
    }
}

/// One argv word: up to three pieces, concatenated.
type Word<'a> = [&'a [u8]; 3];

/// Decimal digits of `v` into `buf`; returns the used tail.
fn decimal(mut v: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return &buf[i..];
        }
    }
}

/// `xx:xx:xx:xx:xx:xx`, lower case.
fn mac_text(mac: [u8; 6]) -> [u8; 17] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b':'; 17];
    for (i, b) in mac.iter().enumerate() {
        out[3 * i] = HEX[usize::from(b >> 4)];
        out[3 * i + 1] = HEX[usize::from(b & 15)];
    }
    out
}

/// Lays out `argc`/`argv` for `args` in `area`, which the guest sees at guest-virtual `base`:
/// `argv[0..argc]` pointers and a NULL, then the NUL-terminated words `HZ=<count_hz>`,
/// `board=vm`, `mem=<mem_mib>M`, `kmac=<mac>`, then the user's words. Checks everything before
/// writing.
pub fn build_mips_argv(
    args: &MipsBootArgs<'_>,
    base: u32,
    area: &mut [u8],
) -> Result<ArgvLayout, ArgvError> {
    if base & 3 != 0 || u64::from(base) + area.len() as u64 > 1 << 32 {
        return Err(ArgvError::BadArea { base });
    }
    if args.count_hz == 0 || args.mem_mib == 0 {
        return Err(ArgvError::ZeroValue);
    }
    for (index, word) in args.command_line.split_ascii_whitespace().enumerate() {
        let index = u16::try_from(index).unwrap_or(u16::MAX);
        if word.contains('\0') {
            return Err(ArgvError::NulInWord { index });
        }
        if RESERVED_PREFIXES.iter().any(|p| word.starts_with(p)) {
            return Err(ArgvError::ReservedWord { index });
        }
    }
    let (mut hz_buf, mut mem_buf) = ([0u8; 10], [0u8; 10]);
    let mac = mac_text(args.kmac);
    let fixed: [Word<'_>; 4] = [
        [b"HZ=", decimal(args.count_hz, &mut hz_buf), b""],
        [b"board=vm", b"", b""],
        [b"mem=", decimal(args.mem_mib, &mut mem_buf), b"M"],
        [b"kmac=", &mac, b""],
    ];
    let user = args
        .command_line
        .split_ascii_whitespace()
        .map(|w| -> Word<'_> { [w.as_bytes(), b"", b""] });
    let words = || fixed.iter().copied().chain(user.clone());
    let word_len = |w: &Word<'_>| w.iter().map(|p| p.len()).sum::<usize>();
    // The guest copies every word but HZ= into its command line, each followed by a space.
    let cmdline: usize = words().skip(1).map(|w| word_len(&w) + 1).sum::<usize>() + 1;
    if cmdline > COMMAND_LINE_SIZE {
        return Err(ArgvError::CommandLineTooLong { len: cmdline });
    }
    let argc = words().count();
    let strings: usize = words().map(|w| word_len(&w) + 1).sum();
    let needed = 4 * (argc + 1) + strings;
    if needed > area.len() {
        return Err(ArgvError::DoesNotFit {
            needed,
            available: area.len(),
        });
    }
    // Every offset below is at most `needed`: inside the area, which ends at or below 4 GiB.
    let offset = |n: usize| u32::try_from(n).map_err(|_| ArgvError::BadArea { base });
    let mut at = 4 * (argc + 1);
    for (i, w) in words().enumerate() {
        let pointer = base + offset(at)?;
        area[4 * i..4 * i + 4].copy_from_slice(&pointer.to_be_bytes());
        for piece in w {
            area[at..at + piece.len()].copy_from_slice(piece);
            at += piece.len();
        }
        area[at] = 0;
        at += 1;
    }
    area[4 * argc..4 * argc + 4].fill(0);
    Ok(ArgvLayout {
        argc: offset(argc)?,
        argv: base,
        used: offset(needed)?,
    })
}

#[cfg(test)]
mod tests;
