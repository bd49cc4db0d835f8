//! The MPC8xxx/QorIQ GPIO block (`fsl,qoriq-gpio`, `fsl,mpc8572-gpio`): 32 pins, pin 0 in the
//! most significant bit of every register. QEMU's ppce500 has one at CCSR + 0xF_F000 whose
//! pin 0 powers the machine off (the device tree's `gpio-poweroff` node).

use crate::mmio::Mmio;

/// Bytes of MMIO the block occupies.
pub const WINDOW_LEN: usize = 0x18;
/// Pins per block.
pub const PINS: u8 = 32;

const GPDIR: usize = 0x00; // direction, 1 = output
const GPDAT: usize = 0x08; // data

/// One GPIO block.
#[derive(Clone, Copy, Debug)]
pub struct Mpc8xxxGpio {
    regs: Mmio,
}

impl Mpc8xxxGpio {
    /// `regs` must cover [`WINDOW_LEN`] bytes.
    pub fn new(regs: Mmio) -> Self {
        assert!(regs.len() >= WINDOW_LEN, "GPIO window too small");
        Self { regs }
    }

    fn bit(pin: u8) -> u32 {
        assert!(pin < PINS, "GPIO pin out of range");
        0x8000_0000 >> pin
    }

    /// Make `pin` an output driving `high`. The direction is set first: the block signals a
    /// level change on an output pin when its data bit changes.
    pub fn drive(&self, pin: u8, high: bool) {
        let bit = Self::bit(pin);
        self.regs
            .write_be32(GPDIR, self.regs.read_be32(GPDIR) | bit);
        let data = self.regs.read_be32(GPDAT);
        self.regs
            .write_be32(GPDAT, if high { data | bit } else { data & !bit });
    }
}
