//! Peak heap use of the management plane in a realistic session, measured with a counting
//! allocator: the seed's routing transcript, a second routing table with a FIB, 200 static
//! routes, then every route print. Prints the peak of live heap bytes per phase and overall,
//! and the wall-clock time per command on this host.
//!
//! `cargo run --release -p sim --example heap_peak` (the figures go into mgmt/README.md).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use mgmt::{Shell, ShellOptions, Terminal};
use sim::board::SimBoard;

/// Counts live bytes and remembers the highest count since the last [`reset_peak`].
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counters only observe.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours, passed through.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours, passed through.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(layout.size());
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
            grow(new_size);
        }
        p
    }
}

fn grow(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

fn reset_peak() {
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The seed's routing transcript (sim/tests/golden/seed-routing.in).
const SEED: &[&str] = &[
    "/interface bridge add name=bridge1",
    "/ip address add address=10.1.1.2/24 interface=ether1",
    "/ip address add address=172.16.1.1/30 interface=ether2",
    "/ip address add address=192.168.1.1/24 interface=bridge1",
    "/ip route print",
    "/ip route add dst-address=192.168.2.0/24 gateway=172.16.1.2",
    "/ip route print",
    "/ip route add dst-address=192.168.2.0/24 gateway=10.1.1.1",
    "/ip route print",
    "/ip route add dst-address=8.8.8.8 gateway=2.2.2.2",
    "/ip route add dst-address=10.155.101.0/24 gateway=1.1.1.10 disabled=yes",
    "/ip route add gateway=10.1.1.1 distance=10",
    "/ip route print",
    "/ip route print detail",
    "/routing route print",
    "/routing route print detail",
];

const ROUTES: usize = 200;

/// A terminal that keeps nothing (the serial console does not allocate).
struct Discard;

impl Terminal for Discard {
    fn write(&mut self, _bytes: &[u8]) {}
}

/// The simulator's replay model: the line, then one second of virtual time in 10 ms polls.
fn replay_line(shell: &mut Shell, board: &mut SimBoard, line: &str) {
    shell.input(format!("{line}\r").as_bytes(), board, &mut Discard);
    for _ in 0..100 {
        board.now += 10;
        board.tick();
        shell.poll(board, &mut Discard);
    }
}

/// One phase of the session: its lines, replayed. Prints the phase's peak above `base`, the
/// line that needed the most on top of what was live before it, and the time per line.
fn phase(
    shell: &mut Shell,
    board: &mut SimBoard,
    base: usize,
    name: &str,
    lines: &[String],
) -> usize {
    let before = LIVE.load(Ordering::Relaxed) - base;
    let mut peak = 0;
    let mut largest = (0, "");
    let start = Instant::now();
    for line in lines {
        let live = LIVE.load(Ordering::Relaxed);
        reset_peak();
        replay_line(shell, board, line);
        let line_peak = PEAK.load(Ordering::Relaxed);
        peak = peak.max(line_peak - base);
        if line_peak - live > largest.0 {
            largest = (line_peak - live, line);
        }
    }
    let each = start.elapsed() / lines.len().max(1) as u32;
    println!(
        "  {name:<30} {:>4} lines  peak {:>7} B  (live before {:>6} B)  {:>9.2?}/line",
        lines.len(),
        peak,
        before,
        each
    );
    println!("      most for one line: +{} B  {}", largest.0, largest.1);
    peak
}

fn main() {
    let mut board = SimBoard::new(3);
    let base = LIVE.load(Ordering::Relaxed);
    println!(
        "heap peak of a management session (live bytes above the simulated board's own {base} B):"
    );
    reset_peak();
    let mut shell = Shell::new(
        &mut board,
        ShellOptions {
            login: false,
            width: 80,
        },
    );
    shell.poll(&mut board, &mut Discard);
    let boot = PEAK.load(Ordering::Relaxed) - base;
    println!("  {:<30} {:>4}        peak {:>7} B", "boot", "", boot);
    let mut peaks = vec![boot];
    let seed: Vec<String> = SEED.iter().map(|l| String::from(*l)).collect();
    peaks.push(phase(
        &mut shell,
        &mut board,
        base,
        "seed routing transcript",
        &seed,
    ));
    let table = vec![
        String::from("/routing table add name=vpn fib"),
        String::from("/ip route add dst-address=10.8.0.0/16 gateway=10.1.1.1 routing-table=vpn"),
        String::from("/routing rule add src-address=192.168.1.0/24 table=vpn"),
    ];
    peaks.push(phase(
        &mut shell,
        &mut board,
        base,
        "table vpn (fib), a rule",
        &table,
    ));
    let routes: Vec<String> = (0..ROUTES)
        .map(|i| {
            let gateway = if i % 2 == 0 { "10.1.1.1" } else { "172.16.1.2" };
            format!(
                "/ip route add dst-address=10.{}.{}.0/24 gateway={gateway}",
                100 + i / 250,
                i % 250
            )
        })
        .collect();
    peaks.push(phase(
        &mut shell,
        &mut board,
        base,
        "200 static routes added",
        &routes,
    ));
    let prints: Vec<String> = [
        "/ip route print",
        "/ip route print detail",
        "/routing route print",
        "/routing route print detail",
        "/ip route print where gateway=10.1.1.1",
        "/ip route set [ find dst-address=10.100.7.0/24 ] distance=5",
        "/ip route remove [ find dst-address=10.100.8.0/24 ]",
        "/export",
    ]
    .iter()
    .map(|l| String::from(*l))
    .collect();
    peaks.push(phase(
        &mut shell,
        &mut board,
        base,
        "prints, set, remove, export",
        &prints,
    ));
    let overall = peaks.iter().copied().max().unwrap_or(0);
    println!(
        "  overall peak {overall} B ({:.2} MiB); live at the end {} B",
        overall as f64 / (1024.0 * 1024.0),
        LIVE.load(Ordering::Relaxed) - base
    );
    breakdown(&shell, &board);
    let text = shell.saved_configuration();
    println!(
        "  saved configuration at the end: {} bytes, {} lines",
        text.len(),
        text.lines().count()
    );
}

/// Live bytes held by each structure a command builds, for the final configuration.
fn breakdown(shell: &Shell, board: &SimBoard) {
    use mgmt::cli::menu::Table;
    let measure = |name: &str, f: &dyn Fn() -> Box<dyn std::any::Any>| {
        let before = LIVE.load(Ordering::Relaxed);
        let held = f();
        println!(
            "    {name:<40} {:>8} B",
            LIVE.load(Ordering::Relaxed) - before
        );
        drop(held);
    };
    println!("  held by each structure (final configuration):");
    measure("Config (one copy per command: shared)", &|| {
        Box::new(shell.config().clone())
    });
    measure("NetworkConfig", &|| {
        Box::new(mgmt::network_derive::network_config(shell.config(), board))
    });
    measure("RIB of the configuration (RibState::build)", &|| {
        Box::new(mgmt::rib_state::RibState::build(shell.config(), board).ok())
    });
    measure("rows of /ip route", &|| {
        let ctx = mgmt::cli::menu::ViewCtx {
            config: shell.config(),
            platform: board,
            rib: shell.rib(),
        };
        Box::new(mgmt::menus::routing::IPV4_ROUTES.rows(&ctx))
    });
    measure("saved configuration script", &|| {
        Box::new(shell.saved_configuration())
    });
}
