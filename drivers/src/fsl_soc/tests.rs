//! [`SocDescription`] against QEMU's real ppce500 tree (dumped with
//! `qemu-system-ppc -M ppce500,dumpdtb=... -m 512 -serial null`) and against trees in the shape
//! RouterBOOT and old U-Boot give an MPC8544 (1-cell root addresses, `soc8544@e0000000`,
//! `chrp,open-pic`), built here.

extern crate std;

use std::vec::Vec;

use fdt::Fdt;

use super::{GpioLine, Interrupt, NorFlash, RamBank, SocDescription, TreeError};
use crate::mpic::{Sense, Source};

mod ethernet;

const QEMU_PPCE500_DTB: &[u8] = include_bytes!("qemu-ppce500.dtb");
/// The same machine started with `-kernel ... -initrd` of a 4 KiB file (the tree trimmed to its
/// used size).
const QEMU_PPCE500_INITRD_DTB: &[u8] = include_bytes!("qemu-ppce500-initrd.dtb");
/// QEMU 10's ppce500 with `-drive if=pflash` (512 KiB) and two `-device eTSEC`, dumped with
/// `-machine dumpdtb=`: the flash at the platform bus's start, the eTSECs after it.
const QEMU_PPCE500_PFLASH_DTB: &[u8] = include_bytes!("qemu-ppce500-pflash.dtb");

/// A minimal flattened-device-tree writer (version 17, empty reservation map).
struct TreeBuilder {
    structs: Vec<u8>,
    strings: Vec<u8>,
}

const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_END: u32 = 9;

impl TreeBuilder {
    fn new() -> Self {
        TreeBuilder {
            structs: Vec::new(),
            strings: Vec::new(),
        }
    }

    fn word(&mut self, w: u32) {
        self.structs.extend_from_slice(&w.to_be_bytes());
    }

    fn pad(&mut self) {
        while self.structs.len() & 3 != 0 {
            self.structs.push(0);
        }
    }

    fn begin(&mut self, name: &str) -> &mut Self {
        self.word(FDT_BEGIN_NODE);
        self.structs.extend_from_slice(name.as_bytes());
        self.structs.push(0);
        self.pad();
        self
    }

    fn end(&mut self) -> &mut Self {
        self.word(FDT_END_NODE);
        self
    }

    fn prop(&mut self, name: &str, value: &[u8]) -> &mut Self {
        let offset = self.strings.len() as u32;
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        self.word(FDT_PROP);
        self.word(value.len() as u32);
        self.word(offset);
        self.structs.extend_from_slice(value);
        self.pad();
        self
    }

    fn cells(&mut self, name: &str, cells: &[u32]) -> &mut Self {
        let bytes: Vec<u8> = cells.iter().flat_map(|c| c.to_be_bytes()).collect();
        self.prop(name, &bytes)
    }

    fn string(&mut self, name: &str, value: &str) -> &mut Self {
        let mut bytes = value.as_bytes().to_vec();
        bytes.push(0);
        self.prop(name, &bytes)
    }

    fn finish(mut self) -> Vec<u8> {
        self.word(FDT_END);
        let header_len = 40;
        let rsvmap_len = 16;
        let off_struct = header_len + rsvmap_len;
        let off_strings = off_struct + self.structs.len();
        let total = off_strings + self.strings.len();
        let mut out = Vec::with_capacity(total);
        for w in [
            0xD00D_FEED,
            total as u32,
            off_struct as u32,
            off_strings as u32,
            header_len as u32,
            17,
            16,
            0,
            self.strings.len() as u32,
            self.structs.len() as u32,
        ] {
            out.extend_from_slice(&u32::to_be_bytes(w));
        }
        out.extend_from_slice(&[0; 16]);
        out.extend_from_slice(&self.structs);
        out.extend_from_slice(&self.strings);
        out
    }
}

const MPIC_PHANDLE: u32 = 0x8000;

