//! The eTSEC controllers a device tree describes, in the two shapes the e500 boards give:
//!
//! - QEMU ppce500's platform bus (`-device eTSEC`): a `simple-bus` child of the root whose
//!   `ranges` map it at 0xF_0000_0000, holding `ethernet@N` nodes with compatible "fsl,etsec2",
//!   `local-mac-address`, `fixed-link`, and a `queue-group` child with the 4 KiB `reg` and three
//!   MPIC `interrupts` (transmit, receive, error), e.g. <5 2 6 2 7 2> for the first device;
//! - the MPC85xx SoC node (Linux's `mpc8544ds.dts`, and what RouterBOOT is expected to give an
//!   RB1100): `ethernet@24000` with compatible "gianfar", `reg` and `interrupts` on the node
//!   itself, and a `phy-handle` naming a PHY node whose `reg` is its MDIO address.
//!
//! A node is taken when its `device_type` is "network" and a compatible is "gianfar",
//! "fsl,etsec2" or "fsl,etsec", and `status` (if any) is "okay". Controllers are listed by
//! physical address (ether1 first: QEMU places its `-device eTSEC`s in command-line order).

use fdt::node::FdtNode;
use fdt::Fdt;

use super::tree::{cell_counts, cells, has_compatible, number, string_prop};
use super::{Interrupt, TreeError};
use crate::mpic::{Sense, Source};

/// At most this many controllers are reported.
pub const MAX_ETHERNET: usize = 4;
/// Interrupts per controller (transmit, receive, error).
pub const ETHERNET_INTERRUPTS: usize = 3;

/// Where a controller's link state comes from, as the tree says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EthernetPhy {
    /// `fixed-link`: no PHY; the link is always up at this speed.
    Fixed { mbps: u32, full_duplex: bool },
    /// `phy-handle`: the PHY at this MDIO address.
    Mdio { address: u8 },
    /// Neither: nothing is known about the link.
    Unknown,
}

/// One eTSEC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EthernetController {
    /// Physical address of its register block.
    pub phys: u64,
    /// Its interrupts (transmit, receive, error), those the tree gives.
    pub interrupts: [Option<Interrupt>; ETHERNET_INTERRUPTS],
    /// `local-mac-address`, when present and not all zero (QEMU writes zeros when `-device
    /// eTSEC` has no `mac=`).
    pub mac: Option<[u8; 6]>,
    pub phy: EthernetPhy,
}

fn is_etsec(node: FdtNode<'_, '_>) -> bool {
    string_prop(node, "device_type") == Some("network")
        && has_compatible(node, |c| {
            matches!(c, "gianfar" | "fsl,etsec2" | "fsl,etsec")
        })
        && string_prop(node, "status").is_none_or(|s| s == "okay" || s == "ok")
}

pub(super) fn is_bus(node: FdtNode<'_, '_>) -> bool {
    has_compatible(node, |c| c == "simple-bus")
        || string_prop(node, "device_type") == Some("soc")
        || has_compatible(node, |c| c.ends_with("-immr"))
}

/// The eTSECs of `tree`, by physical address; `mpic_cells` is the MPIC's `#interrupt-cells`.
pub(super) fn ethernet_controllers(
    tree: &Fdt<'_>,
    root: FdtNode<'_, '_>,
    mpic_cells: usize,
) -> Result<[Option<EthernetController>; MAX_ETHERNET], TreeError> {
    let mut found = [None; MAX_ETHERNET];
    let mut count = 0;
    for bus in root.children().filter(|n| is_bus(*n)) {
        for node in bus.children().filter(|n| is_etsec(*n)) {
            if count == MAX_ETHERNET {
                break;
            }
            found[count] = Some(controller(tree, root, bus, node, mpic_cells)?);
            count += 1;
        }
    }
    found[..count].sort_unstable_by_key(|c| c.map_or(u64::MAX, |c| c.phys));
    Ok(found)
}

