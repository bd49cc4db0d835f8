//! The menu tree: which menus exist, what each holds, and the export order.

pub mod address;
pub mod bridge;
pub mod bridge_port;
pub mod fetch;
pub mod file;
pub mod file_transfer;
pub mod interface;
pub mod interface_stats;
pub mod items;
pub mod metarouter;
pub mod mr_interface;
pub mod neighbors;
pub mod ping;
pub mod route_view;
pub mod routes;
pub mod routing;
pub mod routing_policy;
pub mod routing_route;
pub mod system;
pub mod user;
pub mod vlan;

use alloc::string::String;

use crate::cli::error::CmdError;
use crate::cli::menu::{Command, Exec, Invocation, Items, Menu, Outcome};
use crate::config::{Config, Vm};
use crate::platform::GuestConfig;

/// What the platform needs to know about virtual machine `vm` of `config`.
pub fn guest_config(config: &Config, vm: &Vm) -> GuestConfig {
    GuestConfig {
        name: vm.name.clone(),
        memory_mib: vm.memory_mib,
        disk_limit_kib: vm.disk_kib,
        image: vm.image.clone(),
        mac: crate::identity::guest_mac(config, vm.slot),
    }
}

static BRIDGE_PORT: Menu = Menu::table("port", "Bridge ports", &bridge_port::BridgePorts, &[]);
static BRIDGE: Menu = Menu::table("bridge", "Bridges", &bridge::Bridges, &[&BRIDGE_PORT]);
static ETHERNET: Menu = Menu::table("ethernet", "Physical ports", &interface::Ethernet, &[]);
static VLAN: Menu = Menu::table("vlan", "802.1Q VLAN interfaces", &vlan::Vlans, &[]);
static INTERFACE: Menu = Menu::table(
    "interface",
    "All interfaces",
    &interface::Interfaces,
    &[&BRIDGE, &ETHERNET, &VLAN],
);

static IP_ADDRESS: Menu = Menu::table("address", "IPv4 addresses", &address::IPV4_ADDRESSES, &[]);
static IP_ROUTE: Menu = Menu::table("route", "IPv4 routes", &routing::IPV4_ROUTES, &[]);
static IP_ARP: Menu = Menu::table("arp", "ARP table", &neighbors::Arp, &[]);
static IP_SETTINGS: Menu = Menu::single(
    "settings",
    "IPv4 routing settings and the forwarding counters",
    &system::IpSettings,
);
static IPV6_SETTINGS: Menu =
    Menu::single("settings", "IPv6 routing settings", &system::Ipv6Settings);
static IP: Menu = Menu::plain(
    "ip",
    "IPv4 settings",
    &[],
    &[&IP_ADDRESS, &IP_ARP, &IP_ROUTE, &IP_SETTINGS],
);
static IPV6_ADDRESS: Menu = Menu::table("address", "IPv6 addresses", &address::IPV6_ADDRESSES, &[]);
static IPV6_ROUTE: Menu = Menu::table("route", "IPv6 routes", &routing::IPV6_ROUTES, &[]);
static IPV6_NEIGHBOR: Menu = Menu::table(
    "neighbor",
    "IPv6 neighbours (read-only)",
    &neighbors::Ipv6Neighbors,
    &[],
);
static IPV6: Menu = Menu::plain(
    "ipv6",
    "IPv6 settings",
    &[],
    &[&IPV6_ADDRESS, &IPV6_NEIGHBOR, &IPV6_ROUTE, &IPV6_SETTINGS],
);

static MR_INTERFACE: Menu = Menu::table(
    "interface",
    "Guest interfaces",
    &mr_interface::MrInterface,
    &[],
);
static METAROUTER: Menu = Menu {
    commands: &metarouter::COMMANDS,
    ..Menu::table(
        "metarouter",
        "Virtual machines",
        &metarouter::Metarouter,
        &[&MR_INTERFACE],
    )
};

static ROUTING_ROUTE: Menu = Menu::table(
    "route",
    "All routes (read-only)",
    &routing_route::AllRoutes,
    &[],
);
static ROUTING_TABLE: Menu = Menu::table("table", "Routing tables", &routing_policy::Tables, &[]);
static ROUTING_RULE: Menu =
    Menu::table("rule", "Policy routing rules", &routing_policy::Rules, &[]);
static ROUTING: Menu = Menu::plain(
    "routing",
    "Routing",
    &[],
    &[&ROUTING_ROUTE, &ROUTING_RULE, &ROUTING_TABLE],
);

static IDENTITY: Menu = Menu::single("identity", "Router name", &system::Identity);
static RESOURCE: Menu = Menu::single("resource", "System resources", &system::Resource);
static SYSTEM: Menu = Menu::plain(
    "system",
    "System",
    &system::COMMANDS,
    &[&IDENTITY, &RESOURCE],
);

static USER: Menu = Menu::table("user", "Users", &user::Users, &[]);
static TOOL_COMMANDS: [Command; 1] = [fetch::FETCH];
static TOOL: Menu = Menu::plain("tool", "Network tools", &TOOL_COMMANDS, &[]);
static FILE: Menu = Menu {
    commands: &file::COMMANDS,
    ..Menu::table("file", "Files", &file::Files, &[])
};

fn quit(exec: &mut Exec<'_>, _inv: &Invocation) -> Result<(), CmdError> {
    exec.outcome = Outcome::Quit;
    Ok(())
}

static ROOT_COMMANDS: [Command; 2] = [
    ping::PING,
    Command::new("quit", "Log out", Items::None, quit),
];

/// The root of the menu tree.
pub static ROOT: Menu = Menu::plain(
    "",
    "",
    &ROOT_COMMANDS,
    &[
        &FILE,
        &INTERFACE,
        &IP,
        &IPV6,
        &METAROUTER,
        &ROUTING,
        &SYSTEM,
        &TOOL,
        &USER,
    ],
);

/// Menus in the order `export` writes them (each after everything it refers to).
pub static EXPORT_ORDER: [&[&str]; 17] = [
    &["interface", "bridge"],
    &["interface", "ethernet"],
    &["metarouter"],
    &["metarouter", "interface"],
    &["interface", "vlan"],
    &["interface", "bridge", "port"],
    &["ip", "address"],
    &["ip", "arp"],
    &["ip", "settings"],
    &["ipv6", "address"],
    &["ipv6", "settings"],
    &["routing", "table"],
    &["ip", "route"],
    &["ipv6", "route"],
    &["routing", "rule"],
    &["system", "identity"],
    &["user"],
];

/// Finds a menu by its path from the root.
pub fn find_menu(path: &[&str]) -> Option<&'static Menu> {
    let mut menu: &'static Menu = &ROOT;
    for name in path {
        menu = menu.children.iter().copied().find(|c| c.name == *name)?;
    }
    Some(menu)
}

/// `/a b c` for a path.
pub fn path_string(path: &[&str]) -> String {
    let mut out = String::from("/");
    out.push_str(&path.join(" "));
    out
}
