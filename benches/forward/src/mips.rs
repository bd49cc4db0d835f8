//! `--mips`: the FIB lookup and the forwarding path counted in MIPS 24Kc instructions, with the
//! full tables. The tables are loaded here as for the host run (next hop = `hash(origin AS)
//! mod 64`) and written as a big-endian blob (the format is described in
//! `mips/src/table.rs`); `mips/` is built with the cross toolchain at the image's optimisation
//! settings and run on QEMU malta (256 MiB, `-icount shift=0`) with the blob placed at
//! physical 0x0f000000 by `-device loader`. Its console is printed as it comes; the run fails
//! when the program panics, when its FIB answers a probe address differently from this host's
//! FIB, or when a packet was not forwarded.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use bench_common::table::Tables;
use qemu_tests::toolchain::CrossToolchain;
use qemu_tests::workspace_root;
use routing::{Address, Fib, FibConfig, NextHop};

use crate::Random;

/// Where the MIPS program expects the blob (`mips/src/table.rs`), and the room it has there.
pub const BLOB_PHYS: u32 = 0x0f00_0000;
const BLOB_MAX: usize = 16 << 20;
/// Addresses per family whose next hop the MIPS program checks against this host's FIB: half
/// drawn from the table's prefixes, half uniformly random.
const PROBES: usize = 4096;

/// The host's FIB of `entries` and `PROBES` addresses with its answers (`0xffff`: no route).
fn probes<A: Address>(
    entries: &[(A, u8, u16)],
    config: FibConfig,
    draw: impl Fn(&mut Random, bool) -> A,
) -> Result<Vec<(A, u16)>, String> {
    let list: Vec<(A, u8, NextHop)> = entries
        .iter()
        .map(|&(a, l, h)| (a, l, NextHop::new(h).expect("64 next hops")))
        .collect();
    let mut fib = Fib::new(config);
    fib.build(&list)
        .map_err(|e| format!("building the host FIB: {e:?}"))?;
    let mut rng = Random(0x005e_ed0f_a11a_d0e5);
    Ok((0..PROBES)
        .map(|i| {
            let a = draw(&mut rng, i % 2 == 0);
            (a, fib.lookup(a).map_or(0xffff, NextHop::get))
        })
        .collect())
}

/// The blob of `tables` and the probes (see `mips/src/table.rs`).
fn blob(tables: &Tables) -> Result<Vec<u8>, String> {
    let (n4, n6) = (tables.v4.entries.len(), tables.v6.entries.len());
    let mut b = Vec::with_capacity(16 + n4 * 8 + n6 * 20);
    b.extend_from_slice(b"FWD1");
    for n in [n4, n6, PROBES] {
        b.extend_from_slice(&(n as u32).to_be_bytes());
    }
    for &(a, len, hop) in &tables.v4.entries {
        b.extend_from_slice(&a.to_be_bytes());
        b.extend_from_slice(&[len, 0]);
        b.extend_from_slice(&hop.to_be_bytes());
    }
    for &(a, len, hop) in &tables.v6.entries {
        b.extend_from_slice(&a.to_be_bytes());
        b.extend_from_slice(&[len, 0]);
        b.extend_from_slice(&hop.to_be_bytes());
    }
    let v4 = &tables.v4.entries;
    let probes4 = probes(v4, FibConfig::ipv4_prefixes(n4), |rng, inside| {
        let e = &v4[rng.next() as usize % n4];
        let host = if inside {
            u32::MAX.checked_shr(e.1.into()).unwrap_or(0)
        } else {
            u32::MAX
        };
        (if inside { e.0 } else { 0 }) | (rng.next() as u32 & host)
    })?;
    for (a, hop) in probes4 {
        b.extend_from_slice(&a.to_be_bytes());
        b.extend_from_slice(&hop.to_be_bytes());
        b.extend_from_slice(&[0, 0]);
    }
    let v6 = &tables.v6.entries;
    let probes6 = probes(v6, FibConfig::ipv6_prefixes(n6), |rng, inside| {
        let e = &v6[rng.next() as usize % n6];
        let host = if inside {
            u128::MAX.checked_shr(e.1.into()).unwrap_or(0)
        } else {
            u128::MAX
        };
        let random = u128::from(rng.next()) << 64 | u128::from(rng.next());
        (if inside { e.0 } else { 0 }) | (random & host)
    })?;
    for (a, hop) in probes6 {
        b.extend_from_slice(&a.to_be_bytes());
        b.extend_from_slice(&hop.to_be_bytes());
        b.extend_from_slice(&[0, 0]);
    }
    if b.len() > BLOB_MAX {
        return Err(format!(
            "the tables take {} bytes as a blob; the MIPS program has room for {BLOB_MAX}",
            b.len()
        ));
    }
    Ok(b)
}

