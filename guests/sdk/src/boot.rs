//! What the guest was started with: the boot words and what follows from them.
//!
//! argv may lie anywhere in guest RAM outside the image (the RouterOS guest expects it between
//! its first page and its load address, or at the top of RAM), so the runtime copies the
//! words out first, before the vectors, the heap or anything else writes guest memory. Only
//! pointers inside the RAM window 0xC000_0000..0xD000_0000 are followed; words are cut at 255
//! bytes, at most 64 are read.

use mr_proto::bootargs::{BootWords, CommandLine};

/// Count frequency assumed when `HZ=` is missing (QEMU malta's CP0 Count rate).
pub const DEFAULT_COUNT_HZ: u32 = 100_000_000;
/// RAM assumed when `mem=` is missing: the image plus 1 MiB of heap.
pub const DEFAULT_HEAP_BYTES: u32 = 1 << 20;
/// Start of the guest RAM window.
#[cfg(target_arch = "mips")]
pub const WINDOW_START: u32 = 0xC000_0000;
/// End of the guest RAM window (256 MiB).
#[cfg(target_arch = "mips")]
pub const WINDOW_END: u32 = 0xD000_0000;
/// Start of the guest RAM window (PAGE_OFFSET: guest-physical 0).
#[cfg(target_arch = "powerpc")]
pub const WINDOW_START: u32 = 0x8000_0000;
/// End of the RAM window this runtime uses (1 GiB).
#[cfg(target_arch = "powerpc")]
pub const WINDOW_END: u32 = 0xC000_0000;
/// Largest device tree copied at start-up.
#[cfg(target_arch = "powerpc")]
const MAX_DEVICE_TREE: u32 = 64 * 1024;
/// Capacity of the copied command line.
pub const COMMAND_LINE_CAPACITY: usize = 1024;

#[cfg(target_arch = "mips")]
const MAX_WORDS: u32 = 64;
#[cfg(target_arch = "mips")]
const MAX_WORD_LEN: usize = 255;

/// The boot information handed to the guest's entry.
#[derive(Debug)]
pub struct Boot {
    /// Every argv word, space separated.
    pub command_line: CommandLine<COMMAND_LINE_CAPACITY>,
    /// The words the runtime understands.
    pub words: BootWords,
    /// `argc` as received.
    pub argc: u32,
    /// CP0 Count frequency (from `HZ=`, else [`DEFAULT_COUNT_HZ`]).
    pub count_hz: u32,
    /// RAM size in bytes (from `mem=`, capped to the 256 MiB window; 0 if unknown).
    pub ram_bytes: u32,
    /// Whether `vm_running()` said the guest is virtualized.
    pub virtualized: bool,
}

impl Boot {
    /// Copy the argv words and derive the rest.
    ///
    /// # Safety
    /// Every argv pointer inside the RAM window must be readable (the host built them there).
    #[cfg(target_arch = "mips")]
    pub(crate) unsafe fn capture(argc: u32, argv: u32) -> Self {
        let mut command_line = CommandLine::new();
        if in_window(argv, 4) && argv.is_multiple_of(4) {
            for i in 0..argc.min(MAX_WORDS) {
                // SAFETY: `argv + 4 i` is inside the window, aligned, and readable per the caller.
                let p = unsafe { ((argv + 4 * i) as *const u32).read_volatile() };
                if p == 0 {
                    break;
                }
                let mut word = [0u8; MAX_WORD_LEN];
                let mut len = 0;
                while len < MAX_WORD_LEN && in_window(p + len as u32, 1) {
                    // SAFETY: inside the window, readable per the caller.
                    let b = unsafe { ((p + len as u32) as *const u8).read_volatile() };
                    if b == 0 {
                        break;
                    }
                    word[len] = b;
                    len += 1;
                }
                command_line.push(&word[..len]);
            }
        }
        let words = command_line.boot_words();
        let ram_bytes = words.mem_bytes.unwrap_or(0).min(WINDOW_END - WINDOW_START);
        Self {
            command_line,
            words,
            argc,
            count_hz: words
                .count_hz
                .filter(|&hz| hz != 0)
                .unwrap_or(DEFAULT_COUNT_HZ),
            ram_bytes,
            virtualized: false,
        }
    }

    /// Read the device tree at `tree` (the host's `r3`): `/chosen/bootargs` as the command
    /// line (its `HZ=`/`mem=`/`kmac=` words parsed as on MIPS), the RAM size from `/memory`,
    /// the counter frequency from the cpu's `timebase-frequency`; the tree's values win.
    ///
    /// # Safety
    /// The RAM window up to [`WINDOW_END`] that the tree's header names must be readable.
    #[cfg(target_arch = "powerpc")]
    pub(crate) unsafe fn from_device_tree(tree: u32) -> Self {
        let mut command_line = CommandLine::new();
        let mut memory_bytes = None;
        let mut timebase_hz = None;
        if in_window(tree, 8) && tree.is_multiple_of(4) {
            // SAFETY: the header's 8 bytes are inside the window, readable per the caller.
            let header = unsafe { core::slice::from_raw_parts(tree as *const u8, 8) };
            let size = mr_proto::fdt::total_size(header).unwrap_or(0);
            if size <= MAX_DEVICE_TREE && in_window(tree, size) {
                // SAFETY: the whole tree is inside the window, readable per the caller; it is
                // not written while this slice lives (start-up, interrupts off).
                let blob = unsafe { core::slice::from_raw_parts(tree as *const u8, size as usize) };
                if let Some(facts) = mr_proto::fdt::read(blob) {
                    for word in facts.bootargs.unwrap_or(b"").split(|&b| b == b' ') {
                        if !word.is_empty() {
                            command_line.push(word);
                        }
                    }
                    memory_bytes = facts.memory_bytes;
                    timebase_hz = facts.timebase_hz;
                }
            }
        }
        let words = command_line.boot_words();
        let ram_bytes = memory_bytes
            .or(words.mem_bytes)
            .unwrap_or(0)
            .min(WINDOW_END - WINDOW_START);
        Self {
            command_line,
            words,
            argc: 0,
            count_hz: timebase_hz
                .or(words.count_hz)
                .filter(|&hz| hz != 0)
                .unwrap_or(DEFAULT_COUNT_HZ),
            ram_bytes,
            virtualized: false,
        }
    }

    /// End of guest RAM (guest-virtual), if `mem=` gave the size.
    pub fn ram_end(&self) -> Option<u32> {
        (self.ram_bytes != 0).then(|| WINDOW_START + self.ram_bytes)
    }

    /// The value of a `key=value` word of the command line.
    pub fn value(&self, key: &str) -> Option<&[u8]> {
        self.command_line.value(key)
    }
}

fn in_window(addr: u32, len: u32) -> bool {
    addr >= WINDOW_START && addr.checked_add(len).is_some_and(|end| end <= WINDOW_END)
}

/// End of the loaded image, its stack included (page aligned): the first free byte of RAM.
pub fn image_end() -> u32 {
    extern "C" {
        static __image_end: u8;
    }
    core::ptr::addr_of!(__image_end) as u32
}
