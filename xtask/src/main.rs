//! The task runner behind `./x`: one entry point for building, running, testing and
//! benchmarking. CI runs exactly what a developer runs (`./x test`).

mod fuzz;
mod lint;
mod run;

use std::process::{Command, ExitCode};
use std::time::Instant;

use qemu_tests::boards::Board;
use qemu_tests::image;
use qemu_tests::workspace_root;

const HELP: &str = "\
usage: ./x <task> [options]

tasks:
  run   [--board B] [--file PATH]... [--etherN user|tap:NAME|none]...
        [--ether-model board|e1000] [-- QEMU-ARGS...]
        build and boot in QEMU; the hypervisor console is this terminal
        (Ctrl-] ends QEMU; with a pipe on stdin, QEMU ends once the input is
        consumed and the console has been quiet for 3 s). --file preloads
        files into the file store (/file print, /metarouter import-image);
        on qemu-malta the configuration persists in target/qemu/. Both QEMU
        boards have two ports (malta: e1000, ppce500: eTSEC): ether1 on
        QEMU's user networking, ether2 on nothing; --ether2 tap:NAME plugs
        it into an existing tap device. --ether-model e1000 makes ppce500's
        ports e1000 on its PCI bus instead of eTSECs.
  guests
        build the sample guests and their import archives (target/guests/archives): MIPS
        <name>.tgz, and the SDK samples hello, netguest, attacker for the e500 as <name>-ppc.tgz
  build [--board B|all]
        build a board image; the image path is the last line printed
  size  [--board B|all]
        section sizes (.text/.data/.bss) of board images
  test  run every test: `./x lint` first, then host unit tests, then QEMU
        integration tests
  lint  rustfmt --check, clippy and rustdoc (warnings denied) on the host crates
        and, cross-compiled, on the hypervisor, drivers, boards and guests
  sim   [--login] [--ports N]
        the management plane on the host (stdin/stdout), no QEMU
  bench fib [--table FILE]...
        FIB lookup/update benchmark against crates.io peers
  bench rib [--data DIR] [--quick] [--sizes A,B,...] [--samples N]
        cost of one RIB change with 1k..full tables present, incremental
        against the full recomputation
  bench config [--routes N]... [--qemu] [--qemu-routes N]
        cost of one configuration change as the configuration grows (simulator;
        with --qemu also a paste of N routes into QEMU malta)
  bench guest [--touches N] [--trace] [-- QEMU ARGS]
        guest user code, system calls and process creation under the
        hypervisor against the same code on bare QEMU (ratio); with --trace
        where a system call's and a guest TLB miss's instructions go
  bench frames [BATCHES] [--mips | --e500 [--opt-level L]]
        one guest-to-guest frame through the product's frame loop: ns on this
        host, or MIPS / e500v2 instructions counted under QEMU malta / ppce500
        (-icount shift=0)
  bench net [FRAMES] [--icount | --rate | --trace [--vif | --routed]] [--machine ppce500 [--e1000]]
        hypervisor instructions per bridged frame, ether to ether and ether to
        vif, 64 and 1514 bytes, on QEMU malta (-icount shift=0) with two
        network namespaces as peers (needs root); then in real time the highest
        64-byte UDP rate under 1% loss and TCP throughput between them;
        --trace: where a 64-byte frame's instructions go, by function;
        --machine ppce500: the same on QEMU ppce500's eTSEC ports (ether to
        ether and routed); with --e1000 on two e1000 on its PCI bus
  bench net --guests [BYTES] [--real-time]
        TCP between two netguests through the switch (default 8 MiB, 3 runs,
        medians) against the same transfer over a loopback in one guest, and
        the ratio; -icount shift=0 unless --real-time (no root needed)
  bench forward [--data DIR] [--packets N] [--ecmp | --round-robin]
        host ns per routed 64-byte packet through the forwarding path with the
        full IPv4 and IPv6 tables in the FIB
  bench forward --mips [--data DIR] [--opt-level L] [--trace]
        MIPS instructions per FIB lookup and per routed 64-byte packet with the
        full tables, on QEMU malta (-icount shift=0), as the image builds them;
        --trace: where the path's instructions go, by function
  fuzz  [TARGET] [--seconds N] [--minimise] [--asan]
        coverage-guided fuzzing (cargo-fuzz/libFuzzer) of every target in fuzz/,
        or of one, N seconds each (default 60); inputs that reach new code go to
        fuzz/corpus/ (--minimise: the corpus becomes a smallest covering set),
        which `./x test` replays; installs cargo-fuzz on first use

