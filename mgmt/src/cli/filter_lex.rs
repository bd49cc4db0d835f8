//! The words of a `where` expression, read from the command's words as typed (quotes intact):
//! property names, operators (`=`, `!=`, `<`, `>`, `<=`, `>=`, `~`, `in`), values (bare, or
//! quoted with `\"` and `\\` escapes), `(`, `)`, `!`/`not`, `and`/`&&`, `or`/`||`.
//!
//! A value follows its operator directly (`comment=A`, `name~"^e"`), or after spaces when the
//! operator stands apart (`distance > 2`, `dst-address in 10.0.0.0/8`). `comment=` followed by a
//! space compares with the empty value. A bare value ends at a space or `)`; quote values that
//! contain either.

use alloc::string::String;
use alloc::vec::Vec;

use super::error::CmdError;
use super::lex::Token;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `~`: POSIX extended regular expression.
    Regex,
    /// `in`: address or prefix inside a prefix.
    In,
}

/// One word of an expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lexeme {
    Open,
    Close,
    Not,
    And,
    Or,
    /// A property or flag name.
    Name(String),
    Op(Op),
    Value(String),
}

/// A lexeme and the 1-based column of the line where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub lexeme: Lexeme,
    pub column: usize,
}

/// Splits the words of an expression (as typed) into lexemes.
pub fn lex(tokens: &[Token]) -> Result<Vec<Located>, CmdError> {
    // The words as typed, one space between them, with the column of every character.
    let mut chars: Vec<char> = Vec::new();
    let mut columns: Vec<usize> = Vec::new();
    for token in tokens {
        if !chars.is_empty() {
            chars.push(' ');
            columns.push(columns.last().map_or(1, |c| c + 1));
        }
        for (i, c) in token.raw.chars().enumerate() {
            chars.push(c);
            columns.push(token.column + i);
        }
    }
    let end_column = columns.last().map_or(1, |c| c + 1);
    let column_at = |i: usize| columns.get(i).copied().unwrap_or(end_column);
    let mut out = Vec::new();
    let mut pos = 0;
    // Set after an operator: the next word is its value.
    let mut value_for: Option<(Op, bool)> = None;
    while pos < chars.len() {
        if let Some((op, spaced)) = value_for.take() {
            let at_space = chars[pos].is_whitespace() || chars[pos] == ')';
            if at_space && (spaced || op == Op::In) {
                while pos < chars.len() && chars[pos].is_whitespace() {
                    pos += 1;
                }
            }
            let column = column_at(pos);
            let value = read_value(&chars, &mut pos, column)?;
            out.push(Located {
                lexeme: Lexeme::Value(value),
                column,
            });
            continue;
        }
        let c = chars[pos];
        if c.is_whitespace() {
            pos += 1;
            continue;
        }
        let column = column_at(pos);
        let next = chars.get(pos + 1).copied();
        let spaced_before = pos > 0 && chars[pos - 1].is_whitespace();
        let (lexeme, width) = match (c, next) {
            ('(', _) => (Lexeme::Open, 1),
            (')', _) => (Lexeme::Close, 1),
            ('!', Some('=')) => (Lexeme::Op(Op::Ne), 2),
            ('!', _) => (Lexeme::Not, 1),
            ('<', Some('=')) => (Lexeme::Op(Op::Le), 2),
            ('>', Some('=')) => (Lexeme::Op(Op::Ge), 2),
            ('<', _) => (Lexeme::Op(Op::Lt), 1),
            ('>', _) => (Lexeme::Op(Op::Gt), 1),
            ('=', _) => (Lexeme::Op(Op::Eq), 1),
            ('~', _) => (Lexeme::Op(Op::Regex), 1),
            ('&', Some('&')) => (Lexeme::And, 2),
            ('|', Some('|')) => (Lexeme::Or, 2),
            ('"', _) => {
                let value = read_value(&chars, &mut pos, column)?;
                out.push(Located {
                    lexeme: Lexeme::Value(value),
                    column,
                });
                continue;
            }
            _ => {
                let start = pos;
                while pos < chars.len() && !ends_name(chars[pos]) {
                    pos += 1;
                }
                if pos == start {
                    return Err(CmdError::Syntax { column });
                }
                let word: String = chars[start..pos].iter().collect();
                let lexeme = match word.as_str() {
                    "and" => Lexeme::And,
                    "or" => Lexeme::Or,
                    "not" => Lexeme::Not,
                    "in" => {
                        value_for = Some((Op::In, true));
                        Lexeme::Op(Op::In)
                    }
                    _ => Lexeme::Name(word),
                };
                out.push(Located { lexeme, column });
                continue;
            }
        };
        pos += width;
        if let Lexeme::Op(op) = lexeme {
            value_for = Some((op, spaced_before));
        }
        out.push(Located { lexeme, column });
    }
    if let Some((_, _)) = value_for {
        out.push(Located {
            lexeme: Lexeme::Value(String::new()),
            column: end_column,
        });
    }
    Ok(out)
}

