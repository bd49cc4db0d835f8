//! Commands over several items (`set 0,2 ...`, `remove [ find ... ]`, `/metarouter start
//! [ find ]`): every item that can be changed is changed; each item that cannot is reported on
//! a line of its own that names it (`mr1: failure: virtual machine is disabled`), and the
//! command goes on with the next. The changes made are one configuration change, applied and
//! saved by the shell like any other. A command over a single item keeps its plain error and
//! changes nothing when it fails.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::error::CmdError;
use super::table::{push_line, Row};
use super::view::View;
use crate::config::{Config, ItemId};

/// How an item is named in a failure line: its first printed column (the name, the address,
/// the destination), else its internal id `*N`.
pub fn item_label(view: &View, row: &Row) -> String {
    view.columns
        .first()
        .and_then(|c| row.get(c.prop))
        .or_else(|| row.get("name"))
        .map(|cell| String::from(cell.text()))
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| row.id.map(|id| format!("*{id:X}")).unwrap_or_default())
}

/// The labels of `items` among `rows`.
pub fn labels(view: &View, rows: &[Row], items: &[ItemId]) -> Vec<String> {
    items
        .iter()
        .map(|&id| {
            rows.iter()
                .find(|r| r.id == Some(id))
                .map_or_else(|| format!("*{id:X}"), |row| item_label(view, row))
        })
        .collect()
}

fn report(out: &mut String, label: &str, error: &CmdError) {
    push_line(out, &format!("{label}: {}", error.message()));
}

/// Applies `change` to each of `items` in `config`. One item: its error is the command's.
/// Several: a failure is reported in `out` with the item's label (`labels[i]` for `items[i]`)
/// and the other items still change. A failed change may have been half made, so after one the
/// configuration is rebuilt from `original` and the changes that succeeded (each change is a
/// function of the configuration, so redoing it gives the same result).
pub fn change_each(
    config: &mut Config,
    items: &[ItemId],
    labels: &[String],
    change: &mut dyn FnMut(&mut Config, ItemId) -> Result<(), CmdError>,
    out: &mut String,
) -> Result<(), CmdError> {
    if let [only] = items {
        return change(config, *only);
    }
    let original = config.clone();
    let mut done: Vec<ItemId> = Vec::with_capacity(items.len());
    for (i, &id) in items.iter().enumerate() {
        match change(config, id) {
            Ok(()) => done.push(id),
            Err(error) => {
                report(out, labels.get(i).map_or("", String::as_str), &error);
                *config = original.clone();
                done.retain(|&d| change(config, d).is_ok());
            }
        }
    }
    Ok(())
}

/// Runs `act` (an action on the machine, e.g. starting a guest) for each of `items`. One item:
/// its error is the command's. Several: each failure is reported in `out` with the item's
/// label and the other items are still acted on.
pub fn act_each<T>(
    items: &[T],
    label: &dyn Fn(&T) -> String,
    act: &mut dyn FnMut(&T) -> Result<(), CmdError>,
    out: &mut String,
) -> Result<(), CmdError> {
    if let [only] = items {
        return act(only);
    }
    for item in items {
        if let Err(error) = act(item) {
            report(out, &label(item), &error);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three ports, items 0, 1 and 2, named a, b and c.
    fn config() -> Config {
        let mut config = Config::new(3);
        for (port, name) in config.ethernet.iter_mut().zip(["a", "b", "c"]) {
            port.name = String::from(name);
        }
        config
    }

    /// Renames a port, but leaves a half-made change behind when it refuses one (`b`).
    fn rename(config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        let port = config
            .ethernet
            .get_mut(id as usize)
            .ok_or(CmdError::NoSuchItem)?;
        port.comment = String::from("touched");
        if port.name == "b" {
            return Err(CmdError::failure("refused"));
        }
        port.name.push('!');
        Ok(())
    }

    #[test]
    fn several_items_go_on_past_a_failure_and_drop_its_half_change() {
        let mut config = config();
        let mut out = String::new();
        let labels = alloc::vec![String::from("a"), String::from("b"), String::from("c")];
        change_each(&mut config, &[0, 1, 2], &labels, &mut rename, &mut out).unwrap();
        assert_eq!(out, "b: failure: refused\n");
        let names: Vec<&str> = config.ethernet.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a!", "b", "c!"]);
        assert_eq!(config.ethernet[1].comment, "");
    }

    #[test]
    fn one_item_fails_as_a_whole() {
        let mut config = config();
        let mut out = String::new();
        let labels = alloc::vec![String::from("b")];
        let error = change_each(&mut config, &[1], &labels, &mut rename, &mut out).unwrap_err();
        assert_eq!(error, CmdError::failure("refused"));
        assert!(out.is_empty());
    }

    #[test]
    fn actions_report_each_failure() {
        let mut out = String::new();
        let mut acted = Vec::new();
        act_each(
            &[1, 2, 3],
            &|n| format!("mr{n}"),
            &mut |&n| {
                if n == 2 {
                    return Err(CmdError::failure("virtual machine is disabled"));
                }
                acted.push(n);
                Ok(())
            },
            &mut out,
        )
        .unwrap();
        assert_eq!(acted, [1, 3]);
        assert_eq!(out, "mr2: failure: virtual machine is disabled\n");
    }
}
