//! Escape sequences in console input (ECMA-48, as VT100-style terminals send them), recognised
//! byte by byte so that a sequence never leaves junk on the command line, whether or not the
//! editor knows it:
//!
//! - CSI: `ESC [`, parameter bytes 0x30..=0x3F, intermediate bytes 0x20..=0x2F, one final byte
//!   0x40..=0x7E (arrows `ESC [ A`, `ESC [ 3 ~`, `ESC [ 1 ; 5 C`, bracketed paste `ESC [ 200 ~`,
//!   terminal reports `ESC [ ? 1 ; 2 c`). Any number of parameter bytes is consumed; the first
//!   [`MAX_PARAMS`] are kept. A parameter byte after an intermediate makes the sequence
//!   malformed: it is consumed up to its final byte and means nothing.
//! - SS3: `ESC O` and one byte (application-mode cursor keys `ESC O A`, function keys).
//! - Control strings: OSC `ESC ]`, DCS `ESC P`, SOS `ESC X`, PM `ESC ^`, APC `ESC _`, up to
//!   their terminator BEL or ST (`ESC \`) (a window title `ESC ] 0 ; title BEL`).
//! - Other escape sequences: `ESC`, intermediates 0x20..=0x2F, a final byte 0x30..=0x7E
//!   (`ESC 7`, `ESC ( B`, and Alt+key, which terminals send as `ESC key`).
//!
//! Inside any sequence, CAN (0x18) and SUB (0x1A) cancel it and ESC starts a new one. Any other
//! C0 control ends the sequence and is then handled as typed, so Enter and Ctrl-C always work
//! even after a stray `ESC ]` (a deviation from ECMA-48, where a control string may contain CR
//! or LF; window titles do not).
//!
//! Input is taken as bytes: the 8-bit C1 forms (0x9B for CSI, 0x9D OSC, 0x8F SS3) are not
//! recognised, because terminals today send UTF-8, in which those values are continuation bytes
//! of ordinary characters. The editor ignores bytes 0x80..=0xFF.

/// Parameter bytes of a CSI kept for its meaning (more are consumed and make it unknown).
pub const MAX_PARAMS: usize = 16;

const ESC: u8 = 0x1B;
const CAN: u8 = 0x18;
const SUB: u8 = 0x1A;
const BEL: u8 = 0x07;

/// A complete sequence the editor may act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sequence {
    /// `ESC [ params final` without intermediate bytes.
    Csi { params: Params, final_byte: u8 },
    /// `ESC O byte`.
    Ss3(u8),
}

/// The parameter bytes of a CSI (the first [`MAX_PARAMS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    bytes: [u8; MAX_PARAMS],
    len: usize,
    /// More than [`MAX_PARAMS`] bytes came.
    overflow: bool,
}

impl Params {
    const fn new() -> Params {
        Params {
            bytes: [0; MAX_PARAMS],
            len: 0,
            overflow: false,
        }
    }

    fn push(&mut self, byte: u8) {
        if self.len < MAX_PARAMS {
            self.bytes[self.len] = byte;
            self.len += 1;
        } else {
            self.overflow = true;
        }
    }

    /// The first parameter as a number (`3` in `3;5`), if it is a plain number that fits; `None`
    /// when it is absent, private (`?1`), or too long.
    pub fn first(&self) -> Option<u32> {
        if self.overflow {
            return None;
        }
        let first = self.bytes[..self.len].split(|&b| b == b';').next()?;
        if first.is_empty() || first.len() > 9 || !first.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(first.iter().fold(0, |n, &d| n * 10 + u32::from(d - b'0')))
    }
}

/// What one input byte turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feed {
    /// Not part of a sequence: handle it as typed.
    Byte(u8),
    /// Part of a sequence (incomplete, or complete with nothing to act on).
    Consumed,
    /// The last byte of a sequence the editor may act on.
    Sequence(Sequence),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Ground,
    Escape,
    EscapeIntermediate,
    CsiParam,
    CsiIntermediate,
    CsiIgnore,
    Ss3,
    ControlString,
}

/// The escape-sequence recogniser of one input stream.
#[derive(Clone, Debug)]
pub struct EscapeParser {
    state: State,
    params: Params,
}

impl Default for EscapeParser {
    fn default() -> EscapeParser {
        EscapeParser::new()
    }
}

impl EscapeParser {
    pub const fn new() -> EscapeParser {
        EscapeParser {
            state: State::Ground,
            params: Params::new(),
        }
    }

    /// Forget a sequence in progress.
    pub fn reset(&mut self) {
        self.state = State::Ground;
    }

