//! A minimal flattened device tree (DTB, version 17) for PowerPC RouterOS guests.
//!
//! The guest's platform code (`arch/powerpc/platforms/85xx/metarouter.c`) accepts the machine
//! when the root `model` is exactly `"RB MetaROUTER"` (and treats a root compatible with
//! `fsl,qemu-e500` as "running on QEMU", so that is never set here). Its decrementer is
//! calibrated by `generic_calibrate_decr` from the cpu node's `timebase-frequency` and
//! `clock-frequency`. The tree built here:
//!
//! ```text
//! / { model = "RB MetaROUTER"; compatible = "mikrotik,metarouter";
//!     #address-cells = <1>; #size-cells = <1>;
//!     cpus { #address-cells = <1>; #size-cells = <0>;
//!            PowerPC,e500@0 { device_type = "cpu"; reg = <0>; timebase-frequency; clock-frequency;
//!                             bus-frequency; d-/i-cache-line-size = <32>; d-/i-cache-size = <32 KiB> } }
//!     memory { device_type = "memory"; reg = <0 size>; }
//!     chosen { bootargs; [linux,initrd-start; linux,initrd-end] } }
//! ```
//!
//! The blob must be placed 8-byte aligned in guest RAM, outside the kernel and initrd; `r3`
//! holds its guest-virtual address at entry. Not yet verified against a real RouterOS PowerPC
//! guest.

use alloc::vec::Vec;
use core::fmt;

const FDT_MAGIC: u32 = 0xD00D_FEED;
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_END: u32 = 9;
const HEADER_LEN: usize = 40;
const RESERVE_MAP_LEN: usize = 16;

/// What a PowerPC guest is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PowerPcBootInfo<'a> {
    /// Guest RAM in bytes (at guest-physical 0).
    pub mem_size: u32,
    /// Timebase (and decrementer) frequency in Hz.
    pub timebase_hz: u32,
    /// Core clock in Hz.
    pub cpu_hz: u32,
    /// Bus (CCB) clock in Hz.
    pub bus_hz: u32,
    /// Kernel command line.
    pub bootargs: &'a str,
    /// Initrd as guest-physical `(start, end)`.
    pub initrd: Option<(u32, u32)>,
}

/// Why a tree could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceTreeError {
    /// The command line contains a NUL byte.
    NulInBootargs,
    /// The initrd range is empty, reversed or outside guest RAM.
    BadInitrd {
        /// Start given.
        start: u32,
        /// End given.
        end: u32,
    },
    /// A frequency or the memory size is zero.
    ZeroValue,
    /// The tree would not fit the 32-bit offsets of its header (a command line of gigabytes).
    TooLarge,
}

impl fmt::Display for DeviceTreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NulInBootargs => f.write_str("bootargs contain NUL"),
            Self::BadInitrd { start, end } => {
                write!(
                    f,
                    "initrd {start:#x}..{end:#x} is empty or outside guest RAM"
                )
            }
            Self::ZeroValue => f.write_str("frequencies and memory size must be non-zero"),
            Self::TooLarge => f.write_str("the tree would exceed 4 GiB"),
        }
    }
}

/// Writes the structure block and the strings block of a tree.
struct Writer {
    structure: Vec<u8>,
    strings: Vec<u8>,
}

impl Writer {
    fn word(&mut self, v: u32) {
        self.structure.extend_from_slice(&v.to_be_bytes());
    }

    fn pad(&mut self) {
        while self.structure.len() & 3 != 0 {
            self.structure.push(0);
        }
    }

    fn begin(&mut self, name: &str) {
        self.word(FDT_BEGIN_NODE);
        self.structure.extend_from_slice(name.as_bytes());
        self.structure.push(0);
        self.pad();
    }

    fn end(&mut self) {
        self.word(FDT_END_NODE);
    }

    fn prop(&mut self, name: &str, value: &[u8]) {
        let name_off = self.string_offset(name);
        self.word(FDT_PROP);
        self.word(len32(value.len()));
        self.word(name_off);
        self.structure.extend_from_slice(value);
        self.pad();
    }

    fn prop_u32(&mut self, name: &str, v: u32) {
        self.prop(name, &v.to_be_bytes());
    }

    fn prop_str(&mut self, name: &str, v: &str) {
        let mut bytes = Vec::with_capacity(v.len() + 1);
        bytes.extend_from_slice(v.as_bytes());
        bytes.push(0);
        self.prop(name, &bytes);
    }

    /// Offset of `name` in the strings block, adding it once.
    fn string_offset(&mut self, name: &str) -> u32 {
        let mut at = 0;
        for s in self.strings.split(|&b| b == 0) {
            if s == name.as_bytes() && at < self.strings.len() {
                return len32(at);
            }
            at += s.len() + 1;
        }
        let off = len32(self.strings.len());
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        off
    }
}

