//! The interpreter: resolves the menu path and command of a line, parses its items and
//! arguments, runs it against a copy of the configuration, and remembers the numbering of the
//! last `print` per menu (so `set 0 ...` means the item printed as 0).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::args::{find_field, parse_value};
use super::batch::{change_each, labels};
use super::error::CmdError;
use super::lex::{tokenize, Token};
use super::menu::{Command, Exec, Invocation, Items, Menu, MenuKind, Outcome, Table};
use super::print::{interval_ms, render, PrintOptions};
use super::resolve::{path_text, resolve, CommandRef};
use super::table::{number_rows, push_line, Row};
use super::words::{check_required, parse_args, parse_condition, parse_find};
use crate::config::{Config, ItemId};
use crate::platform::Platform;
use crate::rib_state::RibState;

/// Per-session interpreter state.
pub struct Session {
    pub root: &'static Menu,
    pub cwd: Vec<&'static Menu>,
    /// Item ids in the order the last `print` of each menu numbered them.
    numbering: Vec<(String, Vec<ItemId>)>,
    /// Terminal width for `print detail`.
    pub width: usize,
}

/// What running one line produced.
pub struct LineResult {
    pub out: String,
    /// The configuration after the command (equal to the input if nothing changed).
    pub config: Config,
    pub outcome: Outcome,
}

impl Session {
    pub fn new(root: &'static Menu) -> Session {
        Session {
            root,
            cwd: Vec::new(),
            numbering: Vec::new(),
            width: 80,
        }
    }

    /// The menu part of the prompt: `/metarouter interface` or nothing at the root.
    pub fn prompt_path(&self) -> String {
        let mut out = String::from("/");
        out.push_str(&path_text(&self.cwd));
        if self.cwd.is_empty() {
            String::new()
        } else {
            out
        }
    }

    /// Runs one line. On error nothing has changed (the caller drops the working copy).
    pub fn run(
        &mut self,
        line: &str,
        config: &Config,
        rib: &RibState,
        platform: &mut dyn Platform,
    ) -> Result<LineResult, CmdError> {
        let tokens = tokenize(line)?;
        let mut exec = Exec {
            config: config.clone(),
            platform,
            rib,
            out: String::new(),
            outcome: Outcome::Prompt,
        };
        if tokens.is_empty() {
            return Ok(LineResult {
                out: exec.out,
                config: exec.config,
                outcome: exec.outcome,
            });
        }
        let resolved = resolve(self.root, &self.cwd, &tokens)?;
        let Some(command) = resolved.command else {
            self.cwd = resolved.path;
            return Ok(LineResult {
                out: exec.out,
                config: exec.config,
                outcome: exec.outcome,
            });
        };
        let menu = resolved.path.last().copied().unwrap_or(self.root);
        let key = path_text(&resolved.path);
        let rest = &tokens[resolved.next..];
        match command {
            CommandRef::Specific(cmd) => self.run_specific(&key, menu, cmd, rest, &mut exec)?,
            CommandRef::Generic(name) => {
                self.run_generic(&key, menu, &resolved.path, name, rest, &mut exec)?
            }
        }
        Ok(LineResult {
            out: exec.out,
            config: exec.config,
            outcome: exec.outcome,
        })
    }

    fn run_specific(
        &mut self,
        key: &str,
        menu: &'static Menu,
        cmd: &'static Command,
        tokens: &[Token],
        exec: &mut Exec<'_>,
    ) -> Result<(), CmdError> {
        let takes_word = cmd.items != Items::None || cmd.positional.is_some();
        let (mut positional, mut args) = parse_args(tokens, cmd.args, takes_word, exec)?;
        if let (Some(name), Some(token)) = (cmd.positional, &positional) {
            let field = find_field(cmd.args, name, token.column)?;
            let value = parse_value(field, &token.text, &exec.config, &*exec.platform)?;
            args.add(field, value, token.column)?;
            positional = None;
        }
        let items = match (cmd.items, positional, menu.kind) {
            (Items::None, _, _) => Vec::new(),
            (_, Some(token), MenuKind::Table(table)) => {
                let rows = table.rows(&exec.view());
                let ids = self.resolve_items(key, table, &token, &rows)?;
                if cmd.items == Items::One && ids.len() != 1 {
                    return Err(CmdError::ExpectedEnd {
                        column: token.column,
                    });
                }
                ids
            }
            _ => {
                return Err(CmdError::Missing {
                    arguments: String::from("numbers"),
                })
            }
        };
        check_required(cmd.required, &args)?;
        (cmd.run)(exec, &Invocation { items, args })
    }

