//! What differs between guest CPU families, described once: where a guest sees its RAM, how its
//! ELF kernel is placed, what it finds in its registers at entry, and how its partition must be
//! placed in host RAM.
//!
//! The layers above the hypervisor's `arch/` (guest management, the image loader) read these
//! facts from a [`GuestArch`] instead of knowing MIPS or PowerPC; each arch names its description
//! ([`GuestArch::MIPS32`], [`GuestArch::E500`]). The CPU layer itself (trap decoding, the TLB)
//! stays in the arch.

use crate::{GuestWindow, Gva, LayoutError, Partition};

/// MIPS guests: guest-physical 0 is guest-virtual `0xC000_0000` (kseg2, up to 256 MiB of RAM).
pub const MIPS_RAM_WINDOW: Gva = Gva::new(0xC000_0000);
/// PowerPC guests: RouterOS kernels use `PAGE_OFFSET` `0x8000_0000`.
pub const PPC_RAM_WINDOW: Gva = Gva::new(0x8000_0000);

/// Granule of guest RAM sizes and partition placement: 1 MiB.
pub const PARTITION_GRANULE: u64 = 1 << 20;
/// Granule of a guest RAM window: 4 KiB, the guests' `PAGE_SIZE`.
pub const WINDOW_GRANULE: u32 = 4096;

/// The CPU a guest kernel is built for (ELF `e_machine`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum ElfMachine {
    /// EM_MIPS.
    Mips = 8,
    /// EM_PPC.
    PowerPc = 20,
}

impl ElfMachine {
    /// Its usual name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Mips => "MIPS",
            Self::PowerPc => "PowerPC",
        }
    }
}

/// Which ELF program header address field places a segment in the guest's RAM window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressField {
    /// `p_vaddr` is used: the segment occupies window offsets `p_vaddr - base ..`. `p_paddr` is
    /// ignored. This is the MIPS MetaROUTER case (kernels linked at 0xC000_0000 + offset).
    Virtual,
    /// `p_paddr` is the guest-physical address (the window offset), and `p_vaddr` must equal
    /// `base + p_paddr` (a linear kernel mapping). This is the PowerPC RouterOS case: kernels
    /// linked at PAGE_OFFSET 0x8000_0000 with `p_paddr` = physical offset.
    Physical,
}

/// What a guest finds at its entry point, and in which registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootArgs {
    /// RouterBOOT-style `argc`/`argv` in the last page of guest RAM: `$a0 = argc`,
    /// `$a1 = argv` (guest-virtual), `$a2 = $a3 = 0`.
    MipsArgv,
    /// A flattened device tree in guest RAM, entered as ePAPR describes: `r3` = the tree's
    /// guest-virtual address, `r4 = r5 = 0`, `r6` = the ePAPR magic, `r7` = the size of the
    /// initial mapped area.
    DeviceTree,
}

/// How a guest partition must be aligned in host-physical memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionAlign {
    /// To the partition granule (MIPS: the shadow TLB maps the window with pages of up to
    /// 16 MiB where the base allows; 1 MiB keeps the D-cache colours of every view equal).
    Granule,
    /// To the largest power-of-4 page that fits the partition (e500: TLB1 pages are 4^n KiB,
    /// so a partition aligned so can be mapped with few TLB1 entries).
    PowerOf4Page,
}

/// Why a partition cannot hold a guest of some architecture (the caller's placement is at
/// fault).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlacementError {
    /// The host base is not aligned as the architecture needs ([`GuestArch::partition_align`]).
    BaseNotAligned,
    /// The size is zero, not a multiple of [`PARTITION_GRANULE`], or above
    /// [`GuestArch::max_ram`].
    BadSize,
    /// The partition does not end below the architecture's physical address limit.
    OutOfReach,
}

impl core::fmt::Display for PlacementError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            PlacementError::BaseNotAligned => "the partition is not aligned as the guest CPU needs",
            PlacementError::BadSize => "the partition size is not one the guest CPU can use",
            PlacementError::OutOfReach => {
                "the partition lies beyond the physical addresses the guest CPU can map"
            }
        })
    }
}