/// An RB1100-style tree. `tweak` may add to the SoC node before it is closed.
fn rb1100_tree(
    stdout: Option<&str>,
    serial_interrupts: &[u32],
    tweak: impl FnOnce(&mut TreeBuilder),
) -> Vec<u8> {
    let mut t = TreeBuilder::new();
    t.begin("")
        .string("model", "RB1100")
        .prop("compatible", b"MPC8544DS\0MPC85xxDS\0")
        .cells("#address-cells", &[1])
        .cells("#size-cells", &[1]);
    t.begin("cpus")
        .cells("#address-cells", &[1])
        .cells("#size-cells", &[0]);
    t.begin("PowerPC,8544@0")
        .string("device_type", "cpu")
        .cells("reg", &[0])
        .cells("timebase-frequency", &[83_333_333])
        .cells("clock-frequency", &[833_333_333])
        .end();
    t.end();
    t.begin("memory")
        .string("device_type", "memory")
        .cells("reg", &[0, 0x2000_0000])
        .end();
    t.begin("soc8544@e0000000")
        .cells("#address-cells", &[1])
        .cells("#size-cells", &[1])
        .string("device_type", "soc")
        .cells("ranges", &[0, 0xE000_0000, 0x10_0000])
        .cells("reg", &[0xE000_0000, 0x1000])
        .cells("bus-frequency", &[0]);
    for (unit, index) in [("serial@4500", 0), ("serial@4600", 1)] {
        t.begin(unit)
            .cells("cell-index", &[index])
            .string("device_type", "serial")
            .string("compatible", "ns16550")
            .cells("reg", &[if index == 0 { 0x4500 } else { 0x4600 }, 0x100])
            .cells("clock-frequency", &[333_333_333]);
        if !serial_interrupts.is_empty() {
            t.cells("interrupts", serial_interrupts)
                .cells("interrupt-parent", &[MPIC_PHANDLE]);
        }
        t.end();
    }
    t.begin("pic@40000")
        .prop("interrupt-controller", &[])
        .cells("#address-cells", &[0])
        .cells("#interrupt-cells", &[2])
        .cells("reg", &[0x4_0000, 0x4_0000])
        .string("compatible", "chrp,open-pic")
        .string("device_type", "open-pic")
        .prop("big-endian", &[])
        .cells("linux,phandle", &[MPIC_PHANDLE])
        .cells("phandle", &[MPIC_PHANDLE])
        .end();
    tweak(&mut t);
    t.end();
    t.begin("chosen")
        .string("bootargs", "console=ttyS0,115200 root=/dev/null");
    if let Some(path) = stdout {
        t.string("linux,stdout-path", path);
    }
    t.end();
    t.end();
    t.finish()
}

fn describe(bytes: &[u8]) -> Result<SocDescription<'_>, TreeError> {
    SocDescription::from_tree(&Fdt::new(bytes).expect("valid flattened device tree"))
}

#[test]
fn qemu_ppce500_tree() {
    let d = describe(QEMU_PPCE500_DTB).unwrap();
    assert_eq!(d.model, "QEMU ppce500");
    assert_eq!(d.ccsr_phys, 0xF_E000_0000);
    assert_eq!(
        d.ram[0],
        Some(RamBank {
            base: 0,
            size: 512 << 20
        })
    );
    assert_eq!(d.ram[1], None);
    assert_eq!(d.total_ram(), 512 << 20);
    assert_eq!(d.timebase_hz, 400_000_000);
    assert_eq!(d.cpu_hz, Some(400_000_000));
    assert_eq!(d.bootargs, None);
    assert_eq!(d.console.ccsr_offset, 0x4500);
    assert_eq!(d.console.clock_hz, Some(400_000_000));
    assert_eq!(
        d.console.interrupt,
        Interrupt {
            source: Source(42),
            sense: Sense::LevelHigh
        }
    );
    assert_eq!(d.mpic_offset, 0x4_0000);
    assert_eq!(d.guts_offset, Some(0xE_0000));
    assert_eq!(
        d.power_off,
        Some(GpioLine {
            controller_offset: 0xF_F000,
            pin: 0,
            active_low: false
        })
    );
}

