//! A guest's start, whatever its architecture: its boot arguments written into its RAM as its
//! [`GuestArch`] says ([`BootArgs`]), and the registers it is entered with ([`EntryState`]).

use core::fmt;

use guest_mem::{BootArgs, GuestArch, GuestWindow};

use super::device_tree::{build_powerpc_device_tree, DeviceTreeError, PowerPcBootInfo};
use super::mips_argv::{build_mips_argv, ArgvError, MipsBootArgs};
use crate::elf::LoadedImage;

/// Bytes at the top of a MIPS guest's RAM that hold its `argv` (one page).
pub const MIPS_ARGS_AREA: u32 = 4096;
/// `r6` at a PowerPC guest's entry: the ePAPR magic ("EPAP").
pub const EPAPR_MAGIC: u32 = 0x4550_4150;

/// The registers a guest starts with: its program counter and its argument registers in the
/// architecture's order (MIPS `$a0..$a3`, PowerPC `r3..r7`; unused ones are 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryState {
    /// Guest-virtual address of the first instruction.
    pub pc: u32,
    /// Argument registers.
    pub args: [u32; 5],
}

/// What the hypervisor tells a guest at boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootInfo<'a> {
    /// Guest RAM in bytes (a whole number of MiB).
    pub memory: u32,
    /// Rate of the guest's CPU timer (MIPS Count, e500 timebase) in Hz.
    pub timer_hz: u32,
    /// Core clock in Hz (PowerPC device tree; 0 when unknown).
    pub cpu_hz: u32,
    /// Bus clock in Hz (PowerPC device tree; 0 when unknown).
    pub bus_hz: u32,
    /// The MAC address the guest's kernel is told.
    pub kmac: [u8; 6],
    /// Extra kernel command line.
    pub command_line: &'a str,
}

/// Why a guest's boot arguments could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootError {
    /// The kernel reaches into the last page of RAM, where MIPS arguments go (the image's
    /// fault).
    NoRoomForArguments,
    /// The kernel leaves no room above it for the device tree (the image's fault).
    NoRoomForDeviceTree,
    /// The MIPS arguments could not be laid out.
    Argv(ArgvError),
    /// The device tree could not be built.
    DeviceTree(DeviceTreeError),
}

impl fmt::Display for BootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootError::NoRoomForArguments => {
                f.write_str("the kernel leaves no room for its arguments in the last page of RAM")
            }
            BootError::NoRoomForDeviceTree => {
                f.write_str("the kernel leaves no room for its device tree at the top of RAM")
            }
            BootError::Argv(_) => f.write_str("the boot arguments do not fit"),
            BootError::DeviceTree(e) => write!(f, "device tree: {e}"),
        }
    }
}

