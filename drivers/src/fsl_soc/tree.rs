//! What an e500 SoC board needs from its device tree, gathered in one pass.
//!
//! Works with QEMU's ppce500 tree (`/soc@fe0000000`, 2-cell root addresses, CCSR above 4 GiB)
//! and with the 85xx trees of RouterBOOT and U-Boot (`/soc8544@e0000000`, 1-cell addresses):
//! the SoC node is found by `device_type = "soc"` (or a `*-immr` compatible), never by name.
//! Addresses of the SoC's children are offsets into CCSR (the SoC node's `ranges`).

use fdt::node::FdtNode;
use fdt::Fdt;

use super::ethernet::{ethernet_controllers, EthernetController, MAX_ETHERNET};
use super::nor::NorFlash;
use super::pci_irq::PciInterruptMap;
use crate::mpic::{Sense, Source};

/// At most this many RAM banks are reported.
pub const MAX_RAM_BANKS: usize = 4;

/// A range of physical RAM from `/memory`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RamBank {
    pub base: u64,
    pub size: u64,
}

/// An interrupt routed to the MPIC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interrupt {
    pub source: Source,
    pub sense: Sense,
}

/// The console UART (a 16550 channel of the SoC's DUART).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SerialPort {
    /// Offset of its registers in CCSR.
    pub ccsr_offset: usize,
    /// Its input clock, when the tree gives one (0 in the tree means unknown).
    pub clock_hz: Option<u32>,
    pub interrupt: Interrupt,
}

/// A GPIO line of an MPC8xxx GPIO block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GpioLine {
    /// Offset of the GPIO block in CCSR.
    pub controller_offset: usize,
    pub pin: u8,
    pub active_low: bool,
}

/// The machine as the device tree describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocDescription<'a> {
    /// The root's `model` (else its first `compatible`).
    pub model: &'a str,
    /// Physical base of CCSR (the SoC node's `ranges`, else its `reg`).
    pub ccsr_phys: u64,
    pub ram: [Option<RamBank>; MAX_RAM_BANKS],
    /// Time base (and decrementer) rate of the boot CPU.
    pub timebase_hz: u64,
    /// Core clock of the boot CPU, when given.
    pub cpu_hz: Option<u64>,
    /// `/chosen/bootargs`, when present and not empty.
    pub bootargs: Option<&'a str>,
    pub console: SerialPort,
    /// Offset of the MPIC in CCSR.
    pub mpic_offset: usize,
    /// Offset of the global utilities block in CCSR, when the tree has one.
    pub guts_offset: Option<usize>,
    /// The line of a `gpio-poweroff` node, when the tree has one on an MPC8xxx GPIO block.
    pub power_off: Option<GpioLine>,
    /// `/chosen` `linux,initrd-start` .. `linux,initrd-end`: RAM the boot loader filled with an
    /// initial RAM disk (QEMU's `-initrd`), when the tree names a non-empty one.
    pub initrd: Option<RamBank>,
    /// The eTSEC controllers (`super::ethernet`), by physical address.
    pub ethernet: [Option<EthernetController>; MAX_ETHERNET],
    /// The first CFI NOR flash on a bus (`super::nor`), when the tree lists one.
    pub nor_flash: Option<NorFlash>,
    /// The PCI controller's interrupt map (`super::pci_irq`), when the tree has one that
    /// reads well (a malformed one leaves PCI devices without interrupts, not the board
    /// without a boot).
    pub pci_interrupts: Option<PciInterruptMap>,
}

/// Which part of the device tree is missing or malformed (the boot loader's fault).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreeError {
    /// No node with `device_type = "soc"` or an `*-immr` compatible under the root.
    NoSocNode,
    /// The SoC node has neither `ranges` nor `reg` giving the CCSR base.
    NoCcsrBase,
    /// No boot CPU node under `/cpus`, or it lacks `timebase-frequency`.
    NoTimebase,
    /// No RAM in any `/memory` node.
    NoMemory,
    /// No 16550 under the SoC node (or `stdout-path` names one that is not there).
    NoConsole,
    /// No MPIC (`interrupt-controller` with an OpenPIC compatible) under the SoC node.
    NoMpic,
    /// The console has no `interrupts` for the MPIC.
    NoConsoleInterrupt,
    /// A property has the wrong length or an impossible value.
    Malformed(&'static str),
}

