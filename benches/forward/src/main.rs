//! Forwarding benchmark: host nanoseconds per routed 64-byte packet through the `forward`
//! crate (validation, routing decision, TTL, flow hash, neighbour lookup, rewrite), with the
//! whole IPv4 table (`bgp-dfz-v4.txt.gz`) and the whole IPv6 table (`bgp-dfz-v6.txt.gz`) in
//! the RIB's FIBs (`../shared/data` next to the workspace, or `--data DIR`).
//!
//! Each table route goes through one of 64 gateways (`hash(origin AS) mod 64`) on the uplink
//! interface, all resolved. Packets: 64-byte Ethernet frames (60 bytes without the FCS: a UDP
//! datagram with 18 bytes of data; IPv6: 78 bytes, the smallest with 18 bytes of UDP data)
//! from a client on the other interface, to addresses drawn uniformly from the table's
//! prefixes (each destination checked to be forwarded). Each packet is copied from its
//! template into the receive buffer first (as a NIC's DMA would have written it; the TTL is
//! decremented in place), then given to `Forwarder::receive`; the sink counts what leaves.
//! Also timed: the routing decision alone (`Rib::decide_ecmp`) for the same destinations, the
//! path with a fixed decision instead of the RIB (what the crate itself costs), and a loop
//! that only copies the templates. Rounds of `--packets` (default 2^20) packets,
//! 5 rounds, the best and median round; wall-clock and thread CPU time. The run also counts
//! heap allocations made while packets are forwarded (there must be none) and exits with 2 if
//! there is one.
//!
//! `--ecmp` gives every table route two gateways (per-flow hash over ports), `--round-robin`
//! picks them in turn instead.
//!
//! `--mips`: the same scenario counted in MIPS 24Kc instructions under QEMU (see [`mips`]):
//! FIB lookups alone, the path with the full-table FIBs, and with a RIB holding what fits;
//! `--opt-level L` builds `routing` and `forward` at level `L` there instead of the image's;
//! `--trace` instead shows where the path's own instructions go, by function ([`mips_trace`]).

mod mips;
mod mips_trace;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bench_common::{default_data_dir, table, thread_cpu_seconds};
use forward::{Config, Forwarder, Interface, Mac, Neighbors, Outcome, Sink};
use routing::{
    AddressSpec, EcmpChoice, EcmpMode, FibConfig, Gateway, IfId, InterfaceState, Packet, Prefix,
    Rib, RibConfig, RouteSpec,
};

/// The system allocator, counting allocations (to show the packet path makes none).
struct CountingAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed unchanged to the system allocator; only a counter is added.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `realloc` is passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const NEXT_HOPS: u16 = 64;
const CLIENT: IfId = IfId(1);
const UPLINK: IfId = IfId(2);
const MAC1: Mac = [2, 0x4d, 0x52, 0, 0, 1];
const MAC2: Mac = [2, 0x4d, 0x52, 0, 0, 2];
const ROUNDS: usize = 5;
/// Distinct destinations (templates) per family.
const TEMPLATES: usize = 1 << 16;

struct Options {
    data: Option<PathBuf>,
    packets: usize,
    ecmp: Option<EcmpMode>,
    mips: bool,
    trace: bool,
    opt_level: Option<String>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        data: None,
        packets: 1 << 20,
        ecmp: None,
        mips: false,
        trace: false,
        opt_level: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--data" => o.data = Some(args.next().ok_or("--data needs a directory")?.into()),
            "--packets" => {
                let n = args.next().ok_or("--packets needs a number")?;
                o.packets = n.parse().map_err(|_| format!("bad --packets `{n}`"))?;
            }
            "--ecmp" => o.ecmp = Some(EcmpMode::PerFlowHash),
            "--round-robin" => o.ecmp = Some(EcmpMode::RoundRobin),
            "--mips" => o.mips = true,
            "--trace" => o.trace = true,
            "--opt-level" => {
                o.opt_level = Some(args.next().ok_or("--opt-level needs a level")?);
            }
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    Ok(o)
}

/// Gateway `i` of the uplink, in the family of `v6`.
fn gateway(v6: bool, i: u16) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1 + i))
    } else {
        IpAddr::V4(Ipv4Addr::new(10, 0, (i >> 8) as u8, 1 + i as u8))
    }
}

