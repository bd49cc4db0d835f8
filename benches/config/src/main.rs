//! What one configuration change costs as the configuration grows.
//!
//! Host part: the management shell (the same code the hypervisor runs) on the simulator's
//! board, flash included. It adds N static routes one command at a time, and prints the time
//! per `/ip route add` as the table grows, then, with N routes present, the time of single
//! changes (`/ip route add`, `set`, `remove`, `/system identity set`) and of `print count-only`,
//! and the heap the configuration takes per route.
//!
//! QEMU part (`--qemu`): the hypervisor on QEMU malta (TCG, this host) with a fresh flash: a
//! paste of N `/ip route add` lines (the console's flow control paces it), its total time and
//! whether every line was applied and saved (the routes count, and again after a reboot), then
//! single `/ip route add` commands at N, timed from Enter to the next prompt.
//!
//! `./x bench config [--routes N]... [--qemu] [--qemu-routes N]`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mgmt::{Shell, ShellOptions, Terminal};
use sim::board::SimBoard;

/// Counts live heap bytes (the configuration's memory per route).
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counter only observes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours, passed through.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours, passed through.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as ours, passed through.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Collects the shell's output (kept to check for errors).
#[derive(Default)]
struct Out(Vec<u8>);

impl Terminal for Out {
    fn write(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

/// The destination of route number `i` (distinct for i < 2^24).
fn prefix(i: usize) -> String {
    format!("172.{}.{}.{}/32", 16 + i / 65536, (i / 256) % 256, i % 256)
}

fn route_add(i: usize) -> String {
    format!("/ip route add dst-address={} gateway=10.0.0.2", prefix(i))
}

struct Host {
    board: SimBoard,
    shell: Shell,
    out: Out,
}

impl Host {
    fn boot() -> Host {
        let mut board = SimBoard::new(2);
        let shell = Shell::new(
            &mut board,
            ShellOptions {
                login: false,
                width: 80,
            },
        );
        let mut host = Host {
            board,
            shell,
            out: Out::default(),
        };
        host.run("/ip address add address=10.0.0.1/24 interface=ether1");
        host
    }

    /// Runs one command line; returns its wall time. Panics on an error message.
    fn run(&mut self, line: &str) -> Duration {
        self.out.0.clear();
        let mut bytes = line.as_bytes().to_vec();
        bytes.push(b'\r');
        let start = Instant::now();
        self.shell.input(&bytes, &mut self.board, &mut self.out);
        let took = start.elapsed();
        let text = String::from_utf8_lossy(&self.out.0);
        if text.contains("failure") || text.contains("bad command") || text.contains("expected") {
            panic!("{line}: {text}");
        }
        took
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Median and 99th percentile, in microseconds.
fn spread(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| micros(samples[((samples.len() - 1) as f64 * q) as usize]);
    (at(0.5), at(0.99))
}

fn host(sizes: &[usize]) {
    println!("host (simulator board, release build): time per command, microseconds");
    println!(
        "{:>8} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>14} {:>12}",
        "routes",
        "add p50",
        "add p99",
        "set p50",
        "remove p50",
        "identity",
        "count-only",
        "heap/route B",
        "flash B"
    );
    for &n in sizes {
        let base = LIVE.load(Ordering::Relaxed);
        let mut host = Host::boot();
        let empty = LIVE.load(Ordering::Relaxed).saturating_sub(base);
        for i in 0..n {
            host.run(&route_add(i));
        }
        let heap = LIVE.load(Ordering::Relaxed).saturating_sub(base + empty);
        let rounds = 200;
        let mut adds = Vec::new();
        let mut sets = Vec::new();
        let mut removes = Vec::new();
        let mut identity = Vec::new();
        let mut count = Vec::new();
        for r in 0..rounds {
            let i = n + r;
            adds.push(host.run(&route_add(i)));
            sets.push(host.run(&format!(
                "/ip route set [find dst-address={}] distance=5",
                prefix(i)
            )));
            removes.push(host.run(&format!(
                "/ip route remove [find dst-address={}]",
                prefix(i)
            )));
            identity.push(host.run(&format!("/system identity set name=r{r}")));
            if r % 20 == 0 {
                count.push(host.run("/ip route print count-only"));
            }
        }
        let flash_used = host
            .board
            .flash
            .bytes()
            .iter()
            .filter(|&&b| b != 0xFF)
            .count();
        let (add50, add99) = spread(adds);
        println!(
            "{n:>8} {add50:>12.0} {add99:>12.0} {:>12.0} {:>12.0} {:>12.0} {:>12.0} {:>14} {:>12}",
            spread(sets).0,
            spread(removes).0,
            spread(identity).0,
            spread(count).0,
            heap / n.max(1),
            flash_used,
        );
    }
}

fn qemu(n: usize) {
    use qemu_tests::boards::Board;
    use qemu_tests::session::{Session, PROMPT};
    let dir = qemu_tests::workspace_root().join("target/bench-config");
    std::fs::create_dir_all(&dir).expect("target/bench-config");
    let flash = dir.join("flash.img");
    let _ = std::fs::remove_file(&flash);
    qemu_tests::qemu::ensure_flash_image(&flash, qemu_tests::qemu::MALTA_FLASH_SIZE)
        .expect("flash image");
    let boot = |flash: &std::path::Path| {
        let image = qemu_tests::image::build_once(Board::QemuMalta).expect("building qemu-malta");
        let mut config = qemu_tests::qemu::QemuConfig::new(Board::QemuMalta, &image.image);
        config.flash = Some(flash.to_path_buf());
        config.no_reboot = true;
        let cmd = config.command().expect("QEMU command");
        // A paste of ten thousand lines takes minutes: a longer life than a test's.
        Session::start("qemu-malta", cmd, Duration::from_secs(3600))
    };
    let mut s = boot(&flash);
    s.login(Duration::from_secs(60));
    s.command(
        "/ip address add address=10.0.0.1/24 interface=ether1",
        PROMPT,
    );
    println!("QEMU malta (TCG on this host): a paste of {n} `/ip route add` lines");
    let mut paste = String::new();
    for i in 0..n {
        paste.push_str(&route_add(i));
        paste.push('\r');
    }
    let start = Instant::now();
    s.send(&paste);
    for _ in 0..n {
        s.expect_within(PROMPT, Duration::from_secs(600));
    }
    let total = start.elapsed();
    let count = s.command("/ip route print count-only", PROMPT);
    println!(
        "  paste: {:.1} s in all, {:.1} ms per line; routes afterwards: {}",
        total.as_secs_f64(),
        total.as_secs_f64() * 1e3 / n as f64,
        count.trim()
    );
    let mut single = Vec::new();
    for r in 0..20 {
        let line = route_add(n + r);
        let start = Instant::now();
        s.command(&line, PROMPT);
        single.push(start.elapsed());
    }
    let (p50, p99) = spread(single);
    println!(
        "  one `/ip route add` with {n} routes present: median {:.1} ms, max {:.1} ms",
        p50 / 1e3,
        p99 / 1e3
    );
    s.send_line("/system reboot");
    s.expect("[y/N]");
    s.send("y");
    s.wait_exit(Duration::from_secs(60));
    let mut s = boot(&flash);
    let start = Instant::now();
    s.login(Duration::from_secs(600));
    let count = s.command("/ip route print count-only", PROMPT);
    println!(
        "  after a reboot: {} routes (login prompt after {:.1} s)",
        count.trim(),
        start.elapsed().as_secs_f64()
    );
    s.send_line("/system shutdown");
    s.expect("[y/N]");
    s.send("y");
    s.wait_exit(Duration::from_secs(60));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut sizes = Vec::new();
    let mut qemu_routes = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut number = || -> usize {
            it.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
                eprintln!("{arg} needs a number");
                std::process::exit(2)
            })
        };
        match arg.as_str() {
            "--routes" => sizes.push(number()),
            "--qemu" => qemu_routes = Some(10_000),
            "--qemu-routes" => qemu_routes = Some(number()),
            other => {
                eprintln!("usage: ./x bench config [--routes N]... [--qemu] [--qemu-routes N] (got {other})");
                std::process::exit(2);
            }
        }
    }
    if sizes.is_empty() {
        sizes = vec![100, 1_000, 10_000];
    }
    host(&sizes);
    if let Some(n) = qemu_routes {
        qemu(n);
    }
}
