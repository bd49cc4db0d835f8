//! Device drivers shared by boards.
//!
//! Each controller that appears on more than one board lives here once: the 16550 UART (malta,
//! ppce500, RB400, RB1100), the i8259 pair (malta), the OpenPIC/MPIC (ppce500, RB1100), the
//! Ethernet controllers ([`e1000`], [`etsec`], [`ag71xx`], sharing [`nic`] and [`dma`]) and
//! PCI configuration ([`pci`]), ATA disks by PIO ([`ata`]: the PIIX4 IDE channel on malta) and
//! virtio block devices on PCI ([`virtio_blk`]: QEMU ppce500's disk). Boards only say where a controller is and how it is wired.
//! [`fsl_soc`] is the MPC85xx (e500) SoC platform both PowerPC boards share: its devices found
//! through the device tree.
//!
//! Register access goes through [`mmio`]: one `unsafe` constructor per register block, safe
//! typed accessors after that, explicit endianness; memory shared with a DMA device through
//! [`dma`], likewise. `README.md` has the DMA and cache rule, and what each Ethernet driver
//! uses of its device and what is verified where.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod ag71xx;
pub mod ata;
pub mod cfi_flash;
pub mod dma;
pub mod e1000;
pub mod etsec;
pub mod frame_copy;
pub mod fsl_guts;
pub mod fsl_pci;
pub mod fsl_soc;
pub mod gt64120;
pub mod i8259;
pub mod mii;
pub mod mmio;
pub mod mpc8xxx_gpio;
pub mod mpic;
pub mod nic;
pub mod pci;
#[cfg(test)]
mod testing;
pub mod uart16550;
pub mod virtio_blk;