fn gateway_mac(i: u16) -> Mac {
    [2, 0, 0, 0, (i >> 8) as u8, i as u8]
}

/// The neighbour table: the 64 gateways (and their ECMP twins), indexed by their last bits.
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
        (1..=2 * NEXT_HOPS)
            .contains(&last)
            .then(|| gateway_mac(last - 1))
    }
    fn resolve(&mut self, _: IfId, _: IpAddr) {}
}

/// A routing decision that is always the same next hop: what the path costs without the FIB.
struct Fixed(routing::Decision);

impl forward::RouteSource for Fixed {
    fn decide(&self, _: &Packet, _: EcmpChoice) -> routing::Decision {
        self.0
    }
}

/// Counts the frames sent and their bytes.
#[derive(Default)]
struct Counter {
    frames: u64,
    bytes: u64,
}

impl Sink for Counter {
    fn send(&mut self, interface: IfId, frame: &[u8]) {
        self.frames += 1;
        self.bytes += frame.len() as u64 + u64::from(interface.0);
        black_box(frame);
    }
}

fn rib(tables: &table::Tables, ecmp: bool) -> Result<Rib, String> {
    let n4 = tables.v4.entries.len();
    let n6 = tables.v6.entries.len();
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
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    rib.batch(|rib| {
        rib.set_interface(CLIENT, up)?;
        rib.set_interface(UPLINK, up)?;
        rib.add_address(AddressSpec::new(ip("192.0.2.1"), 24, CLIENT))?;
        rib.add_address(AddressSpec::new(ip("2001:db8:c::1"), 64, CLIENT))?;
        rib.add_address(AddressSpec::new(ip("10.0.0.254"), 16, UPLINK))?;
        rib.add_address(AddressSpec::new(ip("fd00::fe"), 64, UPLINK))?;
        let route = |dst: Prefix, hop: u16, v6: bool| {
            let mut spec = RouteSpec::new(dst).via(Gateway::Address(gateway(v6, hop)));
            if ecmp {
                spec = spec.via(Gateway::Address(gateway(v6, hop + NEXT_HOPS)));
            }
            spec
        };
        for &(a, len, hop) in &tables.v4.entries {
            rib.add_route(route(
                Prefix::new(Ipv4Addr::from(a).into(), len).unwrap(),
                hop,
                false,
            ))?;
        }
        for &(a, len, hop) in &tables.v6.entries {
            rib.add_route(route(
                Prefix::new(Ipv6Addr::from(a).into(), len).unwrap(),
                hop,
                true,
            ))?;
        }
        Ok(())
    })
    .map_err(|e| format!("loading the table: {e:?}"))?;
    Ok(rib)
}

/// xorshift64*.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// A 60-byte (IPv4) or 78-byte (IPv6) frame from the client to `dst`, UDP with 18 data bytes.
fn frame(dst: IpAddr, sport: u16) -> Vec<u8> {
    let mut f = vec![0u8; 14];
    f[..6].copy_from_slice(&MAC1);
    f[6..12].copy_from_slice(&[2, 0, 0, 0, 1, 2]);
    let udp_len = 8 + 18u16;
    match dst {
        IpAddr::V4(d) => {
            f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
            let mut ip = [0u8; 20];
            ip[0] = 0x45;
            ip[2..4].copy_from_slice(&(20 + udp_len).to_be_bytes());
            ip[6] = 0x40;
            ip[8] = 64;
            ip[9] = 17;
            ip[12..16].copy_from_slice(&[192, 0, 2, 2]);
            ip[16..20].copy_from_slice(&d.octets());
            let c = forward::checksum::of(&ip);
            ip[10..12].copy_from_slice(&c.to_be_bytes());
            f.extend_from_slice(&ip);
        }
        IpAddr::V6(d) => {
            f[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
            let mut ip = [0u8; 40];
            ip[0] = 0x60;
            ip[4..6].copy_from_slice(&udp_len.to_be_bytes());
            ip[6] = 17;
            ip[7] = 64;
            ip[8..24].copy_from_slice(&"2001:db8:c::2".parse::<Ipv6Addr>().unwrap().octets());
            ip[24..40].copy_from_slice(&d.octets());
            f.extend_from_slice(&ip);
        }
    }
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&53u16.to_be_bytes());
    f.extend_from_slice(&udp_len.to_be_bytes());
    f.extend_from_slice(&[0; 2 + 18]);
    f
}

