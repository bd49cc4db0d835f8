//! `print` output: rows of properties laid out as RouterOS lays them out. Two styles: the classic
//! one (`Flags: X - disabled`, ` #   NAME ...`, all items numbered) and the newer one used by the
//! route menus (`Flags:` groups separated by `;`, a `Columns:` line, dynamic items unnumbered,
//! narrow numeric columns with abbreviated headers). `print detail` writes `name=value` pairs
//! wrapped to the terminal width.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write;

// The layout a menu declares, which the rendering below follows.
pub use super::view::{Column, FlagSlot, Style, View};
use crate::config::ItemId;
use crate::value::quote;

/// A property value as printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    /// A string: quoted in the detail form.
    Text(String),
    /// A word, address or size: never quoted.
    Word(String),
    /// A number: right-aligned, compared numerically.
    Num(String),
}

impl Cell {
    pub fn text(&self) -> &str {
        match self {
            Cell::Text(s) | Cell::Word(s) | Cell::Num(s) => s,
        }
    }
}

/// One item as printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row {
    /// The item this row stands for, if it can be addressed.
    pub id: Option<ItemId>,
    /// Gets a number in the `#` column.
    pub numbered: bool,
    pub flags: Vec<char>,
    pub comment: String,
    pub cells: Vec<(&'static str, Cell)>,
}

impl Row {
    /// A numbered row for item `id`.
    pub fn item(id: ItemId) -> Row {
        Row {
            id: Some(id),
            numbered: true,
            ..Row::default()
        }
    }

    pub fn text(mut self, prop: &'static str, value: impl Into<String>) -> Row {
        self.cells.push((prop, Cell::Text(value.into())));
        self
    }

    pub fn word(mut self, prop: &'static str, value: impl Into<String>) -> Row {
        self.cells.push((prop, Cell::Word(value.into())));
        self
    }

    pub fn num(mut self, prop: &'static str, value: impl Into<String>) -> Row {
        self.cells.push((prop, Cell::Num(value.into())));
        self
    }

    /// The `;;; comment` line of the row.
    pub fn with_comment(mut self, comment: &str) -> Row {
        self.comment = String::from(comment);
        self
    }

    pub fn flag_if(mut self, on: bool, flag: char) -> Row {
        if on {
            self.flags.push(flag);
        }
        self
    }

    pub fn get(&self, prop: &str) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|(name, _)| *name == prop)
            .map(|(_, cell)| cell)
    }
}

/// Numbers rows the way print shows them; returns the label of each row and the ids in order.
pub fn number_rows(rows: &[Row]) -> (Vec<Option<usize>>, Vec<ItemId>) {
    let mut labels = Vec::with_capacity(rows.len());
    let mut ids = Vec::new();
    for row in rows {
        match (row.numbered, row.id) {
            (true, Some(id)) => {
                labels.push(Some(ids.len()));
                ids.push(id);
            }
            _ => labels.push(None),
        }
    }
    (labels, ids)
}

