//! RIB benchmark: what one change costs with a table present, for the incremental RIB
//! (`routing::Rib`) and the full-recomputation RIB it replaced
//! (`routing::rib::reference::ReferenceRib`), side by side in one run.
//!
//! Tables: 1k, 10k and 100k prefixes sampled evenly from the global IPv4 table, the whole
//! IPv4 table and the whole IPv6 table (`bgp-dfz-v4.txt.gz`, `bgp-dfz-v6.txt.gz` in
//! `../shared/data` next to the workspace, or `--data DIR`), each route through a gateway
//! `hash(origin AS) mod 64` in a connected network, plus 16 routes through a second
//! interface. Changes timed one by one, with the table present: `add` (a static route to a
//! new prefix), `set` (a table route moved to another gateway), `remove` (the added route),
//! `flap` (the second interface down or up), `default-add` and `default-remove` (a default
//! route through a table gateway).
//! Each line gives the median and the 99th percentile, of the wall-clock time and of the CPU
//! time of the benchmark's thread (the second leaves out the time the machine's other
//! processes took; the CPU clock costs a system call, about a microsecond, on each side). The reference runs for the sizes up
//! to `--reference-max` (default 10000) and within a time budget per change kind
//! (`--reference-budget`, default 20 s). `--sizes A,B,...` sets the sampled sizes, `--no-full`
//! leaves out the whole tables, `--samples N` (default 2000) the changes per kind, `--quick`
//! fewer samples and a shorter budget. `--fib-bytes-per-route B` gives the FIBs arenas of `B`
//! bytes per route, so that with `B` below a table's need they are full and routes wait
//! (the changes are then timed on a full FIB; use `--reference-max 0`, the reference refuses).
//!
//! Memory: heap bytes per route of a RIB without FIBs after loading the table (counting
//! allocator: live bytes after minus before).

mod subject;

use bench_common::{counting, default_data_dir, table, thread_cpu_seconds};
use routing::rib::reference::ReferenceRib;
use routing::{Afi, Rib};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use subject::{Routes, Subject};

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

const NEXT_HOPS: u16 = 64;

struct Options {
    data: Option<PathBuf>,
    samples: usize,
    reference_max: usize,
    reference_budget: Duration,
    sizes: Vec<usize>,
    full: bool,
    fib_bytes_per_route: Option<usize>,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rib-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        data: None,
        samples: 2000,
        reference_max: 10_000,
        reference_budget: Duration::from_secs(20),
        sizes: vec![1000, 10_000, 100_000],
        full: true,
        fib_bytes_per_route: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        let number = |s: String| s.parse::<usize>().map_err(|e| format!("{s}: {e}"));
        match a.as_str() {
            "--data" => o.data = Some(PathBuf::from(value()?)),
            "--samples" => o.samples = number(value()?)?.max(1),
            "--reference-max" => o.reference_max = number(value()?)?,
            "--reference-budget" => {
                o.reference_budget = Duration::from_secs(number(value()?)? as u64)
            }
            "--sizes" => {
                o.sizes = value()?
                    .split(',')
                    .map(|s| number(s.to_string()))
                    .collect::<Result<_, _>>()?
            }
            "--no-full" => o.full = false,
            "--fib-bytes-per-route" => o.fib_bytes_per_route = Some(number(value()?)?),
            "--quick" => {
                o.samples = 200;
                o.reference_budget = Duration::from_secs(5);
            }
            other => {
                return Err(format!(
                    "unknown argument `{other}` (--data DIR, --samples N, --sizes A,B,..., \
                     --no-full, --reference-max N, --reference-budget SECS, --quick, \
                     --fib-bytes-per-route B)"
                ))
            }
        }
    }
    Ok(o)
}

