//! QEMU command lines for the QEMU boards, shared by `./x run` and the tests.
//!
//! The serial console is QEMU's stdin/stdout with no multiplexer and no signals, so every byte
//! (Ctrl-A and Ctrl-C included) reaches the hypervisor. No monitor, no display, no default
//! devices: only what the board needs.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::boards::Board;

/// How to start QEMU for one board.
#[derive(Clone, Debug)]
pub struct QemuConfig {
    pub board: Board,
    pub image: PathBuf,
    /// Guest RAM in MiB.
    pub memory_mib: u32,
    /// End QEMU on a reset request instead of rebooting (tests).
    pub no_reboot: bool,
    /// A raw image for the board's configuration flash (malta: its 4 MiB CFI flash).
    pub flash: Option<PathBuf>,
    /// A raw disk image for the board's disk, holding the file store (malta: the IDE disk;
    /// ppce500: a virtio block device on PCI).
    pub disk: Option<PathBuf>,
    /// A file store (`guest_loader::store` format) to preload where the board expects it.
    pub files: Option<PathBuf>,
    /// Ethernet ports, ether1 first (malta: e1000 on PCI; ppce500: eTSEC on the platform bus,
    /// or e1000 on PCI with [`NicModel::E1000`]).
    pub nics: Vec<Nic>,
    /// Which device the ports are.
    pub nic_model: NicModel,
    /// Extra arguments appended verbatim.
    pub extra: Vec<String>,
}

/// Which device a board's Ethernet ports are in QEMU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NicModel {
    /// The board's own: e1000 on malta, eTSEC on ppce500.
    #[default]
    Board,
    /// Intel e1000 on the PCI bus (ppce500: after its eTSECs, here none; malta's own anyway).
    E1000,
}

impl std::str::FromStr for NicModel {
    type Err = String;
    /// `board` or `e1000`.
    fn from_str(s: &str) -> Result<NicModel, String> {
        match s {
            "board" => Ok(NicModel::Board),
            "e1000" => Ok(NicModel::E1000),
            _ => Err(format!("{s}: a port model is `board` or `e1000`")),
        }
    }
}

/// What a board's Ethernet port is plugged into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Nic {
    /// QEMU's user networking (NAT to the host's network; the guest side is 10.0.2.0/24).
    User,
    /// An existing tap device of the host, by name (`ip tuntap add NAME mode tap`).
    Tap(String),
    /// Nothing: the port exists, its frames go nowhere.
    Unplugged,
}

impl std::str::FromStr for Nic {
    type Err = String;
    /// `user`, `tap:NAME` or `none`.
    fn from_str(s: &str) -> Result<Nic, String> {
        match s.split_once(':') {
            None if s == "user" => Ok(Nic::User),
            None if s == "none" => Ok(Nic::Unplugged),
            Some(("tap", name)) if !name.is_empty() && !name.contains(',') => {
                Ok(Nic::Tap(name.to_string()))
            }
            _ => Err(format!(
                "{s}: a port is `user`, `tap:NAME` (an existing tap device) or `none`"
            )),
        }
    }
}

/// The MAC QEMU gives port `i` (0 is ether1): locally administered, fixed, distinct per port.
pub fn nic_mac(i: usize) -> String {
    format!("52:54:00:12:34:{:02x}", 0x56 + i)
}

/// Size of malta's flash, and the byte an erased flash reads as.
pub const MALTA_FLASH_SIZE: u64 = 4 << 20;
/// Size of the ppce500's configuration flash: QEMU wants a power of two and puts it at the
/// start of the platform bus, where 512 KiB and the eTSECs after them end below the PCI
/// window the board opens at 0xF_0010_0000.
pub const PPCE500_FLASH_SIZE: u64 = 512 << 10;

/// The size of `board`'s configuration flash image, if QEMU models one for it.
pub fn flash_size(board: Board) -> Option<u64> {
    match board {
        Board::QemuMalta => Some(MALTA_FLASH_SIZE),
        Board::QemuPpce500 => Some(PPCE500_FLASH_SIZE),
        _ => None,
    }
}
/// Where the malta board looks for a preloaded file store (physical).
pub const MALTA_PRELOAD_ADDR: u64 = 0x0040_0000;
/// The largest store the malta board accepts.
pub const MALTA_PRELOAD_MAX: u64 = 32 << 20;
/// The largest store preloaded on ppce500 (an `-initrd`, which QEMU puts at 64 MiB; the
/// hypervisor reads it in place inside its 256 MiB one-to-one map).
pub const PPCE500_PRELOAD_MAX: u64 = 32 << 20;

/// Size of the disk image `./x run` creates for malta and ppce500 (sparse: it takes what is
/// written).
pub const MALTA_DISK_SIZE: u64 = 256 << 20;

/// Create `path` as an empty (all zero, sparse) disk image of `size` bytes, unless it exists.
pub fn ensure_disk_image(path: &Path, size: u64) -> Result<(), String> {
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    file.set_len(size)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Create `path` as an erased (all 0xFF) flash image of `size` bytes, unless it exists.
pub fn ensure_flash_image(path: &Path, size: u64) -> Result<(), String> {
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, vec![0xFF; size as usize]).map_err(|e| format!("{}: {e}", path.display()))
}

