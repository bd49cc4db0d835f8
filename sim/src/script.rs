//! Test scripts (`sim/tests/golden/*.in`): one input line per file line, sent with CR like a
//! terminal does. Keys that cannot be typed into a file are written in braces: `{C-a}` `{C-c}`
//! `{C-d}` `{TAB}` `{ESC}` `{BEL}` `{UP}` `{DOWN}` `{LEFT}` `{RIGHT}` `{HOME}` `{END}` `{DEL}` `{BS}` `{CR}`
//! `{LF}`. A line ending in `{NOCR}` is sent without CR. A line `{WAIT n}` lets n ms pass, `{PACE n}`
//! makes n ms pass after each following line (default 1000). A first
//! line `#! --login --ports N --seed S --no-guests --routing-memory BYTES` gives the simulator options and the board's
//! ([`BoardOptions`]).

use mgmt::PlatformError;

use crate::board::SimBoard;
use crate::driver::SimOptions;

/// Settings of the simulated board: `--seed S` (the source of the box's identity, default 0),
/// `--no-guests` (a board that refuses to start guests as not supported, as qemu-ppce500) and
/// `--routing-memory BYTES` (what the routing tables may take, which sizes the FIBs:
/// `mgmt::rib_limits`; default from the guest RAM, as on a real board).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BoardOptions {
    pub seed: u64,
    pub no_guests: bool,
    pub routing_memory: Option<u64>,
}

impl BoardOptions {
    /// Gives `board` these settings.
    pub fn apply(&self, board: &mut SimBoard) {
        board.entropy_seed = self.seed;
        board.refuse_start = self.no_guests.then_some(PlatformError::Unsupported);
        board.routing_memory = self.routing_memory;
    }
}

/// One step of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Input(Vec<u8>),
    Wait(u64),
    /// Virtual time after each following line.
    Pace(u64),
}

fn key(name: &str) -> Option<&'static [u8]> {
    Some(match name {
        "C-a" => b"\x01",
        "C-c" => b"\x03",
        "C-d" => b"\x04",
        "TAB" => b"\t",
        "ESC" => b"\x1b",
        "BEL" => b"\x07",
        "UP" => b"\x1b[A",
        "DOWN" => b"\x1b[B",
        "RIGHT" => b"\x1b[C",
        "LEFT" => b"\x1b[D",
        "HOME" => b"\x1b[H",
        "END" => b"\x1b[F",
        "DEL" => b"\x1b[3~",
        "BS" => b"\x7f",
        "CR" => b"\r",
        "LF" => b"\n",
        _ => return None,
    })
}

/// Parses simulator options from words like `--login --ports 3` (board options are checked and
/// left to [`parse_all`]).
pub fn parse_options<'a>(words: impl IntoIterator<Item = &'a str>) -> Result<SimOptions, String> {
    parse_all(words).map(|(options, _)| options)
}

/// Parses simulator and board options from words like `--login --ports 3 --seed 7`.
pub fn parse_all<'a>(
    words: impl IntoIterator<Item = &'a str>,
) -> Result<(SimOptions, BoardOptions), String> {
    let mut options = SimOptions::default();
    let mut board = BoardOptions::default();
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        match word {
            "--seed" => {
                let n = words.next().ok_or("--seed needs a number")?;
                board.seed = n.parse().map_err(|_| format!("bad seed {n}"))?;
            }
            "--no-guests" => board.no_guests = true,
            "--routing-memory" => {
                let n = words
                    .next()
                    .ok_or("--routing-memory needs a number of bytes")?;
                let bytes = n.parse().map_err(|_| format!("bad byte count {n}"))?;
                board.routing_memory = Some(bytes);
            }
            "--login" => options.login = true,
            "--ports" => {
                let n = words.next().ok_or("--ports needs a number")?;
                options.ports = n.parse().map_err(|_| format!("bad port count {n}"))?;
                if options.ports == 0 || options.ports > 64 {
                    return Err(String::from("--ports must be 1..64"));
                }
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok((options, board))
}

/// The board options of a script (its `#!` line).
pub fn parse_board(text: &str) -> Result<BoardOptions, String> {
    match text.lines().next().and_then(|l| l.strip_prefix("#!")) {
        Some(args) => parse_all(args.split_whitespace()).map(|(_, board)| board),
        None => Ok(BoardOptions::default()),
    }
}

/// Parses a script into options and events.
pub fn parse(text: &str) -> Result<(SimOptions, Vec<Event>), String> {
    let mut options = SimOptions::default();
    let mut events = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if number == 0 {
            if let Some(args) = line.strip_prefix("#!") {
                options = parse_options(args.split_whitespace())?;
                continue;
            }
        }
        if let Some(ms) = line
            .strip_prefix("{WAIT ")
            .and_then(|rest| rest.strip_suffix('}'))
        {
            events.push(Event::Wait(
                ms.trim()
                    .parse()
                    .map_err(|_| format!("line {}: bad wait", number + 1))?,
            ));
            continue;
        }
        if let Some(ms) = line
            .strip_prefix("{PACE ")
            .and_then(|rest| rest.strip_suffix('}'))
        {
            events.push(Event::Pace(
                ms.trim()
                    .parse()
                    .map_err(|_| format!("line {}: bad pace", number + 1))?,
            ));
            continue;
        }
        let (body, cr) = match line.strip_suffix("{NOCR}") {
            Some(body) => (body, false),
            None => (line, true),
        };
        let mut bytes = Vec::new();
        let mut rest = body;
        while let Some(open) = rest.find('{') {
            bytes.extend_from_slice(&rest.as_bytes()[..open]);
            let after = &rest[open + 1..];
            match after
                .find('}')
                .and_then(|close| key(&after[..close]).map(|k| (close, k)))
            {
                Some((close, k)) => {
                    bytes.extend_from_slice(k);
                    rest = &after[close + 1..];
                }
                None => {
                    bytes.push(b'{');
                    rest = after;
                }
            }
        }
        bytes.extend_from_slice(rest.as_bytes());
        if cr {
            bytes.push(b'\r');
        }
        events.push(Event::Input(bytes));
    }
    Ok((options, events))
}
