//! `/ip route` and `/ipv6 route`: static routes are configured here; `print` shows every route
//! of the family from the RIB, connected ones (dynamic) unnumbered, as RouterOS v7 does.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use routing::{Afi, Origin};

use super::route_view::{config_route, current_rib, dst_text, with_gateway, with_immediate};
use super::routes;
use crate::cli::args::{Args, Field, Kind, RefKind};
use crate::cli::error::CmdError;
use crate::cli::menu::Table;
use crate::cli::table::{Column, FlagSlot, Row, Style, View};
use crate::config::{Config, ItemId, ROUTE_TYPES};
use crate::platform::Platform;

static IP_ROUTE_VIEW: View = View {
    style: Style::Modern,
    slots: &[
        FlagSlot {
            flags: &[('D', "dynamic")],
            optional: false,
        },
        FlagSlot {
            flags: &[('X', "disabled"), ('I', "inactive"), ('A', "active")],
            optional: false,
        },
        FlagSlot {
            flags: &[
                ('C', "connect"),
                ('S', "static"),
                ('r', "rip"),
                ('b', "bgp"),
                ('o', "ospf"),
                ('d', "dhcp"),
                ('v', "vpn"),
            ],
            optional: false,
        },
        FlagSlot {
            flags: &[('+', "ecmp")],
            optional: true,
        },
    ],
    columns: &[
        Column {
            prop: "dst-address",
            header: "DST-ADDRESS",
            abbreviate: false,
        },
        Column {
            prop: "gateway",
            header: "GATEWAY",
            abbreviate: false,
        },
        Column {
            prop: "distance",
            header: "DISTANCE",
            abbreviate: true,
        },
    ],
    detail_default: false,
    numbers: true,
};

fn route_fields(v6: bool) -> &'static [Field] {
    static V4: [Field; 10] = [
        Field {
            name: "comment",
            kind: Kind::Text,
            help: "Short description of the item",
        },
        Field {
            name: "disabled",
            kind: Kind::Bool,
            help: "Whether the route is disabled",
        },
        Field {
            name: "distance",
            kind: Kind::Int {
                min: 1,
                max: 255,
                unit: "",
            },
            help: "Preference; lower wins",
        },
        Field {
            name: "dst-address",
            kind: Kind::Ipv4Prefix,
            help: "Destination prefix (default 0.0.0.0/0)",
        },
        Field {
            name: "gateway",
            kind: Kind::Gateways { v6: false },
            help: "Next hops: addresses, interfaces, address%interface",
        },
        Field {
            name: "pref-src",
            kind: Kind::Ipv4,
            help: "Preferred source address",
        },
        Field {
            name: "routing-table",
            kind: Kind::Ref(RefKind::RoutingTable),
            help: "Routing table (default main)",
        },
        Field {
            name: "scope",
            kind: Kind::Int {
                min: 0,
                max: 255,
                unit: "",
            },
            help: "Scope (default 30)",
        },
        Field {
            name: "target-scope",
            kind: Kind::Int {
                min: 0,
                max: 255,
                unit: "",
            },
            help: "Gateways resolve through routes with scope up to this (default 10)",
        },
        Field {
            name: "type",
            kind: Kind::Choice(ROUTE_TYPES),
            help: "unicast, blackhole, unreachable or prohibit",
        },
    ];
    static V6: [Field; 9] = [
        Field {
            name: "comment",
            kind: Kind::Text,
            help: "Short description of the item",
        },
        Field {
            name: "disabled",
            kind: Kind::Bool,
            help: "Whether the route is disabled",
        },
        Field {
            name: "distance",
            kind: Kind::Int {
                min: 1,
                max: 255,
                unit: "",
            },
            help: "Preference; lower wins",
        },
        Field {
            name: "dst-address",
            kind: Kind::Ipv6Prefix,
            help: "Destination prefix (default ::/0)",
        },
        Field {
            name: "gateway",
            kind: Kind::Gateways { v6: true },
            help: "Next hops: addresses, interfaces, address%interface",
        },
        Field {
            name: "routing-table",
            kind: Kind::Ref(RefKind::RoutingTable),
            help: "Routing table (default main)",
        },
        Field {
            name: "scope",
            kind: Kind::Int {
                min: 0,
                max: 255,
                unit: "",
            },
            help: "Scope (default 30)",
        },
        Field {
            name: "target-scope",
            kind: Kind::Int {
                min: 0,
                max: 255,
                unit: "",
            },
            help: "Gateways resolve through routes with scope up to this (default 10)",
        },
        Field {
            name: "type",
            kind: Kind::Choice(ROUTE_TYPES),
            help: "unicast, blackhole, unreachable or prohibit",
        },
    ];
    if v6 {
        &V6
    } else {
        &V4
    }
}

