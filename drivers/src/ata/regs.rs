//! ATA register numbers, status and control bits, commands and IDENTIFY words (ATA/ATAPI-6,
//! T13/1410D: sections 7 and 8; the PIIX4 maps the primary channel's command block at ISA
//! ports 0x1F0..0x1F7 and its control block at 0x3F6).

/// Command block: data (16 bits wide).
pub const DATA: usize = 0;
/// Command block: error (read) / features (write).
pub const ERROR: usize = 1;
/// Command block: sector count (LBA48: written twice, high byte first).
pub const SECTOR_COUNT: usize = 2;
/// Command block: LBA bits 0..7 (LBA48: then 24..31).
pub const LBA_LOW: usize = 3;
/// Command block: LBA bits 8..15 (LBA48: then 32..39).
pub const LBA_MID: usize = 4;
/// Command block: LBA bits 16..23 (LBA48: then 40..47).
pub const LBA_HIGH: usize = 5;
/// Command block: device (bit 6 LBA, bit 4 device 1; LBA28: bits 0..3 are LBA 24..27).
pub const DEVICE: usize = 6;
/// Command block: status (read; clears a pending interrupt) / command (write).
pub const STATUS: usize = 7;
/// The same register as [`STATUS`] on write.
pub const COMMAND: usize = 7;

/// Status: busy; no other bit is valid while it is set.
pub const ST_BSY: u8 = 0x80;
/// Status: device ready.
pub const ST_DRDY: u8 = 0x40;
/// Status: device fault.
pub const ST_DF: u8 = 0x20;
/// Status: data request (a sector is ready to move through [`DATA`]).
pub const ST_DRQ: u8 = 0x08;
/// Status: error (see [`ERROR`]).
pub const ST_ERR: u8 = 0x01;

/// Error: command aborted (unsupported, or a parameter out of range).
pub const ERR_ABRT: u8 = 0x04;
/// Error: ID not found (an address beyond the medium).
pub const ERR_IDNF: u8 = 0x10;
/// Error: uncorrectable data.
pub const ERR_UNC: u8 = 0x40;

/// Device control (control block): interrupts off.
pub const CTL_NIEN: u8 = 0x02;
/// Device control: software reset of both devices on the channel.
pub const CTL_SRST: u8 = 0x04;

/// Device register: LBA addressing.
pub const DEV_LBA: u8 = 0x40;
/// Device register bits that read as one on old devices (obsolete, harmless to set).
pub const DEV_OBSOLETE: u8 = 0xA0;

pub const CMD_READ_SECTORS: u8 = 0x20;
pub const CMD_READ_SECTORS_EXT: u8 = 0x24;
pub const CMD_WRITE_SECTORS: u8 = 0x30;
pub const CMD_WRITE_SECTORS_EXT: u8 = 0x34;
pub const CMD_FLUSH_CACHE: u8 = 0xE7;
pub const CMD_FLUSH_CACHE_EXT: u8 = 0xEA;
pub const CMD_IDENTIFY: u8 = 0xEC;

/// Bytes per sector.
pub const SECTOR_SIZE: usize = 512;
/// 16-bit words per sector.
pub const SECTOR_WORDS: usize = SECTOR_SIZE / 2;

/// IDENTIFY word: model number, 40 ASCII characters, two per word, first in the high byte.
pub const ID_MODEL: usize = 27;
/// IDENTIFY word: capabilities; bit 9 LBA supported.
pub const ID_CAPABILITIES: usize = 49;
pub const ID_CAP_LBA: u16 = 1 << 9;
/// IDENTIFY words 60..61: sectors addressable with LBA28 (low word first).
pub const ID_LBA28_SECTORS: usize = 60;
/// IDENTIFY word: command sets supported; bit 10 the 48-bit address feature set.
pub const ID_COMMAND_SET_2: usize = 83;
pub const ID_CMD2_LBA48: u16 = 1 << 10;
/// IDENTIFY words 100..103: sectors addressable with LBA48 (lowest word first).
pub const ID_LBA48_SECTORS: usize = 100;

/// The largest transfer one LBA28 command moves (a count of 0 means 256).
pub const LBA28_MAX_SECTORS: u32 = 256;
/// Highest address + 1 reachable with LBA28.
pub const LBA28_LIMIT: u64 = 1 << 28;