/// One guest CPU family, as the layers above the CPU see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestArch {
    /// The family's name, for messages.
    pub name: &'static str,
    /// The ELF `e_machine` its kernels carry.
    pub elf_machine: ElfMachine,
    /// Guest-virtual address of guest-physical 0 (the start of the RAM window).
    pub ram_window: Gva,
    /// Largest guest RAM the window can hold, in bytes.
    pub max_ram: u32,
    /// How an ELF kernel's segments are placed in the window.
    pub elf_address: AddressField,
    /// What the guest finds at entry.
    pub boot_args: BootArgs,
    /// How its partition is aligned in host RAM.
    pub partition_align: PartitionAlign,
    /// Host-physical address bits the CPU can map a partition with (MIPS32 EntryLo: 32; e500
    /// MAS7: 36).
    pub phys_addr_bits: u8,
}

impl GuestArch {
    /// MIPS32 (24Kc) MetaROUTER guests: RAM at 0xC000_0000 (up to 0xD000_0000, above which
    /// lies the guest's vmalloc area), kernels placed by `p_vaddr`, RouterBOOT-style argv.
    pub const MIPS32: GuestArch = GuestArch {
        name: "MIPS32",
        elf_machine: ElfMachine::Mips,
        ram_window: MIPS_RAM_WINDOW,
        max_ram: 0x1000_0000,
        elf_address: AddressField::Virtual,
        boot_args: BootArgs::MipsArgv,
        partition_align: PartitionAlign::Granule,
        phys_addr_bits: 32,
    };

    /// PowerPC e500 RouterOS guests: RAM at PAGE_OFFSET 0x8000_0000 (to the end of the 32-bit
    /// space), kernels placed by `p_paddr`, a device tree in `r3`, partitions aligned for TLB1
    /// and anywhere in the 36-bit physical space.
    pub const E500: GuestArch = GuestArch {
        name: "PowerPC e500",
        elf_machine: ElfMachine::PowerPc,
        ram_window: PPC_RAM_WINDOW,
        max_ram: 0x8000_0000,
        elf_address: AddressField::Physical,
        boot_args: BootArgs::DeviceTree,
        partition_align: PartitionAlign::PowerOf4Page,
        phys_addr_bits: 36,
    };

    /// The window of a guest with `size` bytes of RAM: a non-zero multiple of 4 KiB, at most
    /// [`GuestArch::max_ram`].
    pub const fn window(&self, size: u32) -> Result<GuestWindow, LayoutError> {
        if size == 0 || !size.is_multiple_of(WINDOW_GRANULE) {
            return Err(LayoutError::BadWindowSize { size });
        }
        if size > self.max_ram {
            return Err(LayoutError::WindowTooLarge {
                size,
                max: self.max_ram,
            });
        }
        GuestWindow::new(self.ram_window, size)
    }

    /// The host-physical alignment a partition of `size` bytes needs.
    pub const fn partition_align(&self, size: u64) -> u64 {
        match self.partition_align {
            PartitionAlign::Granule => PARTITION_GRANULE,
            PartitionAlign::PowerOf4Page => {
                let mut page = PARTITION_GRANULE;
                while page * 4 <= size {
                    page *= 4;
                }
                page
            }
        }
    }

    /// One past the highest host-physical address a partition may use.
    pub const fn phys_limit(&self) -> u64 {
        1 << self.phys_addr_bits
    }