fn run() -> Result<(), String> {
    let o = options()?;
    let dir = match &o.data {
        Some(d) => d.clone(),
        None => default_data_dir()?,
    };
    let files = [dir.join("bgp-dfz-v4.txt.gz"), dir.join("bgp-dfz-v6.txt.gz")];
    for f in &files {
        if !f.exists() {
            return Err(format!(
                "{} is missing (give the directory with --data)",
                f.display()
            ));
        }
    }
    let t = table::load(&files, NEXT_HOPS)?;
    println!(
        "# tables: {} IPv4 and {} IPv6 prefixes, next hops = hash(origin AS) mod {NEXT_HOPS}",
        t.v4.entries.len(),
        t.v6.entries.len()
    );
    println!("# times in microseconds per change, with the table present; p99 = 99th percentile");
    let mut tables: Vec<Routes> = o
        .sizes
        .iter()
        .filter(|&&n| n < t.v4.entries.len())
        .map(|&n| Routes::sample_v4(&t.v4, n))
        .collect();
    if o.full {
        tables.push(Routes::sample_v4(&t.v4, t.v4.entries.len()));
        tables.push(Routes::all_v6(&t.v6));
    }
    drop(t);
    for routes in &tables {
        let n = routes.len();
        bench::<Rib>("incremental", routes, &o, None)?;
        if n <= o.reference_max {
            bench::<ReferenceRib>("full", routes, &o, Some(o.reference_budget))?;
        } else {
            println!(
                "# full recomputation skipped for {n} routes (above --reference-max {})",
                o.reference_max
            );
        }
    }
    Ok(())
}

fn afi_name(afi: Afi) -> &'static str {
    match afi {
        Afi::Ipv4 => "ipv4",
        Afi::Ipv6 => "ipv6",
    }
}

/// Loads `routes` into a RIB of kind `S`, prints its memory and load time, then times each
/// kind of change (`budget`: stop a kind once it has taken that long, after 3 samples).
fn bench<S: Subject>(
    name: &str,
    routes: &Routes,
    o: &Options,
    budget: Option<Duration>,
) -> Result<(), String> {
    let n = routes.len();
    let afi = routes.afi;
    let fail = |e: routing::RibError| format!("{name} with {n} routes: {e:?}");
    // Memory: a RIB without FIBs (what the tables of routes themselves cost).
    let before = counting::live_bytes();
    let mut view = S::make(subject::limits(n, false, None));
    let started = Instant::now();
    subject::populate(&mut view, routes).map_err(fail)?;
    let load = started.elapsed();
    let bytes = counting::live_bytes() - before;
    drop(view);
    println!(
        "rib impl={name} afi={} routes={n} load_ms={:.1} bytes_per_route={:.0}",
        afi_name(afi),
        load.as_secs_f64() * 1e3,
        bytes as f64 / n as f64
    );
    // Changes: a RIB with FIBs (the data plane's).
    let mut rib = S::make(subject::limits(n, true, o.fib_bytes_per_route));
    let ids = subject::populate(&mut rib, routes).map_err(fail)?;
    if let Some(b) = o.fib_bytes_per_route {
        println!(
            "# FIB arenas of {b} bytes per route: {} of {n} routes wait for room",
            rib.waiting()
        );
    }
    let mut timer = Timer::new(budget, o.samples);
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    for i in 0..o.samples as u32 {
        if timer.all_done(&["add", "remove", "set"]) {
            break;
        }
        let dst = subject::outside(afi, i % 50_000);
        let gw = subject::gateway(afi, (i % u32::from(NEXT_HOPS)) as u16);
        let added = timer
            .time("add", || rib.add_route(subject::via(dst, gw)))
            .map_err(fail)?;
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let k = (rng % ids.len() as u64) as usize;
        let (dst, hop) = routes.prefixes[k];
        let moved = subject::via(dst, subject::gateway(afi, (hop + 1 + i as u16) % NEXT_HOPS));
        timer
            .time("set", || rib.set_route(ids[k], moved))
            .map_err(fail)?;
        timer
            .time("remove", || rib.remove_route(added))
            .map_err(fail)?;
    }
    for i in 0..o.samples {
        if timer.all_done(&["flap"]) {
            break;
        }
        let state = if i % 2 == 0 {
            subject::DOWN
        } else {
            subject::UP
        };
        timer
            .time("flap", || rib.set_interface(subject::SIDE, state))
            .map_err(fail)?;
    }
    let default = routing::Prefix::default_route(afi);
    for _ in 0..o.samples / 4 + 1 {
        if timer.all_done(&["default-add", "default-remove"]) {
            break;
        }
        let spec = subject::via(default, subject::gateway(afi, 0));
        let id = timer
            .time("default-add", || rib.add_route(spec))
            .map_err(fail)?;
        timer
            .time("default-remove", || rib.remove_route(id))
            .map_err(fail)?;
    }
    for s in timer.finish() {
        println!(
            "rib impl={name} afi={} routes={n} op={} samples={} median_us={:.1} p99_us={:.1} \
             cpu_median_us={:.1} cpu_p99_us={:.1}",
            afi_name(afi),
            s.kind,
            s.wall.len(),
            percentile(&s.wall, 0.5),
            percentile(&s.wall, 0.99),
            percentile(&s.cpu, 0.5),
            percentile(&s.cpu, 0.99),
        );
    }
    Ok(())
}