/// `/ip route` (`v6: false`) and `/ipv6 route` (`v6: true`).
pub struct RouteMenu {
    v6: bool,
}

/// `/ip route`.
pub static IPV4_ROUTES: RouteMenu = RouteMenu { v6: false };
/// `/ipv6 route`.
pub static IPV6_ROUTES: RouteMenu = RouteMenu { v6: true };

impl RouteMenu {
    fn afi(&self) -> Afi {
        if self.v6 {
            Afi::Ipv6
        } else {
            Afi::Ipv4
        }
    }

    fn is_mine(&self, route: &crate::config::StaticRoute) -> bool {
        matches!(route.dst, crate::network::IpAddress::V6(_)) == self.v6
    }
}

impl Table for RouteMenu {
    fn view(&self) -> &'static View {
        &IP_ROUTE_VIEW
    }

    fn fields(&self) -> &'static [Field] {
        route_fields(self.v6)
    }

    fn rows(&self, config: &Config, platform: &dyn Platform) -> Vec<Row> {
        let Some((net, build)) = current_rib(config, platform) else {
            return Vec::new();
        };
        build
            .rib
            .routes()
            .filter(|v| v.spec().dst.afi() == self.afi())
            .map(|view| {
                let configured = config_route(config, &build, &view);
                let letters = view.flags().ip_route_flags();
                let spec = view.spec();
                let mut row = Row {
                    id: configured.map(|r| r.id),
                    numbered: configured.is_some(),
                    ..Row::default()
                };
                row.flags = letters.as_str().chars().filter(|c| *c != ' ').collect();
                row = row.word("dst-address", dst_text(&net, &view));
                row = with_gateway(row, config, &net, &build, &view);
                row = with_immediate(row, &net, &view)
                    .num("distance", format!("{}", spec.distance))
                    .num("scope", format!("{}", spec.scope));
                if view.origin() != Origin::Connected {
                    row = row.num("target-scope", format!("{}", spec.target_scope));
                }
                row = row.word("routing-table", view.table_name());
                if let Some(route) = configured {
                    if let Some(src) = &route.pref_src {
                        row = row.word("pref-src", routes::address_text(src));
                    }
                    if route.route_type != "unicast" {
                        row = row.word("type", route.route_type);
                    }
                    row.comment = route.comment.clone();
                }
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
        let mut route = routes::default_route(id, self.v6);
        routes::apply_route(&mut route, args)?;
        config.routes.push(route);
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
            .routes
            .iter()
            .position(|r| r.id == id && self.is_mine(r))
            .ok_or(CmdError::NoSuchItem)?;
        let mut route = config.routes[index].clone();
        routes::apply_route(&mut route, args)?;
        config.routes[index] = route;
        Ok(())
    }

    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        let index = config
            .routes
            .iter()
            .position(|r| r.id == id && self.is_mine(r))
            .ok_or(CmdError::NoSuchItem)?;
        config.routes.remove(index);
        Ok(())
    }

    fn export(&self, config: &Config) -> Vec<String> {
        config
            .routes
            .iter()
            .filter(|r| self.is_mine(r))
            .map(|r| routes::export_route(config, r))
            .collect()
    }
}