    #[allow(clippy::too_many_arguments)]
    fn run_generic(
        &mut self,
        key: &str,
        menu: &'static Menu,
        path: &[&'static Menu],
        name: &'static str,
        tokens: &[Token],
        exec: &mut Exec<'_>,
    ) -> Result<(), CmdError> {
        if name == "export" {
            for token in tokens {
                if !matches!(token.text.as_str(), "compact" | "verbose" | "terse")
                    || token.eq.is_some()
                {
                    return Err(CmdError::ExpectedEnd {
                        column: token.column,
                    });
                }
            }
            let header = exec.platform.system_info().version;
            exec.out
                .push_str(&crate::export::export_menu(path, &exec.config, &header));
            return Ok(());
        }
        match menu.kind {
            MenuKind::Table(table) => self.run_table(key, table, name, tokens, exec),
            MenuKind::Single(single) => match name {
                "print" => {
                    for token in tokens {
                        match (token.name(), token.value()) {
                            ("interval", Some(value)) => {
                                exec.outcome = Outcome::Repeat {
                                    every_ms: interval_ms(value)?,
                                }
                            }
                            ("without-paging", None) => {}
                            _ => {
                                return Err(CmdError::ExpectedEnd {
                                    column: token.column,
                                })
                            }
                        }
                    }
                    let values = single.values(&exec.config, &*exec.platform);
                    let width = values.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
                    for (key, value) in values {
                        push_line(&mut exec.out, &format!("{key:>width$}: {value}"));
                    }
                    Ok(())
                }
                _ => {
                    let (_, args) = parse_args(tokens, single.fields(), false, exec)?;
                    single.set(&mut exec.config, &args)
                }
            },
            MenuKind::Plain => Err(CmdError::BadCommand {
                word: String::from(name),
                column: 1,
            }),
        }
    }

    fn run_table(
        &mut self,
        key: &str,
        table: &'static dyn Table,
        name: &'static str,
        tokens: &[Token],
        exec: &mut Exec<'_>,
    ) -> Result<(), CmdError> {
        match name {
            "print" => self.print(key, table, tokens, exec),
            "find" => {
                // The console shows nothing: `find` gives its items to the command around it.
                let rows = table.rows(&exec.view());
                parse_find(table, tokens, &rows)?;
                Ok(())
            }
            "add" => {
                let (_, args) = parse_args(tokens, table.fields(), false, exec)?;
                let copy_from = match args.text("copy-from") {
                    Some(text) => {
                        let token = Token {
                            text: String::from(text),
                            eq: None,
                            column: 1,
                            inner: None,
                            quoted: false,
                            raw: String::from(text),
                        };
                        let rows = table.rows(&exec.view());
                        let ids = self.resolve_items(key, table, &token, &rows)?;
                        Some(*ids.first().ok_or(CmdError::NoSuchItem)?)
                    }
                    None => None,
                };
                if copy_from.is_none() {
                    check_required(table.required(), &args)?;
                }
                table.add(&mut exec.config, &*exec.platform, &args, copy_from)?;
                Ok(())
            }
            "set" | "remove" | "enable" | "disable" => {
                let fields = if name == "set" { table.fields() } else { &[] };
                let (positional, mut args) = parse_args(tokens, fields, true, exec)?;
                let token = positional.ok_or(CmdError::Missing {
                    arguments: String::from("numbers"),
                })?;
                let rows = table.rows(&exec.view());
                let ids = self.resolve_items(key, table, &token, &rows)?;
                if name == "enable" || name == "disable" {
                    let field = table.fields().iter().find(|f| f.name == "disabled").ok_or(
                        CmdError::BadCommand {
                            word: String::from(name),
                            column: 1,
                        },
                    )?;
                    args.push(field, super::args::Value::Bool(name == "disable"));
                }
                let labels = if ids.len() > 1 {
                    labels(table.view(), &rows, &ids)
                } else {
                    Vec::new()
                };
                drop(rows);
                let remove = name == "remove";
                change_each(
                    &mut exec.config,
                    &ids,
                    &labels,
                    &mut |config, id| {
                        if remove {
                            table.remove(config, id)
                        } else {
                            table.set(config, id, &args)
                        }
                    },
                    &mut exec.out,
                )
            }
            _ => Err(CmdError::BadCommand {
                word: String::from(name),
                column: 1,
            }),
        }
    }

    fn print(
        &mut self,
        key: &str,
        table: &'static dyn Table,
        tokens: &[Token],
        exec: &mut Exec<'_>,
    ) -> Result<(), CmdError> {
        let options = PrintOptions::parse(tokens)?;
        let (view, rows) = match options.stats {
            Some(column) => table
                .stats(&exec.view())
                .ok_or(CmdError::ExpectedEnd { column })?,
            None => (table.view(), table.rows(&exec.view())),
        };
        let rows: Vec<Row> = match options.condition {
            Some(start) => {
                let filter = parse_condition(&tokens[start..], view, table.fields(), &rows)?;
                rows.into_iter()
                    .filter(|r| filter.matches(r, view))
                    .collect()
            }
            None => rows,
        };
        if !options.count_only {
            let (_, ids) = number_rows(&rows);
            self.remember(key, ids);
        }
        render(view, &rows, &options, self.width, &mut exec.out);
        if let Some(every_ms) = options.interval_ms {
            exec.outcome = Outcome::Repeat { every_ms };
        }
        Ok(())
    }

    fn remember(&mut self, key: &str, ids: Vec<ItemId>) {
        match self.numbering.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = ids,
            None => self.numbering.push((String::from(key), ids)),
        }
    }

