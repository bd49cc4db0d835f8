//! NOR flash the device tree lists on a simple bus: a node with `compatible = "cfi-flash"`
//! (QEMU ppce500 puts one at the start of its platform bus, 0xF_0000_0000, for `-drive
//! if=pflash`: Intel command set, 64 KiB blocks, 16 bits wide). Which part of it, if any, a
//! board may use is the board's decision: on a real board this is the boot loader's flash.

use fdt::node::FdtNode;

use super::ethernet::{is_bus, translate};
use super::tree::{cell_counts, cells, has_compatible, number, TreeError};

/// A CFI NOR flash: where it is and how wide its bus is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NorFlash {
    /// Physical base (36-bit).
    pub phys: u64,
    pub size: u64,
    /// `bank-width`: bytes per bus access (1, 2 or 4).
    pub bank_width: u8,
}

/// The first `cfi-flash` node on a bus under the root, if any.
pub(super) fn nor_flash(root: FdtNode<'_, '_>) -> Result<Option<NorFlash>, TreeError> {
    let malformed = TreeError::Malformed("cfi-flash node");
    for bus in root.children().filter(|n| is_bus(*n)) {
        let Some(node) = bus
            .children()
            .find(|n| has_compatible(*n, |c| c == "cfi-flash"))
        else {
            continue;
        };
        let reg = node.property("reg").ok_or(malformed)?;
        let (ac, sc) = cell_counts(bus);
        let mut it = cells(reg.value);
        let local = number(&mut it, ac).ok_or(malformed)?;
        let size = number(&mut it, sc).ok_or(malformed)?;
        let bank_width = node
            .property("bank-width")
            .and_then(|p| cells(p.value).next())
            .filter(|w| matches!(w, 1 | 2 | 4))
            .ok_or(malformed)? as u8;
        return Ok(Some(NorFlash {
            phys: translate(root, bus, local)?,
            size,
            bank_width,
        }));
    }
    Ok(None)
}
