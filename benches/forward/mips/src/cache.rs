//! The flow cache (`forward::fastpath`) with the full-table FIBs: instructions per IPv4 packet
//! when the packet's flow is in the cache (a hit) and when every packet is a new flow (a miss:
//! the cache looked up, the whole path, the cache filled).
//!
//! The route source is [`FibRoutes`] (ECMP by flow hash) and the neighbour table the
//! gateways, both given a generation that never changes, so the forwarder keeps decisions.
//! - miss: 65,536 packets to the 16,384 destinations, each with a source port of its own, so
//!   every packet is a flow not seen before;
//! - hit: the flows of the first 1,024 templates that kept their slot of the direct-mapped
//!   cache once all were forwarded (the others collided), each forwarded once to fill the
//!   cache, then 65,536 packets over them; every one is checked to be a hit first, outside
//!   the measurement (`hit_misses` must be 0);
//! - `hit_lookup`: the lookup alone as the hypervisor's receive pass does it
//!   (`Forwarder::cached`: the checks, the key, the rewritten head built), without the
//!   in-place rewrite and the sink call of `Forwarder::receive`.
//!
//! Every loop copies its frame from the template first (the NIC's DMA on the box); `copy` is
//! that copy alone, to be taken off.

use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt::Write;
use core::hint::black_box;
use core::net::IpAddr;

use forward::fastpath::Head;
use forward::{Forwarder, Mac, Neighbors, Outcome, RouteSource, Sink};
use routing::{Decision, EcmpChoice, IfId, Packet};

use crate::lookup::Fibs;
use crate::path::{self, FibRoutes, CLIENT, UPLINK};
use crate::table::{Random, Tables};
use crate::{Clock, Uart};

/// Packets per run.
const PACKETS: usize = 1 << 16;
/// Flows tried for the hit run.
const FLOWS: usize = 1024;

/// A route source whose decisions may be kept (its generation never changes).
struct Kept<'a>(FibRoutes<'a>);

impl RouteSource for Kept<'_> {
    fn decide(&self, packet: &Packet, choice: EcmpChoice) -> Decision {
        self.0.decide(packet, choice)
    }
    fn generation(&self) -> Option<u64> {
        Some(1)
    }
}

/// The gateways (as `path::Gateways`), with a generation.
struct Gateways;

impl Neighbors for Gateways {
    fn lookup(&mut self, interface: IfId, addr: IpAddr) -> Option<Mac> {
        if interface != UPLINK {
            return None;
        }
        let last = match addr {
            IpAddr::V4(a) => u16::from_be_bytes([a.octets()[2], a.octets()[3]]),
            IpAddr::V6(a) => a.segments()[7],
        };
        (1..=2 * path::NEXT_HOPS)
            .contains(&last)
            .then(|| [2, 0, 0, 0, ((last - 1) >> 8) as u8, (last - 1) as u8])
    }
    fn resolve(&mut self, _: IfId, _: IpAddr) {}
    fn generation(&self) -> Option<u64> {
        Some(0)
    }
}

#[derive(Default)]
struct Counter {
    frames: u64,
}

impl Sink for Counter {
    fn send(&mut self, _: IfId, frame: &[u8]) {
        self.frames += 1;
        black_box(frame);
    }
}

/// Sets the UDP source port of an IPv4 template (its IP header is 20 bytes).
fn with_port(t: &([u8; 80], usize), port: u16) -> ([u8; 80], usize) {
    let mut f = *t;
    f.0[34..36].copy_from_slice(&port.to_be_bytes());
    f
}

/// The hit and miss figures; prints one line.
pub fn run(tables: &Tables, fibs: &Fibs, clock: &mut Clock) {
    let mut rng = Random(0x5851_f42d_4c95_7f2d);
    let routes = Kept(FibRoutes {
        fibs,
        ecmp: true,
        turn: Cell::new(0),
    });
    let counts = (tables.v4.len(), tables.v6.len());
    let templates = path::templates(&routes.0, tables, counts, false, &mut rng);
    let n = templates.len();
    let mut nbrs = Gateways;
    let mut out = Counter::default();
    let mut buf = [0u8; 128];
    let generation = Forwarder::generation(&routes, &nbrs).expect("a generation");

    // The copy alone.
    let t0 = clock.now();
    for i in 0..PACKETS {
        let (t, len) = &templates[i % n];
        buf[..*len].copy_from_slice(&t[..*len]);
        black_box(&mut buf);
    }
    let copy = clock.per(t0, PACKETS);

    // Misses: a new flow every packet.
    let fresh: Vec<_> = (0..PACKETS)
        .map(|i| with_port(&templates[i % n], i as u16))
        .collect();
    let mut fwd = path::forwarder();
    let mut not_forwarded = 0u32;
    let t0 = clock.now();
    for (t, len) in &fresh {
        let f = &mut buf[..*len];
        f.copy_from_slice(&t[..*len]);
        let r = fwd.receive(0, CLIENT, f, &routes, &mut nbrs, &mut out);
        if !matches!(r, Outcome::Forwarded { .. }) {
            not_forwarded += 1;
        }
    }
    let miss = clock.per(t0, PACKETS);

    // Hits: the flows that keep their slot.
    let mut fwd = path::forwarder();
    for (t, len) in &templates[..FLOWS] {
        let f = &mut buf[..*len];
        f.copy_from_slice(&t[..*len]);
        fwd.receive(0, CLIENT, f, &routes, &mut nbrs, &mut out);
    }
    let flows: Vec<_> = templates[..FLOWS]
        .iter()
        .filter(|(t, len)| {
            fwd.cached(generation, CLIENT, &t[..*len], &mut Head::default())
                .is_some()
        })
        .copied()
        .collect();
    let k = flows.len();
    let hit_misses = (0..PACKETS)
        .filter(|i| {
            let (t, len) = &flows[i % k];
            fwd.cached(generation, CLIENT, &t[..*len], &mut Head::default())
                .is_none()
        })
        .count();
    let t0 = clock.now();
    for i in 0..PACKETS {
        let (t, len) = &flows[i % k];
        let f = &mut buf[..*len];
        f.copy_from_slice(&t[..*len]);
        let r = fwd.receive(0, CLIENT, f, &routes, &mut nbrs, &mut out);
        if !matches!(r, Outcome::Forwarded { .. }) {
            not_forwarded += 1;
        }
    }
    let hit = clock.per(t0, PACKETS);
    let mut head = Head::default();
    let t0 = clock.now();
    for i in 0..PACKETS {
        let (t, len) = &flows[i % k];
        let f = &mut buf[..*len];
        f.copy_from_slice(&t[..*len]);
        black_box(fwd.cached(generation, CLIENT, black_box(f), &mut head));
        black_box(&head);
    }
    let lookup = clock.per(t0, PACKETS);
    let _ = writeln!(
        Uart,
        "cache afi=ipv4 routes=fib mode=ecmp-flow entries={} packets={PACKETS} flows_hit={k} \
         hit_instructions={hit:.0} hit_lookup={lookup:.0} miss_instructions={miss:.0} \
         copy={copy:.0} hit_misses={hit_misses} not_forwarded={not_forwarded} sent={}",
        forward::fastpath::FLOW_CACHE_ENTRIES,
        out.frames
    );
}
