//! `./x run`: build a board image and boot it in QEMU with the console on this terminal.
//!
//! QEMU's serial port is a pair of pipes that this process forwards, so every key (Ctrl-A and
//! Ctrl-C included) reaches the hypervisor. On a terminal, the terminal is put in raw mode and
//! Ctrl-] ends QEMU (as in telnet). With a pipe on stdin (a scripted session), QEMU ends when it
//! powers off, or once input is exhausted and the console has been quiet for 3 seconds.

use std::io::{IsTerminal, Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use std::path::PathBuf;

use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::image;
use qemu_tests::qemu::{
    ensure_disk_image, ensure_flash_image, flash_size, Nic, NicModel, QemuConfig, MALTA_DISK_SIZE,
};
use qemu_tests::workspace_root;

use crate::boards_arg;

const CTRL_RIGHT_BRACKET: u8 = 0x1D;
const QUIET_AFTER_EOF: Duration = Duration::from_secs(3);

/// Raw terminal mode for the life of the guard.
struct RawTerminal {
    saved: String,
}

impl RawTerminal {
    fn enter() -> Option<RawTerminal> {
        let out = Command::new("stty")
            .arg("-g")
            .stdin(Stdio::inherit())
            .output()
            .ok()?;
        let saved = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let ok = Command::new("stty")
            .args(["raw", "-echo"])
            .stdin(Stdio::inherit())
            .status()
            .ok()?;
        ok.success().then_some(RawTerminal { saved })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = Command::new("stty")
            .arg(&self.saved)
            .stdin(Stdio::inherit())
            .status();
    }
}

/// Ports `./x run` can give a board (`--ether1` .. `--ether8`).
const MAX_PORTS: usize = 8;

/// `--etherN`: `Some(Ok(N))`; `Some(Err(..))` for a number out of range; `None` for any other
/// argument.
fn ether_option(arg: &str) -> Option<Result<usize, String>> {
    let n = arg
        .strip_prefix("--ether")
        .filter(|n| n.starts_with(|c: char| c.is_ascii_digit()))?;
    Some(match n.parse::<usize>() {
        Ok(port) if (1..=MAX_PORTS).contains(&port) => Ok(port),
        _ => Err(format!("{arg}: ports are --ether1 .. --ether{MAX_PORTS}")),
    })
}

fn millis_since(start: Instant) -> u64 {
    start.elapsed().as_millis() as u64
}

pub fn run(args: &[String]) -> Result<(), String> {
    let (ours, qemu_args) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[][..]),
    };
    let mut board_args = Vec::new();
    let mut files = Vec::new();
    // The QEMU boards' ports by default: ether1 on QEMU's user networking, ether2 plugged
    // into nothing.
    let mut nics = vec![Nic::User, Nic::Unplugged];
    let mut nic_model = NicModel::Board;
    let mut it = ours.iter();
    while let Some(arg) = it.next() {
        if let Some(port) = ether_option(arg) {
            let port = port?;
            let spec = it
                .next()
                .ok_or(format!("{arg} needs user, tap:NAME or none"))?;
            if nics.len() < port {
                nics.resize(port, Nic::Unplugged);
            }
            nics[port - 1] = spec.parse()?;
            continue;
        }
        match arg.as_str() {
            "--file" => files.push(it.next().ok_or("--file needs a path")?.clone()),
            "--ether-model" => {
                nic_model = it
                    .next()
                    .ok_or("--ether-model needs board or e1000")?
                    .parse()?;
            }
            _ => board_args.push(arg.clone()),
        }
    }
    let board = boards_arg(&board_args, false)?[0];
    eprintln!("x: building {board}");
    let img = image::build(board, true)?;
    let mut config = QemuConfig::new(board, &img.image);
    let state_dir = workspace_root().join("target/qemu");
    if let Some(size) = flash_size(board) {
        // The configuration survives `./x run` sessions in this flash image.
        let flash = state_dir.join(format!("{board}-flash.img"));
        ensure_flash_image(&flash, size)?;
        config.flash = Some(flash);
    }
    if matches!(board, Board::QemuMalta | Board::QemuPpce500) {
        // So do the files and the guests' disks, on this disk image.
        let disk = state_dir.join(format!("{board}-disk.img"));
        ensure_disk_image(&disk, MALTA_DISK_SIZE)?;
        config.disk = Some(disk);
    }
    if !files.is_empty() {
        let paths: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
        let store = state_dir.join(format!("{board}-files.bin"));
        build_store(&paths, &store)?;
        config.files = Some(store);
    }
    if matches!(board, Board::QemuMalta | Board::QemuPpce500) {
        config.nics = nics;
        config.nic_model = nic_model;
    }
    config.extra = qemu_args.to_vec();
    let mut cmd = config.command()?;
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        eprintln!("x: booting {board}; Ctrl-] ends QEMU\r");
    }
    let mut child = cmd.spawn().map_err(|e| format!("cannot start QEMU: {e}"))?;
    let raw = if interactive {
        RawTerminal::enter()
    } else {
        None
    };

    let start = Instant::now();
    let last_output = Arc::new(AtomicU64::new(0));
    let input_done = Arc::new(AtomicBool::new(false));
    let quit = Arc::new(AtomicBool::new(false));

    let mut qemu_out = child.stdout.take().expect("piped");
    let last = last_output.clone();
    let printer = thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut stdout = std::io::stdout();
        while let Ok(n) = qemu_out.read(&mut buf) {
            if n == 0 {
                break;
            }
            last.store(millis_since(start), Ordering::Relaxed);
            if stdout
                .write_all(&buf[..n])
                .and_then(|_| stdout.flush())
                .is_err()
            {
                break;
            }
        }
    });

    let mut qemu_in = child.stdin.take().expect("piped");
    let (done, q) = (input_done.clone(), quit.clone());
    thread::spawn(move || {
        let mut buf = [0u8; 1024];
        let mut stdin = std::io::stdin();
        loop {
            let n = stdin.read(&mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            let chunk = &buf[..n];
            let (chunk, stop) = match chunk
                .iter()
                .position(|&b| interactive && b == CTRL_RIGHT_BRACKET)
            {
                Some(i) => (&chunk[..i], true),
                None => (chunk, false),
            };
            if qemu_in
                .write_all(chunk)
                .and_then(|_| qemu_in.flush())
                .is_err()
            {
                break;
            }
            if stop {
                q.store(true, Ordering::Relaxed);
                break;
            }
        }
        done.store(true, Ordering::Relaxed);
    });

    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(status);
        }
        let quiet = millis_since(start).saturating_sub(last_output.load(Ordering::Relaxed));
        let eof_and_quiet = !interactive
            && input_done.load(Ordering::Relaxed)
            && quiet >= QUIET_AFTER_EOF.as_millis() as u64;
        if quit.load(Ordering::Relaxed) || eof_and_quiet {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(50));
    };
    let _ = printer.join();
    drop(raw);
    match status {
        Some(s) if !s.success() => Err(format!("QEMU exited with {s}")),
        Some(_) => Ok(()),
        None => {
            eprintln!("\r\nx: QEMU stopped");
            Ok(())
        }
    }
}
