//! `./x bench guest [--touches N] [-- QEMU ARGS]`: runs the `userbench` guest's workloads
//! (user-mode loads over 4..1024 pages, system calls, process creation, a mix; see
//! `guests/userbench`) twice on the same QEMU: once on bare `-M malta -cpu 24Kc` (the guest's
//! `qemu-malta` build, kernel mode, the real TLB) and once as a MetaROUTER guest under the
//! hypervisor, and prints Count cycles per operation and the ratio guest / bare.
//!
//! Extra QEMU arguments (e.g. `-icount shift=0`) go to both runs.
//!
//! `--trace`: instead, where the hypervisor's instructions go in the guest's system-call loop
//! and in its loads over 512 pages (every load a guest TLB miss): QEMU's trace of the blocks
//! run during a short window of each (`-d in_asm,exec,nochain`, toggled through the monitor;
//! without `-icount`), charged to the image's functions, the guest's own code by address
//! range, and divided by the operations of the window (the runs of the guest's `syscall`
//! reflection, or of its refill vector).

#[path = "../../net/src/trace.rs"]
#[allow(dead_code)]
mod trace;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::guests;
use qemu_tests::image;
use qemu_tests::monitor::Monitor;
use qemu_tests::qemu::QemuConfig;
use qemu_tests::session::{Session, PROMPT};
use qemu_tests::toolchain::CrossToolchain;
use qemu_tests::workspace_root;

const GUEST_PROMPT: &str = "userbench> ";
const RUN_LIMIT: Duration = Duration::from_secs(1800);

/// One result line: `userbench: <name> k=v ... cycles=C`.
#[derive(Clone, Debug)]
struct Figure {
    name: String,
    params: String,
    ops: u64,
    cycles: u64,
}

/// The figures of a report, keyed by workload and parameters (without the operation count), in
/// the report's order.
fn parse(report: &str) -> Vec<(String, Figure)> {
    let mut out = Vec::new();
    for line in report.lines() {
        let Some(rest) = line.trim().strip_prefix("userbench: ") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let Some(name) = words.next() else { continue };
        let mut params = Vec::new();
        let (mut ops, mut cycles) = (None, None);
        for w in words {
            let Some((k, v)) = w.split_once('=') else {
                continue;
            };
            match k {
                "cycles" => cycles = v.parse().ok(),
                "iterations" | "loads" | "calls" | "processes" | "rounds" => {
                    ops = v.parse().ok();
                    params.push(w.to_string());
                }
                _ => params.push(w.to_string()),
            }
        }
        if let (Some(ops), Some(cycles)) = (ops, cycles) {
            let key = format!(
                "{name} {}",
                params
                    .iter()
                    .filter(|p| !p.starts_with("loads="))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            out.push((
                key,
                Figure {
                    name: name.to_string(),
                    params: params.join(" "),
                    ops,
                    cycles,
                },
            ));
        }
    }
    out
}

fn build_bare(tc: &CrossToolchain) -> Result<PathBuf, String> {
    let root = workspace_root();
    let dir = root.join("target/guests-qemu");
    let status = tc
        .cargo()
        .current_dir(&root)
        .args([
            "build",
            "--quiet",
            "--manifest-path",
            "guests/Cargo.toml",
            "--target",
            "mips-mti-none-elf",
            "--release",
        ])
        .args([
            "-Zbuild-std=core,alloc",
            "-Zbuild-std-features=compiler-builtins-mem",
        ])
        .args([
            "-p",
            "userbench",
            "--features",
            "userbench/qemu-malta",
            "--target-dir",
        ])
        .arg(&dir)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the bare-metal userbench failed ({status})"
        ));
    }
    Ok(dir.join("mips-mti-none-elf/release/userbench"))
}

fn bare_run(elf: &Path, touches: u32, extra: &[String]) -> String {
    let mut cmd = Command::new("qemu-system-mips");
    cmd.args([
        "-M",
        "malta",
        "-cpu",
        "24Kc",
        "-m",
        "64",
        "-nodefaults",
        "-display",
        "none",
    ])
    .args([
        "-chardev",
        "stdio,id=console,signal=off",
        "-serial",
        "chardev:console",
        "-kernel",
    ])
    .arg(elf)
    .args(extra);
    let mut s = Session::start("bare userbench", cmd, RUN_LIMIT);
    s.expect(GUEST_PROMPT);
    s.send_line(&format!("bench {touches}"));
    s.expect_within("userbench: done", RUN_LIMIT)
}

