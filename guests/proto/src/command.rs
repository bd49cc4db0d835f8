//! Splitting a console line into a command word and its arguments.

/// A command line: the first word and the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command<'a> {
    /// The command word (empty for an empty line).
    pub name: &'a [u8],
    /// Everything after the command word, trimmed.
    pub rest: &'a [u8],
}

impl<'a> Command<'a> {
    /// Split `line` at its first run of spaces.
    pub fn parse(line: &'a [u8]) -> Self {
        let line = line.trim_ascii();
        match line.iter().position(|b| b.is_ascii_whitespace()) {
            Some(p) => Self {
                name: &line[..p],
                rest: line[p..].trim_ascii(),
            },
            None => Self {
                name: line,
                rest: &[],
            },
        }
    }

    /// The arguments as words.
    pub fn args(&self) -> impl Iterator<Item = &'a [u8]> {
        self.rest
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits() {
        let c = Command::parse(b"  ping   10.0.0.1  4 ");
        assert_eq!((c.name, c.rest), (&b"ping"[..], &b"10.0.0.1  4"[..]));
        assert_eq!(c.args().count(), 2);
        let e = Command::parse(b"   ");
        assert_eq!((e.name, e.rest), (&b""[..], &b""[..]));
        assert_eq!(Command::parse(b"help").name, b"help");
    }
}