impl<'a> SocDescription<'a> {
    /// Read the description from `tree`.
    pub fn from_tree(tree: &Fdt<'a>) -> Result<Self, TreeError> {
        let root = tree.find_node("/").ok_or(TreeError::NoSocNode)?;
        let soc = root
            .children()
            .find(|n| is_soc(*n))
            .ok_or(TreeError::NoSocNode)?;
        let ccsr_phys = ccsr_base(root, soc)?;
        let mpic = soc
            .children()
            .find(|n| is_mpic(*n))
            .ok_or(TreeError::NoMpic)?;
        let mpic_offset = child_offset(soc, mpic)?;
        let (timebase_hz, cpu_hz) = boot_cpu_clocks(tree)?;
        Ok(SocDescription {
            model: root_string(root, "model")
                .or_else(|| root.compatible().map(|c| c.first()))
                .unwrap_or("unknown"),
            ccsr_phys,
            ram: ram_banks(root)?,
            timebase_hz,
            cpu_hz,
            bootargs: tree
                .find_node("/chosen")
                .and_then(|c| c.property("bootargs"))
                .and_then(|p| p.as_str())
                .filter(|s| !s.is_empty()),
            console: console(tree, soc, mpic)?,
            mpic_offset,
            guts_offset: soc
                .children()
                .find(|n| has_compatible(*n, |c| c.ends_with("-guts")))
                .map(|n| child_offset(soc, n))
                .transpose()?,
            power_off: power_off_line(tree, soc)?,
            initrd: initrd(tree),
            ethernet: ethernet_controllers(tree, root, mpic.interrupt_cells().unwrap_or(2))?,
            nor_flash: super::nor::nor_flash(root)?,
            pci_interrupts: super::pci_irq::pci_interrupt_map(tree, root, soc, mpic)
                .ok()
                .flatten(),
        })
    }

    /// Total RAM in bytes.
    pub fn total_ram(&self) -> u64 {
        self.ram.iter().flatten().map(|b| b.size).sum()
    }
}

/// The initial RAM disk `/chosen` names (1- or 2-cell numbers), if any and not empty.
fn initrd(tree: &Fdt<'_>) -> Option<RamBank> {
    let chosen = tree.find_node("/chosen")?;
    let start = number_prop(chosen, "linux,initrd-start")?;
    let end = number_prop(chosen, "linux,initrd-end")?;
    (end > start).then_some(RamBank {
        base: start,
        size: end - start,
    })
}

pub(super) fn has_compatible(node: FdtNode<'_, '_>, mut pred: impl FnMut(&str) -> bool) -> bool {
    node.compatible().is_some_and(|c| c.all().any(&mut pred))
}

pub(super) fn string_prop<'a>(node: FdtNode<'_, 'a>, name: &str) -> Option<&'a str> {
    node.property(name).and_then(|p| p.as_str())
}

fn root_string<'a>(root: FdtNode<'_, 'a>, name: &str) -> Option<&'a str> {
    string_prop(root, name).filter(|s| !s.is_empty())
}

fn is_soc(node: FdtNode<'_, '_>) -> bool {
    string_prop(node, "device_type") == Some("soc")
        || has_compatible(node, |c| c.ends_with("-immr"))
}

fn is_mpic(node: FdtNode<'_, '_>) -> bool {
    node.property("interrupt-controller").is_some()
        && (has_compatible(node, |c| c == "fsl,mpic" || c == "chrp,open-pic")
            || string_prop(node, "device_type") == Some("open-pic"))
}

fn is_uart(node: FdtNode<'_, '_>) -> bool {
    has_compatible(node, |c| {
        c == "ns16550" || c == "ns16550a" || c == "fsl,ns16550"
    })
}

/// Big-endian 32-bit cells of a property value.
pub(super) fn cells(value: &[u8]) -> impl Iterator<Item = u32> + '_ {
    value
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
}

/// A number of `count` cells (1 or 2) from `it`.
pub(super) fn number(it: &mut impl Iterator<Item = u32>, count: usize) -> Option<u64> {
    match count {
        1 => it.next().map(u64::from),
        2 => Some((u64::from(it.next()?) << 32) | u64::from(it.next()?)),
        _ => None,
    }
}

/// A property holding one number of 1 or 2 cells.
pub(super) fn number_prop(node: FdtNode<'_, '_>, name: &str) -> Option<u64> {
    let value = node.property(name)?.value;
    number(&mut cells(value), value.len() / 4)
}

