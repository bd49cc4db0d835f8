//! `./x lint`: formatting, clippy and rustdoc, with warnings denied, on every crate as it is
//! built. `./x test` runs it first, so CI enforces it.
//!
//! - rustfmt: `cargo fmt --check` over the workspace and the four workspaces of their own
//!   (`guests/`, `fuzz/`, `benches/frames/mips/`, `benches/forward/mips/`).
//! - clippy on the host: the workspace's host crates (every target: tests, examples, benches)
//!   and the guests' protocol crate, with the host toolchain.
//! - clippy cross-compiled: the MIPS boards and the PowerPC boards (so the hypervisor, the
//!   drivers, the shared e500 board and the portable crates as the targets build them), the
//!   MIPS guests, and the SDK samples' e500 builds. Clippy's lints such as
//!   `undocumented_unsafe_blocks` only run where the code compiles, and most unsafe code compiles only for a target. This uses the cross
//!   toolchain's own `clippy-driver` (Debian's `rust-web-clippy`, of the same release as
//!   `rustc-web`) as cargo's workspace wrapper around a `cargo check -Zbuild-std`, as
//!   `cargo clippy` itself does: only workspace crates are linted, the standard library is
//!   only checked.
//! - rustdoc with every warning denied (broken, private and ambiguous intra-doc links), private
//!   items included: the host crates on the host, the target crates per target.
//!
//! Cross lints share `target/lint/` (checked metadata, never images), so they neither rebuild
//! nor disturb `target/cross/`. Every step runs even when one fails; the task fails at the end
//! naming the steps that did.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use qemu_tests::boards::{Arch, Board};
use qemu_tests::image::PROFILE;
use qemu_tests::toolchain::CrossToolchain;
use qemu_tests::workspace_root;

use crate::host_cargo;

/// The workspaces `cargo fmt` checks, by manifest.
const FMT_MANIFESTS: [&str; 5] = [
    "Cargo.toml",
    "guests/Cargo.toml",
    "fuzz/Cargo.toml",
    "benches/frames/mips/Cargo.toml",
    "benches/forward/mips/Cargo.toml",
];

/// The guests' target (they are MIPS programs).
const GUEST_TARGET: &str = "mips-mti-none-elf";

/// The target of the SDK samples' PowerPC e500 builds.
const GUEST_E500_TARGET: &str = "targets/powerpc-e500v2-none.json";

/// Clippy's arguments for the crates it lints, in the form `cargo clippy` hands them to
/// `clippy-driver`.
const CLIPPY_DENY_WARNINGS: &str = "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__";

/// Run every lint; fails naming the steps that found something.
pub fn lint(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err(format!("`./x lint` takes no arguments (got {args:?})"));
    }
    let started = Instant::now();
    let mut failed: Vec<String> = Vec::new();
    let mut step = |name: &str, result: Result<(), String>| {
        if let Err(e) = result {
            eprintln!("x: lint: {name}: {e}");
            failed.push(name.into());
        }
    };

    eprintln!("x: lint: rustfmt");
    for manifest in FMT_MANIFESTS {
        step(&format!("rustfmt ({manifest})"), fmt_check(manifest));
    }

    eprintln!("x: lint: clippy and rustdoc on the host");
    step("clippy (host)", host_clippy());
    step("rustdoc (host)", host_rustdoc());

    let cross = Cross::find();
    let with_cross = |f: &dyn Fn(&Cross) -> Result<(), String>| match &cross {
        Ok(cross) => f(cross),
        Err(e) => Err(e.clone()),
    };
    for arch in [Arch::Mips, Arch::PowerPc] {
        let target = arch.target_dir_name();
        eprintln!("x: lint: clippy and rustdoc for {target}");
        let packages = target_packages(arch);
        let packages: Vec<&str> = packages.iter().map(String::as_str).collect();
        let workspace = CrossWorkspace::Main {
            arch,
            packages: &packages,
        };
        step(
            &format!("clippy ({target})"),
            with_cross(&|c| c.clippy(&workspace)),
        );
        step(
            &format!("rustdoc ({target})"),
            with_cross(&|c| c.rustdoc(&workspace)),
        );
    }
    eprintln!("x: lint: clippy and rustdoc for the guests ({GUEST_TARGET})");
    step(
        "clippy (guests)",
        with_cross(&|c| c.clippy(&CrossWorkspace::Guests)),
    );
    step(
        "rustdoc (guests)",
        with_cross(&|c| c.rustdoc(&CrossWorkspace::Guests)),
    );
    eprintln!("x: lint: clippy and rustdoc for the guests' e500 builds ({GUEST_E500_TARGET})");
    step(
        "clippy (e500 guests)",
        with_cross(&|c| c.clippy(&CrossWorkspace::GuestsE500)),
    );
    step(
        "rustdoc (e500 guests)",
        with_cross(&|c| c.rustdoc(&CrossWorkspace::GuestsE500)),
    );

    if failed.is_empty() {
        eprintln!("x: lint: clean in {:.0} s", started.elapsed().as_secs_f64());
        Ok(())
    } else {
        Err(format!("lint failed: {}", failed.join(", ")))
    }
}

fn run(mut cmd: Command, what: &str) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

fn fmt_check(manifest: &str) -> Result<(), String> {
    let mut cmd = host_cargo();
    cmd.args(["fmt", "--all", "--check", "--manifest-path", manifest]);
    run(cmd, "cargo fmt --check (run `cargo fmt` there to fix)")
}

