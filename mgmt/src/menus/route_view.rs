//! Shows routes of the configuration's RIB (`crate::rib_state`): destinations, gateways as
//! configured, resolved next hops.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use routing::{Hop, IfId, Origin, RouteView};

use super::routes::gateways_text;
use crate::cli::table::Row;
use crate::cli::view::{Column, FlagSlot};
use crate::config::{Config, StaticRoute};
use crate::rib_state::RibState;

/// The `+` flags of the route views: a route with several next hops.
pub const ECMP: FlagSlot = FlagSlot::optional(&[('+', "ecmp")]);
/// The first columns of the route views.
pub const DST_ADDRESS: Column = Column::new("dst-address", "DST-ADDRESS");
pub const GATEWAY: Column = Column::new("gateway", "GATEWAY");
pub const DISTANCE: Column = Column::abbreviated("distance", "DISTANCE");

/// The name of RIB interface `id` (`*N` for one that is gone).
pub fn if_name(config: &Config, rib: &RibState, id: IfId) -> String {
    rib.interface(id)
        .map_or(String::from("unknown"), |iface| config.iface_label(iface))
}

pub fn hop_text(config: &Config, rib: &RibState, hop: &Hop) -> String {
    match hop.address {
        Some(addr) => format!("{addr}%{}", if_name(config, rib, hop.interface)),
        None => if_name(config, rib, hop.interface),
    }
}

pub fn dst_text(config: &Config, rib: &RibState, view: &RouteView<'_>) -> String {
    let dst = view.spec().dst;
    let host = dst.len() == dst.afi().bits();
    match view.dst_interface() {
        Some(iface) => format!(
            "{}%{}/{}",
            dst.addr(),
            if_name(config, rib, iface),
            dst.len()
        ),
        None if host => format!("{}", dst.addr()),
        None => format!("{dst}"),
    }
}

/// The configured route behind a RIB route, if it is static.
pub fn config_route<'c>(
    config: &'c Config,
    rib: &RibState,
    view: &RouteView<'_>,
) -> Option<&'c StaticRoute> {
    config.routes.get(rib.route_item(view.id())?)
}

pub fn gateway_text(config: &Config, rib: &RibState, view: &RouteView<'_>) -> String {
    if let Some(route) = config_route(config, rib, view) {
        return gateways_text(config, &route.gateways);
    }
    let parts: Vec<String> = view
        .spec()
        .gateways
        .iter()
        .map(|g| match g {
            routing::Gateway::Address(a) => format!("{a}"),
            routing::Gateway::Interface(i) => if_name(config, rib, *i),
            routing::Gateway::AddressOnInterface(a, i) => {
                format!("{a}%{}", if_name(config, rib, *i))
            }
        })
        .collect();
    parts.join(",")
}

/// Adds what both route menus show of a route's next hops and preference: `gateway` (when it
/// has any), `immediate-gw` (when it resolved to any hop), `distance`, `scope`, and
/// `target-scope` unless the route is connected.
pub fn with_next_hops(mut row: Row, config: &Config, rib: &RibState, view: &RouteView<'_>) -> Row {
    let gateway = gateway_text(config, rib, view);
    if !gateway.is_empty() {
        row = row.word("gateway", gateway);
    }
    let hops: Vec<String> = view
        .immediate_gw()
        .iter()
        .map(|h| hop_text(config, rib, h))
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
