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
    /// reference must name a bridge.
    pub fn for_each_ref(&mut self, visit: &mut dyn FnMut(&mut IfaceRef, bool)) {
        for a in &mut self.ipv4_addresses {
            visit(&mut a.interface, false);
        }
        for a in &mut self.ipv6_addresses {
            visit(&mut a.interface, false);
        }
        for p in &mut self.bridge_ports {
            visit(&mut p.interface, false);
            visit(&mut p.bridge, true);
        }
        for i in &mut self.vm_ifaces {
            if let Some(bridge) = &mut i.dynamic_bridge {
                visit(bridge, true);
            }
        }
        for r in &mut self.routes {
            for g in &mut r.gateways {
                if let Gateway::Interface(i) | Gateway::AddressOnInterface(_, i) = g {
                    visit(i, false);
                }
            }
        }
        for r in &mut self.routing_rules {
            if let Some(i) = &mut r.interface {
                visit(i, false);
            }
        }
    }

    /// Turns every reference to `iface`, an interface about to be removed, into a gone
    /// reference that remembers its name. Call before the interface leaves the configuration.
    pub fn forget_interface(&mut self, iface: IfaceRef) {
        let (IfaceRef::Bridge(id) | IfaceRef::Vif(id)) = iface else {
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

    /// The gone reference for interface name `name`: the entry that remembers it, or a new one.
    pub fn remember_missing(&mut self, name: &str) -> IfaceRef {
        if let Some(g) = self.gone.iter().find(|g| g.name == name) {
            return IfaceRef::Gone(g.id);
        }
        let id = self.new_id();
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