    /// Resolves an item list among a table's `rows`: `0`, `0,2`, names, `*1F`, `[ find ... ]`.
    fn resolve_items(
        &mut self,
        key: &str,
        table: &'static dyn Table,
        token: &Token,
        rows: &[Row],
    ) -> Result<Vec<ItemId>, CmdError> {
        if let Some(inner) = &token.inner {
            let first = inner.first();
            if first.map(|t| t.text.as_str()) != Some("find") || first.is_some_and(|t| t.quoted) {
                return Err(CmdError::BadCommand {
                    word: first.map(|t| t.text.clone()).unwrap_or_default(),
                    column: token.column + 1,
                });
            }
            let filter = parse_find(table, &inner[1..], rows)?;
            return Ok(rows
                .iter()
                .filter(|r| filter.matches(r, table.view()))
                .filter_map(|r| r.id)
                .collect());
        }
        let mut ids = Vec::new();
        for part in token.text.split(',') {
            let id = if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
                let index: usize = part.parse().map_err(|_| CmdError::NoSuchItem)?;
                let numbered = match self.numbering.iter().find(|(k, _)| k == key) {
                    Some((_, ids)) => ids.clone(),
                    None => number_rows(rows).1,
                };
                let id = *numbered.get(index).ok_or(CmdError::NoSuchItem)?;
                rows.iter()
                    .find(|r| r.id == Some(id))
                    .and(Some(id))
                    .ok_or(CmdError::NoSuchItem)?
            } else if let Some(hex) = part.strip_prefix('*') {
                let id = u32::from_str_radix(hex, 16).map_err(|_| CmdError::NoSuchItem)?;
                rows.iter()
                    .find(|r| r.id == Some(id))
                    .and(Some(id))
                    .ok_or(CmdError::NoSuchItem)?
            } else {
                rows.iter()
                    .find(|r| r.id.is_some() && r.get("name").map(|c| c.text()) == Some(part))
                    .and_then(|r| r.id)
                    .ok_or(CmdError::NoSuchItem)?
            };
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(ids)
    }
}
