//! `where` clauses of `print` and the conditions of `find`, as RouterOS reads them:
//!
//! ```text
//! expr   = and { ("or" | "||") and }
//! and    = unary { ["and" | "&&"] unary }          (words side by side: all must hold)
//! unary  = ("!" | "not") unary | "(" expr ")" | test
//! test   = prop op value | prop "in" prefix | flag | prop
//! op     = "=" | "!=" | "<" | ">" | "<=" | ">=" | "~"
//! ```
//!
//! `prop` is a property the menu prints (or `comment`, or a flag word such as `disabled` as
//! `yes`/`no`); a bare flag word (`disabled`, `dynamic`, `running`, `active`) holds when the row
//! has that flag; a bare property holds when it is set and not `no`/`none`. `~` matches a POSIX
//! extended regular expression anywhere in the value ([`super::regex`]). `in` holds when the
//! value is an address or prefix inside the prefix. Comparisons know numbers, addresses and
//! MACs ([`super::compare`]). A value typed for a property of a checkable type must be of that
//! type, an unknown property is an error, and so is a bad regular expression: a bad condition
//! never silently selects nothing.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::args::Field;
use super::compare::{compare, parse_prefix, property, valid_for, within};
use super::error::CmdError;
use super::filter_lex::{lex, Lexeme, Located, Op};
use super::lex::Token;
use super::regex::Regex;
use super::table::{flag_word, Row};
use super::view::View;
use crate::network::IpAddress;

/// What a condition may name in a menu.
pub struct Schema<'a> {
    pub view: &'static View,
    /// Every property the menu prints.
    pub props: &'a [&'static str],
    /// The arguments of `add`/`set` (their types check typed values).
    pub fields: &'static [Field],
}

#[derive(Clone, Debug)]
enum Test {
    Compare {
        prop: &'static str,
        op: Op,
        value: String,
    },
    Matches {
        prop: &'static str,
        regex: Regex,
    },
    Within {
        prop: &'static str,
        prefix: (IpAddress, u8),
    },
    /// A flag word: true when the row has the flag.
    Flag(char),
    /// A bare property name: true when it is set and not `no`.
    Present(&'static str),
}

#[derive(Clone, Debug)]
enum Expr {
    Any(Vec<Expr>),
    All(Vec<Expr>),
    Not(Box<Expr>),
    Test(Test),
}

/// A parsed condition; the empty condition selects every row.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    expr: Option<Expr>,
}

struct Parser<'s, 'a> {
    lexemes: Vec<Located>,
    pos: usize,
    schema: &'s Schema<'a>,
    end_column: usize,
}

impl Filter {
    /// Parses the words of a condition (after `where`, or after `find [where]`).
    pub fn parse(tokens: &[Token], schema: &Schema<'_>) -> Result<Filter, CmdError> {
        let lexemes = lex(tokens)?;
        if lexemes.is_empty() {
            return Ok(Filter::default());
        }
        let end_column = tokens
            .last()
            .map_or(1, |t| t.column + t.raw.chars().count());
        let mut parser = Parser {
            lexemes,
            pos: 0,
            schema,
            end_column,
        };
        let expr = parser.any()?;
        if let Some(extra) = parser.lexemes.get(parser.pos) {
            return Err(match extra.lexeme {
                Lexeme::Close => CmdError::Syntax {
                    column: extra.column,
                },
                _ => CmdError::ExpectedEnd {
                    column: extra.column,
                },
            });
        }
        Ok(Filter { expr: Some(expr) })
    }

    /// Whether `row` passes; `view` gives the meaning of the flags.
    pub fn matches(&self, row: &Row, view: &View) -> bool {
        self.expr.as_ref().is_none_or(|e| e.holds(row, view))
    }
}

impl Parser<'_, '_> {
    fn peek(&self) -> Option<&Lexeme> {
        self.lexemes.get(self.pos).map(|l| &l.lexeme)
    }

    fn column(&self) -> usize {
        self.lexemes
            .get(self.pos)
            .map_or(self.end_column, |l| l.column)
    }

    fn any(&mut self) -> Result<Expr, CmdError> {
        let mut alternatives = alloc::vec![self.all()?];
        while self.peek() == Some(&Lexeme::Or) {
            self.pos += 1;
            alternatives.push(self.all()?);
        }
        Ok(if alternatives.len() == 1 {
            alternatives.remove(0)
        } else {
            Expr::Any(alternatives)
        })
    }

