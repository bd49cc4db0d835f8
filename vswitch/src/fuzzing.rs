//! The body of the `switch` fuzz target: arbitrary configuration changes and frames, with the
//! isolation rules checked on every decision. A plain function, so that `cargo test` runs it
//! too; it panics only when a rule is broken:
//! - a frame never goes back out of its ingress port, nor to a port of another bridge, nor to a
//!   port sharing the ingress port's horizon;
//! - a port outside any bridge sends nowhere;
//! - an egress tag edit changes the frame length by exactly the tag (or not at all);
//! - a VLAN interface's tag handling ([`crate::vlan::tagged_vid`], `tag_into`, `untag_into`)
//!   gives back the frame it tagged, and never reads or writes out of bounds.
//!
//! Input: a list of 4-byte records (opcode + 3 argument bytes); a frame record is followed by
//! its bytes (length in the first argument byte).

use crate::{
    BridgeConfig, BridgeId, EgressEdit, Forward, PortId, PortSettings, PortVlan, Seconds, Switch,
    VlanList,
};

const PORTS: usize = 16;
type FuzzSwitch = Switch<PORTS, 4, 64>;

/// Runs one input; panics if a rule is broken.
pub fn run(mut input: &[u8]) {
    let mut sw = FuzzSwitch::new();
    let mut bridges: [Option<BridgeId>; 4] = [None; 4];
    let mut now = 0u32;
    while let Some((record, rest)) = input.split_first_chunk::<4>() {
        input = rest;
        let [op, a, b, c] = *record;
        match op % 10 {
            0 => {
                let config = BridgeConfig {
                    ageing_time: u32::from(a) + 1,
                    vlan_filtering: b & 1 != 0,
                };
                if let Ok(id) = sw.add_bridge(config) {
                    bridges[id.index()] = Some(id);
                }
            }
            1 => {
                if let Some(id) = bridges[a as usize % 4].take() {
                    sw.remove_bridge(id).unwrap();
                }
            }
            2 => {
                let _ = sw.add_port();
            }
            3 => {
                let _ = sw.remove_port(PortId::new(u16::from(a % 20)));
            }
            4 => {
                let Some(bridge) = bridges[b as usize % 4] else {
                    continue;
                };
                let pvid = if c & 0x80 != 0 {
                    None
                } else {
                    Some(u16::from(c % 4) + 1)
                };
                let tagged = VlanList::of(&[1 + u16::from(c >> 4 & 3), 3]).unwrap_or_default();
                let horizon = if b & 0x80 != 0 {
                    Some(u16::from(b >> 4 & 3))
                } else {
                    None
                };
                let settings = PortSettings {
                    horizon,
                    vlan: PortVlan { pvid, tagged },
                };
                let _ = sw.attach(PortId::new(u16::from(a % 20)), bridge, settings);
            }
            5 => {
                let _ = sw.detach(PortId::new(u16::from(a % 20)));
            }
            6 => now = now.wrapping_add(u32::from_be_bytes([0, a, b, c])),
            7 => sw.age_out(Seconds(now)),
            8 => {
                let Some(bridge) = bridges[a as usize % 4] else {
                    continue;
                };
                let config = BridgeConfig {
                    ageing_time: u32::from(b) + 1,
                    vlan_filtering: c & 1 != 0,
                };
                sw.set_bridge_config(bridge, config).unwrap();
            }
            _ => {
                let len = (a as usize).min(input.len());
                let (frame, rest) = input.split_at(len);
                input = rest;
                check_frame(&mut sw, Seconds(now), PortId::new(u16::from(b % 20)), frame);
                check_tags(frame, u16::from_be_bytes([b, c]));
            }
        }
    }
}

fn check_tags(frame: &[u8], tci: u16) {
    use crate::vlan::{tag_into, tagged_vid, untag_into};
    let mut buf = [0u8; 300];
    if let Some(vid) = tagged_vid(frame) {
        assert!((1..4096).contains(&vid));
        let len = untag_into(frame, &mut buf).expect("a tagged frame untags");
        assert_eq!(len + 4, frame.len());
        assert_eq!(buf[..12], frame[..12]);
        assert_eq!(buf[12..len], frame[16..]);
    } else {
        assert_eq!(untag_into(frame, &mut buf), None);
    }
    let Some(len) = tag_into(frame, tci, &mut buf) else {
        assert!(frame.len() < 14 || frame.len() + 4 > buf.len());
        return;
    };
    assert_eq!(len, frame.len() + 4);
    let vid = tci & 0x0FFF;
    assert_eq!(tagged_vid(&buf[..len]), (vid != 0).then_some(vid));
    if vid != 0 {
        let mut back = [0u8; 300];
        let n = untag_into(&buf[..len], &mut back).expect("untags");
        assert_eq!(back[..n], *frame, "tag then untag gives the frame back");
    }
}

fn check_frame(sw: &mut FuzzSwitch, now: Seconds, in_port: PortId, frame: &[u8]) {
    let bridge = sw.port_bridge(in_port).ok().flatten();
    let decision = sw.forward(now, in_port, frame);
    let egress = match decision {
        Forward::Drop(_) => return,
        Forward::Unicast(out) => {
            let mut set = crate::PortSet::EMPTY;
            set.insert(out);
            set
        }
        Forward::Flood(set) => {
            assert!(!set.is_empty(), "empty flood");
            set
        }
    };
    let bridge = bridge.expect("a port outside any bridge forwarded");
    for out in egress.iter() {
        assert_ne!(out, in_port, "frame sent back out of its ingress port");
        assert_eq!(
            sw.port_bridge(out),
            Ok(Some(bridge)),
            "frame crossed bridges"
        );
        let mut tag = [0u8; 4];
        let edit = sw.egress_edit(in_port, out, frame);
        let (parts, n) = edit.parts(frame, &mut tag);
        let len: usize = parts[..n].iter().map(|p| p.len()).sum();
        let expected = match edit {
            EgressEdit::Keep | EgressEdit::SetTci(_) => frame.len(),
            EgressEdit::StripTag => frame.len() - 4,
            EgressEdit::InsertTag(_) => frame.len() + 4,
        };
        assert_eq!(
            len, expected,
            "tag edit {edit:?} changed the length wrongly"
        );
    }
}