/// Builds `mips/`; `opt_level` overrides the level of `routing` and `forward` (the crates
/// measured; the image builds them at "z").
pub fn build(target_dir: &Path, opt_level: Option<&str>) -> Result<std::path::PathBuf, String> {
    let tc = CrossToolchain::find()?;
    let dir = workspace_root().join("benches/forward/mips");
    let mut cargo = tc.cargo();
    if let Some(level) = opt_level {
        let level = if level.parse::<u8>().is_ok() {
            level.to_string()
        } else {
            format!("\"{level}\"")
        };
        for krate in ["routing", "forward"] {
            cargo.arg("--config");
            cargo.arg(format!("profile.release.package.{krate}.opt-level={level}"));
        }
    }
    let status = cargo
        .current_dir(&dir)
        .env("RUSTFLAGS", "-C link-arg=-Tlink.ld")
        .args(["build", "--release", "--target", "mips-mti-none-elf"])
        .args([
            "-Zbuild-std=core,alloc",
            "-Zbuild-std-features=compiler-builtins-mem",
            "--quiet",
        ])
        .arg("--target-dir")
        .arg(target_dir)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", tc.cargo.display()))?;
    if !status.success() {
        return Err(format!("building benches/forward/mips failed ({status})"));
    }
    Ok(target_dir.join("mips-mti-none-elf/release/forward-bench-mips"))
}

/// QEMU malta with 256 MiB running `elf`, the blob at [`BLOB_PHYS`], the console on stdout.
pub fn qemu(elf: &Path, blob: &Path) -> Command {
    let loader = format!(
        "loader,file={},addr={BLOB_PHYS:#x},force-raw=on",
        blob.display()
    );
    let mut qemu = Command::new("qemu-system-mips");
    qemu.args([
        "-M", "malta", "-cpu", "24Kc", "-m", "256", "-vga", "none", "-display", "none",
    ])
    .args([
        "-serial",
        "stdio",
        "-monitor",
        "none",
        "-nic",
        "none",
        "-no-reboot",
    ])
    .arg("-kernel")
    .arg(elf)
    .args(["-device", &loader]);
    qemu
}

/// Writes the blob, builds `mips/` and runs it on QEMU malta.
pub fn run(tables: &Tables, opt_level: Option<&str>) -> Result<(), String> {
    let target_dir = workspace_root().join("target/forward-mips");
    std::fs::create_dir_all(&target_dir).map_err(|e| format!("{}: {e}", target_dir.display()))?;
    let blob_path = target_dir.join("tables.bin");
    std::fs::write(&blob_path, blob(tables)?)
        .map_err(|e| format!("{}: {e}", blob_path.display()))?;
    let elf = build(&target_dir, opt_level)?;
    println!(
        "# MIPS 24Kc instructions (QEMU malta, -icount shift=0, 256 MiB), {} IPv4 and {} IPv6 prefixes; routing and forward at opt-level {}",
        tables.v4.entries.len(),
        tables.v6.entries.len(),
        opt_level.unwrap_or("3 (as in the image)")
    );
    let mut qemu = qemu(&elf, &blob_path)
        .args(["-icount", "shift=0"])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run qemu-system-mips: {e}"))?;
    let mut failures = Vec::new();
    let console = qemu.stdout.take().ok_or("no console from QEMU")?;
    for line in BufReader::new(console).lines() {
        let line = line.map_err(|e| format!("reading QEMU's console: {e}"))?;
        println!("{line}");
        let bad = |key: &str| {
            line.split_whitespace()
                .any(|w| w.starts_with(key) && !w.ends_with("=0"))
        };
        if line.starts_with("panic")
            || line.starts_with("no tables")
            || bad("differences_from_host=")
            || bad("not_forwarded=")
            || bad("hit_misses=")
        {
            failures.push(line);
        }
    }
    let status = qemu.wait().map_err(|e| format!("waiting for QEMU: {e}"))?;
    if !status.success() {
        return Err(format!("QEMU failed ({status})"));
    }
    match failures.first() {
        None => Ok(()),
        Some(line) => Err(format!("the MIPS program reported a failure: {line}")),
    }
}
