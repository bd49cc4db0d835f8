//! `./x bench frames [BATCHES] [--mips | --e500 [--opt-level L]]`: the cost of one
//! guest-to-guest frame through the product's frame loop (see the library's docs for the
//! scenario). `--e500`: the same as `--mips` for the e500v2 on QEMU ppce500 (`e500/`, the time
//! base counting instructions).
//!
//! Without `--mips`: nanoseconds per frame on this host. With `--mips`: MIPS 24Kc instructions
//! per frame, counted by the same scenario built for the hypervisor's target with the image's
//! optimisation settings (`mips/`: the `firmware` profile's opt-level `z`, LTO, one codegen
//! unit; `--opt-level` overrides the level) and run on QEMU malta with `-icount shift=0`, where
//! CP0 Count runs at a fixed rate of executed instructions (calibrated against a loop of known
//! length).

use std::process::Command;
use std::time::Instant;

use frames_bench::{measure, Figures, RAM_LEN};
use qemu_tests::toolchain::CrossToolchain;
use qemu_tests::workspace_root;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mips = args.iter().any(|a| a == "--mips");
    let e500 = args.iter().any(|a| a == "--e500");
    let opt_level = args
        .iter()
        .position(|a| a == "--opt-level")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let batches = args.iter().find_map(|a| a.parse().ok()).unwrap_or(4000);
    let result = if mips {
        run_bare_metal(&MIPS, opt_level.as_deref())
    } else if e500 {
        run_bare_metal(&E500, opt_level.as_deref())
    } else {
        run_host(batches)
    };
    if let Err(e) = result {
        eprintln!("frames-bench: {e}");
        std::process::exit(1);
    }
}

fn run_host(batches: u32) -> Result<(), String> {
    let (mut a, mut b) = (vec![0u8; RAM_LEN + 4096], vec![0u8; RAM_LEN + 4096]);
    let start = Instant::now();
    let mut clock = || start.elapsed().as_nanos() as u64;
    println!(
        "guest-to-guest frame, ns per frame ({} frames per size, host CPU)",
        batches * frames_bench::BATCH
    );
    header();
    for len in [64usize, 1514] {
        let f = measure(
            page_aligned(&mut a),
            page_aligned(&mut b),
            len,
            batches,
            &mut clock,
        );
        row(len, &f);
    }
    let rounds = 200_000;
    let (ns, _) = frames_bench::host_echo::measure_echo(rounds, &mut clock);
    println!(
        "echo reply from the host's IP endpoint: {:.1} ns (receive to reply built, host CPU)",
        ns as f64 / f64::from(rounds)
    );
    Ok(())
}

/// `RAM_LEN` bytes of `buf` starting on a 4 KiB boundary, as guest partitions do.
fn page_aligned(buf: &mut [u8]) -> &mut [u8] {
    let at = buf.as_ptr().align_offset(4096);
    &mut buf[at..at + RAM_LEN]
}

fn header() {
    println!(
        "{:>6} {:>10} {:>9} {:>9} {:>9} {:>13}",
        "bytes", "full path", "tx scan", "switch", "rx copy", "memcpy alone"
    );
}

fn row(len: usize, f: &Figures) {
    let per = |units: u64| units as f64 / f.frames as f64;
    println!(
        "{len:>6} {:>10.1} {:>9.1} {:>9.1} {:>9.1} {:>13.1}",
        per(f.full),
        per(f.tx),
        per(f.switch),
        per(f.rx),
        per(f.copy)
    );
}

/// A bare-metal program of this benchmark: its directory, target and machine.
struct BareMetal {
    dir: &'static str,
    /// `--target` and the flags it needs.
    target: &'static [&'static str],
    /// Where cargo puts it, under its target directory.
    elf: &'static str,
    /// The QEMU executable and its machine arguments.
    qemu: &'static str,
    machine: &'static [&'static str],
}

const MIPS: BareMetal = BareMetal {
    dir: "mips",
    target: &["--target", "mips-mti-none-elf"],
    elf: "mips-mti-none-elf/release/frames-bench-mips",
    qemu: "qemu-system-mips",
    machine: &["-M", "malta", "-cpu", "24Kc", "-m", "64", "-vga", "none"],
};

const E500: BareMetal = BareMetal {
    dir: "e500",
    target: &[
        "--target",
        "../../../targets/powerpc-e500v2-none.json",
        "-Zjson-target-spec",
    ],
    elf: "powerpc-e500v2-none/release/frames-bench-e500",
    qemu: "qemu-system-ppc",
    machine: &["-M", "ppce500", "-cpu", "e500v2", "-m", "64"],
};

/// Build `program` for the hypervisor's target and run it on QEMU with `-icount shift=0`; its
/// console is ours.
fn run_bare_metal(program: &BareMetal, opt_level: Option<&str>) -> Result<(), String> {
    let tc = CrossToolchain::find()?;
    let root = workspace_root();
    let dir = root.join("benches/frames").join(program.dir);
    let target_dir = root.join(format!("target/frames-{}", program.dir));
    let mut cargo = tc.cargo();
    if let Some(level) = opt_level {
        cargo.env("CARGO_PROFILE_RELEASE_OPT_LEVEL", level);
        println!("(built at opt-level {level})");
    }
    let status = cargo
        .current_dir(&dir)
        .env("RUSTFLAGS", "-C link-arg=-Tlink.ld")
        .args(["build", "--release"])
        .args(program.target)
        .args([
            "-Zbuild-std=core,alloc",
            "-Zbuild-std-features=compiler-builtins-mem",
            "--quiet",
        ])
        .arg("--target-dir")
        .arg(&target_dir)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", tc.cargo.display()))?;
    if !status.success() {
        return Err(format!(
            "building benches/frames/{} failed ({status})",
            program.dir
        ));
    }
    let status = Command::new(program.qemu)
        .args(program.machine)
        .args([
            "-display",
            "none",
            "-serial",
            "stdio",
            "-monitor",
            "none",
            "-nic",
            "none",
            "-no-reboot",
            "-icount",
            "shift=0",
        ])
        .arg("-kernel")
        .arg(target_dir.join(program.elf))
        .status()
        .map_err(|e| format!("cannot run {}: {e}", program.qemu))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("QEMU failed ({status})"))
    }
}
