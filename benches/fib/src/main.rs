//! FIB benchmark: our `routing::Fib` against crates.io peers, side by side in one run.
//!
//! `cargo run --release -p fib-bench -- [--table FILE]... [--nexthops N] [--quick]`
//!
//! Without `--table` it reads the global tables in `../shared/data/` next to the workspace.
//! For every implementation and address family it prints one line
//! `fib impl=NAME afi=ipv4|ipv6 prefixes=N nexthops=N lookups_per_sec=X bytes=Y
//! updates_per_sec=Z build_ms=W` and the same with `pattern=repeat` (lookups from a hot set
//! of addresses). Lines starting with `#` are for people. Every implementation's answers are
//! checked against a reference on a sample before and after the updates; any mismatch makes
//! the program fail.

mod contenders;
mod run;

use bench_common::{counting, default_data_dir, table};
use contenders::{Contender, IpTrie, IpTrieLc, Ours, Poptrie, PrefixTrie, TreeBitmap};
use routing::Address;
use run::{Sizes, Subject, Workload};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

const DEFAULT_TABLES: [&str; 2] = ["bgp-dfz-v4.txt.gz", "bgp-dfz-v6.txt.gz"];

struct Options {
    tables: Vec<PathBuf>,
    nexthops: u16,
    lookup_time: Duration,
    update_time: Duration,
    only: Option<String>,
}

fn main() -> ExitCode {
    match real_main() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!(
                "FAIL: some implementation disagreed with the reference (see MISMATCH lines)"
            );
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("fib-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<bool, String> {
    let opts = parse_args()?;
    let t = table::load(&opts.tables, opts.nexthops)?;
    println!(
        "# fib-bench: tables {}",
        opts.tables
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "# next hops: hash(origin AS) mod {}; lookups: 2^21 addresses uniform at random, and pattern=repeat from a hot set of {}; updates: withdraw + announce of random table prefixes",
        opts.nexthops,
        run::HOT_SET
    );
    println!("# skipped lines: {}", t.skipped_lines);
    let mut ok = true;
    if !t.v4.entries.is_empty() {
        let w = Workload::new(t.v4.entries, 4, Sizes::FULL);
        let subjects = vec![
            build::<u32, Ours<u32>>(&w, &opts),
            build::<u32, Poptrie<u32>>(&w, &opts),
            build::<u32, PrefixTrie<u32>>(&w, &opts),
            build::<u32, TreeBitmap<Ipv4Addr>>(&w, &opts),
            build::<u32, IpTrie<iptrie::Ipv4Prefix>>(&w, &opts),
            build::<u32, IpTrieLc<iptrie::Ipv4Prefix>>(&w, &opts),
        ];
        ok &= family(&w, "ipv4", &opts, subjects)?;
    }
    if !t.v6.entries.is_empty() {
        let w = Workload::new(t.v6.entries, 6, Sizes::FULL);
        let subjects = vec![
            build::<u128, Ours<u128>>(&w, &opts),
            build::<u128, Poptrie<u128>>(&w, &opts),
            build::<u128, PrefixTrie<u128>>(&w, &opts),
            build::<u128, TreeBitmap<Ipv6Addr>>(&w, &opts),
            build::<u128, IpTrie<iptrie::Ipv6Prefix>>(&w, &opts),
            build::<u128, IpTrieLc<iptrie::Ipv6Prefix>>(&w, &opts),
        ];
        ok &= family(&w, "ipv6", &opts, subjects)?;
    }
    Ok(ok)
}

type Built<A> = Option<Result<Box<dyn Subject<A>>, String>>;

/// Builds and checks contender `C` unless `--only` names another one.
fn build<A: Address, C: Contender<A> + 'static>(w: &Workload<A>, o: &Options) -> Built<A> {
    if o.only.as_deref().is_some_and(|n| n != C::NAME) {
        return None;
    }
    Some(run::build::<A, C>(w))
}