fn legend(view: &View, rows: &[Row]) -> Option<String> {
    let slots = visible_slots(view, rows);
    if slots.is_empty() {
        return None;
    }
    let group_sep = if view.style == Style::Modern {
        "; "
    } else {
        ", "
    };
    let groups: Vec<String> = slots
        .iter()
        .map(|slot| {
            slot.flags
                .iter()
                .map(|(c, name)| format!("{c} - {name}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    Some(format!("Flags: {}", groups.join(group_sep)))
}

fn visible_slots<'v>(view: &'v View, rows: &[Row]) -> Vec<&'v FlagSlot> {
    view.slots
        .iter()
        .filter(|slot| {
            !slot.optional
                || rows.iter().any(|r| {
                    r.flags
                        .iter()
                        .any(|f| slot.flags.iter().any(|(c, _)| c == f))
                })
        })
        .collect()
}

fn flag_text(slots: &[&FlagSlot], row: &Row) -> String {
    slots
        .iter()
        .map(|slot| {
            row.flags
                .iter()
                .find(|f| slot.flags.iter().any(|(c, _)| c == *f))
                .copied()
                .unwrap_or(' ')
        })
        .collect()
}

/// Renders the prefix (number and flags) of every row, plus the header's prefix.
pub(crate) fn prefixes(view: &View, rows: &[Row]) -> (String, Vec<String>) {
    let (labels, ids) = number_rows(rows);
    let slots = visible_slots(view, rows);
    let digits = ids.len().saturating_sub(1).to_string().len();
    let width = digits.max(2);
    let mut head = String::new();
    let mut out = Vec::with_capacity(rows.len());
    for (row, label) in rows.iter().zip(&labels) {
        let mut p = String::new();
        if view.numbers {
            let n = label.map(|n| n.to_string()).unwrap_or_default();
            match view.style {
                Style::Classic => {
                    let _ = write!(p, "{n:>width$} ");
                }
                Style::Modern => {
                    let _ = write!(p, "{n:<width$} ");
                }
            }
        }
        if !slots.is_empty() {
            p.push_str(&flag_text(&slots, row));
            p.push(' ');
        }
        out.push(p);
    }
    if view.numbers {
        match view.style {
            Style::Classic => {
                let _ = write!(head, "{:>width$} ", "#");
            }
            Style::Modern => {
                let _ = write!(head, "{:<width$} ", "#");
            }
        }
    }
    if !slots.is_empty() {
        head.push_str(&" ".repeat(slots.len() + 1));
    }
    (head, out)
}

/// `print` in table form.
pub fn render_table(view: &View, rows: &[Row], out: &mut String) {
    if let Some(text) = legend(view, rows) {
        push_line(out, &text);
    }
    let columns = view.columns;
    let numeric: Vec<bool> = columns
        .iter()
        .map(|c| {
            rows.iter()
                .any(|r| matches!(r.get(c.prop), Some(Cell::Num(_))))
        })
        .collect();
    let value_width: Vec<usize> = columns
        .iter()
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c.prop).map_or(0, |v| v.text().chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let headers: Vec<String> = columns
        .iter()
        .zip(&value_width)
        .map(|(c, &w)| {
            if view.style == Style::Modern && c.abbreviate && w < c.header.len() {
                String::from(&c.header[..w.max(1)])
            } else {
                String::from(c.header)
            }
        })
        .collect();
    if view.style == Style::Modern {
        let names: Vec<String> = columns
            .iter()
            .zip(&headers)
            .map(|(c, h)| {
                let mut name = String::from(&c.header[..h.len()]);
                name.push_str(&c.header[h.len()..].to_ascii_lowercase());
                name
            })
            .collect();
        push_line(out, &format!("Columns: {}", names.join(", ")));
    }
    let widths: Vec<usize> = headers
        .iter()
        .zip(&value_width)
        .map(|(h, &w)| w.max(h.len()))
        .collect();
    let (head_prefix, row_prefixes) = prefixes(view, rows);
    let line = |prefix: &str, cells: Vec<String>| {
        let mut text = String::from(prefix);
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                text.push(' ');
            }
            let w = widths[i];
            if numeric[i] {
                let _ = write!(text, "{cell:>w$}");
            } else {
                let _ = write!(text, "{cell:<w$}");
            }
        }
        text
    };
    push_line(out, &line(&head_prefix, headers.clone()));
    for (row, prefix) in rows.iter().zip(&row_prefixes) {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| {
                row.get(c.prop)
                    .map(|v| String::from(v.text()))
                    .unwrap_or_default()
            })
            .collect();
        if !row.comment.is_empty() {
            push_line(out, &format!("{prefix};;; {}", row.comment));
            push_line(out, &line(&" ".repeat(prefix.chars().count()), cells));
        } else {
            push_line(out, &line(prefix, cells));
        }
    }
}

