//! The `print` forms besides the table and the detail form ([`super::table`]):
//!
//! - `terse`: one line per item, its number and flags, then `prop=value` pairs, unquoted, the
//!   comment first as `comment=...` (the form scripts parse);
//! - `value-list`: one line per property, `prop: v1 v2 ...`, one column per item;
//! - `as-value`: the items as a script array, printed as `:put` prints one: each item's
//!   `.id=*N` and `prop=value` pairs in name order, joined by `;`, items joined by `;`. Without
//!   `detail` an item has the properties of the table form (and its comment), with `detail`
//!   all of them.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use routing::index_sort::sort_indexes;

use super::table::{prefixes, push_line, Row};
use super::view::View;

/// `print terse`.
pub fn render_terse(view: &View, rows: &[Row], out: &mut String) {
    let (_, row_prefixes) = prefixes(view, rows);
    for (row, prefix) in rows.iter().zip(&row_prefixes) {
        let mut line = prefix.clone();
        if !row.comment.is_empty() {
            let _ = write!(line, "comment={} ", row.comment);
        }
        for (name, cell) in &row.cells {
            let _ = write!(line, "{name}={} ", cell.text());
        }
        push_line(out, &line);
    }
}

/// The properties of `rows` in order of first appearance, `comment` first if any row has one.
fn property_names(rows: &[Row]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    if rows.iter().any(|r| !r.comment.is_empty()) {
        names.push("comment");
    }
    for row in rows {
        for (name, _) in &row.cells {
            if !names.contains(name) {
                names.push(name);
            }
        }
    }
    names
}

fn value_of<'r>(row: &'r Row, name: &str) -> &'r str {
    if name == "comment" {
        return &row.comment;
    }
    row.get(name).map_or("", |c| c.text())
}

/// `print value-list`: names right-aligned, one column per item, each as wide as its longest
/// value.
pub fn render_value_list(rows: &[Row], out: &mut String) {
    let names = property_names(rows);
    let name_width = names.iter().map(|n| n.len()).max().unwrap_or(0) + 4;
    let widths: Vec<usize> = rows
        .iter()
        .map(|row| {
            names
                .iter()
                .map(|n| value_of(row, n).chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for name in &names {
        let mut line = format!("{name:>name_width$}: ");
        for (row, width) in rows.iter().zip(&widths) {
            let _ = write!(line, "{:<width$} ", value_of(row, name));
        }
        push_line(out, &line);
    }
}

/// `print as-value` (`all`: with `detail`).
pub fn render_as_value(view: &View, rows: &[Row], all: bool, out: &mut String) {
    let mut items: Vec<String> = Vec::with_capacity(rows.len());
    for row in rows {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(id) = row.id {
            pairs.push((".id", format!("*{id:X}")));
        }
        if !row.comment.is_empty() {
            pairs.push(("comment", row.comment.clone()));
        }
        for (name, cell) in &row.cells {
            if all || view.columns.iter().any(|c| c.prop == *name) {
                pairs.push((name, String::from(cell.text())));
            }
        }
        let mut order: Vec<u32> = (0..pairs.len() as u32).collect();
        sort_indexes(&mut order, &|a, b| pairs[a].0.cmp(pairs[b].0));
        let item: Vec<String> = order
            .iter()
            .map(|&i| {
                let (name, value) = &pairs[i as usize];
                format!("{name}={value}")
            })
            .collect();
        items.push(item.join(";"));
    }
    push_line(out, &items.join(";"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::view::{Column, FlagSlot};

    static VIEW: View = View::classic(
        &[FlagSlot::new(&[('X', "disabled"), ('R', "running")])],
        &[Column::new("name", "NAME"), Column::new("mtu", "MTU")],
    );

    fn rows() -> Vec<Row> {
        alloc::vec![
            Row::item(1)
                .flag_if(true, 'R')
                .text("name", "ether1")
                .num("mtu", "1500")
                .word("mac-address", "4C:5E:0C:10:00:01"),
            Row::item(0x1F)
                .flag_if(true, 'X')
                .text("name", "my bridge")
                .num("mtu", "9000")
                .with_comment("uplink"),
        ]
    }

    fn lines(out: &str) -> Vec<&str> {
        out.lines().collect()
    }

    #[test]
    fn terse_lines() {
        let mut out = String::new();
        render_terse(&VIEW, &rows(), &mut out);
        assert_eq!(
            lines(&out),
            [
                " 0 R name=ether1 mtu=1500 mac-address=4C:5E:0C:10:00:01",
                " 1 X comment=uplink name=my bridge mtu=9000",
            ]
        );
    }

    #[test]
    fn value_list_columns() {
        let mut out = String::new();
        render_value_list(&rows(), &mut out);
        assert_eq!(
            lines(&out),
            [
                "        comment:                   uplink",
                "           name: ether1            my bridge",
                "            mtu: 1500              9000",
                "    mac-address: 4C:5E:0C:10:00:01",
            ]
        );
    }

    #[test]
    fn as_value_array() {
        let mut out = String::new();
        render_as_value(&VIEW, &rows(), false, &mut out);
        assert_eq!(
            out,
            ".id=*1;mtu=1500;name=ether1;.id=*1F;comment=uplink;mtu=9000;name=my bridge\n"
        );
        let mut out = String::new();
        render_as_value(&VIEW, &rows()[..1], true, &mut out);
        assert_eq!(
            out,
            ".id=*1;mac-address=4C:5E:0C:10:00:01;mtu=1500;name=ether1\n"
        );
    }
}
