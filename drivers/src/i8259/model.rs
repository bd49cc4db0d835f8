//! A model of the PIIX4's i8259A pair with its ELCR, as QEMU 10 implements it
//! (`hw/intc/i8259.c`, `i8259_common.c`): per chip an interrupt request register that latches
//! a rising edge (edge mode) or follows the line (level mode, ELCR bit set), a mask, an
//! in-service register, fixed priority (0 highest), the poll command, non-specific EOI, and
//! the slave's output on the master's input 2 (edge-triggered). Lines are driven by the test
//! through [`PicModel::set_line`].

extern crate std;

use std::cell::RefCell;

use crate::mmio::Registers;

#[derive(Default, Clone, Copy)]
struct Chip {
    irr: u8,
    imr: u8,
    isr: u8,
    /// Line levels as last seen (for edge detection).
    last: u8,
    elcr: u8,
    elcr_mask: u8,
    poll: bool,
    read_isr: bool,
    /// Which initialisation word comes next (0: none).
    init_step: u8,
}

impl Chip {
    fn set_line(&mut self, bit: u8, level: bool) {
        let mask = 1 << bit;
        if self.elcr & mask != 0 {
            if level {
                self.irr |= mask;
            } else {
                self.irr &= !mask;
            }
        } else if level && self.last & mask == 0 {
            self.irr |= mask;
        }
        if level {
            self.last |= mask;
        } else {
            self.last &= !mask;
        }
    }

    /// The highest-priority request that may interrupt what is in service.
    fn pending(&self) -> Option<u8> {
        let requests = self.irr & !self.imr;
        let highest = (0..8).find(|b| requests & (1 << b) != 0)?;
        let in_service = (0..8).find(|b| self.isr & (1 << b) != 0).unwrap_or(8);
        (highest < in_service).then_some(highest)
    }

    fn acknowledge(&mut self, bit: u8) {
        self.isr |= 1 << bit;
        if self.elcr & (1 << bit) == 0 {
            self.irr &= !(1 << bit);
        }
    }

    fn write_command(&mut self, v: u8) {
        if v & 0x10 != 0 {
            // ICW1
            *self = Chip {
                elcr: self.elcr,
                elcr_mask: self.elcr_mask,
                last: self.last,
                init_step: 2,
                ..Chip::default()
            };
        } else if v & 0x08 != 0 {
            // OCW3
            self.poll = v & 0x04 != 0;
            if v & 0x02 != 0 {
                self.read_isr = v & 0x01 != 0;
            }
        } else if v == 0x20 {
            // OCW2: non-specific EOI
            if let Some(b) = (0..8).find(|b| self.isr & (1 << b) != 0) {
                self.isr &= !(1 << b);
            }
        }
    }

    fn write_data(&mut self, v: u8) {
        match self.init_step {
            2 => self.init_step = 3,
            3 => self.init_step = 4,
            4 => self.init_step = 0,
            _ => self.imr = v,
        }
    }

    fn read_command(&mut self) -> u8 {
        if self.poll {
            self.poll = false;
            return match self.pending() {
                Some(b) => {
                    self.acknowledge(b);
                    0x80 | b
                }
                None => 0,
            };
        }
        if self.read_isr {
            self.isr
        } else {
            self.irr
        }
    }
}

pub struct PicModel {
    chips: RefCell<[Chip; 2]>,
    lines: RefCell<u16>,
}

impl PicModel {
    pub fn new() -> Self {
        let mut chips = [Chip::default(); 2];
        chips[0].elcr_mask = 0xF8;
        chips[1].elcr_mask = 0xDE;
        PicModel {
            chips: RefCell::new(chips),
            lines: RefCell::new(0),
        }
    }

    /// Drive ISA IRQ `irq`'s line (the OR of the devices on it).
    pub fn set_line(&self, irq: u8, level: bool) {
        let mut l = self.lines.borrow_mut();
        if level {
            *l |= 1 << irq;
        } else {
            *l &= !(1 << irq);
        }
        drop(l);
        let mut chips = self.chips.borrow_mut();
        chips[usize::from(irq / 8)].set_line(irq % 8, level);
        Self::cascade(&mut chips);
    }

    fn cascade(chips: &mut [Chip; 2]) {
        let slave_out = chips[1].pending().is_some();
        chips[0].set_line(2, slave_out);
    }

    /// Whether the pair asserts the CPU's interrupt input.
    pub fn output(&self) -> bool {
        self.chips.borrow()[0].pending().is_some()
    }
}

impl Registers for PicModel {
    fn read8(&self, offset: usize) -> u8 {
        let mut chips = self.chips.borrow_mut();
        let v = match offset {
            0x20 => chips[0].read_command(),
            0x21 => chips[0].imr,
            0xA0 => chips[1].read_command(),
            0xA1 => chips[1].imr,
            0x4D0 => chips[0].elcr,
            0x4D1 => chips[1].elcr,
            _ => panic!("no i8259 register at port {offset:#x}"),
        };
        Self::cascade(&mut chips);
        v
    }

    fn write8(&self, offset: usize, v: u8) {
        let mut chips = self.chips.borrow_mut();
        match offset {
            0x20 => chips[0].write_command(v),
            0x21 => chips[0].write_data(v),
            0xA0 => chips[1].write_command(v),
            0xA1 => chips[1].write_data(v),
            0x4D0 => chips[0].elcr = v & chips[0].elcr_mask,
            0x4D1 => chips[1].elcr = v & chips[1].elcr_mask,
            _ => panic!("no i8259 register at port {offset:#x}"),
        }
        // A level-triggered request follows its line again after a mode change or an EOI.
        let lines = *self.lines.borrow();
        for (i, chip) in chips.iter_mut().enumerate() {
            let level = (lines >> (8 * i)) as u8;
            chip.irr |= level & chip.elcr;
        }
        Self::cascade(&mut chips);
    }

    fn read_le32(&self, offset: usize) -> u32 {
        panic!("32-bit access at port {offset:#x}: the i8259 has byte registers")
    }
    fn write_le32(&self, offset: usize, _: u32) {
        panic!("32-bit access at port {offset:#x}: the i8259 has byte registers")
    }
    fn read_be32(&self, offset: usize) -> u32 {
        panic!("32-bit access at port {offset:#x}: the i8259 has byte registers")
    }
    fn write_be32(&self, offset: usize, _: u32) {
        panic!("32-bit access at port {offset:#x}: the i8259 has byte registers")
    }
}
