//! The PC's cascaded i8259A interrupt controllers (inside the PIIX4 southbridge on malta).
//!
//! Master at I/O ports 0x20/0x21, slave at 0xA0/0xA1 cascaded on master line 2, the pair's
//! output on one CPU interrupt line. Interrupts are identified with the OCW3 poll command, so no
//! interrupt-acknowledge cycle is needed.
//!
//! PCI interrupts are level-triggered and may be shared (QEMU's malta routes PIRQA and PIRQB to
//! IRQ 10, PIRQC and PIRQD to IRQ 11). An edge-triggered 8259 input loses an interrupt on a
//! shared line: while one device holds the line up, another device's request makes no new
//! edge, and once the first is served the line stays up with nobody to notice. Two things
//! prevent that here:
//!
//! - the PIIX4's edge/level control registers (ELCR, ports 0x4D0 and 0x4D1), set by
//!   [`I8259Pair::set_level_triggered`]: a level-triggered input keeps requesting while the
//!   line is up, so after the end of interrupt the controller asks again;
//! - [`I8259Pair::serve_shared`]: serve every device on the line until a whole pass finds
//!   nothing (then the line has been down, so a later request is a new edge even on an
//!   edge-triggered input), send the end of interrupt, then look at the devices again until a
//!   pass finds nothing, so a request made meanwhile is served without another interrupt.

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

use crate::mmio::{Mmio, Registers};

const MASTER_CMD: usize = 0x20;
const MASTER_DATA: usize = 0x21;
const SLAVE_CMD: usize = 0xA0;
const SLAVE_DATA: usize = 0xA1;
/// PIIX4 edge/level control: one bit per IRQ, 1 = level-triggered (IRQ 0..7, then 8..15).
const ELCR_MASTER: usize = 0x4D0;
const ELCR_SLAVE: usize = 0x4D1;
// ICW1: cascade, ICW4 needed (the trigger mode comes from the ELCR). ICW4: 8086 mode, normal EOI.
const ICW1_INIT_ICW4: u8 = 0x11;
const ICW4_8086: u8 = 0x01;
const OCW3_POLL: u8 = 0x0C;
const OCW3_READ_IRR: u8 = 0x0A;
const OCW2_NONSPECIFIC_EOI: u8 = 0x20;
const CASCADE_LINE: u8 = 2;

/// IRQs the PIIX4 lets software make level-triggered: all but 0 (timer), 1 (keyboard),
/// 2 (cascade), 8 (RTC) and 13 (FPU) (Intel 82371AB PIIX4 datasheet, ELCR1/ELCR2).
pub const LEVEL_CAPABLE: u16 = !((1 << 0) | (1 << 1) | (1 << 2) | (1 << 8) | (1 << 13));

/// A request the PIIX4 cannot carry out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerError {
    /// This IRQ is always edge-triggered.
    EdgeOnly(u8),
}

/// The master/slave pair, addressed through the ISA I/O window.
#[derive(Clone, Copy, Debug)]
pub struct I8259Pair<R = Mmio> {
    io: R,
}

impl<R: Registers> I8259Pair<R> {
    /// `isa_io` is the ISA I/O port window (ports 0..0x4D2 at least: the ELCR is at 0x4D0).
    pub fn new(isa_io: R) -> Self {
        Self { io: isa_io }
    }

    /// Initialise both controllers with vectors 0..15 and every line masked but the cascade.
    pub fn init(&self) {
        let io = &self.io;
        io.write8(MASTER_CMD, ICW1_INIT_ICW4);
        io.write8(SLAVE_CMD, ICW1_INIT_ICW4);
        io.write8(MASTER_DATA, 0); // ICW2: vector base 0
        io.write8(SLAVE_DATA, 8);
        io.write8(MASTER_DATA, 1 << CASCADE_LINE); // ICW3: slave on line 2
        io.write8(SLAVE_DATA, CASCADE_LINE); // ICW3: slave identity
        io.write8(MASTER_DATA, ICW4_8086);
        io.write8(SLAVE_DATA, ICW4_8086);
        io.write8(MASTER_DATA, !(1 << CASCADE_LINE));
        io.write8(SLAVE_DATA, 0xFF);
    }

