//! Which MPIC source each PCI device's INTx pin drives, from the PCI controller node's
//! `interrupt-map` and `interrupt-map-mask` (the Open Firmware PCI binding): a row is a child
//! unit address of the node's `#address-cells` (3: `phys.hi` holds bus, device and function
//! as `bbbbbbbb dddddfff` in bits 23..8), a child interrupt of its `#interrupt-cells` (1: the
//! pin, 1 = INTA .. 4 = INTD), the parent's phandle, the parent's unit address (its
//! `#address-cells`, none for an MPIC) and the parent's interrupt specifier. A device's
//! address and pin, masked, are compared with each row's.
//!
//! QEMU ppce500's tree maps slots 1..31 (`0x800 0 0 1 <mpic> 2 1` ...: device 1, INTA ->
//! source 2, active-low level), rotating the four pins over sources 1..4 by slot. Rows whose
//! parent is not the MPIC are skipped (nothing here could route them).

use fdt::node::FdtNode;
use fdt::Fdt;

use super::ethernet::decode_interrupt;
use super::tree::cells;
use super::{Interrupt, TreeError};

/// Rows kept from a map (QEMU's has 124: 31 slots of 4 pins).
pub const MAX_PCI_INTERRUPT_ROWS: usize = 128;

/// One row of the map, masked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Row {
    /// `phys.hi` of the child unit address (bus, device, function).
    hi: u32,
    pin: u32,
    interrupt: Interrupt,
}

/// The PCI controller's interrupt map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciInterruptMap {
    mask_hi: u32,
    mask_pin: u32,
    rows: [Option<Row>; MAX_PCI_INTERRUPT_ROWS],
}

impl PciInterruptMap {
    /// The MPIC interrupt of pin `pin` (1 = INTA .. 4 = INTD, as the device's Interrupt Pin
    /// register says) of `device`.`function` on bus 0.
    pub fn lookup(&self, device: u8, function: u8, pin: u8) -> Option<Interrupt> {
        let hi = ((u32::from(device) & 0x1f) << 11 | (u32::from(function) & 7) << 8) & self.mask_hi;
        let pin = u32::from(pin) & self.mask_pin;
        self.rows
            .iter()
            .flatten()
            .find(|r| r.hi == hi && r.pin == pin)
            .map(|r| r.interrupt)
    }
}

fn is_pci(node: FdtNode<'_, '_>) -> bool {
    node.property("device_type").and_then(|p| p.as_str()) == Some("pci")
}

/// The interrupt map of the first PCI controller under the root or under `soc`, if the tree
/// has one with an `interrupt-map`; `mpic` is the interrupt controller the rows must name.
pub(super) fn pci_interrupt_map(
    tree: &Fdt<'_>,
    root: FdtNode<'_, '_>,
    soc: FdtNode<'_, '_>,
    mpic: FdtNode<'_, '_>,
) -> Result<Option<PciInterruptMap>, TreeError> {
    let Some(pci) = root
        .children()
        .chain(soc.children())
        .find(|n| is_pci(*n) && n.property("interrupt-map").is_some())
    else {
        return Ok(None);
    };
    let malformed = TreeError::Malformed("pci interrupt-map");
    let child_ac = pci.cell_sizes().address_cells;
    let child_ic = pci.interrupt_cells().unwrap_or(1);
    if child_ac != 3 || child_ic != 1 {
        return Err(malformed);
    }
    let mpic_phandle = mpic
        .property("phandle")
        .or_else(|| mpic.property("linux,phandle"))
        .and_then(|p| p.as_usize());
    let mask: [u32; 4] = match pci.property("interrupt-map-mask") {
        Some(p) => {
            let mut it = cells(p.value);
            let m = [it.next(), it.next(), it.next(), it.next()];
            [
                m[0].ok_or(malformed)?,
                m[1].ok_or(malformed)?,
                m[2].ok_or(malformed)?,
                m[3].ok_or(malformed)?,
            ]
        }
        None => [u32::MAX; 4],
    };
    let value = pci.property("interrupt-map").ok_or(malformed)?.value;
    let mut words = value
        .chunks_exact(4)
        .map(|c| c.try_into().map(u32::from_be_bytes));
    let mut map = PciInterruptMap {
        mask_hi: mask[0],
        mask_pin: mask[3],
        rows: [None; MAX_PCI_INTERRUPT_ROWS],
    };
    let mut count = 0;
    let mut next = || words.next().and_then(Result::ok).ok_or(malformed);
    // A row: child address (3 cells), pin, parent phandle, parent address, parent interrupt.
    while let Ok(hi) = next() {
        let (_mid, _lo, pin, phandle) = (next()?, next()?, next()?, next()?);
        let ours = Some(phandle as usize) == mpic_phandle;
        let parent = if ours {
            mpic
        } else {
            tree.find_phandle(phandle)
                .ok_or(TreeError::Malformed("pci interrupt-map parent"))?
        };
        let parent_ac = parent
            .property("#address-cells")
            .and_then(|p| p.as_usize())
            .unwrap_or(0);
        let parent_ic = parent.interrupt_cells().unwrap_or(0);
        if parent_ic == 0 || parent_ic > 4 {
            return Err(malformed);
        }
        for _ in 0..parent_ac {
            next()?;
        }
        let mut spec = [0u8; 16];
        for k in 0..parent_ic {
            spec[4 * k..4 * k + 4].copy_from_slice(&next()?.to_be_bytes());
        }
        if !ours || count == MAX_PCI_INTERRUPT_ROWS {
            continue;
        }
        map.rows[count] = Some(Row {
            hi: hi & map.mask_hi,
            pin: pin & map.mask_pin,
            interrupt: decode_interrupt(&spec[..4 * parent_ic], parent_ic)?,
        });
        count += 1;
    }
    Ok(Some(map))
}
