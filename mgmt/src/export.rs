//! `export`: the configuration as a script of commands that, run on an empty box, recreates it.
//! The saved configuration is the same script plus what `export` never shows: the box's MAC
//! seed, which file each virtual machine's image was imported from, and the users with their
//! password hashes.
//!
//! The menus write their own lines (`Table::export`), with the helpers of
//! [`crate::script_line`]; this module puts the menus' lines together in order.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::cli::menu::{Menu, MenuKind};
use crate::config::Config;
use crate::menus::{find_menu, path_string, EXPORT_ORDER};

fn section_lines(menu: &Menu, config: &Config) -> Vec<String> {
    match menu.kind {
        MenuKind::Table(table) => table.export(config),
        MenuKind::Single(single) => single.export(config),
        MenuKind::Plain => Vec::new(),
    }
}

fn sections(prefix: &[&str], config: &Config, out: &mut String) {
    for path in EXPORT_ORDER.iter() {
        if !path.starts_with(prefix) {
            continue;
        }
        let Some(menu) = find_menu(path) else {
            continue;
        };
        let lines = section_lines(menu, config);
        if lines.is_empty() {
            continue;
        }
        out.push_str(&path_string(path));
        out.push('\n');
        for line in lines {
            out.push_str(&line);
            out.push('\n');
        }
    }
}

/// `export` in the menu at `path` (the root exports everything).
pub fn export_menu(path: &[&'static Menu], config: &Config, version: &str) -> String {
    let names: Vec<&str> = path.iter().map(|m| m.name).collect();
    let mut out = format!("# software version {version}\n");
    sections(&names, config, &mut out);
    out
}
