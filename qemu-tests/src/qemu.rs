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
    /// Extra arguments appended verbatim.
    pub extra: Vec<String>,
}

impl QemuConfig {
    pub fn new(board: Board, image: &Path) -> Self {
        let memory_mib = match board {
            Board::QemuMalta => 256,
            _ => 512,
        };
        Self { board, image: image.to_path_buf(), memory_mib, no_reboot: false, extra: Vec::new() }
    }

    /// The QEMU executable and machine arguments for the board.
    fn machine(&self) -> Result<(&'static str, &'static [&'static str]), String> {
        match self.board {
            Board::QemuMalta => Ok(("qemu-system-mips", &["-M", "malta", "-cpu", "24Kc"])),
            Board::QemuPpce500 => Ok(("qemu-system-ppc", &["-M", "ppce500", "-cpu", "e500v2"])),
            other => Err(format!("{other} is real hardware: QEMU cannot run it (use qemu-malta or qemu-ppce500)")),
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
            .args(["-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console"]);
        if self.no_reboot {
            cmd.arg("-no-reboot");
        }
        cmd.args(&self.extra);
        Ok(cmd)
    }
}
