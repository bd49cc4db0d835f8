//! References between items, and what happens to them when an interface goes away.
//!
//! Items refer to interfaces (an address's `interface`, a bridge port's `bridge` and
//! `interface`, a guest interface's `dynamic-bridge`, route gateways `%iface` and interface
//! gateways, a rule's `interface`). Removing an interface never removes or rewrites what refers
//! to it, as in RouterOS: each reference becomes [`IfaceRef::Gone`], an entry of
//! [`Config::gone`] that remembers the interface's id (printed `*N`) and name. The item stays,
//! shown invalid; the network derivation leaves it out (an address on a gone interface gives
//! no connected route, a port on a gone bridge joins nothing, a route through it is inactive, a
//! rule on it matches nothing). When an interface of that name appears again (added, or renamed
//! to it), the references come back to life ([`Config::revive`]). A reference that must name a
//! bridge comes back only to a bridge.
//!
//! `export` and the saved configuration write a gone reference by its name. Replayed at boot
//! (with [`Config::restoring`] set), such a name is unknown and the parser hands it over as
//! [`Value::Missing`] (or a gateway list with missing names); [`bind_missing`] turns those into
//! gone references before the item is built, so a reboot keeps them.

use alloc::string::String;
use alloc::vec::Vec;

use crate::cli::args::{Args, Value};
use crate::config::{same_name, Config, Gateway, GoneIface, IfaceRef, ItemId};

impl Config {
    /// The name a reference stands for: the interface's, or the remembered name of a gone one
    /// (what `export` and the saved configuration write).
    pub fn ref_name(&self, iface: IfaceRef) -> Option<&str> {
        match iface {
            IfaceRef::Gone(id) => self
                .gone
                .iter()
                .find(|g| g.id == id)
                .map(|g| g.name.as_str()),
            _ => self.iface_name(iface),
        }
    }

    /// An interface whose name is the same name as `name` ([`same_name`]).
    pub fn iface_named_like(&self, name: &str) -> Option<IfaceRef> {
        self.interfaces()
            .into_iter()
            .find(|&r| self.iface_name(r).is_some_and(|n| same_name(n, name)))
    }

    /// Calls `visit` on every interface reference in the configuration, with `true` where the
    /// reference must name a bridge, and keeps what it writes. `visit` is called twice on a
    /// reference it changes (once to find the items to change, once to change them), so it
    /// must give the same answer both times.
    pub fn for_each_ref(&mut self, visit: &mut dyn FnMut(&mut IfaceRef, bool)) {
        let mut changes = |r: IfaceRef, bridge: bool| {
            let mut copy = r;
            visit(&mut copy, bridge);
            copy
        };
        // Each list: find the items with a reference `visit` changes, then change them.
        let mut pending: Vec<ItemId> = Vec::new();
        pending.extend(
            self.ipv4_addresses
                .iter()
                .filter(|a| changes(a.interface, false) != a.interface)
                .map(|a| a.id),
        );
        for id in core::mem::take(&mut pending) {
            self.ipv4_addresses
                .update(id, |a| a.interface = changes(a.interface, false));
        }
        pending.extend(
            self.ipv6_addresses
                .iter()
                .filter(|a| changes(a.interface, false) != a.interface)
                .map(|a| a.id),
        );
        for id in core::mem::take(&mut pending) {
            self.ipv6_addresses
                .update(id, |a| a.interface = changes(a.interface, false));
        }
        pending.extend(
            self.vlans
                .iter()
                .filter(|v| changes(v.interface, false) != v.interface)
                .map(|v| v.id),
        );
        for id in core::mem::take(&mut pending) {
            self.vlans
                .update(id, |v| v.interface = changes(v.interface, false));
        }
        pending.extend(
            self.static_arp
                .iter()
                .filter(|a| changes(a.interface, false) != a.interface)
                .map(|a| a.id),
        );
        for id in core::mem::take(&mut pending) {
            self.static_arp
                .update(id, |a| a.interface = changes(a.interface, false));
        }
        pending.extend(
            self.bridge_ports
                .iter()
                .filter(|p| {
                    changes(p.interface, false) != p.interface
                        || changes(p.bridge, true) != p.bridge
                })
                .map(|p| p.id),
        );
        for id in core::mem::take(&mut pending) {
            self.bridge_ports.update(id, |p| {
                p.interface = changes(p.interface, false);
                p.bridge = changes(p.bridge, true);
            });
        }
        pending.extend(
            self.vm_ifaces
                .iter()
                .filter(|i| i.dynamic_bridge.is_some_and(|b| changes(b, true) != b))
                .map(|i| i.id),
        );
        for id in core::mem::take(&mut pending) {
            self.vm_ifaces.update(id, |i| {
                i.dynamic_bridge = i.dynamic_bridge.map(|b| changes(b, true))
            });
        }
        let gateway_iface = |g: &Gateway| match g {
            Gateway::Interface(i) | Gateway::AddressOnInterface(_, i) => Some(*i),
            Gateway::Address(_) => None,
        };
        pending.extend(
            self.routes
                .iter()
                .filter(|r| {
                    r.gateways
                        .iter()
                        .filter_map(gateway_iface)
                        .any(|i| changes(i, false) != i)
                })
                .map(|r| r.id),
        );
        for id in core::mem::take(&mut pending) {
            self.routes.update(id, |r| {
                for g in &mut r.gateways {
                    if let Gateway::Interface(i) | Gateway::AddressOnInterface(_, i) = g {
                        *i = changes(*i, false);
                    }
                }
            });
        }
        pending.extend(
            self.routing_rules
                .iter()
                .filter(|r| r.interface.is_some_and(|i| changes(i, false) != i))
                .map(|r| r.id),
        );
        for id in pending {
            self.routing_rules
                .update(id, |r| r.interface = r.interface.map(|i| changes(i, false)));
        }
    }

