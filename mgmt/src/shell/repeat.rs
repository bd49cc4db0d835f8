//! `print ... interval=`: the line runs again every interval and its output replaces the
//! previous one in place (cursor up over the lines printed, erase to the end of the screen),
//! under a last line `-- [any key quits]`. Any key ends it (an escape sequence is swallowed
//! whole) and the prompt returns; so does a run that fails (its error is shown).

use alloc::format;
use alloc::string::String;

use super::{Mode, Shell};
use crate::platform::Platform;

/// The line under repeated output.
pub const FOOTER: &str = "-- [any key quits]";

/// Terminal rows `text` takes at `width` columns (each line at least one).
fn rows_of(text: &str, width: usize) -> usize {
    text.lines()
        .map(|line| line.chars().count().div_ceil(width.max(1)).max(1))
        .sum()
}

impl Shell {
    /// Enters repeating mode after the first run of `line` printed `shown`.
    pub(super) fn start_repeat(
        &mut self,
        line: &str,
        every_ms: u64,
        shown: &str,
        platform: &dyn Platform,
    ) {
        self.say(FOOTER);
        self.mode = Mode::Repeating {
            line: String::from(line),
            every_ms,
            next_ms: platform.now_ms() + every_ms,
            rows: rows_of(shown, self.session.width),
        };
    }

    /// Runs the line again when its interval has passed.
    pub(super) fn poll_repeat(&mut self, platform: &mut dyn Platform) {
        let Mode::Repeating {
            line,
            every_ms,
            next_ms,
            rows,
        } = &self.mode
        else {
            return;
        };
        let now = platform.now_ms();
        if now < *next_ms {
            return;
        }
        let (line, every_ms, next_ms, rows) = (line.clone(), *every_ms, *next_ms, *rows);
        let erase = if rows > 0 {
            format!("\r\x1b[{rows}A\x1b[J")
        } else {
            String::from("\r\x1b[J")
        };
        match self.session.run(&line, &self.config, &self.rib, platform) {
            Ok(result) => {
                self.say(&erase);
                self.say(&result.out);
                self.say(FOOTER);
                self.mode = Mode::Repeating {
                    line,
                    every_ms,
                    // A late poll does not make runs pile up.
                    next_ms: (next_ms + every_ms).max(now),
                    rows: rows_of(&result.out, self.session.width),
                };
            }
            Err(error) => {
                self.say(&format!("\r\x1b[K{}\n", error.message()));
                self.mode = Mode::Command;
                self.prompt();
            }
        }
    }

    /// A key while repeating: back to the prompt. Returns whether the rest of the input chunk
    /// belongs to this key (an escape sequence).
    pub(super) fn repeat_key(&mut self, byte: u8) -> bool {
        self.say("\r\x1b[K");
        self.mode = Mode::Command;
        self.prompt();
        byte == 0x1B
    }
}

#[cfg(test)]
mod tests {
    use super::rows_of;

    #[test]
    fn rows_count_wrapped_lines() {
        assert_eq!(rows_of("a\nb\n", 80), 2);
        assert_eq!(rows_of(&"x".repeat(81), 80), 2);
        assert_eq!(rows_of("\n", 80), 1);
        assert_eq!(rows_of("", 80), 0);
    }
}
