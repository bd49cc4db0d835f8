//! A console line editor: printable bytes are collected and echoed, backspace/DEL erases,
//! CR or LF ends the line (LF right after CR is ignored, so CRLF ends one line), Ctrl-C drops it.

/// What the caller should do after a byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Nothing to show.
    None,
    /// Echo this byte.
    Echo(u8),
    /// Erase the last character on the terminal (`"\x08 \x08"`).
    Erase,
    /// A line is complete: read it with [`LineEditor::line`], then call [`LineEditor::clear`].
    Line,
    /// Ctrl-C: the line was dropped (show `^C` and a new prompt).
    Cancel,
}

/// Line editor with a fixed buffer of `N` bytes (bytes past it are ignored).
#[derive(Clone, Debug)]
pub struct LineEditor<const N: usize> {
    buf: [u8; N],
    len: usize,
    after_cr: bool,
}

impl<const N: usize> Default for LineEditor<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> LineEditor<N> {
    /// An empty editor.
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
            after_cr: false,
        }
    }

    /// Feed one input byte.
    pub fn push(&mut self, byte: u8) -> Edit {
        let after_cr = core::mem::replace(&mut self.after_cr, byte == b'\r');
        match byte {
            b'\n' if after_cr => Edit::None,
            b'\r' | b'\n' => Edit::Line,
            0x08 | 0x7F if self.len > 0 => {
                self.len -= 1;
                Edit::Erase
            }
            0x03 => {
                self.len = 0;
                Edit::Cancel
            }
            0x20..=0x7E if self.len < N => {
                self.buf[self.len] = byte;
                self.len += 1;
                Edit::Echo(byte)
            }
            _ => Edit::None,
        }
    }

    /// The line collected so far, surrounding spaces trimmed.
    pub fn line(&self) -> &[u8] {
        self.buf[..self.len].trim_ascii()
    }

    /// Start a new line.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed<const N: usize>(e: &mut LineEditor<N>, s: &[u8]) -> [usize; 5] {
        let mut counts = [0; 5];
        for &b in s {
            let i = match e.push(b) {
                Edit::None => 0,
                Edit::Echo(_) => 1,
                Edit::Erase => 2,
                Edit::Line => 3,
                Edit::Cancel => 4,
            };
            counts[i] += 1;
        }
        counts
    }

    #[test]
    fn typing_erasing_and_line_ends() {
        let mut e = LineEditor::<16>::new();
        assert_eq!(feed(&mut e, b" helo\x7Flo \r\n"), [1, 8, 1, 1, 0]);
        assert_eq!(e.line(), b"hello");
        e.clear();
        assert_eq!(
            feed(&mut e, b"\x08\x1b\n"),
            [2, 0, 0, 1, 0],
            "erase on an empty line and escape do nothing"
        );
        assert_eq!(e.line(), b"");
        e.clear();
        assert_eq!(feed(&mut e, b"ab\x03"), [0, 2, 0, 0, 1]);
        assert_eq!(e.line(), b"");
        let mut small = LineEditor::<3>::new();
        assert_eq!(feed(&mut small, b"abcdef\n"), [3, 3, 0, 1, 0]);
        assert_eq!(small.line(), b"abc");
    }
}
