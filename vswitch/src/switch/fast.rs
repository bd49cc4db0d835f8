//! The forwarding decision's fast path: the usual case of [`Switch::forward`] (a known station
//! sending to a known station, without VLAN filtering) without calls, so that it needs no stack
//! frame. Everything else goes to the full decision, which starts again from the beginning.

use super::{Port, Switch};
use crate::frame::HeaderWords;
use crate::table::Packed;
use crate::types::{PortId, Seconds};

/// What the fast path needs to know of a port, kept beside the port and bridge tables and
/// recomputed from them after every configuration change ([`Switch::refresh_fast`]). Sixteen
/// bytes, so that it is found with one shift.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(16))]
pub(super) struct FastPort {
    /// The port's bridge; [`NO_BRIDGE`] if the port does not exist, is in no bridge, or is in a
    /// bridge that filters VLANs (frames there take the full decision).
    bridge: u16,
    /// The port's horizon.
    horizon: Option<u16>,
    /// The bridge's ageing time.
    ageing: u32,
}

/// Not a bridge index: a switch has fewer than `u16::MAX` bridges.
const NO_BRIDGE: u16 = u16::MAX;

impl FastPort {
    /// A port the fast path does not handle.
    pub(super) const NONE: FastPort = FastPort {
        bridge: NO_BRIDGE,
        horizon: None,
        ageing: 0,
    };
}

impl<const PORTS: usize, const BRIDGES: usize, const MACS: usize> Switch<PORTS, BRIDGES, MACS> {
    /// Recomputes what the fast path reads from the port and bridge tables (after every
    /// configuration change; a few hundred instructions at most).
    pub(super) fn refresh_fast(&mut self) {
        for (fast, port) in self.fast.iter_mut().zip(&self.ports) {
            *fast = match port {
                Some(Port {
                    bridge: Some(bridge),
                    settings,
                }) => match self.bridges.get(bridge.index()) {
                    Some(Some(b)) if !b.config.vlan_filtering => FastPort {
                        bridge: bridge.0,
                        horizon: settings.horizon,
                        ageing: b.config.ageing_time,
                    },
                    _ => FastPort::NONE,
                },
                _ => FastPort::NONE,
            };
        }
    }

