//! What the hypervisor takes of a board's RAM for itself (qemu-malta): the image's loaded
//! segments stay within a 2 MiB budget; boot and an idle shell fit the fixed heap; the stacks'
//! high-water marks keep their margin through a busy session (guests running, frames between
//! them, a routing table, exports). The marks are read from the machine's memory through the
//! QEMU monitor (the stacks' paint, the heap's peak counters), so the hypervisor prints nothing
//! for this; each test prints the figures it measured.

use std::time::{Duration, Instant};

use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::guests;
use qemu_tests::image::{self, load_segments, symbol};
use qemu_tests::monitor::Monitor;
use qemu_tests::session::{Session, PROMPT};

/// What the hypervisor may take for itself: its image, heap and stacks (the ELF's `PT_LOAD`
/// memory sizes).
const BUDGET: u64 = 2 << 20;
/// The stacks are sized at least twice their highest mark.
const STACK_MARGIN: usize = 2;
/// The stacks' paint (`hypervisor::stack`).
const PATTERN: u32 = 0x5354_4B21;

/// The physical address of a hypervisor address: kseg0 on MIPS, the one-to-one map on e500.
fn phys(board: Board, va: u32) -> u64 {
    match board {
        Board::QemuPpce500 => u64::from(va),
        _ => u64::from(va & 0x1FFF_FFFF),
    }
}

/// The high-water marks, read from the running machine.
#[derive(Debug)]
struct Marks {
    main_stack: (usize, usize),
    trap_stack: (usize, usize),
    heap_peak: usize,
    borrowed_peak: usize,
    fixed_heap: usize,
}

fn painted_depth(bytes: &[u8]) -> usize {
    let untouched = bytes
        .chunks(4)
        .take_while(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]) == PATTERN)
        .count();
    bytes.len() - 4 * untouched
}

fn marks(board: Board, monitor: &mut Monitor, elf: &[u8]) -> Marks {
    let sym =
        |name: &str| symbol(elf, name).unwrap_or_else(|| panic!("no symbol {name} in the image"));
    let (bottom, top, trap_top) = (
        sym("__stack_bottom"),
        sym("__stack_top"),
        sym("__hv_trap_stack_top"),
    );
    let (heap_start, heap_end) = (sym("__heap_start"), sym("__heap_end"));
    let read = |m: &mut Monitor, va: u32, len: u32| {
        m.read_physical(phys(board, va), u64::from(len))
            .expect("monitor pmemsave")
    };
    let main = read(monitor, bottom, top - bottom);
    let trap = read(monitor, top, trap_top - top);
    let word = |m: &mut Monitor, name: &str| {
        let b = read(m, sym(name), 4);
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
    };
    Marks {
        main_stack: (painted_depth(&main), main.len()),
        trap_stack: (painted_depth(&trap), trap.len()),
        heap_peak: word(monitor, "__hv_heap_peak"),
        borrowed_peak: word(monitor, "__hv_heap_borrowed_peak"),
        fixed_heap: (heap_end - heap_start) as usize,
    }
}

fn print(what: &str, m: &Marks) {
    println!(
        "{what}: main stack {} of {} KiB, trap stack {} of {} KiB, heap peak {} KiB (fixed heap {} KiB, borrowed at most {} KiB)",
        m.main_stack.0.div_ceil(1024),
        m.main_stack.1 / 1024,
        m.trap_stack.0.div_ceil(1024),
        m.trap_stack.1 / 1024,
        m.heap_peak.div_ceil(1024),
        m.fixed_heap / 1024,
        m.borrowed_peak / 1024
    );
}

#[test]
fn the_hypervisor_image_heap_and_stacks_fit_the_budget() {
    for board in [
        Board::QemuMalta,
        Board::Rb400,
        Board::QemuPpce500,
        Board::Rb1100,
    ] {
        let image = image::build_once(board).expect("building the image");
        let elf = std::fs::read(&image.elf).expect("the image's ELF");
        let segments = load_segments(&elf).expect("an ELF32 image");
        let total: u64 = segments.iter().map(|s| u64::from(s.mem_size)).sum();
        println!(
            "{board}: {total} bytes in {} PT_LOAD segments ({:.2} MiB): {segments:?}",
            segments.len(),
            total as f64 / (1 << 20) as f64
        );
        assert!(
            total <= BUDGET,
            "{board}: the image, heap and stacks take {total} bytes, more than {BUDGET}"
        );
    }
}

fn cmd(s: &mut Session, line: &str) -> String {
    s.command(line, PROMPT)
}

