//! `?` and Tab: what can follow the text before the cursor (menus and commands, argument names,
//! values), and completion of the word being typed.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use routing::index_sort::sort_indexes;

use super::args::{find_field, value_choices, Field};
use super::lex::tokenize_partial;
use super::menu::{Menu, MenuKind};
use super::resolve::{lookup, words_of, CommandRef, Word};
use crate::config::Config;
use crate::platform::Platform;
use crate::value::{needs_quotes, quote};

/// Words `print` takes.
const PRINT_WORDS: &[(&str, &str)] = &[
    ("as-value", "Print the items as a script array"),
    ("brief", "Print in table form"),
    ("count-only", "Print only the number of items"),
    ("detail", "Print every property"),
    (
        "interval",
        "Print again every interval until a key is pressed",
    ),
    ("stats", "Print traffic counters"),
    ("terse", "Print one line of name=value pairs per item"),
    (
        "value-list",
        "Print one line per property, one column per item",
    ),
    ("where", "Print only items that match an expression"),
    ("without-paging", "Print without stopping after a page"),
];

/// What the cursor is in.
enum Place {
    /// A menu or command name in `menu` (`partial` typed so far; `prefix` is a path already
    /// typed in the same word, like `/ip/`).
    Word {
        menu: &'static Menu,
        partial: String,
    },
    /// An argument name of a command.
    ArgName {
        fields: &'static [Field],
        words: &'static [(&'static str, &'static str)],
        partial: String,
    },
    /// A value of an argument.
    Value {
        field: &'static Field,
        partial: String,
    },
    /// Nothing can be said (after `where`, in brackets, or past an error).
    Unknown,
}

fn command_fields(
    menu: &'static Menu,
    command: CommandRef,
) -> (&'static [Field], &'static [(&'static str, &'static str)]) {
    match command {
        CommandRef::Specific(cmd) => (cmd.args, &[]),
        CommandRef::Generic(name) => match (menu.kind, name) {
            (MenuKind::Table(table), "add" | "set") => (table.fields(), &[]),
            (MenuKind::Table(_), "print") => (&[], PRINT_WORDS),
            (MenuKind::Single(single), "set") => (single.fields(), &[]),
            _ => (&[], &[]),
        },
    }
}

fn place(root: &'static Menu, cwd: &[&'static Menu], before: &str) -> Place {
    let partial = tokenize_partial(before);
    let mut tokens = partial.tokens;
    let current = if partial.in_word { tokens.pop() } else { None };
    let mut path: Vec<&'static Menu> = cwd.to_vec();
    let mut command: Option<CommandRef> = None;
    for (index, token) in tokens.iter().enumerate() {
        if command.is_some() {
            if token.text == "where" || token.inner.is_some() {
                return Place::Unknown;
            }
            continue;
        }
        let mut text = token.text.as_str();
        if index == 0 && text.starts_with('/') {
            path.clear();
        }
        text = text.trim_start_matches('/');
        for segment in text.split('/').filter(|s| !s.is_empty()) {
            if segment == ".." {
                path.pop();
                continue;
            }
            let menu = path.last().copied().unwrap_or(root);
            match lookup(menu, segment, 1) {
                Ok(Word::Child(child)) => path.push(child),
                Ok(Word::Command(c)) => command = Some(c),
                Err(_) => return Place::Unknown,
            }
        }
    }
    let menu = path.last().copied().unwrap_or(root);
    let typed = current.map(|t| t.text).unwrap_or_default();
    match command {
        None => {
            // A word with slashes: resolve the complete segments first.
            let start_root = tokens.is_empty() && typed.starts_with('/');
            let mut path = if start_root { Vec::new() } else { path };
            let trimmed = typed.trim_start_matches('/');
            let mut segments: Vec<&str> = trimmed.split('/').collect();
            let last = segments.pop().unwrap_or("");
            for segment in segments.iter().filter(|s| !s.is_empty()) {
                if *segment == ".." {
                    path.pop();
                    continue;
                }
                match lookup(path.last().copied().unwrap_or(root), segment, 1) {
                    Ok(Word::Child(child)) => path.push(child),
                    _ => return Place::Unknown,
                }
            }
            Place::Word {
                menu: path.last().copied().unwrap_or(root),
                partial: String::from(last),
            }
        }
        Some(command) => {
            let (fields, words) = command_fields(menu, command);
            match typed.split_once('=') {
                Some((name, value)) => match find_field(fields, name, 1) {
                    Ok(field) => Place::Value {
                        field,
                        partial: String::from(value),
                    },
                    Err(_) => Place::Unknown,
                },
                None => Place::ArgName {
                    fields,
                    words,
                    partial: typed,
                },
            }
        }
    }
}

fn two_columns(entries: &[(String, String)], out: &mut String) {
    let width = entries.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, help) in entries {
        if help.is_empty() {
            let _ = writeln!(out, "{name}");
        } else {
            let _ = writeln!(out, "{name:<width$} -- {help}");
        }
    }
}

