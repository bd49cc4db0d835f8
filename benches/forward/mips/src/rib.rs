//! `routing::Rib` with as much of the table as the heap holds, as the box uses it: the table
//! routes (static, through the 64 gateways of `crate::path`) loaded in batches of
//! [`BATCH`] into a RIB whose FIBs are sized for the whole table, then the forwarding path with
//! `Rib::decide_ecmp` (`forward`'s `RouteSource` for `Rib`).
//!
//! The routes are loaded in an order that spreads over the whole table (index `k * step mod
//! n`), the two families in proportion, so when the heap runs short the routes loaded are an
//! even sample of each table. The RIB's
//! bytes per route are the heap bytes it holds after the load, less those it held empty (its
//! FIBs, allocated at construction), over the routes.

use alloc::vec::Vec;
use core::fmt::Write;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use routing::{
    AddressSpec, FibConfig, Gateway, InterfaceState, NextHop, Prefix, Rib, RibConfig, RibError,
    RouteSpec,
};

use crate::heap::HEAP;
use crate::path::{gateway, measure, templates, CLIENT, UPLINK};
use crate::table::{Random, Tables};
use crate::{Clock, Uart};

/// Routes per batch.
const BATCH: usize = 16_384;

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// `v` in the order `k * step mod n`, with `step` near `0.618 n` and prime to `n`.
fn spread<T: Copy>(v: Vec<T>) -> Vec<T> {
    let n = v.len();
    if n < 2 {
        return v;
    }
    let mut step = n * 618 / 1000;
    while gcd(step, n) != 1 {
        step += 1;
    }
    (0..n).map(|k| v[k * step % n]).collect()
}

fn route(dst: IpAddr, len: u8, hop: NextHop, v6: bool) -> Result<RouteSpec, RibError> {
    let prefix = Prefix::new(dst, len).map_err(|_| RibError::InvalidPrefix)?;
    Ok(RouteSpec::new(prefix).via(Gateway::Address(gateway(v6, hop.get()))))
}

fn empty_rib(tables: &Tables) -> Rib {
    let (n4, n6) = (tables.v4.len(), tables.v6.len());
    let mut rib = Rib::new(RibConfig {
        max_routes: n4 + n6 + 1024,
        fib_v4: FibConfig::ipv4_prefixes(n4 + 1024),
        fib_v6: FibConfig::ipv6_prefixes(n6 + 1024),
        ..RibConfig::default()
    });
    let up = InterfaceState {
        running: true,
        point_to_point: false,
    };
    let v4 = |a: [u8; 4]| IpAddr::V4(Ipv4Addr::from(a));
    let v6 = |a: u128| IpAddr::V6(Ipv6Addr::from(a));
    let done = rib.batch(|rib| {
        rib.set_interface(CLIENT, up)?;
        rib.set_interface(UPLINK, up)?;
        rib.add_address(AddressSpec::new(v4([192, 0, 2, 1]), 24, CLIENT))?;
        rib.add_address(AddressSpec::new(v6(0x2001_0db8_000c << 80 | 1), 64, CLIENT))?;
        rib.add_address(AddressSpec::new(v4([10, 0, 0, 254]), 16, UPLINK))?;
        rib.add_address(AddressSpec::new(v6(0xfd00 << 112 | 0xfe), 64, UPLINK))?;
        Ok(())
    });
    if let Err(e) = done {
        panic!("setting up the RIB: {e:?}");
    }
    rib
}

/// Whether the heap has room for another batch: three times what the last one took, a third
/// of what is live (a vector of the RIB doubling), and 16 MiB.
fn room(last_batch: usize) -> bool {
    HEAP.untouched() > (3 * last_batch).max(HEAP.live() / 3).max(16 << 20)
}

/// Loads routes while the heap has room; the numbers of IPv4 and IPv6 routes loaded.
fn load(rib: &mut Rib, tables: &Tables, clock: &mut Clock) -> (usize, usize, f32) {
    let (mut m4, mut m6, mut last) = (0, 0, 0);
    let t0 = clock.now();
    while (m4 < tables.v4.len() || m6 < tables.v6.len()) && room(last) {
        let before = HEAP.untouched();
        // The family with the smaller share loaded next: both stay even samples.
        let (n4, n6) = (tables.v4.len(), tables.v6.len());
        let v4_behind = (m4 as u64) * (n6 as u64) <= (m6 as u64) * (n4 as u64);
        let (a4, a6) = if m6 == n6 || (m4 < n4 && v4_behind) {
            ((n4 - m4).min(BATCH), 0)
        } else {
            (0, (n6 - m6).min(BATCH))
        };
        let done = rib.batch(|rib| {
            for &(a, len, hop) in &tables.v4[m4..m4 + a4] {
                rib.add_route(route(Ipv4Addr::from(a).into(), len, hop, false)?)?;
            }
            for &(a, len, hop) in &tables.v6[m6..m6 + a6] {
                rib.add_route(route(Ipv6Addr::from(a).into(), len, hop, true)?)?;
            }
            Ok(())
        });
        if let Err(e) = done {
            panic!("loading routes: {e:?}");
        }
        m4 += a4;
        m6 += a6;
        last = before - HEAP.untouched();
    }
    let instructions = clock.since(t0);
    (m4, m6, instructions)
}

/// The RIB part: load, memory, then the path with `Rib::decide_ecmp`.
pub fn run(tables: Tables, clock: &mut Clock) {
    let tables = Tables {
        v4: spread(tables.v4),
        v6: spread(tables.v6),
        probes4: Vec::new(),
        probes6: Vec::new(),
    };
    let before = HEAP.live();
    let mut rib = empty_rib(&tables);
    let empty = HEAP.live();
    let (m4, m6, instructions) = load(&mut rib, &tables, clock);
    let routes = m4 + m6;
    let bytes = HEAP.live() - empty;
    let fibs = empty - before;
    let full = m4 == tables.v4.len() && m6 == tables.v6.len();
    let _ = writeln!(
        Uart,
        "rib ipv4_routes={m4} ipv6_routes={m6} full_table={full} empty_rib_bytes={} \
         rib_bytes={bytes} rib_bytes_per_route={:.1} heap_peak={} heap_never_used={} \
         load_instructions_per_route={:.0} batch={BATCH}",
        fibs,
        bytes as f32 / routes as f32,
        HEAP.peak(),
        HEAP.untouched(),
        instructions / routes as f32
    );
    if !full {
        let _ = writeln!(
            Uart,
            "# the whole table ({} routes) needs about {} MiB of RIB besides its empty state \
             ({} MiB, the FIBs): more than this heap has; the path below uses the {routes} \
             routes loaded (even samples of the two tables)",
            tables.v4.len() + tables.v6.len(),
            ((bytes as f32 / routes as f32) * (tables.v4.len() + tables.v6.len()) as f32) as usize
                >> 20,
            fibs >> 20
        );
    }
    let mut rng = Random(0x0123_4567_89ab_cdef);
    for (afi, v6, loaded) in [("ipv4", false, m4), ("ipv6", true, m6)] {
        if loaded == 0 {
            continue;
        }
        let t = templates(&rib, &tables, (m4, m6), v6, &mut rng);
        measure(&rib, &t, (afi, "rib", "single"), clock);
    }
}
