//! The decisions for a run of frames from one port at one time ([`Switch::ingress`]): what a
//! receive poll hands over, usually many frames of a few flows. [`Ingress::forward`] is
//! [`Switch::forward`] for each, with the last fast-path decision remembered: a frame whose
//! header repeats the previous frame's gets the same answer without the table being probed.
//!
//! Why that is exact: the fast path's answer depends on the ingress port, the time, the
//! addresses and the VLAN tag, and on the table; its only change to the table is setting the
//! source's last-seen time to `now`. Repeated at the same time from the same port with the same
//! header, on the table it left, it finds the same entries on the same probe paths (no slot
//! changed but that time, which already is `now`), sets the same time again and answers the
//! same: it changes nothing and needs not run. The [`Ingress`] holds the switch exclusively, so
//! nothing else changes the table meanwhile; a frame that takes the full decision (which may
//! learn, move or remove entries) forgets the remembered one.

use super::Switch;
use crate::frame::{HEADER_LEN, TAG_LEN, TPID_8021Q};
use crate::types::{Forward, PortId, Seconds};

/// The bytes the fast path reads: destination, source, EtherType or tag (with its control
/// information), as four big-endian words; the last word's lower half (the tag control
/// information) only when the frame is tagged.
type HeaderKey = [u32; 4];

/// [`Switch::forward`] for frames from one port at one time, the last fast-path decision
/// remembered (exact: see the module `switch::ingress`).
pub struct Ingress<'a, const PORTS: usize, const BRIDGES: usize, const MACS: usize> {
    switch: &'a mut Switch<PORTS, BRIDGES, MACS>,
    now: Seconds,
    in_port: PortId,
    /// The last frame's header and its port, when the fast path decided it.
    last: Option<(HeaderKey, PortId)>,
}

/// The header key of `frame`, if it is long enough to hold a tagged header (every frame the
/// switch forwards is: 60 bytes at least on the wire), so that the key alone says whether the
/// header parses.
#[inline(always)]
fn header_key(frame: &[u8]) -> Option<HeaderKey> {
    let h: &[u8; HEADER_LEN + TAG_LEN] = frame.first_chunk()?;
    let word = |at: usize| u32::from_be_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
    let last = word(12);
    let tagged = last >> 16 == u32::from(TPID_8021Q);
    let last = if tagged { last } else { last & 0xFFFF_0000 };
    Some([word(0), word(4), word(8), last])
}

/// `a == b` word by word, without a branch per word (an array's `==` is a call to `memcmp`,
/// byte by byte).
#[inline(always)]
fn same_key(a: &HeaderKey, b: &HeaderKey) -> bool {
    (a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) == 0
}

impl<const PORTS: usize, const BRIDGES: usize, const MACS: usize> Switch<PORTS, BRIDGES, MACS> {
    /// The decisions for frames received on `in_port` at `now`, one [`Ingress::forward`] each
    /// (the same as [`Switch::forward`], cheaper for a frame like the one before it).
    pub fn ingress(&mut self, now: Seconds, in_port: PortId) -> Ingress<'_, PORTS, BRIDGES, MACS> {
        Ingress {
            switch: self,
            now,
            in_port,
            last: None,
        }
    }
}

