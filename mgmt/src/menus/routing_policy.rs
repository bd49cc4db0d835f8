//! `/routing table` and `/routing rule`: routing tables besides `main`, and policy rules in
//! evaluation order.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::items::{ItemList, COMMENT};
use super::routes;
use crate::cli::args::{Args, Field, Kind, RefKind};
use crate::cli::error::CmdError;
use crate::cli::menu::{Table, ViewCtx};
use crate::cli::table::Row;
use crate::cli::view::{Column, FlagSlot, View};
use crate::config::{Config, ItemId, RoutingRule, RoutingTable, RULE_ACTIONS};
use crate::platform::Platform;
use crate::references::bind_missing;
use crate::script_line::{push_comment, push_pair};
use crate::value::quote_if_needed;

static TABLE_FIELDS: [Field; 3] = [
    COMMENT,
    Field::new(
        "fib",
        Kind::Flag,
        "Install the table in the FIB (usable for forwarding)",
    ),
    Field::new("name", Kind::Name, "Table name"),
];

static TABLE_VIEW: View = View::modern(
    &[FlagSlot::new(&[('D', "dynamic")])],
    &[Column::new("name", "NAME"), Column::new("fib", "FIB")],
);

/// `/routing table`.
pub struct Tables;

const TABLES: ItemList<RoutingTable> = ItemList {
    list: |c| &mut c.routing_tables,
    change: routes::apply_table,
};

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

    fn rows(&self, ctx: &ViewCtx<'_>) -> Vec<Row> {
        let (config, _platform) = (ctx.config, ctx.platform);
        let main = Row {
            numbered: false,
            ..Row::default()
        }
        .flag_if(true, 'D')
        .text("name", "main")
        .word("fib", "yes");
        let mut rows = alloc::vec![main];
        rows.extend(config.routing_tables.iter().map(|t| {
            Row::item(t.id)
                .text("name", t.name.clone())
                .word("fib", if t.fib { "yes" } else { "no" })
                .with_comment(&t.comment)
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
        let table = RoutingTable {
            id: config.new_id(),
            name: String::new(),
            fib: false,
            comment: String::new(),
        };
        TABLES.add(config, table, args)
    }

    fn set(&self, config: &mut Config, id: ItemId, args: &Args) -> Result<(), CmdError> {
        let mut table = config
            .routing_tables
            .get(id)
            .cloned()
            .ok_or(CmdError::NoSuchItem)?;
        routes::apply_table(config, &mut table, args)?;
        let old_name = config
            .routing_tables
            .insert(table.clone())
            .map(|t| t.name)
            .unwrap_or_default();
        routes::rename_table(config, &old_name, &table.name);
        Ok(())
    }

    /// Refused while a route or rule uses the table, naming it.
    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        let name = &config
            .routing_tables
            .get(id)
            .ok_or(CmdError::NoSuchItem)?
            .name;
        if let Some(user) = routes::table_user(config, name) {
            return Err(CmdError::failure(format!(
                "routing table {name} is used by {user}"
            )));
        }
        config.routing_tables.remove(id);
        Ok(())
    }

    fn items(&self, config: &Config) -> Vec<ItemId> {
        config.routing_tables.iter().map(|t| t.id).collect()
    }

    fn export_item(&self, config: &Config, id: ItemId) -> Option<String> {
        let t = config.routing_tables.get(id)?;
        let mut line = String::from("add");
        push_comment(&mut line, &t.comment);
        if t.fib {
            line.push_str(" fib");
        }
        push_pair(&mut line, "name", &quote_if_needed(&t.name));
        Some(line)
    }
}

static RULE_FIELDS: [Field; 8] = [
    Field::new(
        "action",
        Kind::Choice(RULE_ACTIONS),
        "lookup, lookup-only-in-table, drop or unreachable",
    ),
    COMMENT,
    Field::new("disabled", Kind::Bool, "Whether the rule is disabled"),
    Field::new(
        "dst-address",
        Kind::AnyPrefix,
        "Destination prefix to match",
    ),
    Field::new(
        "interface",
        Kind::RefOr(RefKind::Interface, "none"),
        "Incoming interface to match",
    ),
    Field::new(
        "routing-mark",
        Kind::RefOr(RefKind::RoutingTable, "none"),
        "Routing mark to match",
    ),
    Field::new("src-address", Kind::AnyPrefix, "Source prefix to match"),
    Field::new(
        "table",
        Kind::Ref(RefKind::RoutingTable),
        "Table to look the packet up in",
    ),
];

static RULE_VIEW: View = View {
    detail_default: true,
    ..View::modern(
        &[FlagSlot::new(&[('X', "disabled"), ('I', "inactive")])],
        &[],
    )
};

/// `/routing rule`, in evaluation order.
pub struct Rules;

const RULES: ItemList<RoutingRule> = ItemList {
    list: |c| &mut c.routing_rules,
    change: routes::apply_rule,
};

impl Table for Rules {
    fn view(&self) -> &'static View {
        &RULE_VIEW
    }

    fn fields(&self) -> &'static [Field] {
        &RULE_FIELDS
    }

    fn rows(&self, ctx: &ViewCtx<'_>) -> Vec<Row> {
        let (config, _platform) = (ctx.config, ctx.platform);
        config
            .routing_rules
            .iter()
            .map(|r| {
                // A rule on a gone interface matches nothing until it exists again.
                let gone = r.interface.is_some_and(|i| config.iface_name(i).is_none());
                let mut row = Row::item(r.id)
                    .flag_if(r.disabled, 'X')
                    .flag_if(!r.disabled && gone, 'I');
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
                row.with_comment(&r.comment)
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
        let rule = RoutingRule {
            id: config.new_id(),
            src: None,
            dst: None,
            interface: None,
            routing_mark: None,
            action: "lookup",
            table: String::from("main"),
            disabled: false,
            comment: String::new(),
        };
        let bound = bind_missing(config, args);
        RULES.add(config, rule, bound.as_ref().unwrap_or(args))
    }

    fn set(&self, config: &mut Config, id: ItemId, args: &Args) -> Result<(), CmdError> {
        let bound = bind_missing(config, args);
        RULES.set(config, id, bound.as_ref().unwrap_or(args))
    }

    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        RULES.remove(config, id)
    }

    fn items(&self, config: &Config) -> Vec<ItemId> {
        config.routing_rules.iter().map(|r| r.id).collect()
    }

    fn export_item(&self, config: &Config, id: ItemId) -> Option<String> {
        Some(routes::export_rule(config, config.routing_rules.get(id)?))
    }
}
