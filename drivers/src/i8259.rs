//! The PC's cascaded i8259A interrupt controllers (inside the PIIX4 southbridge on malta).
//!
//! Master at I/O ports 0x20/0x21, slave at 0xA0/0xA1 cascaded on master line 2, the pair's
//! output on one CPU interrupt line. Interrupts are identified with the OCW3 poll command, so no
//! interrupt-acknowledge cycle is needed.

use crate::mmio::Mmio;

const MASTER_CMD: usize = 0x20;
const MASTER_DATA: usize = 0x21;
const SLAVE_CMD: usize = 0xA0;
const SLAVE_DATA: usize = 0xA1;
// ICW1: edge triggered, cascade, ICW4 needed. ICW4: 8086 mode, normal EOI.
const ICW1_INIT_ICW4: u8 = 0x11;
const ICW4_8086: u8 = 0x01;
const OCW3_POLL: u8 = 0x0C;
const OCW2_NONSPECIFIC_EOI: u8 = 0x20;
const CASCADE_LINE: u8 = 2;

/// The master/slave pair, addressed through the ISA I/O window.
#[derive(Clone, Copy, Debug)]
pub struct I8259Pair {
    io: Mmio,
}

impl I8259Pair {
    /// `isa_io` is the ISA I/O port window (at least ports 0..0x100).
    pub fn new(isa_io: Mmio) -> Self {
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

    /// Unmask ISA interrupt `irq` (0..15).
    pub fn unmask(&self, irq: u8) {
        let (port, bit) = if irq < 8 { (MASTER_DATA, irq) } else { (SLAVE_DATA, irq - 8) };
        let mask = self.io.read8(port) & !(1 << bit);
        self.io.write8(port, mask);
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
}
