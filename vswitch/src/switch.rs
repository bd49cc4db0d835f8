//! The switch: bridges, ports, and the forwarding decision for one frame.
//!
//! `forward(now, in_port, frame)` learns the source and decides:
//! - a port that is not in a bridge sends nowhere; bridges never exchange frames;
//! - runts, invalid sources (group or all-zero) and frames a VLAN-filtering port does not admit
//!   are dropped; so are frames to IEEE reserved link-local addresses (01:80:C2:00:00:0x), after
//!   learning their source;
//! - broadcast, multicast and unknown unicast are flooded to every other port of the bridge
//!   (that is a member of the frame's VLAN when filtering) except ports with the same horizon
//!   value as the ingress port;
//! - known unicast goes to its port, or is dropped if that is the ingress port or shares its
//!   horizon.

mod fast;
mod ingress;

pub use self::ingress::Ingress;

use self::fast::FastPort;
use crate::frame::{Header, HeaderWords};
use crate::portset::{PortSet, MAX_PORTS};
use crate::table::{Key, Learn, MacTable, Packed};
use crate::types::{
    BridgeConfig, BridgeId, DropReason, Forward, Host, PortId, PortSettings, Seconds, SwitchError,
    SwitchStats,
};
use crate::vlan::{EgressEdit, Membership};
use crate::MacAddr;

#[derive(Clone, Copy, Debug)]
struct Port {
    bridge: Option<BridgeId>,
    settings: PortSettings,
}

#[derive(Clone, Copy, Debug)]
struct Bridge {
    config: BridgeConfig,
    members: PortSet,
}

/// An L2 switch with up to `PORTS` ports, `BRIDGES` bridges and `MACS` MAC table slots.
#[derive(Clone, Debug)]
pub struct Switch<const PORTS: usize, const BRIDGES: usize, const MACS: usize> {
    ports: [Option<Port>; PORTS],
    bridges: [Option<Bridge>; BRIDGES],
    /// What the fast path reads of `ports` and `bridges`, recomputed from them after every
    /// configuration change (see `fast.rs`).
    fast: [FastPort; PORTS],
    table: MacTable<MACS>,
    stats: SwitchStats,
}

