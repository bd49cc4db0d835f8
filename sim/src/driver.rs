//! Runs the management plane on the simulated board: feeds input, advances the virtual clock
//! in 10 ms steps calling [`Shell::poll`], and plays a reboot (the shell is built again from the
//! flash) or a shutdown (the simulation ends).
//!
//! Replayed input follows one time model: a line is given to the shell only when it is not busy
//! (login delay, image import), and after each line one second of virtual time passes
//! (scripts can change that pace).

use mgmt::{Shell, ShellOptions, Terminal};

use crate::board::SimBoard;

/// Virtual time of one poll step.
pub const STEP_MS: u64 = 10;
/// Virtual time that passes after each replayed line.
pub const LINE_MS: u64 = 1000;
/// Longest a replay waits for the shell to become idle.
const BUSY_LIMIT_MS: u64 = 600_000;

/// Simulator settings (the command line of `sim`).
#[derive(Clone, Copy, Debug)]
pub struct SimOptions {
    pub login: bool,
    pub ports: usize,
}

impl Default for SimOptions {
    fn default() -> SimOptions {
        SimOptions {
            login: false,
            ports: 5,
        }
    }
}

/// Collects terminal output.
#[derive(Default)]
pub struct Capture(pub Vec<u8>);

impl Terminal for Capture {
    fn write(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

/// The banner printed when the simulator starts.
pub fn banner(options: &SimOptions) -> String {
    format!(
        "mgmt simulator: a modelled board with {} ports (ether1..ether{}) and 256MiB for guests.\r\n\
         Guests follow a documented model (sim/README.md); they are not virtual machines.\r\n\r\n",
        options.ports, options.ports
    )
}

/// A running simulation.
pub struct Sim {
    pub board: SimBoard,
    pub shell: Shell,
    options: SimOptions,
    pub out: Capture,
    /// Shut down, or the session ended.
    pub finished: bool,
    /// Virtual time that passes after each replayed line (default [`LINE_MS`]).
    pub line_ms: u64,
}

impl Sim {
    /// Boots the simulated board with an erased flash.
    pub fn new(options: SimOptions) -> Sim {
        Sim::with_board(options, SimBoard::new(options.ports))
    }

    /// Boots a given board (e.g. with a flash image).
    pub fn with_board(options: SimOptions, mut board: SimBoard) -> Sim {
        let mut out = Capture::default();
        out.write(banner(&options).as_bytes());
        let shell = Shell::new(&mut board, shell_options(&options));
        let mut sim = Sim {
            board,
            shell,
            options,
            out,
            finished: false,
            line_ms: LINE_MS,
        };
        sim.shell.poll(&mut sim.board, &mut sim.out);
        sim
    }

    /// Gives input to the shell.
    pub fn input(&mut self, bytes: &[u8]) {
        if self.finished {
            return;
        }
        self.shell.input(bytes, &mut self.board, &mut self.out);
        self.after();
    }

    /// Lets `ms` of virtual time pass.
    pub fn advance(&mut self, ms: u64) {
        let steps = ms.div_ceil(STEP_MS);
        for _ in 0..steps {
            if self.finished {
                return;
            }
            self.board.now += STEP_MS;
            self.step();
        }
    }

    /// One poll at the current time.
    pub fn step(&mut self) {
        self.board.tick();
        self.shell.poll(&mut self.board, &mut self.out);
        self.after();
    }

    /// Advances time until the shell takes input again.
    pub fn wait_idle(&mut self) {
        let mut waited = 0;
        while self.shell.is_busy() && !self.finished && waited < BUSY_LIMIT_MS {
            self.advance(STEP_MS);
            waited += STEP_MS;
        }
    }

    /// Replays one line (or chunk) of input under the replay time model.
    pub fn replay_line(&mut self, bytes: &[u8]) {
        self.wait_idle();
        self.input(bytes);
        self.advance(self.line_ms);
        self.wait_idle();
    }

    fn after(&mut self) {
        if self.board.shutdown_requested {
            self.out.write(b"\r\nsystem is powered off\r\n");
            self.finished = true;
        } else if self.board.reboot_requested {
            self.out.write(b"\r\nRebooting...\r\n");
            self.board.power_cycle();
            self.out.write(banner(&self.options).as_bytes());
            self.shell = Shell::new(&mut self.board, shell_options(&self.options));
            self.shell.poll(&mut self.board, &mut self.out);
        } else if self.shell.ended() {
            self.finished = true;
        }
    }
}

fn shell_options(options: &SimOptions) -> ShellOptions {
    ShellOptions {
        login: options.login,
        width: 80,
    }
}

/// Splits raw input into lines, each with its terminator (CR, LF or CRLF).
pub fn split_lines(input: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'\r' || input[i] == b'\n' {
            let mut end = i + 1;
            if input[i] == b'\r' && input.get(i + 1) == Some(&b'\n') {
                end += 1;
            }
            out.push(&input[start..end]);
            start = end;
            i = end;
        } else {
            i += 1;
        }
    }
    if start < input.len() {
        out.push(&input[start..]);
    }
    out
}

/// Replays raw input (as `sim` does with piped stdin) and returns everything written.
pub fn replay(input: &[u8], options: SimOptions) -> Vec<u8> {
    let mut sim = Sim::new(options);
    for line in split_lines(input) {
        if sim.finished {
            break;
        }
        sim.replay_line(line);
    }
    sim.out.0
}