/// `print detail`: `name=value` pairs wrapped at `width`, a blank line after each item.
pub fn render_detail(view: &View, rows: &[Row], width: usize, out: &mut String) {
    if let Some(text) = legend(view, rows) {
        push_line(out, &text);
    }
    let (_, row_prefixes) = prefixes(view, rows);
    for (row, prefix) in rows.iter().zip(&row_prefixes) {
        let indent = " ".repeat(prefix.chars().count());
        let mut line = prefix.clone();
        let mut empty = true;
        if !row.comment.is_empty() {
            push_line(out, &format!("{prefix};;; {}", row.comment));
            line = indent.clone();
        }
        for (name, cell) in &row.cells {
            let pair = match cell {
                Cell::Text(text) => format!("{name}={}", quote(text)),
                Cell::Word(text) | Cell::Num(text) => format!("{name}={text}"),
            };
            if !empty && line.chars().count() + 1 + pair.chars().count() > width {
                push_line(out, &line);
                line = indent.clone();
                empty = true;
            }
            if !empty {
                line.push(' ');
            }
            line.push_str(&pair);
            empty = false;
        }
        push_line(out, &line);
        out.push('\n');
    }
}

/// Appends `text` as a line, without trailing spaces.
pub fn push_line(out: &mut String, text: &str) {
    out.push_str(text.trim_end());
    out.push('\n');
}

/// The words a `where` clause may use for the flags of a view (`disabled`, `dynamic`, ...).
pub fn flag_word(view: &View, word: &str) -> Option<char> {
    view.slots
        .iter()
        .flat_map(|slot| slot.flags.iter())
        .find(|(_, name)| name.eq_ignore_ascii_case(word))
        .map(|(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    static SLOTS: [FlagSlot; 1] = [FlagSlot {
        flags: &[('X', "disabled")],
        optional: false,
    }];
    static COLS: [Column; 2] = [
        Column {
            prop: "name",
            header: "NAME",
            abbreviate: false,
        },
        Column {
            prop: "distance",
            header: "DISTANCE",
            abbreviate: true,
        },
    ];
    static CLASSIC: View = View {
        style: Style::Classic,
        slots: &SLOTS,
        columns: &COLS,
        detail_default: false,
        numbers: true,
    };
    static MODERN: View = View {
        style: Style::Modern,
        slots: &SLOTS,
        columns: &COLS,
        detail_default: false,
        numbers: true,
    };

    fn rows() -> Vec<Row> {
        alloc::vec![
            Row::item(1).text("name", "a").num("distance", "1"),
            Row::item(2)
                .flag_if(true, 'X')
                .text("name", "bb")
                .num("distance", "10"),
            Row {
                numbered: false,
                ..Row::default()
            }
            .text("name", "dyn")
            .num("distance", "0"),
        ]
    }

    #[test]
    fn classic_table() {
        let mut out = String::new();
        render_table(&CLASSIC, &rows(), &mut out);
        assert_eq!(
            out,
            "Flags: X - disabled\n #   NAME DISTANCE\n 0   a           1\n 1 X bb         10\n     dyn         0\n"
        );
    }

    #[test]
    fn modern_table_abbreviates() {
        let mut out = String::new();
        render_table(&MODERN, &rows(), &mut out);
        assert_eq!(
            out,
            "Flags: X - disabled\nColumns: NAME, DIstance\n#    NAME DI\n0    a     1\n1  X bb   10\n     dyn   0\n"
        );
    }

    #[test]
    fn detail_wraps() {
        let mut out = String::new();
        let row = Row::item(1)
            .text("name", "bridge1")
            .word("mac-address", "00:00:00:00:00:00");
        render_detail(&CLASSIC, &[row], 30, &mut out);
        assert_eq!(
            out,
            "Flags: X - disabled\n 0   name=\"bridge1\"\n     mac-address=00:00:00:00:00:00\n\n"
        );
    }
}