pub(super) fn cell_counts(node: FdtNode<'_, '_>) -> (usize, usize) {
    let sizes = node.cell_sizes();
    (sizes.address_cells, sizes.size_cells)
}

/// CCSR's physical base: the parent address child address 0 maps to, else the SoC's `reg`.
fn ccsr_base(root: FdtNode<'_, '_>, soc: FdtNode<'_, '_>) -> Result<u64, TreeError> {
    let (parent_ac, _) = cell_counts(root);
    let (child_ac, child_sc) = cell_counts(soc);
    if let Some(ranges) = soc.property("ranges").filter(|p| !p.value.is_empty()) {
        let entry = child_ac + parent_ac + child_sc;
        if entry == 0 || ranges.value.len() % (4 * entry) != 0 {
            return Err(TreeError::Malformed("soc ranges"));
        }
        let mut it = cells(ranges.value);
        while let Some(child) = number(&mut it, child_ac) {
            let parent = number(&mut it, parent_ac).ok_or(TreeError::Malformed("soc ranges"))?;
            number(&mut it, child_sc).ok_or(TreeError::Malformed("soc ranges"))?;
            if child == 0 {
                return Ok(parent);
            }
        }
        return Err(TreeError::NoCcsrBase);
    }
    let reg = soc.property("reg").ok_or(TreeError::NoCcsrBase)?;
    number(&mut cells(reg.value), parent_ac).ok_or(TreeError::Malformed("soc reg"))
}

/// The CCSR offset of a child of the SoC node (its first `reg` address).
fn child_offset(soc: FdtNode<'_, '_>, child: FdtNode<'_, '_>) -> Result<usize, TreeError> {
    let (ac, _) = cell_counts(soc);
    let reg = child
        .property("reg")
        .ok_or(TreeError::Malformed("SoC device without reg"))?;
    let offset = number(&mut cells(reg.value), ac).ok_or(TreeError::Malformed("SoC device reg"))?;
    usize::try_from(offset).map_err(|_| TreeError::Malformed("SoC device reg"))
}

fn ram_banks(root: FdtNode<'_, '_>) -> Result<[Option<RamBank>; MAX_RAM_BANKS], TreeError> {
    let (ac, sc) = cell_counts(root);
    let mut banks = [None; MAX_RAM_BANKS];
    let mut count = 0;
    let memory_nodes = root.children().filter(|n| {
        string_prop(*n, "device_type") == Some("memory")
            || n.name.split('@').next() == Some("memory")
    });
    for node in memory_nodes {
        let Some(reg) = node.property("reg") else {
            continue;
        };
        if ac + sc == 0 || reg.value.len() % (4 * (ac + sc)) != 0 {
            return Err(TreeError::Malformed("memory reg"));
        }
        let mut it = cells(reg.value);
        while let Some(base) = number(&mut it, ac) {
            let size = number(&mut it, sc).ok_or(TreeError::Malformed("memory reg"))?;
            if size != 0 && count < MAX_RAM_BANKS {
                banks[count] = Some(RamBank { base, size });
                count += 1;
            }
        }
    }
    if count == 0 {
        return Err(TreeError::NoMemory);
    }
    Ok(banks)
}

/// Time base and core clock of the boot CPU (the first `cpu` node that is not disabled);
/// `timebase-frequency` may also sit in `/cpus` itself.
fn boot_cpu_clocks(tree: &Fdt<'_>) -> Result<(u64, Option<u64>), TreeError> {
    let cpus = tree.find_node("/cpus").ok_or(TreeError::NoTimebase)?;
    let cpu = cpus
        .children()
        .filter(|n| string_prop(*n, "device_type") == Some("cpu"))
        .find(|n| string_prop(*n, "status").is_none_or(|s| s == "okay" || s == "ok"))
        .ok_or(TreeError::NoTimebase)?;
    let timebase = number_prop(cpu, "timebase-frequency")
        .or_else(|| number_prop(cpus, "timebase-frequency"))
        .filter(|&hz| hz != 0)
        .ok_or(TreeError::NoTimebase)?;
    let clock = number_prop(cpu, "clock-frequency").filter(|&hz| hz != 0);
    Ok((timebase, clock))
}

