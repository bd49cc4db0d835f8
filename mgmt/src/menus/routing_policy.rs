//! `/routing table` and `/routing rule`: routing tables besides `main`, and policy rules in
//! evaluation order.

use alloc::string::String;
use alloc::vec::Vec;

use super::routes;
use crate::cli::args::{Args, Field, Kind, RefKind};
use crate::cli::error::CmdError;
use crate::cli::menu::Table;
use crate::cli::table::{Column, FlagSlot, Row, Style, View};
use crate::config::{Config, ItemId, RoutingRule, RoutingTable, RULE_ACTIONS};
use crate::export::push_pair;
use crate::platform::Platform;
use crate::value::quote_if_needed;

static TABLE_FIELDS: [Field; 3] = [
    Field {
        name: "comment",
        kind: Kind::Text,
        help: "Short description of the item",
    },
    Field {
        name: "fib",
        kind: Kind::Flag,
        help: "Install the table in the FIB (usable for forwarding)",
    },
    Field {
        name: "name",
        kind: Kind::Name,
        help: "Table name",
    },
];

static TABLE_VIEW: View = View {
    style: Style::Modern,
    slots: &[FlagSlot {
        flags: &[('D', "dynamic")],
        optional: false,
    }],
    columns: &[
        Column {
            prop: "name",
            header: "NAME",
            abbreviate: false,
        },
        Column {
            prop: "fib",
            header: "FIB",
            abbreviate: false,
        },
    ],
    detail_default: false,
    numbers: true,
};

/// `/routing table`.
pub struct Tables;

impl Table for Tables {
    fn view(&self) -> &'static View {
        &TABLE_VIEW
    }

    fn fields(&self) -> &'static [Field] {
        &TABLE_FIELDS
    }

    fn required(&self) -> &'static [&'static str] {
        &["name"]
    }

    fn rows(&self, config: &Config, _platform: &dyn Platform) -> Vec<Row> {
        let main = Row {
            numbered: false,
            ..Row::default()
        }
        .flag_if(true, 'D')
        .text("name", "main")
        .word("fib", "yes");
        let mut rows = alloc::vec![main];
        rows.extend(config.routing_tables.iter().map(|t| {
            let mut row = Row::item(t.id)
                .text("name", t.name.clone())
                .word("fib", if t.fib { "yes" } else { "no" });
            row.comment = t.comment.clone();
            row
        }));
        rows
    }

    fn add(
        &self,
        config: &mut Config,
        _platform: &dyn Platform,
        args: &Args,
        _copy_from: Option<ItemId>,
    ) -> Result<ItemId, CmdError> {
        let id = config.new_id();
        let mut table = RoutingTable {
            id,
            name: String::new(),
            fib: false,
            comment: String::new(),
        };
        routes::apply_table(config, &mut table, args)?;
        config.routing_tables.push(table);
        Ok(id)
    }

    fn set(
        &self,
        config: &mut Config,
        _platform: &dyn Platform,
        id: ItemId,
        args: &Args,
    ) -> Result<(), CmdError> {
        let index = config
            .routing_tables
            .iter()
            .position(|t| t.id == id)
            .ok_or(CmdError::NoSuchItem)?;
        let mut table = config.routing_tables[index].clone();
        routes::apply_table(config, &mut table, args)?;
        let old_name = core::mem::replace(&mut config.routing_tables[index], table.clone()).name;
        routes::rename_table(config, &old_name, &table.name);
        Ok(())
    }

    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        let index = config
            .routing_tables
            .iter()
            .position(|t| t.id == id)
            .ok_or(CmdError::NoSuchItem)?;
        if routes::table_in_use(config, &config.routing_tables[index].name) {
            return Err(CmdError::failure("routing table is in use"));
        }
        config.routing_tables.remove(index);
        Ok(())
    }

    fn export(&self, config: &Config) -> Vec<String> {
        config
            .routing_tables
            .iter()
            .map(|t| {
                let mut line = String::from("add");
                if !t.comment.is_empty() {
                    push_pair(&mut line, "comment", &quote_if_needed(&t.comment));
                }
                if t.fib {
                    line.push_str(" fib");
                }
                push_pair(&mut line, "name", &quote_if_needed(&t.name));
                line
            })
            .collect()
    }
}