/// Destinations drawn uniformly from the table's prefixes, kept when the RIB forwards them.
fn templates(rib: &Rib, tables: &table::Tables, v6: bool, rng: &mut Random) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(TEMPLATES);
    while out.len() < TEMPLATES {
        let dst: IpAddr = if v6 {
            let e = &tables.v6.entries[rng.next() as usize % tables.v6.entries.len()];
            let host = u128::from(rng.next()) | u128::from(rng.next()) << 64;
            let mask = if e.1 == 0 {
                u128::MAX
            } else {
                u128::MAX >> e.1
            };
            Ipv6Addr::from(e.0 | (host & mask)).into()
        } else {
            let e = &tables.v4.entries[rng.next() as usize % tables.v4.entries.len()];
            let mask = if e.1 == 0 { u32::MAX } else { u32::MAX >> e.1 };
            Ipv4Addr::from(e.0 | (rng.next() as u32 & mask)).into()
        };
        // A table may hold a default route: leave out what is not a unicast destination.
        let martian = match dst {
            IpAddr::V4(a) => matches!(a.octets()[0], 0 | 127 | 224..=255),
            IpAddr::V6(a) => a.is_multicast() || a.is_loopback() || a.is_unspecified(),
        };
        let packet = Packet {
            src: dst,
            dst,
            in_interface: Some(CLIENT),
            routing_mark: None,
        };
        if !martian
            && matches!(
                rib.decide_ecmp(&packet, EcmpChoice::Flow(0)),
                routing::Decision::Forward { interface, .. } if interface == UPLINK
            )
        {
            out.push(frame(dst, rng.next() as u16));
        }
    }
    out
}

/// Runs `body` over `packets` packets in each of the rounds; returns ns per packet: the best
/// and median round in wall-clock time, the best and median in thread CPU time; and the heap
/// allocations made inside `body`.
fn time(packets: usize, mut body: impl FnMut(usize)) -> ([f64; 4], u64) {
    let mut wall = Vec::with_capacity(ROUNDS);
    let mut cpu = Vec::with_capacity(ROUNDS);
    let mut allocations = 0;
    body(packets.min(1 << 16));
    for _ in 0..ROUNDS {
        let (t0, c0) = (Instant::now(), thread_cpu_seconds());
        let a0 = ALLOCATIONS.load(Ordering::Relaxed);
        body(packets);
        allocations += ALLOCATIONS.load(Ordering::Relaxed) - a0;
        wall.push(t0.elapsed().as_secs_f64() * 1e9 / packets as f64);
        cpu.push((thread_cpu_seconds() - c0) * 1e9 / packets as f64);
    }
    wall.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    (
        [wall[0], wall[ROUNDS / 2], cpu[0], cpu[ROUNDS / 2]],
        allocations,
    )
}