    /// Take one input byte.
    pub fn feed(&mut self, byte: u8) -> Feed {
        if self.state == State::Ground {
            if byte == ESC {
                self.state = State::Escape;
                return Feed::Consumed;
            }
            return Feed::Byte(byte);
        }
        // Controls inside a sequence.
        match byte {
            ESC => {
                self.state = State::Escape;
                return Feed::Consumed;
            }
            CAN | SUB => {
                self.state = State::Ground;
                return Feed::Consumed;
            }
            BEL if self.state == State::ControlString => {
                self.state = State::Ground;
                return Feed::Consumed;
            }
            0x00..=0x1F => {
                self.state = State::Ground;
                return Feed::Byte(byte);
            }
            0x80..=0xFF => {
                // Not part of any 7-bit sequence: the sequence is broken; the editor ignores
                // these bytes anyway.
                self.state = State::Ground;
                return Feed::Consumed;
            }
            _ => {}
        }
        let (next, feed) = match (self.state, byte) {
            (State::Escape, b'[') => {
                self.params = Params::new();
                (State::CsiParam, Feed::Consumed)
            }
            (State::Escape, b'O') => (State::Ss3, Feed::Consumed),
            (State::Escape, b']' | b'P' | b'X' | b'^' | b'_') => {
                (State::ControlString, Feed::Consumed)
            }
            (State::Escape | State::EscapeIntermediate, 0x20..=0x2F) => {
                (State::EscapeIntermediate, Feed::Consumed)
            }
            // A final byte (ESC 7, ESC \ which ends a control string, Alt+key), or DEL
            // (Alt+Backspace).
            (State::Escape | State::EscapeIntermediate, _) => (State::Ground, Feed::Consumed),
            (State::CsiParam, 0x30..=0x3F) => {
                self.params.push(byte);
                (State::CsiParam, Feed::Consumed)
            }
            (State::CsiParam | State::CsiIntermediate, 0x20..=0x2F) => {
                (State::CsiIntermediate, Feed::Consumed)
            }
            (State::CsiParam, 0x40..=0x7E) => (
                State::Ground,
                Feed::Sequence(Sequence::Csi {
                    params: self.params,
                    final_byte: byte,
                }),
            ),
            (State::CsiIntermediate | State::CsiIgnore, 0x40..=0x7E) => {
                (State::Ground, Feed::Consumed)
            }
            (State::CsiIntermediate | State::CsiIgnore, 0x30..=0x3F) => {
                (State::CsiIgnore, Feed::Consumed)
            }
            (State::CsiIgnore, 0x20..=0x2F) => (State::CsiIgnore, Feed::Consumed),
            // DEL inside a CSI is ignored.
            (State::CsiParam | State::CsiIntermediate | State::CsiIgnore, _) => {
                (self.state, Feed::Consumed)
            }
            (State::Ss3, 0x40..=0x7E) => (State::Ground, Feed::Sequence(Sequence::Ss3(byte))),
            (State::Ss3, _) => (State::Ground, Feed::Consumed),
            (State::ControlString, _) => (State::ControlString, Feed::Consumed),
            (State::Ground, _) => (State::Ground, Feed::Byte(byte)),
        };
        self.state = next;
        feed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// The bytes handled as typed, and the sequences recognised.
    fn run(input: &[u8]) -> (Vec<u8>, Vec<Sequence>) {
        let mut parser = EscapeParser::new();
        let (mut typed, mut sequences) = (Vec::new(), Vec::new());
        for &b in input {
            match parser.feed(b) {
                Feed::Byte(b) => typed.push(b),
                Feed::Consumed => {}
                Feed::Sequence(s) => sequences.push(s),
            }
        }
        (typed, sequences)
    }

    fn csi(input: &[u8]) -> (u8, Option<u32>) {
        match run(input).1.as_slice() {
            [Sequence::Csi { params, final_byte }] => (*final_byte, params.first()),
            other => panic!("{input:?}: {other:?}"),
        }
    }

    #[test]
    fn keys() {
        assert_eq!(csi(b"\x1b[A"), (b'A', None));
        assert_eq!(csi(b"\x1b[3~"), (b'~', Some(3)));
        assert_eq!(csi(b"\x1b[1;5C"), (b'C', Some(1)));
        assert_eq!(csi(b"\x1b[?1;2c"), (b'c', None));
        assert_eq!(run(b"\x1bOH").1, [Sequence::Ss3(b'H')]);
    }

    #[test]
    fn every_well_formed_sequence_is_consumed_whole() {
        for input in [
            &b"\x1b[999999999999999999A"[..],
            b"\x1b[999999999999999999;999999999999999999;1~",
            b"\x1b]0;window title\x07",
            b"\x1b]2;title with ; and [brackets]\x1b\\",
            b"\x1bP1$r0m\x1b\\",
            b"\x1b_application\x1b\\",
            b"\x1b[200~",
            b"\x1b[1 q",
            b"\x1b[12$p",
            b"\x1b7",
            b"\x1b(B",
            b"\x1bb",
            b"\x1bOP",
            b"\x1b\x1b[A",
        ] {
            let (typed, _) = run(&[b"ab", input, b"cd"].concat());
            assert_eq!(
                typed,
                b"abcd",
                "{:?}",
                alloc::string::String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn huge_parameters_are_not_a_number() {
        assert_eq!(csi(b"\x1b[999999999999999999A"), (b'A', None));
        assert_eq!(csi(b"\x1b[4294967296~"), (b'~', None));
    }

    #[test]
    fn malformed_csi_is_consumed_and_means_nothing() {
        // A parameter byte after an intermediate.
        assert_eq!(run(b"a\x1b[1 2Ab"), (b"ab".to_vec(), Vec::new()));
    }

    #[test]
    fn controls_end_a_sequence_and_are_handled() {
        // A stray OSC never swallows Enter.
        assert_eq!(run(b"\x1b]0;unfinished\rx").0, b"\rx");
        assert_eq!(run(b"\x1b[12\x03x").0, b"\x03x");
        // CAN and SUB cancel silently; ESC restarts.
        assert_eq!(run(b"\x1b[12\x18x").0, b"x");
        assert_eq!(run(b"\x1b]0;t\x1a").0, b"");
        assert_eq!(run(b"\x1b[12\x1b[B").1.len(), 1);
    }

    #[test]
    fn eight_bit_bytes_are_not_c1_controls() {
        // 0x9B is not CSI: it is handed on (the editor ignores it) and `A` stays text.
        assert_eq!(run(b"\x9bA").0, b"\x9bA");
    }
}
