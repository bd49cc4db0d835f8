//! Finding a virtio block device on PCI and where its register regions are: the
//! vendor-specific capabilities (virtio 1.2, 4.1.4) name, for the common configuration, the
//! notification area and the device configuration, a BAR and an offset and length in it.

use crate::pci::{self, PciConfig, PciFunction};

/// Red Hat / virtio vendor ID.
pub const VENDOR: u16 = 0x1AF4;
/// A modern-only block device (0x1040 + device type 2).
pub const DEVICE_MODERN: u16 = 0x1042;
/// A transitional block device (it has the modern capabilities too).
pub const DEVICE_TRANSITIONAL: u16 = 0x1001;

const REG_COMMAND_STATUS: u8 = 0x04;
const STATUS_CAPABILITIES: u32 = 1 << (16 + 4);
const REG_CAPABILITIES: u8 = 0x34;
const CAP_VENDOR_SPECIFIC: u8 = 0x09;
const CFG_COMMON: u8 = 1;
const CFG_NOTIFY: u8 = 2;
const CFG_DEVICE: u8 = 4;
/// More capabilities than a header can hold means a loop.
const MAX_CAPABILITIES: usize = 48;

/// A register region: `len` bytes at `offset` in BAR `bar`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub bar: u8,
    pub offset: u32,
    pub len: u32,
}

/// Where a device's registers are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub common: Region,
    pub notify: Region,
    /// Bytes between the notification registers of consecutive `queue_notify_off` values.
    pub notify_multiplier: u32,
    pub device: Region,
}

impl Layout {
    /// The BARs the regions use (each once, in order).
    pub fn bars(&self) -> impl Iterator<Item = u8> {
        let all = [self.common.bar, self.notify.bar, self.device.bar];
        (0..all.len()).filter_map(move |i| (!all[..i].contains(&all[i])).then_some(all[i]))
    }
}

/// The virtio block devices on bus 0.
pub fn find(cfg: &impl PciConfig) -> impl Iterator<Item = PciFunction> + '_ {
    pci::functions(cfg)
        .filter(|(_, id)| {
            id.vendor == VENDOR && (id.device == DEVICE_MODERN || id.device == DEVICE_TRANSITIONAL)
        })
        .map(|(f, _)| f)
}

/// The regions function `f`'s capabilities name (the first of each kind, as the
/// specification asks); `None` when one is missing (a legacy-only device).
pub fn locate(cfg: &impl PciConfig, f: PciFunction) -> Option<Layout> {
    if cfg.read32(f, REG_COMMAND_STATUS) & STATUS_CAPABILITIES == 0 {
        return None;
    }
    let (mut common, mut notify, mut device) = (None, None, None);
    let mut multiplier = 0;
    let mut other = None;
    let mut at = (cfg.read32(f, REG_CAPABILITIES) & 0xFC) as u8;
    for _ in 0..MAX_CAPABILITIES {
        if at < 0x40 {
            break;
        }
        let head = cfg.read32(f, at);
        let (id, next, kind) = (head as u8, (head >> 8) as u8 & 0xFC, (head >> 24) as u8);
        if id == CAP_VENDOR_SPECIFIC {
            let region = Region {
                bar: cfg.read32(f, at + 4) as u8,
                offset: cfg.read32(f, at + 8),
                len: cfg.read32(f, at + 12),
            };
            let slot = match kind {
                CFG_COMMON => &mut common,
                CFG_NOTIFY => {
                    if notify.is_none() {
                        multiplier = cfg.read32(f, at + 16);
                    }
                    &mut notify
                }
                CFG_DEVICE => &mut device,
                _ => &mut other,
            };
            if slot.is_none() && region.bar < pci::BAR_COUNT {
                *slot = Some(region);
            }
        }
        at = next;
    }
    Some(Layout {
        common: common?,
        notify: notify?,
        notify_multiplier: multiplier,
        device: device?,
    })
}