fn controller(
    tree: &Fdt<'_>,
    root: FdtNode<'_, '_>,
    bus: FdtNode<'_, '_>,
    node: FdtNode<'_, '_>,
    mpic_cells: usize,
) -> Result<EthernetController, TreeError> {
    // "fsl,etsec2" keeps its registers and interrupts in a queue-group child.
    let group = node.children().find(|c| c.name.starts_with("queue-group"));
    let holder = |name: &str| {
        node.property(name)
            .or_else(|| group.and_then(|g| g.property(name)))
    };
    let reg = holder("reg").ok_or(TreeError::Malformed("ethernet without reg"))?;
    let (bus_ac, _) = cell_counts(bus);
    let local =
        number(&mut cells(reg.value), bus_ac).ok_or(TreeError::Malformed("ethernet reg"))?;
    let phys = translate(root, bus, local)?;
    let mut interrupts = [None; ETHERNET_INTERRUPTS];
    if let Some(prop) = holder("interrupts") {
        if mpic_cells == 0 || prop.value.len() % (4 * mpic_cells) != 0 {
            return Err(TreeError::Malformed("ethernet interrupts"));
        }
        for (slot, spec) in interrupts
            .iter_mut()
            .zip(prop.value.chunks_exact(4 * mpic_cells))
        {
            *slot = Some(decode_interrupt(spec, mpic_cells)?);
        }
    }
    let mac = node
        .property("local-mac-address")
        .and_then(|p| <[u8; 6]>::try_from(p.value).ok())
        .filter(|m| m.iter().any(|&b| b != 0));
    Ok(EthernetController {
        phys,
        interrupts,
        mac,
        phy: phy(tree, node)?,
    })
}

/// One interrupt specifier of `width` cells (1: no sense cell, active-high level).
pub(super) fn decode_interrupt(spec: &[u8], width: usize) -> Result<Interrupt, TreeError> {
    let mut it = cells(spec);
    let source = it
        .next()
        .and_then(|s| u16::try_from(s).ok())
        .ok_or(TreeError::Malformed("ethernet interrupts"))?;
    let sense = match width {
        1 => Sense::LevelHigh,
        _ => it
            .next()
            .and_then(Sense::from_tree_cell)
            .ok_or(TreeError::Malformed("ethernet interrupt sense"))?,
    };
    Ok(Interrupt {
        source: Source(source),
        sense,
    })
}

/// The physical address of `local`, an address on `bus` (its `ranges`; none or empty: the
/// same address).
pub(super) fn translate(
    root: FdtNode<'_, '_>,
    bus: FdtNode<'_, '_>,
    local: u64,
) -> Result<u64, TreeError> {
    let Some(ranges) = bus.property("ranges").filter(|p| !p.value.is_empty()) else {
        return Ok(local);
    };
    let (parent_ac, _) = cell_counts(root);
    let (child_ac, child_sc) = cell_counts(bus);
    let entry = child_ac + parent_ac + child_sc;
    if entry == 0 || ranges.value.len() % (4 * entry) != 0 {
        return Err(TreeError::Malformed("bus ranges"));
    }
    let mut it = cells(ranges.value);
    while let Some(child) = number(&mut it, child_ac) {
        let parent = number(&mut it, parent_ac).ok_or(TreeError::Malformed("bus ranges"))?;
        let size = number(&mut it, child_sc).ok_or(TreeError::Malformed("bus ranges"))?;
        if (child..child.saturating_add(size)).contains(&local) {
            return Ok(parent + (local - child));
        }
    }
    Err(TreeError::Malformed("reg outside its bus"))
}

/// The link: `fixed-link` (the old five-cell form `<id duplex speed pause asym>`, or the node
/// form with `speed` and `full-duplex`), else the `phy-handle` PHY's `reg`.
fn phy(tree: &Fdt<'_>, node: FdtNode<'_, '_>) -> Result<EthernetPhy, TreeError> {
    if let Some(fixed) = node.property("fixed-link") {
        let v: [u32; 5] = {
            let mut c = cells(fixed.value);
            let mut v = [0; 5];
            for x in v.iter_mut() {
                *x = c.next().ok_or(TreeError::Malformed("fixed-link"))?;
            }
            v
        };
        return Ok(EthernetPhy::Fixed {
            mbps: v[2],
            full_duplex: v[1] != 0,
        });
    }
    if let Some(fixed) = node.children().find(|c| c.name == "fixed-link") {
        let mbps = fixed
            .property("speed")
            .and_then(|p| cells(p.value).next())
            .ok_or(TreeError::Malformed("fixed-link speed"))?;
        return Ok(EthernetPhy::Fixed {
            mbps,
            full_duplex: fixed.property("full-duplex").is_some(),
        });
    }
    let Some(handle) = node
        .property("phy-handle")
        .and_then(|p| cells(p.value).next())
    else {
        return Ok(EthernetPhy::Unknown);
    };
    let phy = tree
        .find_phandle(handle)
        .ok_or(TreeError::Malformed("phy-handle names no node"))?;
    let address = phy
        .property("reg")
        .and_then(|p| cells(p.value).next())
        .and_then(|a| u8::try_from(a).ok())
        .filter(|&a| a < 32)
        .ok_or(TreeError::Malformed("PHY reg"))?;
    Ok(EthernetPhy::Mdio { address })
}