#[test]
fn qemu_ppce500_pflash_is_found_on_the_platform_bus() {
    let d = describe(QEMU_PPCE500_PFLASH_DTB).unwrap();
    assert_eq!(
        d.nor_flash,
        Some(NorFlash {
            phys: 0xF_0000_0000,
            size: 512 << 10,
            bank_width: 2
        })
    );
    let etsecs: Vec<u64> = d.ethernet.iter().flatten().map(|e| e.phys).collect();
    assert_eq!(etsecs, [0xF_0008_0000, 0xF_0008_1000]);
    assert_eq!(describe(QEMU_PPCE500_DTB).unwrap().nor_flash, None);
}

#[test]
fn rb1100_style_tree() {
    let tree = rb1100_tree(Some("/soc8544@e0000000/serial@4500"), &[0x2A, 2], |_| {});
    let d = describe(&tree).unwrap();
    assert_eq!(d.model, "RB1100");
    assert_eq!(d.ccsr_phys, 0xE000_0000);
    assert_eq!(
        d.ram[0],
        Some(RamBank {
            base: 0,
            size: 512 << 20
        })
    );
    assert_eq!(d.timebase_hz, 83_333_333);
    assert_eq!(d.cpu_hz, Some(833_333_333));
    assert_eq!(d.bootargs, Some("console=ttyS0,115200 root=/dev/null"));
    assert_eq!(d.console.ccsr_offset, 0x4500);
    assert_eq!(d.console.clock_hz, Some(333_333_333));
    assert_eq!(
        d.console.interrupt,
        Interrupt {
            source: Source(42),
            sense: Sense::LevelHigh
        }
    );
    assert_eq!(d.mpic_offset, 0x4_0000);
    assert_eq!(
        d.guts_offset, None,
        "old 85xx trees have no guts node: the platform falls back"
    );
    assert_eq!(d.power_off, None, "the RB1100 has no software power switch");
}

#[test]
fn console_follows_stdout_path() {
    let tree = rb1100_tree(Some("/soc8544@e0000000/serial@4600"), &[0x2A, 2], |_| {});
    assert_eq!(describe(&tree).unwrap().console.ccsr_offset, 0x4600);
    // Without a stdout path (and no serial0 alias): the first 16550 under the SoC node.
    let tree = rb1100_tree(None, &[0x2A, 2], |_| {});
    assert_eq!(describe(&tree).unwrap().console.ccsr_offset, 0x4500);
    // A stdout path naming a node that is not there.
    let tree = rb1100_tree(Some("/soc8544@e0000000/serial@4700"), &[0x2A, 2], |_| {});
    assert_eq!(describe(&tree), Err(TreeError::NoConsole));
}

#[test]
fn console_interrupt_is_required_and_checked() {
    let tree = rb1100_tree(None, &[], |_| {});
    assert_eq!(describe(&tree), Err(TreeError::NoConsoleInterrupt));
    let tree = rb1100_tree(None, &[0x2A, 7], |_| {});
    assert_eq!(
        describe(&tree),
        Err(TreeError::Malformed("interrupt sense"))
    );
    let tree = rb1100_tree(None, &[0x2A, 0], |_| {});
    assert_eq!(
        describe(&tree).unwrap().console.interrupt.sense,
        Sense::EdgeRising
    );
}