/// A length or offset in the tree as the 32-bit value the format stores; saturated, which only
/// happens in a tree [`build_powerpc_device_tree`] then refuses as too large.
fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Builds the device tree blob for a PowerPC guest.
pub fn build_powerpc_device_tree(info: &PowerPcBootInfo<'_>) -> Result<Vec<u8>, DeviceTreeError> {
    if info.bootargs.contains('\0') {
        return Err(DeviceTreeError::NulInBootargs);
    }
    if info.mem_size == 0 || info.timebase_hz == 0 || info.cpu_hz == 0 || info.bus_hz == 0 {
        return Err(DeviceTreeError::ZeroValue);
    }
    if let Some((start, end)) = info.initrd {
        if start >= end || end > info.mem_size {
            return Err(DeviceTreeError::BadInitrd { start, end });
        }
    }
    let mut w = Writer {
        structure: Vec::new(),
        strings: Vec::new(),
    };
    w.begin("");
    w.prop_str("model", "RB MetaROUTER");
    w.prop_str("compatible", "mikrotik,metarouter");
    w.prop_u32("#address-cells", 1);
    w.prop_u32("#size-cells", 1);
    w.begin("cpus");
    w.prop_u32("#address-cells", 1);
    w.prop_u32("#size-cells", 0);
    w.begin("PowerPC,e500@0");
    w.prop_str("device_type", "cpu");
    w.prop_u32("reg", 0);
    w.prop_u32("timebase-frequency", info.timebase_hz);
    w.prop_u32("clock-frequency", info.cpu_hz);
    w.prop_u32("bus-frequency", info.bus_hz);
    for cache in ["d-cache-line-size", "i-cache-line-size"] {
        w.prop_u32(cache, 32);
    }
    for cache in ["d-cache-size", "i-cache-size"] {
        w.prop_u32(cache, 32 * 1024);
    }
    w.end();
    w.end();
    w.begin("memory");
    w.prop_str("device_type", "memory");
    let mut reg = [0u8; 8];
    reg[4..].copy_from_slice(&info.mem_size.to_be_bytes());
    w.prop("reg", &reg);
    w.end();
    w.begin("chosen");
    w.prop_str("bootargs", info.bootargs);
    if let Some((start, end)) = info.initrd {
        w.prop_u32("linux,initrd-start", start);
        w.prop_u32("linux,initrd-end", end);
    }
    w.end();
    w.end();
    w.word(FDT_END);

    let struct_off = HEADER_LEN + RESERVE_MAP_LEN;
    let strings_off = struct_off + w.structure.len();
    let total = strings_off + w.strings.len();
    // Every length and offset in the tree is at most its total.
    if u32::try_from(total).is_err() {
        return Err(DeviceTreeError::TooLarge);
    }
    let mut blob = Vec::with_capacity(total);
    for v in [
        FDT_MAGIC,
        len32(total),
        len32(struct_off),
        len32(strings_off),
        len32(HEADER_LEN), // memory reservation map
        17,                // version
        16,                // last compatible version
        0,                 // boot CPU
        len32(w.strings.len()),
        len32(w.structure.len()),
    ] {
        blob.extend_from_slice(&v.to_be_bytes());
    }
    blob.extend_from_slice(&[0; RESERVE_MAP_LEN]); // empty reservation map
    blob.extend_from_slice(&w.structure);
    blob.extend_from_slice(&w.strings);
    Ok(blob)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(initrd: Option<(u32, u32)>) -> PowerPcBootInfo<'static> {
        PowerPcBootInfo {
            mem_size: 64 << 20,
            timebase_hz: 400_000_000,
            cpu_hz: 800_000_000,
            bus_hz: 400_000_000,
            bootargs: "console=hvc0 root=/dev/metafs",
            initrd,
        }
    }

    #[test]
    fn the_fdt_crate_reads_it_back() {
        let blob = build_powerpc_device_tree(&info(Some((0x40_0000, 0x48_0000)))).unwrap();
        let tree = fdt::Fdt::new(&blob).unwrap();
        let root = tree.find_node("/").unwrap();
        assert_eq!(
            root.property("model").unwrap().as_str(),
            Some("RB MetaROUTER")
        );
        let cpu = tree.find_node("/cpus/PowerPC,e500@0").unwrap();
        assert_eq!(
            cpu.property("timebase-frequency").unwrap().as_usize(),
            Some(400_000_000)
        );
        assert_eq!(
            cpu.property("clock-frequency").unwrap().as_usize(),
            Some(800_000_000)
        );
        let mem = tree.memory().regions().next().unwrap();
        assert_eq!(
            (mem.starting_address as usize, mem.size),
            (0, Some(64 << 20))
        );
        assert_eq!(
            tree.chosen().bootargs(),
            Some("console=hvc0 root=/dev/metafs")
        );
        let chosen = tree.find_node("/chosen").unwrap();
        assert_eq!(
            chosen.property("linux,initrd-start").unwrap().as_usize(),
            Some(0x40_0000)
        );
        assert_eq!(
            chosen.property("linux,initrd-end").unwrap().as_usize(),
            Some(0x48_0000)
        );
        assert_eq!(blob.len() % 4, 0);
    }

    #[test]
    fn refusals() {
        assert_eq!(
            build_powerpc_device_tree(&info(Some((0x10, 0x10)))),
            Err(DeviceTreeError::BadInitrd {
                start: 0x10,
                end: 0x10
            })
        );
        assert!(build_powerpc_device_tree(&info(Some((0, (64 << 20) + 1)))).is_err());
        let nul = PowerPcBootInfo {
            bootargs: "a\0b",
            ..info(None)
        };
        assert_eq!(
            build_powerpc_device_tree(&nul),
            Err(DeviceTreeError::NulInBootargs)
        );
        let zero = PowerPcBootInfo {
            timebase_hz: 0,
            ..info(None)
        };
        assert_eq!(
            build_powerpc_device_tree(&zero),
            Err(DeviceTreeError::ZeroValue)
        );
        let no_initrd = build_powerpc_device_tree(&info(None)).unwrap();
        let tree = fdt::Fdt::new(&no_initrd).unwrap();
        assert!(tree
            .find_node("/chosen")
            .unwrap()
            .property("linux,initrd-start")
            .is_none());
    }
}
