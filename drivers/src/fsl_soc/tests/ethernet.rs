//! The eTSEC controllers [`SocDescription`] finds: QEMU's platform bus (a real dumped tree) and
//! an MPC8544-style SoC node (built here).

use super::{describe, rb1100_tree, MPIC_PHANDLE, QEMU_PPCE500_DTB};
use crate::fsl_soc::{EthernetController, EthernetPhy, Interrupt, TreeError};
use crate::mpic::{Sense, Source};

/// QEMU ppce500 with two `-device eTSEC,netdev=..,mac=52:54:00:12:34:5{6,7}` (dumped as above
/// and trimmed with `dtc -I dtb -O dtb`): both on the platform bus at 0xF_0000_0000.
const QEMU_PPCE500_ETSEC_DTB: &[u8] = include_bytes!("../qemu-ppce500-etsec.dtb");

#[test]
fn qemu_ppce500_etsecs_on_the_platform_bus() {
    let d = describe(QEMU_PPCE500_ETSEC_DTB).unwrap();
    let level = |n| {
        Some(Interrupt {
            source: Source(n),
            sense: Sense::LevelHigh,
        })
    };
    let fixed = EthernetPhy::Fixed {
        mbps: 1000,
        full_duplex: true,
    };
    assert_eq!(
        d.ethernet[0],
        Some(EthernetController {
            phys: 0xF_0000_0000,
            interrupts: [level(5), level(6), level(7)],
            mac: Some([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
            phy: fixed,
        })
    );
    assert_eq!(
        d.ethernet[1],
        Some(EthernetController {
            phys: 0xF_0000_1000,
            interrupts: [level(8), level(9), level(10)],
            mac: Some([0x52, 0x54, 0, 0x12, 0x34, 0x57]),
            phy: fixed,
        })
    );
    assert_eq!(d.ethernet[2], None);
    assert_eq!(describe(QEMU_PPCE500_DTB).unwrap().ethernet, [None; 4]);
}

/// An MPC8544 eTSEC as Linux's `mpc8544ds.dts` describes it: on the SoC node, "gianfar",
/// a PHY through `phy-handle`; a second one disabled; a zero MAC means none.
#[test]
fn rb1100_style_etsecs_on_the_soc_node() {
    let tree = rb1100_tree(Some("/soc8544@e0000000/serial@4500"), &[0x2A, 2], |t| {
        for (unit, reg, irqs, status) in [
            (
                "ethernet@25000",
                0x2_5000,
                [35, 2, 36, 2, 40, 2],
                "disabled",
            ),
            ("ethernet@24000", 0x2_4000, [29, 2, 30, 2, 34, 2], "okay"),
        ] {
            t.begin(unit)
                .string("device_type", "network")
                .string("model", "eTSEC")
                .string("compatible", "gianfar")
                .cells("reg", &[reg, 0x1000])
                .prop("local-mac-address", &[0; 6])
                .cells("interrupts", &irqs)
                .cells("interrupt-parent", &[MPIC_PHANDLE])
                .cells("phy-handle", &[0x9000])
                .string("status", status)
                .end();
        }
        t.begin("mdio@24520")
            .cells("#address-cells", &[1])
            .cells("#size-cells", &[0])
            .string("compatible", "fsl,gianfar-mdio")
            .cells("reg", &[0x2_4520, 0x20]);
        t.begin("ethernet-phy@0")
            .cells("reg", &[1])
            .cells("phandle", &[0x9000])
            .end();
        t.end();
    });
    let d = describe(&tree).unwrap();
    let level = |n| {
        Some(Interrupt {
            source: Source(n),
            sense: Sense::LevelHigh,
        })
    };
    assert_eq!(
        d.ethernet[0],
        Some(EthernetController {
            phys: 0xE002_4000,
            interrupts: [level(29), level(30), level(34)],
            mac: None,
            phy: EthernetPhy::Mdio { address: 1 },
        })
    );
    assert_eq!(d.ethernet[1], None, "a disabled controller is not a port");
}

#[test]
fn a_phy_handle_to_nowhere_is_reported() {
    let tree = rb1100_tree(None, &[0x2A, 2], |t| {
        t.begin("ethernet@24000")
            .string("device_type", "network")
            .string("compatible", "gianfar")
            .cells("reg", &[0x2_4000, 0x1000])
            .cells("phy-handle", &[0x1234])
            .end();
    });
    assert_eq!(
        describe(&tree),
        Err(TreeError::Malformed("phy-handle names no node"))
    );
}