fn family<A: Address>(
    w: &Workload<A>,
    afi: &str,
    o: &Options,
    built: Vec<Built<A>>,
) -> Result<bool, String> {
    println!(
        "# {afi}: {} prefixes; every implementation is checked on {} probe addresses after building and after its updates",
        w.entries.len(),
        w.probes.len()
    );
    let mut subjects: Vec<Box<dyn Subject<A>>> =
        built.into_iter().flatten().collect::<Result<_, _>>()?;
    run::lookups(&mut subjects, w, o.lookup_time);
    let mut ok = true;
    for s in subjects.iter_mut() {
        // A contender that panics while updating is reported; it only fails the run when no
        // known upstream defect explains it.
        let updated =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.update(w, o.update_time)));
        match (updated, s.broken_updates()) {
            (Ok(()), _) => s.verify(w),
            (Err(_), Some(why)) => println!(
                "# WARNING {} {afi}: panicked while updating: {why}",
                s.figures().name
            ),
            (Err(_), None) => {
                eprintln!(
                    "FAIL: impl={} afi={afi} panicked while updating",
                    s.figures().name
                );
                ok = false;
            }
        }
    }
    for s in subjects.iter_mut() {
        let f = s.figures();
        let line = |pattern: &str, rate: f64| {
            println!(
                "fib impl={} afi={afi}{pattern} prefixes={} nexthops={} lookups_per_sec={:.0} bytes={} updates_per_sec={:.0} build_ms={:.1}",
                f.name,
                w.entries.len(),
                o.nexthops,
                rate,
                f.bytes,
                f.updates_per_sec,
                f.build.as_secs_f64() * 1e3
            )
        };
        line("", f.random_per_sec);
        line(" pattern=repeat", f.repeat_per_sec);
        println!(
            "# {} {afi}: bytes/prefix={:.2} updates_per_cpu_sec={:.0} update_ops={} checked={} mismatches={} {}",
            f.name,
            f.bytes as f64 / w.entries.len() as f64,
            f.updates_per_cpu_sec,
            f.update_ops,
            f.checked,
            f.mismatches,
            f.detail
        );
        if f.excused > 0 {
            let why = f.excuse.unwrap_or("");
            println!("# WARNING {} {afi}: {} wrong answers after updates; its update figure measures a broken operation: {why}", f.name, f.excused);
            eprintln!(
                "WARNING: impl={} afi={afi}: {} wrong answers after updates ({why})",
                f.name, f.excused
            );
        }
        if f.mismatches > 0 {
            eprintln!(
                "MISMATCH: impl={} afi={afi} gave {} wrong answers out of {}",
                f.name, f.mismatches, f.checked
            );
            ok = false;
        }
    }
    Ok(ok)
}