    /// Make the IRQs in `irqs` (bit n = IRQ n) level-triggered and every other one
    /// edge-triggered. PCI interrupt lines must be level-triggered.
    pub fn set_level_triggered(&self, irqs: u16) -> Result<(), TriggerError> {
        if let Some(irq) = (0..16).find(|&i| irqs & !LEVEL_CAPABLE & (1 << i) != 0) {
            return Err(TriggerError::EdgeOnly(irq));
        }
        let [low, high] = irqs.to_le_bytes();
        self.io.write8(ELCR_MASTER, low);
        self.io.write8(ELCR_SLAVE, high);
        Ok(())
    }

    /// The level-triggered IRQs (bit n = IRQ n), as the ELCR says.
    pub fn level_triggered(&self) -> u16 {
        u16::from_le_bytes([self.io.read8(ELCR_MASTER), self.io.read8(ELCR_SLAVE)])
    }

    /// Mask ISA interrupt `irq` (0..15): a level-triggered line that is up asks again once it
    /// is unmasked.
    pub fn mask(&self, irq: u8) {
        let (port, bit) = if irq < 8 {
            (MASTER_DATA, irq)
        } else {
            (SLAVE_DATA, irq - 8)
        };
        let mask = self.io.read8(port) | (1 << bit);
        self.io.write8(port, mask);
    }

    /// Unmask ISA interrupt `irq` (0..15).
    pub fn unmask(&self, irq: u8) {
        let (port, bit) = if irq < 8 {
            (MASTER_DATA, irq)
        } else {
            (SLAVE_DATA, irq - 8)
        };
        let mask = self.io.read8(port) & !(1 << bit);
        self.io.write8(port, mask);
    }

    /// Whether `irq` is requesting now (its bit in the interrupt request register; for a
    /// level-triggered IRQ, whether its line is up).
    pub fn is_requesting(&self, irq: u8) -> bool {
        let (port, bit) = if irq < 8 {
            (MASTER_CMD, irq)
        } else {
            (SLAVE_CMD, irq - 8)
        };
        self.io.write8(port, OCW3_READ_IRR);
        self.io.read8(port) & (1 << bit) != 0
    }

    /// The highest-priority pending interrupt, acknowledged (in service until [`Self::eoi`]).
    pub fn poll(&self) -> Option<u8> {
        self.io.write8(MASTER_CMD, OCW3_POLL);
        let master = self.io.read8(MASTER_CMD);
        if master & 0x80 == 0 {
            return None;
        }
        let line = master & 7;
        if line != CASCADE_LINE {
            return Some(line);
        }
        self.io.write8(SLAVE_CMD, OCW3_POLL);
        let slave = self.io.read8(SLAVE_CMD);
        if slave & 0x80 == 0 {
            // Spurious on the slave: finish the cascade's cycle on the master.
            self.io.write8(MASTER_CMD, OCW2_NONSPECIFIC_EOI);
            return None;
        }
        Some(8 + (slave & 7))
    }

    /// End of interrupt for `irq`, as returned by [`Self::poll`].
    pub fn eoi(&self, irq: u8) {
        if irq >= 8 {
            self.io.write8(SLAVE_CMD, OCW2_NONSPECIFIC_EOI);
        }
        self.io.write8(MASTER_CMD, OCW2_NONSPECIFIC_EOI);
    }

    /// Serve `irq` (as returned by [`Self::poll`]), a line several devices may share.
    /// `serve_devices` looks at every device on the line once, serves those that request
    /// (reading a device's cause register is what lowers its request) and says whether any
    /// did. It runs until a whole pass finds nothing, so the line was down before the end of
    /// interrupt goes out and any later request makes a new edge (which is what keeps even an
    /// edge-triggered line from losing one); after the end of interrupt it runs again until a
    /// pass finds nothing, so a request made meanwhile is served now rather than by another
    /// interrupt.
    pub fn serve_shared(&self, irq: u8, mut serve_devices: impl FnMut() -> bool) {
        while serve_devices() {}
        self.eoi(irq);
        while serve_devices() {}
    }
}