/// The host crates: the workspace's default members, and the guests' protocol crate.
const HOST_CRATES: [(&str, &[&str]); 2] = [
    ("the workspace", &[]),
    (
        "guests/proto",
        &[
            "--manifest-path",
            "guests/Cargo.toml",
            "--package",
            "mr-proto",
        ],
    ),
];

fn host_clippy() -> Result<(), String> {
    both(HOST_CRATES.map(|(name, selection)| {
        let mut cmd = host_cargo();
        cmd.args(["clippy", "--quiet", "--all-targets"])
            .args(selection)
            .args(["--", "-D", "warnings"]);
        run(cmd, &format!("cargo clippy ({name})"))
    }))
}

fn host_rustdoc() -> Result<(), String> {
    both(HOST_CRATES.map(|(name, selection)| {
        let mut cmd = host_cargo();
        cmd.args(["doc", "--quiet", "--no-deps", "--document-private-items"])
            .args(selection)
            .env("RUSTDOCFLAGS", "-D warnings");
        run(cmd, &format!("cargo doc ({name})"))
    }))
}

/// Both results, each already run: the first error, or the second's outcome.
fn both([a, b]: [Result<(), String>; 2]) -> Result<(), String> {
    a.and(b)
}

/// The crates that build only for `arch`: its boards, the board crate the e500 boards share,
/// the hypervisor and the drivers. (Clippy lints the workspace crates they depend on as well;
/// rustdoc documents only these, the others are documented on the host.)
fn target_packages(arch: Arch) -> Vec<String> {
    let mut packages: Vec<String> = Board::ALL
        .iter()
        .filter(|b| b.arch() == arch)
        .map(|b| b.package())
        .collect();
    if arch == Arch::PowerPc {
        packages.push("board-e500".into());
    }
    packages.extend(["hypervisor".into(), "drivers".into()]);
    packages
}

/// What a cross lint covers.
enum CrossWorkspace<'a> {
    /// The main workspace's `packages` for `arch`.
    Main { arch: Arch, packages: &'a [&'a str] },
    /// Every crate of `guests/`.
    Guests,
    /// The SDK samples `guests/` builds for the e500 (`qemu_tests::guests::E500_NAMES`).
    GuestsE500,
}

/// The cross toolchain with its clippy and rustdoc.
struct Cross {
    toolchain: CrossToolchain,
    clippy_driver: PathBuf,
    rustdoc: PathBuf,
}

impl Cross {
    fn find() -> Result<Self, String> {
        let toolchain = CrossToolchain::find()?;
        let clippy_driver = toolchain.sibling("clippy-driver");
        let rustdoc = toolchain.sibling("rustdoc");
        if clippy_driver.is_absolute() && !clippy_driver.exists() {
            return Err(format!(
                "no {} (of the cross rustc's release): run `./x` (it installs Debian's \
                 rust-web-clippy), or add the clippy component to that toolchain",
                clippy_driver.display()
            ));
        }
        Ok(Self {
            toolchain,
            clippy_driver,
            rustdoc,
        })
    }

    /// `cargo <subcommand>` for `workspace` on its target, checked metadata only, in
    /// `target/lint/`.
    fn cargo(&self, subcommand: &str, workspace: &CrossWorkspace<'_>) -> Command {
        let root = workspace_root();
        let mut cmd = self.toolchain.cargo();
        cmd.current_dir(&root)
            .env_remove("RUSTDOCFLAGS")
            .arg(subcommand)
            .arg("--quiet");
        match workspace {
            CrossWorkspace::Main { arch, packages } => {
                cmd.args(["--target", arch.target(), "--profile", PROFILE]);
                if *arch == Arch::PowerPc {
                    cmd.arg("-Zjson-target-spec");
                }
                for package in packages.iter() {
                    cmd.args(["--package", package]);
                }
            }
            CrossWorkspace::Guests => {
                cmd.args(["--manifest-path", "guests/Cargo.toml", "--workspace"])
                    .args(["--target", GUEST_TARGET, "--release"]);
            }
            CrossWorkspace::GuestsE500 => {
                cmd.args(["--manifest-path", "guests/Cargo.toml"]).args([
                    "--target",
                    GUEST_E500_TARGET,
                    "-Zjson-target-spec",
                    "--release",
                ]);
                for package in qemu_tests::guests::E500_NAMES {
                    cmd.args(["--package", package]);
                }
            }
        }
        cmd.args([
            "-Zbuild-std=core,alloc",
            "-Zbuild-std-features=compiler-builtins-mem",
        ])
        .arg("--target-dir")
        .arg(lint_target_dir(&root));
        cmd
    }

    fn clippy(&self, workspace: &CrossWorkspace<'_>) -> Result<(), String> {
        let mut cmd = self.cargo("check", workspace);
        cmd.env("RUSTC_WORKSPACE_WRAPPER", &self.clippy_driver)
            .env("CLIPPY_ARGS", CLIPPY_DENY_WARNINGS);
        run(
            cmd,
            &format!("cargo check with {}", self.clippy_driver.display()),
        )
    }

    fn rustdoc(&self, workspace: &CrossWorkspace<'_>) -> Result<(), String> {
        let mut cmd = self.cargo("doc", workspace);
        cmd.args(["--no-deps", "--document-private-items"])
            .env("RUSTDOC", &self.rustdoc)
            .env("RUSTDOCFLAGS", "-D warnings");
        run(cmd, &format!("cargo doc with {}", self.rustdoc.display()))
    }
}

fn lint_target_dir(root: &Path) -> PathBuf {
    root.join("target/lint")
}
