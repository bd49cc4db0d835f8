//! The saved form of the configuration: a snapshot of every item with its id, and the journal
//! records that describe one change each (see `crate::store` for where they live on flash).
//!
//! Both are scripts of console commands with three additions the console never accepts:
//!
//! ```text
//! # saved configuration v2          first line of a snapshot
//! .next-id=*2A                      the id the next new item gets
//! .gone=*2 br1                      a removed interface references still name (`*2`)
//! /ip route                         (a menu, as in any script)
//! *1F add dst-address=... ...        item *1F is what this line adds (replacing an item *1F)
//! set *1F image-file=x.tgz          what export never shows (image file, password hash)
//! -*20                              item *20 is gone
//! ```
//!
//! A snapshot lists every item in export order (what an item refers to comes before it). A
//! journal record lists what one change removed (`-*ID` lines first), then every item it added
//! or changed, whole, in export order, then `.next-id` if it moved. Replaying records in order
//! on the snapshot gives the configuration after the last one. Items keep their ids, so a
//! record can name an item that the snapshot or an earlier record made.

use alloc::format;
use alloc::string::String;

use crate::change::ChangeSet;
use crate::cli::menu::MenuKind;
use crate::config::{Config, ItemId};
use crate::menus::{find_menu, path_string, system, EXPORT_ORDER};
use crate::value::quote_if_needed;

/// The first line of a snapshot in this form.
pub const SNAPSHOT_HEADER: &str = "# saved configuration v2";