fn ends_name(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '!' | '=' | '<' | '>' | '~' | '"' | '&' | '|')
}

/// A value at `pos`: quoted (escapes resolved) or bare up to a space or `)`.
fn read_value(chars: &[char], pos: &mut usize, column: usize) -> Result<String, CmdError> {
    let mut value = String::new();
    while *pos < chars.len() {
        let c = chars[*pos];
        if c == '"' {
            *pos += 1;
            loop {
                match chars.get(*pos) {
                    None => return Err(CmdError::Syntax { column }),
                    Some('"') => {
                        *pos += 1;
                        break;
                    }
                    Some('\\') if *pos + 1 < chars.len() => {
                        value.push(chars[*pos + 1]);
                        *pos += 2;
                    }
                    Some(&other) => {
                        value.push(other);
                        *pos += 1;
                    }
                }
            }
            continue;
        }
        if c.is_whitespace() || c == ')' {
            break;
        }
        value.push(c);
        *pos += 1;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::lex::tokenize;

    fn words(text: &str) -> Vec<Lexeme> {
        lex(&tokenize(text).unwrap())
            .unwrap()
            .into_iter()
            .map(|l| l.lexeme)
            .collect()
    }

    fn name(s: &str) -> Lexeme {
        Lexeme::Name(String::from(s))
    }

    fn value(s: &str) -> Lexeme {
        Lexeme::Value(String::from(s))
    }

    #[test]
    fn comparisons_and_values() {
        assert_eq!(
            words("comment=A"),
            [name("comment"), Lexeme::Op(Op::Eq), value("A")]
        );
        assert_eq!(
            words("comment=\"a b\" name~\"^e(t)\""),
            [
                name("comment"),
                Lexeme::Op(Op::Eq),
                value("a b"),
                name("name"),
                Lexeme::Op(Op::Regex),
                value("^e(t)")
            ]
        );
        assert_eq!(
            words("distance >= 2"),
            [name("distance"), Lexeme::Op(Op::Ge), value("2")]
        );
        assert_eq!(
            words("dst-address in 10.0.0.0/8"),
            [name("dst-address"), Lexeme::Op(Op::In), value("10.0.0.0/8")]
        );
        assert_eq!(
            words("comment= and disabled"),
            [
                name("comment"),
                Lexeme::Op(Op::Eq),
                value(""),
                Lexeme::And,
                name("disabled")
            ]
        );
        assert_eq!(
            words("name!=x"),
            [name("name"), Lexeme::Op(Op::Ne), value("x")]
        );
    }

    #[test]
    fn logic_and_parentheses() {
        assert_eq!(
            words("!(a=1 || b<2) && !c"),
            [
                Lexeme::Not,
                Lexeme::Open,
                name("a"),
                Lexeme::Op(Op::Eq),
                value("1"),
                Lexeme::Or,
                name("b"),
                Lexeme::Op(Op::Lt),
                value("2"),
                Lexeme::Close,
                Lexeme::And,
                Lexeme::Not,
                name("c")
            ]
        );
        assert_eq!(
            words("not disabled or dynamic"),
            [Lexeme::Not, name("disabled"), Lexeme::Or, name("dynamic")]
        );
    }

    #[test]
    fn columns_are_those_of_the_line() {
        let tokens = tokenize("print where a=1  b~\"x\"").unwrap();
        let lexed = lex(&tokens[2..]).unwrap();
        let columns: Vec<usize> = lexed.iter().map(|l| l.column).collect();
        assert_eq!(columns, [13, 14, 15, 18, 19, 20]);
    }
}
