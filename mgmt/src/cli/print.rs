//! The parameters of `print` and the form they select: `brief` (the table), `detail`, `terse`,
//! `value-list`, `as-value`, `count-only`, `stats` (the traffic counters, where a menu has
//! them), `without-paging` (accepted; the console does not page), `interval=` (print again every
//! interval until a key is pressed: the shell does the repeating) and `where` (the rest of the
//! line is the condition). Several may be given (`print count-only interval=1 where ...`).

use alloc::format;
use alloc::string::String;

use super::error::CmdError;
use super::forms::{render_as_value, render_terse, render_value_list};
use super::lex::Token;
use super::table::{push_line, render_detail, render_table, Row};
use super::view::View;
use crate::value::parse_duration;

/// Longest `interval=` (seconds).
pub const MAX_INTERVAL_S: u64 = 86_400;

/// The layout `print` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// The menu's own (table, or detail for menus with many properties).
    Default,
    Brief,
    Detail,
    Terse,
    ValueList,
}

/// What a `print` line asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrintOptions {
    pub form: Form,
    pub as_value: bool,
    pub count_only: bool,
    /// Column of the `stats` word, if given.
    pub stats: Option<usize>,
    /// `interval=` in milliseconds.
    pub interval_ms: Option<u64>,
    /// Index of the first token after `where`, if given.
    pub condition: Option<usize>,
}

impl PrintOptions {
    /// Reads the words after `print`.
    pub fn parse(tokens: &[Token]) -> Result<PrintOptions, CmdError> {
        let mut options = PrintOptions {
            form: Form::Default,
            as_value: false,
            count_only: false,
            stats: None,
            interval_ms: None,
            condition: None,
        };
        for (i, token) in tokens.iter().enumerate() {
            let word = token.name();
            let flag = token.eq.is_none() && !token.quoted;
            match word {
                "where" if flag => {
                    options.condition = Some(i + 1);
                    break;
                }
                "brief" if flag => options.form = Form::Brief,
                "detail" if flag => options.form = Form::Detail,
                "terse" if flag => options.form = Form::Terse,
                "value-list" if flag => options.form = Form::ValueList,
                "as-value" if flag => options.as_value = true,
                "count-only" if flag => options.count_only = true,
                "stats" if flag => options.stats = Some(token.column),
                "without-paging" if flag => {}
                "interval" if token.eq.is_some() => {
                    options.interval_ms = Some(interval_ms(token.value().unwrap_or(""))?);
                }
                _ => {
                    return Err(CmdError::ExpectedEnd {
                        column: token.column,
                    })
                }
            }
        }
        Ok(options)
    }
}

/// `interval=` as milliseconds: a duration of 1 s up to a day.
pub fn interval_ms(text: &str) -> Result<u64, CmdError> {
    let seconds = parse_duration(text).ok_or(CmdError::InvalidValue {
        argument: "interval",
    })?;
    if !(1..=MAX_INTERVAL_S).contains(&seconds) {
        return Err(CmdError::OutOfRange {
            argument: "interval",
            min: 1,
            max: MAX_INTERVAL_S,
        });
    }
    Ok(seconds * 1000)
}

/// Writes `rows` in the form `options` selects.
pub fn render(view: &View, rows: &[Row], options: &PrintOptions, width: usize, out: &mut String) {
    if options.count_only {
        push_line(out, &format!("{}", rows.len()));
        return;
    }
    if options.as_value {
        render_as_value(view, rows, options.form == Form::Detail, out);
        return;
    }
    match options.form {
        Form::Default if view.detail_default => render_detail(view, rows, width, out),
        Form::Default => render_table(view, rows, out),
        // A menu without table columns has no brief form.
        Form::Brief if !view.columns.is_empty() => render_table(view, rows, out),
        Form::Brief | Form::Detail => render_detail(view, rows, width, out),
        Form::Terse => render_terse(view, rows, out),
        Form::ValueList => render_value_list(rows, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::lex::tokenize;

    fn options(line: &str) -> Result<PrintOptions, CmdError> {
        PrintOptions::parse(&tokenize(line).unwrap())
    }

    #[test]
    fn parameters() {
        let o = options("detail count-only interval=2s where name=x").unwrap();
        assert_eq!(o.form, Form::Detail);
        assert!(o.count_only);
        assert_eq!(o.interval_ms, Some(2000));
        assert_eq!(o.condition, Some(4));
        assert_eq!(options("terse").unwrap().form, Form::Terse);
        assert_eq!(options("value-list").unwrap().form, Form::ValueList);
        assert_eq!(options("brief without-paging").unwrap().form, Form::Brief);
        assert!(options("as-value").unwrap().as_value);
        assert_eq!(
            options("x stats").unwrap_err(),
            CmdError::ExpectedEnd { column: 1 }
        );
        assert_eq!(options("stats").unwrap().stats, Some(1));
        assert_eq!(
            options("interval=0").unwrap_err(),
            CmdError::OutOfRange {
                argument: "interval",
                min: 1,
                max: MAX_INTERVAL_S
            }
        );
        assert_eq!(
            options("interval=soon").unwrap_err(),
            CmdError::InvalidValue {
                argument: "interval"
            }
        );
        assert_eq!(
            options("detail=yes").unwrap_err(),
            CmdError::ExpectedEnd { column: 1 }
        );
    }
}