boards: qemu-malta (default), qemu-ppce500, rb400, rb1100
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((task, rest)) = args.split_first() else {
        eprint!("{HELP}");
        return ExitCode::from(2);
    };
    let result = match task.as_str() {
        "help" | "-h" | "--help" => {
            print!("{HELP}");
            Ok(())
        }
        "build" => build(rest),
        "size" => size(rest),
        "run" => run::run(rest),
        "test" => test(rest),
        "lint" => lint::lint(rest),
        "sim" => cargo_run("sim", &[], rest),
        "guests" => guests(rest),
        "bench" => bench(rest),
        "fuzz" => fuzz::fuzz(rest),
        other => Err(format!("unknown task `{other}`\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("x: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Parse `--board B` (default qemu-malta; `all` where allowed) from `args`.
pub fn boards_arg(args: &[String], allow_all: bool) -> Result<Vec<Board>, String> {
    let mut boards = vec![Board::QemuMalta];
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--board" => {
                let name = it.next().ok_or("--board needs a board name")?;
                boards = if allow_all && name == "all" {
                    Board::ALL.to_vec()
                } else {
                    vec![name.parse()?]
                };
            }
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    Ok(boards)
}

fn build(args: &[String]) -> Result<(), String> {
    let boards = boards_arg(args, true)?;
    for board in boards {
        eprintln!("x: building {board}");
        let img = image::build(board, false)?;
        println!("{}", img.image.display());
    }
    Ok(())
}

fn size(args: &[String]) -> Result<(), String> {
    let boards = boards_arg(args, true)?;
    println!(
        "{:<14} {:>9} {:>9} {:>9} {:>11}",
        "board", ".text", ".data", ".bss", "image-file"
    );
    for board in boards {
        let img = image::build(board, true)?;
        let elf = std::fs::read(&img.elf).map_err(|e| format!("{}: {e}", img.elf.display()))?;
        let s = image::section_sizes(&elf)?;
        let file = std::fs::metadata(&img.image)
            .map_err(|e| e.to_string())?
            .len();
        println!(
            "{:<14} {:>9} {:>9} {:>9} {:>11}",
            board.name(),
            s.text,
            s.data,
            s.bss,
            file
        );
    }
    Ok(())
}

fn guests(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err(format!("`./x guests` takes no arguments (got {args:?})"));
    }
    let built = qemu_tests::guests::build(false)?;
    for name in qemu_tests::guests::NAMES {
        println!("{}", built.archive(name).display());
    }
    let e500 = qemu_tests::guests::build_e500_sdk(false)?;
    for name in qemu_tests::guests::E500_NAMES {
        println!("{}", e500.e500_archive(name).display());
    }
    Ok(())
}

fn status_ok(mut cmd: Command, what: &str) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("{what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

pub fn host_cargo() -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root());
    cmd
}

fn cargo_run(package: &str, cargo_flags: &[&str], args: &[String]) -> Result<(), String> {
    let mut cmd = host_cargo();
    cmd.args(["run", "--quiet", "--package", package])
        .args(cargo_flags)
        .arg("--")
        .args(args);
    status_ok(cmd, package)
}

fn bench(args: &[String]) -> Result<(), String> {
    match args.split_first() {
        Some((what, rest)) if what == "fib" => cargo_run("fib-bench", &["--release"], rest),
        Some((what, rest)) if what == "config" => cargo_run("config-bench", &["--release"], rest),
        Some((what, rest)) if what == "guest" => cargo_run("guest-bench", &["--release"], rest),
        Some((what, rest)) if what == "rib" => cargo_run("rib-bench", &["--release"], rest),
        Some((what, rest)) if what == "frames" => cargo_run("frames-bench", &["--release"], rest),
        Some((what, rest)) if what == "net" => cargo_run("net-bench", &["--release"], rest),
        Some((what, rest)) if what == "forward" => cargo_run("forward-bench", &["--release"], rest),
        _ => Err("usage: ./x bench fib [--table FILE]... | ./x bench rib [--data DIR] [--quick] | ./x bench config [--routes N]... [--qemu] | ./x bench guest [--touches N] [--trace] [-- QEMU ARGS] | ./x bench frames [BATCHES] [--mips | --e500 [--opt-level L]] | ./x bench net [FRAMES] [--icount | --rate | --trace [--routed | --vif] [--icount]] [--machine ppce500 [--e1000]] | ./x bench net --guests [BYTES] [--real-time] | ./x bench forward [--data DIR] [--packets N] [--ecmp | --round-robin] | ./x bench forward --mips [--data DIR] [--opt-level L] [--trace]".into()),
    }
}

fn test(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err(format!("`./x test` takes no arguments (got {args:?})"));
    }
    let started = Instant::now();
    // What CI enforces besides the tests: formatting, clippy and rustdoc, warnings denied.
    lint::lint(&[])?;
    eprintln!("x: host tests");
    let mut cmd = host_cargo();
    cmd.args(["test", "--workspace", "--exclude", "qemu-tests"]);
    // Target-only crates are not host-buildable; exclude them explicitly.
    for board in Board::ALL {
        cmd.args(["--exclude", &board.package()]);
    }
    // The kernel and the board crate the e500 boards share are target-only too.
    cmd.args(["--exclude", "hypervisor", "--exclude", "board-e500"]);
    status_ok(cmd, "host tests")?;
    eprintln!("x: guest SDK host tests");
    let mut cmd = host_cargo();
    cmd.args([
        "test",
        "--manifest-path",
        "guests/Cargo.toml",
        "--package",
        "mr-proto",
    ]);
    status_ok(cmd, "guest SDK host tests")?;
    eprintln!("x: building every board image");
    for board in Board::ALL {
        let img = image::build(board, true)?;
        eprintln!("x:   {board}: {}", img.image.display());
    }
    eprintln!("x: QEMU integration tests");
    let mut cmd = host_cargo();
    cmd.args(["test", "--package", "qemu-tests"]);
    status_ok(cmd, "QEMU tests")?;
    eprintln!(
        "x: all tests passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
