//! The boards the build knows: QEMU machines and real RouterBOARDs.

use std::fmt;
use std::str::FromStr;

/// CPU family of a board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    Mips,
    PowerPc,
}

impl Arch {
    /// The Rust target: a built-in triple or a target JSON under `targets/`.
    pub fn target(self) -> &'static str {
        match self {
            Arch::Mips => "mips-mti-none-elf",
            Arch::PowerPc => "targets/powerpc-e500v2-none.json",
        }
    }

    /// The directory name cargo uses for this target under the target dir.
    pub fn target_dir_name(self) -> &'static str {
        match self {
            Arch::Mips => "mips-mti-none-elf",
            Arch::PowerPc => "powerpc-e500v2-none",
        }
    }
}

/// A board `./x build --board` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Board {
    QemuMalta,
    QemuPpce500,
    Rb400,
    Rb1100,
}

impl Board {
    pub const ALL: [Board; 4] = [
        Board::QemuMalta,
        Board::QemuPpce500,
        Board::Rb400,
        Board::Rb1100,
    ];
    /// Boards QEMU can boot.
    pub const QEMU: [Board; 2] = [Board::QemuMalta, Board::QemuPpce500];

    pub fn name(self) -> &'static str {
        match self {
            Board::QemuMalta => "qemu-malta",
            Board::QemuPpce500 => "qemu-ppce500",
            Board::Rb400 => "rb400",
            Board::Rb1100 => "rb1100",
        }
    }

    pub fn arch(self) -> Arch {
        match self {
            Board::QemuMalta | Board::Rb400 => Arch::Mips,
            Board::QemuPpce500 | Board::Rb1100 => Arch::PowerPc,
        }
    }

    /// The cargo package of the board crate.
    pub fn package(self) -> String {
        format!("board-{}", self.name())
    }

    /// The binary the board crate builds.
    pub fn binary(self) -> String {
        format!("hypervisor-{}", self.name())
    }

    pub fn is_qemu(self) -> bool {
        matches!(self, Board::QemuMalta | Board::QemuPpce500)
    }
}

impl fmt::Display for Board {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Board {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Board::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Board::ALL.iter().map(|b| b.name()).collect();
                format!("unknown board `{s}` (boards: {})", names.join(", "))
            })
    }
}
