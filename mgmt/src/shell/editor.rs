//! Line editing on a VT100 terminal: insert and delete anywhere on the line, cursor keys,
//! Home/End, history (up/down), and the keys the shell handles itself (Enter, Tab, `?`, Ctrl-C,
//! Ctrl-D). The editor writes its own echo; the shell writes prompts and command output.
//!
//! Lines hold up to [`MAX_LINE`] characters. Characters typed beyond it are not kept (one beep
//! says so) and Enter then refuses the whole line ([`Key::TooLong`]): a line is never cut and
//! executed. Backspace takes the excess characters off first; Ctrl-C, Ctrl-K or a history
//! step start over.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::escape::{EscapeParser, Feed, Sequence};

/// Most lines kept in the history.
const HISTORY: usize = 64;
/// Longest line accepted, in characters (exported scripts have long lines: a route with a long
/// comment, a long list). A longer line is refused whole when Enter is pressed
/// ([`Key::TooLong`]); it is never cut and run.
pub const MAX_LINE: usize = 32 * 1024;

/// What a key did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    /// Nothing for the shell to do.
    None,
    /// Enter: the line.
    Submit(String),
    /// Tab: complete the word before the cursor.
    Complete,
    /// `?` outside quotes: show what can follow.
    Help,
    /// Ctrl-C: the line was dropped.
    Cancel,
    /// Ctrl-D on an empty line.
    EndOfInput,
    /// Enter on a line longer than [`MAX_LINE`] (it had this many characters): the line was
    /// dropped, not submitted.
    TooLong(usize),
}

/// The line being edited.
pub struct Editor {
    line: Vec<char>,
    cursor: usize,
    history: Vec<String>,
    /// Position while browsing history (index into `history`), and the line being edited.
    browsing: Option<(usize, Vec<char>)>,
    escape: EscapeParser,
    /// Characters typed beyond [`MAX_LINE`] (not kept: the line will be refused).
    excess: usize,
    /// Echo typed characters (off for passwords).
    pub echo: bool,
    /// Keep lines in the history (off for login).
    pub remember: bool,
}

fn left(out: &mut Vec<u8>, n: usize) {
    if n > 0 {
        out.extend_from_slice(format!("\x1b[{n}D").as_bytes());
    }
}

impl Default for Editor {
    fn default() -> Editor {
        Editor::new()
    }
}

impl Editor {
    pub fn new() -> Editor {
        Editor {
            line: Vec::new(),
            cursor: 0,
            history: Vec::new(),
            browsing: None,
            escape: EscapeParser::new(),
            excess: 0,
            echo: true,
            remember: true,
        }
    }

    /// The text before the cursor.
    pub fn before_cursor(&self) -> String {
        self.line[..self.cursor].iter().collect()
    }

    /// The whole line.
    pub fn text(&self) -> String {
        self.line.iter().collect()
    }

    /// Clears the line (no output).
    pub fn clear(&mut self) {
        self.line.clear();
        self.cursor = 0;
        self.browsing = None;
        self.escape.reset();
        self.excess = 0;
    }

    /// Writes the line and puts the cursor where it belongs (after a prompt was written).
    pub fn redraw(&self, out: &mut Vec<u8>) {
        if !self.echo {
            return;
        }
        out.extend(self.line.iter().map(|&c| c as u8));
        left(out, self.line.len() - self.cursor);
    }

    /// Inserts text at the cursor (completion).
    pub fn insert(&mut self, text: &str, out: &mut Vec<u8>) {
        for c in text.chars() {
            self.insert_char(c, out);
        }
    }

    fn insert_char(&mut self, c: char, out: &mut Vec<u8>) {
        if self.line.len() >= MAX_LINE {
            // The line is too long and will be refused: say so once, keep only the count.
            if self.excess == 0 {
                out.push(0x07);
            }
            self.excess += 1;
            return;
        }
        self.line.insert(self.cursor, c);
        self.cursor += 1;
        if self.echo {
            out.push(c as u8);
            if self.cursor < self.line.len() {
                self.redraw_tail(out);
            }
        }
    }

    /// Rewrites from the cursor to the end of the line and returns the cursor.
    fn redraw_tail(&self, out: &mut Vec<u8>) {
        out.extend(self.line[self.cursor..].iter().map(|&c| c as u8));
        out.extend_from_slice(b"\x1b[K");
        left(out, self.line.len() - self.cursor);
    }

    fn move_to(&mut self, pos: usize, out: &mut Vec<u8>) {
        if self.echo {
            if pos < self.cursor {
                left(out, self.cursor - pos);
            } else if pos > self.cursor {
                out.extend_from_slice(format!("\x1b[{}C", pos - self.cursor).as_bytes());
            }
        }
        self.cursor = pos;
    }

    fn replace_line(&mut self, new: Vec<char>, out: &mut Vec<u8>) {
        self.move_to(0, out);
        self.excess = 0;
        self.line = new;
        self.cursor = 0;
        if self.echo {
            self.redraw_tail(out);
        }
        let end = self.line.len();
        self.move_to(end, out);
    }

