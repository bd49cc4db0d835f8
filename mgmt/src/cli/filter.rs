//! `where` clauses of `print` and `find`: comparisons of printed properties (`name=mr0`,
//! `memory-size>16`, `interface!=ether1`), flag words (`disabled`, `dynamic`), `!`/`not`,
//! joined by `and` (or nothing) and `or`.

use alloc::string::String;
use alloc::vec::Vec;

use super::error::CmdError;
use super::lex::Token;
use super::table::{flag_word, Cell, Row};
use super::view::View;
use crate::value::parse_integer;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug)]
enum Test {
    /// `prop op value`
    Compare { prop: String, op: Op, value: String },
    /// A flag word: true when the row has the flag.
    Flag(char),
    /// A bare property name: true when it is set and not `no`.
    Present(String),
}

#[derive(Clone, Debug)]
struct Term {
    negate: bool,
    test: Test,
}

/// A parsed `where` clause: any of the groups, each group all of its terms.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    any_of: Vec<Vec<Term>>,
}

const OPS: [(&str, Op); 6] = [
    ("!=", Op::Ne),
    ("<=", Op::Le),
    (">=", Op::Ge),
    ("=", Op::Eq),
    ("<", Op::Lt),
    (">", Op::Gt),
];

impl Filter {
    /// Parses the words after `where`. `props` are the properties the menu prints.
    pub fn parse(tokens: &[Token], view: &View, props: &[&str]) -> Result<Filter, CmdError> {
        let mut filter = Filter {
            any_of: alloc::vec![Vec::new()],
        };
        let mut negate = false;
        for token in tokens {
            let word = token.text.as_str();
            match word {
                "and" if !token.quoted => continue,
                "or" if !token.quoted => {
                    filter.any_of.push(Vec::new());
                    continue;
                }
                "not" | "!" if !token.quoted => {
                    negate = !negate;
                    continue;
                }
                _ => {}
            }
            let (word, bang) = match word.strip_prefix('!') {
                Some(rest) if !rest.starts_with('=') => (rest, true),
                _ => (word, false),
            };
            let operator = OPS
                .iter()
                .filter_map(|(text, op)| word.find(text).map(|i| (i, *text, *op)))
                .min_by_key(|(i, text, _)| (*i, core::cmp::Reverse(text.len())));
            let test = match operator {
                Some((i, text, op)) => {
                    let prop = &word[..i];
                    if !props.contains(&prop) {
                        return Err(CmdError::ExpectedEnd {
                            column: token.column,
                        });
                    }
                    Test::Compare {
                        prop: String::from(prop),
                        op,
                        value: String::from(&word[i + text.len()..]),
                    }
                }
                None => match flag_word(view, word) {
                    Some(flag) => Test::Flag(flag),
                    None if props.contains(&word) => Test::Present(String::from(word)),
                    None => {
                        return Err(CmdError::ExpectedEnd {
                            column: token.column,
                        })
                    }
                },
            };
            let last = filter.any_of.last_mut().expect("at least one group");
            last.push(Term {
                negate: negate ^ bang,
                test,
            });
            negate = false;
        }
        if filter.any_of.iter().any(|group| group.is_empty()) && filter.any_of.len() > 1 {
            return Err(CmdError::ExpectedEnd {
                column: tokens.last().map_or(1, |t| t.column),
            });
        }
        Ok(filter)
    }

    /// Whether `row` passes.
    pub fn matches(&self, row: &Row) -> bool {
        self.any_of
            .iter()
            .any(|group| group.iter().all(|term| term.matches(row)))
    }
}

impl Term {
    fn matches(&self, row: &Row) -> bool {
        let result = match &self.test {
            Test::Flag(flag) => row.flags.contains(flag),
            Test::Present(prop) => row
                .get(prop)
                .is_some_and(|cell| !matches!(cell.text(), "" | "no" | "false" | "none")),
            Test::Compare { prop, op, value } => {
                let actual = row.get(prop).map_or("", Cell::text);
                compare(actual, *op, value)
            }
        };
        result != self.negate
    }
}

fn leading_number(text: &str) -> Option<u64> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    if end == 0 {
        return None;
    }
    let (digits, rest) = text.split_at(end);
    // Only plain numbers or numbers with a unit word (16MiB, 10s), not addresses.
    if rest.chars().all(|c| c.is_ascii_alphabetic()) {
        parse_integer(digits)
    } else {
        None
    }
}

fn compare(actual: &str, op: Op, wanted: &str) -> bool {
    let ordering = match (leading_number(actual), leading_number(wanted)) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => actual.cmp(wanted),
    };
    let equal = actual == wanted || ordering.is_eq();
    match op {
        Op::Eq => equal,
        Op::Ne => !equal,
        Op::Lt => ordering.is_lt(),
        Op::Le => ordering.is_le(),
        Op::Gt => ordering.is_gt(),
        Op::Ge => ordering.is_ge(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::lex::tokenize;
    use crate::cli::table::{FlagSlot, Style};

    static SLOTS: [FlagSlot; 1] = [FlagSlot {
        flags: &[('X', "disabled")],
        optional: false,
    }];
    static VIEW: View = View {
        style: Style::Classic,
        slots: &SLOTS,
        columns: &[],
        detail_default: false,
        numbers: true,
    };
    const PROPS: &[&str] = &["name", "memory-size"];

    fn check(expr: &str, row: &Row) -> bool {
        Filter::parse(&tokenize(expr).unwrap(), &VIEW, PROPS)
            .unwrap()
            .matches(row)
    }

    #[test]
    fn comparisons() {
        let row = Row::item(1)
            .text("name", "mr0")
            .word("memory-size", "32MiB");
        assert!(check("name=mr0", &row));
        assert!(!check("name!=mr0", &row));
        assert!(check("memory-size>16", &row));
        assert!(check("memory-size=32", &row));
        assert!(!check("memory-size<32", &row));
        assert!(check("memory-size<=32 and name=mr0", &row));
        assert!(check("name=x or name=mr0", &row));
        assert!(!check("disabled", &row));
        assert!(check("!disabled", &row));
        assert!(check("not disabled", &row));
        assert!(Filter::parse(&tokenize("nosuch=1").unwrap(), &VIEW, PROPS).is_err());
    }
}