fn parse_args() -> Result<Options, String> {
    let mut opts = Options {
        tables: Vec::new(),
        nexthops: 64,
        lookup_time: Duration::from_millis(2500),
        update_time: Duration::from_secs(2),
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--table" => opts
                .tables
                .push(PathBuf::from(args.next().ok_or("--table needs a file")?)),
            "--nexthops" => {
                let n: u16 = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--nexthops needs a number")?;
                if n == 0 || n > routing::NextHop::MAX {
                    return Err(format!("--nexthops must be 1..={}", routing::NextHop::MAX));
                }
                opts.nexthops = n;
            }
            "--only" => opts.only = Some(args.next().ok_or("--only needs an implementation name")?),
            "--quick" => {
                opts.lookup_time = Duration::from_millis(500);
                opts.update_time = Duration::from_millis(300);
            }
            "-h" | "--help" => {
                println!(
                    "usage: fib-bench [--table FILE]... [--nexthops N] [--only NAME] [--quick]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    if opts.tables.is_empty() {
        let dir = default_data_dir()?;
        for name in DEFAULT_TABLES {
            let p = dir.join(name);
            if !p.is_file() {
                return Err(format!(
                    "default table {} is missing: the benchmark expects the shared data directory next to the workspace (or pass --table FILE)",
                    p.display()
                ));
            }
            opts.tables.push(p);
        }
    }
    Ok(opts)
}

#[cfg(test)]
mod tests {
    //! The harness itself: every contender, on a small synthetic table, must agree with the
    //! reference before and after updates (iptrie's known update defect excepted).
    use super::*;
    use run::Rng;

    /// An Internet-like table (what `FibConfig::ipv4_prefixes` is sized for): prefixes
    /// clustered under a few dozen /16s (IPv6: /32s), mostly long, some covering others.
    fn table<A: Address>(seed: u64, n: usize) -> Vec<(A, u8, u16)> {
        let mut rng = Rng::new(seed);
        let width = u32::from(A::BITS);
        let base_len: u8 = if width == 32 { 16 } else { 32 };
        let bases: Vec<u128> = (0..48)
            .map(|_| {
                rng.addr::<A>().to_u128() >> (width - u32::from(base_len))
                    << (width - u32::from(base_len))
            })
            .collect();
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        while out.len() < n {
            let len = match rng.below(10) {
                0 => 8 + rng.below(usize::from(base_len) - 7) as u8,
                1..=3 => base_len + 1 + rng.below(7) as u8,
                _ => base_len + 8,
            };
            let host = (u128::MAX >> (128 - width)) >> len;
            let a = A::from_u128(
                (bases[rng.below(bases.len())]
                    | (rng.addr::<A>().to_u128() >> u32::from(base_len)))
                    & !host,
            );
            if seen.insert((a, len)) {
                out.push((a, len, rng.below(16) as u16));
            }
        }
        out
    }

    fn check<A: Address>(built: Vec<Built<A>>, w: &Workload<A>) {
        let mut subjects: Vec<Box<dyn Subject<A>>> = built
            .into_iter()
            .flatten()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(subjects.len(), 6);
        for s in subjects.iter_mut() {
            let (name, wrong) = (s.figures().name, s.figures().mismatches);
            assert_eq!(wrong, 0, "{name} after building");
            // iptrie's broken remove can even panic (debug builds): not worth testing here.
            if s.broken_updates().is_some() {
                continue;
            }
            s.update(w, Duration::from_millis(50));
            s.verify(w);
            let f = s.figures();
            assert_eq!(f.mismatches, 0, "{}", f.name);
            assert!(f.update_ops > 0, "{}", f.name);
        }
    }

    const SMALL: Sizes = Sizes {
        lookup_stream: 1024,
        random_probes: 20_000,
        prefix_probes: 2_000,
        update_pairs: 200,
    };

    #[test]
    fn every_contender_agrees_with_the_reference() {
        let o = Options {
            tables: Vec::new(),
            nexthops: 16,
            lookup_time: Duration::ZERO,
            update_time: Duration::ZERO,
            only: None,
        };
        let w = Workload::new(table::<u32>(1, 3000), 1, SMALL);
        check(
            vec![
                build::<u32, Ours<u32>>(&w, &o),
                build::<u32, Poptrie<u32>>(&w, &o),
                build::<u32, PrefixTrie<u32>>(&w, &o),
                build::<u32, TreeBitmap<Ipv4Addr>>(&w, &o),
                build::<u32, IpTrie<iptrie::Ipv4Prefix>>(&w, &o),
                build::<u32, IpTrieLc<iptrie::Ipv4Prefix>>(&w, &o),
            ],
            &w,
        );
        let w = Workload::new(table::<u128>(2, 2000), 2, SMALL);
        check(
            vec![
                build::<u128, Ours<u128>>(&w, &o),
                build::<u128, Poptrie<u128>>(&w, &o),
                build::<u128, PrefixTrie<u128>>(&w, &o),
                build::<u128, TreeBitmap<Ipv6Addr>>(&w, &o),
                build::<u128, IpTrie<iptrie::Ipv6Prefix>>(&w, &o),
                build::<u128, IpTrieLc<iptrie::Ipv6Prefix>>(&w, &o),
            ],
            &w,
        );
    }
}