    fn backspace(&mut self, out: &mut Vec<u8>) {
        if self.excess > 0 {
            // The characters past the limit come off first (they were typed last).
            self.excess -= 1;
            return;
        }
        if self.cursor == 0 {
            return;
        }
        self.move_to(self.cursor - 1, out);
        self.delete(out);
    }

    fn delete(&mut self, out: &mut Vec<u8>) {
        if self.cursor < self.line.len() {
            self.line.remove(self.cursor);
            if self.echo {
                self.redraw_tail(out);
            }
        }
    }

    fn history_step(&mut self, back: bool, out: &mut Vec<u8>) {
        let current = match &self.browsing {
            Some((index, _)) => *index,
            None => self.history.len(),
        };
        let target = if back {
            if current == 0 {
                return;
            }
            current - 1
        } else {
            if current >= self.history.len() {
                return;
            }
            current + 1
        };
        if self.browsing.is_none() {
            self.browsing = Some((current, self.line.clone()));
        }
        let new: Vec<char> = if target == self.history.len() {
            self.browsing
                .take()
                .map(|(_, saved)| saved)
                .unwrap_or_default()
        } else {
            self.browsing = self.browsing.take().map(|(_, saved)| (target, saved));
            self.history[target].chars().collect()
        };
        self.replace_line(new, out);
    }

    fn in_quotes(&self) -> bool {
        let mut inside = false;
        let mut escaped = false;
        for &c in &self.line[..self.cursor] {
            if escaped {
                escaped = false;
            } else if c == '\\' && inside {
                escaped = true;
            } else if c == '"' {
                inside = !inside;
            }
        }
        inside
    }

    fn submit(&mut self) -> Key {
        if self.excess > 0 {
            let length = self.line.len() + self.excess;
            self.clear();
            return Key::TooLong(length);
        }
        let text = self.text();
        if self.remember && !text.trim().is_empty() && self.history.last() != Some(&text) {
            if self.history.len() == HISTORY {
                self.history.remove(0);
            }
            self.history.push(text.clone());
        }
        self.clear();
        Key::Submit(text)
    }

    /// Handles one input byte; echo and cursor movement go to `out`.
    pub fn feed(&mut self, byte: u8, out: &mut Vec<u8>) -> Key {
        let byte = match self.escape.feed(byte) {
            Feed::Byte(byte) => byte,
            Feed::Consumed => return Key::None,
            Feed::Sequence(sequence) => {
                self.sequence(sequence, out);
                return Key::None;
            }
        };
        match byte {
            b'\r' | b'\n' => return self.submit(),
            b'\t' => return Key::Complete,
            b'?' if !self.in_quotes() => return Key::Help,
            0x03 => {
                self.clear();
                return Key::Cancel;
            }
            0x04 if self.line.is_empty() => return Key::EndOfInput,
            0x04 => self.delete(out),
            0x08 | 0x7F => self.backspace(out),
            0x01 => self.move_to(0, out),
            0x05 => self.move_to(self.line.len(), out),
            0x02 => self.cursor_key(b'D', out),
            0x06 => self.cursor_key(b'C', out),
            0x10 => self.history_step(true, out),
            0x0E => self.history_step(false, out),
            0x0B => {
                self.line.truncate(self.cursor);
                self.excess = 0;
                if self.echo {
                    out.extend_from_slice(b"\x1b[K");
                }
            }
            0x15 => {
                let rest = self.line.split_off(self.cursor);
                self.replace_line(rest, out);
                self.move_to(0, out);
            }
            0x20..=0x7E => self.insert_char(byte as char, out),
            _ => {}
        }
        Key::None
    }

    /// The keys among the escape sequences (any other sequence does nothing): arrows, Home and
    /// End (`ESC [ A..D`, `H`, `F`, with or without modifier parameters, and their SS3 forms),
    /// `ESC [ 1 ~` / `7 ~` Home, `4 ~` / `8 ~` End, `3 ~` Delete.
    fn sequence(&mut self, sequence: Sequence, out: &mut Vec<u8>) {
        match sequence {
            Sequence::Csi {
                params,
                final_byte: b'~',
            } => match params.first() {
                Some(1 | 7) => self.move_to(0, out),
                Some(4 | 8) => self.move_to(self.line.len(), out),
                Some(3) => self.delete(out),
                _ => {}
            },
            Sequence::Csi { final_byte, .. } | Sequence::Ss3(final_byte) => {
                self.cursor_key(final_byte, out)
            }
        }
    }

