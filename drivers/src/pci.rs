//! PCI configuration space: finding functions, their BARs, enabling them, their INTx pin.
//!
//! [`PciConfig`] is the configuration mechanism a host bridge provides (the GT-64120 on malta,
//! [`Gt64120Pci`](crate::gt64120::Gt64120Pci)); it deals in dword *values*: the bridge takes care
//! of PCI's little-endian byte lanes on these big-endian CPUs. Everything here is plain
//! configuration-space logic over it (PCI Local Bus Specification 3.0, chapter 6), tested on the
//! host against a model of a function's configuration header.
//!
//! With `-kernel`, QEMU's malta leaves BARs unassigned: the board sizes each BAR
//! ([`bar_size`]), places it in its PCI memory window ([`set_bar`]) and enables the function
//! ([`enable`]). The PIIX4 routes PCI INTA..D to ISA IRQs (QEMU's boot stub programs PIRQA..D
//! to IRQ 10, 10, 11, 11; malta's slot wiring decides which PIRQ a slot's INTA is).

#[cfg(test)]
mod tests;

/// A PCI function's address on bus 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciFunction {
    pub device: u8,
    pub function: u8,
}

/// Configuration-space access through a host bridge.
pub trait PciConfig {
    /// The configuration dword at `reg` (rounded down to a multiple of 4); all ones when no
    /// function answers.
    fn read32(&self, f: PciFunction, reg: u8) -> u32;
    /// Write the configuration dword at `reg` (rounded down to a multiple of 4).
    fn write32(&self, f: PciFunction, reg: u8, value: u32);
}

const REG_ID: u8 = 0x00;
const REG_COMMAND: u8 = 0x04;
/// Revision (bits 7..0) and class code (bits 31..8).
const REG_CLASS: u8 = 0x08;
const REG_HEADER: u8 = 0x0C;
const REG_BAR0: u8 = 0x10;
const REG_INTERRUPT: u8 = 0x3C;
const HEADER_MULTIFUNCTION: u32 = 0x80 << 16;
const HEADER_TYPE_MASK: u32 = 0x7F << 16;
const NO_VENDOR: u16 = 0xFFFF;
/// Standard (type 0) headers have six BARs.
pub const BAR_COUNT: u8 = 6;

const BAR_IO: u32 = 1 << 0;
const BAR_MEM_TYPE_MASK: u32 = 3 << 1;
const BAR_MEM_64: u32 = 2 << 1;
const BAR_PREFETCH: u32 = 1 << 3;

/// Command register bits.
const COMMAND_IO: u32 = 1 << 0;
const COMMAND_MEMORY: u32 = 1 << 1;
const COMMAND_BUS_MASTER: u32 = 1 << 2;
const COMMAND_INTX_DISABLE: u32 = 1 << 10;

/// Vendor and device ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceId {
    pub vendor: u16,
    pub device: u16,
}

/// The functions present on bus 0, with their IDs (function 0 of each device, and functions
/// 1..7 of multi-function devices).
pub fn functions(cfg: &impl PciConfig) -> impl Iterator<Item = (PciFunction, DeviceId)> + '_ {
    (0..32u8).flat_map(move |device| {
        let first = PciFunction {
            device,
            function: 0,
        };
        let multi =
            id(cfg, first).is_some() && cfg.read32(first, REG_HEADER) & HEADER_MULTIFUNCTION != 0;
        let count = if multi { 8 } else { 1 };
        (0..count).filter_map(move |function| {
            let f = PciFunction { device, function };
            id(cfg, f).map(|id| (f, id))
        })
    })
}

/// The functions on bus 0 with this vendor and device ID.
pub fn find(
    cfg: &impl PciConfig,
    vendor: u16,
    device: u16,
) -> impl Iterator<Item = PciFunction> + '_ {
    functions(cfg)
        .filter(move |(_, id)| id.vendor == vendor && id.device == device)
        .map(|(f, _)| f)
}

/// The function's base class (the class code's top byte: 0x02 network, 0x06 bridge, ...).
pub fn base_class(cfg: &impl PciConfig, f: PciFunction) -> u8 {
    (cfg.read32(f, REG_CLASS) >> 24) as u8
}

