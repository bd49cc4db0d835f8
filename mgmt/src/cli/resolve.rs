//! Resolution of the start of a line: menu paths (absolute, relative, `..`, `/`, `a/b`), and
//! the command word, each by exact name or unique prefix among a menu's submenus and commands.

use alloc::string::String;
use alloc::vec::Vec;

use routing::index_sort::sort_indexes;

use super::error::CmdError;
use super::lex::Token;
use super::menu::{generic_commands, Command, Menu};

/// A resolved command word.
#[derive(Clone, Copy)]
pub enum CommandRef {
    Generic(&'static str),
    Specific(&'static Command),
}

/// What a word names in a menu.
#[derive(Clone, Copy)]
pub enum Word {
    Child(&'static Menu),
    Command(CommandRef),
}

/// Looks `word` up among a menu's submenus and commands (exact, or unique prefix).
pub fn lookup(menu: &'static Menu, word: &str, column: usize) -> Result<Word, CmdError> {
    let mut names: Vec<(&'static str, Word)> = menu
        .children
        .iter()
        .map(|c| (c.name, Word::Child(c)))
        .collect();
    names.extend(
        menu.commands
            .iter()
            .map(|c| (c.name, Word::Command(CommandRef::Specific(c)))),
    );
    for (name, _) in generic_commands(menu.kind) {
        names.push((name, Word::Command(CommandRef::Generic(name))));
    }
    names.push(("export", Word::Command(CommandRef::Generic("export"))));
    if let Some((_, w)) = names.iter().find(|(n, _)| *n == word) {
        return Ok(*w);
    }
    let mut matches: Vec<&(&str, Word)> = names
        .iter()
        .filter(|(n, _)| !word.is_empty() && n.starts_with(word))
        .collect();
    matches.dedup_by_key(|(n, _)| *n);
    match matches.len() {
        1 => Ok(matches[0].1),
        0 => Err(CmdError::BadCommand {
            word: String::from(word),
            column,
        }),
        _ => Err(CmdError::AmbiguousCommand {
            word: String::from(word),
            column,
        }),
    }
}

/// Every name a word could take in `menu` (for help and completion), sorted.
pub fn words_of(menu: &'static Menu) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = menu.children.iter().map(|c| (c.name, c.help)).collect();
    out.extend(menu.commands.iter().map(|c| (c.name, c.help)));
    out.extend(generic_commands(menu.kind));
    if !out.iter().any(|(n, _)| *n == "export") {
        out.push(("export", "Print or save an export script"));
    }
    let mut order: Vec<u32> = (0..out.len() as u32).collect();
    sort_indexes(&mut order, &|a, b| out[a].cmp(&out[b]));
    let mut sorted: Vec<(&str, &str)> = order.iter().map(|&i| out[i as usize]).collect();
    sorted.dedup_by_key(|(n, _)| *n);
    sorted
}

/// Result of resolving the start of a line.
pub struct Resolved {
    pub path: Vec<&'static Menu>,
    pub command: Option<CommandRef>,
    /// Index of the first token after the command (or after the path).
    pub next: usize,
}

/// Resolves the menu path and command word at the start of `tokens`.
pub fn resolve(
    root: &'static Menu,
    cwd: &[&'static Menu],
    tokens: &[Token],
) -> Result<Resolved, CmdError> {
    let mut path: Vec<&'static Menu> = cwd.to_vec();
    for (index, token) in tokens.iter().enumerate() {
        if token.eq.is_some() || token.inner.is_some() || token.quoted {
            return Err(CmdError::BadCommand {
                word: token.text.clone(),
                column: token.column,
            });
        }
        let mut text = token.text.as_str();
        let mut column = token.column;
        if index == 0 && text.starts_with('/') {
            path.clear();
        }
        while let Some(rest) = text.strip_prefix('/') {
            text = rest;
            column += 1;
        }
        let segments: Vec<&str> = text.split('/').collect();
        for (i, segment) in segments.iter().enumerate() {
            let last_segment = i + 1 == segments.len();
            if segment.is_empty() {
                column += 1;
                continue;
            }
            if *segment == ".." {
                path.pop();
            } else {
                let menu = path.last().copied().unwrap_or(root);
                match lookup(menu, segment, column)? {
                    Word::Child(child) => path.push(child),
                    Word::Command(command) if last_segment => {
                        return Ok(Resolved {
                            path,
                            command: Some(command),
                            next: index + 1,
                        });
                    }
                    Word::Command(_) => {
                        return Err(CmdError::BadCommand {
                            word: String::from(*segment),
                            column,
                        })
                    }
                }
            }
            column += segment.len() + 1;
        }
    }
    Ok(Resolved {
        path,
        command: None,
        next: tokens.len(),
    })
}

/// Text path of a menu path (`/ip address`).
pub fn path_text(path: &[&'static Menu]) -> String {
    let mut out = String::new();
    for menu in path {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(menu.name);
    }
    out
}