/// Write the boot arguments of a guest of architecture `arch` into `ram` (its whole RAM, seen
/// through `window`, with `image` already loaded) and return the registers it starts with:
///
/// - [`BootArgs::MipsArgv`]: `argv` in the last page ([`MIPS_ARGS_AREA`]), which the kernel must
///   leave free; `$a0 = argc`, `$a1 = argv`.
/// - [`BootArgs::DeviceTree`]: the tree at the top of RAM (8-byte aligned, above the kernel);
///   `r3` = its address, `r6` = [`EPAPR_MAGIC`], `r7` = the RAM size (the whole window is
///   mapped at entry).
pub fn write_boot_args(
    arch: &GuestArch,
    window: &GuestWindow,
    ram: &mut [u8],
    image: &LoadedImage,
    info: &BootInfo<'_>,
) -> Result<EntryState, BootError> {
    let size = window.size();
    match arch.boot_args {
        BootArgs::MipsArgv => {
            let area_start = size
                .checked_sub(MIPS_ARGS_AREA)
                .ok_or(BootError::NoRoomForArguments)?;
            if image.end_offset > area_start {
                return Err(BootError::NoRoomForArguments);
            }
            let args = MipsBootArgs {
                count_hz: info.timer_hz,
                mem_mib: info.memory >> 20,
                kmac: info.kmac,
                command_line: info.command_line,
            };
            // Inside the window, so below 4 GiB.
            let base = u32::try_from(window.address_of(area_start))
                .map_err(|_| BootError::NoRoomForArguments)?;
            let layout = build_mips_argv(&args, base, &mut ram[area_start as usize..])
                .map_err(BootError::Argv)?;
            Ok(EntryState {
                pc: image.entry,
                args: [layout.argc, layout.argv, 0, 0, 0],
            })
        }
        BootArgs::DeviceTree => {
            let tree = build_powerpc_device_tree(&PowerPcBootInfo {
                mem_size: info.memory,
                timebase_hz: info.timer_hz,
                cpu_hz: info.cpu_hz,
                bus_hz: info.bus_hz,
                bootargs: info.command_line,
                initrd: None,
            })
            .map_err(BootError::DeviceTree)?;
            let len = u32::try_from(tree.len()).map_err(|_| BootError::NoRoomForDeviceTree)?;
            let start = size
                .checked_sub(len)
                .ok_or(BootError::NoRoomForDeviceTree)?
                & !7;
            if image.end_offset > start {
                return Err(BootError::NoRoomForDeviceTree);
            }
            ram[start as usize..][..tree.len()].copy_from_slice(&tree);
            // Inside the window, so below 4 GiB.
            let tree_at = u32::try_from(window.address_of(start))
                .map_err(|_| BootError::NoRoomForDeviceTree)?;
            Ok(EntryState {
                pc: image.entry,
                args: [tree_at, 0, 0, EPAPR_MAGIC, size],
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const MIB: u32 = 1 << 20;

    fn image(entry: u32, end_offset: u32) -> LoadedImage {
        LoadedImage {
            entry,
            entry_offset: 0,
            start_offset: 0,
            end_offset,
            end: 0,
            file_extent: 0,
        }
    }

    fn info() -> BootInfo<'static> {
        BootInfo {
            memory: 16 * MIB,
            timer_hz: 100_000_000,
            cpu_hz: 800_000_000,
            bus_hz: 400_000_000,
            kmac: [2, 0, 0, 0, 0, 1],
            command_line: "",
        }
    }

    #[test]
    fn mips_guests_get_argv_in_their_last_page() {
        let arch = GuestArch::MIPS32;
        let window = arch.window(16 * MIB).unwrap();
        let mut ram = vec![0u8; 16 * MIB as usize];
        let entry = write_boot_args(
            &arch,
            &window,
            &mut ram,
            &image(0xC010_1000, 0x20_0000),
            &info(),
        )
        .unwrap();
        assert_eq!(entry.pc, 0xC010_1000);
        assert_eq!(entry.args[0], 4);
        assert_eq!(entry.args[1], 0xC000_0000 + 16 * MIB - MIPS_ARGS_AREA);
        assert_eq!(entry.args[2..], [0, 0, 0]);
        let argv0 = (16 * MIB - MIPS_ARGS_AREA) as usize;
        let first = u32::from_be_bytes(ram[argv0..argv0 + 4].try_into().unwrap());
        let at = (first - 0xC000_0000) as usize;
        assert_eq!(&ram[at..at + 13], b"HZ=100000000\0");
    }

    #[test]
    fn a_kernel_reaching_into_the_argument_page_is_refused() {
        let arch = GuestArch::MIPS32;
        let window = arch.window(16 * MIB).unwrap();
        let mut ram = vec![0u8; 16 * MIB as usize];
        let end = 16 * MIB - MIPS_ARGS_AREA + 1;
        assert_eq!(
            write_boot_args(&arch, &window, &mut ram, &image(0xC000_1000, end), &info()),
            Err(BootError::NoRoomForArguments)
        );
        assert!(ram.iter().all(|&b| b == 0));
    }

    #[test]
    fn powerpc_guests_get_a_device_tree_in_r3() {
        let arch = GuestArch::E500;
        let window = arch.window(16 * MIB).unwrap();
        let mut ram = vec![0u8; 16 * MIB as usize];
        let entry = write_boot_args(
            &arch,
            &window,
            &mut ram,
            &image(0x8000_0000, 0x40_0000),
            &info(),
        )
        .unwrap();
        let tree_at = entry.args[0];
        assert_eq!(tree_at % 8, 0);
        assert!((0x8040_0000..0x8000_0000 + 16 * MIB).contains(&tree_at));
        assert_eq!(entry.args[1..], [0, 0, EPAPR_MAGIC, 16 * MIB]);
        let at = (tree_at - 0x8000_0000) as usize;
        assert_eq!(ram[at..at + 4], 0xD00D_FEEDu32.to_be_bytes());
        let missing_clock = BootInfo {
            cpu_hz: 0,
            ..info()
        };
        assert_eq!(
            write_boot_args(
                &arch,
                &window,
                &mut ram,
                &image(0x8000_0000, 0x40_0000),
                &missing_clock
            ),
            Err(BootError::DeviceTree(DeviceTreeError::ZeroValue))
        );
    }
}
