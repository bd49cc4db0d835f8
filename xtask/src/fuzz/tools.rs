//! What `./x fuzz` needs besides the project: a C++ compiler (libFuzzer is C++), cargo-fuzz at a
//! pinned version, and the facts of the compiler that builds the targets.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{host_cargo, status_ok};

const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// cargo-fuzz and the toolchain it builds with: the one that runs this task.
pub struct Tools {
    cargo_fuzz: PathBuf,
    /// `PATH` with the running toolchain's `bin` first (cargo-fuzz runs plain `cargo`).
    path: Option<std::ffi::OsString>,
    pub rustc_version: String,
    pub host: String,
}

impl Tools {
    /// Installs what is missing (once; a version check when present) and reads the compiler's
    /// version and host triple.
    pub fn ensure(root: &Path) -> Result<Tools, String> {
        ensure_cxx()?;
        let cargo_fuzz = ensure_cargo_fuzz(root)?;
        let toolchain_bin = std::env::var_os("CARGO")
            .map(PathBuf::from)
            .and_then(|c| c.parent().map(Path::to_path_buf));
        let path = toolchain_bin.as_ref().and_then(|dir| {
            let path = std::env::var_os("PATH").unwrap_or_default();
            std::env::join_paths(std::iter::once(dir.clone()).chain(std::env::split_paths(&path)))
                .ok()
        });
        let rustc = toolchain_bin
            .map(|dir| dir.join("rustc"))
            .filter(|r| r.exists())
            .unwrap_or_else(|| PathBuf::from("rustc"));
        let out = Command::new(&rustc)
            .arg("-vV")
            .output()
            .map_err(|e| format!("{} -vV: {e}", rustc.display()))?;
        let facts = String::from_utf8_lossy(&out.stdout);
        let rustc_version = facts.lines().next().unwrap_or("rustc ?").to_string();
        let host = facts
            .lines()
            .find_map(|l| l.strip_prefix("host: "))
            .ok_or("rustc -vV printed no host triple")?
            .to_string();
        Ok(Tools {
            cargo_fuzz,
            path,
            rustc_version,
            host,
        })
    }

    /// `cargo fuzz <subcommand>` on the project's `fuzz/`, with `RUSTC_BOOTSTRAP=1` for the
    /// instrumentation flags.
    pub fn cargo_fuzz(&self, root: &Path, subcommand: &str) -> Command {
        let mut cmd = Command::new(&self.cargo_fuzz);
        cmd.current_dir(root).env("RUSTC_BOOTSTRAP", "1").args([
            "fuzz",
            subcommand,
            "--fuzz-dir",
            "fuzz",
        ]);
        if let Some(path) = &self.path {
            cmd.env("PATH", path);
        }
        cmd
    }

    /// The targets `fuzz/Cargo.toml` declares.
    pub fn targets(&self, root: &Path) -> Result<Vec<String>, String> {
        let out = self
            .cargo_fuzz(root, "list")
            .output()
            .map_err(|e| format!("cargo fuzz list: {e}"))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(format!("cargo fuzz list failed: {err}"));
        }
        let list = String::from_utf8_lossy(&out.stdout);
        Ok(list.lines().map(str::to_string).collect())
    }

    /// Builds `target` (or every target) with libFuzzer, debug assertions (overflow checks, as
    /// in `cargo test`) and `sanitizer`; returns the directory of the binaries.
    pub fn build(
        &self,
        root: &Path,
        sanitizer: &str,
        target: Option<&str>,
    ) -> Result<PathBuf, String> {
        let target_dir = root.join("target/fuzz/build").join(sanitizer);
        let mut cmd = self.cargo_fuzz(root, "build");
        cmd.args(["--debug-assertions", "--sanitizer", sanitizer])
            .args(["--target", &self.host])
            .arg("--target-dir")
            .arg(&target_dir)
            .args(target);
        status_ok(cmd, "building the fuzz targets")?;
        Ok(target_dir.join(&self.host).join("release"))
    }
}

/// libFuzzer is C++: the `libfuzzer-sys` build needs a C++ compiler; g++ from apt if none.
fn ensure_cxx() -> Result<(), String> {
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    let found = Command::new(&cxx)
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Ok(());
    }
    eprintln!("x: no C++ compiler (`{cxx}`); installing g++ with apt");
    let apt = |args: &[&str]| {
        let mut cmd = Command::new("apt-get");
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    let hint = "apt-get (as root; or install a C++ compiler yourself)";
    status_ok(apt(&["update", "-qq"]), hint)?;
    status_ok(
        apt(&["install", "-y", "-qq", "--no-install-recommends", "g++"]),
        hint,
    )
}

/// cargo-fuzz, pinned, in `target/fuzz-tools/bin`; installed from crates.io when missing.
fn ensure_cargo_fuzz(root: &Path) -> Result<PathBuf, String> {
    let tools = root.join("target/fuzz-tools");
    let bin = tools.join("bin/cargo-fuzz");
    let wanted = format!("cargo-fuzz {CARGO_FUZZ_VERSION}");
    let installed = Command::new(&bin).arg("--version").output();
    if installed
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == wanted)
    {
        return Ok(bin);
    }
    eprintln!("x: installing {wanted} into {}", tools.display());
    let mut cmd = host_cargo();
    cmd.args([
        "install",
        "--quiet",
        "--locked",
        "--version",
        CARGO_FUZZ_VERSION,
    ])
    .arg("--root")
    .arg(&tools)
    .arg("cargo-fuzz");
    status_ok(cmd, "cargo install cargo-fuzz")?;
    Ok(bin)
}
