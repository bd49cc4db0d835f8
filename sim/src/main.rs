//! `sim [--login] [--ports N] [--seed S] [--no-guests]`: the management console on a simulated board. With a terminal on
//! stdin it runs in real time with the terminal in raw mode (Ctrl-D on an empty line, `/quit`,
//! or `/system shutdown` ends it); with piped input it replays the input under the virtual-time
//! model of `sim::driver` and exits 0 at the end of input.

use std::io::{IsTerminal, Read, Write};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sim::board::SimBoard;
use sim::driver::{split_lines, Sim, STEP_MS};
use sim::script::parse_all;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (options, board_options) = match parse_all(args.iter().map(String::as_str)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("sim: {message}\nusage: sim [--login] [--ports N] [--seed S] [--no-guests] [--routing-memory BYTES]");
            return ExitCode::from(2);
        }
    };
    let mut board = SimBoard::new(options.ports);
    board_options.apply(&mut board);
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        interactive(options, board);
        return ExitCode::SUCCESS;
    }
    let mut input = Vec::new();
    if let Err(error) = stdin.lock().read_to_end(&mut input) {
        eprintln!("sim: reading stdin: {error}");
        return ExitCode::FAILURE;
    }
    let mut sim = Sim::with_board(options, board);
    let mut stdout = std::io::stdout().lock();
    for line in split_lines(&input) {
        if sim.finished {
            break;
        }
        sim.replay_line(line);
        let _ = stdout.write_all(&sim.out.0);
        sim.out.0.clear();
    }
    let _ = stdout.write_all(&sim.out.0);
    let _ = stdout.write_all(b"\r\n");
    let _ = stdout.flush();
    ExitCode::SUCCESS
}

/// Puts the terminal in raw mode for the life of the value (through `stty`).
struct RawMode {
    saved: Option<String>,
}

impl RawMode {
    fn enter() -> RawMode {
        let saved = Command::new("stty")
            .arg("-g")
            .stdin(Stdio::inherit())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        let _ = Command::new("stty")
            .args(["raw", "-echo"])
            .stdin(Stdio::inherit())
            .status();
        RawMode { saved }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = Command::new("stty")
                .arg(saved)
                .stdin(Stdio::inherit())
                .status();
        }
    }
}

fn interactive(options: sim::driver::SimOptions, board: SimBoard) {
    let _raw = RawMode::enter();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = [0u8; 256];
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let start = Instant::now();
    let mut sim = Sim::with_board(options, board);
    let mut stdout = std::io::stdout().lock();
    let mut input_closed = false;
    while !sim.finished && !input_closed {
        match rx.recv_timeout(Duration::from_millis(STEP_MS)) {
            Ok(bytes) => sim.input(&bytes),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => input_closed = true,
        }
        sim.board.now = start.elapsed().as_millis() as u64;
        sim.step();
        let _ = stdout.write_all(&sim.out.0);
        let _ = stdout.flush();
        sim.out.0.clear();
    }
    let _ = stdout.write_all(b"\r\n");
}
