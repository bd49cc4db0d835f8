//! Reading a command's words after the command name: `name=value` arguments against the
//! command's fields, the item list (`0,1`, names, `numbers=`, `[ find ... ]` left for the
//! caller), bare flag words, `where` clauses, and required arguments.

use alloc::string::String;
use alloc::vec::Vec;

use routing::index_sort::sort_indexes;

use super::args::{find_field, parse_value, Args, Field, Kind};
use super::error::CmdError;
use super::filter::{Filter, Schema};
use super::lex::Token;
use super::menu::{Exec, Table};
use super::table::Row;
use super::view::View;

/// Every property name a `where` may compare for rows printed with `view` by a menu whose
/// arguments are `fields`.
pub fn props_of(view: &View, fields: &[Field], rows: &[Row]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = view.columns.iter().map(|c| c.prop).collect();
    out.extend(fields.iter().map(|f| f.name));
    // Rows repeat the same few names: keep each once as it comes (thousands of rows, a dozen
    // names), then sort the few.
    for row in rows {
        for (name, _) in &row.cells {
            if !out
                .iter()
                .any(|known| known.as_ptr() == name.as_ptr() || known == name)
            {
                out.push(name);
            }
        }
    }
    let mut order: Vec<u32> = (0..out.len() as u32).collect();
    sort_indexes(&mut order, &|a, b| out[a].cmp(out[b]));
    let mut sorted: Vec<&'static str> = order.iter().map(|&i| out[i as usize]).collect();
    sorted.dedup();
    sorted
}

/// The condition of `where ...` (or of `find [where] ...`) over `rows`, printed with `view` by
/// a menu whose arguments are `fields`.
pub fn parse_condition(
    tokens: &[Token],
    view: &'static View,
    fields: &'static [Field],
    rows: &[Row],
) -> Result<Filter, CmdError> {
    let tokens = match tokens.first() {
        Some(t) if t.text == "where" && t.eq.is_none() && !t.quoted => &tokens[1..],
        _ => tokens,
    };
    let props = props_of(view, fields, rows);
    Filter::parse(
        tokens,
        &Schema {
            view,
            props: &props,
            fields,
        },
    )
}

/// The condition of `find [where] ...` over a table's `rows`.
pub fn parse_find(
    table: &'static dyn Table,
    tokens: &[Token],
    rows: &[Row],
) -> Result<Filter, CmdError> {
    parse_condition(tokens, table.view(), table.fields(), rows)
}

pub fn check_required(required: &[&str], args: &Args) -> Result<(), CmdError> {
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|name| !args.has(name))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(CmdError::Missing {
            arguments: missing.join(","),
        })
    }
}

/// Parses `name=value` arguments against `fields`; with `positional`, one bare word (or
/// `numbers=`) is the item list and is returned unparsed.
pub fn parse_args(
    tokens: &[Token],
    fields: &'static [Field],
    positional: bool,
    exec: &Exec<'_>,
) -> Result<(Option<Token>, Args), CmdError> {
    let mut items: Option<Token> = None;
    let mut args = Args::default();
    for token in tokens {
        let is_item = positional
            && items.is_none()
            && (token.eq.is_none() || (token.name() == "numbers" && token.inner.is_none()));
        if is_item {
            let mut item = token.clone();
            if let Some(value) = token.value() {
                item.text = String::from(value);
                item.eq = None;
            }
            items = Some(item);
            continue;
        }
        let Some(value) = token.value() else {
            match fields
                .iter()
                .find(|f| f.name == token.text && matches!(f.kind, Kind::Flag))
            {
                Some(field) if !token.quoted => {
                    args.add(field, super::args::Value::Bool(true), token.column)?;
                    continue;
                }
                _ => {
                    return Err(CmdError::ExpectedEnd {
                        column: token.column,
                    })
                }
            }
        };
        let field = find_field(fields, token.name(), token.column)?;
        let parsed = match field.kind {
            Kind::Text if field.name == "copy-from" => {
                super::args::Value::Text(String::from(value))
            }
            _ => parse_value(field, value, &exec.config, &*exec.platform)?,
        };
        args.add(field, parsed, token.column)?;
    }
    Ok((items, args))
}