    /// The usual case of [`Switch::forward`]: in a bridge that does not filter VLANs, a valid
    /// source already learned on `in_port` (refreshed here, as the full decision would) sends
    /// to a unicast address learned on another port of the bridge, outside the ingress port's
    /// horizon. `None` for anything else, with nothing changed but that refresh, which the full
    /// decision then repeats identically. The header is read as words ([`HeaderWords`]) and the
    /// table probed with packed keys.
    ///
    /// Out of line and free of calls, so that it needs no stack frame.
    #[inline(never)]
    pub(super) fn forward_fast(
        &mut self,
        now: Seconds,
        in_port: PortId,
        frame: &[u8],
    ) -> Option<PortId> {
        let ingress = *self.fast.get(in_port.index())?;
        let header = HeaderWords::parse(frame)?;
        // Group destinations include the reserved link-local ones.
        if (ingress.bridge == NO_BRIDGE) | !header.src_is_valid() | header.dst_is_multicast() {
            return None;
        }
        let (vid, bridge) = (header.vid(), ingress.bridge);
        let source = Packed::new(header.src_hi, header.src_lo, vid, bridge);
        if !self
            .table
            .refresh_packed(source, in_port.0, now.0, ingress.ageing)
        {
            return None;
        }
        let dest = Packed::new(header.dst_hi, header.dst_lo, vid, bridge);
        let out = self.table.peek_packed(dest, now.0, ingress.ageing)?;
        let egress = self.fast.get(usize::from(out))?;
        let same_horizon = ingress.horizon.is_some() && egress.horizon == ingress.horizon;
        if (egress.bridge != bridge) | (out == in_port.0) | same_horizon {
            return None;
        }
        Some(PortId(out))
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::{BridgeConfig, PortSettings, PortVlan, VlanList};
    use proptest::prelude::*;
    use std::vec::Vec;

    type Sw = Switch<6, 2, 16>;

    /// Two bridges (the second filters VLANs), six ports with mixed horizons and VLANs, a
    /// 16-slot table so that probe paths collide and wrap.
    fn switch(ageing: u32) -> Sw {
        let mut sw = Sw::new();
        let b0 = sw.add_bridge(BridgeConfig {
            ageing_time: ageing,
            vlan_filtering: false,
        });
        let b1 = sw.add_bridge(BridgeConfig {
            ageing_time: ageing,
            vlan_filtering: true,
        });
        let (b0, b1) = (b0.unwrap(), b1.unwrap());
        for (i, (bridge, horizon)) in [
            (b0, None),
            (b0, Some(1)),
            (b0, Some(1)),
            (b0, None),
            (b1, None),
            (b1, Some(2)),
        ]
        .into_iter()
        .enumerate()
        {
            let port = sw.add_port().unwrap();
            let vlan = PortVlan {
                pvid: Some(1),
                tagged: VlanList::of(&[10]).unwrap(),
            };
            let settings = PortSettings { horizon, vlan };
            if i != 3 {
                sw.attach(port, bridge, settings).unwrap();
            }
        }
        sw
    }

    fn frame(dst: u8, src: u8, vid: u16) -> Vec<u8> {
        let mac = |n: u8| match n {
            0 => [0xFF; 6],
            1 => [0x01, 0x80, 0xC2, 0, 0, 0x02],
            2 => [0, 0, 0, 0, 0, 0],
            n => [0x02, 0, 0, 0, n & 1, n],
        };
        let mut f = mac(dst).to_vec();
        f.extend_from_slice(&mac(src));
        if vid != 0 {
            f.extend_from_slice(&[0x81, 0x00]);
            f.extend_from_slice(&vid.to_be_bytes());
        }
        f.extend_from_slice(&[0x08, 0x00]);
        f.resize(60, 0);
        f
    }

    fn state(sw: &Sw, now: Seconds) -> (Vec<crate::Host>, crate::SwitchStats) {
        (sw.hosts(now).collect(), sw.stats())
    }

    /// A configuration change, applied between frames (errors are fine: they change nothing).
    fn reconfigure(sw: &mut Sw, op: u8, a: u8, b: u8) {
        let port = PortId::new(u16::from(a % 7));
        let bridge = crate::BridgeId(u16::from(b % 2));
        let horizon = (b & 4 != 0).then_some(u16::from(b >> 3 & 1));
        let settings = PortSettings {
            horizon,
            vlan: PortVlan::default(),
        };
        let _ = match op % 6 {
            0 => sw.attach(port, bridge, settings),
            1 => sw.detach(port),
            2 => sw
                .remove_port(port)
                .and_then(|()| sw.add_port().map(|_| ())),
            3 => sw.set_bridge_config(
                bridge,
                BridgeConfig {
                    ageing_time: 20 + u32::from(a),
                    vlan_filtering: b & 8 != 0,
                },
            ),
            4 => sw.remove_bridge(bridge).and_then(|()| {
                let config = BridgeConfig::default();
                sw.add_bridge(config).map(|_| ())
            }),
            _ => Ok(()),
        };
    }

    proptest! {
        /// Wherever the fast path answers, the full decision answers the same and leaves the
        /// switch in the same state; the full decision alone is what `forward` is specified by.
        /// Configuration changes in between keep what the fast path reads up to date.
        #[test]
        fn fast_path_agrees_with_the_full_decision(
            steps in proptest::collection::vec(
                (
                    (0..7u16, 0..12u8, 0..12u8, prop_oneof![Just(0u16), Just(10)]),
                    (0..30u32, 0..60usize),
                    (0..12u8, any::<u8>(), any::<u8>()),
                ),
                1..120,
            ),
            ageing in 20..120u32,
        ) {
            let mut sw = switch(ageing);
            let mut now = 0u32;
            for ((port, dst, src, vid), (tick, len), (op, a, b)) in steps {
                reconfigure(&mut sw, op, a, b);
                let mut fresh = sw.clone();
                fresh.refresh_fast();
                prop_assert_eq!(fresh.fast, sw.fast);
                now = now.wrapping_add(tick);
                let f = frame(dst, src, vid);
                let f = &f[..len.max(10).min(f.len())];
                let (in_port, now) = (PortId::new(port), Seconds(now));
                let mut full = sw.clone();
                let expected = full.forward_full(now, in_port, f);
                let mut fast = sw.clone();
                if let Some(out) = fast.forward_fast(now, in_port, f) {
                    prop_assert_eq!(crate::Forward::Unicast(out), expected);
                    prop_assert_eq!(state(&fast, now), state(&full, now));
                } else {
                    // Nothing but a refresh the full decision repeats: it gives the same answer.
                    prop_assert_eq!(fast.forward_full(now, in_port, f), expected);
                    prop_assert_eq!(state(&fast, now), state(&full, now));
                }
                prop_assert_eq!(sw.forward(now, in_port, f), expected);
                prop_assert_eq!(state(&sw, now), state(&full, now));
            }
        }
    }

    /// The fast path answers in the usual case (so the property above is not vacuous).
    #[test]
    fn known_unicast_takes_the_fast_path() {
        let mut sw = switch(300);
        let (a, b) = (PortId::new(0), PortId::new(1));
        assert_eq!(
            sw.forward(Seconds(1), b, &frame(0, 5, 0)),
            sw.clone().forward_full(Seconds(1), b, &frame(0, 5, 0))
        );
        assert_eq!(
            sw.forward_fast(Seconds(1), a, &frame(5, 4, 0)),
            None,
            "source not learned yet"
        );
        sw.forward(Seconds(1), a, &frame(5, 4, 0));
        assert_eq!(sw.forward_fast(Seconds(2), a, &frame(5, 4, 0)), Some(b));
        assert_eq!(sw.forward_fast(Seconds(2), b, &frame(4, 5, 0)), Some(a));
        // Ports 1 and 2 share a horizon.
        sw.forward(Seconds(2), PortId::new(2), &frame(0, 7, 0));
        assert_eq!(sw.forward_fast(Seconds(2), b, &frame(7, 5, 0)), None);
    }
}