impl QemuConfig {
    pub fn new(board: Board, image: &Path) -> Self {
        let memory_mib = match board {
            Board::QemuMalta => 256,
            _ => 512,
        };
        Self {
            board,
            image: image.to_path_buf(),
            memory_mib,
            no_reboot: false,
            flash: None,
            disk: None,
            files: None,
            nics: Vec::new(),
            nic_model: NicModel::Board,
            extra: Vec::new(),
        }
    }

    /// The QEMU executable and machine arguments for the board.
    fn machine(&self) -> Result<(&'static str, &'static [&'static str]), String> {
        match self.board {
            Board::QemuMalta => Ok(("qemu-system-mips", &["-M", "malta", "-cpu", "24Kc"])),
            Board::QemuPpce500 => Ok(("qemu-system-ppc", &["-M", "ppce500", "-cpu", "e500v2"])),
            other => Err(format!(
                "{other} is real hardware: QEMU cannot run it (use qemu-malta or qemu-ppce500)"
            )),
        }
    }

    /// The full command, stdin/stdout being the serial console.
    pub fn command(&self) -> Result<Command, String> {
        let (exe, machine) = self.machine()?;
        let mut cmd = Command::new(exe);
        cmd.args(machine)
            .arg("-m")
            .arg(self.memory_mib.to_string())
            .arg("-kernel")
            .arg(&self.image)
            .args(["-nodefaults", "-display", "none"])
            .args([
                "-chardev",
                "stdio,id=console,signal=off",
                "-serial",
                "chardev:console",
            ]);
        if self.no_reboot {
            cmd.arg("-no-reboot");
        }
        if let Some(flash) = &self.flash {
            if flash_size(self.board).is_none() {
                return Err(format!(
                    "{}: no configuration flash is modelled on this machine",
                    self.board
                ));
            }
            cmd.arg("-drive")
                .arg(format!("if=pflash,format=raw,file={}", flash.display()));
        }
        if let Some(disk) = &self.disk {
            match self.board {
                Board::QemuMalta => {
                    cmd.arg("-drive").arg(format!(
                        "if=ide,index=0,media=disk,format=raw,file={}",
                        disk.display()
                    ));
                }
                // A modern-only virtio block device on the PCI bus (no option ROM needed).
                Board::QemuPpce500 => {
                    cmd.arg("-drive").arg(format!(
                        "if=none,id=disk0,format=raw,file={}",
                        disk.display()
                    ));
                    cmd.arg("-device")
                        .arg("virtio-blk-pci,drive=disk0,disable-legacy=on,romfile=");
                }
                other => return Err(format!("{other}: no disk is modelled on this machine")),
            }
        }
        if let Some(files) = &self.files {
            let len = std::fs::metadata(files)
                .map_err(|e| format!("{}: {e}", files.display()))?
                .len();
            let max = match self.board {
                Board::QemuPpce500 => PPCE500_PRELOAD_MAX,
                _ => MALTA_PRELOAD_MAX,
            };
            if len > max {
                return Err(format!(
                    "the files add up to {len} bytes; at most {max} fit the preload area"
                ));
            }
            match self.board {
                // Malta's boot stub knows no initrd: QEMU writes the store where the board
                // looks for it.
                Board::QemuMalta => {
                    cmd.arg("-device").arg(format!(
                        "loader,file={},addr={MALTA_PRELOAD_ADDR:#x},force-raw=on",
                        files.display()
                    ));
                }
                // On e500 the store is the initial RAM disk, which the device tree names.
                _ => {
                    cmd.arg("-initrd").arg(files);
                }
            }
        }
        for (i, nic) in self.nics.iter().enumerate() {
            let device = match (self.board, self.nic_model) {
                // Debian's QEMU has no e1000 option ROM: `romfile=` (empty) tells it none is
                // needed.
                (Board::QemuMalta, _) | (Board::QemuPpce500, NicModel::E1000) => {
                    format!("e1000,romfile=,mac={}", nic_mac(i))
                }
                // On ppce500's platform bus, in command-line order; QEMU gives an eTSEC no MAC
                // of its own (the tree's `local-mac-address` is what `mac=` says).
                (Board::QemuPpce500, NicModel::Board) => format!("eTSEC,mac={}", nic_mac(i)),
                _ => return Err(format!("{}: no Ethernet ports in QEMU", self.board)),
            };
            let netdev = match nic {
                Nic::User => format!("user,id=ether{}", i + 1),
                Nic::Tap(name) => format!(
                    "tap,id=ether{},ifname={name},script=no,downscript=no",
                    i + 1
                ),
                // A hub port on a hub of its own: a peer that takes frames and sends none.
                Nic::Unplugged => format!("hubport,id=ether{},hubid={}", i + 1, 100 + i),
            };
            cmd.arg("-netdev").arg(netdev);
            cmd.arg("-device")
                .arg(format!("{device},netdev=ether{}", i + 1));
        }
        cmd.args(&self.extra);
        Ok(cmd)
    }
}
