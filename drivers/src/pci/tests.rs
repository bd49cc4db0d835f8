//! Configuration-space logic against a model of bus 0: functions with type 0 headers whose
//! BARs decode the address bits their size allows (writes of all ones read back as the size
//! mask), as PCI 3.0 section 6.2.5.1 specifies.

extern crate std;

use std::cell::RefCell;
use std::vec::Vec;

use super::*;

struct Function {
    at: PciFunction,
    config: [u32; 16],
    /// Per BAR: the size (0: unimplemented) and the low flag bits.
    bars: [(u64, u32); 6],
}

struct Bus(RefCell<Vec<Function>>);

impl Bus {
    fn with(&self, f: PciFunction, reg: u8) -> Option<(usize, usize)> {
        let i = self.0.borrow().iter().position(|x| x.at == f)?;
        Some((i, usize::from(reg / 4)))
    }
}

impl PciConfig for Bus {
    fn read32(&self, f: PciFunction, reg: u8) -> u32 {
        let Some((i, r)) = self.with(f, reg) else {
            return u32::MAX;
        };
        self.0.borrow()[i].config.get(r).copied().unwrap_or(0)
    }

    fn write32(&self, f: PciFunction, reg: u8, value: u32) {
        let Some((i, r)) = self.with(f, reg) else {
            return;
        };
        let mut bus = self.0.borrow_mut();
        let func = &mut bus[i];
        match r {
            1 => {
                func.config[1] =
                    (func.config[1] & 0xFFFF_0000 & !(value & 0xFFFF_0000)) | (value & 0xFFFF)
            }
            4..=9 => {
                let b = r - 4;
                // The upper half of a 64-bit BAR belongs to the BAR below.
                let (owner, upper) = if b > 0 && func.bars[b].0 == 0 && func.bars[b - 1].1 & 4 != 0
                {
                    (b - 1, true)
                } else {
                    (b, false)
                };
                let (size, flags) = func.bars[owner];
                if size == 0 {
                    return;
                }
                let mask = !(size - 1);
                func.config[r] = if upper {
                    value & (mask >> 32) as u32
                } else {
                    (value & mask as u32) | flags
                };
            }
            15 => func.config[15] = (func.config[15] & !0xFF) | (value & 0xFF),
            _ => {}
        }
    }
}

fn e1000_at(device: u8) -> Function {
    let mut config = [0; 16];
    config[0] = 0x100E_8086;
    config[2] = 0x0200_0003; // network controller
    config[4] = 0; // BAR0: 32-bit memory
    config[5] = 1; // BAR1: I/O
    config[15] = 0x0000_01FF; // INTA, line 255
    Function {
        at: PciFunction {
            device,
            function: 0,
        },
        config,
        bars: [(0x2_0000, 0), (0x40, 1), (0, 0), (0, 0), (0, 0), (0, 0)],
    }
}

fn bus() -> Bus {
    let mut piix4 = Function {
        at: PciFunction {
            device: 10,
            function: 0,
        },
        config: [0; 16],
        bars: [(0, 0); 6],
    };
    piix4.config[0] = 0x7110_8086;
    piix4.config[3] = 0x0080_0000; // multi-function
    let mut pm = Function {
        at: PciFunction {
            device: 10,
            function: 3,
        },
        config: [0; 16],
        bars: [(0, 0); 6],
    };
    pm.config[0] = 0x7113_8086;
    let mut wide = e1000_at(20);
    wide.config[0] = 0x1234_1AF4;
    wide.config[4] = 0x4 | 0x8; // 64-bit prefetchable memory
    wide.bars = [(1 << 33, 0xC), (0, 0), (0x100, 0), (0, 0), (0, 0), (0, 0)];
    Bus(RefCell::new(std::vec![piix4, pm, e1000_at(18), wide]))
}

#[test]
fn functions_are_found_including_those_of_multi_function_devices() {
    let b = bus();
    let found: Vec<_> = functions(&b)
        .map(|(f, id)| (f.device, f.function, id.device))
        .collect();
    assert_eq!(
        found,
        [
            (10, 0, 0x7110),
            (10, 3, 0x7113),
            (18, 0, 0x100E),
            (20, 0, 0x1234)
        ]
    );
    let e1000: Vec<_> = find(&b, 0x8086, 0x100E).collect();
    assert_eq!(
        e1000,
        [PciFunction {
            device: 18,
            function: 0
        }]
    );
}

#[test]
fn bars_are_sized_placed_and_read_back() {
    let b = bus();
    let f = PciFunction {
        device: 18,
        function: 0,
    };
    b.write32(f, 0x04, 0x0000_0003); // firmware left decoding on
    assert_eq!(bar_size(&b, f, 0), Ok(0x2_0000));
    assert_eq!(bar_size(&b, f, 1), Ok(0x40));
    assert_eq!(bar_size(&b, f, 2), Err(PciError::Unimplemented));
    assert_eq!(
        b.read32(f, 0x04) & 0xFFFF,
        3,
        "sizing restores the command register"
    );
    set_bar(&b, f, 0, 0x1004_0000).unwrap();
    assert_eq!(set_bar(&b, f, 0, 0x1004_1000), Err(PciError::BadBase));
    assert_eq!(
        read_bar(&b, f, 0),
        Ok(Bar::Memory {
            base: 0x1004_0000,
            is_64bit: false,
            prefetchable: false
        })
    );
    set_bar(&b, f, 1, 0x1040).unwrap();
    assert_eq!(read_bar(&b, f, 1), Ok(Bar::Io { base: 0x1040 }));
    assert_eq!(read_bar(&b, f, 6), Err(PciError::NoSuchBar));
}

#[test]
fn a_64_bit_bar_takes_two_registers() {
    let b = bus();
    let f = PciFunction {
        device: 20,
        function: 0,
    };
    assert_eq!(bar_size(&b, f, 0), Ok(1 << 33));
    assert_eq!(bar_size(&b, f, 1), Err(PciError::NoSuchBar));
    set_bar(&b, f, 0, 3 << 33).unwrap();
    assert_eq!(
        read_bar(&b, f, 0),
        Ok(Bar::Memory {
            base: 3 << 33,
            is_64bit: true,
            prefetchable: true
        })
    );
    assert_eq!(bar_size(&b, f, 2), Ok(0x100));
}

#[test]
fn enabling_sets_decoders_and_bus_mastering_without_clearing_status() {
    let b = bus();
    let f = PciFunction {
        device: 18,
        function: 0,
    };
    b.0.borrow_mut()[2].config[1] = 0x0010_0400; // a status bit, INTx disabled
    crate::e1000::enable_pci(&b, f, 0x1000_0000).unwrap();
    let v = b.read32(f, 0x04);
    assert_eq!(v & 0xFFFF, 0x0006, "memory + bus master, INTx allowed");
    assert_eq!(
        v >> 16,
        0x0010,
        "status untouched (its bits are write-one-to-clear)"
    );
    assert_eq!(interrupt_pin(&b, f), Some(IntxPin::A));
    assert_eq!(interrupt_line(&b, f), 0xFF);
    set_interrupt_line(&b, f, 10);
    assert_eq!(interrupt_line(&b, f), 10);
    assert_eq!(interrupt_pin(&b, f), Some(IntxPin::A));
}