    /// Turns every reference to `iface`, an interface about to be removed, into a gone
    /// reference that remembers its name. Call before the interface leaves the configuration.
    pub fn forget_interface(&mut self, iface: IfaceRef) {
        let (IfaceRef::Bridge(id) | IfaceRef::Vif(id) | IfaceRef::Vlan(id)) = iface else {
            return;
        };
        let Some(name) = self.iface_name(iface).map(String::from) else {
            return;
        };
        let mut used = false;
        self.for_each_ref(&mut |r, _| {
            if *r == iface {
                *r = IfaceRef::Gone(id);
                used = true;
            }
        });
        if used {
            self.gone.push(GoneIface { id, name });
        }
    }

    /// Remembers that references to the gone interface `*id` name `name` (restoring a saved
    /// configuration, so that they print as the same `*N`).
    pub fn remember_gone(&mut self, id: ItemId, name: &str) {
        if self.gone.iter().all(|g| g.id != id && g.name != name) {
            self.gone.push(GoneIface {
                id,
                name: String::from(name),
            });
        }
    }

    /// The gone reference for interface name `name`: the entry that remembers it, or a new one.
    pub fn remember_missing(&mut self, name: &str) -> IfaceRef {
        if let Some(g) = self.gone.iter().find(|g| g.name == name) {
            return IfaceRef::Gone(g.id);
        }
        let id = self.fresh_id();
        self.gone.push(GoneIface {
            id,
            name: String::from(name),
        });
        IfaceRef::Gone(id)
    }

    /// Brings gone references back to life where an interface of the remembered name exists
    /// now (a bridge, where the reference must name one), and forgets entries nothing refers
    /// to any more. Call after interfaces were added or renamed.
    pub fn revive(&mut self) {
        let gone = core::mem::take(&mut self.gone);
        let targets: Vec<(ItemId, Option<IfaceRef>)> = gone
            .iter()
            .map(|g| (g.id, self.find_iface(&g.name)))
            .collect();
        let mut still: Vec<ItemId> = Vec::new();
        self.for_each_ref(&mut |r, bridge_only| {
            let IfaceRef::Gone(id) = *r else {
                return;
            };
            let target = targets.iter().find(|(g, _)| *g == id).and_then(|(_, t)| *t);
            match target {
                Some(t) if !bridge_only || matches!(t, IfaceRef::Bridge(_)) => *r = t,
                _ => still.push(id),
            }
        });
        self.gone = gone.into_iter().filter(|g| still.contains(&g.id)).collect();
    }
}

/// Turns the missing interface names of `args` (possible only while the saved configuration is
/// replayed) into gone references remembered in `config`. `None` when there are none, so the
/// caller keeps using `args`.
pub fn bind_missing(config: &mut Config, args: &Args) -> Option<Args> {
    let missing = args.list.iter().any(|a| match &a.value {
        Value::Missing(_) => true,
        Value::Gateways(_, names) => !names.is_empty(),
        _ => false,
    });
    if !missing {
        return None;
    }
    let mut out = args.clone();
    for arg in &mut out.list {
        match &mut arg.value {
            Value::Missing(name) => {
                let name = core::mem::take(name);
                arg.value = Value::Iface(config.remember_missing(&name));
            }
            Value::Gateways(gateways, names) => {
                for g in gateways.iter_mut() {
                    if let Gateway::Interface(i) | Gateway::AddressOnInterface(_, i) = g {
                        if let IfaceRef::Gone(k) = *i {
                            *i = config.remember_missing(&names[k as usize]);
                        }
                    }
                }
                names.clear();
            }
            _ => {}
        }
    }
    Some(out)
}
