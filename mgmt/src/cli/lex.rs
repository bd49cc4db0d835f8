//! Splits a command line into words. A word may be `name=value`; values may be quoted
//! (`comment="a b"`, with `\"` and `\\` escapes); `[ find ... ]` is one bracketed word. Each word
//! keeps its source text too, for the `where` expressions (whose quoting matters).

use alloc::string::String;
use alloc::vec::Vec;

use super::error::CmdError;

/// One word of a command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// The word with quotes removed and escapes resolved.
    pub text: String,
    /// Byte index in `text` of the first `=` that was not inside quotes.
    pub eq: Option<usize>,
    /// 1-based column where the word starts.
    pub column: usize,
    /// For `[ ... ]`: the words inside.
    pub inner: Option<Vec<Token>>,
    /// Whether any part was quoted.
    pub quoted: bool,
    /// The word as typed (quotes and escapes included).
    pub raw: String,
}

impl Token {
    /// The part before `=` (the whole word if there is none).
    pub fn name(&self) -> &str {
        match self.eq {
            Some(i) => &self.text[..i],
            None => &self.text,
        }
    }

    /// The part after `=`.
    pub fn value(&self) -> Option<&str> {
        self.eq.map(|i| &self.text[i + 1..])
    }
}

/// Result of splitting a possibly unfinished line (for completion).
pub struct Partial {
    pub tokens: Vec<Token>,
    /// The line ends inside a word (no trailing space).
    pub in_word: bool,
}

/// Splits a complete line.
pub fn tokenize(line: &str) -> Result<Vec<Token>, CmdError> {
    let chars: Vec<char> = line.chars().collect();
    let mut pos = 0;
    let (tokens, _) = split(&chars, &mut pos, false, false)?;
    if pos < chars.len() {
        return Err(CmdError::Syntax { column: pos + 1 });
    }
    Ok(tokens)
}

/// Splits an unfinished line, tolerating an open quote at the end.
pub fn tokenize_partial(line: &str) -> Partial {
    let chars: Vec<char> = line.chars().collect();
    let mut pos = 0;
    match split(&chars, &mut pos, false, true) {
        Ok((tokens, in_word)) => Partial { tokens, in_word },
        Err(_) => Partial {
            tokens: Vec::new(),
            in_word: false,
        },
    }
}

fn split(
    chars: &[char],
    pos: &mut usize,
    in_bracket: bool,
    partial: bool,
) -> Result<(Vec<Token>, bool), CmdError> {
    let mut tokens = Vec::new();
    let mut in_word = false;
    loop {
        while *pos < chars.len() && chars[*pos].is_whitespace() {
            *pos += 1;
            in_word = false;
        }
        if *pos >= chars.len() {
            if in_bracket && !partial {
                return Err(CmdError::Syntax { column: *pos + 1 });
            }
            return Ok((tokens, in_word));
        }
        let start = *pos;
        if chars[start] == ']' {
            if in_bracket {
                *pos += 1;
                return Ok((tokens, false));
            }
            return Err(CmdError::Syntax { column: start + 1 });
        }
        if chars[start] == '[' {
            *pos += 1;
            let (inner, _) = split(chars, pos, true, partial)?;
            let raw: String = chars[start..*pos].iter().collect();
            tokens.push(Token {
                text: raw.clone(),
                eq: None,
                column: start + 1,
                inner: Some(inner),
                quoted: false,
                raw,
            });
            in_word = false;
            continue;
        }
        let mut text = String::new();
        let mut eq = None;
        let mut quoted = false;
        while *pos < chars.len() && !chars[*pos].is_whitespace() {
            let c = chars[*pos];
            if c == '"' {
                quoted = true;
                let open = *pos;
                *pos += 1;
                loop {
                    match chars.get(*pos) {
                        None if partial => break,
                        None => return Err(CmdError::Syntax { column: open + 1 }),
                        Some('"') => {
                            *pos += 1;
                            break;
                        }
                        Some('\\') if *pos + 1 < chars.len() => {
                            text.push(chars[*pos + 1]);
                            *pos += 2;
                        }
                        Some(&other) => {
                            text.push(other);
                            *pos += 1;
                        }
                    }
                }
                continue;
            }
            if c == ']' && in_bracket {
                break;
            }
            if c == '[' || c == ']' {
                return Err(CmdError::Syntax { column: *pos + 1 });
            }
            if c == '=' && eq.is_none() {
                eq = Some(text.len());
            }
            text.push(c);
            *pos += 1;
        }
        in_word = true;
        tokens.push(Token {
            text,
            eq,
            column: start + 1,
            inner: None,
            quoted,
            raw: chars[start..*pos].iter().collect(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_values() {
        let t = tokenize("add name=mr0 comment=\"a b\" disabled=no").unwrap();
        assert_eq!(t.len(), 4);
        assert_eq!(t[1].name(), "name");
        assert_eq!(t[1].value(), Some("mr0"));
        assert_eq!(t[2].value(), Some("a b"));
        assert_eq!(t[2].column, 14);
        assert_eq!(t[3].column, 28);
        assert_eq!(t[2].raw, "comment=\"a b\"");
    }

    #[test]
    fn brackets_and_errors() {
        let t = tokenize("set [ find default-name=ether1 ] name=public").unwrap();
        assert_eq!(t.len(), 3);
        let inner = t[1].inner.as_ref().unwrap();
        assert_eq!(inner[0].text, "find");
        assert_eq!(inner[1].value(), Some("ether1"));
        assert_eq!(
            tokenize("add name=\"x"),
            Err(CmdError::Syntax { column: 10 })
        );
        assert_eq!(tokenize("set [ find"), Err(CmdError::Syntax { column: 11 }));
        assert_eq!(tokenize("a ] b"), Err(CmdError::Syntax { column: 3 }));
    }

    #[test]
    fn partial_lines() {
        let p = tokenize_partial("add name=\"my vm");
        assert!(p.in_word);
        assert_eq!(p.tokens[1].value(), Some("my vm"));
        let p = tokenize_partial("add ");
        assert!(!p.in_word);
    }
}