fn run() -> Result<bool, String> {
    let o = options()?;
    if o.mips && o.trace {
        mips_trace::run(o.opt_level.as_deref())?;
        return Ok(true);
    }
    let dir = match o.data {
        Some(d) => d,
        None => default_data_dir()?,
    };
    let files = [dir.join("bgp-dfz-v4.txt.gz"), dir.join("bgp-dfz-v6.txt.gz")];
    for f in &files {
        if !f.exists() {
            return Err(format!("{} is missing (--data DIR)", f.display()));
        }
    }
    let tables = table::load(&files, NEXT_HOPS)?;
    if o.mips {
        mips::run(&tables, o.opt_level.as_deref())?;
        return Ok(true);
    }
    let t0 = Instant::now();
    let rib = rib(&tables, o.ecmp.is_some())?;
    println!(
        "# loaded {} IPv4 and {} IPv6 prefixes into the RIB and its FIBs in {:.2} s",
        tables.v4.entries.len(),
        tables.v6.entries.len(),
        t0.elapsed().as_secs_f64()
    );
    let mut fwd = Forwarder::new(Config {
        ecmp: o.ecmp.unwrap_or(EcmpMode::PerFlowHash),
        ..Config::default()
    });
    for (id, mac, v4, v6) in [
        (CLIENT, MAC1, "192.0.2.1", "2001:db8:c::1"),
        (UPLINK, MAC2, "10.0.0.254", "fd00::fe"),
    ] {
        fwd.set_interface(Interface {
            id,
            mac,
            mtu: 1500,
            v4: Some((v4.parse().unwrap(), 24)),
            v6: Some(v6.parse().unwrap()),
            peer_mac: [0; 6],
        })
        .map_err(|e| format!("{e:?}"))?;
    }
    println!(
        "# a Forwarder is {} bytes",
        std::mem::size_of::<Forwarder>()
    );
    let mut rng = Random(0x9e37_79b9_7f4a_7c15);
    let mut clean = true;
    let mode = match o.ecmp {
        None => "single",
        Some(EcmpMode::PerFlowHash) => "ecmp-flow",
        Some(EcmpMode::RoundRobin) => "ecmp-rr",
    };
    for v6 in [false, true] {
        let templates = templates(&rib, &tables, v6, &mut rng);
        let mut buf = [0u8; 128];
        let mut out = Counter::default();
        let mut nbrs = Gateways;
        let (copy, _) = time(o.packets, |n| {
            for i in 0..n {
                let t = &templates[i % TEMPLATES];
                buf[..t.len()].copy_from_slice(t);
                black_box(&mut buf);
            }
        });
        let (decide, _) = time(o.packets, |n| {
            for i in 0..n {
                let t = &templates[i % TEMPLATES];
                let dst = if v6 {
                    IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&t[38..54]).unwrap()))
                } else {
                    IpAddr::V4(Ipv4Addr::new(t[30], t[31], t[32], t[33]))
                };
                let p = Packet {
                    src: dst,
                    dst,
                    in_interface: Some(CLIENT),
                    routing_mark: None,
                };
                black_box(rib.decide_ecmp(black_box(&p), EcmpChoice::Flow(i as u32)));
            }
        });
        let mut wrong = 0u64;
        let mut first_wrong = None;
        let (path, allocated) = time(o.packets, |n| {
            for i in 0..n {
                let t = &templates[i % TEMPLATES];
                let f = &mut buf[..t.len()];
                f.copy_from_slice(t);
                let r = fwd.receive(0, CLIENT, f, &rib, &mut nbrs, &mut out);
                if !matches!(r, Outcome::Forwarded { .. }) {
                    wrong += 1;
                    first_wrong.get_or_insert((i % TEMPLATES, r));
                }
            }
        });
        let fixed = Fixed(routing::Decision::Forward {
            next_hop: gateway(v6, 0),
            interface: UPLINK,
        });
        let (own, _) = time(o.packets, |n| {
            for i in 0..n {
                let t = &templates[i % TEMPLATES];
                let f = &mut buf[..t.len()];
                f.copy_from_slice(t);
                black_box(fwd.receive(0, CLIENT, f, &fixed, &mut nbrs, &mut out));
            }
        });
        if let Some((i, r)) = first_wrong {
            eprintln!(
                "# not forwarded: {r:?} for template {i}: {:02x?}",
                templates[i]
            );
        }
        let afi = if v6 { "ipv6" } else { "ipv4" };
        let prefixes = if v6 {
            tables.v6.entries.len()
        } else {
            tables.v4.entries.len()
        };
        println!(
            "forward afi={afi} mode={mode} prefixes={prefixes} frame_bytes={} cpu_ns={:.1} \
             cpu_median_ns={:.1} wall_ns={:.1} wall_median_ns={:.1} decide_cpu_ns={:.1} \
             fixed_decision_cpu_ns={:.1} copy_cpu_ns={:.1} allocations={allocated} not_forwarded={wrong}",
            templates[0].len(),
            path[2],
            path[3],
            path[0],
            path[1],
            decide[2],
            own[2],
            copy[2],
        );
        clean &= allocated == 0 && wrong == 0 && out.frames > 0;
    }
    Ok(clean)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("forward-bench: a packet allocated or was not forwarded");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("forward-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
