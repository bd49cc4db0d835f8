//! POSIX extended regular expressions, as `where prop~"regex"` and `find prop~"regex"` use them:
//! true when the regex matches anywhere in the value (anchor with `^` and `$`).
//!
//! The subset of POSIX ERE (IEEE 1003.1, "Extended Regular Expressions") understood here:
//! literals; `.`; bracket expressions `[abc]`, `[^a-z]`, `[]x]`, with the classes `[:alpha:]`,
//! `[:digit:]`, `[:alnum:]`, `[:upper:]`, `[:lower:]`, `[:space:]`, `[:blank:]`, `[:punct:]`,
//! `[:xdigit:]`, `[:cntrl:]`, `[:print:]`, `[:graph:]`; anchors `^` and `$`; groups `( )`;
//! alternation `|`; repetition `*`, `+`, `?`, `{m}`, `{m,}`, `{m,n}` (m, n at most 255); `\c`
//! for a literal `c`. Not supported (refused as errors): collating elements `[.x.]` and
//! equivalence classes `[=x=]`; back-references do not exist in ERE. Matching is case-sensitive.
//!
//! The pattern is compiled to a small Thompson NFA and run as a Pike VM: time linear in the value
//! length times the program size, no backtracking, so no pattern can make a `print` hang. The
//! program is limited to [`MAX_PROGRAM`] instructions.

use alloc::vec::Vec;

mod compile;

use compile::{compile, Class, Inst};

/// Largest compiled program (instructions): bounds memory and time per value.
pub const MAX_PROGRAM: usize = 2048;

/// Why a pattern was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegexError {
    /// A `(` without `)` or a `)` without `(`.
    UnbalancedParenthesis,
    /// A `[` without its `]`.
    UnbalancedBracket,
    /// `[:name:]` with an unknown name, or `[.x.]`/`[=x=]`.
    BadClass,
    /// A range whose end comes before its start (`[z-a]`).
    BadRange,
    /// A repetition bound over 255 or with `m > n`.
    BadRepeat,
    /// `*`, `+`, `?` or `{` with nothing before it.
    NothingToRepeat,
    /// The pattern ends with `\`.
    TrailingBackslash,
    /// The compiled program would exceed [`MAX_PROGRAM`] instructions.
    TooLarge,
}

impl RegexError {
    /// The reason as printed in an error message.
    pub fn message(self) -> &'static str {
        match self {
            RegexError::UnbalancedParenthesis => "unbalanced parenthesis",
            RegexError::UnbalancedBracket => "unbalanced bracket",
            RegexError::BadClass => "unknown character class",
            RegexError::BadRange => "invalid range",
            RegexError::BadRepeat => "invalid repetition count",
            RegexError::NothingToRepeat => "repetition operator without operand",
            RegexError::TrailingBackslash => "trailing backslash",
            RegexError::TooLarge => "regular expression too large",
        }
    }
}

/// A compiled pattern.
#[derive(Clone, Debug)]
pub struct Regex {
    program: Vec<Inst>,
    classes: Vec<Class>,
}

impl Regex {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Regex, RegexError> {
        let (program, classes) = compile(pattern)?;
        Ok(Regex { program, classes })
    }

    /// Whether the pattern matches somewhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let mut current = Threads::new(self.program.len());
        let mut next = Threads::new(self.program.len());
        for at in 0..=chars.len() {
            // An unanchored search: a new thread starts at every position.
            if self.add(&mut current, 0, at, chars.len()) {
                return true;
            }
            let Some(&c) = chars.get(at) else { break };
            next.clear();
            for i in 0..current.list.len() {
                let pc = current.list[i];
                let step = match self.program[pc] {
                    Inst::Char(want) => want == c,
                    Inst::Any => true,
                    Inst::Class(k) => self.classes[k].contains(c),
                    _ => false,
                };
                if step && self.add(&mut next, pc + 1, at + 1, chars.len()) {
                    return true;
                }
            }
            core::mem::swap(&mut current, &mut next);
        }
        false
    }

    /// Adds the thread at `pc` and everything reachable without consuming a character; true
    /// when that reaches `Match`.
    fn add(&self, threads: &mut Threads, pc: usize, at: usize, len: usize) -> bool {
        let mut stack = alloc::vec![pc];
        while let Some(pc) = stack.pop() {
            if !threads.insert(pc) {
                continue;
            }
            match self.program[pc] {
                Inst::Match => return true,
                Inst::Jump(to) => stack.push(to),
                Inst::Split(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                Inst::LineStart if at == 0 => stack.push(pc + 1),
                Inst::LineEnd if at == len => stack.push(pc + 1),
                Inst::Char(_) | Inst::Any | Inst::Class(_) => threads.list.push(pc),
                Inst::LineStart | Inst::LineEnd => {}
            }
        }
        false
    }
}

/// The set of program counters alive at one position (sparse set: insertion order kept).
struct Threads {
    seen: Vec<bool>,
    visited: Vec<usize>,
    list: Vec<usize>,
}

impl Threads {
    fn new(size: usize) -> Threads {
        Threads {
            seen: alloc::vec![false; size],
            visited: Vec::new(),
            list: Vec::new(),
        }
    }

    fn insert(&mut self, pc: usize) -> bool {
        if self.seen[pc] {
            return false;
        }
        self.seen[pc] = true;
        self.visited.push(pc);
        true
    }