static RULE_FIELDS: [Field; 8] = [
    Field {
        name: "action",
        kind: Kind::Choice(RULE_ACTIONS),
        help: "lookup, lookup-only-in-table, drop or unreachable",
    },
    Field {
        name: "comment",
        kind: Kind::Text,
        help: "Short description of the item",
    },
    Field {
        name: "disabled",
        kind: Kind::Bool,
        help: "Whether the rule is disabled",
    },
    Field {
        name: "dst-address",
        kind: Kind::AnyPrefix,
        help: "Destination prefix to match",
    },
    Field {
        name: "interface",
        kind: Kind::RefOr(RefKind::Interface, "none"),
        help: "Incoming interface to match",
    },
    Field {
        name: "routing-mark",
        kind: Kind::RefOr(RefKind::RoutingTable, "none"),
        help: "Routing mark to match",
    },
    Field {
        name: "src-address",
        kind: Kind::AnyPrefix,
        help: "Source prefix to match",
    },
    Field {
        name: "table",
        kind: Kind::Ref(RefKind::RoutingTable),
        help: "Table to look the packet up in",
    },
];

static RULE_VIEW: View = View {
    style: Style::Modern,
    slots: &[FlagSlot {
        flags: &[('X', "disabled")],
        optional: false,
    }],
    columns: &[],
    detail_default: true,
    numbers: true,
};

/// `/routing rule`, in evaluation order.
pub struct Rules;

impl Table for Rules {
    fn view(&self) -> &'static View {
        &RULE_VIEW
    }

    fn fields(&self) -> &'static [Field] {
        &RULE_FIELDS
    }

    fn rows(&self, config: &Config, _platform: &dyn Platform) -> Vec<Row> {
        config
            .routing_rules
            .iter()
            .map(|r| {
                let mut row = Row::item(r.id).flag_if(r.disabled, 'X');
                if let Some((a, l)) = &r.src {
                    row = row.word("src-address", routes::prefix_text(a, *l));
                }
                if let Some((a, l)) = &r.dst {
                    row = row.word("dst-address", routes::prefix_text(a, *l));
                }
                if let Some(mark) = &r.routing_mark {
                    row = row.word("routing-mark", mark.clone());
                }
                if let Some(iface) = r.interface {
                    row = row.word("interface", config.iface_label(iface));
                }
                row = row.word("action", r.action);
                if matches!(r.action, "lookup" | "lookup-only-in-table") {
                    row = row.word("table", r.table.clone());
                }
                row.comment = r.comment.clone();
                row
            })
            .collect()
    }

    fn add(
        &self,
        config: &mut Config,
        _platform: &dyn Platform,
        args: &Args,
        _copy_from: Option<ItemId>,
    ) -> Result<ItemId, CmdError> {
        let id = config.new_id();
        let mut rule = RoutingRule {
            id,
            src: None,
            dst: None,
            interface: None,
            routing_mark: None,
            action: "lookup",
            table: String::from("main"),
            disabled: false,
            comment: String::new(),
        };
        routes::apply_rule(&mut rule, args)?;
        config.routing_rules.push(rule);
        Ok(id)
    }

    fn set(
        &self,
        config: &mut Config,
        _platform: &dyn Platform,
        id: ItemId,
        args: &Args,
    ) -> Result<(), CmdError> {
        let index = config
            .routing_rules
            .iter()
            .position(|r| r.id == id)
            .ok_or(CmdError::NoSuchItem)?;
        let mut rule = config.routing_rules[index].clone();
        routes::apply_rule(&mut rule, args)?;
        config.routing_rules[index] = rule;
        Ok(())
    }

    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        let index = config
            .routing_rules
            .iter()
            .position(|r| r.id == id)
            .ok_or(CmdError::NoSuchItem)?;
        config.routing_rules.remove(index);
        Ok(())
    }

    fn export(&self, config: &Config) -> Vec<String> {
        config
            .routing_rules
            .iter()
            .map(|r| routes::export_rule(config, r))
            .collect()
    }
}