fn guest_run(store: PathBuf, touches: u32, extra: &[String]) -> String {
    let mut s = Session::boot_with(Board::QemuMalta, |c: &mut QemuConfig| {
        c.files = Some(store);
        c.memory_mib = 256;
        c.extra = extra.to_vec();
    });
    s.login(Duration::from_secs(120));
    let out = s.command(
        "/metarouter import-image file-name=userbench.tgz name=ub memory-size=64",
        PROMPT,
    );
    assert!(!out.contains("failure"), "import-image: {out}");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let print = s.command("/metarouter print", PROMPT);
        if print
            .lines()
            .any(|l| l.contains(" ub ") && l.trim_end().ends_with("running"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "ub is not running:\n{print}");
        std::thread::sleep(Duration::from_millis(500));
    }
    s.send_line("/metarouter console ub");
    s.expect("[Ctrl-A is the prefix key]");
    s.send_line("");
    s.expect(GUEST_PROMPT);
    s.send_line(&format!("bench {touches}"));
    let report = s.expect_within("userbench: done", RUN_LIMIT);
    s.send("\x01q");
    s.expect("Welcome back!");
    report
}

/// Trace a window of `seconds` after `start` appears on the guest's console: the log's text
/// (every translation since boot, and the runs of blocks in this window only; `skip` bytes of
/// it were an earlier window's, whose runs are dropped).
fn trace_window(
    s: &mut Session,
    monitor: &mut Monitor,
    log: &Path,
    start: &str,
    seconds: u64,
    skip: usize,
) -> String {
    s.expect_within(start, RUN_LIMIT);
    monitor.command("log in_asm,exec,nochain").expect("monitor");
    std::thread::sleep(Duration::from_secs(seconds));
    monitor.command("log in_asm,nochain").expect("monitor");
    let text = std::fs::read_to_string(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    let (before, window) = text.split_at(skip.min(text.len()));
    let mut out: String = before
        .lines()
        .filter(|l| !l.starts_with("Trace "))
        .flat_map(|l| [l, "\n"])
        .collect();
    out.push_str(window);
    out
}

/// Print a window's breakdown: per operation, where an operation is a run of the block at
/// `per_block` (a guest address).
fn report(title: &str, text: &str, symbols: &[trace::Symbol], per_block: u32) {
    let b = trace::analyse(text, symbols);
    let block_pc = |l: &str| {
        let pc = l.split('[').nth(1)?.split('/').nth(1)?;
        u64::from_str_radix(pc, 16).ok()
    };
    let ops = text
        .lines()
        .filter(|l| l.starts_with("Trace ") && block_pc(l) == Some(u64::from(per_block)))
        .count()
        .max(1) as f64;
    println!(
        "{title}: {ops} operations, {:.0} instructions each ({} block runs of unknown length)",
        b.total as f64 / ops,
        b.unknown_blocks
    );
    let (mut kernel, mut user) = (0u64, 0u64);
    let mut shown = Vec::new();
    for (name, n) in trace::demangle_all(b.functions) {
        match name
            .strip_prefix("0x")
            .and_then(|h| u32::from_str_radix(h, 16).ok())
        {
            Some(a) if a < 0x8000_0000 => user += n,
            Some(a) if (0xC000_0000..0xE000_0000).contains(&a) => kernel += n,
            _ => shown.push((name, n)),
        }
    }
    println!("{:>9.1}  (guest kernel code)", kernel as f64 / ops);
    println!("{:>9.1}  (guest user code)", user as f64 / ops);
    for (name, n) in shown.iter().take(30) {
        println!("{:>9.1}  {name}", *n as f64 / ops);
    }
}

fn run_trace(store: PathBuf) {
    let img = image::build_once(Board::QemuMalta).unwrap_or_else(|e| panic!("{e}"));
    let elf = std::fs::read(&img.elf).unwrap_or_else(|e| panic!("{}: {e}", img.elf.display()));
    let symbols = image::symbols(&elf).expect("a symbol table");
    let dir = workspace_root().join("target/guest-bench-trace");
    std::fs::create_dir_all(&dir).expect("trace directory");
    let socket = dir.join("monitor.sock");
    let log = dir.join("qemu.log");
    let _ = std::fs::remove_file(&log);
    let mut s = Session::boot_with(Board::QemuMalta, |c: &mut QemuConfig| {
        c.files = Some(store);
        c.memory_mib = 256;
        c.extra = Monitor::qemu_args(&socket);
        let log = log.display().to_string();
        c.extra
            .extend(["-d".into(), "in_asm,nochain".into(), "-D".into(), log]);
    });
    let mut monitor = Monitor::connect(&socket, &dir).expect("monitor");
    s.login(Duration::from_secs(300));
    let out = s.command(
        "/metarouter import-image file-name=userbench.tgz name=ub memory-size=64",
        PROMPT,
    );
    assert!(!out.contains("failure"), "import-image: {out}");
    std::thread::sleep(Duration::from_secs(5));
    s.send_line("/metarouter console ub");
    s.expect("[Ctrl-A is the prefix key]");
    s.send_line("");
    s.expect_within(GUEST_PROMPT, Duration::from_secs(300));
    s.send_line("bench 2000000");
    // The guest's general exception vector (EBase 0x8000_0000: 0xC000_0180 in its RAM window)
    // runs once per system call in the syscall loop; its refill vector (0xC000_0000) once per
    // guest TLB miss over 512 pages.
    let first = "userbench: touch pages=192";
    let text = trace_window(&mut s, &mut monitor, &log, first, 2, 0);
    let seen = std::fs::metadata(&log).map_or(0, |m| m.len() as usize);
    report("syscall", &text, &symbols, 0xC000_0180);
    let text = trace_window(&mut s, &mut monitor, &log, "userbench: mix", 2, seen);
    report("touch pages=512", &text, &symbols, 0xC000_0000);
    let _ = std::fs::remove_file(&log);
}

fn main() {
    let mut touches = 200_000u32;
    let mut trace_only = false;
    let mut extra = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--touches" => {
                touches = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--touches N")
            }
            "--trace" => trace_only = true,
            "--" => extra.extend(args.by_ref()),
            other => {
                panic!("unknown argument {other} (usage: guest-bench [--touches N] [-- QEMU ARGS])")
            }
        }
    }
    let tc = CrossToolchain::find().unwrap_or_else(|e| panic!("{e}"));
    let built = guests::build_once().unwrap_or_else(|e| panic!("building the guests: {e}"));
    guests::pack(&built.elf("userbench"), &built.archive("userbench"))
        .unwrap_or_else(|e| panic!("{e}"));
    let store = built.dir.join("userbench-store.bin");
    build_store(&[built.archive("userbench")], &store).unwrap_or_else(|e| panic!("{e}"));
    if trace_only {
        return run_trace(store);
    }
    let bare_elf = build_bare(&tc).unwrap_or_else(|e| panic!("{e}"));

    let bare_report = bare_run(&bare_elf, touches, &extra);
    let bare: BTreeMap<_, _> = parse(&bare_report).into_iter().collect();
    let guest_report = guest_run(store, touches, &extra);
    // The guest's own checks (a user-mode load from address 0x180 must fault, a crash).
    for (run, report) in [("bare", &bare_report), ("guest", &guest_report)] {
        if let Some(line) = report.lines().find(|l| l.contains("userbench: error")) {
            panic!("{run} run: {}", line.trim());
        }
        if let Some(line) = report.lines().find(|l| l.contains("user-null-load")) {
            println!("{run}: {}", line.trim());
        }
    }
    if let Some(line) = guest_report.lines().find(|l| l.contains("tlb-entries=")) {
        println!("guest: {}", line.trim());
    }
    let guest = parse(&guest_report);
    println!(
        "{:<28} {:>14} {:>14} {:>10}",
        "workload", "bare cyc/op", "guest cyc/op", "guest/bare"
    );
    let per = |f: &Figure| f.cycles as f64 / f.ops.max(1) as f64;
    for (key, g) in &guest {
        let Some(b) = bare.get(key) else {
            println!("{key}: no bare-metal figure");
            continue;
        };
        let label = g
            .params
            .split_whitespace()
            .find(|p| p.starts_with("pages="))
            .unwrap_or("");
        println!(
            "{:<28} {:>14.2} {:>14.2} {:>9.2}x",
            format!("{} {label}", g.name),
            per(b),
            per(g),
            per(g) / per(b)
        );
    }
}