#[test]
fn guts_and_power_off_nodes_are_used_when_present() {
    let tree = rb1100_tree(None, &[0x2A, 2], |t| {
        t.begin("global-utilities@e0000")
            .string("compatible", "fsl,mpc8548-guts")
            .cells("reg", &[0xE_0000, 0x1000])
            .end();
        t.begin("gpio@f000")
            .string("compatible", "fsl,mpc8572-gpio")
            .cells("reg", &[0xF000, 0x100])
            .cells("phandle", &[0x9000])
            .end();
        t.begin("power-off")
            .string("compatible", "gpio-poweroff")
            .cells("gpios", &[0x9000, 5, 1])
            .end();
    });
    let d = describe(&tree).unwrap();
    assert_eq!(d.guts_offset, Some(0xE_0000));
    assert_eq!(
        d.power_off,
        Some(GpioLine {
            controller_offset: 0xF000,
            pin: 5,
            active_low: true
        })
    );
}

#[test]
fn power_off_on_an_unknown_gpio_controller_is_ignored() {
    let tree = rb1100_tree(None, &[0x2A, 2], |t| {
        t.begin("gpio@f000")
            .string("compatible", "acme,gpio")
            .cells("reg", &[0xF000, 0x100])
            .cells("phandle", &[0x9000])
            .end();
        t.begin("power-off")
            .string("compatible", "gpio-poweroff")
            .cells("gpios", &[0x9000, 5, 0])
            .end();
    });
    assert_eq!(describe(&tree).unwrap().power_off, None);
}

#[test]
fn missing_soc_node_is_reported() {
    let mut t = TreeBuilder::new();
    t.begin("")
        .cells("#address-cells", &[1])
        .cells("#size-cells", &[1]);
    t.begin("cpus").end();
    t.begin("chosen").end();
    t.end();
    let tree = t.finish();
    assert_eq!(describe(&tree), Err(TreeError::NoSocNode));
}

#[test]
fn qemu_ppce500_initrd() {
    assert_eq!(describe(QEMU_PPCE500_DTB).unwrap().initrd, None);
    let d = describe(QEMU_PPCE500_INITRD_DTB).unwrap();
    assert_eq!(
        d.initrd,
        Some(RamBank {
            base: 0x0400_0000,
            size: 4096
        })
    );
    assert_eq!(d.model, "QEMU ppce500");
}

#[test]
fn qemu_ppce500_pci_interrupts_come_from_the_interrupt_map() {
    let d = describe(QEMU_PPCE500_DTB).unwrap();
    let map = d
        .pci_interrupts
        .expect("QEMU's tree maps its PCI interrupts");
    let source = |device, function, pin| map.lookup(device, function, pin).map(|i| i.source.0);
    // QEMU rotates the four pins over MPIC sources 1..4 by slot: (device + pin - 1) % 4 + 1.
    assert_eq!(source(1, 0, 1), Some(2));
    assert_eq!(source(1, 0, 4), Some(1));
    assert_eq!(source(2, 0, 1), Some(3));
    assert_eq!(source(3, 0, 2), Some(1));
    assert_eq!(source(31, 0, 4), Some(3));
    // The mask keeps the device number only: every function of a slot shares its rows.
    assert_eq!(source(2, 5, 1), Some(3));
    // No slot 0 in the map, and pins are 1..4.
    assert_eq!(source(0, 0, 1), None);
    assert_eq!(source(1, 0, 0), None);
    assert_eq!(
        map.lookup(1, 0, 1).map(|i| i.sense),
        Some(Sense::LevelLow),
        "PCI lines are active-low levels"
    );
    for device in 1..32u8 {
        for pin in 1..=4u8 {
            let want = (u16::from(device) + u16::from(pin) - 1) % 4 + 1;
            assert_eq!(
                source(device, 0, pin),
                Some(want),
                "device {device} pin {pin}"
            );
        }
    }
}

#[test]
fn a_tree_without_pci_has_no_pci_interrupts() {
    let tree = rb1100_tree(Some("/soc8544@e0000000/serial@4500"), &[0x2A, 2], |_| {});
    assert_eq!(describe(&tree).unwrap().pci_interrupts, None);
}
