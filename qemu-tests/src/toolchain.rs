//! The cross toolchain: a cargo/rustc pair whose sysroot has the standard library sources, so
//! `-Zbuild-std` can build `core` and `alloc` for the bare-metal targets.
//!
//! Chosen in this order: `X_CROSS_CARGO` (and `X_CROSS_RUSTC`) from the environment; the active
//! toolchain if it has `rust-src`; Debian's `/usr/bin/cargo` + `/usr/bin/rustc` (packages
//! `cargo-web`, `rustc-web`, `rust-web-src`), which `tools/ensure-toolchain.sh` installs.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A cargo and rustc able to cross-build with `-Zbuild-std`.
#[derive(Clone, Debug)]
pub struct CrossToolchain {
    pub cargo: PathBuf,
    pub rustc: PathBuf,
}

fn has_rust_src(rustc: &Path) -> bool {
    let Ok(out) = Command::new(rustc).arg("--print").arg("sysroot").output() else {
        return false;
    };
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    sysroot.join("lib/rustlib/src/rust/library/core").is_dir()
}

impl CrossToolchain {
    /// Find the cross toolchain, or say what to install.
    pub fn find() -> Result<Self, String> {
        if let Ok(cargo) = std::env::var("X_CROSS_CARGO") {
            let rustc = std::env::var("X_CROSS_RUSTC").unwrap_or_else(|_| "rustc".into());
            return Ok(Self {
                cargo: cargo.into(),
                rustc: rustc.into(),
            });
        }
        if has_rust_src(Path::new("rustc")) {
            return Ok(Self {
                cargo: "cargo".into(),
                rustc: "rustc".into(),
            });
        }
        let debian = Self {
            cargo: "/usr/bin/cargo".into(),
            rustc: "/usr/bin/rustc".into(),
        };
        if debian.cargo.exists() && has_rust_src(&debian.rustc) {
            return Ok(debian);
        }
        Err("no Rust toolchain with the standard library sources: run `./x` (it installs Debian's \
             rustc-web, cargo-web and rust-web-src), or set X_CROSS_CARGO/X_CROSS_RUSTC to a nightly \
             with rust-src"
            .into())
    }

    /// A tool of the same release as the cross `rustc` (`rustdoc`, `clippy-driver`): the one
    /// installed next to it (Debian's `/usr/bin`, a rustup toolchain's `bin/`), or the one on
    /// `PATH` when `rustc` is the active toolchain's.
    pub fn sibling(&self, tool: &str) -> PathBuf {
        match self.rustc.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join(tool),
            _ => tool.into(),
        }
    }

    /// A `cargo` command set up for cross builds: our rustc, nightly flags allowed, and none of
    /// the host build's environment leaking in.
    pub fn cargo(&self) -> Command {
        let mut cmd = Command::new(&self.cargo);
        for var in [
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "RUSTC_WRAPPER",
            "RUSTC_WORKSPACE_WRAPPER",
            "RUSTUP_TOOLCHAIN",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("RUSTC", &self.rustc);
        cmd.env("RUSTC_BOOTSTRAP", "1");
        // The built-in MIPS target names `rust-lld`; Debian ships lld as `ld.lld`.
        cmd.env("CARGO_TARGET_MIPS_MTI_NONE_ELF_LINKER", "ld.lld");
        cmd
    }
}