impl<const PORTS: usize, const BRIDGES: usize, const MACS: usize> Default
    for Switch<PORTS, BRIDGES, MACS>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const PORTS: usize, const BRIDGES: usize, const MACS: usize> Switch<PORTS, BRIDGES, MACS> {
    const LIMITS: () = assert!(
        PORTS <= MAX_PORTS && BRIDGES < u16::MAX as usize,
        "a switch has at most 256 ports and 65534 bridges"
    );

    /// A switch with no bridges and no ports.
    pub const fn new() -> Self {
        let () = Self::LIMITS;
        Self {
            ports: [None; PORTS],
            bridges: [None; BRIDGES],
            fast: [FastPort::NONE; PORTS],
            table: MacTable::new(),
            stats: SwitchStats {
                learned: 0,
                moved: 0,
                table_full: 0,
            },
        }
    }

    /// Back to no bridges, no ports, no learned addresses and zero counters, as
    /// [`Switch::new`] makes it, but in place: a switch is large (tens of KiB), and a new one is
    /// built on the stack first.
    pub fn clear(&mut self) {
        self.ports.fill(None);
        self.bridges.fill(None);
        self.fast.fill(FastPort::NONE);
        self.table.clear();
        self.stats = SwitchStats::default();
    }

    /// Counters.
    pub fn stats(&self) -> SwitchStats {
        self.stats
    }

    /// Creates a bridge.
    pub fn add_bridge(&mut self, config: BridgeConfig) -> Result<BridgeId, SwitchError> {
        let free = self
            .bridges
            .iter()
            .position(Option::is_none)
            .ok_or(SwitchError::TooManyBridges)?;
        self.bridges[free] = Some(Bridge {
            config,
            members: PortSet::EMPTY,
        });
        self.refresh_fast();
        Ok(BridgeId(free as u16))
    }

    /// Removes a bridge: its ports leave it and its addresses are forgotten.
    pub fn remove_bridge(&mut self, bridge: BridgeId) -> Result<(), SwitchError> {
        let b = self.bridge(bridge)?;
        for port in b.members.iter() {
            if let Some(p) = self.ports.get_mut(port.index()).and_then(Option::as_mut) {
                p.bridge = None;
            }
        }
        self.bridges[bridge.index()] = None;
        self.refresh_fast();
        self.table.retain(|e| e.bridge != bridge.0);
        Ok(())
    }

    /// Changes a bridge's settings; its addresses are forgotten when VLAN filtering changes.
    pub fn set_bridge_config(
        &mut self,
        bridge: BridgeId,
        config: BridgeConfig,
    ) -> Result<(), SwitchError> {
        self.bridge(bridge)?;
        let b = self.bridges[bridge.index()]
            .as_mut()
            .ok_or(SwitchError::UnknownBridge)?;
        let flush = b.config.vlan_filtering != config.vlan_filtering;
        b.config = config;
        self.refresh_fast();
        if flush {
            self.table.retain(|e| e.bridge != bridge.0);
        }
        Ok(())
    }

    /// A bridge's settings.
    pub fn bridge_config(&self, bridge: BridgeId) -> Result<BridgeConfig, SwitchError> {
        Ok(self.bridge(bridge)?.config)
    }

    fn bridge(&self, bridge: BridgeId) -> Result<Bridge, SwitchError> {
        self.bridges
            .get(bridge.index())
            .copied()
            .flatten()
            .ok_or(SwitchError::UnknownBridge)
    }

    fn port(&self, port: PortId) -> Result<Port, SwitchError> {
        self.ports
            .get(port.index())
            .copied()
            .flatten()
            .ok_or(SwitchError::UnknownPort)
    }

    /// Creates a port, in no bridge.
    pub fn add_port(&mut self) -> Result<PortId, SwitchError> {
        let free = self
            .ports
            .iter()
            .position(Option::is_none)
            .ok_or(SwitchError::TooManyPorts)?;
        self.ports[free] = Some(Port {
            bridge: None,
            settings: PortSettings::default(),
        });
        self.refresh_fast();
        Ok(PortId(free as u16))
    }

    /// Removes a port (leaving its bridge; its addresses are forgotten).
    pub fn remove_port(&mut self, port: PortId) -> Result<(), SwitchError> {
        self.detach(port)?;
        self.ports[port.index()] = None;
        self.refresh_fast();
        Ok(())
    }

    /// Puts `port` into `bridge` with `settings`, or updates its settings if it is already in
    /// that bridge (addresses learned on it are then forgotten if its VLANs changed).
    pub fn attach(
        &mut self,
        port: PortId,
        bridge: BridgeId,
        settings: PortSettings,
    ) -> Result<(), SwitchError> {
        let p = self.port(port)?;
        self.bridge(bridge)?;
        match p.bridge {
            Some(b) if b != bridge => return Err(SwitchError::PortInOtherBridge),
            Some(_) if p.settings.vlan != settings.vlan => self.table.retain(|e| e.port != port.0),
            _ => {}
        }
        self.ports[port.index()] = Some(Port {
            bridge: Some(bridge),
            settings,
        });
        if let Some(b) = self.bridges[bridge.index()].as_mut() {
            b.members.insert(port);
        }
        self.refresh_fast();
        Ok(())
    }

    /// Takes `port` out of its bridge (if any) and forgets the addresses learned on it.
    pub fn detach(&mut self, port: PortId) -> Result<(), SwitchError> {
        let p = self.port(port)?;
        if let Some(bridge) = p.bridge {
            if let Some(b) = self.bridges[bridge.index()].as_mut() {
                b.members.remove(port);
            }
        }
        self.ports[port.index()] = Some(Port { bridge: None, ..p });
        self.refresh_fast();
        self.table.retain(|e| e.port != port.0);
        Ok(())
    }

    /// The bridge a port is in.
    pub fn port_bridge(&self, port: PortId) -> Result<Option<BridgeId>, SwitchError> {
        Ok(self.port(port)?.bridge)
    }

    /// The ports of a bridge.
    pub fn members(&self, bridge: BridgeId) -> Result<PortSet, SwitchError> {
        Ok(self.bridge(bridge)?.members)
    }

    /// Forgets every address learned in `bridge`.
    pub fn flush(&mut self, bridge: BridgeId) {
        self.table.retain(|e| e.bridge != bridge.0);
    }

    /// Sweeps out the addresses older than their bridge's ageing time (call it now and then;
    /// lookups also drop the expired entries they meet).
    pub fn age_out(&mut self, now: Seconds) {
        let bridges = &self.bridges;
        self.table.retain(
            |e| match bridges.get(e.bridge as usize).copied().flatten() {
                Some(b) => now.0.wrapping_sub(e.seen) < b.config.ageing_time,
                None => false,
            },
        );
    }

    /// The addresses currently known (expired ones not yet swept are left out).
    pub fn hosts(&self, now: Seconds) -> impl Iterator<Item = Host> + '_ {
        self.table.iter().filter_map(move |e| {
            let ageing = self
                .bridges
                .get(e.bridge as usize)
                .copied()
                .flatten()?
                .config
                .ageing_time;
            let age = now.0.wrapping_sub(e.seen);
            (age < ageing).then_some(Host {
                bridge: BridgeId(e.bridge),
                vid: e.vid,
                mac: e.mac,
                port: PortId(e.port),
                age,
            })
        })
    }

    /// The port `mac` was last seen on in `bridge` / `vid`, if it has not aged out.
    pub fn lookup(
        &mut self,
        now: Seconds,
        bridge: BridgeId,
        vid: u16,
        mac: MacAddr,
    ) -> Option<PortId> {
        let ageing = self.bridge(bridge).ok()?.config.ageing_time;
        self.table
            .lookup(
                Key {
                    bridge: bridge.0,
                    vid,
                    mac,
                },
                now.0,
                ageing,
            )
            .map(PortId)
    }

    /// The frame's VLAN as seen from `port` (0 when VLAN-transparent), or `None` if the port
    /// does not admit it. `tagged_vid` is the VLAN id of the frame's tag (0 if it has none).
    #[inline(always)]
    fn classify(config: &BridgeConfig, settings: &PortSettings, tagged_vid: u16) -> Option<u16> {
        if !config.vlan_filtering {
            return Some(tagged_vid);
        }
        Self::classify_filtering(settings, tagged_vid)
    }

    /// [`Switch::classify`] in a bridge that filters VLANs.
    #[inline(never)]
    fn classify_filtering(settings: &PortSettings, tagged_vid: u16) -> Option<u16> {
        match tagged_vid {
            0 => settings.vlan.pvid,
            vid => (settings.vlan.membership(vid) != Membership::None).then_some(vid),
        }
    }

    /// Learns the frame's source and decides where the frame goes (see the module docs).
    ///
    /// This runs for every frame. The usual case (a known station sending to a known station,
    /// without VLAN filtering) takes a path without calls; everything else takes the full
    /// decision, from the start.
    #[inline]
    pub fn forward(&mut self, now: Seconds, in_port: PortId, frame: &[u8]) -> Forward {
        match self.forward_fast(now, in_port, frame) {
            Some(out) => Forward::Unicast(out),
            None => self.forward_full(now, in_port, frame),
        }
    }

    /// [`Switch::forward`] in full.
    #[inline(never)]
    fn forward_full(&mut self, now: Seconds, in_port: PortId, frame: &[u8]) -> Forward {
        // Fields are borrowed one by one so that the table can learn while a port is looked at.
        let Some(Some(port)) = self.ports.get(in_port.index()) else {
            return Forward::Drop(DropReason::UnknownPort);
        };
        let Some(bridge_id) = port.bridge else {
            return Forward::Drop(DropReason::NotInBridge);
        };
        let Some(Some(bridge)) = self.bridges.get(bridge_id.index()) else {
            return Forward::Drop(DropReason::NotInBridge);
        };
        let Some(header) = HeaderWords::parse(frame) else {
            return Forward::Drop(DropReason::Runt);
        };
        if !header.src_is_valid() {
            return Forward::Drop(DropReason::InvalidSource);
        }
        let Some(vid) = Self::classify(&bridge.config, &port.settings, header.vid()) else {
            return Forward::Drop(DropReason::VlanNotAdmitted);
        };
        let ageing = bridge.config.ageing_time;
        let source = Packed::new(header.src_hi, header.src_lo, vid, bridge_id.0);
        match self.table.learn_packed(source, in_port.0, now.0, ageing) {
            Learn::Refreshed => {}
            learn => count_learn(&mut self.stats, learn),
        }
        if header.dst_is_reserved_link_local() {
            return Forward::Drop(DropReason::ReservedDestination);
        }
        if !header.dst_is_multicast() {
            let dest = Packed::new(header.dst_hi, header.dst_lo, vid, bridge_id.0);
            if let Some(out) = self.table.lookup_packed(dest, now.0, ageing) {
                let out = PortId(out);
                // A port that left its bridge had its entries flushed; the check is a safety net.
                if let Some(Some(egress)) = self.ports.get(out.index()) {
                    if egress.bridge == Some(bridge_id) {
                        return if out == in_port {
                            Forward::Drop(DropReason::SamePort)
                        } else if port.settings.horizon.is_some()
                            && egress.settings.horizon == port.settings.horizon
                        {
                            Forward::Drop(DropReason::Horizon)
                        } else if bridge.config.vlan_filtering
                            && egress.settings.vlan.membership(vid) == Membership::None
                        {
                            Forward::Drop(DropReason::VlanNotAdmitted)
                        } else {
                            Forward::Unicast(out)
                        };
                    }
                }
            }
        }
        flood(&self.ports, bridge, in_port, &port.settings, vid)
    }

    /// How `frame`, received on `in_port`, must be tagged when it leaves by `out_port`
    /// ([`EgressEdit::Keep`] unless the bridge filters VLANs).
    #[inline]
    pub fn egress_edit(&self, in_port: PortId, out_port: PortId, frame: &[u8]) -> EgressEdit {
        let (Ok(ingress), Ok(egress)) = (self.port(in_port), self.port(out_port)) else {
            return EgressEdit::Keep;
        };
        let Some(bridge) = ingress.bridge.and_then(|b| self.bridge(b).ok()) else {
            return EgressEdit::Keep;
        };
        if !bridge.config.vlan_filtering {
            return EgressEdit::Keep;
        }
        let Some(header) = Header::parse(frame) else {
            return EgressEdit::Keep;
        };
        let Some(vid) = Self::classify(&bridge.config, &ingress.settings, header.vid()) else {
            return EgressEdit::Keep;
        };
        let priority = header.tci.map_or(0, |tci| tci & 0xF000);
        match (egress.settings.vlan.membership(vid), header.tci) {
            (Membership::Untagged, Some(_)) => EgressEdit::StripTag,
            (Membership::Tagged, None) => EgressEdit::InsertTag(vid),
            // A priority-tagged frame (VID 0) leaving tagged gets its VLAN id written in.
            (Membership::Tagged, Some(tci)) if tci & 0x0FFF == 0 => {
                EgressEdit::SetTci(priority | vid)
            }
            _ => EgressEdit::Keep,
        }
    }
}

