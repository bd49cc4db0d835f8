//! Compiling a pattern: the POSIX ERE parser (to a small syntax tree) and the code generator
//! (Thompson construction: `Split`/`Jump` instructions, counted repetition unrolled, within
//! [`MAX_PROGRAM`] instructions).

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::{RegexError, MAX_PROGRAM};

/// Largest repetition count (POSIX `RE_DUP_MAX`).
const MAX_REPEAT: u32 = 255;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Named {
    Alpha,
    Digit,
    Alnum,
    Upper,
    Lower,
    Space,
    Blank,
    Punct,
    Xdigit,
    Cntrl,
    Print,
    Graph,
}

impl Named {
    fn from_name(name: &str) -> Option<Named> {
        Some(match name {
            "alpha" => Named::Alpha,
            "digit" => Named::Digit,
            "alnum" => Named::Alnum,
            "upper" => Named::Upper,
            "lower" => Named::Lower,
            "space" => Named::Space,
            "blank" => Named::Blank,
            "punct" => Named::Punct,
            "xdigit" => Named::Xdigit,
            "cntrl" => Named::Cntrl,
            "print" => Named::Print,
            "graph" => Named::Graph,
            _ => return None,
        })
    }

    fn contains(self, c: char) -> bool {
        match self {
            Named::Alpha => c.is_ascii_alphabetic(),
            Named::Digit => c.is_ascii_digit(),
            Named::Alnum => c.is_ascii_alphanumeric(),
            Named::Upper => c.is_ascii_uppercase(),
            Named::Lower => c.is_ascii_lowercase(),
            Named::Space => c.is_ascii_whitespace() || c == '\x0B',
            Named::Blank => c == ' ' || c == '\t',
            Named::Punct => c.is_ascii_punctuation(),
            Named::Xdigit => c.is_ascii_hexdigit(),
            Named::Cntrl => c.is_ascii_control(),
            Named::Print => c.is_ascii_graphic() || c == ' ',
            Named::Graph => c.is_ascii_graphic(),
        }
    }
}

/// A bracket expression.
#[derive(Clone, Debug, Default)]
pub(super) struct Class {
    negated: bool,
    ranges: Vec<(char, char)>,
    named: Vec<Named>,
}

impl Class {
    pub(super) fn contains(&self, c: char) -> bool {
        let inside = self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi)
            || self.named.iter().any(|n| n.contains(c));
        inside != self.negated
    }
}

#[derive(Clone, Debug)]
enum Node {
    Empty,
    Char(char),
    Any,
    Class(usize),
    LineStart,
    LineEnd,
    Concat(Vec<Node>),
    Alternate(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Inst {
    Char(char),
    Any,
    Class(usize),
    LineStart,
    LineEnd,
    Split(usize, usize),
    Jump(usize),
    Match,
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
    classes: Vec<Class>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn alternation(&mut self, depth: usize) -> Result<Node, RegexError> {
        let mut branches = alloc::vec![self.concatenation(depth)?];
        while self.peek() == Some('|') {
            self.pos += 1;
            branches.push(self.concatenation(depth)?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().unwrap_or(Node::Empty)
        } else {
            Node::Alternate(branches)
        })
    }

    fn concatenation(&mut self, depth: usize) -> Result<Node, RegexError> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            match c {
                '|' => break,
                ')' if depth > 0 => break,
                ')' => return Err(RegexError::UnbalancedParenthesis),
                '*' | '+' | '?' => {
                    self.pos += 1;
                    let (min, max) = match c {
                        '*' => (0, None),
                        '+' => (1, None),
                        _ => (0, Some(1)),
                    };
                    repeat_last(&mut items, min, max)?;
                }
                '{' => match self.bound()? {
                    Some((min, max)) => repeat_last(&mut items, min, max)?,
                    None => {
                        self.pos += 1;
                        items.push(Node::Char('{'));
                    }
                },
                _ => {
                    let atom = self.atom(depth)?;
                    items.push(atom);
                }
            }
        }
        Ok(match items.len() {
            0 => Node::Empty,
            1 => items.pop().unwrap_or(Node::Empty),
            _ => Node::Concat(items),
        })
    }

    /// `{m}`, `{m,}`, `{m,n}` at the current `{`, or `None` if it is not a bound (a literal `{`).
    fn bound(&mut self) -> Result<Option<(u32, Option<u32>)>, RegexError> {
        let rest = &self.chars[self.pos + 1..];
        let Some(close) = rest.iter().position(|&c| c == '}') else {
            return Ok(None);
        };
        let inner: alloc::string::String = rest[..close].iter().collect();
        let number = |s: &str| -> Option<u32> {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        let (min, max) = match inner.split_once(',') {
            None => match number(&inner) {
                Some(n) => (n, Some(n)),
                None => return Ok(None),
            },
            Some((lo, "")) => match number(lo) {
                Some(n) => (n, None),
                None => return Ok(None),
            },
            Some((lo, hi)) => match (number(lo), number(hi)) {
                (Some(a), Some(b)) => (a, Some(b)),
                _ => return Ok(None),
            },
        };
        if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT || m < min) {
            return Err(RegexError::BadRepeat);
        }
        self.pos += close + 2;
        Ok(Some((min, max)))
    }