fn wait_running(s: &mut Session, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cmd(s, "/metarouter print")
        .lines()
        .any(|l| l.split_whitespace().any(|w| w == name) && l.ends_with("running"))
    {
        assert!(
            Instant::now() < deadline,
            "{name} not running\n{}",
            s.transcript()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Boot `board` with a monitor (and, on malta, the sample guests in the file store), log in,
/// and check what boot and an idle shell took; then run `busy` and check the stacks' marks.
fn measure(board: Board, busy: impl FnOnce(&mut Session)) -> Marks {
    let dir = std::env::temp_dir().join(format!("mr-memory-{}-{board}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let store = dir.join("files.bin");
    if board == Board::QemuMalta {
        let built = guests::build_once().expect("building the guests");
        let archives: Vec<_> = guests::NAMES.iter().map(|n| built.archive(n)).collect();
        build_store(&archives, &store).expect("packing the file store");
    }
    let socket = dir.join("monitor.sock");
    let image = image::build_once(board).expect("building the image");
    let elf = std::fs::read(&image.elf).expect("the image's ELF");
    let mut s = Session::boot_with(board, |c| {
        if board == Board::QemuMalta {
            c.files = Some(store);
        }
        c.extra.extend(Monitor::qemu_args(&socket));
    });
    let mut monitor = Monitor::connect(&socket, &dir).expect("the QEMU monitor");

    // Boot and an idle shell: what the fixed heap is for.
    s.login(Duration::from_secs(60));
    for line in [
        "/system resource print",
        "/interface print",
        "/metarouter print",
        "/ip route print",
        "/export",
    ] {
        cmd(&mut s, line);
    }
    let idle = marks(board, &mut monitor, &elf);
    print(&format!("{board}, boot and idle shell"), &idle);
    assert_eq!(
        idle.borrowed_peak, 0,
        "an idle shell borrowed guest RAM: {idle:?}"
    );
    assert!(idle.heap_peak <= idle.fixed_heap, "{idle:?}");

    busy(&mut s);
    let busy = marks(board, &mut monitor, &elf);
    print(&format!("{board}, busy session"), &busy);
    assert!(!s.transcript().contains("panic"), "{}", s.transcript());
    for (what, (used, size)) in [("main", busy.main_stack), ("trap", busy.trap_stack)] {
        assert!(
            used * STACK_MARGIN <= size,
            "the {what} stack's high-water mark {used} leaves less than half of its {size} bytes"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    busy
}

/// A routing table of `n` routes, pasted, then printed and exported.
fn routes(s: &mut Session, n: usize) {
    cmd(s, "/interface bridge add name=br9");
    cmd(s, "/ip address add address=10.0.0.1/24 interface=br9");
    let mut paste = String::new();
    for i in 0..n {
        paste.push_str(&format!(
            "/ip route add dst-address=172.16.{}.{}/32 gateway=10.0.0.2\r",
            i / 256,
            i % 256
        ));
    }
    s.send(&paste);
    for _ in 0..n {
        s.expect_within(PROMPT, Duration::from_secs(300));
    }
    let count = cmd(s, "/ip route print count-only");
    assert!(
        count.contains(&(n + 1).to_string()),
        "{n} routes and the connected one: {count}"
    );
    for line in ["/ip route print", "/export", "/system resource print"] {
        cmd(s, line);
    }
}

#[test]
fn malta_boot_and_an_idle_shell_fit_the_fixed_heap_and_the_stacks_keep_their_margin() {
    let _ = measure(Board::QemuMalta, |s| {
        // Guests (two of them exchanging frames), bridges, a routing table, exports and prints.
        cmd(s, "/interface bridge add name=br1");
        for n in 1..=2 {
            cmd(
                s,
                &format!("/metarouter import-image file-name=netguest.tgz name=n{n}"),
            );
            cmd(
                s,
                &format!("/metarouter interface add virtual-machine=n{n} dynamic-bridge=br1"),
            );
        }
        for g in 1..=6 {
            cmd(s, &format!("/metarouter add name=g{g}"));
        }
        for n in 1..=2 {
            wait_running(s, &format!("n{n}"));
            s.send_line(&format!("/metarouter console n{n}"));
            s.expect("[Ctrl-A is the prefix key]");
            s.send_line(&format!("ip 10.0.0.{}/24", n + 10));
            s.expect_within("address=", Duration::from_secs(10));
            if n == 2 {
                s.send_line("ping 10.0.0.11 5");
                let out = s.expect_within("packet-loss", Duration::from_secs(30));
                assert!(out.contains("received=5"), "{out}");
            }
            s.send("\x01q");
            s.expect("Welcome back!");
            s.expect(PROMPT);
        }
        cmd(s, "/metarouter reboot g1");
        wait_running(s, "g1");
        routes(s, 300);
        cmd(s, "/metarouter print detail");
    });
}

#[test]
fn ppce500_boot_and_an_idle_shell_fit_the_fixed_heap_and_a_growing_configuration_borrows_ram() {
    let busy = measure(Board::QemuPpce500, |s| routes(s, 600));
    assert!(
        busy.borrowed_peak > 0,
        "600 routes outgrow the fixed heap: {busy:?}"
    );
}