/// The base class of bridges (host, PCI-to-PCI).
pub const CLASS_BRIDGE: u8 = 0x06;
/// The base class of processors (an MPC85xx's PCI controller shows itself as one, 0x0B20).
pub const CLASS_PROCESSOR: u8 = 0x0B;

fn id(cfg: &impl PciConfig, f: PciFunction) -> Option<DeviceId> {
    let v = cfg.read32(f, REG_ID);
    let vendor = v as u16;
    (vendor != NO_VENDOR && vendor != 0).then_some(DeviceId {
        vendor,
        device: (v >> 16) as u16,
    })
}

/// What a base address register decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bar {
    /// A memory window at `base` (a 64-bit BAR takes this register and the next).
    Memory {
        base: u64,
        is_64bit: bool,
        prefetchable: bool,
    },
    /// An I/O port window at `base`.
    Io { base: u32 },
}

/// Why a BAR could not be read or set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PciError {
    /// BAR index 6 or more, or the upper half of a 64-bit BAR.
    NoSuchBar,
    /// The BAR decodes nothing (it reads back zero when sized).
    Unimplemented,
    /// The base is not aligned to the BAR's size, or does not fit its width.
    BadBase,
    /// The function is not a standard (type 0) header.
    NotAnEndpoint,
}

fn bar_reg(cfg: &impl PciConfig, f: PciFunction, index: u8) -> Result<u8, PciError> {
    if cfg.read32(f, REG_HEADER) & HEADER_TYPE_MASK != 0 {
        return Err(PciError::NotAnEndpoint);
    }
    if index >= BAR_COUNT {
        return Err(PciError::NoSuchBar);
    }
    // The upper half of a 64-bit BAR is not a BAR of its own.
    if is_upper_half(cfg, f, index) {
        return Err(PciError::NoSuchBar);
    }
    Ok(REG_BAR0 + 4 * index)
}

/// Whether BAR `index` is itself the upper half of the 64-bit BAR below it.
fn is_upper_half(cfg: &impl PciConfig, f: PciFunction, index: u8) -> bool {
    let mut i = 0;
    while i < index {
        let v = cfg.read32(f, REG_BAR0 + 4 * i);
        let is_64 = v & BAR_IO == 0 && v & BAR_MEM_TYPE_MASK == BAR_MEM_64;
        i += if is_64 { 2 } else { 1 };
    }
    i != index
}

/// What BAR `index` decodes now.
pub fn read_bar(cfg: &impl PciConfig, f: PciFunction, index: u8) -> Result<Bar, PciError> {
    let reg = bar_reg(cfg, f, index)?;
    let low = cfg.read32(f, reg);
    if low & BAR_IO != 0 {
        return Ok(Bar::Io { base: low & !3 });
    }
    let is_64bit = low & BAR_MEM_TYPE_MASK == BAR_MEM_64;
    let high = if is_64bit && index + 1 < BAR_COUNT {
        cfg.read32(f, reg + 4)
    } else {
        0
    };
    Ok(Bar::Memory {
        base: (u64::from(high) << 32) | u64::from(low & !0xF),
        is_64bit,
        prefetchable: low & BAR_PREFETCH != 0,
    })
}

/// The size of the window BAR `index` decodes (the standard probe: write all ones with
/// decoding off, read back, restore).
pub fn bar_size(cfg: &impl PciConfig, f: PciFunction, index: u8) -> Result<u64, PciError> {
    let reg = bar_reg(cfg, f, index)?;
    let command = cfg.read32(f, REG_COMMAND) & 0xFFFF;
    cfg.write32(f, REG_COMMAND, command & !(COMMAND_IO | COMMAND_MEMORY));
    let low = cfg.read32(f, reg);
    let is_io = low & BAR_IO != 0;
    let is_64bit = !is_io && low & BAR_MEM_TYPE_MASK == BAR_MEM_64 && index + 1 < BAR_COUNT;
    cfg.write32(f, reg, u32::MAX);
    let probed_low = cfg.read32(f, reg);
    cfg.write32(f, reg, low);
    // A 32-bit BAR decodes no address bit above 31: its mask's upper half is all ones.
    let mut probed_high = u32::MAX;
    if is_64bit {
        let high = cfg.read32(f, reg + 4);
        cfg.write32(f, reg + 4, u32::MAX);
        probed_high = cfg.read32(f, reg + 4);
        cfg.write32(f, reg + 4, high);
    }
    cfg.write32(f, REG_COMMAND, command);
    let low_mask = if is_io {
        probed_low & !3
    } else {
        probed_low & !0xF
    };
    if low_mask == 0 && (!is_64bit || probed_high == 0) {
        return Err(PciError::Unimplemented);
    }
    // I/O BARs may decode only 16 bits (the upper ones read back as zero).
    let low_mask = if is_io {
        low_mask | 0xFFFF_0000
    } else {
        low_mask
    };
    let mask = (u64::from(probed_high) << 32) | u64::from(low_mask);
    Ok((!mask).wrapping_add(1))
}