    fn atom(&mut self, depth: usize) -> Result<Node, RegexError> {
        let c = self.peek().unwrap_or('\0');
        self.pos += 1;
        Ok(match c {
            '.' => Node::Any,
            '^' => Node::LineStart,
            '$' => Node::LineEnd,
            '\\' => {
                let escaped = self.peek().ok_or(RegexError::TrailingBackslash)?;
                self.pos += 1;
                Node::Char(escaped)
            }
            '(' => {
                let inner = self.alternation(depth + 1)?;
                if self.peek() != Some(')') {
                    return Err(RegexError::UnbalancedParenthesis);
                }
                self.pos += 1;
                inner
            }
            '[' => {
                let class = self.bracket()?;
                self.classes.push(class);
                Node::Class(self.classes.len() - 1)
            }
            other => Node::Char(other),
        })
    }

    /// A bracket expression after its `[`.
    fn bracket(&mut self) -> Result<Class, RegexError> {
        let mut class = Class::default();
        if self.peek() == Some('^') {
            class.negated = true;
            self.pos += 1;
        }
        let mut first = true;
        loop {
            let c = self.peek().ok_or(RegexError::UnbalancedBracket)?;
            if c == ']' && !first {
                self.pos += 1;
                return Ok(class);
            }
            first = false;
            if c == '[' {
                if let Some(kind @ (':' | '.' | '=')) = self.chars.get(self.pos + 1).copied() {
                    let start = self.pos + 2;
                    let end = (start..self.chars.len().saturating_sub(1))
                        .find(|&i| self.chars[i] == kind && self.chars[i + 1] == ']')
                        .ok_or(RegexError::UnbalancedBracket)?;
                    let name: alloc::string::String = self.chars[start..end].iter().collect();
                    if kind != ':' {
                        return Err(RegexError::BadClass);
                    }
                    class
                        .named
                        .push(Named::from_name(&name).ok_or(RegexError::BadClass)?);
                    self.pos = end + 2;
                    continue;
                }
            }
            self.pos += 1;
            let is_range =
                self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&n| n != ']');
            if is_range {
                let hi = self.chars[self.pos + 1];
                if hi < c {
                    return Err(RegexError::BadRange);
                }
                class.ranges.push((c, hi));
                self.pos += 2;
            } else {
                class.ranges.push((c, c));
            }
        }
    }
}

fn repeat_last(items: &mut Vec<Node>, min: u32, max: Option<u32>) -> Result<(), RegexError> {
    let node = items.pop().ok_or(RegexError::NothingToRepeat)?;
    if matches!(node, Node::LineStart | Node::LineEnd) {
        return Err(RegexError::NothingToRepeat);
    }
    items.push(Node::Repeat {
        node: Box::new(node),
        min,
        max,
    });
    Ok(())
}

struct Compiler {
    program: Vec<Inst>,
}

impl Compiler {
    fn emit(&mut self, inst: Inst) -> Result<usize, RegexError> {
        if self.program.len() >= MAX_PROGRAM {
            return Err(RegexError::TooLarge);
        }
        self.program.push(inst);
        Ok(self.program.len() - 1)
    }

    fn node(&mut self, node: &Node) -> Result<(), RegexError> {
        match node {
            Node::Empty => {}
            Node::Char(c) => {
                self.emit(Inst::Char(*c))?;
            }
            Node::Any => {
                self.emit(Inst::Any)?;
            }
            Node::Class(i) => {
                self.emit(Inst::Class(*i))?;
            }
            Node::LineStart => {
                self.emit(Inst::LineStart)?;
            }
            Node::LineEnd => {
                self.emit(Inst::LineEnd)?;
            }
            Node::Concat(items) => {
                for item in items {
                    self.node(item)?;
                }
            }
            Node::Alternate(branches) => {
                let mut jumps = Vec::new();
                for (i, branch) in branches.iter().enumerate() {
                    if i + 1 < branches.len() {
                        let split = self.emit(Inst::Split(0, 0))?;
                        self.node(branch)?;
                        jumps.push(self.emit(Inst::Jump(0))?);
                        let next = self.program.len();
                        self.program[split] = Inst::Split(split + 1, next);
                    } else {
                        self.node(branch)?;
                    }
                }
                let end = self.program.len();
                for jump in jumps {
                    self.program[jump] = Inst::Jump(end);
                }
            }
            Node::Repeat { node, min, max } => {
                for _ in 0..*min {
                    self.node(node)?;
                }
                match max {
                    None => {
                        let split = self.emit(Inst::Split(0, 0))?;
                        self.node(node)?;
                        self.emit(Inst::Jump(split))?;
                        let end = self.program.len();
                        self.program[split] = Inst::Split(split + 1, end);
                    }
                    Some(max) => {
                        let mut splits = Vec::new();
                        for _ in *min..*max {
                            splits.push(self.emit(Inst::Split(0, 0))?);
                            self.node(node)?;
                        }
                        let end = self.program.len();
                        for split in splits {
                            self.program[split] = Inst::Split(split + 1, end);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Compiles `pattern` to its program and bracket expressions.
pub(super) fn compile(pattern: &str) -> Result<(Vec<Inst>, Vec<Class>), RegexError> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut parser = Parser {
        chars: &chars,
        pos: 0,
        classes: Vec::new(),
    };
    let tree = parser.alternation(0)?;
    if parser.pos < chars.len() {
        return Err(RegexError::UnbalancedParenthesis);
    }
    let mut compiler = Compiler {
        program: Vec::new(),
    };
    compiler.node(&tree)?;
    compiler.emit(Inst::Match)?;
    Ok((compiler.program, parser.classes))
}
