//! The forwarding decision's fast path: the usual case of [`Switch::forward`] (a known station
//! sending to a known station, without VLAN filtering) without calls, so that it needs no stack
//! frame. Everything else goes to the full decision, which starts again from the beginning.

use super::Switch;
use crate::frame::HeaderWords;
use crate::table::Packed;
use crate::types::{PortId, Seconds};

impl<const PORTS: usize, const BRIDGES: usize, const MACS: usize> Switch<PORTS, BRIDGES, MACS> {
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
        let Some(Some(port)) = self.ports.get(in_port.index()) else {
            return None;
        };
        let bridge_id = port.bridge?;
        let Some(Some(bridge)) = self.bridges.get(bridge_id.index()) else {
            return None;
        };
        let header = HeaderWords::parse(frame)?;
        // Group destinations include the reserved link-local ones.
        if bridge.config.vlan_filtering | !header.src_is_valid() | header.dst_is_multicast() {
            return None;
        }
        let (vid, ageing) = (header.vid(), bridge.config.ageing_time);
        let source = Packed::new(header.src_hi, header.src_lo, vid, bridge_id.0);
        if !self.table.refresh_packed(source, in_port.0, now.0, ageing) {
            return None;
        }
        let dest = Packed::new(header.dst_hi, header.dst_lo, vid, bridge_id.0);
        let out = self.table.peek_packed(dest, now.0, ageing)?;
        let Some(Some(egress)) = self.ports.get(usize::from(out)) else {
            return None;
        };
        let same_horizon =
            port.settings.horizon.is_some() && egress.settings.horizon == port.settings.horizon;
        if (egress.bridge != Some(bridge_id)) | (out == in_port.0) | same_horizon {
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

    proptest! {
        /// Wherever the fast path answers, the full decision answers the same and leaves the
        /// switch in the same state; the full decision alone is what `forward` is specified by.
        #[test]
        fn fast_path_agrees_with_the_full_decision(
            steps in proptest::collection::vec(
                (0..7u16, 0..12u8, 0..12u8, prop_oneof![Just(0u16), Just(10)], 0..30u32, 0..60usize),
                1..120,
            ),
            ageing in 20..120u32,
        ) {
            let mut sw = switch(ageing);
            let mut now = 0u32;
            for (port, dst, src, vid, tick, len) in steps {
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
}
