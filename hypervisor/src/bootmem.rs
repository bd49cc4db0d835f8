//! Reading what a boot loader left in RAM (argument strings, environment arrays), with every
//! address checked against a known-good RAM area first.
//!
//! Boot loaders pass pointers (MIPS `argv`/`envp`); a corrupt one must not make the hypervisor
//! read a device register or fault, so reads outside the given area return `None`.

/// The boot loader's area: from `start` up to the first byte of the hypervisor image.
#[derive(Clone, Copy, Debug)]
pub struct BootMemory {
    start: usize,
    end: usize,
}

impl BootMemory {
    /// The area `start .. end`, which must be RAM that exists on every variant of the board.
    pub const fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// The area from `start` (e.g. the base of kseg0) to the hypervisor's image.
    pub fn below_image(start: usize) -> Self {
        extern "C" {
            static __image_start: u8;
        }
        let end = core::ptr::addr_of!(__image_start) as usize;
        Self { start, end }
    }

    fn contains(&self, addr: usize, len: usize) -> bool {
        addr >= self.start && addr.checked_add(len).is_some_and(|e| e <= self.end)
    }

    /// The aligned 32-bit word at `addr`.
    pub fn word(&self, addr: usize) -> Option<u32> {
        if !addr.is_multiple_of(4) || !self.contains(addr, 4) {
            return None;
        }
        // SAFETY: `addr` is an aligned word of RAM below the image, which the boot loader
        // filled and nothing else uses while the board starts.
        Some(unsafe { (addr as *const u32).read_volatile() })
    }

    /// The byte at `addr`.
    pub fn byte(&self, addr: usize) -> Option<u8> {
        if !self.contains(addr, 1) {
            return None;
        }
        // SAFETY: as in `word`, for one byte.
        Some(unsafe { (addr as *const u8).read_volatile() })
    }

    /// Copy the NUL-terminated string at `addr` into `buf`; `None` if it is outside the area or
    /// longer than `buf`.
    pub fn c_string<'b>(&self, addr: usize, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        for i in 0..buf.len() {
            let b = self.byte(addr.checked_add(i)?)?;
            if b == 0 {
                return Some(&buf[..i]);
            }
            buf[i] = b;
        }
        None
    }
}