/// The console: the UART `/chosen` names (`stdout-path`, `linux,stdout-path`, path or alias,
/// `:options` ignored), else alias `serial0`, else the first 16550 under the SoC node.
fn console(
    tree: &Fdt<'_>,
    soc: FdtNode<'_, '_>,
    mpic: FdtNode<'_, '_>,
) -> Result<SerialPort, TreeError> {
    let chosen = tree.find_node("/chosen");
    let named = chosen
        .and_then(|c| string_prop(c, "stdout-path").or_else(|| string_prop(c, "linux,stdout-path")))
        .map(|path| path.split(':').next().unwrap_or(path))
        .or_else(|| tree.aliases().and_then(|a| a.resolve("serial0")));
    let wanted_name = named.map(|path| {
        let path = if path.starts_with('/') {
            path
        } else {
            tree.aliases().and_then(|a| a.resolve(path)).unwrap_or(path)
        };
        path.rsplit('/').next().unwrap_or(path)
    });
    let uart = match wanted_name {
        Some(name) => soc.children().find(|n| n.name == name && is_uart(*n)),
        None => soc.children().find(|n| is_uart(*n)),
    }
    .ok_or(TreeError::NoConsole)?;
    Ok(SerialPort {
        ccsr_offset: child_offset(soc, uart)?,
        clock_hz: number_prop(uart, "clock-frequency")
            .filter(|&hz| hz != 0)
            .map(|hz| u32::try_from(hz).map_err(|_| TreeError::Malformed("serial clock-frequency")))
            .transpose()?,
        interrupt: mpic_interrupt(uart, mpic)?.ok_or(TreeError::NoConsoleInterrupt)?,
    })
}

/// The first interrupt of `node`, decoded with the MPIC's `#interrupt-cells` (1, 2 or 4;
/// one cell means no sense information: internal sources are active-high level).
fn mpic_interrupt(
    node: FdtNode<'_, '_>,
    mpic: FdtNode<'_, '_>,
) -> Result<Option<Interrupt>, TreeError> {
    let Some(prop) = node.property("interrupts") else {
        return Ok(None);
    };
    let width = mpic.interrupt_cells().unwrap_or(2);
    if width == 0 || prop.value.len() < 4 * width {
        return Err(TreeError::Malformed("interrupts"));
    }
    let mut it = cells(prop.value);
    let source = it.next().ok_or(TreeError::Malformed("interrupts"))?;
    let source = u16::try_from(source).map_err(|_| TreeError::Malformed("interrupts"))?;
    let sense = match width {
        1 => Sense::LevelHigh,
        _ => it
            .next()
            .and_then(Sense::from_tree_cell)
            .ok_or(TreeError::Malformed("interrupt sense"))?,
    };
    Ok(Some(Interrupt {
        source: Source(source),
        sense,
    }))
}

/// The `gpio-poweroff` line, when its controller is an MPC8xxx GPIO block under the SoC node.
fn power_off_line(tree: &Fdt<'_>, soc: FdtNode<'_, '_>) -> Result<Option<GpioLine>, TreeError> {
    let Some(node) = tree.find_compatible(&["gpio-poweroff"]) else {
        return Ok(None);
    };
    let gpios = node
        .property("gpios")
        .ok_or(TreeError::Malformed("gpio-poweroff without gpios"))?;
    let mut it = cells(gpios.value);
    let (Some(phandle), Some(pin)) = (it.next(), it.next()) else {
        return Err(TreeError::Malformed("gpio-poweroff gpios"));
    };
    let flags = it.next().unwrap_or(0);
    let Some(controller) = soc.children().find(|n| {
        number_prop(*n, "phandle").or_else(|| number_prop(*n, "linux,phandle"))
            == Some(u64::from(phandle))
    }) else {
        return Ok(None);
    };
    let known = has_compatible(controller, |c| {
        matches!(
            c,
            "fsl,qoriq-gpio" | "fsl,mpc8572-gpio" | "fsl,mpc8xxx-gpio" | "fsl,pq3-gpio"
        )
    });
    if !known {
        return Ok(None);
    }
    let pin = u8::try_from(pin)
        .ok()
        .filter(|&p| p < crate::mpc8xxx_gpio::PINS);
    let pin = pin.ok_or(TreeError::Malformed("gpio-poweroff pin"))?;
    Ok(Some(GpioLine {
        controller_offset: child_offset(soc, controller)?,
        pin,
        active_low: flags & 1 != 0,
    }))
}
