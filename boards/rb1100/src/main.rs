//! Board: MikroTik RB1100 / RB1100AH (Freescale MPC8544E, e500v2).
//!
//! RouterBOOT enters with r3 = its device tree (model "RB1100", `/soc8544@e0000000`, kernel
//! arguments in `/chosen/bootargs`). The MPC85xx platform (`drivers::fsl_soc`, through the
//! board crate every e500 board shares, `board_e500`) finds everything through that tree,
//! exactly as on QEMU ppce500: RAM from `/memory`, time base and core clock
//! from `/cpus`, the console (DUART channel 0, its clock from the tree), the MPIC, reset
//! through the global utilities (RSTCR). The board has no software power switch (no
//! `gpio-poweroff` in its tree): power-off halts. What is specific to this board is its memory
//! map: CCSR at physical 0xE000_0000 and the load address, in `memory.ld`. Not run on hardware
//! yet: see README.md.
#![no_std]
#![no_main]

fn main(regs: hypervisor::arch::BootRegs) -> ! {
    // Its NAND and CompactFlash have no driver yet: no disk, files stay in RAM. Its ports are
    // the SoC's eTSECs; RouterBOOT's PCI set-up is left alone.
    board_e500::start(
        "rb1100",
        regs,
        board_e500::FixedLinks::AsTheTreeSays,
        board_e500::PciSetup::None,
        // Its boot flash holds RouterBOOT: never written.
        board_e500::ConfigSetup::None,
    )
}

hypervisor::board_entry!(main);