impl<const PORTS: usize, const BRIDGES: usize, const MACS: usize>
    Ingress<'_, PORTS, BRIDGES, MACS>
{
    /// Learns the frame's source and decides where it goes: [`Switch::forward`] at this
    /// ingress's port and time.
    #[inline(always)]
    pub fn forward(&mut self, frame: &[u8]) -> Forward {
        if let (Some((last, out)), Some(key)) = (self.last, header_key(frame)) {
            if same_key(&last, &key) {
                return Forward::Unicast(out);
            }
        }
        self.decide(frame)
    }

    /// A frame unlike the one before it (its key is read again here, which keeps it out of
    /// memory on the path above).
    #[inline(never)]
    fn decide(&mut self, frame: &[u8]) -> Forward {
        match self.switch.forward_fast(self.now, self.in_port, frame) {
            Some(out) => {
                self.last = header_key(frame).map(|key| (key, out));
                Forward::Unicast(out)
            }
            None => {
                self.last = None;
                self.switch.forward_full(self.now, self.in_port, frame)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::{BridgeConfig, BridgeId, PortSettings, PortVlan, VlanList};
    use proptest::prelude::*;
    use std::vec::Vec;

    type Sw = Switch<6, 2, 16>;

    /// Two bridges (the second filters VLANs), six ports with mixed horizons, a 16-slot table so
    /// that probe paths collide and wrap.
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
        for (bridge, horizon) in [
            (b0, None),
            (b0, Some(1)),
            (b0, Some(1)),
            (b0, None),
            (b1, None),
            (b1, Some(2)),
        ] {
            let port = sw.add_port().unwrap();
            let vlan = PortVlan {
                pvid: Some(1),
                tagged: VlanList::of(&[10]).unwrap(),
            };
            sw.attach(port, bridge, PortSettings { horizon, vlan })
                .unwrap();
        }
        sw
    }

    /// A frame from station `src` to `dst` (0: broadcast, 1: reserved, 2: all zeros), tagged
    /// with `vid` unless 0, `len` bytes long, its byte 14 (payload or tag) `b14`.
    fn frame(dst: u8, src: u8, vid: u16, len: usize, b14: u8) -> Vec<u8> {
        let mac = |n: u8| match n {
            0 => [0xFF; 6],
            1 => [0x01, 0x80, 0xC2, 0, 0, 0x02],
            2 => [0; 6],
            n => [0x02, 0, 0, 0, n & 1, n],
        };
        let mut f = mac(dst).to_vec();
        f.extend_from_slice(&mac(src));
        if vid != 0 {
            f.extend_from_slice(&[0x81, 0x00]);
            f.extend_from_slice(&(vid | u16::from(b14 & 0xE0) << 8).to_be_bytes());
        } else {
            f.extend_from_slice(&[0x08, 0x00, b14, 0]);
        }
        f.extend_from_slice(&[0x08, 0x00]);
        f.resize(60, 0xAA);
        f.truncate(len);
        f
    }

    fn state(sw: &Sw, now: Seconds) -> (Vec<crate::Host>, crate::SwitchStats) {
        (sw.hosts(now).collect(), sw.stats())
    }

    proptest! {
        /// Runs of frames through an ingress decide and learn exactly as `Switch::forward`,
        /// frame by frame, across times, ports, configuration changes and short frames.
        #[test]
        fn an_ingress_decides_as_forward(
            runs in proptest::collection::vec(
                (
                    (0..7u16, 0..3u32, 0..4u8),
                    proptest::collection::vec(
                        (0..7u8, 2..7u8, prop_oneof![4 => Just(0u16), 1 => Just(10), 1 => Just(11)], any::<u8>(), prop_oneof![4 => Just(60usize), 1 => 10..61usize]),
                        1..24,
                    ),
                ),
                1..12,
            ),
            ageing in 1..60u32,
        ) {
            let mut sw = switch(ageing);
            let mut plain = sw.clone();
            let mut now = 0u32;
            for ((port, tick, change), frames) in runs {
                now = now.wrapping_add(tick);
                if change == 0 {
                    // A port leaves its bridge and comes back: its addresses are forgotten.
                    let p = PortId::new(port % 6);
                    let bridge = BridgeId(u16::from(port % 6 >= 4));
                    let settings = PortSettings::default();
                    for s in [&mut sw, &mut plain] {
                        s.detach(p).unwrap();
                        s.attach(p, bridge, settings).unwrap();
                    }
                }
                let (now, in_port) = (Seconds(now), PortId::new(port));
                let mut ingress = sw.ingress(now, in_port);
                for (dst, src, vid, b14, len) in frames {
                    let f = frame(dst, src, vid, len, b14);
                    let expected = plain.forward(now, in_port, &f);
                    prop_assert_eq!(ingress.forward(&f), expected);
                }
                prop_assert_eq!(state(&sw, now), state(&plain, now));
            }
        }
    }

    /// A repeated header is answered from memory; a change of payload outside the header is
    /// not a change; a change of tag is.
    #[test]
    fn a_repeated_header_is_remembered() {
        let mut sw = switch(300);
        let (a, b) = (PortId::new(0), PortId::new(3));
        sw.forward(Seconds(1), b, &frame(0, 5, 0, 60, 0));
        sw.forward(Seconds(1), a, &frame(0, 4, 0, 60, 0));
        let mut ingress = sw.ingress(Seconds(2), a);
        assert_eq!(
            ingress.forward(&frame(5, 4, 0, 60, 0x45)),
            Forward::Unicast(b)
        );
        assert_eq!(ingress.last.map(|(_, out)| out), Some(b));
        let mut other = frame(5, 4, 0, 60, 0x45);
        other[30] = 1;
        assert_eq!(header_key(&other), ingress.last.map(|(key, _)| key));
        // Untagged: bytes 14..16 are payload; tagged, they are the tag's control information.
        assert_eq!(
            header_key(&frame(5, 4, 0, 60, 0x45)),
            header_key(&frame(5, 4, 0, 60, 0x60))
        );
        assert_ne!(
            header_key(&frame(5, 4, 10, 60, 0x00)),
            header_key(&frame(5, 4, 11, 60, 0x00))
        );
        // Too short to hold a tagged header: decided in full every time.
        assert_eq!(header_key(&frame(5, 4, 0, 17, 0)), None);
    }
}
