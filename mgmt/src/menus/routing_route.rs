//! `/routing route`: every route of both families with extended properties, read-only (the
//! RouterOS v7 layout: no numbers, `DIStance`-style narrow columns, `print detail` with `afi`,
//! `contribution`, `immediate-gw`, `belongs-to`). A route the RIB selected but its table's
//! full FIB could not take is `I` with `contribution=active inactive-reason=fib-full`.

use alloc::vec::Vec;

use routing::Afi;

use super::route_view::{dst_text, with_next_hops, DISTANCE, DST_ADDRESS, ECMP, GATEWAY};
use crate::cli::menu::{Access, Table, ViewCtx};
use crate::cli::table::Row;
use crate::cli::view::{Column, FlagSlot, View};

static ALL_ROUTES_VIEW: View = View {
    numbers: false,
    ..View::modern(
        &[
            FlagSlot::new(&[
                ('X', "disabled"),
                ('I', "inactive"),
                ('F', "filtered"),
                ('U', "unreachable"),
                ('A', "active"),
            ]),
            FlagSlot::new(&[
                ('c', "connect"),
                ('s', "static"),
                ('r', "rip"),
                ('b', "bgp"),
                ('o', "ospf"),
                ('d', "dhcp"),
                ('v', "vpn"),
                ('a', "ldp-address"),
                ('l', "ldp-mapping"),
            ]),
            ECMP,
        ],
        &[
            DST_ADDRESS,
            GATEWAY,
            DISTANCE,
            Column::abbreviated("scope", "SCOPE"),
            Column::abbreviated("target-scope", "TARGET-SCOPE"),
            Column::new("immediate-gw", "IMMEDIATE-GW"),
        ],
    )
};

/// `/routing route`: every route of both families, read-only.
pub struct AllRoutes;

impl Table for AllRoutes {
    fn view(&self) -> &'static View {
        &ALL_ROUTES_VIEW
    }

    fn access(&self) -> Access {
        Access::ReadOnly
    }

    fn rows(&self, ctx: &ViewCtx<'_>) -> Vec<Row> {
        let (config, rib) = (ctx.config, ctx.rib);
        rib.rib()
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
                if view.waits_for_fib() {
                    // Selected, but its table's FIB is full: not installed (`I`, not `A`).
                    row = row.word("inactive-reason", "fib-full");
                }
                row = row
                    .word("dst-address", dst_text(config, rib, &view))
                    .word("routing-table", view.table_name());
                with_next_hops(row, config, rib, &view).text("belongs-to", view.belongs_to())
            })
            .collect()
    }
}
