//! `/ip route` and `/ipv6 route`: static routes are configured here; `print` shows every route
//! of the family from the RIB, connected ones (dynamic) unnumbered, as RouterOS v7 does.

use alloc::string::String;
use alloc::vec::Vec;

use routing::Afi;

use super::items::{ItemList, COMMENT};
use super::route_view::{self, config_route, dst_text, with_next_hops};
use super::routes;
use crate::cli::args::{Args, Field, Kind, RefKind};
use crate::cli::error::CmdError;
use crate::cli::menu::{Table, ViewCtx};
use crate::cli::table::Row;
use crate::cli::view::{FlagSlot, View};
use crate::config::{Config, ItemId, StaticRoute, ROUTE_TYPES};
use crate::platform::Platform;
use crate::references::bind_missing;

static IP_ROUTE_VIEW: View = View::modern(
    &[
        FlagSlot::new(&[('D', "dynamic")]),
        FlagSlot::new(&[('X', "disabled"), ('I', "inactive"), ('A', "active")]),
        FlagSlot::new(&[
            ('C', "connect"),
            ('S', "static"),
            ('r', "rip"),
            ('b', "bgp"),
            ('o', "ospf"),
            ('d', "dhcp"),
            ('v', "vpn"),
        ]),
        route_view::ECMP,
    ],
    &[
        route_view::DST_ADDRESS,
        route_view::GATEWAY,
        route_view::DISTANCE,
    ],
);

const DISABLED: Field = Field::new("disabled", Kind::Bool, "Whether the route is disabled");
const DISTANCE: Field = Field::new("distance", Kind::int(1, 255), "Preference; lower wins");
const GATEWAY: &str = "Next hops: addresses, interfaces, address%interface";
const ROUTING_TABLE: Field = Field::new(
    "routing-table",
    Kind::Ref(RefKind::RoutingTable),
    "Routing table (default main)",
);
const SCOPE: Field = Field::new("scope", Kind::int(0, 255), "Scope (default 30)");
const TARGET_SCOPE: Field = Field::new(
    "target-scope",
    Kind::int(0, 255),
    "Gateways resolve through routes with scope up to this (default 10)",
);
const TYPE: Field = Field::new(
    "type",
    Kind::Choice(ROUTE_TYPES),
    "unicast, blackhole, unreachable or prohibit",
);

fn route_fields(v6: bool) -> &'static [Field] {
    static V4: [Field; 10] = [
        COMMENT,
        DISABLED,
        DISTANCE,
        Field::new(
            "dst-address",
            Kind::Ipv4Prefix,
            "Destination prefix (default 0.0.0.0/0)",
        ),
        Field::new("gateway", Kind::Gateways { v6: false }, GATEWAY),
        Field::new("pref-src", Kind::Ipv4, "Preferred source address"),
        ROUTING_TABLE,
        SCOPE,
        TARGET_SCOPE,
        TYPE,
    ];
    static V6: [Field; 9] = [
        COMMENT,
        DISABLED,
        DISTANCE,
        Field::new(
            "dst-address",
            Kind::Ipv6Prefix,
            "Destination prefix (default ::/0)",
        ),
        Field::new("gateway", Kind::Gateways { v6: true }, GATEWAY),
        ROUTING_TABLE,
        SCOPE,
        TARGET_SCOPE,
        TYPE,
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

const ROUTES: ItemList<StaticRoute> = ItemList {
    list: |c| &mut c.routes,
    change: routes::apply_route,
};

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

    fn is_mine(&self, route: &StaticRoute) -> bool {
        matches!(route.dst, crate::network::IpAddress::V6(_)) == self.v6
    }

    /// Route `id` if it is of this family.
    fn route<'c>(&self, config: &'c Config, id: ItemId) -> Result<&'c StaticRoute, CmdError> {
        config
            .routes
            .get(id)
            .filter(|r| self.is_mine(r))
            .ok_or(CmdError::NoSuchItem)
    }
}

impl Table for RouteMenu {
    fn view(&self) -> &'static View {
        &IP_ROUTE_VIEW
    }

    fn fields(&self) -> &'static [Field] {
        route_fields(self.v6)
    }

    fn rows(&self, ctx: &ViewCtx<'_>) -> Vec<Row> {
        let (config, rib) = (ctx.config, ctx.rib);
        rib.rib()
            .routes()
            .filter(|v| v.spec().dst.afi() == self.afi())
            .map(|view| {
                let configured = config_route(config, rib, &view);
                let letters = view.flags().ip_route_flags();
                let mut row = Row {
                    id: configured.map(|r| r.id),
                    numbered: configured.is_some(),
                    ..Row::default()
                };
                row.flags = letters.as_str().chars().filter(|c| *c != ' ').collect();
                row = row.word("dst-address", dst_text(config, rib, &view));
                row = with_next_hops(row, config, rib, &view)
                    .word("routing-table", view.table_name());
                if let Some(route) = configured {
                    if let Some(src) = &route.pref_src {
                        row = row.word("pref-src", routes::address_text(src));
                    }
                    if route.route_type != "unicast" {
                        row = row.word("type", route.route_type);
                    }
                    row = row.with_comment(&route.comment);
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
        let bound = bind_missing(config, args);
        let route = routes::default_route(config.new_id(), self.v6);
        ROUTES.add(config, route, bound.as_ref().unwrap_or(args))
    }

    fn set(&self, config: &mut Config, id: ItemId, args: &Args) -> Result<(), CmdError> {
        let bound = bind_missing(config, args);
        let args = bound.as_ref().unwrap_or(args);
        let mut route = self.route(config, id)?.clone();
        routes::apply_route(config, &mut route, args)?;
        config.routes.insert(route);
        Ok(())
    }

    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        self.route(config, id)?;
        config.routes.remove(id);
        Ok(())
    }

    fn items(&self, config: &Config) -> Vec<ItemId> {
        config
            .routes
            .iter()
            .filter(|r| self.is_mine(r))
            .map(|r| r.id)
            .collect()
    }

    fn export_item(&self, config: &Config, id: ItemId) -> Option<String> {
        let route = self.route(config, id).ok()?;
        Some(routes::export_route(config, route))
    }
}
