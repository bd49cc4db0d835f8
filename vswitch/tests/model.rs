//! Property test: the switch against a plain reference model (a HashMap of learned addresses,
//! written straight from the rules) over random configurations, frames and clocks.

use proptest::prelude::*;
use std::collections::{BTreeSet, HashMap};
use vswitch::{BridgeConfig, BridgeId, DropReason, Forward, PortId, PortSettings, Seconds, Switch};

const PORTS: usize = 8;

#[derive(Clone, Debug)]
enum Step {
    Attach {
        port: usize,
        bridge: usize,
        horizon: Option<u16>,
    },
    Detach {
        port: usize,
    },
    Frame {
        port: usize,
        src: u8,
        dst: u8,
        vid: u16,
    },
    Tick(u32),
    Sweep,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => (0..PORTS, 0..2usize, prop_oneof![Just(None), (1..3u16).prop_map(Some)])
            .prop_map(|(port, bridge, horizon)| Step::Attach { port, bridge, horizon }),
        1 => (0..PORTS).prop_map(|port| Step::Detach { port }),
        12 => (0..PORTS, 0..6u8, 0..7u8, prop_oneof![Just(0u16), Just(10)])
            .prop_map(|(port, src, dst, vid)| Step::Frame { port, src, dst, vid }),
        3 => (0..40u32).prop_map(Step::Tick),
        1 => Just(Step::Sweep),
    ]
}

/// Station `n` (6 = broadcast).
fn station(n: u8) -> [u8; 6] {
    if n == 6 {
        [0xFF; 6]
    } else {
        [0x02, 0, 0, 0, 0, n]
    }
}

fn frame(dst: [u8; 6], src: [u8; 6], vid: u16) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    if vid != 0 {
        f.extend_from_slice(&[0x81, 0x00]);
        f.extend_from_slice(&vid.to_be_bytes());
    }
    f.extend_from_slice(&[0x08, 0x00]);
    f.resize(60, 0);
    f
}

#[derive(Default)]
struct Model {
    bridge_of: [Option<usize>; PORTS],
    horizon: [Option<u16>; PORTS],
    fdb: HashMap<(usize, u16, u8), (usize, u32)>,
}

const AGEING: [u32; 2] = [30, 300];

impl Model {
    fn forward(
        &mut self,
        now: u32,
        port: usize,
        src: u8,
        dst: u8,
        vid: u16,
    ) -> Result<BTreeSet<usize>, DropReason> {
        let Some(bridge) = self.bridge_of[port] else {
            return Err(DropReason::NotInBridge);
        };
        if src == 6 {
            return Err(DropReason::InvalidSource);
        }
        self.fdb.insert((bridge, vid, src), (port, now));
        let horizon_blocks = |me: &Model, other: usize| {
            me.horizon[port].is_some() && me.horizon[other] == me.horizon[port]
        };
        if dst != 6 {
            if let Some(&(out, seen)) = self.fdb.get(&(bridge, vid, dst)) {
                if now.wrapping_sub(seen) < AGEING[bridge] {
                    return if out == port {
                        Err(DropReason::SamePort)
                    } else if horizon_blocks(self, out) {
                        Err(DropReason::Horizon)
                    } else {
                        Ok([out].into())
                    };
                }
            }
        }
        let out: BTreeSet<usize> = (0..PORTS)
            .filter(|&p| p != port && self.bridge_of[p] == Some(bridge) && !horizon_blocks(self, p))
            .collect();
        if out.is_empty() {
            Err(DropReason::NoEgressPort)
        } else {
            Ok(out)
        }
    }
}

fn decision(f: Forward) -> Result<BTreeSet<usize>, DropReason> {
    match f {
        Forward::Drop(reason) => Err(reason),
        Forward::Unicast(p) => Ok([p.index()].into()),
        Forward::Flood(set) => Ok(set.iter().map(|p| p.index()).collect()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn switch_matches_the_model(steps in proptest::collection::vec(step(), 1..120)) {
        let mut sw = Switch::<PORTS, 2, 64>::new();
        let bridges: Vec<BridgeId> = AGEING
            .iter()
            .map(|&ageing_time| sw.add_bridge(BridgeConfig { ageing_time, vlan_filtering: false }).unwrap())
            .collect();
        let ports: Vec<PortId> = (0..PORTS).map(|_| sw.add_port().unwrap()).collect();
        let mut model = Model::default();
        let mut now = 0u32;
        for step in steps {
            match step {
                Step::Attach { port, bridge, horizon } => {
                    let settings = PortSettings { horizon, ..Default::default() };
                    let result = sw.attach(ports[port], bridges[bridge], settings);
                    match model.bridge_of[port] {
                        Some(b) if b != bridge => prop_assert!(result.is_err()),
                        _ => {
                            prop_assert!(result.is_ok());
                            model.bridge_of[port] = Some(bridge);
                            model.horizon[port] = horizon;
                        }
                    }
                }
                Step::Detach { port } => {
                    sw.detach(ports[port]).unwrap();
                    model.bridge_of[port] = None;
                    model.fdb.retain(|_, (p, _)| *p != port);
                }
                Step::Frame { port, src, dst, vid } => {
                    let got = decision(sw.forward(Seconds(now), ports[port], &frame(station(dst), station(src), vid)));
                    let want = model.forward(now, port, src, dst, vid);
                    prop_assert_eq!(got, want, "frame {}->{} vlan {} on port {} at {}", src, dst, vid, port, now);
                }
                Step::Tick(dt) => now = now.wrapping_add(dt),
                Step::Sweep => sw.age_out(Seconds(now)),
            }
            // What the switch lists is what the model knows and has not aged out.
            let mut listed: Vec<_> = sw.hosts(Seconds(now)).map(|h| (h.bridge.index(), h.vid, h.mac.0[5], h.port.index())).collect();
            listed.sort();
            let mut known: Vec<_> = model
                .fdb
                .iter()
                .filter(|((b, _, _), (_, seen))| now.wrapping_sub(*seen) < AGEING[*b])
                .map(|(&(b, vid, mac), &(port, _))| (b, vid, mac, port))
                .collect();
            known.sort();
            prop_assert_eq!(listed, known);
        }
    }
}
