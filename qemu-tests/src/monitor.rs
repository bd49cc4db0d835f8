//! The QEMU monitor over a Unix socket, for tests that look into the machine's memory (the
//! stacks' paint, the heap's counters) without the hypervisor printing anything.
//!
//! Start QEMU with [`Monitor::qemu_args`] and connect once it runs.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A connected monitor.
pub struct Monitor {
    stream: UnixStream,
    dir: PathBuf,
}

impl Monitor {
    /// The QEMU arguments for a monitor listening on `socket`.
    pub fn qemu_args(socket: &Path) -> Vec<String> {
        vec![
            "-monitor".into(),
            format!("unix:{},server=on,wait=off", socket.display()),
        ]
    }

    /// Connect to the monitor at `socket` (retrying while QEMU starts); `dir` receives the
    /// memory dumps.
    pub fn connect(socket: &Path, dir: &Path) -> Result<Monitor, String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let stream = loop {
            match UnixStream::connect(socket) {
                Ok(s) => break s,
                Err(e) if Instant::now() > deadline => {
                    return Err(format!("{}: {e}", socket.display()))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .map_err(|e| e.to_string())?;
        let mut m = Monitor {
            stream,
            dir: dir.to_path_buf(),
        };
        m.until_prompt()?;
        Ok(m)
    }

    fn until_prompt(&mut self) -> Result<String, String> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while !out.ends_with(b"(qemu) ") {
            let n = self
                .stream
                .read(&mut buf)
                .map_err(|e| format!("monitor: {e}"))?;
            if n == 0 {
                return Err("monitor: QEMU closed the connection".into());
            }
            out.extend_from_slice(&buf[..n]);
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Run a monitor command; what it printed.
    pub fn command(&mut self, line: &str) -> Result<String, String> {
        self.stream
            .write_all(format!("{line}\n").as_bytes())
            .map_err(|e| format!("monitor: {e}"))?;
        self.until_prompt()
    }

    /// `len` bytes of guest-physical (machine) memory from `addr`.
    pub fn read_physical(&mut self, addr: u64, len: u64) -> Result<Vec<u8>, String> {
        let file = self.dir.join(format!("pmem-{addr:x}-{len}.bin"));
        self.command(&format!("pmemsave {addr:#x} {len} \"{}\"", file.display()))?;
        let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let _ = std::fs::remove_file(&file);
        if bytes.len() as u64 != len {
            return Err(format!("pmemsave wrote {} bytes, not {len}", bytes.len()));
        }
        Ok(bytes)
    }
}