/// Place BAR `index` at `base` (aligned to the BAR's size).
pub fn set_bar(cfg: &impl PciConfig, f: PciFunction, index: u8, base: u64) -> Result<(), PciError> {
    let size = bar_size(cfg, f, index)?;
    let reg = bar_reg(cfg, f, index)?;
    if !base.is_multiple_of(size) {
        return Err(PciError::BadBase);
    }
    let low = cfg.read32(f, reg);
    if low & BAR_IO != 0 {
        let base = u32::try_from(base).map_err(|_| PciError::BadBase)?;
        cfg.write32(f, reg, base | (low & 3));
        return Ok(());
    }
    let is_64bit = low & BAR_MEM_TYPE_MASK == BAR_MEM_64 && index + 1 < BAR_COUNT;
    if !is_64bit && base > u64::from(u32::MAX) {
        return Err(PciError::BadBase);
    }
    cfg.write32(f, reg, base as u32 | (low & 0xF));
    if is_64bit {
        cfg.write32(f, reg + 4, (base >> 32) as u32);
    }
    Ok(())
}

/// Which decoders to turn on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Enable {
    pub memory: bool,
    pub io: bool,
    pub bus_master: bool,
}

/// Turn on the function's memory and/or I/O decoding and bus mastering (DMA), and allow its
/// INTx output. The status half of the dword (write-one-to-clear bits) is written as zeros.
pub fn enable(cfg: &impl PciConfig, f: PciFunction, what: Enable) {
    let mut command = cfg.read32(f, REG_COMMAND) & 0xFFFF & !COMMAND_INTX_DISABLE;
    for (on, bit) in [
        (what.memory, COMMAND_MEMORY),
        (what.io, COMMAND_IO),
        (what.bus_master, COMMAND_BUS_MASTER),
    ] {
        if on {
            command |= bit;
        }
    }
    cfg.write32(f, REG_COMMAND, command);
}

/// The INTx pin a function uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntxPin {
    A,
    B,
    C,
    D,
}

impl IntxPin {
    /// 0 for INTA .. 3 for INTD (for swizzling through a slot's wiring).
    pub fn index(self) -> u8 {
        self as u8
    }
}

/// The function's interrupt pin (`None`: it uses no INTx).
pub fn interrupt_pin(cfg: &impl PciConfig, f: PciFunction) -> Option<IntxPin> {
    match (cfg.read32(f, REG_INTERRUPT) >> 8) & 0xFF {
        1 => Some(IntxPin::A),
        2 => Some(IntxPin::B),
        3 => Some(IntxPin::C),
        4 => Some(IntxPin::D),
        _ => None,
    }
}

/// The interrupt line register: what firmware recorded as the function's IRQ (255: none).
pub fn interrupt_line(cfg: &impl PciConfig, f: PciFunction) -> u8 {
    cfg.read32(f, REG_INTERRUPT) as u8
}

/// Record `irq` in the interrupt line register (for software only: it routes nothing).
pub fn set_interrupt_line(cfg: &impl PciConfig, f: PciFunction, irq: u8) {
    let v = cfg.read32(f, REG_INTERRUPT);
    cfg.write32(f, REG_INTERRUPT, (v & !0xFF) | u32::from(irq));
}