/// What a line of a saved script asks for, beyond a console command.
#[derive(Debug, PartialEq, Eq)]
pub enum Directive<'a> {
    /// `.next-id=*N`
    NextId(ItemId),
    /// `-*N`
    Forget(ItemId),
    /// `.gone=*N name`
    Gone(ItemId, &'a str),
    /// `*N command`: the command adds item N.
    Restore(ItemId, &'a str),
    /// A console command (or a menu).
    Command(&'a str),
}

impl<'a> Directive<'a> {
    /// Reads one (trimmed, non-comment) line of a saved script.
    pub fn parse(line: &'a str) -> Directive<'a> {
        let hex = |text: &str| ItemId::from_str_radix(text, 16).ok();
        if let Some(id) = line.strip_prefix(".next-id=*").and_then(hex) {
            return Directive::NextId(id);
        }
        if let Some(id) = line.strip_prefix("-*").and_then(hex) {
            return Directive::Forget(id);
        }
        if let Some((id, name)) = line.strip_prefix(".gone=*").and_then(|r| r.split_once(' ')) {
            if let Some(id) = hex(id) {
                return Directive::Gone(id, name);
            }
        }
        if let Some(rest) = line.strip_prefix('*') {
            if let Some((id, command)) = rest.split_once(' ') {
                if let Some(id) = hex(id) {
                    return Directive::Restore(id, command);
                }
            }
        }
        Directive::Command(line)
    }
}

/// Appends the lines that recreate `config`'s items of the menu at `path` whose ids `wanted`
/// accepts, after the menu line (written once, only if there is anything).
fn items_of(
    config: &Config,
    path: &[&str],
    wanted: &dyn Fn(ItemId) -> bool,
    ids: Option<&[ItemId]>,
    out: &mut String,
) {
    let Some(menu) = find_menu(path) else {
        return;
    };
    let MenuKind::Table(table) = menu.kind else {
        return;
    };
    let all;
    let ids = match ids {
        Some(ids) => ids,
        None => {
            all = table.items(config);
            &all
        }
    };
    let mut header = false;
    for &id in ids.iter().filter(|&&id| wanted(id)) {
        let lines = table.saved_item(config, id);
        let Some((first, rest)) = lines.split_first() else {
            continue;
        };
        if !header {
            out.push_str(&path_string(path));
            out.push('\n');
            header = true;
        }
        out.push_str(&format!("*{id:X} {first}\n"));
        for line in rest {
            out.push_str(line);
            out.push('\n');
        }
    }
}

/// Every port's settings, whole (a record must also bring a port back to its defaults).
fn ethernet_lines(config: &Config, out: &mut String) {
    out.push_str("/interface ethernet\n");
    for port in &config.ethernet {
        out.push_str(&format!(
            "set [ find default-name={} ] name={} mtu={} arp={} disabled={} comment={}\n",
            port.default_name,
            quote_if_needed(&port.name),
            port.mtu,
            port.arp,
            if port.disabled { "yes" } else { "no" },
            quote_if_needed(&port.comment),
        ));
    }
}

/// The removed interfaces that references still name, with the ids they print as.
fn gone_lines(config: &Config, out: &mut String) {
    for gone in &config.gone {
        out.push_str(&format!(".gone=*{:X} {}\n", gone.id, gone.name));
    }
}

/// The identity and the box's MAC seed.
fn identity_lines(config: &Config, out: &mut String) {
    out.push_str("/system identity\n");
    out.push_str(&format!("set name={}\n", quote_if_needed(&config.identity)));
    if let Some(line) = system::saved_line(config) {
        out.push_str(&line);
        out.push('\n');
    }
}

/// Both settings menus, every value, as the saved configuration keeps them.
fn settings_lines(config: &Config, path: &[&str], out: &mut String) {
    let s = config.ip_settings;
    let yes_no = |on: bool| if on { "yes" } else { "no" };
    match path {
        ["ip", "settings"] => out.push_str(&format!(
            "/ip settings\nset ip-forward={} icmp-rate-limit={} icmp-rate-mask=0x{:X}\n",
            yes_no(s.ip_forward),
            s.icmp_rate_limit,
            s.icmp_rate_mask
        )),
        _ => out.push_str(&format!(
            "/ipv6 settings\nset forward={}\n",
            yes_no(s.ipv6_forward)
        )),
    }
}

/// The ids of `changes` that belong to the list the menu at `path` shows.
fn changed_ids<'c>(changes: &'c ChangeSet, path: &[&str]) -> &'c [ItemId] {
    match path {
        ["interface", "bridge"] => &changes.bridges,
        ["interface", "vlan"] => &changes.vlans,
        ["interface", "bridge", "port"] => &changes.bridge_ports,
        ["ip", "arp"] => &changes.static_arp,
        ["metarouter"] => &changes.vms,
        ["metarouter", "interface"] => &changes.vm_ifaces,
        ["ip", "address"] => &changes.ipv4_addresses,
        ["ipv6", "address"] => &changes.ipv6_addresses,
        ["ip", "route"] | ["ipv6", "route"] => &changes.routes,
        ["routing", "table"] => &changes.routing_tables,
        ["routing", "rule"] => &changes.routing_rules,
        ["user"] => &changes.users,
        _ => &[],
    }
}

/// The whole configuration, every item with its id.
pub fn snapshot(config: &Config) -> String {
    let mut out = String::from(SNAPSHOT_HEADER);
    out.push('\n');
    out.push_str(&format!(".next-id=*{:X}\n", config.next_id()));
    gone_lines(config, &mut out);
    for path in EXPORT_ORDER.iter() {
        match *path {
            ["interface", "ethernet"] => ethernet_lines(config, &mut out),
            ["system", "identity"] => identity_lines(config, &mut out),
            ["ip", "settings"] | ["ipv6", "settings"] => settings_lines(config, path, &mut out),
            _ => items_of(config, path, &|_| true, None, &mut out),
        }
    }
    out
}

/// The journal record of a change: `changes` took `old` to `new`.
pub fn record(old: &Config, new: &Config, changes: &ChangeSet) -> String {
    let mut out = String::new();
    if changes.gone {
        gone_lines(new, &mut out);
    }
    for path in EXPORT_ORDER.iter() {
        for &id in changed_ids(changes, path) {
            // Routes appear under two menus; a removal is written once.
            if !new.routes.contains(id) && *path == ["ipv6", "route"] {
                continue;
            }
            if removed(new, path, id) {
                out.push_str(&format!("-*{id:X}\n"));
            }
        }
    }
    for path in EXPORT_ORDER.iter() {
        match *path {
            ["interface", "ethernet"] if changes.ethernet => ethernet_lines(new, &mut out),
            ["system", "identity"] if changes.identity => identity_lines(new, &mut out),
            ["ip", "settings"] | ["ipv6", "settings"] if changes.ip_settings => {
                settings_lines(new, path, &mut out)
            }
            ["ip", "settings"] | ["ipv6", "settings"] => {}
            _ => {
                let ids = changed_ids(changes, path);
                if !ids.is_empty() {
                    items_of(
                        new,
                        path,
                        &|id| !removed(new, path, id),
                        Some(ids),
                        &mut out,
                    );
                }
            }
        }
    }
    if new.next_id() != old.next_id() {
        out.push_str(&format!(".next-id=*{:X}\n", new.next_id()));
    }
    out
}

/// Whether item `id` of the list behind `path` is gone from `config`.
fn removed(config: &Config, path: &[&str], id: ItemId) -> bool {
    match path {
        ["interface", "bridge"] => !config.bridges.contains(id),
        ["interface", "vlan"] => !config.vlans.contains(id),
        ["interface", "bridge", "port"] => !config.bridge_ports.contains(id),
        ["ip", "arp"] => !config.static_arp.contains(id),
        ["metarouter"] => !config.vms.contains(id),
        ["metarouter", "interface"] => !config.vm_ifaces.contains(id),
        ["ip", "address"] => !config.ipv4_addresses.contains(id),
        ["ipv6", "address"] => !config.ipv6_addresses.contains(id),
        ["ip", "route"] | ["ipv6", "route"] => !config.routes.contains(id),
        ["routing", "table"] => !config.routing_tables.contains(id),
        ["routing", "rule"] => !config.routing_rules.contains(id),
        ["user"] => !config.users.contains(id),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives() {
        assert_eq!(Directive::parse(".next-id=*2A"), Directive::NextId(0x2A));
        assert_eq!(Directive::parse("-*1F"), Directive::Forget(0x1F));
        assert_eq!(
            Directive::parse(".gone=*2 br 1"),
            Directive::Gone(2, "br 1")
        );
        assert_eq!(
            Directive::parse("*1F add name=x"),
            Directive::Restore(0x1F, "add name=x")
        );
        assert_eq!(
            Directive::parse("/ip route"),
            Directive::Command("/ip route")
        );
        assert_eq!(Directive::parse("*zz add"), Directive::Command("*zz add"));
        assert_eq!(
            Directive::parse("set *1F image-file=a"),
            Directive::Command("set *1F image-file=a")
        );
    }
}