    fn all(&mut self) -> Result<Expr, CmdError> {
        let mut terms = alloc::vec![self.unary()?];
        loop {
            match self.peek() {
                None | Some(Lexeme::Or) | Some(Lexeme::Close) => break,
                Some(Lexeme::And) => self.pos += 1,
                _ => {}
            }
            terms.push(self.unary()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::All(terms)
        })
    }

    fn unary(&mut self) -> Result<Expr, CmdError> {
        let column = self.column();
        match self.peek() {
            Some(Lexeme::Not) => {
                self.pos += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some(Lexeme::Open) => {
                self.pos += 1;
                let inner = self.any()?;
                if self.peek() != Some(&Lexeme::Close) {
                    return Err(CmdError::Syntax {
                        column: self.column(),
                    });
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Lexeme::Name(name)) => {
                let name = name.clone();
                self.pos += 1;
                self.test(&name, column).map(Expr::Test)
            }
            _ => Err(CmdError::ExpectedEnd { column }),
        }
    }

    /// The property (or flag word) `name` as the schema knows it.
    fn prop(&self, name: &str) -> Option<&'static str> {
        if let Some(p) = self.schema.props.iter().find(|p| **p == name) {
            return Some(p);
        }
        if name == "comment" {
            return Some("comment");
        }
        self.schema
            .view
            .slots
            .iter()
            .flat_map(|slot| slot.flags.iter())
            .find(|(_, word)| word.eq_ignore_ascii_case(name))
            .map(|(_, word)| *word)
    }

    fn test(&mut self, name: &str, column: usize) -> Result<Test, CmdError> {
        let Some(Lexeme::Op(op)) = self.peek().cloned() else {
            if let Some(flag) = flag_word(self.schema.view, name) {
                return Ok(Test::Flag(flag));
            }
            return match self.schema.props.iter().find(|p| **p == name) {
                Some(prop) => Ok(Test::Present(prop)),
                None => Err(CmdError::ExpectedEnd { column }),
            };
        };
        let prop = self.prop(name).ok_or(CmdError::ExpectedEnd { column })?;
        self.pos += 1;
        let value_column = self.column();
        let Some(Lexeme::Value(value)) = self.peek().cloned() else {
            return Err(CmdError::ExpectedEnd {
                column: value_column,
            });
        };
        self.pos += 1;
        let invalid = CmdError::InvalidValue { argument: prop };
        match op {
            Op::Regex => Regex::new(&value)
                .map(|regex| Test::Matches { prop, regex })
                .map_err(|e| CmdError::BadRegex {
                    reason: e.message(),
                    column: value_column,
                }),
            Op::In => parse_prefix(&value)
                .map(|prefix| Test::Within { prop, prefix })
                .ok_or(invalid),
            _ => {
                let field = self.schema.fields.iter().find(|f| f.name == prop);
                if field.is_some_and(|f| !valid_for(f, &value)) {
                    return Err(invalid);
                }
                Ok(Test::Compare { prop, op, value })
            }
        }
    }
}

impl Expr {
    fn holds(&self, row: &Row, view: &View) -> bool {
        match self {
            Expr::Any(list) => list.iter().any(|e| e.holds(row, view)),
            Expr::All(list) => list.iter().all(|e| e.holds(row, view)),
            Expr::Not(inner) => !inner.holds(row, view),
            Expr::Test(test) => test.holds(row, view),
        }
    }
}

impl Test {
    fn holds(&self, row: &Row, view: &View) -> bool {
        let value = |prop: &str| property(row, view, prop).unwrap_or_default();
        match self {
            Test::Flag(flag) => row.flags.contains(flag),
            Test::Present(prop) => property(row, view, prop)
                .is_some_and(|v| !matches!(&*v, "" | "no" | "false" | "none")),
            Test::Compare {
                prop,
                op,
                value: wanted,
            } => compare(&value(prop), *op, wanted),
            Test::Matches { prop, regex } => regex.is_match(&value(prop)),
            Test::Within { prop, prefix } => within(&value(prop), *prefix),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::Kind;
    use crate::cli::lex::tokenize;
    use crate::cli::table::{FlagSlot, Style};

    static SLOTS: [FlagSlot; 2] = [
        FlagSlot::new(&[('D', "dynamic")]),
        FlagSlot::new(&[('X', "disabled")]),
    ];
    static VIEW: View = View {
        style: Style::Classic,
        slots: &SLOTS,
        columns: &[],
        detail_default: false,
        numbers: true,
    };
    static FIELDS: [Field; 3] = [
        Field::new("distance", Kind::int(1, 255), ""),
        Field::new("dst-address", Kind::Ipv4Prefix, ""),
        Field::new("disabled", Kind::Bool, ""),
    ];
    const PROPS: &[&str] = &["distance", "dst-address", "memory-size", "name"];
    const SCHEMA: Schema<'static> = Schema {
        view: &VIEW,
        props: PROPS,
        fields: &FIELDS,
    };

    fn parse(expr: &str) -> Result<Filter, CmdError> {
        Filter::parse(&tokenize(expr).unwrap(), &SCHEMA)
    }

    fn check(expr: &str, row: &Row) -> bool {
        parse(expr).unwrap().matches(row, &VIEW)
    }

    fn vm() -> Row {
        Row::item(1)
            .text("name", "mr0")
            .word("memory-size", "32MiB")
            .with_comment("A")
    }

    #[test]
    fn comparisons() {
        let row = vm();
        assert!(check("name=mr0", &row));
        assert!(!check("name!=mr0", &row));
        assert!(check("memory-size>16", &row));
        assert!(check("memory-size=32", &row));
        assert!(!check("memory-size<32", &row));
        assert!(check("memory-size<=32 and name=mr0", &row));
        assert!(check("memory-size <= 32 && name = mr0", &row));
        assert!(check("name=x or name=mr0", &row));
        assert!(check("name=x || name=mr0", &row));
        assert!(check("", &row));
    }

    #[test]
    fn comment_and_flags_are_properties() {
        let row = vm();
        assert!(check("comment=A", &row));
        assert!(check("comment=\"A\"", &row));
        assert!(!check("comment=B", &row));
        assert!(!check("disabled", &row));
        assert!(check("!disabled", &row));
        assert!(check("not disabled", &row));
        assert!(check("disabled=no", &row));
        assert!(!check("disabled=yes", &row));
        let off = Row::item(2).flag_if(true, 'X').flag_if(true, 'D');
        assert!(check("disabled and dynamic", &off));
        assert!(check("disabled=yes", &off));
        assert!(check("dynamic=yes", &off));
        assert!(!check("!dynamic", &off));
    }

    #[test]
    fn regex_and_prefixes() {
        let row = vm();
        assert!(check("name~\"r\"", &row));
        assert!(check("name~\"^mr[0-9]$\"", &row));
        assert!(!check("name~\"^r\"", &row));
        assert!(check("!(name~\"^r\")", &row));
        let route = Row::item(3).word("dst-address", "10.0.1.0/24");
        assert!(check("dst-address in 10.0.0.0/8", &route));
        assert!(!check("dst-address in 192.168.0.0/16", &route));
        assert!(check("dst-address=10.0.1.0/24", &route));
        assert!(check("dst-address=\"10.0.1.0/24\"", &route));
    }

    #[test]
    fn precedence_and_grouping() {
        let row = vm();
        // `and` binds tighter than `or`.
        assert!(check("name=x and name=y or name=mr0", &row));
        assert!(!check("name=x and (name=y or name=mr0)", &row));
        assert!(check("(name=x or name=mr0) and memory-size=32", &row));
        assert!(!check("!(name=mr0)", &row));
        assert!(check("!!(name=mr0)", &row));
    }

    #[test]
    fn bad_conditions_are_errors() {
        assert_eq!(
            parse("nosuch=1").unwrap_err(),
            CmdError::ExpectedEnd { column: 1 }
        );
        assert_eq!(
            parse("nosuch").unwrap_err(),
            CmdError::ExpectedEnd { column: 1 }
        );
        assert_eq!(
            parse("distance=abc").unwrap_err(),
            CmdError::InvalidValue {
                argument: "distance"
            }
        );
        assert_eq!(
            parse("dst-address in 10.0.0").unwrap_err(),
            CmdError::InvalidValue {
                argument: "dst-address"
            }
        );
        assert_eq!(
            parse("disabled=maybe").unwrap_err(),
            CmdError::InvalidValue {
                argument: "disabled"
            }
        );
        assert!(matches!(
            parse("name~\"(\"").unwrap_err(),
            CmdError::BadRegex { column: 6, .. }
        ));
        assert_eq!(
            parse("(name=a").unwrap_err(),
            CmdError::Syntax { column: 8 }
        );
        assert_eq!(
            parse("name=a)").unwrap_err(),
            CmdError::Syntax { column: 7 }
        );
        assert_eq!(
            parse("name=a and").unwrap_err(),
            CmdError::ExpectedEnd { column: 11 }
        );
        assert_eq!(
            parse("name=a or or name=b").unwrap_err(),
            CmdError::ExpectedEnd { column: 11 }
        );
    }
}