/// The text `?` prints for the line before the cursor.
pub fn help(
    root: &'static Menu,
    cwd: &[&'static Menu],
    before: &str,
    config: &Config,
    platform: &dyn Platform,
) -> String {
    let mut entries: Vec<(String, String)> = Vec::new();
    match place(root, cwd, before) {
        Place::Word { menu, .. } => {
            entries.push((String::from(".."), String::from("go up one level")));
            entries.push((String::from("/"), String::from("go to the root menu")));
            entries.extend(
                words_of(menu)
                    .into_iter()
                    .map(|(n, h)| (String::from(n), String::from(h))),
            );
        }
        Place::ArgName { fields, words, .. } => {
            entries.extend(
                fields
                    .iter()
                    .map(|f| (String::from(f.name), String::from(f.help))),
            );
            entries.extend(
                words
                    .iter()
                    .map(|(n, h)| (String::from(*n), String::from(*h))),
            );
            entries.push((String::from("<enter>"), String::from("run the command")));
        }
        Place::Value { field, .. } => {
            entries.push((String::from(field.name), String::from(field.help)));
            let choices = value_choices(field, config, platform);
            if !choices.is_empty() {
                entries.push((String::from("values"), choices.join(", ")));
            }
        }
        Place::Unknown => entries.push((String::from("<enter>"), String::from("run the command"))),
    }
    let mut out = String::new();
    two_columns(&entries, &mut out);
    out
}

/// Result of Tab.
#[derive(Debug, PartialEq, Eq)]
pub struct Completion {
    /// Characters to delete before the cursor first (to quote a completed value).
    pub erase: usize,
    /// Text to insert at the cursor.
    pub insert: String,
    /// Candidates to list (when the word cannot be completed further).
    pub list: Vec<String>,
}

/// Completes the word before the cursor.
pub fn complete(
    root: &'static Menu,
    cwd: &[&'static Menu],
    before: &str,
    config: &Config,
    platform: &dyn Platform,
) -> Completion {
    let (candidates, partial, suffix): (Vec<String>, String, &str) = match place(root, cwd, before)
    {
        Place::Word { menu, partial } => (
            words_of(menu)
                .into_iter()
                .map(|(n, _)| String::from(n))
                .collect(),
            partial,
            " ",
        ),
        Place::ArgName {
            fields,
            words,
            partial,
        } => {
            let mut names: Vec<String> = fields.iter().map(|f| format!("{}=", f.name)).collect();
            names.extend(words.iter().map(|(n, _)| format!("{n} ")));
            (names, partial, "")
        }
        Place::Value { field, partial } => (value_choices(field, config, platform), partial, " "),
        Place::Unknown => (Vec::new(), String::new(), ""),
    };
    let matching: Vec<&String> = candidates
        .iter()
        .filter(|c| c.starts_with(partial.as_str()))
        .collect();
    match matching.as_slice() {
        [] => Completion {
            erase: 0,
            insert: String::new(),
            list: Vec::new(),
        },
        // Argument names (`name=`) and print words (`terse `) are never quoted.
        [only] if needs_quotes(only) && !only.ends_with(['=', ' ']) => {
            let mut insert = quote(only);
            insert.push_str(suffix);
            Completion {
                erase: partial.chars().count(),
                insert,
                list: Vec::new(),
            }
        }
        [only] => {
            let mut insert = String::from(&only[partial.len()..]);
            if !insert.ends_with(['=', ' ']) {
                insert.push_str(suffix);
            }
            Completion {
                erase: 0,
                insert,
                list: Vec::new(),
            }
        }
        many => {
            let first = many[0].as_str();
            let common = many.iter().fold(first.len(), |len, c| {
                first
                    .bytes()
                    .zip(c.bytes())
                    .take(len)
                    .take_while(|(a, b)| a == b)
                    .count()
            });
            if common > partial.len() {
                Completion {
                    erase: 0,
                    insert: String::from(&first[partial.len()..common]),
                    list: Vec::new(),
                }
            } else {
                let list = many
                    .iter()
                    .map(|c| String::from(c.trim_end_matches([' ', '='])))
                    .collect();
                Completion {
                    erase: 0,
                    insert: String::new(),
                    list,
                }
            }
        }
    }
}

/// Lays out names in columns, filled top to bottom, within `width`.
pub fn columns(names: &[String], width: usize) -> String {
    let mut order: Vec<u32> = (0..names.len() as u32).collect();
    sort_indexes(&mut order, &|a, b| names[a].cmp(&names[b]));
    let sorted: Vec<&String> = order.iter().map(|&i| &names[i as usize]).collect();
    let cell = sorted.iter().map(|n| n.len()).max().unwrap_or(0) + 2;
    let per_line = (width / cell.max(1)).max(1);
    let rows = sorted.len().div_ceil(per_line);
    let mut out = String::new();
    for row in 0..rows {
        let mut line = String::new();
        let mut col = 0;
        while let Some(name) = sorted.get(col * rows + row) {
            let _ = write!(line, "{name:<cell$}");
            col += 1;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