/// Durations per kind of change, with an optional time budget per kind.
struct Timer {
    budget: Option<Duration>,
    max: usize,
    kinds: Vec<Samples>,
}

/// The microseconds each change of one kind took: wall clock, and CPU time of this thread
/// (which leaves out the time other processes had the CPU).
struct Samples {
    kind: &'static str,
    wall: Vec<f64>,
    cpu: Vec<f64>,
    spent: Duration,
}

impl Timer {
    fn new(budget: Option<Duration>, max: usize) -> Timer {
        Timer {
            budget,
            max,
            kinds: Vec::new(),
        }
    }

    fn time<T>(&mut self, kind: &'static str, f: impl FnOnce() -> T) -> T {
        let cpu = thread_cpu_seconds();
        let started = Instant::now();
        let out = f();
        let spent = started.elapsed();
        let cpu = thread_cpu_seconds() - cpu;
        let at = match self.kinds.iter().position(|k| k.kind == kind) {
            Some(at) => at,
            None => {
                self.kinds.push(Samples {
                    kind,
                    wall: Vec::new(),
                    cpu: Vec::new(),
                    spent: Duration::ZERO,
                });
                self.kinds.len() - 1
            }
        };
        let k = &mut self.kinds[at];
        k.wall.push(spent.as_secs_f64() * 1e6);
        k.cpu.push(cpu * 1e6);
        k.spent += spent;
        out
    }

    /// Whether every kind of `kinds` has its samples, or has used its budget (with at least
    /// 3 samples).
    fn all_done(&self, kinds: &[&str]) -> bool {
        kinds.iter().all(|kind| {
            self.kinds
                .iter()
                .find(|k| k.kind == *kind)
                .is_some_and(|k| {
                    k.wall.len() >= self.max
                        || self
                            .budget
                            .is_some_and(|b| k.spent >= b && k.wall.len() >= 3)
                })
        })
    }

    fn finish(self) -> Vec<Samples> {
        self.kinds
    }
}

/// The `q` quantile of `samples` (nearest rank).
fn percentile(samples: &[f64], q: f64) -> f64 {
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
    }

    #[test]
    fn both_ribs_load_a_small_table_and_take_every_change() {
        let mut t = table::Table::<u32>::default();
        for i in 0..300u32 {
            t.entries
                .push((0x0100_0000 + (i << 8), 24, (i % 64) as u16));
        }
        let routes = Routes::sample_v4(&t, 100);
        assert_eq!(routes.len(), 100);
        let o = Options {
            data: None,
            samples: 20,
            reference_max: 1000,
            reference_budget: Duration::from_secs(5),
            sizes: vec![],
            full: false,
            fib_bytes_per_route: None,
        };
        bench::<Rib>("incremental", &routes, &o, None).unwrap();
        bench::<ReferenceRib>("full", &routes, &o, Some(o.reference_budget)).unwrap();
        // Full FIBs: the incremental RIB takes every change, routes waiting.
        let full = Options {
            fib_bytes_per_route: Some(1),
            ..o
        };
        bench::<Rib>("incremental", &routes, &full, None).unwrap();
    }
}
