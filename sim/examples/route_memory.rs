//! Heap per configured static route: the live bytes the management plane holds (its
//! configuration item, the RIB's records and maps, the live RIB's FIBs) after adding `N` routes
//! through the CLI, over `N`, measured with a counting allocator. The figure sizes
//! `mgmt::rib_limits::BYTES_PER_ROUTE`.
//!
//! `cargo run --release -p sim --example route_memory [N]` (default 20000; 200000 did not finish
//! in ten minutes in the simulator, which was not looked into).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use mgmt::{Shell, ShellOptions, Terminal};
use sim::board::SimBoard;

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

/// A terminal that keeps nothing.
struct Discard;

impl Terminal for Discard {
    fn write(&mut self, _bytes: &[u8]) {}
}

fn line(shell: &mut Shell, board: &mut SimBoard, text: &str) {
    shell.input(format!("{text}\r").as_bytes(), board, &mut Discard);
    board.now += 10;
    shell.poll(board, &mut Discard);
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let mut board = SimBoard::new(2);
    let mut shell = Shell::new(
        &mut board,
        ShellOptions {
            login: false,
            width: 80,
        },
    );
    shell.poll(&mut board, &mut Discard);
    line(
        &mut shell,
        &mut board,
        "/ip address add address=10.0.0.1/24 interface=ether1",
    );
    // One route first, so the table's FIBs exist before the count starts.
    line(
        &mut shell,
        &mut board,
        "/ip route add dst-address=172.16.0.0/24 gateway=10.0.0.2",
    );
    let before = LIVE.load(Ordering::Relaxed);
    let start = Instant::now();
    for i in 0..n {
        let gateway = if i % 2 == 0 { "10.0.0.2" } else { "10.0.0.3" };
        let text = format!(
            "/ip route add dst-address={}.{}.{}.0/24 gateway={gateway}",
            20 + i / 65_536,
            (i / 256) % 256,
            i % 256
        );
        line(&mut shell, &mut board, &text);
    }
    let held = LIVE.load(Ordering::Relaxed) - before;
    let routes = shell.rib().rib().routes().count();
    assert_eq!(routes, n + 2, "every route was added (and the first two)");
    println!(
        "route_memory routes={n} bytes={held} bytes_per_route={:.1} seconds={:.1}",
        held as f64 / n as f64,
        start.elapsed().as_secs_f64()
    );
}
