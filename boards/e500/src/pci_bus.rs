//! The PCI bus of an e500 board with a PCI controller, set up once for every device the
//! hypervisor drives on it (the virtio disk, `disk.rs`; e1000 ports, `pci_ports.rs`):
//!
//! - The MPC85xx controller at CCSR + 0x8000 (`drivers::fsl_pci`). Nothing is mapped at reset
//!   (no boot loader ran on QEMU): the board opens outbound window 1 from the CPU's
//!   [`PciWindows::cpu`] to PCI memory at [`PciWindows::bus`], and inbound window 1 from PCI
//!   addresses 0 .. [`INBOUND_SIZE`] to local memory at 0 (snooped, so DMA is coherent and a
//!   bus address is the physical address).
//! - Every memory BAR of every function on bus 0 but the controller's own is placed in the
//!   outbound window once, in bus order (QEMU leaves them unassigned); a BAR that does not fit
//!   is reported and left unplaced, and its device then finds no registers
//!   ([`PciBus::bar_registers`]).
//! - Registers: the outbound window lies in the device window (`device_window.rs`,
//!   cache-inhibited and guarded); all little-endian.

use drivers::fsl_pci::{self, FslPci};
use drivers::mmio::Mmio;
use drivers::pci::{self, Bar, PciFunction};

use crate::device_window::DeviceWindow;

/// Where a board's PCI memory window is: `size` bytes of CPU physical address space at
/// `cpu` reaching PCI memory at `bus` (both aligned to `size`, a power of two); it must lie
/// in the device window's 4 MiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciWindows {
    pub cpu: u64,
    pub bus: u64,
    pub size: u64,
}

/// QEMU ppce500: 1 MiB from the platform bus's second megabyte (QEMU places platform devices
/// from the bottom: the 512 KiB configuration flash at 0xF_0000_0000, the eTSECs after it),
/// reaching the PCI memory addresses its device tree gives the bus (0xE000_0000). Room for
/// the virtio disk (20 KiB) and seven e1000 ports (128 KiB each).
pub const QEMU_PPCE500_PCI: PciWindows = PciWindows {
    cpu: 0xF_0010_0000,
    bus: 0xE000_0000,
    size: 0x10_0000,
};

/// PCI addresses that reach local memory (from 0): the RAM the hypervisor maps, and more.
pub const INBOUND_SIZE: u64 = 0x8000_0000;

/// The bus, its windows open and its BARs placed.
pub struct PciBus {
    pci: FslPci<Mmio>,
    windows: PciWindows,
    window: DeviceWindow,
}

static BUS: spin::Once<Option<PciBus>> = spin::Once::new();

/// The PCI bus behind `ccsr`'s controller, set up by the first call with `windows` (at boot,
/// before any guest runs); `None` (said on the console) when the windows cannot be opened.
pub fn bus(ccsr: &Mmio, windows: PciWindows) -> Option<&'static PciBus> {
    BUS.call_once(|| PciBus::set_up(ccsr, windows)).as_ref()
}

impl PciBus {
    fn set_up(ccsr: &Mmio, windows: PciWindows) -> Option<PciBus> {
        let pci = FslPci::new(ccsr.window(fsl_pci::CCSR_OFFSET, fsl_pci::WINDOW_LEN));
        let opened = pci
            .set_outbound(windows.cpu, windows.bus, windows.size)
            .and_then(|()| pci.set_inbound(0, 0, INBOUND_SIZE));
        if opened.is_err() {
            hypervisor::println!("pci: the windows cannot be set: {windows:?}");
            return None;
        }
        let Some(window) = DeviceWindow::shared(windows.cpu) else {
            hypervisor::println!("pci: the window at {:#x} is out of reach", windows.cpu);
            return None;
        };
        let mut next = windows.bus;
        // The controller itself (device 0, a bridge or "processor" function whose BAR shows
        // CCSR: 1 MiB on QEMU) is left alone, as Linux's `fixup_hide_host_resource_fsl` does.
        let host = |f: PciFunction| {
            f.device == 0
                && matches!(
                    pci::base_class(&pci, f),
                    pci::CLASS_BRIDGE | pci::CLASS_PROCESSOR
                )
        };
        let devices = pci::functions(&pci).filter(|(f, _)| !host(*f));
        for (f, _) in devices {
            for index in 0..pci::BAR_COUNT {
                let Ok(size) = pci::bar_size(&pci, f, index) else {
                    continue;
                };
                if !matches!(pci::read_bar(&pci, f, index), Ok(Bar::Memory { .. })) {
                    continue;
                }
                let base = next.next_multiple_of(size);
                if base + size > windows.bus + windows.size
                    || pci::set_bar(&pci, f, index, base).is_err()
                {
                    hypervisor::println!(
                        "pci: device {}.{}: BAR {index} ({size} bytes) does not fit the window",
                        f.device,
                        f.function
                    );
                    continue;
                }
                next = base + size;
            }
        }
        Some(PciBus {
            pci,
            windows,
            window,
        })
    }

    /// The configuration space.
    pub fn config(&self) -> &FslPci<Mmio> {
        &self.pci
    }

    /// The CPU's view of `len` bytes at `offset` in memory BAR `bar` of `f`, when the BAR was
    /// placed in the window.
    pub fn bar_registers(&self, f: PciFunction, bar: u8, offset: u64, len: usize) -> Option<Mmio> {
        let Ok(Bar::Memory { base, .. }) = pci::read_bar(&self.pci, f, bar) else {
            return None;
        };
        let start = base.checked_sub(self.windows.bus)?.checked_add(offset)?;
        if start.checked_add(len as u64)? > self.windows.size {
            return None;
        }
        self.window.registers(self.windows.cpu + start, len)
    }
}