    /// Whether `partition` can hold a guest of this architecture: aligned as
    /// [`GuestArch::partition_align`] says, a whole number of granules up to
    /// [`GuestArch::max_ram`], below [`GuestArch::phys_limit`].
    pub const fn check_partition(&self, partition: &Partition) -> Result<(), PlacementError> {
        let size = partition.size() as u64;
        if size == 0 || !size.is_multiple_of(PARTITION_GRANULE) || size > self.max_ram as u64 {
            return Err(PlacementError::BadSize);
        }
        let base = partition.host_base().get();
        if !base.is_multiple_of(self.partition_align(size)) {
            return Err(PlacementError::BaseNotAligned);
        }
        if base >= self.phys_limit() || self.phys_limit() - base < size {
            return Err(PlacementError::OutOfReach);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Hpa;

    const MIB: u32 = 1 << 20;

    fn part(base: u64, size: u32) -> Partition {
        Partition::new(Hpa::new(base), size).unwrap()
    }

    #[test]
    fn mips_partition_rules() {
        let mips = GuestArch::MIPS32;
        assert_eq!(mips.check_partition(&part(0x0100_0000, 16 * MIB)), Ok(()));
        assert_eq!(
            mips.check_partition(&part(0x0108_0000, 16 * MIB)),
            Err(PlacementError::BaseNotAligned)
        );
        assert_eq!(
            mips.check_partition(&part(0x0100_0000, 0)),
            Err(PlacementError::BadSize)
        );
        assert_eq!(
            mips.check_partition(&part(0x0100_0000, 16 * MIB + 4096)),
            Err(PlacementError::BadSize)
        );
        assert_eq!(
            mips.check_partition(&part(0, 512 * MIB)),
            Err(PlacementError::BadSize)
        );
        // Anywhere below 4 GiB: RAM above 512 MiB (malta's high RAM at 0x9000_0000) too.
        assert_eq!(mips.check_partition(&part(0x1FF0_0000, 2 * MIB)), Ok(()));
        assert_eq!(mips.check_partition(&part(0x9000_0000, 256 * MIB)), Ok(()));
        assert_eq!(mips.check_partition(&part(0xFF00_0000, 16 * MIB)), Ok(()));
        assert_eq!(
            mips.check_partition(&part(0xFF10_0000, 16 * MIB)),
            Err(PlacementError::OutOfReach)
        );
        assert_eq!(
            mips.check_partition(&part(0x1_0000_0000, 16 * MIB)),
            Err(PlacementError::OutOfReach)
        );
    }

    #[test]
    fn e500_partitions_are_aligned_to_power_of_4_pages_anywhere_in_36_bits() {
        let e500 = GuestArch::E500;
        assert_eq!(e500.partition_align(MIB as u64), MIB as u64);
        assert_eq!(e500.partition_align(3 * MIB as u64), MIB as u64);
        assert_eq!(e500.partition_align(16 * MIB as u64), 16 * MIB as u64);
        assert_eq!(e500.partition_align(48 * MIB as u64), 16 * MIB as u64);
        assert_eq!(e500.partition_align(64 * MIB as u64), 64 * MIB as u64);
        assert_eq!(e500.partition_align(256 * MIB as u64), 256 * MIB as u64);
        assert_eq!(e500.check_partition(&part(0x0400_0000, 64 * MIB)), Ok(()));
        assert_eq!(
            e500.check_partition(&part(0x0100_0000, 64 * MIB)),
            Err(PlacementError::BaseNotAligned)
        );
        assert_eq!(e500.check_partition(&part(0x8_0000_0000, 64 * MIB)), Ok(()));
        assert_eq!(
            e500.check_partition(&part(0xF_FF00_0000, 32 * MIB)),
            Err(PlacementError::OutOfReach)
        );
        assert_eq!(
            GuestArch::MIPS32.partition_align(64 * MIB as u64),
            MIB as u64
        );
    }

    #[test]
    fn windows_follow_the_architecture() {
        let w = GuestArch::MIPS32.window(0x0800_0000).unwrap();
        assert_eq!(w.base(), MIPS_RAM_WINDOW);
        assert_eq!(w.end(), 0xC800_0000);
        assert_eq!(
            GuestArch::MIPS32.window(0x1000_1000),
            Err(LayoutError::WindowTooLarge {
                size: 0x1000_1000,
                max: 0x1000_0000
            })
        );
        assert_eq!(
            GuestArch::MIPS32.window(100),
            Err(LayoutError::BadWindowSize { size: 100 })
        );
        assert_eq!(
            GuestArch::MIPS32.window(0),
            Err(LayoutError::BadWindowSize { size: 0 })
        );
        let ppc = GuestArch::E500.window(0x8000_0000).unwrap();
        assert_eq!(ppc.base(), PPC_RAM_WINDOW);
        assert_eq!(ppc.end(), 1 << 32);
    }
}
