//! The reference's picture, in the same form as the incremental RIB's (`rib::snapshot`).

use super::super::snapshot::{fib_contents, RouteRow, Snapshot};
use super::super::types::*;
use super::super::view::RouteFlags;
use super::ReferenceRib;
use crate::prefix::Prefix;
use alloc::string::String;
use alloc::vec::Vec;

impl ReferenceRib {
    pub(crate) fn snapshot(&self) -> Snapshot {
        let c = &self.config;
        let routes = self
            .order
            .iter()
            .map(|&i| {
                let (r, s) = (&self.records[i as usize], &self.states[i as usize]);
                let spec = &r.spec;
                RouteRow {
                    id: r.id,
                    origin: r.origin,
                    spec: spec.clone(),
                    dst_interface: r.dst_interface,
                    flags: RouteFlags {
                        dynamic: r.origin != Origin::Static,
                        disabled: spec.disabled,
                        active: s.active,
                        inactive: !spec.disabled && !s.candidate,
                        unreachable: !spec.disabled
                            && spec.route_type == RouteType::Unicast
                            && s.immediate.is_empty(),
                        ecmp: s.ecmp,
                        origin: Some(r.origin),
                    },
                    contribution: s.contribution,
                    gateways: s.gateways.clone(),
                    immediate: s.immediate.clone(),
                    address: (r.origin == Origin::Connected)
                        .then(|| c.addresses.iter().find(|(_, a)| a.route == r.id))
                        .flatten()
                        .map(|(id, _)| id),
                    table_name: String::from(c.tables.get(&spec.table).map_or("", |t| &t.name)),
                }
            })
            .collect();
        let mut fib = Vec::new();
        for (t, table) in self.fibs.iter() {
            match &table.fib {
                Some(f) => fib_contents(t, &f.v4, &f.v6, &self.hops, &mut fib),
                None => {
                    for (p, h) in table.installed.iter() {
                        let action = self.hops.action(*h).cloned().expect("an action");
                        fib.push((t, p, action));
                    }
                }
            }
        }
        fib.sort();
        Snapshot {
            routes,
            fib,
            next_hops: self.hops.len(),
            local: self.local.clone(),
            tables: c
                .tables
                .iter()
                .map(|(id, t)| (id, t.name.clone(), t.fib))
                .collect(),
            rules: c.rules.clone(),
            addresses: c
                .addresses
                .iter()
                .map(|(id, a)| {
                    let network = Prefix::new(a.spec.address, a.spec.prefix_len)
                        .unwrap_or_else(|_| Prefix::host(a.spec.address));
                    let invalid = !c.interfaces.contains_key(&a.spec.interface);
                    (id, a.spec.clone(), network, invalid, a.route)
                })
                .collect(),
            interfaces: c.interfaces.iter().map(|(i, s)| (i, *s)).collect(),
        }
    }
}
