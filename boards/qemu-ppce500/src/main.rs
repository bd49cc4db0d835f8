//! Board: QEMU `ppce500` with an e500v2 core, the test stand-in for the RB1100.
//!
//! The MPC85xx platform (`drivers::fsl_soc`, through the board crate every e500 board shares,
//! `board_e500`) finds everything through the device tree QEMU passes in r3: RAM from `/memory`, time base and core clock from `/cpus`, the console (DUART
//! channel 0 at CCSR + 0x4500, MPIC source 42) from `/chosen/stdout-path`, the MPIC at
//! CCSR + 0x4_0000, reset through the global utilities (RSTCR), power-off through the
//! `gpio-poweroff` line (pin 0 of the GPIO block at CCSR + 0xF_F000), the disk a virtio block
//! device on the PCI bus (`-device virtio-blk-pci`) and e1000 ports after the eTSECs
//! (`-device e1000`), their registers in a 1 MiB PCI window at 0xF_0010_0000, the
//! configuration flash a CFI NOR flash at the platform bus's start (`-drive if=pflash`, at
//! most 512 KiB so that it and the eTSECs after it stay below that PCI window). What is
//! specific to this
//! board is its memory map: CCSR at physical 0xF_E000_0000 and the load address, in
//! `memory.ld`.
#![no_std]
#![no_main]

fn main(regs: hypervisor::arch::BootRegs) -> ! {
    // QEMU's tree says `fixed-link`, but its eTSEC model has a PHY whose link follows `set_link`.
    // The disk is `-device virtio-blk-pci` on the PCI bus, where `-device e1000` ports go too.
    board_e500::start(
        "qemu-ppce500",
        regs,
        board_e500::FixedLinks::FromPhyAt(0),
        board_e500::PciSetup::Windows(board_e500::QEMU_PPCE500_PCI),
        // `-drive if=pflash` (`./x run` gives 512 KiB): the configuration.
        board_e500::ConfigSetup::TreeNorFlash,
    )
}

hypervisor::board_entry!(main);
