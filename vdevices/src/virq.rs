//! The virq word: a 32-bit word in guest RAM where the host sets bit n for virtual interrupt n.
//!
//! The guest registers it with hypercall 14 (`vm_setup_irqs(&word, 32)`). The host ORs bits in
//! (never adds: the PowerPC guest acknowledges with `atomic_sub(1 << n)`, the MIPS guest with
//! `clear_bit`), then asserts the guest's virtual interrupt line (MIPS: software interrupt IP1;
//! PowerPC: external input); the guest walks the word. The word is big-endian, bit n is
//! `1 << n` of its value.

use crate::abi::MAX_VIRQS;
use guest_mem::{GuestRam, Gva, MemError};

/// Why hypercall 14 was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VirqSetupError {
    /// The word is outside the RAM window or not 4-byte aligned.
    BadAddress(MemError),
    /// `count` is 0 or more than 32.
    BadCount(u32),
}

/// Where the guest wants its virtual interrupts flagged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VirqWord {
    addr: Option<Gva>,
    count: u32,
}

impl VirqWord {
    /// No word registered yet.
    pub const fn new() -> Self {
        Self {
            addr: None,
            count: 0,
        }
    }

    /// Registers (or moves) the word: `addr` must be 4-byte aligned and inside the RAM window,
    /// `count` between 1 and 32. Bits at or above `count` are never raised.
    pub fn register(
        &mut self,
        ram: &GuestRam<'_>,
        addr: Gva,
        count: u32,
    ) -> Result<(), VirqSetupError> {
        ram.window()
            .aligned_range(addr, 4, 4)
            .map_err(VirqSetupError::BadAddress)?;
        if count == 0 || count > MAX_VIRQS {
            return Err(VirqSetupError::BadCount(count));
        }
        *self = Self {
            addr: Some(addr),
            count,
        };
        Ok(())
    }

    /// The registered word, if any.
    pub fn addr(&self) -> Option<Gva> {
        self.addr
    }

    /// Sets bit `bit`; returns whether the guest now has a virtual interrupt to take (false when
    /// no word is registered or the bit is beyond the registered count).
    #[inline]
    pub fn raise(&self, ram: &mut GuestRam<'_>, bit: u8) -> bool {
        let Some(addr) = self.addr else { return false };
        if u32::from(bit) >= self.count {
            return false;
        }
        // The address was checked at registration (aligned, inside the window); the window is
        // checked again, the alignment cannot have changed. If the access failed (it cannot),
        // no interrupt would be raised.
        let Some(bytes) = ram.get_array_mut::<4>(addr, 1) else {
            return false;
        };
        *bytes = (u32::from_be_bytes(*bytes) | 1 << bit).to_be_bytes();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use guest_mem::MIPS_RAM_WINDOW;

    #[test]
    fn raise_ors_bits_and_respects_count() {
        let mut mem = [0u8; 32];
        let mut ram = GuestRam::new(&mut mem, MIPS_RAM_WINDOW).unwrap();
        let mut virq = VirqWord::new();
        assert!(!virq.raise(&mut ram, 1), "nothing registered yet");
        virq.register(&ram, Gva::new(0xC000_0008), 4).unwrap();
        assert!(virq.raise(&mut ram, 3));
        assert!(virq.raise(&mut ram, 3));
        assert!(virq.raise(&mut ram, 0));
        assert!(!virq.raise(&mut ram, 4));
        assert_eq!(ram.read_u32(Gva::new(0xC000_0008)), Ok(0b1001));
    }

    #[test]
    fn registration_checks_address_and_count() {
        let mut mem = [0u8; 32];
        let ram = GuestRam::new(&mut mem, MIPS_RAM_WINDOW).unwrap();
        let mut virq = VirqWord::new();
        let odd = Gva::new(0xC000_0006);
        assert_eq!(
            virq.register(&ram, odd, 32),
            Err(VirqSetupError::BadAddress(MemError::Misaligned {
                addr: odd,
                align: 4
            }))
        );
        let past = Gva::new(0xC000_0020);
        assert_eq!(
            virq.register(&ram, past, 32),
            Err(VirqSetupError::BadAddress(MemError::OutOfWindow {
                addr: past,
                len: 4
            }))
        );
        assert_eq!(
            virq.register(&ram, Gva::new(0xC000_0004), 33),
            Err(VirqSetupError::BadCount(33))
        );
        assert_eq!(
            virq.register(&ram, Gva::new(0xC000_0004), 0),
            Err(VirqSetupError::BadCount(0))
        );
        assert_eq!(virq.addr(), None);
        assert_eq!(virq.register(&ram, Gva::new(0xC000_0004), 32), Ok(()));
        assert_eq!(virq.addr(), Some(Gva::new(0xC000_0004)));
    }
}