    fn clear(&mut self) {
        for &pc in &self.visited {
            self.seen[pc] = false;
        }
        self.visited.clear();
        self.list.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        Regex::new(pattern)
            .expect("pattern compiles")
            .is_match(text)
    }

    #[test]
    fn literals_search_anywhere() {
        assert!(m("b", "abc"));
        assert!(m("ether", "ether1"));
        assert!(!m("x", "abc"));
        assert!(m("", ""));
        assert!(m("", "anything"));
        assert!(m("a.c", "xabcx"));
        assert!(!m("a.c", "ac"));
        assert!(m("a\\.c", "a.c"));
        assert!(!m("a\\.c", "abc"));
    }

    #[test]
    fn anchors() {
        assert!(m("^eth", "ether1"));
        assert!(!m("^eth", "vether1"));
        assert!(m("1$", "ether1"));
        assert!(!m("1$", "ether12"));
        assert!(m("^$", ""));
        assert!(!m("^$", "a"));
        assert!(m("^(a|b)$", "b"));
        assert!(!m("^(a|b)$", "ab"));
        // The RouterOS manual's example: gateways ending with 202.
        assert!(m("^[0-9 \\.]*202$", "10.0.0.202"));
        assert!(!m("^[0-9 \\.]*202$", "10.0.0.2021"));
    }

    #[test]
    fn repetition() {
        assert!(m("^ab*c$", "ac"));
        assert!(m("^ab*c$", "abbbc"));
        assert!(!m("^ab+c$", "ac"));
        assert!(m("^ab+c$", "abc"));
        assert!(m("^ab?c$", "ac"));
        assert!(!m("^ab?c$", "abbc"));
        assert!(m("^a{2}$", "aa"));
        assert!(!m("^a{2}$", "aaa"));
        assert!(m("^a{2,}$", "aaaa"));
        assert!(!m("^a{2,}$", "a"));
        assert!(m("^a{1,3}$", "aaa"));
        assert!(!m("^a{1,3}$", "aaaa"));
        assert!(m("^(ab){2}$", "abab"));
        assert!(m("a{", "a{"));
        assert!(m("^x{,2}$", "x{,2}"));
        // Nested stars that can match empty do not loop.
        assert!(m("^(a*)*b$", "aaab"));
        assert!(!m("^(a*)*b$", "aaa"));
        assert!(m("^(a|)+$", "aaa"));
    }

    #[test]
    fn brackets() {
        assert!(m("^[abc]+$", "cab"));
        assert!(!m("^[abc]+$", "cad"));
        assert!(m("^[^0-9]+$", "abc"));
        assert!(!m("^[^0-9]+$", "ab1"));
        assert!(m("[]x]", "]"));
        assert!(m("^[a-]$", "-"));
        assert!(m("^[[:digit:]]+$", "2024"));
        assert!(m("^[[:alpha:][:digit:]_]+$", "vif_2"));
        assert!(!m("[[:upper:]]", "abc"));
        assert!(m("^[[:xdigit:]:]+$", "4C:5E:0C"));
        assert!(m("[[:space:]]", "a b"));
    }

    #[test]
    fn alternation() {
        assert!(m("mr0|mr1", "mr1"));
        assert!(!m("mr0|mr1", "mr2"));
        assert!(m("^(vif|ether)[0-9]$", "vif3"));
        assert!(m("^br(idge)?1$", "br1"));
        assert!(m("^br(idge)?1$", "bridge1"));
    }

    #[test]
    fn errors() {
        assert_eq!(
            Regex::new("(a").unwrap_err(),
            RegexError::UnbalancedParenthesis
        );
        assert_eq!(
            Regex::new("a)").unwrap_err(),
            RegexError::UnbalancedParenthesis
        );
        assert_eq!(
            Regex::new("[ab").unwrap_err(),
            RegexError::UnbalancedBracket
        );
        assert_eq!(Regex::new("[z-a]").unwrap_err(), RegexError::BadRange);
        assert_eq!(Regex::new("[[:nope:]]").unwrap_err(), RegexError::BadClass);
        assert_eq!(Regex::new("[[.a.]]").unwrap_err(), RegexError::BadClass);
        assert_eq!(Regex::new("*a").unwrap_err(), RegexError::NothingToRepeat);
        assert_eq!(Regex::new("a|+").unwrap_err(), RegexError::NothingToRepeat);
        assert_eq!(Regex::new("^*").unwrap_err(), RegexError::NothingToRepeat);
        assert_eq!(
            Regex::new("a\\").unwrap_err(),
            RegexError::TrailingBackslash
        );
        assert_eq!(Regex::new("a{3,2}").unwrap_err(), RegexError::BadRepeat);
        assert_eq!(Regex::new("a{256}").unwrap_err(), RegexError::BadRepeat);
        assert_eq!(
            Regex::new("(a{255}){255}").unwrap_err(),
            RegexError::TooLarge
        );
    }

    #[test]
    fn linear_time_on_a_pathological_pattern() {
        // Exponential for a backtracking matcher; a few thousand steps here.
        let pattern = "^(a|a)*(a|a)*(a|a)*b$";
        let text = "a".repeat(64);
        assert!(!m(pattern, &text));
    }
}