    fn cursor_key(&mut self, key: u8, out: &mut Vec<u8>) {
        match key {
            b'A' => self.history_step(true, out),
            b'B' => self.history_step(false, out),
            b'C' if self.cursor < self.line.len() => self.move_to(self.cursor + 1, out),
            b'D' if self.cursor > 0 => self.move_to(self.cursor - 1, out),
            b'H' => self.move_to(0, out),
            b'F' => self.move_to(self.line.len(), out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn type_bytes(editor: &mut Editor, bytes: &[u8]) -> (Vec<Key>, Vec<u8>) {
        let mut out = Vec::new();
        let keys = bytes
            .iter()
            .map(|&b| editor.feed(b, &mut out))
            .filter(|k| *k != Key::None)
            .collect();
        (keys, out)
    }

    #[test]
    fn edits_in_the_middle() {
        let mut e = Editor::new();
        let (keys, _) = type_bytes(&mut e, b"pint\x1b[D\x1b[D\x1b[Dr\x1b[F x\x7f\r");
        assert_eq!(keys, alloc::vec![Key::Submit(String::from("print "))]);
    }

    #[test]
    fn history_and_home() {
        let mut e = Editor::new();
        type_bytes(&mut e, b"one\rtwo\r");
        let (keys, _) = type_bytes(&mut e, b"\x1b[A\x1b[A\x1b[B\r");
        assert_eq!(keys, alloc::vec![Key::Submit(String::from("two"))]);
        let (keys, _) = type_bytes(&mut e, b"x\x1b[A\x1b[B\r");
        assert_eq!(keys, alloc::vec![Key::Submit(String::from("x"))]);
        let (keys, _) = type_bytes(&mut e, b"bc\x1b[1~a\x1b[3~\r");
        assert_eq!(keys, alloc::vec![Key::Submit(String::from("ac"))]);
    }

    #[test]
    fn question_mark_in_quotes_is_text() {
        let mut e = Editor::new();
        let (keys, _) = type_bytes(&mut e, b"comment=\"why?\"?");
        assert_eq!(keys, alloc::vec![Key::Help]);
        assert_eq!(e.text(), "comment=\"why?\"");
    }

    #[test]
    fn long_lines_are_kept_whole() {
        let mut e = Editor::new();
        let line = "x".repeat(20_000);
        let (keys, out) = type_bytes(&mut e, alloc::format!("{line}\r").as_bytes());
        assert_eq!(keys, alloc::vec![Key::Submit(line)]);
        assert!(!out.contains(&0x07), "no beep");
    }

    #[test]
    fn a_line_past_the_limit_is_refused_whole() {
        let mut e = Editor::new();
        let line = "y".repeat(MAX_LINE + 5);
        let (keys, out) = type_bytes(&mut e, alloc::format!("{line}\r").as_bytes());
        assert_eq!(keys, alloc::vec![Key::TooLong(MAX_LINE + 5)]);
        assert_eq!(out.iter().filter(|&&b| b == 0x07).count(), 1, "one beep");
        assert_eq!(e.text(), "");
        // Nothing of it is left over, and it is not in the history.
        let (keys, _) = type_bytes(&mut e, b"ok\r\x1b[A\x1b[A\r");
        assert_eq!(
            keys,
            alloc::vec![
                Key::Submit(String::from("ok")),
                Key::Submit(String::from("ok"))
            ]
        );
        // Backspace takes the excess off first: back at the limit, the line is accepted.
        let line = "z".repeat(MAX_LINE + 2);
        let (keys, _) = type_bytes(&mut e, alloc::format!("{line}\x7f\x7f\r").as_bytes());
        assert_eq!(keys, alloc::vec![Key::Submit("z".repeat(MAX_LINE))]);
    }

    #[test]
    fn unknown_escape_sequences_leave_nothing_on_the_line() {
        let mut e = Editor::new();
        let (keys, _) = type_bytes(
            &mut e,
            b"ab\x1b[999999999999999999A\x1b]0;title\x07c\x1b]2;t\x1b\\\x1b[200~d\x1b[?1;2c\x1bOP\x1b7e\r",
        );
        assert_eq!(keys, alloc::vec![Key::Submit(String::from("abcde"))]);
    }

    #[test]
    fn known_keys_with_modifiers_and_ss3() {
        let mut e = Editor::new();
        // Ctrl-Left (ESC [ 1 ; 5 D), application-mode Home (ESC O H), Ctrl-Delete (ESC [ 3 ; 5 ~).
        let (keys, _) = type_bytes(&mut e, b"bcd\x1b[1;5D\x1bOHa\x1b[3;5~\r");
        assert_eq!(keys, alloc::vec![Key::Submit(String::from("acd"))]);
        // Enter ends a stray OSC and still submits.
        let (keys, _) = type_bytes(&mut e, b"x\x1b]0;never ends\r");
        assert_eq!(keys, alloc::vec![Key::Submit(String::from("x"))]);
    }

    #[test]
    fn control_keys() {
        let mut e = Editor::new();
        assert_eq!(type_bytes(&mut e, b"\x04").0, alloc::vec![Key::EndOfInput]);
        assert_eq!(type_bytes(&mut e, b"abc\x03").0, alloc::vec![Key::Cancel]);
        assert_eq!(e.text(), "");
        type_bytes(&mut e, b"abcdef\x1b[D\x1b[D\x0b");
        assert_eq!(e.text(), "abcd");
        type_bytes(&mut e, b"\x1b[D\x15");
        assert_eq!(e.text(), "d");
    }
}