/// Counts what learning a source did (out of line: a refreshed address, the usual case, counts
/// nothing).
#[inline(never)]
fn count_learn(stats: &mut SwitchStats, learn: Learn) {
    match learn {
        Learn::Refreshed => {}
        Learn::Added => stats.learned += 1,
        Learn::Moved { .. } => stats.moved += 1,
        Learn::TableFull => stats.table_full += 1,
    }
}

/// Every other port of `bridge` that may get a frame of VLAN `vid` from `in_port`.
#[inline(never)]
fn flood(
    ports: &[Option<Port>],
    bridge: &Bridge,
    in_port: PortId,
    from: &PortSettings,
    vid: u16,
) -> Forward {
    let mut out = bridge.members;
    out.remove(in_port);
    if from.horizon.is_some() || bridge.config.vlan_filtering {
        for p in bridge.members.iter() {
            let Some(Some(port)) = ports.get(p.index()) else {
                continue;
            };
            let same_horizon = from.horizon.is_some() && port.settings.horizon == from.horizon;
            let outside_vlan = bridge.config.vlan_filtering
                && port.settings.vlan.membership(vid) == Membership::None;
            if same_horizon || outside_vlan {
                out.remove(p);
            }
        }
    }
    if out.is_empty() {
        Forward::Drop(DropReason::NoEgressPort)
    } else {
        Forward::Flood(out)
    }
}
