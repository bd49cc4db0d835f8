//! Shows routes of the routing crate's RIB, built from the configuration with the platform's
//! current link states: destinations, gateways as configured, resolved next hops.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use routing::{Hop, IfId, Origin, RouteView};

use super::routes::gateways_text;
use crate::cli::table::Row;
use crate::cli::view::{Column, FlagSlot};
use crate::config::Config;
use crate::network::NetworkConfig;
use crate::network_derive::{interface_order, network_config};
use crate::platform::Platform;
use crate::rib_view::{build_rib, limits_for, RibBuild};

/// The `+` flags of the route views: a route with several next hops.
pub const ECMP: FlagSlot = FlagSlot::optional(&[('+', "ecmp")]);
/// The first columns of the route views.
pub const DST_ADDRESS: Column = Column::new("dst-address", "DST-ADDRESS");
pub const GATEWAY: Column = Column::new("gateway", "GATEWAY");
pub const DISTANCE: Column = Column::abbreviated("distance", "DISTANCE");

/// The RIB of the configuration with the platform's current link states.
pub fn current_rib(config: &Config, platform: &dyn Platform) -> Option<(NetworkConfig, RibBuild)> {
    let net = network_config(config, platform);
    let order = interface_order(config);
    let running = |i: usize| {
        order
            .get(i)
            .is_some_and(|&iface| super::interface::running(config, platform, iface))
    };
    let build = build_rib(&net, limits_for(&net), &running).ok()?;
    Some((net, build))
}

pub fn if_name(net: &NetworkConfig, id: IfId) -> String {
    net.interfaces
        .get(usize::from(id.0))
        .map_or(String::from("unknown"), |i| i.name.clone())
}

pub fn hop_text(net: &NetworkConfig, hop: &Hop) -> String {
    match hop.address {
        Some(addr) => format!("{addr}%{}", if_name(net, hop.interface)),
        None => if_name(net, hop.interface),
    }
}

pub fn dst_text(net: &NetworkConfig, view: &RouteView<'_>) -> String {
    let dst = view.spec().dst;
    let host = dst.len() == dst.afi().bits();
    match view.dst_interface() {
        Some(iface) => format!("{}%{}/{}", dst.addr(), if_name(net, iface), dst.len()),
        None if host => format!("{}", dst.addr()),
        None => format!("{dst}"),
    }
}

/// The configured route behind a RIB route, if it is static.
pub fn config_route<'c>(
    config: &'c Config,
    build: &RibBuild,
    view: &RouteView<'_>,
) -> Option<&'c crate::config::StaticRoute> {
    let index = build.routes.iter().position(|&id| id == view.id())?;
    config.routes.iter().nth(index)
}

pub fn gateway_text(
    config: &Config,
    net: &NetworkConfig,
    build: &RibBuild,
    view: &RouteView<'_>,
) -> String {
    if let Some(route) = config_route(config, build, view) {
        return gateways_text(config, &route.gateways);
    }
    let parts: Vec<String> = view
        .spec()
        .gateways
        .iter()
        .map(|g| match g {
            routing::Gateway::Address(a) => format!("{a}"),
            routing::Gateway::Interface(i) => if_name(net, *i),
            routing::Gateway::AddressOnInterface(a, i) => format!("{a}%{}", if_name(net, *i)),
        })
        .collect();
    parts.join(",")
}

/// Adds what both route menus show of a route's next hops and preference: `gateway` (when it
/// has any), `immediate-gw` (when it resolved to any hop), `distance`, `scope`, and
/// `target-scope` unless the route is connected.
pub fn with_next_hops(
    mut row: Row,
    config: &Config,
    net: &NetworkConfig,
    build: &RibBuild,
    view: &RouteView<'_>,
) -> Row {
    let gateway = gateway_text(config, net, build, view);
    if !gateway.is_empty() {
        row = row.word("gateway", gateway);
    }
    let hops: Vec<String> = view
        .immediate_gw()
        .iter()
        .map(|h| hop_text(net, h))
        .collect();
    if !hops.is_empty() {
        row = row.word("immediate-gw", hops.join(","));
    }
    let spec = view.spec();
    row = row
        .num("distance", format!("{}", spec.distance))
        .num("scope", format!("{}", spec.scope));
    if view.origin() != Origin::Connected {
        row = row.num("target-scope", format!("{}", spec.target_scope));
    }
    row
}
