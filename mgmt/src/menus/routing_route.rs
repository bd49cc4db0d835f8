//! `/routing route`: every route of both families with extended properties, read-only (the
//! RouterOS v7 layout: no numbers, `DIStance`-style narrow columns, `print detail` with `afi`,
//! `contribution`, `immediate-gw`, `belongs-to`).

use alloc::format;
use alloc::vec::Vec;

use routing::{Afi, Origin};

use super::route_view::{current_rib, dst_text, with_gateway, with_immediate};
use crate::cli::args::Field;
use crate::cli::menu::Table;
use crate::cli::table::{Column, FlagSlot, Row, Style, View};
use crate::config::Config;
use crate::platform::Platform;

static ALL_ROUTES_VIEW: View = View {
    style: Style::Modern,
    slots: &[
        FlagSlot {
            flags: &[
                ('X', "disabled"),
                ('I', "inactive"),
                ('F', "filtered"),
                ('U', "unreachable"),
                ('A', "active"),
            ],
            optional: false,
        },
        FlagSlot {
            flags: &[
                ('c', "connect"),
                ('s', "static"),
                ('r', "rip"),
                ('b', "bgp"),
                ('o', "ospf"),
                ('d', "dhcp"),
                ('v', "vpn"),
                ('a', "ldp-address"),
                ('l', "ldp-mapping"),
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
        Column {
            prop: "scope",
            header: "SCOPE",
            abbreviate: true,
        },
        Column {
            prop: "target-scope",
            header: "TARGET-SCOPE",
            abbreviate: true,
        },
        Column {
            prop: "immediate-gw",
            header: "IMMEDIATE-GW",
            abbreviate: false,
        },
    ],
    detail_default: false,
    numbers: false,
};

/// `/routing route`: every route of both families, read-only.
pub struct AllRoutes;

impl Table for AllRoutes {
    fn view(&self) -> &'static View {
        &ALL_ROUTES_VIEW
    }

    fn fields(&self) -> &'static [Field] {
        &[]
    }

    fn can_add(&self) -> bool {
        false
    }

    fn can_set(&self) -> bool {
        false
    }

    fn can_remove(&self) -> bool {
        false
    }

    fn rows(&self, config: &Config, platform: &dyn Platform) -> Vec<Row> {
        let Some((net, build)) = current_rib(config, platform) else {
            return Vec::new();
        };
        build
            .rib
            .routes()
            .map(|view| {
                let spec = view.spec();
                let mut row = Row {
                    numbered: false,
                    ..Row::default()
                };
                row.flags = view
                    .flags()
                    .routing_route_flags()
                    .as_str()
                    .chars()
                    .collect();
                let afi = if spec.dst.afi() == Afi::Ipv4 {
                    "ip4"
                } else {
                    "ip6"
                };
                row = row.word("afi", afi);
                if let Some(contribution) = view.contribution() {
                    row = row.word("contribution", contribution.as_str());
                }
                row = row
                    .word("dst-address", dst_text(&net, &view))
                    .word("routing-table", view.table_name());
                row = with_gateway(row, config, &net, &build, &view);
                row = with_immediate(row, &net, &view)
                    .num("distance", format!("{}", spec.distance))
                    .num("scope", format!("{}", spec.scope));
                if view.origin() != Origin::Connected {
                    row = row.num("target-scope", format!("{}", spec.target_scope));
                }
                row.text("belongs-to", view.belongs_to())
            })
            .collect()
    }
}
